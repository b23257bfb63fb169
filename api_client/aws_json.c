/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aws_json: strict getters for AWS answers. See aws_json.h. */
#include "aws_json.h"

#include <math.h>
#include <stdio.h>

#include "../core/buf.h"

void aj_at(struct aj_path *out, const char *base, const char *key)
{
	if (base && *base)
		snprintf(out->s, sizeof out->s, "%s.%s", base, key);
	else
		snprintf(out->s, sizeof out->s, "%s", key);
}

void aj_index(struct aj_path *out, const char *base, int i)
{
	snprintf(out->s, sizeof out->s, "%s[%d]", base ? base : "", i);
}

/* The member, NULL when absent or null; ST_FAIL when required and absent. */
static enum status member(const cJSON *obj, const char *base, const char *key, bool required,
			  const cJSON **out, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (v && cJSON_IsNull(v))
		v = NULL;
	*out = v;
	if (!v && required) {
		struct aj_path p;
		aj_at(&p, base, key);
		return err_set(e, ST_FAIL, "%s is missing", p.s);
	}
	return ST_OK;
}

static enum status wrong(const char *base, const char *key, const char *what, struct err *e)
{
	struct aj_path p;
	aj_at(&p, base, key);
	return err_set(e, ST_FAIL, "%s is not %s", p.s, what);
}

enum status aj_string(const cJSON *obj, const char *base, const char *key, bool required,
		      char **out, struct err *e)
{
	const cJSON *v;
	*out = NULL;
	enum status st = member(obj, base, key, required, &v, e);
	if (st != ST_OK)
		return st;
	if (v && !(cJSON_IsString(v) && v->valuestring))
		return wrong(base, key, "a string", e);
	*out = xstrdup(v ? v->valuestring : "");
	return ST_OK;
}

enum status aj_number(const cJSON *obj, const char *base, const char *key, bool required,
		      double *out, bool *present, struct err *e)
{
	const cJSON *v;
	*out = 0;
	if (present)
		*present = false;
	enum status st = member(obj, base, key, required, &v, e);
	if (st != ST_OK || !v)
		return st;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return wrong(base, key, "a number", e);
	*out = v->valuedouble;
	if (present)
		*present = true;
	return ST_OK;
}

enum status aj_int(const cJSON *obj, const char *base, const char *key, bool required, int lo,
		   int hi, int *out, struct err *e)
{
	double d;
	bool present;
	*out = 0;
	enum status st = aj_number(obj, base, key, required, &d, &present, e);
	if (st != ST_OK || !present)
		return st;
	if (d != floor(d) || d < lo || d > hi)
		return wrong(base, key, "a whole number in range", e);
	*out = (int)d;
	return ST_OK;
}

enum status aj_bool(const cJSON *obj, const char *base, const char *key, bool required,
		    bool *out, struct err *e)
{
	const cJSON *v;
	*out = false;
	enum status st = member(obj, base, key, required, &v, e);
	if (st != ST_OK || !v)
		return st;
	if (!cJSON_IsBool(v))
		return wrong(base, key, "true or false", e);
	*out = cJSON_IsTrue(v);
	return ST_OK;
}

enum status aj_array(const cJSON *obj, const char *base, const char *key, bool required,
		     const cJSON **out, struct err *e)
{
	enum status st = member(obj, base, key, required, out, e);
	if (st == ST_OK && *out && !cJSON_IsArray(*out)) {
		*out = NULL;
		return wrong(base, key, "a list", e);
	}
	return st;
}

enum status aj_object(const cJSON *obj, const char *base, const char *key, bool required,
		      const cJSON **out, struct err *e)
{
	enum status st = member(obj, base, key, required, out, e);
	if (st == ST_OK && *out && !cJSON_IsObject(*out)) {
		*out = NULL;
		return wrong(base, key, "an object", e);
	}
	return st;
}

enum status aj_root(const cJSON *root, struct err *e)
{
	if (!cJSON_IsObject(root))
		return err_set(e, ST_FAIL, "the answer is not a JSON object");
	return ST_OK;
}
