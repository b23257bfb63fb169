/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "sync.h"

#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <sys/file.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "../core/buf.h"
#include "../core/config.h"
#include "../core/text.h"
#include "loader.h"

/* 2: empdir_remote holds only the versions that are not the content
 * version of the record as pulled (format 1 held every row's). */
#define SNAPSHOT_FORMAT 2

/* The deployed table's columns; the id's uniqueness comes from an index
 * built after the rows are in (a primary key's index would have to grow
 * with every row, in the order the source sends them: either the source
 * sorts first or the inserts land at random, both far slower). */
static const char pulled_schema[] =
	"CREATE TABLE employees(id varchar(36) not null, fullname varchar(100) not null,"
	" location varchar(100) not null, job_title varchar(100) not null, badges text);"
	"CREATE TABLE IF NOT EXISTS empdir_meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE empdir_remote(id TEXT PRIMARY KEY, version TEXT NOT NULL) WITHOUT ROWID;";

/* A record's version at the source, as last known: its empdir_remote row,
 * else (format 2) the content version of the record as it was before its
 * first waiting edit (content_version_of() computes it from that edit's `before`). */

/* Conflicts are few; push asks for them before every entry, so they get an
 * index of their own (else each step scans the whole journal). Created on
 * push too, for snapshots pulled before it existed. */
#define CONFLICT_INDEX_SQL \
	"CREATE INDEX IF NOT EXISTS empdir_journal_conflicts ON empdir_journal(id) WHERE state = 'conflict';" \
	"CREATE INDEX IF NOT EXISTS empdir_journal_by_id ON empdir_journal(id, seq);"

/* The journal: written by triggers, so every writer's edits are recorded in
 * the edit's own transaction. Sync turns it off (meta journal = off) while
 * it writes what the source already has. */
static const char journal_schema[] =
	"CREATE TABLE IF NOT EXISTS empdir_journal(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at TEXT NOT NULL, op TEXT NOT NULL, id TEXT NOT NULL, base_version TEXT,"
	" before TEXT, after TEXT, state TEXT NOT NULL DEFAULT 'pending', theirs TEXT);"
	CONFLICT_INDEX_SQL
	"CREATE TRIGGER IF NOT EXISTS empdir_journal_ai AFTER INSERT ON employees"
	" WHEN (SELECT value FROM empdir_meta WHERE key = 'journal') = 'on' BEGIN"
	" INSERT INTO empdir_journal(at, op, id, base_version, before, after) VALUES ("
	"  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'create', new.id, NULL, NULL,"
	"  json_object('id', new.id, 'fullname', new.fullname, 'location', new.location,"
	"   'job_title', new.job_title, 'badges', new.badges)); END;"
	"CREATE TRIGGER IF NOT EXISTS empdir_journal_au AFTER UPDATE ON employees"
	" WHEN (SELECT value FROM empdir_meta WHERE key = 'journal') = 'on' BEGIN"
	" INSERT INTO empdir_journal(at, op, id, base_version, before, after) VALUES ("
	"  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'replace', old.id,"
	"  (SELECT version FROM empdir_remote WHERE id = old.id),"
	"  json_object('id', old.id, 'fullname', old.fullname, 'location', old.location,"
	"   'job_title', old.job_title, 'badges', old.badges),"
	"  json_object('id', new.id, 'fullname', new.fullname, 'location', new.location,"
	"   'job_title', new.job_title, 'badges', new.badges)); END;"
	"CREATE TRIGGER IF NOT EXISTS empdir_journal_ad AFTER DELETE ON employees"
	" WHEN (SELECT value FROM empdir_meta WHERE key = 'journal') = 'on' BEGIN"
	" INSERT INTO empdir_journal(at, op, id, base_version, before, after) VALUES ("
	"  strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'delete', old.id,"
	"  (SELECT version FROM empdir_remote WHERE id = old.id),"
	"  json_object('id', old.id, 'fullname', old.fullname, 'location', old.location,"
	"   'job_title', old.job_title, 'badges', old.badges), NULL); END;";

static enum status db_fail(sqlite3 *db, struct err *e, const char *doing, const char *path)
{
	return err_set(e, ST_FAIL, "%s %s: %s", doing, path, db ? sqlite3_errmsg(db) : "out of memory");
}

static int exec(sqlite3 *db, const char *sql) { return sqlite3_exec(db, sql, NULL, NULL, NULL); }

static int meta_set(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO empdir_meta(key, value) VALUES (?1, ?2)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static bool meta_get(sqlite3 *db, const char *key, char *out, size_t outsz)
{
	sqlite3_stmt *st;
	bool found = false;
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT value FROM empdir_meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		snprintf(out, outsz, "%s", v ? v : "");
		found = true;
	}
	sqlite3_finalize(st);
	return found;
}

static long count_of(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long n = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void utc_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Open a pulled snapshot for sync work; checks it is one we understand. */
static enum status open_snapshot(const char *path, bool write, sqlite3 **out, struct err *e)
{
	*out = NULL;
	if (access(path, F_OK) != 0)
		return err_set(e, ST_NOT_FOUND, "cannot open snapshot %s: no such file", path);
	sqlite3 *db;
	int rc = sqlite3_open_v2(path, &db, write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		enum status st = db_fail(db, e, "cannot open snapshot", path);
		sqlite3_close(db);
		return st;
	}
	sqlite3_busy_timeout(db, 5000);
	char fmt[32];
	if (!meta_get(db, "format", fmt, sizeof fmt)) {
		sqlite3_close(db);
		return err_set(e, ST_NOT_FOUND,
			       "%s was not pulled from a directory (no source recorded); make one with `empdir-tui snapshot pull SOURCE FILE`",
			       path);
	}
	if (atoi(fmt) > SNAPSHOT_FORMAT) {
		sqlite3_close(db);
		return err_set(e, ST_UNSUPPORTED,
			       "%s was written by a newer empdir-tui (snapshot format %s; this one knows %d); upgrade empdir-tui",
			       path, fmt, SNAPSHOT_FORMAT);
	}
	if (write && exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") != SQLITE_OK) {
		enum status st = db_fail(db, e, "cannot open snapshot", path);
		sqlite3_close(db);
		return st;
	}
	*out = db;
	return ST_OK;
}

enum status sync_source_of(const char *path, struct sync_source *out, struct err *e)
{
	sqlite3 *db;
	enum status st = open_snapshot(path, false, &db, e);
	if (st != ST_OK)
		return st;
	memset(out, 0, sizeof *out);
	meta_get(db, "source_backend", out->backend, sizeof out->backend);
	meta_get(db, "source_target", out->target, sizeof out->target);
	meta_get(db, "source_name", out->name, sizeof out->name);
	meta_get(db, "pulled_at", out->pulled_at, sizeof out->pulled_at);
	out->search_index = count_of(db, "SELECT count(*) FROM sqlite_master WHERE name = 'empdir_fts'") == 1;
	sqlite3_close(db);
	return ST_OK;
}

enum status sync_status(const char *path, long *waiting, long *conflicts, char pulled_at[32],
			struct err *e)
{
	sqlite3 *db;
	enum status st = open_snapshot(path, false, &db, e);
	if (st != ST_OK)
		return st;
	*waiting = count_of(db, "SELECT count(*) FROM empdir_journal");
	*conflicts = count_of(db, "SELECT count(*) FROM empdir_journal WHERE state = 'conflict'");
	meta_get(db, "pulled_at", pulled_at, 32);
	sqlite3_close(db);
	return ST_OK;
}

/* ---- pull ---- */

/* Where a pull writes, for its messages: the file the user named, and
 * whether writing is what failed. */
struct pull_target {
	const char *path;
	bool write_failed;
};

/* Writing the pulled snapshot failed with SQLite's rc and reason: name the
 * user's file, and ask about the disk when SQLite says full or I/O error. */
static enum status pull_write_fail(struct pull_target *t, int rc, const char *reason, struct err *e)
{
	char why[sizeof e->msg];
	snprintf(why, sizeof why, "%s", reason); /* reason may be e->msg */
	char *shown = text_safe_dup(t->path);
	int primary = rc & 0xff;
	err_set(e, ST_FAIL, "cannot write the snapshot %s: %s%s", shown, why,
		primary == SQLITE_FULL || primary == SQLITE_IOERR ? " (is the disk full?)" : "");
	free(shown);
	t->write_failed = true;
	return ST_FAIL;
}

#define PROGRESS_EVERY 10000

struct pull_sink {
	struct loader *l;
	int fd;             /* the file being written, for early writeback */
	sync_progress_fn progress;
	void *ctx;
	long done, total;
};

static enum status sink_add(struct pull_sink *k, const struct stream_record *r, struct err *e)
{
	if (!loader_add(k->l, r->id, r->fullname, r->location, r->job_title, r->badges, r->version))
		return err_set(e, ST_FAIL, "writing the snapshot stopped");
	if (++k->done % PROGRESS_EVERY == 0) {
		/* Start writing what is written so far: the fsync at the end then
		 * has little left to wait for. */
		sync_file_range(k->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		if (k->progress)
			k->progress(k->ctx, k->done, k->total);
	}
	return ST_OK;
}

static enum status sink_row(void *arg, const struct stream_record *r, struct err *e)
{
	return sink_add(arg, r, e);
}

/* A paged record: stored with JSON badges; its version is kept only when it
 * is not the content version of what is stored (the contract's versions are
 * opaque). */
static enum status sink_employee(void *arg, const struct employee *r, struct err *e)
{
	struct pull_sink *k = arg;
	struct buf badges = BUF_INIT;
	badges_encode(&r->badges, BADGES_JSON, &badges);
	char mine[33];
	employee_content_version(r->id, r->fullname, r->location, r->job_title, buf_str(&badges), mine);
	struct stream_record rec = {r->id, r->fullname, r->location, r->job_title, buf_str(&badges),
				    strcmp(mine, r->version) == 0 ? NULL : r->version};
	enum status st = sink_add(k, &rec, e);
	buf_free(&badges);
	return st;
}

/* Copy every row of src into db (inside the caller's transaction): streamed
 * when the source can, else page by page. */
static enum status copy_rows(struct backend *src, sqlite3 *db, int fd, struct pull_target *t,
			     sync_progress_fn progress, void *ctx, long *rows, bool *paged, struct err *e)
{
	*paged = false;
	struct pull_sink k = {.fd = fd, .progress = progress, .ctx = ctx, .total = -1};
	if (progress && (backend_caps(src) & CAP_COUNT))
		backend_count(src, NULL, &k.total, e);
	if (!(k.l = loader_start(db, e)))
		return pull_write_fail(t, sqlite3_errcode(db), e->msg, e);
	*paged = !backend_can_stream(src);
	enum status st = *paged ? backend_page_all(src, sink_employee, &k, e)
				: backend_stream_all(src, false, sink_row, &k, e);
	/* The writer's own failure says more than "writing stopped". */
	struct err werr = {0};
	int rc = SQLITE_OK;
	if (loader_finish(k.l, &rc, &werr) != ST_OK)
		st = pull_write_fail(t, rc, werr.msg, e);
	if (st == ST_OK && progress)
		progress(ctx, k.done, k.total);
	*rows = k.done;
	return st;
}

static bool fsync_path(const char *path, bool dir)
{
	int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDWR);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	close(fd);
	return ok;
}

static void dir_of(const char *path, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s", path);
	char *slash = strrchr(out, '/');
	if (!slash)
		snprintf(out, outsz, ".");
	else if (slash == out)
		out[1] = '\0';
	else
		*slash = '\0';
}

static enum status write_pulled(struct backend *src, const struct sync_source *desc, const char *tmp, int fd,
				struct pull_target *t, sync_progress_fn progress, void *ctx, long *rows,
				struct err *e)
{
	sqlite3 *db;
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		enum status st = pull_write_fail(t, sqlite3_errcode(db), sqlite3_errmsg(db), e);
		sqlite3_close(db);
		return st;
	}
	enum status st = ST_OK;
	if (exec(db, "PRAGMA page_size=16384; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;") != SQLITE_OK ||
	    exec(db, pulled_schema) != SQLITE_OK)
		st = pull_write_fail(t, sqlite3_errcode(db), sqlite3_errmsg(db), e);
	bool paged = false;
	if (st == ST_OK)
		st = copy_rows(src, db, fd, t, progress, ctx, rows, &paged, e);
	/* Pages are not one snapshot of the source: a record renamed while
	 * they came can be in two of them. The later page holds its newer
	 * state (empdir_remote kept the later version too). */
	if (st == ST_OK && paged &&
	    exec(db, "DELETE FROM employees WHERE rowid NOT IN (SELECT max(rowid) FROM employees GROUP BY id)") !=
		    SQLITE_OK)
		st = pull_write_fail(t, sqlite3_errcode(db), sqlite3_errmsg(db), e);
	if (st == ST_OK && paged)
		*rows = count_of(db, "SELECT count(*) FROM employees");
	if (st == ST_OK &&
	    exec(db, "PRAGMA threads=2; CREATE UNIQUE INDEX empdir_by_id ON employees(id)") != SQLITE_OK)
		st = pull_write_fail(t, sqlite3_errcode(db), sqlite3_errmsg(db), e);
	char fmt[8], now[32], id[256];
	snprintf(fmt, sizeof fmt, "%d", SNAPSHOT_FORMAT);
	backend_identity(src, id, sizeof id);
	utc_now(now);
	if (st == ST_OK &&
	    (meta_set(db, "format", fmt) != SQLITE_OK || meta_set(db, "source_backend", desc->backend) != SQLITE_OK ||
	     meta_set(db, "source_target", desc->target) != SQLITE_OK ||
	     meta_set(db, "source_name", desc->name) != SQLITE_OK || meta_set(db, "pulled_at", now) != SQLITE_OK ||
	     meta_set(db, "source_id", id) != SQLITE_OK ||
	     meta_set(db, "journal", "on") != SQLITE_OK || exec(db, journal_schema) != SQLITE_OK ||
	     exec(db, "COMMIT") != SQLITE_OK))
		st = pull_write_fail(t, sqlite3_errcode(db), sqlite3_errmsg(db), e);
	if (st != ST_OK)
		exec(db, "ROLLBACK");
	sqlite3_close(db);
	return st;
}

/* Temporary files of pulls that were killed: their lock is free. */
static void remove_stale_pulls(const char *path)
{
	struct buf pattern = BUF_INIT;
	buf_printf(&pattern, "%s.pull-??????", path);
	glob_t g;
	if (glob(pattern.data, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			int fd = open(g.gl_pathv[i], O_RDWR);
			if (fd < 0)
				continue;
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				unlink(g.gl_pathv[i]);
			close(fd);
		}
		globfree(&g);
	}
	buf_free(&pattern);
}

/* The pull in progress, for sync_pull_interrupted(): its temporary file
 * while it is written (1), and whether the result is in place (2). */
static char pull_tmp[4096];
static volatile sig_atomic_t pull_state;

bool sync_pull_interrupted(void)
{
	if (pull_state == 1)
		unlink(pull_tmp);
	return pull_state != 2;
}

enum status sync_pull(struct backend *src, const struct sync_source *desc, const char *path, bool index,
		      sync_progress_fn progress, void *ctx, long *rows, struct err *e)
{
	*rows = 0;
	struct stat sb;
	if (stat(path, &sb) == 0 && sb.st_size > 0) {
		/* Only a snapshot of ours with nothing waiting is replaced: not
		 * another file (the seed's employees.db, say), nor one a newer
		 * empdir-tui wrote, whose journal this one cannot read. */
		long waiting = 0, conflicts = 0;
		char at[32];
		struct err why = {0};
		enum status st = sync_status(path, &waiting, &conflicts, at, &why);
		if (st == ST_NOT_FOUND)
			return err_set(e, ST_CONFLICT,
				       "%s exists and is not a snapshot (nothing records where it was pulled from); "
				       "pull into another file, or remove it first",
				       path);
		if (st != ST_OK) {
			*e = why;
			return st == ST_UNSUPPORTED ? ST_CONFLICT : st;
		}
		if (waiting > 0)
			return err_set(e, ST_CONFLICT,
				       "%s has %ld edit%s not pushed yet; push them first (empdir-tui snapshot push %s) or pull into another file",
				       path, waiting, waiting == 1 ? "" : "s", path);
	}
	remove_stale_pulls(path);
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.pull-XXXXXX", path);
	int fd = mkstemp(tmp.data);
	if (fd < 0) {
		enum status st = err_set(e, ST_FAIL, "cannot create a file beside %s: %s", path, strerror(errno));
		buf_free(&tmp);
		return st;
	}
	/* Held while the pull runs: a file nobody holds is a killed pull's. */
	flock(fd, LOCK_EX);
	if (strlen(tmp.data) < sizeof pull_tmp) {
		memcpy(pull_tmp, tmp.data, strlen(tmp.data) + 1);
		pull_state = 1;
	}
	struct pull_target t = {path, false};
	enum status st = write_pulled(src, desc, tmp.data, fd, &t, progress, ctx, rows, e);
	if (st == ST_OK && index) {
		/* The search index, built here rather than on first open. */
		struct conn_config cc = {.name = "pull", .backend = "offline", .target = tmp.data};
		struct backend *b;
		st = backend_open(&cc, &b, e);
		if (st == ST_OK)
			backend_close(b);
	}
	if (st == ST_OK) {
		char dir[1024];
		dir_of(path, dir, sizeof dir);
		struct buf side = BUF_INIT;
		/* A stale WAL beside the old file would be replayed into the new one. */
		buf_printf(&side, "%s-wal", path);
		unlink(side.data);
		buf_reset(&side);
		buf_printf(&side, "%s-shm", path);
		unlink(side.data);
		buf_free(&side);
		if (!fsync_path(tmp.data, false))
			st = err_set(e, ST_FAIL, "cannot put the snapshot in place at %s: %s", path, strerror(errno));
		pull_state = 0; /* the temporary file is about to become the snapshot */
		if (st == ST_OK && rename(tmp.data, path) == 0)
			pull_state = 2;
		if (st == ST_OK && (pull_state != 2 || !fsync_path(dir, true)))
			st = err_set(e, ST_FAIL, "cannot put the snapshot in place at %s: %s", path, strerror(errno));
	}
	if (st != ST_OK) {
		unlink(tmp.data);
		if (st != ST_CANCELLED) { /* say what did not change */
			struct err why = *e;
			err_set(e, st, "%s; %s", why.msg,
				access(path, F_OK) != 0 ? "nothing was written"
				: t.write_failed ? "the previous one is unchanged" : "the previous snapshot is unchanged");
		}
	}
	pull_state = 0;
	close(fd);
	buf_free(&tmp);
	return st;
}

/* ---- the journal as records ---- */

static bool json_to_employee(const char *json, struct employee *out)
{
	employee_free(out);
	employee_init(out);
	if (!json)
		return false;
	cJSON *o = cJSON_Parse(json);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return false;
	}
	const char *keys[] = {"fullname", "location", "job_title"};
	enum employee_field fields[] = {EF_FULLNAME, EF_LOCATION, EF_JOB_TITLE};
	cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (cJSON_IsString(id))
		snprintf(out->id, sizeof out->id, "%s", id->valuestring);
	else if (cJSON_IsNumber(id))
		snprintf(out->id, sizeof out->id, "%.0f", id->valuedouble);
	for (int i = 0; i < 3; i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
		employee_set(out, fields[i], cJSON_IsString(v) ? v->valuestring : "");
	}
	cJSON *badges = cJSON_GetObjectItemCaseSensitive(o, "badges");
	enum badge_format fmt;
	const char *btext = cJSON_IsString(badges) ? badges->valuestring : NULL;
	badges_decode(btext, &out->badges, &fmt);
	employee_content_version(out->id, out->fullname, out->location, out->job_title, btext, out->version);
	cJSON_Delete(o);
	return true;
}

static char *employee_to_json(const struct employee *r)
{
	cJSON *o = cJSON_CreateObject();
	struct buf badges = BUF_INIT;
	badges_encode(&r->badges, BADGES_JSON, &badges);
	cJSON_AddStringToObject(o, "id", r->id);
	cJSON_AddStringToObject(o, "fullname", r->fullname);
	cJSON_AddStringToObject(o, "location", r->location);
	cJSON_AddStringToObject(o, "job_title", r->job_title);
	cJSON_AddStringToObject(o, "badges", badges.data ? badges.data : "[]");
	cJSON_AddStringToObject(o, "version", r->version);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	buf_free(&badges);
	return s;
}

struct entry {
	long seq;
	char op[8];
	char id[EMP_ID_MAX + 1];
	char remote_version[EMP_VERSION_MAX + 1]; /* what the source has, as we last knew */
	bool has_after;
	struct employee after;
};

/* The next pending entry whose id has no unresolved conflict before it. */
/* The pending entries, in order, whose record has no unresolved conflict
 * before them (?1: how many at most). */
#define PENDING_SQL \
	"SELECT j.seq, j.op, j.id, r.version, j.after, (SELECT f.before FROM empdir_journal f" \
	" WHERE f.id = j.id ORDER BY f.seq LIMIT 1) FROM empdir_journal j" \
	" LEFT JOIN empdir_remote r ON r.id = j.id WHERE j.state = 'pending' AND j.id NOT IN" \
	" (SELECT id FROM empdir_journal WHERE state = 'conflict') ORDER BY j.seq LIMIT ?1"

/* The content version of a journal's `before` (the record as json_object()
 * wrote it, badges as stored); "" when there is none (a create). */
static void content_version_of(const char *before, char out[EMP_VERSION_MAX + 1])
{
	out[0] = '\0';
	cJSON *j = before ? cJSON_Parse(before) : NULL;
	const char *f[4];
	static const char *const keys[4] = {"id", "fullname", "location", "job_title"};
	bool ok = cJSON_IsObject(j);
	for (int i = 0; ok && i < 4; i++)
		ok = (f[i] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, keys[i]))) != NULL;
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "badges");
	if (ok && (cJSON_IsString(b) || cJSON_IsNull(b))) {
		char v[33];
		employee_content_version(f[0], f[1], f[2], f[3], cJSON_IsString(b) ? b->valuestring : NULL, v);
		snprintf(out, EMP_VERSION_MAX + 1, "%s", v);
	}
	cJSON_Delete(j);
}

static void read_entry(sqlite3_stmt *st, struct entry *en)
{
	en->seq = sqlite3_column_int64(st, 0);
	snprintf(en->op, sizeof en->op, "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(en->id, sizeof en->id, "%s", (const char *)sqlite3_column_text(st, 2));
	if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		snprintf(en->remote_version, sizeof en->remote_version, "%s", (const char *)sqlite3_column_text(st, 3));
	else
		content_version_of((const char *)sqlite3_column_text(st, 5), en->remote_version);
	en->has_after = json_to_employee((const char *)sqlite3_column_text(st, 4), &en->after);
}

static int next_entry(sqlite3 *db, struct entry *en, bool *found)
{
	sqlite3_stmt *st;
	*found = false;
	int rc = sqlite3_prepare_v2(db, PENDING_SQL, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int(st, 1, 1);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*found = true;
		read_entry(st, en);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The source confirmed entry seq: record its version and drop the entry,
 * in one transaction. version NULL: the record is gone at the source. */
static int confirm(sqlite3 *db, long seq, const char *id, const char *version)
{
	sqlite3_stmt *a = NULL, *b = NULL;
	int rc = exec(db, "SAVEPOINT confirm"); /* inside push's group transaction */
	if (rc != SQLITE_OK)
		return rc;
	if (version)
		rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO empdir_remote VALUES (?1, ?2)", -1, &a, NULL);
	else
		rc = sqlite3_prepare_v2(db, "DELETE FROM empdir_remote WHERE id = ?1", -1, &a, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(a, 1, id, -1, SQLITE_STATIC);
		if (version)
			sqlite3_bind_text(a, 2, version, -1, SQLITE_STATIC);
		rc = sqlite3_step(a) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	if (rc == SQLITE_OK &&
	    (rc = sqlite3_prepare_v2(db, "DELETE FROM empdir_journal WHERE seq = ?1", -1, &b, NULL)) == SQLITE_OK) {
		sqlite3_bind_int64(b, 1, seq);
		rc = sqlite3_step(b) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	rc = rc == SQLITE_OK ? exec(db, "RELEASE confirm") : rc;
	if (rc != SQLITE_OK)
		exec(db, "ROLLBACK TO confirm; RELEASE confirm");
	return rc;
}

/* A conflict whose "theirs" is what a later edit of ours made of the record
 * is our own earlier push, confirmed by the source but not yet recorded
 * here when the last push stopped: not a conflict. */
static bool theirs_is_a_later_edit(sqlite3 *db, const struct entry *en, const struct employee *theirs)
{
	sqlite3_stmt *st;
	bool mine = false;
	if (sqlite3_prepare_v2(db, "SELECT after FROM empdir_journal WHERE id = ?1 AND seq > ?2"
				   " AND state = 'pending' AND after IS NOT NULL ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, en->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, en->seq);
	struct employee later;
	employee_init(&later);
	while (!mine && sqlite3_step(st) == SQLITE_ROW)
		mine = json_to_employee((const char *)sqlite3_column_text(st, 0), &later) &&
		       employee_same_content(&later, theirs);
	employee_free(&later);
	sqlite3_finalize(st);
	return mine;
}

/* Confirmations are committed in groups: one fsync per group instead of per
 * edit. A crash loses only the local record of confirmed edits, and the
 * next push recognises them as already applied. */
#define GROUP_EDITS 256
#define GROUP_MS 500

static int mark_conflict(sqlite3 *db, long seq, const struct employee *theirs)
{
	sqlite3_stmt *st;
	char *json = theirs ? employee_to_json(theirs) : NULL;
	int rc = sqlite3_prepare_v2(db, "UPDATE empdir_journal SET state = 'conflict', theirs = ?2 WHERE seq = ?1",
				    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, seq);
		if (json)
			sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 2);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_finalize(st);
	}
	cJSON_free(json);
	return rc;
}

enum push_outcome { PUSHED, ALREADY, CONFLICT };

/* Apply one entry at the source. On ST_OK *outcome says what happened and
 * *version is the source's version afterwards ("" when gone). */
static enum status apply_entry(struct backend *dst, struct entry *en, enum push_outcome *outcome,
			       struct employee *theirs, bool *has_theirs, char version[EMP_VERSION_MAX + 1],
			       struct err *e)
{
	struct employee cur;
	enum status st;
	*has_theirs = false;
	version[0] = '\0';
	if (strcmp(en->op, "create") == 0) {
		snprintf(en->after.id, sizeof en->after.id, "%s", en->id);
		st = backend_create(dst, &en->after, &cur, e);
		if (st == ST_EXISTS) {
			employee_free(&cur);
			st = backend_get(dst, en->id, &cur, e);
			if (st == ST_OK && employee_same_content(&cur, &en->after)) {
				*outcome = ALREADY; /* an interrupted push got this far */
			} else if (st == ST_OK) {
				*outcome = CONFLICT;
				*has_theirs = true;
			}
		} else if (st == ST_OK) {
			*outcome = PUSHED;
		}
	} else if (strcmp(en->op, "replace") == 0) {
		snprintf(en->after.version, sizeof en->after.version, "%s", en->remote_version);
		st = backend_replace(dst, &en->after, &cur, e);
		if (st == ST_OK) {
			*outcome = PUSHED;
		} else if (st == ST_CONFLICT) {
			*outcome = employee_same_content(&cur, &en->after) ? ALREADY : CONFLICT;
			*has_theirs = *outcome == CONFLICT;
			st = ST_OK;
		} else if (st == ST_NOT_FOUND) {
			*outcome = CONFLICT; /* deleted at the source: the admin decides */
			st = ST_OK;
		}
	} else {
		st = backend_remove(dst, en->id, en->remote_version, &cur, e);
		if (st == ST_OK || st == ST_NOT_FOUND) {
			*outcome = st == ST_OK ? PUSHED : ALREADY;
			st = ST_OK;
			employee_free(&cur);
			return ST_OK;
		}
		if (st == ST_CONFLICT) {
			*outcome = CONFLICT;
			*has_theirs = true;
			st = ST_OK;
		}
	}
	if (st == ST_OK && *outcome != CONFLICT)
		snprintf(version, EMP_VERSION_MAX + 1, "%s", cur.version);
	if (*has_theirs) {
		employee_free(theirs);
		*theirs = cur;
	} else {
		employee_free(&cur);
	}
	return st;
}

/* Record one entry's outcome in the journal (inside the group transaction). */
static int record_outcome(sqlite3 *db, const struct entry *en, enum push_outcome outcome,
			  const struct employee *theirs, const char *version, struct sync_stats *stats)
{
	if (outcome == CONFLICT) {
		stats->conflicts++;
		return mark_conflict(db, en->seq, theirs);
	}
	if (outcome == PUSHED)
		stats->pushed++;
	else
		stats->already++;
	return confirm(db, en->seq, en->id, strcmp(en->op, "delete") == 0 ? NULL : version);
}

#define PUSH_BATCH 200

/* Up to PUSH_BATCH entries (no record twice) through the backend's batch
 * op, in one exchange. Entries whose answer needs a closer look (a create
 * that exists, a conflict without the current record) go the single way.
 * *done: entries settled; *batching goes false when the source has none. */
static enum status push_batch(sqlite3 *db, struct backend *dst, struct sync_stats *stats, long *done,
			      bool *batching, struct err *e)
{
	*done = 0;
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, PENDING_SQL, -1, &q, NULL) != SQLITE_OK)
		return err_set(e, ST_FAIL, "cannot read the journal: %s", sqlite3_errmsg(db));
	sqlite3_bind_int(q, 1, PUSH_BATCH);
	struct entry *ens = xcalloc(PUSH_BATCH, sizeof *ens);
	size_t n = 0;
	while (n < PUSH_BATCH && sqlite3_step(q) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(q, 2);
		bool again = false;
		for (size_t k = 0; k < n && !again; k++)
			again = strcmp(ens[k].id, id) == 0;
		if (again)
			break; /* a record's edits go in order: the next one waits for this batch */
		struct entry *en = &ens[n++];
		employee_init(&en->after);
		read_entry(q, en);
	}
	sqlite3_finalize(q);
	enum status st = ST_OK;
	struct batch_op *ops = xcalloc(n ? n : 1, sizeof *ops);
	struct batch_result *res = xcalloc(n ? n : 1, sizeof *res);
	for (size_t i = 0; i < n; i++) {
		struct entry *en = &ens[i];
		snprintf(en->after.id, sizeof en->after.id, "%s", en->id);
		snprintf(en->after.version, sizeof en->after.version, "%s", en->remote_version);
		ops[i].kind = strcmp(en->op, "create") == 0 ? BATCH_CREATE : strcmp(en->op, "replace") == 0 ? BATCH_REPLACE
			    : BATCH_DELETE;
		ops[i].rec = &en->after;
		ops[i].id = en->id;
		ops[i].version = en->remote_version;
	}
	if (n)
		st = backend_apply_batch(dst, ops, n, res, e);
	if (st == ST_UNSUPPORTED) {
		*batching = false;
		st = ST_OK;
		n = 0;
	}
	for (size_t i = 0; st == ST_OK && i < n; i++) {
		struct entry *en = &ens[i];
		struct batch_result *r = &res[i];
		enum push_outcome outcome = PUSHED;
		const struct employee *theirs = NULL;
		const char *version = r->has_rec ? r->rec.version : "";
		bool single = false;
		if (r->st == ST_OK)
			outcome = PUSHED;
		else if (ops[i].kind == BATCH_DELETE && r->st == ST_NOT_FOUND)
			outcome = ALREADY;
		else if (r->st == ST_EXISTS && r->has_rec && ops[i].kind == BATCH_CREATE &&
			 employee_same_content(&r->rec, &en->after)) {
			outcome = ALREADY; /* our create, confirmed before the last push stopped */
		} else if (r->st == ST_CONFLICT && r->has_rec && ops[i].kind != BATCH_CREATE) {
			bool mine = ops[i].kind == BATCH_REPLACE && (employee_same_content(&r->rec, &en->after) ||
								  theirs_is_a_later_edit(db, en, &r->rec));
			outcome = mine ? ALREADY : CONFLICT;
			theirs = &r->rec;
		} else
			single = true;
		struct employee other;
		employee_init(&other);
		char v[EMP_VERSION_MAX + 1];
		if (single) {
			bool has_other;
			st = apply_entry(dst, en, &outcome, &other, &has_other, v, e);
			if (st == ST_OK && outcome == CONFLICT && has_other && theirs_is_a_later_edit(db, en, &other)) {
				outcome = ALREADY;
				snprintf(v, sizeof v, "%s", other.version);
			}
			theirs = has_other ? &other : NULL;
			version = v;
		}
		if (st == ST_OK && record_outcome(db, en, outcome, theirs, version, stats) != SQLITE_OK)
			st = err_set(e, ST_FAIL, "cannot update the journal: %s", sqlite3_errmsg(db));
		employee_free(&other);
		if (st == ST_OK)
			(*done)++;
	}
	batch_results_free(res, n);
	for (size_t i = 0; i < PUSH_BATCH; i++)
		if (ens[i].after.fullname)
			employee_free(&ens[i].after);
	free(ens);
	free(ops);
	free(res);
	return st;
}

/* Refuse a destination that is provably another directory than the one
 * the snapshot was pulled from (both identities known and different). */
static enum status same_directory(sqlite3 *db, struct backend *dst, const char *path, struct err *e)
{
	char pulled[256] = "", here[256];
	meta_get(db, "source_id", pulled, sizeof pulled);
	if (!pulled[0])
		return ST_OK;
	backend_identity(dst, here, sizeof here);
	if (!here[0] || strcmp(pulled, here) == 0)
		return ST_OK;
	char *a = text_safe_dup(pulled), *b = text_safe_dup(here);
	err_set(e, ST_INVALID,
		"%s was pulled from another directory (%s) than this source (%s); nothing was sent. "
		"Push it where it came from, or pull a snapshot of this source",
		path, a, b);
	free(a);
	free(b);
	return ST_INVALID;
}

enum status sync_push(struct backend *dst, const char *path, sync_progress_fn progress, void *ctx,
		      struct sync_stats *stats, struct err *e)
{
	memset(stats, 0, sizeof *stats);
	sqlite3 *db;
	enum status st = open_snapshot(path, true, &db, e);
	if (st != ST_OK)
		return st;
	if ((st = same_directory(db, dst, path, e)) != ST_OK) {
		sqlite3_close(db);
		return st;
	}
	exec(db, CONFLICT_INDEX_SQL); /* only speed depends on it */
	long total = count_of(db, "SELECT count(*) FROM empdir_journal WHERE state = 'pending'");
	int in_group = 0;
	time_t group_start = time(NULL);
	if (exec(db, "BEGIN IMMEDIATE") != SQLITE_OK) {
		st = db_fail(db, e, "cannot update the journal of", path);
		sqlite3_close(db);
		return st;
	}
	bool batching = dst->ops->apply_batch != NULL;
	for (;;) {
		if (batching) {
			long done = 0;
			st = push_batch(db, dst, stats, &done, &batching, e);
			if (st != ST_OK)
				break;
			if (done > 0) {
				if (progress)
					progress(ctx, stats->pushed + stats->already + stats->conflicts, total);
				if (exec(db, "COMMIT; BEGIN IMMEDIATE") != SQLITE_OK) {
					st = db_fail(db, e, "cannot update the journal of", path);
					break;
				}
				continue;
			}
		}
		struct entry en;
		memset(&en, 0, sizeof en);
		employee_init(&en.after);
		bool found;
		if (next_entry(db, &en, &found) != SQLITE_OK) {
			st = db_fail(db, e, "cannot read the journal of", path);
			employee_free(&en.after);
			break;
		}
		if (!found) {
			employee_free(&en.after);
			break;
		}
		enum push_outcome outcome = PUSHED;
		struct employee theirs;
		employee_init(&theirs);
		bool has_theirs;
		char version[EMP_VERSION_MAX + 1];
		st = apply_entry(dst, &en, &outcome, &theirs, &has_theirs, version, e);
		int rc = SQLITE_OK;
		if (st == ST_OK && outcome == CONFLICT && has_theirs && theirs_is_a_later_edit(db, &en, &theirs)) {
			outcome = ALREADY;
			snprintf(version, sizeof version, "%s", theirs.version);
		}
		if (st == ST_OK)
			rc = record_outcome(db, &en, outcome, has_theirs ? &theirs : NULL, version, stats);
		employee_free(&theirs);
		employee_free(&en.after);
		if (st != ST_OK)
			break;
		if (rc != SQLITE_OK) {
			st = db_fail(db, e, "cannot update the journal of", path);
			break;
		}
		if (progress)
			progress(ctx, stats->pushed + stats->already + stats->conflicts, total);
		if (++in_group >= GROUP_EDITS || (time(NULL) - group_start) * 1000 >= GROUP_MS) {
			if (exec(db, "COMMIT; BEGIN IMMEDIATE") != SQLITE_OK) {
				st = db_fail(db, e, "cannot update the journal of", path);
				break;
			}
			in_group = 0;
			group_start = time(NULL);
		}
	}
	if (exec(db, "COMMIT") != SQLITE_OK && st == ST_OK)
		st = db_fail(db, e, "cannot update the journal of", path);
	stats->waiting = count_of(db, "SELECT count(*) FROM empdir_journal");
	sqlite3_close(db);
	return st;
}

/* ---- conflicts ---- */

enum status sync_conflicts_load(const char *path, struct sync_conflicts *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	sqlite3 *db;
	enum status st = open_snapshot(path, false, &db, e);
	if (st != ST_OK)
		return st;
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(db, "SELECT seq, op, before, after, theirs FROM empdir_journal"
				   " WHERE state = 'conflict' ORDER BY seq", -1, &q, NULL) != SQLITE_OK) {
		st = db_fail(db, e, "cannot read the journal of", path);
		sqlite3_close(db);
		return st;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		out->v = xrealloc(out->v, sizeof *out->v * (out->n + 1));
		struct sync_conflict *c = &out->v[out->n++];
		memset(c, 0, sizeof *c);
		c->seq = sqlite3_column_int64(q, 0);
		snprintf(c->op, sizeof c->op, "%s", (const char *)sqlite3_column_text(q, 1));
		employee_init(&c->base);
		employee_init(&c->mine);
		employee_init(&c->theirs);
		c->has_base = json_to_employee((const char *)sqlite3_column_text(q, 2), &c->base);
		c->has_mine = json_to_employee((const char *)sqlite3_column_text(q, 3), &c->mine);
		c->has_theirs = json_to_employee((const char *)sqlite3_column_text(q, 4), &c->theirs);
		/* theirs carries the source's own version, not a content hash */
		if (c->has_theirs) {
			cJSON *o = cJSON_Parse((const char *)sqlite3_column_text(q, 4));
			cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
			if (cJSON_IsString(v))
				snprintf(c->theirs.version, sizeof c->theirs.version, "%s", v->valuestring);
			cJSON_Delete(o);
		}
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return ST_OK;
}

void sync_conflicts_free(struct sync_conflicts *c)
{
	for (size_t i = 0; i < c->n; i++) {
		employee_free(&c->v[i].base);
		employee_free(&c->v[i].mine);
		employee_free(&c->v[i].theirs);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* Make the local row match `rec` (NULL: delete it) without journaling it,
 * record the source's version, and drop the conflict (and, when taking
 * theirs, the later local edits of that record, which were built on mine). */
static int settle_locally(sqlite3 *db, const char *id, const struct employee *rec, const char *version,
			  long seq, bool drop_later)
{
	int rc = exec(db, "BEGIN IMMEDIATE; UPDATE empdir_meta SET value = 'off' WHERE key = 'journal';");
	sqlite3_stmt *st = NULL;
	if (rc == SQLITE_OK) {
		if (rec) {
			/* UPDATE, else INSERT: REPLACE would skip the search index's
			 * delete trigger. */
			struct buf badges = BUF_INIT;
			badges_encode(&rec->badges, BADGES_JSON, &badges);
			for (int pass = 0; pass < 2 && rc == SQLITE_OK; pass++) {
				rc = sqlite3_prepare_v2(db, pass == 0
					? "UPDATE employees SET fullname = ?2, location = ?3, job_title = ?4, badges = ?5 WHERE id = ?1"
					: "INSERT INTO employees VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL);
				if (rc != SQLITE_OK)
					break;
				sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 2, rec->fullname, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 3, rec->location, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 4, rec->job_title, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 5, badges.data ? badges.data : "[]", -1, SQLITE_TRANSIENT);
				rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
				sqlite3_finalize(st);
				st = NULL;
				if (pass == 0 && sqlite3_changes(db) > 0)
					break;
			}
			buf_free(&badges);
		} else {
			rc = sqlite3_prepare_v2(db, "DELETE FROM employees WHERE id = ?1", -1, &st, NULL);
			if (rc == SQLITE_OK) {
				sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
				rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
			}
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_prepare_v2(db, version && *version ? "INSERT OR REPLACE INTO empdir_remote VALUES (?1, ?2)"
							       : "DELETE FROM empdir_remote WHERE id = ?1",
					-1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			if (version && *version)
				sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
			rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_prepare_v2(db, drop_later ? "DELETE FROM empdir_journal WHERE id = ?2 AND seq >= ?1"
						       : "DELETE FROM empdir_journal WHERE seq = ?1",
					-1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, seq);
			if (drop_later)
				sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		}
		sqlite3_finalize(st);
	}
	if (rc == SQLITE_OK)
		rc = exec(db, "UPDATE empdir_meta SET value = 'on' WHERE key = 'journal'; COMMIT;");
	if (rc != SQLITE_OK)
		exec(db, "ROLLBACK");
	return rc;
}

enum status sync_resolve(struct backend *dst, const char *path, long seq, enum sync_choice choice,
			 const struct employee *merged, struct err *e)
{
	sqlite3 *db;
	enum status st = open_snapshot(path, false, &db, e);
	if (st != ST_OK)
		return st;
	st = same_directory(db, dst, path, e);
	sqlite3_close(db);
	if (st != ST_OK)
		return st;
	struct sync_conflicts all;
	st = sync_conflicts_load(path, &all, e);
	if (st != ST_OK)
		return st;
	struct sync_conflict *c = NULL;
	for (size_t i = 0; i < all.n; i++)
		if (all.v[i].seq == seq)
			c = &all.v[i];
	if (!c) {
		sync_conflicts_free(&all);
		return err_set(e, ST_NOT_FOUND, "conflict %ld is no longer in the journal", seq);
	}
	const char *id = c->has_mine ? c->mine.id : c->base.id;
	struct employee result;
	memset(&result, 0, sizeof result); /* the backend wrappers initialise it */
	const struct employee *local = NULL;
	char version[EMP_VERSION_MAX + 1] = "";
	if (choice == SYNC_TAKE_THEIRS) {
		local = c->has_theirs ? &c->theirs : NULL;
		snprintf(version, sizeof version, "%s", c->has_theirs ? c->theirs.version : "");
	} else {
		const struct employee *want = choice == SYNC_MERGED ? merged : (c->has_mine ? &c->mine : NULL);
		if (!want) { /* keep my delete */
			st = c->has_theirs ? backend_remove(dst, id, c->theirs.version, &result, e) : ST_OK;
			if (st == ST_NOT_FOUND)
				st = ST_OK;
		} else if (c->has_theirs) {
			struct employee in;
			employee_init(&in);
			employee_copy(&in, want);
			snprintf(in.id, sizeof in.id, "%s", id);
			snprintf(in.version, sizeof in.version, "%s", c->theirs.version);
			st = backend_replace(dst, &in, &result, e);
			employee_free(&in);
			local = want;
		} else {
			struct employee in;
			employee_init(&in);
			employee_copy(&in, want);
			snprintf(in.id, sizeof in.id, "%s", id);
			st = backend_create(dst, &in, &result, e);
			employee_free(&in);
			local = want;
		}
		if (st == ST_OK && local)
			snprintf(version, sizeof version, "%s", result.version);
	}
	if (st == ST_CONFLICT)
		err_set(e, ST_CONFLICT, "the record changed again at the source; push again to see it");
	if (st == ST_OK) {
		st = open_snapshot(path, true, &db, e);
		if (st == ST_OK) {
			if (settle_locally(db, id, local, version, seq, choice == SYNC_TAKE_THEIRS) != SQLITE_OK)
				st = db_fail(db, e, "cannot update", path);
			sqlite3_close(db);
		}
	}
	employee_free(&result);
	sync_conflicts_free(&all);
	return st;
}
