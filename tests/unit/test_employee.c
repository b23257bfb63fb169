/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests for core/employee: validation, trimming, the badge codecs, ids and
 * the content version. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/employee.h"
#include "core/text.h"
#include "tests/unit/harness.h"

/* A record with valid content; badges from a NULL-terminated list. */
static void make(struct employee *e, const char *name, const char *loc, const char *title,
		 const char *const *badges)
{
	employee_init(e);
	employee_set(e, EF_FULLNAME, name);
	employee_set(e, EF_LOCATION, loc);
	employee_set(e, EF_JOB_TITLE, title);
	for (size_t i = 0; badges && badges[i]; i++)
		strvec_push(&e->badges, badges[i]);
}

/* s repeated n times, in a fresh string. */
static char *repeat(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		buf_puts(&b, s);
	return buf_steal(&b);
}

/* Normalise a record whose fullname is `name` (others valid); returns the
 * problem count and copies the fullname message and the trimmed name. */
static int check_name(const char *name, char *msg, size_t msgsz, char **trimmed)
{
	struct employee e;
	struct employee_problems p;
	make(&e, name, "London", "Engineer", NULL);
	bool ok = employee_normalize(&e, &p);
	snprintf(msg, msgsz, "%s", p.msg[EF_FULLNAME]);
	if (trimmed)
		*trimmed = xstrdup(e.fullname);
	employee_free(&e);
	return ok ? 0 : p.count;
}

/* ---- employee_normalize ---- */

TEST(normalize_valid_record)
{
	static const char *const badges[] = {" Mac User ", "Zo\xC3\xAB", "\xE5\xB1\xB1", NULL};
	struct employee e;
	struct employee_problems p;
	make(&e, "  Ada Lovelace\t", "\xC2\xA0London\xE3\x80\x80", "\nEngineer\r\n", badges);
	bool ok = employee_normalize(&e, &p);
	struct employee want;
	static const char *const want_badges[] = {"Mac User", "Zo\xC3\xAB", "\xE5\xB1\xB1", NULL};
	make(&want, "Ada Lovelace", "London", "Engineer", want_badges);
	bool same = employee_same_content(&e, &want);
	int count = p.count;
	int empty = !p.msg[0][0] && !p.msg[1][0] && !p.msg[2][0] && !p.msg[3][0];
	employee_free(&e);
	employee_free(&want);
	CHECK(ok);
	CHECK(same);
	CHECK_INT(count, 0);
	CHECK(empty);
}

TEST(normalize_trims_unicode_spaces)
{
	/* Every Python str.isspace() character, at both ends. */
	static const char *const spaces[] = {
		" ", "\t", "\n", "\v", "\f", "\r", "\x1c", "\x1d", "\x1e", "\x1f",
		"\xC2\x85", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81",
		"\xE2\x80\x82", "\xE2\x80\x83", "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86",
		"\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\xA8",
		"\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80",
	};
	for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) {
		char in[64], msg[128], *t = NULL;
		snprintf(in, sizeof in, "%s%sJo Li%s%s", spaces[i], spaces[i], spaces[i], spaces[i]);
		int problems = check_name(in, msg, sizeof msg, &t);
		int eq = strcmp(t, "Jo Li") == 0;
		if (!eq)
			fprintf(stderr, "    space #%zu: trimmed to \"%s\"\n", i, t);
		free(t);
		CHECK(eq);
		CHECK_INT(problems, 0);
	}
	/* Only white space: required. */
	char msg[128];
	int problems = check_name(" \xC2\xA0\xE3\x80\x80\t ", msg, sizeof msg, NULL);
	CHECK_INT(problems, 1);
	CHECK_STR(msg, "is required");
	problems = check_name("", msg, sizeof msg, NULL);
	CHECK_INT(problems, 1);
	CHECK_STR(msg, "is required");
}

TEST(trim_matches_python_strip)
{
	/* The full list of code points for which Python's str.isspace() holds. */
	static const uint32_t py_space[] = {
		0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
		0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
		0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
	};
	for (uint32_t cp = 1; cp <= 0x10FFFF; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		int space = 0;
		for (size_t i = 0; i < sizeof py_space / sizeof py_space[0]; i++)
			space |= py_space[i] == cp;
		char in[16];
		size_t l = utf8_encode(cp, in);
		in[l] = 'x';
		memcpy(in + l + 1, in, l);
		in[2 * l + 1] = '\0';
		char *t = text_trim_dup(in);
		int stripped = strcmp(t, "x") == 0;
		int kept = strcmp(t, in) == 0;
		free(t);
		if (space ? !stripped : !kept)
			fprintf(stderr, "    U+%04X: python strips it: %d\n", (unsigned)cp, space);
		CHECK(space ? stripped : kept);
	}
	/* Inner white space stays; invalid bytes are kept for validation. */
	char *t = text_trim_dup("  a \xE3\x80\x80 b  ");
	int eq = strcmp(t, "a \xE3\x80\x80 b") == 0;
	free(t);
	CHECK(eq);
	t = text_trim_dup(" \xff ");
	eq = strcmp(t, "\xff") == 0;
	free(t);
	CHECK(eq);
	t = text_trim_dup("");
	eq = strcmp(t, "") == 0;
	free(t);
	CHECK(eq);
}

TEST(normalize_counts_code_points)
{
	static const char *const units[] = {"a", "\xC3\xA9", "\xE5\xB1\xB1", "\xF0\x9F\x99\x82"};
	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
		char msg[128];
		char *s100 = repeat(units[u], 100);
		int p100 = check_name(s100, msg, sizeof msg, NULL);
		free(s100);
		CHECK_INT(p100, 0);
		CHECK_STR(msg, "");
		char *s101 = repeat(units[u], 101);
		int p101 = check_name(s101, msg, sizeof msg, NULL);
		free(s101);
		CHECK_INT(p101, 1);
		CHECK_STR(msg, "is 101 characters long; at most 100 are allowed");
	}
	/* Trimming happens before counting. */
	char msg[128];
	char *s = repeat("a", 100);
	char *padded = xmalloc(strlen(s) + 8);
	snprintf(padded, strlen(s) + 8, "   %s   ", s);
	int p = check_name(padded, msg, sizeof msg, NULL);
	free(s);
	free(padded);
	CHECK_INT(p, 0);
	/* One character is enough. */
	p = check_name("X", msg, sizeof msg, NULL);
	CHECK_INT(p, 0);
}

/* Which field's message is set for a bad value in each field. */
TEST(normalize_control_chars_on_the_right_field)
{
	static const char *const bad[] = {
		"Ada\x01", "a\x1b[2Jb", "a\tb", "a\nb", "a\x7f" "b", "a\xC2\x85" "b",
		"a\xC2\x9B" "b", "a\xC2\x80", "a\xC2\x9F",
	};
	static const enum employee_field fields[] = {EF_FULLNAME, EF_LOCATION, EF_JOB_TITLE};
	for (size_t f = 0; f < 3; f++) {
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			struct employee e;
			struct employee_problems p;
			make(&e, "Ada", "London", "Engineer", NULL);
			employee_set(&e, fields[f], bad[i]);
			bool ok = employee_normalize(&e, &p);
			int right = strcmp(p.msg[fields[f]], "must not contain control characters") == 0;
			int others = 0;
			for (int g = 0; g < EF_COUNT; g++)
				if ((enum employee_field)g != fields[f] && p.msg[g][0])
					others++;
			int count = p.count;
			employee_free(&e);
			CHECK(!ok);
			CHECK_INT(count, 1);
			CHECK(right);
			CHECK_INT(others, 0);
		}
	}
	/* Invalid UTF-8 is its own message. */
	struct employee e;
	struct employee_problems p;
	make(&e, "Ada", "Lond\xff" "on", "Engineer", NULL);
	bool ok = employee_normalize(&e, &p);
	int right = strcmp(p.msg[EF_LOCATION], "is not valid UTF-8 text") == 0;
	employee_free(&e);
	CHECK(!ok);
	CHECK(right);
	/* Several bad fields: one message each. */
	make(&e, "", "x\x01", "Engineer", NULL);
	strvec_push(&e.badges, "");
	ok = employee_normalize(&e, &p);
	int count = p.count;
	int msgs = p.msg[EF_FULLNAME][0] && p.msg[EF_LOCATION][0] && !p.msg[EF_JOB_TITLE][0] &&
		   p.msg[EF_BADGES][0];
	employee_free(&e);
	CHECK(!ok);
	CHECK_INT(count, 3);
	CHECK(msgs);
	/* Not control characters: bidi marks and U+200B are text as far as the
	 * contract goes (the sanitiser deals with them on display). */
	make(&e, "a\xE2\x80\x8B" "b", "\xE2\x80\xAE" "x", "Engineer", NULL);
	ok = employee_normalize(&e, &p);
	employee_free(&e);
	CHECK(ok);
}

TEST(employee_check_text_rules)
{
	char msg[128];
	CHECK(employee_check_text("abc", 3, msg, sizeof msg));
	CHECK_STR(msg, "");
	CHECK(!employee_check_text("abcd", 3, msg, sizeof msg));
	CHECK_STR(msg, "is 4 characters long; at most 3 are allowed");
	CHECK(!employee_check_text("", 3, msg, sizeof msg));
	CHECK_STR(msg, "is required");
	CHECK(employee_check_text("\xE5\xB1\xB1\xE7\x94\xB0\xE5\xA4\xAA", 3, msg, sizeof msg));
	CHECK(!employee_check_text("\xED\xA0\x80", 3, msg, sizeof msg));
	CHECK_STR(msg, "is not valid UTF-8 text");
}

static int check_badges(const char *const *badges, char *msg, size_t msgsz, struct strvec *out)
{
	struct employee e;
	struct employee_problems p;
	make(&e, "Ada", "London", "Engineer", badges);
	bool ok = employee_normalize(&e, &p);
	snprintf(msg, msgsz, "%s", p.msg[EF_BADGES]);
	if (out)
		strvec_copy(out, &e.badges);
	int count = p.count;
	employee_free(&e);
	return ok ? 0 : count;
}

TEST(normalize_badges)
{
	char msg[128];
	/* None is fine. */
	CHECK_INT(check_badges(NULL, msg, sizeof msg, NULL), 0);

	/* 20 badges of 50 characters (multi-byte) are fine; order is kept. */
	char *names[22];
	for (int i = 0; i < 21; i++) {
		char *body = repeat("\xC3\xA9", 49);
		names[i] = xmalloc(strlen(body) + 4);
		snprintf(names[i], strlen(body) + 4, "%c%s", 'A' + i, body);
		free(body);
	}
	names[21] = NULL;
	char *saved = names[20];
	names[20] = NULL;
	struct strvec got = STRVEC_INIT;
	int p = check_badges((const char *const *)names, msg, sizeof msg, &got);
	int order = got.n == 20 && strcmp(got.v[0], names[0]) == 0 && strcmp(got.v[19], names[19]) == 0;
	strvec_free(&got);
	names[20] = saved;
	/* 21 badges are too many. */
	int p21 = check_badges((const char *const *)names, msg, sizeof msg, NULL);
	for (int i = 0; i < 21; i++)
		free(names[i]);
	CHECK_INT(p, 0);
	CHECK(order);
	CHECK_INT(p21, 1);
	CHECK_STR(msg, "21 badges; at most 20 are allowed");

	/* 51 characters are too many. */
	char *long_badge = repeat("\xE5\xB1\xB1", 51);
	const char *one[] = {"ok", long_badge, NULL};
	p = check_badges(one, msg, sizeof msg, NULL);
	free(long_badge);
	CHECK_INT(p, 1);
	CHECK_STR(msg, "badge 2 is 51 characters long; at most 50 are allowed");

	/* Empty (after trimming). */
	const char *empty[] = {"a", " \xC2\xA0 ", NULL};
	p = check_badges(empty, msg, sizeof msg, NULL);
	CHECK_INT(p, 1);
	CHECK_STR(msg, "badge 2 is required");

	/* Control characters. */
	const char *ctl[] = {"a\x1b[2J", NULL};
	p = check_badges(ctl, msg, sizeof msg, NULL);
	CHECK_INT(p, 1);
	CHECK_STR(msg, "badge 1 must not contain control characters");

	/* Duplicates, also once trimmed. */
	const char *dup[] = {"Mac User", "Coffee", " Mac User\t", NULL};
	p = check_badges(dup, msg, sizeof msg, NULL);
	CHECK_INT(p, 1);
	CHECK_STR(msg, "badge 3 repeats badge 1");

	/* Badges are trimmed in place, commas allowed inside. */
	const char *trim[] = {"  a, b  ", "c\\d", NULL};
	p = check_badges(trim, msg, sizeof msg, &got);
	int trimmed = got.n == 2 && strcmp(got.v[0], "a, b") == 0 && strcmp(got.v[1], "c\\d") == 0;
	strvec_free(&got);
	CHECK_INT(p, 0);
	CHECK(trimmed);
}

TEST(employee_copy_and_fields)
{
	static const char *const badges[] = {"x", "y", NULL};
	struct employee a, b;
	make(&a, "Ada", "London", "Engineer", badges);
	snprintf(a.id, sizeof a.id, "id-1");
	snprintf(a.version, sizeof a.version, "v1");
	employee_init(&b);
	employee_copy(&b, &a);
	int same = employee_same_content(&a, &b) && strcmp(b.id, "id-1") == 0 &&
		   strcmp(b.version, "v1") == 0;
	employee_set(&b, EF_JOB_TITLE, "CTO");
	int differs = !employee_same_content(&a, &b);
	int get = strcmp(employee_get(&b, EF_JOB_TITLE), "CTO") == 0 &&
		  strcmp(employee_get(&b, EF_BADGES), "") == 0;
	employee_free(&a);
	employee_free(&b);
	CHECK(same);
	CHECK(differs);
	CHECK(get);
	CHECK_STR(employee_field_key(EF_FULLNAME), "fullname");
	CHECK_STR(employee_field_key(EF_JOB_TITLE), "job_title");
	CHECK_STR(employee_field_key(EF_LOCATION), "location");
	CHECK_STR(employee_field_key(EF_BADGES), "badges");
	CHECK_STR(employee_field_label(EF_FULLNAME), "Name");
}

/* ---- badge codecs ---- */

/* Badges with everything JSON must escape, and what it must not. */
static const char *const special[] = {
	"Mac User", "Zo\xC3\xAB", "say \"hi\"", "back\\slash", "\x01\x1f", "\n\t\r\b\f",
	"\x7f", "\xE2\x80\xA8\xE2\x80\xA9", "\xF0\x9F\x99\x82", "/", NULL,
};

/* Decode text and compare with a NULL-terminated list. */
static int decodes_to(const char *text, enum badge_format want_fmt, const char *const *want)
{
	struct strvec got = STRVEC_INIT;
	strvec_push(&got, "left over from before");
	enum badge_format fmt = want_fmt == BADGES_JSON ? BADGES_COMMA : BADGES_JSON;
	badges_decode(text, &got, &fmt);
	size_t n = 0;
	while (want && want[n])
		n++;
	int ok = fmt == want_fmt && got.n == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = strcmp(got.v[i], want[i]) == 0;
	if (!ok) {
		fprintf(stderr, "    decode(%s): format %d, %zu badges:", text ? text : "NULL", (int)fmt,
			got.n);
		for (size_t i = 0; i < got.n; i++)
			fprintf(stderr, " [%s]", got.v[i]);
		fprintf(stderr, "\n");
	}
	strvec_free(&got);
	return ok;
}

TEST(badges_decode_json)
{
	CHECK(decodes_to(NULL, BADGES_JSON, NULL));
	CHECK(decodes_to("", BADGES_JSON, NULL));
	CHECK(decodes_to("[]", BADGES_JSON, NULL));
	CHECK(decodes_to(" [ ] ", BADGES_JSON, NULL));
	const char *two[] = {"Mac User", "Zo\xC3\xAB", NULL};
	CHECK(decodes_to("[\"Mac User\", \"Zo\xC3\xAB\"]", BADGES_JSON, two));
	CHECK(decodes_to("[\"Mac User\",\"Zo\\u00eb\"]", BADGES_JSON, two));
	CHECK(decodes_to("\n [\"Mac User\", \"Zo\xC3\xAB\"]\n", BADGES_JSON, two));
	const char *esc[] = {"a,b", "say \"hi\"", "c\\d", "\x01\n", "\xF0\x9F\x99\x82", NULL};
	CHECK(decodes_to("[\"a,b\", \"say \\\"hi\\\"\", \"c\\\\d\", \"\\u0001\\n\", \"\\ud83d\\ude42\"]",
			 BADGES_JSON, esc));
}

TEST(badges_decode_legacy_and_malformed)
{
	const char *two[] = {"Mac User", "Coffee Lover", NULL};
	CHECK(decodes_to("Mac User,Coffee Lover", BADGES_COMMA, two));
	CHECK(decodes_to(" Mac User , Coffee Lover ,", BADGES_COMMA, two));
	CHECK(decodes_to(",,Mac User,,Coffee Lover", BADGES_COMMA, two));
	const char *one[] = {"Solo", NULL};
	CHECK(decodes_to("Solo", BADGES_COMMA, one));
	CHECK(decodes_to(" , ", BADGES_COMMA, NULL));
	/* Not a JSON array of strings: read as the legacy list, nothing lost. */
	const char *unclosed[] = {"[\"a\"", "\"b\"", NULL};
	CHECK(decodes_to("[\"a\", \"b\"", BADGES_COMMA, unclosed));
	const char *numbers[] = {"[1", "2]", NULL};
	CHECK(decodes_to("[1, 2]", BADGES_COMMA, numbers));
	const char *nul[] = {"[null]", NULL};
	CHECK(decodes_to("[null]", BADGES_COMMA, nul));
	const char *nested[] = {"[[\"a\"]]", NULL};
	CHECK(decodes_to("[[\"a\"]]", BADGES_COMMA, nested));
	const char *obj[] = {"{\"a\": \"b\"}", NULL};
	CHECK(decodes_to("{\"a\": \"b\"}", BADGES_COMMA, obj));
	const char *str[] = {"\"just text\"", NULL};
	CHECK(decodes_to("\"just text\"", BADGES_COMMA, str));
	const char *trailing[] = {"[\"a\"] extra", NULL};
	CHECK(decodes_to("[\"a\"] extra", BADGES_COMMA, trailing));
	const char *two_arrays[] = {"[\"a\"][\"b\"]", NULL};
	CHECK(decodes_to("[\"a\"][\"b\"]", BADGES_COMMA, two_arrays));
	/* fmt may be NULL. */
	struct strvec got = STRVEC_INIT;
	badges_decode("a,b", &got, NULL);
	size_t n = got.n;
	strvec_free(&got);
	CHECK_INT(n, 2);
}

static void encode(const char *const *list, enum badge_format fmt, struct buf *out)
{
	struct strvec v = STRVEC_INIT;
	for (size_t i = 0; list && list[i]; i++)
		strvec_push(&v, list[i]);
	badges_encode(&v, fmt, out);
	strvec_free(&v);
}

TEST(badges_encode_like_python)
{
	struct buf b = BUF_INIT;
	const char *two[] = {"Mac User", "Zo\xC3\xAB", NULL};
	encode(two, BADGES_JSON, &b);
	int eq = strcmp(buf_str(&b), "[\"Mac User\", \"Zo\xC3\xAB\"]") == 0;
	buf_reset(&b);
	encode(NULL, BADGES_JSON, &b);
	int eq_empty = strcmp(buf_str(&b), "[]") == 0;
	buf_reset(&b);
	encode(special, BADGES_JSON, &b);
	/* python3 -c 'import json; print(json.dumps([...], ensure_ascii=False))' */
	static const char want[] =
		"[\"Mac User\", \"Zo\xC3\xAB\", \"say \\\"hi\\\"\", \"back\\\\slash\", "
		"\"\\u0001\\u001f\", \"\\n\\t\\r\\b\\f\", \"\x7f\", \"\xE2\x80\xA8\xE2\x80\xA9\", "
		"\"\xF0\x9F\x99\x82\", \"/\"]";
	int eq_special = strcmp(buf_str(&b), want) == 0;
	if (!eq_special)
		fprintf(stderr, "    got  %s\n    want %s\n", buf_str(&b), want);
	buf_free(&b);
	CHECK(eq);
	CHECK(eq_empty);
	CHECK(eq_special);
}

TEST(badges_encode_comma)
{
	struct buf b = BUF_INIT;
	const char *two[] = {"Mac User", "Coffee Lover", NULL};
	encode(two, BADGES_COMMA, &b);
	int eq = strcmp(buf_str(&b), "Mac User,Coffee Lover") == 0;
	buf_free(&b);
	CHECK(eq);
}

TEST(badges_json_round_trip)
{
	const char *const *list = special;
	struct buf b = BUF_INIT;
	encode(list, BADGES_JSON, &b);
	struct strvec got = STRVEC_INIT;
	enum badge_format fmt;
	badges_decode(buf_str(&b), &got, &fmt);
	buf_free(&b);
	int ok = fmt == BADGES_JSON;
	size_t n = 0;
	for (; list[n]; n++)
		ok = ok && n < got.n && strcmp(got.v[n], list[n]) == 0;
	ok = ok && got.n == n;
	strvec_free(&got);
	CHECK(ok);
}

static int line_round_trip(const char *const *list, const char *want_line)
{
	struct strvec v = STRVEC_INIT, back = STRVEC_INIT;
	for (size_t i = 0; list[i]; i++)
		strvec_push(&v, list[i]);
	struct buf line = BUF_INIT;
	badges_to_line(&v, &line);
	int ok = !want_line || strcmp(buf_str(&line), want_line) == 0;
	if (!ok)
		fprintf(stderr, "    line \"%s\", want \"%s\"\n", buf_str(&line), want_line);
	strvec_push(&back, "left over");
	badges_from_line(buf_str(&line), &back);
	int same = strvec_equal(&v, &back);
	if (!same)
		fprintf(stderr, "    \"%s\" did not read back (%zu badges)\n", buf_str(&line), back.n);
	buf_free(&line);
	strvec_free(&v);
	strvec_free(&back);
	return ok && same;
}

TEST(badges_line_round_trip)
{
	const char *plain[] = {"Mac User", "Coffee Lover", NULL};
	CHECK(line_round_trip(plain, "Mac User, Coffee Lover"));
	const char *commas[] = {"a,b", "c", NULL};
	CHECK(line_round_trip(commas, "a\\,b, c"));
	const char *slashes[] = {"c\\d", "e\\", "\\", NULL};
	CHECK(line_round_trip(slashes, "c\\\\d, e\\\\, \\\\"));
	const char *both[] = {"f\\,g", ",", "\\,\\,", "Zo\xC3\xAB", NULL};
	CHECK(line_round_trip(both, "f\\\\\\,g, \\,, \\\\\\,\\\\\\,, Zo\xC3\xAB"));
	const char *one[] = {"solo", NULL};
	CHECK(line_round_trip(one, "solo"));
	const char *none[] = {NULL};
	CHECK(line_round_trip(none, ""));
}

TEST(badges_from_line_parsing)
{
	struct strvec v = STRVEC_INIT;
	badges_from_line(" a ,b,, c ,", &v);
	int ok = v.n == 3 && strcmp(v.v[0], "a") == 0 && strcmp(v.v[1], "b") == 0 &&
		 strcmp(v.v[2], "c") == 0;
	badges_from_line("", &v);
	int empty = v.n == 0;
	/* A backslash before anything else is kept as it is. */
	badges_from_line("x\\y, z\\", &v);
	int lone = v.n == 2 && strcmp(v.v[0], "x\\y") == 0 && strcmp(v.v[1], "z\\") == 0;
	badges_from_line(" \xC2\xA0 Zo\xC3\xAB\xE3\x80\x80", &v);
	int unicode = v.n == 1 && strcmp(v.v[0], "Zo\xC3\xAB") == 0;
	strvec_free(&v);
	CHECK(ok);
	CHECK(empty);
	CHECK(lone);
	CHECK(unicode);
}

/* ---- ids and versions ---- */

static int is_uuid_v4(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

TEST(uuid_v4_format)
{
	char prev[37] = "";
	for (int i = 0; i < 1000; i++) {
		char id[37];
		memset(id, 'X', sizeof id);
		uuid_v4(id);
		if (!is_uuid_v4(id))
			fprintf(stderr, "    bad uuid %.37s\n", id);
		CHECK(is_uuid_v4(id));
		CHECK(strcmp(id, prev) != 0);
		memcpy(prev, id, sizeof prev);
	}
}

TEST(content_version_vectors)
{
	char v[33];
	/* printf 'id-1\x1fAda Lovelace\x1fLondon\x1fEngineer\x1f["Mac User", "Zo\xc3\xab"]' | md5sum */
	employee_content_version("id-1", "Ada Lovelace", "London", "Engineer",
				 "[\"Mac User\", \"Zo\xC3\xAB\"]", v);
	CHECK_STR(v, "b1cd75d532fedaeca82c26096c476148");
	/* NULL badges hash as U+001E:
	 * printf 'id-1\x1fAda Lovelace\x1fLondon\x1fEngineer\x1f\x1e' | md5sum */
	employee_content_version("id-1", "Ada Lovelace", "London", "Engineer", NULL, v);
	CHECK_STR(v, "a6ba646da151644e3a28a5b0ff12fd0d");
	/* "" badges are not NULL badges:
	 * printf 'id-1\x1fAda Lovelace\x1fLondon\x1fEngineer\x1f' | md5sum */
	employee_content_version("id-1", "Ada Lovelace", "London", "Engineer", "", v);
	CHECK_STR(v, "57d2d003848cbdb3d8bd85a3bf91b80d");
	/* printf '\x1f\x1f\x1f\x1f\x1e' | md5sum */
	employee_content_version("", "", "", "", NULL, v);
	CHECK_STR(v, "168f85e0d509ecfc3ed69f3ffca79aa1");
	/* Multi-byte text and legacy comma badges:
	 * printf '3fa85f64-5717-4562-b3fc-2c963f66afa6\x1f\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e'\
	 *        '\x1fT\xc5\x8dky\xc5\x8d\x1fCTO\x1fMac User,Coffee Lover' | md5sum */
	employee_content_version("3fa85f64-5717-4562-b3fc-2c963f66afa6",
				 "\xE5\xB1\xB1\xE7\x94\xB0\xE5\xA4\xAA\xE9\x83\x8E",
				 "T\xC5\x8Dky\xC5\x8D", "CTO", "Mac User,Coffee Lover", v);
	CHECK_STR(v, "d055d0b0660025acd4bd7abab1da53ff");
	/* Moving text between fields changes the version. */
	char a[33], b[33];
	employee_content_version("1", "ab", "c", "d", NULL, a);
	employee_content_version("1", "a", "bc", "d", NULL, b);
	CHECK(strcmp(a, b) != 0);
}

int main(void)
{
	harness_init();
	RUN(normalize_valid_record);
	RUN(normalize_trims_unicode_spaces);
	RUN(trim_matches_python_strip);
	RUN(normalize_counts_code_points);
	RUN(normalize_control_chars_on_the_right_field);
	RUN(employee_check_text_rules);
	RUN(normalize_badges);
	RUN(employee_copy_and_fields);
	RUN(badges_decode_json);
	RUN(badges_decode_legacy_and_malformed);
	RUN(badges_encode_like_python);
	RUN(badges_encode_comma);
	RUN(badges_json_round_trip);
	RUN(badges_line_round_trip);
	RUN(badges_from_line_parsing);
	RUN(uuid_v4_format);
	RUN(content_version_vectors);
	return harness_done();
}
