/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The COPY protocol, asynchronously: see pg_copy.h. libpq hands COPY data
 * out a row at a time (PQgetCopyData) and takes it in chunks
 * (PQputCopyData); in non-blocking mode both say "not now" instead of
 * blocking, and then we wait on the socket through the session's waiter. */
#include "pg_copy.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "pg_session_internal.h"

#define DRAIN_LIMIT_MS 10000
#define TICK_EVERY_ROWS 1024

static const char *const reading = "receiving the directory";
static const char *const writing = "sending rows to the database";

/* ---- results ---- */

/* Wait until libpq has a whole result (or the connection failed). */
static enum status await_result(struct pg_session *c, const char *what, bool cancellable,
				bool *cancelled, struct err *e)
{
	while (PQisBusy(c->conn)) {
		enum pgs_wait w = pgs_wait(c, POLLIN, what, cancellable && !*cancelled, NULL);
		if (w == PGS_CANCEL) {
			pgs_cancel(c);
			*cancelled = true;
			continue;
		}
		if (w != PGS_READY || !PQconsumeInput(c->conn))
			return pgs_lost(c, e);
	}
	return ST_OK;
}

/* The statement's final result: ST_OK for COMMAND_OK (rows, when asked,
 * from its command tag), else the error. Reads everything up to the end. */
static enum status finish(struct pg_session *c, const char *what, bool cancelled, bool write,
			  long *rows, struct err *e)
{
	enum status st = ST_OK;
	bool seen = false;
	for (;;) {
		bool again = cancelled;
		if ((st = await_result(c, what, false, &again, e)) != ST_OK)
			return st;
		PGresult *r = PQgetResult(c->conn);
		if (!r)
			break;
		if (!seen) {
			seen = true;
			if (PQresultStatus(r) == PGRES_COMMAND_OK) {
				if (rows)
					*rows = strtol(PQcmdTuples(r), NULL, 10);
			} else {
				st = pgs_result_error(c, r, cancelled, write, e);
			}
		}
		PQclear(r);
		if (!c->conn)
			return st;
	}
	if (!seen && st == ST_OK)
		return pgs_lost(c, e);
	return st;
}

/* Read and drop the results still to come after a failed statement. */
static void drop_results(struct pg_session *c, const char *what)
{
	struct err ignore = {0};
	for (bool no = false; c->conn && await_result(c, what, false, &no, &ignore) == ST_OK;) {
		PGresult *r = PQgetResult(c->conn);
		if (!r)
			break;
		PQclear(r);
	}
}

/* Wait for the statement to enter COPY (want): ST_OK, or its error.
 * *cancelled: the user cancelled meanwhile (the server was asked to stop). */
static enum status enter_copy(struct pg_session *c, ExecStatusType want, const char *what, bool write,
			      bool *cancelled, struct err *e)
{
	*cancelled = false;
	enum status st = await_result(c, what, true, cancelled, e);
	if (st != ST_OK)
		return st;
	PGresult *r = PQgetResult(c->conn);
	if (!r)
		return pgs_lost(c, e);
	ExecStatusType got = PQresultStatus(r);
	if (got == want) {
		PQclear(r);
		return ST_OK;
	}
	if (got == PGRES_COMMAND_OK || got == PGRES_TUPLES_OK)
		st = err_set(e, ST_FAIL, "the database did not start the COPY");
	else
		st = pgs_result_error(c, r, *cancelled, write, e);
	PQclear(r);
	drop_results(c, what);
	return st;
}

/* ---- COPY TO STDOUT ---- */

/* After a cancel: read and drop what is still coming, within a limit (a
 * server that does not stop costs us the connection instead). */
static void drain_copy_out(struct pg_session *c)
{
	struct timespec until = pgs_after_ms(DRAIN_LIMIT_MS);
	struct err ignore = {0};
	for (;;) {
		char *buf = NULL;
		int n = PQgetCopyData(c->conn, &buf, 1);
		if (buf)
			PQfreemem(buf);
		if (n > 0)
			continue;
		if (n < 0)
			break;
		if (pgs_wait(c, POLLIN, "cancelling", false, &until) != PGS_READY ||
		    !PQconsumeInput(c->conn)) {
			pgs_lost(c, &ignore);
			return;
		}
	}
	finish(c, "cancelling", true, false, NULL, &ignore);
}

/* Stop a running COPY TO STDOUT: the server is asked to cancel, the rest
 * is dropped; returns st (whose message is already in e). */
static enum status stop_copy_out(struct pg_session *c, enum status st)
{
	pgs_cancel(c);
	drain_copy_out(c);
	return st;
}

enum status pg_copy_out(struct pg_session *c, const char *sql, int nparams,
			const char *const *params, pg_copy_line_fn line, void *ctx, struct err *e)
{
	struct pg_stmt s = {sql, nparams, params, false};
	bool cancelled = false;
	enum status st = pgs_begin(c, &s, "waiting for the database", e);
	if (st == ST_OK)
		st = enter_copy(c, PGRES_COPY_OUT, "waiting for the database", false, &cancelled, e);
	if (st != ST_OK)
		return st;
	if (cancelled) /* Esc came as the COPY started */
		return stop_copy_out(c, err_set(e, ST_CANCELLED, "cancelled"));
	for (unsigned long rows = 0;; rows++) {
		char *buf = NULL;
		int n = PQgetCopyData(c->conn, &buf, 1);
		if (n > 0) {
			size_t len = (size_t)n;
			if (buf[len - 1] == '\n')
				buf[--len] = '\0';
			st = line(ctx, buf, len, e);
			PQfreemem(buf);
			if (st == ST_OK && rows % TICK_EVERY_ROWS == 0 && pgs_tick_due(c, reading))
				st = err_set(e, ST_CANCELLED, "cancelled");
			if (st != ST_OK)
				return stop_copy_out(c, st);
			continue;
		}
		if (n == -1)
			return finish(c, reading, false, false, NULL, e);
		if (n == -2)
			return PQstatus(c->conn) == CONNECTION_BAD ? pgs_lost(c, e)
								   : finish(c, reading, false, false, NULL, e);
		enum pgs_wait w = pgs_wait(c, POLLIN, reading, true, NULL);
		if (w == PGS_CANCEL)
			return stop_copy_out(c, err_set(e, ST_CANCELLED, "cancelled"));
		if (w != PGS_READY || !PQconsumeInput(c->conn))
			return pgs_lost(c, e);
	}
}

/* ---- COPY FROM STDIN ---- */

/* Wait until libpq can take more (reading meanwhile, so the server never
 * blocks on us); *cancelled when the user asked to stop. */
static enum status wait_writable(struct pg_session *c, bool *cancelled, struct err *e)
{
	enum pgs_wait w = pgs_wait(c, POLLOUT | POLLIN, writing, true, NULL);
	if (w == PGS_CANCEL) {
		*cancelled = true;
		return ST_OK;
	}
	if (w != PGS_READY || !PQconsumeInput(c->conn))
		return pgs_lost(c, e);
	return ST_OK;
}

static enum status put_data(struct pg_session *c, const struct buf *b, bool *cancelled, struct err *e)
{
	int r;
	while ((r = PQputCopyData(c->conn, b->data, (int)b->len)) == 0) {
		enum status st = wait_writable(c, cancelled, e);
		if (st != ST_OK || *cancelled)
			return st;
	}
	if (r < 0)
		return pgs_lost(c, e);
	while ((r = PQflush(c->conn)) == 1) {
		enum status st = wait_writable(c, cancelled, e);
		if (st != ST_OK || *cancelled)
			return st;
	}
	return r == 0 ? ST_OK : pgs_lost(c, e);
}

/* End the COPY (with an error message: abort it) and read the verdict. */
static enum status end_copy_in(struct pg_session *c, const char *abort_msg, bool cancelled, long *rows,
			       struct err *e)
{
	int r;
	while ((r = PQputCopyEnd(c->conn, abort_msg)) == 0) {
		bool again = false;
		enum status st = wait_writable(c, &again, e);
		if (st != ST_OK)
			return st;
	}
	if (r < 0)
		return pgs_lost(c, e);
	while ((r = PQflush(c->conn)) == 1) {
		bool again = false;
		enum status st = wait_writable(c, &again, e);
		if (st != ST_OK)
			return st;
	}
	if (r < 0)
		return pgs_lost(c, e);
	return finish(c, writing, cancelled, true, rows, e);
}

enum status pg_copy_in(struct pg_session *c, const char *sql, pg_copy_fill_fn fill, void *ctx,
		       long *rows, struct err *e)
{
	*rows = 0;
	struct pg_stmt s = {sql, 0, NULL, true};
	bool done = false, cancelled = false;
	enum status st = pgs_begin(c, &s, writing, e);
	if (st == ST_OK)
		st = enter_copy(c, PGRES_COPY_IN, writing, true, &cancelled, e);
	if (st != ST_OK)
		return st;
	struct buf chunk = BUF_INIT;
	while (st == ST_OK && !done && !cancelled) {
		buf_reset(&chunk);
		st = fill(ctx, &chunk, &done, e);
		if (st == ST_OK && chunk.len > 0)
			st = put_data(c, &chunk, &cancelled, e);
		if (st == ST_OK && pgs_tick_due(c, writing))
			cancelled = true;
	}
	buf_free(&chunk);
	if (!c->conn)
		return st;
	if (st != ST_OK) {
		struct err ignore = {0};
		end_copy_in(c, "aborted by empdir-tui", false, rows, &ignore);
		return st;
	}
	if (cancelled) {
		end_copy_in(c, "cancelled by the user", true, rows, &(struct err){0});
		return err_set(e, ST_CANCELLED, "cancelled");
	}
	return end_copy_in(c, NULL, false, rows, e);
}

/* ---- the text format ---- */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* One backslash escape at *p (just after the backslash): the byte it
 * stands for; *p moves past it. */
static char unescape_one(const char **p, const char *end)
{
	char ch = *(*p)++;
	switch (ch) {
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'v': return '\v';
	case 'x':
		if (*p < end && hexval(**p) >= 0) {
			int v = hexval(*(*p)++);
			if (*p < end && hexval(**p) >= 0)
				v = v * 16 + hexval(*(*p)++);
			return (char)v;
		}
		return 'x';
	default:
		if (ch >= '0' && ch <= '7') {
			int v = ch - '0';
			for (int k = 0; k < 2 && *p < end && **p >= '0' && **p <= '7'; k++)
				v = v * 8 + (*(*p)++ - '0');
			return (char)v;
		}
		return ch;
	}
}

size_t pg_copy_split(char *line, size_t len, char **fields, size_t nmax)
{
	size_t n = 0;
	const char *p = line, *end = line + len;
	char *out = line;
	for (;;) {
		char *start = out;
		/* Decided before unescaping: the output may overwrite the input. */
		bool is_null = end - p >= 2 && p[0] == '\\' && p[1] == 'N' && (end - p == 2 || p[2] == '\t');
		while (p < end && *p != '\t') {
			if (*p == '\\' && p + 1 < end) {
				p++;
				*out++ = unescape_one(&p, end);
			} else {
				*out++ = *p++;
			}
		}
		bool more = p < end;
		*out++ = '\0'; /* never past the tab (or the line's NUL) it replaces */
		if (n == nmax)
			return nmax + 1;
		fields[n++] = is_null ? NULL : start;
		if (!more)
			return n;
		p++;
	}
}

void pg_copy_put(struct buf *out, const char *s, bool last)
{
	if (!s) {
		buf_puts(out, "\\N");
	} else {
		const char *run = s;
		for (const char *p = s; *p; p++) {
			const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : *p == '\r' ? "\\r"
					: *p == '\t' ? "\\t" : NULL;
			if (!esc)
				continue;
			buf_append(out, run, (size_t)(p - run));
			buf_puts(out, esc);
			run = p + 1;
		}
		buf_puts(out, run);
	}
	buf_putc(out, last ? '\n' : '\t');
}
