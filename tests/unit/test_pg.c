/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The pg backend against a real PostgreSQL server (tests/lib/pgtmp.py):
 * every operation, paging in every order (the same order as the offline
 * snapshot), search with and without the trigram index, conflicts between
 * two clients, read-only enforced by the server, an SQL-injection corpus,
 * restarts, crashes and killed connections in the middle of writes, and the
 * messages for bad connections. A server that cannot be started is a
 * failure, not a skip. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "../../api_client/backend.h"
#include "../../api_client/pg_backend.h"
#include "../../api_client/pg_session.h"
#include "../../core/config.h"
#include "../../core/match.h"
#include "harness.h"

static char pgdir[256], snapdir[256], pgtmp_py[512];
static char conninfo[256];
static PGconn *admin_conn;

/* ---- the server ---- */

static int pgtmp(const char *what, char *out, size_t outsz)
{
	const char *argv[] = {"/usr/bin/python3", pgtmp_py, what, pgdir, NULL};
	return harness_run(argv, out, outsz);
}

static bool server_start(void)
{
	char out[4096];
	int rc = pgtmp("start", out, sizeof out);
	const char *ci = strstr(out, "conninfo=");
	if (rc != 0 || !ci) {
		fprintf(stderr, "cannot start PostgreSQL with %s (install postgresql): %s\n", pgtmp_py, out);
		return false;
	}
	snprintf(conninfo, sizeof conninfo, "%.*s", (int)strcspn(ci + 9, "\n"), ci + 9);
	return true;
}

static void server_cmd(const char *what)
{
	char out[4096];
	if (pgtmp(what, out, sizeof out) != 0)
		fprintf(stderr, "pgtmp %s failed: %s\n", what, out);
	if (admin_conn)
		PQfinish(admin_conn); /* it did not survive this (after: a held lock must outlive the kill) */
	admin_conn = NULL;
}

/* A guardian process stops the server and removes the directories when
 * this process ends, however it ends (a failed check, a sanitizer abort). */
static void start_guardian(void)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[1]);
		char c;
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		const char *argv[] = {"/usr/bin/python3", pgtmp_py, "stop", pgdir, "--mode", "immediate", NULL};
		harness_run(argv, NULL, 0);
		harness_rmtree(pgdir);
		harness_rmtree(snapdir);
		_exit(0);
	}
	close(fds[0]);
	/* fds[1] stays open (close-on-exec) until we exit. */
}

/* ---- raw SQL beside the backend ---- */

static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static PGconn *raw_connect(void)
{
	PGconn *c = PQconnectdb(conninfo);
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static PGconn *admin(void)
{
	if (admin_conn && PQstatus(admin_conn) == CONNECTION_OK)
		return admin_conn;
	if (admin_conn)
		PQfinish(admin_conn);
	admin_conn = raw_connect();
	return admin_conn;
}

static bool sql_on(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);
	bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "  SQL failed: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

static bool sql(const char *s)
{
	return sql_on(admin(), s);
}

/* The first value of a query as text ("" when no row). */
static void sql_value(const char *q, const char *param, char *out, size_t outsz)
{
	const char *params[] = {param};
	PGresult *r = PQexecParams(admin(), q, param ? 1 : 0, NULL, params, NULL, NULL, 0);
	out[0] = '\0';
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		snprintf(out, outsz, "%s", PQgetvalue(r, 0, 0));
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "  query failed: %s: %s", q, PQerrorMessage(admin()));
	PQclear(r);
}

/* All rows' first column, one per line. */
static void sql_lines(const char *q, const char *param, char *out, size_t outsz)
{
	const char *params[] = {param};
	PGresult *r = PQexecParams(admin(), q, param ? 1 : 0, NULL, params, NULL, NULL, 0);
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < PQntuples(r) && o < outsz; i++) {
		int n = snprintf(out + o, outsz - o, "%s\n", PQgetvalue(r, i, 0));
		o += n > 0 ? (size_t)n : 0;
	}
	PQclear(r);
}

static long sql_long(const char *q, const char *param)
{
	char v[64];
	sql_value(q, param, v, sizeof v);
	return v[0] ? strtol(v, NULL, 10) : -1;
}

/* The seed's rows: three known ones and `rows` generated (as test_offline). */
#define KNOWN_ROWS \
	"('00000000-0000-4000-8000-000000000001','Ada Lovelace','London','Mathematician','[\"Mac User\"]')," \
	"('00000000-0000-4000-8000-000000000002','Zoë Ångström','Zürich','Physicist','[\"Runner\", \"Coffee Snob\"]')," \
	"('00000000-0000-4000-8000-000000000003','山田太郎','東京','Engineer',NULL)"

static bool seed_pg(int rows)
{
	if (!sql("TRUNCATE employees") || !sql("INSERT INTO employees VALUES " KNOWN_ROWS))
		return false;
	if (rows == 0)
		return true;
	char n[16];
	snprintf(n, sizeof n, "%d", rows);
	const char *params[] = {n};
	PGresult *r = PQexecParams(admin(),
				   "INSERT INTO employees SELECT '10000000-0000-4000-8000-' || lpad(i::text, 12, '0'), "
				   "'Person ' || lpad(((i * 7919) % $1::int)::text, 5, '0'), 'City ' || (i % 13), "
				   "'Title ' || (i % 7), '[\"Badge ' || (i % 5) || '\"]' "
				   "FROM generate_series(0, $1::int - 1) i",
				   1, NULL, params, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "  seeding failed: %s", PQerrorMessage(admin()));
	PQclear(r);
	return ok;
}

/* The same rows in an offline snapshot, for comparing order and versions. */
static bool seed_snapshot(const char *path, int rows)
{
	struct buf s = BUF_INIT;
	buf_printf(&s, "CREATE TABLE employees(id varchar(36) primary key, fullname varchar(100) not null,"
		       " location varchar(100) not null, job_title varchar(100) not null, badges text);"
		       "BEGIN; INSERT INTO employees VALUES " KNOWN_ROWS ";");
	for (int i = 0; i < rows; i++)
		buf_printf(&s, "INSERT INTO employees VALUES('10000000-0000-4000-8000-%012d','Person %05d',"
			       "'City %d','Title %d','[\"Badge %d\"]');", i, (i * 7919) % rows, i % 13, i % 7,
			   i % 5);
	buf_puts(&s, "COMMIT;");
	unlink(path);
	sqlite3 *db;
	bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
		  sqlite3_exec(db, s.data, NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	buf_free(&s);
	return ok;
}

/* ---- the waiter ---- */

struct twait {
	int ticks, notifies;
	char what[128], note[256];
	char log[2048];       /* every notice, one per line */
	long cancel_after_ms; /* < 0: never */
	struct timespec start;
	void (*action)(void); /* run once, on the first tick */
};
static struct twait tw;

static long ms_since(struct timespec t)
{
	struct timespec n;
	clock_gettime(CLOCK_MONOTONIC, &n);
	return (n.tv_sec - t.tv_sec) * 1000 + (n.tv_nsec - t.tv_nsec) / 1000000;
}

static void tw_reset(void)
{
	memset(&tw, 0, sizeof tw);
	tw.cancel_after_ms = -1;
	clock_gettime(CLOCK_MONOTONIC, &tw.start);
}

static bool tw_tick(void *ctx, const char *what)
{
	(void)ctx;
	tw.ticks++;
	snprintf(tw.what, sizeof tw.what, "%s", what);
	if (tw.action) {
		void (*a)(void) = tw.action;
		tw.action = NULL;
		a();
	}
	return tw.cancel_after_ms >= 0 && ms_since(tw.start) >= tw.cancel_after_ms;
}

static void tw_notify(void *ctx, const char *msg)
{
	(void)ctx;
	tw.notifies++;
	snprintf(tw.note, sizeof tw.note, "%s", msg);
	size_t used = strlen(tw.log);
	snprintf(tw.log + used, sizeof tw.log - used, "%s\n", msg);
}

static const struct backend_waiter test_waiter = {-1, tw_tick, tw_notify, NULL};

/* ---- opening ---- */

static enum status open_with(const char *target, const char *extra_keys, bool ro,
			     struct backend **b, struct config *cfg, struct err *e)
{
	struct buf text = BUF_INIT;
	buf_printf(&text, "[connection t]\nbackend = pg\n%s", extra_keys ? extra_keys : "");
	config_init(cfg);
	enum status st = config_parse(cfg, text.data, "test.conf", e);
	buf_free(&text);
	if (st != ST_OK)
		return st;
	struct conn_config cc;
	if ((st = config_connection(cfg, "t", &cc, e)) != ST_OK)
		return st;
	cc.target = target;
	cc.read_only = ro;
	return backend_open(&cc, b, e);
}

static enum status open_pg(bool ro, struct backend **b, struct err *e)
{
	struct conn_config cc = {.name = "test", .backend = "pg", .target = conninfo, .read_only = ro};
	enum status st = backend_open(&cc, b, e);
	if (st == ST_OK)
		backend_set_waiter(*b, &test_waiter);
	else
		fprintf(stderr, "  open failed: %s\n", e->msg);
	return st;
}

static void employee_fill(struct employee *e, const char *name, const char *loc, const char *title,
			  const char *badge)
{
	employee_init(e);
	employee_set(e, EF_FULLNAME, name);
	employee_set(e, EF_LOCATION, loc);
	employee_set(e, EF_JOB_TITLE, title);
	if (badge)
		strvec_push(&e->badges, badge);
}

/* ---- walking pages ---- */

static int walk_all(struct backend *b, enum sort_key k, bool desc, const char *filter, int limit,
		    char ***ids_out)
{
	struct page_query q = {.filter = filter, .sort = k, .desc = desc, .limit = limit};
	char *cursor = NULL;
	int total = 0;
	char **ids = NULL;
	struct err e = {0};
	for (;;) {
		struct page p;
		q.after = cursor;
		if (backend_list_page(b, &q, &p, &e) != ST_OK) {
			fprintf(stderr, "  list failed: %s\n", e.msg);
			free(cursor);
			*ids_out = ids;
			return -1;
		}
		for (size_t i = 0; i < p.n; i++) {
			ids = xrealloc(ids, sizeof *ids * (size_t)(total + 1));
			ids[total++] = xstrdup(p.rows[i].id);
		}
		free(cursor);
		cursor = p.next_cursor ? xstrdup(p.next_cursor) : NULL;
		page_free(&p);
		if (!cursor)
			break;
	}
	*ids_out = ids;
	return total;
}

static void free_ids(char **ids, int n)
{
	for (int i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static bool same_ids(char **a, int na, char **b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static int dup_count(char **ids, int n)
{
	int d = 0;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			d += strcmp(ids[i], ids[j]) == 0;
	return d;
}

static int run_setup(const char *answer, bool yes, char *out, size_t outsz)
{
	FILE *in = fmemopen((void *)answer, strlen(answer), "r");
	FILE *o = tmpfile(), *err = tmpfile();
	struct conn_config cc = {.name = "test", .backend = "pg", .target = conninfo};
	int rc = pg_db_setup(&cc, in, o, err, yes);
	rewind(o);
	rewind(err);
	size_t n = fread(out, 1, outsz / 2, o);
	n += fread(out + n, 1, outsz - 1 - n, err);
	out[n] = '\0';
	fclose(in);
	fclose(o);
	fclose(err);
	return rc;
}

static void drop_trgm(void)
{
	sql("DROP INDEX IF EXISTS employees_fullname_trgm, employees_location_trgm, "
	    "employees_job_title_trgm, employees_badges_trgm");
}

/* ---- the tests ---- */

TEST(crud_roundtrip)
{
	CHECK(seed_pg(10));
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	unsigned caps = backend_caps(b);
	CHECK(caps & CAP_WRITE);
	CHECK(caps & CAP_VERSIONS);
	CHECK(caps & CAP_REMOTE);
	char desc[200];
	backend_describe(b, desc, sizeof desc);
	CHECK(strncmp(desc, "pg empdir@127.0.0.1:", 20) == 0);

	struct employee in, out, got, cur, cur2, gone;
	employee_fill(&in, "  Grace Hopper ", "Arlington", "Rear Admiral", "Navy");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	CHECK_STR(out.fullname, "Grace Hopper");
	CHECK_INT(strlen(out.id), 36);
	CHECK(out.id[14] == '4'); /* a client-made UUID v4 */
	CHECK_INT(strlen(out.version), 32);
	CHECK_INT(backend_get(b, out.id, &got, &e), ST_OK);
	CHECK_STR(got.location, "Arlington");
	CHECK_INT(got.badges.n, 1);
	CHECK_STR(got.badges.v[0], "Navy");
	CHECK_STR(got.version, out.version);
	/* stored as the seed stores it: JSON text */
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE badges = '[\"Navy\"]' AND id = $1", out.id), 1);

	employee_set(&got, EF_JOB_TITLE, "Computer Scientist");
	strvec_push(&got.badges, "COBOL");
	CHECK_INT(backend_replace(b, &got, &cur, &e), ST_OK);
	CHECK_STR(cur.job_title, "Computer Scientist");
	CHECK(strcmp(cur.version, got.version) != 0);
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE badges = '[\"Navy\", \"COBOL\"]'", NULL), 1);
	long n;
	CHECK_INT(backend_count(b, NULL, &n, &e), ST_OK);
	CHECK_INT(n, 14);
	CHECK_INT(backend_remove(b, cur.id, cur.version, &cur2, &e), ST_OK);
	CHECK_INT(backend_get(b, cur.id, &gone, &e), ST_NOT_FOUND);
	CHECK_INT(backend_count(b, NULL, &n, &e), ST_OK);
	CHECK_INT(n, 13);
	employee_free(&in); employee_free(&out); employee_free(&got); employee_free(&cur);
	employee_free(&cur2); employee_free(&gone);
	backend_close(b);
}

TEST(create_with_a_given_id_duplicates_and_replays)
{
	CHECK(seed_pg(0));
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	struct employee in, out, again, other;
	employee_fill(&in, "Replayed Create", "Offline", "Journal", NULL);
	snprintf(in.id, sizeof in.id, "%s", "20000000-0000-4000-8000-000000000001");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	CHECK_STR(out.id, in.id);
	/* the same create again (a journal replayed twice) changes nothing */
	CHECK_INT(backend_create(b, &in, &again, &e), ST_OK);
	CHECK_STR(again.version, out.version);
	/* other content under the same id is refused */
	employee_fill(&other, "Someone Else", "Elsewhere", "Other", NULL);
	memcpy(other.id, in.id, sizeof other.id);
	employee_free(&again);
	CHECK_INT(backend_create(b, &other, &again, &e), ST_EXISTS);
	CHECK(strstr(e.msg, "already exists") != NULL);
	CHECK_INT(sql_long("SELECT count(*) FROM employees", NULL), 4);
	employee_free(&in); employee_free(&out); employee_free(&again); employee_free(&other);
	backend_close(b);
}

TEST(conflicts_between_two_clients_lose_nothing)
{
	CHECK(seed_pg(5));
	struct backend *a, *b;
	struct err e = {0};
	CHECK_INT(open_pg(false, &a, &e), ST_OK);
	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	const char *id = "00000000-0000-4000-8000-000000000001";
	struct employee ea, eb, cur, now;
	CHECK_INT(backend_get(a, id, &ea, &e), ST_OK);
	CHECK_INT(backend_get(b, id, &eb, &e), ST_OK);
	employee_set(&ea, EF_LOCATION, "Paris");
	CHECK_INT(backend_replace(a, &ea, &cur, &e), ST_OK);
	employee_free(&cur);
	employee_set(&eb, EF_LOCATION, "Berlin");
	CHECK_INT(backend_replace(b, &eb, &cur, &e), ST_CONFLICT);
	CHECK(strstr(e.msg, "changed") != NULL);
	/* both versions are at hand: theirs in cur, mine in eb */
	CHECK_STR(cur.location, "Paris");
	CHECK_STR(eb.location, "Berlin");
	CHECK(strcmp(cur.version, eb.version) != 0);
	/* re-apply mine on top of theirs, knowingly */
	memcpy(eb.version, cur.version, sizeof eb.version);
	employee_free(&cur);
	CHECK_INT(backend_replace(b, &eb, &cur, &e), ST_OK);
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE location = 'Berlin'", NULL), 1);
	employee_free(&cur);
	/* a stale delete is refused, and the row stays */
	CHECK_INT(backend_remove(a, id, ea.version, &cur, &e), ST_CONFLICT);
	CHECK_STR(cur.location, "Berlin");
	employee_free(&cur);
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE id = $1", id), 1);
	/* deleted elsewhere: not found, for replace and for delete */
	CHECK_INT(backend_get(a, id, &now, &e), ST_OK);
	CHECK_INT(backend_remove(a, id, now.version, &cur, &e), ST_OK);
	employee_free(&cur);
	CHECK_INT(backend_replace(b, &eb, &cur, &e), ST_NOT_FOUND);
	employee_free(&cur);
	CHECK_INT(backend_remove(b, id, now.version, &cur, &e), ST_NOT_FOUND);
	employee_free(&cur);
	employee_free(&ea); employee_free(&eb); employee_free(&now);
	backend_close(a);
	backend_close(b);
}

/* Every order, both directions, small pages: each row once, in the same
 * order as big pages and as the offline snapshot of the same rows. */
static void check_orders(struct backend *b, struct backend *off, int want, bool *ok)
{
	*ok = false;
	for (int k = 0; k < SORT_COUNT; k++) {
		for (int d = 0; d < 2; d++) {
			char **ids, **big, **snap;
			int n = walk_all(b, (enum sort_key)k, d, NULL, 37, &ids);
			int n2 = walk_all(b, (enum sort_key)k, d, NULL, 500, &big);
			int n3 = walk_all(off, (enum sort_key)k, d, NULL, 500, &snap);
			bool good = n == want && same_ids(ids, n, big, n2) && same_ids(ids, n, snap, n3) &&
				    dup_count(ids, n) == 0;
			if (!good)
				fprintf(stderr, "  sort %s %s: %d/%d/%d rows, want %d\n",
					sort_key_name((enum sort_key)k), d ? "desc" : "asc", n, n2, n3, want);
			free_ids(ids, n);
			free_ids(big, n2);
			free_ids(snap, n3);
			if (!good)
				return;
		}
	}
	*ok = true;
}

TEST(paging_every_order_matches_the_offline_snapshot)
{
	/* Case and accents around the ASCII letters, ties on the sort key. */
	static const char extra[] =
		"INSERT INTO employees VALUES ('e-1', 'Émile Zola', 'Édimbourg', 'écrivain', NULL),"
		"('e-2', 'émile zola', 'édimbourg', 'Écrivain', '[]'), ('e-3', 'EMILE', 'ZZ', 'zz', NULL),"
		"('e-4', 'emile', 'zz', 'ZZ', NULL), ('e-5', 'Emile', 'Zz', 'Zz', NULL)";
	CHECK(seed_pg(500) && sql(extra));
	char snap[300];
	snprintf(snap, sizeof snap, "%s/paging.db", snapdir);
	CHECK(seed_snapshot(snap, 500));
	sqlite3 *db;
	CHECK(sqlite3_open(snap, &db) == SQLITE_OK);
	int rc = sqlite3_exec(db, extra, NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK(rc == SQLITE_OK);
	struct backend *b, *off;
	struct err e = {0};
	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	struct conn_config oc = {.name = "snap", .backend = "offline", .target = snap};
	CHECK_INT(backend_open(&oc, &off, &e), ST_OK);
	bool ok;
	check_orders(b, off, 508, &ok);
	CHECK(ok);
	struct page p;
	struct page_query q = {.sort = SORT_FULLNAME, .limit = 1};
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK_STR(p.rows[0].fullname, "Ada Lovelace");
	CHECK(p.next_cursor != NULL);
	page_free(&p);
	q.desc = true;
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK_STR(p.rows[0].fullname, "山田太郎");
	page_free(&p);
	q.after = "garbage";
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_INVALID);
	/* the sort indexes db setup makes serve the keyset query */
	char out[8192];
	CHECK_INT(run_setup("", true, out, sizeof out), 0);
	char plan[4096];
	sql("SET enable_seqscan = off");
	sql_lines("EXPLAIN SELECT id FROM employees WHERE (lower(location COLLATE \"C\"), id COLLATE \"C\") "
		  "< (lower($1::text COLLATE \"C\"), 'x'::text COLLATE \"C\") "
		  "ORDER BY lower(location COLLATE \"C\") DESC, id COLLATE \"C\" DESC LIMIT 38",
		  "City 3", plan, sizeof plan);
	sql("RESET enable_seqscan");
	if (!strstr(plan, "employees_location_sort"))
		fprintf(stderr, "  plan: %s\n", plan);
	CHECK(strstr(plan, "employees_location_sort") != NULL);
	check_orders(b, off, 508, &ok);
	CHECK(ok);
	backend_close(off);
	backend_close(b);
}

struct search_case {
	const char *filter;
	long want;
};

static const struct search_case search_cases[] = {
	{"lovelace", 1}, {"LOVE", 1}, {"ove", 1},
	{"ångström", 1}, {"ÅNGSTRÖM", 1},
	{"zürich", 1}, {"mathematic", 1},
	{"coffee", 1}, {"mac user", 1},
	{"太郎", 1}, {"東", 1},
	{"person 0001", 10}, {"badge 3", 60},
	{"\", \"", 0}, {"[", 0}, {"\"", 0}, /* JSON punctuation is not badge text */
	{"nobody-here", 0}, {"'; DROP TABLE employees; --", 0},
	{"%", 0}, {"_", 0}, {"a\"b", 0}, {"\\", 0},
};

static void check_search(struct backend *b, bool *ok)
{
	struct err e = {0};
	*ok = false;
	for (size_t i = 0; i < sizeof search_cases / sizeof search_cases[0]; i++) {
		long n = -2;
		char **ids;
		if (backend_count(b, search_cases[i].filter, &n, &e) != ST_OK)
			fprintf(stderr, "  count failed: %s\n", e.msg);
		int m = walk_all(b, SORT_LOCATION, false, search_cases[i].filter, 7, &ids);
		free_ids(ids, m > 0 ? m : 0);
		if (n != search_cases[i].want || m != search_cases[i].want) {
			fprintf(stderr, "  filter \"%s\": count %ld, walk %d, want %ld\n",
				search_cases[i].filter, n, m, search_cases[i].want);
			return;
		}
	}
	*ok = true;
}

TEST(search_is_the_same_with_and_without_the_trigram_index)
{
	CHECK(seed_pg(300));
	drop_trgm();
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	CHECK(!(backend_caps(b) & CAP_FAST_SEARCH));
	CHECK(backend_hint(b) && strstr(backend_hint(b), "no trigram index: search scans the table") &&
	      strstr(backend_hint(b), "empdir-tui db setup"));
	bool ok;
	check_search(b, &ok);
	CHECK(ok);
	backend_close(b);

	/* db setup: shows the SQL and asks; "no" changes nothing */
	char out[8192];
	CHECK_INT(run_setup("n\n", false, out, sizeof out), 1);
	CHECK(strstr(out, "CREATE EXTENSION IF NOT EXISTS pg_trgm;") != NULL);
	CHECK(strstr(out, "CREATE INDEX CONCURRENTLY IF NOT EXISTS employees_badges_trgm ON employees "
			  "USING gin (badges gin_trgm_ops);") != NULL);
	CHECK(strstr(out, "CREATE TABLE IF NOT EXISTS employees (") != NULL);
	CHECK(strstr(out, "Run these statements? [y/N]") != NULL);
	CHECK(strstr(out, "Nothing was changed.") != NULL);
	CHECK_INT(sql_long("SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%trgm'", NULL), 0);
	CHECK_INT(run_setup("y\n", false, out, sizeof out), 0);
	CHECK(strstr(out, "Done.") != NULL);
	CHECK_INT(sql_long("SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%trgm'", NULL), 4);
	CHECK_INT(run_setup("", true, out, sizeof out), 0); /* again: nothing to do, still fine */

	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	CHECK(backend_caps(b) & CAP_FAST_SEARCH);
	CHECK(backend_hint(b) == NULL);
	check_search(b, &ok);
	CHECK(ok);
	/* the index follows writes */
	struct employee in, made, cur, cur2;
	employee_fill(&in, "Katherine Johnson", "Hampton", "Mathematician", "Orbit");
	CHECK_INT(backend_create(b, &in, &made, &e), ST_OK);
	long n;
	CHECK_INT(backend_count(b, "katherine", &n, &e), ST_OK);
	CHECK_INT(n, 1);
	employee_set(&made, EF_FULLNAME, "Kay Johnson");
	CHECK_INT(backend_replace(b, &made, &cur, &e), ST_OK);
	CHECK_INT(backend_count(b, "katherine", &n, &e), ST_OK);
	CHECK_INT(n, 0);
	CHECK_INT(backend_remove(b, cur.id, cur.version, &cur2, &e), ST_OK);
	CHECK_INT(backend_count(b, "kay john", &n, &e), ST_OK);
	CHECK_INT(n, 0);
	employee_free(&in); employee_free(&made); employee_free(&cur); employee_free(&cur2);
	backend_close(b);
	/* an index left invalid by an interrupted build is rebuilt, and said so */
	sql("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'employees_badges_trgm'::regclass");
	CHECK_INT(run_setup("", true, out, sizeof out), 0);
	CHECK(strstr(out, "DROP INDEX CONCURRENTLY IF EXISTS employees_badges_trgm;") != NULL);
	CHECK_INT(sql_long("SELECT count(*) FROM pg_index WHERE NOT indisvalid", NULL), 0);
}

TEST(versions_equal_the_offline_backend_and_the_sql_expression)
{
	CHECK(seed_pg(20));
	CHECK(sql("INSERT INTO employees VALUES ('v-1', 'Émilie du Châtelet ☕', 'Cirey-sur-Blaise', "
		  "'Natural philosopher', '[\"Ünïcödé\", \"a\\\"b\", \"back\\\\slash\"]'), "
		  "('v-2', 'Legacy Badges', 'Nowhere', 'Clerk', 'Mac User,Runner'), "
		  "('v-3', 'Empty Badges', 'Nowhere', 'Clerk', '')"));
	char snap[300];
	snprintf(snap, sizeof snap, "%s/versions.db", snapdir);
	CHECK(seed_snapshot(snap, 20));
	{
		sqlite3 *db;
		CHECK(sqlite3_open(snap, &db) == SQLITE_OK);
		int rc = sqlite3_exec(db, "INSERT INTO employees VALUES ('v-1', 'Émilie du Châtelet ☕', "
				      "'Cirey-sur-Blaise', 'Natural philosopher', '[\"Ünïcödé\", \"a\\\"b\", "
				      "\"back\\\\slash\"]'), ('v-2', 'Legacy Badges', 'Nowhere', 'Clerk', "
				      "'Mac User,Runner'), ('v-3', 'Empty Badges', 'Nowhere', 'Clerk', '')",
				      NULL, NULL, NULL);
		sqlite3_close(db);
		CHECK(rc == SQLITE_OK);
	}
	struct backend *b, *off;
	struct err e = {0};
	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	struct conn_config oc = {.name = "snap", .backend = "offline", .target = snap};
	CHECK_INT(backend_open(&oc, &off, &e), ST_OK);
	PGresult *r = PQexec(admin(), "SELECT id, " PG_VERSION_SQL " FROM employees ORDER BY id");
	CHECK(PQresultStatus(r) == PGRES_TUPLES_OK);
	int rows = PQntuples(r), same = 0;
	for (int i = 0; i < rows; i++) {
		struct employee ep, eo;
		const char *id = PQgetvalue(r, i, 0);
		if (backend_get(b, id, &ep, &e) == ST_OK && backend_get(off, id, &eo, &e) == ST_OK &&
		    strcmp(ep.version, PQgetvalue(r, i, 1)) == 0 && strcmp(ep.version, eo.version) == 0)
			same++;
		else
			fprintf(stderr, "  version differs for %s\n", id);
		employee_free(&ep);
		employee_free(&eo);
	}
	PQclear(r);
	CHECK_INT(rows, 26);
	CHECK_INT(same, rows);
	/* a version read through one backend is accepted by the other */
	struct employee eo, cur;
	CHECK_INT(backend_get(off, "v-1", &eo, &e), ST_OK);
	employee_set(&eo, EF_LOCATION, "Paris");
	CHECK_INT(backend_replace(b, &eo, &cur, &e), ST_OK);
	CHECK_STR(cur.badges.v[1], "a\"b");
	CHECK_STR(cur.badges.v[2], "back\\slash");
	employee_free(&eo);
	employee_free(&cur);
	backend_close(off);
	backend_close(b);
}

TEST(read_only_is_refused_by_the_backend_and_the_server)
{
	CHECK(seed_pg(3));
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_pg(true, &b, &e), ST_OK);
	CHECK(!(backend_caps(b) & CAP_WRITE));
	char desc[200];
	backend_describe(b, desc, sizeof desc);
	CHECK(strstr(desc, "(read-only)") != NULL);
	struct employee in, out, cur;
	employee_fill(&in, "Nope", "Nowhere", "None", NULL);
	CHECK_INT(b->ops->create(b, &in, &out, &e), ST_READ_ONLY);
	CHECK_INT(backend_create(b, &in, &out, &e), ST_READ_ONLY);
	employee_free(&out);
	CHECK_INT(b->ops->remove(b, "00000000-0000-4000-8000-000000000001", "x", &cur, &e), ST_READ_ONLY);
	employee_free(&cur);
	/* the session itself is read-only: a write through its connection fails */
	PGconn *raw = pg_backend_pgconn(b);
	CHECK(raw != NULL);
	PGresult *r = PQexec(raw, "SHOW default_transaction_read_only");
	CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "on") == 0);
	PQclear(r);
	r = PQexec(raw, "DELETE FROM employees");
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	CHECK(state && strcmp(state, "25006") == 0);
	PQclear(r);
	/* and stays so after reconnecting */
	server_cmd("restart");
	struct employee got;
	CHECK_INT(backend_get(b, "00000000-0000-4000-8000-000000000001", &got, &e), ST_OK);
	employee_free(&got);
	raw = pg_backend_pgconn(b);
	r = PQexec(raw, "SHOW default_transaction_read_only");
	CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "on") == 0);
	PQclear(r);
	CHECK_INT(sql_long("SELECT count(*) FROM employees", NULL), 6);
	employee_free(&in);
	backend_close(b);
}

static const char *const corpus[] = {
	"Robert'); DROP TABLE employees;--", "\" OR 1=1 --", "%_%", "100%", "a_b", "back\\slash",
	"x' UNION SELECT * FROM pg_authid --", "$1 $2 ::text", "E'\\x41'", "[\"json\", \"array\"]",
	"comma, separated", "{\"a\": 1}", "'; SELECT pg_sleep(10); --", "\\\\' OR '' = '",
	"ÅNGSTRÖM ' ; --", "🙂'\"",
};

TEST(sql_injection_corpus_is_stored_and_found_literally)
{
	CHECK(seed_pg(1));
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	size_t n = sizeof corpus / sizeof corpus[0];
	for (size_t i = 0; i < n; i++) {
		struct employee in, out, got;
		employee_fill(&in, corpus[i], corpus[i], corpus[i], corpus[i]);
		CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
		CHECK_STR(out.fullname, corpus[i]);
		CHECK_STR(out.badges.v[0], corpus[i]);
		CHECK_INT(backend_get(b, out.id, &got, &e), ST_OK);
		CHECK_STR(got.job_title, corpus[i]);
		CHECK_STR(got.location, corpus[i]);
		CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE fullname = $1", corpus[i]), 1);
		employee_free(&in); employee_free(&out); employee_free(&got);
	}
	CHECK_INT(sql_long("SELECT count(*) FROM employees", NULL), 4 + (long)n);
	/* each is found literally, and matches only rows that contain it */
	for (size_t i = 0; i < n; i++) {
		long c = 0, want = 0;
		for (size_t j = 0; j < n; j++) {
			struct buf f = BUF_INIT, x = BUF_INIT;
			match_fold(&f, corpus[i], strlen(corpus[i]));
			match_fold(&x, corpus[j], strlen(corpus[j]));
			want += strstr(buf_str(&x), buf_str(&f)) != NULL;
			buf_free(&f);
			buf_free(&x);
		}
		CHECK_INT(backend_count(b, corpus[i], &c, &e), ST_OK);
		if (c != want)
			fprintf(stderr, "  search \"%s\": %ld, want %ld\n", corpus[i], c, want);
		CHECK_INT(c, want);
		char **ids;
		int m = walk_all(b, SORT_FULLNAME, true, corpus[i], 2, &ids);
		free_ids(ids, m > 0 ? m : 0);
		CHECK_INT(m, want);
	}
	CHECK_INT(sql_long("SELECT count(*) FROM employees", NULL), 4 + (long)n);
	backend_close(b);
}

TEST(a_restarted_server_is_reconnected_to)
{
	CHECK(seed_pg(3));
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	const char *id = "00000000-0000-4000-8000-000000000001";
	struct employee got, cur;
	CHECK_INT(backend_get(b, id, &got, &e), ST_OK);
	employee_free(&got);
	server_cmd("restart");
	tw_reset();
	CHECK_INT(backend_get(b, id, &got, &e), ST_OK);
	CHECK(tw.notifies >= 1);
	CHECK(strstr(tw.note, "reconnected") != NULL);
	/* a write right after another restart goes through once */
	server_cmd("restart");
	employee_set(&got, EF_LOCATION, "After Restart");
	CHECK_INT(backend_replace(b, &got, &cur, &e), ST_OK);
	CHECK_STR(cur.location, "After Restart");
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE location = 'After Restart'", NULL), 1);
	employee_free(&got);
	employee_free(&cur);
	/* the server gone for a while: backoff, said on the status line, then back */
	server_cmd("stop");
	tw_reset();
	tw.cancel_after_ms = 1800;
	struct page p;
	struct page_query q = {.sort = SORT_FULLNAME, .limit = 5};
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_CANCELLED);
	CHECK(strstr(tw.note, "connection lost; reconnecting in") != NULL);
	CHECK(tw.ticks >= 10);
	server_cmd("start");
	tw_reset();
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK_INT(p.n, 5);
	page_free(&p);
	backend_close(b);
}

/* ---- killing the connection under a write ---- */

static struct backend *victim;
static int victim_pid;
static char slow_id[40];

static void terminate_victim(void)
{
	PGconn *c = raw_connect();
	char pid[16];
	snprintf(pid, sizeof pid, "%d", victim_pid);
	const char *params[] = {pid};
	PQclear(PQexecParams(c, "SELECT pg_terminate_backend($1::int)", 1, NULL, params, NULL, NULL, 0));
	PQfinish(c);
}

/* Wait (up to 5 s) until the slow write is committed, then cut our
 * connection before its answer is read: the write happened, the client
 * cannot know. */
static void cut_after_commit(void)
{
	PGconn *c = raw_connect();
	for (int i = 0; i < 500; i++) {
		const char *params[] = {slow_id};
		PGresult *r = PQexecParams(c, "SELECT 1 FROM employees WHERE id = $1 AND job_title = 'Slow'",
					   1, NULL, params, NULL, NULL, 0);
		bool done = PQntuples(r) == 1;
		PQclear(r);
		if (done)
			break;
		usleep(10000);
	}
	PQfinish(c);
	int fd = PQsocket(pg_backend_pgconn(victim));
	int sp[2];
	if (fd >= 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0) {
		dup2(sp[0], fd);
		close(sp[0]);
		close(sp[1]);
	}
}

static void terminate_then_release(void)
{
	terminate_victim();
	sql("ROLLBACK");
}

static void change_terminate_commit(void)
{
	sql("UPDATE employees SET location = 'Changed Meanwhile' WHERE id = '00000000-0000-4000-8000-000000000002'");
	terminate_victim();
	sql("COMMIT");
}

static void crash_and_start(void)
{
	server_cmd("kill");
	server_cmd("start");
}

static void arm(struct backend *b, void (*action)(void))
{
	victim = b;
	victim_pid = PQbackendPID(pg_backend_pgconn(b));
	tw_reset();
	tw.action = action;
}

TEST(killed_connections_during_writes_report_what_happened)
{
	CHECK(seed_pg(3));
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	const char *ada = "00000000-0000-4000-8000-000000000001";
	const char *zoe = "00000000-0000-4000-8000-000000000002";
	struct employee got, cur;

	/* 1. killed while waiting for a lock: not applied, so applied once now */
	CHECK_INT(backend_get(b, ada, &got, &e), ST_OK);
	CHECK(sql("BEGIN") && sql("SELECT 1 FROM employees WHERE id = '00000000-0000-4000-8000-000000000001' FOR UPDATE"));
	arm(b, terminate_then_release);
	employee_set(&got, EF_LOCATION, "Killed Once");
	CHECK_INT(backend_replace(b, &got, &cur, &e), ST_OK);
	CHECK(strstr(tw.log, "checking whether the change was made") != NULL);
	CHECK(strstr(tw.log, "reconnected") != NULL);
	CHECK_STR(cur.location, "Killed Once");
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE location = 'Killed Once'", NULL), 1);
	employee_free(&got);
	employee_free(&cur);

	/* 2. committed, then the answer lost: reported saved, saved once */
	CHECK(sql("CREATE OR REPLACE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ "
		  "BEGIN IF NEW.job_title = 'Slow' THEN PERFORM pg_sleep(0.4); END IF; RETURN NEW; END $$"));
	CHECK(sql("CREATE TRIGGER test_slow AFTER INSERT OR UPDATE ON employees FOR EACH ROW "
		  "EXECUTE FUNCTION test_slow()"));
	CHECK_INT(backend_get(b, ada, &got, &e), ST_OK);
	snprintf(slow_id, sizeof slow_id, "%s", ada);
	employee_set(&got, EF_JOB_TITLE, "Slow");
	arm(b, cut_after_commit);
	CHECK_INT(backend_replace(b, &got, &cur, &e), ST_OK);
	CHECK_STR(cur.job_title, "Slow");
	CHECK(strstr(tw.log, "checking whether the change was made") != NULL);
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE job_title = 'Slow'", NULL), 1);
	employee_free(&got);
	employee_free(&cur);

	/* 3. the same for a create: one row, reported created */
	struct employee in, out;
	employee_fill(&in, "Slow Create", "Lab", "Slow", NULL);
	uuid_v4(in.id);
	snprintf(slow_id, sizeof slow_id, "%s", in.id);
	arm(b, cut_after_commit);
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	CHECK(strstr(tw.log, "checking whether the change was made") != NULL);
	CHECK_STR(out.id, in.id);
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE id = $1", in.id), 1);
	employee_free(&out);
	CHECK(sql("DROP TRIGGER test_slow ON employees"));

	/* 4. a delete killed while someone else changes the row: a conflict
	 * carrying their version, and the row is still there */
	CHECK_INT(backend_get(b, zoe, &got, &e), ST_OK);
	CHECK(sql("BEGIN") && sql("SELECT 1 FROM employees WHERE id = '00000000-0000-4000-8000-000000000002' FOR UPDATE"));
	arm(b, change_terminate_commit);
	CHECK_INT(backend_remove(b, zoe, got.version, &cur, &e), ST_CONFLICT);
	CHECK(strstr(tw.log, "checking whether the change was made") != NULL);
	CHECK_STR(cur.location, "Changed Meanwhile");
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE id = $1", zoe), 1);
	employee_free(&cur);
	employee_free(&got);

	/* 5. the whole server crashes under a write that waits for a lock */
	CHECK_INT(backend_get(b, zoe, &got, &e), ST_OK);
	CHECK(sql("BEGIN") && sql("SELECT 1 FROM employees WHERE id = '00000000-0000-4000-8000-000000000002' FOR UPDATE"));
	arm(b, crash_and_start);
	CHECK_INT(backend_remove(b, zoe, got.version, &cur, &e), ST_OK);
	CHECK(strstr(tw.log, "checking whether the change was made") != NULL);
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE id = $1", zoe), 0);
	employee_free(&cur);
	employee_free(&got);
	employee_free(&in);
	backend_close(b);
}

static PGconn *locker;

static void lock_table(void)
{
	locker = raw_connect();
	/* If a failed CHECK skips unlock_table, the server ends the lock itself
	 * instead of leaving every later test blocked behind it. */
	sql_on(locker, "SET idle_in_transaction_session_timeout = '20s'");
	sql_on(locker, "BEGIN");
	sql_on(locker, "LOCK TABLE employees IN ACCESS EXCLUSIVE MODE");
}

static void unlock_table(void)
{
	sql_on(locker, "ROLLBACK");
	PQfinish(locker);
	locker = NULL;
}

TEST(slow_statements_tick_cancel_and_time_out)
{
	CHECK(seed_pg(3));
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_pg(false, &b, &e), ST_OK);
	/* a read stuck behind a lock: the waiter ticks, Esc cancels at once */
	lock_table();
	tw_reset();
	tw.cancel_after_ms = 350;
	struct page p;
	struct page_query q = {.sort = SORT_FULLNAME, .limit = 5};
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_CANCELLED);
	long took = ms_since(tw.start);
	CHECK(took < 1000);
	CHECK(tw.ticks >= 3);
	CHECK_STR(tw.what, "waiting for the database");
	unlock_table();
	tw_reset();
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK); /* the cancelled one was drained */
	CHECK_INT(p.n, 5);
	page_free(&p);
	/* a write cancelled while it waits: the server confirms, nothing changed */
	const char *ada = "00000000-0000-4000-8000-000000000001";
	struct employee got, cur;
	CHECK_INT(backend_get(b, ada, &got, &e), ST_OK);
	lock_table();
	tw_reset();
	tw.cancel_after_ms = 300;
	employee_set(&got, EF_LOCATION, "Cancelled");
	enum status wst = backend_replace(b, &got, &cur, &e);
	if (wst != ST_CANCELLED)
		fprintf(stderr, "  cancelled write: %s (after %ld ms, %d ticks)\n", e.msg, ms_since(tw.start), tw.ticks);
	CHECK_INT(wst, ST_CANCELLED);
	CHECK(strstr(e.msg, "nothing was changed") != NULL);
	unlock_table();
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE location = 'Cancelled'", NULL), 0);
	employee_free(&cur);
	backend_close(b);
	/* statement_timeout from the config */
	struct config cfg;
	CHECK_INT(open_with(conninfo, "statement_timeout = 1\n", false, &b, &cfg, &e), ST_OK);
	lock_table();
	CHECK_INT(backend_replace(b, &got, &cur, &e), ST_UNAVAILABLE);
	CHECK(strstr(e.msg, "statement_timeout (1 s)") != NULL);
	CHECK(strstr(e.msg, "nothing was changed") != NULL);
	unlock_table();
	employee_free(&cur);
	employee_free(&got);
	backend_close(b);
	config_free(&cfg);
}

/* ---- a slow or broken network (tests/lib/faultproxy.py in between) ---- */

static char control[300];

static void proxy_mode(const char *mode)
{
	char tmp[320];
	snprintf(tmp, sizeof tmp, "%s.tmp", control);
	FILE *f = fopen(tmp, "w");
	if (f) {
		fprintf(f, "%s\n", mode);
		fclose(f);
		rename(tmp, control); /* a new inode: the proxy sees the change */
	}
}

static pid_t proxy_start(int *port)
{
	char target[64], py[512];
	const char *p = strstr(conninfo, "port=");
	snprintf(target, sizeof target, "127.0.0.1:%d", p ? atoi(p + 5) : 0);
	snprintf(py, sizeof py, "%.*sfaultproxy.py", (int)(strrchr(pgtmp_py, '/') - pgtmp_py + 1), pgtmp_py);
	snprintf(control, sizeof control, "%s/proxy.mode", snapdir);
	proxy_mode("pass");
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/usr/bin/python3", "python3", py, "--target", target, "--control", control, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	char line[64] = "";
	FILE *f = fdopen(fds[0], "r");
	if (!f || !fgets(line, sizeof line, f) || strncmp(line, "port=", 5) != 0) {
		if (f)
			fclose(f);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	fclose(f);
	*port = atoi(line + 5);
	return pid;
}

TEST(a_slow_or_broken_network_looks_like_waiting_and_recovers)
{
	CHECK(seed_pg(3));
	int port;
	pid_t proxy = proxy_start(&port);
	CHECK(proxy > 0);
	char target[128];
	snprintf(target, sizeof target, "host=127.0.0.1 port=%d dbname=empdir user=postgres", port);
	struct conn_config cc = {.name = "test", .backend = "pg", .target = target};
	struct backend *b;
	struct err e = {0};
	enum status st = backend_open(&cc, &b, &e);
	if (st != ST_OK) {
		kill(proxy, SIGTERM);
		waitpid(proxy, NULL, 0);
	}
	CHECK_INT(st, ST_OK);
	backend_set_waiter(b, &test_waiter);
	const char *ada = "00000000-0000-4000-8000-000000000001";
	struct employee got, cur;
	/* a database that takes 1.5 s to answer (resuming): ticks, then the answer */
	proxy_mode("delay 1500 times=1");
	tw_reset();
	CHECK_INT(backend_get(b, ada, &got, &e), ST_OK);
	CHECK(ms_since(tw.start) >= 1400);
	CHECK(tw.ticks >= 10);
	CHECK_STR(tw.what, "waiting for the database");
	/* the connection dropped under a read: reconnected, read again */
	proxy_mode("drop times=1");
	employee_free(&got);
	tw_reset();
	CHECK_INT(backend_get(b, ada, &got, &e), ST_OK);
	CHECK(strstr(tw.log, "connection lost; reconnecting") != NULL);
	/* ... and under a write: checked (not done), then done once */
	proxy_mode("drop times=1");
	tw_reset();
	employee_set(&got, EF_LOCATION, "Over The Proxy");
	CHECK_INT(backend_replace(b, &got, &cur, &e), ST_OK);
	CHECK(strstr(tw.log, "checking whether the change was made") != NULL);
	CHECK_INT(sql_long("SELECT count(*) FROM employees WHERE location = 'Over The Proxy'", NULL), 1);
	employee_free(&cur);
	/* a database that never answers: Esc still works at once */
	proxy_mode("hang times=1");
	tw_reset();
	tw.cancel_after_ms = 400;
	struct page p;
	struct page_query q = {.sort = SORT_FULLNAME, .limit = 5};
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_CANCELLED);
	CHECK(ms_since(tw.start) < 1000);
	tw_reset();
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK); /* gives up on the hung one, reconnects */
	CHECK_INT(p.n, 5);
	page_free(&p);
	employee_free(&got);
	backend_close(b);
	kill(proxy, SIGTERM);
	waitpid(proxy, NULL, 0);
}

/* ---- bad connections ---- */

/* A TCP server on addr that answers the first bytes with `reply`, once. */
static pid_t fake_server(const char *addr, const char *reply, int *port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, addr, &sa.sin_addr);
	socklen_t len = sizeof sa;
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(s, 4) != 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	*port = ntohs(sa.sin_port);
	pid_t pid = fork();
	if (pid == 0) {
		int c = accept(s, NULL, NULL);
		char buf[64];
		if (c >= 0 && read(c, buf, sizeof buf) > 0 && write(c, reply, strlen(reply)) > 0)
			usleep(100000);
		_exit(0);
	}
	close(s);
	return pid;
}

static const char *given_password;
static int asked;

static bool ask_password(const char *prompt, char *out, size_t outsz)
{
	(void)prompt;
	asked++;
	snprintf(out, outsz, "%s", given_password);
	return true;
}

static enum status try_open(const char *target, struct err *e)
{
	struct conn_config cc = {.name = "command line", .backend = "pg", .target = target,
				 .ask_secret = ask_password};
	struct backend *b = NULL;
	enum status st = backend_open(&cc, &b, e);
	backend_close(b);
	return st;
}

TEST(bad_connections_get_one_clear_message)
{
	struct err e = {0};
	char target[400];
	CHECK(seed_pg(1));
	sql("DROP ROLE IF EXISTS tester");
	CHECK(sql("CREATE ROLE tester LOGIN PASSWORD 'right horse'"));
	CHECK(sql("GRANT SELECT, INSERT, UPDATE, DELETE ON employees TO tester"));
	/* a password is asked for when needed, and a wrong one said so */
	snprintf(target, sizeof target, "%s user=tester", conninfo);
	given_password = "wrong";
	asked = 0;
	CHECK_INT(try_open(target, &e), ST_AUTH);
	CHECK(strstr(e.msg, "authentication failed for user tester") != NULL);
	CHECK_INT(asked, 1);
	given_password = "right horse";
	CHECK_INT(try_open(target, &e), ST_OK);
	CHECK_INT(asked, 2);
	/* never from the command line */
	snprintf(target, sizeof target, "%s user=tester password=x", conninfo);
	CHECK_INT(try_open(target, &e), ST_INVALID);
	CHECK(strstr(e.msg, "password on the command line") != NULL);
	/* unknown database, missing table, wrong column types */
	snprintf(target, sizeof target, "%s dbname=nosuchdb", conninfo);
	CHECK(try_open(target, &e) != ST_OK);
	CHECK(strstr(e.msg, "does not exist") != NULL);
	sql("DROP DATABASE IF EXISTS other");
	CHECK(sql("CREATE DATABASE other"));
	snprintf(target, sizeof target, "%s dbname=other", conninfo);
	CHECK_INT(try_open(target, &e), ST_UNAVAILABLE);
	CHECK(strstr(e.msg, "no employees table") != NULL && strstr(e.msg, "db setup") != NULL);
	{
		char ci[300];
		snprintf(ci, sizeof ci, "%s dbname=other", conninfo);
		PGconn *o = PQconnectdb(ci);
		CHECK(sql_on(o, "CREATE TABLE employees(id integer PRIMARY KEY, fullname text, location text, "
				"job_title text, badges text)"));
		PQfinish(o);
	}
	CHECK_INT(try_open(target, &e), ST_UNAVAILABLE);
	CHECK(strstr(e.msg, "employees.id is integer, not text") != NULL);
	/* not a PostgreSQL server */
	int port;
	pid_t pid = fake_server("127.0.0.1", "HTTP/1.1 400 Bad Request\r\n\r\n", &port);
	CHECK(pid > 0);
	snprintf(target, sizeof target, "host=127.0.0.1 port=%d dbname=x user=x", port);
	CHECK_INT(try_open(target, &e), ST_UNAVAILABLE);
	waitpid(pid, NULL, 0);
	CHECK(strstr(e.msg, "did not answer as a PostgreSQL server would") != NULL);
	/* a host that is not local gets verify-full: a server without TLS is refused */
	pid = fake_server("127.0.0.2", "N", &port);
	CHECK(pid > 0);
	snprintf(target, sizeof target, "postgresql://x@127.0.0.2:%d/x", port);
	CHECK_INT(try_open(target, &e), ST_UNAVAILABLE);
	waitpid(pid, NULL, 0);
	CHECK(strstr(e.msg, "TLS failed") != NULL && strstr(e.msg, "sslrootcert") != NULL);
	/* nobody answers: reported within connect_timeout */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(try_open("host=10.255.255.1 port=5432 dbname=x user=x sslmode=disable connect_timeout=1", &e),
		  ST_UNAVAILABLE);
	CHECK(ms_since(t0) < 2500);
	sql("DROP DATABASE IF EXISTS other");
}

int main(void)
{
	harness_init();
	const char *env = getenv("EMPDIR_PGTMP");
	snprintf(pgtmp_py, sizeof pgtmp_py, "%s", env ? env : "tests/lib/pgtmp.py");
	if (access(pgtmp_py, R_OK) != 0) {
		fprintf(stderr, "FAIL: %s not found; run from the source tree (tests/run does)\n", pgtmp_py);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(pgdir, sizeof pgdir, "%s/empdir-pg-XXXXXX", tmp);
	snprintf(snapdir, sizeof snapdir, "%s/empdir-pgsnap-XXXXXX", tmp);
	if (!mkdtemp(pgdir) || !mkdtemp(snapdir)) {
		perror("mkdtemp");
		return 2;
	}
	start_guardian();
	if (!server_start()) {
		printf("FAIL postgresql_starts\n0 passed, 1 failed\n");
		return 1;
	}
	RUN(crud_roundtrip);
	RUN(create_with_a_given_id_duplicates_and_replays);
	RUN(conflicts_between_two_clients_lose_nothing);
	RUN(paging_every_order_matches_the_offline_snapshot);
	RUN(search_is_the_same_with_and_without_the_trigram_index);
	RUN(versions_equal_the_offline_backend_and_the_sql_expression);
	RUN(read_only_is_refused_by_the_backend_and_the_server);
	RUN(sql_injection_corpus_is_stored_and_found_literally);
	RUN(a_restarted_server_is_reconnected_to);
	RUN(killed_connections_during_writes_report_what_happened);
	RUN(slow_statements_tick_cancel_and_time_out);
	RUN(a_slow_or_broken_network_looks_like_waiting_and_recovers);
	RUN(bad_connections_get_one_clear_message);
	if (admin_conn)
		PQfinish(admin_conn);
	return harness_done();
}
