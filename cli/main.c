/* SPDX-License-Identifier: GPL-3.0-or-later */
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
#include "../api_client/aws_settings.h"
#include "cli.h"
#include "alarms_cmd.h"
#include "db_cmd.h"
#include "import_cmd.h"


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
	bool alarms;
	const char *profile;
	const char *region;
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
	      "  --alarms             open on the alarm screen, with no data source\n"
	      "  --profile NAME       AWS profile for the alarm and cost screens\n"
	      "  --region REGION      AWS region of the application\n"
	      "  -h, --help           this help\n"
	      "  -V, --version        the version\n"
	      "\n"
	      "In the program, ? lists the keys. See empdir-tui(1).\n",
	      out);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_OFFLINE = 256, OPT_PG, OPT_API, OPT_CONFIG, OPT_RO, OPT_NOCOLOR, OPT_ASCII,
	       OPT_NOHIST, OPT_MANKEYS, OPT_ALARMS, OPT_PROFILE, OPT_REGION };
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
		{"alarms", no_argument, NULL, OPT_ALARMS},
		{"profile", required_argument, NULL, OPT_PROFILE},
		{"region", required_argument, NULL, OPT_REGION},
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
		case OPT_ALARMS: o->alarms = true; break;
		case OPT_PROFILE: o->profile = optarg; break;
		case OPT_REGION: o->region = optarg; break;
		case ':': {
			char m[200];
			snprintf(m, sizeof m, "option %s needs a value; see --help", argv[optind - 1]);
			return cli_fail(EXIT_USAGE, m);
		}
		default: {
			char m[300];
			snprintf(m, sizeof m, "unknown option '%s'; see --help", argv[optind - 1]);
			return cli_fail(EXIT_USAGE, m);
		}
		}
	}
	if (optind < argc)
		o->connection = argv[optind++];
	if (optind < argc) {
		char m[300];
		snprintf(m, sizeof m, "unexpected argument '%s'; give at most one connection name", argv[optind]);
		return cli_fail(EXIT_USAGE, m);
	}
	int sources = !!o->offline + !!o->pg + !!o->api + !!o->connection;
	if (sources > 1)
		return cli_fail(EXIT_USAGE, "give one data source: a connection name, --offline, --pg or --api");
	if (sources && o->alarms)
		return cli_fail(EXIT_USAGE, "--alarms opens the alarm screen without a data source; drop the data source (A opens the alarms from the list)");
	return 0;
}

int main(int argc, char **argv)
{
	if (!setlocale(LC_ALL, ""))
		setlocale(LC_ALL, "C.UTF-8");
	/* Subcommands (non-interactive), then the TUI. */
	if (argc > 1 && strcmp(argv[1], "snapshot") == 0)
		return snapshot_command(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "export") == 0)
		return export_command(argc - 1, argv + 1);
	/* AWS one-shot commands (cli/alarms_cmd.c): need no data source. */
	if (argc > 1 && strcmp(argv[1], "alarms") == 0)
		return alarms_command(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "cost") == 0)
		return cost_command(argc - 1, argv + 1);
	/* `empdir-tui db setup` (cli/db_cmd.c): the pg table and indexes. */
	if (argc > 1 && strcmp(argv[1], "db") == 0)
		return db_command(argc - 1, argv + 1);
	/* `empdir-tui import` (cli/import_cmd.c): the legacy SQLite file into pg. */
	if (argc > 1 && strcmp(argv[1], "import") == 0)
		return import_command(argc - 1, argv + 1);
	struct options o;
	memset(&o, 0, sizeof o);
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : rc;

	struct config cfg;
	config_init(&cfg);
	if ((rc = cli_load_config(o.config_path, &cfg)) != 0)
		goto out;

	const char *name = o.connection ? o.connection : (!o.offline && !o.pg && !o.api)
		? config_get(&cfg, "general", "default") : NULL;
	const char *backend = o.offline ? "offline" : o.pg ? "pg" : o.api ? "http" : NULL;
	const char *target = o.offline ? o.offline : o.pg ? o.pg : o.api;
	struct backend *b = NULL;
	if (!o.alarms && (rc = cli_open_source(&cfg, backend, target, name, o.read_only, &b)) != 0)
		goto out;
	/* AWS for the alarm and cost screens, when configured (or asked for). */
	struct aws_settings aws_settings;
	aws_settings_init(&aws_settings);
	struct aws_http *aws = NULL;
	if (o.alarms || o.profile || o.region || config_find(&cfg, "aws", NULL)) {
		struct err e = {0};
		struct aws_http_options ho;
		memset(&ho, 0, sizeof ho);
		if (aws_settings_load(&aws_settings, &cfg, o.profile, o.region, &e) != ST_OK) {
			rc = cli_fail(EXIT_USAGE, e.msg);
			goto out_aws;
		}
		aws_settings_http_options(&aws_settings, &ho);
		if (aws_http_new(&ho, &aws, &e) != ST_OK && o.alarms) {
			rc = cli_fail(EXIT_RUNTIME, e.msg);
			goto out_aws;
		}
	}
	const char *color = config_get(&cfg, "general", "color");
	struct tui_options topt = {
		.no_color = o.no_color || (color && strcmp(color, "never") == 0),
		.ascii = o.ascii || config_get_bool(&cfg, "general", "ascii_borders", false),
		.history_size = o.no_history ? 0 : (int)config_get_int(&cfg, "general", "history_size", 500),
		.page_size = (int)config_get_int(&cfg, "general", "page_size", 0),
		.aws = aws,
		.aws_settings = aws ? &aws_settings : NULL,
		.alarms_only = o.alarms,
	};
	/* A pulled snapshot can push its edits from the sync screen. */
	char *snap_path = NULL;
	struct cli_snapshot snap = {0};
	if (b && (backend_caps(b) & CAP_JOURNAL)) {
		snap_path = backend == NULL && name ? NULL : xstrdup(target ? target : "");
		if (!snap_path) {
			struct conn_config cc;
			struct err e = {0};
			if (config_connection(&cfg, name, &cc, &e) == ST_OK)
				snap_path = config_expand_home(cc.target);
		}
		snap.path = snap_path;
		snap.config = &cfg;
		topt.snapshot_path = snap_path;
		topt.open_source = cli_open_recorded_source;
		topt.open_source_ctx = &snap;
	}
	rc = tui_run(b, &topt);
	free(snap_path);
out_aws:
	if (b)
		backend_close(b);
	if (aws)
		aws_http_free(aws);
	aws_settings_free(&aws_settings);
out:
	config_free(&cfg);
	return rc;
}
