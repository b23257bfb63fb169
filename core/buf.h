/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buf and strvec: the two growable containers everything else uses.
 *
 * struct buf is a NUL-terminated byte string that grows on append; the owner
 * calls buf_free(). struct strvec is a vector of owned C strings; strvec_free()
 * frees the strings and the array. Allocation failure aborts (xmalloc style):
 * an admin tool cannot do anything useful out of memory, and it keeps every
 * caller free of half-built states. */
#ifndef EMPDIR_BUF_H
#define EMPDIR_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated when cap > 0 */
	size_t len;
	size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);          /* length 0, keeps memory */
void buf_free(struct buf *b);
const char *buf_str(const struct buf *b); /* "" when empty and unallocated */
char *buf_steal(struct buf *b);         /* caller owns the result (never NULL) */

struct strvec {
	char **v;
	size_t n;
	size_t cap;
};

#define STRVEC_INIT {NULL, 0, 0}

void strvec_push(struct strvec *sv, const char *s);        /* copies s */
void strvec_push_n(struct strvec *sv, const char *s, size_t n);
void strvec_clear(struct strvec *sv);
void strvec_free(struct strvec *sv);
void strvec_copy(struct strvec *dst, const struct strvec *src);
bool strvec_equal(const struct strvec *a, const struct strvec *b);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
