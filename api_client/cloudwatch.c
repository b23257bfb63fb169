/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cloudwatch: DescribeAlarms and DescribeAlarmHistory. See cloudwatch.h;
 * the metrics are in cw_metrics.c. */
#include "cloudwatch.h"

#include <stdlib.h>
#include <string.h>

#include "aws_json.h"

#define CW_MAX_PAGES 100 /* 10,000 alarms or history items: far more than we show */

#define TRY(expr)                                                                      \
	do {                                                                           \
		if (st == ST_OK)                                                       \
			st = (expr);                                                   \
	} while (0)

static const char *const state_names[] = {"OK", "ALARM", "INSUFFICIENT_DATA"};

const char *cw_state_name(enum cw_state s)
{
	return (unsigned)s < 3 ? state_names[s] : "INSUFFICIENT_DATA";
}

bool cw_state_parse(const char *s, enum cw_state *out)
{
	for (int i = 0; i < 3; i++)
		if (s && strcmp(s, state_names[i]) == 0) {
			*out = (enum cw_state)i;
			return true;
		}
	return false;
}

/* ------------------------------------------------------------------ alarms: memory */

static void alarm_free(struct cw_alarm *a)
{
	char **strings[] = {&a->name, &a->region, &a->arn, &a->description, &a->state_reason,
			    &a->namespace_name, &a->metric_name, &a->statistic, &a->comparison,
			    &a->unit};
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		free(*strings[i]);
	for (size_t i = 0; i < a->n_dims; i++) {
		free(a->dims[i].name);
		free(a->dims[i].value);
	}
	free(a->dims);
	memset(a, 0, sizeof *a);
}

void cw_alarm_list_free(struct cw_alarm_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		alarm_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Move the alarms of src to the end of dst; src ends up empty. */
static void alarm_list_move(struct cw_alarm_list *dst, struct cw_alarm_list *src)
{
	if (src->n) {
		dst->v = xrealloc(dst->v, (dst->n + src->n) * sizeof *dst->v);
		memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
		dst->n += src->n;
	}
	free(src->v);
	memset(src, 0, sizeof *src);
}

/* ------------------------------------------------------------------ alarms: parsing */

static enum status parse_dims(const cJSON *a, const char *base, struct cw_alarm *out,
			      struct err *e)
{
	const cJSON *dims;
	struct aj_path dpath;
	enum status st = aj_array(a, base, "Dimensions", false, &dims, e);
	if (st != ST_OK || !dims)
		return st;
	int n = cJSON_GetArraySize(dims);
	aj_at(&dpath, base, "Dimensions");
	out->dims = xcalloc((size_t)n + 1, sizeof *out->dims);
	for (int i = 0; i < n && st == ST_OK; i++) {
		const cJSON *d = cJSON_GetArrayItem(dims, i);
		struct aj_path p;
		aj_index(&p, dpath.s, i);
		if (!cJSON_IsObject(d)) {
			st = err_set(e, ST_FAIL, "%s is not an object", p.s);
			break;
		}
		struct cw_dimension *dim = &out->dims[out->n_dims++];
		TRY(aj_string(d, p.s, "Name", true, &dim->name, e));
		TRY(aj_string(d, p.s, "Value", true, &dim->value, e));
	}
	return st;
}

static enum status parse_alarm(const cJSON *a, const char *base, const char *region,
			       struct cw_alarm *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	out->region = xstrdup(region);
	if (!cJSON_IsObject(a))
		return err_set(e, ST_FAIL, "%s is not an object", base);
	char *state = NULL, *ext = NULL;
	bool has_transition = false;
	double transitioned = 0;
	enum status st = ST_OK;
	TRY(aj_string(a, base, "AlarmName", true, &out->name, e));
	if (st == ST_OK && !*out->name)
		st = err_set(e, ST_FAIL, "%s.AlarmName is empty", base);
	TRY(aj_string(a, base, "StateValue", true, &state, e));
	if (st == ST_OK && !cw_state_parse(state, &out->state))
		st = err_set(e, ST_FAIL, "%s.StateValue is not OK, ALARM or INSUFFICIENT_DATA", base);
	TRY(aj_string(a, base, "AlarmArn", false, &out->arn, e));
	TRY(aj_string(a, base, "AlarmDescription", false, &out->description, e));
	TRY(aj_string(a, base, "StateReason", false, &out->state_reason, e));
	TRY(aj_number(a, base, "StateUpdatedTimestamp", false, &out->state_updated, NULL, e));
	TRY(aj_number(a, base, "StateTransitionedTimestamp", false, &transitioned,
		      &has_transition, e));
	TRY(aj_string(a, base, "Namespace", false, &out->namespace_name, e));
	TRY(aj_string(a, base, "MetricName", false, &out->metric_name, e));
	TRY(aj_string(a, base, "Statistic", false, &out->statistic, e));
	TRY(aj_string(a, base, "ExtendedStatistic", false, &ext, e));
	TRY(parse_dims(a, base, out, e));
	TRY(aj_number(a, base, "Threshold", false, &out->threshold, &out->has_threshold, e));
	TRY(aj_string(a, base, "ComparisonOperator", false, &out->comparison, e));
	TRY(aj_string(a, base, "Unit", false, &out->unit, e));
	TRY(aj_int(a, base, "Period", false, 0, 86400 * 7, &out->period, e));
	TRY(aj_int(a, base, "EvaluationPeriods", false, 0, 100000, &out->evaluation_periods, e));
	TRY(aj_int(a, base, "DatapointsToAlarm", false, 0, 100000, &out->datapoints_to_alarm, e));
	TRY(aj_bool(a, base, "ActionsEnabled", false, &out->actions_enabled, e));
	if (st == ST_OK && !*out->statistic && ext && *ext) {
		free(out->statistic);
		out->statistic = ext;
		ext = NULL;
	}
	out->state_since = has_transition ? transitioned : out->state_updated;
	free(state);
	free(ext);
	return st;
}

enum status cw_parse_alarms_page(const cJSON *root, const char *region, struct cw_alarm_list *out,
				 char **next_token, struct err *e)
{
	*next_token = NULL;
	const cJSON *arr = NULL;
	char *token = NULL;
	enum status st = aj_root(root, e);
	TRY(aj_array(root, "", "MetricAlarms", false, &arr, e));
	TRY(aj_string(root, "", "NextToken", false, &token, e));
	struct cw_alarm_list page = {0};
	int n = arr ? cJSON_GetArraySize(arr) : 0;
	if (st == ST_OK && n)
		page.v = xcalloc((size_t)n, sizeof *page.v);
	for (int i = 0; i < n && st == ST_OK; i++) {
		struct aj_path p;
		aj_index(&p, "MetricAlarms", i);
		st = parse_alarm(cJSON_GetArrayItem(arr, i), p.s, region, &page.v[page.n++], e);
	}
	if (st != ST_OK) {
		err_prefix(e, "the answer is malformed");
		cw_alarm_list_free(&page);
		free(token);
		return st;
	}
	alarm_list_move(out, &page);
	if (token && *token)
		*next_token = token;
	else
		free(token);
	return ST_OK;
}

/* ------------------------------------------------------------------ paging */

/* One operation's pages: `parse` appends one answer to acc. */
typedef enum status (*page_parser)(const cJSON *root, const char *region, void *acc,
				   char **next_token, struct err *e);

struct pager {
	struct aws_http *h;
	const char *region;
	const char *operation;
	cJSON *input;     /* NextToken is set on it */
	page_parser parse;
	void *acc;
	/* stop early once this returns true (NULL: never) */
	bool (*enough)(void *acc);
};

static enum status page_all(struct pager *p, struct err *e)
{
	char *token = NULL;
	enum status st = ST_OK;
	for (int page = 0; st == ST_OK; page++) {
		if (page == CW_MAX_PAGES) {
			st = err_set(e, ST_FAIL, "CloudWatch %s (%s): more than %d pages; narrow the "
						 "alarm names or prefix",
				     p->operation, p->region, CW_MAX_PAGES);
			break;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(p->input, "NextToken");
		if (token)
			cJSON_AddStringToObject(p->input, "NextToken", token);
		cJSON *answer = NULL;
		st = aws_http_call(p->h, &aws_service_cloudwatch, p->region, p->operation, p->input,
				   &answer, e);
		if (st != ST_OK)
			break;
		char *next = NULL;
		st = p->parse(answer, p->region, p->acc, &next, e);
		cJSON_Delete(answer);
		if (st != ST_OK) {
			err_prefix(e, "CloudWatch %s (%s)", p->operation, p->region);
			break;
		}
		if (!next || (p->enough && p->enough(p->acc))) {
			free(next);
			break;
		}
		if (token && strcmp(token, next) == 0) {
			free(next);
			st = err_set(e, ST_FAIL, "CloudWatch %s (%s): the answer repeats its paging "
						 "token; the endpoint is misbehaving",
				     p->operation, p->region);
			break;
		}
		free(token);
		token = next;
	}
	free(token);
	return st;
}

/* ------------------------------------------------------------------ DescribeAlarms */

static enum status parse_alarms_acc(const cJSON *root, const char *region, void *acc,
				    char **next_token, struct err *e)
{
	return cw_parse_alarms_page(root, region, acc, next_token, e);
}

static cJSON *alarms_input(const struct cw_alarm_query *q)
{
	cJSON *in = cJSON_CreateObject();
	if (q && q->n_names) {
		cJSON *names = cJSON_AddArrayToObject(in, "AlarmNames");
		for (size_t i = 0; i < q->n_names; i++)
			cJSON_AddItemToArray(names, cJSON_CreateString(q->names[i]));
	} else if (q && q->prefix && *q->prefix) {
		cJSON_AddStringToObject(in, "AlarmNamePrefix", q->prefix);
	}
	cJSON *types = cJSON_AddArrayToObject(in, "AlarmTypes");
	cJSON_AddItemToArray(types, cJSON_CreateString("MetricAlarm"));
	cJSON_AddNumberToObject(in, "MaxRecords", 100);
	return in;
}

static int alarm_cmp(const void *pa, const void *pb)
{
	const struct cw_alarm *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	return c ? c : strcmp(a->region, b->region);
}

static void find_missing(const struct cw_alarm_query *q, const struct cw_alarm_list *l,
			 struct strvec *missing)
{
	for (size_t i = 0; q && i < q->n_names; i++) {
		bool found = false;
		for (size_t k = 0; k < l->n && !found; k++)
			found = strcmp(l->v[k].name, q->names[i]) == 0;
		if (!found)
			strvec_push(missing, q->names[i]);
	}
}

enum status cw_describe_alarms(struct aws_http *h, const struct cw_alarm_query *q,
			       struct cw_alarm_list *out, struct strvec *missing, struct err *e)
{
	cw_alarm_list_free(out);
	if (missing)
		strvec_clear(missing);
	if (q && q->n_names > 100)
		return err_set(e, ST_INVALID, "CloudWatch takes at most 100 alarm names at a time");
	if (q && q->n_names && q->prefix && *q->prefix)
		return err_set(e, ST_INVALID, "give alarm names or a prefix, not both");
	const char *app;
	enum status st = aws_http_region(h, &app, e);
	if (st != ST_OK)
		return st;
	const char *regions[2] = {app, CW_BILLING_REGION};
	size_t n_regions = strcmp(app, CW_BILLING_REGION) == 0 ? 1 : 2;
	struct cw_alarm_list all = {0};
	cJSON *in = alarms_input(q);
	for (size_t r = 0; r < n_regions && st == ST_OK; r++) {
		struct pager p = {h, regions[r], "DescribeAlarms", in, parse_alarms_acc, &all, NULL};
		st = page_all(&p, e);
	}
	cJSON_Delete(in);
	if (st != ST_OK) {
		cw_alarm_list_free(&all);
		return st;
	}
	if (all.n > 1)
		qsort(all.v, all.n, sizeof *all.v, alarm_cmp);
	if (missing)
		find_missing(q, &all, missing);
	*out = all;
	return ST_OK;
}

/* ------------------------------------------------------------------ alarm helpers */

const char *cw_comparison_symbol(const char *op)
{
	static const struct { const char *op, *sym; } ops[] = {
		{"GreaterThanThreshold", ">"}, {"GreaterThanOrEqualToThreshold", ">="},
		{"LessThanThreshold", "<"}, {"LessThanOrEqualToThreshold", "<="},
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (op && strcmp(op, ops[i].op) == 0)
			return ops[i].sym;
	return op ? op : "";
}

void cw_alarm_condition(const struct cw_alarm *a, struct buf *out)
{
	if (*a->namespace_name)
		buf_printf(out, "%s ", a->namespace_name);
	buf_puts(out, *a->metric_name ? a->metric_name : "(metric math)");
	if (*a->statistic)
		buf_printf(out, " %s", a->statistic);
	if (a->has_threshold)
		buf_printf(out, " %s %g", cw_comparison_symbol(a->comparison), a->threshold);
	if (a->evaluation_periods > 0) {
		int m = a->datapoints_to_alarm > 0 ? a->datapoints_to_alarm : a->evaluation_periods;
		buf_printf(out, " for %d of %d period%s", m, a->evaluation_periods,
			   a->evaluation_periods == 1 ? "" : "s");
		if (a->period > 0)
			buf_printf(out, " of %d s", a->period);
	}
}

const char *cw_guess_function(const struct cw_alarm_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct cw_alarm *a = &l->v[i];
		if (strcmp(a->namespace_name, "AWS/Lambda") != 0)
			continue;
		for (size_t k = 0; k < a->n_dims; k++)
			if (strcmp(a->dims[k].name, "FunctionName") == 0 && *a->dims[k].value)
				return a->dims[k].value;
	}
	return NULL;
}

struct cw_summary cw_alarm_summary(const struct cw_alarm_list *l)
{
	struct cw_summary s = {0, 0, 0};
	for (size_t i = 0; i < l->n; i++) {
		switch (l->v[i].state) {
		case CW_STATE_OK: s.ok++; break;
		case CW_STATE_ALARM: s.alarm++; break;
		case CW_STATE_INSUFFICIENT_DATA: s.insufficient++; break;
		}
	}
	return s;
}

/* ------------------------------------------------------------------ history */

static void history_item_free(struct cw_history_item *it)
{
	free(it->alarm_name);
	free(it->region);
	free(it->type);
	free(it->summary);
	free(it->new_reason);
	memset(it, 0, sizeof *it);
}

void cw_history_free(struct cw_history *hist)
{
	for (size_t i = 0; i < hist->n; i++)
		history_item_free(&hist->v[i]);
	free(hist->v);
	memset(hist, 0, sizeof *hist);
}

static void history_move(struct cw_history *dst, struct cw_history *src)
{
	if (src->n) {
		dst->v = xrealloc(dst->v, (dst->n + src->n) * sizeof *dst->v);
		memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
		dst->n += src->n;
	}
	free(src->v);
	memset(src, 0, sizeof *src);
}

static const char *state_of(const cJSON *data, const char *which, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(data, which);
	const cJSON *v = cJSON_IsObject(s) ? cJSON_GetObjectItemCaseSensitive(s, key) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* HistoryData is a JSON document in a string, free-form for other types:
 * read the states when they are there, never fail on it. */
static void read_history_data(const char *text, struct cw_history_item *it)
{
	it->new_reason = NULL;
	cJSON *data = text && *text ? cJSON_Parse(text) : NULL;
	if (strcmp(it->type, "StateUpdate") == 0 && cJSON_IsObject(data)) {
		it->has_states = cw_state_parse(state_of(data, "oldState", "stateValue"),
						&it->old_state) &&
				 cw_state_parse(state_of(data, "newState", "stateValue"),
						&it->new_state);
		const char *reason = state_of(data, "newState", "stateReason");
		if (reason)
			it->new_reason = xstrdup(reason);
	}
	if (!it->new_reason)
		it->new_reason = xstrdup("");
	cJSON_Delete(data);
}

static enum status parse_history_item(const cJSON *o, const char *base, const char *region,
				      struct cw_history_item *it, struct err *e)
{
	memset(it, 0, sizeof *it);
	it->region = xstrdup(region);
	it->new_reason = xstrdup("");
	if (!cJSON_IsObject(o))
		return err_set(e, ST_FAIL, "%s is not an object", base);
	char *data = NULL;
	enum status st = ST_OK;
	TRY(aj_string(o, base, "AlarmName", true, &it->alarm_name, e));
	TRY(aj_number(o, base, "Timestamp", true, &it->time, NULL, e));
	TRY(aj_string(o, base, "HistoryItemType", true, &it->type, e));
	TRY(aj_string(o, base, "HistorySummary", false, &it->summary, e));
	TRY(aj_string(o, base, "HistoryData", false, &data, e));
	if (st == ST_OK) {
		free(it->new_reason);
		read_history_data(data, it);
	}
	free(data);
	return st;
}

enum status cw_parse_history_page(const cJSON *root, const char *region, struct cw_history *out,
				  char **next_token, struct err *e)
{
	*next_token = NULL;
	const cJSON *arr = NULL;
	char *token = NULL;
	enum status st = aj_root(root, e);
	TRY(aj_array(root, "", "AlarmHistoryItems", false, &arr, e));
	TRY(aj_string(root, "", "NextToken", false, &token, e));
	struct cw_history page = {0};
	int n = arr ? cJSON_GetArraySize(arr) : 0;
	if (st == ST_OK && n)
		page.v = xcalloc((size_t)n, sizeof *page.v);
	for (int i = 0; i < n && st == ST_OK; i++) {
		struct aj_path p;
		aj_index(&p, "AlarmHistoryItems", i);
		st = parse_history_item(cJSON_GetArrayItem(arr, i), p.s, region, &page.v[page.n++],
					e);
	}
	if (st != ST_OK) {
		err_prefix(e, "the answer is malformed");
		cw_history_free(&page);
		free(token);
		return st;
	}
	history_move(out, &page);
	if (token && *token)
		*next_token = token;
	else
		free(token);
	return ST_OK;
}

static int history_cmp(const void *pa, const void *pb)
{
	const struct cw_history_item *a = pa, *b = pb;
	if (a->time != b->time)
		return a->time < b->time ? 1 : -1; /* newest first */
	return strcmp(a->alarm_name, b->alarm_name);
}

static void history_sort_trim(struct cw_history *hist, size_t max)
{
	if (hist->n > 1)
		qsort(hist->v, hist->n, sizeof *hist->v, history_cmp);
	while (hist->n > max)
		history_item_free(&hist->v[--hist->n]);
}

struct history_acc {
	struct cw_history hist;
	size_t max;
};

static enum status parse_history_acc(const cJSON *root, const char *region, void *acc,
				     char **next_token, struct err *e)
{
	return cw_parse_history_page(root, region, &((struct history_acc *)acc)->hist, next_token,
				     e);
}

static bool history_enough(void *acc)
{
	struct history_acc *a = acc;
	return a->hist.n >= a->max;
}

static cJSON *history_input(const struct cw_history_query *q, size_t max)
{
	cJSON *in = cJSON_CreateObject();
	if (q->alarm_name)
		cJSON_AddStringToObject(in, "AlarmName", q->alarm_name);
	if (q->state_updates_only)
		cJSON_AddStringToObject(in, "HistoryItemType", "StateUpdate");
	if (q->start > 0)
		cJSON_AddNumberToObject(in, "StartDate", (double)q->start);
	if (q->end > 0)
		cJSON_AddNumberToObject(in, "EndDate", (double)q->end);
	cJSON_AddStringToObject(in, "ScanBy", "TimestampDescending");
	cJSON_AddNumberToObject(in, "MaxRecords", (double)(max < 100 ? max : 100));
	return in;
}

enum status cw_describe_alarm_history(struct aws_http *h, const struct cw_history_query *q,
				      struct cw_history *out, struct err *e)
{
	cw_history_free(out);
	const char *region = q->region;
	enum status st = ST_OK;
	if (!region || !*region)
		st = aws_http_region(h, &region, e);
	if (st != ST_OK)
		return st;
	struct history_acc acc = {{NULL, 0}, q->max_items ? q->max_items : 50};
	cJSON *in = history_input(q, acc.max);
	struct pager p = {h, region, "DescribeAlarmHistory", in, parse_history_acc, &acc,
			  history_enough};
	st = page_all(&p, e);
	cJSON_Delete(in);
	if (st != ST_OK) {
		cw_history_free(&acc.hist);
		return st;
	}
	history_sort_trim(&acc.hist, acc.max);
	*out = acc.hist;
	return ST_OK;
}

enum status cw_history_for_alarms(struct aws_http *h, const struct cw_alarm_list *alarms,
				  long long since, bool state_updates_only, size_t max_items,
				  struct cw_history *out, struct err *e)
{
	cw_history_free(out);
	size_t max = max_items ? max_items : 50;
	struct cw_history all = {0};
	enum status st = ST_OK;
	for (size_t i = 0; i < alarms->n && st == ST_OK; i++) {
		struct cw_history one = {0};
		struct cw_history_query q = {alarms->v[i].name, alarms->v[i].region,
					     state_updates_only, since, 0, max};
		st = cw_describe_alarm_history(h, &q, &one, e);
		history_move(&all, &one);
	}
	if (st != ST_OK) {
		cw_history_free(&all);
		return st;
	}
	history_sort_trim(&all, max);
	*out = all;
	return ST_OK;
}
