/* SPDX-License-Identifier: GPL-3.0-or-later */
/* http_auth: the credentials the http backend sends, and where they come from.
 *
 *   auth = none     nothing (the default when no token is configured)
 *   auth = bearer   Authorization: Bearer <token>, the token from exactly one
 *                   of: token = (the config file must not be readable by
 *                   others, as ssh insists for keys), token_env = VARIABLE,
 *                   token_command = COMMAND (split like a shell word list,
 *                   run without a shell, killed after 30 s; its stdout is the
 *                   token, re-run once when the API answers 401)
 *   auth = iam      AWS Signature Version 4, service "execute-api", with the
 *                   credentials and region aws_creds resolves ([aws] profile,
 *                   the connection's region)
 *
 * The token lives only in struct http_auth and in the header list of the
 * request in flight; both are wiped when released. Messages name the source
 * of a token (a file, a variable, a command's program name), never its value. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/config.h"
#include "aws_creds.h"
#include "http_internal.h"
#include "sigv4.h"

#define TOKEN_MAX 16384
#define COMMAND_TIMEOUT_MS 30000

enum http_auth_kind { AUTH_NONE, AUTH_BEARER, AUTH_IAM };
enum token_source { TOKEN_CONFIG, TOKEN_ENV, TOKEN_COMMAND };

struct http_auth {
	enum http_auth_kind kind;
	enum token_source source;
	struct buf token;          /* secret */
	char *command;             /* token_command as configured */
	char describe[256];
	const struct backend_waiter *waiter;
	/* auth = iam */
	struct aws_credentials creds; /* secret */
	struct buf region;
	char *profile;
};

static void buf_wipe(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

void http_slist_free_wiped(struct curl_slist *l)
{
	for (struct curl_slist *n = l; n; n = n->next)
		if (n->data)
			explicit_bzero(n->data, strlen(n->data));
	curl_slist_free_all(l);
}

void http_auth_free(struct http_auth *a)
{
	if (!a)
		return;
	buf_wipe(&a->token);
	aws_credentials_free(&a->creds);
	buf_free(&a->region);
	free(a->command);
	free(a->profile);
	free(a);
}

void http_auth_set_waiter(struct http_auth *a, const struct backend_waiter *w)
{
	a->waiter = w;
}

bool http_auth_sends_secret(const struct http_auth *a)
{
	return a->kind != AUTH_NONE;
}

const char *http_auth_describe(const struct http_auth *a)
{
	return a->describe;
}

/* Keep the token without surrounding white space; refuse what cannot go in
 * a header line. `from` names the source for messages. */
static enum status token_take(struct http_auth *a, const char *raw, size_t n, const char *from,
			      struct err *e)
{
	while (n && (raw[n - 1] == '\n' || raw[n - 1] == '\r' || raw[n - 1] == ' ' || raw[n - 1] == '\t'))
		n--;
	while (n && (*raw == ' ' || *raw == '\t' || *raw == '\n' || *raw == '\r')) {
		raw++;
		n--;
	}
	if (n == 0)
		return err_set(e, ST_AUTH, "the bearer token from %s is empty; set a token there", from);
	if (n > TOKEN_MAX)
		return err_set(e, ST_AUTH, "the bearer token from %s is longer than %d bytes; is it a token?",
			       from, TOKEN_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c < 0x21 || c > 0x7e)
			return err_set(e, ST_AUTH,
				       "the bearer token from %s holds spaces, line breaks or non-ASCII "
				       "characters; a token is one word of printable ASCII",
				       from);
	}
	buf_wipe(&a->token);
	buf_append(&a->token, raw, n);
	return ST_OK;
}

/* ssh's rule for key files: a secret in a file others can read is refused. */
static enum status token_from_config(struct http_auth *a, const struct conn_config *cfg,
				     const char *token, struct err *e)
{
	const char *path = cfg->config && cfg->config->path ? cfg->config->path : "";
	struct stat st;
	if (!*path)
		return err_set(e, ST_AUTH, "token = is only read from a configuration file; use token_env or token_command");
	if (stat(path, &st) != 0)
		return err_set(e, ST_AUTH, "cannot check the permissions of %s (%s), which holds the bearer token; "
				       "refusing to use it",
			       path, strerror(errno));
	if (st.st_mode & 077)
		return err_set(e, ST_AUTH,
			       "%s holds a bearer token but others can read it (mode %04o): run "
			       "`chmod 600 %s`, or use token_env or token_command instead",
			       path, (unsigned)(st.st_mode & 07777), path);
	snprintf(a->describe, sizeof a->describe, "bearer token from %s", path);
	return token_take(a, token, strlen(token), path, e);
}

static enum status token_from_env(struct http_auth *a, const char *var, struct err *e)
{
	const char *v = getenv(var);
	if (!v || !*v)
		return err_set(e, ST_AUTH, "token_env = %s, but the environment variable %s is not set; "
				       "export it, or use token_command",
			       var, var);
	char from[128];
	snprintf(from, sizeof from, "$%s", var);
	snprintf(a->describe, sizeof a->describe, "bearer token from $%s", var);
	return token_take(a, v, strlen(v), from, e);
}

/* ---- token_command ---- */

static long long mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void kill_and_reap(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
	}
}

/* The child: only async-signal-safe calls until exec. Its stderr stays the
 * terminal's before the screen starts (so a "please log in" reaches the
 * user) and is /dev/null once it runs. */
static void child_exec(char **argv, int out_fd, int status_fd, bool quiet)
{
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		if (quiet)
			dup2(devnull, 2);
	}
	dup2(out_fd, 1);
	execvp(argv[0], argv);
	int err = errno;
	ssize_t w = write(status_fd, &err, sizeof err);
	(void)w;
	_exit(127);
}

/* Read the child's stdout until it closes, the time is up or the user
 * cancels. ST_OK when it closed. */
static enum status read_output(struct http_auth *a, int fd, struct buf *out, const char *what,
			       struct err *e)
{
	long long deadline = mono_ms() + COMMAND_TIMEOUT_MS;
	const struct backend_waiter *w = a->waiter;
	for (;;) {
		long long left = deadline - mono_ms();
		if (left <= 0)
			return err_set(e, ST_UNAVAILABLE, "%s did not finish within %d s and was stopped; "
							  "run it in a terminal to see why",
				       what, COMMAND_TIMEOUT_MS / 1000);
		struct pollfd p[2] = {{fd, POLLIN, 0}, {w ? w->input_fd : -1, POLLIN, 0}};
		int r = poll(p, w && w->input_fd >= 0 ? 2 : 1, (int)(left < 100 ? left : 100));
		if (r < 0 && errno != EINTR)
			return err_set(e, ST_FAIL, "waiting for %s: %s", what, strerror(errno));
		if (w && w->tick && w->tick(w->ctx, "waiting for the token command"))
			return err_set(e, ST_CANCELLED, "cancelled while waiting for %s", what);
		if (r <= 0 || !p[0].revents)
			continue;
		char chunk[4096];
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n > 0)
			buf_append(out, chunk, (size_t)n);
		explicit_bzero(chunk, sizeof chunk);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return ST_OK;
		if (out->len > TOKEN_MAX + 1024)
			return err_set(e, ST_AUTH, "%s printed more than %d KiB; that is not a token", what,
				       TOKEN_MAX / 1024 + 1);
	}
}

static enum status wait_exit(pid_t pid, const char *what, struct err *e)
{
	int ws = 0;
	long long deadline = mono_ms() + 5000;
	for (;;) {
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return ST_OK; /* reaped elsewhere: judge by the output */
		if (mono_ms() > deadline) {
			kill_and_reap(pid);
			return err_set(e, ST_UNAVAILABLE, "%s closed its output but did not exit; it was stopped", what);
		}
		poll(NULL, 0, 10);
	}
	if (WIFEXITED(ws) && WEXITSTATUS(ws) != 0)
		return err_set(e, ST_AUTH, "%s failed with exit status %d; run it yourself to see why", what,
			       WEXITSTATUS(ws));
	if (WIFSIGNALED(ws))
		return err_set(e, ST_AUTH, "%s was killed by signal %d", what, WTERMSIG(ws));
	return ST_OK;
}

static enum status run_command(struct http_auth *a, const struct strvec *args, struct buf *out,
			       const char *what, struct err *e)
{
	int pout[2] = {-1, -1}, pstat[2] = {-1, -1};
	char **argv = xcalloc(args->n + 1, sizeof *argv);
	for (size_t i = 0; i < args->n; i++)
		argv[i] = args->v[i];
	enum status st = ST_OK;
	pid_t pid = -1;
	if (pipe2(pout, O_CLOEXEC) != 0 || pipe2(pstat, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		st = err_set(e, ST_FAIL, "cannot start %s: %s", what, strerror(errno));
		goto done;
	}
	if (pid == 0)
		child_exec(argv, pout[1], pstat[1], a->waiter != NULL);
	setpgid(pid, pid);
	close_fd(&pout[1]);
	close_fd(&pstat[1]);
	int exec_errno = 0;
	ssize_t r;
	while ((r = read(pstat[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
	}
	if (r == (ssize_t)sizeof exec_errno) {
		kill_and_reap(pid);
		pid = -1;
		st = err_set(e, ST_AUTH, "cannot run %s: %s; check token_command (an absolute path is safest)",
			     what, strerror(exec_errno));
		goto done;
	}
	st = read_output(a, pout[0], out, what, e);
	if (st != ST_OK) {
		kill_and_reap(pid);
		pid = -1;
		goto done;
	}
	st = wait_exit(pid, what, e);
	pid = -1;
done:
	if (pid > 0)
		kill_and_reap(pid);
	close_fd(&pout[0]);
	close_fd(&pout[1]);
	close_fd(&pstat[0]);
	close_fd(&pstat[1]);
	free(argv);
	return st;
}

static enum status token_from_command(struct http_auth *a, struct err *e)
{
	struct strvec args = STRVEC_INIT;
	enum status st = aws_creds_split_command(a->command, &args, e);
	if (st != ST_OK) {
		err_prefix(e, "token_command");
		strvec_free(&args);
		return st;
	}
	if (!args.n) {
		strvec_free(&args);
		return err_set(e, ST_INVALID, "token_command is empty; set a command or remove it");
	}
	char what[160];
	snprintf(what, sizeof what, "token_command \"%s\"", args.v[0]);
	snprintf(a->describe, sizeof a->describe, "bearer token from %s", what);
	struct buf out = BUF_INIT;
	st = run_command(a, &args, &out, what, e);
	if (st == ST_OK)
		st = token_take(a, buf_str(&out), out.len, what, e);
	buf_wipe(&out);
	strvec_free(&args);
	return st;
}

/* ---- auth = iam ---- */

static enum status iam_resolve(struct http_auth *a, struct err *e)
{
	struct aws_creds_options o = {.profile = a->profile, .region = buf_str(&a->region),
				      .waiter = a->waiter};
	enum status st = aws_creds_resolve(&o, &a->creds, e);
	if (st != ST_OK)
		err_prefix(e, "auth = iam");
	return st;
}

static enum status iam_load(struct http_auth *a, const struct conn_config *cfg, struct err *e)
{
	const char *profile = cfg->config ? config_get(cfg->config, "aws", "profile") : NULL;
	const char *region = conn_get(cfg, "region");
	if (!region && cfg->config)
		region = config_get(cfg->config, "aws", "region");
	a->profile = profile ? xstrdup(profile) : NULL;
	struct aws_creds_options o = {.profile = profile, .region = region};
	enum status st = aws_creds_region(&o, &a->region, NULL, e);
	if (st != ST_OK) {
		err_prefix(e, "auth = iam needs the API's region (region = in the connection)");
		return st;
	}
	st = iam_resolve(a, e);
	if (st == ST_OK)
		snprintf(a->describe, sizeof a->describe, "IAM (%s)", buf_str(&a->creds.source));
	return st;
}

static enum status iam_headers(struct http_auth *a, const struct http_sign_input *in,
			       struct curl_slist **headers, struct err *e)
{
	if (aws_credentials_need_refresh(&a->creds, (long long)time(NULL), 300)) {
		enum status st = iam_resolve(a, e);
		if (st != ST_OK)
			return st;
	}
	char date[17];
	sigv4_format_date((long long)time(NULL), date);
	struct sigv4_request req = {.method = in->method, .host = in->host, .path = in->path,
				    .query = in->query, .body = in->body, .body_len = in->body_len};
	struct sigv4_credentials c = {buf_str(&a->creds.access_key_id), buf_str(&a->creds.secret_access_key),
				      buf_str(&a->creds.session_token)};
	struct sigv4_result res = SIGV4_RESULT_INIT;
	enum status st = sigv4_sign_request(&req, &c, buf_str(&a->region), "execute-api", date, NULL, &res, e);
	for (size_t i = 0; st == ST_OK && i < res.add_headers.n; i++)
		*headers = curl_slist_append(*headers, res.add_headers.v[i]);
	sigv4_result_free(&res);
	return st;
}

/* ---- the interface ---- */

static enum status pick_kind(const struct conn_config *cfg, struct http_auth *a, int sources,
			     struct err *e)
{
	const char *auth = conn_get(cfg, "auth");
	if (!auth)
		a->kind = sources ? AUTH_BEARER : AUTH_NONE;
	else if (strcmp(auth, "none") == 0)
		a->kind = AUTH_NONE;
	else if (strcmp(auth, "bearer") == 0)
		a->kind = AUTH_BEARER;
	else if (strcmp(auth, "iam") == 0)
		a->kind = AUTH_IAM;
	else
		return err_set(e, ST_INVALID, "auth = %s is for pg connections; an http connection uses "
					      "none, bearer or iam",
			       auth);
	if (a->kind == AUTH_BEARER && sources == 0)
		return err_set(e, ST_INVALID, "auth = bearer needs a token: set token_env, token_command "
					      "or token in the connection");
	if (a->kind == AUTH_BEARER && sources > 1)
		return err_set(e, ST_INVALID, "set only one of token, token_env and token_command");
	return ST_OK;
}

enum status http_auth_load(const struct conn_config *cfg, struct http_auth **out, struct err *e)
{
	*out = NULL;
	struct http_auth *a = xcalloc(1, sizeof *a);
	struct aws_credentials none = AWS_CREDENTIALS_INIT;
	a->creds = none;
	snprintf(a->describe, sizeof a->describe, "no authentication");
	const char *token = conn_get(cfg, "token"), *env = conn_get(cfg, "token_env");
	const char *cmd = conn_get(cfg, "token_command");
	enum status st = pick_kind(cfg, a, !!token + !!env + !!cmd, e);
	if (st == ST_OK && a->kind == AUTH_BEARER) {
		if (token) {
			a->source = TOKEN_CONFIG;
			st = token_from_config(a, cfg, token, e);
		} else if (env) {
			a->source = TOKEN_ENV;
			st = token_from_env(a, env, e);
		} else {
			a->source = TOKEN_COMMAND;
			a->command = xstrdup(cmd);
			st = token_from_command(a, e);
		}
	} else if (st == ST_OK && a->kind == AUTH_IAM) {
		st = iam_load(a, cfg, e);
	}
	if (st != ST_OK) {
		http_auth_free(a);
		return st;
	}
	*out = a;
	return ST_OK;
}

enum status http_auth_add_headers(struct http_auth *a, const struct http_sign_input *in,
				  struct curl_slist **headers, struct err *e)
{
	if (a->kind == AUTH_IAM)
		return iam_headers(a, in, headers, e);
	if (a->kind != AUTH_BEARER)
		return ST_OK;
	struct buf h = BUF_INIT;
	buf_puts(&h, "Authorization: Bearer ");
	buf_append(&h, a->token.data, a->token.len);
	*headers = curl_slist_append(*headers, h.data);
	buf_wipe(&h);
	return ST_OK;
}

bool http_auth_refresh(struct http_auth *a, const struct backend_waiter *w, struct err *e)
{
	const struct backend_waiter *keep = a->waiter;
	bool ok = false;
	a->waiter = w;
	if (a->kind == AUTH_BEARER && a->source == TOKEN_COMMAND)
		ok = token_from_command(a, e) == ST_OK;
	else if (a->kind == AUTH_IAM)
		ok = iam_resolve(a, e) == ST_OK;
	a->waiter = keep;
	return ok;
}
