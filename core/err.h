/* SPDX-License-Identifier: GPL-3.0-or-later */
/* err: how fallible functions report failure.
 *
 * A function that can fail returns an enum status and, on failure, fills a
 * caller-owned struct err with one human sentence: what went wrong and what
 * to try. The UI shows err.msg as it is (after sanitising), so messages never
 * contain secrets. */
#ifndef EMPDIR_ERR_H
#define EMPDIR_ERR_H

#include <stdarg.h>

enum status {
	ST_OK = 0,
	ST_FAIL,         /* anything else; the message says what */
	ST_INVALID,      /* bad input from the user (validation, bad option) */
	ST_NOT_FOUND,    /* the record (or file, or table) does not exist */
	ST_CONFLICT,     /* version precondition failed; the current record is returned */
	ST_READ_ONLY,    /* the connection refuses writes */
	ST_CANCELLED,    /* the user cancelled (Esc) or new input superseded it */
	ST_UNAVAILABLE,  /* the server or network cannot be reached right now */
	ST_AUTH,         /* credentials missing, wrong or expired */
	ST_UNSUPPORTED,  /* the backend cannot do this */
	ST_EXISTS,       /* a record with this id already exists with other content */
};

struct err {
	enum status status;
	char msg[512];
};

/* Fill e (if not NULL) and return st, so callers can `return err_set(...)`. */
enum status err_set(struct err *e, enum status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
enum status err_vset(struct err *e, enum status st, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
void err_clear(struct err *e);
/* Prefix an existing message: "opening demo.db: <old message>". */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *status_name(enum status st);

#endif
