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

#include <locale.h>
#include <stdio.h>
#include <string.h>

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
