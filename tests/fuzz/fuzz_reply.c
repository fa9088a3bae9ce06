// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: the 503 builder on any bytes: no crash; a reply is never
 * more than 256 bytes above the request, is a terminated 503, and the
 * same request always gets the same reply. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sip_reply.h"
#include "sip_scan.h"
#include "tester.h"

static char out[70000], again[70000];

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sd_peer src = { .family = AF_INET, .addr = { 198, 18, 0, 1 }, .port = 5070 };
	struct sd_reply_opts o = { .retry_after = 60, .reason = "fuzz", .server = "sipdrain" };
	size_t n = 0, n2 = 0;
	int m, m2;
	enum sd_reply_outcome rc, rc2;

	rc = sd_build_503((const char *)data, size, &src, &o, out, sizeof(out), &n, &m);
	if (rc >= SD_R_MAX)
		abort();
	if (rc != SD_R_OK)
		return 0;
	if (n > size + SD_REPLY_MAX_GROWTH || n < 40)
		abort();
	if (memcmp(out, "SIP/2.0 503 Service Unavailable\r\n", 33) ||
	    memcmp(out + n - 4, "\r\n\r\n", 4))
		abort();
	rc2 = sd_build_503((const char *)data, size, &src, &o, again, sizeof(again), &n2, &m2);
	if (rc2 != rc || n2 != n || memcmp(out, again, n) || m2 != m)
		abort();
	/* the reply reads back as a 503 response */
	{
		struct sd_result r;

		sd_parse(out, n, &r);
		if (r.kind == SD_K_RESPONSE && r.status != 503)
			abort();
		if (r.kind == SD_K_REQUEST)
			abort();
	}
	return 0;
}
