// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the 503 builder (user/sip_reply.c): Via copying (order,
 * compact, folded, comma lists), rport/received, tag determinism, no
 * reply to malformed input, the size bound; and over the whole corpus:
 * every request either gets a well-formed 503 for the same dialog or a
 * stated reason for none.
 *
 * usage: reply_test SHARED_TESTDATA_DIR OWN_DATA_DIR
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gate.h"
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

static enum sd_reply_outcome build(const char *req, const struct sd_peer *src,
				   const struct sd_reply_opts *o)
{
	int m;
	enum sd_reply_outcome rc = sd_build_503(req, strlen(req), src, o, out, sizeof(out) - 1,
						&outlen, &m);

	out[rc == SD_R_OK ? outlen : 0] = 0;
	return rc;
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
	const char *p, *q, *r;

	check(build(REQ("v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1 ,\r\n SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n"
			"Via: SIP/2.0/UDP 198.18.0.9:5060;branch=z9hG4bK3\r\n", "<sip:b@198.18.0.2>"),
		    &src, &dflt) == SD_R_OK, "compact/folded/comma Via: no reply");
	p = strstr(out, "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1;received=198.18.0.1\r\n");
	q = strstr(out, "Via: SIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n");
	r = strstr(out, "Via: SIP/2.0/UDP 198.18.0.9:5060;branch=z9hG4bK3\r\n");
	check(p && q && r && p < q && q < r, "Via values not copied in order:\n%s", out);
	check(!strstr(out, "v: "), "compact Via name copied as such");

	/* rport: filled with the source port, received always added */
	build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKr;rport\r\n", "<sip:b@x>"), &src, &dflt);
	check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKr;rport=5070;received=198.18.0.1"),
	      "rport not filled:\n%s", out);
	/* rport in the middle, other source port (NAT) */
	{
		struct sd_peer nat = v4("198.18.7.7", 40001);

		build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;rport;branch=z9hG4bKn\r\n", "<sip:b@x>"), &nat, &dflt);
		check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;rport=40001;branch=z9hG4bKn;received=198.18.7.7"),
		      "rport behind NAT:\n%s", out);
	}
	/* sent-by equal to the source: nothing added */
	build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKs\r\n", "<sip:b@x>"), &src, &dflt);
	check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKs"), "same host changed:\n%s", out);
	/* rport with a value already: left alone */
	build(REQ("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKv;rport=1234\r\n", "<sip:b@x>"), &src, &dflt);
	check(has_line("Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bKv;rport=1234"), "rport=value changed:\n%s", out);
	/* IPv6 sent-by, same and different source */
	{
		struct sd_peer s6 = v6("2001:2::1", 5070), o6 = v6("2001:2::9", 5070);

		build(REQ("Via: SIP/2.0/UDP [2001:2::1]:5070;branch=z9hG4bK6\r\n", "<sip:b@x>"), &s6, &dflt);
		check(has_line("Via: SIP/2.0/UDP [2001:2::1]:5070;branch=z9hG4bK6"), "IPv6 same host:\n%s", out);
		build(REQ("Via: SIP/2.0/UDP [2001:2::1]:5070;branch=z9hG4bK6\r\n", "<sip:b@x>"), &o6, &dflt);
		check(has_line("Via: SIP/2.0/UDP [2001:2::1]:5070;branch=z9hG4bK6;received=2001:2::9"),
		      "IPv6 received:\n%s", out);
	}
	/* LWS around '/' and a folded sent-by (RFC 4475 wsinv) */
	build(REQ("Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n", "<sip:b@x>"), &src, &dflt);
	check(has_line("Via: SIP  /   2.0 /UDP 192.0.2.2;branch=390skdjuw;received=198.18.0.1"),
	      "folded top Via:\n%s", out);
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
	      has_line("Call-ID: fold@x"), "folded values:\n%s", out);
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
	}
	/* the size bound: never more than 256 bytes above the request */
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
		rc = sd_build_503(msg, len, &src, &dflt, out, sizeof(out), &outlen, &m);
		sd_parse(msg, len, &rq);
		if (rc != SD_R_OK) {
			check(rq.kind != SD_K_REQUEST || rq.method == SD_M_ACK || !(rq.flags & SD_F_CALLID) ||
			      rc == SD_R_NO_VIA || rc == SD_R_NO_FROM || rc == SD_R_NO_TO ||
			      rc == SD_R_NO_CSEQ || rc == SD_R_BAD_VIA || rc == SD_R_BAD_TO ||
			      (rc == SD_R_UNTERMINATED && !memmem(msg, len, "\r\n\r\n", 4) &&
			       !memmem(msg, len, "\n\n", 2)),
			      "%s: a readable request got no reply (%s)", de->d_name, sd_reply_outcome_text[rc]);
			continue;
		}
		answered++;
		memcpy(first, out, outlen);
		firstlen = outlen;
		rc2 = sd_build_503(msg, len, &src, &dflt, out, sizeof(out), &outlen, &m);
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

int main(int argc, char **argv)
{
	char dir[1024];

	if (argc != 3) {
		fprintf(stderr, "usage: %s SHARED_TESTDATA_DIR OWN_DATA_DIR\n", argv[0]);
		return 2;
	}
	test_vias();
	test_to_tag();
	test_refusals();
	snprintf(dir, sizeof(dir), "%s/rfc4475", argv[1]);
	check(corpus_dir(dir, ".dat") >= 45, "RFC 4475 corpus missing");
	check(corpus_dir(argv[2], ".sip") >= 40, "own corpus missing");
	printf("reply_test: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
