// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the BYE builder (user/sip_bye.c): what a call's kept
 * INVITE and 2xx make of the BYE to each party, for a record-routing
 * proxy (one and two own Record-Route entries, proxies on either side),
 * a UAS and a UAC; strict routing; the Via of an IPv6 hop; what the
 * input may look like (compact names, folds, quoted display names with
 * commas and semicolons, Record-Route as comma lists or lines); the
 * CSeq above the side's; every refusal (no Contact, '*', tel:, several
 * Contacts, malformed Record-Route, no tags, cut captures, no room);
 * and every BYE built read back by the gate's scanner: a BYE request
 * with a To tag, of the record's Call-ID hash.
 *
 * usage: bye_test [SUBTEST...]   (SD_BYE_SEEDS=DIR: also write each
 * record built as a seed for tests/fuzz/fuzz_bye)
 *
 * The messages are what sipp and Kamailio 5.6 with record_route() send
 * in the lab (tests/lab): caller 198.18.1.10:5061, the server (the
 * proxy, or the UA itself) 198.18.0.10:5060 and, on its private side,
 * 198.18.2.10, callee 198.18.2.20:5062.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sip_bye.h"
#include "sip_parse.h"
#include "sip_scan.h"
#include "check.h"

#define BRANCH "z9hG4bK-sdbye-0001"

static struct sd_details d;
static char out[8192];
static size_t outlen;
static struct sd_peer own[4];
static struct sd_bye_opts opts;
static int seeds;

static __u64 fnv1a(const char *s, size_t n)
{
	__u64 h = SD_FNV_OFFSET;

	for (size_t i = 0; i < n; i++)
		h = SD_FNV_STEP(h, s[i]);
	return h;
}

static void hop(struct sd_hop *h, int family, const char *server, const char *party,
		__u16 party_port)
{
	memset(h, 0, sizeof(*h));
	h->family = family;
	inet_pton(family == 6 ? AF_INET6 : AF_INET, server, h->server_addr);
	inet_pton(family == 6 ? AF_INET6 : AF_INET, party, h->party_addr);
	h->server_port = 5060;
	h->party_port = party_port;
}

/* The Call-ID value of a message, as the scanner hashes it (the first
 * word of the first Call-ID header). */
static __u64 callid_hash(const char *m)
{
	const char *p = strstr(m, "\r\nCall-ID:");
	size_t n;

	if (!p && !(p = strstr(m, "\r\ni:")))
		return 0;
	p = strchr(p, ':') + 1;
	while (*p == ' ')
		p++;
	n = strcspn(p, " \t\r\n");
	return fnv1a(p, n);
}

/* A record: flags, the INVITE (NULL: none) and the 2xx as kept. */
static void record(__u32 flags, const char *invite, const char *resp)
{
	memset(&d, 0, sizeof(d));
	d.flags = flags;
	/* what run keeps is at most SD_DETAILS_MSG_MAX a message */
	if (invite) {
		d.invite_len = strlen(invite);
		if (!check(d.invite_len <= sizeof(d.invite), "test INVITE of %u bytes", d.invite_len))
			d.invite_len = 0;
		memcpy(d.invite, invite, d.invite_len);
	}
	if (resp) {
		d.resp_len = strlen(resp);
		if (!check(d.resp_len <= sizeof(d.resp), "test 2xx of %u bytes", d.resp_len))
			d.resp_len = 0;
		memcpy(d.resp, resp, d.resp_len);
		d.call_id_hash = callid_hash(resp);
	}
	d.cseq_caller = 1;
	hop(&d.caller, 4, "198.18.0.10", "198.18.1.10", 5061);
	hop(&d.callee, 4, "198.18.2.10", "198.18.2.20", 5062);
}

/* The fuzz target's input: flags, options, the INVITE's length, the
 * INVITE, the 2xx (tests/fuzz/fuzz_bye.c reads it). */
static void write_seed(enum sd_bye_party to)
{
	const char *dir = getenv("SD_BYE_SEEDS");
	unsigned char head[4] = { d.flags, to | 2, d.invite_len & 0xff, d.invite_len >> 8 };
	char path[1024];
	FILE *f;

	if (!dir || !*dir)
		return;
	snprintf(path, sizeof(path), "%s/bye-%03d", dir, seeds++);
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(head, 1, 4, f);
	fwrite(d.invite, 1, d.invite_len, f);
	fwrite(d.resp, 1, d.resp_len, f);
	fclose(f);
}

/* Build; on success the BYE is read back by the gate's scanner.  The
 * ASSERT_ macros also write the record as a fuzz seed. */
static enum sd_bye_outcome build(enum sd_bye_party to)
{
	enum sd_bye_outcome rc;
	struct sd_result r;

	memset(out, 0, sizeof(out));
	outlen = 0;
	rc = sd_build_bye(&d, to, &opts, out, sizeof(out) - 1, &outlen);
	if (rc != SD_BYE_OK)
		return rc;
	out[outlen] = 0;
	sd_parse(out, outlen, &r);
	check(r.kind == SD_K_REQUEST && r.method == SD_M_BYE && (r.flags & SD_F_TO_TAG) &&
	      (r.flags & SD_F_CALLID) && r.call_id_hash == d.call_id_hash,
	      "BYE does not read back as a BYE with To tag of Call-ID %016llx:\n%s",
	      (unsigned long long)d.call_id_hash, out);
	check(outlen > 4 && !memcmp(out + outlen - 4, "\r\n\r\n", 4), "BYE not terminated");
	return rc;
}

#define ASSERT_BYE(to, want) ({						\
	enum sd_bye_outcome ___rc = (write_seed(to), build(to));		\
	check(___rc == SD_BYE_OK && !strcmp(out, (want)),			\
	      "outcome %s; BYE:\n%s\nwanted:\n%s", sd_bye_outcome_text[___rc],	\
	      out, (want));							\
})
#define ASSERT_REFUSED(to, want, what) ({					\
	enum sd_bye_outcome ___rc = (write_seed(to), build(to));		\
	check(___rc == (want), "%s: outcome '%s', want '%s'", (what),		\
	      sd_bye_outcome_text[___rc], sd_bye_outcome_text[want]);		\
})

/* ---- messages --------------------------------------------------------- */

/* sipp's uac INVITE as it reaches the proxy */
#define INVITE_HEAD \
	"INVITE sip:callee@198.18.0.10:5060 SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 198.18.1.10:5061;branch=z9hG4bK-4711-1-0\r\n"
#define INVITE_TAIL \
	"From: sipp <sip:sipp@198.18.1.10:5061>;tag=4711SIPpTag001\r\n" \
	"To: callee <sip:callee@198.18.0.10:5060>\r\n" \
	"Call-ID: 1-4711@198.18.1.10\r\n" \
	"CSeq: 1 INVITE\r\n" \
	"Contact: sip:sipp@198.18.1.10:5061\r\n" \
	"Max-Forwards: 70\r\n" \
	"Subject: Performance Test\r\n" \
	"Content-Type: application/sdp\r\n" \
	"Content-Length: 131\r\n\r\n"
#define INVITE INVITE_HEAD INVITE_TAIL

/* the callee's 200 as it reaches the proxy: rr is its Record-Route */
#define OK200(rr) \
	"SIP/2.0 200 OK\r\n" \
	"Via: SIP/2.0/UDP 198.18.2.10;branch=z9hG4bKd1f4.2a1b;rport=5060\r\n" \
	"Via: SIP/2.0/UDP 198.18.1.10:5061;branch=z9hG4bK-4711-1-0\r\n" \
	rr \
	"From: sipp <sip:sipp@198.18.1.10:5061>;tag=4711SIPpTag001\r\n" \
	"To: callee <sip:callee@198.18.0.10:5060>;tag=4712SIPpTag012\r\n" \
	"Call-ID: 1-4711@198.18.1.10\r\n" \
	"CSeq: 1 INVITE\r\n" \
	"Contact: <sip:198.18.2.20:5062;transport=UDP>\r\n" \
	"Content-Type: application/sdp\r\n" \
	"Content-Length: 131\r\n\r\n"

/* Kamailio record_route() with enable_double_rr: one entry per side */
#define RR_DOUBLE \
	"Record-Route: <sip:198.18.2.10;r2=on;lr=on>\r\n" \
	"Record-Route: <sip:198.18.0.10;r2=on;lr=on>\r\n"

#define BYE_TO_CALLER \
	"BYE sip:sipp@198.18.1.10:5061 SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 198.18.0.10:5060;branch=" BRANCH ";rport\r\n" \
	"Max-Forwards: 70\r\n"
#define FROM_CALLEE_TO_CALLER(cseq) \
	"From: callee <sip:callee@198.18.0.10:5060>;tag=4712SIPpTag012\r\n" \
	"To: sipp <sip:sipp@198.18.1.10:5061>;tag=4711SIPpTag001\r\n" \
	"Call-ID: 1-4711@198.18.1.10\r\n" \
	"CSeq: " cseq " BYE\r\n" \
	"Content-Length: 0\r\n\r\n"
#define BYE_TO_CALLEE \
	"BYE sip:198.18.2.20:5062;transport=UDP SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 198.18.2.10:5060;branch=" BRANCH ";rport\r\n" \
	"Max-Forwards: 70\r\n"
#define FROM_CALLER_TO_CALLEE(cseq) \
	"From: sipp <sip:sipp@198.18.1.10:5061>;tag=4711SIPpTag001\r\n" \
	"To: callee <sip:callee@198.18.0.10:5060>;tag=4712SIPpTag012\r\n" \
	"Call-ID: 1-4711@198.18.1.10\r\n" \
	"CSeq: " cseq " BYE\r\n" \
	"Content-Length: 0\r\n\r\n"

/* ---- the proxy -------------------------------------------------------- */

static void test_proxy_double_rr(void)
{
	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE, OK200(RR_DOUBLE));
	ASSERT_EQ(sd_bye_parties(&d), 3, "proxy: both parties");
	/* nothing on either side of the server's two entries: no Route */
	ASSERT_BYE(SD_BYE_CALLER, BYE_TO_CALLER FROM_CALLEE_TO_CALLER("65536"));
	ASSERT_BYE(SD_BYE_CALLEE, BYE_TO_CALLEE FROM_CALLER_TO_CALLEE("65537"));
}

static void test_proxy_single_rr(void)
{
	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE,
	       OK200("Record-Route: <sip:198.18.0.10;lr>\r\n"));
	ASSERT_BYE(SD_BYE_CALLER, BYE_TO_CALLER FROM_CALLEE_TO_CALLER("65536"));
	ASSERT_BYE(SD_BYE_CALLEE, BYE_TO_CALLEE FROM_CALLER_TO_CALLEE("65537"));
	/* the server's port written, and an own address with port 0 (any) */
	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE,
	       OK200("Record-Route: <sip:198.18.0.10:5060;lr>\r\n"));
	ASSERT_BYE(SD_BYE_CALLER, BYE_TO_CALLER FROM_CALLEE_TO_CALLER("65536"));
}

/* caller -> P1 (198.18.1.1) -> server -> P2 (p2.example.net) -> P3 -> callee */
static void test_proxy_both_sides(void)
{
	const char *inv = INVITE_HEAD "Record-Route: <sip:198.18.1.1;lr;ftag=4711SIPpTag001>\r\n"
		INVITE_TAIL;

	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, inv,
	       OK200("Record-Route: <sip:p3.example.net;lr>, <sip:p2.example.net;lr>\r\n"
		     "Record-Route: <sip:198.18.2.10;r2=on;lr=on>,<sip:198.18.0.10;r2=on;lr=on>\r\n"
		     "Record-Route: <sip:198.18.1.1;lr;ftag=4711SIPpTag001>\r\n"));
	/* toward the caller: the entries after the server's, in order */
	ASSERT_BYE(SD_BYE_CALLER, BYE_TO_CALLER
		   "Route: <sip:198.18.1.1;lr;ftag=4711SIPpTag001>\r\n"
		   FROM_CALLEE_TO_CALLER("65536"));
	/* toward the callee: those before, nearest the server first */
	ASSERT_BYE(SD_BYE_CALLEE, BYE_TO_CALLEE
		   "Route: <sip:p2.example.net;lr>\r\n"
		   "Route: <sip:p3.example.net;lr>\r\n"
		   FROM_CALLER_TO_CALLEE("65537"));
}

/* A proxy that does not record-route: the INVITE's entries are the
 * caller's side of the 2xx's list. */
static void test_proxy_not_record_routing(void)
{
	const char *inv = INVITE_HEAD "Record-Route: <sip:198.18.1.1;lr>\r\n" INVITE_TAIL;

	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, inv,
	       OK200("Record-Route: <sip:p2.example.net;lr>, <sip:198.18.1.1;lr>\r\n"));
	ASSERT_BYE(SD_BYE_CALLER, BYE_TO_CALLER "Route: <sip:198.18.1.1;lr>\r\n"
		   FROM_CALLEE_TO_CALLER("65536"));
	ASSERT_BYE(SD_BYE_CALLEE, BYE_TO_CALLEE "Route: <sip:p2.example.net;lr>\r\n"
		   FROM_CALLER_TO_CALLEE("65537"));
	/* and none anywhere: no Route either way */
	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE, OK200(""));
	ASSERT_BYE(SD_BYE_CALLER, BYE_TO_CALLER FROM_CALLEE_TO_CALLER("65536"));
	ASSERT_BYE(SD_BYE_CALLEE, BYE_TO_CALLEE FROM_CALLER_TO_CALLEE("65537"));
}

/* ---- the server as a UA ----------------------------------------------- */

/* sipp's uas answering, behind P1; the Record-Route also names the
 * server itself (a front on the same address), which the BYE skips */
static void test_uas(void)
{
	const char *inv = INVITE_HEAD
		"Record-Route: <sip:198.18.0.10;lr>, <sip:198.18.1.1;lr>\r\n" INVITE_TAIL;
	const char *resp =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 198.18.1.10:5061;branch=z9hG4bK-4711-1-0\r\n"
		"Record-Route: <sip:198.18.0.10;lr>, <sip:198.18.1.1;lr>\r\n"
		"From: sipp <sip:sipp@198.18.1.10:5061>;tag=4711SIPpTag001\r\n"
		"To: callee <sip:callee@198.18.0.10:5060>;tag=9SIPpTag01\r\n"
		"Call-ID: 1-4711@198.18.1.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:198.18.0.10:5060;transport=UDP>\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: 131\r\n\r\n";

	record(SD_DT_INVITE_IN | SD_DT_2XX_OUT, inv, resp);
	d.cseq_callee = 5;      /* the UAS's own requests (a re-INVITE) */
	ASSERT_EQ(sd_bye_parties(&d), 1 << SD_BYE_CALLER, "UAS: only the caller");
	ASSERT_BYE(SD_BYE_CALLER, BYE_TO_CALLER "Route: <sip:198.18.1.1;lr>\r\n"
		   "From: callee <sip:callee@198.18.0.10:5060>;tag=9SIPpTag01\r\n"
		   "To: sipp <sip:sipp@198.18.1.10:5061>;tag=4711SIPpTag001\r\n"
		   "Call-ID: 1-4711@198.18.1.10\r\n"
		   "CSeq: 65541 BYE\r\n"
		   "Content-Length: 0\r\n\r\n");
	ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_NO_INVITE, "UAS: the callee is the server");
}

/* A B2BUA's outbound leg: the server sent the INVITE, the 2xx came back
 * through P1 (nearest the server) and P2. */
static void test_uac(void)
{
	const char *resp =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 198.18.2.10:5060;branch=z9hG4bK-b2b-1;received=198.18.2.10\r\n"
		"Record-Route: <sip:p2.example.net;lr>\r\n"
		"Record-Route: <sip:198.18.2.1;lr>\r\n"
		"From: \"B2BUA\" <sip:b2bua@198.18.2.10>;tag=as58f4201b\r\n"
		"To: <sip:200@198.18.2.20>;tag=7a9e1c\r\n"
		"Call-ID: 3c26700857f4-b2b@198.18.2.10\r\n"
		"CSeq: 102 INVITE\r\n"
		"Contact: <sip:200@198.18.2.20:5062;ob>\r\n"
		"Content-Length: 0\r\n\r\n";

	record(SD_DT_2XX_IN, NULL, resp);
	d.cseq_caller = 104;    /* a re-INVITE of the server's since */
	ASSERT_EQ(sd_bye_parties(&d), 1 << SD_BYE_CALLEE, "UAC: only the callee");
	ASSERT_BYE(SD_BYE_CALLEE,
		   "BYE sip:200@198.18.2.20:5062;ob SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 198.18.2.10:5060;branch=" BRANCH ";rport\r\n"
		   "Max-Forwards: 70\r\n"
		   "Route: <sip:198.18.2.1;lr>\r\n"
		   "Route: <sip:p2.example.net;lr>\r\n"
		   "From: \"B2BUA\" <sip:b2bua@198.18.2.10>;tag=as58f4201b\r\n"
		   "To: <sip:200@198.18.2.20>;tag=7a9e1c\r\n"
		   "Call-ID: 3c26700857f4-b2b@198.18.2.10\r\n"
		   "CSeq: 65640 BYE\r\n"
		   "Content-Length: 0\r\n\r\n");
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_NO_INVITE, "UAC: the caller is the server");
}

/* RFC 3261 12.2.1.1: a first hop without lr takes the Request-URI
 * (without the parameters a Request-URI may not carry), the remote
 * target goes last in Route. */
static void test_strict_routing(void)
{
	const char *resp =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 198.18.2.10:5060;branch=z9hG4bK-b2b-2\r\n"
		"Record-Route: <sip:p2.example.net;lr>, <sip:198.18.2.1;transport=udp;method=INVITE>\r\n"
		"From: <sip:b2bua@198.18.2.10>;tag=a1\r\n"
		"To: <sip:200@198.18.2.20>;tag=b2\r\n"
		"Call-ID: strict-1@198.18.2.10\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:200@198.18.2.20:5062?Subject=x>\r\n"
		"Content-Length: 0\r\n\r\n";

	record(SD_DT_2XX_IN, NULL, resp);
	ASSERT_BYE(SD_BYE_CALLEE,
		   "BYE sip:198.18.2.1;transport=udp SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 198.18.2.10:5060;branch=" BRANCH ";rport\r\n"
		   "Max-Forwards: 70\r\n"
		   "Route: <sip:p2.example.net;lr>\r\n"
		   "Route: <sip:200@198.18.2.20:5062>\r\n"
		   "From: <sip:b2bua@198.18.2.10>;tag=a1\r\n"
		   "To: <sip:200@198.18.2.20>;tag=b2\r\n"
		   "Call-ID: strict-1@198.18.2.10\r\n"
		   "CSeq: 65537 BYE\r\n"
		   "Content-Length: 0\r\n\r\n");
	/* the only hop strict: Route is the target alone */
	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE_HEAD "Record-Route: <sip:198.18.1.1>\r\n" INVITE_TAIL,
	       OK200("Record-Route: <sip:198.18.0.10;lr>, <sip:198.18.1.1>\r\n"));
	ASSERT_BYE(SD_BYE_CALLER,
		   "BYE sip:198.18.1.1 SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=" BRANCH ";rport\r\n"
		   "Max-Forwards: 70\r\n"
		   "Route: <sip:sipp@198.18.1.10:5061>\r\n"
		   FROM_CALLEE_TO_CALLER("65536"));
}

/* The lab's IPv6 plan: the server's address in [] in the Via, its own
 * Record-Route entries recognised as IPv6 references. */
static void test_ipv6(void)
{
	const char *inv =
		"INVITE sip:callee@[2001:2::10]:5060 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP [2001:2:1::10]:5061;branch=z9hG4bK-6-1-0\r\n"
		"From: sipp <sip:sipp@[2001:2:1::10]:5061>;tag=6SIPpTag001\r\n"
		"To: <sip:callee@[2001:2::10]:5060>\r\n"
		"Call-ID: 1-6@2001:2:1::10\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:sipp@[2001:2:1::10]:5061>\r\n"
		"Content-Length: 0\r\n\r\n";
	const char *resp =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP [2001:2::10];branch=z9hG4bK1;rport=5060\r\n"
		"Via: SIP/2.0/UDP [2001:2:1::10]:5061;branch=z9hG4bK-6-1-0\r\n"
		"Record-Route: <sip:[2001:2::10];r2=on;lr=on>, <sip:[2001:2::10]:5060;r2=on;lr=on>\r\n"
		"From: sipp <sip:sipp@[2001:2:1::10]:5061>;tag=6SIPpTag001\r\n"
		"To: <sip:callee@[2001:2::10]:5060>;tag=6SIPpTag012\r\n"
		"Call-ID: 1-6@2001:2:1::10\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:[2001:2:2::20]:5062;transport=UDP>\r\n"
		"Content-Length: 0\r\n\r\n";

	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, inv, resp);
	hop(&d.caller, 6, "2001:2::10", "2001:2:1::10", 5061);
	hop(&d.callee, 6, "2001:2::10", "2001:2:2::20", 5062);
	ASSERT_BYE(SD_BYE_CALLER,
		   "BYE sip:sipp@[2001:2:1::10]:5061 SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP [2001:2::10]:5060;branch=" BRANCH ";rport\r\n"
		   "Max-Forwards: 70\r\n"
		   "From: <sip:callee@[2001:2::10]:5060>;tag=6SIPpTag012\r\n"
		   "To: sipp <sip:sipp@[2001:2:1::10]:5061>;tag=6SIPpTag001\r\n"
		   "Call-ID: 1-6@2001:2:1::10\r\n"
		   "CSeq: 65536 BYE\r\n"
		   "Content-Length: 0\r\n\r\n");
	ASSERT_BYE(SD_BYE_CALLEE,
		   "BYE sip:[2001:2:2::20]:5062;transport=UDP SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP [2001:2::10]:5060;branch=" BRANCH ";rport\r\n"
		   "Max-Forwards: 70\r\n"
		   "From: sipp <sip:sipp@[2001:2:1::10]:5061>;tag=6SIPpTag001\r\n"
		   "To: <sip:callee@[2001:2::10]:5060>;tag=6SIPpTag012\r\n"
		   "Call-ID: 1-6@2001:2:1::10\r\n"
		   "CSeq: 65537 BYE\r\n"
		   "Content-Length: 0\r\n\r\n");
}

/* ---- what the input may look like -------------------------------------- */

/* Compact names (f t i m), a folded To and Record-Route, display names
 * quoted with commas and semicolons (in a Record-Route too): names come
 * out long, values as written, folds as one SP. */
static void test_compact_folded_quoted(void)
{
	const char *inv =
		"INVITE sip:callee@198.18.0.10 SIP/2.0\r\n"
		"v: SIP/2.0/UDP 198.18.1.10:5061;branch=z9hG4bK-c-1\r\n"
		"f: \"Doe, John; <Jr.>\" <sip:john@198.18.1.10:5061>;tag=c0ffee\r\n"
		"t: <sip:callee@198.18.0.10>\r\n"
		"i: compact-1@198.18.1.10\r\n"
		"CSeq: 7 INVITE\r\n"
		"m: \"John, at desk\" <sip:john@198.18.1.10:5061;ob>;expires=3600\r\n"
		"l: 0\r\n\r\n";
	const char *resp =
		"SIP/2.0 200 OK\r\n"
		"v: SIP/2.0/UDP 198.18.2.10;branch=z9hG4bKx;rport=5060\r\n"
		"v: SIP/2.0/UDP 198.18.1.10:5061;branch=z9hG4bK-c-1\r\n"
		"Record-Route: \"edge, \\\"a\\\"\" <sip:p2.example.net;lr>,\r\n"
		"\t<sip:198.18.0.10;lr>\r\n"
		"Record-Route : \"left; side\" <sip:198.18.1.1;lr>\r\n"
		"f: \"Doe, John; <Jr.>\" <sip:john@198.18.1.10:5061>;tag=c0ffee\r\n"
		"t: <sip:callee@198.18.0.10>\r\n"
		"   ;tag=beef\r\n"
		"i: compact-1@198.18.1.10\r\n"
		"CSeq: 7 INVITE\r\n"
		"m: sip:callee@198.18.2.20:5062;expires=60\r\n"
		"l: 0\r\n\r\n";

	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, inv, resp);
	d.cseq_caller = 7;
	ASSERT_BYE(SD_BYE_CALLER,
		   "BYE sip:john@198.18.1.10:5061;ob SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=" BRANCH ";rport\r\n"
		   "Max-Forwards: 70\r\n"
		   "Route: \"left; side\" <sip:198.18.1.1;lr>\r\n"
		   "From: <sip:callee@198.18.0.10> ;tag=beef\r\n"
		   "To: \"Doe, John; <Jr.>\" <sip:john@198.18.1.10:5061>;tag=c0ffee\r\n"
		   "Call-ID: compact-1@198.18.1.10\r\n"
		   "CSeq: 65536 BYE\r\n"
		   "Content-Length: 0\r\n\r\n");
	ASSERT_BYE(SD_BYE_CALLEE,
		   "BYE sip:callee@198.18.2.20:5062 SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 198.18.2.10:5060;branch=" BRANCH ";rport\r\n"
		   "Max-Forwards: 70\r\n"
		   "Route: \"edge, \\\"a\\\"\" <sip:p2.example.net;lr>\r\n"
		   "From: \"Doe, John; <Jr.>\" <sip:john@198.18.1.10:5061>;tag=c0ffee\r\n"
		   "To: <sip:callee@198.18.0.10> ;tag=beef\r\n"
		   "Call-ID: compact-1@198.18.1.10\r\n"
		   "CSeq: 65543 BYE\r\n"
		   "Content-Length: 0\r\n\r\n");
}

/* The same route set from a comma list, separate lines, or a mix. */
static void test_rr_lists(void)
{
	const char *forms[] = {
		"Record-Route: <sip:p3.example.net;lr>, <sip:p2.example.net;lr>, <sip:198.18.0.10;lr>, <sip:198.18.1.1;lr>\r\n",
		"Record-Route: <sip:p3.example.net;lr>\r\nRecord-Route: <sip:p2.example.net;lr>\r\n"
		"Record-Route: <sip:198.18.0.10;lr>\r\nRecord-Route: <sip:198.18.1.1;lr>\r\n",
		"Record-Route: <sip:p3.example.net;lr>,<sip:p2.example.net;lr>\r\n"
		"record-route:<sip:198.18.0.10;lr> ,\r\n  <sip:198.18.1.1;lr>\r\n",
	};
	char resp[2048];

	for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
		snprintf(resp, sizeof(resp), OK200("%s"), forms[k]);
		record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE, resp);
		ASSERT_BYE(SD_BYE_CALLER, BYE_TO_CALLER "Route: <sip:198.18.1.1;lr>\r\n"
			   FROM_CALLEE_TO_CALLER("65536"));
		ASSERT_BYE(SD_BYE_CALLEE, BYE_TO_CALLEE "Route: <sip:p2.example.net;lr>\r\n"
			   "Route: <sip:p3.example.net;lr>\r\n" FROM_CALLER_TO_CALLEE("65537"));
	}
}

/* CSeq: above the side the BYE speaks for, by the margin; never 2^31 or
 * more; refused when the side is already at the limit. */
static void test_cseq(void)
{
	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE, OK200(RR_DOUBLE));
	d.cseq_caller = 40;     /* re-INVITEs of the caller since */
	d.cseq_callee = 1000;
	ASSERT_EQ(build(SD_BYE_CALLEE), SD_BYE_OK, "callee");
	ASSERT_TRUE(strstr(out, "\r\nCSeq: 65576 BYE\r\n"), "caller's side: 40 + margin");
	ASSERT_EQ(build(SD_BYE_CALLER), SD_BYE_OK, "caller");
	ASSERT_TRUE(strstr(out, "\r\nCSeq: 66536 BYE\r\n"), "callee's side: 1000 + margin");
	/* the INVITE's number (the 2xx repeats it) counts for the caller */
	d.cseq_caller = 0;
	memcpy(strstr(d.resp, "CSeq: 1 INVITE"), "CSeq: 9 INVITE", 14);
	ASSERT_EQ(build(SD_BYE_CALLEE), SD_BYE_OK, "callee");
	ASSERT_TRUE(strstr(out, "\r\nCSeq: 65545 BYE\r\n"), "the 2xx's CSeq: 9 + margin");
	d.cseq_callee = SD_BYE_CSEQ_LIMIT - 10;
	ASSERT_EQ(build(SD_BYE_CALLER), SD_BYE_OK, "caller");
	ASSERT_TRUE(strstr(out, "\r\nCSeq: 2147483647 BYE\r\n"), "capped below 2^31");
	d.cseq_callee = SD_BYE_CSEQ_LIMIT;
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_BAD_HEADERS, "no number left above the side's");
}

/* Reason (RFC 3326): cause 503, the text a quoted-string whatever it is. */
static void test_reason(void)
{
	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE, OK200(RR_DOUBLE));
	opts.reason = "node \"sip-3\" drained\\\r\nX-Injected: 1";
	ASSERT_EQ(build(SD_BYE_CALLER), SD_BYE_OK, "with a reason");
	ASSERT_TRUE(strstr(out, "\r\nCSeq: 65536 BYE\r\n"
			   "Reason: SIP;cause=503;text=\"node \\\"sip-3\\\" drained\\\\  X-Injected: 1\"\r\n"
			   "Content-Length: 0\r\n\r\n"), "Reason line");
}

/* ---- refusals --------------------------------------------------------- */

/* OK200 with one line replaced (old must be in it) */
static void resp_with(const char *old, const char *new)
{
	char buf[SD_CAPTURE_SIP_MAX + 1], *p;
	size_t n;

	p = strstr(d.resp, old);
	if (!check(p, "'%s' not in the 2xx", old))
		return;
	n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - d.resp), d.resp, new, p + strlen(old));
	if (!check(n <= sizeof(d.resp), "test 2xx of %zu bytes", n))
		return;
	d.resp_len = n;
	memcpy(d.resp, buf, n);
	d.call_id_hash = callid_hash(buf);
}

static void invite_with(const char *old, const char *new)
{
	char buf[SD_CAPTURE_SIP_MAX + 1], *p;
	size_t n;

	p = strstr(d.invite, old);
	if (!check(p, "'%s' not in the INVITE", old))
		return;
	n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - d.invite), d.invite, new,
		     p + strlen(old));
	if (!check(n <= sizeof(d.invite), "test INVITE of %zu bytes", n))
		return;
	d.invite_len = n;
	memcpy(d.invite, buf, n);
}

#define PROXY_RECORD() record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE, OK200(RR_DOUBLE))

static void test_refuse_contact(void)
{
	static const struct { const char *contact; enum sd_bye_outcome rc; } cases[] = {
		{ "Contact: *", SD_BYE_BAD_CONTACT },
		{ "Contact: <tel:+15551234567>", SD_BYE_BAD_CONTACT },
		{ "Contact: <http://198.18.2.20/x>", SD_BYE_BAD_CONTACT },
		{ "Contact: <sip:198.18.2.20:5062", SD_BYE_BAD_CONTACT },
		{ "Contact: \"Bob <sip:198.18.2.20:5062>", SD_BYE_BAD_CONTACT },
		{ "Contact: <sip:a@198.18.2.20>, <sip:b@198.18.2.21>", SD_BYE_BAD_CONTACT },
		{ "Contact: <sip:a@198.18.2.20>\r\nContact: <sip:b@198.18.2.21>", SD_BYE_BAD_CONTACT },
		{ "Contact: <sip:198.18.2.20:99999>", SD_BYE_BAD_CONTACT },
		{ "Contact: <sip:a b@198.18.2.20>", SD_BYE_BAD_CONTACT },
		{ "Contact: <sip:>", SD_BYE_BAD_CONTACT },
		{ "Contact: <sip:198.18.2.20>;expires=<1>", SD_BYE_BAD_CONTACT },
		{ "Contact:", SD_BYE_NO_CONTACT },
		{ "X-Contact: <sip:198.18.2.20>", SD_BYE_NO_CONTACT },
		/* what is still a Contact: addr-spec, params, display name */
		{ "m: sip:198.18.2.20:5062", SD_BYE_OK },
		{ "Contact: \"callee, desk\" <sip:198.18.2.20:5062>;+sip.instance=\"<urn:uuid:1>\"", SD_BYE_OK },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		PROXY_RECORD();
		resp_with("Contact: <sip:198.18.2.20:5062;transport=UDP>", cases[k].contact);
		ASSERT_REFUSED(SD_BYE_CALLEE, cases[k].rc, cases[k].contact);
		/* the same in the INVITE, toward the caller */
		PROXY_RECORD();
		invite_with("Contact: sip:sipp@198.18.1.10:5061", cases[k].contact);
		ASSERT_REFUSED(SD_BYE_CALLER, cases[k].rc, cases[k].contact);
		/* a 2xx without its one Contact made no dialog to trust: the
		 * caller, who needs nothing of it, gets no BYE either */
		if (cases[k].rc == SD_BYE_OK)
			continue;
		PROXY_RECORD();
		resp_with("Contact: <sip:198.18.2.20:5062;transport=UDP>", cases[k].contact);
		ASSERT_REFUSED(SD_BYE_CALLER, cases[k].rc, cases[k].contact);
		record(SD_DT_INVITE_IN | SD_DT_2XX_OUT, INVITE, OK200(""));
		resp_with("Contact: <sip:198.18.2.20:5062;transport=UDP>", cases[k].contact);
		ASSERT_REFUSED(SD_BYE_CALLER, cases[k].rc, cases[k].contact);
	}
}

static void test_refuse_route(void)
{
	static const char *bad[] = {
		"Record-Route: sip:198.18.2.10;lr\r\n",                         /* addr-spec */
		"Record-Route: <tel:+15551234567>\r\n",
		"Record-Route: <sip:198.18.2.10;lr\r\n",                        /* unbalanced */
		"Record-Route: \"p2 <sip:198.18.2.10;lr>\r\n",
		"Record-Route: <sip:198.18.2.10;lr>,,<sip:198.18.0.10;lr>\r\n", /* empty entry */
		"Record-Route: <sip:198.18.2.10;lr> junk\r\n",
		"Record-Route: <sip:198.18.2.10;lr>;x=<y>\r\n",
		"Record-Route:\r\n",
		"Record-Route: <sip:198.18.0.10;lr>, <sip:p.example.net;lr>, <sip:198.18.0.10;lr>\r\n", /* spiral */
	};
	char resp[SD_CAPTURE_SIP_MAX], many[1200] = "Record-Route: ";

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		snprintf(resp, sizeof(resp), OK200("%s"), bad[k]);
		record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE, resp);
		ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_BAD_ROUTE, bad[k]);
		ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_BAD_ROUTE, bad[k]);
	}
	/* more entries than SD_BYE_MAX_ROUTE */
	for (int k = 0; k <= SD_BYE_MAX_ROUTE; k++)
		strcat(many, k ? ",<sip:p;lr>" : "<sip:p;lr>");
	strcat(many, "\r\n");
	snprintf(resp, sizeof(resp), OK200("%s"), many);
	record(SD_DT_2XX_IN, NULL, resp);
	ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_BAD_ROUTE, "too many entries");
	/* a UAS reads the INVITE's */
	record(SD_DT_INVITE_IN | SD_DT_2XX_OUT,
	       INVITE_HEAD "Record-Route: <sip:198.18.1.1;lr\r\n" INVITE_TAIL, OK200(""));
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_BAD_ROUTE, "UAS: INVITE's Record-Route");
}

static void test_refuse_tags(void)
{
	PROXY_RECORD();
	resp_with(";tag=4711SIPpTag001", "");
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_NO_TAG, "no From tag");
	ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_NO_TAG, "no From tag");
	PROXY_RECORD();
	resp_with(";tag=4712SIPpTag012", "");
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_NO_TAG, "no To tag");
	PROXY_RECORD();
	resp_with("<sip:callee@198.18.0.10:5060>;tag=4712SIPpTag012",
		  "<sip:callee@198.18.0.10:5060;tag=4712SIPpTag012>");
	ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_NO_TAG, "a tag inside <> is a URI param");
	PROXY_RECORD();
	resp_with(";tag=4712SIPpTag012", ";tag=");
	ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_NO_TAG, "an empty tag");
	PROXY_RECORD();
	resp_with("To: callee <sip:callee@198.18.0.10:5060>;tag=4712SIPpTag012",
		  "To: \"callee;tag=x\" <sip:callee@198.18.0.10:5060>");
	ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_NO_TAG, "a tag in quotes");
	/* a UAS's BYE goes To the INVITE's From */
	record(SD_DT_INVITE_IN | SD_DT_2XX_OUT, INVITE, OK200(""));
	invite_with(";tag=4711SIPpTag001", "");
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_NO_TAG, "UAS: INVITE's From without tag");
}

static void test_refuse_headers(void)
{
	static const struct { const char *old, *new; } cases[] = {
		{ "Call-ID: 1-4711@198.18.1.10\r\n", "" },
		{ "CSeq: 1 INVITE\r\n", "" },
		{ "CSeq: 1 INVITE", "CSeq: INVITE" },
		{ "From: sipp <sip:sipp@198.18.1.10:5061>;tag=4711SIPpTag001\r\n", "" },
		{ "To: callee <sip", "To: \"callee <sip" },
		{ "To: callee <sip:callee@198.18.0.10:5060>", "To: callee <sip:callee@198.18.0.10:5060" },
		{ "From: sipp <sip:sipp@198.18.1.10:5061>", "From: sipp, jr <sip:sipp@198.18.1.10:5061>" },
		{ "From: sipp <", "From: \"si\001pp\" <" },
		{ "From: sipp <", "From: \"si\\\001pp\" <" },
		{ "Call-ID: 1-4711@198.18.1.10", "Call-ID: 1-4711@198.18.1.10 x" },
		{ "Call-ID: 1-4711@198.18.1.10", "Call-ID: 1-4711@198.18.1.10\r\n x" },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		PROXY_RECORD();
		resp_with(cases[k].old, cases[k].new);
		ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_BAD_HEADERS, cases[k].new[0] ? cases[k].new : cases[k].old);
	}
	/* the record's key is not this 2xx's Call-ID */
	PROXY_RECORD();
	d.call_id_hash ^= 1;
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_BAD_HEADERS, "Call-ID hash differs");
	/* not an INVITE, not a 2xx, no 2xx at all */
	PROXY_RECORD();
	invite_with("INVITE sip:", "OPTIONS sip:");
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_BAD_HEADERS, "not an INVITE");
	PROXY_RECORD();
	resp_with("SIP/2.0 200 OK", "SIP/2.0 180 Ringing");
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_NO_2XX, "a 180");
	PROXY_RECORD();
	d.flags = SD_DT_INVITE_IN;
	ASSERT_EQ(sd_bye_parties(&d), 0, "no 2xx: nobody");
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_NO_2XX, "no 2xx flag");
	PROXY_RECORD();
	d.resp_len = 0;
	ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_NO_2XX, "empty 2xx");
}

static void test_refuse_args(void)
{
	PROXY_RECORD();
	opts.branch = "1234";
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_BAD_ARGS, "branch without magic cookie");
	opts.branch = "z9hG4bK;x=1";
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_BAD_ARGS, "branch not a token");
	opts.branch = BRANCH;
	d.caller.family = 0;
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_BAD_ARGS, "hop without family");
	ASSERT_EQ(build(SD_BYE_CALLEE), SD_BYE_OK, "the other hop is fine");
	d.callee.server_port = 0;
	ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_BAD_ARGS, "hop without port");
}

/* The offset past the CRLF of the line at l in m. */
static size_t line_end(const char *m, const char *l)
{
	return strstr(l, "\r\n") + 2 - m;
}

/* A capture cut mid section: complete lines only; a line ending at the
 * cut might go on in a fold; a Record-Route set not followed by another
 * line might go on too. */
static void test_truncated(void)
{
	const char *full = OK200(RR_DOUBLE);
	const char *contact = strstr(full, "Contact:"), *cseq = strstr(full, "CSeq:");
	size_t k;

	PROXY_RECORD();
	/* cut anywhere up to the Contact line's CRLF: the CSeq line not
	 * complete (or ending at the cut) is missing, then the Contact */
	for (k = 20; k <= line_end(full, contact); k++) {
		enum sd_bye_outcome want = k > line_end(full, cseq) ? SD_BYE_NO_CONTACT :
					   SD_BYE_BAD_HEADERS, rc;

		d.resp_len = k;
		rc = build(SD_BYE_CALLEE);
		if (!check(rc == want, "cut at %zu: outcome %s, want %s", k,
			   sd_bye_outcome_text[rc], sd_bye_outcome_text[want]))
			break;
	}
	/* one byte into the next line: the Contact line is complete */
	d.resp_len = strstr(contact, "\r\n") + 3 - full;
	ASSERT_BYE(SD_BYE_CALLEE, BYE_TO_CALLEE FROM_CALLER_TO_CALLEE("65537"));
	/* no Record-Route at all in a cut section: there might have been */
	record(SD_DT_INVITE_IN | SD_DT_2XX_IN, INVITE, OK200(""));
	d.resp_len = strstr(d.resp, "Content-Type") + 3 - d.resp;
	ASSERT_REFUSED(SD_BYE_CALLEE, SD_BYE_BAD_ROUTE, "cut, no Record-Route seen");
	/* the INVITE cut before its Contact */
	PROXY_RECORD();
	d.invite_len = strstr(d.invite, "Contact:") + 12 - d.invite;
	ASSERT_REFUSED(SD_BYE_CALLER, SD_BYE_NO_CONTACT, "INVITE cut in its Contact");
	ASSERT_EQ(build(SD_BYE_CALLEE), SD_BYE_OK, "the callee's BYE needs no INVITE Contact");
}

/* Bounded: TOO_BIG below the BYE's length, and exactly its length is
 * enough; the bytes past cap are never written. */
static void test_bounded(void)
{
	char small[1024];
	size_t need, n;

	PROXY_RECORD();
	ASSERT_EQ(build(SD_BYE_CALLEE), SD_BYE_OK, "reference");
	need = outlen;
	for (size_t cap = 0; cap < need; cap++) {
		memset(small, 'X', sizeof(small));
		if (!check(sd_build_bye(&d, SD_BYE_CALLEE, &opts, small, cap, &n) == SD_BYE_TOO_BIG &&
			   small[cap] == 'X', "cap %zu of %zu", cap, need))
			break;
	}
	memset(small, 'X', sizeof(small));
	ASSERT_EQ(sd_build_bye(&d, SD_BYE_CALLEE, &opts, small, need, &n), SD_BYE_OK, "exact cap");
	ASSERT_TRUE(n == need && !memcmp(small, out, n) && small[need] == 'X', "same BYE, no more");
}

/* Every outcome has a text (the sender logs and counts by it). */
static void test_outcome_texts(void)
{
	for (int k = 0; k < SD_BYE_MAX; k++)
		ASSERT_TRUE(sd_bye_outcome_text[k] && *sd_bye_outcome_text[k], "outcome text");
}

static void fresh(void)
{
	memset(&d, 0, sizeof(d));
	memset(out, 0, sizeof(out));
	outlen = 0;
	/* the server: both its interfaces, port 5060 */
	own[0] = (struct sd_peer){ .family = AF_INET, .port = 5060 };
	inet_pton(AF_INET, "198.18.0.10", own[0].addr);
	own[1] = (struct sd_peer){ .family = AF_INET, .port = 0 };
	inet_pton(AF_INET, "198.18.2.10", own[1].addr);
	own[2] = (struct sd_peer){ .family = AF_INET6, .port = 5060 };
	inet_pton(AF_INET6, "2001:2::10", own[2].addr);
	opts = (struct sd_bye_opts){ .branch = BRANCH, .own = own, .n_own = 3 };
}

static const struct subtest subtests[] = {
	SUBTEST(test_proxy_double_rr, "proxy-double-rr"),
	SUBTEST(test_proxy_single_rr, "proxy-single-rr"),
	SUBTEST(test_proxy_both_sides, "proxy-both-sides"),
	SUBTEST(test_proxy_not_record_routing, "proxy-no-rr"),
	SUBTEST(test_uas, "uas"),
	SUBTEST(test_uac, "uac"),
	SUBTEST(test_strict_routing, "strict-routing"),
	SUBTEST(test_ipv6, "ipv6"),
	SUBTEST(test_compact_folded_quoted, "compact-folded-quoted"),
	SUBTEST(test_rr_lists, "rr-lists"),
	SUBTEST(test_cseq, "cseq"),
	SUBTEST(test_reason, "reason"),
	SUBTEST(test_refuse_contact, "refuse-contact"),
	SUBTEST(test_refuse_route, "refuse-route"),
	SUBTEST(test_refuse_tags, "refuse-tags"),
	SUBTEST(test_refuse_headers, "refuse-headers"),
	SUBTEST(test_refuse_args, "refuse-args"),
	SUBTEST(test_truncated, "truncated"),
	SUBTEST(test_bounded, "bounded"),
	SUBTEST(test_outcome_texts, "outcome-texts"),
};

int main(int argc, char **argv)
{
	return run_subtests("bye_test", subtests, sizeof(subtests) / sizeof(subtests[0]), fresh,
			    argc - 1, argv + 1);
}
