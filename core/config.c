/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* The schema: every key the program reads. Add a key here and in
 * config.example (a test compares the two). */
const struct config_key config_schema[] = {
	{"general", "default", "string", NULL, "connection opened when none is named"},
	{"general", "color", "enum:auto|always|never", NULL, "use colours (NO_COLOR also turns them off)"},
	{"general", "history_size", "int:0:100000", NULL, "lines kept per prompt history; 0 keeps none"},
	{"general", "ascii_borders", "bool", NULL, "draw lines with ASCII instead of line-drawing characters"},
	{"general", "page_size", "int:20:500", NULL, "rows fetched per request"},

	{"connection", "backend", "enum:offline|pg|http", "*", "which kind of data source this is"},
	{"connection", "read_only", "bool", "*", "refuse every write on this connection"},
	{"connection", "path", "path", "offline", "the SQLite snapshot file"},
	{"connection", "conninfo", "string", "pg", "libpq connection string or URI"},
	{"connection", "host", "string", "pg", "database host (instead of conninfo)"},
	{"connection", "port", "int:1:65535", "pg", "database port"},
	{"connection", "dbname", "string", "pg", "database name"},
	{"connection", "user", "string", "pg", "database user"},
	{"connection", "sslmode", "enum:disable|allow|prefer|require|verify-ca|verify-full", "pg", "TLS mode; verify-full for non-local hosts by default"},
	{"connection", "sslrootcert", "path", "pg", "CA bundle to verify the server (e.g. the RDS bundle)"},
	{"connection", "connect_timeout", "int:1:600", "pg,http", "seconds to wait for a connection"},
	{"connection", "statement_timeout", "int:0:3600", "pg", "seconds a query may run; 0 for no limit"},
	{"connection", "auth", "enum:password|iam|none|bearer", "pg,http", "how to authenticate"},
	{"connection", "url", "string", "http", "the deployment's base URL"},
	{"connection", "ca_file", "path", "http", "CA bundle for a private certificate authority"},
	{"connection", "token", "string", "http", "bearer token (the file must not be readable by others)"},
	{"connection", "token_env", "string", "http", "environment variable holding the bearer token"},
	{"connection", "token_command", "string", "http", "command whose output is the bearer token"},
	{"connection", "request_timeout", "int:1:600", "http", "seconds a request may take"},
	{"connection", "region", "string", "pg,http", "AWS region for IAM authentication"},

	{"aws", "profile", "string", NULL, "AWS profile (as --profile)"},
	{"aws", "region", "string", NULL, "region of the application (as --region)"},
	{"aws", "endpoint_url", "string", NULL, "endpoint override for every AWS service"},
	{"aws", "function_name", "string", NULL, "the Lambda function whose metrics are shown"},
	{"aws", "alarm_names", "string", NULL, "comma-separated alarm names"},
	{"aws", "alarm_prefix", "string", NULL, "show every alarm whose name starts with this"},
	{"aws", "refresh_seconds", "int:0:86400", NULL, "automatic refresh of the alarm screen; 0 turns it off"},
};
const size_t config_schema_len = sizeof config_schema / sizeof config_schema[0];

void config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->path = xstrdup("");
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct config_section *s = &c->sections[i];
		for (size_t j = 0; j < s->n; j++) {
			free(s->entries[j].key);
			free(s->entries[j].value);
		}
		free(s->entries);
		free(s->kind);
		free(s->name);
	}
	free(c->sections);
	free(c->path);
	memset(c, 0, sizeof *c);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	size_t d[41][41];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t m = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < m)
				m = d[i - 1][j - 1] + cost;
			d[i][j] = m;
		}
	return d[la][lb];
}

static const struct config_key *schema_find(const char *kind, const char *key,
					    const char **suggest)
{
	size_t best = 99;
	*suggest = NULL;
	for (size_t i = 0; i < config_schema_len; i++) {
		if (strcmp(config_schema[i].kind, kind) != 0)
			continue;
		if (strcmp(config_schema[i].key, key) == 0)
			return &config_schema[i];
		size_t d = edit_distance(config_schema[i].key, key);
		if (d < best && d <= 3) {
			best = d;
			*suggest = config_schema[i].key;
		}
	}
	return NULL;
}

bool config_parse_bool(const char *v, bool *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"};
	static const char *no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Check one value against its type; fill why on failure. */
static bool check_value(const struct config_key *k, const char *v, char *why, size_t whysz)
{
	if (strcmp(k->type, "bool") == 0) {
		bool b;
		if (!config_parse_bool(v, &b)) {
			snprintf(why, whysz, "'%s' is not true or false", v);
			return false;
		}
		return true;
	}
	if (strncmp(k->type, "int:", 4) == 0) {
		long lo = strtol(k->type + 4, NULL, 10);
		const char *hi_s = strchr(k->type + 4, ':');
		long hi = hi_s ? strtol(hi_s + 1, NULL, 10) : lo;
		char *end;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (errno || end == v || *end != '\0' || n < lo || n > hi) {
			snprintf(why, whysz, "'%s' is not a whole number from %ld to %ld", v, lo, hi);
			return false;
		}
		return true;
	}
	if (strncmp(k->type, "enum:", 5) == 0) {
		const char *p = k->type + 5;
		size_t vl = strlen(v);
		while (*p) {
			const char *bar = strchr(p, '|');
			size_t l = bar ? (size_t)(bar - p) : strlen(p);
			if (l == vl && strncmp(p, v, l) == 0)
				return true;
			p += l + (bar ? 1 : 0);
		}
		snprintf(why, whysz, "'%s' is not one of %s", v, k->type + 5);
		return false;
	}
	if (!*v && strcmp(k->type, "path") == 0) {
		snprintf(why, whysz, "the path is empty");
		return false;
	}
	return true;
}

static struct config_section *add_section(struct config *c, const char *kind, const char *name,
					  int line)
{
	c->sections = xrealloc(c->sections, (c->n + 1) * sizeof *c->sections);
	struct config_section *s = &c->sections[c->n++];
	memset(s, 0, sizeof *s);
	s->kind = xstrdup(kind);
	s->name = name ? xstrdup(name) : NULL;
	s->line = line;
	return s;
}

static enum status parse_header(struct config *c, char *h, int line, struct config_section **cur,
				struct err *e)
{
	const char *path = c->path;
	char *close = strchr(h, ']');
	if (!close || trim(close + 1)[0] != '\0')
		return err_set(e, ST_INVALID, "%s:%d: a section header must look like [general] or [connection NAME]",
			       path, line);
	*close = '\0';
	char *body = trim(h + 1);
	char *sp = strpbrk(body, " \t");
	char *name = NULL;
	if (sp) {
		*sp = '\0';
		name = trim(sp + 1);
		size_t nl = strlen(name);
		if (nl >= 2 && name[0] == '"' && name[nl - 1] == '"') {
			name[nl - 1] = '\0';
			name++;
		}
	}
	if (strcmp(body, "connection") == 0) {
		if (!name || !*name)
			return err_set(e, ST_INVALID, "%s:%d: [connection] needs a name, as in [connection prod]",
				       path, line);
		for (const char *p = name; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
				return err_set(e, ST_INVALID,
					       "%s:%d: connection name '%s' may hold only letters, digits, '-', '_' and '.'",
					       path, line, name);
		if (config_find(c, "connection", name))
			return err_set(e, ST_INVALID, "%s:%d: connection '%s' is defined twice", path, line, name);
	} else if (strcmp(body, "general") == 0 || strcmp(body, "aws") == 0) {
		if (name)
			return err_set(e, ST_INVALID, "%s:%d: [%s] takes no name", path, line, body);
	} else {
		return err_set(e, ST_INVALID,
			       "%s:%d: unknown section [%s]; use [general], [connection NAME] or [aws]",
			       path, line, body);
	}
	*cur = add_section(c, body, name, line);
	return ST_OK;
}

static enum status parse_entry(struct config *c, char *l, int line, struct config_section *cur,
			       struct err *e)
{
	const char *path = c->path;
	char *eq = strchr(l, '=');
	if (!eq)
		return err_set(e, ST_INVALID, "%s:%d: expected 'key = value'", path, line);
	if (!cur)
		return err_set(e, ST_INVALID, "%s:%d: a key before any section; start with [general] or [connection NAME]",
			       path, line);
	*eq = '\0';
	char *key = trim(l), *val = trim(eq + 1);
	size_t vl = strlen(val);
	if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
		val[vl - 1] = '\0';
		val++;
	}
	const char *suggest;
	const struct config_key *k = schema_find(cur->kind, key, &suggest);
	if (!k) {
		if (suggest)
			return err_set(e, ST_INVALID, "%s:%d: unknown key '%s' in [%s]; did you mean '%s'?",
				       path, line, key, cur->kind, suggest);
		return err_set(e, ST_INVALID, "%s:%d: unknown key '%s' in [%s]; see config.example for the keys",
			       path, line, key, cur->kind);
	}
	char why[160];
	if (!check_value(k, val, why, sizeof why))
		return err_set(e, ST_INVALID, "%s:%d: %s: %s", path, line, key, why);
	for (size_t i = 0; i < cur->n; i++)
		if (strcmp(cur->entries[i].key, key) == 0)
			return err_set(e, ST_INVALID, "%s:%d: '%s' is already set on line %d", path, line, key,
				       cur->entries[i].line);
	cur->entries = xrealloc(cur->entries, (cur->n + 1) * sizeof *cur->entries);
	cur->entries[cur->n++] = (struct config_entry){xstrdup(key), xstrdup(val), line};
	return ST_OK;
}

enum status config_parse(struct config *c, const char *text, const char *path, struct err *e)
{
	free(c->path);
	c->path = xstrdup(path ? path : "config");
	struct config_section *cur = NULL;
	int line = 0;
	const char *p = text;
	while (*p) {
		line++;
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *l = xstrndup(p, len);
		p += len + (nl ? 1 : 0);
		if (memchr(l, '\0', len) != NULL || strlen(l) != len) {
			free(l);
			return err_set(e, ST_INVALID, "%s:%d: the line contains a NUL byte; is this a text file?",
				       c->path, line);
		}
		char *t = trim(l);
		enum status st = ST_OK;
		if (*t == '\0' || *t == '#' || *t == ';')
			;
		else if (*t == '[') {
			/* add_section may move the array: re-find cur afterwards */
			st = parse_header(c, t, line, &cur, e);
		} else
			st = parse_entry(c, t, line, cur, e);
		free(l);
		if (st != ST_OK)
			return st;
	}
	/* Check each connection names a backend, and keys fit that backend. */
	for (size_t i = 0; i < c->n; i++) {
		struct config_section *s = &c->sections[i];
		if (strcmp(s->kind, "connection") != 0)
			continue;
		const char *be = config_section_get(s, "backend");
		if (!be)
			return err_set(e, ST_INVALID, "%s:%d: connection '%s' has no 'backend = offline|pg|http'",
				       c->path, s->line, s->name);
		for (size_t j = 0; j < s->n; j++) {
			const char *sug;
			const struct config_key *k = schema_find("connection", s->entries[j].key, &sug);
			if (k && k->backends && strcmp(k->backends, "*") != 0 && !strstr(k->backends, be))
				return err_set(e, ST_INVALID, "%s:%d: '%s' does not apply to a %s connection",
					       c->path, s->entries[j].line, s->entries[j].key, be);
		}
	}
	const char *def = config_get(c, "general", "default");
	if (def && !config_find(c, "connection", def)) {
		int dl = 0; /* the line of the default that counts: the last one */
		for (size_t i = 0; i < c->n; i++)
			for (size_t j = 0; j < c->sections[i].n; j++)
				if (strcmp(c->sections[i].kind, "general") == 0 &&
				    strcmp(c->sections[i].entries[j].key, "default") == 0)
					dl = c->sections[i].entries[j].line;
		return err_set(e, ST_INVALID, "%s:%d: default = %s, but there is no [connection %s]",
			       c->path, dl, def, def);
	}
	return ST_OK;
}

const struct config_section *config_find(const struct config *c, const char *kind,
					 const char *name)
{
	for (size_t i = 0; c && i < c->n; i++) {
		const struct config_section *s = &c->sections[i];
		if (strcmp(s->kind, kind) != 0)
			continue;
		if (!name || (s->name && strcmp(s->name, name) == 0))
			return s;
	}
	return NULL;
}

const char *config_section_get(const struct config_section *s, const char *key)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (strcmp(s->entries[i].key, key) == 0)
			return s->entries[i].value;
	return NULL;
}

const char *config_get(const struct config *c, const char *kind, const char *key)
{
	/* Later sections of the same kind override earlier ones. */
	const char *v = NULL;
	for (size_t i = 0; c && i < c->n; i++)
		if (strcmp(c->sections[i].kind, kind) == 0) {
			const char *x = config_section_get(&c->sections[i], key);
			if (x)
				v = x;
		}
	return v;
}

static bool as_bool(const char *v, bool def)
{
	bool b;
	return v && config_parse_bool(v, &b) ? b : def;
}

static long as_int(const char *v, long def)
{
	return v ? strtol(v, NULL, 10) : def;
}

bool config_get_bool(const struct config *c, const char *kind, const char *key, bool def)
{
	return as_bool(config_get(c, kind, key), def);
}

long config_get_int(const struct config *c, const char *kind, const char *key, long def)
{
	return as_int(config_get(c, kind, key), def);
}

const char *conn_get(const struct conn_config *cc, const char *key)
{
	return cc ? config_section_get(cc->section, key) : NULL;
}

bool conn_get_bool(const struct conn_config *cc, const char *key, bool def)
{
	return as_bool(conn_get(cc, key), def);
}

long conn_get_int(const struct conn_config *cc, const char *key, long def)
{
	return as_int(conn_get(cc, key), def);
}

enum status config_connection(const struct config *c, const char *name, struct conn_config *cc,
			      struct err *e)
{
	const struct config_section *s = config_find(c, "connection", name);
	if (!s) {
		struct buf names = BUF_INIT;
		for (size_t i = 0; c && i < c->n; i++)
			if (strcmp(c->sections[i].kind, "connection") == 0)
				buf_printf(&names, "%s%s", names.len ? ", " : "", c->sections[i].name);
		err_set(e, ST_INVALID, "no connection named '%s' in %s%s%s", name,
			c && c->path[0] ? c->path : "the configuration",
			names.len ? "; known: " : "", names.len ? buf_str(&names) : "");
		buf_free(&names);
		return ST_INVALID;
	}
	memset(cc, 0, sizeof *cc);
	cc->name = s->name;
	cc->section = s;
	cc->config = c;
	cc->backend = config_section_get(s, "backend");
	cc->read_only = as_bool(config_section_get(s, "read_only"), false);
	const char *target_key = strcmp(cc->backend, "offline") == 0 ? "path"
				 : strcmp(cc->backend, "pg") == 0 ? "conninfo" : "url";
	cc->target = config_section_get(s, target_key);
	if (!cc->target && strcmp(cc->backend, "pg") != 0)
		return err_set(e, ST_INVALID, "%s:%d: connection '%s' needs '%s = ...'", c->path, s->line,
			       name, target_key);
	return ST_OK;
}

char *config_expand_home(const char *path)
{
	const char *home = getenv("HOME");
	if (!path)
		return NULL;
	if (path[0] == '~' && path[1] == '/' && home) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s%s", home, path + 1);
		return buf_steal(&b);
	}
	return xstrdup(path);
}
