// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: the 503 builder on any bytes: no crash; a reply is never
 * more than 256 bytes above the request, is a terminated 503 for the
 * source address and a port that is one, and the same request always
 * gets the same reply.  A request with CRLF line ends and a start line
 * no shorter than RFC 3261 allows never meets "too big" with options
 * sd_reply_worst_growth() accepts: that count is a bound. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sip_reply.h"
#include "sip_scan.h"
#include "tester.h"

static char out[70000], again[70000];

/* CRLF line ends throughout the header section and a start line of at
 * least "M a:b SIP/2.0" CRLF: what sd_reply_worst_growth() covers. */
static bool crlf_request(const unsigned char *d, size_t size)
{
	size_t i = 0, start, eol = 0;

	while (i < size && (d[i] == '\r' || d[i] == '\n'))
		i++;
	start = i;
	for (; i < size; i++) {
		if (d[i] == '\n' && (i == start || d[i - 1] != '\r'))
			return false;
		if (d[i] == '\r' && (i + 1 >= size || d[i + 1] != '\n'))
			return false;
		if (d[i] == '\n') {
			if (!eol)
				eol = i + 1;
			if (i >= 3 && d[i - 2] == '\n')
				break;          /* the empty line */
		}
	}
	return i < size && eol - start >= 15;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sd_peer src = { .family = AF_INET, .addr = { 198, 18, 0, 1 }, .port = 5070 };
	struct sd_reply_opts o = { .retry_after = 60, .reason = "fuzz", .server = "sipdrain" };
	struct sd_peer dst, dst2;
	size_t n = 0, n2 = 0;
	int m, m2;
	enum sd_reply_outcome rc, rc2;

	if (sd_reply_worst_growth(&o) > SD_REPLY_MAX_GROWTH)
		abort();
	rc = sd_build_503((const char *)data, size, &src, &o, out, sizeof(out), &n, &dst, &m);
	if (rc >= SD_R_MAX)
		abort();
	if (rc == SD_R_TOO_BIG && crlf_request(data, size))
		abort();
	if (rc != SD_R_OK) {
		if (dst.port || dst.family)
			abort();
		return 0;
	}
	if (n > size + SD_REPLY_MAX_GROWTH || n < 40)
		abort();
	if (!dst.port || dst.family != src.family || memcmp(dst.addr, src.addr, 4))
		abort();
	if (memcmp(out, "SIP/2.0 503 Service Unavailable\r\n", 33) ||
	    memcmp(out + n - 4, "\r\n\r\n", 4))
		abort();
	rc2 = sd_build_503((const char *)data, size, &src, &o, again, sizeof(again), &n2, &dst2, &m2);
	if (rc2 != rc || n2 != n || memcmp(out, again, n) || m2 != m ||
	    memcmp(&dst, &dst2, sizeof(dst)))
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
