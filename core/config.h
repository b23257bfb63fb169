/* SPDX-License-Identifier: GPL-3.0-or-later */
/* config: the INI-style configuration file and named connections.
 *
 *   [general]              settings for the whole program
 *   [connection NAME]      one data source, opened with `empdir-tui NAME`
 *   [aws]                  credentials, region and alarms for the AWS screens
 *
 * Parsing checks every key and value against one schema table (config.c), so
 * a typo is reported with its file, line and a suggestion instead of being
 * ignored. The same table documents the keys (config.example is checked
 * against it by the tests). A struct config owns all its strings;
 * config_free() releases them. No I/O here: callers read the file. */
#ifndef EMPDIR_CONFIG_H
#define EMPDIR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct config_entry {
	char *key;
	char *value;
	int line;
};

struct config_section {
	char *kind; /* "general", "connection", "aws" */
	char *name; /* the connection's name; NULL for the others */
	int line;
	struct config_entry *entries;
	size_t n;
};

struct config {
	char *path; /* for messages; "" when built-in */
	struct config_section *sections;
	size_t n;
};

/* A data source to open: from a [connection] section or the command line. */
struct conn_config {
	const char *name;     /* connection name, or "command line" */
	const char *backend;  /* "offline", "pg", "http" */
	const char *target;   /* the snapshot path, conninfo or base URL */
	bool read_only;
	const struct config_section *section; /* extra keys, or NULL */
	const struct config *config;          /* the whole file, or NULL */
	/* Ask the user for a secret (a database password) without echo, before
	 * the screen starts; NULL when nobody can be asked. Returns false when
	 * the user gave none. The backend wipes `out` after use. */
	bool (*ask_secret)(const char *prompt, char *out, size_t outsz);
	/* Say what slow one-off work is happening before the screen starts
	 * ("indexing demo.db for search"); NULL to stay quiet. */
	void (*progress)(const char *msg);
};

struct config_key {
	const char *kind;    /* section kind */
	const char *key;
	const char *type;    /* "string", "bool", "int:MIN:MAX", "enum:a|b|c", "path" */
	const char *backends; /* for connection keys: which backends use it ("*" all) */
	const char *help;
};

extern const struct config_key config_schema[];
extern const size_t config_schema_len;

void config_init(struct config *c);
enum status config_parse(struct config *c, const char *text, const char *path, struct err *e);
void config_free(struct config *c);

const struct config_section *config_find(const struct config *c, const char *kind,
					 const char *name);
const char *config_section_get(const struct config_section *s, const char *key);
const char *config_get(const struct config *c, const char *kind, const char *key);
bool config_get_bool(const struct config *c, const char *kind, const char *key, bool def);
long config_get_int(const struct config *c, const char *kind, const char *key, long def);
/* A value of a connection: its section first, then nothing. */
const char *conn_get(const struct conn_config *cc, const char *key);
bool conn_get_bool(const struct conn_config *cc, const char *key, bool def);
long conn_get_int(const struct conn_config *cc, const char *key, long def);

/* Fill cc from the [connection name] section. */
enum status config_connection(const struct config *c, const char *name, struct conn_config *cc,
			      struct err *e);

bool config_parse_bool(const char *v, bool *out);
/* A configured path with a leading "~/" made absolute from $HOME, as a copy
 * the caller frees; NULL stays NULL. */
char *config_expand_home(const char *path);

#endif
