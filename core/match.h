/* SPDX-License-Identifier: GPL-3.0-or-later */
/* match: the case-insensitive substring test behind every search.
 *
 * Backends that cannot ask an index for the exact answer (the offline
 * snapshot after its trigram prefilter, a scan) decide with this, so a search
 * means the same thing everywhere: the filter, folded to lower case code
 * point by code point, occurs in the folded field. A match_needle owns its
 * folded copy; match_needle_free() releases it. */
#ifndef EMPDIR_MATCH_H
#define EMPDIR_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct match_needle {
	struct buf folded;
	bool needs_decode; /* the filter has characters that JSON escapes or uses */
	struct buf scratch;
};

void match_needle_init(struct match_needle *n, const char *filter);
void match_needle_free(struct match_needle *n);
/* Append the lower-case fold of s[0..len) to out (invalid bytes kept as is). */
void match_fold(struct buf *out, const char *s, size_t len);
bool match_text(struct match_needle *n, const char *s, size_t len);
/* Stored badges text (JSON array or comma list): matches a badge's text, not
 * the punctuation around it. */
bool match_badges(struct match_needle *n, const char *stored);

#endif
