/* SPDX-License-Identifier: GPL-3.0-or-later */
/* alarms_cmd: `empdir-tui alarms` and `empdir-tui cost`. See alarms_cmd.h.
 *
 * Every string from AWS is sanitised in the table and \u-escaped in the
 * JSON (which is pure printable ASCII), so neither can drive a terminal. */
#include "alarms_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../api_client/aws_http.h"
#include "../api_client/aws_settings.h"
#include "../api_client/cloudwatch.h"
#include "../api_client/cost.h"
#include "../core/buf.h"
#include "../core/config.h"
#include "../core/text.h"
#include "cli.h"

enum { ALARMS_OK = 0, ALARMS_ALARM = 1, ALARMS_INSUFFICIENT = 2, ALARMS_ERROR = 3 };

#define NAME_COLS_MAX 48
#define REASON_COLS 100
#define COST_DEFAULT_MAX_AGE (6 * 3600)

struct aws_cmd_options {
	bool json;
	const char *profile, *region, *config_path;
	long max_age; /* cost only */
};

/* ------------------------------------------------------------------ shared */

/* cJSON's text with every non-ASCII character (and DEL) as \uXXXX, so the
 * output is ASCII and no C1 control or bidi override reaches a terminal. */
static void put_ascii_json(FILE *out, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x7f) {
			fputc(c, out);
			i++;
			continue;
		}
		uint32_t cp = 0xfffd;
		size_t l = c == 0x7f ? 1 : utf8_decode(s + i, n - i, &cp);
		if (c == 0x7f)
			cp = 0x7f;
		i += l ? l : 1;
		if (cp > 0xffff) {
			cp -= 0x10000;
			fprintf(out, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
		} else {
			fprintf(out, "\\u%04x", cp);
		}
	}
}

static void print_json(cJSON *root)
{
	char *text = cJSON_Print(root);
	if (text) {
		put_ascii_json(stdout, text);
		fputc('\n', stdout);
		cJSON_free(text);
	}
}

static void utc_time(double t, char out[32])
{
	if (t <= 0) {
		snprintf(out, 32, "-");
		return;
	}
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Append sanitised text fitted to cols columns. */
static void put_cell(struct buf *line, const char *raw, int cols, bool pad)
{
	struct buf safe = BUF_INIT;
	text_sanitize(&safe, raw, strlen(raw), 0);
	text_fit(line, buf_str(&safe), cols, pad);
	buf_free(&safe);
}

static int parse_options(int argc, char **argv, bool with_cost, struct aws_cmd_options *o,
			 void (*usage)(FILE *))
{
	enum { OPT_JSON = 256, OPT_PROFILE, OPT_REGION, OPT_CONFIG, OPT_REFRESH, OPT_CACHED,
	       OPT_MAXAGE };
	static const struct option all[] = {
		{"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, OPT_JSON},
		{"profile", required_argument, NULL, OPT_PROFILE},
		{"region", required_argument, NULL, OPT_REGION},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"refresh", no_argument, NULL, OPT_REFRESH},
		{"cached", no_argument, NULL, OPT_CACHED},
		{"max-age", required_argument, NULL, OPT_MAXAGE},
		{NULL, 0, NULL, 0},
	};
	static const struct option alarms_only[] = {
		{"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, OPT_JSON},
		{"profile", required_argument, NULL, OPT_PROFILE},
		{"region", required_argument, NULL, OPT_REGION},
		{"config", required_argument, NULL, OPT_CONFIG},
		{NULL, 0, NULL, 0},
	};
	optind = 1;
	opterr = 0;
	char m[300];
	int c;
	while ((c = getopt_long(argc, argv, ":h", with_cost ? all : alarms_only, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return -1;
		case OPT_JSON: o->json = true; break;
		case OPT_PROFILE: o->profile = optarg; break;
		case OPT_REGION: o->region = optarg; break;
		case OPT_CONFIG: o->config_path = optarg; break;
		case OPT_REFRESH: o->max_age = COST_ALWAYS_FETCH; break;
		case OPT_CACHED: o->max_age = COST_CACHE_ONLY; break;
		case OPT_MAXAGE: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0)
				return cli_fail(ALARMS_ERROR, "--max-age needs a number of seconds");
			o->max_age = v;
			break;
		}
		case ':':
			snprintf(m, sizeof m, "option %s needs a value; see %s --help", argv[optind - 1],
				 argv[0]);
			return cli_fail(ALARMS_ERROR, m);
		default:
			snprintf(m, sizeof m, "unknown option '%s'; see %s --help", argv[optind - 1],
				 argv[0]);
			return cli_fail(ALARMS_ERROR, m);
		}
	}
	if (optind < argc) {
		snprintf(m, sizeof m, "unexpected argument '%s'; see %s --help", argv[optind], argv[0]);
		return cli_fail(ALARMS_ERROR, m);
	}
	return 0;
}

/* Config, settings and the AWS client, as the TUI sets them up. */
static int open_aws(const struct aws_cmd_options *o, struct config *cfg,
		    struct aws_settings *settings, struct aws_http **h)
{
	if (cli_load_config(o->config_path, cfg) != 0)
		return ALARMS_ERROR; /* the message is out */
	struct err e = {0};
	if (aws_settings_load(settings, cfg, o->profile, o->region, &e) != ST_OK)
		return cli_fail(ALARMS_ERROR, e.msg);
	struct aws_http_options ho = {0};
	aws_settings_http_options(settings, &ho);
	if (aws_http_new(&ho, h, &e) != ST_OK)
		return cli_fail(ALARMS_ERROR, e.msg);
	return 0;
}

/* ------------------------------------------------------------------ alarms */

static void alarms_usage(FILE *out)
{
	fputs("usage: empdir-tui alarms [--json] [--profile P] [--region R] [--config FILE]\n"
	      "\n"
	      "Print the Employee Directory's CloudWatch alarms (the [aws] alarm_names or\n"
	      "alarm_prefix of the config file; the billing alarm is read from us-east-1).\n"
	      "\n"
	      "Exit status: 0 all OK, 1 any in ALARM, 2 any with INSUFFICIENT_DATA (or not\n"
	      "found) and none in ALARM, 3 error (one line on stderr).\n",
	      out);
}

static int alarms_exit(const struct cw_alarm_list *l, const struct strvec *missing)
{
	struct cw_summary s = cw_alarm_summary(l);
	if (s.alarm)
		return ALARMS_ALARM;
	if (s.insufficient || missing->n)
		return ALARMS_INSUFFICIENT;
	return ALARMS_OK;
}

static int name_width(const struct cw_alarm_list *l, const struct strvec *missing)
{
	int w = 4;
	for (size_t i = 0; i < l->n + missing->n; i++) {
		const char *raw = i < l->n ? l->v[i].name : missing->v[i - l->n];
		struct buf safe = BUF_INIT;
		int cols = text_sanitize(&safe, raw, strlen(raw), NAME_COLS_MAX);
		buf_free(&safe);
		if (cols > w)
			w = cols;
	}
	return w;
}

static void print_row(int name_cols, const char *name, const char *state, const char *since,
		      const char *region, const char *reason)
{
	struct buf line = BUF_INIT;
	put_cell(&line, name, name_cols, true);
	buf_puts(&line, "  ");
	put_cell(&line, state, 17, true);
	buf_puts(&line, "  ");
	put_cell(&line, since, 20, true);
	buf_puts(&line, "  ");
	put_cell(&line, region, 14, true);
	buf_puts(&line, "  ");
	put_cell(&line, reason, REASON_COLS, false);
	/* no trailing blanks */
	while (line.len && line.data[line.len - 1] == ' ')
		line.data[--line.len] = '\0';
	puts(buf_str(&line));
	buf_free(&line);
}

static void print_alarm_table(const struct cw_alarm_list *l, const struct strvec *missing,
			      const char *app_region)
{
	int w = name_width(l, missing);
	print_row(w, "NAME", "STATE", "SINCE", "REGION", "REASON");
	for (size_t i = 0; i < l->n; i++) {
		const struct cw_alarm *a = &l->v[i];
		char since[32];
		utc_time(a->state_since, since);
		print_row(w, a->name, cw_state_name(a->state), since, a->region, a->state_reason);
	}
	for (size_t i = 0; i < missing->n; i++) {
		struct buf why = BUF_INIT;
		buf_printf(&why, "no alarm with this name in %s or %s", app_region, CW_BILLING_REGION);
		print_row(w, missing->v[i], "NOT_FOUND", "-", "-", buf_str(&why));
		buf_free(&why);
	}
}

static cJSON *alarm_json(const struct cw_alarm *a)
{
	char since[32];
	utc_time(a->state_since, since);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", a->name);
	cJSON_AddStringToObject(o, "region", a->region);
	cJSON_AddStringToObject(o, "state", cw_state_name(a->state));
	cJSON_AddStringToObject(o, "reason", a->state_reason);
	cJSON_AddNumberToObject(o, "since", a->state_since);
	cJSON_AddStringToObject(o, "since_utc", since);
	cJSON_AddNumberToObject(o, "updated", a->state_updated);
	cJSON_AddStringToObject(o, "namespace", a->namespace_name);
	cJSON_AddStringToObject(o, "metric", a->metric_name);
	cJSON_AddStringToObject(o, "statistic", a->statistic);
	cJSON_AddStringToObject(o, "comparison", a->comparison);
	if (a->has_threshold)
		cJSON_AddNumberToObject(o, "threshold", a->threshold);
	else
		cJSON_AddNullToObject(o, "threshold");
	cJSON_AddNumberToObject(o, "period", a->period);
	cJSON_AddNumberToObject(o, "evaluation_periods", a->evaluation_periods);
	cJSON_AddStringToObject(o, "description", a->description);
	cJSON_AddStringToObject(o, "arn", a->arn);
	return o;
}

static void print_alarm_json(const struct cw_alarm_list *l, const struct strvec *missing,
			     int status)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "alarms");
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(arr, alarm_json(&l->v[i]));
	cJSON *miss = cJSON_AddArrayToObject(root, "missing");
	for (size_t i = 0; i < missing->n; i++)
		cJSON_AddItemToArray(miss, cJSON_CreateString(missing->v[i]));
	struct cw_summary s = cw_alarm_summary(l);
	cJSON *sum = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddNumberToObject(sum, "OK", (double)s.ok);
	cJSON_AddNumberToObject(sum, "ALARM", (double)s.alarm);
	cJSON_AddNumberToObject(sum, "INSUFFICIENT_DATA", (double)s.insufficient);
	cJSON_AddNumberToObject(sum, "NOT_FOUND", (double)missing->n);
	cJSON_AddNumberToObject(root, "exit_status", status);
	print_json(root);
	cJSON_Delete(root);
}

static int run_alarms(const struct aws_cmd_options *o, const struct aws_settings *s,
		      struct aws_http *h)
{
	struct err e = {0};
	const char *app_region;
	if (aws_http_region(h, &app_region, &e) != ST_OK)
		return cli_fail(ALARMS_ERROR, e.msg);
	struct cw_alarm_query q = {(const char *const *)s->alarm_names.v, s->alarm_names.n,
				   s->alarm_prefix};
	struct cw_alarm_list alarms = {0};
	struct strvec missing = STRVEC_INIT;
	int rc;
	if (cw_describe_alarms(h, &q, &alarms, &missing, &e) != ST_OK) {
		rc = cli_fail(ALARMS_ERROR, e.msg);
	} else if (alarms.n == 0 && s->alarm_prefix) {
		struct buf m = BUF_INIT;
		buf_printf(&m, "no alarm name starts with '%s' in %s or %s; check alarm_prefix in "
			       "[aws]",
			   s->alarm_prefix, app_region, CW_BILLING_REGION);
		rc = cli_fail(ALARMS_ERROR, buf_str(&m));
		buf_free(&m);
	} else {
		rc = alarms_exit(&alarms, &missing);
		if (o->json)
			print_alarm_json(&alarms, &missing, rc);
		else
			print_alarm_table(&alarms, &missing, app_region);
	}
	cw_alarm_list_free(&alarms);
	strvec_free(&missing);
	return rc;
}

int alarms_command(int argc, char **argv)
{
	struct aws_cmd_options o = {0};
	int rc = parse_options(argc, argv, false, &o, alarms_usage);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	struct config cfg;
	config_init(&cfg);
	struct aws_settings settings;
	aws_settings_init(&settings);
	struct aws_http *h = NULL;
	rc = open_aws(&o, &cfg, &settings, &h);
	if (rc == 0)
		rc = run_alarms(&o, &settings, h);
	aws_http_free(h);
	aws_settings_free(&settings);
	config_free(&cfg);
	fflush(stdout);
	return rc;
}

/* ------------------------------------------------------------------ cost */

static void cost_usage(FILE *out)
{
	fputs("usage: empdir-tui cost [--json] [--refresh | --cached | --max-age SECONDS]\n"
	      "                       [--profile P] [--config FILE]\n"
	      "\n"
	      "Print the month's AWS cost by service (Cost Explorer, UnblendedCost). Each\n"
	      "Cost Explorer request costs 0.01 USD, so the answer is cached: by default a\n"
	      "cached answer younger than 6 hours is used; --refresh always asks AWS,\n"
	      "--cached never does.\n"
	      "\n"
	      "Exit status: 0 ok, 3 error (one line on stderr).\n",
	      out);
}

/* "YYYY-MM-DD" minus one day, for an inclusive "to" date. */
static void day_before(const char *date, char out[16])
{
	struct tm tm = {0};
	snprintf(out, 16, "%s", date);
	if (sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm) - 86400;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

static void describe_age(struct buf *out, const struct cost_report *r)
{
	if (!r->from_cache) {
		buf_printf(out, "fetched from Cost Explorer just now (%u request%s at %.2f USD each)",
			   r->requests, r->requests == 1 ? "" : "s", COST_PER_REQUEST_USD);
		return;
	}
	long long a = r->age;
	if (a < 120)
		buf_printf(out, "from the cache, %lld s old", a);
	else if (a < 7200)
		buf_printf(out, "from the cache, %lld min old", a / 60);
	else if (a < 2 * 86400)
		buf_printf(out, "from the cache, %lld h old", a / 3600);
	else
		buf_printf(out, "from the cache, %lld days old", a / 86400);
	buf_puts(out, "; --refresh asks Cost Explorer again");
}

static void print_cost_table(const struct cost_report *r)
{
	char last[16];
	day_before(r->end, last);
	printf("%s to %s (%s%s), %s\n", r->start, last,
	       r->previous_month ? "last month" : "month to date",
	       r->estimated ? ", estimated" : "", r->unit);
	struct buf line = BUF_INIT;
	for (size_t i = 0; i < r->n; i++) {
		buf_reset(&line);
		put_cell(&line, r->services[i].name, 44, true);
		double v = r->services[i].amount;
		if (v != 0 && v > -0.005 && v < 0.005)
			buf_printf(&line, " %12s", "<0.01");
		else
			buf_printf(&line, " %12.2f", v);
		puts(buf_str(&line));
	}
	buf_reset(&line);
	put_cell(&line, "TOTAL", 44, true);
	buf_printf(&line, " %12.2f", r->total);
	puts(buf_str(&line));
	buf_reset(&line);
	describe_age(&line, r);
	puts(buf_str(&line));
	buf_free(&line);
}

static void print_cost_json(const struct cost_report *r)
{
	cJSON *root = cost_report_json(r);
	cJSON_AddNumberToObject(root, "total", r->total);
	cJSON_AddNumberToObject(root, "fetched_at", (double)r->fetched_at);
	cJSON_AddBoolToObject(root, "from_cache", r->from_cache);
	cJSON_AddNumberToObject(root, "age_seconds", (double)r->age);
	cJSON_AddNumberToObject(root, "requests", r->requests);
	print_json(root);
	cJSON_Delete(root);
}

int cost_command(int argc, char **argv)
{
	struct aws_cmd_options o = {.max_age = COST_DEFAULT_MAX_AGE};
	int rc = parse_options(argc, argv, true, &o, cost_usage);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	struct config cfg;
	config_init(&cfg);
	struct aws_settings settings;
	aws_settings_init(&settings);
	struct aws_http *h = NULL;
	rc = open_aws(&o, &cfg, &settings, &h);
	if (rc == 0) {
		struct cost_options co = {o.max_age, NULL, NULL, 0};
		struct cost_report r = {0};
		struct err e = {0};
		if (cost_month_to_date(h, &co, &r, &e) != ST_OK)
			rc = cli_fail(ALARMS_ERROR, e.msg);
		else if (o.json)
			print_cost_json(&r);
		else
			print_cost_table(&r);
		cost_report_free(&r);
	}
	aws_http_free(h);
	aws_settings_free(&settings);
	config_free(&cfg);
	fflush(stdout);
	return rc;
}
