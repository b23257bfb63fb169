/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aws_http: one signed AWS JSON request (JSON 1.0 / 1.1) over libcurl.
 *
 * A struct aws_http is a small client: it resolves the credentials and the
 * application's region once (again when temporary credentials near their
 * expiry), keeps one curl handle so connections are reused, and turns each
 * call into POST / with X-Amz-Target, signed by sigv4 with the endpoint's
 * real region and service even when the endpoint URL is overridden. It waits
 * through curl's multi interface so the waiter's tick runs at least every
 * 100 ms and can cancel (ST_CANCELLED); it retries throttling, 5xx answers
 * and dropped connections with capped exponential backoff and full jitter,
 * honouring Retry-After; and it turns every failure into one sentence that
 * says what to do and never contains a secret (server messages are cut to
 * their first line, sanitised, and scrubbed of the key and token).
 *
 * TLS is always verified (AWS_CA_BUNDLE adds a CA file); redirects are never
 * followed; only http and https are allowed (http only when an endpoint
 * override asks for it, as the AWS CLI allows).
 *
 * Endpoints: https://monitoring.<region>.amazonaws.com/ and
 * https://ce.us-east-1.amazonaws.com/ (".com.cn" for cn-* regions). An
 * override replaces the URL only, in this order: the [aws] endpoint_url key
 * (options.endpoint_url, like the profile and region the config file is an
 * explicit choice), AWS_ENDPOINT_URL_CLOUDWATCH / AWS_ENDPOINT_URL_COST_EXPLORER,
 * AWS_ENDPOINT_URL. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores the
 * environment ones.
 *
 * Ownership: aws_http_new() returns a client the caller frees with
 * aws_http_free(); it copies the option strings but keeps the env pointer
 * (the environment must outlive the client). Parsed answers (cJSON trees)
 * belong to the caller (cJSON_Delete). Not thread-safe: one client per
 * thread. */
#ifndef EMPDIR_AWS_HTTP_H
#define EMPDIR_AWS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "../core/buf.h"
#include "../core/err.h"
#include "aws_creds.h"
#include "aws_errors.h"

struct backend_waiter; /* api_client/backend.h */

/* What differs between the AWS JSON services we call. */
struct aws_service {
	const char *title;           /* "CloudWatch", for messages */
	const char *endpoint_prefix; /* host prefix: "monitoring", "ce" */
	const char *signing_name;    /* SigV4 service: "monitoring", "ce" */
	const char *iam_prefix;      /* IAM action prefix: "cloudwatch", "ce" */
	const char *target_prefix;   /* "GraniteServiceVersion20100801" */
	const char *content_type;    /* "application/x-amz-json-1.0" */
	const char *env_id;          /* AWS_ENDPOINT_URL_<env_id> */
	const char *home_region;     /* the only region the service lives in, or NULL */
};

extern const struct aws_service aws_service_cloudwatch;    /* JSON 1.0, any region */
extern const struct aws_service aws_service_cost_explorer; /* JSON 1.1, us-east-1/ce */

struct aws_http_options {
	const char *profile;      /* --profile or [aws] profile; NULL: AWS_PROFILE, default */
	const char *region;       /* --region or [aws] region; NULL: AWS_REGION, ... */
	const char *endpoint_url; /* [aws] endpoint_url; NULL: environment or the real one */
	const struct aws_env *env; /* NULL: the process environment */
	long long now;            /* fixed clock (epoch s) for signing; 0: the real clock */
	int connect_timeout_ms;   /* 0: 5000 */
	int timeout_ms;           /* one attempt, all included; 0: 20000 */
	int max_attempts;         /* 0: 4; 1 turns retries off */
	int backoff_base_ms;      /* first retry waits up to this; 0: 200 */
	int backoff_cap_ms;       /* no backoff wait is longer; 0: 5000 */
	int retry_after_max_ms;   /* a longer Retry-After ends the retries; 0: 30000 */
	unsigned jitter_seed;     /* 0: seeded from the clock and pid */
};

struct aws_http;

/* ST_OK, or ST_FAIL when curl cannot be set up. Nothing is resolved yet:
 * credential and region errors come from the first call. */
enum status aws_http_new(const struct aws_http_options *o, struct aws_http **out, struct err *e);
void aws_http_free(struct aws_http *h);

/* The clock the client signs with: options.now, or time(NULL). */
long long aws_http_now(const struct aws_http *h);

/* The waiter is copied; NULL removes it. */
void aws_http_set_waiter(struct aws_http *h, const struct backend_waiter *w);

/* The application's region (resolved on first use): *region stays valid
 * until aws_http_free(). Errors as aws_creds_region(). */
enum status aws_http_region(struct aws_http *h, const char **region, struct err *e);

/* Resolve (or refresh) the credentials now, e.g. to show where they come
 * from before the first call. *source (may be NULL) gets a description for
 * the status line ("profile dev in /home/u/.aws/credentials"), valid until
 * the next call on h. Errors as aws_creds_resolve(). */
enum status aws_http_credentials(struct aws_http *h, const char **source, struct err *e);

/* A stable, secret-free description of whose data svc returns: profile (or
 * "environment:" and the access key id) and endpoint URL. Used to key
 * caches. Resolves the credentials. */
enum status aws_http_identity(struct aws_http *h, const struct aws_service *svc,
			      struct buf *out, struct err *e);

/* The endpoint URL a call to svc in region would use (region NULL: the
 * application's region; ignored for a single-region service). */
enum status aws_http_endpoint(struct aws_http *h, const struct aws_service *svc,
			      const char *region, struct buf *url, struct err *e);

/* Call svc's operation in region (NULL: the application's region; a
 * single-region service always uses its own) with input (NULL: {}). On
 * ST_OK *output is the answer's JSON object, owned by the caller. On failure
 * *output is NULL and e says what happened:
 *   ST_AUTH         no/expired/unknown credentials, bad signature, clock skew,
 *                   access denied;
 *   ST_UNAVAILABLE  DNS, connect, TLS, timeout, throttled or 5xx after the
 *                   retries;
 *   ST_CANCELLED    the waiter cancelled;
 *   ST_NOT_FOUND, ST_INVALID, ST_UNSUPPORTED  from credential resolution;
 *   ST_FAIL         any other AWS error, or an answer that is not a JSON
 *                   object (malformed, truncated, HTML). */
enum status aws_http_call(struct aws_http *h, const struct aws_service *svc, const char *region,
			  const char *operation, const cJSON *input, cJSON **output,
			  struct err *e);

/* Counters since aws_http_new(), for tests and the status line. */
struct aws_http_stats {
	unsigned calls;    /* aws_http_call()s */
	unsigned attempts; /* HTTP requests sent */
	unsigned retries;  /* attempts after the first of a call */
};
struct aws_http_stats aws_http_get_stats(const struct aws_http *h);

#endif
