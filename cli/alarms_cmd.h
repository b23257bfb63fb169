/* SPDX-License-Identifier: GPL-3.0-or-later */
/* alarms_cmd: the one-shot AWS commands, for cron and monitoring.
 *
 *   empdir-tui alarms [--json] [--profile P] [--region R] [--config FILE]
 *       the deployment's CloudWatch alarms; exit 0 all OK, 1 any in ALARM,
 *       2 any with insufficient data (or a configured alarm not found) and
 *       none in ALARM, 3 on any error (one line on stderr, nothing on stdout)
 *   empdir-tui cost [--json] [--refresh | --cached | --max-age S] [--profile P] [--config FILE]
 *       the month's cost by service (Cost Explorer, 0.01 USD a request:
 *       cached, by default for 6 hours); exit 0, or 3 on error
 *
 * Both read the [aws] section of the config file like the TUI does. */
#ifndef EMPDIR_ALARMS_CMD_H
#define EMPDIR_ALARMS_CMD_H

int alarms_command(int argc, char **argv);
int cost_command(int argc, char **argv);

#endif
