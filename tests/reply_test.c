// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the 503 builder (user/sip_reply.c): Via lines copied as
 * received (names, comma lists, order, folds), the top Via rewritten
 * (rport, received), where the reply goes (RFC 3261 18.2.2, RFC 3581,
 * maddr), tag determinism, no reply to malformed input, the size bound
 * and the option bound that keeps well-formed requests within it, the
 * reply frame's TOS/traffic class; and over the whole corpus: every
 * request either gets a well-formed 503 for the same dialog or a stated
 * reason for none.
 *
 * usage: reply_test SHARED_TESTDATA_DIR OWN_DATA_DIR [SUBTEST...]
 *
 * Named subtests (the table at the end), independent of each other.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "gate.h"
#include "packet.h"
#include "sip_hdr.h"
#include "sip_reply.h"
#include "sip_scan.h"
#include "tester.h"
#include "check.h"


static struct sd_peer v4(const char *ip, __u16 port)
{
	struct sd_peer p = { .family = AF_INET, .port = port };

	inet_pton(AF_INET, ip, p.addr);
	return p;
}

static struct sd_peer v6(const char *ip, __u16 port)
{
	struct sd_peer p = { .family = AF_INET6, .port = port };

	inet_pton(AF_INET6, ip, p.addr);
	return p;
}

static const struct sd_reply_opts dflt = { .retry_after = 120 };
static char out[70000];
static size_t outlen;
static struct sd_peer dst;      /* where the last reply goes */

static enum sd_reply_outcome build(const char *req, const struct sd_peer *src,
				   const struct sd_reply_opts *o)
{
	int m;
	enum sd_reply_outcome rc = sd_build_503(req, strlen(req), src, o, out, sizeof(out) - 1,
						&outlen, &dst, &m);

	out[rc == SD_R_OK ? outlen : 0] = 0;
	return rc;
}

/* The last reply goes to this address and port. */
static int dst_is(const struct sd_peer *want, __u16 port)
{
	return dst.family == want->family && dst.port == port &&
	       !memcmp(dst.addr, want->addr, want->family == AF_INET ? 4 : 16);
}

/* Occurrences of s in the last reply. */
static int count(const char *s)
{
	int n = 0;

	for (const char *p = out; (p = strstr(p, s)); p++)
		n++;
	return n;
}

/* Header lines named `full` or `compact` (any case, white space before
 * the colon) in the header section of m[0..len); the start line and
 * continuation lines are not header lines. */
static int count_headers(const char *m, size_t len, const char *full, char compact)
{
	size_t i = 0, fl = strlen(full);
	int n = 0;

	while (i < len && (m[i] == '\r' || m[i] == '\n'))
		i++;
	while (i < len && m[i] != '\n')
		i++;
	for (i++; i < len && m[i] != '\r' && m[i] != '\n'; i++) {
		size_t j = i;

		if (m[i] != ' ' && m[i] != '\t') {
			if (len - i > fl && !strncasecmp(m + i, full, fl))
				j = i + fl;
			else if ((m[i] | 0x20) == compact)
				j = i + 1;
			while (j > i && j < len && (m[j] == ' ' || m[j] == '\t'))
				j++;
			n += j > i && j < len && m[j] == ':';
		}
		while (i < len && m[i] != '\n')
			i++;
	}
	return n;
}

/* The reply contains this exact line (CRLF-terminated). */
static int has_line(const char *line)
{
	char want[1024];

	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return strstr(out, want) != NULL;
}

#define REQ(vias, to) \
	"INVITE sip:b@198.18.0.2 SIP/2.0\r\n" vias "From: <sip:a@198.18.0.1>;tag=f1\r\n" \
	"To: " to "\r\nCall-ID: reply-test@198.18.0.1\r\nCSeq: 7 INVITE\r\n" \
	"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"

static void test_vias(void)
{
	struct sd_peer src = v4("198.18.0.1", 5070);
	const char *p, *q;

	/* each Via line stays one line: name as written (compact too),
	 * comma list kept, the fold read as one SP; only the top value
	 * rewritten, the rest of its line copied after it */
	check(build(REQ("v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1 ,\r\n SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n"
			"Via: SIP/2.0/UDP 198.18.0.9:5060;branch=z9hG4bK3\r\n", "<sip:b@198.18.0.2>"),
		    &src, &dflt) == SD_R_OK, "compact/folded/comma Via: no reply");
	p = strstr(out, "\r\nv: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;received=198.18.0.1 , "
		   "SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n");
	q = strstr(out, "\r\nVia: SIP/2.0/UDP 198.18.0.9:5060;branch=z9hG4bK3\r\n");
	check(p && q && p < q, "Via lines not copied as received, in order:\n%s", out);
	check(count_headers(out, outlen, "via", 'v') == 2, "Via lines split or merged:\n%s", out);

	/* names in any case, white space before the colon dropped, no SP
	 * added where the request had none; Via lines between other
	 * headers keep their order */
	build("INVITE sip:b@x SIP/2.0\r\nVIA:SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKa\r\n"
	      "f: <sip:a@x>;tag=1\r\nvIa  :  SIP/2.0/UDP h2;branch=z9hG4bKb, SIP/2.0/UDP h3;branch=z9hG4bKc\r\n"
	      "t:<sip:b@x>\r\ni: names@x\r\nv: SIP/2.0/UDP h4;branch=z9hG4bKd\r\nCSeq: 1 INVITE\r\n\r\n", &src, &dflt);
	p = strstr(out, "\r\nVIA:SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKa\r\n");
	q = strstr(out, "\r\nvIa: SIP/2.0/UDP h2;branch=z9hG4bKb, SIP/2.0/UDP h3;branch=z9hG4bKc\r\n");
	check(p && q && p < q && strstr(q, "\r\nv: SIP/2.0/UDP h4;branch=z9hG4bKd\r\n"),
	      "Via names/order not as received:\n%s", out);
	/* From, To and Call-ID keep their compact names: nothing grows */
	check(has_line("f: <sip:a@x>;tag=1") && strstr(out, "\r\nt:<sip:b@x>;tag=" SD_TAG_PREFIX) &&
	      has_line("i: names@x"), "compact From/To/Call-ID not kept:\n%s", out);

	/* sent-by equal to the source: nothing added */
	build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKs\r\n", "<sip:b@x>"), &src, &dflt);
	check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKs"), "same host changed:\n%s", out);
	/* LWS around '/' and a folded sent-by (RFC 4475 wsinv) */
	build(REQ("Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n", "<sip:b@x>"), &src, &dflt);
	check(has_line("Via: SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw;received=198.18.0.1"),
	      "folded top Via:\n%s", out);
	/* a quoted comma is no value boundary: received goes after the
	 * whole top value */
	build(REQ("Via: SIP/2.0/UDP h;x=\"a,b\";branch=z9hG4bKq, SIP/2.0/UDP h2\r\n", "<sip:b@x>"), &src, &dflt);
	check(has_line("Via: SIP/2.0/UDP h;x=\"a,b\";branch=z9hG4bKq;received=198.18.0.1, SIP/2.0/UDP h2"),
	      "quoted comma:\n%s", out);
}

/* 64 Via values in comma lists: answered within the bound, every value
 * in its order, one reply line per request line. */
static void test_many_vias(void)
{
	struct sd_peer src = v4("198.18.0.1", 5070);
	static char req[8192];
	size_t n = 0, len;
	const char *p = out;
	int ok = 1;

	n += snprintf(req + n, sizeof(req) - n, "INVITE sip:b@198.18.0.2 SIP/2.0\r\n");
	for (int l = 0; l < 8; l++) {
		n += snprintf(req + n, sizeof(req) - n, l % 2 ? "v: " : "Via: ");
		for (int k = 0; k < 8; k++)
			n += snprintf(req + n, sizeof(req) - n, "%sSIP/2.0/UDP 198.18.1.%d:5060;branch=z9hG4bK-%02d",
				      !k ? "" : k == 4 ? ",\r\n " : ",", l * 8 + k, l * 8 + k);
		n += snprintf(req + n, sizeof(req) - n, "\r\n");
	}
	n += snprintf(req + n, sizeof(req) - n, "From: <sip:a@198.18.0.1>;tag=f1\r\nTo: <sip:b@198.18.0.2>\r\n"
		      "Call-ID: many@198.18.0.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
		      "Content-Length: 0\r\n\r\n");
	len = strlen(req);
	check(build(req, &src, &dflt) == SD_R_OK, "64 Via values: no reply");
	check(outlen <= len + SD_REPLY_MAX_GROWTH, "64 Via values: reply %zu bytes for %zu", outlen, len);
	check(count_headers(out, outlen, "via", 'v') == 8 && count_headers(req, len, "via", 'v') == 8,
	      "64 Via values: %d Via lines for 8:\n%s", count_headers(out, outlen, "via", 'v'), out);
	for (int k = 0; k < 64 && ok; k++) {
		char b[32];

		snprintf(b, sizeof(b), "branch=z9hG4bK-%02d", k);
		ok = (p = strstr(p, b)) != NULL;
	}
	check(ok && count("branch=") == 64, "64 Via values: not all there in order:\n%s", out);
	check(strstr(out, "\r\nVia: SIP/2.0/UDP 198.18.1.0:5060;branch=z9hG4bK-00;received=198.18.0.1,"
			  "SIP/2.0/UDP 198.18.1.1:5060;branch=z9hG4bK-01,") != NULL,
	      "64 Via values: top line:\n%s", out);
}

/* Where the reply goes and what the top Via says about it (RFC 3261
 * 18.2.1/18.2.2, RFC 3581 4). */
static void test_dest(void)
{
	struct sd_peer nat = v4("198.18.7.7", 40001), s6 = v6("2001:2::9", 40001), a;

	/* rport without value: the source port, in the Via and as dst */
	check(build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;rport;branch=z9hG4bKn\r\n", "<sip:b@x>"),
		    &nat, &dflt) == SD_R_OK, "rport: no reply");
	check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;rport=40001;branch=z9hG4bKn;received=198.18.7.7"),
	      "rport not filled:\n%s", out);
	check(dst_is(&nat, 40001), "rport: reply not to the source port (%u)", dst.port);
	/* rport last, sent-by the source itself: received added anyway */
	a = v4("198.18.0.1", 5070);
	build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKr;rport\r\n", "<sip:b@x>"), &a, &dflt);
	check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKr;rport=5070;received=198.18.0.1"),
	      "rport last:\n%s", out);
	/* rport with a value: replaced by the source port */
	check(build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKv;rport=1234\r\n", "<sip:b@x>"),
		    &nat, &dflt) == SD_R_OK, "rport=value: no reply");
	check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKv;rport=40001;received=198.18.7.7") &&
	      !strstr(out, "1234"), "rport=value not replaced:\n%s", out);
	check(dst_is(&nat, 40001), "rport=value: reply to port %u", dst.port);
	/* no rport, a sent-by port: the source address, that port */
	check(build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKp\r\n", "<sip:b@x>"),
		    &nat, &dflt) == SD_R_OK, "sent-by port: no reply");
	check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKp;received=198.18.7.7"),
	      "sent-by port, other source: received not added:\n%s", out);
	check(dst_is(&nat, 5070), "sent-by port: reply to port %u", dst.port);
	/* no rport, no sent-by port: 5060 */
	check(build(REQ("Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK5\r\n", "<sip:b@x>"),
		    &nat, &dflt) == SD_R_OK && dst_is(&nat, 5060),
	      "no sent-by port: reply to port %u, not 5060", dst.port);
	/* maddr equal to the source: answered, to the sent-by port (or
	 * 5060) even with rport, whose value is filled all the same */
	check(build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;maddr=198.18.7.7;rport;branch=z9hG4bKm\r\n", "<sip:b@x>"),
		    &nat, &dflt) == SD_R_OK, "maddr = source: no reply");
	check(dst_is(&nat, 5070) &&
	      has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;maddr=198.18.7.7;rport=40001;branch=z9hG4bKm;received=198.18.7.7"),
	      "maddr = source: port %u\n%s", dst.port, out);
	check(build(REQ("Via: SIP/2.0/UDP h;maddr=198.18.7.7;branch=z9hG4bKm\r\n", "<sip:b@x>"),
		    &nat, &dflt) == SD_R_OK && dst_is(&nat, 5060), "maddr = source, no port: port %u", dst.port);
	check(build(REQ("Via: SIP/2.0/UDP [2001:2::1];maddr=[2001:2::9];branch=z9hG4bKm\r\n", "<sip:b@x>"),
		    &s6, &dflt) == SD_R_OK && dst_is(&s6, 5060), "IPv6 maddr = source: not answered to 5060");
	/* maddr elsewhere: left to the server */
	check(build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;maddr=239.255.255.1;branch=z9hG4bKe\r\n", "<sip:b@x>"),
		    &nat, &dflt) == SD_R_MADDR, "maddr elsewhere answered");
	check(sd_reply_outcome_passes(SD_R_MADDR) && dst.port == 0 && dst.family == 0,
	      "maddr elsewhere: not fail-open, or a destination given");
	check(build(REQ("Via: SIP/2.0/UDP h;branch=z9hG4bKe;MADDR=proxy.example.com\r\n", "<sip:b@x>"),
		    &nat, &dflt) == SD_R_MADDR, "maddr host name answered");
	/* an existing received: replaced in place by the source, once */
	check(build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;received=10.0.0.1;branch=z9hG4bKx\r\n", "<sip:b@x>"),
		    &nat, &dflt) == SD_R_OK, "received: no reply");
	check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;received=198.18.7.7;branch=z9hG4bKx") &&
	      count("received=") == 1, "received not replaced once:\n%s", out);
	build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;rport;received = [2001:db8::1] ;branch=z9hG4bKy;received=10.0.0.2\r\n",
		  "<sip:b@x>"), &nat, &dflt);
	check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;rport=40001;received=198.18.7.7 ;branch=z9hG4bKy") &&
	      count("received") == 1 && dst_is(&nat, 40001), "two received, rport:\n%s", out);
	/* ... even when the sent-by is the source (no received needed) */
	build(REQ("Via: SIP/2.0/UDP 198.18.7.7:5070;branch=z9hG4bKz;received=192.0.2.1\r\n", "<sip:b@x>"), &nat, &dflt);
	check(has_line("Via: SIP/2.0/UDP 198.18.7.7:5070;branch=z9hG4bKz;received=198.18.7.7") &&
	      count("received=") == 1, "stale received kept:\n%s", out);
	/* IPv6 source: received is the bare address (RFC 3261 grammar,
	 * RFC 5118 4.5) */
	check(build(REQ("Via: SIP/2.0/UDP [2001:2::1]:5070;rport;branch=z9hG4bK6\r\n", "<sip:b@x>"),
		    &s6, &dflt) == SD_R_OK, "IPv6 rport: no reply");
	check(has_line("Via: SIP/2.0/UDP [2001:2::1]:5070;rport=40001;branch=z9hG4bK6;received=2001:2::9") &&
	      dst_is(&s6, 40001), "IPv6 rport: port %u\n%s", dst.port, out);
	check(build(REQ("Via: SIP/2.0/UDP [2001:2::1]:5070;branch=z9hG4bK6\r\n", "<sip:b@x>"),
		    &s6, &dflt) == SD_R_OK, "IPv6 no rport: no reply");
	check(has_line("Via: SIP/2.0/UDP [2001:2::1]:5070;branch=z9hG4bK6;received=2001:2::9") &&
	      dst_is(&s6, 5070), "IPv6 no rport: port %u\n%s", dst.port, out);
	a = v6("2001:2::1", 5070);
	build(REQ("Via: SIP/2.0/UDP [2001:2::1];branch=z9hG4bK6\r\n", "<sip:b@x>"), &a, &dflt);
	check(has_line("Via: SIP/2.0/UDP [2001:2::1];branch=z9hG4bK6") && dst_is(&a, 5060),
	      "IPv6 same host:\n%s", out);
	/* no port to answer to: a sent-by port that is none, rport from 0 */
	check(build(REQ("Via: SIP/2.0/UDP h:0;branch=z9hG4bK0\r\n", "<sip:b@x>"), &nat, &dflt) == SD_R_BAD_VIA,
	      "sent-by port 0 answered");
	check(build(REQ("Via: SIP/2.0/UDP h:65536;branch=z9hG4bK0\r\n", "<sip:b@x>"), &nat, &dflt) == SD_R_BAD_VIA,
	      "sent-by port 65536 answered");
	check(build(REQ("Via: SIP/2.0/UDP h:;branch=z9hG4bK0\r\n", "<sip:b@x>"), &nat, &dflt) == SD_R_BAD_VIA,
	      "empty sent-by port answered");
	a = v4("198.18.7.7", 0);
	check(build(REQ("Via: SIP/2.0/UDP h;rport;branch=z9hG4bK0\r\n", "<sip:b@x>"), &a, &dflt) == SD_R_BAD_VIA,
	      "rport from source port 0 answered");
	check(build(REQ("Via: SIP/2.0/UDP h : 65535;branch=z9hG4bK0\r\n", "<sip:b@x>"), &a, &dflt) == SD_R_OK &&
	      dst_is(&a, 65535), "sent-by port 65535 (LWS around the colon): port %u", dst.port);
}

static void test_to_tag(void)
{
	struct sd_peer src = v4("198.18.0.1", 5070);
	static char first[sizeof(out)];
	char *t;
	struct sd_result r;

	build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKt\r\n", "\"Bob\" <sip:b@198.18.0.2>"), &src, &dflt);
	t = strstr(out, "\r\nTo: \"Bob\" <sip:b@198.18.0.2>;tag=" SD_TAG_PREFIX);
	check(t != NULL, "no sipdrain tag added:\n%s", out);
	sd_parse(out, outlen, &r);
	check(r.kind == SD_K_RESPONSE && r.status == 503 && (r.flags & SD_F_TAG_OURS) &&
	      r.cseq_method == SD_M_INVITE, "reply not read back as our 503");
	memcpy(first, out, outlen + 1);
	/* a retransmission gets the very same reply */
	build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKt\r\n", "\"Bob\" <sip:b@198.18.0.2>"), &src, &dflt);
	check(!strcmp(first, out), "retransmission got a different reply");
	/* another transaction, another tag */
	build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKu\r\n", "\"Bob\" <sip:b@198.18.0.2>"), &src, &dflt);
	check(strcmp(first, out) != 0, "different branch, same tag");
	/* To with a tag already (OFFLINE in-dialog): kept, not doubled */
	build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKd\r\n", "<sip:b@x>;tag=abc"), &src, &dflt);
	check(has_line("To: <sip:b@x>;tag=abc"), "existing tag changed:\n%s", out);
	/* the headers copied and added */
	check(has_line("Call-ID: reply-test@198.18.0.1") && has_line("CSeq: 7 INVITE") &&
	      has_line("From: <sip:a@198.18.0.1>;tag=f1") && has_line("Retry-After: 120") &&
	      strstr(out, "\r\nContent-Length: 0\r\n\r\n") && !strncmp(out, "SIP/2.0 503 Service Unavailable\r\n", 33),
	      "headers:\n%s", out);
	check(!strstr(out, "Server:") && !strstr(out, "Reason:"), "Server/Reason without being asked");
	{
		struct sd_reply_opts o = { .retry_after = 5, .reason = "maintenance", .server = "edge-1" };

		build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKo\r\n", "<sip:b@x>"), &src, &o);
		check(has_line("Reason: SIP;cause=503;text=\"maintenance\"") && has_line("Server: edge-1") &&
		      has_line("Retry-After: 5"), "Reason/Server:\n%s", out);
	}
	/* folded From/To values come out on one line */
	build("OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKf\r\n"
	      "From: <sip:a@x>\r\n  ;tag=ff\r\nTo:\r\n <sip:b@x>\r\ni: fold@x\r\nCSeq: 1 OPTIONS\r\n\r\n", &src, &dflt);
	check(has_line("From: <sip:a@x> ;tag=ff") && strstr(out, "\r\nTo: <sip:b@x>;tag=" SD_TAG_PREFIX) &&
	      has_line("i: fold@x"), "folded values:\n%s", out);
}

static void test_refusals(void)
{
	struct sd_peer src = v4("198.18.0.1", 5070);

	const struct {
		const char *what, *msg;
		enum sd_reply_outcome want;
	} c[] = {
		{ "no Via", "INVITE sip:b@x SIP/2.0\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\n\r\n", SD_R_NO_VIA },
		{ "no Call-ID", "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCSeq: 1 INVITE\r\n\r\n", SD_R_NO_CALLID },
		{ "no CSeq", "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c@x\r\n\r\n", SD_R_NO_CSEQ },
		{ "no From", "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:b@x>\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\n\r\n", SD_R_NO_FROM },
		{ "no To", "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\n\r\n", SD_R_NO_TO },
		{ "unterminated", "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\n", SD_R_UNTERMINATED },
		{ "response", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\n\r\n", SD_R_NOT_REQUEST },
		{ "ACK", "ACK sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c@x\r\nCSeq: 1 ACK\r\n\r\n", SD_R_ACK },
		{ "bare CR", "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r;x\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\n\r\n", SD_R_UNTERMINATED },
		{ "unreadable top Via", "INVITE sip:b@x SIP/2.0\r\nVia: garbage\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\n\r\n", SD_R_BAD_VIA },
		{ "empty", "", SD_R_UNTERMINATED },
		{ "unbalanced To", "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: \"Bob <sip:b@x>\r\nCall-ID: c@x\r\nCSeq: 1 INVITE\r\n\r\n", SD_R_BAD_TO },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		enum sd_reply_outcome rc = build(c[i].msg, &src, &dflt);

		check(rc == c[i].want, "%s: outcome '%s', want '%s'", c[i].what,
		      sd_reply_outcome_text[rc], sd_reply_outcome_text[c[i].want]);
		check(!sd_reply_outcome_passes(rc), "%s: malformed, yet passed to the server", c[i].what);
	}
	/* the size bound: never more than 256 bytes above the request,
	 * even with options run would refuse */
	{
		struct sd_reply_opts big = { .retry_after = 1, .reason =
			"a reason long enough to push this reply more than two hundred and fifty six bytes"
			" over the size of the request it answers, which a reflector must never do, so no" };
		const char *small = "OPTIONS sip:b SIP/2.0\r\nv: SIP/2.0/UDP h\r\nf: <sip:a>;tag=1\r\nt: <sip:b>\r\ni: c\r\nCSeq: 1 OPTIONS\r\n\r\n";

		check(build(small, &src, &big) == SD_R_TOO_BIG, "size bound not enforced");
		check(build(small, &src, &dflt) == SD_R_OK && outlen <= strlen(small) + SD_REPLY_MAX_GROWTH,
		      "small request: no reply or too big (%zu for %zu)", outlen, strlen(small));
	}
}

/* The option bound: sd_reply_worst_growth() is what a reply can add to
 * a well-formed request; requests outside RFC 3261 syntax may still
 * exceed the bound and are left to the server. */
static void test_bound(void)
{
	struct sd_reply_opts none = { 0 }, both = { 0 };
	/* the largest address text inet_ntop writes for IPv6 (39 of the 45
	 * INET6_ADDRSTRLEN allows) and the largest port and Retry-After */
	struct sd_peer far = v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535);
	struct sd_reply_opts worst = { .retry_after = UINT_MAX };
	static char req[16384], room_text[300];
	size_t w0, room, n, len;

	w0 = sd_reply_worst_growth(&none);
	/* 18 status line, 6 rport, 10 + 45 received, 29 tag, 25
	 * Retry-After, 19 Content-Length */
	check(w0 == 152, "worst growth without options %zu, want 152", w0);
	both.reason = both.server = "";
	room = SD_REPLY_MAX_GROWTH - sd_reply_worst_growth(&both);
	check(room == 63, "room for reason + server %zu, want 63", room);
	memset(room_text, 'x', room + 1);
	both.reason = room_text + 1;            /* room characters */
	check(sd_reply_worst_growth(&both) == SD_REPLY_MAX_GROWTH, "full texts: %zu",
	      sd_reply_worst_growth(&both));
	both.reason = room_text;                /* one more */
	check(sd_reply_worst_growth(&both) == SD_REPLY_MAX_GROWTH + 1, "one more: %zu",
	      sd_reply_worst_growth(&both));

	/* the tightest request: the shortest start line, one-character
	 * values, no SP after the colons, rport without value.  With the
	 * largest texts allowed it grows by the bound less the 6 bytes the
	 * 45-character address text allowed for does not take. */
	worst.reason = room_text + 1 + 20;
	worst.server = room_text + 1 + room - 20;
	check(sd_reply_worst_growth(&worst) == SD_REPLY_MAX_GROWTH, "worst options: %zu",
	      sd_reply_worst_growth(&worst));
	strcpy(req, "M a:b SIP/2.0\r\nv:SIP/2.0/UDP h;rport\r\nf:a\r\nt:b\r\ni:c\r\nCSeq:1 M\r\n\r\n");
	len = strlen(req);
	check(build(req, &far, &worst) == SD_R_OK, "tightest request not answered");
	check(outlen == len + SD_REPLY_MAX_GROWTH - 6, "tightest request: reply %zu for %zu, want +%d:\n%s",
	      outlen, len, SD_REPLY_MAX_GROWTH - 6, out);

	/* bare-LF line ends (outside RFC 3261): one CR more per copied
	 * line, no bound; 200 Via lines are beyond the slack: too big,
	 * handed to the server */
	n = snprintf(req, sizeof(req), "OPTIONS sip:b SIP/2.0\nf: <sip:a>;tag=1\nt: <sip:b>\ni: lf@x\nCSeq: 1 OPTIONS\n");
	for (int k = 0; k < 200; k++)
		n += snprintf(req + n, sizeof(req) - n, "v: SIP/2.0/UDP h%d\n", k % 10);
	snprintf(req + n, sizeof(req) - n, "\n");
	{
		enum sd_reply_outcome rc = build(req, &far, &dflt);

		check(rc == SD_R_TOO_BIG && sd_reply_outcome_passes(rc),
		      "bare-LF request with 200 Via lines: '%s', want too big and passed",
		      sd_reply_outcome_text[rc]);
	}
	/* the same request with CRLF line ends is answered */
	n = snprintf(req, sizeof(req), "OPTIONS sip:b SIP/2.0\r\nf: <sip:a>;tag=1\r\nt: <sip:b>\r\ni: lf@x\r\nCSeq: 1 OPTIONS\r\n");
	for (int k = 0; k < 200; k++)
		n += snprintf(req + n, sizeof(req) - n, "v: SIP/2.0/UDP h%d\r\n", k % 10);
	snprintf(req + n, sizeof(req) - n, "\r\n");
	check(build(req, &far, &dflt) == SD_R_OK && outlen <= strlen(req) + SD_REPLY_MAX_GROWTH,
	      "CRLF request with 200 Via lines: not answered within the bound");

	/* only what a well-formed request can meet passes */
	for (int rc = 0; rc < SD_R_MAX; rc++)
		check(sd_reply_outcome_passes(rc) == (rc == SD_R_TOO_BIG || rc == SD_R_MADDR),
		      "'%s' passes: %d", sd_reply_outcome_text[rc], sd_reply_outcome_passes(rc));
}

/* The reply frame: addresses and ports swapped, TOS / traffic class
 * (DSCP and ECN, CE included) 0, IPv4 header checksum valid. */
static void test_frames(void)
{
	static const char payload[] = "SIP/2.0 503 Service Unavailable\r\n\r\n";
	static __u8 f[2048], g[2048];

	for (int v6f = 0; v6f < 2; v6f++) {
		struct sd_udp_frame h = {
			.dst_mac = { 0x02, 0, 0, 0, 0, 2 },
			.src_mac = { 0x02, 0, 0, 0, 0, 1 },
			.nvlan = 1, .vlan = { 0x81, 0x00, 0x00, 200 },
			.family = v6f ? AF_INET6 : AF_INET,
			.sport = 5070, .dport = 5060,
		}, req, rep, back;
		const char *fam = v6f ? "IPv6" : "IPv4";
		size_t l2 = 18, n, m;
		__u8 *ip = g + l2;

		inet_pton(h.family, v6f ? "2001:2::1" : "198.18.0.1", h.saddr);
		inet_pton(h.family, v6f ? "2001:2::2" : "198.18.0.2", h.daddr);
		/* a traffic class that is not its own mirror: the nibbles in
		 * their places */
		h.tos = 0xa5;
		n = sd_udp_frame_write(f, sizeof(f), &h, payload, sizeof(payload) - 1);
		check(n && (v6f ? f[l2] == 0x6a && (f[l2 + 1] & 0xf0) == 0x50 : f[l2 + 1] == 0xa5),
		      "%s: TOS 0xa5 written as %02x %02x", fam, f[l2], f[l2 + 1]);
		check(!sd_udp_frame_parse(f, n, &req) && req.tos == 0xa5, "%s: TOS 0xa5 read as %02x",
		      fam, req.tos);
		h.tos = 0xff;                   /* DSCP 63, ECN CE */
		n = sd_udp_frame_write(f, sizeof(f), &h, payload, sizeof(payload) - 1);
		check(!sd_udp_frame_parse(f, n, &req) && req.tos == 0xff, "%s: TOS 0xff read as %02x",
		      fam, req.tos);
		sd_udp_frame_reverse(&req, &rep);
		check(rep.tos == 0 && rep.sport == 5060 && rep.dport == 5070 &&
		      !memcmp(rep.daddr, h.saddr, 16) && !memcmp(rep.dst_mac, h.src_mac, 6),
		      "%s: reversed headers (tos %02x)", fam, rep.tos);
		m = sd_udp_frame_write(g, sizeof(g), &rep, payload, sizeof(payload) - 1);
		check(m == n, "%s: reply frame %zu bytes for %zu", fam, m, n);
		if (v6f) {
			check(ip[0] == 0x60 && (ip[1] & 0xf0) == 0, "IPv6: traffic class %x%x in the reply",
			      ip[0] & 0xf, ip[1] >> 4);
		} else {
			check(ip[0] == 0x45 && ip[1] == 0, "IPv4: TOS %02x in the reply", ip[1]);
			check(sd_csum_fold(sd_csum_add(0, ip, 20)) == 0, "IPv4: header checksum invalid");
		}
		check(!sd_udp_frame_parse(g, m, &back) && back.tos == 0 && back.sport == 5060 &&
		      back.payload_len == sizeof(payload) - 1, "%s: reply frame does not read back", fam);
	}
}

/* Every corpus message: a reply for the same dialog, or a reason. */
static int corpus_dir(const char *dir, const char *suffix)
{
	static char msg[65536];
	struct sd_peer src = v4("198.18.0.1", 5070);
	struct dirent *de;
	int n = 0, answered = 0;
	DIR *d = opendir(dir);

	if (!d) {
		check(0, "cannot open %s", dir);
		return 0;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), len;
		struct sd_result rq, rp;
		enum sd_reply_outcome rc, rc2;
		char path[1024], first[sizeof(out)];
		size_t firstlen;
		int m;
		FILE *f;

		if (l < strlen(suffix) || strcmp(de->d_name + l - strlen(suffix), suffix))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		len = fread(msg, 1, sizeof(msg), f);
		fclose(f);
		n++;
		rc = sd_build_503(msg, len, &src, &dflt, out, sizeof(out), &outlen, &dst, &m);
		sd_parse(msg, len, &rq);
		if (rc != SD_R_OK) {
			check(rq.kind != SD_K_REQUEST || rq.method == SD_M_ACK || !(rq.flags & SD_F_CALLID) ||
			      rc == SD_R_NO_VIA || rc == SD_R_NO_FROM || rc == SD_R_NO_TO ||
			      rc == SD_R_NO_CSEQ || rc == SD_R_BAD_VIA || rc == SD_R_BAD_TO ||
			      rc == SD_R_MADDR ||
			      (rc == SD_R_UNTERMINATED && !memmem(msg, len, "\r\n\r\n", 4) &&
			       !memmem(msg, len, "\n\n", 2)),
			      "%s: a readable request got no reply (%s)", de->d_name, sd_reply_outcome_text[rc]);
			continue;
		}
		answered++;
		memcpy(first, out, outlen);
		firstlen = outlen;
		check(dst.family == AF_INET && dst.port && !memcmp(dst.addr, src.addr, 4),
		      "%s: reply not to the source address, or to port 0", de->d_name);
		check(count_headers(out, outlen, "via", 'v') == count_headers(msg, len, "via", 'v'),
		      "%s: %d Via lines in the reply for %d", de->d_name,
		      count_headers(out, outlen, "via", 'v'), count_headers(msg, len, "via", 'v'));
		rc2 = sd_build_503(msg, len, &src, &dflt, out, sizeof(out), &outlen, &dst, &m);
		check(rc2 == SD_R_OK && outlen == firstlen && !memcmp(out, first, outlen),
		      "%s: two builds differ", de->d_name);
		check(rq.kind == SD_K_REQUEST, "%s: answered a %s", de->d_name, sd_kind_names[rq.kind]);
		check(outlen > 4 && !memcmp(out + outlen - 4, "\r\n\r\n", 4),
		      "%s: reply headers not terminated", de->d_name);
		/* read the reply back; one longer than the scan budget (many
		 * Via) is checked on its text */
		sd_parse(out, outlen, &rp);
		if (rp.kind == SD_K_UNPARSED && rp.unparsed == SD_U_BUDGET) {
			char *to = strstr(out, "\r\nTo: "), *eol = to ? strstr(to + 2, "\r\n") : NULL;
			int ours = to && eol && memmem(to, eol - to, ";tag=" SD_TAG_PREFIX,
						      strlen(";tag=" SD_TAG_PREFIX));

			check(!strncmp(out, "SIP/2.0 503 ", 12) && !(rq.flags & SD_F_TO_TAG) == !!ours,
			      "%s: long reply not a 503 with the right tag", de->d_name);
		} else {
			check(rp.kind == SD_K_RESPONSE && rp.status == 503 &&
			      (rp.flags & SD_F_TO_TAG) && (rp.flags & SD_F_CALLID) &&
			      rp.call_id_hash == rq.call_id_hash,
			      "%s: reply is not a 503 of the same dialog with a To tag", de->d_name);
			check(!(rq.flags & SD_F_TO_TAG) == !!(rp.flags & SD_F_TAG_OURS),
			      "%s: tag minted iff the request had none", de->d_name);
		}
		check(outlen <= len + SD_REPLY_MAX_GROWTH, "%s: reply %zu bytes for a %zu-byte request",
		      de->d_name, outlen, len);
	}
	closedir(d);
	printf("%s: %d messages, %d answered\n", dir, n, answered);
	return n;
}

static const char *shared_dir, *own_dir;

static void test_rfc4475(void)
{
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s/rfc4475", shared_dir);
	check(corpus_dir(dir, ".dat") >= 45, "RFC 4475 corpus missing");
}

static void test_corpus(void)
{
	check(corpus_dir(own_dir, ".sip") >= 40, "own corpus missing");
}

/* The value scanner both builders split and check header values with
 * (RFC 3261 7.3.1): a comma inside a quoted string or <...> separates
 * nothing, a quoted pair hides the quote, a '"' inside <...> opens no
 * string (it is not a URI character). */
static void test_header_values(void)
{
	static const struct {
		const char *v;
		size_t first;           /* sd_first_value */
		bool balanced;
	} t[] = {
		{ "", 0, true },
		{ "a, b", 1, true },
		{ "\"x, y\" <sip:a@h>, <sip:b@h>", 16, true },
		{ "<sip:a@h;lr>,<sip:b@h>", 12, true },
		{ "\"q\\\", c\" <sip:a@h>, b", 18, true },
		{ "<sip:a\"b@h>, <sip:c@h>", 11, true },
		{ "\"open, still", 12, false },
		{ "<sip:a@h, b", 11, false },
		{ "\"tail\\", 6, false },
		{ "SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP g", 29, true },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sd_span v = { t[i].v, strlen(t[i].v) };

		check(sd_first_value(v) == t[i].first, "first value of [%s]: %zu, want %zu", t[i].v,
		      sd_first_value(v), t[i].first);
		check(sd_balanced(v) == t[i].balanced, "[%s] balanced: %d, want %d", t[i].v,
		      sd_balanced(v), t[i].balanced);
	}
}

/* Before each subtest: no reply built yet. */
static void fresh(void)
{
	memset(out, 0, sizeof(out));
	outlen = 0;
	memset(&dst, 0, sizeof(dst));
}

static const struct subtest subtests[] = {
	SUBTEST(test_header_values, "header-values"),
	SUBTEST(test_vias, "vias"),
	SUBTEST(test_many_vias, "many-vias"),
	SUBTEST(test_dest, "destination"),
	SUBTEST(test_to_tag, "to-tag"),
	SUBTEST(test_refusals, "refusals"),
	SUBTEST(test_bound, "bound"),
	SUBTEST(test_frames, "frames"),
	SUBTEST(test_rfc4475, "rfc4475"),
	SUBTEST(test_corpus, "corpus"),
};

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s SHARED_TESTDATA_DIR OWN_DATA_DIR [SUBTEST...]\n"
			"  SUBTEST: a name or fnmatch pattern; SD_TEST_REVERSE=1: reverse order\n",
			argv[0]);
		return 2;
	}
	shared_dir = argv[1];
	own_dir = argv[2];
	return run_subtests("reply_test", subtests, sizeof(subtests) / sizeof(subtests[0]), fresh,
			    argc - 3, argv + 3);
}
