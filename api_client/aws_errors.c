/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aws_errors: what AWS's and the network's failures mean. See aws_errors.h. */
#include "aws_errors.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/text.h"

#define AWS_MSG_COLS 200 /* server messages in ours */

static unsigned next_random(unsigned *seed)
{
	unsigned x = *seed ? *seed : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*seed = x;
	return x;
}


long aws_http_backoff_ms(int retry, int base_ms, int cap_ms, long retry_after_ms, unsigned *seed)
{
	long limit = base_ms > 0 ? base_ms : 1;
	for (int i = 1; i < retry && limit < cap_ms; i++)
		limit *= 2;
	if (limit > cap_ms)
		limit = cap_ms;
	long wait = (long)(next_random(seed) % (unsigned long)(limit + 1));
	return retry_after_ms > wait ? retry_after_ms : wait;
}

long aws_http_parse_retry_after(const char *value, long long now)
{
	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (!*value)
		return -1;
	if (*value >= '0' && *value <= '9') {
		char *end;
		errno = 0;
		long s = strtol(value, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (errno || *end || s < 0 || s > 86400)
			return -1;
		return s * 1000;
	}
	time_t t = curl_getdate(value, NULL); /* the HTTP date forms */
	if (t < 0)
		return -1;
	long long d = (long long)t - now;
	return d <= 0 ? 0 : d > 86400 ? 86400000L : (long)d * 1000;
}

static void take_code(struct buf *code, const char *s, size_t n)
{
	/* "aws.protocoltests#FooError:http://..." -> "FooError" */
	const char *hash = memchr(s, '#', n);
	if (hash) {
		n -= (size_t)(hash + 1 - s);
		s = hash + 1;
	}
	const char *colon = memchr(s, ':', n);
	if (colon)
		n = (size_t)(colon - s);
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	buf_append(code, s, n);
}

static const char *json_str(const cJSON *obj, const char *const *names)
{
	for (; *names; names++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, *names);
		if (cJSON_IsString(v) && v->valuestring)
			return v->valuestring;
	}
	return NULL;
}

void aws_http_parse_error(const char *query_error, const char *body, size_t len,
			  struct buf *code, struct buf *message)
{
	static const char *const code_keys[] = {"__type", "code", "Code", NULL};
	static const char *const msg_keys[] = {"message", "Message", "errorMessage", NULL};
	buf_reset(code);
	buf_reset(message);
	if (query_error && *query_error) {
		const char *semi = strchr(query_error, ';');
		take_code(code, query_error, semi ? (size_t)(semi - query_error) : strlen(query_error));
	}
	cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	if (cJSON_IsObject(root)) {
		const char *m = json_str(root, msg_keys);
		if (m)
			buf_puts(message, m);
		const char *t = json_str(root, code_keys);
		if (t && code->len == 0)
			take_code(code, t, strlen(t));
	}
	cJSON_Delete(root);
}

static bool code_in(const char *code, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(code, *list) == 0)
			return true;
	return false;
}

enum aws_error_kind aws_http_classify(long http_status, const char *code, const char *message)
{
	static const char *const throttled[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException", "TransactionInProgressException",
		"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
		"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException", NULL};
	static const char *const transient[] = {
		"RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure",
		"InternalServiceError", "InternalServiceFault", "InternalServerError",
		"InternalServiceException", "ServiceUnavailable", "ServiceUnavailableException",
		NULL};
	static const char *const expired[] = {"ExpiredToken", "ExpiredTokenException",
					      "TokenRefreshRequired", NULL};
	static const char *const unknown_key[] = {
		"UnrecognizedClientException", "UnrecognizedClient", "InvalidClientTokenId",
		"InvalidAccessKeyId", "AuthFailure", NULL};
	static const char *const signature[] = {"InvalidSignatureException",
						"SignatureDoesNotMatch", "InvalidSignature", NULL};
	static const char *const clock[] = {"RequestExpired", "RequestTimeTooSkewed",
					    "RequestInTheFuture", NULL};
	static const char *const unsigned_req[] = {
		"MissingAuthenticationToken", "MissingAuthenticationTokenException",
		"IncompleteSignature", "IncompleteSignatureException", NULL};
	static const char *const denied[] = {
		"AccessDenied", "AccessDeniedException", "NotAuthorized", "UnauthorizedOperation",
		"UnauthorizedException", "AuthorizationError", NULL};
	static const char *const not_found[] = {"ResourceNotFound", "ResourceNotFoundException",
						NULL};
	static const char *const unavailable[] = {"DataUnavailableException", "OptInRequired",
						  "SubscriptionRequiredException", NULL};
	const char *c = code ? code : "";
	const char *m = message ? message : "";
	if (code_in(c, throttled))
		return AWS_ERR_THROTTLED;
	if (code_in(c, transient))
		return AWS_ERR_TRANSIENT;
	if (code_in(c, expired))
		return AWS_ERR_EXPIRED;
	if (code_in(c, unknown_key))
		return AWS_ERR_UNKNOWN_KEY;
	if (code_in(c, signature))
		return strstr(m, "Signature expired") || strstr(m, "Signature not yet current")
			       ? AWS_ERR_CLOCK
			       : AWS_ERR_SIGNATURE;
	if (code_in(c, clock))
		return AWS_ERR_CLOCK;
	if (code_in(c, unsigned_req))
		return AWS_ERR_UNSIGNED;
	if (code_in(c, denied))
		return AWS_ERR_DENIED;
	if (code_in(c, not_found))
		return AWS_ERR_NOT_FOUND;
	if (code_in(c, unavailable))
		return AWS_ERR_UNAVAILABLE;
	if (http_status == 429)
		return AWS_ERR_THROTTLED;
	if (http_status >= 500)
		return AWS_ERR_TRANSIENT;
	return AWS_ERR_OTHER;
}

void aws_http_safe_message(struct buf *out, const char *msg, const char *const *secrets,
			   int max_cols)
{
	if (msg)
		text_safe_message(out, msg, strlen(msg), secrets, max_cols, 1);
}

/* ------------------------------------------------------------------ messages */

bool aws_transport_is_transient(int curl_rc)
{
	CURLcode rc = (CURLcode)curl_rc;
	return rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR ||
	       rc == CURLE_SEND_ERROR;
}

static bool tls_error(CURLcode rc)
{
	return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_CERTPROBLEM ||
	       rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_CACERT_BADFILE ||
	       rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_CRL_BADFILE ||
	       rc == CURLE_SSL_ENGINE_NOTFOUND || rc == CURLE_SSL_ENGINE_SETFAILED ||
	       rc == CURLE_SSL_ENGINE_INITFAILED || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
	       rc == CURLE_SSL_INVALIDCERTSTATUS || rc == CURLE_USE_SSL_FAILED;
}

static enum status transport_error(const struct aws_failure *f, struct err *e)
{
	struct buf detail = BUF_INIT;
	CURLcode rc = (CURLcode)f->curl_rc;
	const char *raw = f->curl_detail && *f->curl_detail ? f->curl_detail : curl_easy_strerror(rc);
	text_sanitize(&detail, raw, strlen(raw), 160);
	const char *what = f->what, *host = f->host, *d = buf_str(&detail);
	int attempts = f->attempts;
	enum status st;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		st = err_set(e, ST_UNAVAILABLE, "%s: cannot resolve the host name %s (DNS); check "
						"the network connection and the endpoint URL",
			     what, host);
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		st = err_set(e, ST_UNAVAILABLE, "%s: cannot resolve the proxy's host name (%s); "
						"check https_proxy",
			     what, d);
		break;
	case CURLE_COULDNT_CONNECT:
		st = err_set(e, ST_UNAVAILABLE, "%s: cannot connect to %s (%s); check the network, "
						"a proxy or firewall, and the endpoint URL",
			     what, host, d);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		st = err_set(e, ST_UNAVAILABLE, "%s: no answer from %s within %d s; the network "
						"or AWS is slow, try again",
			     what, host, (f->timeout_ms + 999) / 1000);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		st = err_set(e, ST_UNAVAILABLE, "%s: the TLS certificate of %s cannot be verified "
						"(%s); check the clock, a TLS-inspecting proxy, or "
						"AWS_CA_BUNDLE",
			     what, host, d);
		break;
	case CURLE_WRITE_ERROR:
		if (f->too_big) {
			st = err_set(e, ST_FAIL, "%s: the answer is larger than %u MiB; that is not "
						 "an AWS answer (check the endpoint URL)",
				     what, AWS_HTTP_MAX_BODY >> 20);
			break;
		}
		/* fall through */
	default:
		if (tls_error(rc))
			st = err_set(e, ST_UNAVAILABLE, "%s: the TLS connection to %s failed (%s); "
							"check the clock, a proxy, or AWS_CA_BUNDLE",
				     what, host, d);
		else if (aws_transport_is_transient(f->curl_rc))
			st = err_set(e, ST_UNAVAILABLE, "%s: the connection to %s closed before the "
							"answer was complete (%s), %d time%s; try "
							"again later",
				     what, host, d, attempts, attempts == 1 ? "" : "s");
		else
			st = err_set(e, ST_UNAVAILABLE, "%s: network error talking to %s: %s", what,
				     host, d);
	}
	buf_free(&detail);
	return st;
}

/* The actionable part comes first, AWS's own words last: a long server
 * message may be cut at the end of struct err, the advice must not be. */
static enum status aws_error(const struct aws_failure *f, struct err *e)
{
	struct buf m = BUF_INIT, code = BUF_INIT, why = BUF_INIT;
	aws_http_safe_message(&m, f->message, f->secrets, AWS_MSG_COLS);
	text_sanitize(&code, f->code ? f->code : "", f->code ? strlen(f->code) : 0, 60);
	if (code.len && m.len)
		buf_printf(&why, "%s: %s", buf_str(&code), buf_str(&m));
	else if (code.len)
		buf_puts(&why, buf_str(&code));
	else
		buf_printf(&why, "HTTP %ld without an AWS error code", f->status);
	const char *w = f->what, *y = buf_str(&why), *src = f->source;
	int attempts = f->attempts;
	const char *s = attempts == 1 ? "" : "s";
	enum status st;
	switch (f->kind) {
	case AWS_ERR_THROTTLED:
		st = err_set(e, ST_UNAVAILABLE, "%s: AWS kept throttling the requests after %d "
						"attempt%s; try again in a minute (%s)",
			     w, attempts, s, y);
		break;
	case AWS_ERR_TRANSIENT:
		st = err_set(e, ST_UNAVAILABLE, "%s: AWS failed with HTTP %ld after %d attempt%s; "
						"try again later (%s)",
			     w, f->status, attempts, s, y);
		break;
	case AWS_ERR_EXPIRED:
		st = err_set(e, ST_AUTH, "%s: the AWS credentials have expired; get fresh ones "
					 "(e.g. aws sso login, or a new session token) for %s (%s)",
			     w, src, y);
		break;
	case AWS_ERR_UNKNOWN_KEY:
		st = err_set(e, ST_AUTH, "%s: AWS does not recognise the access key; check the key "
					 "id, and that a temporary key comes with its session "
					 "token, in %s (%s)",
			     w, src, y);
		break;
	case AWS_ERR_SIGNATURE:
		st = err_set(e, ST_AUTH, "%s: AWS says the signature does not match; check the "
					 "secret access key in %s (%s)",
			     w, src, y);
		break;
	case AWS_ERR_CLOCK:
		st = err_set(e, ST_AUTH, "%s: AWS refused the request time; check the clock, it "
					 "must be within 15 minutes of the real time (%s)",
			     w, y);
		break;
	case AWS_ERR_UNSIGNED:
		st = err_set(e, ST_AUTH, "%s: the endpoint did not accept the signature; check the "
					 "endpoint URL (%s)",
			     w, y);
		break;
	case AWS_ERR_DENIED:
		st = err_set(e, ST_AUTH, "%s: access denied; the identity from %s needs the IAM "
					 "permission %s:%s (%s)",
			     w, src, f->iam_prefix, f->operation, y);
		break;
	case AWS_ERR_NOT_FOUND:
		st = err_set(e, ST_NOT_FOUND, "%s: not found (%s)", w, y);
		break;
	case AWS_ERR_UNAVAILABLE:
		st = err_set(e, ST_UNAVAILABLE, "%s: not available for this account (%s)", w, y);
		break;
	default:
		st = err_set(e, ST_FAIL, "%s: AWS refused the request with HTTP %ld (%s)", w,
			     f->status, y);
	}
	buf_free(&m);
	buf_free(&code);
	buf_free(&why);
	return st;
}

enum status aws_failure_explain(const struct aws_failure *f, struct err *e)
{
	return f->curl_rc ? transport_error(f, e) : aws_error(f, e);
}
