/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What every subcommand of the command line shares: one-line errors, the
 * configuration file, and opening a data source the same way everywhere. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/text.h"
#include "../offline/sync.h"
#include "db_cmd.h"

/* Errors go to stderr as one sanitised line. */
/* A progress line ("...: 43%") is being rewritten in place on stderr. */
static bool progress_open;

static void end_progress_line(void)
{
	if (progress_open)
		fputc('\n', stderr);
	progress_open = false;
}

int cli_fail(int status, const char *msg)
{
	end_progress_line();
	char *safe = text_safe_dup(msg);
	fprintf(stderr, "empdir-tui: %s\n", safe);
	free(safe);
	return status;
}

static char *read_file(const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		err_set(e, ST_UNAVAILABLE, "cannot read config %s: %s", path, strerror(errno));
		return NULL;
	}
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

/* The config file: the named one must exist; the default one may not. */
int cli_load_config(const char *explicit_path_arg, struct config *cfg)
{
	struct buf path = BUF_INIT;
	bool explicit_path = explicit_path_arg != NULL;
	if (explicit_path) {
		buf_puts(&path, explicit_path_arg);
	} else {
		const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
		if (x && *x == '/')
			buf_printf(&path, "%s/empdir/config", x);
		else if (home && *home)
			buf_printf(&path, "%s/.config/empdir/config", home);
		else
			return 0;
	}
	struct err e = {0};
	char *text = read_file(path.data, &e);
	if (!text) {
		buf_free(&path);
		if (!explicit_path && errno == ENOENT)
			return 0;
		return cli_fail(EXIT_USAGE, e.msg);
	}
	enum status st = config_parse(cfg, text, path.data, &e);
	free(text);
	buf_free(&path);
	if (st != ST_OK)
		return cli_fail(EXIT_USAGE, e.msg);
	return 0;
}

/* On a terminal only. A message ending in a percentage rewrites the line
 * until 100%. */
void cli_say_progress(const char *msg)
{
	if (!isatty(STDERR_FILENO))
		return;
	char *safe = text_safe_dup(msg);
	size_t n = strlen(safe);
	if (n && safe[n - 1] == '%') {
		fprintf(stderr, "\rempdir-tui: %s\033[K", safe);
		progress_open = true;
		if (n >= 4 && strcmp(safe + n - 4, "100%") == 0)
			end_progress_line();
	} else {
		end_progress_line();
		fprintf(stderr, "empdir-tui: %s\n", safe);
	}
	fflush(stderr);
	free(safe);
}


int cli_pg_config(const struct config *cfg, const char *backend, const char *target, const char *name,
		  const char *doing, struct conn_config *cc)
{
	memset(cc, 0, sizeof *cc);
	char m[300];
	if (backend) {
		if (strcmp(backend, "pg") != 0) {
			snprintf(m, sizeof m, "%s PostgreSQL: give --pg CONNINFO or a pg connection", doing);
			return cli_fail(EXIT_USAGE, m);
		}
		cc->name = "command line";
		cc->backend = "pg";
		cc->target = target;
	} else {
		struct err e = {0};
		if (config_connection(cfg, name, cc, &e) != ST_OK)
			return cli_fail(EXIT_USAGE, e.msg);
		if (strcmp(cc->backend, "pg") != 0) {
			snprintf(m, sizeof m, "%s PostgreSQL; connection '%s' is backend = %s", doing, name, cc->backend);
			return cli_fail(EXIT_USAGE, m);
		}
	}
	cc->config = cfg;
	cc->ask_secret = cli_ask_password;
	cc->progress = cli_say_progress;
	return 0;
}

enum status cli_open_source_e(const struct config *cfg, const char *backend, const char *target,
			      const char *name, bool read_only, struct backend **out, struct err *e)
{
	struct conn_config cc = {.name = "command line"};
	char *expanded = NULL;
	*out = NULL;
	if (backend) {
		cc.backend = backend;
		cc.target = target;
	} else if (name) {
		if (config_connection(cfg, name, &cc, e) != ST_OK)
			return ST_INVALID;
		if (strcmp(cc.backend, "offline") == 0) {
			expanded = config_expand_home(cc.target);
			cc.target = expanded;
		}
	} else {
		return err_set(e, ST_INVALID, "no data source: give --offline FILE, --pg CONNINFO, --api URL or a "
					      "connection name (or set default = NAME in the config file); see --help");
	}
	cc.config = cc.config ? cc.config : cfg;
	cc.read_only = cc.read_only || read_only;
	cc.progress = cli_say_progress;
	cc.ask_secret = cli_ask_password;
	enum status st = backend_open(&cc, out, e);
	free(expanded);
	return st;
}

int cli_open_source(const struct config *cfg, const char *backend, const char *target, const char *name,
		    bool read_only, struct backend **out)
{
	struct err e = {0};
	enum status st = cli_open_source_e(cfg, backend, target, name, read_only, out, &e);
	if (st != ST_OK)
		return cli_fail(st == ST_INVALID ? EXIT_USAGE : EXIT_SOURCE, e.msg);
	return 0;
}

enum status cli_open_recorded_source(void *ctx, struct backend **out, struct err *e)
{
	const struct cli_snapshot *s = ctx;
	struct sync_source d;
	enum status st = sync_source_of(s->path, &d, e);
	if (st != ST_OK)
		return st;
	if (d.name[0] && config_find(s->config, "connection", d.name))
		return cli_open_source_e(s->config, NULL, NULL, d.name, false, out, e);
	if (!d.target[0])
		return err_set(e, ST_INVALID, "the snapshot does not record where it came from; push with `empdir-tui snapshot push FILE SOURCE`");
	return cli_open_source_e(s->config, d.backend, d.target, NULL, false, out, e);
}

int cli_source_arg(int argc, char **argv, int *i, const char **backend, const char **target, const char **name)
{
	*backend = *target = *name = NULL;
	if (*i >= argc)
		return cli_fail(EXIT_USAGE, "missing the data source: a connection name, --pg CONNINFO, --api URL or --offline FILE");
	const char *a = argv[*i];
	static const struct { const char *opt, *backend; } opts[] = {
		{"--pg", "pg"}, {"--api", "http"}, {"--offline", "offline"}};
	for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
		if (strcmp(a, opts[k].opt) != 0)
			continue;
		if (*i + 1 >= argc) {
			char m[128];
			snprintf(m, sizeof m, "option %s needs a value; see --help", a);
			return cli_fail(EXIT_USAGE, m);
		}
		*backend = opts[k].backend;
		*target = argv[*i + 1];
		*i += 2;
		return 0;
	}
	if (a[0] == '-') {
		char m[300];
		snprintf(m, sizeof m, "unknown option '%s'; see --help", a);
		return cli_fail(EXIT_USAGE, m);
	}
	*name = a;
	(*i)++;
	return 0;
}
