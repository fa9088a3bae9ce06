// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gate.h"
#include "log.h"

static bool sd_parse_uint(const char *what, const char *s, unsigned long min,
			  unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || v < min || v > max) {
		pr_warn("invalid %s '%s' (expected %lu..%lu)\n", what, s, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool sd_add_port(__u16 *ports, __u32 *nports, const char *arg)
{
	unsigned long v;

	if (!sd_parse_uint("port", arg, 1, 65535, &v))
		return false;
	for (__u32 i = 0; i < *nports; i++)
		if (ports[i] == v)
			return true;
	if (*nports >= SD_MAX_PORTS) {
		pr_warn("at most %d ports\n", SD_MAX_PORTS);
		return false;
	}
	ports[(*nports)++] = v;
	return true;
}

/* A duration: a non-negative integer of decimal digits and a unit (ms,
 * s, m, h, d; none: seconds), at most 7 days -> nanoseconds; 0 when it
 * is not one (nan, inf, hex, exponents, signs, fractions, spaces, an
 * empty string, overflow) or is zero. */
#define SD_DURATION_MAX_NS (7ULL * 86400 * 1000000000ULL)
__u64 sd_parse_duration(const char *s)
{
	static const struct { const char *unit; __u64 ns; } units[] = {
		{ "", 1000000000ULL }, { "s", 1000000000ULL }, { "ms", 1000000ULL },
		{ "m", 60000000000ULL }, { "h", 3600000000000ULL }, { "d", 86400000000000ULL },
	};
	__u64 v = 0;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return 0;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > SD_DURATION_MAX_NS / 1000000ULL)   /* more than 7 days in any unit */
			return 0;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(p, units[i].unit))
			return v && v <= SD_DURATION_MAX_NS / units[i].ns ? v * units[i].ns : 0;
	return 0;
}
