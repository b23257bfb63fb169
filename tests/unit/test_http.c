/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The http backend against the reference API over a real PostgreSQL
 * (tests/lib/apienv.py serve starts both, plus a fault proxy, a proxy that
 * loses answers after the server acted, a server of malformed answers and a
 * TLS front). Every operation, paging in every order, search, conflicts
 * between two clients, idempotent creates, authentication, bad input, and a
 * fault run checked against the database afterwards.
 *
 * The helper lives as long as its stdin: when this program ends, however it
 * ends, the servers go with it. Run from the repository root. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "../../api_client/backend.h"
#include "../../core/config.h"
#include "harness.h"

#define HELPER "tests/lib/apienv.py"

static struct {
	pid_t pid;
	FILE *to, *from;
	struct strvec vars; /* "name=value" */
	char tmpdir[64];
} env = {.pid = -1};

static const char *var(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < env.vars.n; i++)
		if (strncmp(env.vars.v[i], name, n) == 0 && env.vars.v[i][n] == '=')
			return env.vars.v[i] + n + 1;
	return "";
}

static bool read_line(char *out, size_t n)
{
	if (!fgets(out, (int)n, env.from))
		return false;
	out[strcspn(out, "\n")] = '\0';
	return true;
}

static void env_stop(void)
{
	if (env.to) {
		fclose(env.to);
		env.to = NULL;
	}
	if (env.pid > 0) {
		for (int i = 0; i < 300; i++) { /* 30 s to stop PostgreSQL and the servers */
			if (waitpid(env.pid, NULL, WNOHANG) == env.pid) {
				env.pid = -1;
				break;
			}
			usleep(100000);
		}
		if (env.pid > 0) {
			kill(env.pid, SIGKILL);
			waitpid(env.pid, NULL, 0);
		}
	}
	if (env.from)
		fclose(env.from);
	env.from = NULL;
	strvec_free(&env.vars);
	if (env.tmpdir[0]) {
		if (harness_rmtree(env.tmpdir) != 0)
			fprintf(stderr, "could not remove %s\n", env.tmpdir);
	}
}

static bool env_start(void)
{
	if (access(HELPER, R_OK) != 0) {
		fprintf(stderr, "FAIL setup: %s not found; run from the repository root\n", HELPER);
		return false;
	}
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		return false;
	env.pid = fork();
	if (env.pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl("/usr/bin/python3", "python3", HELPER, "serve", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	env.to = fdopen(in[1], "w");
	env.from = fdopen(out[0], "r");
	char line[1024];
	while (read_line(line, sizeof line)) {
		if (strcmp(line, "ready") == 0)
			return true;
		strvec_push(&env.vars, line);
	}
	fprintf(stderr, "FAIL setup: the API test environment (%s serve: PostgreSQL and the "
			"reference server) did not start; see its messages above\n", HELPER);
	return false;
}

/* A command that answers "ok". */
static bool env_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool env_cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(env.to, fmt, ap);
	va_end(ap);
	fputc('\n', env.to);
	fflush(env.to);
	char line[512];
	if (!read_line(line, sizeof line) || strcmp(line, "ok") != 0) {
		fprintf(stderr, "  helper: %s\n", line);
		return false;
	}
	return true;
}

/* SQL through the helper: the rows, one per line, columns tab-separated. */
static void env_sql(const char *sql, struct buf *out)
{
	fprintf(env.to, "sql %s\n", sql);
	fflush(env.to);
	buf_reset(out);
	char line[4096];
	while (read_line(line, sizeof line) && strcmp(line, "end") != 0)
		buf_printf(out, "%s\n", line);
}

static long env_sql_long(const char *sql)
{
	struct buf b = BUF_INIT;
	env_sql(sql, &b);
	long v = b.len ? strtol(b.data, NULL, 10) : -1;
	buf_free(&b);
	return v;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Open a [connection t] made of url and extra lines, as a config file at
 * cfg_path would have it. */
static enum status open_conn(const char *url, const char *extra, const char *cfg_path, bool ro,
			     struct backend **b, struct err *e)
{
	struct buf text = BUF_INIT;
	buf_printf(&text, "[connection t]\nbackend = http\nurl = %s\n%s", url, extra ? extra : "");
	struct config cfg;
	config_init(&cfg);
	*b = NULL;
	enum status st = config_parse(&cfg, text.data, cfg_path ? cfg_path : "test-config", e);
	struct conn_config cc;
	if (st == ST_OK)
		st = config_connection(&cfg, "t", &cc, e);
	if (st == ST_OK) {
		cc.read_only = cc.read_only || ro;
		st = backend_open(&cc, b, e);
	}
	config_free(&cfg);
	buf_free(&text);
	return st;
}

static struct backend *open_ok(const char *url, const char *extra)
{
	struct backend *b = NULL;
	struct err e = {0};
	if (open_conn(url, extra, NULL, false, &b, &e) != ST_OK)
		fprintf(stderr, "  open %s: %s\n", url, e.msg);
	return b;
}

static void fill(struct employee *e, const char *name, const char *loc, const char *title,
		 const char *badge)
{
	employee_init(e);
	employee_set(e, EF_FULLNAME, name);
	employee_set(e, EF_LOCATION, loc);
	employee_set(e, EF_JOB_TITLE, title);
	if (badge)
		strvec_push(&e->badges, badge);
}

static bool contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

/* ---- every operation ---- */

TEST(test_open_describe_caps)
{
	CHECK(env_cmd("seed 0"));
	struct backend *b = open_ok(var("api"), NULL);
	CHECK(b);
	char d[200];
	backend_describe(b, d, sizeof d);
	char want[200];
	snprintf(want, sizeof want, "http %s", var("api") + strlen("http://"));
	CHECK_STR(d, want);
	unsigned caps = backend_caps(b);
	CHECK((caps & CAP_WRITE) && (caps & CAP_VERSIONS) && (caps & CAP_COUNT) && (caps & CAP_REMOTE));
	CHECK(backend_hint(b) == NULL);
	long n;
	struct err e = {0};
	CHECK_INT(backend_count(b, NULL, &n, &e), ST_OK);
	CHECK_INT(n, 4);
	backend_close(b);
}

TEST(test_crud)
{
	CHECK(env_cmd("seed 0"));
	struct backend *b = open_ok(var("api"), NULL);
	CHECK(b);
	struct employee in, out, cur, got;
	struct err e = {0};
	fill(&in, "  Grace Hopper ", "Arlington", "Rear Admiral", "Navy");
	strvec_push(&in.badges, "COBOL");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	CHECK_INT(strlen(out.id), 36); /* a client-made UUID */
	CHECK(out.version[0]);
	CHECK_STR(out.fullname, "Grace Hopper");
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees WHERE fullname = 'Grace Hopper'"), 1);
	CHECK_INT(backend_get(b, out.id, &got, &e), ST_OK);
	CHECK(employee_same_content(&got, &out));
	CHECK_STR(got.version, out.version);
	CHECK_INT(got.badges.n, 2);
	CHECK_STR(got.badges.v[1], "COBOL");
	employee_set(&got, EF_LOCATION, "Paris");
	CHECK_INT(backend_replace(b, &got, &cur, &e), ST_OK);
	CHECK_STR(cur.location, "Paris");
	CHECK(strcmp(cur.version, out.version) != 0);
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees WHERE location = 'Paris'"), 1);
	struct employee gone;
	CHECK_INT(backend_remove(b, cur.id, cur.version, &gone, &e), ST_OK);
	employee_free(&gone);
	employee_free(&got);
	CHECK_INT(backend_get(b, cur.id, &got, &e), ST_NOT_FOUND);
	CHECK(contains(e.msg, "no longer exists"));
	long n;
	CHECK_INT(backend_count(b, NULL, &n, &e), ST_OK);
	CHECK_INT(n, 4);
	employee_free(&in);
	employee_free(&out);
	employee_free(&cur);
	employee_free(&got);

	/* a client-chosen id; the same create again is a replay; other content is refused */
	fill(&in, "Client Chosen", "Oslo", "Pilot", NULL);
	snprintf(in.id, sizeof in.id, "client-id-1");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	CHECK_STR(out.id, "client-id-1");
	employee_free(&out);
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	employee_free(&out);
	employee_set(&in, EF_LOCATION, "Bergen");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_EXISTS);
	CHECK(contains(e.msg, "client-id-1"));
	CHECK_STR(out.location, "Oslo");
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees WHERE id = 'client-id-1'"), 1);
	/* ids that need escaping travel intact */
	employee_free(&out);
	snprintf(in.id, sizeof in.id, "a/b c?d&e%%f#g");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	CHECK_STR(out.id, "a/b c?d&e%f#g");
	employee_free(&got);
	CHECK_INT(backend_get(b, "a/b c?d&e%f#g", &got, &e), ST_OK);
	CHECK_STR(got.location, "Bergen");
	employee_free(&in);
	employee_free(&out);
	employee_free(&got);
	/* invalid input never reaches the server */
	fill(&in, "", "X", "Y", NULL);
	CHECK_INT(backend_create(b, &in, &out, &e), ST_INVALID);
	employee_free(&in);
	employee_free(&out);
	backend_close(b);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Page through one order: every row exactly once, in order. */
static bool walk(struct backend *b, const char *filter, enum sort_key k, bool desc, int limit,
		 long want, long *got)
{
	struct strvec ids = STRVEC_INIT;
	char *after = NULL;
	struct buf prev_key = BUF_INIT;
	char prev_id[EMP_ID_MAX + 1] = "";
	bool ok = true;
	enum employee_field f = k == SORT_FULLNAME ? EF_FULLNAME : k == SORT_LOCATION ? EF_LOCATION : EF_JOB_TITLE;
	for (int pages = 0; ok && pages < 1000; pages++) {
		struct page_query q = {filter, k, desc, after, limit};
		struct page p;
		struct err e = {0};
		if (backend_list_page(b, &q, &p, &e) != ST_OK) {
			fprintf(stderr, "  list: %s\n", e.msg);
			ok = false;
			break;
		}
		for (size_t i = 0; i < p.n; i++) {
			const char *key = employee_get(&p.rows[i], f);
			if (ids.n) {
				int c = strcmp(prev_key.data ? prev_key.data : "", key);
				if (c == 0)
					c = strcmp(prev_id, p.rows[i].id);
				if (desc ? c <= 0 : c >= 0) {
					fprintf(stderr, "  out of order: %s/%s then %s/%s\n", buf_str(&prev_key),
						prev_id, key, p.rows[i].id);
					ok = false;
				}
			}
			buf_reset(&prev_key);
			buf_puts(&prev_key, key);
			snprintf(prev_id, sizeof prev_id, "%s", p.rows[i].id);
			strvec_push(&ids, p.rows[i].id);
		}
		free(after);
		after = p.next_cursor ? xstrdup(p.next_cursor) : NULL;
		page_free(&p);
		if (!after)
			break;
	}
	qsort(ids.v, ids.n, sizeof *ids.v, cmp_str);
	for (size_t i = 1; i < ids.n; i++)
		if (strcmp(ids.v[i - 1], ids.v[i]) == 0) {
			fprintf(stderr, "  %s seen twice\n", ids.v[i]);
			ok = false;
		}
	*got = (long)ids.n;
	if (want >= 0 && *got != want) {
		fprintf(stderr, "  %ld rows, want %ld (sort %d desc %d)\n", *got, want, (int)k, desc);
		ok = false;
	}
	free(after);
	buf_free(&prev_key);
	strvec_free(&ids);
	return ok;
}

TEST(test_paging_every_order)
{
	CHECK(env_cmd("seed 137"));
	struct backend *b = open_ok(var("api"), NULL);
	CHECK(b);
	long got;
	for (int k = 0; k < SORT_COUNT; k++)
		for (int d = 0; d < 2; d++)
			CHECK(walk(b, NULL, (enum sort_key)k, d == 1, 10, 141, &got));
	CHECK(walk(b, NULL, SORT_LOCATION, false, 500, 141, &got)); /* one page */
	CHECK(walk(b, NULL, SORT_JOB_TITLE, true, 1, 141, &got));   /* one row per page */
	/* a cursor is only good for its own query */
	struct page_query q = {NULL, SORT_FULLNAME, false, NULL, 5};
	struct page p;
	struct err e = {0};
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK(p.next_cursor);
	struct page_query q2 = {NULL, SORT_LOCATION, false, p.next_cursor, 5};
	struct page p2;
	CHECK_INT(backend_list_page(b, &q2, &p2, &e), ST_INVALID);
	CHECK(contains(e.msg, "cursor"));
	CHECK(p2.n == 0 && p2.rows == NULL);
	page_free(&p);
	backend_close(b);
}

TEST(test_search_and_count)
{
	CHECK(env_cmd("seed 50"));
	struct backend *b = open_ok(var("api"), NULL);
	CHECK(b);
	struct page_query q = {"lovelace", SORT_FULLNAME, false, NULL, 50};
	struct page p;
	struct err e = {0};
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK_INT(p.n, 1);
	CHECK_STR(p.rows[0].fullname, "Ada Lovelace");
	page_free(&p);
	q.filter = "COFFEE"; /* a badge, any case */
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK_INT(p.n, 1);
	CHECK_STR(p.rows[0].location, "Zürich");
	page_free(&p);
	long got, n;
	for (int k = 0; k < SORT_COUNT; k++)
		for (int d = 0; d < 2; d++)
			CHECK(walk(b, "badge 1", (enum sort_key)k, d == 1, 4, 13, &got));
	CHECK_INT(backend_count(b, "badge 1", &n, &e), ST_OK);
	CHECK_INT(n, 13);
	CHECK_INT(backend_count(b, " \t ", &n, &e), ST_OK); /* blank: everybody */
	CHECK_INT(n, 54);
	CHECK(walk(b, "  ", SORT_FULLNAME, false, 20, 54, &got));
	q.filter = "no such person at all";
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK(p.n == 0 && p.next_cursor == NULL);
	page_free(&p);
	char longq[260];
	memset(longq, 'x', 201);
	longq[201] = '\0';
	q.filter = longq;
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_INVALID);
	backend_close(b);
}

/* ---- conflicts ---- */

TEST(test_conflicts_two_clients)
{
	CHECK(env_cmd("seed 0"));
	struct backend *a = open_ok(var("api"), NULL), *b = open_ok(var("api"), NULL);
	CHECK(a && b);
	const char *id = "00000000-0000-4000-8000-000000000001";
	struct employee ea, eb, cur, cur2;
	struct err e = {0};
	CHECK_INT(backend_get(a, id, &ea, &e), ST_OK);
	CHECK_INT(backend_get(b, id, &eb, &e), ST_OK);
	employee_set(&ea, EF_LOCATION, "Paris");
	CHECK_INT(backend_replace(a, &ea, &cur, &e), ST_OK);
	employee_set(&eb, EF_LOCATION, "Rome");
	CHECK_INT(backend_replace(b, &eb, &cur2, &e), ST_CONFLICT);
	CHECK_STR(cur2.location, "Paris");
	CHECK_STR(cur2.version, cur.version);
	CHECK(contains(e.msg, "changed since you opened it"));
	employee_free(&cur2);
	CHECK_INT(backend_remove(b, id, eb.version, &cur2, &e), ST_CONFLICT);
	CHECK_STR(cur2.location, "Paris");
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees WHERE location = 'Paris'"), 1);
	employee_free(&cur2);
	/* B takes the current version and wins; A is now the stale one */
	snprintf(eb.version, sizeof eb.version, "%s", cur.version);
	CHECK_INT(backend_replace(b, &eb, &cur2, &e), ST_OK);
	CHECK_STR(cur2.location, "Rome");
	struct employee cur3;
	CHECK_INT(backend_remove(a, id, cur.version, &cur3, &e), ST_CONFLICT);
	CHECK_STR(cur3.location, "Rome");
	employee_free(&cur3);
	CHECK_INT(backend_remove(a, id, cur2.version, &cur3, &e), ST_OK);
	employee_free(&cur3);
	CHECK_INT(backend_replace(b, &eb, &cur3, &e), ST_NOT_FOUND);
	CHECK(contains(e.msg, "deleted"));
	employee_free(&cur3);
	CHECK_INT(backend_remove(b, id, cur2.version, &cur3, &e), ST_NOT_FOUND);
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees"), 3);
	employee_free(&cur3);
	employee_free(&ea);
	employee_free(&eb);
	employee_free(&cur);
	employee_free(&cur2);
	backend_close(a);
	backend_close(b);
}

/* ---- writes whose answers are lost ---- */

TEST(test_lost_answers_apply_once)
{
	CHECK(env_cmd("seed 0") && env_cmd("mode pass"));
	struct backend *b = open_ok(var("lose"), NULL);
	CHECK(b);
	struct employee in, out, cur;
	struct err e = {0};
	fill(&in, "Lost Create", "Nowhere", "Ghost", NULL);
	CHECK(env_cmd("lose 1"));
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees WHERE fullname = 'Lost Create'"), 1);
	employee_set(&out, EF_LOCATION, "Somewhere");
	CHECK(env_cmd("lose 1"));
	CHECK_INT(backend_replace(b, &out, &cur, &e), ST_OK);
	CHECK_STR(cur.location, "Somewhere");
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees WHERE location = 'Somewhere'"), 1);
	struct employee gone;
	CHECK(env_cmd("lose 1"));
	CHECK_INT(backend_remove(b, cur.id, cur.version, &gone, &e), ST_OK);
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees WHERE fullname = 'Lost Create'"), 0);
	employee_free(&gone);
	employee_free(&out);
	employee_free(&cur);
	backend_close(b);

	/* The first attempt times out in the proxy and is delivered after the
	 * retry: the server sees the create twice, and keeps one row. */
	b = open_ok(var("proxy"), "request_timeout = 1\n");
	CHECK(b);
	CHECK(env_cmd("mode delay 1600 times=1"));
	employee_set(&in, EF_FULLNAME, "Late Twin");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	usleep(1200000); /* the delayed first attempt arrives now */
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees WHERE fullname = 'Late Twin'"), 1);
	CHECK(env_cmd("mode pass"));
	employee_free(&in);
	employee_free(&out);
	backend_close(b);
}

/* ---- read-only ---- */

TEST(test_read_only_refuses_writes)
{
	CHECK(env_cmd("seed 0"));
	struct backend *b = NULL;
	struct err e = {0};
	CHECK_INT(open_conn(var("api"), NULL, NULL, true, &b, &e), ST_OK);
	CHECK(!(backend_caps(b) & CAP_WRITE));
	char d[200];
	backend_describe(b, d, sizeof d);
	CHECK(contains(d, "(read-only)"));
	struct employee in, out;
	fill(&in, "Nobody", "Nowhere", "Nothing", NULL);
	CHECK_INT(backend_create(b, &in, &out, &e), ST_READ_ONLY);
	employee_free(&out);
	/* the backend refuses on its own too */
	employee_init(&out);
	CHECK_INT(b->ops->create(b, &in, &out, &e), ST_READ_ONLY);
	snprintf(in.id, sizeof in.id, "00000000-0000-4000-8000-000000000001");
	CHECK_INT(b->ops->replace(b, &in, &out, &e), ST_READ_ONLY);
	CHECK_INT(b->ops->remove(b, in.id, "x", &out, &e), ST_READ_ONLY);
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees"), 4);
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees WHERE fullname = 'Ada Lovelace'"), 1);
	employee_free(&in);
	employee_free(&out);
	backend_close(b);
	/* read_only = true in the connection */
	CHECK_INT(open_conn(var("api"), "read_only = true\n", NULL, false, &b, &e), ST_OK);
	CHECK(b->read_only);
	backend_close(b);
}

/* ---- authentication ---- */

static bool no_token_in(const char *msg)
{
	return !contains(msg, var("token")) && !contains(msg, "nope-wrong");
}

TEST(test_bearer_tokens)
{
	struct backend *b = NULL;
	struct err e = {0};
	const char *url = var("auth_api");
	CHECK_INT(open_conn(url, NULL, NULL, false, &b, &e), ST_AUTH);
	CHECK(contains(e.msg, "401") && contains(e.msg, "requires authentication"));
	setenv("EMPDIR_TEST_TOKEN", "nope-wrong", 1);
	CHECK_INT(open_conn(url, "token_env = EMPDIR_TEST_TOKEN\n", NULL, false, &b, &e), ST_AUTH);
	CHECK(contains(e.msg, "401") && contains(e.msg, "token"));
	CHECK(no_token_in(e.msg));
	setenv("EMPDIR_TEST_TOKEN", var("token"), 1);
	CHECK_INT(open_conn(url, "token_env = EMPDIR_TEST_TOKEN\n", NULL, false, &b, &e), ST_OK);
	long n;
	CHECK_INT(backend_count(b, NULL, &n, &e), ST_OK);
	char d[200];
	backend_describe(b, d, sizeof d);
	CHECK(no_token_in(d));
	backend_close(b);
	unsetenv("EMPDIR_TEST_TOKEN");
	CHECK_INT(open_conn(url, "token_env = EMPDIR_TEST_TOKEN\n", NULL, false, &b, &e), ST_AUTH);
	CHECK(contains(e.msg, "EMPDIR_TEST_TOKEN is not set"));
	setenv("EMPDIR_TEST_TOKEN", "two\nlines", 1);
	CHECK_INT(open_conn(url, "token_env = EMPDIR_TEST_TOKEN\n", NULL, false, &b, &e), ST_AUTH);
	CHECK(!contains(e.msg, "two"));
	unsetenv("EMPDIR_TEST_TOKEN");
	/* never over plain http to another machine */
	setenv("EMPDIR_TEST_TOKEN", var("token"), 1);
	CHECK_INT(open_conn("http://api.example.com", "token_env = EMPDIR_TEST_TOKEN\n", NULL, false, &b, &e),
		  ST_INVALID);
	CHECK(contains(e.msg, "plain http"));
	unsetenv("EMPDIR_TEST_TOKEN");
	CHECK_INT(open_conn(url, "auth = bearer\n", NULL, false, &b, &e), ST_INVALID);
	CHECK_INT(open_conn(url, "auth = password\n", NULL, false, &b, &e), ST_INVALID);
}

TEST(test_token_command)
{
	struct backend *b = NULL;
	struct err e = {0};
	const char *url = var("auth_api");
	struct buf extra = BUF_INIT;
	buf_printf(&extra, "token_command = /bin/echo \"  %s  \"\n", var("token"));
	CHECK_INT(open_conn(url, extra.data, NULL, false, &b, &e), ST_OK);
	backend_close(b);
	buf_free(&extra);
	CHECK_INT(open_conn(url, "token_command = /bin/false\n", NULL, false, &b, &e), ST_AUTH);
	CHECK(contains(e.msg, "exit status 1"));
	CHECK_INT(open_conn(url, "token_command = /no/such/program --flag\n", NULL, false, &b, &e), ST_AUTH);
	CHECK(contains(e.msg, "cannot run"));
	CHECK_INT(open_conn(url, "token_command = /bin/echo nope-wrong\n", NULL, false, &b, &e), ST_AUTH);
	CHECK(contains(e.msg, "401") && no_token_in(e.msg));
}

TEST(test_token_in_config_file)
{
	char path[128];
	snprintf(path, sizeof path, "%s/config", env.tmpdir);
	FILE *f = fopen(path, "w");
	CHECK(f);
	fputs("# test\n", f);
	fclose(f);
	struct buf extra = BUF_INIT;
	buf_printf(&extra, "token = %s\n", var("token"));
	struct backend *b = NULL;
	struct err e = {0};
	chmod(path, 0644);
	CHECK_INT(open_conn(var("auth_api"), extra.data, path, false, &b, &e), ST_AUTH);
	CHECK(contains(e.msg, "chmod 600") && no_token_in(e.msg));
	chmod(path, 0600);
	CHECK_INT(open_conn(var("auth_api"), extra.data, path, false, &b, &e), ST_OK);
	backend_close(b);
	buf_free(&extra);
}

TEST(test_iam_signing)
{
	CHECK(env_cmd("seed 0"));
	setenv("AWS_ACCESS_KEY_ID", var("iam_key"), 1);
	setenv("AWS_SECRET_ACCESS_KEY", var("iam_secret"), 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	char extra[200];
	snprintf(extra, sizeof extra, "auth = iam\nregion = %s\n", var("iam_region"));
	struct backend *b = NULL;
	struct err e = {0};
	CHECK_INT(open_conn(var("iam"), extra, NULL, false, &b, &e), ST_OK);
	struct employee in, out, cur, gone;
	fill(&in, "Signed Writer", "Seattle", "Builder", "IAM");
	snprintf(in.id, sizeof in.id, "sig/v4 id?&");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	employee_set(&out, EF_LOCATION, "Portland");
	CHECK_INT(backend_replace(b, &out, &cur, &e), ST_OK);
	struct page_query q = {"signed writer", SORT_LOCATION, true, NULL, 10};
	struct page p;
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK_INT(p.n, 1);
	CHECK_STR(p.rows[0].location, "Portland");
	page_free(&p);
	CHECK_INT(backend_remove(b, cur.id, cur.version, &gone, &e), ST_OK);
	CHECK_INT(env_sql_long("SELECT count(*) FROM employees WHERE fullname = 'Signed Writer'"), 0);
	employee_free(&in);
	employee_free(&out);
	employee_free(&cur);
	employee_free(&gone);
	backend_close(b);
	setenv("AWS_SECRET_ACCESS_KEY", "not/the/secret", 1);
	CHECK_INT(open_conn(var("iam"), extra, NULL, false, &b, &e), ST_AUTH);
	CHECK(contains(e.msg, "403") && contains(e.msg, "signature"));
	CHECK(!contains(e.msg, "not/the/secret"));
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

/* ---- bad input ---- */

static int closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	bind(s, (struct sockaddr *)&a, sizeof a);
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return ntohs(a.sin_port);
}

TEST(test_bad_urls)
{
	struct backend *b = NULL;
	struct err e = {0};
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
	double t0 = now_s();
	CHECK_INT(open_conn(url, NULL, NULL, false, &b, &e), ST_UNAVAILABLE);
	CHECK(now_s() - t0 < 3); /* a refused first connection is not retried */
	CHECK(contains(e.msg, "cannot connect") && contains(e.msg, "check the URL"));
	CHECK_INT(open_conn("http://no-such-host.invalid", "connect_timeout = 3\n", NULL, false, &b, &e),
		  ST_UNAVAILABLE);
	CHECK(contains(e.msg, "no-such-host.invalid"));
	CHECK_INT(open_conn("ftp://example.com", NULL, NULL, false, &b, &e), ST_INVALID);
	CHECK(contains(e.msg, "https://"));
	CHECK_INT(open_conn("http://user:pw@127.0.0.1:1", NULL, NULL, false, &b, &e), ST_INVALID);
	CHECK(!contains(e.msg, "pw@"));
	CHECK_INT(open_conn("http://127.0.0.1:1/?x=1", NULL, NULL, false, &b, &e), ST_INVALID);
	CHECK_INT(open_conn("http://[::1", NULL, NULL, false, &b, &e), ST_INVALID);
	/* the contract's URL, pasted with /api/v1, still works */
	char with[300];
	snprintf(with, sizeof with, "%s/api/v1/", var("api"));
	CHECK_INT(open_conn(with, NULL, NULL, false, &b, &e), ST_OK);
	backend_close(b);
}

TEST(test_html_and_contract_version)
{
	struct backend *b = NULL;
	struct err e = {0};
	CHECK(env_cmd("canned html"));
	CHECK_INT(open_conn(var("canned"), NULL, NULL, false, &b, &e), ST_UNAVAILABLE);
	CHECK(contains(e.msg, "web page (HTML") && contains(e.msg, "base URL"));
	CHECK(env_cmd("canned health_html"));
	CHECK_INT(open_conn(var("canned"), NULL, NULL, false, &b, &e), ST_UNAVAILABLE);
	CHECK(contains(e.msg, "HTML"));
	CHECK(env_cmd("canned health_404"));
	CHECK_INT(open_conn(var("canned"), NULL, NULL, false, &b, &e), ST_UNSUPPORTED);
	CHECK(contains(e.msg, "API v1"));
	CHECK(env_cmd("canned health_v2"));
	CHECK_INT(open_conn(var("canned"), NULL, NULL, false, &b, &e), ST_UNSUPPORTED);
	CHECK(contains(e.msg, "version 2.0"));
	CHECK(env_cmd("canned health_wrong"));
	CHECK_INT(open_conn(var("canned"), NULL, NULL, false, &b, &e), ST_UNSUPPORTED);
	CHECK(contains(e.msg, "status"));
	CHECK(env_cmd("canned good"));
}

TEST(test_malformed_answers)
{
	static const char *const bad[] = {
		"badjson", "truncated", "short_body", "wrong_type", "wrong_badges", "missing_version",
		"missing_cursor", "items_not_array", "too_long", "bad_version", "not_object", "oversized",
		"text_plain", "html", "problem_500",
	};
	CHECK(env_cmd("canned good"));
	struct backend *b = open_ok(var("canned"), NULL);
	CHECK(b);
	struct page_query q = {NULL, SORT_FULLNAME, false, NULL, 50};
	struct page p;
	struct err e = {0};
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK_INT(p.n, 1);
	page_free(&p);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(env_cmd("canned %s", bad[i]));
		err_clear(&e);
		enum status st = backend_list_page(b, &q, &p, &e);
		if (st == ST_OK || !e.msg[0] || p.n || p.rows || p.next_cursor)
			fprintf(stderr, "  %s: status %d, \"%s\"\n", bad[i], (int)st, e.msg);
		CHECK(st != ST_OK && e.msg[0]);
		CHECK(p.n == 0 && p.rows == NULL && p.next_cursor == NULL);
		CHECK(!strchr(e.msg, '\x1b'));
	}
	CHECK(env_cmd("canned oversized"));
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_FAIL);
	CHECK(contains(e.msg, "larger than 8 MB"));
	CHECK(env_cmd("canned wrong_type"));
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_FAIL);
	CHECK(contains(e.msg, "items[0].fullname: not a string"));
	CHECK(env_cmd("canned problem_500"));
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_UNAVAILABLE);
	CHECK(contains(e.msg, "500") && contains(e.msg, "boom"));
	/* a page where an employee was expected, and a record with another id */
	CHECK(env_cmd("canned good"));
	struct employee got;
	CHECK_INT(backend_get(b, "c-1", &got, &e), ST_FAIL);
	CHECK(got.id[0] == '\0');
	employee_free(&got);
	backend_close(b);
}

TEST(test_tls)
{
	struct backend *b = NULL;
	struct err e = {0};
	CHECK(env_cmd("seed 0"));
	CHECK_INT(open_conn(var("tls"), NULL, NULL, false, &b, &e), ST_UNAVAILABLE);
	CHECK(contains(e.msg, "TLS failure") && contains(e.msg, "ca_file"));
	struct buf extra = BUF_INIT;
	buf_printf(&extra, "ca_file = %s\n", var("tls_ca"));
	CHECK_INT(open_conn(var("tls"), extra.data, NULL, false, &b, &e), ST_OK);
	long n;
	CHECK_INT(backend_count(b, NULL, &n, &e), ST_OK);
	CHECK_INT(n, 4);
	backend_close(b);
	buf_free(&extra);
	CHECK_INT(open_conn(var("tls"), "ca_file = /no/such/ca.pem\n", NULL, false, &b, &e), ST_INVALID);
	CHECK(contains(e.msg, "CA file"));
}

/* ---- waiting, cancelling, retrying ---- */

struct ticks {
	int n, cancel_at;
};

static bool count_tick(void *ctx, const char *what)
{
	struct ticks *t = ctx;
	(void)what;
	return ++t->n == t->cancel_at;
}

TEST(test_cancel_and_ticks)
{
	CHECK(env_cmd("seed 0") && env_cmd("mode pass"));
	struct backend *b = open_ok(var("proxy"), NULL);
	CHECK(b);
	struct ticks t = {0, 4};
	struct backend_waiter w = {-1, count_tick, NULL, &t};
	backend_set_waiter(b, &w);
	CHECK(env_cmd("mode delay 3000 times=1"));
	struct page_query q = {NULL, SORT_FULLNAME, false, NULL, 50};
	struct page p;
	struct err e = {0};
	double t0 = now_s();
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_CANCELLED);
	CHECK(now_s() - t0 < 1.0);
	CHECK_INT(t.n, 4);
	/* ticks come at least every 100 ms while waiting */
	t.n = 0;
	t.cancel_at = -1;
	CHECK(env_cmd("mode delay 700 times=1"));
	t0 = now_s();
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	double took = now_s() - t0;
	CHECK(t.n >= (int)(took * 10) - 1);
	CHECK_INT(p.n, 4);
	page_free(&p);
	backend_close(b);
}

TEST(test_retries)
{
	CHECK(env_cmd("seed 0"));
	struct backend *b = open_ok(var("proxy"), NULL);
	CHECK(b);
	struct employee got;
	struct err e = {0};
	const char *id = "00000000-0000-4000-8000-000000000001";
	CHECK(env_cmd("mode http 503 1 times=1")); /* Retry-After: 1 */
	double t0 = now_s();
	CHECK_INT(backend_get(b, id, &got, &e), ST_OK);
	CHECK(now_s() - t0 >= 0.9);
	employee_free(&got);
	static const char *const recover[] = {"http 502 times=3", "http 504 times=2", "http 429 times=1",
					      "drop times=3", "reset times=2"};
	for (size_t i = 0; i < sizeof recover / sizeof recover[0]; i++) {
		CHECK(env_cmd("mode %s", recover[i]));
		if (backend_get(b, id, &got, &e) != ST_OK)
			fprintf(stderr, "  %s: %s\n", recover[i], e.msg);
		CHECK_STR(got.fullname, "Ada Lovelace");
		employee_free(&got);
	}
	CHECK(env_cmd("mode http 429 times=4"));
	CHECK_INT(backend_get(b, id, &got, &e), ST_UNAVAILABLE);
	CHECK(contains(e.msg, "429") && contains(e.msg, "4 attempts"));
	employee_free(&got);
	CHECK(env_cmd("mode http 503 60 times=1")); /* longer than we wait: reported at once */
	t0 = now_s();
	CHECK_INT(backend_get(b, id, &got, &e), ST_UNAVAILABLE);
	CHECK(now_s() - t0 < 1);
	CHECK(contains(e.msg, "503"));
	employee_free(&got);
	CHECK(env_cmd("mode pass"));
	backend_close(b);
}

/* ---- the fault run ---- */

struct model {
	char id[EMP_ID_MAX + 1];
	char version[EMP_VERSION_MAX + 1];
	char name[32], loc[32];
	bool present;
};

static const char *const fault_modes[] = {
	"pass", "http 503 times=1", "http 502 times=2", "http 429 0 times=1", "drop times=1",
	"reset times=1", "delay 250 times=1", "http 504 times=3", "LOSE", "LOSE",
	"http 503 times=9", "drop times=9", "reset times=9",
};

static bool mode_fails(const char *m)
{
	return strstr(m, "times=9") != NULL;
}

static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/* One operation under a fault; the model follows what succeeded. Returns
 * false when the outcome is not what the fault allows. */
static bool fault_op(struct backend *b, struct model *m, size_t *nm, int i, bool expect_ok)
{
	struct err e = {0};
	enum status st;
	struct employee in, out;
	int kind = i % 4;
	struct model *r = NULL;
	for (size_t k = 0; k < *nm && kind != 0; k++)
		if (m[(k + (size_t)i) % *nm].present) {
			r = &m[(k + (size_t)i) % *nm];
			break;
		}
	if (!r)
		kind = 0;
	if (kind == 0) {
		struct model *n = &m[(*nm)++];
		snprintf(n->name, sizeof n->name, "Fault %03d", i);
		snprintf(n->loc, sizeof n->loc, "Start %d", i);
		fill(&in, n->name, n->loc, "Tester", NULL);
		st = backend_create(b, &in, &out, &e);
		if (st == ST_OK) {
			n->present = true;
			snprintf(n->id, sizeof n->id, "%s", out.id);
			snprintf(n->version, sizeof n->version, "%s", out.version);
		}
	} else if (kind == 1 || kind == 3) {
		fill(&in, r->name, "", "Tester", NULL);
		char loc[32];
		snprintf(loc, sizeof loc, "Moved %d", i);
		employee_set(&in, EF_LOCATION, loc);
		snprintf(in.id, sizeof in.id, "%s", r->id);
		snprintf(in.version, sizeof in.version, "%s", r->version);
		st = backend_replace(b, &in, &out, &e);
		if (st == ST_OK) {
			snprintf(r->loc, sizeof r->loc, "%s", loc);
			snprintf(r->version, sizeof r->version, "%s", out.version);
		}
	} else {
		employee_init(&in);
		struct page p;
		struct page_query q = {"Fault", SORT_FULLNAME, i % 3 == 0, NULL, 100};
		st = backend_list_page(b, &q, &p, &e);
		page_free(&p);
		if (st == ST_OK && i % 8 == 2) { /* and delete one, now and then */
			st = backend_remove(b, r->id, r->version, &out, &e);
			employee_free(&out);
			if (st == ST_OK)
				r->present = false;
		}
		employee_init(&out);
	}
	employee_free(&in);
	employee_free(&out);
	if ((st == ST_OK) != expect_ok || (st != ST_OK && (!e.msg[0] || st == ST_FAIL))) {
		fprintf(stderr, "  op %d (kind %d): status %d \"%s\"\n", i, kind, (int)st, e.msg);
		return false;
	}
	return true;
}

TEST(test_fault_run)
{
	CHECK(env_cmd("seed 0") && env_cmd("mode pass") && env_cmd("lose 0"));
	struct backend *b = open_ok(var("proxy"), "request_timeout = 3\n");
	CHECK(b);
	struct model m[64];
	memset(m, 0, sizeof m);
	size_t nm = 0;
	unsigned seed = 4242;
	int failures = 0;
	for (int i = 0; i < 36; i++) {
		const char *mode = fault_modes[next_rand(&seed) % (sizeof fault_modes / sizeof fault_modes[0])];
		bool lose = strcmp(mode, "LOSE") == 0;
		CHECK(env_cmd("mode %s", lose ? "pass" : mode) && env_cmd("lose %d", lose ? 1 : 0));
		CHECK(fault_op(b, m, &nm, i, !mode_fails(mode)));
		failures += mode_fails(mode);
	}
	CHECK(env_cmd("mode pass") && env_cmd("lose 0"));
	CHECK(failures > 3);
	/* the database holds exactly what succeeded: nothing lost, nothing twice */
	struct buf want = BUF_INIT, got = BUF_INIT;
	for (size_t k = 0; k < nm; k++)
		if (m[k].present)
			buf_printf(&want, "%s\t%s\t%s\n", m[k].name, m[k].loc, m[k].id);
	env_sql("SELECT fullname, location, id FROM employees WHERE fullname LIKE 'Fault %' ORDER BY fullname", &got);
	if (strcmp(buf_str(&want), buf_str(&got)) != 0)
		fprintf(stderr, "  want:\n%s  got:\n%s", buf_str(&want), buf_str(&got));
	CHECK_STR(buf_str(&got), buf_str(&want));
	buf_free(&want);
	buf_free(&got);
	backend_close(b);
}

int main(void)
{
	harness_init();
	signal(SIGPIPE, SIG_IGN);
	snprintf(env.tmpdir, sizeof env.tmpdir, "/tmp/test_http.XXXXXX");
	if (!mkdtemp(env.tmpdir)) {
		env.tmpdir[0] = '\0';
		return 1;
	}
	atexit(env_stop);
	double t0 = now_s();
	if (!env_start()) {
		printf("FAIL setup\n0 passed, 1 failed\n");
		return 1;
	}
	fprintf(stderr, "environment up in %.1f s\n", now_s() - t0);
	RUN(test_open_describe_caps);
	RUN(test_crud);
	RUN(test_paging_every_order);
	RUN(test_search_and_count);
	RUN(test_conflicts_two_clients);
	RUN(test_lost_answers_apply_once);
	RUN(test_read_only_refuses_writes);
	RUN(test_bearer_tokens);
	RUN(test_token_command);
	RUN(test_token_in_config_file);
	RUN(test_iam_signing);
	RUN(test_bad_urls);
	RUN(test_html_and_contract_version);
	RUN(test_malformed_answers);
	RUN(test_tls);
	RUN(test_cancel_and_ticks);
	RUN(test_retries);
	RUN(test_fault_run);
	fprintf(stderr, "done in %.1f s\n", now_s() - t0);
	return harness_done();
}
