/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aws_creds: where the AWS credentials and the region come from.
 *
 * It resolves them in the order AWS CLI users expect (botocore's order,
 * reduced to what empdir-tui supports):
 *
 *   1. an explicit profile (--profile, or [aws] profile in the config file)
 *      selects that profile and skips the environment keys, as in the CLI;
 *   2. otherwise AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN,
 *      legacy AWS_SECURITY_TOKEN; AWS_CREDENTIAL_EXPIRATION) from the environment;
 *   3. the profile named by AWS_PROFILE (then AWS_DEFAULT_PROFILE, then
 *      "default"), looked up in
 *      a. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
 *         ~/.aws/credentials), section [name]: aws_access_key_id,
 *         aws_secret_access_key, aws_session_token;
 *      b. the config file (AWS_CONFIG_FILE, default ~/.aws/config), section
 *         [profile name] ([default] for the default profile):
 *         credential_process, then static keys.
 *
 * credential_process is split like a POSIX shell word list (quotes and
 * backslashes, no expansion) and run directly with fork/exec, no shell; its
 * stdin is /dev/null, its stdout must be the JSON of the "Version": 1
 * protocol, and it is killed when it runs past the timeout or the user
 * cancels through the waiter.
 *
 * Not supported, and reported as such with a workaround: assume-role
 * (role_arn/source_profile), web identity, SSO and login sections, container
 * credentials and EC2 instance metadata. A profile that uses them gets an
 * ST_UNSUPPORTED error that suggests
 *   credential_process = aws configure export-credentials --profile NAME --format process
 * in a separate profile.
 *
 * Region: the explicit region option, then AWS_REGION, then
 * AWS_DEFAULT_REGION, then region = in the profile's config-file section.
 *
 * The environment is read through struct aws_env, so tests can give a fixed
 * one; file paths, HOME and every variable come from it.
 *
 * Ownership and secrets: struct aws_credentials is caller-owned (init with
 * AWS_CREDENTIALS_INIT, release with aws_credentials_free(), which wipes
 * it). Secrets never go into argv, logs or error messages: messages name
 * files, sections, keys and variables, never values. */
#ifndef EMPDIR_AWS_CREDS_H
#define EMPDIR_AWS_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"

struct backend_waiter; /* api_client/backend.h */

/* The environment as the resolver sees it. vars: NULL-terminated
 * "NAME=value" strings; a NULL struct or NULL vars means the process
 * environment (getenv). An empty value counts as unset. */
struct aws_env {
	const char *const *vars;
};

const char *aws_env_get(const struct aws_env *env, const char *name);

struct aws_creds_options {
	const char *profile;        /* explicit profile; NULL or "" when not given */
	const char *region;         /* explicit region; NULL or "" when not given */
	const struct aws_env *env;  /* NULL: the process environment */
	int process_timeout_ms;     /* credential_process limit; 0: 30000 */
	const struct backend_waiter *waiter; /* keeps the UI alive; may be NULL */
	long long now;              /* epoch seconds for expiry checks; 0: time(NULL) */
};

struct aws_credentials {
	struct buf access_key_id;
	struct buf secret_access_key;
	struct buf session_token; /* empty when there is none */
	long long expiration;     /* epoch seconds; 0 when they do not expire */
	struct buf profile;       /* the profile used; empty for the environment */
	struct buf source;        /* for the status line, e.g.
				     "profile dev in /home/u/.aws/credentials" */
};

#define AWS_CREDENTIALS_INIT {BUF_INIT, BUF_INIT, BUF_INIT, 0, BUF_INIT, BUF_INIT}

/* Resolve the credentials. ST_OK fills out (reset first). Failures:
 * ST_AUTH (none found, partial keys, credential_process failed or returned
 * expired keys), ST_NOT_FOUND (a profile that was asked for does not exist),
 * ST_UNSUPPORTED (assume-role, SSO, ...), ST_INVALID (a file or
 * credential_process line that cannot be parsed), ST_UNAVAILABLE
 * (credential_process timed out), ST_CANCELLED (the waiter cancelled),
 * ST_FAIL (a file cannot be read). The message says what to do. */
enum status aws_creds_resolve(const struct aws_creds_options *o, struct aws_credentials *out,
			      struct err *e);

/* Resolve the region into region (reset first) and say where it came from
 * in source (may be NULL): "the region option", "AWS_REGION", ...
 * ST_NOT_FOUND when there is none (the message says how to set one),
 * ST_INVALID when the value is not a region name, ST_FAIL/ST_INVALID for an
 * unreadable or malformed config file. */
enum status aws_creds_region(const struct aws_creds_options *o, struct buf *region,
			     struct buf *source, struct err *e);

/* True when c expires within margin_s seconds of now (never when c has no
 * expiration): time to resolve again. */
bool aws_credentials_need_refresh(const struct aws_credentials *c, long long now, int margin_s);

void aws_credentials_free(struct aws_credentials *c);

/* The files that would be read, for messages and the settings screen.
 * Either may come back empty when HOME is unknown and no override is set. */
void aws_creds_paths(const struct aws_env *env, struct buf *credentials_file,
		     struct buf *config_file);

/* Building blocks, exposed for tests. */

/* Split a credential_process line the way POSIX shlex.split() does: blanks
 * separate words; '...' is literal; "..." allows \" and \\; outside quotes
 * a backslash escapes the next character. No expansion of any kind. */
enum status aws_creds_split_command(const char *line, struct strvec *argv, struct err *e);

/* Parse credential_process output (Version 1 JSON) into out. now: for the
 * expiry check. what: how to name the process in messages. */
enum status aws_creds_parse_process_output(const char *json, size_t len, long long now,
					   const char *what, struct aws_credentials *out,
					   struct err *e);

/* ISO 8601 / RFC 3339 time ("2026-08-22T10:00:00Z", fractions and
 * +HH:MM offsets allowed) to epoch seconds. */
bool aws_creds_parse_time(const char *s, long long *out);

#endif
