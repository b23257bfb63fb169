/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests for api_client/aws_creds: every step of the resolution order with
 * temporary files and a fixed environment, credential_process with small
 * scripts written here (success, failure, timeout, cancel, bad output), bad
 * files, the region order, and that no secret reaches an error message. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_client/aws_creds.h"
#include "api_client/backend.h"
#include "core/buf.h"
#include "core/err.h"
#include "tests/unit/harness.h"

static char root[] = "/tmp/empdir-aws-creds-XXXXXX";
static int home_seq;

/* ---- fixtures ----------------------------------------------------------- */

/* A fresh HOME with an empty ~/.aws. */
static char *new_home(void)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/home%d", root, ++home_seq);
	mkdir(buf_str(&b), 0700);
	struct buf aws = BUF_INIT;
	buf_printf(&aws, "%s/.aws", buf_str(&b));
	mkdir(buf_str(&aws), 0700);
	buf_free(&aws);
	return buf_steal(&b);
}

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/%s", dir, name);
	FILE *f = fopen(buf_str(&p), "wb");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(buf_str(&p), mode);
	buf_free(&p);
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
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	strvec_push(&t->s, tmp);
}

static const struct aws_env *tenv_get(struct tenv *t)
{
	free(t->v);
	t->v = xcalloc(t->s.n + 1, sizeof *t->v);
	for (size_t i = 0; i < t->s.n; i++)
		t->v[i] = t->s.v[i];
	t->env.vars = t->v;
	return &t->env;
}

static void tenv_free(struct tenv *t)
{
	strvec_free(&t->s);
	free(t->v);
	t->v = NULL;
}

/* A HOME-based environment. */
static void tenv_home(struct tenv *t, const char *home)
{
	tenv_add(t, "HOME=%s", home);
	tenv_add(t, "PATH=/usr/bin:/bin");
}

struct resolved {
	enum status st;
	struct aws_credentials c;
	struct err e;
};

static void resolve(struct resolved *r, struct tenv *t, const char *profile)
{
	struct aws_creds_options o = {.profile = profile, .env = tenv_get(t)};
	struct aws_credentials init = AWS_CREDENTIALS_INIT;
	r->c = init;
	memset(&r->e, 0, sizeof r->e);
	r->st = aws_creds_resolve(&o, &r->c, &r->e);
}

/* No message may carry anything that looks like a secret of these tests. */
static bool clean_msg(const struct err *e)
{
	return !strstr(e->msg, "s3cr3t") && !strstr(e->msg, "t0k3n") && !strstr(e->msg, "AKID");
}

/* ---- environment -------------------------------------------------------- */

TEST(env_keys_beat_aws_profile)
{
	char *home = new_home();
	write_file(home, ".aws/credentials",
		   "[dev]\naws_access_key_id = AKIDfile\naws_secret_access_key = s3cr3tfile\n", 0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	tenv_add(&t, "AWS_PROFILE=dev");
	tenv_add(&t, "AWS_ACCESS_KEY_ID=AKIDenv");
	tenv_add(&t, "AWS_SECRET_ACCESS_KEY=s3cr3tenv");
	tenv_add(&t, "AWS_SESSION_TOKEN=t0k3nenv");
	struct resolved r;
	resolve(&r, &t, NULL);
	tenv_free(&t);
	free(home);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "AKIDenv");
	CHECK_STR(buf_str(&r.c.secret_access_key), "s3cr3tenv");
	CHECK_STR(buf_str(&r.c.session_token), "t0k3nenv");
	CHECK(strstr(buf_str(&r.c.source), "environment") != NULL);
	CHECK_INT(r.c.expiration, 0);
	aws_credentials_free(&r.c);
}

TEST(env_legacy_token_and_expiration)
{
	struct tenv t = {0};
	tenv_add(&t, "AWS_ACCESS_KEY_ID=AKIDenv");
	tenv_add(&t, "AWS_SECRET_ACCESS_KEY=s3cr3tenv");
	tenv_add(&t, "AWS_SECURITY_TOKEN=t0k3nlegacy");
	tenv_add(&t, "AWS_CREDENTIAL_EXPIRATION=2099-01-01T00:00:00Z");
	struct resolved r;
	resolve(&r, &t, NULL);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.session_token), "t0k3nlegacy");
	CHECK_INT(r.c.expiration, 4070908800LL);
	aws_credentials_free(&r.c);

	tenv_add(&t, "AWS_SESSION_TOKEN=t0k3nnew"); /* the current name wins */
	resolve(&r, &t, NULL);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.session_token), "t0k3nnew");
	aws_credentials_free(&r.c);
	tenv_free(&t);

	struct tenv t2 = {0};
	tenv_add(&t2, "AWS_ACCESS_KEY_ID=AKIDenv");
	tenv_add(&t2, "AWS_SECRET_ACCESS_KEY=s3cr3tenv");
	tenv_add(&t2, "AWS_CREDENTIAL_EXPIRATION=2001-01-01T00:00:00Z");
	resolve(&r, &t2, NULL);
	tenv_free(&t2);
	CHECK_INT(r.st, ST_AUTH);
	CHECK(strstr(r.e.msg, "expired") != NULL);
	CHECK(clean_msg(&r.e));
	CHECK_INT(r.c.access_key_id.len, 0);
}

TEST(env_partial_keys_are_an_error)
{
	struct tenv t = {0};
	tenv_add(&t, "AWS_ACCESS_KEY_ID=AKIDenv");
	tenv_add(&t, "AWS_SECRET_ACCESS_KEY="); /* empty counts as unset */
	struct resolved r;
	resolve(&r, &t, NULL);
	tenv_free(&t);
	CHECK_INT(r.st, ST_AUTH);
	CHECK(strstr(r.e.msg, "AWS_SECRET_ACCESS_KEY") != NULL);
	CHECK(clean_msg(&r.e));
}

TEST(explicit_profile_skips_env_keys)
{
	char *home = new_home();
	write_file(home, ".aws/credentials",
		   "[dev]\naws_access_key_id = AKIDfile\naws_secret_access_key = s3cr3tfile\n", 0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	tenv_add(&t, "AWS_ACCESS_KEY_ID=AKIDenv");
	tenv_add(&t, "AWS_SECRET_ACCESS_KEY=s3cr3tenv");
	struct resolved r;
	resolve(&r, &t, "dev");
	tenv_free(&t);
	free(home);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "AKIDfile");
	CHECK_STR(buf_str(&r.c.profile), "dev");
	CHECK(strstr(buf_str(&r.c.source), "profile dev in ") != NULL);
	CHECK(strstr(buf_str(&r.c.source), ".aws/credentials") != NULL);
	aws_credentials_free(&r.c);
}

/* ---- the files ---------------------------------------------------------- */

TEST(aws_profile_selects_credentials_section)
{
	char *home = new_home();
	write_file(home, ".aws/credentials",
		   "[default]\naws_access_key_id = AKIDdefault\naws_secret_access_key = s3cr3td\n"
		   "\n[dev]\naws_access_key_id = AKIDdev\naws_secret_access_key = s3cr3tdev\n"
		   "aws_session_token = t0k3ndev\n",
		   0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	struct resolved r;
	resolve(&r, &t, NULL);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "AKIDdefault");
	CHECK_STR(buf_str(&r.c.profile), "default");
	CHECK_INT(r.c.session_token.len, 0);
	aws_credentials_free(&r.c);

	tenv_add(&t, "AWS_DEFAULT_PROFILE=dev");
	resolve(&r, &t, NULL);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "AKIDdev");
	CHECK_STR(buf_str(&r.c.session_token), "t0k3ndev");
	aws_credentials_free(&r.c);

	/* AWS_PROFILE wins over the legacy AWS_DEFAULT_PROFILE. */
	tenv_add(&t, "AWS_PROFILE=default");
	resolve(&r, &t, NULL);
	tenv_free(&t);
	free(home);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "AKIDdefault");
	aws_credentials_free(&r.c);
}

TEST(config_file_needs_profile_prefix)
{
	char *home = new_home();
	write_file(home, ".aws/config",
		   "[default]\naws_access_key_id = AKIDcfgdefault\naws_secret_access_key = s3cr3tc\n"
		   "[profile dev]\naws_access_key_id = AKIDcfgdev\naws_secret_access_key = s3cr3tc\n"
		   "[bare]\naws_access_key_id = AKIDbare\naws_secret_access_key = s3cr3tbare\n",
		   0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	struct resolved r;
	resolve(&r, &t, NULL);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "AKIDcfgdefault");
	CHECK(strstr(buf_str(&r.c.source), ".aws/config") != NULL);
	aws_credentials_free(&r.c);

	resolve(&r, &t, "dev");
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "AKIDcfgdev");
	aws_credentials_free(&r.c);

	/* [bare] in the config file is not a profile. */
	resolve(&r, &t, "bare");
	tenv_free(&t);
	free(home);
	CHECK_INT(r.st, ST_NOT_FOUND);
	CHECK(strstr(r.e.msg, "[profile bare]") != NULL);
	CHECK(clean_msg(&r.e));
}

TEST(credentials_file_beats_process_and_config)
{
	char *home = new_home();
	write_file(home, ".aws/credentials",
		   "[dev]\naws_access_key_id = AKIDcred\naws_secret_access_key = s3cr3tcred\n", 0600);
	write_file(home, ".aws/config",
		   "[profile dev]\ncredential_process = /nonexistent/helper\n"
		   "aws_access_key_id = AKIDcfg\naws_secret_access_key = s3cr3tcfg\n",
		   0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	tenv_add(&t, "AWS_PROFILE=dev");
	struct resolved r;
	resolve(&r, &t, NULL);
	tenv_free(&t);
	free(home);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "AKIDcred");
	aws_credentials_free(&r.c);
}

TEST(file_overrides_and_tilde)
{
	char *home = new_home();
	write_file(home, "creds.ini",
		   "[default]\naws_access_key_id = AKIDover\naws_secret_access_key = s3cr3to\n", 0600);
	write_file(home, "conf.ini", "[default]\nregion = ap-south-1\n", 0600);
	/* The default locations hold something else, which must not be read. */
	write_file(home, ".aws/credentials",
		   "[default]\naws_access_key_id = AKIDhome\naws_secret_access_key = s3cr3th\n", 0600);
	write_file(home, ".aws/config", "[default]\nregion = eu-west-3\n", 0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	tenv_add(&t, "AWS_SHARED_CREDENTIALS_FILE=~/creds.ini");
	tenv_add(&t, "AWS_CONFIG_FILE=%s/conf.ini", home);
	struct resolved r;
	resolve(&r, &t, NULL);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "AKIDover");
	aws_credentials_free(&r.c);

	struct aws_creds_options o = {.env = tenv_get(&t)};
	struct buf region = BUF_INIT, src = BUF_INIT, cp = BUF_INIT, cf = BUF_INIT;
	struct err e = {0};
	enum status st = aws_creds_region(&o, &region, &src, &e);
	aws_creds_paths(o.env, &cp, &cf);
	bool paths_ok = strstr(buf_str(&cp), "/creds.ini") && buf_str(&cp)[0] == '/' &&
			strstr(buf_str(&cf), "/conf.ini");
	bool region_ok = st == ST_OK && strcmp(buf_str(&region), "ap-south-1") == 0;
	buf_free(&region);
	buf_free(&src);
	buf_free(&cp);
	buf_free(&cf);
	tenv_free(&t);
	free(home);
	CHECK(paths_ok);
	CHECK(region_ok);
}

TEST(profile_not_found)
{
	char *home = new_home();
	write_file(home, ".aws/credentials",
		   "[default]\naws_access_key_id = AKIDd\naws_secret_access_key = s3cr3td\n", 0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	tenv_add(&t, "AWS_PROFILE=nope");
	struct resolved r;
	resolve(&r, &t, NULL);
	CHECK_INT(r.st, ST_NOT_FOUND);
	CHECK(strstr(r.e.msg, "'nope'") != NULL);
	CHECK(strstr(r.e.msg, "AWS_PROFILE") != NULL);
	CHECK(strstr(r.e.msg, ".aws/credentials") != NULL);
	CHECK(clean_msg(&r.e));

	resolve(&r, &t, "also-nope");
	tenv_free(&t);
	free(home);
	CHECK_INT(r.st, ST_NOT_FOUND);
	CHECK(strstr(r.e.msg, "'also-nope'") != NULL);
	CHECK(strstr(r.e.msg, "profile option") != NULL);
}

TEST(no_credentials_anywhere)
{
	char *home = new_home();
	write_file(home, ".aws/config", "[default]\nregion = eu-west-1\n", 0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	struct resolved r;
	resolve(&r, &t, NULL);
	tenv_free(&t);
	CHECK_INT(r.st, ST_AUTH);
	CHECK(strncmp(r.e.msg, "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID", 56) == 0);
	CHECK(strstr(r.e.msg, "/.aws/credentials (no such file)") != NULL);
	CHECK(strstr(r.e.msg, "/.aws/config ([default] has no keys)") != NULL);
	CHECK(strstr(r.e.msg, home) != NULL);
	free(home);

	/* No HOME and no overrides: said so. */
	struct tenv t2 = {0};
	tenv_add(&t2, "PATH=/usr/bin:/bin");
	resolve(&r, &t2, NULL);
	tenv_free(&t2);
	CHECK_INT(r.st, ST_AUTH);
	CHECK(strstr(r.e.msg, "HOME is not set") != NULL);
}

TEST(partial_keys_in_file)
{
	char *home = new_home();
	write_file(home, ".aws/credentials", "[default]\naws_access_key_id = AKIDonly\n", 0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	struct resolved r;
	resolve(&r, &t, NULL);
	tenv_free(&t);
	free(home);
	CHECK_INT(r.st, ST_AUTH);
	CHECK(strstr(r.e.msg, "[default]") != NULL);
	CHECK(strstr(r.e.msg, "no aws_secret_access_key") != NULL);
	CHECK(clean_msg(&r.e));
}

TEST(ini_dialect)
{
	char *home = new_home();
	write_file(home, ".aws/credentials",
		   "\xef\xbb\xbf# a comment\r\n"
		   "; another\r\n"
		   "[profile  x]\r\n" /* a bare name in this file: profile "profile x" */
		   "aws_access_key_id = AKIDwrong\r\n"
		   "[  dev  ]   # the dev account\r\n"
		   "AWS_Access_Key_ID = AKIDdev   # inline comment\r\n"
		   "aws_secret_access_key: s3cr3tdev ; also a comment\r\n"
		   "s3 =\r\n"
		   "    max_concurrent_requests = 20\r\n"
		   "    aws_access_key_id = AKIDnested\r\n"
		   "\r\n",
		   0600);
	write_file(home, ".aws/config",
		   "[profile   dev]\nregion=us-west-2\n[default]\nregion = eu-west-1\n", 0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	tenv_add(&t, "AWS_PROFILE=dev");
	struct resolved r;
	resolve(&r, &t, NULL);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "AKIDdev");
	CHECK_STR(buf_str(&r.c.secret_access_key), "s3cr3tdev");
	aws_credentials_free(&r.c);

	struct aws_creds_options o = {.env = tenv_get(&t)};
	struct buf region = BUF_INIT, src = BUF_INIT;
	struct err e = {0};
	enum status st = aws_creds_region(&o, &region, &src, &e);
	bool ok = st == ST_OK && strcmp(buf_str(&region), "us-west-2") == 0 &&
		  strstr(buf_str(&src), "profile dev in ") != NULL;
	buf_free(&region);
	buf_free(&src);
	tenv_free(&t);
	free(home);
	CHECK(ok);
}

TEST(bad_files_are_reported_by_line)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"[default]\naws_access_key_id = AKIDx\ns3cr3tgarbage-line\n", "line 3: expected"},
		{"aws_secret_access_key = s3cr3ttop\n[default]\n", "line 1: a setting before any"},
		{"[default\naws_access_key_id = AKIDx\n", "line 1: a section header must end"},
		{"[default] s3cr3ttrailing\n", "line 1: unexpected text after"},
		{"[default]\n = s3cr3tnoname\n", "line 2: a setting without a name"},
		{"[ ]\n", "line 1: empty section name"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *home = new_home();
		write_file(home, ".aws/credentials", cases[i].text, 0600);
		struct tenv t = {0};
		tenv_home(&t, home);
		struct resolved r;
		resolve(&r, &t, NULL);
		tenv_free(&t);
		free(home);
		if (r.st != ST_INVALID || !strstr(r.e.msg, cases[i].want) || !clean_msg(&r.e) ||
		    !strstr(r.e.msg, ".aws/credentials")) {
			fprintf(stderr, "  case %zu: status %d, \"%s\"\n", i, (int)r.st, r.e.msg);
			const bool reported_by_line = false;
			CHECK(reported_by_line);
		}
	}

	/* A directory where the file should be. */
	char *home = new_home();
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/.aws/credentials", home);
	mkdir(buf_str(&p), 0700);
	buf_free(&p);
	struct tenv t = {0};
	tenv_home(&t, home);
	struct resolved r;
	resolve(&r, &t, NULL);
	tenv_free(&t);
	CHECK_INT(r.st, ST_FAIL);
	CHECK(strstr(r.e.msg, "not a regular file") != NULL);
	free(home);

	/* An unreadable file (root reads everything: skip the check then). */
	if (geteuid() != 0) {
		home = new_home();
		write_file(home, ".aws/credentials", "[default]\n", 0000);
		struct tenv t2 = {0};
		tenv_home(&t2, home);
		resolve(&r, &t2, NULL);
		tenv_free(&t2);
		free(home);
		CHECK_INT(r.st, ST_FAIL);
		CHECK(strstr(r.e.msg, "cannot read") != NULL);
		CHECK(strstr(r.e.msg, "Permission denied") != NULL);
	}
}

TEST(unsupported_profiles_say_what_to_do)
{
	static const char *configs[] = {
		"[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base\n",
		"[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n",
		"[profile dev]\nweb_identity_token_file = /var/run/token\n",
	};
	for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
		char *home = new_home();
		write_file(home, ".aws/config", configs[i], 0600);
		/* Keys in the credentials file do not hide the role: botocore would
		 * assume the role first. */
		write_file(home, ".aws/credentials",
			   "[dev]\naws_access_key_id = AKIDx\naws_secret_access_key = s3cr3tx\n", 0600);
		struct tenv t = {0};
		tenv_home(&t, home);
		struct resolved r;
		resolve(&r, &t, "dev");
		tenv_free(&t);
		free(home);
		CHECK_INT(r.st, ST_UNSUPPORTED);
		CHECK(strstr(r.e.msg, "credential_process = aws configure export-credentials "
				      "--profile dev --format process") != NULL);
		CHECK(clean_msg(&r.e));
	}
}

/* ---- credential_process ------------------------------------------------- */

static char *write_script(const char *home, const char *name, const char *body)
{
	struct buf text = BUF_INIT, path = BUF_INIT;
	buf_printf(&text, "#!/bin/sh\n%s\n", body);
	write_file(home, name, buf_str(&text), 0700);
	buf_printf(&path, "%s/%s", home, name);
	buf_free(&text);
	return buf_steal(&path);
}

static void process_config(const char *home, const char *line)
{
	struct buf cfg = BUF_INIT;
	buf_printf(&cfg, "[profile dev]\ncredential_process = %s\n"
			 "aws_access_key_id = AKIDcfg\naws_secret_access_key = s3cr3tcfg\n",
		   line);
	write_file(home, ".aws/config", buf_str(&cfg), 0600);
	buf_free(&cfg);
}

TEST(credential_process_runs_with_argv_and_env)
{
	char *home = new_home();
	char *script = write_script(
		home, "helper.sh",
		"printf '{\"Version\": 1, \"AccessKeyId\": \"%s|%s|%s\", \"SecretAccessKey\": "
		"\"s3cr3tproc\", \"SessionToken\": \"t0k3n-%s\", \"Expiration\": "
		"\"2099-01-01T00:00:00.000Z\"}' \"$1\" \"$2\" \"$#\" \"$MARK\"\n"
		"echo 'some diagnostics' >&2");
	struct buf line = BUF_INIT;
	buf_printf(&line, "%s 'arg one' two\\ words", script);
	process_config(home, buf_str(&line));
	buf_free(&line);
	struct tenv t = {0};
	tenv_home(&t, home);
	tenv_add(&t, "MARK=from-env");
	struct resolved r;
	resolve(&r, &t, "dev");
	tenv_free(&t);
	free(script);
	free(home);
	if (r.st != ST_OK)
		fprintf(stderr, "  %s\n", r.e.msg);
	CHECK_INT(r.st, ST_OK);
	CHECK_STR(buf_str(&r.c.access_key_id), "arg one|two words|2");
	CHECK_STR(buf_str(&r.c.secret_access_key), "s3cr3tproc");
	CHECK_STR(buf_str(&r.c.session_token), "t0k3n-from-env");
	CHECK_INT(r.c.expiration, 4070908800LL);
	CHECK(strstr(buf_str(&r.c.source), "credential_process") != NULL);
	CHECK(aws_credentials_need_refresh(&r.c, 4070908800LL - 100, 300));
	CHECK(!aws_credentials_need_refresh(&r.c, 4070908800LL - 1000, 300));
	aws_credentials_free(&r.c);
}

TEST(credential_process_failure_shows_stderr)
{
	char *home = new_home();
	char *script = write_script(home, "fail.sh",
				    "echo '{\"SecretAccessKey\": \"s3cr3tpartial\"'\n"
				    "printf '\\n\\033[31mtoken expired; run aws sso login\\n' >&2\n"
				    "exit 3");
	process_config(home, script);
	struct tenv t = {0};
	tenv_home(&t, home);
	struct resolved r;
	resolve(&r, &t, "dev");
	tenv_free(&t);
	free(script);
	free(home);
	CHECK_INT(r.st, ST_AUTH);
	CHECK(strstr(r.e.msg, "exit status 3") != NULL);
	CHECK(strstr(r.e.msg, "?[31mtoken expired; run aws sso login") != NULL);
	CHECK(strstr(r.e.msg, "fail.sh") != NULL);
	CHECK(strstr(r.e.msg, "[profile dev]") != NULL);
	CHECK(clean_msg(&r.e));
	CHECK_INT(r.c.access_key_id.len, 0);
}

TEST(credential_process_bad_output)
{
	static const char *outputs[] = {
		"echo not json s3cr3tx",
		"echo '{\"Version\": 2, \"AccessKeyId\": \"AKIDx\", \"SecretAccessKey\": \"s3cr3tx\"}'",
		"echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDx\"}'",
		"echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDx\", \"SecretAccessKey\": \"s3cr3tx\", "
		"\"Expiration\": \"2001-01-01T00:00:00Z\"}'",
		"echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDx\", \"SecretAccessKey\": \"s3cr3tx\", "
		"\"Expiration\": \"tomorrow\"}'",
		"echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDx\", \"SecretAccessKey\": \"s3cr3tx\"'",
		"head -c 400000 /dev/zero",
		"exit 0",
	};
	for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
		char *home = new_home();
		char *script = write_script(home, "bad.sh", outputs[i]);
		process_config(home, script);
		struct tenv t = {0};
		tenv_home(&t, home);
		struct resolved r;
		resolve(&r, &t, "dev");
		tenv_free(&t);
		free(script);
		free(home);
		if (r.st != ST_AUTH || !clean_msg(&r.e) || !strstr(r.e.msg, "bad.sh") ||
		    r.c.access_key_id.len) {
			fprintf(stderr, "  output %zu: status %d, \"%s\"\n", i, (int)r.st, r.e.msg);
			aws_credentials_free(&r.c);
			const bool refused = false;
			CHECK(refused);
		}
	}
}

TEST(credential_process_not_found_and_bad_line)
{
	char *home = new_home();
	process_config(home, "/nonexistent/helper --flag");
	struct tenv t = {0};
	tenv_home(&t, home);
	struct resolved r;
	resolve(&r, &t, "dev");
	CHECK_INT(r.st, ST_AUTH);
	CHECK(strstr(r.e.msg, "/nonexistent/helper") != NULL);
	CHECK(strstr(r.e.msg, "No such file") != NULL);

	process_config(home, "helper 'unterminated");
	resolve(&r, &t, "dev");
	CHECK_INT(r.st, ST_INVALID);
	CHECK(strstr(r.e.msg, "unterminated") != NULL);
	CHECK(strstr(r.e.msg, "credential_process in [profile dev]") != NULL);

	process_config(home, "''");
	resolve(&r, &t, "dev");
	CHECK_INT(r.st, ST_AUTH); /* an empty program name cannot be run */

	tenv_free(&t);
	free(home);
}

static bool process_gone(long pid)
{
	char path[64], text[256];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	const char *paren = strrchr(text, ')');
	return paren && paren[1] == ' ' && paren[2] == 'Z'; /* a zombie is gone enough */
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST(credential_process_timeout_kills_the_group)
{
	char *home = new_home();
	struct buf body = BUF_INIT;
	buf_printf(&body, "sleep 30 &\necho $! > %s/grandchild.pid\nwait", home);
	char *script = write_script(home, "slow.sh", buf_str(&body));
	buf_free(&body);
	process_config(home, script);
	struct tenv t = {0};
	tenv_home(&t, home);
	struct aws_creds_options o = {.profile = "dev", .env = tenv_get(&t),
				      .process_timeout_ms = 300};
	struct aws_credentials c = AWS_CREDENTIALS_INIT;
	struct err e = {0};
	long long t0 = mono_ms();
	enum status st = aws_creds_resolve(&o, &c, &e);
	long long elapsed = mono_ms() - t0;
	tenv_free(&t);
	free(script);

	long gpid = 0;
	struct buf pidfile = BUF_INIT;
	buf_printf(&pidfile, "%s/grandchild.pid", home);
	FILE *f = fopen(buf_str(&pidfile), "r");
	if (f) {
		if (fscanf(f, "%ld", &gpid) != 1)
			gpid = 0;
		fclose(f);
	}
	buf_free(&pidfile);
	free(home);
	bool gone = false;
	for (int i = 0; i < 50 && gpid > 0 && !(gone = process_gone(gpid)); i++)
		usleep(20000);

	CHECK_INT(st, ST_UNAVAILABLE);
	CHECK(strstr(e.msg, "did not finish within 1 s") != NULL);
	CHECK(elapsed < 3000);
	CHECK(gpid > 0);
	CHECK(gone);
}

struct cancel_ctx {
	int ticks;
};

static bool cancel_tick(void *ctx, const char *what)
{
	struct cancel_ctx *c = ctx;
	(void)what;
	return ++c->ticks >= 3;
}

TEST(credential_process_cancel)
{
	char *home = new_home();
	char *script = write_script(home, "slow.sh", "exec sleep 30");
	process_config(home, script);
	struct tenv t = {0};
	tenv_home(&t, home);
	struct cancel_ctx cc = {0};
	struct backend_waiter w = {-1, cancel_tick, NULL, &cc};
	struct aws_creds_options o = {.profile = "dev", .env = tenv_get(&t), .waiter = &w};
	struct aws_credentials c = AWS_CREDENTIALS_INIT;
	struct err e = {0};
	long long t0 = mono_ms();
	enum status st = aws_creds_resolve(&o, &c, &e);
	long long elapsed = mono_ms() - t0;
	tenv_free(&t);
	free(script);
	free(home);
	CHECK_INT(st, ST_CANCELLED);
	CHECK(cc.ticks == 3);
	CHECK(elapsed < 3000);
}

/* ---- region ------------------------------------------------------------- */

static enum status region_of(struct tenv *t, const char *opt_region, const char *profile,
			     struct buf *region, struct buf *src, struct err *e)
{
	struct aws_creds_options o = {.region = opt_region, .profile = profile, .env = tenv_get(t)};
	return aws_creds_region(&o, region, src, e);
}

TEST(region_order)
{
	char *home = new_home();
	write_file(home, ".aws/config",
		   "[default]\nregion = eu-west-1\n[profile dev]\nregion = eu-central-1\n", 0600);
	/* region is not read from the credentials file */
	write_file(home, ".aws/credentials", "[other]\nregion = sa-east-1\n", 0600);
	struct tenv t = {0};
	tenv_home(&t, home);
	struct buf region = BUF_INIT, src = BUF_INIT;
	struct err e = {0};

	CHECK_INT(region_of(&t, NULL, NULL, &region, &src, &e), ST_OK);
	CHECK_STR(buf_str(&region), "eu-west-1");
	CHECK(strncmp(buf_str(&src), "profile default in ", 19) == 0);
	CHECK_INT(region_of(&t, NULL, "dev", &region, &src, &e), ST_OK);
	CHECK_STR(buf_str(&region), "eu-central-1");
	CHECK_INT(region_of(&t, NULL, "other", &region, &src, &e), ST_NOT_FOUND);
	CHECK(strstr(e.msg, "AWS_REGION") != NULL);
	CHECK(strstr(e.msg, "[profile other]") != NULL);

	tenv_add(&t, "AWS_DEFAULT_REGION=us-west-1");
	CHECK_INT(region_of(&t, NULL, "dev", &region, &src, &e), ST_OK);
	CHECK_STR(buf_str(&region), "us-west-1");
	CHECK_STR(buf_str(&src), "AWS_DEFAULT_REGION");

	tenv_add(&t, "AWS_REGION=us-east-2");
	CHECK_INT(region_of(&t, NULL, "dev", &region, &src, &e), ST_OK);
	CHECK_STR(buf_str(&region), "us-east-2");
	CHECK_STR(buf_str(&src), "AWS_REGION");

	CHECK_INT(region_of(&t, "ca-central-1", "dev", &region, &src, &e), ST_OK);
	CHECK_STR(buf_str(&region), "ca-central-1");
	CHECK_STR(buf_str(&src), "the region option");

	CHECK_INT(region_of(&t, "eu west", NULL, &region, &src, &e), ST_INVALID);
	CHECK(strstr(e.msg, "the region option") != NULL);
	CHECK_INT(region.len, 0);

	tenv_free(&t);
	buf_free(&region);
	buf_free(&src);
	free(home);
}

/* ---- building blocks ---------------------------------------------------- */

static bool split_is(const char *line, const char *const *want, size_t n)
{
	struct strvec v = STRVEC_INIT;
	struct err e = {0};
	bool ok = aws_creds_split_command(line, &v, &e) == ST_OK && v.n == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = strcmp(v.v[i], want[i]) == 0;
	if (!ok) {
		fprintf(stderr, "  split(%s) gave %zu words:", line, v.n);
		for (size_t i = 0; i < v.n; i++)
			fprintf(stderr, " [%s]", v.v[i]);
		fprintf(stderr, " %s\n", e.msg);
	}
	strvec_free(&v);
	return ok;
}

TEST(split_command_like_shlex)
{
	const char *w1[] = {"aws", "configure", "export-credentials", "--profile", "x"};
	CHECK(split_is("  aws configure\texport-credentials --profile x  ", w1, 5));
	const char *w2[] = {"/opt/my tool/bin", "a b", "c\"d", "e\\f"};
	CHECK(split_is("'/opt/my tool/bin' \"a b\" \"c\\\"d\" 'e\\f'", w2, 4));
	const char *w3[] = {"a b", "", "x$HOME", "\\$y", "~/z"};
	CHECK(split_is("a\\ b '' x$HOME \"\\$y\" ~/z", w3, 5));
	const char *w4[] = {"ab'c'd"};
	CHECK(split_is("a\"b'c'\"d", w4, 1));
	CHECK(split_is("", NULL, 0));
	struct strvec v = STRVEC_INIT;
	struct err e = {0};
	CHECK_INT(aws_creds_split_command("a 'b", &v, &e), ST_INVALID);
	CHECK_INT(aws_creds_split_command("a \"b", &v, &e), ST_INVALID);
	CHECK_INT(aws_creds_split_command("a b\\", &v, &e), ST_INVALID);
	CHECK_INT(v.n, 0);
	strvec_free(&v);
}

TEST(parse_time_forms)
{
	long long t = 0;
	CHECK(aws_creds_parse_time("2015-08-30T12:36:00Z", &t));
	CHECK_INT(t, 1440938160LL);
	CHECK(aws_creds_parse_time("2015-08-30T12:36:00.123456Z", &t));
	CHECK_INT(t, 1440938160LL);
	CHECK(aws_creds_parse_time("2015-08-30T14:36:00+02:00", &t));
	CHECK_INT(t, 1440938160LL);
	CHECK(aws_creds_parse_time("2015-08-30T07:36:00-0500", &t));
	CHECK_INT(t, 1440938160LL);
	CHECK(aws_creds_parse_time("2015-08-30 12:36:00z", &t));
	CHECK_INT(t, 1440938160LL);
	CHECK(!aws_creds_parse_time("2015-08-30T12:36:00", &t));
	CHECK(!aws_creds_parse_time("2015-13-30T12:36:00Z", &t));
	CHECK(!aws_creds_parse_time("2015-08-30T12:36:00Zjunk", &t));
	CHECK(!aws_creds_parse_time("tomorrow", &t));
	CHECK(!aws_creds_parse_time(NULL, &t));
}

TEST(parse_process_output_directly)
{
	struct aws_credentials c = AWS_CREDENTIALS_INIT;
	struct err e = {0};
	const char *ok = "{\"Version\":1,\"AccessKeyId\":\"AKIDj\",\"SecretAccessKey\":\"s3cr3tj\","
			 "\"SessionToken\":null}";
	CHECK_INT(aws_creds_parse_process_output(ok, strlen(ok), 1000, "helper", &c, &e), ST_OK);
	CHECK_STR(buf_str(&c.access_key_id), "AKIDj");
	CHECK_INT(c.session_token.len, 0);
	CHECK_INT(c.expiration, 0);
	CHECK(!aws_credentials_need_refresh(&c, 4000000000LL, 300));
	const char *bad = "{\"Version\":1,\"AccessKeyId\":\"AKIDj\",\"SecretAccessKey\":\"s3cr3tj\","
			  "\"SessionToken\":42}";
	CHECK_INT(aws_creds_parse_process_output(bad, strlen(bad), 1000, "helper", &c, &e), ST_AUTH);
	CHECK(clean_msg(&e));
	/* A failure leaves earlier credentials alone. */
	CHECK_STR(buf_str(&c.access_key_id), "AKIDj");
	aws_credentials_free(&c);
	CHECK_INT(c.access_key_id.len, 0);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

int main(void)
{
	harness_init();
	if (!mkdtemp(root)) {
		fprintf(stderr, "test_aws_creds: cannot create a temporary directory: %s\n",
			strerror(errno));
		return 1;
	}
	RUN(env_keys_beat_aws_profile);
	RUN(env_legacy_token_and_expiration);
	RUN(env_partial_keys_are_an_error);
	RUN(explicit_profile_skips_env_keys);
	RUN(aws_profile_selects_credentials_section);
	RUN(config_file_needs_profile_prefix);
	RUN(credentials_file_beats_process_and_config);
	RUN(file_overrides_and_tilde);
	RUN(profile_not_found);
	RUN(no_credentials_anywhere);
	RUN(partial_keys_in_file);
	RUN(ini_dialect);
	RUN(bad_files_are_reported_by_line);
	RUN(unsupported_profiles_say_what_to_do);
	RUN(credential_process_runs_with_argv_and_env);
	RUN(credential_process_failure_shows_stderr);
	RUN(credential_process_bad_output);
	RUN(credential_process_not_found_and_bad_line);
	RUN(credential_process_timeout_kills_the_group);
	RUN(credential_process_cancel);
	RUN(region_order);
	RUN(split_command_like_shlex);
	RUN(parse_time_forms);
	RUN(parse_process_output_directly);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return harness_done();
}
