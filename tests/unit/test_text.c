/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests for core/text: the sanitiser for untrusted text, UTF-8 helpers,
 * display widths and fitting text to a number of columns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/buf.h"
#include "core/text.h"
#include "tests/unit/harness.h"

#define ELLIPSIS "\xE2\x80\xA6"
#define FFFD "\xEF\xBF\xBD"

/* ---- an independent strict UTF-8 decoder, so the checks do not trust the
 * module's own one ---- */

/* Returns the sequence length and sets *cp, or 0 when s[0..n) does not start
 * with a well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static size_t strict_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	unsigned char b = s[0];
	size_t len;
	uint32_t c, min;
	if (b < 0x80) {
		*cp = b;
		return 1;
	} else if (b >= 0xC2 && b <= 0xDF) {
		len = 2, c = b & 0x1Fu, min = 0x80;
	} else if (b >= 0xE0 && b <= 0xEF) {
		len = 3, c = b & 0x0Fu, min = 0x800;
	} else if (b >= 0xF0 && b <= 0xF4) {
		len = 4, c = b & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3Fu);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static int is_bidi_control(uint32_t c)
{
	return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
	       (c >= 0x2066 && c <= 0x2069);
}

/* Invisible characters the sanitiser promises to drop. */
static int is_dropped(uint32_t c)
{
	return c == 0x00AD || (c >= 0x200B && c <= 0x200D) || c == 0xFEFF ||
	       (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0x1F3FB && c <= 0x1F3FF) ||
	       (c >= 0xE0000 && c <= 0xE007F) || (c >= 0x206A && c <= 0x206F) ||
	       (c >= 0xFFF9 && c <= 0xFFFB) || (c >= 0x13430 && c <= 0x13438) ||
	       (c >= 0x1BCA0 && c <= 0x1BCA3) || (c >= 0x1D173 && c <= 0x1D17A);
}

/* Everything a sanitised string must be. Prints why (with the offending
 * input's label) and returns 0 when it is not. */
static int safe_ok(const char *label, const char *out, size_t len)
{
	const unsigned char *u = (const unsigned char *)out;
	if (strlen(out) != len) {
		fprintf(stderr, "    [%s] output holds a NUL byte\n", label);
		return 0;
	}
	int sum = 0;
	for (size_t i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7F) {
			fprintf(stderr, "    [%s] byte 0x%02x at %zu\n", label, u[i], i);
			return 0;
		}
	}
	size_t first = 1;
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t l = strict_decode(u + i, len - i, &c);
		if (l == 0) {
			fprintf(stderr, "    [%s] invalid UTF-8 at byte %zu\n", label, i);
			return 0;
		}
		if (c >= 0x80 && c <= 0x9F) {
			fprintf(stderr, "    [%s] C1 control U+%04X\n", label, (unsigned)c);
			return 0;
		}
		if (is_bidi_control(c) || c == 0x2028 || c == 0x2029) {
			fprintf(stderr, "    [%s] bidi control or separator U+%04X\n", label, (unsigned)c);
			return 0;
		}
		if (is_dropped(c)) {
			fprintf(stderr, "    [%s] invisible format character U+%04X\n", label, (unsigned)c);
			return 0;
		}
		int w = wcwidth((wchar_t)c);
		if (w < 0) {
			fprintf(stderr, "    [%s] U+%04X has no width\n", label, (unsigned)c);
			return 0;
		}
		if (first && w == 0) {
			fprintf(stderr, "    [%s] starts with the zero-width U+%04X\n", label, (unsigned)c);
			return 0;
		}
		first = 0;
		sum += w;
		i += l;
	}
	if (text_width(out) != sum) {
		fprintf(stderr, "    [%s] text_width %d, sum of wcwidth %d\n", label, text_width(out), sum);
		return 0;
	}
	return 1;
}

/* Sanitise s[0..n) into a fresh string; *width gets the returned width. */
static char *sanitize(const char *s, size_t n, int max_cols, int *width)
{
	struct buf b = BUF_INIT;
	int w = text_sanitize(&b, s, n, max_cols);
	if (width)
		*width = w;
	return buf_steal(&b);
}

static char *fit(const char *safe, int cols, int pad, int *width)
{
	struct buf b = BUF_INIT;
	int w = text_fit(&b, safe, cols, pad);
	if (width)
		*width = w;
	return buf_steal(&b);
}

/* ---- the escape-injection corpus ---- */

struct hostile {
	const char *label;
	const char *s;
	size_t n;     /* 0: strlen(s) */
	const char *want; /* the exact safe form, or NULL to check only the rules */
};

#define H(label, s, want) {label, s, sizeof(s) - 1, want}

static const struct hostile corpus[] = {
	H("CSI clear screen", "\x1b[2J", "\xE2\x90\x9B[2J"),
	H("CSI colour", "Mallory\x1b[31mRED", "Mallory\xE2\x90\x9B[31mRED"),
	H("OSC 52 clipboard", "\x1b]52;c;aGVsbG8=\x07", "\xE2\x90\x9B]52;c;aGVsbG8=\xE2\x90\x87"),
	H("OSC 52 with ST", "\x1b]52;c;aGVsbG8=\x1b\\", "\xE2\x90\x9B]52;c;aGVsbG8=\xE2\x90\x9B\\"),
	H("OSC 8 hyperlink", "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
	  "\xE2\x90\x9B]8;;https://evil.example/\xE2\x90\x9B\\click\xE2\x90\x9B]8;;\xE2\x90\x9B\\"),
	H("OSC 0 title", "\x1b]0;pwned\x07", "\xE2\x90\x9B]0;pwned\xE2\x90\x87"),
	H("OSC 2 title", "\x1b]2;pwned\x1b\\", "\xE2\x90\x9B]2;pwned\xE2\x90\x9B\\"),
	H("DCS", "\x1bP1$r\x1b\\", "\xE2\x90\x9BP1$r\xE2\x90\x9B\\"),
	H("bare CR overwrite", "Bob\rOVER", "Bob\xE2\x90\x8DOVER"),
	H("CRLF", "a\r\nb", "a\xE2\x90\x8D\xE2\x90\x8A" "b"),
	H("LF", "line1\nline2", "line1\xE2\x90\x8Aline2"),
	H("TAB", "a\tb", "a\xE2\x90\x89" "b"),
	H("BS", "abc\b\b\bXYZ", "abc\xE2\x90\x88\xE2\x90\x88\xE2\x90\x88XYZ"),
	H("BEL", "ding\x07", "ding\xE2\x90\x87"),
	H("DEL", "a\x7f" "b", "a\xE2\x90\xA1" "b"),
	H("NUL inside", "ab\0cd", "ab\xE2\x90\x80" "cd"),
	H("only NUL", "\0", "\xE2\x90\x80"),
	H("U+202E RLO", "abc\xE2\x80\xAEgpj.exe", "abc" FFFD "gpj.exe"),
	H("U+202A-202D", "\xE2\x80\xAA" "a\xE2\x80\xAB" "b\xE2\x80\xAC" "c\xE2\x80\xAD",
	  FFFD "a" FFFD "b" FFFD "c" FFFD),
	H("U+2066 LRI", "x\xE2\x81\xA6y", "x" FFFD "y"),
	H("U+2067 RLI", "x\xE2\x81\xA7y", "x" FFFD "y"),
	H("U+2068 FSI", "x\xE2\x81\xA8y", "x" FFFD "y"),
	H("U+2069 PDI", "x\xE2\x81\xA9y", "x" FFFD "y"),
	H("U+200E LRM", "x\xE2\x80\x8Ey", "x" FFFD "y"),
	H("U+200F RLM", "x\xE2\x80\x8Fy", "x" FFFD "y"),
	H("U+061C ALM", "x\xD8\x9Cy", "x" FFFD "y"),
	H("raw C1 CSI byte", "a\x9b" "2J", "a" FFFD "2J"),
	H("UTF-8 U+009B", "a\xC2\x9B" "2J", "a" FFFD "2J"),
	H("UTF-8 U+0085 NEL", "a\xC2\x85" "b", "a" FFFD "b"),
	H("UTF-8 U+0080", "\xC2\x80", FFFD),
	H("UTF-8 U+009F", "\xC2\x9F", FFFD),
	H("U+2028 line separator", "a\xE2\x80\xA8" "b", "a" FFFD "b"),
	H("U+2029 paragraph separator", "a\xE2\x80\xA9" "b", "a" FFFD "b"),
	H("overlong slash", "a\xC0\xAF" "b", "a" FFFD "b"),
	H("overlong NUL", "a\xC0\x80" "b", "a" FFFD "b"),
	H("overlong ESC", "\xC0\x9B[2J", FFFD "[2J"),
	H("overlong 3-byte", "\xE0\x80\xAF", FFFD),
	H("overlong 4-byte", "\xF0\x80\x80\xAF", FFFD),
	H("surrogate high", "a\xED\xA0\x80" "b", "a" FFFD "b"),
	H("surrogate low", "a\xED\xBF\xBF" "b", "a" FFFD "b"),
	H("surrogate pair (CESU-8)", "\xED\xA0\xBD\xED\xB8\x82", FFFD),
	H("above U+10FFFF", "\xF4\x90\x80\x80", FFFD),
	H("5-byte form", "\xF8\x88\x80\x80\x80", FFFD),
	H("truncated at end", "ab\xE4\xB8", "ab" FFFD),
	H("truncated then ASCII", "\xE4\xB8" "a", FFFD "a"),
	H("truncated then CJK", "\xE4\xB8\xE4\xB8\xAD", FFFD "\xE4\xB8\xAD"),
	H("truncated 4-byte", "\xF0\x9F\x99", FFFD),
	H("lone continuation", "\x80" "a", FFFD "a"),
	H("0xff", "\xff", FFFD),
	H("0xfe 0xff", "x\xfe\xffy", "x" FFFD "y"),
	H("two runs", "\xff" "a\xff", FFFD "a" FFFD),
	H("noncharacter U+FFFE", "\xEF\xBF\xBE", FFFD),
	H("unassigned U+0378", "\xCD\xB8", FFFD),
	H("ZWSP", "a\xE2\x80\x8B" "b", "ab"),
	H("BOM", "\xEF\xBB\xBFname", "name"),
	H("soft hyphen", "ab\xC2\xAD" "c", "abc"),
	H("word joiner", "a\xE2\x81\xA0" "b", "ab"),
	H("deprecated format controls", "a\xE2\x81\xAA\xE2\x81\xAF" "b", "ab"),
	H("interlinear annotation", "a\xEF\xBF\xB9" "b\xEF\xBF\xBA" "c\xEF\xBF\xBB", "abc"),
	H("tag characters", "a\xF3\xA0\x80\x81\xF3\xA0\x81\xBF" "b", "ab"),
	H("orphan mark", "\xCC\x81" "a", "\xE2\x97\x8C\xCC\x81" "a"),
	H("orphan after dropped", "\xE2\x80\x8B\xCC\x81", "\xE2\x97\x8C\xCC\x81"),
	H("mark pile", "a\xCC\x81\xCC\x82\xCC\x83\xCC\x84\xCC\x85\xCC\x86\xCC\x87",
	  "a\xCC\x81\xCC\x82\xCC\x83\xCC\x84"),
	H("C1 in the middle of CJK", "\xE5\xB1\xB1\xC2\x9B\xE7\x94\xB0", "\xE5\xB1\xB1" FFFD "\xE7\x94\xB0"),
	H("everything", "\x1b[1;31m\xE2\x80\xAE\x9b\xC2\x9B\r\b\x7f\xE2\x80\xA8\xED\xA0\x80\xff\0", NULL),
};

TEST(corpus_is_neutralised)
{
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		const struct hostile *h = &corpus[i];
		int w;
		char *out = sanitize(h->s, h->n, 0, &w);
		int ok = safe_ok(h->label, out, strlen(out));
		int wok = w == text_width(out);
		int eq = !h->want || strcmp(out, h->want) == 0;
		if (!eq)
			fprintf(stderr, "    [%s] got \"%s\", want \"%s\"\n", h->label, out, h->want);
		if (!wok)
			fprintf(stderr, "    [%s] returned width %d, text_width %d\n", h->label, w,
				text_width(out));
		free(out);
		CHECK(ok);
		CHECK(wok);
		CHECK(eq);
	}
}

/* The corpus again, cut to every width from 1 to 12 columns. */
TEST(corpus_is_neutralised_when_cut)
{
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		const struct hostile *h = &corpus[i];
		for (int cols = 1; cols <= 12; cols++) {
			int w;
			char *out = sanitize(h->s, h->n, cols, &w);
			int ok = safe_ok(h->label, out, strlen(out));
			int tw = text_width(out);
			free(out);
			CHECK(ok);
			CHECK_INT(w, tw);
			CHECK(w <= cols);
		}
	}
}

TEST(exact_length_is_respected)
{
	/* n, not the NUL, ends the input; bytes after n are never read. */
	const char s[] = "abc\x1b[2Jdef";
	char *out = sanitize(s, 3, 0, NULL);
	int eq = strcmp(out, "abc") == 0;
	free(out);
	CHECK(eq);
	out = sanitize(s, 0, 0, NULL);
	eq = strcmp(out, "") == 0;
	free(out);
	CHECK(eq);
	/* A multibyte character cut by n is invalid, not read past n. */
	out = sanitize("\xE5\xB1\xB1", 2, 0, NULL);
	eq = strcmp(out, FFFD) == 0;
	free(out);
	CHECK(eq);
}

TEST(sanitize_appends)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "name: ");
	int w = text_sanitize(&b, "\xE5\xB1\xB1\xE7\x94\xB0\x1b", 7, 0);
	CHECK_INT(w, 5);
	CHECK_STR(buf_str(&b), "name: \xE5\xB1\xB1\xE7\x94\xB0\xE2\x90\x9B");
	/* Cutting keeps what was in the buffer before. */
	buf_reset(&b);
	buf_puts(&b, "> ");
	w = text_sanitize(&b, "\xE5\xB1\xB1\xE7\x94\xB0\xE5\xA4\xAA\xE9\x83\x8E", 12, 5);
	CHECK_INT(w, 5);
	CHECK_STR(buf_str(&b), "> \xE5\xB1\xB1\xE7\x94\xB0" ELLIPSIS);
	buf_free(&b);
}

TEST(safe_dup)
{
	char *s = text_safe_dup("employee '\x1b]0;x\x07' not found");
	int eq = strcmp(s, "employee '\xE2\x90\x9B]0;x\xE2\x90\x87' not found") == 0;
	free(s);
	CHECK(eq);
	s = text_safe_dup("");
	eq = strcmp(s, "") == 0;
	free(s);
	CHECK(eq);
}

/* ---- widths ---- */

struct width_case {
	const char *s;
	const char *safe; /* what the sanitiser makes of it (NULL: unchanged) */
	int width;
};

static const struct width_case widths[] = {
	{"", NULL, 0},
	{"Ada Lovelace", NULL, 12},
	{"Zo\xC3\xAB", NULL, 3},                                    /* Zoë precomposed */
	{"Zoe\xCC\x88", NULL, 3},                                   /* Zoë decomposed */
	{"e\xCC\x81", NULL, 1},                                     /* e + U+0301 */
	{"\xE5\xB1\xB1\xE7\x94\xB0\xE5\xA4\xAA\xE9\x83\x8E", NULL, 8}, /* 山田太郎 */
	{"\xEF\xBC\xA1", NULL, 2},                                  /* fullwidth A */
	{"\xE3\x80\x80", NULL, 2},                                  /* ideographic space */
	{"\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", NULL, 6},          /* 한국어 */
	{"\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB", NULL, 2},          /* conjoining jamo 한 */
	{"\xF0\x9F\x99\x82", NULL, 2},                              /* 🙂 */
	{"\xF0\x9F\x98\x80 ok", NULL, 5},                           /* 😀 ok */
	/* 👨‍👩‍👧: the joiners go, leaving three emoji that wcwidth measures */
	{"\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
	 "\xF0\x9F\x91\xA8\xF0\x9F\x91\xA9\xF0\x9F\x91\xA7", 6},
	/* 👍🏽: the skin-tone modifier goes */
	{"\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", "\xF0\x9F\x91\x8D", 2},
	/* ❤️: the variation selector goes */
	{"\xE2\x9D\xA4\xEF\xB8\x8F", "\xE2\x9D\xA4", 1},
	/* 🇫🇷 regional indicators */
	{"\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7", NULL, 2},
	{"\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", NULL, 4},              /* Hebrew שלום */
	{"\xE2\x80\xA6", NULL, 1},                                  /* … */
};

TEST(widths_match_wcwidth)
{
	for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
		const struct width_case *c = &widths[i];
		int w;
		char *out = sanitize(c->s, strlen(c->s), 0, &w);
		int ok = safe_ok(c->s, out, strlen(out));
		int same = strcmp(out, c->safe ? c->safe : c->s) == 0;
		if (!same)
			fprintf(stderr, "    [%s] sanitised to \"%s\"\n", c->s, out);
		int tw = text_width(out);
		free(out);
		CHECK(ok);
		CHECK(same);
		CHECK_INT(w, c->width);
		CHECK_INT(tw, c->width);
	}
}

TEST(width_n)
{
	const char *s = "\xE5\xB1\xB1\xE7\x94\xB0" "ab";
	CHECK_INT(text_width_n(s, 0), 0);
	CHECK_INT(text_width_n(s, 3), 2);
	CHECK_INT(text_width_n(s, 6), 4);
	CHECK_INT(text_width_n(s, 7), 5);
	CHECK_INT(text_width_n(s, 100), 6); /* stops at the NUL */
	CHECK_INT(text_width("e\xCC\x81" "e\xCC\x81"), 2);
}

/* ---- fitting ---- */

TEST(fit_cjk)
{
	const char *name = "\xE5\xB1\xB1\xE7\x94\xB0\xE5\xA4\xAA\xE9\x83\x8E"; /* 山田太郎 */
	int w;
	char *out = fit(name, 5, 0, &w);
	int eq = strcmp(out, "\xE5\xB1\xB1\xE7\x94\xB0" ELLIPSIS) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 5);

	out = fit(name, 5, 1, &w);
	eq = strcmp(out, "\xE5\xB1\xB1\xE7\x94\xB0" ELLIPSIS) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 5);

	/* 6 columns: 山田 and 太 would need 7 with the ellipsis; pad instead. */
	out = fit(name, 6, 1, &w);
	eq = strcmp(out, "\xE5\xB1\xB1\xE7\x94\xB0" ELLIPSIS " ") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 6);
	out = fit(name, 6, 0, &w);
	eq = strcmp(out, "\xE5\xB1\xB1\xE7\x94\xB0" ELLIPSIS) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 5);

	out = fit(name, 7, 0, &w);
	eq = strcmp(out, "\xE5\xB1\xB1\xE7\x94\xB0\xE5\xA4\xAA" ELLIPSIS) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 7);

	out = fit(name, 8, 1, &w);
	eq = strcmp(out, name) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 8);

	out = fit(name, 10, 1, &w);
	eq = strcmp(out, "\xE5\xB1\xB1\xE7\x94\xB0\xE5\xA4\xAA\xE9\x83\x8E  ") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 10);

	/* One column holds no CJK character: only the ellipsis. */
	out = fit(name, 1, 1, &w);
	eq = strcmp(out, ELLIPSIS) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 1);
	out = fit(name, 2, 1, &w);
	eq = strcmp(out, ELLIPSIS " ") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 2);
}

TEST(fit_ascii_and_padding)
{
	int w;
	char *out = fit("abc", 5, 1, &w);
	int eq = strcmp(out, "abc  ") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 5);
	out = fit("abc", 5, 0, &w);
	eq = strcmp(out, "abc") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 3);
	out = fit("abcdef", 4, 1, &w);
	eq = strcmp(out, "abc" ELLIPSIS) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 4);
	out = fit("", 3, 1, &w);
	eq = strcmp(out, "   ") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 3);
	out = fit("abc", 0, 1, &w);
	eq = strcmp(out, "") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 0);
	out = fit("abc", -3, 1, &w);
	eq = strcmp(out, "") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 0);
}

TEST(fit_keeps_marks_with_their_base)
{
	int w;
	/* é é é (decomposed) in 2 columns: the first é whole, then "…". */
	char *out = fit("e\xCC\x81" "e\xCC\x81" "e\xCC\x81", 2, 0, &w);
	int eq = strcmp(out, "e\xCC\x81" ELLIPSIS) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 2);
	out = fit("e\xCC\x81" "e\xCC\x81" "e\xCC\x81", 3, 1, &w);
	eq = strcmp(out, "e\xCC\x81" "e\xCC\x81" "e\xCC\x81") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 3);
	/* Emoji: 🙂🙂🙂 in 4 columns is 🙂 + … + one pad. */
	out = fit("\xF0\x9F\x99\x82\xF0\x9F\x99\x82\xF0\x9F\x99\x82", 4, 1, &w);
	eq = strcmp(out, "\xF0\x9F\x99\x82" ELLIPSIS " ") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 4);
}

TEST(sanitize_max_cols)
{
	const char *name = "\xE5\xB1\xB1\xE7\x94\xB0\xE5\xA4\xAA\xE9\x83\x8E";
	int w;
	char *out = sanitize(name, strlen(name), 5, &w);
	int eq = strcmp(out, "\xE5\xB1\xB1\xE7\x94\xB0" ELLIPSIS) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 5);
	out = sanitize(name, strlen(name), 8, &w);
	eq = strcmp(out, name) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 8);
	out = sanitize(name, strlen(name), 7, &w);
	eq = strcmp(out, "\xE5\xB1\xB1\xE7\x94\xB0\xE5\xA4\xAA" ELLIPSIS) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 7);
	/* Control pictures count as one column each. */
	out = sanitize("\x1b[2J\x1b[H", 7, 4, &w);
	eq = strcmp(out, "\xE2\x90\x9B[2" ELLIPSIS) == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 4);
	/* Text that fits exactly is not cut, even with dropped characters after. */
	out = sanitize("abc\xE2\x80\x8B", 6, 3, &w);
	eq = strcmp(out, "abc") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 3);
	/* Marks on the last character that fits stay. */
	out = sanitize("abe\xCC\x81", 5, 3, &w);
	eq = strcmp(out, "abe\xCC\x81") == 0;
	free(out);
	CHECK(eq);
	CHECK_INT(w, 3);
	/* A 1 MB name is cut quickly and to the limit. */
	size_t big = 1u << 20;
	char *s = malloc(big);
	CHECK(s != NULL);
	for (size_t i = 0; i < big; i++)
		s[i] = (char)('a' + i % 26);
	out = sanitize(s, big, 20, &w);
	free(s);
	size_t len = strlen(out);
	int tw = text_width(out);
	free(out);
	CHECK_INT(w, 20);
	CHECK_INT(tw, 20);
	CHECK_INT(len, 19 + 3);
}

/* ---- properties over every code point and over random input ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

TEST(every_code_point)
{
	char in[16];
	for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		size_t n = 0;
		in[n++] = 'a';
		n += utf8_encode(cp, in + n);
		in[n++] = 'b';
		struct buf b = BUF_INIT;
		int w = text_sanitize(&b, in, n, 0);
		char label[32];
		snprintf(label, sizeof label, "a U+%04X b", (unsigned)cp);
		int ok = safe_ok(label, buf_str(&b), b.len);
		int tw = text_width(buf_str(&b));
		/* Alone, at the start of a string, too. */
		buf_reset(&b);
		text_sanitize(&b, in + 1, n - 2, 0);
		snprintf(label, sizeof label, "U+%04X", (unsigned)cp);
		int ok_alone = safe_ok(label, buf_str(&b), b.len);
		buf_free(&b);
		CHECK(ok);
		CHECK(ok_alone);
		CHECK_INT(w, tw);
	}
}

TEST(utf8_round_trip)
{
	for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		char tmp[4];
		size_t l = utf8_encode(cp, tmp);
		uint32_t back = 0, strict = 0;
		CHECK_INT(utf8_decode(tmp, l, &back), l);
		CHECK_INT(back, cp);
		CHECK_INT(strict_decode((const unsigned char *)tmp, l, &strict), l);
		CHECK_INT(strict, cp);
		/* One byte short is invalid and says U+FFFD. */
		if (l > 1) {
			CHECK_INT(utf8_decode(tmp, l - 1, &back), 0);
			CHECK_INT(back, 0xFFFD);
		}
	}
	uint32_t c;
	CHECK_INT(utf8_decode("\xED\xA0\x80", 3, &c), 0);
	CHECK_INT(utf8_decode("\xC0\x80", 2, &c), 0);
	CHECK_INT(utf8_decode("\xF4\x90\x80\x80", 4, &c), 0);
	CHECK_INT(utf8_decode("\xff", 1, &c), 0);
	CHECK_INT(utf8_decode("", 0, &c), 0);
	CHECK_INT(utf8_count(""), 0);
	CHECK_INT(utf8_count("Zo\xC3\xAB"), 3);
	CHECK_INT(utf8_count("\xF0\x9F\x99\x82\xE5\xB1\xB1"), 2);
	CHECK(utf8_count("ab\xff") == (size_t)-1);
	CHECK(utf8_count("\xE5\xB1") == (size_t)-1);
}

/* Every byte sequence the decoder accepts, the strict decoder accepts too
 * (and the other way round), over all 1-4 byte prefixes that matter. */
TEST(decoder_agrees_with_strict)
{
	unsigned char s[4];
	for (unsigned a = 0x80; a <= 0xFF; a++)
		for (unsigned b = 0; b <= 0xFF; b++)
			for (unsigned c = 0x7F; c <= 0xC0; c++) {
				s[0] = (unsigned char)a, s[1] = (unsigned char)b, s[2] = (unsigned char)c;
				s[3] = 0x80;
				uint32_t x = 0, y = 0;
				size_t l1 = utf8_decode((const char *)s, 4, &x);
				size_t l2 = strict_decode(s, 4, &y);
				CHECK_INT(l1, l2);
				if (l1)
					CHECK_INT(x, y);
			}
}

static const char *const fragments[] = {
	"a", "Z", " ", "\x1b", "[", "]", "\x07", "\r", "\n", "\b", "\t", "\x7f", "\0",
	"\x9b", "\xff", "\xC0", "\xE4\xB8", "\xED\xA0\x80", "\xC2\x9B", "\xC2\x85",
	"\xE2\x80\xAE", "\xE2\x81\xA6", "\xE2\x80\x8E", "\xE2\x80\xA8", "\xE2\x80\x8B",
	"\xE2\x80\x8D", "\xEF\xB8\x8F", "\xF0\x9F\x8F\xBD", "\xCC\x81", "\xCC\x88",
	"\xE5\xB1\xB1", "\xE7\x94\xB0", "\xED\x95\x9C", "\xE1\x85\xA1", "\xF0\x9F\x99\x82",
	"\xF0\x9F\x91\xA8", "\xEF\xBC\xA1", "\xE2\x80\xA6", "\xC3\xAB", "\xEF\xBB\xBF",
};

/* The cut form is a prefix of the uncut form, then "…". */
static int is_cut_of(const char *cut, const char *full)
{
	size_t cl = strlen(cut), el = strlen(ELLIPSIS);
	if (strcmp(cut, full) == 0)
		return 1;
	if (cl < el || strcmp(cut + cl - el, ELLIPSIS) != 0)
		return 0;
	return strncmp(cut, full, cl - el) == 0;
}

TEST(random_input)
{
	char in[256];
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 0;
		uint32_t parts = rnd(24);
		for (uint32_t k = 0; k < parts; k++) {
			if (rnd(4) == 0) {
				in[n++] = (char)rnd(256);
				continue;
			}
			const char *f = fragments[rnd(sizeof fragments / sizeof fragments[0])];
			size_t fl = *f ? strlen(f) : 1; /* "\0" is one NUL byte */
			memcpy(in + n, f, fl);
			n += fl;
		}
		int cols = (int)rnd(14);
		int wfull, wcut;
		char *full = sanitize(in, n, 0, &wfull);
		char *cut = sanitize(in, n, cols, &wcut);
		int ok = safe_ok("random", full, strlen(full)) && safe_ok("random cut", cut, strlen(cut));
		int widths_ok = wfull == text_width(full) && wcut == text_width(cut);
		int limit_ok = cols == 0 ? wcut == wfull && strcmp(cut, full) == 0 : wcut <= cols;
		int prefix_ok = is_cut_of(cut, full);
		int same_when_fits = wfull > cols && cols > 0 ? 1 : strcmp(cut, full) == 0;
		if (!prefix_ok || !same_when_fits)
			fprintf(stderr, "    cols %d: full \"%s\" cut \"%s\"\n", cols, full, cut);
		free(full);
		free(cut);
		CHECK(ok);
		CHECK(widths_ok);
		CHECK(limit_ok);
		CHECK(prefix_ok);
		CHECK(same_when_fits);
	}
}

/* text_fit never splits a character, never exceeds cols, pads to exactly cols
 * and keeps as much as fits. */
TEST(random_fit)
{
	char in[256];
	for (int iter = 0; iter < 5000; iter++) {
		size_t n = 0;
		uint32_t parts = rnd(16);
		for (uint32_t k = 0; k < parts; k++) {
			const char *f = fragments[rnd(sizeof fragments / sizeof fragments[0])];
			size_t fl = *f ? strlen(f) : 1;
			memcpy(in + n, f, fl);
			n += fl;
		}
		char *safe = sanitize(in, n, 0, NULL);
		int total = text_width(safe);
		for (int cols = 1; cols <= 14; cols++) {
			for (int pad = 0; pad <= 1; pad++) {
				int w;
				char *out = fit(safe, cols, pad, &w);
				int ok = safe_ok("fit", out, strlen(out)) && w == text_width(out) && w <= cols &&
					 (!pad || w == cols);
				if (total <= cols) {
					ok = ok && strncmp(out, safe, strlen(safe)) == 0;
				} else {
					/* prefix + "…" (+ spaces): the prefix ends on a
					 * character boundary with all its marks, and the
					 * next character would not have fitted. */
					size_t ol = strlen(out), el = strlen(ELLIPSIS);
					while (ol > 0 && out[ol - 1] == ' ')
						ol--;
					int ends = ol >= el && memcmp(out + ol - el, ELLIPSIS, el) == 0;
					size_t pl = ends ? ol - el : 0;
					ok = ok && ends && strncmp(out, safe, pl) == 0;
					if (ok) {
						uint32_t next;
						size_t l = strict_decode((const unsigned char *)safe + pl,
									 strlen(safe) - pl, &next);
						int nw = l ? wcwidth((wchar_t)next) : -1;
						ok = l > 0 && nw > 0 && text_width_n(out, pl) + nw > cols - 1;
					}
				}
				if (!ok)
					fprintf(stderr, "    fit(\"%s\", %d, %d) = \"%s\" (%d)\n", safe, cols, pad,
						out, w);
				free(out);
				if (!ok)
					free(safe);
				CHECK(ok);
			}
		}
		free(safe);
	}
}

TEST(safe_message_sanitises_then_redacts)
{
	const char *secrets[] = {"ASIASECRETTOKEN1234", "", "abc", NULL, "never"};
	struct buf b = BUF_INIT;
	/* A token split by a soft hyphen and a zero-width space, an escape
	 * sequence, and a second line that must not appear. */
	const char *msg = "denied for ASIA\xC2\xADSECRET\xE2\x80\x8BTOKEN1234 \x1b]52;c;eA==\x07 ok\nline 2 ASIASECRETTOKEN1234";
	text_safe_message(&b, msg, strlen(msg), secrets, 0, 1);
	CHECK(strstr(buf_str(&b), "ASIA") == NULL);
	CHECK(strstr(buf_str(&b), "<redacted>") != NULL);
	CHECK(strchr(buf_str(&b), '\x1b') == NULL);
	CHECK(strstr(buf_str(&b), "line 2") == NULL);
	buf_free(&b);
	/* All lines: the break is drawn, the secret on line 2 is redacted too. */
	text_safe_message(&b, msg, strlen(msg), secrets, 0, 0);
	CHECK(strstr(buf_str(&b), "line 2") != NULL);
	CHECK(strstr(buf_str(&b), "TOKEN1234") == NULL);
	CHECK(strchr(buf_str(&b), '\n') == NULL);
	buf_free(&b);
	/* Short secrets are not redacted (they would eat ordinary words), and
	 * the result is fitted to the columns asked for. */
	text_safe_message(&b, "abc abc abc abc", 15, secrets, 8, 1);
	CHECK_STR(buf_str(&b), "abc abc" ELLIPSIS);
	buf_free(&b);
	text_safe_message(&b, NULL, 0, secrets, 0, 1);
	CHECK_STR(buf_str(&b), "");
	buf_free(&b);
}

int main(void)
{
	harness_init();
	RUN(corpus_is_neutralised);
	RUN(corpus_is_neutralised_when_cut);
	RUN(exact_length_is_respected);
	RUN(sanitize_appends);
	RUN(safe_dup);
	RUN(widths_match_wcwidth);
	RUN(width_n);
	RUN(fit_cjk);
	RUN(fit_ascii_and_padding);
	RUN(fit_keeps_marks_with_their_base);
	RUN(sanitize_max_cols);
	RUN(every_code_point);
	RUN(utf8_round_trip);
	RUN(decoder_agrees_with_strict);
	RUN(random_input);
	RUN(random_fit);
	RUN(safe_message_sanitises_then_redacts);
	return harness_done();
}
