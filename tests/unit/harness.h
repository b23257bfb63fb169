/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A minimal unit-test harness: each tests/unit/test_*.c is its own program.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR(a, "b"); }
 *   int main(void) { RUN(name); return harness_done(); }
 *
 * A failed CHECK prints file:line and the expression and ends that test.
 * harness_done() prints "N passed, N failed" (the line tests/run adds up)
 * and returns the exit status. */
#ifndef EMPDIR_HARNESS_H
#define EMPDIR_HARNESS_H

#include <ftw.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int harness_passed, harness_failed, harness_current_failed;
static const char *harness_current;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "  %s:%d: %s: CHECK(%s) failed\n", __FILE__,  \
				__LINE__, harness_current, #cond);                    \
			harness_current_failed = 1;                                   \
			return;                                                       \
		}                                                                     \
	} while (0)

#define CHECK_STR(got, want)                                                          \
	do {                                                                          \
		const char *g_ = (got), *w_ = (want);                                 \
		if (!g_ || strcmp(g_, w_) != 0) {                                     \
			fprintf(stderr, "  %s:%d: %s: %s is \"%s\", want \"%s\"\n",   \
				__FILE__, __LINE__, harness_current, #got,            \
				g_ ? g_ : "(null)", w_);                              \
			harness_current_failed = 1;                                   \
			return;                                                       \
		}                                                                     \
	} while (0)

#define CHECK_INT(got, want)                                                          \
	do {                                                                          \
		long long g_ = (long long)(got), w_ = (long long)(want);              \
		if (g_ != w_) {                                                       \
			fprintf(stderr, "  %s:%d: %s: %s is %lld, want %lld\n",       \
				__FILE__, __LINE__, harness_current, #got, g_, w_);   \
			harness_current_failed = 1;                                   \
			return;                                                       \
		}                                                                     \
	} while (0)

#define RUN(name)                                                                     \
	do {                                                                          \
		harness_current = #name;                                              \
		harness_current_failed = 0;                                           \
		name();                                                               \
		if (harness_current_failed) {                                         \
			harness_failed++;                                             \
			printf("FAIL %s\n", #name);                                   \
		} else {                                                              \
			harness_passed++;                                             \
			printf("ok   %s\n", #name);                                   \
		}                                                                     \
		fflush(stdout);                                                       \
	} while (0)

static inline int harness_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove a directory tree, no shell involved; 0 on success. */
static inline int harness_rmtree(const char *path)
{
	return nftw(path, harness_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Run argv (argv[0] a path), no shell; its stdout and stderr go to out
 * (NUL-terminated, cut at outsz) or are dropped when out is NULL. Returns
 * the exit status, or -1 when it could not run. */
static inline int harness_run(const char *const argv[], char *out, size_t outsz)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	size_t n = 0;
	char sink[512];
	ssize_t r;
	while ((r = read(fds[0], out && n + 1 < outsz ? out + n : sink,
			 out && n + 1 < outsz ? outsz - 1 - n : sizeof sink)) > 0)
		if (out && n + 1 < outsz)
			n += (size_t)r;
	close(fds[0]);
	if (out && outsz)
		out[n] = '\0';
	int status;
	while (waitpid(pid, &status, 0) < 0)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline void harness_init(void)
{
	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "");
}

static inline int harness_done(void)
{
	printf("%d passed, %d failed\n", harness_passed, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif
