/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "err.h"
#include "buf.h"

#include <stdio.h>
#include <string.h>

enum status err_vset(struct err *e, enum status st, const char *fmt, va_list ap)
{
	if (e) {
		e->status = st;
		int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		if (n < 0)
			e->msg[0] = '\0';
	}
	return st;
}

enum status err_set(struct err *e, enum status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, st, fmt, ap);
	va_end(ap);
	return st;
}

void err_clear(struct err *e)
{
	if (e) {
		e->status = ST_OK;
		e->msg[0] = '\0';
	}
}

void err_prefix(struct err *e, const char *fmt, ...)
{
	if (!e)
		return;
	char head[256], old[sizeof e->msg];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	memcpy(old, e->msg, sizeof old);
	/* Truncation keeps the head, which is the useful part. */
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s: %s", head, old);
	size_t len = b.len < sizeof e->msg - 1 ? b.len : sizeof e->msg - 1;
	memcpy(e->msg, b.data, len);
	e->msg[len] = '\0';
	buf_free(&b);
}

const char *status_name(enum status st)
{
	switch (st) {
	case ST_OK: return "ok";
	case ST_FAIL: return "error";
	case ST_INVALID: return "invalid";
	case ST_NOT_FOUND: return "not found";
	case ST_CONFLICT: return "conflict";
	case ST_READ_ONLY: return "read-only";
	case ST_CANCELLED: return "cancelled";
	case ST_UNAVAILABLE: return "unavailable";
	case ST_AUTH: return "authentication";
	case ST_UNSUPPORTED: return "unsupported";
	case ST_EXISTS: return "exists";
	}
	return "error";
}
