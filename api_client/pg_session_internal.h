/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pg_session_internal: the few session internals the COPY protocol code
 * (pg_copy.c) shares with pg_session.c, so both wait, cancel and report
 * errors the same way. Not for anyone else: use pg_session.h or pg_copy.h.
 * Nothing here returns anything the caller must free. */
#ifndef EMPDIR_PG_SESSION_INTERNAL_H
#define EMPDIR_PG_SESSION_INTERNAL_H

#include <stdbool.h>
#include <time.h>

#include "pg_session.h"

enum pgs_wait { PGS_READY, PGS_CANCEL, PGS_TIMEOUT, PGS_ERROR };

/* Make the connection usable (drain, reconnect) and send s, flushed. */
enum status pgs_begin(struct pg_session *c, const struct pg_stmt *s, const char *what, struct err *e);
/* Wait for the socket (events), ticking the waiter; deadline may be NULL. */
enum pgs_wait pgs_wait(struct pg_session *c, short events, const char *what, bool cancellable,
		       const struct timespec *deadline);
struct timespec pgs_after_ms(long ms);
/* The connection died: say so, drop it (c->lost is set). */
enum status pgs_lost(struct pg_session *c, struct err *e);
/* A failed result as one sentence (a dead connection as pgs_lost). */
enum status pgs_result_error(struct pg_session *c, const PGresult *r, bool cancelled, bool write,
			     struct err *e);
/* Tick the waiter when TICK_MS passed since the last tick (for loops that
 * never wait, like a COPY streaming at full speed); true: the user cancelled. */
bool pgs_tick_due(struct pg_session *c, const char *what);
/* Ask the server to cancel the running statement (does not wait). */
void pgs_cancel(struct pg_session *c);

#endif
