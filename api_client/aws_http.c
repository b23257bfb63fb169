/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aws_http: signed AWS JSON requests over libcurl. See aws_http.h. */
#include "aws_http.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../core/text.h"
#include "backend.h"
#include "sigv4.h"

#define AWS_HTTP_TICK_MS 100
#define AWS_REFRESH_MARGIN_S 300

const struct aws_service aws_service_cloudwatch = {
	"CloudWatch", "monitoring", "monitoring", "cloudwatch", "GraniteServiceVersion20100801",
	"application/x-amz-json-1.0", "CLOUDWATCH", NULL,
};

const struct aws_service aws_service_cost_explorer = {
	"Cost Explorer", "ce", "ce", "ce", "AWSInsightsIndexService",
	"application/x-amz-json-1.1", "COST_EXPLORER", "us-east-1",
};

struct aws_http {
	char *profile, *region_opt, *endpoint_url;
	const struct aws_env *env;
	long long fixed_now;
	int connect_timeout_ms, timeout_ms, max_attempts;
	int backoff_base_ms, backoff_cap_ms, retry_after_max_ms;
	unsigned seed;
	struct backend_waiter waiter;
	bool has_waiter;
	struct aws_credentials creds;
	bool have_creds;
	struct buf region;
	bool have_region;
	CURL *easy;
	CURLM *multi;
	struct aws_http_stats stats;
	/* the current attempt's answer */
	struct buf body, query_error, retry_after;
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
};

/* Where one call goes. */
struct endpoint {
	struct buf url;    /* what curl is given */
	struct buf host;   /* the Host header, signed */
	struct buf path;   /* the request path, signed */
	struct buf shown;  /* host (sanitised), for messages */
};

struct call {
	const struct aws_service *svc;
	const char *operation;
	const char *region; /* the signing region */
	struct buf target;  /* X-Amz-Target */
	struct buf what;    /* "CloudWatch DescribeAlarms (eu-west-1)" */
	struct endpoint ep;
	char *body;
	/* the last attempt's outcome */
	long status;
	CURLcode curl_rc;
	struct buf code, message;
	long retry_after_ms;
};

/* ------------------------------------------------------------------ small helpers */

static char *dup_opt(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

static long long clock_now(const struct aws_http *h)
{
	return h->fixed_now ? h->fixed_now : (long long)time(NULL);
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int opt_or(int v, int def)
{
	return v > 0 ? v : def;
}

static bool tick(struct aws_http *h, const char *what)
{
	return h->has_waiter && h->waiter.tick && h->waiter.tick(h->waiter.ctx, what);
}

static void notify(struct aws_http *h, const char *msg)
{
	if (h->has_waiter && h->waiter.notify)
		h->waiter.notify(h->waiter.ctx, msg);
}

/* ------------------------------------------------------------------ life cycle */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct aws_http *h = ud;
	size_t n = size * nmemb;
	if (h->body.len + n > AWS_HTTP_MAX_BODY) {
		h->too_big = true;
		return 0;
	}
	buf_append(&h->body, data, n);
	return n;
}

static bool header_is(const char *line, size_t n, const char *name, const char **value,
		      size_t *vlen)
{
	size_t k = strlen(name);
	if (n <= k || line[k] != ':' || strncasecmp(line, name, k) != 0)
		return false;
	const char *v = line + k + 1;
	size_t left = n - k - 1;
	while (left && (*v == ' ' || *v == '\t')) {
		v++;
		left--;
	}
	while (left && (v[left - 1] == '\r' || v[left - 1] == '\n' || v[left - 1] == ' '))
		left--;
	*value = v;
	*vlen = left;
	return true;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct aws_http *h = ud;
	size_t n = size * nmemb;
	const char *v;
	size_t vlen;
	if (n > 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response (after a 1xx) */
		buf_reset(&h->query_error);
		buf_reset(&h->retry_after);
	} else if (header_is(data, n, "x-amzn-query-error", &v, &vlen)) {
		buf_reset(&h->query_error);
		buf_append(&h->query_error, v, vlen);
	} else if (header_is(data, n, "retry-after", &v, &vlen)) {
		buf_reset(&h->retry_after);
		buf_append(&h->retry_after, v, vlen);
	}
	return n;
}

static void setup_easy(struct aws_http *h)
{
	CURL *c = h->easy;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "empdir-tui/" EMPDIR_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	const char *ca = aws_env_get(h->env, "AWS_CA_BUNDLE");
	if (ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
}

enum status aws_http_new(const struct aws_http_options *o, struct aws_http **out, struct err *e)
{
	static const struct aws_http_options defaults;
	if (!o)
		o = &defaults;
	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, ST_FAIL, "cannot initialise libcurl");
	struct aws_http *h = xcalloc(1, sizeof *h);
	h->profile = dup_opt(o->profile);
	h->region_opt = dup_opt(o->region);
	h->endpoint_url = dup_opt(o->endpoint_url);
	h->env = o->env;
	h->fixed_now = o->now;
	h->connect_timeout_ms = opt_or(o->connect_timeout_ms, 5000);
	h->timeout_ms = opt_or(o->timeout_ms, 20000);
	h->max_attempts = opt_or(o->max_attempts, 4);
	h->backoff_base_ms = opt_or(o->backoff_base_ms, 200);
	h->backoff_cap_ms = opt_or(o->backoff_cap_ms, 5000);
	h->retry_after_max_ms = opt_or(o->retry_after_max_ms, 30000);
	h->seed = o->jitter_seed ? o->jitter_seed
				 : (unsigned)mono_ms() ^ (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
	h->creds = (struct aws_credentials)AWS_CREDENTIALS_INIT;
	h->easy = curl_easy_init();
	h->multi = curl_multi_init();
	if (!h->easy || !h->multi) {
		aws_http_free(h);
		return err_set(e, ST_FAIL, "cannot create a libcurl handle (out of memory?)");
	}
	setup_easy(h);
	*out = h;
	return ST_OK;
}

void aws_http_free(struct aws_http *h)
{
	if (!h)
		return;
	if (h->easy)
		curl_easy_cleanup(h->easy);
	if (h->multi)
		curl_multi_cleanup(h->multi);
	curl_global_cleanup();
	aws_credentials_free(&h->creds);
	buf_free(&h->region);
	buf_free(&h->body);
	buf_free(&h->query_error);
	buf_free(&h->retry_after);
	free(h->profile);
	free(h->region_opt);
	free(h->endpoint_url);
	free(h);
}

void aws_http_set_waiter(struct aws_http *h, const struct backend_waiter *w)
{
	h->has_waiter = w != NULL;
	if (w)
		h->waiter = *w;
}

long long aws_http_now(const struct aws_http *h)
{
	return clock_now(h);
}

struct aws_http_stats aws_http_get_stats(const struct aws_http *h)
{
	return h->stats;
}

/* ------------------------------------------------------------------ region, credentials */

static struct aws_creds_options creds_options(const struct aws_http *h)
{
	struct aws_creds_options o = {0};
	o.profile = h->profile;
	o.region = h->region_opt;
	o.env = h->env;
	o.waiter = h->has_waiter ? &h->waiter : NULL;
	o.now = h->fixed_now;
	return o;
}

enum status aws_http_region(struct aws_http *h, const char **region, struct err *e)
{
	if (!h->have_region) {
		struct aws_creds_options o = creds_options(h);
		enum status st = aws_creds_region(&o, &h->region, NULL, e);
		if (st != ST_OK)
			return st;
		h->have_region = true;
	}
	*region = buf_str(&h->region);
	return ST_OK;
}

static enum status resolve_creds(struct aws_http *h, struct err *e)
{
	struct aws_creds_options o = creds_options(h);
	struct aws_credentials fresh = AWS_CREDENTIALS_INIT;
	enum status st = aws_creds_resolve(&o, &fresh, e);
	if (st != ST_OK) {
		aws_credentials_free(&fresh);
		return st;
	}
	aws_credentials_free(&h->creds);
	h->creds = fresh;
	h->have_creds = true;
	return ST_OK;
}

static enum status ensure_creds(struct aws_http *h, struct err *e)
{
	if (h->have_creds &&
	    !aws_credentials_need_refresh(&h->creds, clock_now(h), AWS_REFRESH_MARGIN_S))
		return ST_OK;
	return resolve_creds(h, e);
}

enum status aws_http_credentials(struct aws_http *h, const char **source, struct err *e)
{
	enum status st = ensure_creds(h, e);
	if (st == ST_OK && source)
		*source = buf_str(&h->creds.source);
	return st;
}

/* ------------------------------------------------------------------ endpoints */

static const char *env_endpoint(const struct aws_http *h, const struct aws_service *svc,
				const char **from, struct buf *name)
{
	const char *ignore = aws_env_get(h->env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	if (ignore && strcasecmp(ignore, "true") == 0)
		return NULL;
	buf_reset(name);
	buf_printf(name, "AWS_ENDPOINT_URL_%s", svc->env_id);
	const char *v = aws_env_get(h->env, buf_str(name));
	if (v) {
		*from = buf_str(name);
		return v;
	}
	v = aws_env_get(h->env, "AWS_ENDPOINT_URL");
	if (v)
		*from = "AWS_ENDPOINT_URL";
	return v;
}

/* The URL and, for messages, where it came from. */
static enum status endpoint_url(struct aws_http *h, const struct aws_service *svc,
				const char *region, struct buf *url, struct buf *from,
				struct err *e)
{
	buf_reset(url);
	buf_reset(from);
	struct buf name = BUF_INIT;
	const char *src = NULL, *v = NULL;
	if (h->endpoint_url) {
		v = h->endpoint_url;
		src = "endpoint_url in [aws]";
	} else {
		v = env_endpoint(h, svc, &src, &name);
	}
	if (v) {
		buf_puts(url, v);
		buf_puts(from, src);
		buf_free(&name);
		return ST_OK;
	}
	buf_free(&name);
	if (svc->home_region) {
		region = svc->home_region;
	} else if (!region || !*region) {
		enum status st = aws_http_region(h, &region, e);
		if (st != ST_OK)
			return st;
	}
	bool china = strncmp(region, "cn-", 3) == 0;
	buf_printf(url, "https://%s.%s.amazonaws.com%s/", svc->endpoint_prefix, region,
		   china ? ".cn" : "");
	buf_puts(from, "the default endpoint");
	return ST_OK;
}

static void endpoint_free(struct endpoint *ep)
{
	buf_free(&ep->url);
	buf_free(&ep->host);
	buf_free(&ep->path);
	buf_free(&ep->shown);
}

static bool url_part(CURLU *u, CURLUPart part, char **out)
{
	*out = NULL;
	return curl_url_get(u, part, out, 0) == CURLUE_OK && *out && **out;
}

static bool url_has(CURLU *u, CURLUPart part)
{
	char *v;
	bool has = url_part(u, part, &v);
	curl_free(v);
	return has;
}

/* Split the URL into what is signed. The URL is never echoed in a message:
 * it might carry a password. */
static enum status parse_endpoint(const char *url, const char *from, struct endpoint *ep,
				  struct err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	enum status st = ST_OK;
	if (!u)
		return err_set(e, ST_FAIL, "out of memory parsing the endpoint URL");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK || !url_part(u, CURLUPART_SCHEME, &scheme) ||
	    !url_part(u, CURLUPART_HOST, &host)) {
		st = err_set(e, ST_INVALID, "the endpoint URL from %s is not a URL; use e.g. "
					    "https://host or http://127.0.0.1:4566",
			     from);
		goto done;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		st = err_set(e, ST_INVALID, "the endpoint URL from %s must start with https:// "
					    "(or http://)",
			     from);
		goto done;
	}
	if (url_has(u, CURLUPART_USER) || url_has(u, CURLUPART_PASSWORD)) {
		st = err_set(e, ST_INVALID, "the endpoint URL from %s must not contain a user "
					    "name or password",
			     from);
		goto done;
	}
	if (url_has(u, CURLUPART_QUERY) || url_has(u, CURLUPART_FRAGMENT)) {
		st = err_set(e, ST_INVALID, "the endpoint URL from %s must not have a query "
					    "or a fragment",
			     from);
		goto done;
	}
	bool https = strcmp(scheme, "https") == 0;
	buf_puts(&ep->host, host);
	if (url_part(u, CURLUPART_PORT, &port) &&
	    strcmp(port, https ? "443" : "80") != 0)
		buf_printf(&ep->host, ":%s", port);
	if (url_part(u, CURLUPART_PATH, &path))
		buf_puts(&ep->path, path);
	else
		buf_puts(&ep->path, "/");
	buf_printf(&ep->url, "%s://%s%s", scheme, buf_str(&ep->host), buf_str(&ep->path));
	text_sanitize(&ep->shown, ep->host.data, ep->host.len, 80);
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return st;
}

enum status aws_http_endpoint(struct aws_http *h, const struct aws_service *svc,
			      const char *region, struct buf *url, struct err *e)
{
	struct buf from = BUF_INIT;
	enum status st = endpoint_url(h, svc, region, url, &from, e);
	buf_free(&from);
	return st;
}

enum status aws_http_identity(struct aws_http *h, const struct aws_service *svc,
			      struct buf *out, struct err *e)
{
	enum status st = ensure_creds(h, e);
	if (st != ST_OK)
		return st;
	struct buf url = BUF_INIT;
	st = aws_http_endpoint(h, svc, NULL, &url, e);
	if (st == ST_OK) {
		if (h->creds.profile.len)
			buf_printf(out, "profile:%s", buf_str(&h->creds.profile));
		else
			buf_printf(out, "environment:%s", buf_str(&h->creds.access_key_id));
		buf_printf(out, " endpoint:%s", buf_str(&url));
	}
	buf_free(&url);
	return st;
}

/* ------------------------------------------------------------------ waiting */

/* Run the transfer on h->easy, ticking the waiter. */
static enum status run_transfer(struct aws_http *h, const char *what, CURLcode *rc)
{
	*rc = CURLE_OK;
	if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK) {
		*rc = CURLE_FAILED_INIT;
		return ST_OK;
	}
	enum status st = ST_OK;
	long long last_tick = mono_ms();
	int running = 1;
	for (;;) {
		CURLMcode mc = curl_multi_perform(h->multi, &running);
		if (mc != CURLM_OK) {
			*rc = CURLE_FAILED_INIT;
			break;
		}
		if (!running)
			break;
		int fd = h->has_waiter ? h->waiter.input_fd : -1;
		struct curl_waitfd extra = {fd, CURL_WAIT_POLLIN, 0};
		int numfds = 0;
		curl_multi_poll(h->multi, fd >= 0 ? &extra : NULL, fd >= 0 ? 1u : 0u,
				AWS_HTTP_TICK_MS, &numfds);
		long long t = mono_ms();
		if (extra.revents || t - last_tick >= AWS_HTTP_TICK_MS) {
			last_tick = t;
			if (tick(h, what)) {
				st = ST_CANCELLED;
				break;
			}
		}
	}
	int queued;
	CURLMsg *m;
	while ((m = curl_multi_info_read(h->multi, &queued)) != NULL)
		if (m->msg == CURLMSG_DONE && m->easy_handle == h->easy)
			*rc = m->data.result;
	curl_multi_remove_handle(h->multi, h->easy);
	return st;
}

/* Sleep ms, ticking the waiter. */
static enum status wait_ms(struct aws_http *h, long ms, const char *what)
{
	long long until = mono_ms() + ms;
	for (;;) {
		long long left = until - mono_ms();
		if (left <= 0)
			return ST_OK;
		int slice = (int)(left < AWS_HTTP_TICK_MS ? left : AWS_HTTP_TICK_MS);
		int fd = h->has_waiter ? h->waiter.input_fd : -1;
		struct pollfd p = {fd, POLLIN, 0};
		poll(fd >= 0 ? &p : NULL, fd >= 0 ? 1 : 0, slice);
		if (tick(h, what))
			return ST_CANCELLED;
	}
}

/* ------------------------------------------------------------------ one attempt */

static void wipe_slist(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		OPENSSL_cleanse(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static enum status sign_headers(struct aws_http *h, struct call *c, struct curl_slist **list,
				struct err *e)
{
	const struct aws_service *svc = c->svc;
	struct sigv4_header hdrs[2] = {{"Content-Type", svc->content_type},
				       {"X-Amz-Target", buf_str(&c->target)}};
	struct sigv4_request req = {"POST", buf_str(&c->ep.host), buf_str(&c->ep.path), NULL,
				    hdrs, 2, c->body, strlen(c->body)};
	struct sigv4_credentials sc = {buf_str(&h->creds.access_key_id),
				       buf_str(&h->creds.secret_access_key),
				       buf_str(&h->creds.session_token)};
	char date[17];
	sigv4_format_date(clock_now(h), date);
	struct sigv4_result r = SIGV4_RESULT_INIT;
	enum status st = sigv4_sign_request(&req, &sc, c->region, svc->signing_name, date, NULL,
					    &r, e);
	if (st != ST_OK) {
		sigv4_result_free(&r);
		return st;
	}
	struct buf line = BUF_INIT;
	buf_printf(&line, "Host: %s", buf_str(&c->ep.host));
	*list = curl_slist_append(*list, buf_str(&line));
	buf_reset(&line);
	buf_printf(&line, "Content-Type: %s", svc->content_type);
	*list = curl_slist_append(*list, buf_str(&line));
	buf_reset(&line);
	buf_printf(&line, "X-Amz-Target: %s", buf_str(&c->target));
	*list = curl_slist_append(*list, buf_str(&line));
	buf_free(&line);
	for (size_t i = 0; i < r.add_headers.n; i++)
		*list = curl_slist_append(*list, r.add_headers.v[i]);
	*list = curl_slist_append(*list, "Expect:"); /* not signed: our signer never saw it */
	*list = curl_slist_append(*list, "Accept: application/json");
	sigv4_result_free(&r);
	return ST_OK;
}

/* Send once. ST_OK means an answer (any status) arrived, or a transport
 * error is in c->curl_rc; other statuses end the call. */
static enum status attempt(struct aws_http *h, struct call *c, struct err *e)
{
	struct curl_slist *list = NULL;
	enum status st = sign_headers(h, c, &list, e);
	if (st != ST_OK) {
		wipe_slist(list);
		return st;
	}
	buf_reset(&h->body);
	buf_reset(&h->query_error);
	buf_reset(&h->retry_after);
	h->too_big = false;
	h->errbuf[0] = '\0';
	c->status = 0;
	CURL *easy = h->easy;
	curl_easy_setopt(easy, CURLOPT_URL, buf_str(&c->ep.url));
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
	h->stats.attempts++;
	char what[160];
	snprintf(what, sizeof what, "waiting for %s", buf_str(&c->what));
	st = run_transfer(h, what, &c->curl_rc);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
	wipe_slist(list);
	if (st == ST_CANCELLED)
		return err_set(e, ST_CANCELLED, "%s: cancelled", buf_str(&c->what));
	if (c->curl_rc == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &c->status);
	return ST_OK;
}

/* ------------------------------------------------------------------ outcomes */

/* The one sentence for a failed call. */
static enum status explain(struct aws_http *h, struct call *c, enum aws_error_kind kind,
			   int attempts, struct err *e)
{
	const char *secrets[] = {buf_str(&h->creds.secret_access_key),
				 buf_str(&h->creds.session_token), NULL};
	struct aws_failure f = {
		.what = buf_str(&c->what),
		.host = buf_str(&c->ep.shown),
		.curl_rc = (int)c->curl_rc,
		.curl_detail = h->errbuf,
		.too_big = h->too_big,
		.timeout_ms = h->timeout_ms,
		.status = c->status,
		.code = buf_str(&c->code),
		.message = buf_str(&c->message),
		.kind = kind,
		.attempts = attempts,
		.source = buf_str(&h->creds.source),
		.iam_prefix = c->svc->iam_prefix,
		.operation = c->operation,
		.secrets = secrets,
	};
	return aws_failure_explain(&f, e);
}

/* A 2xx body: a JSON object, nothing else. */
static enum status parse_answer(struct aws_http *h, struct call *c, cJSON **output,
				struct err *e)
{
	const char *body = buf_str(&h->body), *end = NULL;
	size_t n = h->body.len;
	cJSON *root = n ? cJSON_ParseWithLengthOpts(body, n, &end, 0) : NULL;
	if (root && end) {
		while (end < body + n && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
			end++;
		if (end != body + n) {
			cJSON_Delete(root);
			root = NULL;
		}
	}
	if (cJSON_IsObject(root)) {
		*output = root;
		return ST_OK;
	}
	const char *w = buf_str(&c->what);
	size_t i = 0;
	while (i < n && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
		i++;
	enum status st;
	if (n == 0) {
		st = err_set(e, ST_FAIL, "%s: the answer is empty (HTTP %ld)", w, c->status);
	} else if (root) {
		st = err_set(e, ST_FAIL, "%s: the answer is JSON but not an object", w);
	} else if (body[i] == '{' || body[i] == '[') {
		st = err_set(e, ST_FAIL, "%s: the answer is not valid JSON (%zu bytes; cut short "
					 "or malformed); try again",
			     w, n);
	} else {
		struct buf head = BUF_INIT;
		text_sanitize(&head, body + i, n - i < 40 ? n - i : 40, 30);
		st = err_set(e, ST_FAIL, "%s: the answer is not JSON (it starts with \"%s\"); check "
					 "the endpoint URL",
			     w, buf_str(&head));
		buf_free(&head);
	}
	cJSON_Delete(root);
	return st;
}

/* ------------------------------------------------------------------ the call */

static void call_free(struct call *c)
{
	buf_free(&c->target);
	buf_free(&c->what);
	endpoint_free(&c->ep);
	if (c->body)
		cJSON_free(c->body);
	buf_free(&c->code);
	buf_free(&c->message);
}

static enum status call_prepare(struct aws_http *h, struct call *c, const char *region,
				const cJSON *input, struct err *e)
{
	const struct aws_service *svc = c->svc;
	enum status st = ST_OK;
	if (svc->home_region)
		region = svc->home_region;
	else if (!region || !*region)
		st = aws_http_region(h, &region, e);
	if (st != ST_OK)
		return st;
	c->region = region;
	buf_printf(&c->target, "%s.%s", svc->target_prefix, c->operation);
	if (svc->home_region)
		buf_printf(&c->what, "%s %s", svc->title, c->operation);
	else
		buf_printf(&c->what, "%s %s (%s)", svc->title, c->operation, region);
	struct buf url = BUF_INIT, from = BUF_INIT;
	st = endpoint_url(h, svc, region, &url, &from, e);
	if (st == ST_OK)
		st = parse_endpoint(buf_str(&url), buf_str(&from), &c->ep, e);
	buf_free(&url);
	buf_free(&from);
	if (st != ST_OK)
		return st;
	c->body = input ? cJSON_PrintUnformatted(input) : NULL;
	if (!c->body) {
		c->body = cJSON_malloc(3);
		if (c->body)
			memcpy(c->body, "{}", 3);
	}
	if (!c->body)
		return err_set(e, ST_FAIL, "out of memory building the request");
	return ensure_creds(h, e);
}

/* What to do after an attempt that got an answer or a transport error. */
enum next { NEXT_DONE, NEXT_RETRY, NEXT_FAIL };

static enum next judge(struct aws_http *h, struct call *c, enum aws_error_kind *kind)
{
	c->retry_after_ms = -1;
	if (c->curl_rc != CURLE_OK)
		return aws_transport_is_transient((int)c->curl_rc) ? NEXT_RETRY : NEXT_FAIL;
	if (c->status >= 200 && c->status < 300)
		return NEXT_DONE;
	aws_http_parse_error(buf_str(&h->query_error), buf_str(&h->body), h->body.len, &c->code,
			     &c->message);
	*kind = aws_http_classify(c->status, buf_str(&c->code), buf_str(&c->message));
	if (*kind == AWS_ERR_THROTTLED || *kind == AWS_ERR_TRANSIENT) {
		c->retry_after_ms = aws_http_parse_retry_after(
			h->retry_after.len ? buf_str(&h->retry_after) : NULL, clock_now(h));
		return NEXT_RETRY;
	}
	return NEXT_FAIL;
}

/* After ExpiredToken: credentials that can be renewed (credential_process)
 * get one more try when the renewal gives another key. */
static bool renewed_credentials(struct aws_http *h)
{
	if (!h->creds.expiration)
		return false;
	struct buf old = BUF_INIT;
	buf_puts(&old, buf_str(&h->creds.access_key_id));
	struct err ignored = {0};
	bool changed = resolve_creds(h, &ignored) == ST_OK &&
		       strcmp(buf_str(&old), buf_str(&h->creds.access_key_id)) != 0;
	buf_free(&old);
	return changed;
}

static enum status backoff(struct aws_http *h, struct call *c, int retry, struct err *e)
{
	long ms = aws_http_backoff_ms(retry, h->backoff_base_ms, h->backoff_cap_ms,
				      c->retry_after_ms, &h->seed);
	char msg[200];
	snprintf(msg, sizeof msg, "%s: %s; retrying in %.1f s", buf_str(&c->what),
		 c->curl_rc != CURLE_OK ? "connection lost" : "AWS is busy", (double)ms / 1000.0);
	notify(h, msg);
	if (wait_ms(h, ms, msg) == ST_CANCELLED)
		return err_set(e, ST_CANCELLED, "%s: cancelled", buf_str(&c->what));
	return ST_OK;
}

enum status aws_http_call(struct aws_http *h, const struct aws_service *svc, const char *region,
			  const char *operation, const cJSON *input, cJSON **output,
			  struct err *e)
{
	*output = NULL;
	h->stats.calls++;
	struct call c = {.svc = svc, .operation = operation};
	enum status st = call_prepare(h, &c, region, input, e);
	bool renewed = false;
	for (int n = 1; st == ST_OK; n++) {
		st = attempt(h, &c, e);
		if (st != ST_OK)
			break;
		enum aws_error_kind kind = AWS_ERR_OTHER;
		enum next next = judge(h, &c, &kind);
		if (next == NEXT_DONE) {
			st = parse_answer(h, &c, output, e);
			break;
		}
		bool too_long = c.retry_after_ms > h->retry_after_max_ms;
		if (next == NEXT_RETRY && n < h->max_attempts && !too_long) {
			h->stats.retries++;
			st = backoff(h, &c, n, e);
			continue;
		}
		if (kind == AWS_ERR_EXPIRED && !renewed && renewed_credentials(h)) {
			renewed = true;
			continue;
		}
		if (too_long && next == NEXT_RETRY)
			st = err_set(e, ST_UNAVAILABLE, "%s: AWS is busy and asks to wait %ld s; try "
							"again later",
				     buf_str(&c.what), c.retry_after_ms / 1000);
		else
			st = explain(h, &c, kind, n, e);
	}
	call_free(&c);
	return st;
}
