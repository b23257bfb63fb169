/* SPDX-License-Identifier: GPL-3.0-or-later */
/* http_internal: the pieces of the http backend (contrib/reference-api/openapi.yaml
 * over libcurl and cJSON), shared by its three files and nothing else:
 *
 *   http_transport.c  one connection: a reused curl easy handle driven by a
 *                     multi handle and poll(), so the waiter ticks and Esc
 *                     cancels; timeouts, retries with backoff and jitter,
 *                     Retry-After, the body size cap, curl errors as sentences
 *   http_auth.c       where the credentials come from (bearer token from the
 *                     config file, an environment variable or a command; AWS
 *                     SigV4 for `auth = iam`) and the headers that carry them
 *   http_json.c       the contract's documents, validated member by member
 *   http_backend.c    struct backend_ops over the three
 *
 * Ownership: struct http_conn and struct http_auth come from their *_open /
 * *_load and are released by their *_free, which wipe every secret. A struct
 * http_response is caller-owned (HTTP_RESPONSE_INIT, http_response_free()).
 * Secrets (the token, AWS keys) never go into an error message, a log or
 * curl's verbose output (which is never turned on). */
#ifndef EMPDIR_HTTP_INTERNAL_H
#define EMPDIR_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "../core/buf.h"
#include "../core/employee.h"
#include "../core/err.h"
#include "backend.h"

#define HTTP_API_PREFIX "/api/v1"
#define HTTP_BODY_MAX (8L * 1024 * 1024)  /* API Gateway sends at most 6 MB */
#define HTTP_CURSOR_MAX 8192
#define HTTP_Q_MAX 200                    /* the contract's maxLength for q */

/* ---- auth (http_auth.c) ---- */

struct http_auth;

/* What a signer needs to know about one request. */
struct http_sign_input {
	const char *method;
	const char *host;   /* Host header value (with :port when not the default) */
	const char *path;   /* as on the wire, before '?' */
	const char *query;  /* after '?', or NULL */
	const char *body;
	size_t body_len;
};

/* Read the connection's auth settings and load the credentials. *out is
 * NULL on failure. Before a waiter is set, a token_command may use the
 * terminal's stderr (the screen has not started). */
enum status http_auth_load(const struct conn_config *cfg, struct http_auth **out, struct err *e);
void http_auth_free(struct http_auth *a);
/* Append the headers that authenticate one request attempt. */
enum status http_auth_add_headers(struct http_auth *a, const struct http_sign_input *in,
				  struct curl_slist **headers, struct err *e);
/* After a 401: get a fresh token (token_command) or fresh AWS credentials.
 * False when there is nothing to refresh. */
bool http_auth_refresh(struct http_auth *a, const struct backend_waiter *w, struct err *e);
bool http_auth_sends_secret(const struct http_auth *a); /* a token or a signature */
const char *http_auth_describe(const struct http_auth *a); /* "token from $X", ... (no secret) */
/* Let the auth code wait on a command with the UI alive (NULL: no waiter). */
void http_auth_set_waiter(struct http_auth *a, const struct backend_waiter *w);

/* Wipe and free a header list (it may hold a token). */
void http_slist_free_wiped(struct curl_slist *l);

/* ---- transport (http_transport.c) ---- */

struct http_conn;

struct http_settings {
	const char *url;          /* as the user gave it */
	const char *ca_file;      /* or NULL */
	long connect_timeout_ms;
	long request_timeout_ms;
	long first_timeout_ms;    /* the first request (a cold Lambda) */
	void (*progress)(const char *msg); /* before the screen starts, or NULL */
};

struct http_request {
	const char *method;       /* GET, POST, PUT, DELETE */
	const char *path;         /* after the base URL, escaped, may hold "?query" */
	const char *body;         /* JSON, or NULL */
	const char *if_match;     /* a version (sent as its strong ETag), or NULL */
	const char *idempotency_key;
	bool retry_safe;          /* repeating it cannot do anything twice */
	const char *doing;        /* for messages: "reading the list" */
};

struct http_response {
	long status;              /* the final answer's HTTP status */
	struct buf body;
	char content_type[128];
	int attempts;             /* requests sent for this call */
	bool maybe_applied;       /* an earlier attempt may have reached the server */
};

#define HTTP_RESPONSE_INIT {0, BUF_INIT, "", 0, false}

/* Takes over auth, whatever the outcome (http_conn_free() frees it). */
enum status http_conn_open(const struct http_settings *s, struct http_auth *auth,
			   struct http_conn **out, struct err *e);
void http_conn_free(struct http_conn *c);
/* The base URL without credentials, query or trailing slash. */
const char *http_conn_base(const struct http_conn *c);
/* host[:port][path] for the status line. */
const char *http_conn_display(const struct http_conn *c);
bool http_conn_is_plain_remote(const struct http_conn *c); /* http:// off this machine */
/* Stop reporting slow requests through settings.progress (the screen runs). */
void http_conn_set_progress(struct http_conn *c, void (*progress)(const char *msg));
/* Append s percent-encoded for a path segment or a query value. */
void http_append_escaped(struct http_conn *c, struct buf *out, const char *s);

/* Send rq, retrying where that is safe, until an HTTP answer that is not
 * worth retrying. ST_OK means an answer arrived (any status: see
 * rs->status); otherwise e says why none did (or ST_CANCELLED). b supplies
 * the waiter and the read-only flag's owner; it may be NULL (no waiter). */
enum status http_send(struct http_conn *c, struct backend *b, const struct http_request *rq,
		      struct http_response *rs, struct err *e);
void http_response_free(struct http_response *rs);
bool http_response_is_json(const struct http_response *rs);
bool http_response_is_html(const struct http_response *rs);

/* An answer the caller did not expect, as one sentence: HTML instead of
 * JSON, 401/403, throttling, server failures, or the problem document's
 * title and detail (sanitised). Returns the status it set. */
enum status http_explain(struct http_conn *c, const struct http_request *rq,
			 const struct http_response *rs, struct err *e);
/* "the API sent a malformed answer to GET /api/v1/...: <why>". */
enum status http_malformed(const struct http_request *rq, const char *why, struct err *e);

/* ---- documents (http_json.c) ---- */

/* Parse a whole body as one JSON value; NULL and why filled when it is not. */
cJSON *http_json_parse(const struct buf *body, char *why, size_t whysz);
/* An Employee object into out (replaced; untouched on failure). `where`
 * prefixes the member names in why ("items[3]"). */
bool http_json_employee(const cJSON *obj, const char *where, struct employee *out, char *why,
			size_t whysz);
/* An EmployeePage. total: -1 when null or absent. */
bool http_json_page(const cJSON *doc, int limit, struct page *out, long *total, char *why,
		    size_t whysz);

struct http_problem {
	char *title;         /* sanitised; owned */
	char *detail;        /* sanitised or NULL */
	char *errors;        /* "field: message; ..." sanitised or NULL */
	bool has_current;
	struct employee current;
};

void http_problem_init(struct http_problem *p);
void http_problem_free(struct http_problem *p);
/* A problem document, or API Gateway's {"message": "..."}. False when the
 * body is neither (why says what was wrong). */
bool http_json_problem(const cJSON *doc, struct http_problem *p, char *why, size_t whysz);

struct http_health {
	bool database_ok;       /* false: "database": "unavailable" */
	bool batch;             /* "batch" in features */
	char version[32];       /* a "version" the server may add (not in the contract), or "" */
};

bool http_json_health(const cJSON *doc, struct http_health *h, char *why, size_t whysz);
/* An EmployeeInput for POST (with_id) or PUT; malloc'd. */
char *http_json_employee_input(const struct employee *in, bool with_id);
/* A version that can travel in If-Match: entity-tag characters only. */
bool http_version_ok(const char *v);

#endif
