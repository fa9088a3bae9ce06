// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One L2-L4 walk.  The XDP and TC programs share walk_l4 (bpf/); the
 * responder reads frames with sd_udp_frame_parse (user/packet.c).  Both
 * must find the same UDP payload in the same frames, or refuse the same
 * ones: every frame here goes through the userspace parser and through
 * both programs (BPF_PROG_TEST_RUN), and what the programs classify must
 * be what the userspace classifier says of the payload packet.c found.
 * Frames: IPv4 with every IHL (options), IPv6 with 0 to 9 extension
 * headers of each kind and size, a fragment header, 0 to 2 VLAN tags,
 * a wrong UDP length; each also cut at every byte of its headers.
 *
 * usage: walk_test [SUBTEST...]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>

#include "check.h"
#include "gate.h"
#include "log.h"
#include "packet.h"
#include "sip_parse.h"
#include "tester.h"

static struct sd_tester T;

struct spec {
	int v6, vlans;
	int ihl;                /* IPv4: header words, 5 to 15 */
	int n_ext;              /* IPv6: extension headers before UDP */
	int ext_units;          /* ... each (units + 1) * 8 bytes */
	int frag;               /* IPv6: a fragment header last */
	int udp_len_delta;      /* added to the UDP length field */
	int egress;             /* from the server: source port 5060 */
};

static const char payload[] =
	"INVITE sip:svc@198.18.0.2 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.0.1:5070;branch=z9hG4bK-walk\r\n"
	"From: <sip:a@x>;tag=1\r\nTo: <sip:svc@x>\r\nCall-ID: walk-test@x\r\n"
	"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

static size_t build(__u8 *f, const struct spec *s)
{
	static const __u8 ext_kinds[3] = { 0, 60, 43 };   /* hop-by-hop, dst opts, routing */
	size_t off = 12, l3, ulen = 8 + sizeof(payload) - 1;
	__u16 sport = s->egress ? 5060 : 5070, dport = s->egress ? 5070 : 5060;

	memset(f, 0, 2048);
	memcpy(f, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
	for (int i = 0; i < s->vlans; i++) {
		f[off] = i == 0 && s->vlans == 2 ? 0x88 : 0x81;
		f[off + 1] = i == 0 && s->vlans == 2 ? 0xa8 : 0x00;
		f[off + 3] = 7;
		off += 4;
	}
	f[off] = s->v6 ? 0x86 : 0x08, f[off + 1] = s->v6 ? 0xdd : 0x00;
	off += 2;
	l3 = off;
	if (!s->v6) {
		size_t hl = s->ihl * 4;

		f[l3] = 0x40 | s->ihl;
		f[l3 + 2] = (hl + ulen) >> 8, f[l3 + 3] = (hl + ulen) & 0xff;
		f[l3 + 8] = 64, f[l3 + 9] = 17;
		inet_pton(AF_INET, "198.18.0.1", f + l3 + 12);
		inet_pton(AF_INET, "198.18.0.2", f + l3 + 16);
		memset(f + l3 + 20, 1, hl - 20);                /* NOP options */
		off += hl;
	} else {
		size_t ext = 0;
		__u8 *nh = f + l3 + 6;

		f[l3] = 0x60, f[l3 + 7] = 64;
		inet_pton(AF_INET6, "2001:2::1", f + l3 + 8);
		inet_pton(AF_INET6, "2001:2::2", f + l3 + 24);
		off += 40;
		for (int i = 0; i < s->n_ext; i++) {
			*nh = ext_kinds[i % 3];
			nh = f + off;
			f[off + 1] = s->ext_units;
			f[off + 2] = 1, f[off + 3] = 4;         /* PadN over the rest */
			off += (s->ext_units + 1) * 8;
			ext += (s->ext_units + 1) * 8;
		}
		if (s->frag) {
			*nh = 44;
			nh = f + off;
			off += 8;
			ext += 8;
		}
		*nh = 17;
		f[l3 + 4] = (ext + ulen) >> 8, f[l3 + 5] = (ext + ulen) & 0xff;
	}
	f[off] = sport >> 8, f[off + 1] = sport & 0xff;
	f[off + 2] = dport >> 8, f[off + 3] = dport & 0xff;
	f[off + 4] = (ulen + s->udp_len_delta) >> 8, f[off + 5] = (ulen + s->udp_len_delta) & 0xff;
	memcpy(f + off + 8, payload, sizeof(payload) - 1);
	return off + ulen;
}

static int frames, agreed_udp, agreed_not;

/* frame f[0..n) through packet.c and the program the spec names */
static void one(const struct spec *s, const __u8 *f, size_t n, size_t full)
{
	struct sd_udp_frame u;
	struct sd_result want = { 0 }, got;
	int user_ok = !sd_udp_frame_parse(f, n, &u) && (s->egress ? u.sport : u.dport) == 5060;
	int err;

	if (user_ok)
		sd_parse(f + u.payload_off, u.payload_len, &want);
	err = s->egress ? sd_tester_run_egress(&T, f, n, &got) : sd_tester_run(&T, f, n, &got);
	frames++;
	if (err) {
		/* the kernel's test run refuses frames shorter than an Ethernet
		 * header, and TC ones whose untagged IP header is cut short */
		size_t ip_end = 14 + 4 * s->vlans + (s->v6 ? 40 : 20);

		check(n < 14 || (s->egress && !s->vlans && n < ip_end), "v%d vlans %d ihl %d ext %dx%d frag %d udp%+d %s, %zu of %zu bytes: "
		      "test run failed", s->v6 ? 6 : 4, s->vlans, s->ihl, s->n_ext, s->ext_units,
		      s->frag, s->udp_len_delta, s->egress ? "egress" : "ingress", n, full);
		return;
	}
	if (user_ok) {
		check(got.l3 == (s->v6 ? 6 : 4) && got.kind == want.kind && got.method == want.method &&
		      got.call_id_hash == want.call_id_hash,
		      "v%d vlans %d ihl %d ext %dx%d frag %d udp%+d %s, %zu of %zu bytes: packet.c found "
		      "a %s, the program %s (l3 %u)", s->v6 ? 6 : 4, s->vlans, s->ihl, s->n_ext,
		      s->ext_units, s->frag, s->udp_len_delta, s->egress ? "egress" : "ingress", n, full,
		      sd_kind_names[want.kind % SD_K_MAX], sd_kind_names[got.kind % SD_K_MAX], got.l3);
		agreed_udp++;
	} else {
		check(got.l3 == 0 && got.kind == SD_K_NOT_SIP,
		      "v%d vlans %d ihl %d ext %dx%d frag %d udp%+d %s, %zu of %zu bytes: packet.c "
		      "refused it, the program read a %s (l3 %u)", s->v6 ? 6 : 4, s->vlans, s->ihl,
		      s->n_ext, s->ext_units, s->frag, s->udp_len_delta, s->egress ? "egress" : "ingress",
		      n, full, sd_kind_names[got.kind % SD_K_MAX], got.l3);
		agreed_not++;
	}
}

/* the whole frame, and cut at every byte up to the payload's start and
 * a few inside it */
static void each_cut(const struct spec *s)
{
	static __u8 f[2048];
	size_t full = build(f, s), hdrs = full - (sizeof(payload) - 1);

	for (size_t n = 14; n <= hdrs + 16 && n < full; n++)
		one(s, f, n, full);
	one(s, f, full, full);
}

/* every frame shape, from outside (XDP) or from the server (TC) */
static void walk_all(int eg)
{
	struct spec s;

	frames = agreed_udp = agreed_not = 0;
	for (int vl = 0; vl <= 2; vl++) {
		for (int ihl = 5; ihl <= 15; ihl++) {
			s = (struct spec){ .vlans = vl, .ihl = ihl, .egress = eg };
			each_cut(&s);
		}
		for (int ext = 0; ext <= 9; ext++)
			for (int units = 0; units <= 2; units++) {
				s = (struct spec){ .v6 = 1, .vlans = vl, .n_ext = ext,
						   .ext_units = units, .egress = eg };
				each_cut(&s);
			}
		s = (struct spec){ .v6 = 1, .vlans = vl, .n_ext = 1, .frag = 1, .egress = eg };
		each_cut(&s);
		for (int d = -9; d <= 1; d += 5) {      /* UDP length short, long */
			s = (struct spec){ .vlans = vl, .ihl = 5, .udp_len_delta = d, .egress = eg };
			each_cut(&s);
			s = (struct spec){ .v6 = 1, .vlans = vl, .udp_len_delta = d, .egress = eg };
			each_cut(&s);
		}
	}
	/* the walk must have been tested both ways, or the test proves nothing */
	ASSERT_GE(agreed_udp, 100, "frames read as UDP by both");
	ASSERT_GE(agreed_not, 100, "frames refused by both");
	printf("%s: %d frames through packet.c and the program (%d read as UDP by both, %d "
	       "refused by both)\n", eg ? "egress" : "ingress", frames, agreed_udp, agreed_not);
}

static void test_ingress(void)
{
	walk_all(0);
}

static void test_egress(void)
{
	walk_all(1);
}

static void fresh(void)
{
	sd_tester_restart(&T);
}

static const struct subtest subtests[] = {
	SUBTEST(test_ingress, "ingress"),
	SUBTEST(test_egress, "egress"),
};

int main(int argc, char **argv)
{
	int rc;

	sd_log_hook_libs();
	if (sd_tester_open(&T)) {
		fprintf(stderr, "walk_test: cannot load the gate (root, BPF)\n");
		return 1;
	}
	rc = run_subtests("walk_test", subtests, sizeof(subtests) / sizeof(subtests[0]), fresh,
			  argc - 1, argv + 1);
	sd_tester_close(&T);
	return rc;
}
