/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `empdir-tui snapshot pull|push|status` and `empdir-tui export`: the
 * non-interactive side of offline work, for scripts and cron. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../core/buf.h"
#include "../core/text.h"
#include "../offline/sync.h"
#include "cli.h"

static void progress_bar(void *ctx, long done, long total)
{
	const char *what = ctx;
	if (!isatty(STDERR_FILENO))
		return;
	if (total > 0)
		fprintf(stderr, "\r%s: %ld/%ld (%ld%%)   ", what, done, total, done * 100 / total);
	else
		fprintf(stderr, "\r%s: %ld   ", what, done);
	fflush(stderr);
}

static void progress_end(void)
{
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
}

static void snapshot_usage(FILE *out)
{
	fputs("usage: empdir-tui snapshot pull [--index] SOURCE FILE\n"
	      "       empdir-tui snapshot push FILE [SOURCE]\n"
	      "       empdir-tui snapshot status FILE\n"
	      "SOURCE: a connection name, --pg CONNINFO, --api URL or --offline FILE.\n"
	      "pull copies the whole directory into FILE (replacing it only when complete);\n"
	      "it is refused while FILE holds edits that were not pushed. The search index is\n"
	      "built on FILE's first writable open, or right away with --index.\n"
	      "push sends FILE's offline edits to where it was pulled from (or SOURCE);\n"
	      "conflicts are kept for the sync screen (empdir-tui --offline FILE, then :sync).\n",
	      out);
}

/* What to record as the snapshot's source: never a password. */
static void describe_source(const char *backend, const char *target, const char *name, const struct config *cfg,
			    struct sync_source *d)
{
	memset(d, 0, sizeof d[0]);
	if (name) {
		struct conn_config cc;
		struct err e = {0};
		snprintf(d->name, sizeof d->name, "%s", name);
		if (config_connection(cfg, name, &cc, &e) == ST_OK) {
			snprintf(d->backend, sizeof d->backend, "%s", cc.backend);
			snprintf(d->target, sizeof d->target, "%s", cc.target ? cc.target : "");
		}
		return;
	}
	snprintf(d->backend, sizeof d->backend, "%s", backend);
	snprintf(d->target, sizeof d->target, "%s", target);
	if (strstr(d->target, "password"))
		d->target[0] = '\0'; /* push will then need the source named again */
}

/* Ctrl-C, or the session going away, during a pull: no temporary file is
 * left behind, and the exit status still says which signal it was. */
static void pull_interrupted(int sig)
{
	static const char unchanged[] = "\nempdir-tui: pull interrupted; the snapshot file is unchanged\n";
	static const char done[] = "\nempdir-tui: pull interrupted after the new snapshot was in place\n";
	bool removed = sync_pull_interrupted();
	ssize_t w = removed ? write(STDERR_FILENO, unchanged, sizeof unchanged - 1)
			    : write(STDERR_FILENO, done, sizeof done - 1);
	(void)w;
	signal(sig, SIG_DFL);
	raise(sig);
}

static int cmd_pull(int argc, char **argv, const struct config *cfg)
{
	bool index = false;
	int kept = 0;
	for (int k = 0; k < argc; k++) /* --index may come anywhere */
		if (strcmp(argv[k], "--index") == 0)
			index = true;
		else
			argv[kept++] = argv[k];
	argc = kept;
	int i = 0;
	const char *backend, *target, *name;
	int rc = cli_source_arg(argc, argv, &i, &backend, &target, &name);
	if (rc)
		return rc;
	if (i != argc - 1) {
		snapshot_usage(stderr);
		return EXIT_USAGE;
	}
	const char *file = argv[i];
	struct backend *src;
	if ((rc = cli_open_source(cfg, backend, target, name, true, &src)) != 0)
		return rc;
	struct sync_source d;
	describe_source(backend, target, name, cfg, &d);
	struct err e = {0};
	struct sigaction sa = {.sa_handler = pull_interrupted};
	sigemptyset(&sa.sa_mask);
	for (int k = 0; k < 3; k++) {
		static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
		struct sigaction old;
		/* A signal ignored on purpose (nohup, a background job) stays so. */
		if (sigaction(sigs[k], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[k], &sa, NULL);
	}
	/* No bar to draw: no need to count the rows first. */
	long rows = 0;
	enum status st = sync_pull(src, &d, file, index, isatty(STDERR_FILENO) ? progress_bar : NULL, "pulling", &rows,
				   &e);
	progress_end();
	backend_close(src);
	if (st != ST_OK)
		return cli_fail(st == ST_CONFLICT ? EXIT_USAGE : EXIT_RUNTIME, e.msg);
	long waiting, conflicts;
	char at[32];
	sync_status(file, &waiting, &conflicts, at, &e);
	char *from = text_safe_dup(name ? name : target);
	printf("pulled %ld employee%s from %s into %s at %s%s\n", rows, rows == 1 ? "" : "s", from, file, at,
	       index ? "" : "; the first open builds its search index");
	free(from);
	return 0;
}

static int cmd_push(int argc, char **argv, const struct config *cfg)
{
	if (argc < 1) {
		snapshot_usage(stderr);
		return EXIT_USAGE;
	}
	const char *file = argv[0];
	struct sync_source d;
	struct err e = {0};
	if (sync_source_of(file, &d, &e) != ST_OK)
		return cli_fail(EXIT_SOURCE, e.msg);
	const char *backend = NULL, *target = NULL, *name = NULL;
	int i = 1, rc;
	if (argc > 1) {
		if ((rc = cli_source_arg(argc, argv, &i, &backend, &target, &name)) != 0)
			return rc;
	} else if (d.name[0] && config_find(cfg, "connection", d.name)) {
		name = d.name;
	} else if (d.target[0]) {
		backend = d.backend;
		target = d.target;
	} else {
		return cli_fail(EXIT_USAGE, "the snapshot does not record where to push (it was pulled with a password "
					    "in the conninfo, or from a connection no longer configured); name the SOURCE");
	}
	struct backend *dst;
	if ((rc = cli_open_source(cfg, backend, target, name, false, &dst)) != 0)
		return rc;
	struct sync_stats stats;
	enum status st = sync_push(dst, file, progress_bar, "pushing", &stats, &e);
	progress_end();
	backend_close(dst);
	printf("pushed %ld edit%s", stats.pushed, stats.pushed == 1 ? "" : "s");
	if (stats.already)
		printf(", %ld already applied by an earlier push", stats.already);
	printf("; %ld waiting", stats.waiting);
	if (stats.conflicts)
		printf(" (%ld conflict%s: resolve them with empdir-tui --offline %s, then :sync)", stats.conflicts,
		       stats.conflicts == 1 ? "" : "s", file);
	printf("\n");
	if (st != ST_OK)
		return cli_fail(EXIT_RUNTIME, e.msg);
	return stats.waiting ? 1 : 0;
}

static int cmd_status(int argc, char **argv)
{
	if (argc != 1) {
		snapshot_usage(stderr);
		return EXIT_USAGE;
	}
	struct sync_source d;
	struct err e = {0};
	long waiting, conflicts;
	char at[32];
	if (sync_source_of(argv[0], &d, &e) != ST_OK || sync_status(argv[0], &waiting, &conflicts, at, &e) != ST_OK)
		return cli_fail(EXIT_SOURCE, e.msg);
	char *safe_target = text_safe_dup(d.name[0] ? d.name : d.target);
	printf("source: %s %s\npulled: %s\nedits waiting: %ld\nconflicts: %ld\nsearch index: %s\n", d.backend,
	       safe_target, at, waiting, conflicts, d.search_index ? "built" : "not yet (built on the first open)");
	free(safe_target);
	return 0;
}

int snapshot_command(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		snapshot_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	struct config cfg;
	config_init(&cfg);
	int rc = cli_load_config(getenv("EMPDIR_CONFIG"), &cfg);
	if (rc == 0) {
		if (strcmp(argv[1], "pull") == 0)
			rc = cmd_pull(argc - 2, argv + 2, &cfg);
		else if (strcmp(argv[1], "push") == 0)
			rc = cmd_push(argc - 2, argv + 2, &cfg);
		else if (strcmp(argv[1], "status") == 0)
			rc = cmd_status(argc - 2, argv + 2);
		else {
			char m[200];
			snprintf(m, sizeof m, "unknown snapshot command '%s'; use pull, push or status", argv[1]);
			rc = cli_fail(EXIT_USAGE, m);
		}
	}
	config_free(&cfg);
	return rc;
}

/* ---- export ---- */

static void csv_field(struct buf *out, const char *s, bool tty)
{
	struct buf safe = BUF_INIT;
	if (tty) {
		text_sanitize(&safe, s, strlen(s), 0);
		s = buf_str(&safe);
	}
	if (strpbrk(s, ",\"\r\n") || !*s) {
		buf_putc(out, '"');
		for (; *s; s++) {
			if (*s == '"')
				buf_putc(out, '"');
			buf_putc(out, *s);
		}
		buf_putc(out, '"');
	} else {
		buf_puts(out, s);
	}
	buf_free(&safe);
}

static void export_row(struct buf *out, const struct employee *r, bool json, bool first, bool tty)
{
	struct buf badges = BUF_INIT;
	badges_encode(&r->badges, BADGES_JSON, &badges);
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON *b = cJSON_AddArrayToObject(o, "badges");
		cJSON_AddStringToObject(o, "id", r->id);
		cJSON_AddStringToObject(o, "fullname", r->fullname);
		cJSON_AddStringToObject(o, "location", r->location);
		cJSON_AddStringToObject(o, "job_title", r->job_title);
		for (size_t i = 0; i < r->badges.n; i++)
			cJSON_AddItemToArray(b, cJSON_CreateString(r->badges.v[i]));
		char *s = cJSON_PrintUnformatted(o);
		buf_puts(out, first ? "\n" : ",\n");
		buf_puts(out, s); /* JSON escapes every control character */
		cJSON_free(s);
		cJSON_Delete(o);
	} else {
		const char *cells[] = {r->id, r->fullname, r->location, r->job_title, buf_str(&badges)};
		for (int i = 0; i < 5; i++) {
			if (i)
				buf_putc(out, ',');
			csv_field(out, cells[i], tty);
		}
		buf_puts(out, "\r\n");
	}
	buf_free(&badges);
}

/* Export output: rows formatted into a buffer, written out every 500. */
struct exporter {
	struct buf out;
	struct employee rec; /* a streamed record, reused */
	bool json, tty, first;
	long rows;
};

static enum status export_flush(struct exporter *x, struct err *e)
{
	if (fwrite(x->out.data, 1, x->out.len, stdout) != x->out.len)
		return err_set(e, ST_FAIL, "cannot write the export (disk full or pipe closed)");
	buf_reset(&x->out);
	return ST_OK;
}

static enum status export_one(void *ctx, const struct employee *r, struct err *e)
{
	struct exporter *x = ctx;
	export_row(&x->out, r, x->json, x->first, x->tty);
	x->first = false;
	return ++x->rows % 500 == 0 ? export_flush(x, e) : ST_OK;
}

static enum status export_streamed(void *ctx, const struct stream_record *r, struct err *e)
{
	struct exporter *x = ctx;
	struct employee *rec = &x->rec;
	snprintf(rec->id, sizeof rec->id, "%s", r->id);
	employee_set(rec, EF_FULLNAME, r->fullname);
	employee_set(rec, EF_LOCATION, r->location);
	employee_set(rec, EF_JOB_TITLE, r->job_title);
	badges_decode(r->badges, &rec->badges, NULL);
	return export_one(x, rec, e);
}

/* Every record in name order: one COPY where the source streams (pg: the
 * server sorts once), else page by page. */
static enum status export_all(struct backend *src, struct exporter *x, struct err *e)
{
	enum status st;
	if (backend_can_stream(src)) {
		employee_init(&x->rec);
		st = backend_stream_all(src, true, export_streamed, x, e);
		employee_free(&x->rec);
	} else {
		st = backend_page_all(src, export_one, x, e);
	}
	return st == ST_OK ? export_flush(x, e) : st;
}

int export_command(int argc, char **argv)
{
	const char *format = "csv";
	int i = 1;
	const char *backend = NULL, *target = NULL, *name = NULL;
	bool have_source = false;
	while (i < argc) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			format = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--help") == 0) {
			puts("usage: empdir-tui export SOURCE [--format csv|json]\n"
			     "Writes every employee to standard output, sorted by name, as it comes: one COPY\n"
			     "from PostgreSQL, page by page from the API or a snapshot.");
			return 0;
		} else if (!have_source) {
			int rc = cli_source_arg(argc, argv, &i, &backend, &target, &name);
			if (rc)
				return rc;
			have_source = true;
		} else {
			char m[200];
			snprintf(m, sizeof m, "unexpected argument '%s'; see empdir-tui export --help", argv[i]);
			return cli_fail(EXIT_USAGE, m);
		}
	}
	bool json = strcmp(format, "json") == 0;
	if (!json && strcmp(format, "csv") != 0)
		return cli_fail(EXIT_USAGE, "--format is csv or json");
	if (!have_source)
		return cli_fail(EXIT_USAGE, "missing the data source: a connection name, --pg CONNINFO, --api URL or --offline FILE");
	struct config cfg;
	config_init(&cfg);
	int rc = cli_load_config(getenv("EMPDIR_CONFIG"), &cfg);
	struct backend *src = NULL;
	if (rc == 0)
		rc = cli_open_source(&cfg, backend, target, name, true, &src);
	if (rc) {
		config_free(&cfg);
		return rc;
	}
	struct exporter x = {.out = BUF_INIT, .json = json, .tty = isatty(STDOUT_FILENO), .first = true};
	buf_puts(&x.out, json ? "[" : "id,fullname,location,job_title,badges\r\n");
	struct err e = {0};
	if (export_all(src, &x, &e) != ST_OK)
		rc = cli_fail(EXIT_RUNTIME, e.msg);
	if (rc == 0 && json)
		fputs("\n]\n", stdout);
	buf_free(&x.out);
	backend_close(src);
	config_free(&cfg);
	if (fflush(stdout) != 0 && rc == 0)
		rc = cli_fail(EXIT_RUNTIME, "cannot write the export");
	return rc;
}
