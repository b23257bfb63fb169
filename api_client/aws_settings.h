/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aws_settings: what the [aws] section of the config file and the command
 * line say about the AWS screens and `empdir-tui alarms`, in one place so
 * the TUI and the commands read it the same way.
 *
 * Precedence: --profile / --region, then [aws] profile / region (both count
 * as an explicit choice: an explicit profile skips the AWS_ACCESS_KEY_ID
 * environment keys, as in the AWS CLI), then the AWS environment and files
 * (aws_creds.h). When neither alarm_names nor alarm_prefix is set, the
 * deployment's two alarms are used (CW_DEFAULT_ALARM_NAMES).
 *
 * Ownership: struct aws_settings owns its strings; aws_settings_free()
 * releases them. aws_settings_http_options() points into it, so the
 * settings must outlive the options (aws_http_new() copies them). */
#ifndef EMPDIR_AWS_SETTINGS_H
#define EMPDIR_AWS_SETTINGS_H

#include <stdbool.h>

#include "../core/buf.h"
#include "../core/config.h"
#include "../core/err.h"
#include "aws_http.h"

struct aws_settings {
	char *profile;             /* NULL: not chosen (AWS_PROFILE, then "default") */
	char *region;              /* NULL: AWS_REGION, AWS_DEFAULT_REGION, the profile */
	char *endpoint_url;        /* NULL: the environment or the real endpoints */
	char *function_name;       /* NULL: taken from the Lambda alarm (cw_guess_function) */
	char *alarm_prefix;        /* NULL unless alarm_prefix is set */
	struct strvec alarm_names; /* empty when alarm_prefix is set */
	bool default_names;        /* alarm_names are the built-in defaults */
	int refresh_seconds;       /* automatic refresh of the alarm screen; 0: off */
};

#define AWS_DEFAULT_REFRESH_SECONDS 60

void aws_settings_init(struct aws_settings *s);
/* cfg may be NULL (no config file). cli_profile / cli_region: the command
 * line's, NULL when not given. ST_INVALID when alarm_names and alarm_prefix
 * are both set or a name is empty or too long (the message names the key). */
enum status aws_settings_load(struct aws_settings *s, const struct config *cfg,
			      const char *cli_profile, const char *cli_region, struct err *e);
void aws_settings_free(struct aws_settings *s);

/* Fill profile, region and endpoint_url of o (the rest is left alone). */
void aws_settings_http_options(const struct aws_settings *s, struct aws_http_options *o);

#endif
