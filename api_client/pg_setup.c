/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `empdir-tui db setup`: the table (when absent) and the indexes the pg
 * backend's keyset paging and trigram search want, created CONCURRENTLY so
 * a live directory keeps working while they build.
 *
 * The exact SQL is printed before anything runs, and runs only after a
 * "y". Each statement runs on its own (CREATE INDEX CONCURRENTLY refuses a
 * transaction block); its result is reported as it finishes. An index left
 * INVALID by an interrupted earlier run would satisfy IF NOT EXISTS while
 * being useless, so such an index is dropped (CONCURRENTLY) and rebuilt: the
 * plan says so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/config.h"
#include "../core/text.h"
#include "backend.h"
#include "pg_backend.h"
#include "pg_session.h"

struct setup_index {
	const char *name;
	const char *sql;
};

static const char table_sql[] =
	"CREATE TABLE IF NOT EXISTS employees (\n"
	"    id varchar(36) PRIMARY KEY,\n"
	"    fullname varchar(100) NOT NULL,\n"
	"    location varchar(100) NOT NULL,\n"
	"    job_title varchar(100) NOT NULL,\n"
	"    badges text\n"
	")";

static const char trgm_sql[] = "CREATE EXTENSION IF NOT EXISTS pg_trgm";

/* The sort indexes match the pg backend's ORDER BY exactly (see
 * pg_backend.c); the trigram ones carry the names tests/lib/pgtmp.py uses. */
static const struct setup_index indexes[] = {
	{"employees_fullname_sort", "CREATE INDEX CONCURRENTLY IF NOT EXISTS employees_fullname_sort "
	 "ON employees ((lower(fullname COLLATE \"C\")), id COLLATE \"C\")"},
	{"employees_location_sort", "CREATE INDEX CONCURRENTLY IF NOT EXISTS employees_location_sort "
	 "ON employees ((lower(location COLLATE \"C\")), id COLLATE \"C\")"},
	{"employees_job_title_sort", "CREATE INDEX CONCURRENTLY IF NOT EXISTS employees_job_title_sort "
	 "ON employees ((lower(job_title COLLATE \"C\")), id COLLATE \"C\")"},
	{"employees_fullname_trgm", "CREATE INDEX CONCURRENTLY IF NOT EXISTS employees_fullname_trgm "
	 "ON employees USING gin (fullname gin_trgm_ops)"},
	{"employees_location_trgm", "CREATE INDEX CONCURRENTLY IF NOT EXISTS employees_location_trgm "
	 "ON employees USING gin (location gin_trgm_ops)"},
	{"employees_job_title_trgm", "CREATE INDEX CONCURRENTLY IF NOT EXISTS employees_job_title_trgm "
	 "ON employees USING gin (job_title gin_trgm_ops)"},
	{"employees_badges_trgm", "CREATE INDEX CONCURRENTLY IF NOT EXISTS employees_badges_trgm "
	 "ON employees USING gin (badges gin_trgm_ops)"},
};
#define N_INDEXES (sizeof indexes / sizeof indexes[0])

/* The statements, in order; owned strings. */
struct plan {
	struct strvec sql;
};

/* Is index `name` (on the search path) left invalid by an interrupted build? */
static enum status index_invalid(struct pg_session *s, const char *name, bool *invalid,
				 struct err *e)
{
	const char *params[] = {name};
	PGresult *r;
	enum status st = pg_session_read(s, "SELECT NOT indisvalid FROM pg_index "
					    "WHERE indexrelid = to_regclass($1)", 1, params, &r, e);
	if (st != ST_OK)
		return st;
	*invalid = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return ST_OK;
}

static enum status plan_make(struct pg_session *s, struct plan *p, struct err *e)
{
	strvec_push(&p->sql, table_sql);
	strvec_push(&p->sql, trgm_sql);
	for (size_t i = 0; i < N_INDEXES; i++) {
		bool invalid = false;
		enum status st = index_invalid(s, indexes[i].name, &invalid, e);
		if (st != ST_OK)
			return st;
		if (invalid) {
			struct buf b = BUF_INIT;
			buf_printf(&b, "DROP INDEX CONCURRENTLY IF EXISTS %s", indexes[i].name);
			strvec_push(&p->sql, buf_str(&b));
			buf_free(&b);
		}
		strvec_push(&p->sql, indexes[i].sql);
	}
	return ST_OK;
}

static bool confirmed(FILE *in, FILE *out)
{
	fputs("Run these statements? [y/N] ", out);
	fflush(out);
	char line[64];
	bool got = fgets(line, sizeof line, in) != NULL;
	if (!isatty(fileno(in)))
		fputc('\n', out); /* the answer was not echoed */
	if (!got)
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

/* before + sanitised msg + after: text from the server is untrusted. */
static void say(FILE *f, const char *before, const char *msg, const char *after)
{
	char *safe = text_safe_dup(msg);
	fprintf(f, "%s%s%s", before, safe, after);
	free(safe);
}

/* "CREATE INDEX CONCURRENTLY IF NOT EXISTS employees_fullname_sort": a
 * statement up to its first parenthesis or " ON ". */
static const char *label(const char *sql, char *buf, size_t bufsz)
{
	size_t n = strcspn(sql, "(\n");
	const char *on = strstr(sql, " ON ");
	if (on && (size_t)(on - sql) < n)
		n = (size_t)(on - sql);
	while (n > 0 && sql[n - 1] == ' ')
		n--;
	snprintf(buf, bufsz, "%.*s", (int)n, sql);
	return buf;
}

/* Run each statement on its own; report each. Returns how many failed. */
static int plan_run(struct pg_session *s, const struct plan *p, FILE *out, FILE *err)
{
	int failed = 0;
	for (size_t i = 0; i < p->sql.n; i++) {
		struct pg_stmt st = {p->sql.v[i], 0, NULL, true};
		PGresult *r;
		struct err e = {0};
		char what[120];
		fprintf(out, "%s ... ", label(p->sql.v[i], what, sizeof what));
		fflush(out);
		s->notice[0] = '\0';
		if (pg_session_exec(s, &st, &r, &e) == ST_OK) {
			if (s->notice[0])
				say(out, "ok (", s->notice, ")\n");
			else
				fputs("ok\n", out);
			PQclear(r);
		} else {
			fputs("failed\n", out);
			say(err, "empdir-tui: ", e.msg, "\n");
			failed++;
		}
		fflush(out);
	}
	return failed;
}

int pg_db_setup(const struct conn_config *cc, FILE *in, FILE *out, FILE *err, bool assume_yes)
{
	if (cc->read_only) {
		fputs("empdir-tui: db setup changes the database; it cannot run on a read-only "
		      "connection\n", err);
		return 1;
	}
	struct pg_session s;
	struct err e = {0};
	if (pg_session_open(&s, cc, NULL, &e) != ST_OK) {
		say(err, "empdir-tui: ", e.msg, "\n");
		pg_session_close(&s);
		return 3;
	}
	pg_session_opened(&s);
	/* Building an index on a large table takes longer than any sensible
	 * statement_timeout: this session has none (also after a reconnect). */
	s.statement_timeout_s = 0;
	PGresult *r;
	if (pg_session_read(&s, "SELECT set_config('statement_timeout', '0', false)", 0, NULL, &r,
			    &e) != ST_OK) {
		say(err, "empdir-tui: ", e.msg, "\n");
		pg_session_close(&s);
		return 3;
	}
	PQclear(r);
	struct plan p = {STRVEC_INIT};
	int rc = 1;
	if (plan_make(&s, &p, &e) != ST_OK) {
		say(err, "empdir-tui: ", e.msg, "\n");
		goto done;
	}
	say(out, "Connected to ", s.where, ". These statements will run, each on its own:\n\n");
	for (size_t i = 0; i < p.sql.n; i++)
		fprintf(out, "%s;\n\n", p.sql.v[i]);
	if (!assume_yes && !confirmed(in, out)) {
		fputs("Nothing was changed.\n", out);
		goto done;
	}
	int failed = plan_run(&s, &p, out, err);
	if (failed)
		fprintf(out, "%d of %zu statements failed; the others are done. Fix the cause and run "
			"db setup again (it skips what exists).\n", failed, p.sql.n);
	else
		fputs("Done.\n", out);
	rc = failed ? 1 : 0;
done:
	strvec_free(&p.sql);
	pg_session_close(&s);
	return rc;
}
