/* SPDX-License-Identifier: GPL-3.0-or-later */
/* import_cmd: `empdir-tui import LEGACY.db TARGET`, the seed's migration
 * step done right: the pre-migration SQLite file (offline/legacy.h) into
 * the PostgreSQL table (api_client/pg_import.h), in one verified
 * transaction, with a dry run and a report.
 *
 *   empdir-tui import LEGACY.db (--pg CONNINFO | CONNECTION)
 *          [--dry-run] [--on-conflict fail|skip|replace] [--skip-invalid]
 *
 * Exit 0 imported (or, with --dry-run, would import); 1 refused or failed
 * (invalid rows, conflicts, a failed check), nothing written; 2 usage;
 * 3 the legacy file or the database cannot be used. */
#ifndef EMPDIR_IMPORT_CMD_H
#define EMPDIR_IMPORT_CMD_H

int import_command(int argc, char **argv);

#endif
