/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pg_backend: the PostgreSQL (Aurora) backend's extras beyond struct
 * backend_ops: the admin setup command and a hook for tests.
 *
 * pg_db_setup() creates the employees table when it is absent and the
 * indexes the pg backend's paging and search need, after printing the exact
 * SQL and asking. It reads answers from `in`, writes to `out` and `err`, and
 * owns nothing it returns. */
#ifndef EMPDIR_PG_BACKEND_H
#define EMPDIR_PG_BACKEND_H

#include <stdbool.h>
#include <stdio.h>

#include <libpq-fe.h>

struct backend;
struct conn_config;

/* `empdir-tui db setup CONNECTION`. Exit status: 0 every statement ran (or
 * there was nothing to do), 1 a statement failed or the user said no,
 * 3 the database cannot be reached. */
int pg_db_setup(const struct conn_config *cc, FILE *in, FILE *out, FILE *err, bool assume_yes);

/* For tests: the live libpq connection of a pg backend, NULL while it is
 * disconnected. Not for screens (they talk to struct backend_ops only). */
PGconn *pg_backend_pgconn(struct backend *b);

#endif
