/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aws_errors: what AWS's and the network's failures mean, and how we say
 * them: the error code of an answer, its class (retry, clock, key, ...),
 * the retry schedule, and the one sentence a failed call ends in. The
 * sentence puts the advice first and AWS's own words last (cut to a line,
 * sanitised, secrets replaced), so a long server message cannot push the
 * advice out of struct err and no key or token reaches the screen.
 * Everything here is pure: no I/O, no clock. */
#ifndef EMPDIR_AWS_ERRORS_H
#define EMPDIR_AWS_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/buf.h"
#include "../core/err.h"

#define AWS_HTTP_MAX_BODY (32u << 20) /* no answer we ask for comes close */

enum aws_error_kind {
	AWS_ERR_OTHER,        /* a request AWS refused for its own reasons */
	AWS_ERR_THROTTLED,    /* retry later */
	AWS_ERR_TRANSIENT,    /* 5xx, timeouts on AWS's side: retry */
	AWS_ERR_EXPIRED,      /* ExpiredToken */
	AWS_ERR_UNKNOWN_KEY,  /* UnrecognizedClient / InvalidClientTokenId */
	AWS_ERR_SIGNATURE,    /* the signature does not match: wrong secret */
	AWS_ERR_CLOCK,        /* the signature is too old or too new: the clock */
	AWS_ERR_UNSIGNED,     /* MissingAuthenticationToken / IncompleteSignature */
	AWS_ERR_DENIED,       /* AccessDenied / not authorized */
	AWS_ERR_NOT_FOUND,    /* ResourceNotFound */
	AWS_ERR_UNAVAILABLE,  /* the service is not enabled or has no data yet */
};

/* The error code of an AWS JSON error answer: the x-amzn-query-error code
 * (before ';') when given, else __type (or code) after '#' and before ':'.
 * message gets the message (or Message) member. Either may stay empty. */
void aws_http_parse_error(const char *query_error, const char *body, size_t len,
			  struct buf *code, struct buf *message);
enum aws_error_kind aws_http_classify(long http_status, const char *code, const char *message);

/* Milliseconds to wait before retry number `retry` (1, 2, ...): uniformly
 * random in [0, min(cap, base * 2^(retry-1))], at least retry_after_ms.
 * *seed is the generator's state. */
long aws_http_backoff_ms(int retry, int base_ms, int cap_ms, long retry_after_ms,
			 unsigned *seed);

/* Retry-After: delta seconds or an HTTP date; -1 when absent or invalid. */
long aws_http_parse_retry_after(const char *value, long long now);

/* Append a server message fit for our own messages: first line only,
 * sanitised, then every occurrence of each string in secrets
 * (NULL-terminated) replaced by "<redacted>", at most max_cols columns
 * (text_safe_message). */
void aws_http_safe_message(struct buf *out, const char *msg, const char *const *secrets,
			   int max_cols);

/* A failed call, for aws_failure_explain(). All strings may be "". */
struct aws_failure {
	const char *what;        /* "CloudWatch DescribeAlarms (eu-west-1)" */
	const char *host;        /* host[:port], sanitised */
	int curl_rc;             /* a CURLcode; 0 when an HTTP answer came */
	const char *curl_detail; /* curl's error buffer */
	bool too_big;            /* the answer passed AWS_HTTP_MAX_BODY */
	int timeout_ms;
	long status;             /* HTTP status */
	const char *code, *message; /* raw, from the answer */
	enum aws_error_kind kind;
	int attempts;
	const char *source;      /* where the credentials came from */
	const char *iam_prefix, *operation; /* "cloudwatch", "DescribeAlarms" */
	const char *const *secrets; /* NULL-terminated: never in the message */
};

/* Dropped or cut connections: worth another attempt. */
bool aws_transport_is_transient(int curl_rc);
/* Fill e with the sentence for f; returns its status (ST_AUTH,
 * ST_UNAVAILABLE, ST_NOT_FOUND or ST_FAIL, see aws_http_call()). */
enum status aws_failure_explain(const struct aws_failure *f, struct err *e);

#endif
