/* SPDX-License-Identifier: GPL-3.0-or-later */
/* aws_creds: AWS credential and region resolution (see aws_creds.h). */
#include "aws_creds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "backend.h"

#define AWS_FILE_MAX (1024 * 1024)       /* a larger credentials file is a mistake */
#define AWS_PROCESS_OUT_MAX (256 * 1024) /* credential_process stdout limit */
#define AWS_PROCESS_ERR_KEEP 4096        /* stderr kept for the message */
#define AWS_PROCESS_TIMEOUT_MS 30000

/* ---- environment -------------------------------------------------------- */

const char *aws_env_get(const struct aws_env *env, const char *name)
{
	const char *v = NULL;
	if (env && env->vars) {
		size_t n = strlen(name);
		for (const char *const *p = env->vars; *p; p++)
			if (strncmp(*p, name, n) == 0 && (*p)[n] == '=') {
				v = *p + n + 1;
				break;
			}
	} else {
		v = getenv(name);
	}
	return v && *v ? v : NULL;
}

static void home_dir(const struct aws_env *env, struct buf *out)
{
	const char *h = aws_env_get(env, "HOME");
	if (h) {
		buf_puts(out, h);
		return;
	}
	if (env && env->vars)
		return; /* a test environment without HOME has none */
	struct passwd pw, *res = NULL;
	char tmp[4096];
	if (getpwuid_r(getuid(), &pw, tmp, sizeof tmp, &res) == 0 && res && res->pw_dir &&
	    *res->pw_dir)
		buf_puts(out, res->pw_dir);
}

/* The file named by var (with "~/" expanded), else ~/<dflt>. */
static void file_path(const struct aws_env *env, const char *var, const char *dflt,
		      struct buf *out)
{
	buf_reset(out);
	struct buf home = BUF_INIT;
	const char *v = aws_env_get(env, var);
	if (v) {
		if (v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
			home_dir(env, &home);
			if (home.len) {
				buf_puts(out, buf_str(&home));
				buf_puts(out, v + 1);
			} else {
				buf_puts(out, v);
			}
		} else {
			buf_puts(out, v);
		}
	} else {
		home_dir(env, &home);
		if (home.len)
			buf_printf(out, "%s/%s", buf_str(&home), dflt);
	}
	buf_free(&home);
}

void aws_creds_paths(const struct aws_env *env, struct buf *credentials_file,
		     struct buf *config_file)
{
	if (credentials_file)
		file_path(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", credentials_file);
	if (config_file)
		file_path(env, "AWS_CONFIG_FILE", ".aws/config", config_file);
}

/* ---- small helpers ------------------------------------------------------ */

static void buf_wipe(struct buf *b)
{
	if (b->cap)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

static void wipe_str(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
}

static void creds_reset(struct aws_credentials *c)
{
	buf_wipe(&c->access_key_id);
	buf_wipe(&c->secret_access_key);
	buf_wipe(&c->session_token);
	buf_free(&c->profile);
	buf_free(&c->source);
	c->expiration = 0;
}

void aws_credentials_free(struct aws_credentials *c)
{
	if (c)
		creds_reset(c);
}

bool aws_credentials_need_refresh(const struct aws_credentials *c, long long now, int margin_s)
{
	return c->expiration != 0 && now + margin_s >= c->expiration;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- time --------------------------------------------------------------- */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool aws_creds_parse_time(const char *s, long long *out)
{
	int Y, M, D, h, m, sec;
	if (!s || strlen(s) < 19 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) ||
	    s[7] != '-' || !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &m) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return false;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	long long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p == '-' ? -1 : 1;
		p++;
		if (!digits(p, 2, &oh))
			return false;
		p += 2;
		if (*p == ':')
			p++;
		if (!digits(p, 2, &om))
			return false;
		p += 2;
		offset = sign * (oh * 3600LL + om * 60LL);
	} else {
		return false;
	}
	if (*p)
		return false;
	struct tm tm = {0};
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 && !(Y == 1969 && M == 12 && D == 31))
		return false;
	*out = (long long)t - offset;
	return true;
}

/* ---- INI files ---------------------------------------------------------- */

struct ini_entry {
	char *section;
	char *key;   /* lower case; NULL for a section header */
	char *value; /* may be a secret: wiped on free */
};

struct ini {
	struct ini_entry *v;
	size_t n, cap;
	bool exists;
};

static void ini_free(struct ini *ini)
{
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->v[i].section);
		free(ini->v[i].key);
		wipe_str(ini->v[i].value);
		free(ini->v[i].value);
	}
	free(ini->v);
	ini->v = NULL;
	ini->n = ini->cap = 0;
}

static void ini_add(struct ini *ini, const char *section, const char *key, size_t klen,
		    const char *value, size_t vlen)
{
	if (ini->n == ini->cap) {
		ini->cap = ini->cap ? 2 * ini->cap : 16;
		ini->v = xrealloc(ini->v, ini->cap * sizeof *ini->v);
	}
	struct ini_entry *en = &ini->v[ini->n++];
	en->section = xstrdup(section);
	en->key = key ? xstrndup(key, klen) : NULL;
	if (en->key)
		for (char *q = en->key; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
	en->value = value ? xstrndup(value, vlen) : NULL;
}

static bool ini_has_section(const struct ini *ini, const char *section)
{
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->v[i].section, section) == 0)
			return true;
	return false;
}

/* The last value of key in section, or NULL; an empty value counts as unset. */
static const char *ini_get(const struct ini *ini, const char *section, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < ini->n; i++)
		if (ini->v[i].key && strcmp(ini->v[i].key, key) == 0 &&
		    strcmp(ini->v[i].section, section) == 0)
			v = ini->v[i].value;
	return v && *v ? v : NULL;
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

/* Cut an inline comment: '#' or ';' that follows a blank. */
static size_t cut_inline_comment(const char *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if ((s[i] == '#' || s[i] == ';') && (s[i - 1] == ' ' || s[i - 1] == '\t'))
			return i;
	return n;
}

/* Sections are stored with inner blanks collapsed: "[profile   dev]" is
 * "profile dev", as botocore reads it. */
static char *section_name(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	bool blank = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			blank = true;
			continue;
		}
		if (blank && b.len)
			buf_putc(&b, ' ');
		blank = false;
		buf_putc(&b, s[i]);
	}
	return buf_steal(&b);
}

/* The AWS shared-file dialect of INI: [section], key = value (or key:
 * value), # and ; comments (whole line, or after a blank), indented lines
 * after a key are nested values (s3 = / max_concurrent_requests = 10) and are
 * skipped. Messages give the line number, never the line. */
static enum status ini_parse(const char *text, size_t len, const char *path, struct ini *ini,
			     struct err *e)
{
	char *section = NULL;
	bool after_key = false;
	int lineno = 0;
	const char *p = text, *end = text + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* UTF-8 BOM */
	enum status st = ST_OK;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *s = p;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		p = nl ? nl + 1 : end;
		lineno++;
		bool indented = n && (s[0] == ' ' || s[0] == '\t');
		trim(&s, &n);
		if (n == 0 || s[0] == '#' || s[0] == ';')
			continue;
		if (indented && after_key)
			continue; /* a nested value */
		if (s[0] == '[') {
			const char *close = NULL;
			for (size_t i = n; i > 0; i--)
				if (s[i - 1] == ']') {
					close = s + i - 1;
					break;
				}
			if (!close) {
				st = err_set(e, ST_INVALID,
					     "%s line %d: a section header must end with ']'; fix "
					     "that line",
					     path, lineno);
				break;
			}
			const char *rest = close + 1;
			size_t rlen = n - (size_t)(rest - s);
			trim(&rest, &rlen);
			if (rlen && rest[0] != '#' && rest[0] != ';') {
				st = err_set(e, ST_INVALID,
					     "%s line %d: unexpected text after the section header; "
					     "fix that line",
					     path, lineno);
				break;
			}
			free(section);
			section = section_name(s + 1, (size_t)(close - s - 1));
			if (!*section) {
				st = err_set(e, ST_INVALID, "%s line %d: empty section name [ ]",
					     path, lineno);
				break;
			}
			ini_add(ini, section, NULL, 0, NULL, 0);
			after_key = false;
			continue;
		}
		size_t k = 0;
		while (k < n && s[k] != '=' && s[k] != ':')
			k++;
		if (k == n) {
			st = err_set(e, ST_INVALID,
				     "%s line %d: expected \"[section]\" or \"key = value\"; fix or "
				     "remove that line",
				     path, lineno);
			break;
		}
		const char *key = s, *val = s + k + 1;
		size_t klen = k, vlen = n - k - 1;
		trim(&key, &klen);
		vlen = cut_inline_comment(val, vlen);
		trim(&val, &vlen);
		if (!klen) {
			st = err_set(e, ST_INVALID, "%s line %d: a setting without a name", path,
				     lineno);
			break;
		}
		if (!section) {
			st = err_set(e, ST_INVALID,
				     "%s line %d: a setting before any [section]; put it under "
				     "[default] or a profile",
				     path, lineno);
			break;
		}
		ini_add(ini, section, key, klen, val, vlen);
		after_key = true;
	}
	free(section);
	return st;
}

/* Read and parse path. A missing file is not an error (ini->exists false). */
static enum status ini_load(const char *path, struct ini *ini, struct err *e)
{
	ini->exists = false;
	if (!path || !*path)
		return ST_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ST_OK;
		return err_set(e, ST_FAIL, "cannot read %s: %s; check its permissions", path,
			       strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ST_FAIL, "%s is not a regular file; point it at the AWS file",
			       path);
	}
	if (st.st_size > AWS_FILE_MAX) {
		close(fd);
		return err_set(e, ST_INVALID, "%s is larger than 1 MiB; is it the right file?",
			       path);
	}
	struct buf text = BUF_INIT;
	char chunk[4096];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;
			close(fd);
			buf_wipe(&text);
			return err_set(e, ST_FAIL, "cannot read %s: %s", path, strerror(saved));
		}
		if (r == 0)
			break;
		buf_append(&text, chunk, (size_t)r);
		if (text.len > AWS_FILE_MAX) {
			close(fd);
			buf_wipe(&text);
			return err_set(e, ST_INVALID,
				       "%s is larger than 1 MiB; is it the right file?", path);
		}
	}
	OPENSSL_cleanse(chunk, sizeof chunk);
	close(fd);
	ini->exists = true;
	enum status s = ini_parse(buf_str(&text), text.len, path, ini, e);
	buf_wipe(&text);
	return s;
}

/* ---- credential_process ------------------------------------------------- */

enum status aws_creds_split_command(const char *line, struct strvec *argv, struct err *e)
{
	strvec_clear(argv);
	struct buf word = BUF_INIT;
	bool in_word = false;
	const char *p = line ? line : "";
	enum status st = ST_OK;
	while (*p) {
		char c = *p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (in_word) {
				strvec_push_n(argv, buf_str(&word), word.len);
				buf_reset(&word);
				in_word = false;
			}
			p++;
		} else if (c == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (!q) {
				st = err_set(e, ST_INVALID, "the command has an unterminated ' quote");
				break;
			}
			buf_append(&word, p + 1, (size_t)(q - p - 1));
			in_word = true;
			p = q + 1;
		} else if (c == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				buf_putc(&word, *p);
				p++;
			}
			if (*p != '"') {
				st = err_set(e, ST_INVALID, "the command has an unterminated \" quote");
				break;
			}
			in_word = true;
			p++;
		} else if (c == '\\') {
			if (!p[1]) {
				st = err_set(e, ST_INVALID,
					     "the command ends with a backslash that escapes nothing");
				break;
			}
			buf_putc(&word, p[1]);
			in_word = true;
			p += 2;
		} else {
			buf_putc(&word, c);
			in_word = true;
			p++;
		}
	}
	if (st == ST_OK && in_word)
		strvec_push_n(argv, buf_str(&word), word.len);
	if (st != ST_OK)
		strvec_clear(argv);
	buf_free(&word);
	return st;
}

static bool json_nonempty_string(const cJSON *obj, const char *key, const char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!cJSON_IsString(it) || !it->valuestring || !*it->valuestring)
		return false;
	*out = it->valuestring;
	return true;
}

static void wipe_json_string(cJSON *obj, const char *key)
{
	cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (cJSON_IsString(it))
		wipe_str(it->valuestring);
}

enum status aws_creds_parse_process_output(const char *json, size_t len, long long now,
					   const char *what, struct aws_credentials *out,
					   struct err *e)
{
	enum status st = ST_OK;
	cJSON *root = cJSON_ParseWithLength(json, len);
	const char *ak = NULL, *sk = NULL, *tok = NULL;
	if (!cJSON_IsObject(root)) {
		st = err_set(e, ST_AUTH,
			     "%s did not print a JSON object; it must print {\"Version\": 1, "
			     "\"AccessKeyId\": ..., \"SecretAccessKey\": ...}",
			     what);
		goto done;
	}
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "Version");
	if (!cJSON_IsNumber(ver) || ver->valuedouble != 1.0) {
		st = err_set(e, ST_AUTH,
			     "%s printed JSON without \"Version\": 1; only version 1 of the "
			     "credential_process protocol is supported",
			     what);
		goto done;
	}
	if (!json_nonempty_string(root, "AccessKeyId", &ak) ||
	    !json_nonempty_string(root, "SecretAccessKey", &sk)) {
		st = err_set(e, ST_AUTH,
			     "%s printed no AccessKeyId or no SecretAccessKey; check the command "
			     "by running it in a terminal",
			     what);
		goto done;
	}
	const cJSON *tj = cJSON_GetObjectItemCaseSensitive(root, "SessionToken");
	if (tj && !cJSON_IsNull(tj)) {
		if (!cJSON_IsString(tj) || !tj->valuestring) {
			st = err_set(e, ST_AUTH, "%s printed a SessionToken that is not a string",
				     what);
			goto done;
		}
		tok = tj->valuestring;
	}
	long long expiration = 0;
	const cJSON *ej = cJSON_GetObjectItemCaseSensitive(root, "Expiration");
	if (ej && !cJSON_IsNull(ej)) {
		if (!cJSON_IsString(ej) || !aws_creds_parse_time(ej->valuestring, &expiration)) {
			st = err_set(e, ST_AUTH,
				     "%s printed an Expiration that is not an ISO 8601 time such as "
				     "2026-08-22T10:00:00Z",
				     what);
			goto done;
		}
		if (expiration <= now) {
			st = err_set(e, ST_AUTH,
				     "%s printed credentials that expired at %s; refresh the "
				     "source (e.g. aws sso login) and try again",
				     what, ej->valuestring);
			goto done;
		}
	}
	creds_reset(out);
	buf_puts(&out->access_key_id, ak);
	buf_puts(&out->secret_access_key, sk);
	if (tok)
		buf_puts(&out->session_token, tok);
	out->expiration = expiration;
done:
	if (root) {
		wipe_json_string(root, "AccessKeyId");
		wipe_json_string(root, "SecretAccessKey");
		wipe_json_string(root, "SessionToken");
		cJSON_Delete(root);
	}
	return st;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void kill_and_reap(pid_t pid)
{
	kill(-pid, SIGKILL); /* its process group: helpers started by the helper */
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
	}
}

/* The first non-empty line of the helper's stderr, shortened, with control
 * characters replaced; appended as ": <line>". */
static void stderr_hint(struct buf *out, const struct buf *err_text)
{
	const char *s = buf_str(err_text);
	while (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t')
		s++;
	size_t n = strcspn(s, "\r\n");
	if (!n)
		return;
	if (n > 200)
		n = 200;
	buf_puts(out, ": ");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		buf_putc(out, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
}

/* Run the command, collect its stdout into out (a secret) and its exit. */
static enum status run_process(const struct strvec *args, const char *what,
			       const struct aws_creds_options *o, struct buf *out, struct err *e)
{
	int pout[2] = {-1, -1}, perr[2] = {-1, -1}, pstat[2] = {-1, -1}, devnull = -1;
	char **argv = xcalloc(args->n + 1, sizeof *argv);
	for (size_t i = 0; i < args->n; i++)
		argv[i] = args->v[i];
	struct buf errtext = BUF_INIT;
	enum status st = ST_OK;
	pid_t pid = -1;

	if (pipe2(pout, O_CLOEXEC) != 0 || pipe2(perr, O_CLOEXEC) != 0 ||
	    pipe2(pstat, O_CLOEXEC) != 0 ||
	    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		st = err_set(e, ST_FAIL, "cannot start %s: %s", what, strerror(errno));
		goto done;
	}
	pid = fork();
	if (pid < 0) {
		st = err_set(e, ST_FAIL, "cannot start %s: %s", what, strerror(errno));
		goto done;
	}
	if (pid == 0) {
		/* The child: only async-signal-safe calls until exec. */
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(devnull, 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		if (o->env && o->env->vars)
			execvpe(argv[0], argv, (char *const *)o->env->vars);
		else
			execvp(argv[0], argv);
		int err = errno;
		ssize_t w = write(pstat[1], &err, sizeof err);
		(void)w;
		_exit(127);
	}
	setpgid(pid, pid); /* also from here, so kill(-pid) works at once */
	close_fd(&pout[1]);
	close_fd(&perr[1]);
	close_fd(&pstat[1]);
	close_fd(&devnull);

	/* Did exec work? The status pipe closes on exec, or carries errno. */
	int exec_errno = 0;
	ssize_t r;
	while ((r = read(pstat[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
	}
	if (r == (ssize_t)sizeof exec_errno) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
		}
		pid = -1;
		st = err_set(e, ST_AUTH,
			     "cannot run %s: %s; check the command (an absolute path is "
			     "safest) and PATH",
			     what, strerror(exec_errno));
		goto done;
	}

	const struct backend_waiter *w = o->waiter;
	int timeout = o->process_timeout_ms > 0 ? o->process_timeout_ms : AWS_PROCESS_TIMEOUT_MS;
	long long deadline = now_ms() + timeout;
	bool timed_out = false, cancelled = false, too_big = false;
	while (pout[0] >= 0 || perr[0] >= 0) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		int slice = (int)(left < 100 ? left : 100);
		struct pollfd fds[3];
		nfds_t nfds = 0;
		int iout = -1, ierr = -1;
		if (pout[0] >= 0) {
			iout = (int)nfds;
			fds[nfds++] = (struct pollfd){pout[0], POLLIN, 0};
		}
		if (perr[0] >= 0) {
			ierr = (int)nfds;
			fds[nfds++] = (struct pollfd){perr[0], POLLIN, 0};
		}
		if (w && w->input_fd >= 0)
			fds[nfds++] = (struct pollfd){w->input_fd, POLLIN, 0};
		int pr = poll(fds, nfds, slice);
		if (pr < 0 && errno != EINTR) {
			st = err_set(e, ST_FAIL, "waiting for %s: %s", what, strerror(errno));
			break;
		}
		if (w && w->tick && w->tick(w->ctx, "waiting for the AWS credential_process")) {
			cancelled = true;
			break;
		}
		if (pr <= 0)
			continue;
		char chunk[4096];
		if (iout >= 0 && fds[iout].revents) {
			ssize_t n = read(pout[0], chunk, sizeof chunk);
			if (n > 0) {
				buf_append(out, chunk, (size_t)n);
				if (out->len > AWS_PROCESS_OUT_MAX) {
					too_big = true;
					OPENSSL_cleanse(chunk, sizeof chunk);
					break;
				}
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				close_fd(&pout[0]);
			}
			OPENSSL_cleanse(chunk, sizeof chunk);
		}
		if (ierr >= 0 && fds[ierr].revents) {
			ssize_t n = read(perr[0], chunk, sizeof chunk);
			if (n > 0) {
				size_t room = errtext.len < AWS_PROCESS_ERR_KEEP
						      ? AWS_PROCESS_ERR_KEEP - errtext.len
						      : 0;
				buf_append(&errtext, chunk, (size_t)n < room ? (size_t)n : room);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				close_fd(&perr[0]);
			}
		}
	}
	if (st != ST_OK || timed_out || cancelled || too_big) {
		kill_and_reap(pid);
		pid = -1;
		if (timed_out)
			st = err_set(e, ST_UNAVAILABLE,
				     "%s did not finish within %d s and was stopped; run it in a "
				     "terminal to see why",
				     what, (timeout + 999) / 1000);
		else if (cancelled)
			st = err_set(e, ST_CANCELLED, "cancelled while waiting for %s", what);
		else if (too_big)
			st = err_set(e, ST_AUTH, "%s printed more than %d KiB; that is not "
					      "credential_process output",
				     what, AWS_PROCESS_OUT_MAX / 1024);
		goto done;
	}

	/* Both pipes are closed: wait for the exit, still within the limit. */
	int wstatus = 0;
	bool known = false;
	for (;;) {
		pid_t wr = waitpid(pid, &wstatus, WNOHANG);
		if (wr == pid) {
			known = true;
			break;
		}
		if (wr < 0 && errno != EINTR)
			break; /* ECHILD: someone else reaped it; judge by the output */
		if (now_ms() >= deadline) {
			kill_and_reap(pid);
			pid = -1;
			st = err_set(e, ST_UNAVAILABLE,
				     "%s closed its output but did not exit within %d s; it was "
				     "stopped",
				     what, (timeout + 999) / 1000);
			goto done;
		}
		if (w && w->tick && w->tick(w->ctx, "waiting for the AWS credential_process")) {
			kill_and_reap(pid);
			pid = -1;
			st = err_set(e, ST_CANCELLED, "cancelled while waiting for %s", what);
			goto done;
		}
		poll(NULL, 0, 10);
	}
	pid = -1;
	if (known && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0) {
		struct buf msg = BUF_INIT;
		buf_printf(&msg, "%s failed with exit status %d", what, WEXITSTATUS(wstatus));
		stderr_hint(&msg, &errtext);
		st = err_set(e, ST_AUTH, "%s", buf_str(&msg));
		buf_free(&msg);
	} else if (known && WIFSIGNALED(wstatus)) {
		st = err_set(e, ST_AUTH, "%s was killed by signal %d", what, WTERMSIG(wstatus));
	}
done:
	if (pid > 0)
		kill_and_reap(pid);
	close_fd(&pout[0]);
	close_fd(&pout[1]);
	close_fd(&perr[0]);
	close_fd(&perr[1]);
	close_fd(&pstat[0]);
	close_fd(&pstat[1]);
	close_fd(&devnull);
	free(argv);
	buf_free(&errtext);
	return st;
}

static long long clock_now(const struct aws_creds_options *o)
{
	return o->now ? o->now : (long long)time(NULL);
}

static enum status credential_process(const char *line, const char *where,
				      const struct aws_creds_options *o,
				      struct aws_credentials *out, struct err *e)
{
	struct strvec args = STRVEC_INIT;
	enum status st = aws_creds_split_command(line, &args, e);
	if (st != ST_OK) {
		err_prefix(e, "credential_process in %s", where);
		strvec_free(&args);
		return st;
	}
	if (!args.n) {
		strvec_free(&args);
		return err_set(e, ST_INVALID,
			       "credential_process in %s is empty; set a command or remove it",
			       where);
	}
	struct buf what = BUF_INIT;
	buf_printf(&what, "credential_process \"%s\" (%s)", args.v[0], where);
	struct buf output = BUF_INIT;
	st = run_process(&args, buf_str(&what), o, &output, e);
	if (st == ST_OK)
		st = aws_creds_parse_process_output(buf_str(&output), output.len, clock_now(o),
						    buf_str(&what), out, e);
	buf_wipe(&output);
	buf_free(&what);
	strvec_free(&args);
	return st;
}

/* ---- resolution --------------------------------------------------------- */

static bool str_has(const char *s)
{
	return s && *s;
}

/* The profile to use and why: "the profile option", "AWS_PROFILE",
 * "AWS_DEFAULT_PROFILE", or NULL for the implicit default. */
static const char *pick_profile(const struct aws_creds_options *o, const char **why)
{
	if (str_has(o->profile)) {
		*why = "the profile option";
		return o->profile;
	}
	const char *v = aws_env_get(o->env, "AWS_PROFILE");
	if (v) {
		*why = "AWS_PROFILE";
		return v;
	}
	v = aws_env_get(o->env, "AWS_DEFAULT_PROFILE");
	if (v) {
		*why = "AWS_DEFAULT_PROFILE";
		return v;
	}
	*why = NULL;
	return "default";
}

/* The config-file section of a profile: [profile x], and for default
 * either [default] or [profile default]. */
static const char *cfg_section(const struct ini *cfg, const char *profile, struct buf *name)
{
	buf_reset(name);
	buf_printf(name, "profile %s", profile);
	if (strcmp(profile, "default") == 0 && !ini_has_section(cfg, buf_str(name))) {
		buf_reset(name);
		buf_puts(name, "default");
	}
	return buf_str(name);
}

static enum status from_env(const struct aws_creds_options *o, struct aws_credentials *out,
			    bool *found, struct err *e)
{
	*found = false;
	const char *ak = aws_env_get(o->env, "AWS_ACCESS_KEY_ID");
	const char *sk = aws_env_get(o->env, "AWS_SECRET_ACCESS_KEY");
	if (!ak && !sk)
		return ST_OK;
	if (!ak || !sk)
		return err_set(e, ST_AUTH,
			       "%s is set but %s is not; set both, or unset %s to use an AWS "
			       "profile",
			       ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			       ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
			       ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
	const char *tok = aws_env_get(o->env, "AWS_SESSION_TOKEN");
	if (!tok)
		tok = aws_env_get(o->env, "AWS_SECURITY_TOKEN");
	long long expiration = 0;
	const char *exp = aws_env_get(o->env, "AWS_CREDENTIAL_EXPIRATION");
	if (exp && !aws_creds_parse_time(exp, &expiration))
		return err_set(e, ST_AUTH,
			       "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time such as "
			       "2026-08-22T10:00:00Z; fix or unset it");
	if (exp && expiration <= clock_now(o))
		return err_set(e, ST_AUTH,
			       "the AWS credentials in the environment expired at %s "
			       "(AWS_CREDENTIAL_EXPIRATION); get new ones",
			       exp);
	buf_puts(&out->access_key_id, ak);
	buf_puts(&out->secret_access_key, sk);
	if (tok)
		buf_puts(&out->session_token, tok);
	out->expiration = expiration;
	buf_puts(&out->source, "environment variables (AWS_ACCESS_KEY_ID)");
	*found = true;
	return ST_OK;
}

/* Static keys of one section; *found when both are there. */
static enum status static_keys(const struct ini *ini, const char *section, const char *path,
			       struct aws_credentials *out, bool *found, struct err *e)
{
	*found = false;
	const char *ak = ini_get(ini, section, "aws_access_key_id");
	const char *sk = ini_get(ini, section, "aws_secret_access_key");
	if (!ak && !sk)
		return ST_OK;
	if (!ak || !sk)
		return err_set(e, ST_AUTH,
			       "[%s] in %s has %s but no %s; add the missing key or remove the "
			       "other",
			       section, path, ak ? "aws_access_key_id" : "aws_secret_access_key",
			       ak ? "aws_secret_access_key" : "aws_access_key_id");
	const char *tok = ini_get(ini, section, "aws_session_token");
	if (!tok)
		tok = ini_get(ini, section, "aws_security_token");
	buf_puts(&out->access_key_id, ak);
	buf_puts(&out->secret_access_key, sk);
	if (tok)
		buf_puts(&out->session_token, tok);
	*found = true;
	return ST_OK;
}

static const char *const unsupported_keys[][2] = {
	{"role_arn", "assume-role (role_arn)"},
	{"web_identity_token_file", "web identity (web_identity_token_file)"},
	{"sso_session", "IAM Identity Center (sso_session)"},
	{"sso_start_url", "IAM Identity Center (sso_start_url)"},
	{"login_session", "aws login (login_session)"},
};

static enum status check_unsupported(const struct ini *ini, const char *section,
				     const char *path, const char *profile, struct err *e)
{
	for (size_t i = 0; i < sizeof unsupported_keys / sizeof unsupported_keys[0]; i++)
		if (ini_get(ini, section, unsupported_keys[i][0]))
			return err_set(e, ST_UNSUPPORTED,
				       "AWS profile '%s' uses %s in %s, which empdir-tui cannot do "
				       "itself; add a profile with \"credential_process = aws "
				       "configure export-credentials --profile %s --format "
				       "process\" and use that one",
				       profile, unsupported_keys[i][1], path, profile);
	return ST_OK;
}

static void describe_file(struct buf *b, const char *path, const struct ini *ini,
			  const char *section)
{
	if (!*path) {
		buf_puts(b, "(no file: HOME is not set)");
		return;
	}
	buf_puts(b, path);
	if (!ini->exists)
		buf_puts(b, " (no such file)");
	else if (!ini_has_section(ini, section))
		buf_printf(b, " (no [%s])", section);
	else
		buf_printf(b, " ([%s] has no keys)", section);
}

enum status aws_creds_resolve(const struct aws_creds_options *o, struct aws_credentials *out,
			      struct err *e)
{
	static const struct aws_creds_options defaults;
	if (!o)
		o = &defaults;
	creds_reset(out);
	bool explicit_profile = str_has(o->profile);
	enum status st;
	bool found = false;

	if (!explicit_profile) {
		st = from_env(o, out, &found, e);
		if (st != ST_OK || found)
			return st;
	}

	const char *why = NULL;
	const char *profile = pick_profile(o, &why);
	struct buf cred_path = BUF_INIT, cfg_path = BUF_INIT, sect = BUF_INIT;
	struct ini cred = {0}, cfg = {0};
	aws_creds_paths(o->env, &cred_path, &cfg_path);
	st = ini_load(buf_str(&cred_path), &cred, e);
	if (st == ST_OK)
		st = ini_load(buf_str(&cfg_path), &cfg, e);
	if (st != ST_OK)
		goto done;
	const char *csect = cfg_section(&cfg, profile, &sect);
	bool in_cred = ini_has_section(&cred, profile), in_cfg = ini_has_section(&cfg, csect);

	if (!in_cred && !in_cfg && why) {
		st = err_set(e, ST_NOT_FOUND,
			     "AWS profile '%s' (from %s) not found: no [%s] in %s and no [%s] in "
			     "%s; check the name with \"aws configure list-profiles\"",
			     profile, why, profile,
			     cred_path.len ? buf_str(&cred_path) : "~/.aws/credentials", csect,
			     cfg_path.len ? buf_str(&cfg_path) : "~/.aws/config");
		goto done;
	}
	st = check_unsupported(&cfg, csect, buf_str(&cfg_path), profile, e);
	if (st == ST_OK)
		st = check_unsupported(&cred, profile, buf_str(&cred_path), profile, e);
	if (st != ST_OK)
		goto done;

	/* a. the shared credentials file */
	st = static_keys(&cred, profile, buf_str(&cred_path), out, &found, e);
	if (st != ST_OK || found) {
		if (found)
			buf_printf(&out->source, "profile %s in %s", profile, buf_str(&cred_path));
		goto done;
	}
	/* b. credential_process in the config file */
	const char *proc = ini_get(&cfg, csect, "credential_process");
	if (proc) {
		struct buf where = BUF_INIT;
		buf_printf(&where, "[%s] in %s", csect, buf_str(&cfg_path));
		st = credential_process(proc, buf_str(&where), o, out, e);
		if (st == ST_OK)
			buf_printf(&out->source, "profile %s: credential_process in %s", profile,
				   buf_str(&cfg_path));
		buf_free(&where);
		goto done;
	}
	/* c. static keys in the config file */
	st = static_keys(&cfg, csect, buf_str(&cfg_path), out, &found, e);
	if (st != ST_OK || found) {
		if (found)
			buf_printf(&out->source, "profile %s in %s", profile, buf_str(&cfg_path));
		goto done;
	}

	struct buf msg = BUF_INIT;
	if (why)
		buf_printf(&msg,
			   "no AWS credentials for profile '%s' (from %s): add "
			   "aws_access_key_id and aws_secret_access_key, or credential_process, "
			   "to it; looked in ",
			   profile, why);
	else
		buf_puts(&msg, "no AWS credentials: set AWS_PROFILE or "
			       "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run \"aws configure\"; "
			       "looked in the environment, ");
	describe_file(&msg, buf_str(&cred_path), &cred, profile);
	buf_puts(&msg, ", ");
	describe_file(&msg, buf_str(&cfg_path), &cfg, csect);
	st = err_set(e, ST_AUTH, "%s", buf_str(&msg));
	buf_free(&msg);
done:
	if (st == ST_OK)
		buf_puts(&out->profile, profile);
	else
		creds_reset(out);
	ini_free(&cred);
	ini_free(&cfg);
	buf_free(&cred_path);
	buf_free(&cfg_path);
	buf_free(&sect);
	return st;
}

static bool valid_region(const char *r)
{
	size_t n = strlen(r);
	if (n == 0 || n > 64)
		return false;
	for (; *r; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
			return false;
	return true;
}

enum status aws_creds_region(const struct aws_creds_options *o, struct buf *region,
			     struct buf *source, struct err *e)
{
	static const struct aws_creds_options defaults;
	if (!o)
		o = &defaults;
	buf_reset(region);
	if (source)
		buf_reset(source);
	const char *v = NULL, *from = NULL;
	if (str_has(o->region)) {
		v = o->region;
		from = "the region option";
	} else if ((v = aws_env_get(o->env, "AWS_REGION")) != NULL) {
		from = "AWS_REGION";
	} else if ((v = aws_env_get(o->env, "AWS_DEFAULT_REGION")) != NULL) {
		from = "AWS_DEFAULT_REGION";
	}
	struct buf cfg_path = BUF_INIT, sect = BUF_INIT, from_buf = BUF_INIT;
	struct ini cfg = {0};
	enum status st = ST_OK;
	const char *why = NULL;
	const char *profile = pick_profile(o, &why);
	if (!v) {
		aws_creds_paths(o->env, NULL, &cfg_path);
		st = ini_load(buf_str(&cfg_path), &cfg, e);
		if (st != ST_OK)
			goto done;
		const char *csect = cfg_section(&cfg, profile, &sect);
		v = ini_get(&cfg, csect, "region");
		if (v) {
			buf_printf(&from_buf, "profile %s in %s", profile, buf_str(&cfg_path));
			from = buf_str(&from_buf);
		}
	}
	if (!v) {
		st = err_set(e, ST_NOT_FOUND,
			     "no AWS region: set AWS_REGION or the region option, or add "
			     "\"region = ...\" to [%s] in %s",
			     buf_str(&sect), cfg_path.len ? buf_str(&cfg_path) : "~/.aws/config");
		goto done;
	}
	if (!valid_region(v)) {
		st = err_set(e, ST_INVALID,
			     "the AWS region from %s is not a region name (expected e.g. "
			     "eu-west-1)",
			     from);
		goto done;
	}
	buf_puts(region, v);
	if (source)
		buf_puts(source, from);
done:
	ini_free(&cfg);
	buf_free(&cfg_path);
	buf_free(&sect);
	buf_free(&from_buf);
	return st;
}
