/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The C tests' accounting: check() counts, prints failures with the
 * current test's name, and the totals close as 'N passed, N failed'. */
#ifndef SD_TEST_CHECK_H
#define SD_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int n_pass, n_fail;
static const char *cur_test = "";

__attribute__((format(printf, 2, 3)))
static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		n_pass++;
		return;
	}
	n_fail++;
	fprintf(stderr, "FAIL [%s] ", cur_test);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#endif
