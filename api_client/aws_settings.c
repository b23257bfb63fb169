/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aws_settings: the [aws] section and the command line. See aws_settings.h. */
#include "aws_settings.h"

#include <stdlib.h>
#include <string.h>

#include "cloudwatch.h"

void aws_settings_init(struct aws_settings *s)
{
	memset(s, 0, sizeof *s);
	s->refresh_seconds = AWS_DEFAULT_REFRESH_SECONDS;
}

void aws_settings_free(struct aws_settings *s)
{
	free(s->profile);
	free(s->region);
	free(s->endpoint_url);
	free(s->function_name);
	free(s->alarm_prefix);
	strvec_free(&s->alarm_names);
	aws_settings_init(s);
}

static char *pick(const char *cli, const struct config *cfg, const char *key)
{
	if (cli && *cli)
		return xstrdup(cli);
	const char *v = cfg ? config_get(cfg, "aws", key) : NULL;
	return v && *v ? xstrdup(v) : NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* "a, b,c" -> {"a","b","c"}; an empty item is an error. */
static enum status split_names(const char *list, struct strvec *out, struct err *e)
{
	const char *p = list;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		while (n && is_blank(*p)) {
			p++;
			n--;
		}
		while (n && is_blank(p[n - 1]))
			n--;
		if (n == 0)
			return err_set(e, ST_INVALID, "alarm_names in [aws] has an empty name; "
						      "separate names with single commas");
		if (n > 255)
			return err_set(e, ST_INVALID, "alarm_names in [aws] has a name longer than "
						      "255 characters (CloudWatch's limit)");
		strvec_push_n(out, p, n);
		if (!end)
			break;
		p = end + 1;
	}
	if (out->n > 100)
		return err_set(e, ST_INVALID, "alarm_names in [aws] lists more than 100 alarms; use "
					      "alarm_prefix instead");
	return ST_OK;
}

enum status aws_settings_load(struct aws_settings *s, const struct config *cfg,
			      const char *cli_profile, const char *cli_region, struct err *e)
{
	aws_settings_free(s);
	s->profile = pick(cli_profile, cfg, "profile");
	s->region = pick(cli_region, cfg, "region");
	s->endpoint_url = pick(NULL, cfg, "endpoint_url");
	s->function_name = pick(NULL, cfg, "function_name");
	s->alarm_prefix = pick(NULL, cfg, "alarm_prefix");
	if (cfg)
		s->refresh_seconds = (int)config_get_int(cfg, "aws", "refresh_seconds",
							 AWS_DEFAULT_REFRESH_SECONDS);
	const char *names = cfg ? config_get(cfg, "aws", "alarm_names") : NULL;
	enum status st = ST_OK;
	if (names && *names && s->alarm_prefix)
		st = err_set(e, ST_INVALID, "[aws] sets both alarm_names and alarm_prefix; keep one "
					    "(CloudWatch cannot combine them)");
	else if (names && *names)
		st = split_names(names, &s->alarm_names, e);
	else if (!s->alarm_prefix) {
		strvec_push(&s->alarm_names, CW_LAMBDA_ALARM);
		strvec_push(&s->alarm_names, CW_BILLING_ALARM);
		s->default_names = true;
	}
	if (st != ST_OK)
		aws_settings_free(s);
	return st;
}

void aws_settings_http_options(const struct aws_settings *s, struct aws_http_options *o)
{
	o->profile = s->profile;
	o->region = s->region;
	o->endpoint_url = s->endpoint_url;
}
