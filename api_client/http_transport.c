/* SPDX-License-Identifier: GPL-3.0-or-later */
/* http_transport: one connection to the API, and requests over it.
 *
 * One curl easy handle, reused for every request, inside one multi handle
 * that keeps the connection (keep-alive, HTTP/2 over TLS where offered, TLS
 * sessions). The multi handle is driven with curl_multi_poll() in slices of
 * at most 100 ms, with the terminal's input in the same poll, so the waiter
 * ticks (spinner, Esc) and the screen never freezes.
 *
 * Retries: 429, 502, 503, 504 and dropped connections are retried with
 * exponential backoff and full jitter, honouring Retry-After, at most
 * HTTP_ATTEMPTS times and only for requests marked retry_safe (GET; writes
 * with If-Match or a client-chosen id). A timeout is retried once at most;
 * a refused connection only once the API has answered before (so a wrong
 * URL fails at once). The first request gets a longer timeout: a cold Lambda
 * may take seconds.
 *
 * TLS verification is always on; ca_file adds a private CA. Redirects are
 * not followed (a token must not travel to another host). The body is
 * capped at HTTP_BODY_MAX, after decompression. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../core/text.h"
#include "http_internal.h"

#define HTTP_ATTEMPTS 4
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 5000
#define RETRY_AFTER_MAX_MS 20000
#define TICK_MS 100
#define PROGRESS_AFTER_MS 1500

struct http_conn {
	CURL *easy;
	CURLM *multi;
	struct http_auth *auth;
	char *base;        /* scheme://host[:port][/path] */
	char *base_path;   /* "" or "/stage" */
	char *display;     /* host[:port][/path] */
	char *host_header; /* host[:port], as curl sends it */
	bool plain_remote;
	long request_timeout_ms, first_timeout_ms;
	bool answered_once;
	unsigned long long rng;
	void (*progress)(const char *msg);
	char errbuf[CURL_ERROR_SIZE];
	/* the attempt in flight */
	struct http_response *rs;
	bool too_big;
	long retry_after_ms;
};

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

const char *http_conn_base(const struct http_conn *c) { return c->base; }
const char *http_conn_display(const struct http_conn *c) { return c->display; }
bool http_conn_is_plain_remote(const struct http_conn *c) { return c->plain_remote; }

void http_conn_set_progress(struct http_conn *c, void (*progress)(const char *msg))
{
	c->progress = progress;
}

void http_append_escaped(struct http_conn *c, struct buf *out, const char *s)
{
	char *esc = curl_easy_escape(c->easy, s, (int)strlen(s));
	if (!esc)
		abort(); /* out of memory, as xmalloc does */
	buf_puts(out, esc);
	curl_free(esc);
}

void http_response_free(struct http_response *rs)
{
	buf_free(&rs->body);
	memset(rs, 0, sizeof *rs);
}

/* ---- the base URL ---- */

static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
	char *v = NULL;
	if (curl_url_get(u, part, &v, flags) != CURLUE_OK || !v)
		return NULL;
	char *copy = xstrdup(v);
	curl_free(v);
	return copy;
}

static bool is_loopback(const char *host)
{
	return strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "[::1]") == 0;
}

/* The path without trailing slashes and without a trailing /api/v1 (users
 * paste the URL they see in the contract). */
static void normalise_path(char *p)
{
	size_t n = strlen(p);
	while (n && p[n - 1] == '/')
		p[--n] = '\0';
	size_t k = strlen(HTTP_API_PREFIX);
	if (n >= k && strcmp(p + n - k, HTTP_API_PREFIX) == 0)
		p[n - k] = '\0';
	n = strlen(p);
	while (n && p[n - 1] == '/')
		p[--n] = '\0';
}

static enum status refuse_parts(CURLU *u, const char *url, struct err *e)
{
	char *user = url_part(u, CURLUPART_USER, 0), *query = url_part(u, CURLUPART_QUERY, 0);
	char *frag = url_part(u, CURLUPART_FRAGMENT, 0);
	enum status st = ST_OK;
	if (user)
		st = err_set(e, ST_INVALID, "the API URL must not hold a user name or password; "
					    "use token_env or token_command for credentials");
	else if (query || frag)
		st = err_set(e, ST_INVALID, "the API URL %s has a query or fragment; give only the "
					    "deployment's base URL, e.g. https://abc123.execute-api.us-east-1.amazonaws.com",
			     url);
	free(user);
	free(query);
	free(frag);
	return st;
}

static enum status parse_base(struct http_conn *c, const char *url, struct err *e)
{
	CURLU *u = curl_url();
	if (!u)
		abort();
	CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, CURLU_DEFAULT_SCHEME);
	char *safe = text_safe_dup(url);
	enum status st = ST_OK;
	if (rc == CURLUE_UNSUPPORTED_SCHEME)
		st = err_set(e, ST_INVALID, "the API URL %s is not https:// (or http://); give the deployment's base URL", safe);
	else if (rc != CURLUE_OK)
		st = err_set(e, ST_INVALID, "the API URL %s is not a valid URL (%s); give the deployment's base URL, "
					    "e.g. https://abc123.execute-api.us-east-1.amazonaws.com",
			     safe, curl_url_strerror(rc));
	if (st == ST_OK)
		st = refuse_parts(u, safe, e);
	if (st == ST_OK) {
		char *scheme = url_part(u, CURLUPART_SCHEME, 0), *host = url_part(u, CURLUPART_HOST, 0);
		char *port = url_part(u, CURLUPART_PORT, 0), *path = url_part(u, CURLUPART_PATH, 0);
		if (!scheme || !host)
			st = err_set(e, ST_INVALID, "the API URL %s has no host name", safe);
		else if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
			st = err_set(e, ST_INVALID, "the API URL %s is not https:// (or http://); give the "
						    "deployment's base URL",
				     safe);
		else {
			normalise_path(path ? path : scheme);
			struct buf hh = BUF_INIT, b = BUF_INIT, d = BUF_INIT;
			buf_printf(&hh, "%s%s%s", host, port ? ":" : "", port ? port : "");
			buf_printf(&b, "%s://%s%s", scheme, hh.data, path ? path : "");
			buf_printf(&d, "%s%s", hh.data, path ? path : "");
			c->host_header = buf_steal(&hh);
			c->base = buf_steal(&b);
			c->display = text_safe_dup(d.data);
			buf_free(&d);
			c->base_path = xstrdup(path ? path : "");
			c->plain_remote = strcmp(scheme, "http") == 0 && !is_loopback(host);
		}
		free(scheme);
		free(host);
		free(port);
		free(path);
	}
	free(safe);
	curl_url_cleanup(u);
	return st;
}

/* ---- callbacks ---- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct http_conn *c = arg;
	size_t len = size * n;
	if (c->rs->body.len + len > (size_t)HTTP_BODY_MAX) {
		c->too_big = true;
		return 0; /* CURLE_WRITE_ERROR: stop reading */
	}
	buf_append(&c->rs->body, data, len);
	return len;
}

static void header_value(char *out, size_t outsz, const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

static long parse_retry_after(const char *v)
{
	char *end;
	long s = strtol(v, &end, 10);
	if (end != v && *end == '\0')
		return s < 0 ? 0 : s > 86400 ? 86400000L : s * 1000;
	time_t t = curl_getdate(v, NULL);
	if (t < 0)
		return -1;
	long long d = ((long long)t - (long long)time(NULL)) * 1000;
	return d < 0 ? 0 : d > 86400000LL ? 86400000L : (long)d;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct http_conn *c = arg;
	size_t len = size * n;
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) { /* a new response (or 1xx) */
		c->rs->content_type[0] = '\0';
		c->retry_after_ms = -1;
		return len;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon)
		return len;
	size_t klen = (size_t)(colon - data), vlen = len - klen - 1;
	if (klen == 12 && strncasecmp(data, "content-type", 12) == 0) {
		header_value(c->rs->content_type, sizeof c->rs->content_type, colon + 1, vlen);
	} else if (klen == 11 && strncasecmp(data, "retry-after", 11) == 0) {
		char v[64];
		header_value(v, sizeof v, colon + 1, vlen);
		c->retry_after_ms = parse_retry_after(v);
	}
	return len;
}

/* ---- opening ---- */

static void set_fixed_options(struct http_conn *c, const struct http_settings *s)
{
	CURL *h = c->easy;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->ca_file && *s->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_BODY_MAX);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "empdir-tui/" EMPDIR_VERSION);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 0L); /* never: it would print the token */
}

enum status http_conn_open(const struct http_settings *s, struct http_auth *auth,
			   struct http_conn **out, struct err *e)
{
	*out = NULL;
	struct http_conn *c = xcalloc(1, sizeof *c);
	c->auth = auth;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	enum status st = parse_base(c, s->url, e);
	if (st == ST_OK && c->plain_remote && http_auth_sends_secret(auth))
		st = err_set(e, ST_INVALID, "refusing to send credentials over plain http:// to %s; use the "
					    "API's https:// URL",
			     c->display);
	if (st == ST_OK) {
		c->easy = curl_easy_init();
		c->multi = curl_multi_init();
		if (!c->easy || !c->multi)
			st = err_set(e, ST_FAIL, "cannot start libcurl (out of memory?)");
	}
	if (st != ST_OK) {
		http_conn_free(c);
		return st;
	}
	set_fixed_options(c, s);
	c->request_timeout_ms = s->request_timeout_ms;
	c->first_timeout_ms = s->first_timeout_ms > s->request_timeout_ms ? s->first_timeout_ms
									 : s->request_timeout_ms;
	c->progress = s->progress;
	c->rng = (unsigned long long)now_ms() * 6364136223846793005ULL ^ (unsigned long long)getpid() ^
		 (unsigned long long)(size_t)c;
	*out = c;
	return ST_OK;
}

void http_conn_free(struct http_conn *c)
{
	if (!c)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->easy)
		curl_easy_cleanup(c->easy);
	http_auth_free(c->auth);
	free(c->base);
	free(c->base_path);
	free(c->display);
	free(c->host_header);
	free(c);
	curl_global_cleanup();
}

/* ---- one attempt ---- */

static enum status build_headers(struct http_conn *c, const struct http_request *rq,
				 struct curl_slist **out, struct err *e)
{
	struct curl_slist *h = NULL;
	h = curl_slist_append(h, "Accept: application/json, application/problem+json");
	h = curl_slist_append(h, "Expect:");
	if (rq->body)
		h = curl_slist_append(h, "Content-Type: application/json");
	struct buf line = BUF_INIT;
	if (rq->if_match) {
		buf_printf(&line, "If-Match: \"%s\"", rq->if_match);
		h = curl_slist_append(h, line.data);
	}
	if (rq->idempotency_key) {
		buf_reset(&line);
		buf_printf(&line, "Idempotency-Key: %s", rq->idempotency_key);
		h = curl_slist_append(h, line.data);
	}
	buf_free(&line);
	struct buf path = BUF_INIT;
	size_t plen = strcspn(rq->path, "?");
	buf_printf(&path, "%s%.*s", c->base_path, (int)plen, rq->path);
	struct http_sign_input in = {rq->method, c->host_header, path.data,
				     rq->path[plen] ? rq->path + plen + 1 : NULL, rq->body,
				     rq->body ? strlen(rq->body) : 0};
	enum status st = http_auth_add_headers(c->auth, &in, &h, e);
	buf_free(&path);
	if (st != ST_OK || !h) {
		http_slist_free_wiped(h);
		return st != ST_OK ? st : err_set(e, ST_FAIL, "out of memory building a request");
	}
	*out = h;
	return ST_OK;
}

static void set_method(CURL *h, const struct http_request *rq)
{
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, (char *)NULL);
	if (strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0) {
		const char *body = rq->body ? rq->body : "";
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
		if (strcmp(rq->method, "PUT") == 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		if (strcmp(rq->method, "GET") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
}

/* Tick the waiter; a key that woke us but did not cancel is left to the
 * next regular tick, so an unread key cannot make the loop spin. */
struct pacer {
	long long start, next_tick;
	bool input_quiet, said;
};

static bool pace(struct http_conn *c, struct backend *b, struct pacer *p, bool key, const char *what)
{
	long long now = now_ms();
	if (key || now >= p->next_tick) {
		if (b && backend_tick(b, what))
			return true;
		if (now >= p->next_tick) {
			p->next_tick = now + TICK_MS;
			p->input_quiet = false;
		} else {
			p->input_quiet = true;
		}
	}
	if (c->progress && !p->said && now - p->start >= PROGRESS_AFTER_MS) {
		p->said = true;
		char m[300];
		snprintf(m, sizeof m, "waiting for the API at %s (a cold start can take several seconds)",
			 c->display);
		c->progress(m);
	}
	return false;
}

static int input_fd(struct backend *b, const struct pacer *p)
{
	return b && b->waiter.input_fd >= 0 && !p->input_quiet ? b->waiter.input_fd : -1;
}

/* Run the transfer to its end; true when the user cancelled. */
static bool drive(struct http_conn *c, struct backend *b, const char *what, CURLcode *result)
{
	*result = CURLE_OK;
	if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK) {
		*result = CURLE_FAILED_INIT;
		return false;
	}
	struct pacer p = {now_ms(), now_ms() + TICK_MS, false, false};
	bool cancelled = false;
	for (;;) {
		int running = 0;
		if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
			*result = CURLE_FAILED_INIT;
			break;
		}
		if (!running)
			break;
		int fd = input_fd(b, &p);
		struct curl_waitfd extra = {fd, CURL_WAIT_POLLIN, 0};
		long long left = p.next_tick - now_ms();
		if (curl_multi_poll(c->multi, fd >= 0 ? &extra : NULL, fd >= 0 ? 1 : 0,
				    left > 0 ? (int)left : 0, NULL) != CURLM_OK) {
			*result = CURLE_FAILED_INIT;
			break;
		}
		if (pace(c, b, &p, fd >= 0 && (extra.revents & CURL_WAIT_POLLIN), what)) {
			cancelled = true;
			break;
		}
	}
	CURLMsg *m;
	int queued;
	while ((m = curl_multi_info_read(c->multi, &queued)))
		if (m->msg == CURLMSG_DONE && m->easy_handle == c->easy && !cancelled)
			*result = m->data.result;
	curl_multi_remove_handle(c->multi, c->easy);
	return cancelled;
}

/* Sleep ms with the UI alive; true when the user cancelled. */
static bool wait_ms(struct http_conn *c, struct backend *b, long ms, const char *what)
{
	struct pacer p = {now_ms(), now_ms() + TICK_MS, false, true};
	long long until = p.start + ms;
	for (;;) {
		long long now = now_ms();
		if (now >= until)
			return false;
		int fd = input_fd(b, &p);
		long long slice = p.next_tick - now;
		if (until - now < slice)
			slice = until - now;
		struct pollfd pf = {fd, POLLIN, 0};
		int r = poll(&pf, fd >= 0 ? 1 : 0, slice > 0 ? (int)slice : 0);
		if (pace(c, b, &p, r > 0 && (pf.revents & POLLIN), what))
			return true;
	}
}

static long backoff_ms(struct http_conn *c, int attempt)
{
	long d = BACKOFF_BASE_MS;
	for (int i = 1; i < attempt && d < BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	unsigned long long r = c->rng * 2685821657736338717ULL;
	return d / 2 + (long)(r % (unsigned long long)(d / 2 + 1)); /* jitter: [d/2, d] */
}

static bool retryable_status(long s)
{
	return s == 429 || s == 502 || s == 503 || s == 504;
}

/* Dropped connections are worth another try; so is one timeout. */
static bool retryable_transport(const struct http_conn *c, CURLcode rc, int *timeouts)
{
	switch (rc) {
	case CURLE_GOT_NOTHING: case CURLE_RECV_ERROR: case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE: case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
		return true;
	case CURLE_COULDNT_CONNECT:
		return c->answered_once;
	case CURLE_OPERATION_TIMEDOUT:
		return ++*timeouts <= 1;
	default:
		return false;
	}
}

/* Could the server have acted on a request that failed this way? */
static bool transport_maybe_applied(CURLcode rc)
{
	return rc != CURLE_COULDNT_CONNECT && rc != CURLE_COULDNT_RESOLVE_HOST;
}

static bool is_write(const struct http_request *rq)
{
	return strcmp(rq->method, "GET") != 0;
}

static enum status curl_failure(struct http_conn *c, const struct http_request *rq,
				const struct http_response *rs, CURLcode rc, struct err *e);

static void say_retry(struct http_conn *c, struct backend *b, const char *why, long delay)
{
	if (delay < 1000)
		return;
	char m[200];
	snprintf(m, sizeof m, "%s; retrying in %ld s", why, (delay + 500) / 1000);
	if (c->progress) /* before the screen starts */
		c->progress(m);
	else if (b)
		backend_notify(b, m);
}

/* One attempt; *rc is curl's result. */
static enum status attempt(struct http_conn *c, struct backend *b, const struct http_request *rq,
			   const char *url, struct http_response *rs, CURLcode *rc, struct err *e)
{
	struct curl_slist *h = NULL;
	enum status st = build_headers(c, rq, &h, e);
	if (st != ST_OK)
		return st;
	buf_reset(&rs->body);
	rs->content_type[0] = '\0';
	rs->status = 0;
	c->rs = rs;
	c->too_big = false;
	c->retry_after_ms = -1;
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, c->answered_once ? c->request_timeout_ms : c->first_timeout_ms);
	set_method(c->easy, rq);
	const char *what = c->answered_once ? "waiting for the API" : "waiting for the API (it may be starting up)";
	bool cancelled = drive(c, b, what, rc);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	http_slist_free_wiped(h);
	c->rs = NULL;
	if (cancelled)
		return err_set(e, ST_CANCELLED, "%s: cancelled%s", rq->doing,
			       is_write(rq) ? "; the change may or may not have been saved: reload to check" : "");
	if (*rc == CURLE_OK) {
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &rs->status);
		c->answered_once = true;
	}
	return ST_OK;
}

enum status http_send(struct http_conn *c, struct backend *b, const struct http_request *rq,
		      struct http_response *rs, struct err *e)
{
	struct buf url = BUF_INIT;
	buf_printf(&url, "%s%s", c->base, rq->path);
	bool refreshed = false;
	int timeouts = 0;
	enum status st = ST_OK;
	rs->maybe_applied = false;
	for (int n = 1;; n++) {
		rs->attempts = n;
		CURLcode rc;
		if ((st = attempt(c, b, rq, url.data, rs, &rc, e)) != ST_OK)
			break;
		long delay;
		char why[120];
		if (rc != CURLE_OK) {
			if (!rq->retry_safe || n >= HTTP_ATTEMPTS || !retryable_transport(c, rc, &timeouts)) {
				st = curl_failure(c, rq, rs, rc, e);
				break;
			}
			rs->maybe_applied |= transport_maybe_applied(rc);
			delay = backoff_ms(c, n);
			snprintf(why, sizeof why, "the connection to the API failed");
		} else {
			if (rs->status == 401 && !refreshed && http_auth_refresh(c->auth, b ? &b->waiter : NULL, NULL)) {
				refreshed = true;
				continue;
			}
			if (!rq->retry_safe || n >= HTTP_ATTEMPTS || !retryable_status(rs->status) ||
			    c->retry_after_ms > RETRY_AFTER_MAX_MS)
				break;
			rs->maybe_applied |= rs->status != 429;
			delay = backoff_ms(c, n);
			if (c->retry_after_ms > delay)
				delay = c->retry_after_ms;
			snprintf(why, sizeof why, "the API answered %ld", rs->status);
		}
		say_retry(c, b, why, delay);
		char what[160];
		snprintf(what, sizeof what, "%s; retrying", why); /* beside the spinner */
		if (wait_ms(c, b, delay, what)) {
			st = err_set(e, ST_CANCELLED, "%s: cancelled%s", rq->doing,
				     is_write(rq) && rs->maybe_applied
					     ? "; the change may or may not have been saved: reload to check" : "");
			break;
		}
	}
	buf_free(&url);
	return st;
}

/* ---- messages ---- */

static const char *applied_hint(const struct http_request *rq, const struct http_response *rs)
{
	return is_write(rq) && rs->maybe_applied ? "; the change may or may not have been saved: reload to check"
						 : "";
}

static enum status curl_failure(struct http_conn *c, const struct http_request *rq,
				const struct http_response *rs, CURLcode rc, struct err *e)
{
	char *detail = text_safe_dup(c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	const char *d = c->display, *doing = rq->doing;
	enum status st;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		st = err_set(e, ST_UNAVAILABLE, "%s: cannot reach the API at %s: host not found (%s); check the "
						"URL (--api or url =) and your network",
			     doing, d, detail);
		break;
	case CURLE_COULDNT_CONNECT:
		st = err_set(e, ST_UNAVAILABLE, "%s: cannot connect to the API at %s (%s); check the URL and port "
						"(--api or url =) and that the API is running",
			     doing, d, detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		st = err_set(e, ST_UNAVAILABLE, "%s: the API at %s did not answer in time (%s); it may be starting "
						"up or overloaded: try again, or raise request_timeout%s",
			     doing, d, detail, applied_hint(rq, rs));
		break;
	case CURLE_SSL_CACERT_BADFILE:
		st = err_set(e, ST_INVALID, "%s: cannot use the CA file (ca_file =): %s", doing, detail);
		break;
	case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CONNECT_ERROR: case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER: case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_USE_SSL_FAILED:
		st = err_set(e, ST_UNAVAILABLE, "%s: TLS failure with %s: %s. If the API uses a private "
						"certificate authority, set ca_file = /path/to/ca.pem in the "
						"connection (verification cannot be turned off)",
			     doing, d, detail);
		break;
	case CURLE_WRITE_ERROR: case CURLE_FILESIZE_EXCEEDED:
		st = err_set(e, ST_FAIL, "%s: the API's answer is larger than %ld MB; refusing it (is a proxy "
					 "or a broken server answering?)",
			     doing, HTTP_BODY_MAX / (1024 * 1024));
		break;
	case CURLE_BAD_CONTENT_ENCODING:
		st = err_set(e, ST_FAIL, "%s: the API's compressed answer could not be decoded (%s)", doing, detail);
		break;
	case CURLE_GOT_NOTHING: case CURLE_RECV_ERROR: case CURLE_SEND_ERROR: case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
		st = err_set(e, ST_UNAVAILABLE, "%s: the connection to the API at %s was dropped before the answer "
						"was complete (%s), %d attempt%s; check your network and try again%s",
			     doing, d, detail, rs->attempts, rs->attempts == 1 ? "" : "s", applied_hint(rq, rs));
		break;
	default:
		st = err_set(e, ST_UNAVAILABLE, "%s: the request to the API at %s failed: %s%s", doing, d, detail,
			     applied_hint(rq, rs));
	}
	free(detail);
	return st;
}

static bool type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

bool http_response_is_html(const struct http_response *rs)
{
	return type_is(rs->content_type, "text/html") || type_is(rs->content_type, "application/xhtml+xml");
}

bool http_response_is_json(const struct http_response *rs)
{
	const char *ct = rs->content_type;
	if (!*ct)
		return true; /* no type: let the parser judge */
	if (type_is(ct, "application/json") || type_is(ct, "application/problem+json"))
		return true;
	size_t n = strcspn(ct, "; ");
	return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

enum status http_malformed(const struct http_request *rq, const char *why, struct err *e)
{
	size_t plen = strcspn(rq->path, "?");
	return err_set(e, ST_FAIL, "%s: the API sent a malformed answer to %s %.*s (%s); the server does not "
				   "follow the contract, or something between changed the answer",
		       rq->doing, rq->method, (int)plen, rq->path, why);
}

/* " (title: detail; errors)" from a problem document, or "". */
static void problem_suffix(const struct http_response *rs, struct buf *out)
{
	if (!http_response_is_json(rs) || !rs->body.len)
		return;
	char why[160];
	cJSON *doc = http_json_parse(&rs->body, why, sizeof why);
	struct http_problem p;
	http_problem_init(&p);
	if (doc && http_json_problem(doc, &p, why, sizeof why)) {
		buf_printf(out, ": %s", p.title);
		if (p.detail)
			buf_printf(out, " - %s", p.detail);
		if (p.errors)
			buf_printf(out, " (%s)", p.errors);
	}
	http_problem_free(&p);
	cJSON_Delete(doc);
}

static enum status explain_status(struct http_conn *c, const struct http_request *rq,
				  const struct http_response *rs, const char *pd, struct err *e)
{
	const char *doing = rq->doing;
	long s = rs->status;
	if (s == 401)
		return err_set(e, ST_AUTH, http_auth_sends_secret(c->auth)
				   ? "%s: the API refused the credentials (401%s); check the token "
				     "(token_env, token_command or token) or that it has not expired"
				   : "%s: the API requires authentication (401%s); set auth = bearer with "
				     "token_env or token_command (or auth = iam) in a connection",
			       doing, pd);
	if (s == 403)
		return err_set(e, ST_AUTH, "%s: the API refused access (403%s); check that your token or IAM "
					   "identity may use this API, and that the URL (and its stage) is right",
			       doing, pd);
	if (s == 404)
		return err_set(e, ST_UNAVAILABLE, "%s: %s has no such API path (404 for %s%s); check the base "
						  "URL: this empdir-tui speaks the Employee Directory API v1",
			       doing, c->display, HTTP_API_PREFIX, pd);
	if (s == 400 || s == 413 || s == 422)
		return err_set(e, ST_INVALID, "%s: the API refused the request (%ld%s)", doing, s, pd);
	if (s == 428)
		return err_set(e, ST_FAIL, "%s: the API demands If-Match (428%s), which this client always sends; "
					   "is a proxy removing headers?",
			       doing, pd);
	if (s == 429)
		return err_set(e, ST_UNAVAILABLE, "%s: the API is throttling requests (429%s), still after %d "
						  "attempts; wait a moment and try again",
			       doing, pd, rs->attempts);
	if (s >= 500)
		return err_set(e, ST_UNAVAILABLE, "%s: the API failed (%ld%s) after %d attempt%s; try again "
						  "later%s",
			       doing, s, pd, rs->attempts, rs->attempts == 1 ? "" : "s", applied_hint(rq, rs));
	if (s >= 300 && s < 400)
		return err_set(e, ST_UNAVAILABLE, "%s: the API at %s answered with a redirect (%ld); give the URL "
						  "it redirects to (https://?) as the base URL",
			       doing, c->display, s);
	return err_set(e, ST_FAIL, "%s: the API answered %ld unexpectedly%s", doing, s, pd);
}

enum status http_explain(struct http_conn *c, const struct http_request *rq,
			 const struct http_response *rs, struct err *e)
{
	if (http_response_is_html(rs))
		return err_set(e, ST_UNAVAILABLE, "%s: %s answered with a web page (HTML, status %ld), not the API's "
						  "JSON; give the API's base URL (the one serving %s/), not the web "
						  "site's",
			       rq->doing, c->display, rs->status, HTTP_API_PREFIX);
	struct buf pd = BUF_INIT;
	problem_suffix(rs, &pd);
	enum status st = explain_status(c, rq, rs, buf_str(&pd), e);
	buf_free(&pd);
	return st;
}
