/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sigv4: AWS Signature Version 4 for one HTTP request, as pure computation.
 *
 * The signer does no I/O and reads no clock: the caller passes the request,
 * the credentials, the region, the service and the timestamp, and gets back
 * the headers to add (X-Amz-Date, X-Amz-Security-Token, x-amz-content-sha256,
 * Authorization) or, for a presigned URL, the query string to use. Every
 * intermediate step (canonical request, string to sign, signature) is kept in
 * the result so tests can compare them with the official vectors and a
 * "SignatureDoesNotMatch" can be debugged.
 *
 * Ownership: everything in struct sigv4_request and struct sigv4_credentials
 * belongs to the caller and is only read. struct sigv4_result is caller-owned;
 * initialise it with SIGV4_RESULT_INIT (or zero it), and release it with
 * sigv4_result_free(), which also wipes it. A result can be reused: signing
 * resets it first.
 *
 * Secrets: the secret access key never leaves this module except as the
 * derived signature; it is not copied into the result or into any error
 * message. The session token, when it is signed, is part of the canonical
 * request and of the header it travels in, so do not log canonical_request
 * or add_headers in clear. Error messages name what is wrong, never a key,
 * token or header value. */
#ifndef EMPDIR_SIGV4_H
#define EMPDIR_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;  /* "GET", "POST", ...; used as given (upper case) */
	const char *host;    /* the Host header value, with ":port" when it is not the default */
	/* The path exactly as it goes on the wire (what follows the host in the
	 * URL, before '?'). NULL or "" means "/". For services other than S3 each
	 * segment is URI-encoded once more (so an already-encoded "%20" becomes
	 * "%2520", which is what AWS expects: the "double encoding" of the spec;
	 * a raw "a b" becomes "a%20b", as in the vectors) and the path is
	 * normalised (".", "..", and empty segments removed). See the
	 * no_normalize_path and no_double_encode options for S3. */
	const char *path;
	/* The query string as on the wire, without '?', or NULL. Each name and
	 * value is percent-decoded and re-encoded with the RFC 3986 unreserved
	 * set, then sorted by name and by value. '+' is a literal plus. */
	const char *query;
	/* Headers to sign, in the order they are sent. Names are
	 * case-insensitive; repeated names are joined with ',' in order. Do not
	 * pass Host (use .host), X-Amz-Date or Authorization: the signer adds
	 * them. Pass only headers that really go on the wire (curl "Name:"
	 * removal entries must not be signed). */
	const struct sigv4_header *headers;
	size_t n_headers;
	const void *body; /* may be NULL when body_len is 0 */
	size_t body_len;
};

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL or "" when there is none */
};

struct sigv4_options {
	/* Presigned URL (query signing) instead of the Authorization header:
	 * the X-Amz-* parameters go into the query and result.presigned_query
	 * is the query string to send. expires_seconds: 1..604800. */
	bool presign;
	long expires_seconds;
	/* Add a signed x-amz-content-sha256 header with the payload hash
	 * (header signing only; S3 needs it, JSON services do not). */
	bool sign_body;
	/* Send X-Amz-Security-Token without signing it ("added after signing").
	 * Default false: the token is signed, which every service accepts. */
	bool omit_session_token;
	/* S3 rules: keep "." "..", and "//" in the path... */
	bool no_normalize_path;
	/* ...and encode each path segment only once: existing %XX escapes are
	 * decoded first, so "/a%20b" stays "/a%20b". */
	bool no_double_encode;
	/* Use this instead of hex(SHA-256(body)) as the payload hash, e.g.
	 * "UNSIGNED-PAYLOAD" or a precomputed hash; NULL to hash the body. */
	const char *payload_hash;
};

struct sigv4_result {
	/* Headers to add to the request, each "Name: value", in this order:
	 * X-Amz-Date, X-Amz-Security-Token (when there is a token),
	 * x-amz-content-sha256 (sign_body), Authorization. Empty in presign mode
	 * (everything is in presigned_query). Ready for curl_slist_append(). */
	struct strvec add_headers;
	struct buf authorization;     /* the Authorization value (header mode) */
	struct buf amz_date;          /* a copy of the timestamp */
	struct buf signed_headers;    /* "host;x-amz-date" */
	struct buf payload_hash;      /* hex SHA-256 of the body, or the override */
	struct buf canonical_request; /* contains the session token when it is signed */
	struct buf string_to_sign;
	struct buf signature;         /* 64 hex digits */
	struct buf credential_scope;  /* "20150830/us-east-1/service/aws4_request" */
	struct buf presigned_query;   /* presign: the full query string, signature included */
};

#define SIGV4_RESULT_INIT                                                              \
	{                                                                              \
		STRVEC_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT,         \
			BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT                         \
	}

/* Sign req. amz_date is the request time in UTC, "YYYYMMDDTHHMMSSZ" (see
 * sigv4_format_date()). options may be NULL (header signing, defaults).
 * Returns ST_OK, or ST_INVALID with e filled when an input is malformed (the
 * message says which input, never its secret value); out is then reset. */
enum status sigv4_sign_request(const struct sigv4_request *req,
			       const struct sigv4_credentials *creds, const char *region,
			       const char *service, const char *amz_date,
			       const struct sigv4_options *options, struct sigv4_result *out,
			       struct err *e);

void sigv4_result_free(struct sigv4_result *r);

/* Write t (seconds since the epoch) as "YYYYMMDDTHHMMSSZ" into out[17]. */
void sigv4_format_date(long long t, char out[17]);

/* Building blocks, exposed for tests and for the transport. */

/* Append hex(SHA-256(data)) (64 lower-case digits). */
void sigv4_sha256_hex(struct buf *out, const void *data, size_t len);
/* Append s[0..n) percent-encoded: everything but A-Z a-z 0-9 - . _ ~ becomes
 * %XX (upper-case hex); when keep_slash, '/' is kept too. */
void sigv4_uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash);
/* Append the canonical URI of path (see struct sigv4_request.path). */
void sigv4_canonical_path(struct buf *out, const char *path, bool normalize, bool double_encode);
/* Append the canonical query string of query (may be NULL). */
void sigv4_canonical_query(struct buf *out, const char *query);

#endif
