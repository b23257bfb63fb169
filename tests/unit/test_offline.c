/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The offline backend against real SQLite files: CRUD, paging in every sort
 * order, search (indexed and scanning), conflicts, legacy tables, read-only
 * and bad input. Each test builds its own snapshot in a temporary directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../../api_client/backend.h"
#include "../../core/config.h"
#include "harness.h"

static char tmpdir[256];

static void sh_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "setup failed: %s\n", sqlite3_errmsg(db));
		exit(2);
	}
	sqlite3_close(db);
}

static long sh_count(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long n = -1;
	sqlite3_open(path, &db);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static const char seed_schema[] =
	"CREATE TABLE employees(id varchar(36) primary key, fullname varchar(100) not null,"
	" location varchar(100) not null, job_title varchar(100) not null, badges text);";

static void make_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
	unlink(out);
}

/* A snapshot with `rows` generated employees plus a few known ones. */
static void make_seed(const char *path, int rows)
{
	struct buf sql = BUF_INIT;
	buf_puts(&sql, seed_schema);
	buf_puts(&sql, "BEGIN;"
		       "INSERT INTO employees VALUES('00000000-0000-4000-8000-000000000001','Ada Lovelace','London','Mathematician','[\"Mac User\"]');"
		       "INSERT INTO employees VALUES('00000000-0000-4000-8000-000000000002','Zoë Ångström','Zürich','Physicist','[\"Runner\", \"Coffee Snob\"]');"
		       "INSERT INTO employees VALUES('00000000-0000-4000-8000-000000000003','山田太郎','東京','Engineer',NULL);");
	for (int i = 0; i < rows; i++)
		buf_printf(&sql,
			   "INSERT INTO employees VALUES('10000000-0000-4000-8000-%012d','Person %05d','City %d','Title %d','[\"Badge %d\"]');",
			   i, (i * 7919) % rows, i % 13, i % 7, i % 5);
	buf_puts(&sql, "COMMIT;");
	sh_exec(path, sql.data);
	buf_free(&sql);
}

static enum status open_snapshot(const char *path, bool ro, struct backend **b, struct err *e)
{
	struct conn_config cc = {.name = "test", .backend = "offline", .target = path, .read_only = ro};
	return backend_open(&cc, b, e);
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

TEST(crud_roundtrip)
{
	char path[300];
	make_path(path, sizeof path, "crud.db");
	make_seed(path, 10);
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_snapshot(path, false, &b, &e), ST_OK);
	CHECK(backend_caps(b) & CAP_WRITE);
	CHECK(backend_caps(b) & CAP_FAST_SEARCH);

	struct employee in, out, cur;
	employee_fill(&in, "  Grace Hopper ", "Arlington", "Rear Admiral", "Navy");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	CHECK_STR(out.fullname, "Grace Hopper"); /* trimmed */
	CHECK_INT(strlen(out.id), 36);
	CHECK_INT(strlen(out.version), 32);

	struct employee got;
	CHECK_INT(backend_get(b, out.id, &got, &e), ST_OK);
	CHECK_STR(got.location, "Arlington");
	CHECK_INT(got.badges.n, 1);
	CHECK_STR(got.badges.v[0], "Navy");
	CHECK_STR(got.version, out.version);

	employee_set(&got, EF_JOB_TITLE, "Computer Scientist");
	CHECK_INT(backend_replace(b, &got, &cur, &e), ST_OK);
	CHECK_STR(cur.job_title, "Computer Scientist");
	CHECK(strcmp(cur.version, got.version) != 0);
	CHECK_INT(sh_count(path, "SELECT count(*) FROM employees WHERE job_title='Computer Scientist'"), 1);
	/* the badges column keeps the seed's JSON form */
	CHECK_INT(sh_count(path, "SELECT count(*) FROM employees WHERE badges='[\"Navy\"]'"), 1);

	struct employee cur2;
	CHECK_INT(backend_remove(b, cur.id, cur.version, &cur2, &e), ST_OK);
	struct employee gone;
	CHECK_INT(backend_get(b, cur.id, &gone, &e), ST_NOT_FOUND);
	employee_free(&in); employee_free(&out); employee_free(&got); employee_free(&cur);
	employee_free(&cur2); employee_free(&gone);
	backend_close(b);
}

TEST(conflicts_are_reported_with_current_record)
{
	char path[300];
	make_path(path, sizeof path, "conflict.db");
	make_seed(path, 5);
	struct backend *a, *b;
	struct err e = {0};
	CHECK_INT(open_snapshot(path, false, &a, &e), ST_OK);
	CHECK_INT(open_snapshot(path, false, &b, &e), ST_OK);
	const char *id = "00000000-0000-4000-8000-000000000001";
	struct employee ea, eb, cur;
	CHECK_INT(backend_get(a, id, &ea, &e), ST_OK);
	CHECK_INT(backend_get(b, id, &eb, &e), ST_OK);
	employee_set(&ea, EF_LOCATION, "Paris");
	CHECK_INT(backend_replace(a, &ea, &cur, &e), ST_OK);
	employee_free(&cur);
	employee_set(&eb, EF_LOCATION, "Berlin");
	CHECK_INT(backend_replace(b, &eb, &cur, &e), ST_CONFLICT);
	CHECK_STR(cur.location, "Paris"); /* the current record comes back */
	CHECK(strstr(e.msg, "changed") != NULL);
	employee_free(&cur);
	/* a stale delete is refused too, and the row stays */
	CHECK_INT(backend_remove(b, id, eb.version, &cur, &e), ST_CONFLICT);
	employee_free(&cur);
	CHECK_INT(sh_count(path, "SELECT count(*) FROM employees WHERE location='Paris'"), 1);
	/* deleted elsewhere: not found, not a silent success */
	struct employee now;
	CHECK_INT(backend_get(a, id, &now, &e), ST_OK);
	CHECK_INT(backend_remove(a, id, now.version, &cur, &e), ST_OK);
	employee_free(&cur);
	CHECK_INT(backend_replace(b, &eb, &cur, &e), ST_NOT_FOUND);
	employee_free(&cur);
	employee_free(&ea); employee_free(&eb); employee_free(&now);
	backend_close(a);
	backend_close(b);
}

/* Walk every page of a query and check the order is total and strict. */
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
			fprintf(stderr, "list failed: %s\n", e.msg);
			free(cursor);
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

TEST(paging_every_sort_order_visits_each_row_once)
{
	char path[300];
	make_path(path, sizeof path, "paging.db");
	make_seed(path, 500);
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_snapshot(path, false, &b, &e), ST_OK);
	for (int k = 0; k < SORT_COUNT; k++) {
		for (int d = 0; d < 2; d++) {
			char **ids = NULL, **ids2 = NULL;
			int n = walk_all(b, (enum sort_key)k, d, NULL, 37, &ids);
			int n2 = walk_all(b, (enum sort_key)k, d, NULL, 500, &ids2);
			bool same = n == n2;
			for (int i = 0; same && i < n; i++)
				same = strcmp(ids[i], ids2[i]) == 0;
			int dups = 0;
			for (int i = 0; i < n; i++)
				for (int j = i + 1; j < n; j++)
					dups += strcmp(ids[i], ids[j]) == 0;
			free_ids(ids, n);
			free_ids(ids2, n2);
			CHECK_INT(n, 503);
			CHECK(same);
			CHECK_INT(dups, 0);
		}
	}
	/* first row by name ascending, and descending */
	struct page p;
	struct page_query q = {.sort = SORT_FULLNAME, .limit = 1};
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK_STR(p.rows[0].fullname, "Ada Lovelace");
	page_free(&p);
	q.desc = true;
	CHECK_INT(backend_list_page(b, &q, &p, &e), ST_OK);
	CHECK_STR(p.rows[0].fullname, "山田太郎");
	page_free(&p);
	long n;
	CHECK_INT(backend_count(b, NULL, &n, &e), ST_OK);
	CHECK_INT(n, 503);
	backend_close(b);
}

TEST(search_is_case_insensitive_substring_over_all_fields)
{
	char path[300];
	make_path(path, sizeof path, "search.db");
	make_seed(path, 300);
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_snapshot(path, false, &b, &e), ST_OK);
	struct {
		const char *filter;
		long want;
	} cases[] = {
		{"lovelace", 1}, {"LOVE", 1}, {"ove", 1},    /* name, any case, substring */
		{"ångström", 1}, {"ÅNGSTRÖM", 1},            /* Unicode case folding */
		{"zürich", 1}, {"mathematic", 1},            /* location, title */
		{"coffee", 1}, {"mac user", 1},              /* badges */
		{"太郎", 1}, {"東", 1},                      /* short CJK: scan path */
		{"person 0001", 10}, {"badge 3", 60},
		{"\", \"", 0},  /* JSON punctuation is not badge text */
		{"nobody-here", 0}, {"'; DROP TABLE employees; --", 0},
		{"%", 0}, {"_", 0}, {"a\"b", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long n = -2;
		CHECK_INT(backend_count(b, cases[i].filter, &n, &e), ST_OK);
		if (n != cases[i].want)
			fprintf(stderr, "  filter \"%s\": %ld rows, want %ld\n", cases[i].filter, n, cases[i].want);
		CHECK_INT(n, cases[i].want);
		char **ids;
		int m = walk_all(b, SORT_LOCATION, false, cases[i].filter, 7, &ids);
		free_ids(ids, m);
		CHECK_INT(m, cases[i].want);
	}
	/* the index follows writes */
	struct employee in, out, cur;
	employee_fill(&in, "Katherine Johnson", "Hampton", "Mathematician", "Orbit");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	long n;
	CHECK_INT(backend_count(b, "katherine", &n, &e), ST_OK);
	CHECK_INT(n, 1);
	employee_set(&out, EF_FULLNAME, "Kay Johnson");
	CHECK_INT(backend_replace(b, &out, &cur, &e), ST_OK);
	CHECK_INT(backend_count(b, "katherine", &n, &e), ST_OK);
	CHECK_INT(n, 0);
	CHECK_INT(backend_count(b, "kay john", &n, &e), ST_OK);
	CHECK_INT(n, 1);
	struct employee cur2;
	CHECK_INT(backend_remove(b, cur.id, cur.version, &cur2, &e), ST_OK);
	CHECK_INT(backend_count(b, "kay john", &n, &e), ST_OK);
	CHECK_INT(n, 0);
	CHECK_INT(sh_count(path, "SELECT count(*) FROM empdir_fts WHERE empdir_fts MATCH 'Kay'"), 0);
	employee_free(&in); employee_free(&out); employee_free(&cur); employee_free(&cur2);
	backend_close(b);
	/* writes by another program keep the index right (plain-SQL triggers) */
	sh_exec(path, "INSERT INTO employees VALUES('x1','Outside Writer','Mars','Pilot',NULL)");
	CHECK_INT(open_snapshot(path, false, &b, &e), ST_OK);
	CHECK_INT(backend_count(b, "outside", &n, &e), ST_OK);
	CHECK_INT(n, 1);
	/* the row count kept by triggers follows other programs' writes too */
	sh_exec(path, "INSERT INTO employees VALUES('x2','Outside Two','Mars','Pilot',NULL);"
		      "DELETE FROM employees WHERE id = 'x1'");
	CHECK_INT(backend_count(b, NULL, &n, &e), ST_OK);
	CHECK_INT(n, sh_count(path, "SELECT count(*) FROM employees"));
	CHECK_INT(n, 304);
	backend_close(b);
}

TEST(legacy_table_with_integer_ids_and_comma_badges)
{
	char path[300];
	make_path(path, sizeof path, "legacy.db");
	sh_exec(path, "CREATE TABLE employees(id INTEGER PRIMARY KEY, fullname TEXT NOT NULL, location TEXT NOT NULL,"
		      " job_title TEXT NOT NULL, badges TEXT);"
		      "INSERT INTO employees VALUES(1,'Old Timer','Seattle','Clerk','Mac User,Runner');"
		      "INSERT INTO employees VALUES(2,'Older Timer','Portland','Clerk',NULL);");
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_snapshot(path, false, &b, &e), ST_OK);
	struct employee got, out, cur;
	CHECK_INT(backend_get(b, "1", &got, &e), ST_OK);
	CHECK_INT(got.badges.n, 2);
	CHECK_STR(got.badges.v[1], "Runner");
	struct employee in;
	employee_fill(&in, "New Hire", "Boise", "Clerk", "Dog Person");
	CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
	CHECK_STR(out.id, "3"); /* SQLite assigns the integer id */
	CHECK_INT(sh_count(path, "SELECT count(*) FROM employees WHERE id=3 AND badges='Dog Person'"), 1);
	strvec_push(&got.badges, "Photographer");
	CHECK_INT(backend_replace(b, &got, &cur, &e), ST_OK);
	CHECK_INT(cur.badges.n, 3);
	long n;
	CHECK_INT(backend_count(b, "photographer", &n, &e), ST_OK);
	CHECK_INT(n, 1);
	employee_free(&got); employee_free(&out); employee_free(&cur); employee_free(&in);
	backend_close(b);
}

TEST(read_only_is_refused_by_the_backend)
{
	char path[300];
	make_path(path, sizeof path, "ro.db");
	make_seed(path, 3);
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_snapshot(path, true, &b, &e), ST_OK);
	CHECK(!(backend_caps(b) & CAP_WRITE));
	struct employee in, out, cur;
	employee_fill(&in, "Nope", "Nowhere", "None", NULL);
	/* call the ops directly too: the backend refuses, not only the wrapper */
	CHECK_INT(b->ops->create(b, &in, &out, &e), ST_READ_ONLY);
	CHECK_INT(backend_create(b, &in, &out, &e), ST_READ_ONLY);
	employee_free(&out);
	CHECK_INT(backend_remove(b, "00000000-0000-4000-8000-000000000001", "x", &cur, &e), ST_READ_ONLY);
	employee_free(&cur);
	employee_free(&in);
	backend_close(b);
	CHECK_INT(sh_count(path, "SELECT count(*) FROM employees"), 6);
	/* a file without write permission opens read-only by itself */
	if (geteuid() != 0) {
		chmod(path, 0444);
		CHECK_INT(open_snapshot(path, false, &b, &e), ST_OK);
		CHECK(b->read_only);
		backend_close(b);
	}
}

TEST(bad_files_are_refused_with_a_clear_message_and_left_alone)
{
	char path[300];
	struct backend *b = NULL;
	struct err e = {0};
	make_path(path, sizeof path, "missing.db");
	CHECK_INT(open_snapshot(path, false, &b, &e), ST_UNAVAILABLE);
	CHECK(strstr(e.msg, "no such file") != NULL);
	CHECK(access(path, F_OK) != 0); /* not created */

	make_path(path, sizeof path, "text.db");
	FILE *f = fopen(path, "w");
	fputs("id,fullname\n1,Ada\n", f);
	fclose(f);
	CHECK_INT(open_snapshot(path, false, &b, &e), ST_UNAVAILABLE);
	CHECK(strstr(e.msg, "not a SQLite database") != NULL);

	make_path(path, sizeof path, "other.db");
	sh_exec(path, "CREATE TABLE people(name TEXT)");
	CHECK_INT(open_snapshot(path, false, &b, &e), ST_UNAVAILABLE);
	CHECK(strstr(e.msg, "no employees table") != NULL);
	CHECK_INT(sh_count(path, "SELECT count(*) FROM sqlite_master"), 1); /* nothing added */

	make_path(path, sizeof path, "corrupt.db");
	make_seed(path, 2000);
	f = fopen(path, "r+b");
	fseek(f, 4096, SEEK_SET);
	for (int i = 0; i < 8192; i++)
		fputc(0xA5, f);
	fclose(f);
	enum status st = open_snapshot(path, false, &b, &e);
	if (st == ST_OK)
		backend_close(b);
	CHECK(st != ST_OK);
	CHECK(strstr(e.msg, "corrupt") != NULL || strstr(e.msg, "malformed") != NULL);
}

TEST(hostile_text_is_stored_literally)
{
	char path[300];
	make_path(path, sizeof path, "hostile.db");
	make_seed(path, 1);
	struct backend *b;
	struct err e = {0};
	CHECK_INT(open_snapshot(path, false, &b, &e), ST_OK);
	const char *corpus[] = {"Robert'); DROP TABLE employees;--", "\" OR 1=1 --", "%_%",
				"x' UNION SELECT * FROM sqlite_master --", "NEAR(a b)", "\"quoted\" AND OR"};
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		struct employee in, out;
		employee_fill(&in, corpus[i], corpus[i], corpus[i], corpus[i]);
		CHECK_INT(backend_create(b, &in, &out, &e), ST_OK);
		CHECK_STR(out.fullname, corpus[i]);
		CHECK_STR(out.badges.v[0], corpus[i]);
		long n;
		CHECK_INT(backend_count(b, corpus[i], &n, &e), ST_OK);
		CHECK(n >= 1);
		employee_free(&in);
		employee_free(&out);
	}
	CHECK_INT(sh_count(path, "SELECT count(*) FROM employees"), 4 + 6);
	backend_close(b);
}

int main(void)
{
	harness_init();
	snprintf(tmpdir, sizeof tmpdir, "%s/empdir-offline-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(crud_roundtrip);
	RUN(conflicts_are_reported_with_current_record);
	RUN(paging_every_sort_order_visits_each_row_once);
	RUN(search_is_case_insensitive_substring_over_all_fields);
	RUN(legacy_table_with_integer_ids_and_comma_badges);
	RUN(read_only_is_refused_by_the_backend);
	RUN(bad_files_are_refused_with_a_clear_message_and_left_alone);
	RUN(hostile_text_is_stored_literally);
	if (harness_rmtree(tmpdir) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return harness_done();
}
