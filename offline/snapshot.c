/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The offline backend: a SQLite snapshot of the directory.
 *
 * Opens any SQLite file with the seed's `employees` table (UUID ids and JSON
 * badges, or the pre-migration layout with integer ids and comma-separated
 * badges) and leaves that table as it is. Beside it, in one transaction, it
 * adds its bookkeeping: `empdir_meta`, a trigram FTS5 index `empdir_fts`
 * (external content: the index stores no copy of the text) kept in step by
 * plain-SQL triggers, so writes from other tools keep it right, and NOCASE
 * indexes for keyset paging in each sort order.
 *
 * Versions are derived from a row's content (employee_content_version), so
 * the table needs no version column; replace and delete are conditional
 * UPDATE/DELETE statements and "no row changed" becomes a conflict carrying
 * the current record. WAL with synchronous=FULL: once a write returns ST_OK it
 * survives a crash. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../api_client/backend.h"
#include "../core/buf.h"
#include "../core/config.h"
#include "../core/match.h"
#include "../core/text.h"

#define BOOKKEEPING_VERSION "1"
/* Above this many trigram candidates a search walks the sort index and
 * filters, stopping at the page size, instead of sorting every candidate. */
#define RARE_LIMIT 30000
#define WALK_BUDGET_MS 15

struct offline {
	struct backend base; /* first: the interface's view of us */
	sqlite3 *db;
	char *path;
	char *display_name;
	bool int_ids;        /* legacy INTEGER PRIMARY KEY ids */
	bool has_index;      /* empdir_fts and the sort indexes exist */
	enum badge_format badges_fmt;
	long total;          /* cached row count, -1 unknown */
	const char *hint;
	struct timespec op_start;
	const char *op_what;
	bool cancelled;
	sqlite3_stmt *vocab;   /* rows holding one trigram, counted up to a bound */
	struct timespec walk_start;
	long walk_budget_ms;   /* interrupt a walking search after this long (0: never) */
	bool budget_spent;
	void (*say)(const char *msg); /* while opening: progress of the first indexing */
	long index_rows;       /* the highest rowid, for the indexing's percentage */
	int index_pct;         /* the percentage last said */
	bool journaled;        /* a pulled snapshot: edits are journaled for push */
	char pulled_at[32];
	sqlite3_stmt *journal_count;
};

static struct offline *off(struct backend *b) { return (struct offline *)b; }

static enum status sql_status(int rc)
{
	switch (rc) {
	case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return ST_OK;
	case SQLITE_INTERRUPT: return ST_CANCELLED;
	case SQLITE_READONLY: return ST_READ_ONLY;
	case SQLITE_CONSTRAINT: return ST_EXISTS;
	case SQLITE_BUSY: case SQLITE_LOCKED: return ST_UNAVAILABLE;
	default: return ST_FAIL;
	}
}

static enum status sql_fail(struct offline *o, int rc, struct err *e, const char *doing)
{
	enum status st = sql_status(rc);
	if (st == ST_CANCELLED)
		return err_set(e, ST_CANCELLED, "%s: cancelled", doing);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return err_set(e, st, "%s: %s is locked by another program; try again when it is done",
			       doing, o->display_name);
	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		return err_set(e, ST_FAIL, "%s: %s is corrupted (%s); restore it from a backup or take a new snapshot",
			       doing, o->display_name, sqlite3_errmsg(o->db));
	if (rc == SQLITE_FULL || rc == SQLITE_IOERR)
		return err_set(e, ST_FAIL, "%s: cannot write %s (%s); check free disk space; nothing was saved",
			       doing, o->display_name, sqlite3_errmsg(o->db));
	return err_set(e, st, "%s: %s", doing, sqlite3_errmsg(o->db));
}

/* ---- progress: keep the UI alive, let the user cancel ---- */

static int progress_cb(void *arg)
{
	struct offline *o = arg;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - o->op_start.tv_sec) * 1000 + (now.tv_nsec - o->op_start.tv_nsec) / 1000000;
	long walk_ms = (now.tv_sec - o->walk_start.tv_sec) * 1000 + (now.tv_nsec - o->walk_start.tv_nsec) / 1000000;
	if (o->walk_budget_ms && walk_ms >= o->walk_budget_ms) {
		o->budget_spent = true;
		return 1;
	}
	if (ms < 50)
		return 0;
	if (backend_tick(&o->base, o->op_what ? o->op_what : "working")) {
		o->cancelled = true;
		return 1;
	}
	return 0;
}

static void op_begin(struct offline *o, const char *what)
{
	clock_gettime(CLOCK_MONOTONIC, &o->op_start);
	o->op_what = what;
	o->cancelled = false;
	o->budget_spent = false;
}

/* ---- SQL functions available on our connection ---- */

static const char *col_text(sqlite3_value *v)
{
	const unsigned char *t = sqlite3_value_text(v);
	return t ? (const char *)t : "";
}

static void fn_version(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	char out[33];
	const char *badges = sqlite3_value_type(argv[4]) == SQLITE_NULL ? NULL : col_text(argv[4]);
	employee_content_version(col_text(argv[0]), col_text(argv[1]), col_text(argv[2]),
				 col_text(argv[3]), badges, out);
	sqlite3_result_text(cx, out, 32, SQLITE_TRANSIENT);
}

static void needle_free(void *p)
{
	struct match_needle *n = p;
	match_needle_free(n);
	free(n);
}

/* empdir_match(filter, fullname, location, job_title, badges): the exact,
 * case-insensitive substring test that decides what a search shows. */
static void fn_match(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct match_needle *n = sqlite3_get_auxdata(cx, 0);
	if (!n) {
		n = xcalloc(1, sizeof *n);
		match_needle_init(n, col_text(argv[0]));
		sqlite3_set_auxdata(cx, 0, n, needle_free);
		n = sqlite3_get_auxdata(cx, 0);
		if (!n) {
			sqlite3_result_error_nomem(cx);
			return;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
			continue;
		const char *s = col_text(argv[i]);
		bool hit = i == 4 ? match_badges(n, s) : match_text(n, s, strlen(s));
		if (hit) {
			sqlite3_result_int(cx, 1);
			return;
		}
	}
	sqlite3_result_int(cx, 0);
}

/* ---- opening ---- */

static enum status check_file(const char *path, bool *writable, struct err *e)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return err_set(e, ST_UNAVAILABLE,
				       "cannot open snapshot %s: no such file; check the path (see --help)", path);
		return err_set(e, ST_UNAVAILABLE, "cannot open snapshot %s: %s", path, strerror(errno));
	}
	if (S_ISDIR(st.st_mode))
		return err_set(e, ST_UNAVAILABLE, "cannot open snapshot %s: it is a directory; give the snapshot file", path);
	FILE *f = fopen(path, "rb");
	if (!f)
		return err_set(e, ST_UNAVAILABLE, "cannot open snapshot %s: %s", path, strerror(errno));
	char head[16];
	size_t n = fread(head, 1, sizeof head, f);
	fclose(f);
	if (n == 0)
		return err_set(e, ST_UNAVAILABLE, "cannot open snapshot %s: the file is empty, not a SQLite snapshot", path);
	if (n < sizeof head || memcmp(head, "SQLite format 3", 16) != 0)
		return err_set(e, ST_UNAVAILABLE,
			       "cannot open snapshot %s: not a SQLite database; give a snapshot made with `empdir-tui snapshot` or the seed's employees.db",
			       path);
	/* WAL needs to create files beside the snapshot, so the directory counts too. */
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	*writable = access(path, W_OK) == 0 && access(slash ? dir : ".", W_OK) == 0;
	free(dir);
	return ST_OK;
}

static enum status exec_sql(struct offline *o, const char *sql, struct err *e, const char *doing)
{
	int rc = sqlite3_exec(o->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? ST_OK : sql_fail(o, rc, e, doing);
}

/* Look at the employees table: does it exist, does it have the columns we
 * need, which kind of ids and badges does it hold? */
static enum status inspect_table(struct offline *o, struct err *e)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(o->db, "SELECT name, type, pk FROM pragma_table_info('employees')", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(o, rc, e, "reading the snapshot");
	unsigned seen = 0;
	static const char *const need[] = {"id", "fullname", "location", "job_title", "badges"};
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		for (unsigned i = 0; i < 5; i++)
			if (name && strcasecmp(name, need[i]) == 0)
				seen |= 1u << i;
		if (name && strcasecmp(name, "id") == 0 && type && strcasecmp(type, "INTEGER") == 0 &&
		    sqlite3_column_int(st, 2) == 1)
			o->int_ids = true;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_fail(o, rc, e, "reading the snapshot");
	if (seen == 0)
		return err_set(e, ST_UNAVAILABLE,
			       "%s has no employees table; is it an Employee Directory snapshot?", o->display_name);
	for (unsigned i = 0; i < 5; i++)
		if (!(seen & (1u << i)))
			return err_set(e, ST_UNAVAILABLE,
				       "%s: the employees table has no %s column; it is not an Employee Directory snapshot",
				       o->display_name, need[i]);
	/* The badge format new writes use: that of the rows already there. */
	o->badges_fmt = BADGES_JSON;
	rc = sqlite3_prepare_v2(o->db,
				"SELECT badges FROM employees WHERE badges IS NOT NULL AND badges <> '' LIMIT 50",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(o, rc, e, "reading the snapshot");
	int json = 0, comma = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (t && t[0] == '[')
			json++;
		else
			comma++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_fail(o, rc, e, "reading the snapshot");
	if (comma > json)
		o->badges_fmt = BADGES_COMMA;
	return ST_OK;
}

/* The single integer a query answers, or -1. */
static long count_rows(struct offline *o, const char *sql)
{
	sqlite3_stmt *st;
	long n = -1;
	if (sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* A table, index or trigger of that name is in the schema. */
static bool table_exists(struct offline *o, const char *name)
{
	sqlite3_stmt *st;
	bool found = false;
	if (sqlite3_prepare_v2(o->db, "SELECT 1 FROM sqlite_master WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static const char bookkeeping_sql[] =
	"CREATE TABLE IF NOT EXISTS empdir_meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE VIRTUAL TABLE IF NOT EXISTS empdir_fts USING fts5("
	"  fullname, location, job_title, badges,"
	"  content='employees', content_rowid='rowid', tokenize='trigram', detail='none');"
	"CREATE TRIGGER IF NOT EXISTS empdir_fts_ai AFTER INSERT ON employees BEGIN"
	"  INSERT INTO empdir_fts(rowid, fullname, location, job_title, badges)"
	"  VALUES (new.rowid, new.fullname, new.location, new.job_title, new.badges); END;"
	"CREATE TRIGGER IF NOT EXISTS empdir_fts_ad AFTER DELETE ON employees BEGIN"
	"  INSERT INTO empdir_fts(empdir_fts, rowid, fullname, location, job_title, badges)"
	"  VALUES ('delete', old.rowid, old.fullname, old.location, old.job_title, old.badges); END;"
	"CREATE TRIGGER IF NOT EXISTS empdir_fts_au AFTER UPDATE ON employees BEGIN"
	"  INSERT INTO empdir_fts(empdir_fts, rowid, fullname, location, job_title, badges)"
	"  VALUES ('delete', old.rowid, old.fullname, old.location, old.job_title, old.badges);"
	"  INSERT INTO empdir_fts(rowid, fullname, location, job_title, badges)"
	"  VALUES (new.rowid, new.fullname, new.location, new.job_title, new.badges); END;"
	;

static const char *const sort_index_sql[] = {
	"CREATE INDEX IF NOT EXISTS empdir_by_fullname ON employees(fullname COLLATE NOCASE, id)",
	"CREATE INDEX IF NOT EXISTS empdir_by_location ON employees(location COLLATE NOCASE, id)",
	"CREATE INDEX IF NOT EXISTS empdir_by_job_title ON employees(job_title COLLATE NOCASE, id)",
};

/* The first indexing of a large file takes seconds: say how far it is. The
 * search index is about 70% of the work, each sort index 10%. */
static void say_indexing(struct offline *o, int pct)
{
	if (!o->say || pct == o->index_pct)
		return;
	o->index_pct = pct;
	char m[300];
	snprintf(m, sizeof m, "indexing %s for search (first open only): %d%%", o->display_name, pct);
	o->say(m);
}

/* empdir_indexing(rowid): true, and the percentage said now and then. */
static void fn_indexing(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	struct offline *o = sqlite3_user_data(cx);
	sqlite3_int64 r = sqlite3_value_int64(argv[0]);
	if (o->index_rows > 0 && (r & 4095) == 0)
		say_indexing(o, (int)(r * 70 / o->index_rows > 70 ? 70 : r * 70 / o->index_rows));
	sqlite3_result_int(cx, 1);
}

/* Add the bookkeeping beside the seed's table, all or nothing. */
/* The row count, kept by triggers so the first screen needs no count(*)
 * over a million rows (other programs' writes keep it right too). */
static const char row_count_sql[] =
	"CREATE TRIGGER IF NOT EXISTS empdir_rows_ai AFTER INSERT ON employees BEGIN"
	"  UPDATE empdir_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'rows'; END;"
	"CREATE TRIGGER IF NOT EXISTS empdir_rows_ad AFTER DELETE ON employees BEGIN"
	"  UPDATE empdir_meta SET value = CAST(value AS INTEGER) - 1 WHERE key = 'rows'; END;"
	"INSERT OR REPLACE INTO empdir_meta VALUES ('rows', (SELECT count(*) FROM employees));";

static enum status add_bookkeeping(struct offline *o, struct err *e)
{
	if (table_exists(o, "empdir_fts") && table_exists(o, "empdir_meta")) {
		o->has_index = true;
		if (table_exists(o, "empdir_rows_ai"))
			return ST_OK;
		/* A snapshot indexed before the count was kept: add it. */
		enum status st = exec_sql(o, "BEGIN IMMEDIATE", e, "preparing the snapshot");
		if (st == ST_OK && (st = exec_sql(o, row_count_sql, e, "preparing the snapshot")) == ST_OK)
			st = exec_sql(o, "COMMIT", e, "preparing the snapshot");
		if (st != ST_OK)
			sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
		return st;
	}
	enum status st = exec_sql(o, "BEGIN IMMEDIATE", e, "preparing the snapshot");
	if (st != ST_OK)
		return st;
	op_begin(o, "indexing the snapshot for search");
	o->index_pct = -1;
	o->index_rows = count_rows(o, "SELECT coalesce(max(rowid), 0) FROM employees");
	say_indexing(o, 0);
	sqlite3_create_function(o->db, "empdir_indexing", 1, SQLITE_UTF8, o, fn_indexing, NULL, NULL);
	if ((st = exec_sql(o, bookkeeping_sql, e, "indexing the snapshot")) != ST_OK ||
	    (st = exec_sql(o, row_count_sql, e, "indexing the snapshot")) != ST_OK ||
	    /* FTS5 flushes its in-memory index every hashsize bytes (1 MiB by
	     * default) and merges the pieces later: 64 MiB while building
	     * makes the build about twice as fast; edits keep the default.
	     * The option is undocumented, so a SQLite without it only builds
	     * slower (a failed statement leaves the transaction as it was).
	     * Filling the empty index row by row is what 'rebuild' does, with
	     * a word on progress. */
	    (sqlite3_exec(o->db, "INSERT INTO empdir_fts(empdir_fts, rank) VALUES ('hashsize', 67108864)", NULL,
			  NULL, NULL),
	     (st = exec_sql(o, "INSERT INTO empdir_fts(rowid, fullname, location, job_title, badges)"
			       " SELECT rowid, fullname, location, job_title, badges FROM employees"
			       " WHERE empdir_indexing(rowid);"
			       "INSERT OR REPLACE INTO empdir_meta VALUES ('bookkeeping', '" BOOKKEEPING_VERSION "');",
			    e, "indexing the snapshot")) != ST_OK)) {
		sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
		return st;
	}
	sqlite3_exec(o->db, "INSERT INTO empdir_fts(empdir_fts, rank) VALUES ('hashsize', 1048576)", NULL, NULL, NULL);
	for (int i = 0; i < 3; i++) {
		say_indexing(o, 70 + 10 * i);
		if ((st = exec_sql(o, sort_index_sql[i], e, "indexing the snapshot")) != ST_OK) {
			sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
			return st;
		}
	}
	st = exec_sql(o, "COMMIT", e, "indexing the snapshot");
	if (st != ST_OK) {
		sqlite3_exec(o->db, "ROLLBACK", NULL, NULL, NULL);
		return st;
	}
	say_indexing(o, 100);
	o->has_index = true;
	return ST_OK;
}

static void offline_close(struct backend *b)
{
	struct offline *o = off(b);
	if (!o)
		return;
	sqlite3_finalize(o->vocab);
	sqlite3_finalize(o->journal_count);
	if (o->db)
		sqlite3_close_v2(o->db);
	free(o->path);
	free(o->display_name);
	free(o);
}

static enum status offline_open(const struct conn_config *cfg, struct backend **out, struct err *e)
{
	*out = NULL;
	const char *path = cfg->target && *cfg->target ? cfg->target : conn_get(cfg, "path");
	if (!path || !*path)
		return err_set(e, ST_INVALID, "connection %s: no snapshot path; set path = FILE", cfg->name);
	bool writable = false;
	enum status st = check_file(path, &writable, e);
	if (st != ST_OK)
		return st;

	struct offline *o = xcalloc(1, sizeof *o);
	o->base.ops = &offline_backend_ops;
	o->base.waiter.input_fd = -1;
	o->path = xstrdup(path);
	const char *slash = strrchr(path, '/');
	o->display_name = text_safe_dup(slash ? slash + 1 : path);
	o->total = -1;
	o->base.read_only = cfg->read_only || !writable;
	if (!writable && !cfg->read_only)
		o->hint = "the snapshot file is not writable: opened read-only";

	int flags = (o->base.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &o->db, flags, NULL);
	if (rc != SQLITE_OK) {
		err_set(e, ST_UNAVAILABLE, "cannot open snapshot %s: %s", o->display_name,
			o->db ? sqlite3_errmsg(o->db) : sqlite3_errstr(rc));
		offline_close(&o->base);
		return ST_UNAVAILABLE;
	}
	sqlite3_extended_result_codes(o->db, 0);
	sqlite3_busy_timeout(o->db, 3000);
	/* 1 MiB of page cache: paging a million rows stays within 16 MiB; the
	 * kernel's page cache keeps the file warm anyway. */
	sqlite3_exec(o->db, "PRAGMA cache_size = -1024", NULL, NULL, NULL);
	sqlite3_progress_handler(o->db, 1000, progress_cb, o);
	sqlite3_create_function(o->db, "empdir_version", 5, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				fn_version, NULL, NULL);
	sqlite3_create_function(o->db, "empdir_match", 5, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				fn_match, NULL, NULL);
	if ((st = inspect_table(o, e)) != ST_OK)
		goto fail;
	if (!o->base.read_only) {
		if ((st = exec_sql(o, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", e,
				   "opening the snapshot")) != ST_OK)
			goto fail;
		o->say = cfg->progress;
		st = add_bookkeeping(o, e);
		o->say = NULL;
		if (st != ST_OK) {
			err_prefix(e, "cannot prepare %s for search (nothing was changed)", o->display_name);
			goto fail;
		}
	} else {
		o->has_index = table_exists(o, "empdir_fts");
		if (!o->has_index && !o->hint)
			o->hint = "read-only snapshot without a search index: search scans every row";
	}
	if (o->has_index)
		sqlite3_prepare_v2(o->db, "SELECT count(*) FROM (SELECT 1 FROM empdir_fts WHERE empdir_fts MATCH ?1 LIMIT ?2)",
				   -1, &o->vocab, NULL);
	o->journaled = table_exists(o, "empdir_journal") &&
		       sqlite3_prepare_v2(o->db, "SELECT count(*), coalesce(sum(state = 'conflict'), 0) FROM empdir_journal",
					  -1, &o->journal_count, NULL) == SQLITE_OK;
	if (o->journaled) {
		sqlite3_stmt *m;
		if (sqlite3_prepare_v2(o->db, "SELECT value FROM empdir_meta WHERE key = 'pulled_at'", -1, &m, NULL) == SQLITE_OK) {
			if (sqlite3_step(m) == SQLITE_ROW && sqlite3_column_text(m, 0))
				snprintf(o->pulled_at, sizeof o->pulled_at, "%s", (const char *)sqlite3_column_text(m, 0));
			sqlite3_finalize(m);
		}
	}
	*out = &o->base;
	return ST_OK;
fail:
	offline_close(&o->base);
	return st;
}

/* ---- reading ---- */

static const char *const sort_cols[SORT_COUNT] = {"fullname", "location", "job_title"};

#define ROW_COLS "e.id, e.fullname, e.location, e.job_title, e.badges"

static void row_to_employee(sqlite3_stmt *st, int col, struct employee *out)
{
	employee_free(out);
	employee_init(out);
	const char *id = (const char *)sqlite3_column_text(st, col);
	snprintf(out->id, sizeof out->id, "%s", id ? id : "");
	for (int f = 0; f < 3; f++) {
		const char *v = (const char *)sqlite3_column_text(st, col + 1 + f);
		employee_set(out, f == 0 ? EF_FULLNAME : f == 1 ? EF_LOCATION : EF_JOB_TITLE, v ? v : "");
	}
	const char *badges = (const char *)sqlite3_column_text(st, col + 4);
	enum badge_format fmt;
	badges_decode(badges, &out->badges, &fmt);
	employee_content_version(out->id, out->fullname, out->location, out->job_title,
				 sqlite3_column_type(st, col + 4) == SQLITE_NULL ? NULL : badges,
				 out->version);
}

static void bind_id(struct offline *o, sqlite3_stmt *st, int i, const char *id)
{
	char *end;
	long long v;
	if (o->int_ids && *id && (v = strtoll(id, &end, 10), *end == '\0'))
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_text(st, i, id, -1, SQLITE_TRANSIENT);
}

/* Cursor: "<len>:<sort value><id>", opaque to callers. */
static char *cursor_make(const char *value, const char *id)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%zu:%s%s", strlen(value), value, id);
	return buf_steal(&b);
}

static bool cursor_parse(const char *c, struct buf *value, const char **id)
{
	char *end;
	unsigned long n = strtoul(c, &end, 10);
	if (end == c || *end != ':' || strlen(end + 1) < n)
		return false;
	buf_reset(value);
	buf_append(value, end + 1, n);
	*id = end + 1 + n;
	return true;
}

/* Plan a search: the filter's trigrams, each looked up in the index's
 * vocabulary for how many rows hold it. The MATCH query uses only the two
 * rarest (enough to narrow; empdir_match decides exactly) and the rarest
 * count bounds the candidates. A trigram the vocabulary does not know is
 * kept in the query (it may be folded differently there; FTS decides).
 * Returns false when the filter is shorter than 3 characters. */
static bool plan_search(struct offline *o, const char *filter, struct buf *q, long *estimate)
{
	size_t starts[1024], n = 0, len = strlen(filter);
	for (size_t i = 0; i < len && n < 1024;) {
		starts[n++] = i;
		uint32_t cp;
		size_t k = utf8_decode(filter + i, len - i, &cp);
		i += k ? k : 1;
	}
	if (n < 3)
		return false;
	struct { size_t from, to; long docs; } best[2] = {{0, 0, -1}, {0, 0, -1}};
	struct buf unknown = BUF_INIT, folded = BUF_INIT;
	*estimate = -1;
	for (size_t t = 0; t + 3 <= n; t++) {
		size_t from = starts[t], to = t + 3 < n ? starts[t + 3] : len;
		buf_reset(&folded);
		match_fold(&folded, filter + from, to - from);
		long docs = 0;
		if (o->vocab) {
			/* Rows holding this trigram, counted up to RARE_LIMIT + 1: a
			 * bounded walk of one doclist (the vocabulary table would
			 * walk all of it). */
			struct buf one = BUF_INIT;
			buf_putc(&one, '"');
			for (size_t i = from; i < to; i++) {
				if (filter[i] == '"')
					buf_putc(&one, '"');
				buf_putc(&one, filter[i]);
			}
			buf_putc(&one, '"');
			sqlite3_reset(o->vocab);
			sqlite3_bind_text(o->vocab, 1, one.data, (int)one.len, SQLITE_TRANSIENT);
			sqlite3_bind_int(o->vocab, 2, RARE_LIMIT + 1);
			if (sqlite3_step(o->vocab) == SQLITE_ROW)
				docs = sqlite3_column_int64(o->vocab, 0);
			buf_free(&one);
		}
		if (docs == 0) {
			if (unknown.len < 200) {
				buf_puts(&unknown, unknown.len ? " AND \"" : "\"");
				for (size_t i = from; i < to; i++) {
					if (filter[i] == '"')
						buf_putc(&unknown, '"');
					buf_putc(&unknown, filter[i]);
				}
				buf_putc(&unknown, '"');
			}
			*estimate = 0;
			continue;
		}
		if (*estimate < 0 || docs < *estimate)
			*estimate = docs;
		int slot = best[0].docs < 0 || docs < best[0].docs ? 0 : best[1].docs < 0 || docs < best[1].docs ? 1 : -1;
		if (slot == 0)
			best[1] = best[0];
		if (slot >= 0) {
			best[slot].from = from;
			best[slot].to = to;
			best[slot].docs = docs;
		}
	}
	buf_reset(q);
	buf_append(q, unknown.data ? unknown.data : "", unknown.len);
	for (int b = 0; b < 2; b++) {
		if (best[b].docs < 0)
			continue;
		buf_puts(q, q->len ? " AND \"" : "\"");
		for (size_t i = best[b].from; i < best[b].to; i++) {
			if (filter[i] == '"')
				buf_putc(q, '"');
			buf_putc(q, filter[i]);
		}
		buf_putc(q, '"');
	}
	buf_free(&unknown);
	buf_free(&folded);
	return true;
}


/* One page with a given plan. Returns the SQLite code (SQLITE_DONE on
 * success); out is filled only then. */
static int run_page(struct offline *o, const struct page_query *q, bool rare, const char *fts,
		    const struct buf *cval, const char *cid, struct page *out)
{
	const char *col = sort_cols[q->sort];
	const char *dir = q->desc ? "DESC" : "ASC";
	bool filtered = !backend_filter_blank(q->filter);
	struct buf sql = BUF_INIT;
	buf_printf(&sql, "SELECT " ROW_COLS ", e.%s FROM ", col);
	if (rare)
		buf_puts(&sql, "(SELECT rowid AS r FROM empdir_fts WHERE empdir_fts MATCH ?4) m "
			       "CROSS JOIN employees e ON e.rowid = m.r WHERE 1");
	else
		buf_puts(&sql, "employees e WHERE 1");
	if (filtered)
		buf_puts(&sql, " AND empdir_match(?3, e.fullname, e.location, e.job_title, e.badges)");
	if (q->after) /* the first term lets SQLite seek the index instead of scanning it */
		buf_printf(&sql, " AND e.%s COLLATE NOCASE %s ?1 AND (e.%s COLLATE NOCASE, e.id) %s (?1, ?2)", col,
			   q->desc ? "<=" : ">=", col, q->desc ? "<" : ">");
	buf_printf(&sql, " ORDER BY e.%s COLLATE NOCASE %s, e.id %s LIMIT ?5", col, dir, dir);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(o->db, sql.data, -1, &st, NULL);
	buf_free(&sql);
	if (rc != SQLITE_OK)
		return rc;
	if (q->after) {
		sqlite3_bind_text(st, 1, cval->data ? cval->data : "", -1, SQLITE_STATIC);
		bind_id(o, st, 2, cid);
	}
	if (filtered)
		sqlite3_bind_text(st, 3, q->filter, -1, SQLITE_STATIC);
	if (rare)
		sqlite3_bind_text(st, 4, fts, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, q->limit + 1);
	memset(out, 0, sizeof *out);
	out->rows = xcalloc((size_t)q->limit, sizeof *out->rows);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == (size_t)q->limit) {
			const struct employee *last = &out->rows[out->n - 1];
			out->next_cursor = cursor_make(employee_get(last, q->sort == SORT_FULLNAME ? EF_FULLNAME
								       : q->sort == SORT_LOCATION ? EF_LOCATION
								       : EF_JOB_TITLE),
						       last->id);
			rc = SQLITE_DONE;
			break;
		}
		row_to_employee(st, 0, &out->rows[out->n++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		page_free(out);
	return rc;
}

static enum status offline_list_page(struct backend *b, const struct page_query *q, struct page *out,
				     struct err *e)
{
	struct offline *o = off(b);
	memset(out, 0, sizeof *out);
	bool filtered = !backend_filter_blank(q->filter);
	struct buf fts = BUF_INIT, cval = BUF_INIT;
	const char *cid = NULL;
	enum status status = ST_OK;
	op_begin(o, filtered ? "searching" : "reading");
	if (q->after && !cursor_parse(q->after, &cval, &cid)) {
		status = err_set(e, ST_INVALID, "bad page cursor");
		goto done;
	}
	/* Rare search terms: start from the trigram index and sort the hits.
	 * Common ones: walk the sort index, filtering, until the page is full;
	 * but matches can cluster far down the sort order ("remote" by
	 * location), so the walk gets a time budget, after which the hits are
	 * sorted after all. Either way the answer is the same. */
	bool rare = false, can_switch = false;
	long estimate;
	if (filtered && o->has_index && plan_search(o, q->filter, &fts, &estimate)) {
		rare = estimate <= RARE_LIMIT;
		can_switch = !rare;
	}
	o->walk_budget_ms = can_switch ? WALK_BUDGET_MS : 0;
	clock_gettime(CLOCK_MONOTONIC, &o->walk_start);
	int rc = run_page(o, q, rare, fts.data, &cval, cid, out);
	if (rc == SQLITE_INTERRUPT && o->budget_spent && !o->cancelled) {
		o->walk_budget_ms = 0;
		rc = run_page(o, q, true, fts.data, &cval, cid, out);
	}
	o->walk_budget_ms = 0;
	if (rc != SQLITE_DONE)
		status = sql_fail(o, rc, e, filtered ? "searching" : "reading");
done:
	buf_free(&fts);
	buf_free(&cval);
	return status;
}

static enum status offline_count(struct backend *b, const char *filter, long *n, struct err *e)
{
	struct offline *o = off(b);
	*n = -1;
	bool filtered = !backend_filter_blank(filter);
	if (!filtered) {
		sqlite3_stmt *m;
		if (sqlite3_prepare_v2(o->db, "SELECT CAST(value AS INTEGER) FROM empdir_meta WHERE key = 'rows'"
					      " AND EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'empdir_rows_ai')",
				       -1, &m, NULL) == SQLITE_OK) {
			bool got = sqlite3_step(m) == SQLITE_ROW;
			if (got)
				*n = sqlite3_column_int64(m, 0);
			sqlite3_finalize(m);
			if (got) {
				o->total = *n;
				return ST_OK;
			}
		}
	}
	if (!filtered && o->total >= 0) {
		*n = o->total;
		return ST_OK;
	}
	op_begin(o, "counting");
	struct buf fts = BUF_INIT;
	sqlite3_stmt *st;
	const char *sql = "SELECT count(*) FROM employees";
	long estimate;
	bool use_fts = filtered && o->has_index && plan_search(o, filter, &fts, &estimate);
	if (use_fts)
		sql = "SELECT count(*) FROM (SELECT rowid AS r FROM empdir_fts WHERE empdir_fts MATCH ?2) m "
		      "CROSS JOIN employees e ON e.rowid = m.r "
		      "WHERE empdir_match(?1, e.fullname, e.location, e.job_title, e.badges)";
	else if (filtered)
		sql = "SELECT count(*) FROM employees e "
		      "WHERE empdir_match(?1, e.fullname, e.location, e.job_title, e.badges)";
	int rc = sqlite3_prepare_v2(o->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if (filtered)
			sqlite3_bind_text(st, 1, filter, -1, SQLITE_STATIC);
		if (use_fts)
			sqlite3_bind_text(st, 2, fts.data, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*n = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
		sqlite3_finalize(st);
	}
	buf_free(&fts);
	if (rc != SQLITE_OK)
		return sql_fail(o, rc, e, "counting");
	if (!filtered)
		o->total = *n;
	return ST_OK;
}

static int fetch_row(struct offline *o, const char *id, struct employee *out, bool *found)
{
	sqlite3_stmt *st;
	*found = false;
	int rc = sqlite3_prepare_v2(o->db, "SELECT " ROW_COLS " FROM employees e WHERE e.id = ?1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	bind_id(o, st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row_to_employee(st, 0, out);
		*found = true;
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static enum status offline_get(struct backend *b, const char *id, struct employee *out, struct err *e)
{
	struct offline *o = off(b);
	bool found;
	op_begin(o, "reading");
	int rc = fetch_row(o, id, out, &found);
	if (rc != SQLITE_OK)
		return sql_fail(o, rc, e, "reading");
	if (!found)
		return err_set(e, ST_NOT_FOUND, "employee %s no longer exists (deleted elsewhere?)", id);
	return ST_OK;
}

/* ---- writing ---- */

/* After a conditional write changed nothing: the record is gone, or it
 * changed since it was read. Either way the caller gets the truth. */
static enum status explain_no_change(struct offline *o, const char *id, struct employee *current,
				     struct err *e)
{
	bool found;
	employee_free(current);
	employee_init(current);
	int rc = fetch_row(o, id, current, &found);
	if (rc != SQLITE_OK)
		return sql_fail(o, rc, e, "checking the record");
	if (!found)
		return err_set(e, ST_NOT_FOUND, "not saved: this employee was deleted since you opened it");
	return err_set(e, ST_CONFLICT, "not saved: this employee was changed since you opened it");
}

static enum status offline_create(struct backend *b, const struct employee *in, struct employee *out,
				  struct err *e)
{
	struct offline *o = off(b);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	char id[EMP_ID_MAX + 1];
	snprintf(id, sizeof id, "%s", in->id);
	if (!*id && !o->int_ids)
		uuid_v4(id);
	struct buf badges = BUF_INIT;
	badges_encode(&in->badges, o->badges_fmt, &badges);
	sqlite3_stmt *st;
	op_begin(o, "saving");
	int rc = sqlite3_prepare_v2(o->db,
				    "INSERT INTO employees(id, fullname, location, job_title, badges) VALUES (?1, ?2, ?3, ?4, ?5)",
				    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if (*id)
			bind_id(o, st, 1, id);
		else
			sqlite3_bind_null(st, 1);
		sqlite3_bind_text(st, 2, in->fullname, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, in->location, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, in->job_title, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, badges.data ? badges.data : "[]", -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	buf_free(&badges);
	if (rc == SQLITE_CONSTRAINT)
		return err_set(e, ST_EXISTS, "not saved: an employee with id %s already exists", id);
	if (rc != SQLITE_DONE)
		return sql_fail(o, rc, e, "saving");
	if (!*id)
		snprintf(id, sizeof id, "%lld", (long long)sqlite3_last_insert_rowid(o->db));
	if (o->total >= 0)
		o->total++;
	return offline_get(b, id, out, e);
}

static enum status offline_replace(struct backend *b, const struct employee *in,
				   struct employee *current, struct err *e)
{
	struct offline *o = off(b);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	struct buf badges = BUF_INIT;
	badges_encode(&in->badges, o->badges_fmt, &badges);
	sqlite3_stmt *st;
	op_begin(o, "saving");
	int rc = sqlite3_prepare_v2(o->db,
				    "UPDATE employees SET fullname = ?2, location = ?3, job_title = ?4, badges = ?5 "
				    "WHERE id = ?1 AND empdir_version(id, fullname, location, job_title, badges) = ?6",
				    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		bind_id(o, st, 1, in->id);
		sqlite3_bind_text(st, 2, in->fullname, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, in->location, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, in->job_title, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, badges.data ? badges.data : "[]", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, in->version, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	buf_free(&badges);
	if (rc != SQLITE_DONE)
		return sql_fail(o, rc, e, "saving");
	if (sqlite3_changes(o->db) == 0)
		return explain_no_change(o, in->id, current, e);
	return offline_get(b, in->id, current, e);
}

static enum status offline_remove(struct backend *b, const char *id, const char *version,
				  struct employee *current, struct err *e)
{
	struct offline *o = off(b);
	if (b->read_only)
		return backend_refuse_read_only(b, e);
	sqlite3_stmt *st;
	op_begin(o, "deleting");
	int rc = sqlite3_prepare_v2(o->db,
				    "DELETE FROM employees WHERE id = ?1 AND "
				    "empdir_version(id, fullname, location, job_title, badges) = ?2",
				    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		bind_id(o, st, 1, id);
		sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE)
		return sql_fail(o, rc, e, "deleting");
	if (sqlite3_changes(o->db) == 0)
		return explain_no_change(o, id, current, e);
	if (o->total > 0)
		o->total--;
	return ST_OK;
}

static unsigned offline_caps(struct backend *b)
{
	struct offline *o = off(b);
	unsigned caps = CAP_VERSIONS | CAP_COUNT | (o->journaled ? CAP_JOURNAL : 0);
	if (!b->read_only)
		caps |= CAP_WRITE;
	if (o->has_index)
		caps |= CAP_FAST_SEARCH;
	return caps;
}

static void offline_describe(struct backend *b, char *out, size_t outsz)
{
	struct offline *o = off(b);
	long waiting = 0, conflicts = 0;
	if (o->journaled && o->journal_count) {
		sqlite3_reset(o->journal_count);
		if (sqlite3_step(o->journal_count) == SQLITE_ROW) {
			waiting = sqlite3_column_int64(o->journal_count, 0);
			conflicts = sqlite3_column_int64(o->journal_count, 1);
		}
		sqlite3_reset(o->journal_count);
	}
	if (!o->journaled)
		snprintf(out, outsz, "offline %s%s", o->display_name, b->read_only ? " (read-only)" : "");
	else
		snprintf(out, outsz, "offline %s%s | %ld to push%s%.0ld%s | pulled %.10s %.5s", o->display_name,
			 b->read_only ? " (read-only)" : "", waiting, conflicts ? ", " : "", conflicts,
			 conflicts ? " in conflict" : "", o->pulled_at, o->pulled_at[0] ? o->pulled_at + 11 : "");
}

static const char *offline_hint(struct backend *b)
{
	return off(b)->hint;
}

const struct backend_ops offline_backend_ops = {
	.name = "offline",
	.open = offline_open,
	.close = offline_close,
	.list_page = offline_list_page,
	.count = offline_count,
	.get = offline_get,
	.create = offline_create,
	.replace = offline_replace,
	.remove = offline_remove,
	.caps = offline_caps,
	.describe = offline_describe,
	.hint = offline_hint,
};
