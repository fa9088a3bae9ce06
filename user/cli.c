// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
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

/* "90", "90s", "10m", "1h", "1500ms" -> nanoseconds; 0 on error. */
__u64 sd_parse_duration(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v <= 0 || v > 7 * 86400)
		return 0;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		return v * 1e9;
	if (!strcmp(end, "ms"))
		return v * 1e6;
	if (!strcmp(end, "m"))
		return v * 60e9;
	if (!strcmp(end, "h") && v <= 168)
		return v * 3600e9;
	return 0;
}
