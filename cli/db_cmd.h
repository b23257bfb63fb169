/* SPDX-License-Identifier: GPL-3.0-or-later */
/* db_cmd: `empdir-tui db setup`, the PostgreSQL admin command, and the
 * terminal password prompt a pg connection uses before the screen starts.
 *
 *   empdir-tui db setup [--yes] [--config FILE] CONNECTION
 *       CONNECTION: a [connection NAME] with backend = pg, --pg CONNINFO, or
 *       a conninfo string / postgresql:// URI. Prints the exact SQL (the
 *       employees table if absent, pg_trgm, the sort and trigram indexes,
 *       built CONCURRENTLY), asks "Run these statements? [y/N]" on stdin
 *       unless --yes, runs each statement on its own and reports it.
 *       Exit 0 done, 1 a statement failed or the answer was no, 2 usage,
 *       3 the database cannot be reached. */
#ifndef EMPDIR_DB_CMD_H
#define EMPDIR_DB_CMD_H

#include <stdbool.h>
#include <stddef.h>

int db_command(int argc, char **argv);

/* Ask on /dev/tty without echo (struct conn_config.ask_secret). False when
 * there is no terminal or the user cancelled (Ctrl-C, Ctrl-D, Esc). */
bool cli_ask_password(const char *prompt, char *out, size_t outsz);

#endif
