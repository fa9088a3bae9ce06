// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The calls' details (user/details.c): what `run` keeps of each call from
 * the capture records, for a BYE at the deadline.  Records are fed as the
 * programs would write them, into a map of the pinned layout; the
 * sweep runs against call and attempt tables of the pinned layout.
 *
 * usage: details_test [SUBTEST...] */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "details.h"
#include "sip_parse.h"
#include "snapshot.h"
#include "check.h"

static int fd = -1;

static const char *const invite =
	"INVITE sip:bob@198.18.0.2 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bK-1\r\n"
	"From: <sip:alice@198.18.0.1>;tag=a1\r\nTo: <sip:bob@198.18.0.2>\r\n"
	"Call-ID: det@x\r\nCSeq: %u INVITE\r\nContact: <sip:alice@198.18.0.1:5070>\r\n"
	"Content-Type: application/sdp\r\nContent-Length: 20\r\n\r\n"
	"v=0\r\no=- 0 0 IN IP4\r\n";
static const char *const ok200 =
	"SIP/2.0 200 OK\r\n"
	"Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bK-1\r\n"
	"From: <sip:alice@198.18.0.1>;tag=a1\r\nTo: <sip:bob@198.18.0.2>;tag=b1\r\n"
	"Call-ID: det@x\r\nCSEQ:\r\n %u INVITE\r\nContact: <sip:bob@198.18.0.3>\r\n"
	"Content-Length: 0\r\n\r\n";

static __u64 hash_of(const char *m)
{
	struct sd_result r;

	sd_parse(m, strlen(m), &r);
	return r.call_id_hash;
}

/* A record as capture() writes it: from (ingress) or to (egress) the
 * party at 198.18.0.<party>:port. */
static void rec(struct sd_capture *c, int dir, const char *fmt, unsigned cseq, int party, __u16 port)
{
	memset(c, 0, sizeof(*c));
	c->h.len = snprintf(c->sip, sizeof(c->sip), fmt, cseq);
	c->h.dir = dir;
	c->h.kind = !strncmp(c->sip, "SIP/2.0", 7) ? SD_K_RESPONSE : SD_K_REQUEST;
	c->h.status = c->h.kind == SD_K_RESPONSE ? 200 : 0;
	c->h.call_id_hash = hash_of(c->sip);
	c->h.hop.family = 4;
	c->h.hop.l2_len = 14;
	c->h.hop.party_addr[0] = 198;
	c->h.hop.party_addr[1] = 18;
	c->h.hop.party_addr[3] = party;
	c->h.hop.server_addr[0] = 198;
	c->h.hop.server_addr[1] = 18;
	c->h.hop.server_addr[3] = 2;
	c->h.hop.party_port = port;
	c->h.hop.server_port = 5060;
}

static int get(__u64 key, struct sd_details *d)
{
	return bpf_map_lookup_elem(fd, &key, d) ? -errno : 0;
}

static void fresh(void)
{
	__u64 k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

static void test_header_section(void)
{
	static const struct { const char *m; size_t want; } cases[] = {
		{ "A\r\nB: c\r\n\r\nbody", 11 },
		{ "A\nB: c\n\nbody", 8 },
		{ "A\r\nB: c\r\nD: e", 9 },          /* cut: the complete lines */
		{ "A\r\nB: c", 3 },
		{ "no line end at all", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ASSERT_EQ(sd_header_section_len(cases[i].m, strlen(cases[i].m)), cases[i].want,
			  cases[i].m);
}

static void test_keep(void)
{
	static const char in[] =
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK-1\r\nv: SIP/2.0/UDP b\r\n"
		"f: <sip:a@x>;tag=1\r\nt: <sip:b@y>\r\n ;tag=2\r\ni: k@x\r\nCSeq: 1 INVITE\r\n"
		"Record-Route: <sip:p1;lr>\r\nrecord-route: <sip:p2;lr>\r\nMax-Forwards: 70\r\n"
		"Allow: INVITE\r\nm: <sip:b@198.18.0.3>\r\nContent-Length: 0\r\n\r\n";
	static const char want[] =
		"SIP/2.0 200 OK\r\n"
		"f: <sip:a@x>;tag=1\r\nt: <sip:b@y>\r\n ;tag=2\r\ni: k@x\r\nCSeq: 1 INVITE\r\n"
		"Record-Route: <sip:p1;lr>\r\nrecord-route: <sip:p2;lr>\r\nMax-Forwards: 70\r\n"
		"m: <sip:b@198.18.0.3>\r\n\r\n";
	char out[SD_DETAILS_MSG_MAX];
	size_t n = sd_details_keep(in, strlen(in), out, sizeof(out));

	check(n == strlen(want) && !memcmp(out, want, n), "compact names, folds, the line after "
	      "Record-Route, the empty line (%zu: %.*s)", n, (int)n, out);
	/* cut right after the Record-Route lines: nothing follows them in
	 * what is kept either (the builder then cannot vouch for the set) */
	n = sd_details_keep(in, strstr(in, "Max-Forwards") - in, out, sizeof(out));
	check(n > 27 && !memmem(out, n, "\r\n\r\n", 4) && !memcmp(out + n - 27, "record-route: <sip:p2;lr>\r\n", 27),
	      "a cut section ends where the copy did (%zu: %.*s)", n, (int)n, out);
	ASSERT_EQ(sd_details_keep(in, strlen(in), out, 40), 0, "too big for the room given");
	ASSERT_EQ(sd_details_keep("no line end", 11, out, sizeof(out)), 0, "no start line");
}

static void test_uas(void)
{
	static struct sd_capture c;
	struct sd_details d;
	__u64 key;

	fresh();
	rec(&c, SD_CAP_INGRESS, invite, 1, 1, 5070);
	key = c.h.call_id_hash;
	ASSERT_EQ(sd_details_apply(fd, &c), 1, "the INVITE is kept");
	ASSERT_EQ(sd_details_apply(fd, &c), 0, "its retransmission adds nothing");
	rec(&c, SD_CAP_EGRESS, ok200, 1, 1, 5070);
	ASSERT_EQ(sd_details_apply(fd, &c), 1, "the server's 200 is kept");
	ASSERT_EQ(get(key, &d), 0, "details of the call");
	check(d.flags == (SD_DT_INVITE_IN | SD_DT_2XX_OUT), "a UAS call: INVITE in, 2xx out (flags %#x)",
	      d.flags);
	{
		static const char want[] =
			"INVITE sip:bob@198.18.0.2 SIP/2.0\r\n"
			"From: <sip:alice@198.18.0.1>;tag=a1\r\nTo: <sip:bob@198.18.0.2>\r\n"
			"Call-ID: det@x\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@198.18.0.1:5070>\r\n\r\n";

		check(d.invite_len == strlen(want) && !memcmp(d.invite, want, d.invite_len),
		      "the INVITE's lines a BYE needs, no Via, no body (%u bytes: %.*s)", d.invite_len,
		      (int)d.invite_len, d.invite);
	}
	check(!memcmp(d.resp, "SIP/2.0 200 OK\r\nFrom:", 20) && !memmem(d.resp, d.resp_len, "Via", 3) &&
	      memmem(d.resp, d.resp_len, "CSEQ:\r\n 1 INVITE\r\n", 18),
	      "the 2xx's lines, the folded CSeq with its fold: %u bytes", d.resp_len);
	ASSERT_EQ(d.cseq_caller, 1, "the caller's CSeq (the INVITE's)");
	ASSERT_EQ(d.caller.party_addr[3], 1, "the caller's hop");
	/* the caller answers a re-INVITE of the server (CSeq 7, folded) */
	rec(&c, SD_CAP_INGRESS, ok200, 7, 1, 5070);
	ASSERT_EQ(sd_details_apply(fd, &c), 1, "a re-INVITE's 2xx from the caller");
	get(key, &d);
	check(d.cseq_callee == 7 && d.cseq_caller == 1, "it raises the server's side: callee %u, caller %u",
	      d.cseq_callee, d.cseq_caller);
	check(d.flags == (SD_DT_INVITE_IN | SD_DT_2XX_OUT) && !memcmp(d.resp, "SIP/2.0 200", 11),
	      "and leaves the dialog's 2xx as it was");
	/* the server answers the caller's re-INVITE (CSeq 3) */
	rec(&c, SD_CAP_EGRESS, ok200, 3, 1, 5070);
	sd_details_apply(fd, &c);
	get(key, &d);
	check(d.cseq_caller == 3 && d.cseq_callee == 7, "the caller's re-INVITE: caller %u, callee %u",
	      d.cseq_caller, d.cseq_callee);
	/* a late INVITE retransmission does not replace anything */
	rec(&c, SD_CAP_INGRESS, invite, 9, 1, 5070);
	ASSERT_EQ(sd_details_apply(fd, &c), 0, "an INVITE after the 2xx");
}

static void test_proxy(void)
{
	static struct sd_capture c;
	struct sd_details d;
	__u64 key;

	fresh();
	rec(&c, SD_CAP_INGRESS, invite, 1, 1, 5070);
	key = c.h.call_id_hash;
	sd_details_apply(fd, &c);
	/* a challenge and the retry with CSeq 2 replaces the INVITE */
	rec(&c, SD_CAP_INGRESS, invite, 2, 1, 5070);
	ASSERT_EQ(sd_details_apply(fd, &c), 1, "the retry after a challenge");
	/* the callee (198.18.0.3) answers, then the server forwards it */
	rec(&c, SD_CAP_INGRESS, ok200, 2, 3, 5080);
	ASSERT_EQ(sd_details_apply(fd, &c), 1, "the callee's 200");
	rec(&c, SD_CAP_EGRESS, ok200, 2, 1, 5070);
	ASSERT_EQ(sd_details_apply(fd, &c), 0, "the same 200 forwarded to the caller adds nothing");
	get(key, &d);
	check(d.flags == (SD_DT_INVITE_IN | SD_DT_2XX_IN), "a proxied call: INVITE in, 2xx in (%#x)",
	      d.flags);
	check(d.cseq_caller == 2 && strstr(d.invite, "CSeq: 2 INVITE"), "the retry is the INVITE kept");
	check(d.callee.party_addr[3] == 3 && d.callee.party_port == 5080 && d.caller.party_addr[3] == 1,
	      "both hops: caller .%u, callee .%u:%u", d.caller.party_addr[3], d.callee.party_addr[3],
	      d.callee.party_port);
	/* re-INVITE from the callee: the caller's 200 comes in from .1 */
	rec(&c, SD_CAP_INGRESS, ok200, 40, 1, 5070);
	sd_details_apply(fd, &c);
	get(key, &d);
	ASSERT_EQ(d.cseq_callee, 40, "the callee's re-INVITE, answered by the caller");
	/* re-INVITE from the caller: the callee's 200 comes in from .3 */
	rec(&c, SD_CAP_INGRESS, ok200, 5, 3, 5080);
	sd_details_apply(fd, &c);
	get(key, &d);
	ASSERT_EQ(d.cseq_caller, 5, "the caller's re-INVITE, answered by the callee");
	/* a 2xx from a stranger with this Call-ID changes nothing */
	rec(&c, SD_CAP_INGRESS, ok200, 99, 77, 5060);
	ASSERT_EQ(sd_details_apply(fd, &c), 0, "a 2xx from a party not in the call");
}

static void test_uac(void)
{
	static struct sd_capture c;
	struct sd_details d;

	fresh();
	/* the server placed the call: only the callee's 200 is seen */
	rec(&c, SD_CAP_INGRESS, ok200, 11, 3, 5060);
	ASSERT_EQ(sd_details_apply(fd, &c), 1, "the callee's 200 of a call the server placed");
	get(c.h.call_id_hash, &d);
	check(d.flags == SD_DT_2XX_IN && d.cseq_caller == 11, "UAC: 2xx in only, the server's CSeq %u",
	      d.cseq_caller);
	/* a 2xx the server sends for a call whose INVITE was not seen */
	fresh();
	rec(&c, SD_CAP_EGRESS, ok200, 1, 1, 5070);
	ASSERT_EQ(sd_details_apply(fd, &c), 0, "a UAS's 2xx without its INVITE is not kept");
	ASSERT_EQ(get(c.h.call_id_hash, &d), -ENOENT, "nothing in the table");
}

static void test_sweep(void)
{
	static struct sd_capture c;
	struct sd_config cfg = { 0 };
	struct sd_dialog dl = { .state = SD_D_CONFIRMED };
	int calls = bpf_map_create(BPF_MAP_TYPE_HASH, "t_calls", 8, sizeof(struct sd_dialog), 64, NULL);
	int atts = bpf_map_create(BPF_MAP_TYPE_HASH, "t_atts", 8, sizeof(struct sd_dialog), 64, NULL);
	__u64 up = 0, attempt = 0, gone = 0;
	char cid[32];
	int n;

	ASSERT_TRUE(calls >= 0 && atts >= 0, "tables");
	fresh();
	for (int i = 0; i < 30; i++) {
		static char fmt[1024];

		snprintf(cid, sizeof(cid), "sw-%d@x", i);
		snprintf(fmt, sizeof(fmt), "INVITE sip:b@x SIP/2.0\r\nCall-ID: %s\r\nCSeq: %%u INVITE\r\n\r\n",
			 cid);
		rec(&c, SD_CAP_INGRESS, fmt, 1, 1, 5070);
		sd_details_apply(fd, &c);
		dl.last_ns = sd_now_ns();
		if (i % 3 == 0) {
			bpf_map_update_elem(calls, &c.h.call_id_hash, &dl, BPF_ANY);
			up = c.h.call_id_hash;
		} else if (i % 3 == 1) {
			dl.state = SD_D_ATTEMPT;
			bpf_map_update_elem(atts, &c.h.call_id_hash, &dl, BPF_ANY);
			dl.state = SD_D_CONFIRMED;
			attempt = c.h.call_id_hash;
		} else {
			gone = c.h.call_id_hash;
		}
	}
	/* in slices of 7: the walk goes on where it stopped */
	n = 0;
	for (int i = 0; i < 6; i++) {
		int k = sd_details_sweep(fd, calls, atts, &cfg, 7);

		ASSERT_TRUE(k >= 0, "a sweep slice");
		n += k > 0 ? k : 0;
	}
	ASSERT_EQ(n, 10, "details of calls no table holds, removed");
	{
		struct sd_details d;

		check(!get(up, &d) && !get(attempt, &d) && get(gone, &d) == -ENOENT,
		      "kept: a call up, an attempt; removed: the one gone");
	}
	/* a call that ended (state ENDED) goes too */
	dl.state = SD_D_ENDED;
	bpf_map_update_elem(calls, &up, &dl, BPF_ANY);
	for (int i = 0; i < 3; i++)
		sd_details_sweep(fd, calls, atts, &cfg, 64);
	{
		struct sd_details d;

		ASSERT_EQ(get(up, &d), -ENOENT, "an ended call's details");
	}
	close(calls);
	close(atts);
}

int main(int argc, char **argv)
{
	static const struct subtest subtests[] = {
		SUBTEST(test_header_section, "header-section"),
		SUBTEST(test_keep, "keep"),
		SUBTEST(test_uas, "uas"),
		SUBTEST(test_proxy, "proxy"),
		SUBTEST(test_uac, "uac"),
		SUBTEST(test_sweep, "sweep"),
	};

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_details", 8, sizeof(struct sd_details), 1024, NULL);
	if (fd < 0) {
		fprintf(stderr, "details_test: cannot create a map: %s\n", strerror(errno));
		return 1;
	}
	return run_subtests("details_test", subtests, sizeof(subtests) / sizeof(subtests[0]), fresh,
			    argc - 1, argv + 1);
}
