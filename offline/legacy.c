/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading the legacy SQLite file: see legacy.h. */
#include "legacy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "../core/buf.h"

static const char *const columns[] = {"id", "fullname", "location", "job_title", "badges"};
#define N_COLUMNS (sizeof columns / sizeof columns[0])

struct legacy_file {
	sqlite3 *db;
	sqlite3_stmt *rows;
	char *path;
	char prev_id[EMP_ID_MAX + 1]; /* for duplicates: ids come sorted */
	bool have_prev;
	struct employee rec;          /* the current row, normalised */
	struct buf badges;
	bool badges_null;
};

static enum status fail(struct legacy_file *f, struct err *e, const char *doing)
{
	return err_set(e, ST_UNAVAILABLE, "%s %s: %s (nothing was imported)", doing, f->path,
		       sqlite3_errmsg(f->db));
}

/* Exactly the five columns, whatever their case and order. */
static enum status check_columns(struct legacy_file *f, struct err *e)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(f->db, "SELECT name FROM pragma_table_info('employees')", -1, &st, NULL) != SQLITE_OK)
		return fail(f, e, "cannot read");
	struct buf found = BUF_INIT;
	unsigned seen = 0;
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		buf_printf(&found, "%s%s", n++ ? ", " : "", name ? name : "?");
		for (unsigned i = 0; name && i < N_COLUMNS; i++)
			if (strcasecmp(name, columns[i]) == 0)
				seen |= 1u << i;
	}
	sqlite3_finalize(st);
	enum status res = ST_OK;
	if (rc != SQLITE_DONE)
		res = fail(f, e, "cannot read");
	else if (n == 0)
		res = err_set(e, ST_UNAVAILABLE, "%s has no employees table; give the directory's SQLite file "
			      "(nothing was imported)", f->path);
	else if (n != (int)N_COLUMNS || seen != (1u << N_COLUMNS) - 1)
		res = err_set(e, ST_UNAVAILABLE,
			      "%s: the employees table has the columns (%s), not (id, fullname, location, "
			      "job_title, badges); it is not the directory's legacy file (nothing was imported)",
			      f->path, buf_str(&found));
	buf_free(&found);
	return res;
}

static long row_count(struct legacy_file *f)
{
	sqlite3_stmt *st;
	long n = -1;
	if (sqlite3_prepare_v2(f->db, "SELECT count(*) FROM employees", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

enum status legacy_open(const char *path, struct legacy_file **out, long *rows, struct err *e)
{
	*out = NULL;
	struct legacy_file *f = xcalloc(1, sizeof *f);
	f->path = xstrdup(path);
	employee_init(&f->rec);
	enum status st = ST_OK;
	FILE *probe = fopen(path, "rb");
	char head[16] = {0};
	size_t got = probe ? fread(head, 1, sizeof head, probe) : 0;
	if (probe)
		fclose(probe);
	if (!probe)
		st = err_set(e, ST_UNAVAILABLE, "cannot read %s: no such file or not readable", path);
	else if (got < sizeof head || memcmp(head, "SQLite format 3", 16) != 0)
		st = err_set(e, ST_UNAVAILABLE, "%s is not a SQLite database; give the directory's legacy "
			     "employees.db (nothing was imported)", path);
	else if (sqlite3_open_v2(path, &f->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		st = fail(f, e, "cannot open");
	if (st == ST_OK)
		st = check_columns(f, e);
	/* Ids as text, in byte order: the checksum's order on both sides. */
	if (st == ST_OK &&
	    sqlite3_prepare_v2(f->db, "SELECT CAST(id AS TEXT), typeof(id), fullname, location, job_title, badges "
				      "FROM employees ORDER BY 1", -1, &f->rows, NULL) != SQLITE_OK)
		st = fail(f, e, "cannot read");
	if (st != ST_OK) {
		legacy_close(f);
		return st;
	}
	*rows = row_count(f);
	*out = f;
	return ST_OK;
}

void legacy_close(struct legacy_file *f)
{
	if (!f)
		return;
	sqlite3_finalize(f->rows);
	sqlite3_close(f->db);
	employee_free(&f->rec);
	buf_free(&f->badges);
	free(f->path);
	free(f);
}

/* ---- one row ---- */

static void add_why(struct legacy_row *row, const char *what, const char *msg)
{
	size_t n = strlen(row->why);
	snprintf(row->why + n, sizeof row->why - n, "%s%s%s%s", n ? "; " : "", what, *what ? " " : "", msg);
	row->valid = false;
}

/* Column i as text; NUL bytes inside make it invalid (they would be cut). */
static const char *column_text(sqlite3_stmt *st, int i, bool *has_nul)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	*has_nul = t && strlen(t) != (size_t)n;
	return t;
}

static void take_id(struct legacy_file *f, struct legacy_row *row)
{
	sqlite3_stmt *st = f->rows;
	bool nul;
	const char *id = column_text(st, 0, &nul);
	const char *type = (const char *)sqlite3_column_text(st, 1);
	char msg[128];
	if (!id || strcmp(type, "null") == 0)
		add_why(row, "id", "is missing");
	else if (strcmp(type, "integer") != 0 && strcmp(type, "text") != 0)
		add_why(row, "id", "is not an integer or text");
	else if (nul || strlen(id) > EMP_ID_MAX || !employee_check_text(id, EMP_ID_MAX, msg, sizeof msg))
		add_why(row, "id", "must be 1 to 36 characters of text without control characters");
	else if (f->have_prev && strcmp(f->prev_id, id) == 0)
		add_why(row, "id", "appears more than once");
	snprintf(row->id, sizeof row->id, "%s", id ? id : "");
	if (id && strlen(id) <= EMP_ID_MAX) {
		snprintf(f->prev_id, sizeof f->prev_id, "%s", id);
		f->have_prev = true;
	}
}

static void take_badges(struct legacy_file *f, struct legacy_row *row)
{
	bool nul;
	const char *text = column_text(f->rows, 5, &nul);
	enum badge_format fmt;
	badges_decode(text, &f->rec.badges, &fmt);
	f->badges_null = text == NULL;
	if (nul)
		add_why(row, "badges", "contain a NUL byte");
	const char *p = text ? text : "";
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '[' && fmt == BADGES_COMMA)
		add_why(row, "badges", "look like JSON but are not a JSON array of strings");
}

static void normalise(struct legacy_file *f, struct legacy_row *row)
{
	struct employee_problems p;
	if (!employee_normalize(&f->rec, &p))
		for (int i = 0; i < EF_COUNT; i++)
			if (p.msg[i][0])
				add_why(row, i == EF_BADGES ? "" : employee_field_key((enum employee_field)i),
					p.msg[i]); /* badge messages name the badge */
	buf_reset(&f->badges);
	if (!f->badges_null)
		badges_encode(&f->rec.badges, BADGES_JSON, &f->badges);
	row->fullname = f->rec.fullname;
	row->location = f->rec.location;
	row->job_title = f->rec.job_title;
	row->badges = f->badges_null ? NULL : buf_str(&f->badges);
}

enum status legacy_next(struct legacy_file *f, struct legacy_row *row, bool *end, struct err *e)
{
	memset(row, 0, sizeof *row);
	row->valid = true;
	int rc = sqlite3_step(f->rows);
	*end = rc == SQLITE_DONE;
	if (*end)
		return ST_OK;
	if (rc != SQLITE_ROW)
		return fail(f, e, "cannot read");
	take_id(f, row);
	static const enum employee_field text_fields[] = {EF_FULLNAME, EF_LOCATION, EF_JOB_TITLE};
	for (int i = 0; i < 3; i++) {
		bool nul;
		const char *t = column_text(f->rows, 2 + i, &nul);
		if (nul)
			add_why(row, employee_field_key(text_fields[i]), "contains a NUL byte");
		employee_set(&f->rec, text_fields[i], t ? t : "");
	}
	take_badges(f, row);
	normalise(f, row);
	return ST_OK;
}
