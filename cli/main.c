/* empdir-tui: the command line. Parses options and the config file, opens
 * the chosen data source, and hands it to the TUI.
 *
 * Exit status (the man page lists the same): 0 ok; 1 a runtime failure;
 * 2 bad usage or configuration; 3 the data source cannot be opened; 4 the
 * terminal cannot be used; 128+N after signal N (the terminal restored). */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../api_client/backend.h"
#include "../core/buf.h"
#include "../core/config.h"
#include "../core/text.h"
#include "../tui/tui.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_SOURCE = 3, EXIT_TERMINAL = 4 };

struct options {
	const char *config_path;
	const char *offline;
	const char *pg;
	const char *api;
	const char *connection;
	bool read_only;
	bool no_color;
	bool ascii;
	bool no_history;
};

static void usage(FILE *out)
{
	fputs("usage: empdir-tui [OPTIONS] [CONNECTION]\n"
	      "\n"
	      "Browse, search and edit the Employee Directory in the terminal.\n"
	      "\n"
	      "Data source (one of):\n"
	      "  CONNECTION           a [connection NAME] from the config file\n"
	      "  --offline FILE       a SQLite snapshot of the directory\n"
	      "  --pg CONNINFO        PostgreSQL (conninfo string or URI; no passwords here)\n"
	      "  --api URL            the directory's HTTP API\n"
	      "  (none)               the config file's [general] default\n"
	      "\n"
	      "Options:\n"
	      "  --read-only          refuse every change (enforced by the data source)\n"
	      "  --config FILE        config file (default $XDG_CONFIG_HOME/empdir/config)\n"
	      "  --no-color           no colours (as NO_COLOR=1)\n"
	      "  --ascii              ASCII instead of Unicode symbols\n"
	      "  --no-history         do not read or write prompt histories\n"
	      "  -h, --help           this help\n"
	      "  -V, --version        the version\n"
	      "\n"
	      "In the program, ? lists the keys. See empdir-tui(1).\n",
	      out);
}

/* Errors go to stderr as one sanitised line. */
static int fail(int status, const char *msg)
{
	char *safe = text_safe_dup(msg);
	fprintf(stderr, "empdir-tui: %s\n", safe);
	free(safe);
	return status;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_OFFLINE = 256, OPT_PG, OPT_API, OPT_CONFIG, OPT_RO, OPT_NOCOLOR, OPT_ASCII,
	       OPT_NOHIST, OPT_MANKEYS };
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"offline", required_argument, NULL, OPT_OFFLINE},
		{"pg", required_argument, NULL, OPT_PG},
		{"api", required_argument, NULL, OPT_API},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"read-only", no_argument, NULL, OPT_RO},
		{"no-color", no_argument, NULL, OPT_NOCOLOR},
		{"ascii", no_argument, NULL, OPT_ASCII},
		{"no-history", no_argument, NULL, OPT_NOHIST},
		{"man-keys", no_argument, NULL, OPT_MANKEYS},
		{NULL, 0, NULL, 0},
	};
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return -1;
		case 'V': printf("empdir-tui %s\n", EMPDIR_VERSION); return -1;
		case OPT_OFFLINE: o->offline = optarg; break;
		case OPT_PG: o->pg = optarg; break;
		case OPT_API: o->api = optarg; break;
		case OPT_CONFIG: o->config_path = optarg; break;
		case OPT_RO: o->read_only = true; break;
		case OPT_NOCOLOR: o->no_color = true; break;
		case OPT_ASCII: o->ascii = true; break;
		case OPT_NOHIST: o->no_history = true; break;
		case OPT_MANKEYS: actions_write_man(stdout); return -1;
		case ':': {
			char m[200];
			snprintf(m, sizeof m, "option %s needs a value; see --help", argv[optind - 1]);
			return fail(EXIT_USAGE, m);
		}
		default: {
			char m[300];
			snprintf(m, sizeof m, "unknown option '%s'; see --help", argv[optind - 1]);
			return fail(EXIT_USAGE, m);
		}
		}
	}
	if (optind < argc)
		o->connection = argv[optind++];
	if (optind < argc) {
		char m[300];
		snprintf(m, sizeof m, "unexpected argument '%s'; give at most one connection name", argv[optind]);
		return fail(EXIT_USAGE, m);
	}
	int sources = !!o->offline + !!o->pg + !!o->api + !!o->connection;
	if (sources > 1)
		return fail(EXIT_USAGE, "give one data source: a connection name, --offline, --pg or --api");
	return 0;
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
static int load_config(const struct options *o, struct config *cfg)
{
	struct buf path = BUF_INIT;
	bool explicit_path = o->config_path != NULL;
	if (explicit_path) {
		buf_puts(&path, o->config_path);
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
		return fail(EXIT_USAGE, e.msg);
	}
	enum status st = config_parse(cfg, text, path.data, &e);
	free(text);
	buf_free(&path);
	if (st != ST_OK)
		return fail(EXIT_USAGE, e.msg);
	return 0;
}

static void say_progress(const char *msg)
{
	if (isatty(STDERR_FILENO)) {
		char *safe = text_safe_dup(msg);
		fprintf(stderr, "empdir-tui: %s\n", safe);
		free(safe);
	}
}

static char *expand_home(const char *p)
{
	const char *home = getenv("HOME");
	if (p && p[0] == '~' && p[1] == '/' && home) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s%s", home, p + 1);
		return buf_steal(&b);
	}
	return p ? xstrdup(p) : NULL;
}

int main(int argc, char **argv)
{
	if (!setlocale(LC_ALL, ""))
		setlocale(LC_ALL, "C.UTF-8");
	struct options o;
	memset(&o, 0, sizeof o);
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : rc;

	struct config cfg;
	config_init(&cfg);
	if ((rc = load_config(&o, &cfg)) != 0)
		goto out;

	struct conn_config cc = {.name = "command line"};
	struct err e = {0};
	char *target = NULL;
	const char *name = o.connection ? o.connection : (!o.offline && !o.pg && !o.api)
		? config_get(&cfg, "general", "default") : NULL;
	if (o.offline) {
		cc.backend = "offline";
		cc.target = o.offline;
	} else if (o.pg) {
		cc.backend = "pg";
		cc.target = o.pg;
	} else if (o.api) {
		cc.backend = "http";
		cc.target = o.api;
	} else if (name) {
		if (config_connection(&cfg, name, &cc, &e) != ST_OK) {
			rc = fail(EXIT_USAGE, e.msg);
			goto out;
		}
		if (strcmp(cc.backend, "offline") == 0) {
			target = expand_home(cc.target);
			cc.target = target;
		}
	} else {
		rc = fail(EXIT_USAGE, "no data source: give --offline FILE, --pg CONNINFO, --api URL or a "
				      "connection name (or set default = NAME in the config file); see --help");
		goto out;
	}
	cc.config = cc.config ? cc.config : &cfg;
	cc.read_only = cc.read_only || o.read_only;
	cc.progress = say_progress;

	struct backend *b = NULL;
	enum status st = backend_open(&cc, &b, &e);
	free(target);
	if (st != ST_OK) {
		rc = fail(st == ST_INVALID ? EXIT_USAGE : EXIT_SOURCE, e.msg);
		goto out;
	}
	const char *color = config_get(&cfg, "general", "color");
	struct tui_options topt = {
		.no_color = o.no_color || (color && strcmp(color, "never") == 0),
		.ascii = o.ascii || config_get_bool(&cfg, "general", "ascii_borders", false),
		.history_size = o.no_history ? 0 : (int)config_get_int(&cfg, "general", "history_size", 500),
		.page_size = (int)config_get_int(&cfg, "general", "page_size", 0),
	};
	rc = tui_run(b, &topt);
	backend_close(b);
out:
	config_free(&cfg);
	return rc;
}
