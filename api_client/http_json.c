/* SPDX-License-Identifier: GPL-3.0-or-later */
/* http_json: the contract's documents (Employee, EmployeePage, Problem, the
 * health answer) read member by member, and EmployeeInput written.
 *
 * Nothing the server sends is trusted: every member's presence, type and
 * length is checked before anything is copied, a record is built aside and
 * handed over only when whole, and the first problem is named ("items[3].
 * fullname: not a string") so the user can tell a broken server from a
 * broken network. One leniency, on purpose: text fields may be empty (the
 * deployed table allows ''), so such a row can still be shown and fixed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/text.h"
#include "http_internal.h"

cJSON *http_json_parse(const struct buf *body, char *why, size_t whysz)
{
	if (body->len == 0) {
		snprintf(why, whysz, "the body is empty");
		return NULL;
	}
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(body->data, body->len, &end, 0);
	if (!doc) {
		size_t at = end && end >= body->data ? (size_t)(end - body->data) : 0;
		if (at >= body->len)
			snprintf(why, whysz, "the JSON ends too early (truncated?)");
		else
			snprintf(why, whysz, "not valid JSON (at byte %zu of %zu)", at, body->len);
		return NULL;
	}
	for (size_t i = end ? (size_t)(end - body->data) : body->len; i < body->len; i++) {
		char c = body->data[i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			snprintf(why, whysz, "text after the JSON document (at byte %zu)", i);
			cJSON_Delete(doc);
			return NULL;
		}
	}
	return doc;
}

static void where_key(char *out, size_t n, const char *where, const char *key)
{
	snprintf(out, n, "%s%s%s", where && *where ? where : "", where && *where ? "." : "", key);
}

/* A string member of at most max_chars code points (and max_bytes bytes
 * when that is not 0). min_chars 0 allows "". */
static bool text_member(const cJSON *obj, const char *where, const char *key, size_t min_chars,
			size_t max_chars, size_t max_bytes, const char **out, char *why, size_t whysz)
{
	char name[96];
	where_key(name, sizeof name, where, key);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v) {
		snprintf(why, whysz, "%s: missing", name);
		return false;
	}
	if (!cJSON_IsString(v) || !v->valuestring) {
		snprintf(why, whysz, "%s: not a string", name);
		return false;
	}
	size_t chars = utf8_count(v->valuestring);
	if (chars == (size_t)-1) {
		snprintf(why, whysz, "%s: not valid UTF-8", name);
		return false;
	}
	if (chars < min_chars) {
		snprintf(why, whysz, "%s: empty", name);
		return false;
	}
	if (chars > max_chars || (max_bytes && strlen(v->valuestring) > max_bytes)) {
		snprintf(why, whysz, "%s: too long (%zu characters; at most %zu%s)", name, chars, max_chars,
			 max_bytes ? " bytes" : "");
		return false;
	}
	*out = v->valuestring;
	return true;
}

bool http_version_ok(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > EMP_VERSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x21 || c == '"' || c > 0x7e)
			return false;
	}
	return true;
}

static bool badges_member(const cJSON *obj, const char *where, struct strvec *out, char *why,
			  size_t whysz)
{
	char name[96];
	where_key(name, sizeof name, where, "badges");
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "badges");
	if (!arr) {
		snprintf(why, whysz, "%s: missing", name);
		return false;
	}
	if (!cJSON_IsArray(arr)) {
		snprintf(why, whysz, "%s: not an array", name);
		return false;
	}
	int n = cJSON_GetArraySize(arr);
	if (n > EMP_BADGES_MAX) {
		snprintf(why, whysz, "%s: %d badges; the contract allows %d", name, n, EMP_BADGES_MAX);
		return false;
	}
	int i = 0;
	const cJSON *b;
	cJSON_ArrayForEach(b, arr) {
		char item[112];
		snprintf(item, sizeof item, "%s[%d]", name, i++);
		if (!cJSON_IsString(b) || !b->valuestring) {
			snprintf(why, whysz, "%s: not a string", item);
			return false;
		}
		size_t chars = utf8_count(b->valuestring);
		if (chars == (size_t)-1 || chars == 0 || chars > EMP_BADGE_MAX_CHARS) {
			snprintf(why, whysz, "%s: %s", item,
				 chars == (size_t)-1 ? "not valid UTF-8" : "not 1 to 50 characters");
			return false;
		}
		strvec_push(out, b->valuestring);
	}
	return true;
}

bool http_json_employee(const cJSON *obj, const char *where, struct employee *out, char *why,
			size_t whysz)
{
	if (!cJSON_IsObject(obj)) {
		snprintf(why, whysz, "%s: not an object", where && *where ? where : "the employee");
		return false;
	}
	const char *id, *version, *text[3];
	static const char *const keys[3] = {"fullname", "location", "job_title"};
	static const enum employee_field fields[3] = {EF_FULLNAME, EF_LOCATION, EF_JOB_TITLE};
	if (!text_member(obj, where, "id", 1, EMP_ID_MAX, EMP_ID_MAX, &id, why, whysz) ||
	    !text_member(obj, where, "version", 1, EMP_VERSION_MAX, EMP_VERSION_MAX, &version, why, whysz))
		return false;
	if (!http_version_ok(version)) {
		char name[96];
		where_key(name, sizeof name, where, "version");
		snprintf(why, whysz, "%s: not usable as an entity tag", name);
		return false;
	}
	for (int i = 0; i < 3; i++)
		if (!text_member(obj, where, keys[i], 0, EMP_TEXT_MAX_CHARS, 0, &text[i], why, whysz))
			return false;
	struct employee tmp;
	employee_init(&tmp);
	if (!badges_member(obj, where, &tmp.badges, why, whysz)) {
		employee_free(&tmp);
		return false;
	}
	snprintf(tmp.id, sizeof tmp.id, "%s", id);
	snprintf(tmp.version, sizeof tmp.version, "%s", version);
	for (int i = 0; i < 3; i++)
		employee_set(&tmp, fields[i], text[i]);
	employee_free(out);
	*out = tmp;
	return true;
}

static bool integer_value(const cJSON *v, double min, double max, long *out)
{
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble) ||
	    v->valuedouble < min || v->valuedouble > max)
		return false;
	*out = (long)v->valuedouble;
	return true;
}

static bool cursor_member(const cJSON *doc, char **out, char *why, size_t whysz)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "next_cursor");
	if (!c) {
		snprintf(why, whysz, "next_cursor: missing");
		return false;
	}
	if (cJSON_IsNull(c)) {
		*out = NULL;
		return true;
	}
	if (!cJSON_IsString(c) || !c->valuestring) {
		snprintf(why, whysz, "next_cursor: neither a string nor null");
		return false;
	}
	size_t n = strlen(c->valuestring);
	if (n == 0 || n > HTTP_CURSOR_MAX || utf8_count(c->valuestring) == (size_t)-1) {
		snprintf(why, whysz, "next_cursor: empty, too long or not UTF-8");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)c->valuestring[i] < 0x20 || c->valuestring[i] == 0x7f) {
			snprintf(why, whysz, "next_cursor: holds control characters");
			return false;
		}
	*out = xstrdup(c->valuestring);
	return true;
}

static bool total_member(const cJSON *doc, long *total, char *why, size_t whysz)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(doc, "total");
	*total = -1;
	if (!t || cJSON_IsNull(t))
		return true;
	if (!integer_value(t, 0, 1e15, total)) {
		snprintf(why, whysz, "total: not a non-negative integer or null");
		return false;
	}
	return true;
}

bool http_json_page(const cJSON *doc, int limit, struct page *out, long *total, char *why,
		    size_t whysz)
{
	if (!cJSON_IsObject(doc)) {
		snprintf(why, whysz, "the page is not a JSON object");
		return false;
	}
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
	if (!items || !cJSON_IsArray(items)) {
		snprintf(why, whysz, "items: %s", items ? "not an array" : "missing");
		return false;
	}
	int n = cJSON_GetArraySize(items);
	if (n > limit) {
		snprintf(why, whysz, "items: %d rows where at most %d were asked for", n, limit);
		return false;
	}
	struct page tmp = {0};
	if (!cursor_member(doc, &tmp.next_cursor, why, whysz) || !total_member(doc, total, why, whysz)) {
		page_free(&tmp);
		return false;
	}
	tmp.rows = xcalloc(n ? (size_t)n : 1, sizeof *tmp.rows);
	const cJSON *it;
	cJSON_ArrayForEach(it, items) {
		char where[32];
		snprintf(where, sizeof where, "items[%zu]", tmp.n);
		employee_init(&tmp.rows[tmp.n]);
		tmp.n++;
		if (!http_json_employee(it, where, &tmp.rows[tmp.n - 1], why, whysz)) {
			page_free(&tmp);
			return false;
		}
	}
	*out = tmp;
	return true;
}

void http_problem_init(struct http_problem *p)
{
	memset(p, 0, sizeof *p);
	employee_init(&p->current);
}

void http_problem_free(struct http_problem *p)
{
	free(p->title);
	free(p->detail);
	free(p->errors);
	employee_free(&p->current);
	memset(p, 0, sizeof *p);
}

/* Sanitised and cut to fit one status line. */
static char *safe_line(const char *s, int cols)
{
	struct buf b = BUF_INIT;
	text_sanitize(&b, s, strlen(s), cols);
	return buf_steal(&b);
}

static char *problem_errors(const cJSON *errs)
{
	struct buf raw = BUF_INIT;
	const cJSON *m;
	cJSON_ArrayForEach(m, errs) {
		if (!m->string || !cJSON_IsString(m) || !m->valuestring)
			continue;
		buf_printf(&raw, "%s%s %s", raw.len ? "; " : "", m->string, m->valuestring);
		if (raw.len > 400)
			break;
	}
	char *out = raw.len ? safe_line(raw.data, 200) : NULL;
	buf_free(&raw);
	return out;
}

bool http_json_problem(const cJSON *doc, struct http_problem *p, char *why, size_t whysz)
{
	if (!cJSON_IsObject(doc)) {
		snprintf(why, whysz, "the error document is not a JSON object");
		return false;
	}
	const cJSON *title = cJSON_GetObjectItemCaseSensitive(doc, "title");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(doc, "message"); /* API Gateway */
	const cJSON *t = cJSON_IsString(title) ? title : cJSON_IsString(message) ? message : NULL;
	if (!t || !t->valuestring) {
		snprintf(why, whysz, "the error document has no title");
		return false;
	}
	p->title = safe_line(t->valuestring, 120);
	const cJSON *detail = cJSON_GetObjectItemCaseSensitive(doc, "detail");
	if (cJSON_IsString(detail) && detail->valuestring && *detail->valuestring)
		p->detail = safe_line(detail->valuestring, 200);
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(doc, "errors");
	if (cJSON_IsObject(errs))
		p->errors = problem_errors(errs);
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(doc, "current");
	if (cur && !cJSON_IsNull(cur)) {
		if (!http_json_employee(cur, "current", &p->current, why, whysz))
			return false;
		p->has_current = true;
	}
	return true;
}

bool http_json_health(const cJSON *doc, struct http_health *h, char *why, size_t whysz)
{
	memset(h, 0, sizeof *h);
	h->database_ok = true;
	if (!cJSON_IsObject(doc)) {
		snprintf(why, whysz, "not a JSON object");
		return false;
	}
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");
	if (!cJSON_IsString(st) || !st->valuestring || strcmp(st->valuestring, "ok") != 0) {
		snprintf(why, whysz, "status: %s", st ? "not \"ok\"" : "missing");
		return false;
	}
	const cJSON *db = cJSON_GetObjectItemCaseSensitive(doc, "database");
	if (db) {
		if (!cJSON_IsString(db) || !db->valuestring ||
		    (strcmp(db->valuestring, "ok") != 0 && strcmp(db->valuestring, "unavailable") != 0)) {
			snprintf(why, whysz, "database: not \"ok\" or \"unavailable\"");
			return false;
		}
		h->database_ok = strcmp(db->valuestring, "ok") == 0;
	}
	const cJSON *features = cJSON_GetObjectItemCaseSensitive(doc, "features");
	if (features) {
		if (!cJSON_IsArray(features)) {
			snprintf(why, whysz, "features: not an array");
			return false;
		}
		const cJSON *f;
		cJSON_ArrayForEach(f, features) {
			if (!cJSON_IsString(f) || !f->valuestring) {
				snprintf(why, whysz, "features: not an array of strings");
				return false;
			}
			if (strcmp(f->valuestring, "batch") == 0)
				h->batch = true;
		}
	}
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "version");
	if (cJSON_IsString(v) && v->valuestring) {
		char *safe = safe_line(v->valuestring, 20);
		snprintf(h->version, sizeof h->version, "%s", safe);
		free(safe);
	}
	return true;
}

static void add_string(cJSON *obj, const char *key, const char *value)
{
	if (!cJSON_AddStringToObject(obj, key, value))
		abort(); /* out of memory, as xmalloc does */
}

char *http_json_employee_input(const struct employee *in, bool with_id)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *badges = cJSON_CreateArray();
	if (!obj || !badges)
		abort();
	if (with_id && in->id[0])
		add_string(obj, "id", in->id);
	add_string(obj, "fullname", in->fullname);
	add_string(obj, "location", in->location);
	add_string(obj, "job_title", in->job_title);
	for (size_t i = 0; i < in->badges.n; i++) {
		cJSON *s = cJSON_CreateString(in->badges.v[i]);
		if (!s)
			abort();
		cJSON_AddItemToArray(badges, s);
	}
	cJSON_AddItemToObject(obj, "badges", badges);
	char *text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (!text)
		abort();
	char *copy = xstrdup(text);
	cJSON_free(text);
	return copy;
}
