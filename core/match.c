/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "match.h"

#include <string.h>
#include <wctype.h>

#include "employee.h"
#include "text.h"

void match_fold(struct buf *out, const char *s, size_t len)
{
	buf_reserve(out, len);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			buf_putc(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
			i++;
			continue;
		}
		uint32_t cp;
		size_t k = utf8_decode(s + i, len - i, &cp);
		if (!k) {
			buf_putc(out, (char)c);
			i++;
			continue;
		}
		char enc[4];
		size_t m = utf8_encode((uint32_t)towlower((wint_t)cp), enc);
		buf_append(out, enc, m);
		i += k;
	}
}

void match_needle_init(struct match_needle *n, const char *filter)
{
	memset(n, 0, sizeof *n);
	match_fold(&n->folded, filter, strlen(filter));
	n->needs_decode = strpbrk(buf_str(&n->folded), "\"\\[],") != NULL;
}

void match_needle_free(struct match_needle *n)
{
	buf_free(&n->folded);
	buf_free(&n->scratch);
}

bool match_text(struct match_needle *n, const char *s, size_t len)
{
	if (n->folded.len == 0)
		return true;
	buf_reset(&n->scratch);
	match_fold(&n->scratch, s, len);
	return memmem(n->scratch.data, n->scratch.len, n->folded.data, n->folded.len) != NULL;
}

bool match_badges(struct match_needle *n, const char *stored)
{
	if (!stored || !*stored)
		return n->folded.len == 0;
	if (!n->needs_decode && !strchr(stored, '\\'))
		return match_text(n, stored, strlen(stored));
	struct strvec badges = STRVEC_INIT;
	enum badge_format fmt;
	badges_decode(stored, &badges, &fmt);
	bool hit = false;
	for (size_t i = 0; i < badges.n && !hit; i++)
		hit = match_text(n, badges.v[i], strlen(badges.v[i]));
	strvec_free(&badges);
	return hit;
}
