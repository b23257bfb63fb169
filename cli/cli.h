/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli: the pieces of the command line that subcommands share.
 *
 * Exit statuses (the man page lists the same): 0 ok, 1 runtime failure,
 * 2 usage or configuration, 3 the data source cannot be opened, 4 the
 * terminal cannot be used. Functions returning int return 0 or such a
 * status, having printed one clear line on stderr. */
#ifndef EMPDIR_CLI_H
#define EMPDIR_CLI_H

#include <stdbool.h>

#include "../api_client/backend.h"
#include "../core/config.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_SOURCE = 3, EXIT_TERMINAL = 4 };

/* "empdir-tui: msg" on stderr, sanitised; returns status. */
int cli_fail(int status, const char *msg);
/* The config file: the explicit one must exist, the default one may not. */
int cli_load_config(const char *explicit_path, struct config *cfg);
void cli_say_progress(const char *msg);
/* Parse a data source at argv[*i]: NAME, --pg X, --api X or --offline X. */
int cli_source_arg(int argc, char **argv, int *i, const char **backend, const char **target,
		   const char **name);
/* Open it (backend NULL: the named connection). */
/* A PostgreSQL connection for a subcommand that works only there (db setup,
 * import): --pg CONNINFO (backend "pg", target) or a pg connection name,
 * set up as the TUI sets it up; `doing` starts the refusal, "import writes
 * to". 0, or the exit status after saying what was wrong. */
int cli_pg_config(const struct config *cfg, const char *backend, const char *target, const char *name,
		  const char *doing, struct conn_config *cc);
int cli_open_source(const struct config *cfg, const char *backend, const char *target, const char *name,
		    bool read_only, struct backend **out);

enum status cli_open_source_e(const struct config *cfg, const char *backend, const char *target,
			      const char *name, bool read_only, struct backend **out, struct err *e);
/* The source a pulled snapshot records (for the TUI's sync screen). */
struct cli_snapshot {
	const char *path;
	const struct config *config;
};
enum status cli_open_recorded_source(void *ctx, struct backend **out, struct err *e);

/* Subcommands. */
int snapshot_command(int argc, char **argv);
int export_command(int argc, char **argv);

#endif
