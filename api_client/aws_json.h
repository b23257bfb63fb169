/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aws_json: strict reading of AWS JSON answers.
 *
 * Each getter checks one member of an object: absent (or null) is fine
 * unless `required`; present with the wrong type is an error. Errors name
 * the member by its path ("MetricAlarms[3].StateValue is not a string"),
 * never its value, so a hostile answer cannot put text into our messages.
 * Strings come back as fresh copies (xstrdup; "" when absent) the caller
 * frees. */
#ifndef EMPDIR_AWS_JSON_H
#define EMPDIR_AWS_JSON_H

#include <stdbool.h>

#include <cJSON.h>

#include "../core/err.h"

/* A member path for messages: "<base>.<key>" or "<base>[i]". */
struct aj_path {
	char s[160];
};
void aj_at(struct aj_path *out, const char *base, const char *key);
void aj_index(struct aj_path *out, const char *base, int i);

enum status aj_string(const cJSON *obj, const char *base, const char *key, bool required,
		      char **out, struct err *e);
/* A finite number. *present (may be NULL) says whether it was there. */
enum status aj_number(const cJSON *obj, const char *base, const char *key, bool required,
		      double *out, bool *present, struct err *e);
/* A whole number in [lo, hi]. */
enum status aj_int(const cJSON *obj, const char *base, const char *key, bool required, int lo,
		   int hi, int *out, struct err *e);
enum status aj_bool(const cJSON *obj, const char *base, const char *key, bool required,
		    bool *out, struct err *e);
/* *out is the array or object, or NULL when absent. */
enum status aj_array(const cJSON *obj, const char *base, const char *key, bool required,
		     const cJSON **out, struct err *e);
enum status aj_object(const cJSON *obj, const char *base, const char *key, bool required,
		      const cJSON **out, struct err *e);

/* The answer's root must be an object. */
enum status aj_root(const cJSON *root, struct err *e);

#endif
