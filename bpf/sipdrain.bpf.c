// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sipdrain gate.  The XDP program sorts every UDP datagram to a SIP port
 * into new call attempts and traffic of calls already accepted, and
 * applies the drain state table of DESIGN.md (pass / redirect to the 503
 * responder / drop).  The TC egress program reads what the server sends.
 * Both follow each call's life in the dialog table.
 *
 * Only features of Linux <= 6.1: bpf_loop (5.17), bpf_xdp_load_bytes and
 * bpf_xdp_get_buff_len (5.18), bpf_skb_load_bytes, XSKMAP lookups (5.3),
 * LRU hash maps, mmapable arrays (5.5).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#include "sipdrain_common.h"
#include "sip_scan.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set before load by userspace: classify and the tests record each verdict. */
const volatile __u32 cfg_record_last = 0;   /* classify/tests: fill sd_last */

/* mmapable: the responder reads the live config without a syscall */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sd_config);
} SD_MAP_CONFIG SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sd_counters);
} SD_MAP_COUNTERS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SD_DEFAULT_DIALOGS);
	__type(key, __u64);
	__type(value, struct sd_dialog);
} SD_MAP_DIALOGS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SD_XSK_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);
} SD_MAP_XSKS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sd_scratch);
} SD_MAP_SCRATCH SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sd_result);
} SD_MAP_LAST SEC(".maps");

/* libxdp dispatcher: run early, let later programs see what we pass. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(sipdrain_xdp);

/* written by the responder through mmap: its counters are always live */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sd_responder);
} SD_MAP_RESPONDER SEC(".maps");

#define VLAN_HLEN 4
#define IPV6_FRAG 44

static __always_inline void count(struct sd_counters *c, __u32 idx)
{
	/* keep the bound check: clang would drop it where it can prove the
	 * range, and the verifier cannot follow its proof */
	asm volatile("" : "+r"(idx));
	if (idx < SD_C_TOTAL)
		((__u64 *)c)[idx]++;
}

struct scan_ctx {
	struct sd_scratch *x;
};

/* One bpf_loop step: a byte through the state machine, or 8 bytes at
 * once where the state only waits for the end of the line. */
static long scan_cb(__u32 i, void *data)
{
	struct sd_scratch *x = ((struct scan_ctx *)data)->x;
	struct sd_scan *s = &x->s;
	__u32 pos = s->pos;

	if (pos >= s->end)
		return 1;
	if (sd_scan_skippable(s) && pos + 8 <= s->end) {
		__u64 w;

		__builtin_memcpy(&w, &x->buf[pos & (SD_SCAN_MAX - 1)], 8);
		if (sd_word_plain(w)) {
			s->pos = pos + 8;
			return 0;
		}
	}
	sd_scan_step(s, x->buf[pos & (SD_SCAN_MAX - 1)]);
	s->pos = pos + 1;
	return s->st == SD_ST_DONE;
}

struct l4 {
	__u32 off;          /* UDP payload offset from the frame start */
	__u32 len;          /* UDP payload length */
};

/* Ethernet, up to two VLAN tags, IPv4/IPv6, UDP to a SIP port.
 * Returns 1 with *p filled for a datagram to scan, 0 otherwise. */
static __always_inline int parse_l4(struct xdp_md *ctx, struct l4 *p,
				    struct sd_config *cfg, struct sd_counters *cnt,
				    struct sd_result *r)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth), l4off, i;
	__u16 proto, dport;
	__u8 nexthdr;
	struct udphdr *udp;
	__u32 buflen;

	if ((void *)(eth + 1) > data_end)
		goto other;
	proto = eth->h_proto;
	for (i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (data + off + VLAN_HLEN > data_end)
			goto bad;
		proto = *(__u16 *)(data + off + 2);
		off += VLAN_HLEN;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end)
			goto bad;
		if (ip->ihl < 5)
			goto bad;
		if (ip->protocol != IPPROTO_UDP)
			goto other;
		if (ip->frag_off & bpf_htons(0x3fff)) {     /* MF or offset */
			r->fragment = 1;
			count(cnt, SD_C_ip_fragments);
			return 0;
		}
		l4off = off + ip->ihl * 4;
		r->l3 = 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end)
			goto bad;
		nexthdr = ip6->nexthdr;
		l4off = off + sizeof(*ip6);
		/* hop-by-hop, routing, destination options: skip */
		for (i = 0; i < 4; i++) {
			__u8 eh[2];

			if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
			    nexthdr != IPPROTO_DSTOPTS)
				break;
			if (bpf_xdp_load_bytes(ctx, l4off & 0xffff, eh, 2))
				goto bad;
			nexthdr = eh[0];
			l4off += (eh[1] + 1) * 8;
		}
		if (nexthdr == IPV6_FRAG) {
			r->fragment = 1;
			count(cnt, SD_C_ip_fragments);
			return 0;
		}
		if (nexthdr != IPPROTO_UDP)
			goto other;
		r->l3 = 6;
	} else {
		goto other;
	}

	l4off &= 0x3ff;
	udp = data + l4off;
	if ((void *)(udp + 1) > data_end)
		goto bad;
	dport = bpf_ntohs(udp->dest);
	for (i = 0; i < SD_MAX_PORTS; i++) {
		if (i >= cfg->nports)
			goto other;
		if (cfg->ports[i] == dport)
			break;
	}
	if (i == SD_MAX_PORTS)
		goto other;

	p->off = l4off + sizeof(*udp);
	p->len = bpf_ntohs(udp->len);
	buflen = bpf_xdp_get_buff_len(ctx);
	if (p->len < sizeof(*udp) || l4off + p->len > buflen)
		goto bad;
	p->len -= sizeof(*udp);
	return 1;
bad:
	count(cnt, SD_C_bad_l3);
	r->l3 = 0;
	return 0;
other:
	count(cnt, SD_C_other_traffic);
	r->l3 = 0;
	return 0;
}

/* The scratch, initialised for a payload of len bytes; the caller
 * copies min(len, SD_SCAN_MAX) bytes into x->buf. */
static __always_inline struct sd_scratch *scan_begin(__u32 len)
{
	__u32 zero = 0;
	struct sd_scratch *x = bpf_map_lookup_elem(&SD_MAP_SCRATCH, &zero);

	if (x)
		sd_scan_init(&x->s, len);
	return x;
}

/* Run the scanner over the copied payload; fills r. */
static __always_inline void scan_run(struct sd_scratch *x, struct sd_result *r)
{
	struct scan_ctx sc = { .x = x };

	if (x->s.end)
		bpf_loop(SD_SCAN_MAX, scan_cb, &sc, 0);
	sd_scan_end(&x->s);
	sd_scan_result(&x->s, r);
}

static __always_inline int scan_xdp(struct xdp_md *ctx, struct l4 *p, struct sd_result *r)
{
	struct sd_scratch *x = scan_begin(p->len);
	__u32 n;

	if (!x)
		return -1;
	n = x->s.end;
	if (n > 0 && n <= SD_SCAN_MAX && bpf_xdp_load_bytes(ctx, p->off, x->buf, n))
		return -1;
	scan_run(x, r);
	return 0;
}

static __always_inline __u32 method_counter(__u8 m)
{
	return m == SD_M_OTHER || m >= SD_M_MAX ? SD_C_req_other
						: SD_C_req_invite + m - SD_M_INVITE;
}

static __always_inline __u32 status_counter(__u64 status)
{
	if (status < 100 || status > 699)
		return SD_C_resp_other;
	return SD_C_resp_1xx + (__u32)status / 100 - 1;
}

static __always_inline __u32 dlg_counter(__u8 m)
{
	return m == SD_M_OTHER || m >= SD_M_MAX ? SD_C_dlg_other
						: SD_C_dlg_invite + m - SD_M_INVITE;
}

/* A new attempt: an INVITE without To tag that reaches the server (or
 * leaves it).  Returns 1 when the Call-ID was new to the table. */
static __always_inline int dialog_attempt(struct sd_result *r, __u64 now)
{
	struct sd_dialog *d, nd = {};

	d = bpf_map_lookup_elem(&SD_MAP_DIALOGS, &r->call_id_hash);
	if (d) {
		/* retransmission, or the re-send after 401/407 */
		d->last_ns = now;
		d->rejected_ns = 0;
		if (d->state == SD_D_ENDED)
			d->state = SD_D_ATTEMPT;
		__sync_fetch_and_add(&d->hits, 1);
		return 0;
	}
	nd.created_ns = now;
	nd.last_ns = now;
	nd.state = SD_D_ATTEMPT;
	nd.hits = 1;
	return !bpf_map_update_elem(&SD_MAP_DIALOGS, &r->call_id_hash, &nd, BPF_NOEXIST);
}

/* Follow a call through what crosses the wire, either direction.  r is a
 * request that reached its destination, or a response. */
static __always_inline void dialog_track(struct sd_result *r, struct sd_counters *cnt)
{
	__u64 now = bpf_ktime_get_ns();
	struct sd_dialog *d;
	__u64 st;

	if (!(r->flags & SD_F_CALLID))
		return;
	if (r->kind == SD_K_REQUEST) {
		if (r->method == SD_M_INVITE && !(r->flags & SD_F_TO_TAG)) {
			if (dialog_attempt(r, now))
				count(cnt, SD_C_dialogs_recorded);
			return;
		}
		d = bpf_map_lookup_elem(&SD_MAP_DIALOGS, &r->call_id_hash);
		if (!d)
			return;
		d->last_ns = now;
		if (r->method == SD_M_BYE && d->state < SD_D_CLOSING)
			d->state = SD_D_CLOSING;
		return;
	}
	if (r->kind != SD_K_RESPONSE || !(r->flags & SD_F_CSEQ))
		return;
	d = bpf_map_lookup_elem(&SD_MAP_DIALOGS, &r->call_id_hash);
	if (!d)
		return;
	d->last_ns = now;
	st = r->status;
	if (r->cseq_method == SD_M_BYE) {
		if (st >= 200 && d->state != SD_D_ENDED) {
			d->state = SD_D_ENDED;
			count(cnt, SD_C_dialogs_ended);
		}
		return;
	}
	if (r->cseq_method != SD_M_INVITE || d->state >= SD_D_CONFIRMED)
		return;                 /* re-INVITEs do not change a call */
	if (st > 100 && st < 200 && (r->flags & SD_F_TO_TAG) && d->state == SD_D_ATTEMPT) {
		d->state = SD_D_EARLY;
		count(cnt, SD_C_dialogs_early);
	} else if (st >= 200 && st < 300) {
		d->state = SD_D_CONFIRMED;
		d->rejected_ns = 0;
		count(cnt, SD_C_dialogs_confirmed);
	} else if (st == 401 || st == 407) {
		d->rejected_ns = now;   /* the caller may retry with credentials */
	} else if (st >= 300) {
		d->state = SD_D_ENDED;
		count(cnt, SD_C_dialogs_ended);
	}
}

/* DRAINING: may this out-of-dialog request still reach the server? */
static __always_inline int drain_lets_through(struct sd_config *cfg,
					      struct sd_result *r,
					      struct sd_counters *cnt)
{
	struct sd_dialog *d;

	if ((cfg->allow_mask | SD_ALLOW_ALWAYS) & (1U << (r->method & 31))) {
		count(cnt, SD_C_drain_allowed);
		return 1;
	}
	/* a retransmission, or the re-send after 401/407, of an attempt
	 * the server already received */
	if (r->method == SD_M_INVITE && (r->flags & SD_F_CALLID)) {
		d = bpf_map_lookup_elem(&SD_MAP_DIALOGS, &r->call_id_hash);
		if (d && d->state != SD_D_ENDED) {
			count(cnt, SD_C_drain_known_callid);
			return 1;
		}
	}
	return 0;
}

/* The DESIGN.md state table. */
static __always_inline __u8 decide(struct sd_config *cfg, struct sd_result *r,
				   struct sd_counters *cnt)
{
	__u32 state = cfg->state;

	if (r->kind == SD_K_RESPONSE) {
		if (state == SD_OFFLINE) {
			count(cnt, SD_C_responses_dropped);
			return SD_V_DROP;
		}
		return SD_V_PASS;
	}
	if (r->kind != SD_K_REQUEST)
		return SD_V_PASS;               /* keep-alive, unparsed, not SIP */

	if (r->method == SD_M_ACK) {
		/* ACK for our 503 (any ACK once OFFLINE): nothing to answer */
		if ((r->flags & SD_F_TAG_OURS) || state == SD_OFFLINE) {
			count(cnt, SD_C_ack_absorbed);
			return SD_V_DROP;
		}
		return SD_V_PASS;
	}
	if (state == SD_SERVING)
		return SD_V_PASS;
	if (state == SD_DRAINING) {
		if (r->flags & SD_F_TO_TAG)
			return SD_V_PASS;
		if (drain_lets_through(cfg, r, cnt))
			return SD_V_PASS;
		return SD_V_REDIRECT;
	}
	if (state == SD_OFFLINE)
		return SD_V_REDIRECT;
	return SD_V_PASS;                       /* unknown state: fail open */
}

/* Redirect to the responder socket of this interface and RX queue;
 * XDP_PASS (counted) when there is none. */
static __always_inline int redirect(struct xdp_md *ctx, struct sd_config *cfg,
				    struct sd_counters *cnt)
{
	__u32 slot, key, q = ctx->rx_queue_index;

	for (slot = 0; slot < SD_MAX_IFACES; slot++)
		if (cfg->ifindex[slot] == ctx->ingress_ifindex)
			break;
	/* a frame the socket's 4 KiB chunks cannot hold would be lost */
	if (slot < SD_MAX_IFACES && q < SD_MAX_QUEUES &&
	    bpf_xdp_get_buff_len(ctx) <= SD_XSK_MAX_PACKET) {
		key = slot * SD_MAX_QUEUES + q;
		if (bpf_map_lookup_elem(&SD_MAP_XSKS, &key))
			return bpf_redirect_map(&SD_MAP_XSKS, key, XDP_PASS);
	}
	count(cnt, SD_C_redirect_fallback);
	return XDP_PASS;
}

/* classify and the tests read each verdict back */
static __always_inline void record_last(struct sd_result *r, int action)
{
	__u32 zero = 0;
	struct sd_result *last;

	if (!cfg_record_last)
		return;
	last = bpf_map_lookup_elem(&SD_MAP_LAST, &zero);
	if (last) {
		r->xdp_action = action;
		r->seq = last->seq + 1;
		*last = *r;
	}
}

SEC("xdp.frags")
int sipdrain_xdp(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct sd_counters *cnt = bpf_map_lookup_elem(&SD_MAP_COUNTERS, &zero);
	struct sd_config *cfg;
	struct sd_result r = {};
	struct l4 p = {};
	int action = XDP_PASS;

	if (!cnt)
		return XDP_PASS;
	count(cnt, SD_C_packets);
	cfg = bpf_map_lookup_elem(&SD_MAP_CONFIG, &zero);
	if (!cfg)
		return XDP_PASS;

	if (!parse_l4(ctx, &p, cfg, cnt, &r))
		goto out;
	if (scan_xdp(ctx, &p, &r)) {
		count(cnt, SD_C_bad_l3);
		goto out;
	}

	if (r.kind == SD_K_REQUEST) {
		count(cnt, SD_C_requests);
		count(cnt, method_counter(r.method));
		if (r.flags & SD_F_TO_TAG) {
			count(cnt, SD_C_req_in_dialog);
			count(cnt, dlg_counter(r.method));
		}
	} else if (r.kind == SD_K_RESPONSE) {
		count(cnt, SD_C_responses);
		count(cnt, status_counter(r.status));
	} else if (r.kind == SD_K_KEEPALIVE) {
		count(cnt, SD_C_keepalives);
	} else if (r.kind == SD_K_UNPARSED) {
		count(cnt, SD_C_unparsed);
		count(cnt, SD_C_unparsed_truncated + r.unparsed - SD_U_TRUNCATED);
	} else {
		count(cnt, SD_C_not_sip);
	}

	r.verdict = decide(cfg, &r, cnt);
	if (r.kind == SD_K_REQUEST)
		count(cnt, SD_C_MV(r.method % SD_M_MAX, r.verdict));
	/* what reaches the server (and every response) moves the call on */
	if (r.verdict == SD_V_PASS || r.kind == SD_K_RESPONSE)
		dialog_track(&r, cnt);
	if (r.verdict == SD_V_DROP) {
		count(cnt, SD_C_verdict_drop);
		action = XDP_DROP;
	} else if (r.verdict == SD_V_REDIRECT) {
		count(cnt, SD_C_verdict_redirect);
		action = redirect(ctx, cfg, cnt);
	} else {
		count(cnt, SD_C_verdict_pass);
	}
out:
	record_last(&r, action);
	return action;
}

/* TC egress: what the server sends, from a gated source port.  Never
 * changes a packet; follows the calls (a UAS answers and hangs up itself;
 * a proxy forwards the INVITE to the callee). */
SEC("tc")
int sipdrain_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0, off = sizeof(*eth), l4off, i, n;
	struct sd_counters *cnt = bpf_map_lookup_elem(&SD_MAP_COUNTERS, &zero);
	struct sd_config *cfg = bpf_map_lookup_elem(&SD_MAP_CONFIG, &zero);
	struct sd_result r = {};
	struct sd_scratch *x;
	struct udphdr *udp;
	__u16 proto, sport;
	__u32 len;

	if (!cnt || !cfg)
		return TC_ACT_OK;
	count(cnt, SD_C_egress_packets);
	if ((void *)(eth + 1) > data_end)
		goto out;
	proto = eth->h_proto;
	for (i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (data + off + VLAN_HLEN > data_end)
			goto out;
		proto = *(__u16 *)(data + off + 2);
		off += VLAN_HLEN;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end || ip->ihl < 5 || ip->protocol != IPPROTO_UDP ||
		    (ip->frag_off & bpf_htons(0x3fff)))
			goto out;
		l4off = off + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;

		/* the server's own datagrams carry no extension headers */
		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			goto out;
		l4off = off + sizeof(*ip6);
	} else {
		goto out;
	}
	l4off &= 0x3ff;
	udp = data + l4off;
	if ((void *)(udp + 1) > data_end)
		goto out;
	sport = bpf_ntohs(udp->source);
	for (i = 0; i < SD_MAX_PORTS; i++) {
		if (i >= cfg->nports)
			goto out;
		if (cfg->ports[i] == sport)
			break;
	}
	if (i == SD_MAX_PORTS)
		goto out;
	len = bpf_ntohs(udp->len);
	if (len < sizeof(*udp) || l4off + len > skb->len)
		goto out;
	len -= sizeof(*udp);
	x = scan_begin(len);
	if (!x)
		goto out;
	n = x->s.end;
	if (n > 0 && n <= SD_SCAN_MAX &&
	    bpf_skb_load_bytes(skb, l4off + sizeof(*udp), x->buf, n))
		goto out;
	scan_run(x, &r);
	r.l3 = proto == bpf_htons(ETH_P_IP) ? 4 : 6;
	if (r.kind == SD_K_REQUEST)
		count(cnt, SD_C_egress_requests);
	else if (r.kind == SD_K_RESPONSE)
		count(cnt, SD_C_egress_responses);
	dialog_track(&r, cnt);
out:
	record_last(&r, TC_ACT_OK);
	return TC_ACT_OK;
}
