/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests for core/config: the INI parser, its schema checks and messages, and
 * named connections. */
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/err.h"
#include "tests/unit/harness.h"

#define PATH "/home/ada/.config/empdir/config"

static const char valid_text[] =
	"# empdir-tui configuration\n"                   /* 1 */
	"; another comment style\n"                      /* 2 */
	"\n"                                             /* 3 */
	"[general]\n"                                    /* 4 */
	"default = prod\n"                               /* 5 */
	"color=never\n"                                  /* 6 */
	"  history_size   =  500  \n"                    /* 7 */
	"ascii_borders = Yes\n"                          /* 8 */
	"page_size = 100\n"                              /* 9 */
	"\n"                                             /* 10 */
	"[connection prod]\n"                            /* 11 */
	"backend = pg\n"                                 /* 12 */
	"conninfo = \"host=db.example.com dbname=emp\"\n" /* 13 */
	"sslmode = verify-full\n"                        /* 14 */
	"port = 5432\n"                                  /* 15 */
	"read_only = true\n"                             /* 16 */
	"auth = iam\n"                                   /* 17 */
	"region = eu-west-1\n"                           /* 18 */
	"\n"                                             /* 19 */
	"[connection local]\n"                           /* 20 */
	"backend = offline\n"                            /* 21 */
	"path = /var/lib/empdir/demo.db\n"               /* 22 */
	"\n"                                             /* 23 */
	"[connection \"api.v2\"]\n"                      /* 24 */
	"backend = http\n"                               /* 25 */
	"url = https://api.example.com/\n"               /* 26 */
	"auth = bearer\n"                                /* 27 */
	"token_env = EMPDIR_TOKEN\n"                     /* 28 */
	"request_timeout = 30\n"                         /* 29 */
	"read_only = off\n"                              /* 30 */
	"\n"                                             /* 31 */
	"[aws]\n"                                        /* 32 */
	"profile = admin\n"                              /* 33 */
	"region = eu-west-1\n"                           /* 34 */
	"alarm_names = api-errors, api-latency\n"        /* 35 */
	"refresh_seconds = 60\n";                        /* 36 */

TEST(parse_valid_file)
{
	struct config c;
	struct err e;
	err_clear(&e);
	config_init(&c);
	enum status st = config_parse(&c, valid_text, PATH, &e);
	if (st != ST_OK)
		fprintf(stderr, "    %s\n", e.msg);
	int ok = st == ST_OK && c.n == 5 && strcmp(c.path, PATH) == 0;
	int general = strcmp(config_get(&c, "general", "default"), "prod") == 0 &&
		      strcmp(config_get(&c, "general", "color"), "never") == 0 &&
		      config_get_int(&c, "general", "history_size", 7) == 500 &&
		      config_get_int(&c, "general", "page_size", 7) == 100 &&
		      config_get_bool(&c, "general", "ascii_borders", false) &&
		      config_get(&c, "general", "nothing") == NULL &&
		      config_get_int(&c, "aws", "missing", 42) == 42 &&
		      config_get_bool(&c, "aws", "missing", true);
	int aws = strcmp(config_get(&c, "aws", "profile"), "admin") == 0 &&
		  strcmp(config_get(&c, "aws", "alarm_names"), "api-errors, api-latency") == 0 &&
		  config_get_int(&c, "aws", "refresh_seconds", 0) == 60;
	const struct config_section *local = config_find(&c, "connection", "local");
	int sections = local && local->line == 20 && local->n == 2 &&
		       strcmp(local->entries[1].key, "path") == 0 && local->entries[1].line == 22 &&
		       config_find(&c, "connection", "api.v2") != NULL &&
		       config_find(&c, "connection", "nope") == NULL &&
		       config_find(&c, "connection", NULL) != NULL &&
		       strcmp(config_find(&c, "general", NULL)->kind, "general") == 0 &&
		       config_find(&c, "general", NULL)->name == NULL;
	config_free(&c);
	CHECK(ok);
	CHECK(general);
	CHECK(aws);
	CHECK(sections);
}

TEST(connections)
{
	struct config c;
	struct err e;
	err_clear(&e);
	config_init(&c);
	enum status st = config_parse(&c, valid_text, PATH, &e);
	struct conn_config prod, local, api;
	enum status s1 = config_connection(&c, "prod", &prod, &e);
	enum status s2 = config_connection(&c, "local", &local, &e);
	enum status s3 = config_connection(&c, "api.v2", &api, &e);
	int ok = st == ST_OK && s1 == ST_OK && s2 == ST_OK && s3 == ST_OK;
	int pg = ok && strcmp(prod.name, "prod") == 0 && strcmp(prod.backend, "pg") == 0 &&
		 strcmp(prod.target, "host=db.example.com dbname=emp") == 0 && prod.read_only &&
		 conn_get_int(&prod, "port", 0) == 5432 &&
		 strcmp(conn_get(&prod, "sslmode"), "verify-full") == 0 &&
		 conn_get(&prod, "url") == NULL && conn_get_int(&prod, "connect_timeout", 9) == 9 &&
		 prod.config == &c && prod.section == config_find(&c, "connection", "prod");
	int off = ok && strcmp(local.backend, "offline") == 0 &&
		  strcmp(local.target, "/var/lib/empdir/demo.db") == 0 && !local.read_only &&
		  !conn_get_bool(&local, "read_only", false);
	int http = ok && strcmp(api.backend, "http") == 0 &&
		   strcmp(api.target, "https://api.example.com/") == 0 && !api.read_only &&
		   conn_get_int(&api, "request_timeout", 0) == 30 &&
		   strcmp(conn_get(&api, "token_env"), "EMPDIR_TOKEN") == 0;
	config_free(&c);
	CHECK(ok);
	CHECK(pg);
	CHECK(off);
	CHECK(http);
	/* NULL is no connection. */
	CHECK(conn_get(NULL, "url") == NULL);
	CHECK_INT(conn_get_int(NULL, "port", 3), 3);
}

TEST(missing_connection)
{
	struct config c;
	struct err e;
	err_clear(&e);
	config_init(&c);
	enum status st = config_parse(&c, valid_text, PATH, &e);
	struct conn_config cc;
	enum status s = config_connection(&c, "staging", &cc, &e);
	config_free(&c);
	CHECK_INT(st, ST_OK);
	CHECK_INT(s, ST_INVALID);
	CHECK_INT(e.status, ST_INVALID);
	CHECK_STR(e.msg, "no connection named 'staging' in " PATH "; known: prod, local, api.v2");

	/* No connections at all. */
	config_init(&c);
	st = config_parse(&c, "[general]\ncolor = auto\n", PATH, &e);
	s = config_connection(&c, "prod", &cc, &e);
	config_free(&c);
	CHECK_INT(st, ST_OK);
	CHECK_INT(s, ST_INVALID);
	CHECK_STR(e.msg, "no connection named 'prod' in " PATH);

	/* An empty (built-in) configuration. */
	config_init(&c);
	s = config_connection(&c, "prod", &cc, &e);
	config_free(&c);
	CHECK_INT(s, ST_INVALID);
	CHECK_STR(e.msg, "no connection named 'prod' in the configuration");
}

TEST(connection_without_target)
{
	struct config c;
	struct err e;
	struct conn_config cc;
	err_clear(&e);
	config_init(&c);
	/* An offline connection needs its path, http its url; pg may use host. */
	enum status st = config_parse(&c,
				      "[connection a]\nbackend = offline\n"
				      "[connection b]\nbackend = http\n"
				      "[connection c]\nbackend = pg\nhost = db\nport = 5433\n",
				      PATH, &e);
	enum status sa = config_connection(&c, "a", &cc, &e);
	char msg_a[512];
	snprintf(msg_a, sizeof msg_a, "%s", e.msg);
	enum status sb = config_connection(&c, "b", &cc, &e);
	char msg_b[512];
	snprintf(msg_b, sizeof msg_b, "%s", e.msg);
	enum status sc = config_connection(&c, "c", &cc, &e);
	int pg = sc == ST_OK && cc.target == NULL && strcmp(conn_get(&cc, "host"), "db") == 0;
	config_free(&c);
	CHECK_INT(st, ST_OK);
	CHECK_INT(sa, ST_INVALID);
	CHECK_STR(msg_a, PATH ":1: connection 'a' needs 'path = ...'");
	CHECK_INT(sb, ST_INVALID);
	CHECK_STR(msg_b, PATH ":3: connection 'b' needs 'url = ...'");
	CHECK(pg);
}

TEST(line_endings_and_quotes)
{
	struct config c;
	struct err e;
	err_clear(&e);
	config_init(&c);
	enum status st = config_parse(&c,
				      "[general]\r\n"
				      "color = \"always\"\r\n"
				      "\r\n"
				      "[ connection   x ]\r\n"
				      "backend = offline\r\n"
				      "path = \"/tmp/with space.db\"\r\n"
				      "[aws]\r\n"
				      "\talarm_prefix = \"\"\r\n"
				      "region = us-east-1", /* no final newline */
				      NULL, &e);
	if (st != ST_OK)
		fprintf(stderr, "    %s\n", e.msg);
	int ok = st == ST_OK && strcmp(c.path, "config") == 0 &&
		 strcmp(config_get(&c, "general", "color"), "always") == 0 &&
		 strcmp(config_get(&c, "aws", "alarm_prefix"), "") == 0 &&
		 strcmp(config_get(&c, "aws", "region"), "us-east-1") == 0;
	struct conn_config cc;
	int conn = ok && config_connection(&c, "x", &cc, &e) == ST_OK &&
		   strcmp(cc.target, "/tmp/with space.db") == 0;
	config_free(&c);
	CHECK(ok);
	CHECK(conn);

	/* An empty file is a valid, empty configuration. */
	config_init(&c);
	st = config_parse(&c, "", PATH, &e);
	size_t n = c.n;
	config_free(&c);
	CHECK_INT(st, ST_OK);
	CHECK_INT(n, 0);
}

TEST(later_sections_override)
{
	struct config c;
	struct err e;
	config_init(&c);
	enum status st = config_parse(&c, "[general]\ncolor = auto\n[general]\ncolor = never\n", PATH, &e);
	int ok = st == ST_OK && strcmp(config_get(&c, "general", "color"), "never") == 0;
	config_free(&c);
	CHECK(ok);
}

/* Parse text that must fail with a message naming PATH:line and holding
 * every one of the given fragments. */
static int fails(const char *text, int line, const char *frag1, const char *frag2)
{
	struct config c;
	struct err e;
	err_clear(&e);
	config_init(&c);
	enum status st = config_parse(&c, text, PATH, &e);
	config_free(&c); /* a half-built configuration is freed the same way */
	char where[300];
	snprintf(where, sizeof where, PATH ":%d: ", line);
	int ok = st == ST_INVALID && e.status == ST_INVALID && strncmp(e.msg, where, strlen(where)) == 0 &&
		 (!frag1 || strstr(e.msg, frag1)) && (!frag2 || strstr(e.msg, frag2));
	if (!ok)
		fprintf(stderr, "    status %d, message \"%s\"; want \"%s...\" with \"%s\", \"%s\"\n", (int)st,
			e.msg, where, frag1 ? frag1 : "", frag2 ? frag2 : "");
	return ok;
}

TEST(error_unknown_section)
{
	CHECK(fails("[general]\ncolor = auto\n[databse]\n", 3, "unknown section [databse]",
		    "[connection NAME]"));
	CHECK(fails("[]\n", 1, "unknown section", NULL));
	CHECK(fails("[Connection prod]\n", 1, "unknown section [Connection]", NULL));
}

TEST(error_unknown_key)
{
	CHECK(fails("[general]\ncolour = auto\n", 2, "unknown key 'colour' in [general]",
		    "did you mean 'color'?"));
	CHECK(fails("[connection p]\nbackend = pg\nconinfo = x\n", 3, "unknown key 'coninfo'",
		    "did you mean 'conninfo'?"));
	CHECK(fails("[connection p]\nbakend = pg\n", 2, "did you mean 'backend'?", NULL));
	CHECK(fails("[aws]\nregoin = eu-west-1\n", 2, "did you mean 'region'?", NULL));
	CHECK(fails("[general]\nHistory_Size = 5\n", 2, "did you mean 'history_size'?", NULL));
	/* Far from every key: no guess, a pointer to the example instead. */
	CHECK(fails("[general]\nfrobnicate_everything = 1\n", 2, "unknown key 'frobnicate_everything'",
		    "config.example"));
	/* A key of another section is unknown here. */
	CHECK(fails("[general]\nprofile = admin\n", 2, "unknown key 'profile' in [general]", NULL));
}

TEST(error_bad_values)
{
	CHECK(fails("[general]\nascii_borders = maybe\n", 2, "ascii_borders", "'maybe' is not true or false"));
	CHECK(fails("[general]\nascii_borders =\n", 2, "ascii_borders", "is not true or false"));
	CHECK(fails("[general]\nhistory_size = 100001\n", 2, "history_size",
		    "'100001' is not a whole number from 0 to 100000"));
	CHECK(fails("[general]\nhistory_size = -1\n", 2, "from 0 to 100000", NULL));
	CHECK(fails("[general]\npage_size = 19\n", 2, "from 20 to 500", NULL));
	CHECK(fails("[general]\npage_size = 501\n", 2, "from 20 to 500", NULL));
	CHECK(fails("[general]\npage_size = ten\n", 2, "'ten' is not a whole number", NULL));
	CHECK(fails("[general]\npage_size = 50x\n", 2, "'50x' is not a whole number", NULL));
	CHECK(fails("[general]\npage_size = 99999999999999999999999\n", 2, "is not a whole number", NULL));
	CHECK(fails("[general]\npage_size =\n", 2, "is not a whole number", NULL));
	CHECK(fails("[connection p]\nbackend = pg\nport = 0\n", 3, "port", "from 1 to 65535"));
	CHECK(fails("[connection p]\nbackend = pg\nport = 65536\n", 3, "from 1 to 65535", NULL));
	CHECK(fails("[general]\ncolor = sometimes\n", 2, "color",
		    "'sometimes' is not one of auto|always|never"));
	CHECK(fails("[general]\ncolor = Auto\n", 2, "is not one of", NULL));
	CHECK(fails("[general]\ncolor = au\n", 2, "is not one of", NULL));
	CHECK(fails("[connection p]\nbackend = mysql\n", 2, "'mysql' is not one of offline|pg|http", NULL));
	CHECK(fails("[connection p]\nbackend = pg\nsslmode = verify\n", 3, "sslmode", "verify-full"));
	CHECK(fails("[connection p]\nbackend = offline\npath =\n", 3, "path", "empty"));
}

TEST(bool_values)
{
	static const char *const yes[] = {"true", "TRUE", "yes", "Yes", "on", "ON", "1"};
	static const char *const no[] = {"false", "False", "no", "NO", "off", "Off", "0"};
	for (size_t i = 0; i < 7; i++) {
		bool b = false;
		CHECK(config_parse_bool(yes[i], &b));
		CHECK(b);
		b = true;
		CHECK(config_parse_bool(no[i], &b));
		CHECK(!b);
	}
	bool b;
	CHECK(!config_parse_bool("", &b));
	CHECK(!config_parse_bool("2", &b));
	CHECK(!config_parse_bool("truee", &b));
	CHECK(!config_parse_bool("y", &b));
}

TEST(error_duplicates)
{
	CHECK(fails("[general]\ncolor = auto\n\ncolor = never\n", 4, "'color' is already set on line 2", NULL));
	CHECK(fails("[connection p]\nbackend = pg\nport = 1\nport = 2\n", 4, "'port' is already set on line 3",
		    NULL));
	CHECK(fails("[connection prod]\nbackend = pg\n[connection local]\nbackend = offline\npath = x\n"
		    "[connection prod]\nbackend = http\n",
		    6, "connection 'prod' is defined twice", NULL));
	CHECK(fails("[connection prod]\nbackend = pg\n[connection \"prod\"]\n", 3, "defined twice", NULL));
}

TEST(error_structure)
{
	/* A key outside any section. */
	CHECK(fails("color = auto\n[general]\n", 1, "a key before any section", "[general]"));
	CHECK(fails("# comment\n\n  page_size = 50\n", 3, "before any section", NULL));
	/* A line that is neither. */
	CHECK(fails("[general]\ncolor auto\n", 2, "expected 'key = value'", NULL));
	/* Missing "]" and junk after it. */
	CHECK(fails("[general\ncolor = auto\n", 1, "section header must look like", NULL));
	CHECK(fails("[general]\ncolor = auto\n[connection prod\n", 3, "section header", NULL));
	CHECK(fails("[general] # note\n", 1, "section header", NULL));
	/* Names. */
	CHECK(fails("[connection]\n", 1, "[connection] needs a name", NULL));
	CHECK(fails("[connection \"\"]\n", 1, "needs a name", NULL));
	CHECK(fails("[connection my prod]\n", 1, "connection name 'my prod' may hold only", NULL));
	CHECK(fails("[connection a/b]\n", 1, "may hold only", NULL));
	CHECK(fails("[general main]\n", 1, "[general] takes no name", NULL));
	CHECK(fails("[aws prod]\n", 1, "[aws] takes no name", NULL));
}

TEST(error_missing_backend)
{
	CHECK(fails("[general]\ncolor = auto\n\n[connection prod]\nconninfo = x\n", 4,
		    "connection 'prod' has no 'backend = offline|pg|http'", NULL));
	CHECK(fails("[connection empty]\n", 1, "connection 'empty' has no 'backend", NULL));
	/* A key that belongs to another backend is reported on its own line. */
	CHECK(fails("[connection l]\nbackend = offline\npath = x\nurl = https://x/\n", 4,
		    "'url' does not apply to a offline connection", NULL));
	CHECK(fails("[connection h]\nbackend = http\nurl = https://x/\nsslmode = require\n", 4,
		    "'sslmode' does not apply to a http connection", NULL));
	CHECK(fails("[connection p]\nbackend = pg\npath = /x.db\n", 3, "'path' does not apply", NULL));
}

TEST(error_default_names_missing_connection)
{
	CHECK(fails("[general]\ncolor = auto\ndefault = prdo\n[connection prod]\nbackend = pg\n", 3,
		    "default = prdo", "no [connection prdo]"));
	/* With two [general] sections the later default counts. */
	CHECK(fails("[general]\ndefault = prod\n[connection prod]\nbackend = pg\n[general]\ndefault = x\n", 6,
		    "default = x", NULL));
}

TEST(error_reports_first_problem)
{
	/* Parsing stops at the first error. */
	CHECK(fails("[general]\ncolor = x\npage_size = 1\n", 2, "color", NULL));
}

/* The schema's type strings are all ones the parser understands. */
TEST(schema_is_well_formed)
{
	CHECK(config_schema_len > 20);
	for (size_t i = 0; i < config_schema_len; i++) {
		const struct config_key *k = &config_schema[i];
		int kind = strcmp(k->kind, "general") == 0 || strcmp(k->kind, "connection") == 0 ||
			   strcmp(k->kind, "aws") == 0;
		int type = strcmp(k->type, "string") == 0 || strcmp(k->type, "bool") == 0 ||
			   strcmp(k->type, "path") == 0 || strncmp(k->type, "int:", 4) == 0 ||
			   strncmp(k->type, "enum:", 5) == 0;
		int backends = (strcmp(k->kind, "connection") == 0) == (k->backends != NULL);
		int help = k->help && k->help[0];
		if (!kind || !type || !backends || !help)
			fprintf(stderr, "    schema entry %s.%s\n", k->kind, k->key);
		CHECK(kind && type && backends && help);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(config_schema[j].kind, k->kind) != 0 ||
			      strcmp(config_schema[j].key, k->key) != 0);
	}
}

TEST(paths_expand_home)
{
	setenv("HOME", "/home/ada", 1);
	char *a = config_expand_home("~/snapshots/laptop.db");
	char *b = config_expand_home("/abs/~/x");
	char *c = config_expand_home("~ada/x");
	CHECK_STR(a, "/home/ada/snapshots/laptop.db");
	CHECK_STR(b, "/abs/~/x");
	CHECK_STR(c, "~ada/x");
	CHECK(config_expand_home(NULL) == NULL);
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	harness_init();
	RUN(paths_expand_home);
	RUN(parse_valid_file);
	RUN(connections);
	RUN(missing_connection);
	RUN(connection_without_target);
	RUN(line_endings_and_quotes);
	RUN(later_sections_override);
	RUN(error_unknown_section);
	RUN(error_unknown_key);
	RUN(error_bad_values);
	RUN(bool_values);
	RUN(error_duplicates);
	RUN(error_structure);
	RUN(error_missing_backend);
	RUN(error_default_names_missing_connection);
	RUN(error_reports_first_problem);
	RUN(schema_is_well_formed);
	return harness_done();
}
