/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests for the AWS clients: aws_http (error codes and their classes,
 * backoff, Retry-After, messages without secrets, endpoints), the strict
 * parsers of cloudwatch and cost (good pages, every kind of malformed one),
 * the cost period and cache, aws_settings; then the same code against the
 * real stand-in, tests/aws/fake_aws.py, started here: alarms from two
 * regions with paging, history, metrics with paging, billing, Cost Explorer
 * with its cache, throttling with Retry-After, cancelling through the
 * waiter, expired and session tokens, TLS and connection failures. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>

#include "api_client/aws_http.h"
#include "api_client/aws_settings.h"
#include "api_client/backend.h"
#include "api_client/cloudwatch.h"
#include "api_client/cost.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "tests/unit/harness.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SESSION_SECRET "sessionSecretEXAMPLE/0123456789"
#define SESSION_TOKEN "IQoJb3JpZ2luFAKEsessionTOKEN0123456789=="

static char root[] = "/tmp/empdir-cw-XXXXXX";
static pid_t fake_pid = -1;
static int fake_port;

/* ---- small helpers ------------------------------------------------------ */

static cJSON *parse(const char *text)
{
	return cJSON_Parse(text);
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool contains(const char *s, const char *part)
{
	return s && strstr(s, part) != NULL;
}

/* A test environment: "NAME=value" strings. */
struct tenv {
	struct strvec s;
	const char **v;
	struct aws_env env;
};

static void tenv_add(struct tenv *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tenv_add(struct tenv *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	strvec_push(&t->s, line);
	free(t->v);
	t->v = xcalloc(t->s.n + 1, sizeof *t->v);
	for (size_t i = 0; i < t->s.n; i++)
		t->v[i] = t->s.v[i];
	t->env.vars = t->v;
}

/* The default test identity: static keys, eu-west-1, the fake's endpoint. */
static void tenv_default(struct tenv *t)
{
	memset(t, 0, sizeof *t);
	tenv_add(t, "HOME=%s/nohome", root);
	tenv_add(t, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE");
	tenv_add(t, "AWS_SECRET_ACCESS_KEY=%s", SECRET);
	tenv_add(t, "AWS_REGION=eu-west-1");
	tenv_add(t, "AWS_ENDPOINT_URL=http://127.0.0.1:%d", fake_port);
}

static void tenv_free(struct tenv *t)
{
	strvec_free(&t->s);
	free(t->v);
	memset(t, 0, sizeof *t);
}

static struct aws_http *client(const struct tenv *t, long long now)
{
	struct aws_http_options o = {0};
	o.env = &t->env;
	o.now = now;
	o.backoff_base_ms = 20;
	o.backoff_cap_ms = 100;
	o.jitter_seed = 42;
	struct aws_http *h = NULL;
	struct err e = {0};
	if (aws_http_new(&o, &h, &e) != ST_OK)
		fprintf(stderr, "aws_http_new: %s\n", e.msg);
	return h;
}

/* ---- the fake ----------------------------------------------------------- */

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
	buf_append(ud, data, size * n);
	return size * n;
}

/* An unsigned request to the fake's control API; the body, or NULL. */
static char *fake_http(const char *method, const char *path, const char *body)
{
	CURL *c = curl_easy_init();
	struct buf url = BUF_INIT, out = BUF_INIT;
	buf_printf(&url, "http://127.0.0.1:%d%s", fake_port, path);
	curl_easy_setopt(c, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	long status = 0;
	bool ok = curl_easy_perform(c) == CURLE_OK &&
		  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
		  status == 200;
	curl_easy_cleanup(c);
	buf_free(&url);
	if (!ok) {
		fprintf(stderr, "  fake %s %s: HTTP %ld %s\n", method, path, status, buf_str(&out));
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

static bool control(const char *json)
{
	char *r = fake_http("POST", "/_control", json);
	free(r);
	return r != NULL;
}

/* How many recorded requests ran `operation` (NULL: any). */
static int count_requests(const char *operation)
{
	char *text = fake_http("GET", "/_requests", NULL);
	cJSON *root_json = text ? parse(text) : NULL;
	free(text);
	const cJSON *recs = cJSON_GetObjectItem(root_json, "requests");
	int n = 0;
	const cJSON *r;
	cJSON_ArrayForEach(r, recs)
	{
		const cJSON *op = cJSON_GetObjectItem(r, "operation");
		if (!operation || (cJSON_IsString(op) && strcmp(op->valuestring, operation) == 0))
			n++;
	}
	cJSON_Delete(root_json);
	return n;
}

/* The input of the last recorded request, as JSON text (caller frees). */
static char *last_input(void)
{
	char *text = fake_http("GET", "/_requests", NULL);
	cJSON *root_json = text ? parse(text) : NULL;
	free(text);
	const cJSON *recs = cJSON_GetObjectItem(root_json, "requests");
	int n = cJSON_GetArraySize(recs);
	const cJSON *in = n ? cJSON_GetObjectItem(cJSON_GetArrayItem(recs, n - 1), "input") : NULL;
	char *out = in ? cJSON_PrintUnformatted(in) : NULL;
	cJSON_Delete(root_json);
	return out;
}

static bool fake_start(void)
{
	struct buf port_file = BUF_INIT, keys = BUF_INIT, log = BUF_INIT;
	buf_printf(&port_file, "%s/port", root);
	buf_printf(&keys, "%s/keys.json", root);
	buf_printf(&log, "%s/fake.log", root);
	FILE *f = fopen(buf_str(&keys), "w");
	if (!f)
		return false;
	fprintf(f, "{\"AKIDEXAMPLE\":{\"secret\":\"%s\"},"
		   "\"ASIASESSIONKEY\":{\"secret\":\"%s\",\"session_token\":\"%s\"},"
		   "\"ASIAEXPIREDKEY\":{\"secret\":\"%s\",\"session_token\":\"%s\",\"expired\":true}}",
		SECRET, SESSION_SECRET, SESSION_TOKEN, SESSION_SECRET, SESSION_TOKEN);
	fclose(f);
	fake_pid = fork();
	if (fake_pid == 0) {
		int fd = open(buf_str(&log), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/usr/bin/python3", "python3", "tests/aws/fake_aws.py", "--port", "0",
		      "--port-file", buf_str(&port_file), "--keys", buf_str(&keys), "--quiet",
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && fake_port == 0; i++) {
		FILE *p = fopen(buf_str(&port_file), "r");
		if (p) {
			if (fscanf(p, "%d", &fake_port) != 1)
				fake_port = 0;
			fclose(p);
		}
		if (!fake_port)
			usleep(50000);
	}
	buf_free(&port_file);
	buf_free(&keys);
	buf_free(&log);
	return fake_port > 0;
}

static void fake_stop(void)
{
	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
	}
}

/* ---- aws_http building blocks -------------------------------------------- */

TEST(error_codes_are_parsed_like_the_sdks)
{
	struct buf code = BUF_INIT, msg = BUF_INIT;
	const char *body = "{\"__type\":\"com.amazon.coral.service#ExpiredTokenException\","
			   "\"message\":\"The security token included in the request is expired\"}";
	aws_http_parse_error(NULL, body, strlen(body), &code, &msg);
	CHECK_STR(buf_str(&code), "ExpiredTokenException");
	CHECK(contains(buf_str(&msg), "is expired"));
	/* the query-compatible header wins */
	aws_http_parse_error("ExpiredToken;Sender", body, strlen(body), &code, &msg);
	CHECK_STR(buf_str(&code), "ExpiredToken");
	const char *other = "{\"__type\":\"aws.protocoltests#FooError:http://internal/\","
			    "\"Message\":\"Hi\"}";
	aws_http_parse_error(NULL, other, strlen(other), &code, &msg);
	CHECK_STR(buf_str(&code), "FooError");
	CHECK_STR(buf_str(&msg), "Hi");
	aws_http_parse_error(NULL, "<html>", 6, &code, &msg);
	CHECK_INT(code.len, 0);
	CHECK_INT(msg.len, 0);
	buf_free(&code);
	buf_free(&msg);
}

TEST(errors_are_classified_by_code_not_status)
{
	CHECK_INT(aws_http_classify(400, "ThrottlingException", ""), AWS_ERR_THROTTLED);
	CHECK_INT(aws_http_classify(400, "Throttling", ""), AWS_ERR_THROTTLED);
	CHECK_INT(aws_http_classify(429, "", ""), AWS_ERR_THROTTLED);
	CHECK_INT(aws_http_classify(400, "LimitExceededException", ""), AWS_ERR_THROTTLED);
	CHECK_INT(aws_http_classify(503, "", ""), AWS_ERR_TRANSIENT);
	CHECK_INT(aws_http_classify(500, "InternalServiceError", ""), AWS_ERR_TRANSIENT);
	CHECK_INT(aws_http_classify(403, "ExpiredToken", ""), AWS_ERR_EXPIRED);
	CHECK_INT(aws_http_classify(400, "UnrecognizedClientException", ""), AWS_ERR_UNKNOWN_KEY);
	CHECK_INT(aws_http_classify(403, "InvalidClientTokenId", ""), AWS_ERR_UNKNOWN_KEY);
	CHECK_INT(aws_http_classify(403, "SignatureDoesNotMatch", "The request signature we"),
		  AWS_ERR_SIGNATURE);
	CHECK_INT(aws_http_classify(400, "InvalidSignatureException",
				    "Signature expired: 20260822T120000Z is now earlier than"),
		  AWS_ERR_CLOCK);
	CHECK_INT(aws_http_classify(403, "SignatureDoesNotMatch", "Signature not yet current: x"),
		  AWS_ERR_CLOCK);
	CHECK_INT(aws_http_classify(403, "AccessDeniedException", ""), AWS_ERR_DENIED);
	CHECK_INT(aws_http_classify(403, "MissingAuthenticationToken", ""), AWS_ERR_UNSIGNED);
	CHECK_INT(aws_http_classify(400, "DataUnavailableException", ""), AWS_ERR_UNAVAILABLE);
	CHECK_INT(aws_http_classify(400, "ValidationError", ""), AWS_ERR_OTHER);
	CHECK_INT(aws_http_classify(403, "", ""), AWS_ERR_OTHER);
}

TEST(backoff_is_capped_exponential_with_jitter)
{
	unsigned seed = 7;
	long seen_max = 0;
	for (int i = 0; i < 200; i++) {
		long a = aws_http_backoff_ms(1, 100, 1000, -1, &seed);
		long c = aws_http_backoff_ms(3, 100, 1000, -1, &seed);
		long z = aws_http_backoff_ms(10, 100, 1000, -1, &seed);
		CHECK(a >= 0 && a <= 100);
		CHECK(c >= 0 && c <= 400);
		CHECK(z >= 0 && z <= 1000);
		if (z > seen_max)
			seen_max = z;
	}
	CHECK(seen_max > 500); /* it is spread, not constant */
	CHECK_INT(aws_http_backoff_ms(1, 100, 1000, 3000, &seed), 3000); /* Retry-After wins */
	CHECK_INT(aws_http_parse_retry_after("2", 0), 2000);
	CHECK_INT(aws_http_parse_retry_after(" 0 ", 0), 0);
	CHECK_INT(aws_http_parse_retry_after("soon", 0), -1);
	CHECK_INT(aws_http_parse_retry_after(NULL, 0), -1);
	CHECK_INT(aws_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10000);
	CHECK_INT(aws_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

TEST(server_messages_lose_secrets_lines_and_escapes)
{
	const char *secrets[] = {SECRET, "", SESSION_TOKEN, NULL};
	struct buf out = BUF_INIT;
	aws_http_safe_message(&out,
			      "bad \x1b[2Jkey " SECRET " and " SESSION_TOKEN "\n\nCanonical: "
			      "x-amz-security-token:" SESSION_TOKEN,
			      secrets, 200);
	CHECK(!contains(buf_str(&out), SECRET));
	CHECK(!contains(buf_str(&out), SESSION_TOKEN));
	CHECK(!contains(buf_str(&out), "Canonical"));
	CHECK(!contains(buf_str(&out), "\x1b"));
	CHECK(contains(buf_str(&out), "<redacted> and <redacted>"));
	buf_free(&out);
}

TEST(endpoints_and_their_overrides)
{
	struct tenv t;
	memset(&t, 0, sizeof t);
	tenv_add(&t, "AWS_REGION=eu-west-1");
	tenv_add(&t, "HOME=%s/nohome", root);
	struct aws_http_options o = {0};
	o.env = &t.env;
	struct aws_http *h = NULL;
	struct err e = {0};
	CHECK(aws_http_new(&o, &h, &e) == ST_OK);
	struct buf url = BUF_INIT;
	CHECK(aws_http_endpoint(h, &aws_service_cloudwatch, NULL, &url, &e) == ST_OK);
	CHECK_STR(buf_str(&url), "https://monitoring.eu-west-1.amazonaws.com/");
	CHECK(aws_http_endpoint(h, &aws_service_cloudwatch, "us-east-1", &url, &e) == ST_OK);
	CHECK_STR(buf_str(&url), "https://monitoring.us-east-1.amazonaws.com/");
	CHECK(aws_http_endpoint(h, &aws_service_cost_explorer, "eu-west-1", &url, &e) == ST_OK);
	CHECK_STR(buf_str(&url), "https://ce.us-east-1.amazonaws.com/");
	CHECK(aws_http_endpoint(h, &aws_service_cloudwatch, "cn-north-1", &url, &e) == ST_OK);
	CHECK_STR(buf_str(&url), "https://monitoring.cn-north-1.amazonaws.com.cn/");
	aws_http_free(h);
	/* the service's own variable beats AWS_ENDPOINT_URL; the config key beats both */
	tenv_add(&t, "AWS_ENDPOINT_URL=http://all:1");
	tenv_add(&t, "AWS_ENDPOINT_URL_CLOUDWATCH=http://cw:2");
	CHECK(aws_http_new(&o, &h, &e) == ST_OK);
	CHECK(aws_http_endpoint(h, &aws_service_cloudwatch, NULL, &url, &e) == ST_OK);
	CHECK_STR(buf_str(&url), "http://cw:2");
	CHECK(aws_http_endpoint(h, &aws_service_cost_explorer, NULL, &url, &e) == ST_OK);
	CHECK_STR(buf_str(&url), "http://all:1");
	aws_http_free(h);
	o.endpoint_url = "http://config:3";
	CHECK(aws_http_new(&o, &h, &e) == ST_OK);
	CHECK(aws_http_endpoint(h, &aws_service_cloudwatch, NULL, &url, &e) == ST_OK);
	CHECK_STR(buf_str(&url), "http://config:3");
	aws_http_free(h);
	o.endpoint_url = NULL;
	tenv_add(&t, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true");
	CHECK(aws_http_new(&o, &h, &e) == ST_OK);
	CHECK(aws_http_endpoint(h, &aws_service_cloudwatch, NULL, &url, &e) == ST_OK);
	CHECK_STR(buf_str(&url), "https://monitoring.eu-west-1.amazonaws.com/");
	aws_http_free(h);
	buf_free(&url);
	tenv_free(&t);
}

TEST(bad_endpoint_urls_are_refused_without_echo)
{
	struct tenv t;
	tenv_default(&t);
	const char *bad[] = {"http://user:hunter2secret@127.0.0.1:9/", "ftp://example.com/",
			     "no-scheme.example.com", "https://x.example/?a=hunter2secret"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct aws_http_options o = {0};
		o.env = &t.env;
		o.endpoint_url = bad[i];
		struct aws_http *h = NULL;
		struct err e = {0};
		CHECK(aws_http_new(&o, &h, &e) == ST_OK);
		cJSON *out = NULL;
		enum status st = aws_http_call(h, &aws_service_cloudwatch, NULL, "DescribeAlarms",
					       NULL, &out, &e);
		aws_http_free(h);
		CHECK_INT(st, ST_INVALID);
		CHECK(out == NULL);
		CHECK(contains(e.msg, "endpoint_url in [aws]"));
		CHECK(!contains(e.msg, "hunter2secret"));
	}
	tenv_free(&t);
}

/* ---- cloudwatch parsers --------------------------------------------------- */

static enum status alarms_from(const char *json, struct cw_alarm_list *l, struct err *e)
{
	cJSON *root_json = parse(json);
	char *next = NULL;
	enum status st = cw_parse_alarms_page(root_json, "eu-west-1", l, &next, e);
	free(next);
	cJSON_Delete(root_json);
	return st;
}

TEST(alarm_pages_are_read_member_by_member)
{
	const char *page =
		"{\"MetricAlarms\":[{\"AlarmName\":\"A\",\"StateValue\":\"ALARM\","
		"\"StateReason\":\"r\",\"StateUpdatedTimestamp\":1.73568960025E9,"
		"\"StateTransitionedTimestamp\":1735689000,\"Namespace\":\"AWS/Lambda\","
		"\"MetricName\":\"Errors\",\"Statistic\":\"Sum\",\"Dimensions\":[{\"Name\":"
		"\"FunctionName\",\"Value\":\"empdir-api\"}],\"Period\":300,\"EvaluationPeriods\":2,"
		"\"DatapointsToAlarm\":2,\"Threshold\":5.0,\"ComparisonOperator\":"
		"\"GreaterThanThreshold\",\"ActionsEnabled\":true,\"Unknown\":{\"x\":1}},"
		"{\"AlarmName\":\"B\",\"StateValue\":\"OK\",\"ExtendedStatistic\":\"p99\"}],"
		"\"NextToken\":\"tok\"}";
	cJSON *root_json = parse(page);
	struct cw_alarm_list l = {0};
	char *next = NULL;
	struct err e = {0};
	CHECK(cw_parse_alarms_page(root_json, "eu-west-1", &l, &next, &e) == ST_OK);
	cJSON_Delete(root_json);
	CHECK_STR(next, "tok");
	free(next);
	CHECK_INT(l.n, 2);
	const struct cw_alarm *a = &l.v[0];
	CHECK_STR(a->name, "A");
	CHECK_INT(a->state, CW_STATE_ALARM);
	CHECK(a->state_updated == 1735689600.25);
	CHECK(a->state_since == 1735689000);
	CHECK(a->has_threshold && a->threshold == 5.0);
	CHECK_INT(a->period, 300);
	CHECK_STR(a->region, "eu-west-1");
	struct buf cond = BUF_INIT;
	cw_alarm_condition(a, &cond);
	CHECK_STR(buf_str(&cond), "AWS/Lambda Errors Sum > 5 for 2 of 2 periods of 300 s");
	buf_free(&cond);
	CHECK_STR(cw_guess_function(&l), "empdir-api");
	CHECK_STR(l.v[1].statistic, "p99");
	CHECK_STR(l.v[1].description, "");
	CHECK(l.v[1].state_since == 0 && !l.v[1].has_threshold);
	struct cw_summary s = cw_alarm_summary(&l);
	CHECK(s.ok == 1 && s.alarm == 1 && s.insufficient == 0);
	cw_alarm_list_free(&l);
}

TEST(malformed_alarm_pages_leave_nothing_behind)
{
	static const struct {
		const char *json, *path;
	} bad[] = {
		{"[]", "not a JSON object"},
		{"{\"MetricAlarms\":{}}", "MetricAlarms is not a list"},
		{"{\"MetricAlarms\":[{\"StateValue\":\"OK\"}]}", "MetricAlarms[0].AlarmName is missing"},
		{"{\"MetricAlarms\":[{\"AlarmName\":\"A\",\"StateValue\":\"RED\"}]}",
		 "MetricAlarms[0].StateValue"},
		{"{\"MetricAlarms\":[{\"AlarmName\":\"A\",\"StateValue\":\"OK\"},"
		 "{\"AlarmName\":\"B\",\"StateValue\":\"OK\",\"Threshold\":\"5\"}]}",
		 "MetricAlarms[1].Threshold is not a number"},
		{"{\"MetricAlarms\":[{\"AlarmName\":\"A\",\"StateValue\":\"OK\",\"Dimensions\":"
		 "[{\"Name\":\"x\"}]}]}",
		 "MetricAlarms[0].Dimensions[0].Value is missing"},
		{"{\"MetricAlarms\":[{\"AlarmName\":\"A\",\"StateValue\":\"OK\",\"Period\":1.5}]}",
		 "MetricAlarms[0].Period"},
		{"{\"MetricAlarms\":[{\"AlarmName\":\"A\",\"StateValue\":\"OK\","
		 "\"StateUpdatedTimestamp\":\"2026-01-01\"}]}",
		 "MetricAlarms[0].StateUpdatedTimestamp"},
		{"{\"MetricAlarms\":[],\"NextToken\":5}", "NextToken is not a string"},
		{"{\"MetricAlarms\":[{\"AlarmName\":\"\x1b[2J\",\"StateValue\":\"OK\",\"ActionsEnabled\":"
		 "\"yes\"}]}",
		 "MetricAlarms[0].ActionsEnabled"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct cw_alarm_list l = {0};
		struct err e = {0};
		CHECK_INT(alarms_from(bad[i].json, &l, &e), ST_FAIL);
		CHECK_INT(l.n, 0);
		CHECK(l.v == NULL);
		if (!contains(e.msg, bad[i].path))
			fprintf(stderr, "  message: %s\n", e.msg);
		CHECK(contains(e.msg, bad[i].path));
		CHECK(contains(e.msg, "malformed"));
		CHECK(!contains(e.msg, "\x1b"));
	}
	/* a good page followed by a bad one keeps the good one only */
	struct cw_alarm_list l = {0};
	struct err e = {0};
	CHECK(alarms_from("{\"MetricAlarms\":[{\"AlarmName\":\"A\",\"StateValue\":\"OK\"}]}", &l,
			  &e) == ST_OK);
	CHECK(alarms_from("{\"MetricAlarms\":[{\"AlarmName\":\"B\"}]}", &l, &e) == ST_FAIL);
	CHECK_INT(l.n, 1);
	cw_alarm_list_free(&l);
}

TEST(metric_pages_pair_timestamps_and_values)
{
	struct cw_metric_query q[2] = {
		{"errors", "AWS/Lambda", "Errors", "FunctionName", "f", "Sum", 300},
		{"duration", "AWS/Lambda", "Duration", "FunctionName", "f", "Average", 300},
	};
	struct cw_series s[2];
	memset(s, 0, sizeof s);
	struct err e = {0};
	char *next = NULL;
	cJSON *p1 = parse("{\"MetricDataResults\":[{\"Id\":\"errors\",\"Label\":\"Errors\","
			  "\"Timestamps\":[600,300],\"Values\":[2.0,1.0],\"StatusCode\":"
			  "\"PartialData\",\"Messages\":[{\"Code\":\"c\",\"Value\":\"v\"}]},"
			  "{\"Id\":\"duration\",\"Timestamps\":[],\"Values\":[],\"StatusCode\":"
			  "\"Complete\"}],\"NextToken\":\"n1\",\"Messages\":[]}");
	CHECK(cw_parse_metric_page(p1, q, 2, s, &next, &e) == ST_OK);
	cJSON_Delete(p1);
	CHECK_STR(next, "n1");
	free(next);
	cJSON *p2 = parse("{\"MetricDataResults\":[{\"Id\":\"errors\",\"Timestamps\":[900],"
			  "\"Values\":[3],\"StatusCode\":\"Complete\"}]}");
	CHECK(cw_parse_metric_page(p2, q, 2, s, &next, &e) == ST_OK);
	cJSON_Delete(p2);
	CHECK(next == NULL);
	CHECK_INT(s[0].n, 3);
	CHECK_STR(s[0].status, "Complete");
	CHECK_STR(s[0].label, "Errors");
	CHECK_INT(s[0].messages.n, 1);
	CHECK_STR(s[0].messages.v[0], "c: v");
	double b[4];
	cw_series_buckets(&s[0], 300, 300, 4, b);
	CHECK(b[0] == 1.0 && b[1] == 2.0 && b[2] == 3.0 && isnan(b[3]));
	static const char *const bad[] = {
		"{}",
		"{\"MetricDataResults\":[{\"Id\":\"errors\",\"Timestamps\":[1,2],\"Values\":[1],"
		"\"StatusCode\":\"Complete\"}]}",
		"{\"MetricDataResults\":[{\"Id\":\"nope\",\"Timestamps\":[],\"Values\":[],"
		"\"StatusCode\":\"Complete\"}]}",
		"{\"MetricDataResults\":[{\"Id\":\"errors\",\"Timestamps\":[1],\"Values\":[\"1\"],"
		"\"StatusCode\":\"Complete\"}]}",
		"{\"MetricDataResults\":[{\"Id\":\"errors\",\"Timestamps\":[1],\"Values\":[1],"
		"\"StatusCode\":\"Done\"}]}",
		"{\"MetricDataResults\":[{\"Id\":\"errors\",\"Timestamps\":[1],\"Values\":[1]}]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cJSON *p = parse(bad[i]);
		CHECK(cw_parse_metric_page(p, q, 2, s, &next, &e) == ST_FAIL);
		cJSON_Delete(p);
		CHECK(contains(e.msg, "malformed"));
		CHECK_INT(s[0].n, 3); /* untouched */
	}
	cw_series_free(&s[0]);
	cw_series_free(&s[1]);
}

TEST(history_pages_read_the_states)
{
	cJSON *p = parse(
		"{\"AlarmHistoryItems\":[{\"AlarmName\":\"A\",\"AlarmType\":\"MetricAlarm\","
		"\"Timestamp\":1.7E9,\"HistoryItemType\":\"StateUpdate\",\"HistorySummary\":"
		"\"Alarm updated from OK to ALARM\",\"HistoryData\":\"{\\\"version\\\":\\\"1.0\\\","
		"\\\"oldState\\\":{\\\"stateValue\\\":\\\"OK\\\"},\\\"newState\\\":{\\\"stateValue\\\":"
		"\\\"ALARM\\\",\\\"stateReason\\\":\\\"why\\\"}}\"},{\"AlarmName\":\"A\",\"Timestamp\":"
		"1.6E9,\"HistoryItemType\":\"Action\",\"HistoryData\":\"not json\"}]}");
	struct cw_history hist = {0};
	char *next = NULL;
	struct err e = {0};
	CHECK(cw_parse_history_page(p, "us-east-1", &hist, &next, &e) == ST_OK);
	cJSON_Delete(p);
	CHECK(next == NULL);
	CHECK_INT(hist.n, 2);
	CHECK(hist.v[0].has_states);
	CHECK_INT(hist.v[0].old_state, CW_STATE_OK);
	CHECK_INT(hist.v[0].new_state, CW_STATE_ALARM);
	CHECK_STR(hist.v[0].new_reason, "why");
	CHECK_STR(hist.v[0].region, "us-east-1");
	CHECK(!hist.v[1].has_states);
	CHECK_STR(hist.v[1].summary, "");
	p = parse("{\"AlarmHistoryItems\":[{\"AlarmName\":\"A\",\"HistoryItemType\":\"Action\"}]}");
	CHECK(cw_parse_history_page(p, "us-east-1", &hist, &next, &e) == ST_FAIL);
	cJSON_Delete(p);
	CHECK(contains(e.msg, "AlarmHistoryItems[0].Timestamp is missing"));
	CHECK_INT(hist.n, 2);
	cw_history_free(&hist);
}

/* ---- cost ----------------------------------------------------------------- */

static long long utc(int y, int m, int d, int hh)
{
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = hh;
	return (long long)timegm(&tm);
}

TEST(cost_period_never_starts_where_it_ends)
{
	char s[16], e[16];
	bool prev;
	cost_period(utc(2026, 8, 22, 12), s, e, &prev);
	CHECK_STR(s, "2026-08-01");
	CHECK_STR(e, "2026-08-22");
	CHECK(!prev);
	cost_period(utc(2026, 9, 1, 0), s, e, &prev);
	CHECK_STR(s, "2026-08-01");
	CHECK_STR(e, "2026-09-01");
	CHECK(prev);
	cost_period(utc(2027, 1, 1, 23), s, e, &prev);
	CHECK_STR(s, "2026-12-01");
	CHECK_STR(e, "2027-01-01");
	cost_period(utc(2026, 3, 2, 0), s, e, &prev);
	CHECK_STR(s, "2026-03-01");
	CHECK_STR(e, "2026-03-02");
}

static const char *cost_page(const char *groups, const char *token)
{
	static char text[2048];
	snprintf(text, sizeof text,
		 "{\"GroupDefinitions\":[{\"Type\":\"DIMENSION\",\"Key\":\"SERVICE\"}],"
		 "\"ResultsByTime\":[{\"TimePeriod\":{\"Start\":\"2026-08-01\",\"End\":"
		 "\"2026-08-22\"},\"Total\":{},\"Groups\":[%s],\"Estimated\":true}],"
		 "\"DimensionValueAttributes\":[]%s%s%s}",
		 groups, token ? ",\"NextPageToken\":\"" : "", token ? token : "",
		 token ? "\"" : "");
	return text;
}

#define GROUP(name, amount, unit)                                                       \
	"{\"Keys\":[\"" name "\"],\"Metrics\":{\"UnblendedCost\":{\"Amount\":\"" amount     \
	"\",\"Unit\":\"" unit "\"}}}"

TEST(cost_pages_are_summed_by_service)
{
	struct cost_report r = {0};
	struct err e = {0};
	char *next = NULL;
	cJSON *p = parse(cost_page(GROUP("AWS Lambda", "0.0001234", "USD") ","
					     GROUP("Amazon DynamoDB", "1.5", "USD"), "t1"));
	CHECK(cost_parse_page(p, &r, &next, &e) == ST_OK);
	cJSON_Delete(p);
	CHECK_STR(next, "t1");
	free(next);
	p = parse(cost_page(GROUP("AWS Lambda", "1", "USD"), NULL));
	CHECK(cost_parse_page(p, &r, &next, &e) == ST_OK);
	cJSON_Delete(p);
	CHECK(next == NULL);
	cost_finish(&r);
	CHECK_INT(r.n, 2);
	CHECK_STR(r.services[0].name, "Amazon DynamoDB");
	CHECK(fabs(r.services[1].amount - 1.0001234) < 1e-12);
	CHECK(fabs(r.total - 2.5001234) < 1e-12);
	CHECK_STR(r.unit, "USD");
	CHECK(r.estimated);
	static const char *const bad[] = {
		GROUP("X", "12abc", "USD"),
		GROUP("X", "1", "EUR"),
		"{\"Keys\":[],\"Metrics\":{\"UnblendedCost\":{\"Amount\":\"1\",\"Unit\":\"USD\"}}}",
		"{\"Keys\":[\"X\"],\"Metrics\":{\"BlendedCost\":{\"Amount\":\"1\",\"Unit\":\"USD\"}}}",
		"{\"Keys\":[\"X\"],\"Metrics\":{\"UnblendedCost\":{\"Amount\":1,\"Unit\":\"USD\"}}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p = parse(cost_page(bad[i], NULL));
		CHECK(cost_parse_page(p, &r, &next, &e) == ST_FAIL);
		cJSON_Delete(p);
		CHECK(contains(e.msg, "ResultsByTime[0].Groups[0]"));
	}
	p = parse("{\"ResultsByTime\":[{\"Groups\":[]}]}");
	CHECK(cost_parse_page(p, &r, &next, &e) == ST_FAIL);
	cJSON_Delete(p);
	CHECK(contains(e.msg, "ResultsByTime[0].TimePeriod is missing"));
	CHECK_INT(r.n, 2); /* untouched by the failures */
	cost_report_free(&r);
}

TEST(cost_cache_round_trip)
{
	struct cost_report r = {0};
	snprintf(r.start, sizeof r.start, "2026-08-01");
	snprintf(r.end, sizeof r.end, "2026-08-22");
	r.unit = xstrdup("USD");
	r.services = xcalloc(2, sizeof *r.services);
	r.services[0] = (struct cost_service){xstrdup("Amazon \"DynamoDB\""), 1.2004};
	r.services[1] = (struct cost_service){xstrdup("AWS Lambda"), 0.0001234};
	r.n = 2;
	r.estimated = true;
	r.fetched_at = 1787400000;
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/cache/deeper/cost-x.json", root);
	struct err e = {0};
	CHECK(cost_cache_write(buf_str(&path), "key1", &r, &e) == ST_OK);
	struct stat sb;
	CHECK(stat(buf_str(&path), &sb) == 0 && (sb.st_mode & 0777) == 0600);
	struct cost_report back = {0};
	CHECK(cost_cache_read(buf_str(&path), "key1", &back, &e) == ST_OK);
	CHECK(back.from_cache);
	CHECK_INT(back.n, 2);
	CHECK_STR(back.services[0].name, "Amazon \"DynamoDB\"");
	CHECK(back.services[1].amount == 0.0001234);
	CHECK_INT(back.fetched_at, 1787400000);
	CHECK_STR(back.end, "2026-08-22");
	CHECK(back.estimated && !back.previous_month);
	CHECK_INT(cost_cache_read(buf_str(&path), "key2", &back, &e), ST_NOT_FOUND);
	CHECK_INT(back.n, 0);
	FILE *f = fopen(buf_str(&path), "w");
	CHECK(f != NULL);
	fputs("{\"version\":1,\"key\":\"key1\",", f);
	fclose(f);
	CHECK_INT(cost_cache_read(buf_str(&path), "key1", &back, &e), ST_NOT_FOUND);
	cost_report_free(&back);
	cost_report_free(&r);
	buf_free(&path);
	struct tenv t;
	memset(&t, 0, sizeof t);
	tenv_add(&t, "HOME=/home/u");
	struct buf dir = BUF_INIT;
	cost_default_cache_dir(&t.env, &dir);
	CHECK_STR(buf_str(&dir), "/home/u/.cache/empdir-tui");
	tenv_add(&t, "XDG_CACHE_HOME=/xdg");
	cost_default_cache_dir(&t.env, &dir);
	CHECK_STR(buf_str(&dir), "/xdg/empdir-tui");
	buf_free(&dir);
	tenv_free(&t);
}

/* ---- settings ------------------------------------------------------------- */

static enum status settings_from(const char *text, struct aws_settings *s, struct err *e)
{
	struct config cfg;
	config_init(&cfg);
	enum status st = config_parse(&cfg, text, "test", e);
	if (st == ST_OK)
		st = aws_settings_load(s, &cfg, NULL, "ap-south-1", e);
	config_free(&cfg);
	return st;
}

TEST(settings_from_the_aws_section)
{
	struct aws_settings s;
	aws_settings_init(&s);
	struct err e = {0};
	CHECK(aws_settings_load(&s, NULL, "cliprofile", NULL, &e) == ST_OK);
	CHECK(s.default_names && s.alarm_names.n == 2);
	CHECK_STR(s.alarm_names.v[1], CW_BILLING_ALARM);
	CHECK_STR(s.profile, "cliprofile");
	CHECK(s.region == NULL);
	CHECK_INT(s.refresh_seconds, AWS_DEFAULT_REFRESH_SECONDS);
	CHECK(settings_from("[aws]\nprofile = p\nregion = eu-west-1\nalarm_names = a, b ,c\n"
			    "refresh_seconds = 0\nfunction_name = f\n",
			    &s, &e) == ST_OK);
	CHECK_STR(s.profile, "p");
	CHECK_STR(s.region, "ap-south-1"); /* the command line wins */
	CHECK_INT(s.alarm_names.n, 3);
	CHECK_STR(s.alarm_names.v[1], "b");
	CHECK(!s.default_names);
	CHECK_INT(s.refresh_seconds, 0);
	CHECK_STR(s.function_name, "f");
	CHECK(settings_from("[aws]\nalarm_prefix = EmployeeDirectory\n", &s, &e) == ST_OK);
	CHECK_INT(s.alarm_names.n, 0);
	CHECK_STR(s.alarm_prefix, "EmployeeDirectory");
	CHECK_INT(settings_from("[aws]\nalarm_prefix = E\nalarm_names = a\n", &s, &e), ST_INVALID);
	CHECK(contains(e.msg, "both alarm_names and alarm_prefix"));
	CHECK_INT(settings_from("[aws]\nalarm_names = a,,b\n", &s, &e), ST_INVALID);
	CHECK(contains(e.msg, "empty name"));
	aws_settings_free(&s);
}

/* ---- against the fake ----------------------------------------------------- */

TEST(live_alarms_come_from_both_regions)
{
	CHECK(control("{\"reset\":true,\"merge\":{\"alarms\":{\"EmployeeDirectoryLambdaErrors\":"
		      "{\"StateValue\":\"ALARM\"},\"EmployeeDirectoryCostExceeded\":{\"StateValue\":"
		      "\"INSUFFICIENT_DATA\"}}}}"));
	struct tenv t;
	tenv_default(&t);
	struct aws_http *h = client(&t, 0);
	const char *names[] = {CW_LAMBDA_ALARM, CW_BILLING_ALARM, "NoSuchAlarm"};
	struct cw_alarm_query q = {names, 3, NULL};
	struct cw_alarm_list l = {0};
	struct strvec missing = STRVEC_INIT;
	struct err e = {0};
	enum status st = cw_describe_alarms(h, &q, &l, &missing, &e);
	if (st != ST_OK)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(st == ST_OK);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.v[0].name, CW_BILLING_ALARM);
	CHECK_STR(l.v[0].region, "us-east-1");
	CHECK_INT(l.v[0].state, CW_STATE_INSUFFICIENT_DATA);
	CHECK_STR(l.v[1].name, CW_LAMBDA_ALARM);
	CHECK_STR(l.v[1].region, "eu-west-1");
	CHECK_INT(l.v[1].state, CW_STATE_ALARM);
	CHECK(l.v[1].state_since > 0 && l.v[1].state_updated >= l.v[1].state_since);
	CHECK_INT(missing.n, 1);
	CHECK_STR(missing.v[0], "NoSuchAlarm");
	CHECK_INT(count_requests("DescribeAlarms"), 2);
	struct aws_http_stats stats = aws_http_get_stats(h);
	CHECK_INT(stats.attempts, 2);
	CHECK_INT(stats.retries, 0);
	cw_alarm_list_free(&l);
	strvec_free(&missing);
	aws_http_free(h);
	tenv_free(&t);
}

TEST(live_alarm_paging)
{
	struct buf cmd = BUF_INIT;
	buf_puts(&cmd, "{\"reset\":true,\"merge\":{\"alarms\":{");
	for (int i = 0; i < 230; i++)
		buf_printf(&cmd, "%s\"EmployeeDirectoryPaged%03d\":{\"StateValue\":\"%s\"}",
			   i ? "," : "", i, i == 229 ? "ALARM" : "OK");
	buf_puts(&cmd, "}}}");
	CHECK(control(buf_str(&cmd)));
	buf_free(&cmd);
	struct tenv t;
	tenv_default(&t);
	struct aws_http *h = client(&t, 0);
	struct cw_alarm_query q = {NULL, 0, "EmployeeDirectoryPaged"};
	struct cw_alarm_list l = {0};
	struct err e = {0};
	CHECK(cw_describe_alarms(h, &q, &l, NULL, &e) == ST_OK);
	CHECK_INT(l.n, 230);
	CHECK_STR(l.v[229].name, "EmployeeDirectoryPaged229");
	CHECK_INT(l.v[229].state, CW_STATE_ALARM);
	CHECK_INT(count_requests("DescribeAlarms"), 4); /* 3 pages at home, 1 in us-east-1 */
	cw_alarm_list_free(&l);
	aws_http_free(h);
	tenv_free(&t);
}

TEST(live_history_per_alarm_region)
{
	CHECK(control("{\"reset\":true,\"merge\":{\"alarms\":{\"EmployeeDirectoryLambdaErrors\":"
		      "{\"StateValue\":\"ALARM\"}}}}"));
	struct tenv t;
	tenv_default(&t);
	struct aws_http *h = client(&t, 0);
	const char *names[] = {CW_LAMBDA_ALARM, CW_BILLING_ALARM};
	struct cw_alarm_query q = {names, 2, NULL};
	struct cw_alarm_list l = {0};
	struct cw_history hist = {0};
	struct err e = {0};
	CHECK(cw_describe_alarms(h, &q, &l, NULL, &e) == ST_OK);
	CHECK(cw_history_for_alarms(h, &l, 0, true, 6, &hist, &e) == ST_OK);
	CHECK_INT(hist.n, 6);
	bool lambda = false, billing = false;
	for (size_t i = 0; i < hist.n; i++) {
		CHECK(i == 0 || hist.v[i - 1].time >= hist.v[i].time);
		CHECK_STR(hist.v[i].type, "StateUpdate");
		CHECK(hist.v[i].has_states);
		if (strcmp(hist.v[i].alarm_name, CW_LAMBDA_ALARM) == 0) {
			CHECK_STR(hist.v[i].region, "eu-west-1");
			lambda = true;
		} else {
			CHECK_STR(hist.v[i].region, "us-east-1");
			billing = true;
		}
	}
	CHECK(lambda && billing);
	/* the newest Lambda transition is the one into ALARM, when the alarm says so */
	const struct cw_alarm *la = strcmp(l.v[0].name, CW_LAMBDA_ALARM) == 0 ? &l.v[0] : &l.v[1];
	struct cw_history one = {0};
	struct cw_history_query hq = {CW_LAMBDA_ALARM, NULL, false, 0, 0, 3};
	CHECK(cw_describe_alarm_history(h, &hq, &one, &e) == ST_OK);
	CHECK_INT(one.n, 3);
	size_t k = 0;
	while (k < one.n && strcmp(one.v[k].type, "StateUpdate") != 0)
		k++;
	CHECK(k < one.n);
	CHECK_INT(one.v[k].new_state, CW_STATE_ALARM);
	CHECK(fabs(one.v[k].time - la->state_since) < 0.001);
	cw_history_free(&one);
	cw_history_free(&hist);
	cw_alarm_list_free(&l);
	aws_http_free(h);
	tenv_free(&t);
}

TEST(live_lambda_metrics_and_paging)
{
	CHECK(control("{\"reset\":true,\"merge\":{\"metric_page_size\":50}}"));
	struct tenv t;
	tenv_default(&t);
	struct aws_http *h = client(&t, 0);
	struct cw_lambda_metrics m = {0};
	struct err e = {0};
	long long now = (long long)time(NULL);
	enum status st = cw_get_lambda_metrics(h, "empdir-api", now, 900, &m, &e);
	if (st != ST_OK)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(st == ST_OK);
	CHECK_INT(m.end - m.start, 86400);
	CHECK_INT(m.end % 900, 0);
	CHECK(m.end > now && m.end - now <= 900);
	/* 96 periods (the current one may have its first point yet or not), 4 series */
	for (int i = 0; i < CW_LAMBDA_COUNT; i++) {
		CHECK(m.series[i].n >= 95 && m.series[i].n <= 96);
		CHECK_STR(m.series[i].status, "Complete");
		for (size_t k = 1; k < m.series[i].n; k++)
			CHECK(m.series[i].times[k] - m.series[i].times[k - 1] == 900);
	}
	CHECK(m.series[CW_LAMBDA_INVOCATIONS].values[0] >= 40);
	CHECK(m.series[CW_LAMBDA_DURATION].values[0] >= 80);
	CHECK(count_requests("GetMetricData") >= 8); /* 380 points in pages of 50 */
	double b[96];
	cw_series_buckets(&m.series[CW_LAMBDA_ERRORS], m.start, m.period, 96, b);
	size_t filled = 0;
	for (int i = 0; i < 96; i++)
		filled += !isnan(b[i]);
	CHECK(!isnan(b[0]) && filled == m.series[CW_LAMBDA_ERRORS].n);
	cw_lambda_metrics_free(&m);
	CHECK_INT(cw_get_lambda_metrics(h, "", now, 900, &m, &e), ST_INVALID);
	CHECK(contains(e.msg, "function_name"));
	aws_http_free(h);
	tenv_free(&t);
}

TEST(live_billing_from_us_east_1)
{
	CHECK(control("{\"reset\":true,\"merge\":{\"metrics\":{\"billing_charges\":{\"values\":"
		      "[1.5,2.25,3.75]}}}}"));
	struct tenv t;
	tenv_default(&t);
	struct aws_http *h = client(&t, 0);
	struct cw_billing b = {0};
	struct err e = {0};
	long long now = (long long)time(NULL);
	CHECK(cw_get_billing(h, now, 21600, &b, &e) == ST_OK);
	CHECK(b.has_latest && b.latest == 3.75);
	CHECK(b.start <= now && b.end > now);
	char *in = last_input();
	CHECK(contains(in, "\"EstimatedCharges\""));
	free(in);
	cw_billing_free(&b);
	aws_http_free(h);
	tenv_free(&t);
}

TEST(live_cost_is_cached_and_fetched_on_demand)
{
	/* 2026-09-01 12:00 UTC: the 1st, so last month is asked for */
	long long now = utc(2026, 9, 1, 12);
	CHECK(control("{\"reset\":true,\"now\":1788264000,\"merge\":{\"cost\":{\"page_size\":2}}}"));
	struct tenv t;
	tenv_default(&t);
	struct aws_http *h = client(&t, now);
	struct buf dir = BUF_INIT;
	buf_printf(&dir, "%s/costcache", root);
	struct cost_options o = {COST_CACHE_ONLY, buf_str(&dir), NULL, now};
	struct cost_report r = {0};
	struct err e = {0};
	CHECK_INT(cost_month_to_date(h, &o, &r, &e), ST_NOT_FOUND);
	CHECK(contains(e.msg, "0.01 USD"));
	CHECK_INT(count_requests(NULL), 0);
	o.max_age = 3600;
	enum status st = cost_month_to_date(h, &o, &r, &e);
	if (st != ST_OK)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(st == ST_OK);
	CHECK(!r.from_cache && r.cache_saved && r.previous_month);
	CHECK_STR(r.start, "2026-08-01");
	CHECK_STR(r.end, "2026-09-01");
	CHECK_INT(r.n, 5);
	CHECK_INT(r.requests, 3); /* 5 groups in pages of 2 */
	CHECK_INT(count_requests("GetCostAndUsage"), 3);
	/* the fake's month-to-date figures, pro rata for the 31 days of August */
	CHECK(fabs(r.total - 1.8505234 * 31) < 1e-6);
	cost_report_free(&r);
	/* again: from the cache, no request */
	CHECK(cost_month_to_date(h, &o, &r, &e) == ST_OK);
	CHECK(r.from_cache && r.requests == 0 && r.n == 5 && r.age == 0);
	CHECK_INT(count_requests("GetCostAndUsage"), 3);
	cost_report_free(&r);
	/* too old for max_age: fetched again; cache-only takes any age */
	o.now = now + 7200;
	struct cost_options only = {COST_CACHE_ONLY, buf_str(&dir), NULL, now + 7200};
	CHECK(cost_month_to_date(h, &only, &r, &e) == ST_OK);
	CHECK(r.from_cache && r.age == 7200);
	cost_report_free(&r);
	o.max_age = COST_ALWAYS_FETCH;
	o.now = now;
	CHECK(cost_month_to_date(h, &o, &r, &e) == ST_OK);
	CHECK(!r.from_cache);
	CHECK_INT(count_requests("GetCostAndUsage"), 6);
	cost_report_free(&r);
	buf_free(&dir);
	aws_http_free(h);
	tenv_free(&t);
}

TEST(live_throttling_honours_retry_after)
{
	CHECK(control("{\"reset\":true,\"merge\":{\"faults\":[{\"mode\":\"throttle\",\"count\":1,"
		      "\"retry_after\":1}]}}"));
	struct tenv t;
	tenv_default(&t);
	struct aws_http *h = client(&t, 0);
	cJSON *out = NULL;
	struct err e = {0};
	long long t0 = mono_ms();
	CHECK(aws_http_call(h, &aws_service_cloudwatch, NULL, "DescribeAlarms", NULL, &out, &e) ==
	      ST_OK);
	long long took = mono_ms() - t0;
	cJSON_Delete(out);
	CHECK(took >= 1000 && took < 5000);
	CHECK_INT(aws_http_get_stats(h).retries, 1);
	/* a Retry-After past the limit ends the retries at once */
	CHECK(control("{\"reset\":true,\"merge\":{\"faults\":[{\"mode\":\"unavailable\","
		      "\"retry_after\":3600}]}}"));
	t0 = mono_ms();
	CHECK_INT(aws_http_call(h, &aws_service_cloudwatch, NULL, "DescribeAlarms", NULL, &out, &e),
		  ST_UNAVAILABLE);
	CHECK(mono_ms() - t0 < 1000);
	CHECK(contains(e.msg, "asks to wait 3600 s"));
	/* 5xx forever: the attempts run out */
	CHECK(control("{\"reset\":true,\"merge\":{\"faults\":[{\"mode\":\"internal\"}]}}"));
	CHECK_INT(aws_http_call(h, &aws_service_cloudwatch, NULL, "DescribeAlarms", NULL, &out, &e),
		  ST_UNAVAILABLE);
	CHECK(contains(e.msg, "HTTP 500 after 4 attempts"));
	aws_http_free(h);
	tenv_free(&t);
}

struct ticker {
	int ticks, cancel_after;
	long long last, max_gap;
};

static bool on_tick(void *ctx, const char *what)
{
	struct ticker *t = ctx;
	long long now = mono_ms();
	if (t->last && now - t->last > t->max_gap)
		t->max_gap = now - t->last;
	t->last = now;
	(void)what;
	return ++t->ticks >= t->cancel_after;
}

TEST(live_the_waiter_ticks_and_cancels)
{
	CHECK(control("{\"reset\":true,\"merge\":{\"faults\":[{\"mode\":\"slow\",\"seconds\":3,"
		      "\"count\":1}]}}"));
	struct tenv t;
	tenv_default(&t);
	struct aws_http *h = client(&t, 0);
	struct ticker tk = {0, 6, 0, 0};
	struct backend_waiter w = {-1, on_tick, NULL, &tk};
	aws_http_set_waiter(h, &w);
	cJSON *out = NULL;
	struct err e = {0};
	long long t0 = mono_ms();
	CHECK_INT(aws_http_call(h, &aws_service_cloudwatch, NULL, "DescribeAlarms", NULL, &out, &e),
		  ST_CANCELLED);
	long long took = mono_ms() - t0;
	CHECK(took < 1500);
	CHECK(tk.max_gap <= 200); /* "at least every 100 ms", with slack for a loaded machine */
	CHECK(contains(e.msg, "cancelled"));
	/* the client still works afterwards */
	tk.cancel_after = 1000000;
	usleep(100000);
	CHECK(aws_http_call(h, &aws_service_cloudwatch, NULL, "DescribeAlarms", NULL, &out, &e) ==
	      ST_OK);
	cJSON_Delete(out);
	aws_http_free(h);
	tenv_free(&t);
}

TEST(live_session_and_expired_tokens)
{
	CHECK(control("{\"reset\":true}"));
	struct tenv t;
	memset(&t, 0, sizeof t);
	tenv_add(&t, "HOME=%s/nohome", root);
	tenv_add(&t, "AWS_REGION=eu-west-1");
	tenv_add(&t, "AWS_ENDPOINT_URL=http://127.0.0.1:%d", fake_port);
	tenv_add(&t, "AWS_ACCESS_KEY_ID=ASIASESSIONKEY");
	tenv_add(&t, "AWS_SECRET_ACCESS_KEY=%s", SESSION_SECRET);
	tenv_add(&t, "AWS_SESSION_TOKEN=%s", SESSION_TOKEN);
	struct aws_http *h = client(&t, 0);
	cJSON *out = NULL;
	struct err e = {0};
	CHECK(aws_http_call(h, &aws_service_cost_explorer, NULL, "GetCostAndUsage",
			    NULL, &out, &e) == ST_FAIL); /* signed fine; {} is a bad CE input */
	CHECK(contains(e.msg, "ValidationException"));
	CHECK(!contains(e.msg, SESSION_TOKEN) && !contains(e.msg, SESSION_SECRET));
	CHECK(aws_http_call(h, &aws_service_cloudwatch, NULL, "DescribeAlarms", NULL, &out, &e) ==
	      ST_OK);
	cJSON_Delete(out);
	aws_http_free(h);
	tenv_free(&t);
	memset(&t, 0, sizeof t);
	tenv_add(&t, "HOME=%s/nohome", root);
	tenv_add(&t, "AWS_REGION=eu-west-1");
	tenv_add(&t, "AWS_ENDPOINT_URL=http://127.0.0.1:%d", fake_port);
	tenv_add(&t, "AWS_ACCESS_KEY_ID=ASIAEXPIREDKEY");
	tenv_add(&t, "AWS_SECRET_ACCESS_KEY=%s", SESSION_SECRET);
	tenv_add(&t, "AWS_SESSION_TOKEN=%s", SESSION_TOKEN);
	h = client(&t, 0);
	CHECK_INT(aws_http_call(h, &aws_service_cloudwatch, NULL, "DescribeAlarms", NULL, &out, &e),
		  ST_AUTH);
	CHECK(contains(e.msg, "have expired"));
	CHECK(!contains(e.msg, SESSION_TOKEN) && !contains(e.msg, SESSION_SECRET));
	CHECK_INT(aws_http_get_stats(h).retries, 0);
	aws_http_free(h);
	tenv_free(&t);
}

TEST(live_tls_and_connection_failures)
{
	struct tenv t;
	tenv_default(&t);
	/* https to a plain-HTTP server: the handshake fails, never falls back */
	tenv_add(&t, "AWS_ENDPOINT_URL_CLOUDWATCH=https://127.0.0.1:%d", fake_port);
	struct aws_http *h = client(&t, 0);
	cJSON *out = NULL;
	struct err e = {0};
	CHECK_INT(aws_http_call(h, &aws_service_cloudwatch, NULL, "DescribeAlarms", NULL, &out, &e),
		  ST_UNAVAILABLE);
	CHECK(contains(e.msg, "TLS"));
	aws_http_free(h);
	tenv_free(&t);
	tenv_default(&t);
	tenv_add(&t, "AWS_ENDPOINT_URL_CLOUDWATCH=http://127.0.0.1:1");
	h = client(&t, 0);
	CHECK_INT(aws_http_call(h, &aws_service_cloudwatch, NULL, "DescribeAlarms", NULL, &out, &e),
		  ST_UNAVAILABLE);
	CHECK(contains(e.msg, "cannot connect to 127.0.0.1:1"));
	aws_http_free(h);
	tenv_free(&t);
}

TEST(live_malformed_answers_fill_nothing)
{
	CHECK(control("{\"reset\":true,\"merge\":{\"faults\":[{\"mode\":\"truncate\","
		      "\"targets\":[\"DescribeAlarmHistory\"]}]}}"));
	struct tenv t;
	tenv_default(&t);
	struct aws_http *h = client(&t, 0);
	struct cw_history hist = {0};
	struct cw_history_query q = {CW_LAMBDA_ALARM, NULL, false, 0, 0, 10};
	struct err e = {0};
	CHECK_INT(cw_describe_alarm_history(h, &q, &hist, &e), ST_FAIL);
	CHECK(hist.n == 0 && hist.v == NULL);
	CHECK(contains(e.msg, "not valid JSON"));
	aws_http_free(h);
	tenv_free(&t);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	harness_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!mkdtemp(root)) {
		fprintf(stderr, "test_cloudwatch: cannot create a temporary directory: %s\n",
			strerror(errno));
		return 1;
	}
	RUN(error_codes_are_parsed_like_the_sdks);
	RUN(errors_are_classified_by_code_not_status);
	RUN(backoff_is_capped_exponential_with_jitter);
	RUN(server_messages_lose_secrets_lines_and_escapes);
	RUN(endpoints_and_their_overrides);
	RUN(bad_endpoint_urls_are_refused_without_echo);
	RUN(alarm_pages_are_read_member_by_member);
	RUN(malformed_alarm_pages_leave_nothing_behind);
	RUN(metric_pages_pair_timestamps_and_values);
	RUN(history_pages_read_the_states);
	RUN(cost_period_never_starts_where_it_ends);
	RUN(cost_pages_are_summed_by_service);
	RUN(cost_cache_round_trip);
	RUN(settings_from_the_aws_section);
	if (!fake_start()) {
		fprintf(stderr, "test_cloudwatch: cannot start tests/aws/fake_aws.py (run from the "
				"repository root)\n");
		harness_failed++;
	} else {
		RUN(live_alarms_come_from_both_regions);
		RUN(live_alarm_paging);
		RUN(live_history_per_alarm_region);
		RUN(live_lambda_metrics_and_paging);
		RUN(live_billing_from_us_east_1);
		RUN(live_cost_is_cached_and_fetched_on_demand);
		RUN(live_throttling_honours_retry_after);
		RUN(live_the_waiter_ticks_and_cancels);
		RUN(live_session_and_expired_tokens);
		RUN(live_tls_and_connection_failures);
		RUN(live_malformed_answers_fill_nothing);
	}
	fake_stop();
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	curl_global_cleanup();
	return harness_done();
}
