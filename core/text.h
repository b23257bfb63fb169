/* SPDX-License-Identifier: GPL-3.0-or-later */
/* text: the single sanitiser for untrusted text, and display widths.
 *
 * Everything that comes from a database, the API, AWS or a file goes through
 * text_sanitize() before it reaches a terminal, the screen or stderr. The
 * result is valid UTF-8 in which every code point has a known, non-negative
 * width (wcwidth) and nothing can move the cursor or talk to the terminal.
 * Width helpers assume sanitised input. Results go into caller-owned bufs. */
#ifndef EMPDIR_TEXT_H
#define EMPDIR_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Append the safe form of s[0..n) to out and return its width in columns.
 * - invalid UTF-8: one U+FFFD per run of bad bytes;
 * - C0 controls and DEL: their visible Control Pictures (ESC shows as U+241B);
 * - C1 controls, line/paragraph separators, bidi controls and any other
 *   non-printable code point: U+FFFD, so tampering stays visible;
 * - invisible format characters (zero-width spaces and joiners, variation
 *   selectors, skin-tone modifiers, tags, soft hyphen) are dropped, so that
 *   what is drawn has the width wcwidth() predicts;
 * - combining marks stay on their base (at most 4); an orphan gets U+25CC;
 * - at most max_cols columns are kept (0: no limit); the rest is cut at a
 *   character boundary and "…" is appended. */
int text_sanitize(struct buf *out, const char *s, size_t n, int max_cols);

/* The one way a message from a server (AWS, the API, PostgreSQL) joins our
 * own: its first line only (first_line) or all of it with line breaks shown
 * as placeholders, sanitised FIRST and only then stripped of every secret
 * (NULL-terminated list; NULL, empty and entries under 4 bytes skipped), so
 * that a secret split by an invisible character (U+00AD, U+200B) is caught
 * once the sanitiser has dropped it. Each secret's occurrences become
 * "<redacted>"; the result is then fitted to max_cols (0: no limit).
 * Intermediate copies are wiped before they are freed. */
void text_safe_message(struct buf *out, const char *msg, size_t n, const char *const *secrets,
		       int max_cols, int first_line);

/* Sanitise a NUL-terminated string into a fresh malloc'd string. */
char *text_safe_dup(const char *s);

/* Width in columns of sanitised text (first n bytes). */
int text_width(const char *safe);
int text_width_n(const char *safe, size_t n);

/* Append safe text fitted to exactly cols columns: cut on a character
 * boundary with "…" when too long, padded with spaces when short (when pad).
 * Returns the width appended. */
int text_fit(struct buf *out, const char *safe, int cols, int pad);

/* Decode one UTF-8 code point from s[0..n). Returns its byte length (>= 1)
 * and sets *cp, or returns 0 for an invalid sequence (then *cp is U+FFFD and
 * one byte should be skipped). */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);
size_t utf8_encode(uint32_t cp, char out[4]);
/* Number of code points in valid UTF-8; (size_t)-1 when s is not valid UTF-8. */
size_t utf8_count(const char *s);

#endif
