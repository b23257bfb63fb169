/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pg_copy: PostgreSQL's COPY protocol over a pg_session, without freezing
 * the screen: COPY ... TO STDOUT streamed row by row to a callback, COPY
 * ... FROM STDIN fed by a callback, both asynchronous (the waiter ticks, Esc
 * cancels), and the text format's field codec.
 *
 * Neither is retried after a lost connection: a COPY is part of a bigger
 * piece of work that only its caller can restart. Buffers handed to the
 * callbacks belong to pg_copy and are valid only during the call. */
#ifndef EMPDIR_PG_COPY_H
#define EMPDIR_PG_COPY_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/buf.h"
#include "pg_session.h"

/* One data row of COPY TO STDOUT (text format), without its newline, NUL-
 * terminated and writable (pg_copy_split works in place). */
typedef enum status (*pg_copy_line_fn)(void *ctx, char *line, size_t len, struct err *e);

/* Run `sql` (a COPY ... TO STDOUT) and hand every row to line(). A status
 * other than ST_OK from line() cancels the copy at the server and is
 * returned with line()'s message. */
enum status pg_copy_out(struct pg_session *c, const char *sql, int nparams,
			const char *const *params, pg_copy_line_fn line, void *ctx, struct err *e);

/* Appends the next rows (text format, each ending in '\n') to out, about
 * 64 KiB at a time; sets *done after the last one. A failure ends the COPY
 * with an error (the server keeps nothing of it). */
typedef enum status (*pg_copy_fill_fn)(void *ctx, struct buf *out, bool *done, struct err *e);

/* Run `sql` (a COPY ... FROM STDIN) with what fill() produces; *rows is the
 * count the server reports. Meant to run inside the caller's transaction. */
enum status pg_copy_in(struct pg_session *c, const char *sql, pg_copy_fill_fn fill, void *ctx,
		       long *rows, struct err *e);

/* Split a text-format row into at most nmax fields, unescaping in place:
 * fields[i] points into line, NULL for \N. Returns the number of fields
 * found (more than nmax: nmax + 1). */
size_t pg_copy_split(char *line, size_t len, char **fields, size_t nmax);
/* Append one field in text format (NULL: \N), then a tab, or a newline
 * after the last field of the row. */
void pg_copy_put(struct buf *out, const char *s, bool last);

#endif
