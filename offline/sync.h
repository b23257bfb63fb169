/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync: snapshots of a remote directory, the journal of offline edits, and
 * pushing those edits back.
 *
 * A pulled snapshot is an ordinary offline snapshot (the seed's employees
 * table) plus: empdir_meta rows saying where it came from and when,
 * empdir_remote (each row's version at the source), and empdir_journal, one
 * entry per edit, written by plain-SQL triggers in the same transaction as
 * the edit (so any tool's edits are journaled). Push replays the journal in
 * order against the source with version preconditions; an entry leaves the
 * journal only in the same local transaction that records the server's
 * confirmation, and a replay after a crash recognises work already done
 * (its id exists with our content, its version already is ours, it is
 * already gone), so nothing is lost or applied twice. Conflicts stay in the
 * journal, marked, with the record as the source has it now, for the sync
 * screen to resolve.
 *
 * Everything reaches the source through the backend interface. Results are
 * caller-owned; sync_conflicts_free() releases a conflict list. */
#ifndef EMPDIR_SYNC_H
#define EMPDIR_SYNC_H

#include <stdbool.h>
#include <stdio.h>

#include "../api_client/backend.h"

struct sync_source {
	char backend[16];   /* "pg", "http", "offline" */
	char target[1024];  /* conninfo (no password), URL or path */
	char name[128];     /* connection name, or "" */
	char pulled_at[32]; /* UTC, ISO 8601 */
	bool search_index;  /* sync_source_of(): the search index is built */
};

/* progress(ctx, done, total_or_-1) while pulling or pushing; may be NULL. */
typedef void (*sync_progress_fn)(void *ctx, long done, long total);

/* Pull everything from `src` into `path` (a temporary file renamed into
 * place when complete and synced). Refused when `path` holds edits that
 * were not pushed. index: build the search index now too (else the first
 * writable open builds it). *rows: how many were pulled. */
/* For a signal handler (async-signal-safe): remove the temporary file of
 * the pull in progress, if any. True unless the new snapshot was already
 * in place: the file being pulled into is unchanged. */
bool sync_pull_interrupted(void);
enum status sync_pull(struct backend *src, const struct sync_source *desc, const char *path, bool index,
		      sync_progress_fn progress, void *ctx, long *rows, struct err *e);

/* Where the snapshot came from; ST_NOT_FOUND when it was not pulled. */
enum status sync_source_of(const char *path, struct sync_source *out, struct err *e);

struct sync_stats {
	long pushed;      /* entries confirmed by the source */
	long already;     /* found already applied (an earlier interrupted push) */
	long conflicts;   /* entries left for the sync screen */
	long waiting;     /* entries still in the journal afterwards */
};

/* Replay the journal of `path` against `dst`. */
enum status sync_push(struct backend *dst, const char *path, sync_progress_fn progress, void *ctx,
		      struct sync_stats *stats, struct err *e);

/* Entries waiting and the age of the snapshot, for the status bar. */
enum status sync_status(const char *path, long *waiting, long *conflicts, char pulled_at[32],
			struct err *e);

struct sync_conflict {
	long seq;
	char op[8];                /* "create", "replace", "delete" */
	bool has_base, has_mine, has_theirs;
	struct employee base;      /* as pulled (or last pushed) */
	struct employee mine;      /* my edit (absent for a delete) */
	struct employee theirs;    /* as the source has it now (absent: deleted there) */
};

struct sync_conflicts {
	struct sync_conflict *v;
	size_t n;
};

enum status sync_conflicts_load(const char *path, struct sync_conflicts *out, struct err *e);
void sync_conflicts_free(struct sync_conflicts *c);

enum sync_choice { SYNC_KEEP_MINE, SYNC_TAKE_THEIRS, SYNC_MERGED };
/* Resolve one conflict. KEEP_MINE and MERGED (merged holds the field-by-
 * field result) write to the source over its current version and update
 * the snapshot; TAKE_THEIRS makes the snapshot match the source. */
enum status sync_resolve(struct backend *dst, const char *path, long seq, enum sync_choice choice,
			 const struct employee *merged, struct err *e);

#endif
