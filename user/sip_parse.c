// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "sip_parse.h"
#include "sip_scan.h"

void sd_parse(const void *payload, size_t len, struct sd_result *r)
{
	const __u8 *p = payload;
	struct sd_scan s;

	sd_scan_init(&s, len);
	while (s.pos < s.end && s.st != SD_ST_DONE)
		sd_scan_step(&s, p[s.pos++]);
	sd_scan_end(&s);
	memset(r, 0, sizeof(*r));
	sd_scan_result(&s, r);
}
