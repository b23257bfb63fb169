/* SPDX-License-Identifier: GPL-3.0-or-later */
/* employee: the record every backend and screen exchanges, its validation
 * rules (those of contrib/reference-api/openapi.yaml) and the badge codecs.
 *
 * A struct employee owns its strings; employee_free() releases them. The
 * version is opaque to screens: backends fill it and send it back as a
 * precondition. An empty version means "new record". */
#ifndef EMPDIR_EMPLOYEE_H
#define EMPDIR_EMPLOYEE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define EMP_ID_MAX 36
#define EMP_VERSION_MAX 64
#define EMP_TEXT_MAX_CHARS 100
#define EMP_BADGES_MAX 20
#define EMP_BADGE_MAX_CHARS 50

struct employee {
	char id[EMP_ID_MAX + 1];
	char version[EMP_VERSION_MAX + 1];
	char *fullname;   /* owned; never NULL after employee_init() */
	char *location;
	char *job_title;
	struct strvec badges;
};

enum employee_field {
	EF_FULLNAME,
	EF_JOB_TITLE,
	EF_LOCATION,
	EF_BADGES,
	EF_COUNT
};

/* One message per field, "" when the field is fine. */
struct employee_problems {
	char msg[EF_COUNT][128];
	int count;
};

void employee_init(struct employee *e);
void employee_free(struct employee *e);
void employee_copy(struct employee *dst, const struct employee *src);
/* Replace one text field (copies s). */
void employee_set(struct employee *e, enum employee_field f, const char *s);
const char *employee_get(const struct employee *e, enum employee_field f);
const char *employee_field_label(enum employee_field f);
const char *employee_field_key(enum employee_field f); /* "fullname", ... */
/* Same fullname, location, job_title and badges (id and version ignored). */
bool employee_same_content(const struct employee *a, const struct employee *b);

/* Trim every field in place and check the contract's rules. Returns true when
 * the record is valid; otherwise p says what is wrong with which field. */
bool employee_normalize(struct employee *e, struct employee_problems *p);
/* Check one text value (already trimmed) against the text-field rules. */
bool employee_check_text(const char *s, size_t max_chars, char *msg, size_t msgsz);
/* Trim surrounding white space (ASCII and Unicode spaces) into a new string. */
char *text_trim_dup(const char *s);

/* Badges as stored in the table's text column. */
enum badge_format { BADGES_JSON, BADGES_COMMA };
/* Decode stored badges: a JSON array of strings, or (legacy) a comma-separated
 * list. NULL or "" gives no badges. Sets *fmt to what it found. */
void badges_decode(const char *text, struct strvec *out, enum badge_format *fmt);
/* Encode for storage: JSON as Python's json.dumps(..., ensure_ascii=False)
 * writes it (the seed app reads it back unchanged), or comma-separated. */
void badges_encode(const struct strvec *b, enum badge_format fmt, struct buf *out);
/* For editing in one line: "a, b, c" with "\," and "\\" escapes. */
void badges_to_line(const struct strvec *b, struct buf *out);
void badges_from_line(const char *line, struct strvec *out);

/* A new random UUID (v4), lower-case, 36 characters plus NUL. */
void uuid_v4(char out[37]);

/* The content version the offline and pg backends share: the MD5 (hex) of
 * id, fullname, location, job_title and the stored badges text, separated by
 * U+001F; NULL badges hash as U+001E. The pg backend computes the same in SQL,
 * so a version read through one can be checked through the other. */
void employee_content_version(const char *id, const char *fullname, const char *location,
			      const char *job_title, const char *badges_text, char out[33]);

#endif
