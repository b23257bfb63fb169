/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cw_metrics: GetMetricData for the Lambda function and the month's
 * estimated charges, and sparkline buckets. See cloudwatch.h. */
#include "cloudwatch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_json.h"

#define CW_METRIC_MAX_PAGES 100
#define DAY 86400LL

#define TRY(expr)                                                                      \
	do {                                                                           \
		if (st == ST_OK)                                                       \
			st = (expr);                                                   \
	} while (0)

static const char *const status_codes[] = {"Complete", "PartialData", "InternalError",
					   "Forbidden", NULL};

void cw_series_free(struct cw_series *s)
{
	free(s->label);
	free(s->status);
	free(s->times);
	free(s->values);
	strvec_free(&s->messages);
	memset(s, 0, sizeof *s);
}

static void series_free_n(struct cw_series *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cw_series_free(&s[i]);
}

static void series_append(struct cw_series *dst, struct cw_series *src)
{
	if (src->n) {
		dst->times = xrealloc(dst->times, (dst->n + src->n) * sizeof *dst->times);
		dst->values = xrealloc(dst->values, (dst->n + src->n) * sizeof *dst->values);
		memcpy(dst->times + dst->n, src->times, src->n * sizeof *src->times);
		memcpy(dst->values + dst->n, src->values, src->n * sizeof *src->values);
		dst->n += src->n;
	}
	if (src->label && *src->label && (!dst->label || !*dst->label)) {
		free(dst->label);
		dst->label = src->label;
		src->label = NULL;
	}
	if (src->status) {
		free(dst->status);
		dst->status = src->status;
		src->status = NULL;
	}
	for (size_t i = 0; i < src->messages.n; i++)
		strvec_push(&dst->messages, src->messages.v[i]);
	cw_series_free(src);
}

/* ------------------------------------------------------------------ parsing */

static enum status parse_numbers(const cJSON *r, const char *base, const char *key,
				 double **out, int *count, struct err *e)
{
	const cJSON *arr;
	enum status st = aj_array(r, base, key, true, &arr, e);
	if (st != ST_OK)
		return st;
	int n = cJSON_GetArraySize(arr);
	*out = xcalloc((size_t)n + 1, sizeof **out);
	*count = n;
	for (int i = 0; i < n; i++) {
		const cJSON *v = cJSON_GetArrayItem(arr, i);
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
			struct aj_path p;
			aj_at(&p, base, key);
			return err_set(e, ST_FAIL, "%s[%d] is not a number", p.s, i);
		}
		(*out)[i] = v->valuedouble;
	}
	return ST_OK;
}

static enum status parse_messages(const cJSON *r, const char *base, struct strvec *out,
				  struct err *e)
{
	const cJSON *arr;
	enum status st = aj_array(r, base, "Messages", false, &arr, e);
	int n = arr ? cJSON_GetArraySize(arr) : 0;
	for (int i = 0; i < n && st == ST_OK; i++) {
		const cJSON *m = cJSON_GetArrayItem(arr, i);
		struct aj_path p, mp;
		aj_at(&mp, base, "Messages");
		aj_index(&p, mp.s, i);
		if (!cJSON_IsObject(m))
			return err_set(e, ST_FAIL, "%s is not an object", p.s);
		char *code = NULL, *value = NULL;
		TRY(aj_string(m, p.s, "Code", false, &code, e));
		TRY(aj_string(m, p.s, "Value", false, &value, e));
		if (st == ST_OK && out) {
			struct buf b = BUF_INIT;
			buf_printf(&b, "%s: %s", code, value);
			strvec_push(out, buf_str(&b));
			buf_free(&b);
		}
		free(code);
		free(value);
	}
	return st;
}

static bool known_status(const char *s)
{
	for (const char *const *p = status_codes; *p; p++)
		if (strcmp(s, *p) == 0)
			return true;
	return false;
}

/* One MetricDataResults entry into page[index of its Id]. */
static enum status parse_result(const cJSON *r, const char *base,
				const struct cw_metric_query *q, size_t n, struct cw_series *page,
				struct err *e)
{
	if (!cJSON_IsObject(r))
		return err_set(e, ST_FAIL, "%s is not an object", base);
	char *id = NULL;
	enum status st = aj_string(r, base, "Id", true, &id, e);
	size_t k = n;
	for (size_t i = 0; st == ST_OK && i < n && k == n; i++)
		if (strcmp(id, q[i].id) == 0)
			k = i;
	free(id);
	if (st == ST_OK && k == n)
		return err_set(e, ST_FAIL, "%s.Id is not one of the queries asked for", base);
	if (st != ST_OK)
		return st;
	struct cw_series one = {0};
	int nt = 0, nv = 0;
	TRY(parse_numbers(r, base, "Timestamps", &one.times, &nt, e));
	TRY(parse_numbers(r, base, "Values", &one.values, &nv, e));
	if (st == ST_OK && nt != nv)
		st = err_set(e, ST_FAIL, "%s has %d Timestamps but %d Values", base, nt, nv);
	one.n = (size_t)nt;
	TRY(aj_string(r, base, "Label", false, &one.label, e));
	TRY(aj_string(r, base, "StatusCode", true, &one.status, e));
	if (st == ST_OK && !known_status(one.status))
		st = err_set(e, ST_FAIL, "%s.StatusCode is not a known status", base);
	TRY(parse_messages(r, base, &one.messages, e));
	if (st == ST_OK)
		series_append(&page[k], &one);
	cw_series_free(&one);
	return st;
}

enum status cw_parse_metric_page(const cJSON *root, const struct cw_metric_query *q, size_t n,
				 struct cw_series *out, char **next_token, struct err *e)
{
	*next_token = NULL;
	const cJSON *arr = NULL;
	char *token = NULL;
	enum status st = aj_root(root, e);
	TRY(aj_array(root, "", "MetricDataResults", true, &arr, e));
	TRY(aj_string(root, "", "NextToken", false, &token, e));
	TRY(parse_messages(root, "", NULL, e));
	struct cw_series *page = xcalloc(n + 1, sizeof *page);
	int count = arr ? cJSON_GetArraySize(arr) : 0;
	for (int i = 0; i < count && st == ST_OK; i++) {
		struct aj_path p;
		aj_index(&p, "MetricDataResults", i);
		st = parse_result(cJSON_GetArrayItem(arr, i), p.s, q, n, page, e);
	}
	if (st == ST_OK) {
		for (size_t i = 0; i < n; i++)
			series_append(&out[i], &page[i]);
		if (token && *token) {
			*next_token = token;
			token = NULL;
		}
	} else {
		err_prefix(e, "the answer is malformed");
	}
	series_free_n(page, n);
	free(page);
	free(token);
	return st;
}

/* ------------------------------------------------------------------ GetMetricData */

struct point {
	double t, v;
	size_t order; /* makes the sort stable */
};

static int point_cmp(const void *pa, const void *pb)
{
	const struct point *a = pa, *b = pb;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Ascending in time; of two points at one time the later one wins. */
static void series_sort(struct cw_series *s)
{
	if (s->n < 2)
		return;
	struct point *p = xcalloc(s->n, sizeof *p);
	for (size_t i = 0; i < s->n; i++)
		p[i] = (struct point){s->times[i], s->values[i], i};
	qsort(p, s->n, sizeof *p, point_cmp);
	size_t m = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (m && p[m - 1].t == p[i].t)
			m--;
		p[m++] = p[i];
	}
	for (size_t i = 0; i < m; i++) {
		s->times[i] = p[i].t;
		s->values[i] = p[i].v;
	}
	s->n = m;
	free(p);
}

static cJSON *metric_input(const struct cw_metric_query *q, size_t n, long long start,
			   long long end)
{
	cJSON *in = cJSON_CreateObject();
	cJSON *qs = cJSON_AddArrayToObject(in, "MetricDataQueries");
	for (size_t i = 0; i < n; i++) {
		cJSON *one = cJSON_CreateObject();
		cJSON_AddStringToObject(one, "Id", q[i].id);
		cJSON_AddBoolToObject(one, "ReturnData", 1);
		cJSON *ms = cJSON_AddObjectToObject(one, "MetricStat");
		cJSON *m = cJSON_AddObjectToObject(ms, "Metric");
		cJSON_AddStringToObject(m, "Namespace", q[i].namespace_name);
		cJSON_AddStringToObject(m, "MetricName", q[i].metric_name);
		cJSON *dims = cJSON_AddArrayToObject(m, "Dimensions");
		if (q[i].dim_name) {
			cJSON *d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "Name", q[i].dim_name);
			cJSON_AddStringToObject(d, "Value", q[i].dim_value ? q[i].dim_value : "");
			cJSON_AddItemToArray(dims, d);
		}
		cJSON_AddNumberToObject(ms, "Period", q[i].period);
		cJSON_AddStringToObject(ms, "Stat", q[i].stat);
		cJSON_AddItemToArray(qs, one);
	}
	cJSON_AddNumberToObject(in, "StartTime", (double)start);
	cJSON_AddNumberToObject(in, "EndTime", (double)end);
	cJSON_AddStringToObject(in, "ScanBy", "TimestampAscending");
	return in;
}

static enum status metric_pages(struct aws_http *h, const char *region, cJSON *in,
				const struct cw_metric_query *q, size_t n, struct cw_series *acc,
				struct err *e)
{
	char *token = NULL;
	enum status st = ST_OK;
	for (int page = 0; st == ST_OK; page++) {
		if (page == CW_METRIC_MAX_PAGES) {
			st = err_set(e, ST_FAIL, "CloudWatch GetMetricData (%s): more than %d pages",
				     region, CW_METRIC_MAX_PAGES);
			break;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(in, "NextToken");
		if (token)
			cJSON_AddStringToObject(in, "NextToken", token);
		cJSON *answer = NULL;
		st = aws_http_call(h, &aws_service_cloudwatch, region, "GetMetricData", in, &answer,
				   e);
		if (st != ST_OK)
			break;
		char *next = NULL;
		st = cw_parse_metric_page(answer, q, n, acc, &next, e);
		cJSON_Delete(answer);
		if (st != ST_OK)
			err_prefix(e, "CloudWatch GetMetricData (%s)", region);
		else if (next && token && strcmp(next, token) == 0)
			st = err_set(e, ST_FAIL, "CloudWatch GetMetricData (%s): the answer repeats "
						 "its paging token; the endpoint is misbehaving",
				     region);
		free(token);
		token = next;
		if (!token)
			break;
	}
	free(token);
	return st;
}

enum status cw_get_metric_data(struct aws_http *h, const char *region,
			       const struct cw_metric_query *q, size_t n, long long start,
			       long long end, struct cw_series *out, struct err *e)
{
	series_free_n(out, n);
	if (n == 0 || n > 500)
		return err_set(e, ST_INVALID, "GetMetricData takes 1 to 500 queries");
	if (start >= end)
		return err_set(e, ST_INVALID, "GetMetricData needs a start before the end");
	enum status st = ST_OK;
	if (!region || !*region)
		st = aws_http_region(h, &region, e);
	if (st != ST_OK)
		return st;
	struct cw_series *acc = xcalloc(n, sizeof *acc);
	cJSON *in = metric_input(q, n, start, end);
	st = metric_pages(h, region, in, q, n, acc, e);
	cJSON_Delete(in);
	for (size_t i = 0; i < n; i++) {
		if (st == ST_OK) {
			series_sort(&acc[i]);
			if (!acc[i].label)
				acc[i].label = xstrdup("");
			if (!acc[i].status)
				acc[i].status = xstrdup("Complete");
			out[i] = acc[i];
		} else {
			cw_series_free(&acc[i]);
		}
	}
	free(acc);
	return st;
}

/* ------------------------------------------------------------------ the two views */

static const struct {
	const char *id, *name, *stat;
} lambda_metrics[CW_LAMBDA_COUNT] = {
	{"errors", "Errors", "Sum"},
	{"invocations", "Invocations", "Sum"},
	{"throttles", "Throttles", "Sum"},
	{"duration", "Duration", "Average"},
};

const char *cw_lambda_metric_name(enum cw_lambda_metric m)
{
	return (unsigned)m < CW_LAMBDA_COUNT ? lambda_metrics[m].name : "";
}

const char *cw_lambda_metric_stat(enum cw_lambda_metric m)
{
	return (unsigned)m < CW_LAMBDA_COUNT ? lambda_metrics[m].stat : "";
}

void cw_lambda_metrics_free(struct cw_lambda_metrics *m)
{
	series_free_n(m->series, CW_LAMBDA_COUNT);
	memset(m, 0, sizeof *m);
}

void cw_billing_free(struct cw_billing *b)
{
	cw_series_free(&b->charges);
	memset(b, 0, sizeof *b);
}

enum status cw_get_lambda_metrics(struct aws_http *h, const char *function_name, long long now,
				  int period, struct cw_lambda_metrics *out, struct err *e)
{
	cw_lambda_metrics_free(out);
	if (!function_name || !*function_name)
		return err_set(e, ST_INVALID, "no Lambda function to show: set function_name in "
					      "[aws]");
	if (period <= 0)
		period = 900;
	if (period % 60 != 0)
		return err_set(e, ST_INVALID, "the metric period must be a multiple of 60 s");
	if (now <= 0)
		now = aws_http_now(h);
	long long end = (now / period + 1) * period;
	long long buckets = (DAY + period - 1) / period;
	struct cw_metric_query q[CW_LAMBDA_COUNT];
	for (int i = 0; i < CW_LAMBDA_COUNT; i++)
		q[i] = (struct cw_metric_query){lambda_metrics[i].id, "AWS/Lambda",
						lambda_metrics[i].name, "FunctionName",
						function_name, lambda_metrics[i].stat, period};
	struct cw_lambda_metrics m = {end - buckets * period, end, period, {{0}}};
	enum status st = cw_get_metric_data(h, NULL, q, CW_LAMBDA_COUNT, m.start, m.end, m.series,
					    e);
	if (st == ST_OK)
		*out = m;
	return st;
}

static long long month_start(long long now)
{
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (long long)timegm(&tm);
}

enum status cw_get_billing(struct aws_http *h, long long now, int period, struct cw_billing *out,
			   struct err *e)
{
	cw_billing_free(out);
	if (period <= 0)
		period = 21600;
	if (period % 60 != 0)
		return err_set(e, ST_INVALID, "the metric period must be a multiple of 60 s");
	if (now <= 0)
		now = aws_http_now(h);
	struct cw_metric_query q = {"charges", "AWS/Billing", "EstimatedCharges", "Currency", "USD",
				    "Maximum", period};
	struct cw_billing b = {month_start(now), (now / DAY + 1) * DAY, period, {0}, false, 0, 0};
	enum status st = cw_get_metric_data(h, CW_BILLING_REGION, &q, 1, b.start, b.end,
					    &b.charges, e);
	if (st != ST_OK)
		return st;
	if (b.charges.n) {
		b.has_latest = true;
		b.latest = b.charges.values[b.charges.n - 1];
		b.latest_time = b.charges.times[b.charges.n - 1];
	}
	*out = b;
	return ST_OK;
}

void cw_series_buckets(const struct cw_series *s, long long start, int period, size_t n,
		       double *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = NAN;
	if (period <= 0)
		return;
	for (size_t i = 0; i < s->n; i++) {
		double k = floor((s->times[i] - (double)start) / period);
		if (k >= 0 && k < (double)n)
			out[(size_t)k] = s->values[i];
	}
}
