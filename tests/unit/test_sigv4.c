/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests for api_client/sigv4: the official AWS SigV4 test suite in both of
 * its layouts (tests/data/sigv4/legacy and .../v4, or the directory
 * in EMPDIR_SIGV4_VECTORS), plus unit tests of the building blocks and of
 * the error paths. Run from the repository root. One "ok"/"FAIL" line per
 * vector (and per signing method for v4). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "api_client/sigv4.h"
#include "core/buf.h"
#include "core/err.h"
#include "tests/unit/harness.h"

#define DEFAULT_VECTORS "tests/data/sigv4"

/* Fixed parameters of the suite (vectors README, "Fixed parameters"). The
 * legacy layout has no context.json, so they are spelled out here. */
#define FIX_AKID "AKIDEXAMPLE"
#define FIX_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define FIX_DATE "20150830T123600Z"
#define FIX_REGION "us-east-1"
#define FIX_SERVICE "service"
/* get-vanilla-with-session-token (README, "session-token cases"). */
#define FIX_TOKEN_VANILLA "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
/* post-sts-header-* (legacy/post-sts-token/readme.txt). */
#define FIX_TOKEN_STS                                                                         \
	"AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRX" \
	"mxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsbu"   \
	"rEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iP"   \
	"PkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

#define LEGACY_CASES 34
#define V4_CASES 38

/* ---- small helpers ------------------------------------------------------ */

static void report(const char *name, bool ok)
{
	if (ok) {
		harness_passed++;
		printf("ok   %s\n", name);
	} else {
		harness_failed++;
		printf("FAIL %s\n", name);
	}
	fflush(stdout);
}

static bool read_file(const char *path, struct buf *out)
{
	buf_reset(out);
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(out, chunk, n);
	bool ok = !ferror(f);
	fclose(f);
	if (ok && !out->cap)
		buf_puts(out, "");
	return ok;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compare and, on a mismatch, show both sides on stderr. */
static bool same(const char *vector, const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return true;
	fprintf(stderr, "  %s: %s differs\n  --- want\n%s\n  --- got\n%s\n  ---\n", vector, what,
		want, got);
	return false;
}

/* ---- parsing the .req / request.txt files ------------------------------- */

struct parsed_req {
	struct buf method, path, query, host, body;
	bool has_query;
	struct strvec names, values;
};

static void parsed_free(struct parsed_req *r)
{
	buf_free(&r->method);
	buf_free(&r->path);
	buf_free(&r->query);
	buf_free(&r->host);
	buf_free(&r->body);
	strvec_free(&r->names);
	strvec_free(&r->values);
}

/* Remove header i (by swapping down, order kept). */
static void remove_header(struct parsed_req *r, size_t i)
{
	free(r->names.v[i]);
	free(r->values.v[i]);
	for (size_t j = i + 1; j < r->names.n; j++) {
		r->names.v[j - 1] = r->names.v[j];
		r->values.v[j - 1] = r->values.v[j];
	}
	r->names.n--;
	r->values.n--;
}

/* An HTTP/1.1 request as the suite writes it: "METHOD target HTTP/1.1"
 * (the target may contain spaces), header lines "Name:value" with obs-fold
 * continuation lines (leading SP/HTAB), an empty line and the body. */
static bool parse_request(const char *text, size_t len, struct parsed_req *r)
{
	const char *p = text, *end = text + len;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *line_end = nl ? nl : end;
	size_t llen = (size_t)(line_end - p);
	if (llen && p[llen - 1] == '\r')
		llen--;
	const char *sp1 = memchr(p, ' ', llen);
	const char *sp2 = NULL;
	for (const char *q = p + llen; q > p; q--)
		if (q[-1] == ' ') {
			sp2 = q - 1;
			break;
		}
	if (!sp1 || !sp2 || sp2 <= sp1)
		return false;
	buf_append(&r->method, p, (size_t)(sp1 - p));
	const char *target = sp1 + 1;
	size_t tlen = (size_t)(sp2 - target);
	const char *qm = memchr(target, '?', tlen);
	if (qm) {
		buf_append(&r->path, target, (size_t)(qm - target));
		buf_append(&r->query, qm + 1, tlen - (size_t)(qm - target) - 1);
		r->has_query = true;
	} else {
		buf_append(&r->path, target, tlen);
	}
	p = nl ? nl + 1 : end;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line_end = nl ? nl : end;
		llen = (size_t)(line_end - p);
		if (llen && p[llen - 1] == '\r')
			llen--;
		if (llen == 0) {
			p = nl ? nl + 1 : end;
			buf_append(&r->body, p, (size_t)(end - p));
			p = end;
			break;
		}
		if (p[0] == ' ' || p[0] == '\t') {
			/* obs-fold: the line break becomes one space. */
			if (!r->values.n)
				return false;
			struct buf v = BUF_INIT;
			buf_puts(&v, r->values.v[r->values.n - 1]);
			buf_putc(&v, ' ');
			buf_append(&v, p, llen);
			free(r->values.v[r->values.n - 1]);
			r->values.v[r->values.n - 1] = buf_steal(&v);
		} else {
			const char *colon = memchr(p, ':', llen);
			if (!colon)
				return false;
			strvec_push_n(&r->names, p, (size_t)(colon - p));
			strvec_push_n(&r->values, colon + 1, llen - (size_t)(colon - p) - 1);
		}
		p = nl ? nl + 1 : end;
	}
	if (!r->body.cap)
		buf_puts(&r->body, "");

	/* Host goes into req.host. */
	for (size_t i = 0; i < r->names.n; i++) {
		if (strcasecmp(r->names.v[i], "host") == 0) {
			const char *v = r->values.v[i];
			while (*v == ' ' || *v == '\t')
				v++;
			buf_puts(&r->host, v);
			remove_header(r, i);
			break;
		}
	}
	return r->host.len > 0;
}

static const char *find_header(const struct parsed_req *r, const char *name, size_t *index)
{
	for (size_t i = 0; i < r->names.n; i++)
		if (strcasecmp(r->names.v[i], name) == 0) {
			*index = i;
			return r->values.v[i];
		}
	return NULL;
}

/* Sign a parsed request; headers[] must have room for r->names.n entries. */
static enum status sign_parsed(const struct parsed_req *r, const struct sigv4_credentials *creds,
			       const char *region, const char *service, const char *date,
			       const struct sigv4_options *o, struct sigv4_result *out,
			       struct err *e)
{
	struct sigv4_header *h = xcalloc(r->names.n + 1, sizeof *h);
	for (size_t i = 0; i < r->names.n; i++) {
		h[i].name = r->names.v[i];
		h[i].value = r->values.v[i];
	}
	struct sigv4_request req = {
		.method = buf_str(&r->method),
		.host = buf_str(&r->host),
		.path = buf_str(&r->path),
		.query = r->has_query ? buf_str(&r->query) : NULL,
		.headers = h,
		.n_headers = r->names.n,
		.body = r->body.data,
		.body_len = r->body.len,
	};
	enum status st = sigv4_sign_request(&req, creds, region, service, date, o, out, e);
	free(h);
	return st;
}

/* ---- legacy layout: <case>/<case>.req .creq .sts .authz ----------------- */

static bool run_legacy_case(const char *dir, const char *label)
{
	const char *base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	struct buf path = BUF_INIT, req_text = BUF_INIT, creq = BUF_INIT, sts = BUF_INIT,
		   authz = BUF_INIT;
	struct parsed_req r = {0};
	struct sigv4_result out = SIGV4_RESULT_INIT;
	struct err e = {0};
	bool ok = false;

#define LEGACY_READ(ext, into)                                                           \
	do {                                                                             \
		buf_reset(&path);                                                        \
		buf_printf(&path, "%s/%s.%s", dir, base, ext);                           \
		if (!read_file(buf_str(&path), &into)) {                                 \
			fprintf(stderr, "  %s: cannot read %s\n", label, buf_str(&path)); \
			goto done;                                                       \
		}                                                                        \
	} while (0)
	LEGACY_READ("req", req_text);
	LEGACY_READ("creq", creq);
	LEGACY_READ("sts", sts);
	LEGACY_READ("authz", authz);
#undef LEGACY_READ

	if (!parse_request(buf_str(&req_text), req_text.len, &r)) {
		fprintf(stderr, "  %s: cannot parse the .req file\n", label);
		goto done;
	}
	/* The legacy .req files already carry X-Amz-Date (the signer adds it)
	 * and, for post-sts-header-before, X-Amz-Security-Token (the signer
	 * adds it from the credentials). */
	size_t i;
	const char *v = find_header(&r, "x-amz-date", &i);
	if (v) {
		if (strcmp(v, FIX_DATE) != 0) {
			fprintf(stderr, "  %s: unexpected X-Amz-Date %s\n", label, v);
			goto done;
		}
		remove_header(&r, i);
	}
	struct sigv4_credentials creds = {FIX_AKID, FIX_SECRET, NULL};
	struct sigv4_options o = {0};
	char *token = NULL;
	v = find_header(&r, "x-amz-security-token", &i);
	if (v) {
		token = xstrdup(v);
		remove_header(&r, i);
	} else if (strcmp(base, "get-vanilla-with-session-token") == 0) {
		token = xstrdup(FIX_TOKEN_VANILLA);
	} else if (strcmp(base, "post-sts-header-after") == 0) {
		/* The token travels in the request but is added after signing. */
		token = xstrdup(FIX_TOKEN_STS);
		o.omit_session_token = true;
	}
	creds.session_token = token;

	enum status st = sign_parsed(&r, &creds, FIX_REGION, FIX_SERVICE, FIX_DATE, &o, &out, &e);
	free(token);
	if (st != ST_OK) {
		fprintf(stderr, "  %s: signing failed: %s\n", label, e.msg);
		goto done;
	}
	ok = same(label, "canonical request", buf_str(&out.canonical_request), buf_str(&creq)) &&
	     same(label, "string to sign", buf_str(&out.string_to_sign), buf_str(&sts)) &&
	     same(label, "authorization", buf_str(&out.authorization), buf_str(&authz));
done:
	sigv4_result_free(&out);
	parsed_free(&r);
	buf_free(&path);
	buf_free(&req_text);
	buf_free(&creq);
	buf_free(&sts);
	buf_free(&authz);
	return ok;
}

/* Collect legacy case directories: a directory D holding D/<basename>.req. */
static void find_legacy(const char *dir, const char *rel, struct strvec *cases)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			strvec_push(&names, de->d_name);
	closedir(d);
	qsort(names.v, names.n, sizeof *names.v, cmp_str);
	struct buf sub = BUF_INIT, subrel = BUF_INIT, req = BUF_INIT;
	for (size_t i = 0; i < names.n; i++) {
		buf_reset(&sub);
		buf_printf(&sub, "%s/%s", dir, names.v[i]);
		if (!is_dir(buf_str(&sub)))
			continue;
		buf_reset(&subrel);
		buf_printf(&subrel, "%s%s%s", rel, *rel ? "/" : "", names.v[i]);
		buf_reset(&req);
		buf_printf(&req, "%s/%s.req", buf_str(&sub), names.v[i]);
		if (is_file(buf_str(&req)))
			strvec_push(cases, buf_str(&subrel));
		else
			find_legacy(buf_str(&sub), buf_str(&subrel), cases);
	}
	buf_free(&sub);
	buf_free(&subrel);
	buf_free(&req);
	strvec_free(&names);
}

static void run_legacy(const char *root)
{
	struct buf dir = BUF_INIT, label = BUF_INIT, cdir = BUF_INIT;
	buf_printf(&dir, "%s/legacy", root);
	struct strvec cases = STRVEC_INIT;
	find_legacy(buf_str(&dir), "", &cases);
	for (size_t i = 0; i < cases.n; i++) {
		buf_reset(&label);
		buf_printf(&label, "legacy/%s", cases.v[i]);
		buf_reset(&cdir);
		buf_printf(&cdir, "%s/%s", buf_str(&dir), cases.v[i]);
		report(buf_str(&label), run_legacy_case(buf_str(&cdir), buf_str(&label)));
	}
	buf_reset(&label);
	buf_printf(&label, "legacy: %zu cases found (the suite has %d)", cases.n, LEGACY_CASES);
	report(buf_str(&label), cases.n == LEGACY_CASES);
	strvec_free(&cases);
	buf_free(&dir);
	buf_free(&label);
	buf_free(&cdir);
}

/* ---- v4 layout: context.json, request.txt, header-* and query-* ---------- */

struct v4_context {
	char *akid, *secret, *token, *region, *service;
	char date[17];
	long expires;
	bool normalize, sign_body, omit_token;
};

static void v4_context_free(struct v4_context *c)
{
	free(c->akid);
	free(c->secret);
	free(c->token);
	free(c->region);
	free(c->service);
}

static char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(it) ? xstrdup(it->valuestring) : NULL;
}

static bool json_bool(const cJSON *obj, const char *key, bool dflt)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsBool(it) ? cJSON_IsTrue(it) : dflt;
}

static bool parse_context(const char *text, struct v4_context *c)
{
	cJSON *root = cJSON_Parse(text);
	if (!root)
		return false;
	const cJSON *cr = cJSON_GetObjectItemCaseSensitive(root, "credentials");
	c->akid = json_str(cr, "access_key_id");
	c->secret = json_str(cr, "secret_access_key");
	c->token = json_str(cr, "token");
	c->region = json_str(root, "region");
	c->service = json_str(root, "service");
	char *ts = json_str(root, "timestamp"); /* 2015-08-30T12:36:00Z */
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "expiration_in_seconds");
	c->expires = cJSON_IsNumber(exp) ? (long)exp->valuedouble : 0;
	c->normalize = json_bool(root, "normalize", true);
	c->sign_body = json_bool(root, "sign_body", false);
	c->omit_token = json_bool(root, "omit_session_token", false);
	cJSON_Delete(root);
	bool ok = c->akid && c->secret && c->region && c->service && ts;
	if (ok) {
		size_t n = 0;
		for (const char *p = ts; *p && n < 16; p++)
			if (*p != '-' && *p != ':')
				c->date[n++] = *p;
		c->date[n] = '\0';
		ok = n == 16;
	}
	free(ts);
	return ok;
}

static bool v4_read(const char *dir, const char *name, struct buf *into, const char *label)
{
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", dir, name);
	bool ok = read_file(buf_str(&path), into);
	if (!ok)
		fprintf(stderr, "  %s: cannot read %s\n", label, buf_str(&path));
	buf_free(&path);
	return ok;
}

/* The header-signed-request.txt must contain every header we say to add. */
static bool added_headers_match(const struct strvec *add, const char *signed_req, const char *label)
{
	for (size_t i = 0; i < add->n; i++) {
		const char *colon = strchr(add->v[i], ':');
		size_t nlen = (size_t)(colon - add->v[i]);
		const char *value = colon + 2;
		bool found = false;
		for (const char *line = signed_req; line && *line;) {
			const char *nl = strchr(line, '\n');
			size_t llen = nl ? (size_t)(nl - line) : strlen(line);
			if (llen > nlen && line[nlen] == ':' && strncasecmp(line, add->v[i], nlen) == 0 &&
			    llen - nlen - 1 == strlen(value) &&
			    memcmp(line + nlen + 1, value, strlen(value)) == 0)
				found = true;
			line = nl ? nl + 1 : NULL;
		}
		if (!found) {
			fprintf(stderr, "  %s: added header %.*s is not in header-signed-request.txt\n",
				label, (int)nlen, add->v[i]);
			return false;
		}
	}
	return true;
}

/* The query of query-signed-request.txt and ours hold the same parameters. */
static bool presigned_query_matches(const char *ours, const char *signed_req, const char *label)
{
	const char *sp = strchr(signed_req, ' ');
	const char *nl = strchr(signed_req, '\n');
	if (!sp || !nl)
		return false;
	const char *end = nl;
	while (end > sp && end[-1] != ' ')
		end--;
	const char *qm = memchr(sp, '?', (size_t)(end - sp));
	if (!qm || end <= qm + 1)
		return false;
	char *theirs = xstrndup(qm + 1, (size_t)(end - 1 - (qm + 1)));
	struct buf a = BUF_INIT, b = BUF_INIT;
	sigv4_canonical_query(&a, theirs);
	sigv4_canonical_query(&b, ours);
	bool ok = same(label, "presigned query parameters", buf_str(&b), buf_str(&a));
	buf_free(&a);
	buf_free(&b);
	free(theirs);
	return ok;
}

static bool run_v4_case(const char *dir, const char *label, bool presign)
{
	struct buf text = BUF_INIT, creq = BUF_INIT, sts = BUF_INIT, sig = BUF_INIT,
		   sreq = BUF_INIT;
	struct v4_context c = {0};
	struct parsed_req r = {0};
	struct sigv4_result out = SIGV4_RESULT_INIT;
	struct err e = {0};
	bool ok = false;
	const char *pfx = presign ? "query" : "header";
	char name[64];

	if (!v4_read(dir, "context.json", &text, label))
		goto done;
	if (!parse_context(buf_str(&text), &c)) {
		fprintf(stderr, "  %s: cannot parse context.json\n", label);
		goto done;
	}
	if (!v4_read(dir, "request.txt", &text, label))
		goto done;
	if (!parse_request(buf_str(&text), text.len, &r)) {
		fprintf(stderr, "  %s: cannot parse request.txt\n", label);
		goto done;
	}
	snprintf(name, sizeof name, "%s-canonical-request.txt", pfx);
	if (!v4_read(dir, name, &creq, label))
		goto done;
	snprintf(name, sizeof name, "%s-string-to-sign.txt", pfx);
	if (!v4_read(dir, name, &sts, label))
		goto done;
	snprintf(name, sizeof name, "%s-signature.txt", pfx);
	if (!v4_read(dir, name, &sig, label))
		goto done;
	snprintf(name, sizeof name, "%s-signed-request.txt", pfx);
	if (!v4_read(dir, name, &sreq, label))
		goto done;

	struct sigv4_credentials creds = {c.akid, c.secret, c.token};
	struct sigv4_options o = {
		.presign = presign,
		.expires_seconds = c.expires,
		.sign_body = c.sign_body && !presign,
		.omit_session_token = c.omit_token,
		.no_normalize_path = !c.normalize,
	};
	if (sign_parsed(&r, &creds, c.region, c.service, c.date, &o, &out, &e) != ST_OK) {
		fprintf(stderr, "  %s: signing failed: %s\n", label, e.msg);
		goto done;
	}
	ok = same(label, "canonical request", buf_str(&out.canonical_request), buf_str(&creq)) &&
	     same(label, "string to sign", buf_str(&out.string_to_sign), buf_str(&sts)) &&
	     same(label, "signature", buf_str(&out.signature), buf_str(&sig));
	if (ok && !presign) {
		ok = added_headers_match(&out.add_headers, buf_str(&sreq), label);
	} else if (ok) {
		ok = presigned_query_matches(buf_str(&out.presigned_query), buf_str(&sreq), label);
	}
done:
	sigv4_result_free(&out);
	parsed_free(&r);
	v4_context_free(&c);
	buf_free(&text);
	buf_free(&creq);
	buf_free(&sts);
	buf_free(&sig);
	buf_free(&sreq);
	return ok;
}

static void run_v4(const char *root)
{
	struct buf dir = BUF_INIT, label = BUF_INIT, cdir = BUF_INIT, ctx = BUF_INIT;
	buf_printf(&dir, "%s/v4", root);
	struct strvec cases = STRVEC_INIT;
	DIR *d = opendir(buf_str(&dir));
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			buf_reset(&ctx);
			buf_printf(&ctx, "%s/%s/context.json", buf_str(&dir), de->d_name);
			if (is_file(buf_str(&ctx)))
				strvec_push(&cases, de->d_name);
		}
		closedir(d);
	}
	qsort(cases.v, cases.n, sizeof *cases.v, cmp_str);
	for (size_t i = 0; i < cases.n; i++) {
		buf_reset(&cdir);
		buf_printf(&cdir, "%s/%s", buf_str(&dir), cases.v[i]);
		for (int presign = 0; presign <= 1; presign++) {
			buf_reset(&label);
			buf_printf(&label, "v4/%s [%s]", cases.v[i], presign ? "query" : "header");
			report(buf_str(&label), run_v4_case(buf_str(&cdir), buf_str(&label), presign));
		}
	}
	buf_reset(&label);
	buf_printf(&label, "v4: %zu cases found (the suite has %d)", cases.n, V4_CASES);
	report(buf_str(&label), cases.n == V4_CASES);
	strvec_free(&cases);
	buf_free(&dir);
	buf_free(&label);
	buf_free(&cdir);
	buf_free(&ctx);
}

/* ---- unit tests --------------------------------------------------------- */

static char *enc(const char *s, bool keep_slash)
{
	struct buf b = BUF_INIT;
	sigv4_uri_encode(&b, s, strlen(s), keep_slash);
	return buf_steal(&b);
}

static char *cpath(const char *s, bool normalize, bool dbl)
{
	struct buf b = BUF_INIT;
	sigv4_canonical_path(&b, s, normalize, dbl);
	return buf_steal(&b);
}

static char *cquery(const char *s)
{
	struct buf b = BUF_INIT;
	sigv4_canonical_query(&b, s);
	return buf_steal(&b);
}

#define CHECK_FN(call, want)                                                                  \
	do {                                                                                  \
		char *got_ = (call);                                                          \
		bool eq_ = strcmp(got_, want) == 0;                                           \
		if (!eq_)                                                                     \
			fprintf(stderr, "  %s: %s is \"%s\", want \"%s\"\n", harness_current, \
				#call, got_, want);                                           \
		free(got_);                                                                   \
		CHECK(eq_);                                                                   \
	} while (0)

TEST(uri_encode_unreserved_and_utf8)
{
	CHECK_FN(enc("AZaz09-._~", false), "AZaz09-._~");
	CHECK_FN(enc("a b+c/d=e&f%", false), "a%20b%2Bc%2Fd%3De%26f%25");
	CHECK_FN(enc("a/b c", true), "a/b%20c");
	CHECK_FN(enc("\xe1\x88\xb4", false), "%E1%88%B4");
	CHECK_FN(enc("*!'()$", false), "%2A%21%27%28%29%24");
}

TEST(canonical_path_normalise_and_encode)
{
	CHECK_FN(cpath(NULL, true, true), "/");
	CHECK_FN(cpath("", true, true), "/");
	CHECK_FN(cpath("/", true, true), "/");
	CHECK_FN(cpath("/a/./b/../c/", true, true), "/a/c/");
	CHECK_FN(cpath("/a/b/..", true, true), "/a/");
	CHECK_FN(cpath("/a/b/.", true, true), "/a/b/");
	CHECK_FN(cpath("/..", true, true), "/");
	CHECK_FN(cpath("/../../a", true, true), "/a");
	CHECK_FN(cpath("//a///b", true, true), "/a/b");
	CHECK_FN(cpath("/.../a", true, true), "/.../a");
	/* Double encoding (non-S3): the wire path is encoded once more. */
	CHECK_FN(cpath("/a%20b", true, true), "/a%2520b");
	CHECK_FN(cpath("/a b/$x", true, true), "/a%20b/%24x");
	/* S3: no normalisation, single encoding. */
	CHECK_FN(cpath("/a%20b", false, false), "/a%20b");
	CHECK_FN(cpath("/a b", false, false), "/a%20b");
	CHECK_FN(cpath("//a/./b/../", false, false), "//a/./b/../");
	CHECK_FN(cpath("/%e1%88%b4", false, false), "/%E1%88%B4");
	CHECK_FN(cpath("key", false, false), "/key");
}

TEST(canonical_query_sort_and_encode)
{
	CHECK_FN(cquery(NULL), "");
	CHECK_FN(cquery(""), "");
	CHECK_FN(cquery("b=2&a=1&a=0"), "a=0&a=1&b=2");
	CHECK_FN(cquery("Param=Value2&Param-3=Value3"), "Param=Value2&Param-3=Value3");
	CHECK_FN(cquery("a&b=&c=1"), "a=&b=&c=1");
	CHECK_FN(cquery("&&x=1&"), "x=1");
	CHECK_FN(cquery("x=%e1%88%b4"), "x=%E1%88%B4");
	CHECK_FN(cquery("x=a+b"), "x=a%2Bb");
	CHECK_FN(cquery("x=a%20b"), "x=a%20b");
	CHECK_FN(cquery("%zz=1%"), "%25zz=1%25");
	CHECK_FN(cquery("k=a=b"), "k=a%3Db");
	CHECK_FN(cquery("Action=ListUsers&Version=2010-05-08"), "Action=ListUsers&Version=2010-05-08");
}

/* The worked example of the AWS documentation (IAM ListUsers), a second
 * known answer independent of the suite: canonical request hash
 * f536975d..., signature 5d672d79.... */
TEST(aws_docs_iam_list_users)
{
	struct sigv4_header h[] = {
		{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
	};
	struct sigv4_request req = {"GET", "iam.amazonaws.com", "/",
				    "Action=ListUsers&Version=2010-05-08", h, 1, NULL, 0};
	struct sigv4_credentials creds = {FIX_AKID, FIX_SECRET, NULL};
	struct sigv4_result out = SIGV4_RESULT_INIT;
	struct err e = {0};
	enum status st = sigv4_sign_request(&req, &creds, "us-east-1", "iam", FIX_DATE, NULL, &out, &e);
	bool ok = st == ST_OK &&
		  strstr(buf_str(&out.string_to_sign),
			 "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59") &&
		  strcmp(buf_str(&out.authorization),
			 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/"
			 "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
			 "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7") ==
			  0;
	if (!ok)
		fprintf(stderr, "  %s\n%s\n%s\n", e.msg, buf_str(&out.canonical_request),
			buf_str(&out.authorization));
	sigv4_result_free(&out);
	CHECK(ok);
}

/* What empdir-tui sends: POST / with a JSON body, X-Amz-Target and a
 * session token. */
TEST(json_post_with_token_adds_headers)
{
	const char *body = "{}";
	struct sigv4_header h[] = {
		{"Content-Type", "application/x-amz-json-1.0"},
		{"X-Amz-Target", "GraniteServiceVersion20100801.DescribeAlarms"},
	};
	struct sigv4_request req = {"POST", "monitoring.eu-west-1.amazonaws.com", "/", NULL, h, 2,
				    body, 2};
	struct sigv4_credentials creds = {"AKIDTEST", "s3cr3t/Key+Value", "TOKEN/abc=="};
	struct sigv4_result out = SIGV4_RESULT_INIT;
	struct err e = {0};
	CHECK_INT(sigv4_sign_request(&req, &creds, "eu-west-1", "monitoring", "20260822T101500Z",
				     NULL, &out, &e),
		  ST_OK);
	CHECK_STR(buf_str(&out.signed_headers),
		  "content-type;host;x-amz-date;x-amz-security-token;x-amz-target");
	CHECK_STR(buf_str(&out.credential_scope), "20260822/eu-west-1/monitoring/aws4_request");
	CHECK_STR(buf_str(&out.payload_hash),
		  "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
	CHECK_INT(out.add_headers.n, 3);
	CHECK_STR(out.add_headers.v[0], "X-Amz-Date: 20260822T101500Z");
	CHECK_STR(out.add_headers.v[1], "X-Amz-Security-Token: TOKEN/abc==");
	CHECK(strncmp(out.add_headers.v[2], "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/",
		      52) == 0);
	CHECK(strlen(buf_str(&out.signature)) == 64);
	CHECK(strstr(buf_str(&out.canonical_request), "x-amz-target:GraniteServiceVersion20100801."
						       "DescribeAlarms\n") != NULL);
	/* The secret appears nowhere in the result. */
	CHECK(!strstr(buf_str(&out.canonical_request), "s3cr3t"));
	CHECK(!strstr(buf_str(&out.string_to_sign), "s3cr3t"));
	CHECK(!strstr(buf_str(&out.authorization), "s3cr3t"));
	for (size_t i = 0; i < out.add_headers.n; i++)
		CHECK(!strstr(out.add_headers.v[i], "s3cr3t"));
	/* Signing again into the same result resets it. */
	CHECK_INT(sigv4_sign_request(&req, &creds, "eu-west-1", "monitoring", "20260822T101500Z",
				     NULL, &out, &e),
		  ST_OK);
	CHECK_INT(out.add_headers.n, 3);
	/* Token sent but not signed. */
	struct sigv4_options o = {.omit_session_token = true, .sign_body = true};
	CHECK_INT(sigv4_sign_request(&req, &creds, "eu-west-1", "monitoring", "20260822T101500Z",
				     &o, &out, &e),
		  ST_OK);
	CHECK_STR(buf_str(&out.signed_headers),
		  "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target");
	CHECK_INT(out.add_headers.n, 4);
	CHECK_STR(out.add_headers.v[1], "X-Amz-Security-Token: TOKEN/abc==");
	CHECK(strncmp(out.add_headers.v[2], "x-amz-content-sha256: 44136fa3", 30) == 0);
	sigv4_result_free(&out);
}

TEST(payload_hash_override)
{
	struct sigv4_request req = {"PUT", "b.s3.amazonaws.com", "/k", NULL, NULL, 0, "data", 4};
	struct sigv4_credentials creds = {"AKID", "secret", NULL};
	struct sigv4_options o = {.payload_hash = "UNSIGNED-PAYLOAD", .sign_body = true,
				  .no_normalize_path = true, .no_double_encode = true};
	struct sigv4_result out = SIGV4_RESULT_INIT;
	struct err e = {0};
	CHECK_INT(sigv4_sign_request(&req, &creds, "us-east-1", "s3", FIX_DATE, &o, &out, &e), ST_OK);
	const char *cr = buf_str(&out.canonical_request);
	CHECK(strstr(cr, "x-amz-content-sha256:UNSIGNED-PAYLOAD\n") != NULL);
	CHECK(strcmp(cr + strlen(cr) - 16, "UNSIGNED-PAYLOAD") == 0);
	sigv4_result_free(&out);
}

TEST(date_formatting)
{
	char d[17];
	sigv4_format_date(1440938160LL, d);
	CHECK_STR(d, FIX_DATE);
	sigv4_format_date(0, d);
	CHECK_STR(d, "19700101T000000Z");
}

/* Every malformed input is refused with ST_INVALID, a message that names
 * the problem but never the secret, and an empty result. */
TEST(bad_inputs_are_refused_without_leaking)
{
	const char *secret = "SUPERSECRETvalue/123";
	const char *token = "TOKENSECRETvalue";
	struct sigv4_header ok_h[] = {{"X-Test", "v"}};
	struct sigv4_header cr_h[] = {{"X-Test", "a\r\nX-Evil: 1"}};
	struct sigv4_header date_h[] = {{"x-amz-date", FIX_DATE}};
	struct sigv4_header host_h[] = {{"Host", "example.com"}};
	struct sigv4_header tok_h[] = {{"X-Amz-Security-Token", "TOKENSECRETvalue"}};
	struct sigv4_header name_h[] = {{"Bad Name", "v"}};
	struct {
		const char *what;
		struct sigv4_request req;
		struct sigv4_credentials creds;
		const char *region, *service, *date;
		struct sigv4_options o;
	} cases[] = {
		{"bad date", {"GET", "h", "/", NULL, ok_h, 1, NULL, 0}, {"AK", secret, token},
		 "us-east-1", "svc", "2015-08-30T12:36:00Z", {0}},
		{"no host", {"GET", "", "/", NULL, ok_h, 1, NULL, 0}, {"AK", secret, token},
		 "us-east-1", "svc", FIX_DATE, {0}},
		{"CRLF in value", {"GET", "h", "/", NULL, cr_h, 1, NULL, 0}, {"AK", secret, token},
		 "us-east-1", "svc", FIX_DATE, {0}},
		{"x-amz-date header", {"GET", "h", "/", NULL, date_h, 1, NULL, 0},
		 {"AK", secret, token}, "us-east-1", "svc", FIX_DATE, {0}},
		{"host header", {"GET", "h", "/", NULL, host_h, 1, NULL, 0}, {"AK", secret, token},
		 "us-east-1", "svc", FIX_DATE, {0}},
		{"token header and token", {"GET", "h", "/", NULL, tok_h, 1, NULL, 0},
		 {"AK", secret, token}, "us-east-1", "svc", FIX_DATE, {0}},
		{"bad header name", {"GET", "h", "/", NULL, name_h, 1, NULL, 0},
		 {"AK", secret, token}, "us-east-1", "svc", FIX_DATE, {0}},
		{"region with slash", {"GET", "h", "/", NULL, ok_h, 1, NULL, 0},
		 {"AK", secret, token}, "us/east", "svc", FIX_DATE, {0}},
		{"empty service", {"GET", "h", "/", NULL, ok_h, 1, NULL, 0}, {"AK", secret, token},
		 "us-east-1", "", FIX_DATE, {0}},
		{"empty secret", {"GET", "h", "/", NULL, ok_h, 1, NULL, 0}, {"AK", "", token},
		 "us-east-1", "svc", FIX_DATE, {0}},
		{"no access key", {"GET", "h", "/", NULL, ok_h, 1, NULL, 0}, {NULL, secret, token},
		 "us-east-1", "svc", FIX_DATE, {0}},
		{"token with newline", {"GET", "h", "/", NULL, ok_h, 1, NULL, 0},
		 {"AK", secret, "TOKEN\nSECRET"}, "us-east-1", "svc", FIX_DATE, {0}},
		{"method with space", {"GE T", "h", "/", NULL, ok_h, 1, NULL, 0},
		 {"AK", secret, token}, "us-east-1", "svc", FIX_DATE, {0}},
		{"path with newline", {"GET", "h", "/a\nb", NULL, ok_h, 1, NULL, 0},
		 {"AK", secret, token}, "us-east-1", "svc", FIX_DATE, {0}},
		{"presign expires 0", {"GET", "h", "/", NULL, ok_h, 1, NULL, 0},
		 {"AK", secret, token}, "us-east-1", "svc", FIX_DATE, {.presign = true}},
		{"presign expires too long", {"GET", "h", "/", NULL, ok_h, 1, NULL, 0},
		 {"AK", secret, token}, "us-east-1", "svc", FIX_DATE,
		 {.presign = true, .expires_seconds = 604801}},
		{"body_len without body", {"POST", "h", "/", NULL, ok_h, 1, NULL, 3},
		 {"AK", secret, token}, "us-east-1", "svc", FIX_DATE, {0}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sigv4_result out = SIGV4_RESULT_INIT;
		struct err e = {0};
		enum status st = sigv4_sign_request(&cases[i].req, &cases[i].creds, cases[i].region,
						    cases[i].service, cases[i].date, &cases[i].o,
						    &out, &e);
		if (st != ST_INVALID || !e.msg[0] || strstr(e.msg, "SECRET") ||
		    out.authorization.len || out.canonical_request.len || out.add_headers.n) {
			fprintf(stderr, "  case \"%s\": status %d, message \"%s\"\n", cases[i].what,
				(int)st, e.msg);
			sigv4_result_free(&out);
			const bool refused_cleanly = false;
			CHECK(refused_cleanly);
		}
		sigv4_result_free(&out);
	}
}

int main(void)
{
	harness_init();

	const char *root = getenv("EMPDIR_SIGV4_VECTORS");
	if (!root || !*root)
		root = DEFAULT_VECTORS;
	if (!is_dir(root)) {
		fprintf(stderr,
			"test_sigv4: the SigV4 test vectors are not at %s (%s); run from the "
			"repository root or set EMPDIR_SIGV4_VECTORS to the directory holding "
			"legacy/ and v4/\n",
			root, strerror(errno));
		report("sigv4 vectors directory present", false);
	} else {
		run_legacy(root);
		run_v4(root);
	}

	RUN(uri_encode_unreserved_and_utf8);
	RUN(canonical_path_normalise_and_encode);
	RUN(canonical_query_sort_and_encode);
	RUN(aws_docs_iam_list_users);
	RUN(json_post_with_token_adds_headers);
	RUN(payload_hash_override);
	RUN(date_formatting);
	RUN(bad_inputs_are_refused_without_leaking);
	return harness_done();
}
