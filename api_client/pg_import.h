/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pg_import: loading rows into the directory's employees table in
 * PostgreSQL the way a migration has to be done, all in one transaction:
 *
 *   begin    connect, BEGIN, a temporary staging table (dropped at the end)
 *   stage    COPY the rows into it
 *   compare  check the server holds exactly what was sent: the row count,
 *            and a checksum of the content (the MD5 of every row's content
 *            version, PG_VERSION_SQL, concatenated in id byte order) computed
 *            here in C and there in SQL; then how the rows relate to the
 *            table: new ids, identical rows, conflicting ones (same id, other
 *            content). Takes a lock that keeps other writers out until the
 *            end, unless it is a dry run
 *   apply    insert the new rows, and skip or replace the conflicting ones;
 *            then verify the table: every staged id present, the count and
 *            the checksum of those rows what the plan says
 *   commit   only after all of that; pg_import_end() rolls back otherwise.
 *
 * Nothing is retried after a lost connection: the server rolls the
 * transaction back, and the caller is told. A connection lost while
 * committing leaves the outcome unknown, and the message says how to find
 * out (the same import with --dry-run).
 *
 * Ownership: a struct pg_import comes from pg_import_begin() and is released
 * by pg_import_end(); a plan's conflict_ids are freed by pg_import_plan_free(). */
#ifndef EMPDIR_PG_IMPORT_H
#define EMPDIR_PG_IMPORT_H

#include <stdbool.h>

#include "../core/buf.h"
#include "../core/err.h"

struct conn_config;
struct pg_import;

enum pg_conflict_policy { PG_CONFLICT_FAIL, PG_CONFLICT_SKIP, PG_CONFLICT_REPLACE };

/* One row as the table stores it; badges NULL is SQL NULL. */
struct pg_import_row {
	const char *id, *fullname, *location, *job_title, *badges;
};

/* The next row (valid until the next call), or *end. Rows must come in
 * ascending byte order of id, each id once. */
typedef enum status (*pg_import_next_fn)(void *ctx, struct pg_import_row *row, bool *end,
					 struct err *e);

struct pg_import_plan {
	long staged;              /* rows sent and received */
	long new_rows;            /* ids the table does not have */
	long identical;           /* same id, same content */
	long conflicting;         /* same id, other content */
	struct strvec conflict_ids; /* the first few conflicting ids */
	char checksum[33];        /* of the staged rows, equal on both sides */
	char keep_checksum[33];   /* of the staged ids if the table's rows win */
};

struct pg_import_result {
	long inserted;            /* new rows written */
	long replaced;            /* conflicting rows overwritten */
	long verified;            /* staged ids found in the table afterwards */
	char checksum[33];        /* their content checksum, as expected */
};

enum status pg_import_begin(const struct conn_config *cfg, struct pg_import **out, struct err *e);
/* "dbname@host:port", for messages. */
const char *pg_import_where(const struct pg_import *im);
/* progress(ctx, rows sent so far); may be NULL. */
enum status pg_import_stage(struct pg_import *im, pg_import_next_fn next, void *ctx,
			    void (*progress)(void *ctx, long sent), struct err *e);
enum status pg_import_compare(struct pg_import *im, bool lock, struct pg_import_plan *plan,
			      struct err *e);
void pg_import_plan_free(struct pg_import_plan *plan);
/* ST_CONFLICT without writing when the policy is FAIL and rows conflict. */
enum status pg_import_apply(struct pg_import *im, const struct pg_import_plan *plan,
			    enum pg_conflict_policy policy, struct pg_import_result *res, struct err *e);
enum status pg_import_commit(struct pg_import *im, struct err *e);
/* Roll back (unless committed), disconnect, free. */
void pg_import_end(struct pg_import *im);

#endif
