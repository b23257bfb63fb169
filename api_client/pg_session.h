/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pg_session: one libpq connection that never freezes the screen and survives
 * the network, shared by the pg backend and `empdir-tui db setup`.
 *
 * Everything is asynchronous: connecting (PQconnectStartParams and
 * PQconnectPoll) and every statement (PQsendQueryParams, then poll() on the
 * socket and the waiter's input_fd), with backend_tick() at least every
 * 100 ms, so a slow Aurora resume shows as "waiting for the database" and Esc
 * cancels. A dropped connection is re-opened with backoff before the next
 * statement; whether a statement had already been sent when the connection
 * died is reported (pg_session.sent), so callers never retry a write blindly.
 *
 * Ownership: a struct pg_session is embedded by its user, set up by
 * pg_session_open() and released by pg_session_close(), which also wipes the
 * password. Results returned through PGresult ** belong to the caller
 * (PQclear). Messages never contain the password. */
#ifndef EMPDIR_PG_SESSION_H
#define EMPDIR_PG_SESSION_H

#include <stdbool.h>
#include <time.h>

#include <libpq-fe.h>

#include "../core/buf.h"
#include "../core/err.h"

struct backend;
struct conn_config;

struct pg_session {
	PGconn *conn;          /* NULL while disconnected */
	struct backend *owner; /* whose waiter ticks; not owned */
	struct strvec keys;    /* connection parameters (libpq keywords and values) */
	struct strvec vals;
	char *password;        /* asked once, kept for reconnects; wiped at close */
	bool iam;              /* auth = iam: password is an RDS token, renewed per connect */
	char *iam_region, *iam_profile;
	bool read_only;        /* default_transaction_read_only = on, every session */
	long statement_timeout_s; /* -1: leave the server's setting */
	int connect_timeout_s;
	int reconnect_limit_s; /* give up reconnecting after this long */
	bool draining;         /* a cancelled query's results are still to come */
	bool sent;             /* the last statement reached libpq's send path */
	bool lost;             /* the last statement lost its connection */
	bool standby;          /* the server is a read replica (hot standby) */
	struct timespec last_tick;
	struct timespec op_start;
	void (*progress)(const char *msg); /* while opening: say why it is slow */
	char where[160];       /* "dbname@host:port", sanitised, for messages */
	char notice[256];      /* the server's last notice (not sanitised) */
};

/* How pg_session_exec runs one statement. */
struct pg_stmt {
	const char *sql;
	int nparams;
	const char *const *params;
	bool write;            /* never auto-retried; Esc asks the server to cancel and
				  waits for the verdict, so the outcome is known */
};

/* Connect (asking for a password through cfg->ask_secret when the server
 * wants one), then set up the session. owner may be NULL (no waiter). */
enum status pg_session_open(struct pg_session *c, const struct conn_config *cfg, struct backend *owner,
			 struct err *e);
/* Opening is over (the screen may start): no more progress messages. */
void pg_session_opened(struct pg_session *c);
void pg_session_close(struct pg_session *c);

/* Run one statement once. On ST_OK *res holds a TUPLES_OK or COMMAND_OK
 * result. Otherwise e says why; c->lost tells whether the connection died
 * (then c->sent tells whether the statement may have reached the server). A
 * dead connection is re-opened, with backoff, before the statement is sent. */
enum status pg_session_exec(struct pg_session *c, const struct pg_stmt *s, PGresult **res,
			 struct err *e);
/* A read: like pg_session_exec, but retried after reconnecting. */
enum status pg_session_read(struct pg_session *c, const char *sql, int nparams,
			 const char *const *params, PGresult **res, struct err *e);

/* The SQL expression of a row's content version: the same MD5 as
 * employee_content_version() computes in C, over the UTF-8 bytes whatever
 * the database's encoding. */
#define PG_VERSION_SQL                                                                    \
	"md5(convert_to(id || chr(31) || fullname || chr(31) || location || chr(31) || "  \
	"job_title || chr(31) || coalesce(badges, chr(30)), 'UTF8'))"

#endif
