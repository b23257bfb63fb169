/* SPDX-License-Identifier: GPL-3.0-or-later */
/* legacy: the directory's pre-migration SQLite file (the seed's employees
 * table with INTEGER PRIMARY KEY ids and badges comma-separated, JSON or
 * NULL), read as the rows the deployed table is to store: ids as their
 * decimal text, badges as JSON arrays (a NULL stays NULL: the seed's app and
 * every backend read it as no badges, and the import changes nothing it does
 * not have to), every field trimmed and checked as the editor would
 * (employee_normalize). A row that breaks a rule is returned marked invalid
 * with the reason, so the import can report it.
 *
 * Rows come in ascending byte order of their text id, the order the import's
 * content checksum is computed in on both sides. legacy_open() refuses a
 * file whose employees table does not have exactly the five columns.
 *
 * Ownership: a struct legacy_file comes from legacy_open() and is released by
 * legacy_close(); the row legacy_next() fills points into the reader and is
 * valid until the next call. */
#ifndef EMPDIR_LEGACY_H
#define EMPDIR_LEGACY_H

#include <stdbool.h>

#include "../core/employee.h"
#include "../core/err.h"

struct legacy_file;

struct legacy_row {
	char id[EMP_ID_MAX + 1];
	const char *fullname, *location, *job_title; /* normalised */
	const char *badges;   /* a JSON array, or NULL where the legacy file had NULL */
	bool valid;
	char why[400];        /* when !valid: "fullname is required; ..." */
};

/* Open path read-only and check its table; *rows: how many it holds. */
enum status legacy_open(const char *path, struct legacy_file **out, long *rows, struct err *e);
/* The next row; *end (and ST_OK) after the last. */
enum status legacy_next(struct legacy_file *f, struct legacy_row *row, bool *end, struct err *e);
void legacy_close(struct legacy_file *f);

#endif
