/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The C tests' accounting, in the shape of the kernel's BPF selftests
 * (tools/testing/selftests/bpf/test_progs.h):
 *
 * - ASSERT_EQ/ASSERT_NEQ/ASSERT_GE/ASSERT_TRUE/ASSERT_FALSE/ASSERT_OK/
 *   ASSERT_ERR count one check each and, on failure, print file:line,
 *   the subtest, the expression and its actual and expected values;
 *   they return whether the check held.  check(ok, fmt, ...) does the
 *   same with a message of its own.
 * - A test program is a table of named subtests run in order by
 *   run_subtests(), each printing '#N name: OK' or '#N name: FAIL', each
 *   starting from the state the program's setup function restores, so
 *   that none depends on another having run.  Arguments after the
 *   program's own select subtests by name (fnmatch patterns);
 *   SD_TEST_REVERSE=1 runs them in reverse order (order independence).
 * - The totals close as 'PROG: N passed, N failed'.
 */
#ifndef SD_TEST_CHECK_H
#define SD_TEST_CHECK_H

#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_pass, n_fail;
static const char *cur_test = "";

__attribute__((format(printf, 4, 5)))
static bool check_at(const char *file, int line, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		n_pass++;
		return true;
	}
	n_fail++;
	fprintf(stderr, "%s:%d: FAIL [%s] ", file, line, cur_test);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

#define check(ok, ...) check_at(__FILE__, __LINE__, !!(ok), __VA_ARGS__)

/* Values compared as long long (counters, verdicts, actions, lengths):
 * equality survives the conversion, and both sides are printed. */
#define ASSERT_CMP_(actual, op, expected, name) ({				\
	long long ___act = (long long)(actual);					\
	long long ___exp = (long long)(expected);				\
	check_at(__FILE__, __LINE__, ___act op ___exp,				\
		 "%s: unexpected %s: actual %lld, expected " #op " %lld",	\
		 (name), #actual, ___act, ___exp);				\
})
#define ASSERT_EQ(actual, expected, name)  ASSERT_CMP_(actual, ==, expected, name)
#define ASSERT_NEQ(actual, expected, name) ASSERT_CMP_(actual, !=, expected, name)
#define ASSERT_GE(actual, expected, name)  ASSERT_CMP_(actual, >=, expected, name)
#define ASSERT_LE(actual, expected, name)  ASSERT_CMP_(actual, <=, expected, name)

#define ASSERT_TRUE(cond, name)							\
	check_at(__FILE__, __LINE__, !!(cond), "%s: %s is false", (name), #cond)
#define ASSERT_FALSE(cond, name)						\
	check_at(__FILE__, __LINE__, !(cond), "%s: %s is true", (name), #cond)
/* 0 on success, a negative errno otherwise (libbpf, the tester) */
#define ASSERT_OK(res, name) ({							\
	long long ___res = (long long)(res);					\
	check_at(__FILE__, __LINE__, ___res == 0,				\
		 "%s: %s failed: %lld (%s)", (name), #res, ___res,		\
		 strerror(___res < 0 ? (int)-___res : (int)___res));		\
})
#define ASSERT_ERR(res, name) ({						\
	long long ___res = (long long)(res);					\
	check_at(__FILE__, __LINE__, ___res != 0,				\
		 "%s: %s succeeded, want an error", (name), #res);		\
})
#define ASSERT_STREQ(actual, expected, name) ({					\
	const char *___act = (actual), *___exp = (expected);			\
	check_at(__FILE__, __LINE__, !strcmp(___act, ___exp),			\
		 "%s: unexpected %s: actual '%s' != expected '%s'",		\
		 (name), #actual, ___act, ___exp);				\
})

struct subtest {
	const char *name;
	void (*fn)(void);
};

#define SUBTEST(f, n) { .name = (n), .fn = (f) }

static bool subtest_selected(const char *name, int nsel, char **sel)
{
	if (nsel <= 0)
		return true;
	for (int i = 0; i < nsel; i++)
		if (!fnmatch(sel[i], name, 0))
			return true;
	return false;
}

/* Runs the selected subtests of tests[n] (all when nsel is 0; in reverse
 * order when SD_TEST_REVERSE is set and not 0), setup() before each.
 * Prints '#N name: OK/FAIL' per subtest and the totals line as prog;
 * returns the exit status: 0 all passed, 1 a check failed, 2 a selection
 * that matched nothing. */
static int run_subtests(const char *prog, const struct subtest *tests, int n,
			void (*setup)(void), int nsel, char **sel)
{
	const char *rev = getenv("SD_TEST_REVERSE");
	bool reverse = rev && *rev && strcmp(rev, "0");
	int ran = 0, failed = 0;

	for (int k = 0; k < n; k++) {
		int i = reverse ? n - 1 - k : k;
		int fail0 = n_fail, pass0 = n_pass;

		if (!subtest_selected(tests[i].name, nsel, sel))
			continue;
		cur_test = tests[i].name;
		if (setup)
			setup();
		tests[i].fn();
		ran++;
		if (n_fail > fail0) {
			failed++;
			printf("#%d %s: FAIL (%d of %d checks failed)\n", i + 1, tests[i].name,
			       n_fail - fail0, n_fail - fail0 + n_pass - pass0);
		} else {
			printf("#%d %s: OK (%d checks)\n", i + 1, tests[i].name, n_pass - pass0);
		}
		fflush(stdout);
	}
	cur_test = "";
	if (!ran) {
		fprintf(stderr, "%s: no subtest matches the selection\n", prog);
		n_fail++;
	}
	printf("%s: %d subtests%s, %d failed\n", prog, ran, reverse ? " (reverse order)" : "",
	       failed);
	printf("%s: %d passed, %d failed\n", prog, n_pass, n_fail);
	return !ran ? 2 : n_fail ? 1 : 0;
}

#endif
