/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Loading rows into PostgreSQL in one verified transaction: see
 * pg_import.h. Every statement after BEGIN goes through tx_exec(), which
 * refuses to run on any connection but the one holding our transaction:
 * pg_session would quietly reconnect, and a statement run outside the
 * transaction (above all the COMMIT, which the server answers with a mere
 * warning) would make a failed import look done. */
#include "pg_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../core/config.h"
#include "../core/employee.h"
#include "pg_copy.h"
#include "pg_session.h"

#define CHUNK_BYTES 65536
#define CONFLICT_IDS_SHOWN 10

struct pg_import {
	struct pg_session s;
	int pid;                  /* the server process of our transaction */
	bool committed;
	/* staging */
	pg_import_next_fn next;
	void *next_ctx;
	void (*progress)(void *ctx, long sent);
	EVP_MD_CTX *md;
	char prev_id[EMP_ID_MAX + 1];
	bool have_prev;
	long sent;
	char checksum[33];
	struct pg_import_plan plan_seen; /* counts only, to check apply's */
};

/* The content checksum of rows: MD5 of their versions in id byte order. */
#define CHECKSUM_OF(v, id) "md5(coalesce(string_agg(" v ", '' ORDER BY " id " COLLATE \"C\"), ''))"
/* A row's id and content version, under names that survive a join. */
#define STAGED "(SELECT id, " PG_VERSION_SQL " AS v FROM empdir_import)"
#define TABLED "(SELECT id::text AS id, " PG_VERSION_SQL " AS v FROM employees)"

/* ---- statements inside our transaction ---- */

static bool tx_alive(const struct pg_import *im)
{
	return im->s.conn && PQbackendPID(im->s.conn) == im->pid &&
	       PQtransactionStatus(im->s.conn) != PQTRANS_IDLE;
}

static enum status tx_lost(struct pg_import *im, struct err *e)
{
	return err_set(e, ST_UNAVAILABLE,
		       "the connection to %s was lost during the import; the server rolled the transaction "
		       "back: nothing was imported", im->s.where);
}

static enum status tx_exec(struct pg_import *im, const char *sql, int nparams, const char *const *params,
			   PGresult **res, struct err *e)
{
	*res = NULL;
	if (!tx_alive(im))
		return tx_lost(im, e);
	struct pg_stmt s = {sql, nparams, params, true};
	enum status st = pg_session_exec(&im->s, &s, res, e);
	if (!tx_alive(im)) {
		PQclear(*res);
		*res = NULL;
		return st == ST_OK || im->s.lost ? tx_lost(im, e) : st;
	}
	return st;
}

/* A statement whose result does not matter beyond success. */
static enum status tx_run(struct pg_import *im, const char *sql, struct err *e)
{
	PGresult *r;
	enum status st = tx_exec(im, sql, 0, NULL, &r, e);
	PQclear(r);
	return st;
}

static void hex33(const char *s, char out[33])
{
	snprintf(out, 33, "%s", s);
}

/* ---- begin ---- */

static enum status check_table(struct pg_import *im, struct err *e)
{
	PGresult *r;
	enum status st = tx_exec(im, "SELECT to_regclass('employees') IS NOT NULL", 0, NULL, &r, e);
	if (st != ST_OK)
		return st;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		st = err_set(e, ST_UNAVAILABLE, "%s has no employees table; create it with `empdir-tui db setup` "
			     "first (nothing was imported)", im->s.where);
	PQclear(r);
	return st;
}

/* BEGIN, the transaction's settings, the staging table. */
static enum status set_up(struct pg_import *im, struct err *e)
{
	PGresult *r;
	struct pg_stmt begin = {"BEGIN", 0, NULL, true};
	enum status st = pg_session_exec(&im->s, &begin, &r, e);
	PQclear(r);
	if (st != ST_OK)
		return st;
	im->pid = PQbackendPID(im->s.conn);
	/* An admin's one-off job: the connection's timeouts are for screens;
	 * waiting behind another writer's lock is not worth more than 10 s. */
	if ((st = tx_run(im, "SET LOCAL statement_timeout = 0", e)) != ST_OK ||
	    (st = tx_run(im, "SET LOCAL lock_timeout = '10s'", e)) != ST_OK ||
	    (st = check_table(im, e)) != ST_OK)
		return st;
	return tx_run(im, "CREATE TEMPORARY TABLE empdir_import (id text, fullname text, location text, "
			  "job_title text, badges text) ON COMMIT DROP", e);
}

enum status pg_import_begin(const struct conn_config *cfg, struct pg_import **out, struct err *e)
{
	*out = NULL;
	struct pg_import *im = xcalloc(1, sizeof *im);
	enum status st = pg_session_open(&im->s, cfg, NULL, e);
	if (st != ST_OK) {
		free(im);
		return st;
	}
	pg_session_opened(&im->s);
	if ((st = set_up(im, e)) != ST_OK) {
		pg_import_end(im);
		return st;
	}
	*out = im;
	return ST_OK;
}

const char *pg_import_where(const struct pg_import *im)
{
	return im->s.where;
}

/* ---- stage ---- */

static void put_row(struct pg_import *im, const struct pg_import_row *r, struct buf *out)
{
	char v[33];
	employee_content_version(r->id, r->fullname, r->location, r->job_title, r->badges, v);
	EVP_DigestUpdate(im->md, v, 32);
	pg_copy_put(out, r->id, false);
	pg_copy_put(out, r->fullname, false);
	pg_copy_put(out, r->location, false);
	pg_copy_put(out, r->job_title, false);
	pg_copy_put(out, r->badges, true);
	snprintf(im->prev_id, sizeof im->prev_id, "%s", r->id);
	im->have_prev = true;
	im->sent++;
}

static enum status fill(void *arg, struct buf *out, bool *done, struct err *e)
{
	struct pg_import *im = arg;
	while (out->len < CHUNK_BYTES) {
		struct pg_import_row r;
		bool end = false;
		enum status st = im->next(im->next_ctx, &r, &end, e);
		if (st != ST_OK)
			return st;
		if (end) {
			*done = true;
			break;
		}
		if (strlen(r.id) > EMP_ID_MAX || (im->have_prev && strcmp(im->prev_id, r.id) >= 0))
			return err_set(e, ST_FAIL, "row %s came out of order or twice; nothing was imported", r.id);
		put_row(im, &r, out);
	}
	if (im->progress)
		im->progress(im->next_ctx, im->sent);
	return ST_OK;
}

static void digest_hex(EVP_MD_CTX *md, char out[33])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(md, d, &n);
	for (unsigned i = 0; i < n && i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

enum status pg_import_stage(struct pg_import *im, pg_import_next_fn next, void *ctx,
			    void (*progress)(void *ctx, long sent), struct err *e)
{
	im->next = next;
	im->next_ctx = ctx;
	im->progress = progress;
	im->md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(im->md, EVP_md5(), NULL);
	long rows = 0;
	enum status st = tx_alive(im) ? pg_copy_in(&im->s, "COPY empdir_import FROM STDIN", fill, im, &rows, e)
				      : tx_lost(im, e);
	if (st != ST_OK && !tx_alive(im) && im->s.lost)
		st = tx_lost(im, e);
	digest_hex(im->md, im->checksum);
	EVP_MD_CTX_free(im->md);
	im->md = NULL;
	if (st == ST_OK && rows != im->sent)
		st = err_set(e, ST_FAIL, "%s took %ld rows of the %ld sent; nothing was imported", im->s.where,
			     rows, im->sent);
	return st; /* what arrived is checked by pg_import_compare() */
}

/* ---- compare ---- */

/* The staged rows: count and checksum (to check against what was sent),
 * and how many ids the table has, with the same content or not. */
static const char compare_sql[] =
	"SELECT count(*), count(t.id), count(*) FILTER (WHERE t.v = s.v), " CHECKSUM_OF("s.v", "s.id") " "
	"FROM " STAGED " s LEFT JOIN " TABLED " t ON t.id = s.id";

/* What the staged ids will hold when the table's rows win. */
static const char keep_sql[] =
	"SELECT " CHECKSUM_OF("coalesce(t.v, s.v)", "s.id") " "
	"FROM " STAGED " s LEFT JOIN " TABLED " t ON t.id = s.id";

static const char conflicts_sql[] =
	"SELECT s.id FROM " STAGED " s JOIN " TABLED " t ON t.id = s.id WHERE t.v <> s.v "
	"ORDER BY s.id COLLATE \"C\" LIMIT 10";

static enum status list_conflicts(struct pg_import *im, struct pg_import_plan *plan, struct err *e)
{
	PGresult *r;
	enum status st = tx_exec(im, conflicts_sql, 0, NULL, &r, e);
	if (st != ST_OK)
		return st;
	for (int i = 0; i < PQntuples(r) && i < CONFLICT_IDS_SHOWN; i++)
		strvec_push(&plan->conflict_ids, PQgetvalue(r, i, 0));
	PQclear(r);
	return ST_OK;
}

enum status pg_import_compare(struct pg_import *im, bool lock, struct pg_import_plan *plan,
			      struct err *e)
{
	memset(plan, 0, sizeof *plan);
	/* Writers wait until we commit; readers go on. */
	enum status st = lock ? tx_run(im, "LOCK TABLE employees IN SHARE ROW EXCLUSIVE MODE", e) : ST_OK;
	PGresult *r;
	if (st != ST_OK || (st = tx_exec(im, compare_sql, 0, NULL, &r, e)) != ST_OK)
		return st;
	plan->staged = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	long existing = strtol(PQgetvalue(r, 0, 1), NULL, 10);
	plan->identical = strtol(PQgetvalue(r, 0, 2), NULL, 10);
	plan->new_rows = plan->staged - existing;
	plan->conflicting = existing - plan->identical;
	hex33(PQgetvalue(r, 0, 3), plan->checksum);
	PQclear(r);
	if (plan->staged != im->sent || strcmp(plan->checksum, im->checksum) != 0)
		return err_set(e, ST_FAIL, "%s received %ld rows (checksum %s) but %ld were sent (checksum %s); "
			       "nothing was imported", im->s.where, plan->staged, plan->checksum, im->sent,
			       im->checksum);
	snprintf(plan->keep_checksum, sizeof plan->keep_checksum, "%s", plan->checksum);
	if (plan->conflicting > 0) {
		if ((st = tx_exec(im, keep_sql, 0, NULL, &r, e)) != ST_OK)
			return st;
		hex33(PQgetvalue(r, 0, 0), plan->keep_checksum);
		PQclear(r);
		st = list_conflicts(im, plan, e);
	}
	im->plan_seen = *plan;
	im->plan_seen.conflict_ids = (struct strvec)STRVEC_INIT;
	return st;
}

void pg_import_plan_free(struct pg_import_plan *plan)
{
	strvec_free(&plan->conflict_ids);
}

/* ---- apply ---- */

static const char insert_sql[] =
	"INSERT INTO employees (id, fullname, location, job_title, badges) "
	"SELECT id, fullname, location, job_title, badges FROM empdir_import ";
static const char keep_theirs[] = "ON CONFLICT (id) DO NOTHING";
static const char take_ours[] =
	"ON CONFLICT (id) DO UPDATE SET fullname = EXCLUDED.fullname, location = EXCLUDED.location, "
	"job_title = EXCLUDED.job_title, badges = EXCLUDED.badges "
	"WHERE (employees.fullname, employees.location, employees.job_title, employees.badges) "
	"IS DISTINCT FROM (EXCLUDED.fullname, EXCLUDED.location, EXCLUDED.job_title, EXCLUDED.badges)";

static const char verify_sql[] =
	"SELECT count(*), " CHECKSUM_OF("t.v", "t.id") " FROM " TABLED " t JOIN empdir_import s ON s.id = t.id";

static enum status verify(struct pg_import *im, const struct pg_import_plan *plan,
			  enum pg_conflict_policy policy, struct pg_import_result *res, struct err *e)
{
	PGresult *r;
	enum status st = tx_exec(im, verify_sql, 0, NULL, &r, e);
	if (st != ST_OK)
		return st;
	res->verified = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	hex33(PQgetvalue(r, 0, 1), res->checksum);
	PQclear(r);
	const char *want = policy == PG_CONFLICT_SKIP ? plan->keep_checksum : plan->checksum;
	if (res->verified != plan->staged || strcmp(res->checksum, want) != 0)
		return err_set(e, ST_FAIL, "verification failed: the table holds %ld of the %ld rows (checksum %s, "
			       "expected %s); rolled back, nothing was imported", res->verified, plan->staged,
			       res->checksum, want);
	return ST_OK;
}

enum status pg_import_apply(struct pg_import *im, const struct pg_import_plan *plan,
			    enum pg_conflict_policy policy, struct pg_import_result *res, struct err *e)
{
	memset(res, 0, sizeof *res);
	if (plan->staged != im->plan_seen.staged || plan->conflicting != im->plan_seen.conflicting ||
	    plan->new_rows != im->plan_seen.new_rows)
		return err_set(e, ST_INVALID, "not the plan this import made");
	if (policy == PG_CONFLICT_FAIL && plan->conflicting > 0)
		return err_set(e, ST_CONFLICT, "%ld rows conflict with the table; nothing was imported",
			       plan->conflicting);
	struct buf sql = BUF_INIT;
	buf_puts(&sql, insert_sql);
	buf_puts(&sql, policy == PG_CONFLICT_REPLACE ? take_ours : keep_theirs);
	PGresult *r;
	enum status st = tx_exec(im, sql.data, 0, NULL, &r, e);
	buf_free(&sql);
	if (st != ST_OK)
		return st;
	long written = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	long want = plan->new_rows + (policy == PG_CONFLICT_REPLACE ? plan->conflicting : 0);
	if (written != want)
		return err_set(e, ST_FAIL, "%ld rows were written where %ld were planned; rolled back, nothing "
			       "was imported", written, want);
	res->replaced = policy == PG_CONFLICT_REPLACE ? plan->conflicting : 0;
	res->inserted = written - res->replaced;
	return verify(im, plan, policy, res, e);
}

/* ---- the end ---- */

enum status pg_import_commit(struct pg_import *im, struct err *e)
{
	if (!tx_alive(im))
		return tx_lost(im, e);
	PGresult *r;
	struct pg_stmt s = {"COMMIT", 0, NULL, true};
	enum status st = pg_session_exec(&im->s, &s, &r, e);
	if (st != ST_OK && im->s.lost && im->s.sent)
		return err_set(e, ST_UNAVAILABLE,
			       "the connection to %s was lost while committing, so whether the import was "
			       "committed is unknown; run the same import with --dry-run to see (committed: "
			       "every row shows as identical)", im->s.where);
	if (st != ST_OK)
		return st;
	/* An aborted transaction answers COMMIT with ROLLBACK. */
	bool ok = strcmp(PQcmdStatus(r), "COMMIT") == 0;
	PQclear(r);
	if (!ok)
		return err_set(e, ST_FAIL, "%s rolled the import back instead of committing it; nothing was "
			       "imported", im->s.where);
	im->committed = true;
	return ST_OK;
}

/* Closing the connection is the rollback: the server aborts an open
 * transaction whose client left (and this never reconnects to say so). */
void pg_import_end(struct pg_import *im)
{
	if (!im)
		return;
	if (im->md)
		EVP_MD_CTX_free(im->md);
	pg_session_close(&im->s);
	free(im);
}
