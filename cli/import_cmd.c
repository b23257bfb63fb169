/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `empdir-tui import`: see import_cmd.h. Reads the legacy rows in id order,
 * reports the invalid ones (and leaves them out of the COPY), stages the
 * rest, compares, and writes only when nothing stands in the way. */
#include "import_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../api_client/pg_import.h"
#include "../core/config.h"
#include "../core/text.h"
#include "../offline/legacy.h"
#include "cli.h"
#include "db_cmd.h"

#define INVALID_SHOWN 20

static const char import_usage[] =
	"usage: empdir-tui import LEGACY.db TARGET [--dry-run] [--on-conflict fail|skip|replace]\n"
	"                         [--skip-invalid]\n"
	"\n"
	"Load the directory's pre-migration SQLite file into PostgreSQL, in one transaction:\n"
	"integer ids become their decimal text, comma-separated badges JSON arrays (NULL badges\n"
	"stay NULL), every field is trimmed and checked; then row counts and a content checksum\n"
	"are verified on both sides before COMMIT.\n"
	"TARGET: --pg CONNINFO or the name of a pg connection.\n"
	"\n"
	"  --dry-run          report what would change (new, identical, conflicting, invalid\n"
	"                     rows) and write nothing\n"
	"  --on-conflict P    rows whose id exists with other content: fail (default: import\n"
	"                     nothing), skip (keep the table's), replace (take the file's)\n"
	"  --skip-invalid     import the valid rows even when some are invalid\n"
	"Exit status: 0 done, 1 refused or failed (nothing written), 2 usage, 3 cannot open.\n";

struct import_opts {
	const char *legacy;
	const char *backend, *target, *name;
	bool dry_run, skip_invalid;
	enum pg_conflict_policy policy;
};

struct feed {
	struct legacy_file *file;
	struct legacy_row row;
	long total, read, invalid;
	bool tty;
};

/* ---- arguments ---- */

static int parse_policy(const char *v, enum pg_conflict_policy *p)
{
	static const char *const names[] = {"fail", "skip", "replace"};
	for (int i = 0; i < 3; i++)
		if (strcmp(v, names[i]) == 0) {
			*p = (enum pg_conflict_policy)i;
			return 0;
		}
	return cli_fail(EXIT_USAGE, "--on-conflict is fail, skip or replace");
}

static int parse_args(int argc, char **argv, struct import_opts *o)
{
	memset(o, 0, sizeof *o);
	bool have_target = false;
	for (int i = 1; i < argc;) {
		const char *a = argv[i];
		int rc = 0;
		if (strcmp(a, "--dry-run") == 0) {
			o->dry_run = true;
			i++;
		} else if (strcmp(a, "--skip-invalid") == 0) {
			o->skip_invalid = true;
			i++;
		} else if (strcmp(a, "--on-conflict") == 0) {
			if (i + 1 >= argc)
				return cli_fail(EXIT_USAGE, "option --on-conflict needs a value: fail, skip or replace");
			rc = parse_policy(argv[i + 1], &o->policy);
			i += 2;
		} else if (!o->legacy && a[0] != '-') {
			o->legacy = a;
			i++;
		} else if (!have_target) {
			rc = cli_source_arg(argc, argv, &i, &o->backend, &o->target, &o->name);
			have_target = true;
		} else {
			char m[300];
			snprintf(m, sizeof m, "unexpected argument '%s'; see empdir-tui import --help", a);
			rc = cli_fail(EXIT_USAGE, m);
		}
		if (rc)
			return rc;
	}
	if (!o->legacy || !have_target) {
		fputs(import_usage, stderr);
		return EXIT_USAGE;
	}
	return 0;
}


/* ---- feeding the rows ---- */

static void say_phase(bool tty, const char *what)
{
	if (tty) {
		fprintf(stderr, "\r\033[K%s", what);
		fflush(stderr);
	}
}

static void report_invalid(struct feed *f)
{
	f->invalid++;
	if (f->invalid > INVALID_SHOWN)
		return;
	say_phase(f->tty, "");
	char m[600];
	snprintf(m, sizeof m, "invalid row (id %s): %s", f->row.id[0] ? f->row.id : "?", f->row.why);
	cli_fail(0, m);
}

static enum status next_row(void *ctx, struct pg_import_row *out, bool *end, struct err *e)
{
	struct feed *f = ctx;
	for (;;) {
		enum status st = legacy_next(f->file, &f->row, end, e);
		if (st != ST_OK || *end)
			return st;
		f->read++;
		if (f->row.valid)
			break;
		report_invalid(f);
	}
	*out = (struct pg_import_row){f->row.id, f->row.fullname, f->row.location, f->row.job_title,
				      f->row.badges};
	return ST_OK;
}

static void progress(void *ctx, long sent)
{
	struct feed *f = ctx;
	(void)sent;
	if (!f->tty)
		return;
	if (f->total > 0)
		fprintf(stderr, "\r\033[Kimporting: %ld/%ld rows read (%ld%%)", f->read, f->total,
			f->read * 100 / f->total);
	else
		fprintf(stderr, "\r\033[Kimporting: %ld rows read", f->read);
	fflush(stderr);
}

/* ---- the report ---- */

static void print_plan(const struct import_opts *o, const struct feed *f, const struct pg_import_plan *p,
		       const char *where)
{
	char *legacy = text_safe_dup(o->legacy), *target = text_safe_dup(where);
	printf("legacy file: %s (%ld rows)\ntarget: %s\n", legacy, f->read, target);
	printf("new rows: %ld\nidentical: %ld\nconflicting: %ld", p->new_rows, p->identical, p->conflicting);
	for (size_t i = 0; i < p->conflict_ids.n; i++) {
		char *id = text_safe_dup(p->conflict_ids.v[i]);
		printf("%s%s", i ? ", " : " (", id);
		free(id);
	}
	if (p->conflict_ids.n)
		printf("%s)", (long)p->conflict_ids.n < p->conflicting ? ", ..." : "");
	printf("\ninvalid: %ld\nchecksum: %s\n", f->invalid, p->checksum);
	free(legacy);
	free(target);
}

/* Why the import cannot go ahead as asked, or NULL. */
static const char *refusal(const struct import_opts *o, const struct feed *f, const struct pg_import_plan *p)
{
	if (f->invalid > 0 && !o->skip_invalid)
		return "invalid rows (listed above): fix them in the legacy file, or pass --skip-invalid to "
		       "import the others; nothing was imported";
	if (p->conflicting > 0 && o->policy == PG_CONFLICT_FAIL)
		return "rows whose id exists with other content: choose --on-conflict skip (keep the table's) "
		       "or replace (take the file's); nothing was imported";
	return NULL;
}

/* ---- the command ---- */

static int run(const struct import_opts *o, const struct conn_config *cc)
{
	struct feed f = {.tty = isatty(STDERR_FILENO)};
	struct err e = {0};
	if (legacy_open(o->legacy, &f.file, &f.total, &e) != ST_OK)
		return cli_fail(EXIT_SOURCE, e.msg);
	struct pg_import *im = NULL;
	struct pg_import_plan plan;
	memset(&plan, 0, sizeof plan);
	int rc = 0;
	enum status st = pg_import_begin(cc, &im, &e);
	if (st != ST_OK)
		rc = cli_fail(st == ST_UNAVAILABLE || st == ST_AUTH || st == ST_NOT_FOUND ? EXIT_SOURCE : EXIT_RUNTIME,
			      e.msg);
	if (!rc && pg_import_stage(im, next_row, &f, progress, &e) != ST_OK)
		rc = cli_fail(EXIT_RUNTIME, e.msg);
	say_phase(f.tty && !rc, "comparing with the table...");
	if (!rc && pg_import_compare(im, !o->dry_run, &plan, &e) != ST_OK)
		rc = cli_fail(EXIT_RUNTIME, e.msg);
	say_phase(f.tty, "");
	if (f.invalid > INVALID_SHOWN)
		fprintf(stderr, "empdir-tui: ... and %ld more invalid rows\n", f.invalid - INVALID_SHOWN);
	const char *no = rc ? NULL : refusal(o, &f, &plan);
	if (!rc)
		print_plan(o, &f, &plan, pg_import_where(im));
	if (!rc && o->dry_run) {
		printf("dry run: nothing was written%s\n", no ? " (as asked, the import would be refused)" : "");
		rc = no ? EXIT_RUNTIME : 0;
	} else if (!rc && no) {
		rc = cli_fail(EXIT_RUNTIME, no);
	} else if (!rc) {
		struct pg_import_result res;
		say_phase(f.tty, "writing and verifying...");
		st = pg_import_apply(im, &plan, o->policy, &res, &e);
		if (st == ST_OK)
			st = pg_import_commit(im, &e);
		say_phase(f.tty, "");
		if (st != ST_OK)
			rc = cli_fail(EXIT_RUNTIME, e.msg);
		else
			printf("imported: %ld new, %ld replaced, %ld kept as they were; verified %ld rows (checksum %s)\n",
			       res.inserted, res.replaced, plan.identical + (res.replaced ? 0 : plan.conflicting),
			       res.verified, res.checksum);
	}
	pg_import_plan_free(&plan);
	pg_import_end(im);
	legacy_close(f.file);
	return rc;
}

int import_command(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(import_usage, stdout);
			return 0;
		}
	struct import_opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	struct config cfg;
	config_init(&cfg);
	struct conn_config cc;
	rc = cli_load_config(getenv("EMPDIR_CONFIG"), &cfg);
	if (rc == 0)
		rc = cli_pg_config(&cfg, o.backend, o.target, o.name, "import writes to", &cc);
	if (rc == 0)
		rc = run(&o, &cc);
	config_free(&cfg);
	fflush(stdout);
	return rc;
}
