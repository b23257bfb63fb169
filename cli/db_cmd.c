/* SPDX-License-Identifier: GPL-3.0-or-later */
/* db_cmd: `empdir-tui db setup` and the password prompt. See db_cmd.h. */
#include "db_cmd.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../api_client/pg_backend.h"
#include "../core/config.h"
#include "cli.h"

static const char db_usage[] =
	"usage: empdir-tui db setup [--yes] [--config FILE] CONNECTION\n"
	"\n"
	"Create the employees table (when absent) and the indexes the pg backend uses,\n"
	"after showing the exact SQL and asking. CONNECTION is a [connection NAME] with\n"
	"backend = pg, --pg CONNINFO, or a conninfo string or postgresql:// URI.\n"
	"\n"
	"  -y, --yes        do not ask\n"
	"  --config FILE    config file (default $XDG_CONFIG_HOME/empdir/config)\n";

/* Read a line without echo from the terminal, byte by byte (so Ctrl-C can
 * cancel without leaving the terminal silent). */
static bool read_secret(int fd, char *out, size_t outsz)
{
	size_t n = 0;
	for (;;) {
		unsigned char c;
		if (read(fd, &c, 1) != 1 || c == 3 || c == 27 || (c == 4 && n == 0))
			return false;
		if (c == '\r' || c == '\n')
			break;
		if (c == 127 || c == 8) {
			while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
				n--; /* a whole UTF-8 character */
			if (n > 0)
				n--;
			continue;
		}
		if (n + 1 < outsz)
			out[n++] = (char)c;
	}
	out[n] = '\0';
	return true;
}

bool cli_ask_password(const char *prompt, char *out, size_t outsz)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct termios old, quiet;
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return false;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ICANON | ISIG);
	quiet.c_cc[VMIN] = 1;
	quiet.c_cc[VTIME] = 0;
	bool ok = write(fd, prompt, strlen(prompt)) >= 0 && tcsetattr(fd, TCSAFLUSH, &quiet) == 0 &&
		  read_secret(fd, out, outsz);
	tcsetattr(fd, TCSAFLUSH, &old);
	ssize_t w = write(fd, "\n", 1); /* the Enter we did not echo */
	(void)w;
	close(fd);
	if (!ok)
		explicit_bzero(out, outsz);
	return ok;
}

static bool looks_like_conninfo(const char *s)
{
	return strchr(s, '=') || strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* The connection to set up; a bare conninfo that names no connection is
 * taken as --pg. */
static int db_source(const struct config *cfg, const char *backend, const char *target,
		     const char *name, struct conn_config *cc)
{
	if (!backend && name && !config_find(cfg, "connection", name) && looks_like_conninfo(name)) {
		backend = "pg";
		target = name;
	}
	return cli_pg_config(cfg, backend, target, name, "db setup works on", cc);
}

int db_command(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "setup") != 0) {
		fputs(db_usage, stderr);
		return EXIT_USAGE;
	}
	bool yes = false;
	const char *config_path = NULL;
	int i = 2;
	for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--pg") != 0; i++) {
		if (strcmp(argv[i], "-y") == 0 || strcmp(argv[i], "--yes") == 0) {
			yes = true;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(db_usage, stdout);
			return 0;
		} else {
			fputs(db_usage, stderr);
			return EXIT_USAGE;
		}
	}
	const char *backend, *target, *name;
	int rc = cli_source_arg(argc, argv, &i, &backend, &target, &name);
	if (rc != 0)
		return rc;
	if (i < argc)
		return cli_fail(EXIT_USAGE, "db setup takes one connection; see empdir-tui db setup --help");
	struct config cfg;
	config_init(&cfg);
	struct conn_config cc;
	if ((rc = cli_load_config(config_path, &cfg)) == 0 &&
	    (rc = db_source(&cfg, backend, target, name, &cc)) == 0)
		rc = pg_db_setup(&cc, stdin, stdout, stderr, yes);
	config_free(&cfg);
	return rc;
}
