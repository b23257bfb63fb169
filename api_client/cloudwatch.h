/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cloudwatch: the alarms, their history and the metrics behind them, read
 * from CloudWatch (AWS JSON 1.0) through aws_http.
 *
 * Regions: the billing alarm and AWS/Billing EstimatedCharges exist only in
 * us-east-1, everything else lives in the application's region. Rather than
 * guess per alarm name, cw_describe_alarms() asks both regions (one when the
 * application runs in us-east-1) and merges the answers; each alarm records
 * the region it came from, and its history is read from there. Billing
 * metrics are always read from us-east-1, the Lambda ones from the
 * application's region.
 *
 * Every answer is checked member by member (types, presence of what is
 * required, one Id per query, as many Values as Timestamps); an answer that
 * does not fit gives ST_FAIL naming the member, and the output is then
 * empty, never half filled. Paging tokens are followed (with a limit, and a
 * repeated token is an error).
 *
 * Text from AWS (names, reasons, labels, summaries) is kept raw: sanitise it
 * (text_sanitize) before it reaches a terminal.
 *
 * Ownership: every result struct is caller-owned; initialise it with
 * memset 0 (or = {0}) and release it with its _free(), whatever the status.
 * Fetch functions empty their output first. */
#ifndef EMPDIR_CLOUDWATCH_H
#define EMPDIR_CLOUDWATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "aws_http.h"

#define CW_LAMBDA_ALARM "EmployeeDirectoryLambdaErrors"
#define CW_BILLING_ALARM "EmployeeDirectoryCostExceeded"
#define CW_BILLING_REGION "us-east-1"

enum cw_state { CW_STATE_OK, CW_STATE_ALARM, CW_STATE_INSUFFICIENT_DATA };

const char *cw_state_name(enum cw_state s); /* "OK", "ALARM", "INSUFFICIENT_DATA" */
bool cw_state_parse(const char *s, enum cw_state *out);

/* ------------------------------------------------------------------ alarms */

struct cw_dimension {
	char *name;
	char *value;
};

/* One metric alarm. Strings are never NULL ("" when AWS sent none). */
struct cw_alarm {
	char *name;
	char *region;         /* where it was found */
	char *arn;
	char *description;
	enum cw_state state;
	char *state_reason;
	double state_updated; /* StateUpdatedTimestamp, epoch s; 0 when absent */
	double state_since;   /* StateTransitionedTimestamp, else state_updated */
	char *namespace_name; /* "" for a metric-math alarm */
	char *metric_name;
	char *statistic;      /* Statistic, or ExtendedStatistic ("p99") */
	struct cw_dimension *dims;
	size_t n_dims;
	bool has_threshold;
	double threshold;
	char *comparison;     /* "GreaterThanThreshold", ... */
	char *unit;
	int period;           /* seconds; 0 when absent */
	int evaluation_periods;
	int datapoints_to_alarm; /* 0 when absent (then it equals evaluation_periods) */
	bool actions_enabled;
};

struct cw_alarm_list {
	struct cw_alarm *v;
	size_t n;
};

void cw_alarm_list_free(struct cw_alarm_list *l);

/* Which alarms: exact names, or a name prefix (not both), or, when neither
 * is given, every metric alarm. */
struct cw_alarm_query {
	const char *const *names;
	size_t n_names;
	const char *prefix;
};

/* The alarms from the application's region and us-east-1, sorted by name,
 * then region. With names, those found in neither region are listed in
 * *missing (may be NULL; reset first). */
enum status cw_describe_alarms(struct aws_http *h, const struct cw_alarm_query *q,
			       struct cw_alarm_list *out, struct strvec *missing, struct err *e);

/* The condition in words, raw: "AWS/Lambda Errors Sum > 5 for 2 of 2
 * periods of 300 s". */
void cw_alarm_condition(const struct cw_alarm *a, struct buf *out);
/* ">", ">=", "<", "<=", or the operator's own name for the rest. */
const char *cw_comparison_symbol(const char *op);

/* The Lambda function an AWS/Lambda alarm watches (its FunctionName
 * dimension), or NULL. */
const char *cw_guess_function(const struct cw_alarm_list *l);

/* Counts by state, for badges and exit codes. */
struct cw_summary {
	size_t ok, alarm, insufficient;
};
struct cw_summary cw_alarm_summary(const struct cw_alarm_list *l);

/* ------------------------------------------------------------------ history */

struct cw_history_item {
	char *alarm_name;
	char *region;
	double time;       /* epoch s */
	char *type;        /* "StateUpdate", "ConfigurationUpdate", "Action", ... */
	char *summary;     /* HistorySummary, raw */
	bool has_states;   /* a StateUpdate whose HistoryData could be read */
	enum cw_state old_state, new_state;
	char *new_reason;  /* "" when unknown */
};

struct cw_history {
	struct cw_history_item *v; /* newest first */
	size_t n;
};

void cw_history_free(struct cw_history *hist);

struct cw_history_query {
	const char *alarm_name;  /* NULL: every alarm of the region */
	const char *region;      /* NULL: the application's region */
	bool state_updates_only; /* HistoryItemType StateUpdate */
	long long start, end;    /* epoch s, inclusive; 0: open */
	size_t max_items;        /* 0: 50; the newest are kept */
};

enum status cw_describe_alarm_history(struct aws_http *h, const struct cw_history_query *q,
				      struct cw_history *out, struct err *e);

/* The history of each alarm, read from the alarm's own region, merged
 * newest first, at most max_items (0: 50) in all, since `since` (0: all). */
enum status cw_history_for_alarms(struct aws_http *h, const struct cw_alarm_list *alarms,
				  long long since, bool state_updates_only, size_t max_items,
				  struct cw_history *out, struct err *e);

/* ------------------------------------------------------------------ metrics */

/* One time series, ascending in time. */
struct cw_series {
	char *label;    /* from AWS, raw; "" when none */
	char *status;   /* the last StatusCode: Complete, PartialData, InternalError, Forbidden */
	double *times;  /* epoch s */
	double *values;
	size_t n;
	struct strvec messages; /* "Code: text", raw */
};

void cw_series_free(struct cw_series *s);

/* One GetMetricData query: a metric with at most one dimension. */
struct cw_metric_query {
	const char *id;          /* ^[a-z][a-zA-Z0-9_]*$ */
	const char *namespace_name;
	const char *metric_name;
	const char *dim_name;    /* NULL: no dimension */
	const char *dim_value;
	const char *stat;        /* "Sum", "Average", "Maximum", ... */
	int period;              /* seconds: 60 * k, or 1, 5, 10, 20, 30 */
};

/* [start, end) in region (NULL: the application's); out[i] answers q[i]. */
enum status cw_get_metric_data(struct aws_http *h, const char *region,
			       const struct cw_metric_query *q, size_t n, long long start,
			       long long end, struct cw_series *out, struct err *e);

enum cw_lambda_metric {
	CW_LAMBDA_ERRORS,      /* Sum */
	CW_LAMBDA_INVOCATIONS, /* Sum */
	CW_LAMBDA_THROTTLES,   /* Sum */
	CW_LAMBDA_DURATION,    /* Average, milliseconds */
	CW_LAMBDA_COUNT
};

const char *cw_lambda_metric_name(enum cw_lambda_metric m); /* "Errors", ... */
const char *cw_lambda_metric_stat(enum cw_lambda_metric m); /* "Sum", "Average" */

struct cw_lambda_metrics {
	long long start, end; /* the window: the last 24 h, end on a period boundary */
	int period;
	struct cw_series series[CW_LAMBDA_COUNT];
};

void cw_lambda_metrics_free(struct cw_lambda_metrics *m);

/* The function's metrics over the 24 h before now (0: the client's clock),
 * in periods of `period` seconds (0: 900, i.e. 96 points), the current
 * period included. */
enum status cw_get_lambda_metrics(struct aws_http *h, const char *function_name, long long now,
				  int period, struct cw_lambda_metrics *out, struct err *e);

struct cw_billing {
	long long start, end; /* the 1st of the month, 00:00 UTC .. the end of today */
	int period;
	struct cw_series charges; /* EstimatedCharges Maximum, USD, us-east-1 */
	bool has_latest;
	double latest, latest_time;
};

void cw_billing_free(struct cw_billing *b);

/* The month's estimated charges (period 0: 21600). */
enum status cw_get_billing(struct aws_http *h, long long now, int period, struct cw_billing *out,
			   struct err *e);

/* Spread s over n buckets of `period` seconds from start, for a sparkline:
 * out[i] is the value of the point in bucket i (the last one when several),
 * NAN when there is none. */
void cw_series_buckets(const struct cw_series *s, long long start, int period, size_t n,
		       double *out);

/* ------------------------------------------------------------------ building blocks, for tests */

/* One DescribeAlarms answer: appended to out (alarms get `region`);
 * *next_token gets NextToken or NULL (caller frees). On failure out is as
 * it was. */
enum status cw_parse_alarms_page(const cJSON *root, const char *region, struct cw_alarm_list *out,
				 char **next_token, struct err *e);
/* One DescribeAlarmHistory answer, appended. */
enum status cw_parse_history_page(const cJSON *root, const char *region, struct cw_history *out,
				  char **next_token, struct err *e);
/* One GetMetricData answer: points appended to out[i] for the result whose
 * Id is q[i].id. */
enum status cw_parse_metric_page(const cJSON *root, const struct cw_metric_query *q, size_t n,
				 struct cw_series *out, char **next_token, struct err *e);

#endif
