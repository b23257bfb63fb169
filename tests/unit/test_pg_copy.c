/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The COPY text format codec (api_client/pg_copy.h): what pg_copy_put
 * writes, pg_copy_split reads back, byte for byte, for every character a
 * directory row can hold (and some it should not: the pg table accepts
 * them, and a pull must copy what is there). The protocol itself is tested
 * end to end against a real server (tests/e2e/test_import_pull_pg.py). */
#include <stdlib.h>
#include <string.h>

#include "../../api_client/pg_copy.h"
#include "harness.h"

/* Encode fields as one row, split it again, compare. */
static int roundtrip(const char *const *in, size_t n)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		pg_copy_put(&b, in[i], i + 1 == n);
	if (b.len == 0 || b.data[b.len - 1] != '\n')
		return 0;
	b.data[--b.len] = '\0'; /* as PQgetCopyData's caller strips it */
	char *fields[8];
	size_t got = pg_copy_split(b.data, b.len, fields, 8);
	int ok = got == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = in[i] ? fields[i] && strcmp(in[i], fields[i]) == 0 : fields[i] == NULL;
	buf_free(&b);
	return ok;
}

TEST(plain_fields_and_null)
{
	const char *row[] = {"00000000-0000-4000-8000-000000000001", "Ada Lovelace", "London", "Mathematician",
			     NULL};
	CHECK(roundtrip(row, 5));
}

TEST(escapes_round_trip)
{
	const char *row[] = {"a\\b", "tab\there", "new\nline", "cr\rx", "\\N", "\\", "", "[\"q\\\"\"]"};
	CHECK(roundtrip(row, 8));
}

TEST(unicode_and_controls_round_trip)
{
	const char *row[] = {"Zoë Ångström", "山田太郎", "\x1b[2J\x07\x08", "\u202eevil\u202c"};
	CHECK(roundtrip(row, 4));
}

TEST(server_escapes_are_decoded)
{
	/* What a server may send: octal, hex and the single-letter escapes. */
	char line[] = "\\101\\x42C\\b\\f\\v\tx\\N\t\\N";
	char *f[4];
	CHECK_INT(pg_copy_split(line, strlen(line), f, 4), 3);
	CHECK_STR(f[0], "ABC\b\f\v");
	CHECK_STR(f[1], "xN");
	CHECK(f[2] == NULL);
}

TEST(too_many_fields_is_said)
{
	char line[] = "a\tb\tc";
	char *f[2];
	CHECK_INT(pg_copy_split(line, strlen(line), f, 2), 3);
}

TEST(empty_line_is_one_empty_field)
{
	char line[] = "";
	char *f[2];
	CHECK_INT(pg_copy_split(line, 0, f, 2), 1);
	CHECK_STR(f[0], "");
}

int main(void)
{
	harness_init();
	RUN(plain_fields_and_null);
	RUN(escapes_round_trip);
	RUN(unicode_and_controls_round_trip);
	RUN(server_escapes_are_decoded);
	RUN(too_many_fields_is_said);
	RUN(empty_line_is_one_empty_field);
	return harness_done();
}
