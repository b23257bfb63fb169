/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define REPLACEMENT 0xFFFDu
#define DOTTED_CIRCLE 0x25CCu
#define ELLIPSIS "\xE2\x80\xA6" /* U+2026, width 1 */
#define MAX_MARKS 4             /* ncurses keeps CCHARW_MAX - 1 = 4 marks */

size_t utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	*cp = REPLACEMENT;
	if (n == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	size_t len;
	uint32_t c, min;
	if ((u[0] & 0xE0) == 0xC0) {
		len = 2; c = u[0] & 0x1Fu; min = 0x80;
	} else if ((u[0] & 0xF0) == 0xE0) {
		len = 3; c = u[0] & 0x0Fu; min = 0x800;
	} else if ((u[0] & 0xF8) == 0xF0) {
		len = 4; c = u[0] & 0x07u; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3Fu);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

size_t utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t utf8_count(const char *s)
{
	size_t n = strlen(s), count = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t l = utf8_decode(s + i, n - i, &cp);
		if (l == 0)
			return (size_t)-1;
		i += l;
		count++;
	}
	return count;
}

/* Characters that are invisible and only disturb widths: dropped. */
static bool is_dropped_format(uint32_t c)
{
	return c == 0x00AD || c == 0x034F || (c >= 0x200B && c <= 0x200D) ||
	       (c >= 0x2060 && c <= 0x2064) || c == 0xFEFF || (c >= 0xFE00 && c <= 0xFE0F) ||
	       (c >= 0x1F3FB && c <= 0x1F3FF) || (c >= 0xE0000 && c <= 0xE007F) ||
	       (c >= 0xE0100 && c <= 0xE01EF) || c == 0x180E ||
	       /* the other zero-width format characters (Cf): deprecated
	        * shaping and swapping controls, interlinear annotation,
	        * hieroglyph, shorthand and musical format controls */
	       (c >= 0x206A && c <= 0x206F) || (c >= 0xFFF9 && c <= 0xFFFB) ||
	       (c >= 0x13430 && c <= 0x13438) || (c >= 0x1BCA0 && c <= 0x1BCA3) ||
	       (c >= 0x1D173 && c <= 0x1D17A);
}

/* Characters that reorder or break lines: replaced visibly. */
static bool is_bidi_or_separator(uint32_t c)
{
	return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029;
}

static int cp_width(uint32_t c)
{
	int w = wcwidth((wchar_t)c);
	return w;
}

static void put_cp(struct buf *out, uint32_t cp)
{
	char tmp[4];
	buf_append(out, tmp, utf8_encode(cp, tmp));
}

int text_sanitize(struct buf *out, const char *s, size_t n, int max_cols)
{
	size_t start = out->len;
	int width = 0;
	int marks = 0;          /* combining marks on the current base */
	bool have_base = false; /* a base character was emitted just before */
	bool cut = false;
	for (size_t i = 0; i < n;) {
		if (max_cols > 0 && width > max_cols) {
			cut = true; /* enough to know it must be cut: stop working */
			break;
		}
		uint32_t c;
		size_t l = utf8_decode(s + i, n - i, &c);
		if (l == 0) {
			/* Skip the whole run of undecodable bytes; show it once. */
			do {
				i++;
			} while (i < n && utf8_decode(s + i, n - i, &c) == 0);
			c = REPLACEMENT;
		} else {
			i += l;
		}
		if (c < 0x20)
			c = 0x2400 + c;          /* Control Pictures: ␀ … ␟ (␛ for ESC) */
		else if (c == 0x7F)
			c = 0x2421;              /* ␡ */
		else if (c >= 0x80 && c <= 0x9F)
			c = REPLACEMENT;
		else if (is_bidi_or_separator(c))
			c = REPLACEMENT;
		else if (is_dropped_format(c))
			continue;

		int w = cp_width(c);
		if (w < 0) {
			c = REPLACEMENT;
			w = 1;
		}
		if (w == 0) {
			if (!have_base) {
				/* An orphan mark would combine with whatever was drawn
				 * before it: give it a base of its own. */
				put_cp(out, DOTTED_CIRCLE);
				width += 1;
				have_base = true;
				marks = 0;
			}
			if (marks >= MAX_MARKS)
				continue;
			put_cp(out, c);
			marks++;
			continue;
		}
		put_cp(out, c);
		width += w;
		have_base = true;
		marks = 0;
	}
	if (max_cols > 0 && (cut || width > max_cols)) {
		struct buf fitted = BUF_INIT;
		width = text_fit(&fitted, out->data + start, max_cols, 0);
		out->len = start;
		buf_append(out, fitted.data, fitted.len);
		buf_free(&fitted);
	}
	return width;
}

static void wipe_free(struct buf *b)
{
	if (b->data) {
		volatile char *v = b->data;
		for (size_t i = 0; i < b->cap; i++)
			v[i] = 0;
	}
	buf_free(b);
}

/* Replace every occurrence of secret in *b by "<redacted>". */
static void redact_one(struct buf *b, const char *secret)
{
	size_t n = strlen(secret);
	const char *p = buf_str(b), *hit;
	if (n < 4 || !strstr(p, secret))
		return;
	struct buf out = BUF_INIT;
	while ((hit = strstr(p, secret)) != NULL) {
		buf_append(&out, p, (size_t)(hit - p));
		buf_puts(&out, "<redacted>");
		p = hit + n;
	}
	buf_puts(&out, p);
	wipe_free(b);
	*b = out;
}

void text_safe_message(struct buf *out, const char *msg, size_t n, const char *const *secrets,
		       int max_cols, int first_line)
{
	if (!msg)
		return;
	if (first_line) {
		size_t i = 0;
		while (i < n && msg[i] != '\r' && msg[i] != '\n')
			i++;
		n = i;
	}
	struct buf safe = BUF_INIT;
	text_sanitize(&safe, msg, n, 0);
	for (; secrets && *secrets; secrets++) {
		if (!**secrets)
			continue;
		redact_one(&safe, *secrets);
		/* The secret as the sanitiser would draw it, in case it held
		 * something the sanitiser changes. */
		struct buf s2 = BUF_INIT;
		text_sanitize(&s2, *secrets, strlen(*secrets), 0);
		if (strcmp(buf_str(&s2), *secrets) != 0)
			redact_one(&safe, buf_str(&s2));
		wipe_free(&s2);
	}
	if (max_cols > 0)
		text_fit(out, buf_str(&safe), max_cols, 0);
	else
		buf_append(out, buf_str(&safe), safe.len);
	wipe_free(&safe);
}

char *text_safe_dup(const char *s)
{
	struct buf b = BUF_INIT;
	text_sanitize(&b, s, strlen(s), 0);
	return buf_steal(&b);
}

int text_width_n(const char *safe, size_t n)
{
	int w = 0;
	for (size_t i = 0; i < n && safe[i];) {
		uint32_t c;
		size_t l = utf8_decode(safe + i, n - i, &c);
		if (l == 0) {
			w += 1;
			i++;
			continue;
		}
		int cw = cp_width(c);
		w += cw > 0 ? cw : (cw < 0 ? 1 : 0);
		i += l;
	}
	return w;
}

int text_width(const char *safe)
{
	return text_width_n(safe, strlen(safe));
}

int text_fit(struct buf *out, const char *safe, int cols, int pad)
{
	if (cols <= 0)
		return 0;
	size_t n = strlen(safe);
	int total = text_width_n(safe, n);
	int width = 0;
	if (total <= cols) {
		buf_append(out, safe, n);
		width = total;
	} else {
		/* Keep whole characters (with their marks) up to cols - 1. */
		size_t i = 0;
		while (i < n) {
			uint32_t c;
			size_t l = utf8_decode(safe + i, n - i, &c);
			if (l == 0)
				l = 1;
			int cw = l == 1 && (unsigned char)safe[i] >= 0x80 ? 1 : cp_width(c);
			if (cw < 0)
				cw = 1;
			if (cw > 0 && width + cw > cols - 1)
				break;
			buf_append(out, safe + i, l);
			width += cw;
			i += l;
		}
		buf_puts(out, ELLIPSIS);
		width += 1;
	}
	if (pad)
		for (; width < cols; width++)
			buf_putc(out, ' ');
	return width;
}
