/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "employee.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wctype.h>

#include <cjson/cJSON.h>

#include "text.h"

void employee_init(struct employee *e)
{
	memset(e, 0, sizeof *e);
	e->fullname = xstrdup("");
	e->location = xstrdup("");
	e->job_title = xstrdup("");
}

void employee_free(struct employee *e)
{
	free(e->fullname);
	free(e->location);
	free(e->job_title);
	strvec_free(&e->badges);
	memset(e, 0, sizeof *e);
}

void employee_copy(struct employee *dst, const struct employee *src)
{
	if (dst == src)
		return;
	memcpy(dst->id, src->id, sizeof dst->id);
	memcpy(dst->version, src->version, sizeof dst->version);
	for (int f = EF_FULLNAME; f < EF_BADGES; f++)
		employee_set(dst, (enum employee_field)f, employee_get(src, (enum employee_field)f));
	strvec_copy(&dst->badges, &src->badges);
}

static char **field_slot(struct employee *e, enum employee_field f)
{
	switch (f) {
	case EF_FULLNAME: return &e->fullname;
	case EF_LOCATION: return &e->location;
	case EF_JOB_TITLE: return &e->job_title;
	default: return NULL;
	}
}

void employee_set(struct employee *e, enum employee_field f, const char *s)
{
	char **slot = field_slot(e, f);
	if (!slot)
		return;
	char *copy = xstrdup(s ? s : "");
	free(*slot);
	*slot = copy;
}

const char *employee_get(const struct employee *e, enum employee_field f)
{
	switch (f) {
	case EF_FULLNAME: return e->fullname ? e->fullname : "";
	case EF_LOCATION: return e->location ? e->location : "";
	case EF_JOB_TITLE: return e->job_title ? e->job_title : "";
	default: return "";
	}
}

const char *employee_field_label(enum employee_field f)
{
	static const char *labels[EF_COUNT] = {"Name", "Title", "Location", "Badges"};
	return (unsigned)f < EF_COUNT ? labels[f] : "?";
}

const char *employee_field_key(enum employee_field f)
{
	static const char *keys[EF_COUNT] = {"fullname", "job_title", "location", "badges"};
	return (unsigned)f < EF_COUNT ? keys[f] : "?";
}

bool employee_same_content(const struct employee *a, const struct employee *b)
{
	return strcmp(a->fullname, b->fullname) == 0 && strcmp(a->location, b->location) == 0 &&
	       strcmp(a->job_title, b->job_title) == 0 && strvec_equal(&a->badges, &b->badges);
}

/* White space as Python's str.strip() sees it, which is what the reference
 * server applies: ASCII space and controls 0x09-0x0D, 0x1C-0x1F, and the
 * Unicode spaces. */
static bool is_trim_space(uint32_t c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85 ||
	       c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
	       c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

char *text_trim_dup(const char *s)
{
	size_t n = strlen(s), begin = 0, end = 0;
	bool seen = false;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_decode(s + i, n - i, &c);
		if (l == 0)
			l = 1, c = 0xFFFD; /* keep invalid bytes; validation rejects them */
		if (!is_trim_space(c)) {
			if (!seen)
				begin = i;
			seen = true;
			end = i + l;
		}
		i += l;
	}
	return seen ? xstrndup(s + begin, end - begin) : xstrdup("");
}

bool employee_check_text(const char *s, size_t max_chars, char *msg, size_t msgsz)
{
	size_t n = strlen(s), chars = 0;
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_decode(s + i, n - i, &c);
		if (l == 0) {
			snprintf(msg, msgsz, "is not valid UTF-8 text");
			return false;
		}
		if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
			snprintf(msg, msgsz, "must not contain control characters");
			return false;
		}
		i += l;
		chars++;
	}
	if (chars == 0) {
		snprintf(msg, msgsz, "is required");
		return false;
	}
	if (chars > max_chars) {
		snprintf(msg, msgsz, "is %zu characters long; at most %zu are allowed", chars, max_chars);
		return false;
	}
	msg[0] = '\0';
	return true;
}

bool employee_normalize(struct employee *e, struct employee_problems *p)
{
	memset(p, 0, sizeof *p);
	for (int f = EF_FULLNAME; f < EF_BADGES; f++) {
		char **slot = field_slot(e, (enum employee_field)f);
		char *t = text_trim_dup(*slot);
		free(*slot);
		*slot = t;
		if (!employee_check_text(t, EMP_TEXT_MAX_CHARS, p->msg[f], sizeof p->msg[f]))
			p->count++;
	}
	struct strvec trimmed = STRVEC_INIT;
	char *bad = p->msg[EF_BADGES];
	size_t badsz = sizeof p->msg[EF_BADGES];
	for (size_t i = 0; i < e->badges.n; i++) {
		char *t = text_trim_dup(e->badges.v[i]);
		char why[96];
		if (!bad[0] && !employee_check_text(t, EMP_BADGE_MAX_CHARS, why, sizeof why))
			snprintf(bad, badsz, "badge %zu %s", i + 1, why);
		for (size_t j = 0; !bad[0] && j < trimmed.n; j++)
			if (strcmp(trimmed.v[j], t) == 0)
				snprintf(bad, badsz, "badge %zu repeats badge %zu", i + 1, j + 1);
		strvec_push(&trimmed, t);
		free(t);
	}
	if (!bad[0] && trimmed.n > EMP_BADGES_MAX)
		snprintf(bad, badsz, "%zu badges; at most %d are allowed", trimmed.n, EMP_BADGES_MAX);
	if (bad[0])
		p->count++;
	strvec_free(&e->badges);
	e->badges = trimmed;
	return p->count == 0;
}

/* ---- badges ---- */

void badges_decode(const char *text, struct strvec *out, enum badge_format *fmt)
{
	strvec_clear(out);
	if (fmt)
		*fmt = BADGES_JSON;
	if (!text || !*text)
		return;
	const char *p = text;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '[') {
		/* Whole text must be the array: '["a"] x' is not JSON. */
		cJSON *arr = cJSON_ParseWithOpts(p, NULL, true);
		if (cJSON_IsArray(arr)) {
			bool ok = true;
			cJSON *it;
			cJSON_ArrayForEach(it, arr)
				if (!cJSON_IsString(it))
					ok = false;
			if (ok) {
				cJSON_ArrayForEach(it, arr)
					strvec_push(out, it->valuestring);
				cJSON_Delete(arr);
				return;
			}
		}
		cJSON_Delete(arr);
	}
	/* Legacy: "Mac User,Coffee Lover" (the seed's request.form split). */
	if (fmt)
		*fmt = BADGES_COMMA;
	const char *start = text;
	for (const char *q = text;; q++) {
		if (*q == ',' || *q == '\0') {
			char *piece = xstrndup(start, (size_t)(q - start));
			char *t = text_trim_dup(piece);
			if (*t)
				strvec_push(out, t);
			free(t);
			free(piece);
			if (*q == '\0')
				break;
			start = q + 1;
		}
	}
}

static void json_string(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': buf_puts(out, "\\\""); break;
		case '\\': buf_puts(out, "\\\\"); break;
		case '\n': buf_puts(out, "\\n"); break;
		case '\r': buf_puts(out, "\\r"); break;
		case '\t': buf_puts(out, "\\t"); break;
		case '\b': buf_puts(out, "\\b"); break;
		case '\f': buf_puts(out, "\\f"); break;
		default:
			if (*p < 0x20) /* as Python: DEL and above stay raw */
				buf_printf(out, "\\u%04x", *p);
			else
				buf_putc(out, (char)*p);
		}
	}
	buf_putc(out, '"');
}

void badges_encode(const struct strvec *b, enum badge_format fmt, struct buf *out)
{
	if (fmt == BADGES_COMMA) {
		for (size_t i = 0; i < b->n; i++) {
			if (i)
				buf_putc(out, ',');
			buf_puts(out, b->v[i]);
		}
		return;
	}
	buf_putc(out, '[');
	for (size_t i = 0; i < b->n; i++) {
		if (i)
			buf_puts(out, ", ");
		json_string(out, b->v[i]);
	}
	buf_putc(out, ']');
}

void badges_to_line(const struct strvec *b, struct buf *out)
{
	for (size_t i = 0; i < b->n; i++) {
		if (i)
			buf_puts(out, ", ");
		for (const char *p = b->v[i]; *p; p++) {
			if (*p == ',' || *p == '\\')
				buf_putc(out, '\\');
			buf_putc(out, *p);
		}
	}
}

void badges_from_line(const char *line, struct strvec *out)
{
	strvec_clear(out);
	struct buf cur = BUF_INIT;
	for (const char *p = line;; p++) {
		if (*p == '\\' && (p[1] == ',' || p[1] == '\\')) {
			buf_putc(&cur, p[1]);
			p++;
			continue;
		}
		if (*p == ',' || *p == '\0') {
			char *t = text_trim_dup(buf_str(&cur));
			if (*t)
				strvec_push(out, t);
			free(t);
			buf_reset(&cur);
			if (*p == '\0')
				break;
			continue;
		}
		buf_putc(&cur, *p);
	}
	buf_free(&cur);
}

/* ---- ids and versions ---- */

void uuid_v4(char out[37])
{
	unsigned char r[16];
	size_t got = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		while (got < sizeof r) {
			ssize_t k = read(fd, r + got, sizeof r - got);
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		close(fd);
	}
	if (got < sizeof r) {
		/* No /dev/urandom (a chroot?): still unique enough per process. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
		for (size_t i = 0; i < sizeof r; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			r[i] = (unsigned char)x;
		}
	}
	r[6] = (unsigned char)((r[6] & 0x0F) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3F) | 0x80);
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 15];
	}
	out[o] = '\0';
}

void employee_content_version(const char *id, const char *fullname, const char *location,
			      const char *job_title, const char *badges_text, char out[33])
{
	static const char us = 0x1F, rs = 0x1E;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
	EVP_DigestUpdate(ctx, id, strlen(id));
	EVP_DigestUpdate(ctx, &us, 1);
	EVP_DigestUpdate(ctx, fullname, strlen(fullname));
	EVP_DigestUpdate(ctx, &us, 1);
	EVP_DigestUpdate(ctx, location, strlen(location));
	EVP_DigestUpdate(ctx, &us, 1);
	EVP_DigestUpdate(ctx, job_title, strlen(job_title));
	EVP_DigestUpdate(ctx, &us, 1);
	if (badges_text)
		EVP_DigestUpdate(ctx, badges_text, strlen(badges_text));
	else
		EVP_DigestUpdate(ctx, &rs, 1);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
}
