/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The http backend: the directory through its deployed HTTP API
 * (contrib/reference-api/openapi.yaml), with the offline backend's semantics.
 *
 * Opening checks GET /api/v1/health, so a wrong URL, a web site instead of
 * the API, missing credentials or a TLS problem is one clear message before
 * the screen starts. Lists page with the server's opaque cursor, which is
 * handed to the screens unchanged. Writes send If-Match with the version as
 * a strong ETag; a 412 becomes ST_CONFLICT with the record as it is now, a
 * 404 ST_NOT_FOUND. A create always carries a client-chosen id and an
 * Idempotency-Key, reused by every retry, so it can never create twice.
 *
 * Retried writes may meet their own earlier attempt: a retried PUT whose 412
 * carries exactly what we sent, or a retried DELETE that finds nothing, was
 * applied by the attempt whose answer was lost, and counts as done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/config.h"
#include "../core/text.h"
#include "http_internal.h"

#define DEFAULT_CONNECT_TIMEOUT_S 10
#define DEFAULT_REQUEST_TIMEOUT_S 15
#define FIRST_REQUEST_TIMEOUT_MS 30000 /* API Gateway's own limit: a cold Lambda gets all of it */
#define TOTAL_FRESH_MS 3000

struct http_backend {
	struct backend base; /* first: the interface's view of us */
	struct http_conn *conn;
	const char *hint;
	struct http_health health;
	/* The last total the server sent, for count() right after a page. */
	bool total_known;
	char *total_filter;  /* NULL: no filter */
	long total;
	long long total_at;
};

static struct http_backend *hb(struct backend *b) { return (struct http_backend *)b; }

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}


/* ---- answers ---- */

/* The body as JSON into *doc, or e filled: HTML, another type, or not
 * parseable. */
static enum status json_body(struct http_backend *h, const struct http_request *rq,
			     const struct http_response *rs, cJSON **doc, struct err *e)
{
	char why[200];
	*doc = NULL;
	if (!http_response_is_json(rs)) {
		if (http_response_is_html(rs))
			return http_explain(h->conn, rq, rs, e);
		char *ct = text_safe_dup(rs->content_type);
		snprintf(why, sizeof why, "%s instead of JSON", ct);
		free(ct);
		return http_malformed(rq, why, e);
	}
	*doc = http_json_parse(&rs->body, why, sizeof why);
	return *doc ? ST_OK : http_malformed(rq, why, e);
}

/* One Employee answer into out, checked to be the record asked for. */
static enum status employee_answer(struct http_backend *h, const struct http_request *rq,
				   const struct http_response *rs, const char *id,
				   struct employee *out, struct err *e)
{
	cJSON *doc;
	enum status st = json_body(h, rq, rs, &doc, e);
	if (st != ST_OK)
		return st;
	char why[200];
	if (!http_json_employee(doc, "", out, why, sizeof why))
		st = http_malformed(rq, why, e);
	else if (id && strcmp(out->id, id) != 0)
		st = http_malformed(rq, "it holds another employee's id", e);
	cJSON_Delete(doc);
	return st;
}

/* A problem document's current record into cur; false when it has none. */
static bool problem_current(struct http_backend *h, const struct http_request *rq,
			    const struct http_response *rs, struct employee *cur, struct err *e)
{
	cJSON *doc;
	if (json_body(h, rq, rs, &doc, e) != ST_OK)
		return false;
	struct http_problem p;
	http_problem_init(&p);
	char why[200];
	bool ok = http_json_problem(doc, &p, why, sizeof why);
	if (!ok)
		http_malformed(rq, why, e);
	else if (p.has_current) {
		employee_free(cur);
		employee_copy(cur, &p.current);
	}
	ok = ok && p.has_current;
	http_problem_free(&p);
	cJSON_Delete(doc);
	return ok;
}

static void employee_path(struct http_backend *h, struct buf *out, const char *id)
{
	buf_puts(out, HTTP_API_PREFIX "/employees/");
	http_append_escaped(h->conn, out, id);
}

static enum status api_send(struct http_backend *h, const struct http_request *rq,
			struct http_response *rs, struct err *e)
{
	return http_send(h->conn, &h->base, rq, rs, e);
}

/* ---- opening ---- */

static enum status health_check(struct http_backend *h, struct err *e)
{
	struct http_request rq = {"GET", HTTP_API_PREFIX "/health", NULL, NULL, NULL, true, "connecting"};
	struct http_response rs = HTTP_RESPONSE_INIT;
	enum status st = api_send(h, &rq, &rs, e);
	if (st == ST_OK && rs.status == 404 && !http_response_is_html(&rs))
		st = err_set(e, ST_UNSUPPORTED, "connecting: %s does not serve the Employee Directory API v1 "
						"(GET %s/health answered 404); check the base URL (the "
						"deployment's root); this empdir-tui speaks API v1 only",
			     http_conn_display(h->conn), HTTP_API_PREFIX);
	else if (st == ST_OK && rs.status != 200)
		st = http_explain(h->conn, &rq, &rs, e);
	cJSON *doc = NULL;
	char why[200];
	if (st == ST_OK)
		st = json_body(h, &rq, &rs, &doc, e);
	if (doc && !http_json_health(doc, &h->health, why, sizeof why))
		st = err_set(e, ST_UNSUPPORTED, "connecting: %s answered %s/health with JSON that is not this "
						"API's (%s); is it an Employee Directory API v1?",
			     http_conn_display(h->conn), HTTP_API_PREFIX, why);
	else if (doc && h->health.version[0] && h->health.version[0] != '1')
		st = err_set(e, ST_UNSUPPORTED, "connecting: %s speaks API version %s; this empdir-tui knows "
						"version 1 only: use an empdir-tui made for that version",
			     http_conn_display(h->conn), h->health.version);
	cJSON_Delete(doc);
	http_response_free(&rs);
	return st;
}

static void http_close(struct backend *b)
{
	struct http_backend *h = hb(b);
	if (!h)
		return;
	http_conn_free(h->conn);
	free(h->total_filter);
	free(h);
}

static enum status http_open(const struct conn_config *cfg, struct backend **out, struct err *e)
{
	*out = NULL;
	const char *url = cfg->target && *cfg->target ? cfg->target : conn_get(cfg, "url");
	if (!url || !*url)
		return err_set(e, ST_INVALID, "connection %s: no API URL; give --api URL or set url = https://...",
			       cfg->name ? cfg->name : "");
	struct http_auth *auth;
	enum status st = http_auth_load(cfg, &auth, e);
	if (st != ST_OK)
		return st;
	const char *ca_file = conn_get(cfg, "ca_file");
	char *ca = ca_file && *ca_file ? config_expand_home(ca_file) : NULL;
	struct http_settings s = {
		.url = url,
		.ca_file = ca,
		.connect_timeout_ms = conn_get_int(cfg, "connect_timeout", DEFAULT_CONNECT_TIMEOUT_S) * 1000,
		.request_timeout_ms = conn_get_int(cfg, "request_timeout", DEFAULT_REQUEST_TIMEOUT_S) * 1000,
		.first_timeout_ms = FIRST_REQUEST_TIMEOUT_MS,
		.progress = cfg->progress,
	};
	struct http_backend *h = xcalloc(1, sizeof *h);
	h->base.ops = &http_backend_ops;
	h->base.waiter.input_fd = -1;
	h->base.read_only = cfg->read_only;
	h->total = -1;
	st = http_conn_open(&s, auth, &h->conn, e);
	free(ca);
	if (st == ST_OK)
		st = health_check(h, e);
	if (st != ST_OK) {
		http_close(&h->base);
		return st;
	}
	http_conn_set_progress(h->conn, NULL);
	if (!h->health.database_ok)
		h->hint = "the API says its database is unavailable right now; requests may fail until it is back";
	else if (http_conn_is_plain_remote(h->conn))
		h->hint = "plain http://: traffic to the API is not encrypted";
	*out = &h->base;
	return ST_OK;
}

/* ---- reading ---- */

static void remember_total(struct http_backend *h, const char *filter, long total)
{
	free(h->total_filter);
	h->total_filter = filter ? xstrdup(filter) : NULL;
	h->total = total;
	h->total_at = now_ms();
	h->total_known = true;
}

static enum status list_request(struct http_backend *h, const char *filter, enum sort_key sort,
				bool desc, int limit, const char *after, struct page *out, long *total,
				struct err *e)
{
	if (filter && utf8_count(filter) > HTTP_Q_MAX)
		return err_set(e, ST_INVALID, "a search is at most %d characters", HTTP_Q_MAX);
	struct buf path = BUF_INIT;
	buf_printf(&path, HTTP_API_PREFIX "/employees?sort=%s&order=%s&limit=%d", sort_key_name(sort),
		   desc ? "desc" : "asc", limit);
	if (filter) {
		buf_puts(&path, "&q=");
		http_append_escaped(h->conn, &path, filter);
	}
	if (after) {
		buf_puts(&path, "&cursor=");
		http_append_escaped(h->conn, &path, after);
	}
	struct http_request rq = {"GET", path.data, NULL, NULL, NULL, true,
				  filter ? "searching" : "reading the list"};
	struct http_response rs = HTTP_RESPONSE_INIT;
	enum status st = api_send(h, &rq, &rs, e);
	if (st == ST_OK && rs.status != 200)
		st = http_explain(h->conn, &rq, &rs, e);
	cJSON *doc = NULL;
	char why[200];
	if (st == ST_OK)
		st = json_body(h, &rq, &rs, &doc, e);
	if (doc && !http_json_page(doc, limit, out, total, why, sizeof why))
		st = http_malformed(&rq, why, e);
	if (st == ST_OK && *total >= 0)
		remember_total(h, filter, *total);
	cJSON_Delete(doc);
	http_response_free(&rs);
	buf_free(&path);
	return st;
}

static enum status http_list_page(struct backend *b, const struct page_query *q, struct page *out,
				  struct err *e)
{
	long total;
	memset(out, 0, sizeof *out);
	return list_request(hb(b), backend_filter_blank(q->filter) ? NULL : q->filter, q->sort, q->desc,
			    q->limit, q->after, out, &total, e);
}

static enum status http_count(struct backend *b, const char *filter, long *n, struct err *e)
{
	struct http_backend *h = hb(b);
	const char *f = backend_filter_blank(filter) ? NULL : filter;
	*n = -1;
	if (h->total_known && now_ms() - h->total_at < TOTAL_FRESH_MS &&
	    (f ? h->total_filter && strcmp(f, h->total_filter) == 0 : !h->total_filter)) {
		*n = h->total;
		return ST_OK;
	}
	struct page p = {0};
	enum status st = list_request(h, f, SORT_FULLNAME, false, 1, NULL, &p, n, e);
	page_free(&p);
	return st;
}

static enum status http_get(struct backend *b, const char *id, struct employee *out, struct err *e)
{
	struct http_backend *h = hb(b);
	struct buf path = BUF_INIT;
	employee_path(h, &path, id);
	struct http_request rq = {"GET", path.data, NULL, NULL, NULL, true, "reading"};
	struct http_response rs = HTTP_RESPONSE_INIT;
	enum status st = api_send(h, &rq, &rs, e);
	if (st == ST_OK && rs.status == 200)
		st = employee_answer(h, &rq, &rs, id, out, e);
	else if (st == ST_OK && rs.status == 404 && !http_response_is_html(&rs)) {
		char *safe = text_safe_dup(id);
		st = err_set(e, ST_NOT_FOUND, "employee %s no longer exists (deleted elsewhere?)", safe);
		free(safe);
	} else if (st == ST_OK)
		st = http_explain(h->conn, &rq, &rs, e);
	http_response_free(&rs);
	buf_free(&path);
	return st;
}

/* ---- writing ---- */

static enum status http_create(struct backend *b, const struct employee *in, struct employee *out,
			       struct err *e)
{
	struct http_backend *h = hb(b);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	struct employee rec;
	employee_init(&rec);
	employee_copy(&rec, in);
	if (!rec.id[0])
		uuid_v4(rec.id); /* client-chosen: a retry finds its own record */
	char key[37];
	uuid_v4(key);
	char *body = http_json_employee_input(&rec, true);
	struct http_request rq = {"POST", HTTP_API_PREFIX "/employees", body, NULL, key, true, "saving"};
	struct http_response rs = HTTP_RESPONSE_INIT;
	h->total_known = false;
	enum status st = api_send(h, &rq, &rs, e);
	if (st == ST_OK && (rs.status == 201 || rs.status == 200)) {
		st = employee_answer(h, &rq, &rs, rec.id, out, e);
	} else if (st == ST_OK && rs.status == 409) {
		problem_current(h, &rq, &rs, out, e);
		char *safe = text_safe_dup(rec.id);
		st = err_set(e, ST_EXISTS, "not saved: an employee with id %s already exists with other content", safe);
		free(safe);
	} else if (st == ST_OK) {
		st = http_explain(h->conn, &rq, &rs, e);
	}
	http_response_free(&rs);
	free(body);
	employee_free(&rec);
	return st;
}

/* After a 412: the record as it is now, from the answer or else fetched. */
static enum status explain_conflict(struct http_backend *h, const struct http_request *rq,
				    const struct http_response *rs, const char *id,
				    struct employee *current, const char *verb, struct err *e)
{
	if (!problem_current(h, rq, rs, current, e)) {
		struct err ge = {0};
		enum status st = http_get(&h->base, id, current, &ge);
		if (st == ST_NOT_FOUND)
			return err_set(e, ST_NOT_FOUND, "not %s: this employee was deleted since you opened it", verb);
		if (st != ST_OK) {
			*e = ge;
			return st;
		}
	}
	return err_set(e, ST_CONFLICT, "not %s: this employee was changed since you opened it", verb);
}

static enum status bad_version(struct err *e)
{
	return err_set(e, ST_INVALID, "the record's version is not one the API can check; reload it and try again");
}

static enum status http_replace(struct backend *b, const struct employee *in,
				struct employee *current, struct err *e)
{
	struct http_backend *h = hb(b);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	if (in->version[0] && !http_version_ok(in->version))
		return bad_version(e);
	struct buf path = BUF_INIT;
	employee_path(h, &path, in->id);
	char *body = http_json_employee_input(in, false);
	struct http_request rq = {"PUT", path.data, body, in->version, NULL, true, "saving"};
	struct http_response rs = HTTP_RESPONSE_INIT;
	h->total_known = false;
	enum status st = api_send(h, &rq, &rs, e);
	if (st == ST_OK && rs.status == 200) {
		st = employee_answer(h, &rq, &rs, in->id, current, e);
	} else if (st == ST_OK && rs.status == 404 && !http_response_is_html(&rs)) {
		st = err_set(e, ST_NOT_FOUND, "not saved: this employee was deleted since you opened it");
	} else if (st == ST_OK && rs.status == 412) {
		st = explain_conflict(h, &rq, &rs, in->id, current, "saved", e);
		if (st == ST_CONFLICT && rs.maybe_applied && employee_same_content(current, in)) {
			err_clear(e); /* our own earlier attempt, whose answer was lost */
			st = ST_OK;
		}
	} else if (st == ST_OK) {
		st = http_explain(h->conn, &rq, &rs, e);
	}
	http_response_free(&rs);
	free(body);
	buf_free(&path);
	return st;
}

static enum status http_remove(struct backend *b, const char *id, const char *version,
			       struct employee *current, struct err *e)
{
	struct http_backend *h = hb(b);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	if (version[0] && !http_version_ok(version))
		return bad_version(e);
	struct buf path = BUF_INIT;
	employee_path(h, &path, id);
	struct http_request rq = {"DELETE", path.data, NULL, version, NULL, true, "deleting"};
	struct http_response rs = HTTP_RESPONSE_INIT;
	h->total_known = false;
	enum status st = api_send(h, &rq, &rs, e);
	if (st == ST_OK && (rs.status == 204 || rs.status == 200)) {
		st = ST_OK;
	} else if (st == ST_OK && rs.status == 404 && !http_response_is_html(&rs)) {
		/* After a lost answer, our own delete; else someone else's. */
		if (!rs.maybe_applied)
			st = err_set(e, ST_NOT_FOUND, "not deleted: this employee was already deleted elsewhere");
	} else if (st == ST_OK && rs.status == 412) {
		st = explain_conflict(h, &rq, &rs, id, current, "deleted", e);
	} else if (st == ST_OK) {
		st = http_explain(h->conn, &rq, &rs, e);
	}
	http_response_free(&rs);
	buf_free(&path);
	return st;
}

/* ---- the rest of the interface ---- */

static unsigned http_caps(struct backend *b)
{
	unsigned caps = CAP_VERSIONS | CAP_COUNT | CAP_REMOTE;
	if (!b->read_only)
		caps |= CAP_WRITE;
	return caps;
}

static void http_describe(struct backend *b, char *out, size_t outsz)
{
	snprintf(out, outsz, "http %s%s", http_conn_display(hb(b)->conn), b->read_only ? " (read-only)" : "");
}

/* ---- batch (optional in the contract: offered when /health lists it) ---- */

static cJSON *batch_request(const struct batch_op *ops, size_t n)
{
	cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "operations");
	static const char *const kinds[] = {"create", "replace", "delete"};
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "op", kinds[ops[i].kind]);
		cJSON_AddStringToObject(o, "id", ops[i].kind == BATCH_DELETE ? ops[i].id : ops[i].rec->id);
		const char *version = ops[i].kind == BATCH_DELETE ? ops[i].version
				      : ops[i].kind == BATCH_REPLACE ? ops[i].rec->version : NULL;
		if (version) {
			struct buf tag = BUF_INIT;
			buf_printf(&tag, "\"%s\"", version);
			cJSON_AddStringToObject(o, "if_match", tag.data);
			buf_free(&tag);
		}
		if (ops[i].kind != BATCH_DELETE) {
			char *input = http_json_employee_input(ops[i].rec, false);
			cJSON_AddItemToObject(o, "employee", cJSON_Parse(input));
			free(input);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return doc;
}

/* One result: its status, and the record it carries (stored or current).
 * Push records what a result says as settled, so one that is not the
 * operation's own answer is malformed: a write reported done without its
 * stored record, or a record with another id. */
static bool batch_result(const cJSON *item, size_t i, const struct batch_op *op, struct batch_result *r,
			 char *why, size_t whysz)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(item, "status");
	if (!cJSON_IsNumber(status)) {
		snprintf(why, whysz, "results[%zu].status: not a number", i);
		return false;
	}
	int code = status->valueint;
	const char *id = op->kind == BATCH_DELETE ? op->id : op->rec->id;
	bool stored = op->kind != BATCH_DELETE && (code == 200 || code == 201);
	if (op->kind != BATCH_DELETE && code == 204) {
		snprintf(why, whysz, "results[%zu]: 204 for a write that stores a record", i);
		return false;
	}
	char where[48];
	snprintf(where, sizeof where, "results[%zu].employee", i);
	const cJSON *emp = cJSON_GetObjectItemCaseSensitive(item, "employee");
	const cJSON *prob = cJSON_GetObjectItemCaseSensitive(item, "problem");
	employee_init(&r->rec);
	r->has_rec = true;
	if (stored && !emp) {
		snprintf(why, whysz, "%s: missing", where);
		return false;
	}
	if (stored && !http_json_employee(emp, where, &r->rec, why, whysz))
		return false;
	if (code == 412 && cJSON_IsObject(prob)) {
		struct http_problem p;
		http_problem_init(&p);
		snprintf(where, sizeof where, "results[%zu].problem.current", i);
		if (http_json_problem(prob, &p, why, whysz) && p.has_current)
			employee_copy(&r->rec, &p.current);
		else
			r->has_rec = false;
		http_problem_free(&p);
	} else if (!stored) {
		r->has_rec = false;
	}
	if (r->has_rec && strcmp(r->rec.id, id) != 0) {
		snprintf(why, whysz, "%s: another employee's id", where);
		return false;
	}
	if (!r->has_rec)
		employee_free(&r->rec);
	r->st = code == 200 || code == 201 || code == 204 ? ST_OK : code == 412 ? ST_CONFLICT
		: code == 404 ? ST_NOT_FOUND : code == 409 ? ST_EXISTS : ST_INVALID;
	return true;
}

static enum status http_apply_batch(struct backend *b, const struct batch_op *ops, size_t n,
				    struct batch_result *res, struct err *e)
{
	struct http_backend *h = hb(b);
	memset(res, 0, sizeof *res * n);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	if (!h->health.batch)
		return err_set(e, ST_UNSUPPORTED, "this API does not offer batch writes");
	if (n > BACKEND_BATCH_MAX)
		return err_set(e, ST_INVALID, "at most %d operations per batch", BACKEND_BATCH_MAX);
	cJSON *req = batch_request(ops, n);
	char *body = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	/* Replaying it cannot apply anything twice: creates carry their ids,
	 * the others their versions. */
	struct http_request rq = {"POST", HTTP_API_PREFIX "/employees/batch", body, NULL, NULL, true, "saving"};
	struct http_response rs = HTTP_RESPONSE_INIT;
	h->total_known = false;
	enum status st = api_send(h, &rq, &rs, e);
	cJSON *doc = NULL;
	if (st == ST_OK && rs.status != 200)
		st = http_explain(h->conn, &rq, &rs, e);
	if (st == ST_OK)
		st = json_body(h, &rq, &rs, &doc, e);
	if (st == ST_OK) {
		const cJSON *results = cJSON_GetObjectItemCaseSensitive(doc, "results");
		char why[200] = "";
		size_t i = 0;
		if (!cJSON_IsArray(results) || (size_t)cJSON_GetArraySize(results) != n)
			snprintf(why, sizeof why, "results: not an array of %zu", n);
		for (const cJSON *it = results ? results->child : NULL; !why[0] && it && i < n; it = it->next, i++)
			batch_result(it, i, &ops[i], &res[i], why, sizeof why);
		if (why[0]) {
			batch_results_free(res, n);
			memset(res, 0, sizeof *res * n);
			st = http_malformed(&rq, why, e);
		}
	}
	cJSON_Delete(doc);
	http_response_free(&rs);
	cJSON_free(body);
	return st;
}

static const char *http_hint(struct backend *b)
{
	return hb(b)->hint;
}

const struct backend_ops http_backend_ops = {
	.name = "http",
	.apply_batch = http_apply_batch,
	.open = http_open,
	.close = http_close,
	.list_page = http_list_page,
	.count = http_count,
	.get = http_get,
	.create = http_create,
	.replace = http_replace,
	.remove = http_remove,
	.caps = http_caps,
	.describe = http_describe,
	.hint = http_hint,
};
