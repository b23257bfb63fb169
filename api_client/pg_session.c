/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pg_session: asynchronous libpq with ticking, cancelling and reconnecting.
 * See pg_session.h for what it promises; the parts, in order: connection
 * parameters (and the sslmode default), waiting on sockets, error messages,
 * connecting, running a statement, reconnecting. */
#include "pg_session.h"
#include "pg_session_internal.h"
#include "rds_iam.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/config.h"
#include "../core/text.h"
#include "backend.h"

#define TICK_MS 100
#define DRAIN_LIMIT_MS 3000
#define CANCEL_VERDICT_MS 10000
#define CANCEL_RESEND_MS 1000
#define PROGRESS_AFTER_MS 1000
#define READ_RETRIES 3
#define MAX_BACKOFF_S 10.0

/* ---- time ---- */

static struct timespec now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

static long ms_between(struct timespec a, struct timespec b)
{
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

static struct timespec after_ms(long ms)
{
	struct timespec t = now();
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

/* ---- connection parameters ---- */

static void param_add(struct pg_session *c, const char *key, const char *val)
{
	strvec_push(&c->keys, key);
	strvec_push(&c->vals, val);
}

static bool is_local_host(const char *h, size_t n)
{
	static const char *const local[] = {"localhost", "127.0.0.1", "::1"};
	if (n == 0 || h[0] == '/' || h[0] == '@')
		return true; /* the default Unix socket, a socket directory, an abstract socket */
	for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
		if (strlen(local[i]) == n && strncmp(h, local[i], n) == 0)
			return true;
	return false;
}

/* Every host of a comma-separated list is local (libpq tries them in turn). */
static bool all_local(const char *list)
{
	if (!list)
		return true;
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (!is_local_host(p, n))
			return false;
		if (!comma)
			return true;
		p = comma + 1;
	}
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static bool looks_like_conninfo(const char *t)
{
	return strchr(t, '=') || strncmp(t, "postgresql://", 13) == 0 ||
	       strncmp(t, "postgres://", 11) == 0;
}

/* What the target string itself says, for the sslmode decision. */
struct target_info {
	const char *host, *hostaddr, *sslmode, *service, *password, *connect_timeout;
	PQconninfoOption *opts;
};

static enum status parse_target(const char *target, struct target_info *ti, struct err *e)
{
	memset(ti, 0, sizeof *ti);
	if (!target || !looks_like_conninfo(target))
		return ST_OK;
	char *msg = NULL;
	ti->opts = PQconninfoParse(target, &msg);
	if (!ti->opts) {
		const char *m = msg ? msg : "out of memory";
		err_set(e, ST_INVALID, "bad connection string: %.*s", (int)strcspn(m, "\n"), m);
		PQfreemem(msg);
		return ST_INVALID;
	}
	for (PQconninfoOption *o = ti->opts; o->keyword; o++) {
		const char *v = nonempty(o->val);
		if (strcmp(o->keyword, "host") == 0) ti->host = v;
		else if (strcmp(o->keyword, "hostaddr") == 0) ti->hostaddr = v;
		else if (strcmp(o->keyword, "sslmode") == 0) ti->sslmode = v;
		else if (strcmp(o->keyword, "service") == 0) ti->service = v;
		else if (strcmp(o->keyword, "password") == 0) ti->password = v;
		else if (strcmp(o->keyword, "connect_timeout") == 0) ti->connect_timeout = v;
	}
	return ST_OK;
}

/* TLS with full verification for anything that is not this machine, unless
 * the user chose a mode (anywhere libpq looks: the string, the config, the
 * environment, or a service file, which we do not read ourselves). */
static bool want_verify_full(const struct conn_config *cfg, const struct target_info *ti)
{
	if (ti->sslmode || conn_get(cfg, "sslmode") || nonempty(getenv("PGSSLMODE")) ||
	    nonempty(getenv("PGREQUIRESSL")) || ti->service || nonempty(getenv("PGSERVICE")))
		return false;
	const char *host = nonempty(conn_get(cfg, "host"));
	if (!host)
		host = ti->host ? ti->host : nonempty(getenv("PGHOST"));
	const char *addr = ti->hostaddr ? ti->hostaddr : nonempty(getenv("PGHOSTADDR"));
	return !(all_local(host) && all_local(addr));
}

/* Defaults first, then the target (expanded by libpq: its keys override the
 * defaults), then the config keys (which override the target). */
static enum status build_params(struct pg_session *c, const struct conn_config *cfg, struct err *e)
{
	struct target_info ti;
	enum status st = parse_target(cfg->target, &ti, e);
	if (st != ST_OK)
		return st;
	if (ti.password && !cfg->section) {
		PQconninfoFree(ti.opts);
		return err_set(e, ST_INVALID,
			       "a password on the command line is visible to other users (ps); leave it out: "
			       "empdir-tui asks for it, or put it in ~/.pgpass");
	}
	/* Our own deadline enforces it (libpq's applies to blocking connects). */
	const char *ct = conn_get(cfg, "connect_timeout");
	if (!ct)
		ct = ti.connect_timeout ? ti.connect_timeout : nonempty(getenv("PGCONNECT_TIMEOUT"));
	long secs = ct ? strtol(ct, NULL, 10) : 10;
	c->connect_timeout_s = secs <= 0 ? 3600 : secs > 3600 ? 3600 : (int)secs;
	char timeout[16];
	snprintf(timeout, sizeof timeout, "%d", c->connect_timeout_s);
	param_add(c, "application_name", "empdir-tui");
	param_add(c, "connect_timeout", timeout);
	/* A peer that vanished (failover, a dead tunnel) is noticed in about a
	 * minute even while we wait for an answer, not after TCP's 15. */
	param_add(c, "keepalives", "1");
	param_add(c, "keepalives_idle", "30");
	param_add(c, "keepalives_interval", "10");
	param_add(c, "keepalives_count", "3");
	param_add(c, "tcp_user_timeout", "30000");
	if (want_verify_full(cfg, &ti))
		param_add(c, "sslmode", "verify-full");
	PQconninfoFree(ti.opts);
	if (cfg->target && *cfg->target)
		param_add(c, "dbname", cfg->target);
	static const char *const keys[] = {"host", "port", "dbname", "user", "sslmode", "sslrootcert"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *v = conn_get(cfg, keys[i]);
		if (!v)
			continue;
		char *x = config_expand_home(v);
		param_add(c, keys[i], x);
		free(x);
	}
	param_add(c, "client_encoding", "UTF8"); /* last: we always read and write UTF-8 */
	return ST_OK;
}

/* ---- waiting ---- */

enum wait_result { W_READY, W_CANCEL, W_TIMEOUT, W_ERROR };

static bool tick(struct pg_session *c, const char *what)
{
	c->last_tick = now();
	if (c->progress && ms_between(c->op_start, c->last_tick) >= PROGRESS_AFTER_MS) {
		/* Before the screen starts: say once why nothing happens yet. */
		char m[300];
		snprintf(m, sizeof m, "%s: %s (an Aurora Serverless cluster may be resuming; "
			 "giving up after %d s)", c->where, what, c->connect_timeout_s);
		c->progress(m);
		c->progress = NULL;
	}
	return c->owner ? backend_tick(c->owner, what) : false;
}

static void notify(struct pg_session *c, const char *msg)
{
	if (c->owner)
		backend_notify(c->owner, msg);
}

/* Wait until fd (may be -1) is ready for events, the deadline (may be NULL)
 * passes, or the user cancels. The waiter ticks every TICK_MS and whenever
 * the keyboard has something; a tick's "cancel" counts only if cancellable. */
static enum wait_result wait_io(struct pg_session *c, int fd, short events, const char *what,
				bool cancellable, const struct timespec *deadline)
{
	int input = c->owner ? c->owner->waiter.input_fd : -1;
	for (;;) {
		struct timespec t = now();
		long since = ms_between(c->last_tick, t);
		long wait = TICK_MS - since;
		if (deadline) {
			long left = ms_between(t, *deadline);
			if (left <= 0)
				return W_TIMEOUT;
			if (left < wait)
				wait = left;
		}
		struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = input, .events = POLLIN}};
		/* Listen to the keyboard only 10 ms after a tick, so input the tick
		 * left unread cannot make this loop spin. */
		nfds_t n = input >= 0 && since >= 10 ? 2 : 1;
		int r = poll(p, n, wait < 0 ? 0 : (int)wait);
		if (r < 0 && errno != EINTR)
			return W_ERROR;
		bool key = n == 2 && (p[1].revents & POLLIN);
		if (key || ms_between(c->last_tick, now()) >= TICK_MS)
			if (tick(c, what) && cancellable)
				return W_CANCEL;
		if (r > 0 && fd >= 0 && p[0].revents)
			return W_READY;
	}
}

/* Sleep ms, ticking; false when the user cancelled. */
static bool sleep_ticking(struct pg_session *c, long ms, const char *what)
{
	struct timespec until = after_ms(ms);
	return wait_io(c, -1, 0, what, true, &until) == W_TIMEOUT;
}

/* ---- messages ---- */

/* libpq's message on one line, without the trailing newline. */
static void one_line(const char *m, char *out, size_t outsz)
{
	size_t o = 0;
	for (const char *p = m ? m : ""; *p && o + 3 < outsz; p++) {
		if (*p == '\n') {
			while (p[1] == ' ' || p[1] == '\t')
				p++;
			if (p[1] && o)
				out[o++] = ';', out[o++] = ' ';
			continue;
		}
		out[o++] = *p == '\t' ? ' ' : *p;
	}
	out[o] = '\0';
}

/* Server notices ("already exists, skipping") must not reach the terminal
 * behind the screen's back: keep the last one for whoever wants it. */
static void keep_notice(void *arg, const PGresult *r)
{
	struct pg_session *c = arg;
	const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	one_line(m ? m : PQresultErrorMessage(r), c->notice, sizeof c->notice);
}

static void set_where(struct pg_session *c, PGconn *pc)
{
	const char *db = PQdb(pc), *host = PQhost(pc), *port = PQport(pc);
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s@%s", db && *db ? db : "?", host && *host ? host : "localhost");
	if (port && *port)
		buf_printf(&b, ":%s", port);
	char *safe = text_safe_dup(buf_str(&b));
	snprintf(c->where, sizeof c->where, "%s", safe);
	free(safe);
	buf_free(&b);
}

static bool has(const char *m, const char *what)
{
	return strstr(m, what) != NULL;
}

/* Why connecting failed, as one sentence with what to try. *permanent: no
 * point in retrying (wrong password, no such database, TLS refused). */
static enum status connect_error(struct pg_session *c, PGconn *pc, bool *permanent, struct err *e)
{
	char m[400];
	one_line(PQerrorMessage(pc), m, sizeof m);
	const char *user = PQuser(pc) ? PQuser(pc) : "?";
	*permanent = true;
	if (PQconnectionNeedsPassword(pc))
		return err_set(e, ST_AUTH,
			       "%s wants a password for user %s: put it in ~/.pgpass (or PGPASSWORD), or "
			       "start empdir-tui in a terminal to be asked for it", c->where, user);
	if (has(m, "password authentication failed") || has(m, "authentication failed"))
		return err_set(e, ST_AUTH, "%s: authentication failed for user %s; check the password "
			       "(~/.pgpass, PGPASSWORD) and the user name", c->where, user);
	if (has(m, "database") && has(m, "does not exist"))
		return err_set(e, ST_NOT_FOUND, "%s: the database does not exist; check dbname (%s)",
			       c->where, m);
	if (has(m, "role") && has(m, "does not exist"))
		return err_set(e, ST_AUTH, "%s: user %s does not exist; check user", c->where, user);
	if (has(m, "invalid response") || has(m, "expected authentication request") ||
	    has(m, "unsupported frontend protocol") || has(m, "invalid length of startup"))
		return err_set(e, ST_UNAVAILABLE,
			       "%s did not answer as a PostgreSQL server would (%s); check the host and port",
			       c->where, m);
	if ((has(m, "SSL") || has(m, "certificate")) && !has(m, "SSL SYSCALL") &&
	    !has(m, "closed unexpectedly"))
		return err_set(e, ST_UNAVAILABLE,
			       "%s: TLS failed (%s); check sslmode and sslrootcert (for Aurora and RDS, "
			       "sslrootcert = the RDS CA bundle global-bundle.pem; see empdir-tui(1))",
			       c->where, m);
	*permanent = false;
	if (has(m, "Connection refused"))
		return err_set(e, ST_UNAVAILABLE,
			       "nothing accepts connections at %s (%s); check the host and port, and that "
			       "the SSH tunnel is up", c->where, m);
	return err_set(e, ST_UNAVAILABLE, "cannot connect to %s: %s", c->where, m);
}

static bool is_connection_state(const char *state)
{
	return state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
			 strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0);
}

/* A statement's error, as one sentence; the caller adds what it was doing. */
static enum status result_error(struct pg_session *c, const PGresult *r, bool cancelled, bool write,
				struct err *e)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	char m[300];
	one_line(primary ? primary : PQresultErrorMessage(r), m, sizeof m);
	const char *nothing = write ? "; nothing was changed" : "";
	if (!state)
		return err_set(e, ST_FAIL, "%s", m);
	if (strcmp(state, "57014") == 0 && cancelled)
		return err_set(e, ST_CANCELLED, "cancelled%s", nothing);
	if (strcmp(state, "57014") == 0)
		return err_set(e, ST_UNAVAILABLE,
			       "the database took longer than statement_timeout (%ld s)%s; %s",
			       c->statement_timeout_s, nothing,
			       write ? "try again" : "narrow the search or raise statement_timeout");
	if (strcmp(state, "25006") == 0)
		return err_set(e, c->read_only ? ST_READ_ONLY : ST_UNAVAILABLE,
			       c->read_only ? "the server refused the change: this connection is read-only"
			       : "the database is read-only right now (a failover?)%s; try again in a minute",
			       nothing);
	if (strcmp(state, "23505") == 0)
		return err_set(e, ST_EXISTS, "%s", m);
	if (strcmp(state, "42501") == 0)
		return err_set(e, ST_AUTH, "%s%s; ask the database owner for the privileges", m, nothing);
	if (strcmp(state, "42P01") == 0)
		return err_set(e, ST_UNAVAILABLE, "%s: the employees table is gone (%s)", c->where, m);
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
		return err_set(e, ST_INVALID, "the database refused the value: %s%s", m, nothing);
	if (strncmp(state, "40", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strcmp(state, "55P03") == 0)
		return err_set(e, ST_UNAVAILABLE, "%s%s; try again", m, nothing);
	return err_set(e, ST_FAIL, "%s (SQLSTATE %s)", m, state);
}

/* ---- cancelling ---- */

static void *cancel_main(void *arg)
{
	PGcancel *pc = arg;
	char buf[256];
	(void)PQcancel(pc, buf, (int)sizeof buf);
	PQfreeCancel(pc);
	return NULL;
}

/* Ask the server to cancel the running statement. PQcancel opens a new
 * connection and blocks (a resuming Aurora can take seconds to accept it),
 * so it runs in a detached thread that owns its PGcancel. */
static void request_cancel(struct pg_session *c)
{
	PGcancel *pc = PQgetCancel(c->conn);
	if (!pc)
		return;
	pthread_attr_t attr;
	pthread_t t;
	bool started = false;
	if (pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		started = pthread_create(&t, &attr, cancel_main, pc) == 0;
		pthread_attr_destroy(&attr);
	}
	if (!started)
		cancel_main(pc);
}

static void drop(struct pg_session *c)
{
	if (c->conn)
		PQfinish(c->conn);
	c->conn = NULL;
	c->draining = false;
}

/* ---- running one statement on the current connection ---- */

static enum status lost(struct pg_session *c, struct err *e)
{
	char m[300];
	one_line(PQerrorMessage(c->conn), m, sizeof m);
	c->lost = true;
	err_set(e, ST_UNAVAILABLE, "the connection to %s was lost (%s)", c->where,
		m[0] ? m : "no answer");
	drop(c);
	return ST_UNAVAILABLE;
}

static bool is_error(const PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);
	return s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK;
}

/* Send the buffered statement (non-blocking mode), reading while waiting. */
static enum status flush(struct pg_session *c, const char *what, struct err *e)
{
	int r;
	while ((r = PQflush(c->conn)) == 1) {
		enum wait_result w = wait_io(c, PQsocket(c->conn), POLLOUT | POLLIN, what, false, NULL);
		if (w == W_ERROR || !PQconsumeInput(c->conn))
			return lost(c, e);
	}
	return r == 0 ? ST_OK : lost(c, e);
}

/* Collect the results; a read cancelled by the user returns at once (the
 * rest is drained before the next statement), a write waits for the
 * server's verdict so its outcome is known. */
static enum status collect(struct pg_session *c, const struct pg_stmt *s, const char *what,
			   PGresult **res, struct err *e)
{
	bool cancelled = false;
	struct timespec verdict_by, resend_at;
	PGresult *keep = NULL;
	for (;;) {
		while (PQisBusy(c->conn)) {
			enum wait_result w = wait_io(c, PQsocket(c->conn), POLLIN, what, !cancelled,
						     cancelled ? &resend_at : NULL);
			if (w == W_TIMEOUT && ms_between(now(), verdict_by) > 0) {
				/* A cancel that reached the server before it started the
				 * statement is ignored: ask again until the verdict. */
				request_cancel(c);
				resend_at = after_ms(CANCEL_RESEND_MS);
				continue;
			}
			if (w == W_TIMEOUT) {
				/* No verdict on a cancelled write: the connection is as good
				 * as dead; the caller checks what happened. */
				PQclear(keep);
				return lost(c, e);
			}
			if (w == W_CANCEL) {
				request_cancel(c);
				cancelled = true;
				if (!s->write) {
					c->draining = true;
					PQclear(keep);
					return err_set(e, ST_CANCELLED, "cancelled");
				}
				what = "cancelling: waiting for the database to confirm";
				verdict_by = after_ms(CANCEL_VERDICT_MS);
				resend_at = after_ms(CANCEL_RESEND_MS);
				continue;
			}
			if (w == W_ERROR || !PQconsumeInput(c->conn)) {
				PQclear(keep);
				return lost(c, e);
			}
		}
		PGresult *r = PQgetResult(c->conn);
		if (!r)
			break;
		if (!keep || (is_error(r) && !is_error(keep))) {
			PQclear(keep);
			keep = r;
		} else {
			PQclear(r);
		}
	}
	const char *state = keep ? PQresultErrorField(keep, PG_DIAG_SQLSTATE) : NULL;
	if (!keep || PQstatus(c->conn) == CONNECTION_BAD || is_connection_state(state)) {
		PQclear(keep);
		return lost(c, e);
	}
	if (is_error(keep)) {
		enum status st = result_error(c, keep, cancelled, s->write, e);
		if (state && strcmp(state, "25006") == 0 && !c->read_only)
			drop(c); /* the writer moved: reconnect (DNS follows the failover) */
		PQclear(keep);
		return st;
	}
	*res = keep;
	return ST_OK;
}

static enum status send_stmt(struct pg_session *c, const struct pg_stmt *s, const char *what,
			     struct err *e)
{
	c->sent = false;
	c->lost = false;
	c->last_tick = c->op_start = now();
	if (!PQsendQueryParams(c->conn, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0)) {
		if (PQstatus(c->conn) != CONNECTION_BAD)
			return err_set(e, ST_FAIL, "cannot send the statement: %s", PQerrorMessage(c->conn));
		c->sent = s->write; /* part of it may have gone out: let the caller check */
		return lost(c, e);
	}
	c->sent = true;
	return flush(c, what, e);
}

static enum status run(struct pg_session *c, const struct pg_stmt *s, const char *what,
		       PGresult **res, struct err *e)
{
	*res = NULL;
	enum status st = send_stmt(c, s, what, e);
	return st == ST_OK ? collect(c, s, what, res, e) : st;
}

/* Finish a cancelled read before anything else; give up on a connection
 * that does not settle within DRAIN_LIMIT_MS, or when the user cancels
 * again (the next statement reconnects). */
static enum status drain(struct pg_session *c, struct err *e)
{
	struct timespec until = after_ms(DRAIN_LIMIT_MS);
	c->last_tick = now();
	for (;;) {
		while (PQisBusy(c->conn)) {
			enum wait_result w = wait_io(c, PQsocket(c->conn), POLLIN,
						     "waiting for the database", true, &until);
			if (w == W_CANCEL) {
				drop(c); /* twice impatient: start afresh next time */
				return err_set(e, ST_CANCELLED, "cancelled");
			}
			if (w != W_READY || !PQconsumeInput(c->conn)) {
				drop(c);
				return ST_OK;
			}
		}
		PGresult *r = PQgetResult(c->conn);
		if (!r)
			break;
		PQclear(r);
	}
	c->draining = false;
	return ST_OK;
}

/* ---- connecting ---- */

static enum status session_setup(struct pg_session *c, struct err *e)
{
	const char *ro[] = {c->read_only ? "on" : "off"};
	struct pg_stmt s = {"SELECT set_config('default_transaction_read_only', $1, false), "
			    "pg_is_in_recovery()", 1, ro, false};
	PGresult *r;
	enum status st = run(c, &s, "setting up the session", &r, e);
	if (st != ST_OK)
		return st;
	bool ro_ok = strcmp(PQgetvalue(r, 0, 0), ro[0]) == 0;
	c->standby = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	PQclear(r);
	if (!ro_ok)
		return err_set(e, ST_FAIL, "%s did not accept default_transaction_read_only", c->where);
	if (c->statement_timeout_s < 0)
		return ST_OK;
	char v[32];
	snprintf(v, sizeof v, "%lds", c->statement_timeout_s);
	const char *tv[] = {v};
	struct pg_stmt t = {"SELECT set_config('statement_timeout', $1, false)", 1, tv, false};
	st = run(c, &t, "setting up the session", &r, e);
	PQclear(r);
	return st;
}

/* One connection attempt, with its own deadline; sets c->conn on success. */
static enum status connect_once(struct pg_session *c, const char *what, bool *needs_password,
				bool *permanent, struct err *e)
{
	*needs_password = false;
	*permanent = false;
	size_t n = c->keys.n;
	const char **k = xcalloc(n + 2, sizeof *k), **v = xcalloc(n + 2, sizeof *v);
	for (size_t i = 0; i < n; i++)
		k[i] = c->keys.v[i], v[i] = c->vals.v[i];
	if (c->password)
		k[n] = "password", v[n] = c->password;
	PGconn *pc = PQconnectStartParams(k, v, 1);
	free(k);
	free(v);
	if (!pc)
		return err_set(e, ST_FAIL, "cannot connect: out of memory");
	PQsetNoticeReceiver(pc, keep_notice, c);
	set_where(c, pc);
	struct timespec deadline = after_ms(c->connect_timeout_s * 1000L);
	c->op_start = now();
	PostgresPollingStatusType ps = PQstatus(pc) == CONNECTION_BAD ? PGRES_POLLING_FAILED
								       : PGRES_POLLING_WRITING;
	c->last_tick = now();
	while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
		enum wait_result w = wait_io(c, PQsocket(pc), ps == PGRES_POLLING_READING ? POLLIN : POLLOUT,
					     what, true, &deadline);
		if (w == W_CANCEL || w == W_TIMEOUT) {
			PQfinish(pc);
			if (w == W_CANCEL)
				return err_set(e, ST_CANCELLED, "cancelled while connecting to %s", c->where);
			return err_set(e, ST_UNAVAILABLE,
				       "no answer from %s within %d s (connect_timeout); check the host, the "
				       "network (security group, SSH tunnel), or raise connect_timeout",
				       c->where, c->connect_timeout_s);
		}
		ps = PQconnectPoll(pc);
	}
	if (ps == PGRES_POLLING_FAILED) {
		*needs_password = PQconnectionNeedsPassword(pc) && !c->password;
		enum status st = connect_error(c, pc, permanent, e);
		PQfinish(pc);
		return st;
	}
	c->conn = pc;
	set_where(c, pc);
	if (PQsetnonblocking(pc, 1) != 0) {
		drop(c);
		return err_set(e, ST_FAIL, "cannot use %s without blocking", c->where);
	}
	enum status st = session_setup(c, e);
	if (st != ST_OK) {
		*permanent = !c->lost;
		drop(c);
	}
	return st;
}

static void wipe_password(char *pw, size_t n)
{
	explicit_bzero(pw, n);
}

/* auth = iam: a fresh RDS token as the password, for the host, port and
 * user libpq will really use (after conninfo, PG* and the service file). */
static enum status iam_refresh(struct pg_session *c, struct err *e)
{
	size_t n = c->keys.n;
	const char **k = xcalloc(n + 1, sizeof *k), **v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		k[i] = c->keys.v[i], v[i] = c->vals.v[i];
	PGconn *probe = PQconnectStartParams(k, v, 1);
	free(k);
	free(v);
	PQconninfoOption *opts = probe ? PQconninfo(probe) : NULL;
	const char *host = NULL, *port = NULL, *user = NULL;
	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		if (strcmp(o->keyword, "host") == 0) host = o->val;
		else if (strcmp(o->keyword, "port") == 0) port = o->val;
		else if (strcmp(o->keyword, "user") == 0) user = o->val;
	}
	struct buf token = BUF_INIT;
	struct rds_iam_request r = {.host = host, .port = port ? atoi(port) : 0, .user = user,
				    .region = c->iam_region, .profile = c->iam_profile};
	enum status st = rds_iam_token(&r, &token, e);
	if (opts)
		PQconninfoFree(opts);
	if (probe)
		PQfinish(probe);
	if (st == ST_OK) {
		if (c->password) {
			wipe_password(c->password, strlen(c->password));
			free(c->password);
		}
		c->password = xstrdup(token.data);
	}
	rds_iam_token_wipe(&token);
	return st;
}

enum status pg_session_open(struct pg_session *c, const struct conn_config *cfg, struct backend *owner,
			 struct err *e)
{
	memset(c, 0, sizeof *c);
	c->owner = owner;
	c->read_only = cfg->read_only;
	c->statement_timeout_s = conn_get(cfg, "statement_timeout")
		? conn_get_int(cfg, "statement_timeout", 0) : -1;
	c->reconnect_limit_s = 120;
	const char *auth = conn_get(cfg, "auth");
	if (auth && strcmp(auth, "password") != 0 && strcmp(auth, "none") != 0 && strcmp(auth, "iam") != 0)
		return err_set(e, ST_UNSUPPORTED,
			       "auth = %s is not supported for pg connections; use password or iam", auth);
	enum status st = build_params(c, cfg, e);
	if (st != ST_OK)
		return st;
	if (auth && strcmp(auth, "iam") == 0) {
		const char *region = conn_get(cfg, "region");
		const char *profile = cfg->config ? config_get(cfg->config, "aws", "profile") : NULL;
		if (!region && cfg->config)
			region = config_get(cfg->config, "aws", "region");
		c->iam = true;
		c->iam_region = region ? xstrdup(region) : NULL;
		c->iam_profile = profile ? xstrdup(profile) : NULL;
		if ((st = iam_refresh(c, e)) != ST_OK)
			return st;
	}
	bool needs_pw, permanent;
	c->progress = cfg->progress;
	st = connect_once(c, "connecting to the database", &needs_pw, &permanent, e);
	if (st != ST_OK && needs_pw && cfg->ask_secret) {
		char prompt[256], pw[256];
		snprintf(prompt, sizeof prompt, "Password for %s: ", c->where);
		if (cfg->ask_secret(prompt, pw, sizeof pw) && pw[0]) {
			c->password = xstrdup(pw);
			st = connect_once(c, "connecting to the database", &needs_pw, &permanent, e);
		}
		wipe_password(pw, sizeof pw);
	}
	return st;
}

void pg_session_opened(struct pg_session *c)
{
	c->progress = NULL;
}

void pg_session_close(struct pg_session *c)
{
	drop(c);
	if (c->password) {
		wipe_password(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->iam_region);
	free(c->iam_profile);
	strvec_free(&c->keys);
	strvec_free(&c->vals);
	memset(c, 0, sizeof *c);
}

/* ---- reconnecting ---- */

static enum status reconnect(struct pg_session *c, struct err *e)
{
	struct timespec start = now();
	double delay = 0;
	for (int attempt = 0;; attempt++) {
		char msg[96];
		if (attempt == 0)
			snprintf(msg, sizeof msg, "connection lost; reconnecting");
		else
			snprintf(msg, sizeof msg, "connection lost; reconnecting in %g s", delay);
		notify(c, msg);
		if (delay > 0 && !sleep_ticking(c, (long)(delay * 1000), "waiting to reconnect"))
			return err_set(e, ST_CANCELLED, "cancelled while reconnecting to %s", c->where);
		bool needs_pw, permanent;
		enum status st = c->iam ? iam_refresh(c, e) : ST_OK; /* tokens last 15 minutes */
		if (st == ST_OK)
			st = connect_once(c, "reconnecting to the database", &needs_pw, &permanent, e);
		if (st == ST_OK) {
			snprintf(msg, sizeof msg, "reconnected to the database");
			notify(c, msg);
			return ST_OK;
		}
		if (st == ST_CANCELLED || permanent)
			return st;
		delay = delay == 0 ? 0.5 : delay * 2 > MAX_BACKOFF_S ? MAX_BACKOFF_S : delay * 2;
		if (ms_between(start, now()) + (long)(delay * 1000) > c->reconnect_limit_s * 1000L) {
			err_prefix(e, "gave up reconnecting after %d s", c->reconnect_limit_s);
			return ST_UNAVAILABLE;
		}
	}
}

/* A connection that looks fine may have been closed by the server while we
 * were idle (a restart, a failover, an idle timeout): its goodbye is already
 * waiting in the socket. Read it now, so we reconnect before sending rather
 * than find out after, when the outcome of a write would be in doubt. */
static void notice_idle_close(struct pg_session *c)
{
	struct pollfd p = {.fd = PQsocket(c->conn), .events = POLLIN};
	if (poll(&p, 1, 0) > 0 && (!PQconsumeInput(c->conn) || PQstatus(c->conn) == CONNECTION_BAD))
		drop(c);
	PGnotify *n;
	while (c->conn && (n = PQnotifies(c->conn)) != NULL)
		PQfreemem(n);
}

static enum status ready(struct pg_session *c, struct err *e)
{
	if (c->conn && c->draining) {
		enum status st = drain(c, e);
		if (st != ST_OK)
			return st;
	}
	if (c->conn && PQstatus(c->conn) == CONNECTION_OK)
		notice_idle_close(c);
	if (c->conn && PQstatus(c->conn) == CONNECTION_OK)
		return ST_OK;
	drop(c);
	return reconnect(c, e);
}

enum status pg_session_exec(struct pg_session *c, const struct pg_stmt *s, PGresult **res,
			 struct err *e)
{
	*res = NULL;
	c->sent = false;
	c->lost = false;
	enum status st = ready(c, e);
	if (st != ST_OK)
		return st;
	return run(c, s, s->write ? "saving: waiting for the database" : "waiting for the database",
		   res, e);
}

enum status pg_session_read(struct pg_session *c, const char *sql, int nparams,
			 const char *const *params, PGresult **res, struct err *e)
{
	struct pg_stmt s = {sql, nparams, params, false};
	enum status st = ST_OK;
	for (int i = 0; i <= READ_RETRIES; i++) {
		st = pg_session_exec(c, &s, res, e);
		if (st == ST_OK || !c->lost)
			return st;
	}
	return st;
}

/* ---- for pg_copy.c (pg_session_internal.h) ---- */

enum status pgs_begin(struct pg_session *c, const struct pg_stmt *s, const char *what, struct err *e)
{
	c->sent = false;
	c->lost = false;
	enum status st = ready(c, e);
	return st == ST_OK ? send_stmt(c, s, what, e) : st;
}

enum pgs_wait pgs_wait(struct pg_session *c, short events, const char *what, bool cancellable,
		       const struct timespec *deadline)
{
	switch (wait_io(c, PQsocket(c->conn), events, what, cancellable, deadline)) {
	case W_READY: return PGS_READY;
	case W_CANCEL: return PGS_CANCEL;
	case W_TIMEOUT: return PGS_TIMEOUT;
	default: return PGS_ERROR;
	}
}

struct timespec pgs_after_ms(long ms)
{
	return after_ms(ms);
}

enum status pgs_lost(struct pg_session *c, struct err *e)
{
	return lost(c, e);
}

enum status pgs_result_error(struct pg_session *c, const PGresult *r, bool cancelled, bool write,
			     struct err *e)
{
	if (is_connection_state(PQresultErrorField(r, PG_DIAG_SQLSTATE)) ||
	    PQstatus(c->conn) == CONNECTION_BAD)
		return lost(c, e);
	return result_error(c, r, cancelled, write, e);
}

void pgs_cancel(struct pg_session *c)
{
	request_cancel(c);
}

bool pgs_tick_due(struct pg_session *c, const char *what)
{
	if (ms_between(c->last_tick, now()) < TICK_MS)
		return false;
	return tick(c, what);
}
