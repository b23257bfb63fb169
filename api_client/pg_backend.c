/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The pg backend: the Employee Directory's table in PostgreSQL (Aurora),
 * used as deployed (employees(id varchar(36) primary key, fullname,
 * location, job_title varchar(100) not null, badges text)), nothing added.
 *
 * Order: every sort is ORDER BY lower(col COLLATE "C"), id COLLATE "C" (both
 * ASC or both DESC): ASCII letters fold to lower case, everything else
 * compares by UTF-8 bytes, exactly as the offline snapshot's NOCASE order, and
 * independent of the database's collation (glibc upgrades cannot reorder it).
 * Paging is keyset: (key, id) > (cursor key, cursor id) as a row comparison,
 * which the indexes `empdir-tui db setup` creates serve directly.
 *
 * Search: ILIKE '%text%' (with % _ \ escaped) over the four columns, which
 * pg_trgm GIN indexes answer when they exist. Badges are stored as JSON text,
 * so when the text contains JSON punctuation (" \ [ ] ,) a row found only
 * through its badges is checked against the decoded badges (core/match.h),
 * as the offline backend does.
 *
 * Versions are computed from content (PG_VERSION_SQL, the same MD5 as
 * employee_content_version), so replace and delete are conditional
 * statements; no row changed means a conflict carrying the current record.
 * A write whose connection died after it was sent is checked against the
 * database, and retried only when it provably did not happen.
 *
 * apply_batch (a snapshot push) sends up to BACKEND_BATCH_MAX writes as one
 * statement (pg_apply_batch): one round trip and one commit for the lot.
 *
 * stream_all (a snapshot pull) sends the whole table through the COPY
 * protocol (pg_copy.h), unsorted, each row as stored (its version is its
 * content's): no paging, one statement, one snapshot of the
 * table as of its start. */
#include "pg_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../core/buf.h"
#include "../core/config.h"
#include "../core/match.h"
#include "backend.h"
#include "pg_copy.h"
#include "pg_session.h"

#define ROW_COLS "id, fullname, location, job_title, badges"
#define VERIFY_ROUNDS 5

struct pg {
	struct backend base; /* first: the interface's view of us */
	struct pg_session s;
	bool has_trgm;
	bool has_sort;       /* the indexes for keyset paging (db setup makes them) */
	char hint[200];
};

static struct pg *pgb(struct backend *b) { return (struct pg *)b; }

PGconn *pg_backend_pgconn(struct backend *b)
{
	return b && b->ops == &pg_backend_ops ? pgb(b)->s.conn : NULL;
}

/* ---- rows ---- */

static void row_to_employee(const PGresult *r, int i, struct employee *out)
{
	employee_free(out);
	employee_init(out);
	const char *id = PQgetvalue(r, i, 0);
	snprintf(out->id, sizeof out->id, "%s", id);
	employee_set(out, EF_FULLNAME, PQgetvalue(r, i, 1));
	employee_set(out, EF_LOCATION, PQgetvalue(r, i, 2));
	employee_set(out, EF_JOB_TITLE, PQgetvalue(r, i, 3));
	const char *badges = PQgetisnull(r, i, 4) ? NULL : PQgetvalue(r, i, 4);
	badges_decode(badges, &out->badges, NULL);
	employee_content_version(id, out->fullname, out->location, out->job_title, badges,
				 out->version);
}

/* The current row for id: ST_OK and *found. */
static enum status fetch(struct pg *p, const char *id, struct employee *out, bool *found,
			 struct err *e)
{
	PGresult *r;
	const char *params[] = {id};
	*found = false;
	enum status st = pg_session_read(&p->s, "SELECT " ROW_COLS " FROM employees WHERE id = $1",
					 1, params, &r, e);
	if (st != ST_OK)
		return st;
	if (PQntuples(r) > 0) {
		row_to_employee(r, 0, out);
		*found = true;
	}
	PQclear(r);
	return ST_OK;
}

/* ---- opening ---- */

/* The table must be there with the five columns, all of them text. */
static enum status check_table(struct pg *p, const struct conn_config *cfg, struct err *e)
{
	PGresult *r;
	enum status st = pg_session_read(
		&p->s,
		"SELECT a.attname, t.typcategory = 'S', format_type(a.atttypid, a.atttypmod) "
		"FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
		"WHERE a.attrelid = to_regclass('employees') AND a.attnum > 0 AND NOT a.attisdropped",
		0, NULL, &r, e);
	if (st != ST_OK)
		return st;
	static const char *const need[] = {"id", "fullname", "location", "job_title", "badges"};
	st = ST_OK;
	if (PQntuples(r) == 0)
		st = err_set(e, ST_UNAVAILABLE,
			     "%s has no employees table; check dbname (and search_path), or create it "
			     "with `empdir-tui db setup %s`", p->s.where,
			     cfg->section ? cfg->name : "CONNECTION");
	for (size_t i = 0; st == ST_OK && i < sizeof need / sizeof need[0]; i++) {
		int row = -1;
		for (int j = 0; j < PQntuples(r); j++)
			if (strcmp(PQgetvalue(r, j, 0), need[i]) == 0)
				row = j;
		if (row < 0)
			st = err_set(e, ST_UNAVAILABLE,
				     "%s: the employees table has no %s column; it is not the Employee "
				     "Directory's table", p->s.where, need[i]);
		else if (strcmp(PQgetvalue(r, row, 1), "t") != 0)
			st = err_set(e, ST_UNAVAILABLE,
				     "%s: employees.%s is %s, not text; it is not the Employee Directory's "
				     "table (id varchar(36), fullname, location, job_title varchar(100), "
				     "badges text)", p->s.where, need[i], PQgetvalue(r, row, 2));
	}
	PQclear(r);
	return st;
}

/* pg_trgm GIN (or GiST) indexes over all four searched columns, valid and
 * not partial: only then does the OR of four ILIKEs avoid a scan. And the
 * sort indexes, by the names db setup gives them. */
static enum status detect_indexes(struct pg *p, struct err *e)
{
	PGresult *r;
	enum status st = pg_session_read(
		&p->s,
		"SELECT count(DISTINCT a.attname) FROM pg_index x "
		"JOIN pg_class ic ON ic.oid = x.indexrelid "
		"JOIN pg_am am ON am.oid = ic.relam "
		"JOIN pg_opclass oc ON oc.oid = x.indclass[0] "
		"JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0] "
		"WHERE x.indrelid = to_regclass('employees') AND x.indisvalid AND x.indnatts = 1 "
		"AND x.indpred IS NULL AND am.amname IN ('gin', 'gist') "
		"AND oc.opcname IN ('gin_trgm_ops', 'gist_trgm_ops') "
		"AND a.attname IN ('fullname', 'location', 'job_title', 'badges')",
		0, NULL, &r, e);
	if (st != ST_OK)
		return st;
	p->has_trgm = strcmp(PQgetvalue(r, 0, 0), "4") == 0;
	PQclear(r);
	st = pg_session_read(&p->s,
			     "SELECT count(*) FROM pg_index WHERE indisvalid AND indexrelid IN ("
			     "to_regclass('employees_fullname_sort'), to_regclass('employees_location_sort'), "
			     "to_regclass('employees_job_title_sort'))", 0, NULL, &r, e);
	if (st != ST_OK)
		return st;
	p->has_sort = strcmp(PQgetvalue(r, 0, 0), "3") == 0;
	PQclear(r);
	return ST_OK;
}

static void pg_close(struct backend *b)
{
	if (!b)
		return;
	pg_session_close(&pgb(b)->s);
	free(b);
}

static enum status pg_open(const struct conn_config *cfg, struct backend **out, struct err *e)
{
	*out = NULL;
	struct pg *p = xcalloc(1, sizeof *p);
	p->base.ops = &pg_backend_ops;
	p->base.waiter.input_fd = -1;
	p->base.read_only = cfg->read_only;
	enum status st = pg_session_open(&p->s, cfg, &p->base, e);
	if (st == ST_OK)
		st = check_table(p, cfg, e);
	if (st == ST_OK)
		st = detect_indexes(p, e);
	if (st != ST_OK) {
		pg_close(&p->base);
		return st;
	}
	if (p->s.standby && !p->base.read_only) {
		p->base.read_only = true;
		snprintf(p->hint, sizeof p->hint,
			 "connected to a read replica: opened read-only; connect to the writer endpoint to edit");
	} else if (!p->has_trgm || !p->has_sort) {
		snprintf(p->hint, sizeof p->hint, "%s; run `empdir-tui db setup %s`",
			 !p->has_trgm ? "no trigram index: search scans the table"
			 : "no sort indexes: each page sorts the table",
			 cfg->section ? cfg->name : "CONNECTION");
	}
	pg_session_opened(&p->s);
	*out = &p->base;
	return ST_OK;
}

/* ---- search ---- */


/* '%' + text with \ % _ escaped + '%', for ILIKE (backslash is LIKE's escape). */
static char *like_pattern(const char *text)
{
	struct buf b = BUF_INIT;
	buf_putc(&b, '%');
	for (const char *s = text; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *s);
	}
	buf_putc(&b, '%');
	return buf_steal(&b);
}

/* The text as it appears inside a stored JSON badge string ("a\"b"). */
static char *json_inner(const char *text)
{
	struct strvec one = STRVEC_INIT;
	struct buf enc = BUF_INIT;
	strvec_push(&one, text);
	badges_encode(&one, BADGES_JSON, &enc);
	strvec_free(&one);
	char *inner = xstrndup(enc.data + 2, enc.len - 4); /* strip [" and "] */
	buf_free(&enc);
	return inner;
}

struct search {
	bool on;
	bool exact;         /* badge hits need checking against the decoded badges */
	char *pat, *jpat;   /* jpat: NULL when the JSON form is the same text */
	struct match_needle needle;
};

static void search_init(struct search *s, const char *filter)
{
	memset(s, 0, sizeof *s);
	s->on = !backend_filter_blank(filter);
	if (!s->on)
		return;
	s->pat = like_pattern(filter);
	char *inner = json_inner(filter);
	if (strcmp(inner, filter) != 0)
		s->jpat = like_pattern(inner);
	free(inner);
	match_needle_init(&s->needle, filter);
	s->exact = s->needle.needs_decode;
}

static void search_free(struct search *s)
{
	free(s->pat);
	free(s->jpat);
	if (s->on)
		match_needle_free(&s->needle);
}

/* A statement being built: SQL text from fixed fragments, values as $n. */
struct sqlb {
	struct buf sql;
	const char *params[8];
	int n;
};

static void sqlb_param(struct sqlb *q, const char *v)
{
	q->params[q->n++] = v;
	buf_printf(&q->sql, "$%d", q->n);
}

/* The text-column hit as a column, for the exact badge check. */
static void add_text_hit(struct sqlb *q, const struct search *s)
{
	int n = q->n + 1;
	q->params[q->n++] = s->pat;
	buf_printf(&q->sql, ", (fullname ILIKE $%d OR location ILIKE $%d OR job_title ILIKE $%d)",
		   n, n, n);
}

static void add_where(struct sqlb *q, const struct search *s)
{
	int n = q->n + 1;
	q->params[q->n++] = s->pat;
	buf_printf(&q->sql, " AND (fullname ILIKE $%d OR location ILIKE $%d OR job_title ILIKE $%d"
			    " OR badges ILIKE $%d", n, n, n, n);
	if (s->jpat) {
		buf_puts(&q->sql, " OR badges ILIKE ");
		sqlb_param(q, s->jpat);
	}
	buf_putc(&q->sql, ')');
}

/* Row i of a result shaped ROW_COLS [, text_hit] matches the search. */
static bool row_matches(struct search *s, const PGresult *r, int i)
{
	if (!s->on || !s->exact || strcmp(PQgetvalue(r, i, 5), "t") == 0)
		return true;
	return !PQgetisnull(r, i, 4) && match_badges(&s->needle, PQgetvalue(r, i, 4));
}

/* ---- listing ---- */

static const char *const sort_cols[SORT_COUNT] = {"fullname", "location", "job_title"};
static const enum employee_field sort_fields[SORT_COUNT] = {EF_FULLNAME, EF_LOCATION, EF_JOB_TITLE};

/* Cursor: "<len>:<sort value><id>", opaque to callers (as offline's). */
static char *cursor_make(const char *value, const char *id)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%zu:%s%s", strlen(value), value, id);
	return buf_steal(&b);
}

static bool cursor_parse(const char *c, struct buf *value, struct buf *id)
{
	char *end;
	unsigned long n = strtoul(c, &end, 10);
	if (end == c || *end != ':' || strlen(end + 1) < n)
		return false;
	buf_reset(value);
	buf_append(value, end + 1, n);
	buf_reset(id);
	buf_puts(id, end + 1 + n);
	return true;
}

static void build_page_sql(struct sqlb *q, const struct page_query *pq, struct search *s,
			   bool after, const char *cval, const char *cid, const char *limit)
{
	const char *col = sort_cols[pq->sort], *dir = pq->desc ? "DESC" : "ASC";
	buf_puts(&q->sql, "SELECT " ROW_COLS);
	if (s->on && s->exact)
		add_text_hit(q, s);
	buf_puts(&q->sql, " FROM employees WHERE true");
	if (s->on)
		add_where(q, s);
	if (after) {
		buf_printf(&q->sql, " AND (lower(%s COLLATE \"C\"), id COLLATE \"C\") %s (lower(", col,
			   pq->desc ? "<" : ">");
		sqlb_param(q, cval);
		buf_puts(&q->sql, "::text COLLATE \"C\"), ");
		sqlb_param(q, cid);
		buf_puts(&q->sql, "::text COLLATE \"C\")");
	}
	buf_printf(&q->sql, " ORDER BY lower(%s COLLATE \"C\") %s, id COLLATE \"C\" %s LIMIT ", col,
		   dir, dir);
	sqlb_param(q, limit);
}

/* One statement's worth of rows into the page; returns how many it scanned
 * and leaves the last scanned row's key in cval/cid for the next round. */
static enum status page_round(struct pg *p, const struct page_query *pq, struct search *s,
			      bool after, struct buf *cval, struct buf *cid, struct page *out,
			      int *scanned, struct err *e)
{
	char limit[16];
	snprintf(limit, sizeof limit, "%d", pq->limit + 1);
	struct sqlb q = {BUF_INIT, {0}, 0};
	build_page_sql(&q, pq, s, after, buf_str(cval), buf_str(cid), limit);
	PGresult *r;
	enum status st = pg_session_read(&p->s, q.sql.data, q.n, q.params, &r, e);
	buf_free(&q.sql);
	if (st != ST_OK)
		return st;
	*scanned = PQntuples(r);
	for (int i = 0; i < *scanned && out->n < (size_t)pq->limit + 1; i++)
		if (row_matches(s, r, i))
			row_to_employee(r, i, &out->rows[out->n++]);
	if (*scanned > 0) {
		int last = *scanned - 1;
		buf_reset(cval);
		buf_puts(cval, PQgetvalue(r, last, 1 + (pq->sort == SORT_FULLNAME ? 0
						       : pq->sort == SORT_LOCATION ? 1 : 2)));
		buf_reset(cid);
		buf_puts(cid, PQgetvalue(r, last, 0));
	}
	PQclear(r);
	return ST_OK;
}

static enum status pg_list_page(struct backend *b, const struct page_query *q, struct page *out,
				struct err *e)
{
	struct pg *p = pgb(b);
	memset(out, 0, sizeof *out);
	struct buf cval = BUF_INIT, cid = BUF_INIT;
	if (q->after && !cursor_parse(q->after, &cval, &cid)) {
		buf_free(&cval);
		buf_free(&cid);
		return err_set(e, ST_INVALID, "bad page cursor");
	}
	struct search s;
	search_init(&s, q->filter);
	out->rows = xcalloc((size_t)q->limit + 1, sizeof *out->rows);
	bool after = q->after != NULL;
	enum status st;
	int scanned;
	/* One round unless exact badge checks rejected rows: then go on from
	 * the last row scanned until the page (plus one, to know there is more)
	 * is full or the table ends. */
	do {
		st = page_round(p, q, &s, after, &cval, &cid, out, &scanned, e);
		after = true;
	} while (st == ST_OK && out->n < (size_t)q->limit + 1 && scanned == q->limit + 1);
	if (st == ST_OK && out->n == (size_t)q->limit + 1) {
		employee_free(&out->rows[--out->n]);
		const struct employee *last = &out->rows[out->n - 1];
		out->next_cursor = cursor_make(employee_get(last, sort_fields[q->sort]), last->id);
	}
	if (st != ST_OK)
		page_free(out);
	search_free(&s);
	buf_free(&cval);
	buf_free(&cid);
	return st;
}

static enum status pg_count(struct backend *b, const char *filter, long *n, struct err *e)
{
	struct pg *p = pgb(b);
	*n = -1;
	struct search s;
	search_init(&s, filter);
	struct sqlb q = {BUF_INIT, {0}, 0};
	if (s.on && s.exact) {
		buf_puts(&q.sql, "SELECT " ROW_COLS);
		add_text_hit(&q, &s);
	} else {
		buf_puts(&q.sql, "SELECT count(*)");
	}
	buf_puts(&q.sql, " FROM employees WHERE true");
	if (s.on)
		add_where(&q, &s);
	PGresult *r;
	enum status st = pg_session_read(&p->s, q.sql.data, q.n, q.params, &r, e);
	buf_free(&q.sql);
	if (st == ST_OK) {
		if (s.on && s.exact) {
			long hits = 0;
			for (int i = 0; i < PQntuples(r); i++)
				hits += row_matches(&s, r, i);
			*n = hits;
		} else {
			*n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		}
		PQclear(r);
	}
	search_free(&s);
	return st;
}

static enum status pg_get(struct backend *b, const char *id, struct employee *out, struct err *e)
{
	bool found;
	enum status st = fetch(pgb(b), id, out, &found, e);
	if (st != ST_OK)
		return st;
	if (!found)
		return err_set(e, ST_NOT_FOUND, "employee %s no longer exists (deleted elsewhere?)", id);
	return ST_OK;
}

/* ---- writing ---- */

enum write_kind { WK_CREATE, WK_REPLACE, WK_REMOVE };

struct write_op {
	enum write_kind kind;
	const struct employee *in; /* create, replace */
	char id[EMP_ID_MAX + 1];
	const char *version;       /* replace, remove: the version read earlier */
	char target[33];           /* create, replace: the version our content gives */
	struct buf badges;
};

static void write_op_init(struct write_op *w, enum write_kind k, const struct employee *in,
			  const char *id, const char *version)
{
	memset(w, 0, sizeof *w);
	w->kind = k;
	w->in = in;
	w->version = version;
	snprintf(w->id, sizeof w->id, "%s", id);
	if (!in)
		return;
	badges_encode(&in->badges, BADGES_JSON, &w->badges);
	employee_content_version(w->id, in->fullname, in->location, in->job_title,
				 buf_str(&w->badges), w->target);
}

static struct pg_stmt write_stmt(struct write_op *w, const char **params)
{
	static const char *const sql[] = {
		"INSERT INTO employees(id, fullname, location, job_title, badges) "
		"VALUES ($1, $2, $3, $4, $5) RETURNING " ROW_COLS,
		"UPDATE employees SET fullname = $2, location = $3, job_title = $4, badges = $5 "
		"WHERE id = $1 AND " PG_VERSION_SQL " = $6 RETURNING " ROW_COLS,
		"DELETE FROM employees WHERE id = $1 AND " PG_VERSION_SQL " = $2",
	};
	params[0] = w->id;
	if (w->kind == WK_REMOVE) {
		params[1] = w->version;
		return (struct pg_stmt){sql[WK_REMOVE], 2, params, true};
	}
	params[1] = w->in->fullname;
	params[2] = w->in->location;
	params[3] = w->in->job_title;
	params[4] = buf_str(&w->badges);
	params[5] = w->version;
	return (struct pg_stmt){sql[w->kind], w->kind == WK_CREATE ? 5 : 6, params, true};
}

/* What the row now is says whether the write happened. Returns true when it
 * provably did not (it may be run again; *st is then a conflict, should the
 * caller not retry); otherwise *st is the verdict. */
static bool judge(struct write_op *w, bool found, const struct employee *cur, bool retried,
		  enum status *st, struct err *e)
{
	const char *v = found ? cur->version : "";
	bool again = false;
	switch (w->kind) {
	case WK_CREATE:
		if (!found)
			again = true;
		else
			*st = strcmp(v, w->target) == 0 ? ST_OK
				: err_set(e, ST_EXISTS, "not saved: an employee with id %s already exists", w->id);
		break;
	case WK_REPLACE:
		if (!found)
			*st = err_set(e, ST_NOT_FOUND, "not saved: this employee was deleted since you opened it");
		else if (strcmp(v, w->target) == 0 && (retried || strcmp(v, w->version) != 0))
			*st = ST_OK;
		else if (strcmp(v, w->version) == 0)
			again = true;
		else
			*st = err_set(e, ST_CONFLICT, "not saved: this employee was changed since you opened it");
		break;
	case WK_REMOVE:
		if (!found)
			*st = retried ? ST_OK
				: err_set(e, ST_NOT_FOUND, "not deleted: this employee was already deleted");
		else if (strcmp(v, w->version) == 0)
			again = true;
		else
			*st = err_set(e, ST_CONFLICT, "not deleted: this employee was changed since you opened it");
		break;
	}
	if (again)
		*st = err_set(e, ST_CONFLICT, "not saved: the record changed while saving; try again");
	return again;
}

/* Read the row (into *out) and judge the write by it. False when the row
 * could not be read (*verdict and e say why). */
static bool check_row(struct pg *p, struct write_op *w, bool retried, struct employee *out,
		      bool *again, enum status *verdict, struct err *e)
{
	bool found;
	struct employee cur;
	employee_init(&cur);
	*again = false;
	*verdict = fetch(p, w->id, &cur, &found, e);
	if (*verdict != ST_OK) {
		employee_free(&cur);
		return false;
	}
	*again = judge(w, found, &cur, retried, verdict, e);
	employee_free(out);
	*out = cur;
	return true;
}

/* Run the write once; *again as for judge(). */
static enum status write_once(struct pg *p, struct write_op *w, bool retried, struct employee *out,
			      bool *again, struct err *e)
{
	const char *params[6];
	struct pg_stmt s = write_stmt(w, params);
	PGresult *r;
	*again = false;
	enum status st = pg_session_exec(&p->s, &s, &r, e);
	if (st == ST_EXISTS && w->kind == WK_CREATE) {
		/* The same content under the same id is a replay: done already. */
		check_row(p, w, true, out, again, &st, e);
		return st;
	}
	if (st != ST_OK)
		return st;
	bool changed = w->kind == WK_REMOVE ? strcmp(PQcmdTuples(r), "1") == 0 : PQntuples(r) == 1;
	if (changed && w->kind != WK_REMOVE)
		row_to_employee(r, 0, out);
	PQclear(r);
	if (changed)
		return ST_OK;
	/* Nothing matched: deleted, or changed since it was read (or, after a
	 * lost connection, changed by our own first attempt). */
	check_row(p, w, retried, out, again, &st, e);
	return st;
}

/* A write, and the truth about it when the connection dies under it: the
 * row is read back and the write is run again only when it provably did
 * not happen (the version precondition keeps a rerun from applying twice). */
static enum status write_run(struct pg *p, struct write_op *w, struct employee *out, struct err *e)
{
	bool again;
	enum status st = write_once(p, w, false, out, &again, e);
	for (int round = 0; round < VERIFY_ROUNDS && st != ST_OK && p->s.lost && p->s.sent; round++) {
		backend_notify(&p->base, "connection lost while saving; checking whether the change was made");
		struct err ce = {0};
		if (!check_row(p, w, true, out, &again, &st, &ce))
			return err_set(e, ST_UNAVAILABLE,
				       "the connection dropped while saving and the result could not be "
				       "checked (%s); reopen the employee to see whether it was saved", ce.msg);
		if (!again) {
			if (st != ST_OK)
				*e = ce;
			return st;
		}
		st = write_once(p, w, true, out, &again, e);
	}
	if (st != ST_OK && p->s.lost && p->s.sent)
		return err_set(e, ST_UNAVAILABLE,
			       "the connection kept dropping while saving; reopen the employee to see "
			       "whether it was saved");
	return st;
}

static enum status pg_create(struct backend *b, const struct employee *in, struct employee *out,
			     struct err *e)
{
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	char id[EMP_ID_MAX + 1];
	snprintf(id, sizeof id, "%s", in->id);
	if (!*id)
		uuid_v4(id);
	struct write_op w;
	write_op_init(&w, WK_CREATE, in, id, "");
	enum status st = write_run(pgb(b), &w, out, e);
	buf_free(&w.badges);
	return st;
}

static enum status pg_replace(struct backend *b, const struct employee *in,
			      struct employee *current, struct err *e)
{
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	struct write_op w;
	write_op_init(&w, WK_REPLACE, in, in->id, in->version);
	enum status st = write_run(pgb(b), &w, current, e);
	buf_free(&w.badges);
	return st;
}

static enum status pg_remove(struct backend *b, const char *id, const char *version,
			     struct employee *current, struct err *e)
{
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	struct write_op w;
	write_op_init(&w, WK_REMOVE, NULL, id, version);
	return write_run(pgb(b), &w, current, e);
}

/* ---- streaming everything (COPY) ---- */

/* In the table's own order (no sort: the first row leaves at once). Rows go
 * as stored, without their versions: a version is the content's MD5
 * (PG_VERSION_SQL), which the receiver can compute from what it received. */
static const char stream_sql[] =
	"COPY (SELECT " ROW_COLS " FROM employees) TO STDOUT";
/* ... or in the name order list_page pages in (the server sorts once). */
static const char stream_by_name_sql[] =
	"COPY (SELECT " ROW_COLS " FROM employees ORDER BY lower(fullname COLLATE \"C\"), id COLLATE \"C\") TO STDOUT";

struct stream {
	backend_row_fn row;
	void *ctx;
};

static enum status stream_line(void *arg, char *line, size_t len, struct err *e)
{
	struct stream *s = arg;
	char *f[5];
	if (pg_copy_split(line, len, f, 5) != 5 || !f[0] || !f[1] || !f[2] || !f[3] ||
	    strlen(f[0]) > EMP_ID_MAX)
		return err_set(e, ST_FAIL, "the database sent a row that is not an employee");
	struct stream_record r = {f[0], f[1], f[2], f[3], f[4], NULL};
	return s->row(s->ctx, &r, e);
}

static enum status pg_stream_all(struct backend *b, bool by_name, backend_row_fn row, void *ctx, struct err *e)
{
	struct stream s = {.row = row, .ctx = ctx};
	return pg_copy_out(&pgb(b)->s, by_name ? stream_by_name_sql : stream_sql, 0, NULL, stream_line, &s, e);
}

/* ---- batches (snapshot push) ---- */

/* The operations travel as one JSON parameter; data-modifying CTEs apply
 * those whose preconditions hold (the same conditions as the single
 * statements), and the answer says for each whether it happened and what
 * the row was before the statement when it did not. */
static const char batch_sql[] =
	"WITH i AS (SELECT * FROM json_to_recordset($1::json) AS x(n int, k text, i_id text,"
	"  i_fullname text, i_location text, i_job_title text, i_badges text, i_version text)),"
	" ins AS (INSERT INTO employees(id, fullname, location, job_title, badges)"
	"  SELECT i_id, i_fullname, i_location, i_job_title, i_badges FROM i WHERE k = 'c'"
	"  ON CONFLICT (id) DO NOTHING RETURNING id),"
	" upd AS (UPDATE employees SET fullname = i_fullname, location = i_location,"
	"  job_title = i_job_title, badges = i_badges FROM i"
	"  WHERE k = 'r' AND id = i_id AND " PG_VERSION_SQL " = i_version RETURNING id),"
	" del AS (DELETE FROM employees USING i"
	"  WHERE k = 'd' AND id = i_id AND " PG_VERSION_SQL " = i_version RETURNING id),"
	" done AS (SELECT id FROM ins UNION ALL SELECT id FROM upd UNION ALL SELECT id FROM del)"
	" SELECT e.id, e.fullname, e.location, e.job_title, e.badges, i.n, d.id IS NOT NULL"
	" FROM i LEFT JOIN done d ON d.id = i.i_id LEFT JOIN employees e ON e.id = i.i_id";

static cJSON *batch_input(const struct batch_op *ops, size_t n, char (*target)[33])
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, o);
		cJSON_AddNumberToObject(o, "n", (double)i);
		cJSON_AddStringToObject(o, "k", ops[i].kind == BATCH_CREATE ? "c" : ops[i].kind == BATCH_REPLACE ? "r" : "d");
		if (ops[i].kind == BATCH_DELETE) {
			cJSON_AddStringToObject(o, "i_id", ops[i].id);
			cJSON_AddStringToObject(o, "i_version", ops[i].version ? ops[i].version : "");
			continue;
		}
		const struct employee *r = ops[i].rec;
		struct buf badges = BUF_INIT;
		badges_encode(&r->badges, BADGES_JSON, &badges);
		employee_content_version(r->id, r->fullname, r->location, r->job_title, buf_str(&badges),
					 target[i]);
		cJSON_AddStringToObject(o, "i_id", r->id);
		cJSON_AddStringToObject(o, "i_fullname", r->fullname);
		cJSON_AddStringToObject(o, "i_location", r->location);
		cJSON_AddStringToObject(o, "i_job_title", r->job_title);
		cJSON_AddStringToObject(o, "i_badges", buf_str(&badges));
		cJSON_AddStringToObject(o, "i_version", r->version);
		buf_free(&badges);
	}
	return arr;
}

/* One answer row: what happened to ops[k], with the row as it is when the
 * operation did not happen (a create whose id exists, a stale version). */
static void batch_answer(const struct batch_op *op, const char *target, const PGresult *r, int row,
			 struct batch_result *res)
{
	bool done = strcmp(PQgetvalue(r, row, 6), "t") == 0;
	bool exists = !PQgetisnull(r, row, 0);
	if (done) {
		res->st = ST_OK;
		if (op->kind != BATCH_DELETE) {
			employee_init(&res->rec);
			employee_copy(&res->rec, op->rec);
			snprintf(res->rec.version, sizeof res->rec.version, "%s", target);
			res->has_rec = true;
		}
		return;
	}
	if (!exists) {
		res->st = op->kind == BATCH_CREATE ? ST_FAIL : ST_NOT_FOUND;
		return;
	}
	res->st = op->kind == BATCH_CREATE ? ST_EXISTS : ST_CONFLICT;
	employee_init(&res->rec);
	row_to_employee(r, row, &res->rec);
	res->has_rec = true;
}

static enum status pg_apply_batch(struct backend *b, const struct batch_op *ops, size_t n,
				  struct batch_result *res, struct err *e)
{
	struct pg *p = pgb(b);
	memset(res, 0, sizeof *res * n);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	char (*target)[33] = xcalloc(n ? n : 1, sizeof *target);
	cJSON *in = batch_input(ops, n, target);
	char *json = cJSON_PrintUnformatted(in);
	cJSON_Delete(in);
	const char *params[1] = {json};
	struct pg_stmt s = {batch_sql, 1, params, true};
	PGresult *r = NULL;
	struct err why = {0};
	enum status st = pg_session_exec(&p->s, &s, &r, &why);
	/* Answered ST_FAIL, an operation goes the single way, which reconnects,
	 * checks what happened and says what went wrong. */
	for (size_t k = 0; k < n; k++)
		res[k].st = ST_FAIL;
	if (st == ST_OK) {
		for (int row = 0; row < PQntuples(r); row++) {
			long k = strtol(PQgetvalue(r, row, 5), NULL, 10);
			if (k >= 0 && (size_t)k < n && res[k].st == ST_FAIL)
				batch_answer(&ops[k], target[k], r, row, &res[k]);
		}
		PQclear(r);
	} else if (st == ST_CANCELLED) {
		*e = why;
	}
	cJSON_free(json);
	free(target);
	return st == ST_CANCELLED ? st : ST_OK;
}

/* ---- the rest of the interface ---- */

/* The cluster's system identifier (from its control file: the same on every
 * endpoint and replica of it) and the database. */
static void pg_identity(struct backend *b, char *out, size_t outsz)
{
	PGresult *r;
	struct err ignore = {0};
	out[0] = '\0';
	if (pg_session_read(&pgb(b)->s,
			    "SELECT 'pg:' || system_identifier || '/' || current_database() FROM pg_control_system()", 0,
			    NULL, &r, &ignore) != ST_OK)
		return;
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		snprintf(out, outsz, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
}


static unsigned pg_caps(struct backend *b)
{
	unsigned caps = CAP_VERSIONS | CAP_REMOTE;
	if (!b->read_only)
		caps |= CAP_WRITE;
	if (pgb(b)->has_trgm)
		caps |= CAP_FAST_SEARCH;
	return caps;
}

static void pg_describe(struct backend *b, char *out, size_t outsz)
{
	snprintf(out, outsz, "pg %s%s", pgb(b)->s.where, b->read_only ? " (read-only)" : "");
}

static const char *pg_hint(struct backend *b)
{
	return pgb(b)->hint[0] ? pgb(b)->hint : NULL;
}

const struct backend_ops pg_backend_ops = {
	.name = "pg",
	.open = pg_open,
	.close = pg_close,
	.list_page = pg_list_page,
	.count = pg_count,
	.get = pg_get,
	.create = pg_create,
	.replace = pg_replace,
	.remove = pg_remove,
	.caps = pg_caps,
	.describe = pg_describe,
	.hint = pg_hint,
	.stream_all = pg_stream_all,
	.apply_batch = pg_apply_batch,
	.identity = pg_identity,
};
