/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cost: Cost Explorer GetCostAndUsage, month to date by service, cached.
 * See cost.h. */
#include "cost.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws_json.h"
#include "sigv4.h"

#define COST_MAX_PAGES 50
#define COST_CACHE_MAX (1 << 20)
#define COST_CACHE_VERSION 1

#define TRY(expr)                                                                      \
	do {                                                                           \
		if (st == ST_OK)                                                       \
			st = (expr);                                                   \
	} while (0)

void cost_report_free(struct cost_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->services[i].name);
	free(r->services);
	free(r->unit);
	memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ period and paths */

static void format_date(char out[16], int y, int m, int d)
{
	snprintf(out, 16, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
}

void cost_period(long long now, char start[16], char end[16], bool *previous_month)
{
	time_t t = (time_t)now;
	struct tm tm;
	gmtime_r(&t, &tm);
	int y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
	*previous_month = d == 1;
	if (d == 1) {
		format_date(start, m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1, 1);
		format_date(end, y, m, 1);
	} else {
		format_date(start, y, m, 1);
		format_date(end, y, m, d);
	}
}

void cost_default_cache_dir(const struct aws_env *env, struct buf *out)
{
	buf_reset(out);
	const char *x = aws_env_get(env, "XDG_CACHE_HOME"), *home = aws_env_get(env, "HOME");
	if (x && x[0] == '/')
		buf_printf(out, "%s/empdir-tui", x);
	else if (home && *home)
		buf_printf(out, "%s/.cache/empdir-tui", home);
}

/* ------------------------------------------------------------------ parsing */

static struct cost_service *find_service(struct cost_report *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->services[i].name, name) == 0)
			return &r->services[i];
	return NULL;
}

static void add_service(struct cost_report *r, const char *name, double amount)
{
	struct cost_service *s = find_service(r, name);
	if (s) {
		s->amount += amount;
		return;
	}
	r->services = xrealloc(r->services, (r->n + 1) * sizeof *r->services);
	r->services[r->n++] = (struct cost_service){xstrdup(name), amount};
}

static enum status parse_amount(const char *text, const char *base, double *out, struct err *e)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v))
		return err_set(e, ST_FAIL, "%s.Amount is not a number", base);
	*out = v;
	return ST_OK;
}

static enum status parse_group(const cJSON *g, const char *base, struct cost_report *acc,
			       struct err *e)
{
	if (!cJSON_IsObject(g))
		return err_set(e, ST_FAIL, "%s is not an object", base);
	const cJSON *keys, *metrics, *cost;
	struct aj_path kp, mp, cp;
	enum status st = aj_array(g, base, "Keys", true, &keys, e);
	aj_at(&kp, base, "Keys");
	aj_at(&mp, base, "Metrics");
	aj_at(&cp, mp.s, "UnblendedCost");
	const cJSON *key = st == ST_OK ? cJSON_GetArrayItem(keys, 0) : NULL;
	if (st == ST_OK && !(cJSON_IsString(key) && key->valuestring))
		st = err_set(e, ST_FAIL, "%s[0] is not a string", kp.s);
	TRY(aj_object(g, base, "Metrics", true, &metrics, e));
	TRY(aj_object(metrics, mp.s, "UnblendedCost", true, &cost, e));
	char *amount = NULL, *unit = NULL;
	double v = 0;
	TRY(aj_string(cost, cp.s, "Amount", true, &amount, e));
	TRY(aj_string(cost, cp.s, "Unit", true, &unit, e));
	TRY(parse_amount(amount ? amount : "", cp.s, &v, e));
	if (st == ST_OK && acc->unit && strcmp(acc->unit, unit) != 0)
		st = err_set(e, ST_FAIL, "%s.Unit differs from the other amounts' unit", cp.s);
	if (st == ST_OK) {
		if (!acc->unit) {
			acc->unit = unit;
			unit = NULL;
		}
		add_service(acc, key->valuestring, v);
	}
	free(amount);
	free(unit);
	return st;
}

static enum status parse_period(const cJSON *p, const char *base, struct cost_report *acc,
				struct err *e)
{
	if (!cJSON_IsObject(p))
		return err_set(e, ST_FAIL, "%s is not an object", base);
	const cJSON *tp, *groups;
	char *start = NULL, *end = NULL;
	bool estimated = false;
	struct aj_path tpp, gp;
	aj_at(&tpp, base, "TimePeriod");
	aj_at(&gp, base, "Groups");
	enum status st = aj_object(p, base, "TimePeriod", true, &tp, e);
	TRY(aj_string(tp, tpp.s, "Start", true, &start, e));
	TRY(aj_string(tp, tpp.s, "End", true, &end, e));
	TRY(aj_bool(p, base, "Estimated", false, &estimated, e));
	TRY(aj_array(p, base, "Groups", false, &groups, e));
	int n = st == ST_OK && groups ? cJSON_GetArraySize(groups) : 0;
	for (int i = 0; i < n && st == ST_OK; i++) {
		struct aj_path one;
		aj_index(&one, gp.s, i);
		st = parse_group(cJSON_GetArrayItem(groups, i), one.s, acc, e);
	}
	acc->estimated = acc->estimated || estimated;
	free(start);
	free(end);
	return st;
}

enum status cost_parse_page(const cJSON *root, struct cost_report *r, char **next_token,
			    struct err *e)
{
	*next_token = NULL;
	const cJSON *periods = NULL;
	char *token = NULL;
	struct cost_report acc = {0};
	if (r->unit)
		acc.unit = xstrdup(r->unit);
	enum status st = aj_root(root, e);
	TRY(aj_array(root, "", "ResultsByTime", true, &periods, e));
	TRY(aj_string(root, "", "NextPageToken", false, &token, e));
	int n = st == ST_OK ? cJSON_GetArraySize(periods) : 0;
	for (int i = 0; i < n && st == ST_OK; i++) {
		struct aj_path p;
		aj_index(&p, "ResultsByTime", i);
		st = parse_period(cJSON_GetArrayItem(periods, i), p.s, &acc, e);
	}
	if (st != ST_OK) {
		err_prefix(e, "the answer is malformed");
		cost_report_free(&acc);
		free(token);
		return st;
	}
	for (size_t i = 0; i < acc.n; i++)
		add_service(r, acc.services[i].name, acc.services[i].amount);
	if (!r->unit && acc.unit)
		r->unit = xstrdup(acc.unit);
	r->estimated = r->estimated || acc.estimated;
	cost_report_free(&acc);
	if (token && *token)
		*next_token = token;
	else
		free(token);
	return ST_OK;
}

static int service_cmp(const void *pa, const void *pb)
{
	const struct cost_service *a = pa, *b = pb;
	if (a->amount != b->amount)
		return a->amount < b->amount ? 1 : -1;
	return strcmp(a->name, b->name);
}

void cost_finish(struct cost_report *r)
{
	if (r->n > 1)
		qsort(r->services, r->n, sizeof *r->services, service_cmp);
	r->total = 0;
	for (size_t i = 0; i < r->n; i++)
		r->total += r->services[i].amount;
	if (!r->unit)
		r->unit = xstrdup("USD");
}

/* ------------------------------------------------------------------ the cache */

static enum status read_small_file(const char *path, struct buf *out, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ST_NOT_FOUND, "no cost cache");
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof chunk)) > 0) {
		buf_append(out, chunk, (size_t)n);
		if (out->len > COST_CACHE_MAX)
			break;
	}
	close(fd);
	if (n < 0 || out->len > COST_CACHE_MAX)
		return err_set(e, ST_NOT_FOUND, "the cost cache cannot be read");
	return ST_OK;
}

static enum status cache_services(const cJSON *root, struct cost_report *r, struct err *e)
{
	const cJSON *arr;
	enum status st = aj_array(root, "", "services", true, &arr, e);
	int n = st == ST_OK ? cJSON_GetArraySize(arr) : 0;
	for (int i = 0; i < n && st == ST_OK; i++) {
		const cJSON *s = cJSON_GetArrayItem(arr, i);
		struct aj_path p;
		aj_index(&p, "services", i);
		char *name = NULL;
		double amount = 0;
		if (!cJSON_IsObject(s))
			st = err_set(e, ST_FAIL, "%s is not an object", p.s);
		TRY(aj_string(s, p.s, "name", true, &name, e));
		TRY(aj_number(s, p.s, "amount", true, &amount, NULL, e));
		if (st == ST_OK)
			add_service(r, name, amount);
		free(name);
	}
	return st;
}

static enum status copy_date(const cJSON *root, const char *key, char out[16], struct err *e)
{
	char *v = NULL;
	enum status st = aj_string(root, "", key, true, &v, e);
	if (st == ST_OK && strlen(v) != 10)
		st = err_set(e, ST_FAIL, "%s is not a date", key);
	if (st == ST_OK)
		memcpy(out, v, 11);
	free(v);
	return st;
}

static enum status cache_parse(const cJSON *root, const char *key, struct cost_report *r,
			       struct err *e)
{
	char *k = NULL;
	double fetched = 0;
	int version = 0;
	enum status st = aj_root(root, e);
	TRY(aj_int(root, "", "version", true, 0, 1000, &version, e));
	if (st == ST_OK && version != COST_CACHE_VERSION)
		st = err_set(e, ST_FAIL, "another cache version");
	TRY(aj_string(root, "", "key", true, &k, e));
	if (st == ST_OK && strcmp(k, key) != 0)
		st = err_set(e, ST_FAIL, "another identity");
	free(k);
	TRY(aj_number(root, "", "fetched_at", true, &fetched, NULL, e));
	TRY(copy_date(root, "start", r->start, e));
	TRY(copy_date(root, "end", r->end, e));
	TRY(aj_bool(root, "", "previous_month", true, &r->previous_month, e));
	TRY(aj_string(root, "", "unit", true, &r->unit, e));
	TRY(aj_bool(root, "", "estimated", true, &r->estimated, e));
	TRY(cache_services(root, r, e));
	r->fetched_at = (long long)fetched;
	return st;
}

enum status cost_cache_read(const char *path, const char *key, struct cost_report *r,
			    struct err *e)
{
	cost_report_free(r);
	struct buf text = BUF_INIT;
	enum status st = read_small_file(path, &text, e);
	if (st != ST_OK) {
		buf_free(&text);
		return st;
	}
	cJSON *root = cJSON_ParseWithLength(buf_str(&text), text.len);
	buf_free(&text);
	struct err why = {0};
	st = cache_parse(root, key, r, &why);
	cJSON_Delete(root);
	if (st != ST_OK) {
		cost_report_free(r);
		return err_set(e, ST_NOT_FOUND, "the cost cache is not usable (%s)", why.msg);
	}
	cost_finish(r);
	r->from_cache = true;
	return ST_OK;
}

cJSON *cost_report_json(const struct cost_report *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "start", r->start);
	cJSON_AddStringToObject(root, "end", r->end);
	cJSON_AddBoolToObject(root, "previous_month", r->previous_month);
	cJSON_AddStringToObject(root, "unit", r->unit ? r->unit : "USD");
	cJSON_AddBoolToObject(root, "estimated", r->estimated);
	cJSON *arr = cJSON_AddArrayToObject(root, "services");
	for (size_t i = 0; i < r->n; i++) {
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "name", r->services[i].name);
		cJSON_AddNumberToObject(s, "amount", r->services[i].amount);
		cJSON_AddItemToArray(arr, s);
	}
	return root;
}

static cJSON *cache_json(const char *key, const struct cost_report *r)
{
	cJSON *root = cost_report_json(r);
	cJSON_AddNumberToObject(root, "version", COST_CACHE_VERSION);
	cJSON_AddStringToObject(root, "key", key);
	cJSON_AddNumberToObject(root, "fetched_at", (double)r->fetched_at);
	return root;
}

/* mkdir -p for the directory part of path, mode 0700. */
static int make_parents(const char *path)
{
	struct buf dir = BUF_INIT;
	buf_puts(&dir, path);
	char *slash = strrchr(dir.data, '/');
	int rc = 0;
	if (slash && slash != dir.data) {
		*slash = '\0';
		for (char *p = dir.data + 1; rc == 0; p++) {
			bool last = *p == '\0';
			if (*p != '/' && !last)
				continue;
			*p = '\0';
			if (mkdir(dir.data, 0700) != 0 && errno != EEXIST)
				rc = -1;
			if (last)
				break;
			*p = '/';
		}
	}
	buf_free(&dir);
	return rc;
}

static bool write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

enum status cost_cache_write(const char *path, const char *key, const struct cost_report *r,
			     struct err *e)
{
	cJSON *root = cache_json(key, r);
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return err_set(e, ST_FAIL, "out of memory writing the cost cache");
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	enum status st = ST_OK;
	int fd = make_parents(path) == 0
			 ? open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)
			 : -1;
	if (fd < 0) {
		st = err_set(e, ST_FAIL, "cannot write the cost cache %s: %s", path, strerror(errno));
	} else {
		bool ok = write_all(fd, text, strlen(text)) && write_all(fd, "\n", 1) && fsync(fd) == 0;
		int saved = errno;
		ok = close(fd) == 0 && ok;
		if (!ok || rename(buf_str(&tmp), path) != 0) {
			st = err_set(e, ST_FAIL, "cannot write the cost cache %s: %s", path,
				     strerror(ok ? errno : saved));
			unlink(buf_str(&tmp));
		}
	}
	cJSON_free(text);
	buf_free(&tmp);
	return st;
}

/* ------------------------------------------------------------------ fetching */

static cJSON *cost_input(const struct cost_report *r)
{
	cJSON *in = cJSON_CreateObject();
	cJSON *tp = cJSON_AddObjectToObject(in, "TimePeriod");
	cJSON_AddStringToObject(tp, "Start", r->start);
	cJSON_AddStringToObject(tp, "End", r->end);
	cJSON_AddStringToObject(in, "Granularity", "MONTHLY");
	cJSON *metrics = cJSON_AddArrayToObject(in, "Metrics");
	cJSON_AddItemToArray(metrics, cJSON_CreateString("UnblendedCost"));
	cJSON *groups = cJSON_AddArrayToObject(in, "GroupBy");
	cJSON *g = cJSON_CreateObject();
	cJSON_AddStringToObject(g, "Type", "DIMENSION");
	cJSON_AddStringToObject(g, "Key", "SERVICE");
	cJSON_AddItemToArray(groups, g);
	return in;
}

static enum status fetch(struct aws_http *h, struct cost_report *r, struct err *e)
{
	cJSON *in = cost_input(r);
	char *token = NULL;
	enum status st = ST_OK;
	for (int page = 0; st == ST_OK; page++) {
		if (page == COST_MAX_PAGES) {
			st = err_set(e, ST_FAIL, "Cost Explorer GetCostAndUsage: more than %d pages",
				     COST_MAX_PAGES);
			break;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(in, "NextPageToken");
		if (token)
			cJSON_AddStringToObject(in, "NextPageToken", token);
		cJSON *answer = NULL;
		r->requests++;
		st = aws_http_call(h, &aws_service_cost_explorer, NULL, "GetCostAndUsage", in,
				   &answer, e);
		if (st != ST_OK)
			break;
		char *next = NULL;
		st = cost_parse_page(answer, r, &next, e);
		cJSON_Delete(answer);
		if (st != ST_OK)
			err_prefix(e, "Cost Explorer GetCostAndUsage");
		else if (next && token && strcmp(next, token) == 0)
			st = err_set(e, ST_FAIL, "Cost Explorer GetCostAndUsage: the answer repeats "
						 "its paging token; the endpoint is misbehaving");
		free(token);
		token = next;
		if (!token)
			break;
	}
	free(token);
	cJSON_Delete(in);
	return st;
}

static enum status cache_path(struct aws_http *h, const struct cost_options *o, struct buf *path,
			      struct buf *key, struct err *e)
{
	struct buf id = BUF_INIT, dir = BUF_INIT;
	enum status st = aws_http_identity(h, &aws_service_cost_explorer, &id, e);
	if (st == ST_OK) {
		sigv4_sha256_hex(key, id.data, id.len);
		if (o->cache_dir)
			buf_puts(&dir, o->cache_dir);
		else
			cost_default_cache_dir(o->env, &dir);
		if (dir.len)
			buf_printf(path, "%s/cost-%.16s.json", buf_str(&dir), buf_str(key));
	}
	buf_free(&id);
	buf_free(&dir);
	return st;
}

/* A usable cached answer, or false. */
static bool from_cache(const char *path, const char *key, const struct cost_options *o,
		       const struct cost_report *want, long long now, struct cost_report *out)
{
	struct cost_report cached = {0};
	if (!*path || cost_cache_read(path, key, &cached, NULL) != ST_OK) {
		cost_report_free(&cached);
		return false;
	}
	cached.age = now > cached.fetched_at ? now - cached.fetched_at : 0;
	bool fresh = strcmp(cached.start, want->start) == 0 && cached.age < o->max_age;
	if (o->max_age == COST_CACHE_ONLY || (o->max_age > 0 && fresh)) {
		*out = cached;
		return true;
	}
	cost_report_free(&cached);
	return false;
}

enum status cost_month_to_date(struct aws_http *h, const struct cost_options *o,
			       struct cost_report *out, struct err *e)
{
	static const struct cost_options defaults = {COST_CACHE_ONLY, NULL, NULL, 0};
	if (!o)
		o = &defaults;
	cost_report_free(out);
	long long now = o->now > 0 ? o->now : aws_http_now(h);
	struct cost_report r = {0};
	cost_period(now, r.start, r.end, &r.previous_month);
	struct buf path = BUF_INIT, key = BUF_INIT;
	enum status st = cache_path(h, o, &path, &key, e);
	if (st == ST_OK && from_cache(buf_str(&path), buf_str(&key), o, &r, now, out))
		goto done;
	if (st == ST_OK && o->max_age == COST_CACHE_ONLY) {
		st = err_set(e, ST_NOT_FOUND, "the month's cost has not been fetched yet; each "
					      "Cost Explorer request costs %.2f USD, so it is "
					      "fetched only on demand",
			     COST_PER_REQUEST_USD);
		goto done;
	}
	if (st == ST_OK)
		st = fetch(h, &r, e);
	if (st == ST_OK) {
		cost_finish(&r);
		r.fetched_at = now;
		if (path.len)
			r.cache_saved = cost_cache_write(buf_str(&path), buf_str(&key), &r, NULL) == ST_OK;
		*out = r;
		memset(&r, 0, sizeof r);
	}
done:
	cost_report_free(&r);
	buf_free(&path);
	buf_free(&key);
	return st;
}
