/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sigv4: AWS Signature Version 4 (see sigv4.h). */
#include "sigv4.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_MAX_EXPIRES 604800L /* seven days, the SigV4 limit */

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* ---- small helpers ------------------------------------------------------ */

static void buf_wipe(struct buf *b)
{
	if (b->cap)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

static void strvec_wipe(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		OPENSSL_cleanse(sv->v[i], strlen(sv->v[i]));
	strvec_free(sv);
}

static void hex_append(struct buf *out, const unsigned char *p, size_t n)
{
	if (n) /* buf_reserve() alone does not NUL-terminate a fresh buf */
		buf_reserve(out, 2 * n);
	for (size_t i = 0; i < n; i++) {
		buf_putc(out, hex_lower[p[i] >> 4]);
		buf_putc(out, hex_lower[p[i] & 15]);
	}
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Append s[0..n) with %XX escapes decoded; a '%' not followed by two hex
 * digits stays as it is (it is then encoded as %25). '+' is literal. */
static void percent_decode(struct buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n) {
			int hi = hex_value((unsigned char)s[i + 1]);
			int lo = hex_value((unsigned char)s[i + 2]);
			if (hi >= 0 && lo >= 0) {
				buf_putc(out, (char)(hi * 16 + lo));
				i += 2;
				continue;
			}
		}
		buf_putc(out, s[i]);
	}
}

static bool has_control(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* Header values may contain HTAB but no other control character (no CR/LF:
 * that would be header injection). */
static bool bad_header_value(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* Region and service names: letters, digits, '-', '_', '.'. */
static bool is_scope_part(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static bool is_amz_date(const char *s)
{
	if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return false;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool name_is(const char *name, const char *lower)
{
	for (; *name && *lower; name++, lower++)
		if (ascii_lower(*name) != *lower)
			return false;
	return *name == '\0' && *lower == '\0';
}

/* ---- hashing ------------------------------------------------------------ */

void sigv4_sha256_hex(struct buf *out, const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL)) {
		/* Cannot happen with the default provider; a wrong hash makes the
		 * server refuse the request, which is reported there. */
		memset(md, 0, sizeof md);
		mdlen = 32;
	}
	hex_append(out, md, mdlen);
}

static bool hmac_sha256(const unsigned char *key, size_t keylen, const void *data, size_t len,
			unsigned char out[32])
{
	unsigned int outlen = 0;
	if (keylen > INT32_MAX)
		return false;
	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) || outlen != 32)
		return false;
	return true;
}

/* ---- canonical parts ---------------------------------------------------- */

void sigv4_uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash)
{
	if (n) /* buf_reserve() alone does not NUL-terminate a fresh buf */
		buf_reserve(out, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_unreserved(c) || (keep_slash && c == '/')) {
			buf_putc(out, (char)c);
		} else {
			char esc[3] = {'%', hex_upper[c >> 4], hex_upper[c & 15]};
			buf_append(out, esc, 3);
		}
	}
}

static void encode_segment(struct buf *out, const char *s, size_t n, bool double_encode)
{
	if (double_encode) {
		sigv4_uri_encode(out, s, n, false);
		return;
	}
	struct buf raw = BUF_INIT;
	percent_decode(&raw, s, n);
	sigv4_uri_encode(out, buf_str(&raw), raw.len, false);
	buf_free(&raw);
}

struct span {
	const char *p;
	size_t n;
};

void sigv4_canonical_path(struct buf *out, const char *path, bool normalize, bool double_encode)
{
	if (!path || !*path) {
		buf_putc(out, '/');
		return;
	}
	size_t len = strlen(path);
	if (!normalize) {
		/* Every segment as it is, '/' kept, only made absolute. */
		if (path[0] != '/')
			buf_putc(out, '/');
		const char *p = path, *end = path + len;
		while (p < end) {
			const char *slash = memchr(p, '/', (size_t)(end - p));
			size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);
			encode_segment(out, p, n, double_encode);
			if (!slash)
				break;
			buf_putc(out, '/');
			p = slash + 1;
		}
		return;
	}

	/* RFC 3986 remove_dot_segments, plus empty segments dropped ("//"). */
	struct span *segs = xmalloc((len + 1) * sizeof *segs);
	size_t nsegs = 0;
	bool trailing = false;
	const char *p = path, *end = path + len;
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);
		bool last = slash == NULL;
		if (n == 0 || (n == 1 && p[0] == '.')) {
			trailing = last;
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nsegs)
				nsegs--;
			trailing = last;
		} else {
			segs[nsegs].p = p;
			segs[nsegs].n = n;
			nsegs++;
			trailing = false;
		}
		if (last)
			break;
		p = slash + 1;
	}
	buf_putc(out, '/');
	for (size_t i = 0; i < nsegs; i++) {
		if (i)
			buf_putc(out, '/');
		encode_segment(out, segs[i].p, segs[i].n, double_encode);
	}
	if (nsegs && trailing)
		buf_putc(out, '/');
	free(segs);
}

struct qparam {
	char *name;  /* encoded */
	char *value; /* encoded */
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

static char *reencode(const char *s, size_t n)
{
	struct buf raw = BUF_INIT, enc = BUF_INIT;
	percent_decode(&raw, s, n);
	sigv4_uri_encode(&enc, buf_str(&raw), raw.len, false);
	buf_wipe(&raw);
	return buf_steal(&enc);
}

void sigv4_canonical_query(struct buf *out, const char *query)
{
	if (!query || !*query)
		return;
	size_t len = strlen(query), cap = 1;
	for (size_t i = 0; i < len; i++)
		cap += query[i] == '&';
	struct qparam *params = xmalloc(cap * sizeof *params);
	size_t n = 0;
	const char *p = query, *end = query + len;
	while (p <= end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t plen = amp ? (size_t)(amp - p) : (size_t)(end - p);
		if (plen) {
			const char *eq = memchr(p, '=', plen);
			size_t nlen = eq ? (size_t)(eq - p) : plen;
			params[n].name = reencode(p, nlen);
			params[n].value = eq ? reencode(eq + 1, plen - nlen - 1) : xstrdup("");
			n++;
		}
		if (!amp)
			break;
		p = amp + 1;
	}
	qsort(params, n, sizeof *params, qparam_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(out, '&');
		buf_puts(out, params[i].name);
		buf_putc(out, '=');
		buf_puts(out, params[i].value);
		OPENSSL_cleanse(params[i].value, strlen(params[i].value));
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
}

/* Trim SP/HTAB at both ends and collapse inner runs into one SP. */
static void canonical_value(struct buf *out, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	bool space = false;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = true;
			continue;
		}
		if (space)
			buf_putc(out, ' ');
		space = false;
		buf_putc(out, *v);
	}
}

struct chdr {
	char *name;  /* lower case */
	char *value; /* canonical */
	size_t order;
};

static int chdr_cmp(const void *a, const void *b)
{
	const struct chdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

struct chdrs {
	struct chdr *v;
	size_t n, cap;
};

static void chdrs_add(struct chdrs *h, const char *name, const char *value)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 8;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
	struct chdr *c = &h->v[h->n];
	c->name = xstrdup(name);
	for (char *q = c->name; *q; q++)
		*q = ascii_lower(*q);
	struct buf v = BUF_INIT;
	canonical_value(&v, value);
	c->value = buf_steal(&v);
	c->order = h->n;
	h->n++;
}

static void chdrs_free(struct chdrs *h)
{
	for (size_t i = 0; i < h->n; i++) {
		OPENSSL_cleanse(h->v[i].value, strlen(h->v[i].value));
		free(h->v[i].name);
		free(h->v[i].value);
	}
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

/* Sort by name (stable) and append "name:v1,v2\n" lines and "a;b" names. */
static void chdrs_render(struct chdrs *h, struct buf *canon, struct buf *signed_names)
{
	qsort(h->v, h->n, sizeof *h->v, chdr_cmp);
	for (size_t i = 0; i < h->n;) {
		size_t j = i;
		if (signed_names->len)
			buf_putc(signed_names, ';');
		buf_puts(signed_names, h->v[i].name);
		buf_puts(canon, h->v[i].name);
		buf_putc(canon, ':');
		for (; j < h->n && strcmp(h->v[j].name, h->v[i].name) == 0; j++) {
			if (j > i)
				buf_putc(canon, ',');
			buf_puts(canon, h->v[j].value);
		}
		buf_putc(canon, '\n');
		i = j;
	}
}

/* ---- signing ------------------------------------------------------------ */

static void result_reset(struct sigv4_result *r)
{
	strvec_wipe(&r->add_headers);
	buf_wipe(&r->authorization);
	buf_wipe(&r->amz_date);
	buf_wipe(&r->signed_headers);
	buf_wipe(&r->payload_hash);
	buf_wipe(&r->canonical_request);
	buf_wipe(&r->string_to_sign);
	buf_wipe(&r->signature);
	buf_wipe(&r->credential_scope);
	buf_wipe(&r->presigned_query);
}

void sigv4_result_free(struct sigv4_result *r)
{
	if (r)
		result_reset(r);
}

void sigv4_format_date(long long t, char out[17])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		memcpy(out, "19700101T000000Z", 17);
}

static enum status check_inputs(const struct sigv4_request *req,
				const struct sigv4_credentials *creds, const char *region,
				const char *service, const char *amz_date,
				const struct sigv4_options *o, bool token, struct err *e)
{
	if (!req || !creds)
		return err_set(e, ST_INVALID, "AWS signing: no request or no credentials given");
	if (!is_token(req->method))
		return err_set(e, ST_INVALID, "AWS signing: the HTTP method is missing or malformed");
	if (!req->host || !*req->host || has_control(req->host) || strchr(req->host, ' '))
		return err_set(e, ST_INVALID,
			       "AWS signing: the host is missing or contains spaces or control "
			       "characters");
	if (req->path && has_control(req->path))
		return err_set(e, ST_INVALID, "AWS signing: the path contains a control character");
	if (req->query && has_control(req->query))
		return err_set(e, ST_INVALID,
			       "AWS signing: the query string contains a control character");
	if (req->body_len && !req->body)
		return err_set(e, ST_INVALID, "AWS signing: body_len is set but body is NULL");
	if (!creds->access_key_id || !*creds->access_key_id)
		return err_set(e, ST_INVALID,
			       "AWS signing: the access key id is empty; check the AWS credentials");
	if (has_control(creds->access_key_id) || strpbrk(creds->access_key_id, "/, "))
		return err_set(e, ST_INVALID,
			       "AWS signing: the access key id contains '/', ',', a space or a "
			       "control character; check the AWS credentials");
	if (!creds->secret_access_key || !*creds->secret_access_key)
		return err_set(e, ST_INVALID,
			       "AWS signing: the secret access key is empty; check the AWS "
			       "credentials");
	if (token && has_control(creds->session_token))
		return err_set(e, ST_INVALID,
			       "AWS signing: the session token contains a control character; check "
			       "the AWS credentials");
	if (!is_scope_part(region))
		return err_set(e, ST_INVALID,
			       "AWS signing: the region is missing or malformed (expected e.g. "
			       "us-east-1)");
	if (!is_scope_part(service))
		return err_set(e, ST_INVALID,
			       "AWS signing: the service name is missing or malformed (expected e.g. "
			       "monitoring)");
	if (!is_amz_date(amz_date))
		return err_set(e, ST_INVALID,
			       "AWS signing: the timestamp must be YYYYMMDDTHHMMSSZ (UTC)");
	if (o->presign && (o->expires_seconds < 1 || o->expires_seconds > SIGV4_MAX_EXPIRES))
		return err_set(e, ST_INVALID,
			       "AWS signing: a presigned URL must expire in 1 to %ld seconds",
			       SIGV4_MAX_EXPIRES);
	if (o->payload_hash && (!*o->payload_hash || has_control(o->payload_hash)))
		return err_set(e, ST_INVALID, "AWS signing: the payload hash override is malformed");
	if (req->n_headers && !req->headers)
		return err_set(e, ST_INVALID, "AWS signing: n_headers is set but headers is NULL");
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct sigv4_header *h = &req->headers[i];
		if (!is_token(h->name))
			return err_set(e, ST_INVALID,
				       "AWS signing: header %zu has an empty or malformed name", i + 1);
		if (!h->value || bad_header_value(h->value))
			return err_set(e, ST_INVALID,
				       "AWS signing: the value of header %s is missing or contains "
				       "a line break or control character",
				       h->name);
		if (name_is(h->name, "host") || name_is(h->name, "x-amz-date") ||
		    name_is(h->name, "authorization"))
			return err_set(e, ST_INVALID,
				       "AWS signing: do not pass a %s header; the signer sets it",
				       h->name);
		if (token && name_is(h->name, "x-amz-security-token"))
			return err_set(e, ST_INVALID,
				       "AWS signing: do not pass X-Amz-Security-Token with a session "
				       "token in the credentials; the signer adds it");
		if (o->sign_body && !o->presign && name_is(h->name, "x-amz-content-sha256"))
			return err_set(e, ST_INVALID,
				       "AWS signing: do not pass x-amz-content-sha256 with "
				       "sign_body; the signer adds it");
	}
	return ST_OK;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request"); signature = hex(HMAC(kSigning, string_to_sign)). */
static bool compute_signature(const char *secret, const char *date8, const char *region,
			      const char *service, const struct buf *sts, struct buf *sig_hex)
{
	size_t slen = strlen(secret);
	unsigned char *ksecret = xmalloc(slen + 4);
	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen);
	unsigned char k1[32], k2[32];
	bool ok = hmac_sha256(ksecret, slen + 4, date8, 8, k1) &&
		  hmac_sha256(k1, 32, region, strlen(region), k2) &&
		  hmac_sha256(k2, 32, service, strlen(service), k1) &&
		  hmac_sha256(k1, 32, "aws4_request", 12, k2) &&
		  hmac_sha256(k2, 32, buf_str(sts), sts->len, k1);
	if (ok)
		hex_append(sig_hex, k1, 32);
	OPENSSL_cleanse(ksecret, slen + 4);
	OPENSSL_cleanse(k1, sizeof k1);
	OPENSSL_cleanse(k2, sizeof k2);
	free(ksecret);
	return ok;
}

static void append_param(struct buf *q, const char *name, const char *value)
{
	if (q->len)
		buf_putc(q, '&');
	buf_puts(q, name);
	buf_putc(q, '=');
	sigv4_uri_encode(q, value, strlen(value), false);
}

enum status sigv4_sign_request(const struct sigv4_request *req,
			       const struct sigv4_credentials *creds, const char *region,
			       const char *service, const char *amz_date,
			       const struct sigv4_options *options, struct sigv4_result *out,
			       struct err *e)
{
	static const struct sigv4_options defaults;
	const struct sigv4_options *o = options ? options : &defaults;
	result_reset(out);
	bool token = creds && creds->session_token && *creds->session_token;
	enum status st = check_inputs(req, creds, region, service, amz_date, o, token, e);
	if (st != ST_OK)
		return st;
	bool sign_token = token && !o->omit_session_token;

	char date8[9];
	memcpy(date8, amz_date, 8);
	date8[8] = '\0';
	buf_puts(&out->amz_date, amz_date);
	buf_printf(&out->credential_scope, "%s/%s/%s/aws4_request", date8, region, service);

	if (o->payload_hash)
		buf_puts(&out->payload_hash, o->payload_hash);
	else
		sigv4_sha256_hex(&out->payload_hash, req->body, req->body_len);

	/* Headers: the caller's, host, and ours (header mode only). */
	struct chdrs hdrs = {NULL, 0, 0};
	for (size_t i = 0; i < req->n_headers; i++)
		chdrs_add(&hdrs, req->headers[i].name, req->headers[i].value);
	chdrs_add(&hdrs, "host", req->host);
	if (!o->presign) {
		chdrs_add(&hdrs, "x-amz-date", amz_date);
		if (sign_token)
			chdrs_add(&hdrs, "x-amz-security-token", creds->session_token);
		if (o->sign_body)
			chdrs_add(&hdrs, "x-amz-content-sha256", buf_str(&out->payload_hash));
	}
	struct buf canon_headers = BUF_INIT;
	chdrs_render(&hdrs, &canon_headers, &out->signed_headers);
	chdrs_free(&hdrs);

	/* Query: the caller's, plus the X-Amz-* parameters when presigning. */
	struct buf raw_query = BUF_INIT, canon_query = BUF_INIT;
	if (req->query)
		buf_puts(&raw_query, req->query);
	if (o->presign) {
		struct buf cred = BUF_INIT;
		buf_printf(&cred, "%s/%s", creds->access_key_id, buf_str(&out->credential_scope));
		char expires[24];
		snprintf(expires, sizeof expires, "%ld", o->expires_seconds);
		append_param(&raw_query, "X-Amz-Algorithm", SIGV4_ALGORITHM);
		append_param(&raw_query, "X-Amz-Credential", buf_str(&cred));
		append_param(&raw_query, "X-Amz-Date", amz_date);
		append_param(&raw_query, "X-Amz-Expires", expires);
		append_param(&raw_query, "X-Amz-SignedHeaders", buf_str(&out->signed_headers));
		if (sign_token)
			append_param(&raw_query, "X-Amz-Security-Token", creds->session_token);
		buf_free(&cred);
	}
	sigv4_canonical_query(&canon_query, buf_str(&raw_query));
	buf_wipe(&raw_query);

	/* Canonical request and string to sign. */
	struct buf *cr = &out->canonical_request;
	buf_puts(cr, req->method);
	buf_putc(cr, '\n');
	sigv4_canonical_path(cr, req->path, !o->no_normalize_path, !o->no_double_encode);
	buf_putc(cr, '\n');
	buf_append(cr, buf_str(&canon_query), canon_query.len);
	buf_putc(cr, '\n');
	buf_append(cr, buf_str(&canon_headers), canon_headers.len);
	buf_putc(cr, '\n');
	buf_append(cr, buf_str(&out->signed_headers), out->signed_headers.len);
	buf_putc(cr, '\n');
	buf_append(cr, buf_str(&out->payload_hash), out->payload_hash.len);
	buf_wipe(&canon_headers);

	struct buf *sts = &out->string_to_sign;
	buf_printf(sts, SIGV4_ALGORITHM "\n%s\n%s\n", amz_date, buf_str(&out->credential_scope));
	sigv4_sha256_hex(sts, cr->data, cr->len);

	if (!compute_signature(creds->secret_access_key, date8, region, service, sts,
			       &out->signature)) {
		buf_wipe(&canon_query);
		result_reset(out);
		return err_set(e, ST_FAIL,
			       "AWS signing: HMAC-SHA256 failed in libcrypto; check the OpenSSL "
			       "installation");
	}

	if (o->presign) {
		struct buf *pq = &out->presigned_query;
		buf_append(pq, buf_str(&canon_query), canon_query.len);
		append_param(pq, "X-Amz-Signature", buf_str(&out->signature));
		if (token && !sign_token)
			append_param(pq, "X-Amz-Security-Token", creds->session_token);
	} else {
		buf_printf(&out->authorization,
			   SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
			   creds->access_key_id, buf_str(&out->credential_scope),
			   buf_str(&out->signed_headers), buf_str(&out->signature));
		struct buf line = BUF_INIT;
		buf_printf(&line, "X-Amz-Date: %s", amz_date);
		strvec_push(&out->add_headers, buf_str(&line));
		if (token) {
			buf_reset(&line);
			buf_printf(&line, "X-Amz-Security-Token: %s", creds->session_token);
			strvec_push(&out->add_headers, buf_str(&line));
		}
		if (o->sign_body) {
			buf_reset(&line);
			buf_printf(&line, "x-amz-content-sha256: %s", buf_str(&out->payload_hash));
			strvec_push(&out->add_headers, buf_str(&line));
		}
		buf_reset(&line);
		buf_printf(&line, "Authorization: %s", buf_str(&out->authorization));
		strvec_push(&out->add_headers, buf_str(&line));
		buf_wipe(&line);
	}
	buf_wipe(&canon_query);
	err_clear(e);
	return ST_OK;
}
