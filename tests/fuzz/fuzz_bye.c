// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer: the BYE builder on any record.  Input: flags (SD_DT_*), an
 * options byte, the INVITE's length (2 bytes, little-endian), the
 * INVITE, the 2xx (the rest); tests/bye_test writes realistic seeds in
 * this form (SD_BYE_SEEDS=DIR).  Options byte: bit 0 the party, bit 1
 * the record keyed by the 2xx's Call-ID hash, bit 2 a Reason, bit 3 IPv6
 * hops, bits 4-5 and 6-7 the caller's and the callee's CSeq (small, mid, near and at 2^31 - 1).
 *
 * Checked: no crash or read past the kept lengths (ASan; the record is
 * copied into a buffer of exactly its size); an outcome in range, never
 * "unreadable" (the builder's own read-back failing is a bug); OK only
 * for a party sd_bye_parties() names, and then a BYE within cap that
 * the gate's scanner reads as a BYE request with a To tag (and the
 * record's Call-ID hash), CRLF line ends only, terminated by an empty
 * line; the same BYE again from the same record; and one byte less room
 * gives TOO_BIG without writing past it. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sip_bye.h"
#include "sip_parse.h"
#include "sip_scan.h"

#define CAP 9000

static const __u32 cseqs[4] = { 1, 100000, SD_BYE_CSEQ_LIMIT - 3, SD_BYE_CSEQ_LIMIT };

static void hops(struct sd_details *d, bool v6)
{
	static const __u8 a4[16] = { 198, 18, 0, 10 };
	static const __u8 a6[16] = { 0x20, 0x01, 0, 2, [15] = 0x10 };

	d->caller.family = d->callee.family = v6 ? 6 : 4;
	memcpy(d->caller.server_addr, v6 ? a6 : a4, 16);
	memcpy(d->callee.server_addr, v6 ? a6 : a4, 16);
	d->caller.server_port = d->callee.server_port = 5060;
}

/* CRLF pairs only, ending in an empty line */
static bool crlf_lines(const char *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (m[i] == '\r' && (i + 1 >= n || m[i + 1] != '\n'))
			return false;
		if (m[i] == '\n' && (!i || m[i - 1] != '\r'))
			return false;
	}
	return n >= 4 && !memcmp(m + n - 4, "\r\n\r\n", 4);
}

static void check_bye(const struct sd_details *d, const char *out, size_t n)
{
	struct sd_result r;

	if (n > CAP || n < 40 || memcmp(out, "BYE ", 4) || !crlf_lines(out, n))
		abort();
	sd_parse(out, n, &r);
	if (r.kind != SD_K_REQUEST || r.method != SD_M_BYE || !(r.flags & SD_F_TO_TAG) ||
	    !(r.flags & SD_F_CALLID))
		abort();
	if (d->call_id_hash && r.call_id_hash != d->call_id_hash)
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const struct sd_peer own[2] = {
		{ .family = AF_INET, .addr = { 198, 18, 0, 10 }, .port = 5060 },
		{ .family = AF_INET6, .addr = { 0x20, 0x01, 0, 2, [15] = 0x10 }, .port = 0 },
	};
	struct sd_bye_opts o = { .branch = "z9hG4bK-fuzz-1", .own = own, .n_own = 2 };
	enum sd_bye_party to;
	enum sd_bye_outcome rc, rc2;
	struct sd_details *d;
	size_t ilen, rlen, n = 0, n2 = 0;
	char *out, *again, *small;
	unsigned char opt;

	if (size < 4)
		return 0;
	opt = data[1];
	/* exactly the record's size: ASan sees any read past it */
	d = malloc(sizeof(*d));
	memset(d, 0, sizeof(*d));
	d->flags = data[0] & 7;
	to = opt & 1 ? SD_BYE_CALLEE : SD_BYE_CALLER;
	ilen = data[2] | data[3] << 8;
	data += 4, size -= 4;
	if (ilen > size)
		ilen = size;
	if (ilen > sizeof(d->invite))
		ilen = sizeof(d->invite);
	rlen = size - ilen < sizeof(d->resp) ? size - ilen : sizeof(d->resp);
	memcpy(d->invite, data, ilen);
	memcpy(d->resp, data + ilen, rlen);
	d->invite_len = ilen;
	d->resp_len = rlen;
	if (opt & 2) {
		struct sd_result r;

		sd_parse(d->resp, rlen, &r);
		d->call_id_hash = r.call_id_hash;
	}
	if (opt & 4)
		o.reason = "drain \"deadline\"\r\n";
	hops(d, opt & 8);
	d->cseq_caller = cseqs[(opt >> 4) & 3];
	d->cseq_callee = cseqs[(opt >> 6) & 3];

	out = malloc(CAP);
	again = malloc(CAP);
	rc = sd_build_bye(d, to, &o, out, CAP, &n);
	if (rc >= SD_BYE_MAX || rc == SD_BYE_UNREADABLE)
		abort();
	if (rc == SD_BYE_OK) {
		if (!(sd_bye_parties(d) & 1u << to))
			abort();
		check_bye(d, out, n);
		rc2 = sd_build_bye(d, to, &o, again, CAP, &n2);
		if (rc2 != rc || n2 != n || memcmp(out, again, n))
			abort();
		/* one byte short: refused, nothing written past the room */
		small = malloc(n - 1);
		if (sd_build_bye(d, to, &o, small, n - 1, &n2) != SD_BYE_TOO_BIG)
			abort();
		free(small);
	}
	free(again);
	free(out);
	free(d);
	return 0;
}
