// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: the userspace SIP parser (the shared state machine) on any
 * bytes: no crash, no sanitizer report, and self-consistent results. */
#include <stdlib.h>
#include <string.h>

#include "sip_scan.h"
#include "tester.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sd_result r;

	sd_parse(data, size, &r);
	if (r.kind >= SD_K_MAX || r.method >= SD_M_MAX)
		abort();
	/* a tag of ours is a tag; a tag needs a To header */
	if ((r.flags & SD_F_TAG_OURS) && !(r.flags & SD_F_TO_TAG))
		abort();
	if ((r.flags & SD_F_TO_TAG) && !(r.flags & SD_F_TO))
		abort();
	/* kinds that are not messages carry no header facts */
	if (r.kind != SD_K_REQUEST && r.kind != SD_K_RESPONSE && r.flags)
		abort();
	return 0;
}
