/* SPDX-License-Identifier: GPL-3.0-or-later */
/* loader: a snapshot pull's rows written into SQLite on a thread of their
 * own, so receiving from the source and writing the file overlap (two
 * cores: the pull takes about as long as the slower of the two, not their
 * sum).
 *
 * The caller opens the transaction, starts the loader, adds rows from its
 * own thread, and finishes it (which waits for the last row) before it
 * touches the connection again. Rows are copied into chunks of about 1 MiB;
 * at most LOADER_CHUNKS chunks are in flight, so memory stays bounded
 * whatever the table's size. A write that fails stops the loader: later
 * adds return false and loader_finish() reports the failure. */
#ifndef EMPDIR_LOADER_H
#define EMPDIR_LOADER_H

#include <stdbool.h>

#include <sqlite3.h>

#include "../core/err.h"

#define LOADER_CHUNKS 4

struct loader;

/* Rows go to `INSERT INTO employees VALUES (?1..?5)` and, when a row's
 * remote version is given, `INSERT OR REPLACE INTO empdir_remote VALUES
 * (id, version)`. Failures say only why (the caller names the file). */
struct loader *loader_start(sqlite3 *db, struct err *e);
/* Copies the fields (badges NULL: SQL NULL; version NULL: none stored). */
bool loader_add(struct loader *l, const char *id, const char *fullname, const char *location,
		const char *job_title, const char *badges, const char *version);
/* Waits for every added row to be written, stops the thread and frees l.
 * ST_OK, or the first failure: *rc its SQLite result code, e why. */
enum status loader_finish(struct loader *l, int *rc, struct err *e);

#endif
