// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the XDP gate, in the manner of the kernel's prog_tests:
 * crafted frames through BPF_PROG_TEST_RUN of the real program, checks
 * on the returned action, the recorded verdict and the counters.
 *
 * usage: gate_test SHARED_TESTDATA_DIR OWN_DATA_DIR [SUBTEST...]
 *
 * Subtests (the table at the end) each start from fresh(): none depends
 * on another having run before it (SD_TEST_REVERSE=1 runs them backwards).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "gate.h"
#include "log.h"
#include "packet.h"
#include "sip_scan.h"
#include "tester.h"
#include "snapshot.h"
#include "sipdrain.skel.h"
#include "check.h"


static __u64 fnv1a(const char *s)
{
	__u64 h = SD_FNV_OFFSET;

	for (; *s; s++)
		h = SD_FNV_STEP(h, *s);
	return h;
}

static size_t read_file(const char *path, __u8 *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static struct sd_tester T;
static __u8 frame[SD_FRAME_MAX];

static const struct sd_wrap wraps[4] = {
	{ .ipv6 = 0, .vlans = 0, .sport = 5070, .dport = 5060 },
	{ .ipv6 = 1, .vlans = 0, .sport = 5070, .dport = 5060 },
	{ .ipv6 = 0, .vlans = 1, .sport = 5070, .dport = 5060 },
	{ .ipv6 = 1, .vlans = 2, .sport = 5070, .dport = 5060 },
};
static const char *const wrap_names[4] = { "ipv4", "ipv6", "ipv4+vlan", "ipv6+2vlan" };

static int run_msg(const struct sd_wrap *w, const void *msg, size_t len, struct sd_result *r)
{
	size_t flen = sd_build_frame(frame, sizeof(frame), w, msg, len);
	int err;

	if (!flen)
		return -E2BIG;
	err = sd_tester_run(&T, frame, flen, r);
	return err;
}

/* msg is built before the call: its length is taken here, not in an
 * argument list whose evaluation order C leaves open. */
static int run_str(const struct sd_wrap *w, const char *msg, struct sd_result *r)
{
	return run_msg(w, msg, strlen(msg), r);
}

static void set_state(__u32 state, __u32 allow)
{
	T.cfg.state = state;
	T.cfg.allow_mask = allow;
	if (sd_tester_apply(&T)) {
		fprintf(stderr, "cannot set state\n");
		exit(2);
	}
}

/* The kernel program and the userspace parser agree on these bytes. */
static void check_differential(const char *name, const void *msg, size_t len,
			       const struct sd_result *k)
{
	struct sd_result u;

	sd_parse(msg, len, &u);
	check(u.kind == k->kind && u.method == k->method && u.flags == k->flags &&
	      u.call_id_hash == k->call_id_hash && u.status == k->status &&
	      u.cseq_method == k->cseq_method && u.unparsed == k->unparsed,
	      "%s (%zu bytes): XDP and userspace parser disagree: kind %d/%d method %d/%d "
	      "flags %#x/%#x", name, len, k->kind, u.kind, k->method, u.method,
	      k->flags, u.flags);
}

static int method_by_token(const char *tok)
{
	int m = sd_method_by_name(tok);

	return m < 0 ? SD_M_OTHER : m;
}

static int kind_by_name(const char *k)
{
	for (int i = 0; i < SD_K_MAX; i++)
		if (!strcmp(k, sd_kind_names[i]))
			return i;
	return -1;
}

/* ---- one corpus message, every wrapping, every cut ----------------- */
struct expect {
	int kind, method, to_tag, tag_ours, status_set;
	__u64 status;
	const char *callid;     /* NULL: do not check */
	int cseq_method;        /* -1: do not check */
};

static void check_message(const char *name, const __u8 *msg, size_t len,
			  const struct expect *e)
{
	struct sd_result r, full;
	int err;

	set_state(SD_SERVING, 0);
	for (int w = 0; w < 4; w++) {
		err = run_msg(&wraps[w], msg, len, &r);
		check(!err, "%s/%s: test run failed: %s", name, wrap_names[w], strerror(-err));
		if (err)
			continue;
		check(r.kind == e->kind, "%s/%s: kind %s, want %s", name, wrap_names[w],
		      sd_kind_names[r.kind % SD_K_MAX], sd_kind_names[e->kind]);
		if (e->kind == SD_K_REQUEST)
			check(r.method == e->method, "%s/%s: method %s, want %s", name,
			      wrap_names[w], sd_method_names[r.method % SD_M_MAX],
			      sd_method_names[e->method]);
		check(!!(r.flags & SD_F_TO_TAG) == e->to_tag, "%s/%s: to_tag %d, want %d",
		      name, wrap_names[w], !!(r.flags & SD_F_TO_TAG), e->to_tag);
		check(!!(r.flags & SD_F_TAG_OURS) == e->tag_ours, "%s/%s: tag_ours %d, want %d",
		      name, wrap_names[w], !!(r.flags & SD_F_TAG_OURS), e->tag_ours);
		if (e->callid)
			check((r.flags & SD_F_CALLID) && r.call_id_hash == fnv1a(e->callid),
			      "%s/%s: Call-ID hash %016llx, want FNV(%s)", name, wrap_names[w],
			      (unsigned long long)r.call_id_hash, e->callid);
		if (e->status_set)
			check(r.status == e->status, "%s/%s: status %llu, want %llu", name,
			      wrap_names[w], (unsigned long long)r.status,
			      (unsigned long long)e->status);
		if (e->cseq_method >= 0)
			check((r.flags & SD_F_CSEQ) && r.cseq_method == e->cseq_method,
			      "%s/%s: CSeq method %d, want %d", name, wrap_names[w],
			      r.cseq_method, e->cseq_method);
		check(r.l3 == (wraps[w].ipv6 ? 6 : 4), "%s/%s: l3 %d", name, wrap_names[w], r.l3);
		check_differential(name, msg, len, &r);
	}

	/* Every prefix, as if the datagram were cut there, while DRAINING:
	 * no failure, the same verdict as the userspace parser, and never a
	 * redirect when the whole message is in-dialog. */
	set_state(SD_DRAINING, 0);
	if (run_msg(&wraps[0], msg, len, &full))
		return;
	for (size_t cut = 0; cut < len; cut++) {
		err = run_msg(&wraps[0], msg, cut, &r);
		if (err) {
			check(0, "%s cut at %zu: test run failed: %s", name, cut, strerror(-err));
			break;
		}
		if ((full.flags & SD_F_TO_TAG) && r.verdict == SD_V_REDIRECT) {
			check(0, "%s cut at %zu: in-dialog message redirected", name, cut);
			break;
		}
		if (r.kind == SD_K_UNPARSED && r.verdict != SD_V_PASS) {
			check(0, "%s cut at %zu: unparsed but not passed", name, cut);
			break;
		}
		check_differential(name, msg, cut, &r);
	}
	set_state(SD_SERVING, 0);
}

/* ---- corpora: a TSV of expectations beside the messages ------------- */
#define TSV_COLS 16

/* A row's expectation from its columns; 0 to skip the row. */
typedef int (*row_fn)(char **col, int ncols, struct expect *e);

/* Every row of dir/tsv after the header: the message dir/<first column>
 * through check_message.  Returns how many were checked. */
static int check_corpus(const char *dir, const char *tsv, row_fn expect_of)
{
	char path[512], line[4096];
	static __u8 msg[65536];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, tsv);
	f = fopen(path, "r");
	if (!f) {
		check(0, "cannot open %s", path);
		return 0;
	}
	if (!fgets(line, sizeof(line), f))     /* header */
		line[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		char *col[TSV_COLS] = { 0 }, *p = line;
		struct expect e = { .cseq_method = -1 };
		int nc = 0;

		line[strcspn(line, "\n")] = 0;
		while (nc < TSV_COLS && (col[nc] = strsep(&p, "\t")))
			nc++;
		if (!expect_of(col, nc, &e))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, col[0]);
		check_message(col[0], msg, read_file(path, msg, sizeof(msg)), &e);
		n++;
	}
	fclose(f);
	return n;
}

/* RFC 4475 manifest.tsv: file sec cat kind method status to_has_tag
 * call_id cseq_num cseq_method counts bytes terminated notes */
static int rfc4475_row(char **col, int nc, struct expect *e)
{
	if (nc < 13 || strcmp(col[12], "True"))
		return 0;               /* header section not terminated */
	e->kind = kind_by_name(col[3]);
	e->method = strcmp(col[4], "None") ? method_by_token(col[4]) : SD_M_OTHER;
	e->to_tag = !strcmp(col[6], "True");
	if (strcmp(col[7], "None"))
		e->callid = col[7];
	if (e->kind == SD_K_RESPONSE) {
		e->status_set = 1;
		e->status = strtoull(col[5], NULL, 10);
		e->cseq_method = method_by_token(col[9]);
	}
	return 1;
}

/* tests/data/expected.tsv: file kind method to_tag tag_ours call_id */
static int corpus_row(char **col, int nc, struct expect *e)
{
	if (nc < 6)
		return 0;
	e->kind = kind_by_name(col[1]);
	check(e->kind >= 0, "%s: bad kind %s in expected.tsv", col[0], col[1]);
	if (e->kind == SD_K_RESPONSE)
		e->cseq_method = method_by_token(col[2]);
	else
		e->method = method_by_token(col[2]);
	e->to_tag = atoi(col[3]);
	e->tag_ours = atoi(col[4]);
	if (strcmp(col[5], "-"))
		e->callid = col[5];
	return 1;
}

static const char *shared_dir, *own_dir;

static void test_rfc4475(void)
{
	char dir[512];
	int n;

	snprintf(dir, sizeof(dir), "%s/rfc4475", shared_dir);
	n = check_corpus(dir, "manifest.tsv", rfc4475_row);
	ASSERT_GE(n, 45, "RFC 4475 messages with terminated headers");
	printf("rfc4475: %d messages x 4 wrappings, every cut\n", n);
}

static void test_corpus(void)
{
	int n;

	n = check_corpus(own_dir, "expected.tsv", corpus_row);
	ASSERT_GE(n, 40, "own corpus messages");
	printf("corpus: %d messages x 4 wrappings, every cut\n", n);
}

/* ---- the DESIGN.md state table -------------------------------------- */
static char *mk(char *buf, const char *method, const char *to, const char *callid)
{
	sprintf(buf, "%s sip:b@198.18.0.2 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bK-st\r\n"
		"From: <sip:a@198.18.0.1>;tag=f\r\nTo: %s\r\nCall-ID: %s\r\n"
		"CSeq: 1 %s\r\nContent-Length: 0\r\n\r\n", method, to, callid, method);
	return buf;
}

struct cell {
	const char *what;
	const char *msg;
	__u32 state, allow;
	int verdict;            /* enum sd_verdict */
	__u32 action;           /* XDP action (redirect: PASS fallback in test_run) */
	int counter;            /* counter that must move by one, or -1 */
};

static void run_cell(const struct cell *c)
{
	struct sd_counters before, after;
	struct sd_result r;
	char name[128];
	int err;

	snprintf(name, sizeof(name), "%s/%s", sd_state_names[c->state], c->what);
	set_state(c->state, c->allow);
	sd_tester_counters(&T, &before);
	err = run_msg(&wraps[0], c->msg, strlen(c->msg), &r);
	if (!ASSERT_OK(err, name))
		return;
	sd_tester_counters(&T, &after);
	if (!ASSERT_EQ(r.verdict, c->verdict, name))
		fprintf(stderr, "  verdict %s, want %s\n", sd_verdict_names[r.verdict % SD_V_MAX],
			sd_verdict_names[c->verdict]);
	ASSERT_EQ(r.xdp_action, c->action, name);
	{
		int vc = SD_C_verdict_pass + c->verdict;
		__u64 d = ((__u64 *)&after)[vc] - ((__u64 *)&before)[vc];

		check(d == 1, "%s: counter %s moved by %llu", name, sd_counter_names[vc],
		      (unsigned long long)d);
	}
	if (c->counter >= 0) {
		__u64 d = ((__u64 *)&after)[c->counter] - ((__u64 *)&before)[c->counter];

		check(d == 1, "%s: counter %s moved by %llu", name, sd_counter_names[c->counter],
		      (unsigned long long)d);
	}
	if (c->verdict == SD_V_REDIRECT)        /* no socket in a test run */
		ASSERT_EQ(after.redirect_fallback, before.redirect_fallback + 1, name);
}

static void test_state_table(void)
{
	static char inv[1024], inv_known[1024], opt[1024], reg[1024], cancel[1024],
		bye[1024], reinv[1024], ack_ours[1024], ack_other[1024], info_new[1024];
	static const char resp[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bK-r\r\n"
		"From: <sip:a@x>;tag=f\r\nTo: <sip:b@x>;tag=t\r\nCall-ID: resp@x\r\nCSeq: 1 INVITE\r\n\r\n";
	static const char ka[] = "\r\n\r\n";
	static const char unparsed[] = "INVITE sip:b@x SIP/2.0\r\nTo: <sip:b@x>\r\n";
	const __u32 P = XDP_PASS, D = XDP_DROP;
	struct sd_result r;

	mk(inv, "INVITE", "<sip:b@198.18.0.2>", "new-call@x");
	mk(inv_known, "INVITE", "<sip:b@198.18.0.2>", "known-call@x");
	mk(opt, "OPTIONS", "<sip:b@198.18.0.2>", "opt@x");
	mk(reg, "REGISTER", "<sip:b@198.18.0.2>", "reg@x");
	mk(cancel, "CANCEL", "<sip:b@198.18.0.2>", "known-call@x");
	mk(bye, "BYE", "<sip:b@198.18.0.2>;tag=t1", "up@x");
	mk(reinv, "INVITE", "<sip:b@198.18.0.2>;tag=t1", "up@x");
	mk(ack_ours, "ACK", "<sip:b@198.18.0.2>;tag=" SD_TAG_PREFIX "00112233", "new-call@x");
	mk(ack_other, "ACK", "<sip:b@198.18.0.2>;tag=t1", "up@x");
	mk(info_new, "INFO", "<sip:b@198.18.0.2>", "info@x");

	/* SERVING: an INVITE without tag is recorded; its retransmission
	 * (or re-send after 401/407) passes a later drain */
	const struct cell serving[] = {
		{ "new INVITE (recorded)", inv_known, SD_SERVING, 0, SD_V_PASS, P, SD_C_dialogs_recorded },
		{ "OPTIONS", opt, SD_SERVING, 0, SD_V_PASS, P, SD_C_req_options },
		{ "CANCEL", cancel, SD_SERVING, 0, SD_V_PASS, P, SD_C_req_cancel },
		{ "in-dialog BYE", bye, SD_SERVING, 0, SD_V_PASS, P, SD_C_req_in_dialog },
		{ "re-INVITE", reinv, SD_SERVING, 0, SD_V_PASS, P, SD_C_req_in_dialog },
		{ "ACK for our 503", ack_ours, SD_SERVING, 0, SD_V_DROP, D, SD_C_ack_absorbed },
		{ "ACK of a call", ack_other, SD_SERVING, 0, SD_V_PASS, P, SD_C_req_ack },
		{ "response", resp, SD_SERVING, 0, SD_V_PASS, P, SD_C_resp_2xx },
		{ "keep-alive", ka, SD_SERVING, 0, SD_V_PASS, P, SD_C_keepalives },
		{ "unparsed", unparsed, SD_SERVING, 0, SD_V_PASS, P, SD_C_unparsed_truncated },
	};
	const struct cell draining[] = {
		{ "new INVITE", inv, SD_DRAINING, 0, SD_V_REDIRECT, P, SD_C_verdict_redirect },
		{ "INVITE already received", inv_known, SD_DRAINING, 0, SD_V_PASS, P, SD_C_drain_known_callid },
		{ "OPTIONS", opt, SD_DRAINING, 0, SD_V_REDIRECT, P, SD_C_req_options },
		{ "REGISTER", reg, SD_DRAINING, 0, SD_V_REDIRECT, P, SD_C_req_register },
		{ "REGISTER allowed", reg, SD_DRAINING, 1U << SD_M_REGISTER, SD_V_PASS, P, SD_C_drain_allowed },
		{ "INFO out of dialog", info_new, SD_DRAINING, 0, SD_V_REDIRECT, P, SD_C_req_info },
		{ "CANCEL", cancel, SD_DRAINING, 0, SD_V_PASS, P, SD_C_drain_allowed },
		{ "in-dialog BYE", bye, SD_DRAINING, 0, SD_V_PASS, P, SD_C_req_in_dialog },
		{ "re-INVITE", reinv, SD_DRAINING, 0, SD_V_PASS, P, SD_C_req_in_dialog },
		{ "ACK for our 503", ack_ours, SD_DRAINING, 0, SD_V_DROP, D, SD_C_ack_absorbed },
		{ "ACK of a call", ack_other, SD_DRAINING, 0, SD_V_PASS, P, SD_C_req_ack },
		{ "response", resp, SD_DRAINING, 0, SD_V_PASS, P, SD_C_resp_2xx },
		{ "keep-alive", ka, SD_DRAINING, 0, SD_V_PASS, P, SD_C_keepalives },
		{ "unparsed", unparsed, SD_DRAINING, 0, SD_V_PASS, P, SD_C_unparsed },
	};
	const struct cell offline[] = {
		{ "new INVITE", inv, SD_OFFLINE, 0, SD_V_REDIRECT, P, SD_C_verdict_redirect },
		{ "INVITE already received", inv_known, SD_OFFLINE, 0, SD_V_REDIRECT, P, SD_C_req_invite },
		{ "CANCEL", cancel, SD_OFFLINE, 0, SD_V_REDIRECT, P, SD_C_req_cancel },
		{ "in-dialog BYE", bye, SD_OFFLINE, 0, SD_V_REDIRECT, P, SD_C_req_bye },
		{ "re-INVITE", reinv, SD_OFFLINE, 0, SD_V_REDIRECT, P, SD_C_req_in_dialog },
		{ "ACK for our 503", ack_ours, SD_OFFLINE, 0, SD_V_DROP, D, SD_C_ack_absorbed },
		{ "ACK of a call", ack_other, SD_OFFLINE, 0, SD_V_DROP, D, SD_C_ack_absorbed },
		{ "response", resp, SD_OFFLINE, 0, SD_V_DROP, D, SD_C_responses_dropped },
		{ "keep-alive", ka, SD_OFFLINE, 0, SD_V_PASS, P, SD_C_keepalives },
	};
	for (size_t i = 0; i < sizeof(serving) / sizeof(serving[0]); i++)
		run_cell(&serving[i]);
	for (size_t i = 0; i < sizeof(draining) / sizeof(draining[0]); i++)
		run_cell(&draining[i]);
	for (size_t i = 0; i < sizeof(offline) / sizeof(offline[0]); i++)
		run_cell(&offline[i]);

	/* the dialog table holds the recorded Call-ID under its hash */
	{
		__u64 key = fnv1a("known-call@x");
		struct sd_dialog d;

		check(!bpf_map_lookup_elem(T.att_fd, &key, &d) && d.state == SD_D_ATTEMPT &&
		      d.hits >= 2, "attempt table: known-call@x missing or not hit");
		key = fnv1a("new-call@x");
		check(bpf_map_lookup_elem(T.att_fd, &key, &d) != 0 &&
		      bpf_map_lookup_elem(T.calls_fd, &key, &d) != 0,
		      "dialog tables: an INVITE refused while draining was recorded");
	}
	/* a drained INVITE never reaches the table, so its retransmission
	 * is refused too */
	set_state(SD_DRAINING, 0);
	run_msg(&wraps[0], inv, strlen(inv), &r);
	ASSERT_EQ(r.verdict, SD_V_REDIRECT, "retransmitted refused INVITE: verdict");
	/* an unknown state value fails open */
	set_state(7, 0);
	run_msg(&wraps[0], inv, strlen(inv), &r);
	check(r.verdict == SD_V_PASS && r.xdp_action == XDP_PASS, "unknown state does not pass");
	set_state(SD_SERVING, 0);
	printf("state table: %zu cells\n", sizeof(serving) / sizeof(serving[0]) +
	       sizeof(draining) / sizeof(draining[0]) + sizeof(offline) / sizeof(offline[0]));
}

/* ---- traffic that is not SIP to a gated port ------------------------- */
static void expect_untouched(const char *what, const __u8 *f, size_t len, int counter)
{
	struct sd_counters before, after;
	struct sd_result r;
	int err;

	sd_tester_counters(&T, &before);
	err = sd_tester_run(&T, f, len, &r);
	sd_tester_counters(&T, &after);
	ASSERT_OK(err, what);
	ASSERT_EQ(r.xdp_action, XDP_PASS, what);
	check(r.kind == SD_K_NOT_SIP && r.verdict == SD_V_PASS, "%s: classified as %s", what,
	      sd_kind_names[r.kind % SD_K_MAX]);
	check(((__u64 *)&after)[counter] == ((__u64 *)&before)[counter] + 1,
	      "%s: counter %s not bumped", what, sd_counter_names[counter]);
	ASSERT_TRUE(after.requests == before.requests &&
		    after.verdict_redirect == before.verdict_redirect, what);
}

static void test_non_sip(void)
{
	static char inv[1024];
	__u8 f[2048];
	size_t len;
	struct sd_wrap w = wraps[0];
	struct sd_result r;

	mk(inv, "INVITE", "<sip:b@198.18.0.2>", "nonsip@x");
	/* everything below is examined while OFFLINE: the strictest state */
	set_state(SD_OFFLINE, 0);

	/* ARP */
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	f[12] = 0x08, f[13] = 0x06;
	expect_untouched("ARP", f, 60, SD_C_other_traffic);

	/* ICMP echo carrying an INVITE */
	len = sd_build_frame(f, sizeof(f), &w, inv, strlen(inv));
	f[14 + 9] = 1;
	expect_untouched("ICMP", f, len, SD_C_other_traffic);

	/* TCP to 5060 */
	len = sd_build_frame(f, sizeof(f), &w, inv, strlen(inv));
	f[14 + 9] = 6;
	expect_untouched("TCP to 5060", f, len, SD_C_other_traffic);

	/* UDP to a port that is not gated, IPv4 and IPv6 */
	w.dport = 5061;
	len = sd_build_frame(f, sizeof(f), &w, inv, strlen(inv));
	expect_untouched("UDP to 5061", f, len, SD_C_other_traffic);
	w.ipv6 = 1;
	len = sd_build_frame(f, sizeof(f), &w, inv, strlen(inv));
	expect_untouched("UDP6 to 5061", f, len, SD_C_other_traffic);
	w = wraps[0];

	/* IPv4 fragments: first (MF) and later (offset) */
	len = sd_build_frame(f, sizeof(f), &w, inv, strlen(inv));
	f[14 + 6] = 0x20;
	expect_untouched("IPv4 first fragment", f, len, SD_C_ip_fragments);
	f[14 + 6] = 0x00, f[14 + 7] = 0x10;
	expect_untouched("IPv4 later fragment", f, len, SD_C_ip_fragments);

	/* IPv6 fragment header */
	{
		__u8 g[2048];
		size_t l6;

		w.ipv6 = 1;
		l6 = sd_build_frame(g, sizeof(g), &w, inv, strlen(inv));
		memcpy(f, g, 54);
		f[14 + 6] = 44;                         /* next: fragment */
		f[54] = 17, f[55] = 0, f[56] = 0, f[57] = 1;   /* offset 0, MF */
		memset(f + 58, 0, 4);
		memcpy(f + 62, g + 54, l6 - 54);
		f[14 + 4] = (l6 - 54 + 8) >> 8, f[14 + 5] = (l6 - 54 + 8) & 0xff;
		expect_untouched("IPv6 fragment", f, l6 + 8, SD_C_ip_fragments);

		/* hop-by-hop + destination options, then UDP to 5060: gated */
		memcpy(f, g, 54);
		f[14 + 6] = 0;                          /* hop-by-hop */
		memset(f + 54, 0, 24);
		f[54] = 60, f[55] = 0;                  /* 8 bytes, next: dst opts */
		f[54 + 2] = 1, f[54 + 3] = 4;           /* PadN */
		f[62] = 17, f[63] = 1;                  /* 16 bytes, next: UDP */
		f[62 + 2] = 1, f[62 + 3] = 12;
		memcpy(f + 78, g + 54, l6 - 54);
		f[14 + 4] = (l6 - 54 + 24) >> 8, f[14 + 5] = (l6 - 54 + 24) & 0xff;
		check(!sd_tester_run(&T, f, l6 + 24, &r) && r.kind == SD_K_REQUEST &&
		      r.method == SD_M_INVITE && r.verdict == SD_V_REDIRECT,
		      "IPv6 with extension headers: not read as a new INVITE (kind %d)", r.kind);
		w = wraps[0];
	}

	/* IPv4 with options (IHL 6) is still read */
	{
		__u8 g[2048];

		len = sd_build_frame(g, sizeof(g), &w, inv, strlen(inv));
		memcpy(f, g, 34);
		f[14] = 0x46;
		memset(f + 34, 1, 4);                   /* NOP options */
		memcpy(f + 38, g + 34, len - 34);
		f[16] = (len - 14 + 4) >> 8, f[17] = (len - 14 + 4) & 0xff;
		check(!sd_tester_run(&T, f, len + 4, &r) && r.kind == SD_K_REQUEST &&
		      r.verdict == SD_V_REDIRECT, "IPv4 with options: not read (kind %d)", r.kind);
	}

	/* UDP length larger than the packet: malformed, passes */
	len = sd_build_frame(f, sizeof(f), &w, inv, strlen(inv));
	f[14 + 20 + 4] = 0xff, f[14 + 20 + 5] = 0xff;
	check(!sd_tester_run(&T, f, len, &r) && r.xdp_action == XDP_PASS &&
	      r.kind == SD_K_NOT_SIP, "bad UDP length not passed");

	/* a frame shorter than Ethernet */
	check(!sd_tester_run(&T, f, 14, &r) && r.xdp_action == XDP_PASS, "runt not passed");
	set_state(SD_SERVING, 0);
}

/* ---- a header section longer than one page: frags, still read ------- */
static void test_jumbo(void)
{
	static char msg[9000];
	struct sd_result r;
	int n, err;

	n = sprintf(msg, "INVITE sip:b@198.18.0.2 SIP/2.0\r\nTo: <sip:b@198.18.0.2>\r\n"
		    "Call-ID: jumbo@x\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
		    "Content-Length: 6000\r\n\r\n");
	memset(msg + n, 'a', 6000);
	set_state(SD_DRAINING, 0);
	err = run_msg(&wraps[1], msg, n + 6000, &r);
	check(!err && r.kind == SD_K_REQUEST && r.verdict == SD_V_REDIRECT,
	      "6 KB INVITE (multi-buffer): err %d kind %d verdict %d", err, r.kind, r.verdict);
	/* a header section of 8.9 KB (a jumbo frame) is read to its end */
	n = sprintf(msg, "INVITE sip:b@198.18.0.2 SIP/2.0\r\nX-Pad: ");
	memset(msg + n, 'p', 8800);
	n += 8800;
	n += sprintf(msg + n, "\r\nTo: <sip:b@198.18.0.2>\r\nCall-ID: jumbo2@x\r\n"
		     "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	err = run_msg(&wraps[3], msg, n, &r);
	check(!err && r.kind == SD_K_REQUEST && !(r.flags & SD_F_TO_TAG) && r.verdict == SD_V_REDIRECT,
	      "INVITE with 8.9 KB of headers: err %d kind %d verdict %d", err, r.kind, r.verdict);
	/* past the budget: unparsed, passes (fail-open), counted */
	{
		static char big[SD_SCAN_MAX + 1024];
		struct sd_counters c0, c1;

		n = sprintf(big, "INVITE sip:b@198.18.0.2 SIP/2.0\r\nX-Pad: ");
		memset(big + n, 'p', SD_SCAN_MAX);
		n += SD_SCAN_MAX;
		n += sprintf(big + n, "\r\nTo: <sip:b@x>\r\nCall-ID: huge@x\r\n\r\n");
		sd_tester_counters(&T, &c0);
		err = run_msg(&wraps[0], big, n, &r);
		sd_tester_counters(&T, &c1);
		check(!err && r.kind == SD_K_UNPARSED && r.unparsed == SD_U_BUDGET &&
		      r.verdict == SD_V_PASS && c1.unparsed_budget == c0.unparsed_budget + 1,
		      "headers beyond %d bytes: err %d kind %d unparsed %d verdict %d", SD_SCAN_MAX,
		      err, r.kind, r.unparsed, r.verdict);
	}
	/* the step budget (SD_SCAN_STEPS bytes examined one by one) at its
	 * edge, reached through short lines the XDP side skips whole (their
	 * line ends and first bytes are counted, as the parser counts them):
	 * CR-LF lines, LF-only lines, folds of a skipped line.  Both sides
	 * agree on every count, and the edge is crossed in each series. */
	{
		static const struct { const char *line; int from, to; } series[] = {
			{ "X: a\r\n", 1000, 1040 },
			{ "X: a\n", 2010, 2050 },
			{ "X: a\r\n b\r\n", 490, 530 },
		};
		static char big[SD_SCAN_MAX];
		struct sd_result u;

		for (size_t k = 0; k < sizeof(series) / sizeof(series[0]); k++) {
			int parsed = 0, budget = 0, differ = 0;

			for (int lines = series[k].from; lines <= series[k].to; lines++) {
				n = sprintf(big, "INVITE sip:b@198.18.0.2 SIP/2.0\r\n");
				for (int i = 0; i < lines; i++)
					n += sprintf(big + n, "%s", series[k].line);
				n += sprintf(big + n, "To: <sip:b@x>\r\nCall-ID: steps@x\r\n\r\n");
				err = run_msg(&wraps[0], big, n, &r);
				sd_parse(big, n, &u);
				if (err || r.kind != u.kind || r.unparsed != u.unparsed || r.flags != u.flags)
					differ++;
				if (r.kind == SD_K_UNPARSED && r.unparsed == SD_U_BUDGET)
					budget++;
				else if (r.kind == SD_K_REQUEST)
					parsed++;
			}
			check(!differ && parsed && budget,
			      "step budget through %d-%d skipped lines of '%.4s...': XDP and parser differ "
			      "on %d, %d parsed, %d over the budget", series[k].from, series[k].to,
			      series[k].line, differ, parsed, budget);
		}
	}
	set_state(SD_SERVING, 0);
}

/* ---- dialog life-cycle, ingress (XDP) and egress (TC) -------------- */
static char *mkresp(char *buf, int status, const char *cseq_method, const char *totag,
		    const char *callid)
{
	sprintf(buf, "SIP/2.0 %d Whatever\r\nVia: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bK-d\r\n"
		"From: <sip:a@198.18.0.1>;tag=f\r\nTo: <sip:b@198.18.0.2>%s%s\r\nCall-ID: %s\r\n"
		"CSeq: 1 %s\r\nContent-Length: 0\r\n\r\n", status, totag ? ";tag=" : "",
		totag ? totag : "", callid, cseq_method);
	return buf;
}

/* in: through XDP, as from the caller; out: through TC egress, as sent
 * by the server from port 5060 */
static void in(const char *m)
{
	struct sd_result r;

	check(!run_msg(&wraps[0], m, strlen(m), &r), "ingress run failed");
}

static void out(const char *m)
{
	static const struct sd_wrap eg = { .sport = 5060, .dport = 5070 };
	struct sd_result r;
	size_t flen = sd_build_frame(frame, sizeof(frame), &eg, m, strlen(m));

	check(flen && !sd_tester_run_egress(&T, frame, flen, &r) && r.xdp_action == 0 /* TC_ACT_OK */,
	      "egress run failed or changed the packet's fate");
	check(r.kind == SD_K_REQUEST || r.kind == SD_K_RESPONSE, "egress: not read as SIP");
}

/* Where a Call-ID is: 'c' call table, 'a' attempt table, 'l' learning
 * table, 0 none. */
static int dwhere(const char *callid, struct sd_dialog *d)
{
	__u64 key = fnv1a(callid);

	if (!bpf_map_lookup_elem(T.calls_fd, &key, d))
		return 'c';
	if (!bpf_map_lookup_elem(T.att_fd, &key, d))
		return 'a';
	if (!bpf_map_lookup_elem(T.learn_fd, &key, d))
		return 'l';
	return 0;
}

static int dstate(const char *callid, struct sd_dialog *d)
{
	return dwhere(callid, d) ? d->state : -1;
}

/* An ended call leaves the call table; an ended attempt stays in the
 * LRU as ENDED: both are "ended". */
static void expect_state(const char *what, const char *callid, int want)
{
	struct sd_dialog d;
	int where = dwhere(callid, &d), st = where ? d.state : -1;

	if (want == SD_D_ENDED && st < 0)
		st = SD_D_ENDED;
	check(st == want, "%s: dialog %s in state %d, want %d", what, callid, st, want);
	/* answered calls live in the table that never evicts */
	if (want == SD_D_EARLY || want == SD_D_CONFIRMED || want == SD_D_CLOSING)
		check(where == 'c', "%s: dialog %s not in the call table", what, callid);
}

static void test_dialogs(void)
{
	static char m[2048];
	struct sd_dialog d;
	struct sd_result r;
	struct sd_counters c0, c1;

	set_state(SD_SERVING, 0);
	sd_tester_counters(&T, &c0);

	/* a UAS (Asterisk, an IVR): answers and hangs up itself */
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>", "uas@x"));
	expect_state("UAS INVITE in", "uas@x", SD_D_ATTEMPT);
	out(mkresp(m, 100, "INVITE", NULL, "uas@x"));
	expect_state("UAS 100 out", "uas@x", SD_D_ATTEMPT);
	out(mkresp(m, 180, "INVITE", "u1", "uas@x"));
	expect_state("UAS 180 out", "uas@x", SD_D_EARLY);
	out(mkresp(m, 200, "INVITE", "u1", "uas@x"));
	expect_state("UAS 200 out", "uas@x", SD_D_CONFIRMED);
	in(mk(m, "ACK", "<sip:b@198.18.0.2>;tag=u1", "uas@x"));
	expect_state("UAS ACK in", "uas@x", SD_D_CONFIRMED);
	out(mk(m, "BYE", "<sip:a@198.18.0.1>;tag=f", "uas@x"));
	expect_state("UAS BYE out", "uas@x", SD_D_CLOSING);
	in(mkresp(m, 200, "BYE", "u1", "uas@x"));
	expect_state("UAS 200/BYE in", "uas@x", SD_D_ENDED);

	/* a proxy: both legs cross the gate, the callee's answers on ingress */
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>", "proxy@x"));
	out(mk(m, "INVITE", "<sip:b@198.18.0.2>", "proxy@x"));
	check(dstate("proxy@x", &d) == SD_D_ATTEMPT && d.hits == 2, "proxy: forwarded INVITE not seen");
	in(mkresp(m, 180, "INVITE", "p1", "proxy@x"));
	expect_state("proxy 180 in", "proxy@x", SD_D_EARLY);
	out(mkresp(m, 180, "INVITE", "p1", "proxy@x"));
	in(mkresp(m, 200, "INVITE", "p1", "proxy@x"));
	expect_state("proxy 200 in", "proxy@x", SD_D_CONFIRMED);
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>;tag=p1", "proxy@x"));       /* re-INVITE */
	in(mkresp(m, 491, "INVITE", "p1", "proxy@x"));
	expect_state("re-INVITE refused: call stays up", "proxy@x", SD_D_CONFIRMED);
	in(mk(m, "BYE", "<sip:b@198.18.0.2>;tag=p1", "proxy@x"));
	expect_state("proxy BYE in", "proxy@x", SD_D_CLOSING);
	out(mk(m, "BYE", "<sip:b@198.18.0.2>;tag=p1", "proxy@x"));
	in(mkresp(m, 200, "BYE", "p1", "proxy@x"));
	expect_state("proxy 200/BYE in", "proxy@x", SD_D_ENDED);

	/* CANCEL then 487 */
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>", "cancel@x"));
	out(mkresp(m, 180, "INVITE", "c1", "cancel@x"));
	in(mk(m, "CANCEL", "<sip:b@198.18.0.2>", "cancel@x"));
	expect_state("CANCEL alone does not end", "cancel@x", SD_D_EARLY);
	out(mkresp(m, 487, "INVITE", "c1", "cancel@x"));
	expect_state("487 ends", "cancel@x", SD_D_ENDED);

	/* busy: a final >= 300 other than 401/407 ends at once */
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>", "busy@x"));
	out(mkresp(m, 486, "INVITE", "b1", "busy@x"));
	expect_state("486 ends", "busy@x", SD_D_ENDED);

	/* forking: one branch's 486 or 407 on its way to the server while
	 * another rings is not the call's end; the server's final is */
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>", "fork@x"));
	out(mk(m, "INVITE", "<sip:b@198.18.0.2>", "fork@x"));
	in(mkresp(m, 180, "INVITE", "brA", "fork@x"));
	in(mkresp(m, 486, "INVITE", "brB", "fork@x"));
	in(mkresp(m, 407, "INVITE", "brC", "fork@x"));
	check(dstate("fork@x", &d) == SD_D_EARLY && !d.rejected_ns,
	      "a branch's 486/407 ended or doomed a ringing call");
	out(mkresp(m, 486, "INVITE", "brA", "fork@x"));
	expect_state("the server's final ends it", "fork@x", SD_D_ENDED);

	/* 407 before the drain, the retry during it reaches the server */
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>", "auth@x"));
	out(mkresp(m, 407, "INVITE", "a1", "auth@x"));
	check(dstate("auth@x", &d) == SD_D_ATTEMPT && d.rejected_ns, "407: attempt not kept for a retry");
	in(mk(m, "ACK", "<sip:b@198.18.0.2>;tag=a1", "auth@x"));
	set_state(SD_DRAINING, 0);
	run_str(&wraps[0], mk(m, "INVITE", "<sip:b@198.18.0.2>", "auth@x"), &r);
	check(r.verdict == SD_V_PASS, "the retry after 407 was refused during the drain");
	check(dstate("auth@x", &d) == SD_D_ATTEMPT && !d.rejected_ns && d.hits == 2,
	      "the retry did not renew the attempt");
	out(mkresp(m, 200, "INVITE", "a2", "auth@x"));
	expect_state("retry answered", "auth@x", SD_D_CONFIRMED);

	/* an INVITE reusing the Call-ID of an ended call is a new call */
	run_str(&wraps[0], mk(m, "INVITE", "<sip:b@198.18.0.2>", "busy@x"), &r);
	check(r.verdict == SD_V_REDIRECT, "INVITE on an ended Call-ID passed the drain");
	/* a refused INVITE does not enter the table */
	run_str(&wraps[0], mk(m, "INVITE", "<sip:b@198.18.0.2>", "refused@x"), &r);
	check(r.verdict == SD_V_REDIRECT && dstate("refused@x", &d) < 0, "refused INVITE recorded");
	/* OFFLINE: responses are dropped, but still end the calls they end */
	in(mk(m, "BYE", "<sip:b@198.18.0.2>;tag=a2", "auth@x"));
	set_state(SD_OFFLINE, 0);
	run_str(&wraps[0], mkresp(m, 200, "INVITE", "a2", "auth@x"), &r);
	check(r.verdict == SD_V_DROP && r.xdp_action == XDP_DROP, "OFFLINE response not dropped");
	/* an answer to a BYE goes to the responder (the gate's own BYEs at
	 * the deadline), dropped when there is no socket: never to the server */
	run_str(&wraps[0], mkresp(m, 200, "BYE", "a2", "auth@x"), &r);
	check(r.verdict == SD_V_REDIRECT && r.xdp_action == XDP_DROP,
	      "OFFLINE 200 to BYE, no responder socket: verdict %u, action %u", r.verdict, r.xdp_action);
	expect_state("OFFLINE 200/BYE still ends", "auth@x", SD_D_ENDED);
	set_state(SD_SERVING, 0);

	sd_tester_counters(&T, &c1);
	ASSERT_EQ(c1.dialogs_confirmed - c0.dialogs_confirmed, 3, "dialogs_confirmed");
	ASSERT_EQ(c1.dialogs_ended - c0.dialogs_ended, 6, "dialogs_ended");
	check(c1.dlg_bye - c0.dlg_bye == 2 && c1.dlg_ack - c0.dlg_ack == 2 && c1.dlg_invite - c0.dlg_invite == 1,
	      "in-dialog method counters: BYE %llu ACK %llu INVITE %llu",
	      (unsigned long long)(c1.dlg_bye - c0.dlg_bye), (unsigned long long)(c1.dlg_ack - c0.dlg_ack),
	      (unsigned long long)(c1.dlg_invite - c0.dlg_invite));
	check(c1.mv_INVITE_redirect - c0.mv_INVITE_redirect == 2 && c1.mv_INVITE_pass - c0.mv_INVITE_pass == 8,
	      "method x verdict: INVITE redirect %llu pass %llu",
	      (unsigned long long)(c1.mv_INVITE_redirect - c0.mv_INVITE_redirect),
	      (unsigned long long)(c1.mv_INVITE_pass - c0.mv_INVITE_pass));
	check(c1.egress_requests - c0.egress_requests == 4 && c1.egress_responses - c0.egress_responses == 10,
	      "egress counters: requests %llu responses %llu",
	      (unsigned long long)(c1.egress_requests - c0.egress_requests),
	      (unsigned long long)(c1.egress_responses - c0.egress_responses));
	printf("dialogs: UAS, proxy, CANCEL/487, busy, forking, 407 retry, re-INVITE, OFFLINE\n");
}

/* ---- calls the gate did not see begin: learned from their traffic ---- */
static void test_learning(void)
{
	static char m[2048];
	struct sd_counters c0, c1;
	struct sd_dialog d;
	struct sd_result r;

	set_state(SD_SERVING, 0);
	sd_tester_counters(&T, &c0);

	/* a session refresh from outside, answered by the server: held as
	 * tentative, then learned (confirmed) on the server's 200 */
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>;tag=l1", "old1@x"));
	check(dwhere("old1@x", &d) == 'l' && sd_dialog_tentative(&d),
	      "re-INVITE from outside for an unknown call: not held as learning");
	out(mkresp(m, 200, "INVITE", "l1", "old1@x"));
	check(dwhere("old1@x", &d) == 'c' && d.state == SD_D_CONFIRMED && (d.flags & SD_DF_LEARNED),
	      "the server's 200 did not make it a learned call");
	/* a BYE makes it closing, the BYE's final response ends it */
	in(mk(m, "BYE", "<sip:b@198.18.0.2>;tag=l1", "old1@x"));
	expect_state("learned BYE", "old1@x", SD_D_CLOSING);
	out(mkresp(m, 200, "BYE", "l1", "old1@x"));
	check(dwhere("old1@x", &d) == 0, "learned call not removed when its BYE was answered");

	/* in-dialog OPTIONS (a keep-alive) from outside, 200 from the server */
	in(mk(m, "OPTIONS", "<sip:b@198.18.0.2>;tag=l2", "old2@x"));
	out(mkresp(m, 200, "OPTIONS", "l2", "old2@x"));
	check(dwhere("old2@x", &d) == 'c' && (d.flags & SD_DF_LEARNED), "in-dialog OPTIONS: not learned");

	/* what the server sends in a dialog vouches for it at once */
	out(mk(m, "UPDATE", "<sip:a@198.18.0.1>;tag=l3", "old3@x"));
	check(dwhere("old3@x", &d) == 'c' && (d.flags & (SD_DF_LEARNED | SD_DF_EGRESS)) ==
	      (SD_DF_LEARNED | SD_DF_EGRESS), "server's in-dialog UPDATE: not learned");
	out(mkresp(m, 180, "INVITE", "l4", "old4@x"));
	expect_state("server's tagged 180 to an unseen INVITE", "old4@x", SD_D_EARLY);
	out(mkresp(m, 200, "INVITE", "l5", "old5@x"));
	expect_state("server's 200 to an unseen INVITE", "old5@x", SD_D_CONFIRMED);

	/* not calls: subscriptions, registrations, pings, ACK, BYE, failures */
	out(mk(m, "NOTIFY", "<sip:a@198.18.0.1>;tag=n1", "sub@x"));
	out(mkresp(m, 200, "OPTIONS", "p1", "ping@x"));
	out(mkresp(m, 200, "REGISTER", "r1", "reg@x"));
	out(mkresp(m, 200, "MESSAGE", "m1", "msg@x"));
	out(mk(m, "ACK", "<sip:a@198.18.0.1>;tag=k1", "ack@x"));
	out(mk(m, "BYE", "<sip:a@198.18.0.1>;tag=b1", "bye@x"));
	out(mkresp(m, 486, "INVITE", "f1", "fail@x"));
	out(mkresp(m, 407, "INVITE", "f2", "auth@x"));
	in(mkresp(m, 200, "OPTIONS", "p2", "ping2@x"));
	check(!dwhere("sub@x", &d) && !dwhere("ping@x", &d) && !dwhere("reg@x", &d) &&
	      !dwhere("msg@x", &d) && !dwhere("ack@x", &d) && !dwhere("bye@x", &d) &&
	      !dwhere("fail@x", &d) && !dwhere("auth@x", &d) && !dwhere("ping2@x", &d),
	      "something that is not a call was learned");

	/* a forged in-dialog request the server refuses (481) stays
	 * tentative and ends; a learned call answered 481 ends */
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>;tag=x1", "forged@x"));
	out(mkresp(m, 481, "INVITE", "x1", "forged@x"));
	expect_state("forged re-INVITE answered 481", "forged@x", SD_D_ENDED);
	check(dwhere("forged@x", &d) != 'c', "forged re-INVITE reached the call table");
	out(mk(m, "INFO", "<sip:a@198.18.0.1>;tag=l6", "old6@x"));
	in(mkresp(m, 481, "INFO", "l6", "old6@x"));
	expect_state("learned call answered 481", "old6@x", SD_D_ENDED);

	/* DRAINING: a tagless request for a live call passes whatever its
	 * method (RFC 2543 BYE); for an unknown or tentative Call-ID it is
	 * refused */
	set_state(SD_DRAINING, 0);
	run_str(&wraps[0], mk(m, "BYE", "<sip:b@198.18.0.2>", "old2@x"), &r);
	check(r.verdict == SD_V_PASS, "tagless BYE of a learned call refused while draining");
	expect_state("tagless BYE closes it", "old2@x", SD_D_CLOSING);
	run_str(&wraps[1], mk(m, "BYE", "<sip:b@198.18.0.2>", "nobody@x"), &r);
	check(r.verdict == SD_V_REDIRECT, "tagless BYE of an unknown Call-ID passed the drain");
	in(mk(m, "OPTIONS", "<sip:b@198.18.0.2>;tag=t9", "sneak@x"));      /* tentative */
	run_str(&wraps[0], mk(m, "INVITE", "<sip:b@198.18.0.2>", "sneak@x"), &r);
	check(r.verdict == SD_V_REDIRECT, "a tentative Call-ID let a new INVITE through the drain");
	run_str(&wraps[0], mk(m, "INFO", "<sip:b@198.18.0.2>", "old3@x"), &r);
	check(r.verdict == SD_V_PASS, "tagless INFO of a learned call refused while draining");
	set_state(SD_SERVING, 0);

	/* review findings: a proxy relaying a forged in-dialog request does
	 * not vouch for it; learned or not, its Call-ID never lets a tagless
	 * INVITE through; an answer to another method does not promote */
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>;tag=zz", "forged-relay@x"));
	out(mk(m, "INVITE", "<sip:b@198.18.0.9>;tag=zz", "forged-relay@x"));   /* relayed */
	check(dwhere("forged-relay@x", &d) == 'l', "a relayed forged request vouched for its call");
	set_state(SD_DRAINING, 0);
	run_str(&wraps[0], mk(m, "INVITE", "<sip:b@198.18.0.2>", "forged-relay@x"), &r);
	check(r.verdict == SD_V_REDIRECT, "tagless INVITE passed on a learning Call-ID");
	set_state(SD_SERVING, 0);
	out(mkresp(m, 200, "INVITE", "zz", "forged-relay@x"));                /* now vouched */
	check(dwhere("forged-relay@x", &d) == 'c' && (d.flags & SD_DF_LEARNED), "not learned on the 200");
	set_state(SD_DRAINING, 0);
	run_str(&wraps[0], mk(m, "INVITE", "<sip:b@198.18.0.2>", "forged-relay@x"), &r);
	check(r.verdict == SD_V_REDIRECT, "tagless INVITE passed on the Call-ID of a learned call");
	set_state(SD_SERVING, 0);
	in(mk(m, "MESSAGE", "<sip:b@198.18.0.2>;tag=mm", "other-method@x"));
	out(mkresp(m, 200, "REGISTER", "mm", "other-method@x"));
	check(dwhere("other-method@x", &d) == 'l', "a 200 to another method promoted a learning call");
	/* a learned call outlives a 481 to NOTIFY or CANCEL (another usage,
	 * a transaction: RFC 5057) */
	in(mkresp(m, 481, "NOTIFY", "l3", "old3@x"));
	in(mkresp(m, 481, "CANCEL", "l3", "old3@x"));
	expect_state("learned call after 481 to NOTIFY and CANCEL", "old3@x", SD_D_CONFIRMED);

	sd_tester_counters(&T, &c1);
	ASSERT_EQ(c1.calls_learned - c0.calls_learned, 7, "calls_learned");
	ASSERT_EQ(c1.calls_table_full, c0.calls_table_full, "calls_table_full");
	printf("learning: refresh from outside, server's own requests and answers, not-calls, 481, tagless\n");
}

/* ---- attempts never evict calls; a full call table is counted -------- */
static void test_no_eviction(void)
{
	static char m[2048];
	struct sd_counters c0, c1;
	struct sd_dialog d;
	struct sd_result r;
	char cid[64];
	int kept = 0, n = 10 * 4096 + 1000;

	set_state(SD_SERVING, 0);
	for (int i = 0; i < 20; i++) {
		snprintf(cid, sizeof(cid), "long-%d@x", i);
		in(mk(m, "INVITE", "<sip:b@198.18.0.2>", cid));
		out(mkresp(m, 200, "INVITE", "u", cid));
	}
	/* ten times the table in new INVITEs with distinct Call-IDs */
	for (int i = 0; i < n; i++) {
		snprintf(cid, sizeof(cid), "scan-%d@x", i);
		run_str(&wraps[i & 1], mk(m, "INVITE", "<sip:100@198.18.0.2>", cid), &r);
	}
	for (int i = 0; i < 20; i++) {
		snprintf(cid, sizeof(cid), "long-%d@x", i);
		kept += dwhere(cid, &d) == 'c' && d.state == SD_D_CONFIRMED;
	}
	ASSERT_EQ(kept, 20, "calls left after ten tables of attempts");

	/* fill the call table; the next answered call is counted, kept */
	sd_tester_counters(&T, &c0);
	for (int i = 20; i < 4096 + 3; i++) {
		snprintf(cid, sizeof(cid), "fill-%d@x", i);
		in(mk(m, "INVITE", "<sip:b@198.18.0.2>", cid));
		out(mkresp(m, 200, "INVITE", "u", cid));
	}
	sd_tester_counters(&T, &c1);
	ASSERT_GE(c1.calls_table_full - c0.calls_table_full, 3, "full call table counted");
	snprintf(cid, sizeof(cid), "fill-%d@x", 4096 + 2);
	check(dwhere(cid, &d) == 'a' && d.state == SD_D_CONFIRMED,
	      "a call with no room was not kept in the attempt table");
	{
		__u32 zero = 0;
		struct sd_meta meta;
		int fd = bpf_map__fd(T.skel->maps.sd_meta);

		check(!bpf_map_lookup_elem(fd, &zero, &meta) && meta.table_full_ns,
		      "table_full_ns not noted");
	}
	printf("no-eviction: 20 calls through %d attempts; full table counted\n", n);
}

/* ---- reflection guard ------------------------------------------------ */
static void test_guard(void)
{
	static char m[1024];
	struct sd_counters c0, c1;
	struct sd_result r;
	int redirected = 0, dropped = 0;

	T.cfg.reply_rate = 10;
	T.cfg.reply_burst = 5;
	set_state(SD_DRAINING, 0);
	sd_tester_counters(&T, &c0);
	for (int i = 0; i < 20; i++) {
		char cid[32];

		snprintf(cid, sizeof(cid), "flood-%d@x", i);
		run_str(&wraps[0], mk(m, "INVITE", "<sip:b@198.18.0.2>", cid), &r);
		redirected += r.verdict == SD_V_REDIRECT;
		dropped += r.verdict == SD_V_DROP && r.xdp_action == XDP_DROP;
	}
	sd_tester_counters(&T, &c1);
	check(redirected == 5 && dropped == 15, "one source, burst 5: %d answered, %d dropped",
	      redirected, dropped);
	ASSERT_EQ(c1.guard_dropped - c0.guard_dropped, 15, "guard_dropped");
	/* another IPv4 source has its own bucket */
	{
		size_t fl;

		mk(m, "INVITE", "<sip:b@x>", "other-src@x");
		fl = sd_build_frame(frame, sizeof(frame), &wraps[0], m, strlen(m));

		frame[14 + 15] = 77;            /* 198.18.0.77 */
		check(!sd_tester_run(&T, frame, fl, &r) && r.verdict == SD_V_REDIRECT,
		      "a second source was limited by the first one's bucket");
	}
	/* IPv6: one bucket per /64 */
	redirected = 0;
	for (int i = 0; i < 8; i++) {
		size_t fl;

		mk(m, "INVITE", "<sip:b@x>", "v6@x");
		fl = sd_build_frame(frame, sizeof(frame), &wraps[1], m, strlen(m));

		frame[14 + 8 + 15] = i;         /* 2001:2::<i>: same /64 */
		sd_tester_run(&T, frame, fl, &r);
		redirected += r.verdict == SD_V_REDIRECT;
	}
	ASSERT_EQ(redirected, 5, "IPv6 addresses of one /64 share a bucket: answered");
	{
		size_t fl;

		mk(m, "INVITE", "<sip:b@x>", "v6b@x");
		fl = sd_build_frame(frame, sizeof(frame), &wraps[1], m, strlen(m));

		frame[14 + 8 + 7] = 9;          /* another /64 */
		check(!sd_tester_run(&T, frame, fl, &r) && r.verdict == SD_V_REDIRECT,
		      "another /64 was limited");
	}
	/* in-dialog requests are never limited */
	for (int i = 0; i < 10; i++)
		run_str(&wraps[0], mk(m, "BYE", "<sip:b@x>;tag=t", "limited-bye@x"), &r);
	ASSERT_EQ(r.verdict, SD_V_PASS, "in-dialog BYE through the guard: verdict");
	T.cfg.reply_rate = 0;
	T.cfg.reply_burst = 0;
	set_state(SD_SERVING, 0);
	printf("guard: per-source GCRA, IPv4 and IPv6 /64\n");
}

/* ---- known peers, the server's own addresses, impossible sources ----- */
static int peer_known(int family, const char *ip)
{
	struct sd_guard_key k = { .family = family };
	struct sd_peer_state ps;
	__u8 a[16] = { 0 };

	inet_pton(family == 4 ? AF_INET : AF_INET6, ip, a);
	if (family == 4)
		memcpy(&k.v4, a, 4);
	else
		memcpy(&k.v6_prefix, a, 8);
	return !bpf_map_lookup_elem(T.peers_fd, &k, &ps);
}

/* n new INVITEs from the frame's source (IPv4 octet src4, 0: .1);
 * returns how many were redirected */
static int invites_from(int v6, int src_last, int n, const char *tag)
{
	static char m[1024];
	struct sd_result r;
	int redirected = 0;

	for (int i = 0; i < n; i++) {
		char cid[48];
		size_t fl;

		snprintf(cid, sizeof(cid), "%s-%d@x", tag, i);
		mk(m, "INVITE", "<sip:b@x>", cid);
		fl = sd_build_frame(frame, sizeof(frame), &wraps[v6], m, strlen(m));
		if (src_last)
			frame[v6 ? 14 + 8 + 15 : 14 + 15] = src_last;
		sd_tester_run(&T, frame, fl, &r);
		redirected += r.verdict == SD_V_REDIRECT && r.xdp_action == XDP_PASS;
	}
	return redirected;
}

static void test_known_peers(void)
{
	static char m[1024];
	struct sd_counters c0, c1;
	struct sd_result r;
	size_t fl;
	int n;

	T.cfg.reply_rate = 10;
	T.cfg.reply_burst = 5;
	set_state(SD_DRAINING, 0);
	check(!peer_known(4, "198.18.0.1"), "a peer known before the server answered it");
	/* the server answers 198.18.0.1 with a final response (TC egress) */
	{
		static const struct sd_wrap eg = { .sport = 5060, .dport = 5070 };

		mkresp(m, 200, "OPTIONS", "srv", "peer-ping@x");
		fl = sd_build_frame(frame, sizeof(frame), &eg, m, strlen(m));
		inet_pton(AF_INET, "198.18.0.1", frame + 14 + 16);     /* to the peer */
		check(!sd_tester_run_egress(&T, frame, fl, &r), "egress run failed");
	}
	check(peer_known(4, "198.18.0.1"), "the server's 200 did not make 198.18.0.1 a known peer");
	check(!peer_known(4, "198.18.0.2"), "the wrong end became a known peer");
	sd_tester_counters(&T, &c0);
	n = invites_from(0, 0, 40, "trunk");
	sd_tester_counters(&T, &c1);
	ASSERT_EQ(n, 40, "a known peer is not limited per source: answered");
	check(c1.guard_known_peer - c0.guard_known_peer == 40 && c1.guard_dropped == c0.guard_dropped,
	      "known-peer counters: guard_known_peer +%llu, guard_dropped +%llu",
	      (unsigned long long)(c1.guard_known_peer - c0.guard_known_peer),
	      (unsigned long long)(c1.guard_dropped - c0.guard_dropped));
	/* an unknown source still is */
	n = invites_from(0, 77, 20, "unknown");
	ASSERT_EQ(n, 5, "an unknown source, burst 5: answered");
	/* a peer whose last answer is older than the window is unknown again */
	{
		struct sd_guard_key k = { .family = 4 };
		struct sd_peer_state ps;

		inet_pton(AF_INET, "198.18.0.1", &k.v4);
		bpf_map_lookup_elem(T.peers_fd, &k, &ps);
		/* a 60 s window (the clock may count less than a day) */
		T.cfg.peer_window_ns = 60000000000ULL;
		sd_tester_apply(&T);
		ps.last_ns = sd_now_ns() - 120000000000ULL;
		bpf_map_update_elem(T.peers_fd, &k, &ps, BPF_EXIST);
		n = invites_from(0, 0, 20, "stale");
		check(n == 5, "a peer last answered 120 s ago, window 60 s, is still known: %d of 20 "
		      "answered", n);
		ps.last_ns = sd_now_ns();
		bpf_map_update_elem(T.peers_fd, &k, &ps, BPF_EXIST);
		T.cfg.peer_window_ns = SD_DEFAULT_PEER_WINDOW_S * 1000000000ULL;
		sd_tester_apply(&T);
	}
	/* --peer-window 0: no known peers (a fresh bucket: burst 5) */
	T.cfg.peer_window_ns = 0;
	sd_tester_apply(&T);
	{
		struct sd_guard_key gk = { .family = 4 };

		inet_pton(AF_INET, "198.18.0.1", &gk.v4);
		bpf_map_delete_elem(bpf_map__fd(T.skel->maps.sd_guard), &gk);
	}
	n = invites_from(0, 0, 20, "nowindow");
	ASSERT_EQ(n, 5, "--peer-window 0, burst 5: answered");
	T.cfg.peer_window_ns = SD_DEFAULT_PEER_WINDOW_S * 1000000000ULL;
	sd_tester_apply(&T);
	/* a 2xx from outside, never asked for, makes nobody known */
	mkresp(m, 200, "INVITE", "callee", "uac-call@x");
	fl = sd_build_frame(frame, sizeof(frame), &wraps[0], m, strlen(m));
	frame[14 + 15] = 88;
	sd_tester_run(&T, frame, fl, &r);
	check(!peer_known(4, "198.18.0.88"), "an unsolicited 2xx from outside made a known peer");
	/* the server as a UAC: its ACK for the callee's 2xx makes it known */
	{
		static const struct sd_wrap eg = { .sport = 5060, .dport = 5070 };

		mk(m, "ACK", "<sip:b@x>;tag=callee", "uac-call@x");
		fl = sd_build_frame(frame, sizeof(frame), &eg, m, strlen(m));
		inet_pton(AF_INET, "198.18.0.88", frame + 14 + 16);
		sd_tester_run_egress(&T, frame, fl, &r);
	}
	check(peer_known(4, "198.18.0.88"), "the server's ACK did not make the callee a known peer");
	/* IPv6: the /64 the server answered */
	{
		static const struct sd_wrap eg6 = { .ipv6 = 1, .sport = 5060, .dport = 5070 };

		mkresp(m, 200, "INVITE", "srv", "peer6@x");
		fl = sd_build_frame(frame, sizeof(frame), &eg6, m, strlen(m));
		inet_pton(AF_INET6, "2001:2::1", frame + 14 + 24);
		sd_tester_run_egress(&T, frame, fl, &r);
	}
	check(peer_known(6, "2001:2::1"), "the server's 200 did not make 2001:2::/64 a known peer");
	n = invites_from(1, 0x33, 20, "trunk6");
	ASSERT_EQ(n, 20, "a known IPv6 peer /64 is not limited: answered");
	/* a provisional response, or a failure (a scanner's 404 or 401),
	 * makes nobody known */
	for (int st = 0; st < 3; st++) {
		static const struct sd_wrap eg = { .sport = 5060, .dport = 5070 };
		static const int codes[] = { 180, 404, 401 };

		mkresp(m, codes[st], "INVITE", "srv", "ringing@x");
		fl = sd_build_frame(frame, sizeof(frame), &eg, m, strlen(m));
		inet_pton(AF_INET, "198.18.0.99", frame + 14 + 16);
		sd_tester_run_egress(&T, frame, fl, &r);
		check(!peer_known(4, "198.18.0.99"), "a %d made a known peer", codes[st]);
	}
	T.cfg.reply_rate = 0;
	T.cfg.reply_burst = 0;
	set_state(SD_SERVING, 0);
	printf("known peers: the server's 2xx and ACKs, window, IPv4 and IPv6 /64\n");
}

/* One INVITE with the source or destination address (and source port)
 * replaced; returns its verdict and action. */
static void addr_case(int v6, const char *src, const char *dst, int sport, struct sd_result *r)
{
	static char m[1024];
	static int seq;
	char cid[32];
	size_t fl;

	/* a Call-ID each: one passed is an attempt the next would follow */
	snprintf(cid, sizeof(cid), "addr-case-%d@x", seq++);
	mk(m, "INVITE", "<sip:b@x>", cid);
	fl = sd_build_frame(frame, sizeof(frame), &wraps[v6], m, strlen(m));
	if (src)
		inet_pton(v6 ? AF_INET6 : AF_INET, src, frame + 14 + (v6 ? 8 : 12));
	if (dst)
		inet_pton(v6 ? AF_INET6 : AF_INET, dst, frame + 14 + (v6 ? 24 : 16));
	if (sport >= 0) {
		frame[14 + (v6 ? 40 : 20)] = sport >> 8;
		frame[14 + (v6 ? 40 : 20) + 1] = sport & 0xff;
	}
	memset(r, 0, sizeof(*r));
	check(!sd_tester_run(&T, frame, fl, r), "run failed");
}

static void test_addresses(void)
{
	static const struct { int v6; const char *src, *dst; int sport; int want; } cases[] = {
		/* sources that cannot send: dropped, never answered */
		{ 0, "255.255.255.255", NULL, -1, SD_V_DROP },
		{ 0, "198.18.0.255", NULL, -1, SD_V_DROP },    /* the subnet's broadcast */
		{ 0, "224.0.0.1", NULL, -1, SD_V_DROP },
		{ 0, "239.1.2.3", NULL, -1, SD_V_DROP },
		{ 0, "0.0.0.0", NULL, -1, SD_V_DROP },
		{ 0, "127.0.0.1", NULL, -1, SD_V_DROP },
		{ 0, "198.18.0.2", NULL, -1, SD_V_DROP },      /* the server's own */
		{ 0, NULL, NULL, 0, SD_V_DROP },               /* source port 0 */
		{ 1, "::1", NULL, -1, SD_V_DROP },
		{ 1, "::", NULL, -1, SD_V_DROP },
		{ 1, "ff02::1", NULL, -1, SD_V_DROP },
		{ 1, "::ffff:198.18.0.1", NULL, -1, SD_V_DROP },
		{ 1, "2001:2::2", NULL, -1, SD_V_DROP },
		{ 1, NULL, NULL, 0, SD_V_DROP },
		/* to another host: as if no gate were there */
		{ 0, NULL, "198.18.0.9", -1, SD_V_PASS },
		{ 1, NULL, "2001:2::9", -1, SD_V_PASS },
		/* to a broadcast or multicast address: neither answered nor
		 * passed (a wildcard-bound server would take it) */
		{ 0, NULL, "255.255.255.255", -1, -SD_V_DROP },
		{ 0, NULL, "198.18.0.255", -1, -SD_V_DROP },
		{ 0, NULL, "224.0.0.1", -1, -SD_V_DROP },
		{ 1, NULL, "ff02::1", -1, -SD_V_DROP },
		/* and the ordinary case: refused with a 503 */
		{ 0, NULL, NULL, -1, SD_V_REDIRECT },
		{ 1, NULL, NULL, -1, SD_V_REDIRECT },
		{ 1, "fe80::1", NULL, -1, SD_V_REDIRECT },
	};
	struct sd_addr_key bc = { .family = 4, .addr = { 198, 18, 0, 255 } };
	__u32 kind = SD_ADDR_BROADCAST;
	struct sd_counters c0, c1;
	struct sd_result r;
	int drops = 0, passes = 0, bad_dst = 0;

	bpf_map_update_elem(T.addrs_fd, &bc, &kind, BPF_ANY);
	set_state(SD_DRAINING, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sd_tester_counters(&T, &c0);
		addr_case(cases[i].v6, cases[i].src, cases[i].dst, cases[i].sport, &r);
		sd_tester_counters(&T, &c1);
		int want = cases[i].want < 0 ? -cases[i].want : cases[i].want;

		check(r.verdict == want, "case %zu (src %s dst %s sport %d): verdict %s, want %s",
		      i, cases[i].src ?: "-", cases[i].dst ?: "-", cases[i].sport,
		      sd_verdict_names[r.verdict % SD_V_MAX], sd_verdict_names[want]);
		if (cases[i].want < 0) {
			check(r.xdp_action == XDP_DROP && c1.bad_destination == c0.bad_destination + 1,
			      "case %zu: action %u, bad_destination +%llu", i, r.xdp_action,
			      (unsigned long long)(c1.bad_destination - c0.bad_destination));
			bad_dst++;
		} else if (cases[i].want == SD_V_DROP) {
			check(r.xdp_action == XDP_DROP && c1.bad_source == c0.bad_source + 1,
			      "case %zu: action %u, bad_source +%llu", i, r.xdp_action,
			      (unsigned long long)(c1.bad_source - c0.bad_source));
			drops++;
		} else if (cases[i].want == SD_V_PASS) {
			check(r.xdp_action == XDP_PASS && c1.not_ours == c0.not_ours + 1,
			      "case %zu: action %u, not_ours +%llu", i, r.xdp_action,
			      (unsigned long long)(c1.not_ours - c0.not_ours));
			passes++;
		}
	}
	/* while serving, none of this is the gate's business */
	set_state(SD_SERVING, 0);
	addr_case(0, "127.0.0.1", NULL, -1, &r);
	check(r.verdict == SD_V_PASS, "serving: a request from 127.0.0.1 was not passed");
	/* an address the server loses is no longer its own */
	{
		struct sd_addr_key k4 = { .family = 4, .addr = { 198, 18, 0, 2 } };
		__u32 local = SD_ADDR_LOCAL;

		set_state(SD_DRAINING, 0);
		bpf_map_delete_elem(T.addrs_fd, &k4);
		addr_case(0, NULL, NULL, -1, &r);
		check(r.verdict == SD_V_PASS, "a request to an address the server lost was refused");
		bpf_map_update_elem(T.addrs_fd, &k4, &local, BPF_ANY);
		set_state(SD_SERVING, 0);
	}
	bpf_map_delete_elem(T.addrs_fd, &bc);
	/* passed to another host, it is no call of the server's: the same
	 * Call-ID to the server later is refused like any new call */
	set_state(SD_DRAINING, 0);
	{
		static char m[1024];
		size_t fl;

		mk(m, "INVITE", "<sip:b@x>", "elsewhere@x");
		fl = sd_build_frame(frame, sizeof(frame), &wraps[0], m, strlen(m));
		inet_pton(AF_INET, "198.18.0.9", frame + 14 + 16);
		sd_tester_run(&T, frame, fl, &r);
		check(r.verdict == SD_V_PASS, "INVITE to another host not passed");
		fl = sd_build_frame(frame, sizeof(frame), &wraps[0], m, strlen(m));
		sd_tester_run(&T, frame, fl, &r);
		check(r.verdict == SD_V_REDIRECT,
		      "an INVITE passed to another host opened the drain for its Call-ID (%s)",
		      sd_verdict_names[r.verdict % SD_V_MAX]);
	}
	set_state(SD_SERVING, 0);
	printf("addresses: %d impossible sources dropped, %d foreign destinations passed, "
	       "%d to broadcast or multicast dropped\n", drops, passes, bad_dst);
}

/* ---- TCP/TLS: a new connection while draining gets a RST ------------- */
static __u16 csum_check(const __u8 *pseudo, size_t plen, const __u8 *hdr, size_t hlen)
{
	return sd_csum_fold(sd_csum_add(sd_csum_add(0, pseudo, plen), hdr, hlen));
}

static size_t tcp_frame(__u8 *f, int v6, __u8 flags)
{
	size_t l3 = v6 ? 40 : 20, n = 14 + l3 + 24;
	__u8 *tcp = f + 14 + l3;

	memset(f, 0, n);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	f[12] = v6 ? 0x86 : 0x08, f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[14] = 0x60;
		f[14 + 5] = 24;                 /* payload length */
		f[14 + 6] = 6, f[14 + 7] = 64;
		inet_pton(AF_INET6, "2001:2::1", f + 14 + 8);
		inet_pton(AF_INET6, "2001:2::2", f + 14 + 24);
	} else {
		f[14] = 0x45, f[14 + 3] = 44, f[14 + 8] = 64, f[14 + 9] = 6;
		inet_pton(AF_INET, "198.18.0.1", f + 14 + 12);
		inet_pton(AF_INET, "198.18.0.2", f + 14 + 16);
	}
	tcp[0] = 0xc3, tcp[1] = 0x50;           /* 50000 */
	tcp[2] = 0x13, tcp[3] = 0xc4;           /* 5060 */
	tcp[4] = 0x11, tcp[5] = 0x22, tcp[6] = 0x33, tcp[7] = 0x44;     /* seq */
	tcp[12] = 6 << 4, tcp[13] = flags;
	tcp[14] = 0xff, tcp[15] = 0xff;
	tcp[20] = 2, tcp[21] = 4, tcp[22] = 0x05, tcp[23] = 0xb4;      /* MSS 1460 */
	return n;
}

static void test_tcp(void)
{
	__u8 in[128], outf[256];
	struct sd_result r;
	size_t n, on;

	T.cfg.ntcp_ports = 1;
	T.cfg.tcp_ports[0] = 5060;
	for (int v6 = 0; v6 < 2; v6++) {
		size_t l3 = v6 ? 40 : 20;
		const __u8 *tcp = outf + 14 + l3;

		set_state(SD_SERVING, 0);
		n = tcp_frame(in, v6, 0x02);
		check(!sd_tester_run(&T, in, n, &r) && r.xdp_action == XDP_PASS,
		      "v%d: SYN while serving not passed", v6 ? 6 : 4);
		set_state(SD_DRAINING, 0);
		/* DSCP and ECN CE on the SYN: none on the RST */
		if (v6)
			in[14] = 0x6f, in[15] = 0xf0;
		else
			in[15] = 0xff;
		on = sizeof(outf);
		check(!sd_tester_run_out(&T, in, n, outf, &on, &r) && r.xdp_action == XDP_TX,
		      "v%d: SYN while draining: action %u, want XDP_TX", v6 ? 6 : 4, r.xdp_action);
		check(v6 ? outf[14] == 0x60 && (outf[15] & 0xf0) == 0 : outf[15] == 0,
		      "v%d: the RST kept the SYN's TOS/traffic class (%02x %02x)", v6 ? 6 : 4,
		      outf[14], outf[15]);
		check(on == 14 + l3 + 20, "v%d: RST frame %zu bytes", v6 ? 6 : 4, on);
		check(!memcmp(outf, in + 6, 6) && !memcmp(outf + 6, in, 6), "v%d: MACs not swapped",
		      v6 ? 6 : 4);
		check(tcp[13] == 0x14 && tcp[12] == 5 << 4 && tcp[0] == 0x13 && tcp[1] == 0xc4 &&
		      tcp[2] == 0xc3 && tcp[3] == 0x50, "v%d: not a RST+ACK from 5060", v6 ? 6 : 4);
		check(tcp[8] == 0x11 && tcp[9] == 0x22 && tcp[10] == 0x33 && tcp[11] == 0x45,
		      "v%d: ack is not the SYN's seq + 1", v6 ? 6 : 4);
		if (v6) {
			__u8 ph[40] = { 0 };

			memcpy(ph, outf + 14 + 8, 32);
			ph[35] = 20, ph[39] = 6;
			check(!memcmp(outf + 14 + 8, in + 14 + 24, 16), "v6: addresses not swapped");
			check(csum_check(ph, 40, tcp, 20) == 0, "v6: TCP checksum wrong");
		} else {
			__u8 ph[12] = { 0 };

			memcpy(ph, outf + 14 + 12, 8);
			ph[9] = 6, ph[11] = 20;
			check(!memcmp(outf + 14 + 12, in + 14 + 16, 4), "v4: addresses not swapped");
			check(sd_csum_fold(sd_csum_add(0, outf + 14, 20)) == 0, "v4: IP checksum wrong");
			check(csum_check(ph, 12, tcp, 20) == 0, "v4: TCP checksum wrong");
		}
		/* established segments pass */
		n = tcp_frame(in, v6, 0x10);
		check(!sd_tester_run(&T, in, n, &r) && r.xdp_action == XDP_PASS,
		      "v%d: ACK segment while draining not passed", v6 ? 6 : 4);
		n = tcp_frame(in, v6, 0x12);    /* SYN+ACK: not a new connection */
		check(!sd_tester_run(&T, in, n, &r) && r.xdp_action == XDP_PASS,
		      "v%d: SYN+ACK refused", v6 ? 6 : 4);
		set_state(SD_OFFLINE, 0);
		n = tcp_frame(in, v6, 0x02);
		check(!sd_tester_run(&T, in, n, &r) && r.xdp_action == XDP_TX,
		      "v%d: SYN while offline not refused", v6 ? 6 : 4);
	}
	/* a SYN from an impossible source is dropped, one to another host passes */
	set_state(SD_DRAINING, 0);
	n = tcp_frame(in, 0, 0x02);
	inet_pton(AF_INET, "224.0.0.5", in + 14 + 12);
	check(!sd_tester_run(&T, in, n, &r) && r.xdp_action == XDP_DROP, "SYN from multicast answered");
	n = tcp_frame(in, 1, 0x02);
	inet_pton(AF_INET6, "2001:2::77", in + 14 + 24);
	check(!sd_tester_run(&T, in, n, &r) && r.xdp_action == XDP_PASS, "SYN to another host refused");
	/* another TCP port is not ours */
	T.cfg.tcp_ports[0] = 5061;
	set_state(SD_DRAINING, 0);
	n = tcp_frame(in, 0, 0x02);
	check(!sd_tester_run(&T, in, n, &r) && r.xdp_action == XDP_PASS, "SYN to another port refused");
	T.cfg.ntcp_ports = 0;
	set_state(SD_SERVING, 0);
	printf("tcp: RST for new connections while draining, IPv4 and IPv6\n");
}

/* ---- findings of a review, kept as regressions ------------------------ */
/* ---- the calls' details: what the programs copy for a BYE ---------- */
static struct sd_capture caps[16];
static int ncaps;

static int on_cap(void *ctx, void *data, size_t size)
{
	(void)ctx;
	/* a record is as long as its message */
	if (ncaps < 16 && size >= sizeof(struct sd_capture_hdr) &&
	    size == sizeof(struct sd_capture_hdr) + ((const struct sd_capture_hdr *)data)->len)
		memcpy(&caps[ncaps], data, size);
	ncaps++;
	return 0;
}

/* The records the frames so far left in the ring. */
static int drain_caps(struct ring_buffer *rb)
{
	ncaps = 0;
	ring_buffer__consume(rb);
	return ncaps;
}

static void test_capture(void)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(T.skel->maps.sd_capture), on_cap, NULL, NULL);
	static char m[SD_CAPTURE_SIP_MAX + 1024];
	struct sd_counters c0, c1;
	struct sd_result r;
	size_t fl;

	ASSERT_TRUE(rb != NULL, "ring_buffer__new on sd_capture");
	if (!rb)
		return;
	drain_caps(rb);
	/* a new INVITE, on every wrap: one record, as on the wire */
	for (int w = 0; w < 4; w++) {
		char cid[32];
		const struct sd_capture *c = &caps[0];
		__u8 party[16] = { 0 }, server[16] = { 0 };

		snprintf(cid, sizeof(cid), "cap-%d@x", w);
		mk(m, "INVITE", "<sip:b@x>", cid);
		fl = sd_build_frame(frame, sizeof(frame), &wraps[w], m, strlen(m));
		sd_tester_counters(&T, &c0);
		sd_tester_run(&T, frame, fl, &r);
		sd_tester_counters(&T, &c1);
		check(drain_caps(rb) == 1 && c1.captured - c0.captured == 1,
		      "%s: one record and the captured counter +1 for a new INVITE (%d, +%llu)",
		      wrap_names[w], ncaps, (unsigned long long)(c1.captured - c0.captured));
		if (wraps[w].ipv6) {
			inet_pton(AF_INET6, "2001:2::1", party);
			inet_pton(AF_INET6, "2001:2::2", server);
		} else {
			inet_pton(AF_INET, "198.18.0.1", party);
			inet_pton(AF_INET, "198.18.0.2", server);
		}
		check(c->h.dir == SD_CAP_INGRESS && c->h.kind == SD_K_REQUEST &&
		      c->h.call_id_hash == r.call_id_hash && c->h.len == strlen(m) &&
		      !memcmp(c->sip, m, strlen(m)),
		      "%s: the record holds the INVITE as sent (dir %u kind %u len %u)", wrap_names[w],
		      c->h.dir, c->h.kind, c->h.len);
		check(c->h.hop.family == (wraps[w].ipv6 ? 6 : 4) &&
		      c->h.hop.l2_len == 14 + 4 * wraps[w].vlans && !memcmp(c->h.hop.l2, frame, c->h.hop.l2_len),
		      "%s: link-layer header kept (%u bytes, VLAN tags too)", wrap_names[w], c->h.hop.l2_len);
		check(!memcmp(c->h.hop.party_addr, party, 16) && !memcmp(c->h.hop.server_addr, server, 16) &&
		      c->h.hop.party_port == 5070 && c->h.hop.server_port == 5060 &&
		      c->h.hop.ifindex == 1 && c->h.hop.rx_queue == 0,
		      "%s: addresses, ports, interface (%u) and queue of the caller", wrap_names[w],
		      c->h.hop.ifindex);
	}
	/* nothing else is copied: in-dialog requests, provisional
	 * responses, 2xx to other methods, ACK, CANCEL, OPTIONS */
	{
		static const char *const none[][3] = {
			{ "BYE", "<sip:b@x>;tag=t", "cap-0@x" },
			{ "INVITE", "<sip:b@x>;tag=t", "cap-0@x" },
			{ "ACK", "<sip:b@x>;tag=t", "cap-0@x" },
			{ "CANCEL", "<sip:b@x>", "cap-0@x" },
			{ "OPTIONS", "<sip:b@x>", "cap-opt@x" },
		};

		for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
			mk(m, none[i][0], none[i][1], none[i][2]);
			run_msg(&wraps[0], m, strlen(m), &r);
			check(drain_caps(rb) == 0, "%s %s: copied", none[i][0], none[i][1]);
		}
		mkresp(m, 180, "INVITE", "t", "cap-0@x");
		run_msg(&wraps[0], m, strlen(m), &r);
		check(drain_caps(rb) == 0, "a 180 to INVITE: copied");
		mkresp(m, 200, "BYE", "t", "cap-0@x");
		run_msg(&wraps[0], m, strlen(m), &r);
		check(drain_caps(rb) == 0, "a 200 to BYE: copied");
	}
	/* a 2xx to INVITE, received (from a callee) and sent (TC egress) */
	mkresp(m, 200, "INVITE", "t", "cap-0@x");
	run_msg(&wraps[0], m, strlen(m), &r);
	check(drain_caps(rb) == 1 && caps[0].h.kind == SD_K_RESPONSE && caps[0].h.status == 200 &&
	      caps[0].h.dir == SD_CAP_INGRESS, "a received 200 to INVITE: one record (%d)", ncaps);
	{
		static const struct sd_wrap eg = { .sport = 5060, .dport = 5070 };
		__u8 party[4];

		mkresp(m, 200, "INVITE", "t", "cap-1@x");
		fl = sd_build_frame(frame, sizeof(frame), &eg, m, strlen(m));
		inet_pton(AF_INET, "198.18.0.1", frame + 14 + 16);      /* to the caller */
		inet_pton(AF_INET, "198.18.0.2", frame + 14 + 12);      /* from the server */
		inet_pton(AF_INET, "198.18.0.1", party);
		sd_tester_run_egress(&T, frame, fl, &r);
		check(drain_caps(rb) == 1 && caps[0].h.dir == SD_CAP_EGRESS &&
		      !memcmp(caps[0].h.hop.party_addr, party, 4) && caps[0].h.hop.party_port == 5070 &&
		      caps[0].h.hop.server_port == 5060,
		      "a 200 the server sends: one record, the party its destination (%d)", ncaps);
		/* a proxy: the INVITE in, the callee's 200 in, the 200 it
		 * sends on is a copy */
		mk(m, "INVITE", "<sip:b@x>", "cap-p@x");
		run_msg(&wraps[0], m, strlen(m), &r);
		mkresp(m, 200, "INVITE", "t", "cap-p@x");
		run_msg(&wraps[0], m, strlen(m), &r);
		check(drain_caps(rb) == 2, "a proxied call: the INVITE and the callee's 200 (%d)", ncaps);
		mkresp(m, 200, "INVITE", "t", "cap-p@x");
		fl = sd_build_frame(frame, sizeof(frame), &eg, m, strlen(m));
		sd_tester_run_egress(&T, frame, fl, &r);
		check(drain_caps(rb) == 0, "the 200 a proxy sends on, of a call a received 200 "
		      "confirmed: copied (%d)", ncaps);
		/* a UAS: the INVITE in, its own 200 out (the attempt
		 * becomes a call on it): the 200 is the dialog's */
		mk(m, "INVITE", "<sip:b@x>", "cap-u@x");
		run_msg(&wraps[0], m, strlen(m), &r);
		check(drain_caps(rb) == 1, "a call to a UAS: the INVITE (%d)", ncaps);
		mkresp(m, 200, "INVITE", "t", "cap-u@x");
		fl = sd_build_frame(frame, sizeof(frame), &eg, m, strlen(m));
		sd_tester_run_egress(&T, frame, fl, &r);
		check(drain_caps(rb) == 1 && caps[0].h.dir == SD_CAP_EGRESS,
		      "... and the 200 it sends, which confirms the call: one record (%d)", ncaps);
		/* its retransmission, the call confirmed by it: copied again
		 * (run keeps one) */
		sd_tester_run_egress(&T, frame, fl, &r);
		check(drain_caps(rb) == 1, "... its retransmission too (%d)", ncaps);
	}
	/* draining: a refused INVITE is not the server's call: no record;
	 * a retransmission of an attempt the server has, passing, is */
	set_state(SD_DRAINING, 0);
	mk(m, "INVITE", "<sip:b@x>", "cap-new@x");
	run_msg(&wraps[0], m, strlen(m), &r);
	check(r.verdict == SD_V_REDIRECT && drain_caps(rb) == 0, "a refused INVITE: copied (%d)", ncaps);
	mk(m, "INVITE", "<sip:b@x>", "cap-2@x");
	run_msg(&wraps[2], m, strlen(m), &r);
	check(r.verdict == SD_V_PASS && drain_caps(rb) == 1,
	      "the retransmission of an INVITE the server has: copied again (%d)", ncaps);
	set_state(SD_SERVING, 0);
	/* a long INVITE: its first SD_CAPTURE_SIP_MAX bytes */
	{
		size_t k;

		mk(m, "INVITE", "<sip:b@x>", "cap-long@x");
		k = strlen(m) - 2;              /* before the empty line */
		while (k < SD_CAPTURE_SIP_MAX + 500)
			k += sprintf(m + k, "X-Pad: %0100d\r\n", 0);
		strcpy(m + k, "\r\n");
		run_msg(&wraps[0], m, strlen(m), &r);
		check(drain_caps(rb) == 1 && caps[0].h.len == SD_CAPTURE_SIP_MAX &&
		      !memcmp(caps[0].sip, m, SD_CAPTURE_SIP_MAX),
		      "a %zu-byte INVITE: its first %d bytes (len %u)", strlen(m), SD_CAPTURE_SIP_MAX,
		      ncaps ? caps[0].h.len : 0);
	}
	/* a full ring loses records, counted; the packet is not harmed */
	{
		int passed = 0, n = 60000;	/* ~450-byte records: a 16 MiB ring holds ~37 000 */

		sd_tester_counters(&T, &c0);
		for (int i = 0; i < n; i++) {
			char cid[32];

			snprintf(cid, sizeof(cid), "cap-flood-%d@x", i);
			mk(m, "INVITE", "<sip:b@x>", cid);
			run_msg(&wraps[0], m, strlen(m), &r);
			passed += r.xdp_action == XDP_PASS;
		}
		sd_tester_counters(&T, &c1);
		check(passed == n && c1.capture_lost > c0.capture_lost &&
		      c1.captured - c0.captured + c1.capture_lost - c0.capture_lost == (__u64)n,
		      "%d INVITEs into a ring nobody reads: all passed (%d), %llu copied, %llu lost "
		      "and counted", n, passed, (unsigned long long)(c1.captured - c0.captured),
		      (unsigned long long)(c1.capture_lost - c0.capture_lost));
		drain_caps(rb);
	}
	ring_buffer__free(rb);
}

static void test_review_regressions(void)
{
	static char m[1024];
	static __u8 g[4096], f[4096];
	struct sd_counters c0, c1;
	struct sd_result r;
	size_t l6, n;

	/* an INVITE behind 1000 bytes of IPv6 destination options is read at
	 * its real offset (an offset masked to 10 bits once wrapped to 14) */
	set_state(SD_DRAINING, 0);
	mk(m, "INVITE", "<sip:b@198.18.0.2>", "behind-options@x");
	l6 = sd_build_frame(g, sizeof(g), &wraps[1], m, strlen(m));
	memcpy(f, g, 54);
	f[14 + 6] = 60;                         /* destination options */
	memset(f + 54, 0, 1000);
	f[54] = 17, f[55] = 1000 / 8 - 1;       /* 1000 bytes, next: UDP */
	/* the rest zero: Pad1 options */
	memcpy(f + 54 + 1000, g + 54, l6 - 54);
	n = l6 - 54 + 1000;
	f[14 + 4] = n >> 8, f[14 + 5] = n & 0xff;
	check(!sd_tester_run(&T, f, l6 + 1000, &r) && r.kind == SD_K_REQUEST &&
	      r.method == SD_M_INVITE && r.verdict == SD_V_REDIRECT,
	      "INVITE behind 1000 bytes of options: kind %d verdict %d", r.kind, r.verdict);
	/* a chain longer than the gate walks is malformed, counted, passed */
	memcpy(f, g, 54);
	f[14 + 6] = 60;
	for (int i = 0; i < 9; i++) {
		memset(f + 54 + 8 * i, 0, 8);
		f[54 + 8 * i] = i == 8 ? 17 : 60;
		f[54 + 8 * i + 2] = 1, f[54 + 8 * i + 3] = 4;
	}
	memcpy(f + 54 + 72, g + 54, l6 - 54);
	n = l6 - 54 + 72;
	f[14 + 4] = n >> 8, f[14 + 5] = n & 0xff;
	sd_tester_counters(&T, &c0);
	check(!sd_tester_run(&T, f, l6 + 72, &r) && r.xdp_action == XDP_PASS && r.kind == SD_K_NOT_SIP,
	      "9 extension headers: not passed as malformed");
	sd_tester_counters(&T, &c1);
	ASSERT_EQ(c1.bad_l3, c0.bad_l3 + 1, "9 extension headers: bad_l3");

	/* a 401/407 attempt not retried within the grace has ended: its
	 * Call-ID no longer opens the drain */
	set_state(SD_SERVING, 0);
	T.cfg.auth_grace_ms = 1;
	sd_tester_apply(&T);
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>", "stale-auth@x"));
	out(mkresp(m, 407, "INVITE", "s1", "stale-auth@x"));
	usleep(20000);
	set_state(SD_DRAINING, 0);
	run_str(&wraps[0], mk(m, "INVITE", "<sip:b@198.18.0.2>", "stale-auth@x"), &r);
	check(r.verdict == SD_V_REDIRECT, "a retry long after the 401/407 grace passed the drain");
	T.cfg.auth_grace_ms = SD_DEFAULT_AUTH_GRACE_MS;
	/* the same within the grace passes (the normal case) */
	set_state(SD_SERVING, 0);
	in(mk(m, "INVITE", "<sip:b@198.18.0.2>", "fresh-auth@x"));
	out(mkresp(m, 407, "INVITE", "s2", "fresh-auth@x"));
	set_state(SD_DRAINING, 0);
	run_str(&wraps[0], mk(m, "INVITE", "<sip:b@198.18.0.2>", "fresh-auth@x"), &r);
	check(r.verdict == SD_V_PASS, "a retry within the 401/407 grace was refused");

	/* a SYN with IP options is left to the server, untouched */
	T.cfg.ntcp_ports = 1;
	T.cfg.tcp_ports[0] = 5060;
	set_state(SD_DRAINING, 0);
	{
		__u8 in4[128], out4[256];
		size_t n4 = tcp_frame(in4, 0, 0x02), on = sizeof(out4);

		memmove(in4 + 14 + 24, in4 + 14 + 20, n4 - 34);
		memset(in4 + 14 + 20, 1, 4);            /* 4 bytes of NOP options */
		in4[14] = 0x46;
		in4[14 + 3] = 48;
		check(!sd_tester_run_out(&T, in4, n4 + 4, out4, &on, &r) && r.xdp_action == XDP_PASS &&
		      on == n4 + 4 && !memcmp(in4, out4, on),
		      "SYN with IP options: action %u, frame changed %d", r.xdp_action,
		      on != n4 + 4 || memcmp(in4, out4, on));
	}
	T.cfg.ntcp_ports = 0;
	set_state(SD_SERVING, 0);
	printf("regressions: IPv6 options offsets, long chains, stale 401/407, SYN with IP options\n");
}

/* Before each subtest: the tester as just opened (empty tables, zero
 * counters, the server's addresses, the default config, SERVING). */
static void fresh(void)
{
	int err = sd_tester_restart(&T);

	if (err) {
		fprintf(stderr, "cannot restart the tester: %s\n", strerror(-err));
		exit(2);
	}
}

static const struct subtest subtests[] = {
	SUBTEST(test_state_table, "state-table"),
	SUBTEST(test_non_sip, "non-sip"),
	SUBTEST(test_jumbo, "jumbo"),
	SUBTEST(test_dialogs, "dialogs"),
	SUBTEST(test_learning, "learning"),
	SUBTEST(test_no_eviction, "no-eviction"),
	SUBTEST(test_guard, "guard"),
	SUBTEST(test_known_peers, "known-peers"),
	SUBTEST(test_addresses, "addresses"),
	SUBTEST(test_tcp, "tcp"),
	SUBTEST(test_capture, "capture"),
	SUBTEST(test_review_regressions, "regressions"),
	SUBTEST(test_corpus, "corpus"),
	SUBTEST(test_rfc4475, "rfc4475"),
};

int main(int argc, char **argv)
{
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SHARED_TESTDATA_DIR OWN_DATA_DIR [SUBTEST...]\n"
			"  SUBTEST: a name or fnmatch pattern; SD_TEST_REVERSE=1: reverse order\n",
			argv[0]);
		return 2;
	}
	shared_dir = argv[1];
	own_dir = argv[2];
	sd_log_hook_libs();
	if (sd_tester_open(&T))
		return 2;
	rc = run_subtests("gate_test", subtests, sizeof(subtests) / sizeof(subtests[0]), fresh,
			  argc - 3, argv + 3);
	sd_tester_close(&T);
	return rc;
}
