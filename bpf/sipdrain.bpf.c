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
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#include "sipdrain_common.h"
#include "sip_scan.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set before load by userspace: classify and the tests record each verdict. */
const volatile __u32 cfg_record_last = 0;
/* The gated ports, fixed at load (attach): read-only data the verifier
 * knows, so that traffic to other ports leaves after one word test.
 * port_filter has bit (port & 63) of each port.  classify (dynamic_ports)
 * reads the ports from the config map instead, which it changes per
 * packet.  The config map keeps a copy for status and bpftool. */
const volatile __u64 cfg_port_filter = 1ULL << (SD_DEFAULT_PORT & 63);
const volatile __u16 cfg_ports[SD_MAX_PORTS] = { SD_DEFAULT_PORT };
const volatile __u32 cfg_nports = 1;
const volatile __u32 cfg_dynamic_ports = 0;   /* classify/tests: fill sd_last */
/* Refuse only requests addressed to the server (sd_addrs).  classify
 * reads captures of any server: it answers for whatever address. */
const volatile __u32 cfg_check_dst = 1;

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

/* Calls: never evicted (a plain hash; full is counted).  Not
 * preallocated: an entry deleted (its call ended) while another CPU
 * still holds a pointer to it is freed after an RCU grace period, never
 * handed at once to another call that the late write would corrupt. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SD_DEFAULT_DIALOGS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct sd_dialog);
} SD_MAP_CALLS SEC(".maps");

/* Attempts: anyone can make them, so they compete among themselves
 * only (LRU). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SD_DEFAULT_DIALOGS);
	__type(key, __u64);
	__type(value, struct sd_dialog);
} SD_MAP_ATTEMPTS SEC(".maps");

/* In-dialog traffic from outside for Call-IDs neither table holds, until
 * the server answers it: forged in-dialog requests compete only with
 * each other (LRU), never with attempts or calls. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SD_DEFAULT_DIALOGS / 4);
	__type(key, __u64);
	__type(value, struct sd_dialog);
} SD_MAP_LEARNING SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sd_meta);
} SD_MAP_META SEC(".maps");

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

/* The reflection guard's memory: one GCRA state per source. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SD_GUARD_SOURCES);
	__type(key, struct sd_guard_key);
	__type(value, struct sd_guard_state);
} SD_MAP_GUARD SEC(".maps");

/* Known peers: sources the server answered (TC egress). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SD_PEERS_MAX);
	__type(key, struct sd_guard_key);
	__type(value, struct sd_peer_state);
} SD_MAP_PEERS SEC(".maps");

/* The server's own addresses (and its subnets' broadcast addresses),
 * kept current by `run`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SD_ADDRS_MAX);
	__type(key, struct sd_addr_key);
	__type(value, __u32);
} SD_MAP_ADDRS SEC(".maps");

/* What a BYE at the deadline needs: header sections of INVITEs and
 * 2xx to INVITE, read by `run` into SD_MAP_DETAILS.  16 MiB: about
 * 7 600 records, some seconds of a carrier edge's call setups while
 * `run` is away (a restart). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SD_CAPTURE_RING);
} SD_MAP_CAPTURE SEC(".maps");

/* Written by `run` only; pinned so that a restarted `run` still has
 * them.  Not preallocated: memory for the calls up, not for the table. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SD_DEFAULT_DIALOGS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct sd_details);
} SD_MAP_DETAILS SEC(".maps");

#define VLAN_HLEN 4
#define SD_EEXIST 17
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

#define SKIP_WORDS 16
#define STEPS 4
#define SCAN_MASK (SD_SCAN_MAX - 1)

/* A skipped line ends at pos (its CR or LF).  When the next line is
 * skipped as well -- its first byte cannot begin To, Call-ID or CSeq,
 * or it folds the skipped line -- go past that byte at once, in the
 * state sd_scan_step would leave (SKIP, the CR-LF and the byte counted
 * in steps).  0: feed these bytes to the state machine instead (the end
 * of the header section, a header we read, a lone CR, the budget). */
static __always_inline int skip_line_end(struct sd_scratch *x, struct sd_scan *s, __u32 *ppos,
					 __u32 end)
{
	__u32 pos = *ppos, counted = 1;         /* the next line's first byte */
	__u8 c;

	if (x->buf[pos & SCAN_MASK] == '\r') {
		if (pos + 1 >= end || x->buf[(pos + 1) & SCAN_MASK] != '\n')
			return 0;
		pos++;
		counted++;                      /* an LF after CR is not skipped */
	}
	if (pos + 1 >= end)
		return 0;
	c = x->buf[(pos + 1) & SCAN_MASK];
	if (c == '\r' || c == '\n' || (c | 0x20) == 't' || (c | 0x20) == 'i' || (c | 0x20) == 'c')
		return 0;
	/* a fold continues the line: only a header line's (the start
	 * line must not fold) */
	if (sd_is_ws(c) && (s->st != SD_ST_SKIP || !s->hl))
		return 0;
	if (s->steps + counted > SD_SCAN_STEPS)
		return 0;
	s->steps += counted;
	s->st = SD_ST_SKIP;
	s->hl = 1;
	*ppos = pos + 2;
	return 1;
}

/* One bpf_loop step.  Where the state only waits for the end of the line
 * (the rest of a header we do not read), jump over up to SKIP_WORDS
 * words to the next CR or LF, and over whole lines we do not read
 * either (skip_line_end); then feed bytes to the state machine.
 * The bytes jumped over are exactly those sd_scan_step would ignore. */
static long scan_cb(__u32 i, void *data)
{
	struct sd_scratch *x = ((struct scan_ctx *)data)->x;
	struct sd_scan *s = &x->s;
	__u32 pos = s->pos, end = s->end, k;

	if (pos >= end)
		return 1;
	if (sd_scan_in_callid(s) && pos + 8 <= end) {
		/* hash whole runs of the Call-ID, as sd_scan_step would */
		__u64 w, m, h = s->hash;
		__u32 n, j;

		__builtin_memcpy(&w, &x->buf[pos & SCAN_MASK], 8);
		m = sd_word_find4(w, ' ', '\t', '\r', '\n');
		n = m ? sd_first_flagged(m) : 8;
		for (j = 0; j < 8; j++) {
			if (j >= n)
				break;
			h = SD_FNV_STEP(h, w & 0xff);
			w >>= 8;
		}
		s->hash = h;
		pos += n;
		if (n == 8) {
			s->pos = pos;
			return 0;
		}
	} else if (sd_scan_in_angle(s) || sd_scan_skippable(s)) {
		/* inside <...> of To '>' ends the run; elsewhere the line end */
		__u8 stop = sd_scan_in_angle(s) ? '>' : '\n';

		for (k = 0; k < SKIP_WORDS && pos + 8 <= end; k++) {
			__u64 w, m;

			__builtin_memcpy(&w, &x->buf[pos & SCAN_MASK], 8);
			m = sd_word_find4(w, stop, '\r', '\n', '\n');
			if (!m) {
				pos += 8;
				continue;
			}
			pos += sd_first_flagged(m);
			/* the line ends: on to the next when it is skipped too */
			if (stop != '\n' || !skip_line_end(x, s, &pos, end))
				break;
		}
		if (pos >= end) {
			s->pos = pos;
			return 1;
		}
	}
	/* then a few bytes through the state machine, while it reads them */
	for (k = 0; k < STEPS; k++) {
		sd_scan_step(s, x->buf[pos & SCAN_MASK]);
		pos++;
		if (s->st == SD_ST_DONE) {
			s->pos = pos;
			return 1;
		}
		if (pos >= end || sd_scan_skippable(s))
			break;
	}
	s->pos = pos;
	return 0;
}

struct l4 {
	__u32 off;          /* UDP payload (TCP: header) offset from the frame start */
	__u32 len;          /* UDP payload length */
	__u32 l3off;        /* IP header offset */
	__u16 dport;
	__u16 sport;
	__u8 l3;            /* 4 or 6 */
	struct sd_guard_key src;
};

enum { L4_OTHER, L4_UDP, L4_FRAGMENT, L4_BAD, L4_TCP };

/* Ethernet and up to two VLAN tags (802.1Q, 802.1ad): the ethertype
 * behind them in *proto and its offset in *off; -1 if truncated. */
static __always_inline int parse_eth(void *data, void *data_end, __u32 *off, __u16 *proto)
{
	struct ethhdr *eth = data;
	__u32 o = sizeof(*eth), i;
	__u16 p;

	if ((void *)(eth + 1) > data_end)
		return -1;
	p = eth->h_proto;
	for (i = 0; i < 2; i++) {
		if (p != bpf_htons(ETH_P_8021Q) && p != bpf_htons(ETH_P_8021AD))
			break;
		if (data + o + VLAN_HLEN > data_end)
			return -1;
		p = *(__u16 *)(data + o + 2);
		o += VLAN_HLEN;
	}
	*off = o;
	*proto = p;
	return 0;
}

/* The packet's bytes and its linear part, for either program: XDP
 * (is_skb 0) or TC (is_skb 1).  is_skb is a constant where these are
 * inlined, so each program keeps only its own helper. */
static __always_inline long ctx_load(void *ctx, int is_skb, __u32 off, void *to, __u32 len)
{
	return is_skb ? bpf_skb_load_bytes(ctx, off, to, len)
		      : bpf_xdp_load_bytes(ctx, off, to, len);
}

/* The first buffer (XDP) or the linear part (skb), for direct access. */
static __always_inline void ctx_data(void *ctx, int is_skb, void **data, void **data_end)
{
	if (is_skb) {
		*data = (void *)(long)((struct __sk_buff *)ctx)->data;
		*data_end = (void *)(long)((struct __sk_buff *)ctx)->data_end;
	} else {
		*data = (void *)(long)((struct xdp_md *)ctx)->data;
		*data_end = (void *)(long)((struct xdp_md *)ctx)->data_end;
	}
}

static __always_inline __u32 ctx_len(void *ctx, int is_skb)
{
	return is_skb ? ((struct __sk_buff *)ctx)->len : bpf_xdp_get_buff_len(ctx);
}

/* The one L2-L4 walk of both programs (user/packet.c follows the same
 * rules; tests/walk_test.c runs both on the same frames): Ethernet, up
 * to two VLAN tags, IPv4 (any IHL) or IPv6 (up to 8 hop-by-hop, routing
 * and destination options headers, at any offset), UDP; TCP for the SYN
 * path.  No map is touched: traffic that is not UDP leaves after this
 * and one counter. */
static __always_inline int walk_l4(void *ctx, int is_skb, struct l4 *p)
{
	void *data, *data_end;
	__u32 off, l4off, i;
	struct udphdr *udp;
	__u16 proto;
	__u8 nexthdr;

	ctx_data(ctx, is_skb, &data, &data_end);
	if (parse_eth(data, data_end, &off, &proto))
		return L4_BAD;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return L4_BAD;
		if (ip->protocol != IPPROTO_UDP && ip->protocol != IPPROTO_TCP)
			return L4_OTHER;
		if (ip->frag_off & bpf_htons(0x3fff))       /* MF or offset */
			return L4_FRAGMENT;
		l4off = off + ip->ihl * 4;
		p->l3 = 4;
		p->l3off = off;
		p->src.family = 4;
		p->src.v4 = ip->saddr;
		if (ip->protocol == IPPROTO_TCP) {
			p->l3off = off;
			p->off = l4off & 0x3ff;
			return L4_TCP;
		}
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end)
			return L4_BAD;
		nexthdr = ip6->nexthdr;
		l4off = off + sizeof(*ip6);
		for (i = 0; i < 8; i++) {
			__u8 eh[2];

			if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
			    nexthdr != IPPROTO_DSTOPTS)
				break;
			if (l4off > 0xffff || ctx_load(ctx, is_skb, l4off, eh, 2))
				return L4_BAD;
			nexthdr = eh[0];
			l4off += (eh[1] + 1) * 8;
		}
		/* a chain longer than we walk: counted as malformed, never
		 * read at a wrong offset */
		if (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
		    nexthdr == IPPROTO_DSTOPTS || l4off > 0xffff)
			return L4_BAD;
		if (nexthdr == IPV6_FRAG)
			return L4_FRAGMENT;
		p->l3 = 6;
		p->l3off = off;
		p->src.family = 6;
		__builtin_memcpy(&p->src.v6_prefix, &ip6->saddr, 8);   /* the /64 */
		if (nexthdr == IPPROTO_TCP && l4off == off + sizeof(*ip6)) {
			p->l3off = off;
			p->off = l4off & 0x3ff;
			return L4_TCP;
		}
		if (nexthdr != IPPROTO_UDP)
			return L4_OTHER;
	} else {
		return L4_OTHER;
	}
	if (l4off > 0x3ff - sizeof(*udp)) {
		/* far behind extension headers: read, not indexed */
		struct udphdr uh;

		if (ctx_load(ctx, is_skb, l4off, &uh, sizeof(uh)))
			return L4_BAD;
		p->dport = bpf_ntohs(uh.dest);
		p->sport = bpf_ntohs(uh.source);
		p->len = bpf_ntohs(uh.len);
	} else {
		udp = data + l4off;
		if ((void *)(udp + 1) > data_end)
			return L4_BAD;
		p->dport = bpf_ntohs(udp->dest);
		p->sport = bpf_ntohs(udp->source);
		p->len = bpf_ntohs(udp->len);
	}
	p->off = l4off + sizeof(*udp);
	return L4_UDP;
}

static __always_inline int port_gated(__u16 port)
{
	__u32 zero = 0, i;
	struct sd_config *cfg;

	if (cfg_dynamic_ports) {
		cfg = bpf_map_lookup_elem(&SD_MAP_CONFIG, &zero);
		if (!cfg)
			return 0;
		for (i = 0; i < SD_MAX_PORTS; i++) {
			if (i >= cfg->nports)
				return 0;
			if (cfg->ports[i] == port)
				return 1;
		}
		return 0;
	}
	if (!((cfg_port_filter >> (port & 63)) & 1))
		return 0;
	for (i = 0; i < SD_MAX_PORTS; i++) {
		if (i >= cfg_nports)
			return 0;
		if (cfg_ports[i] == port)
			return 1;
	}
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

static __always_inline int scan_l4(void *ctx, int is_skb, struct l4 *p, struct sd_result *r)
{
	struct sd_scratch *x = scan_begin(p->len);
	__u32 n;

	if (!x)
		return -1;
	n = x->s.end;
	if (n > 0 && n <= SD_SCAN_MAX && ctx_load(ctx, is_skb, p->off, x->buf, n))
		return -1;
	scan_run(x, r);
	return 0;
}

static __always_inline __u32 method_counter(__u8 m)
{
	return SD_METHOD_COUNTER(SD_C_req_invite, SD_C_req_other, m);
}

static __always_inline __u32 status_counter(__u64 status)
{
	if (status < 100 || status > 699)
		return SD_C_resp_other;
	return SD_C_resp_1xx + (__u32)status / 100 - 1;
}

static __always_inline __u32 dlg_counter(__u8 m)
{
	return SD_METHOD_COUNTER(SD_C_dlg_invite, SD_C_dlg_other, m);
}

/* A new attempt: an INVITE without To tag that reaches the server (or
 * leaves it).  Returns 1 when the Call-ID was new to both tables. */
static __always_inline int dialog_attempt(struct sd_result *r, __u64 now)
{
	struct sd_dialog *d, nd = {};

	/* RFC 2543-style re-INVITE of a call, or the re-send after a
	 * 401/407 to an early dialog */
	d = bpf_map_lookup_elem(&SD_MAP_CALLS, &r->call_id_hash);
	if (d) {
		d->last_ns = now;
		d->rejected_ns = 0;
		__sync_fetch_and_add(&d->hits, 1);
		return 0;
	}
	d = bpf_map_lookup_elem(&SD_MAP_ATTEMPTS, &r->call_id_hash);
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
	return !bpf_map_update_elem(&SD_MAP_ATTEMPTS, &r->call_id_hash, &nd, BPF_NOEXIST);
}

/* Requests that only travel inside an INVITE dialog (or keep one alive):
 * with a To tag, they tell of a call.  Not ACK, BYE, CANCEL (a call
 * ending), not SUBSCRIBE/NOTIFY/REGISTER/PUBLISH (subscriptions and
 * registrations are not calls). */
#define SD_LEARN_REQUESTS ((1U << SD_M_INVITE) | (1U << SD_M_UPDATE) | (1U << SD_M_INFO) | \
			   (1U << SD_M_PRACK) | (1U << SD_M_OPTIONS) | (1U << SD_M_REFER) | \
			   (1U << SD_M_MESSAGE))
/* Responses whose CSeq method exists only inside an INVITE dialog (a
 * tagged 200 to OPTIONS, REGISTER or MESSAGE outside one is common). */
#define SD_LEARN_RESPONSES ((1U << SD_M_INVITE) | (1U << SD_M_UPDATE) | (1U << SD_M_INFO) | \
			    (1U << SD_M_PRACK))
#define SD_IN(set, m) ((set) & (1U << ((m) & 31)))

/* Put a call in the call table.  0: done; 1: another CPU was first (the
 * entry is there); -1: no room (counted, noted). */
static __always_inline int call_insert(struct sd_result *r, struct sd_dialog *nd,
				       struct sd_counters *cnt, __u64 now)
{
	__u32 zero = 0;
	struct sd_meta *meta;
	long err = bpf_map_update_elem(&SD_MAP_CALLS, &r->call_id_hash, nd, BPF_NOEXIST);

	if (!err)
		return 0;
	if (err == -SD_EEXIST)
		return 1;
	count(cnt, SD_C_calls_table_full);
	meta = bpf_map_lookup_elem(&SD_MAP_META, &zero);
	if (meta)
		meta->table_full_ns = now;
	return -1;
}

/* An attempt (or a call being learned) is answered, or vouched for by
 * the server: move it from map to the call table in state st. */
static __always_inline void promote(void *map, struct sd_result *r, struct sd_dialog *a, __u8 st,
				    struct sd_counters *cnt, __u64 now)
{
	struct sd_dialog nd = *a, *c;
	int rc;

	nd.state = st;
	nd.rejected_ns = 0;
	nd.last_ns = now;
	rc = call_insert(r, &nd, cnt, now);
	if (rc < 0) {
		a->state = st;          /* best effort: kept, but evictable */
		a->rejected_ns = 0;
		return;
	}
	if (rc > 0) {
		/* another CPU promoted it first (a 180 and a 200 at once):
		 * the later state wins */
		c = bpf_map_lookup_elem(&SD_MAP_CALLS, &r->call_id_hash);
		if (c) {
			if (c->state < st)
				c->state = st;
			c->rejected_ns = 0;
			c->last_ns = now;
		}
	}
	bpf_map_delete_elem(map, &r->call_id_hash);
	if (rc > 0)
		return;
	if (nd.flags & SD_DF_LEARNED)
		count(cnt, SD_C_calls_learned);
	else
		count(cnt, st == SD_D_EARLY ? SD_C_dialogs_early : SD_C_dialogs_confirmed);
}

static __always_inline void call_end(struct sd_result *r, struct sd_counters *cnt)
{
	bpf_map_delete_elem(&SD_MAP_CALLS, &r->call_id_hash);
	count(cnt, SD_C_dialogs_ended);
}

/* A call in the call table: what moves it on.  Finals to the INVITE
 * count only as the server sends them: with forking, one branch's 486
 * or 407 arriving while another rings is not the call's end. */
static __always_inline void call_update(struct sd_dialog *d, struct sd_result *r,
					struct sd_counters *cnt, __u64 now, int egress)
{
	__u64 st = r->status;

	d->last_ns = now;
	if (r->kind == SD_K_REQUEST) {
		if (r->method == SD_M_BYE && d->state < SD_D_CLOSING)
			d->state = SD_D_CLOSING;
		return;
	}
	if (r->cseq_method == SD_M_BYE) {
		if (st >= 200)
			call_end(r, cnt);
		return;
	}
	/* the INVITE dialog does not exist at the other end (RFC 3261
	 * 12.2.1.2): what we learned was not a call.  Not a 481 to NOTIFY
	 * or CANCEL: another usage, or a transaction (RFC 5057). */
	if (st == 481 && (d->flags & SD_DF_LEARNED) && SD_IN(SD_LEARN_REQUESTS, r->cseq_method)) {
		call_end(r, cnt);
		return;
	}
	if (r->cseq_method != SD_M_INVITE || d->state >= SD_D_CONFIRMED)
		return;                 /* re-INVITEs do not change a call */
	if (st >= 200 && st < 300) {
		d->state = SD_D_CONFIRMED;
		d->rejected_ns = 0;
		if (!egress)
			d->flags |= SD_DF_2XX_IN;
		count(cnt, SD_C_dialogs_confirmed);
	} else if (st >= 300 && egress) {
		if (st == 401 || st == 407)
			d->rejected_ns = now;   /* the caller may retry with credentials */
		else
			call_end(r, cnt);       /* the early dialog failed */
	}
}

/* An entry of the attempt table. */
static __always_inline void attempt_update(struct sd_dialog *a, struct sd_result *r,
					   struct sd_counters *cnt, __u64 now, int egress)
{
	__u64 st = r->status;

	a->last_ns = now;
	if (r->kind == SD_K_REQUEST) {
		if (r->method == SD_M_BYE && a->state < SD_D_CLOSING)
			a->state = SD_D_CLOSING;
		return;
	}
	if (r->cseq_method == SD_M_BYE) {
		if (st >= 200 && a->state != SD_D_ENDED) {
			a->state = SD_D_ENDED;
			count(cnt, SD_C_dialogs_ended);
		}
		return;
	}
	if (r->cseq_method != SD_M_INVITE || a->state >= SD_D_CONFIRMED)
		return;
	if (st > 100 && st < 200 && (r->flags & SD_F_TO_TAG)) {
		if (a->state == SD_D_ATTEMPT)
			promote(&SD_MAP_ATTEMPTS, r, a, SD_D_EARLY, cnt, now);
	} else if (st >= 200 && st < 300) {
		if (!egress)
			a->flags |= SD_DF_2XX_IN;
		promote(&SD_MAP_ATTEMPTS, r, a, SD_D_CONFIRMED, cnt, now);
	} else if (st >= 300 && egress) {
		if (st == 401 || st == 407) {
			a->rejected_ns = now;   /* the caller may retry with credentials */
		} else if (a->state != SD_D_ENDED) {
			a->state = SD_D_ENDED;
			count(cnt, SD_C_dialogs_ended);
		}
	}
}

/* A call being learned (in-dialog traffic from outside): the server's
 * own 1xx/2xx to that request vouches for it; a relayed request does
 * not (a proxy forwards what it is sent), nor an answer to another
 * method. */
static __always_inline void learning_update(struct sd_dialog *l, struct sd_result *r,
					    struct sd_counters *cnt, __u64 now, int egress)
{
	__u64 st = r->status;

	l->last_ns = now;
	if (r->kind != SD_K_RESPONSE)
		return;
	if (egress && (r->flags & SD_F_TO_TAG) && st > 100 && st < 300 &&
	    r->cseq_method == l->method && l->state == SD_D_ATTEMPT)
		promote(&SD_MAP_LEARNING, r, l, SD_D_CONFIRMED, cnt, now);
	else if (st == 481)
		l->state = SD_D_ENDED;
}

/* Traffic of a call no table holds: a call that began before the gate
 * (or its restart).  What the server sends vouches for the dialog at
 * once; a request from outside waits in SD_MAP_LEARNING for the server's
 * answer, so that forged in-dialog requests never fill the call table. */
static __always_inline void learn(struct sd_result *r, struct sd_counters *cnt, __u64 now,
				  int egress)
{
	struct sd_dialog nd = {};
	__u64 st = r->status;

	if (!(r->flags & SD_F_TO_TAG))
		return;
	if (r->kind == SD_K_REQUEST) {
		if (!SD_IN(SD_LEARN_REQUESTS, r->method))
			return;
		nd.state = SD_D_CONFIRMED;
	} else {
		/* an answer from outside to a request the gate did not see
		 * leave: the server's next request in that dialog says more */
		if (!egress || st <= 100 || st >= 300 || !SD_IN(SD_LEARN_RESPONSES, r->cseq_method))
			return;
		nd.state = r->cseq_method == SD_M_INVITE && st < 200 ? SD_D_EARLY : SD_D_CONFIRMED;
	}
	nd.created_ns = now;
	nd.last_ns = now;
	nd.flags = SD_DF_LEARNED;
	if (egress) {
		nd.flags |= SD_DF_EGRESS;
		if (call_insert(r, &nd, cnt, now) >= 0) {
			count(cnt, SD_C_calls_learned);
			return;
		}
		/* no room: kept where status sees it, evictable */
	} else {
		nd.state = SD_D_ATTEMPT;
		nd.method = r->method;
		count(cnt, SD_C_calls_tentative);
	}
	bpf_map_update_elem(&SD_MAP_LEARNING, &r->call_id_hash, &nd, BPF_NOEXIST);
}

/* Follow a call through what crosses the wire, either direction.  r is a
 * request that reached its destination, or a response.  Returns the
 * flags the call or attempt had before this message (0 when none): the
 * egress 2xx reads SD_DF_2XX_IN, set only by an earlier ingress 2xx, from
 * them (capture_wanted) without a second lookup; read before the update,
 * because a promoted attempt's entry is freed.  Egress only: the XDP
 * program compiles as it did without it (make bench measured a 180 6-10 %
 * slower through the reordered blocks when ingress read them too). */
static __always_inline __u32 dialog_track(struct sd_result *r, struct sd_counters *cnt, int egress)
{
	struct sd_dialog *d;
	__u32 flags;
	__u64 now;

	if (!(r->flags & SD_F_CALLID) || (r->kind != SD_K_REQUEST && r->kind != SD_K_RESPONSE))
		return 0;
	if (r->kind == SD_K_REQUEST && r->method == SD_M_INVITE && !(r->flags & SD_F_TO_TAG)) {
		if (dialog_attempt(r, bpf_ktime_get_ns()))
			count(cnt, SD_C_dialogs_recorded);
		return 0;
	}
	if (r->kind == SD_K_RESPONSE && !(r->flags & SD_F_CSEQ))
		return 0;
	now = bpf_ktime_get_ns();
	d = bpf_map_lookup_elem(&SD_MAP_CALLS, &r->call_id_hash);
	if (d) {
		flags = egress ? d->flags : 0;
		call_update(d, r, cnt, now, egress);
		return flags;
	}
	d = bpf_map_lookup_elem(&SD_MAP_ATTEMPTS, &r->call_id_hash);
	if (d) {
		flags = egress ? d->flags : 0;
		attempt_update(d, r, cnt, now, egress);
		return flags;
	}
	/* a call being learned only moves on the server's answer or a 481;
	 * only a tagged request of a method that tells of a call, or the
	 * server's answer, can start learning one: anything else (an
	 * in-dialog BYE or ACK, an answer from outside) is done here */
	if (r->kind == SD_K_REQUEST ? !SD_IN(SD_LEARN_REQUESTS, r->method) || !(r->flags & SD_F_TO_TAG)
				    : !egress && r->status != 481)
		return 0;
	d = bpf_map_lookup_elem(&SD_MAP_LEARNING, &r->call_id_hash);
	if (d) {
		learning_update(d, r, cnt, now, egress);
		return 0;
	}
	learn(r, cnt, now, egress);
	return 0;
}

/* state and allow_mask, read in one load: writers store them in one
 * (struct sd_config), so a packet never sees a new state with an old
 * mask */
static __always_inline __u64 state_word(struct sd_config *cfg)
{
	return *(volatile __u64 *)&cfg->state;
}

#define WORD_STATE(w) ((__u32)(w))
#define WORD_ALLOW(w) ((__u32)((w) >> 32))

/* A source the server answered within the peer window: a trunk, an SBC,
 * a registered phone.  Its refusals are not limited per source: a peer
 * sending thousands of calls a second must get thousands of 503s, or
 * its callers wait for timeouts instead of failing over.  Someone who
 * forges a known peer's address gets replies of request size sent to
 * that peer: no amplification. */
static __always_inline int known_peer(struct sd_config *cfg, struct l4 *p, __u64 now)
{
	struct sd_peer_state *ps;

	if (!cfg->peer_window_ns)
		return 0;
	ps = bpf_map_lookup_elem(&SD_MAP_PEERS, &p->src);
	/* another CPU may have stored a later time than our now */
	return ps && (ps->last_ns >= now || now - ps->last_ns < cfg->peer_window_ns);
}

/* The server sent a final response to this address (TC egress), or it
 * answered the server's INVITE with a 2xx: a known peer from now on. */
static __always_inline void peer_mark(struct sd_guard_key *k, struct sd_counters *cnt)
{
	struct sd_peer_state *ps, nps;
	__u64 now = bpf_ktime_get_ns();

	ps = bpf_map_lookup_elem(&SD_MAP_PEERS, k);
	if (ps) {
		/* one write a second at most: a busy trunk's responses
		 * must not all dirty the same cache line */
		if (now > ps->last_ns && now - ps->last_ns > SD_PEER_REFRESH_NS) {
			ps->last_ns = now;
			count(cnt, SD_C_peers_marked);
		}
		return;
	}
	nps.first_ns = now;
	nps.last_ns = now;
	bpf_map_update_elem(&SD_MAP_PEERS, k, &nps, BPF_ANY);
	count(cnt, SD_C_peers_marked);
}

/* The reflection and flood guard: at most reply_rate answered requests
 * per second per unknown source (IPv4 address, IPv6 /64), bursts of
 * reply_burst (GCRA).  Above it the request is dropped, not answered. */
static __always_inline int guard_allows(struct sd_config *cfg, struct l4 *p,
					struct sd_counters *cnt)
{
	struct sd_guard_state *g, ng = {};
	__u64 now, tat, interval, tolerance;

	if (!cfg->reply_rate)
		return 1;
	now = bpf_ktime_get_ns();
	if (known_peer(cfg, p, now)) {
		count(cnt, SD_C_guard_known_peer);
		return 1;
	}
	interval = 1000000000ULL / cfg->reply_rate;
	tolerance = interval * (cfg->reply_burst ? cfg->reply_burst - 1 : 0);
	g = bpf_map_lookup_elem(&SD_MAP_GUARD, &p->src);
	if (!g) {
		ng.tat_ns = now + interval;
		bpf_map_update_elem(&SD_MAP_GUARD, &p->src, &ng, BPF_NOEXIST);
		return 1;
	}
	tat = g->tat_ns > now ? g->tat_ns : now;
	if (tat - now > tolerance) {
		g->dropped++;
		return 0;
	}
	g->tat_ns = tat + interval;
	return 1;
}

enum { ADDR_OURS, ADDR_NOT_OURS, ADDR_BAD_DEST, ADDR_BAD_SOURCE };

/* A request the gate would answer: is it addressed to the server, and
 * from someone who can receive the answer?  To another host's unicast
 * address it is none of the gate's business (the kernel decides, as if
 * no gate were there).  To a broadcast or multicast address it is never
 * answered, and never passed either: a server bound to the wildcard
 * address would take it, a new call through the drain.  From a source
 * that cannot receive (a forged one) a 503 must never be reflected. */
static __always_inline int addr_check(struct xdp_md *ctx, struct l4 *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sd_addr_key k = {};
	__u32 *kind;

	if (p->l3 == 4) {
		struct iphdr *ip = data + (p->l3off & 0x3ff);
		__u32 s;

		if ((void *)(ip + 1) > data_end)
			return ADDR_NOT_OURS;
		k.family = 4;
		__builtin_memcpy(k.addr, &ip->daddr, 4);
		s = bpf_ntohl(ip->daddr);
		if ((s >> 28) >= 14)            /* multicast, 240/4, 255.255.255.255 */
			return ADDR_BAD_DEST;
		if (cfg_check_dst) {
			kind = bpf_map_lookup_elem(&SD_MAP_ADDRS, &k);
			if (!kind)
				return ADDR_NOT_OURS;
			if (*kind != SD_ADDR_LOCAL)
				return ADDR_BAD_DEST;   /* a subnet broadcast */
		}
		s = bpf_ntohl(ip->saddr);
		/* 0/8 unspecified, 127/8 loopback, 224/4 multicast, 240/4
		 * reserved with 255.255.255.255 */
		if ((s >> 24) == 0 || (s >> 24) == 127 || (s >> 28) >= 14)
			return ADDR_BAD_SOURCE;
		__builtin_memcpy(k.addr, &ip->saddr, 4);
	} else {
		struct ipv6hdr *ip6 = data + (p->l3off & 0x3ff);
		__u32 w0, w1, w2, w3;

		if ((void *)(ip6 + 1) > data_end)
			return ADDR_NOT_OURS;
		k.family = 6;
		__builtin_memcpy(k.addr, &ip6->daddr, 16);
		if (ip6->daddr.in6_u.u6_addr8[0] == 0xff)      /* multicast */
			return ADDR_BAD_DEST;
		if (cfg_check_dst) {
			kind = bpf_map_lookup_elem(&SD_MAP_ADDRS, &k);
			if (!kind)
				return ADDR_NOT_OURS;
			if (*kind != SD_ADDR_LOCAL)
				return ADDR_BAD_DEST;
		}
		w0 = bpf_ntohl(ip6->saddr.in6_u.u6_addr32[0]);
		w1 = ip6->saddr.in6_u.u6_addr32[1];
		w2 = bpf_ntohl(ip6->saddr.in6_u.u6_addr32[2]);
		w3 = bpf_ntohl(ip6->saddr.in6_u.u6_addr32[3]);
		/* ff00::/8 multicast; ::, ::1; ::ffff:0:0/96 v4-mapped
		 * (never on the wire) */
		if ((w0 >> 24) == 0xff ||
		    (!w0 && !w1 && (w2 == 0 || w2 == 0xffff) && (w2 || w3 <= 1)))
			return ADDR_BAD_SOURCE;
		__builtin_memcpy(k.addr, &ip6->saddr, 16);
	}
	if (!p->sport)
		return ADDR_BAD_SOURCE;
	/* the server's own address, a subnet broadcast */
	if (bpf_map_lookup_elem(&SD_MAP_ADDRS, &k))
		return ADDR_BAD_SOURCE;
	return ADDR_OURS;
}

static __always_inline __u16 csum_fold(__u64 c)
{
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	return ~c;
}

/* A new TCP connection (SYN without ACK) to a SIP TCP/TLS port while
 * draining: answer RST+ACK from the server's address at once, in the
 * same frame (XDP_TX), so the client fails over without a timeout.
 * Returns the XDP action, or -1 to let the segment pass. */
static __always_inline int tcp_refuse(struct xdp_md *ctx, struct l4 *p, struct sd_config *cfg,
				      struct sd_counters *cnt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *tcp = data + p->off;
	__u8 mac[ETH_ALEN], *flags;
	__u32 i, seq, newlen;
	__u16 port, tport;
	__u64 c;

	if ((void *)(eth + 1) > data_end || (void *)(tcp + 1) > data_end)
		return -1;
	port = bpf_ntohs(tcp->dest);
	for (i = 0; i < SD_MAX_PORTS; i++) {
		if (i >= cfg->ntcp_ports)
			return -1;
		if (cfg->tcp_ports[i] == port)
			break;
	}
	if (i == SD_MAX_PORTS)
		return -1;
	flags = (__u8 *)tcp + 13;
	/* established segments (and anything but a first SYN) pass */
	if (WORD_STATE(state_word(cfg)) == SD_SERVING || (*flags & 0x17) != 0x02) {
		cnt->tcp_passed++;
		return -1;
	}
	/* not for the server, or from nobody who can receive the RST */
	p->sport = bpf_ntohs(tcp->source);
	i = addr_check(ctx, p);
	if (i == ADDR_NOT_OURS) {
		cnt->not_ours++;
		return -1;
	}
	if (i == ADDR_BAD_DEST) {
		cnt->bad_destination++;
		return XDP_DROP;
	}
	if (i == ADDR_BAD_SOURCE) {
		cnt->bad_source++;
		return XDP_DROP;
	}
	/* everything decided before the first write: a segment we leave to
	 * the server must reach it untouched */
	if (p->l3 == 4) {
		struct iphdr *ip4 = data + (p->l3off & 0x3ff);

		if ((void *)(ip4 + 1) > data_end || ip4->ihl != 5)
			return -1;      /* IP options: leave it to the server */
	} else {
		struct ipv6hdr *ip6c = data + (p->l3off & 0x3ff);

		if ((void *)(ip6c + 1) > data_end)
			return -1;
	}
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	seq = bpf_ntohl(tcp->seq);
	tport = tcp->source;
	tcp->source = tcp->dest;
	tcp->dest = tport;
	tcp->ack_seq = bpf_htonl(seq + 1);         /* the SYN takes one */
	tcp->seq = 0;
	*((__u8 *)tcp + 12) = 5 << 4;              /* no options */
	*flags = 0x14;                             /* RST, ACK */
	tcp->window = 0;
	tcp->check = 0;
	tcp->urg_ptr = 0;

	if (p->l3 == 4) {
		struct iphdr *ip = data + (p->l3off & 0x3ff);
		struct { __be32 s, d; __u8 z, proto; __be16 len; } ph;
		__be32 a;

		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;        /* checked above: cannot happen */
		a = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = a;
		ip->tos = 0;            /* no DSCP or ECN (CE) of the SYN's (xdp_synproxy) */
		ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*tcp));
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000);
		ip->ttl = 64;
		ip->check = 0;
		ip->check = csum_fold(bpf_csum_diff(NULL, 0, (void *)ip, sizeof(*ip), 0));
		ph.s = ip->saddr;
		ph.d = ip->daddr;
		ph.z = 0;
		ph.proto = IPPROTO_TCP;
		ph.len = bpf_htons(sizeof(*tcp));
		c = bpf_csum_diff(NULL, 0, (void *)&ph, sizeof(ph), 0);
		tcp->check = csum_fold(bpf_csum_diff(NULL, 0, (void *)tcp, sizeof(*tcp), c));
	} else {
		struct ipv6hdr *ip6 = data + (p->l3off & 0x3ff);
		struct { struct in6_addr s, d; __be32 len; __u8 z[3], nh; } ph;
		struct in6_addr a;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;        /* checked above: cannot happen */
		a = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
		/* version 6, traffic class 0 (no DSCP, no ECN), no flow label */
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(sizeof(*tcp));
		ip6->hop_limit = 64;
		ph.s = ip6->saddr;
		ph.d = ip6->daddr;
		ph.len = bpf_htonl(sizeof(*tcp));
		ph.z[0] = ph.z[1] = ph.z[2] = 0;
		ph.nh = IPPROTO_TCP;
		c = bpf_csum_diff(NULL, 0, (void *)&ph, sizeof(ph), 0);
		tcp->check = csum_fold(bpf_csum_diff(NULL, 0, (void *)tcp, sizeof(*tcp), c));
	}
	/* drop the SYN's options and any payload */
	newlen = p->off + sizeof(*tcp);
	if (bpf_xdp_adjust_tail(ctx, (int)newlen - (int)bpf_xdp_get_buff_len(ctx)))
		return XDP_DROP;        /* headers already rewritten: cannot pass it */
	cnt->tcp_syn_refused++;
	return XDP_TX;
}

/* DRAINING: may this out-of-dialog request still reach the server? */
static __always_inline int drain_lets_through(struct sd_config *cfg, __u32 allow_mask,
					      struct sd_result *r,
					      struct sd_counters *cnt)
{
	struct sd_dialog *d;

	if ((allow_mask | SD_ALLOW_ALWAYS) & (1U << (r->method & 31))) {
		count(cnt, SD_C_drain_allowed);
		return 1;
	}
	if (!(r->flags & SD_F_CALLID))
		return 0;
	/* the Call-ID of a live call, whatever the method (an RFC 2543
	 * BYE without To tag), or of an attempt the server already received
	 * (retransmission, re-send after 401/407).  Ended, or its retry
	 * window or idle time passed: the same rules as `status`.  Not an
	 * INVITE on the Call-ID of a learned call: its INVITE is long past,
	 * and in-dialog traffic anyone can send must not open the drain.
	 * Calls being learned (SD_MAP_LEARNING) never let anything through. */
	d = bpf_map_lookup_elem(&SD_MAP_CALLS, &r->call_id_hash);
	if (d && (d->flags & SD_DF_LEARNED) && r->method == SD_M_INVITE)
		return 0;
	if (!d)
		d = bpf_map_lookup_elem(&SD_MAP_ATTEMPTS, &r->call_id_hash);
	if (d && sd_dialog_effective(d, bpf_ktime_get_ns(), cfg) != SD_D_ENDED) {
		count(cnt, SD_C_drain_known_callid);
		return 1;
	}
	return 0;
}

/* The DESIGN.md state table. */
static __always_inline __u8 decide(struct sd_config *cfg, __u64 word, struct sd_result *r,
				   struct sd_counters *cnt)
{
	__u32 state = WORD_STATE(word);

	if (r->kind == SD_K_RESPONSE) {
		if (state == SD_OFFLINE) {
			/* answers to the BYEs `run` sends at the deadline go to
			 * it (dropped when no socket), never to the server */
			if ((r->flags & SD_F_CSEQ) && r->cseq_method == SD_M_BYE)
				return SD_V_REDIRECT;
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
		if (drain_lets_through(cfg, WORD_ALLOW(word), r, cnt))
			return SD_V_PASS;
		return SD_V_REDIRECT;
	}
	if (state == SD_OFFLINE)
		return SD_V_REDIRECT;
	return SD_V_PASS;                       /* unknown state: fail open */
}

/* Redirect to the responder socket of this interface and RX queue;
 * when there is none, `fallback` (counted): XDP_PASS for a request (the
 * server answers it), XDP_DROP for a response (an answer to the gate's
 * own BYE is nothing for the server). */
static __always_inline int redirect(struct xdp_md *ctx, struct sd_config *cfg,
				    struct sd_counters *cnt, int fallback)
{
	__u32 slot, key, q = ctx->rx_queue_index;

	for (slot = 0; slot < SD_MAX_IFACES; slot++)
		if (cfg->ifindex[slot] == ctx->ingress_ifindex)
			break;
	/* a frame the socket's 4 KiB chunks cannot hold would be lost */
	if (slot < SD_MAX_IFACES && q < SD_MAX_QUEUES &&
	    bpf_xdp_get_buff_len(ctx) <= SD_XSK_MAX_PACKET) {
		key = SD_XSK_KEY(slot, q);
		if (bpf_map_lookup_elem(&SD_MAP_XSKS, &key))
			return bpf_redirect_map(&SD_MAP_XSKS, key, fallback);
	}
	count(cnt, fallback == XDP_PASS ? SD_C_redirect_fallback : SD_C_responses_dropped);
	return fallback;
}

#ifndef SD_NO_CAPTURE
/* Where the message crossed: the link-layer header, the addresses and
 * ports.  Read in place (the headers are in the first buffer, the linear
 * part of an skb), else through the helper. */
static __always_inline int capture_hop(void *ctx, int is_skb, struct l4 *p, struct sd_hop *hop)
{
	void *data, *data_end;
	__u32 l2 = p->l3off, aoff = p->l3 == 4 ? 12 : 8;   /* the source address */
	__u8 *a, addrs[32];

	if (l2 < 14 || l2 > SD_L2_MAX || (p->l3 != 4 && p->l3 != 6))
		return -1;
	ctx_data(ctx, is_skb, &data, &data_end);
	/* source and destination, side by side in both headers; in place
	 * when the first buffer holds the longest link-layer header and
	 * the IP header (a header-split buffer may end right behind UDP's) */
	if (data + SD_L2_MAX + (p->l3 == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr)) <= data_end) {
		/* constant sizes: Ethernet alone, one tag or two */
		if (l2 == 14)
			__builtin_memcpy(hop->l2, data, 14);
		else if (l2 == 18)
			__builtin_memcpy(hop->l2, data, 18);
		else if (l2 == SD_L2_MAX)
			__builtin_memcpy(hop->l2, data, SD_L2_MAX);
		else
			return -1;
		a = data + l2 + aoff;
	} else {
		if (ctx_load(ctx, is_skb, 0, hop->l2, l2) ||
		    ctx_load(ctx, is_skb, l2 + aoff, addrs, p->l3 == 4 ? 8 : 32))
			return -1;
		a = addrs;
	}
	if (p->l3 == 4) {
		__builtin_memcpy(hop->party_addr, a + (is_skb ? 4 : 0), 4);
		__builtin_memcpy(hop->server_addr, a + (is_skb ? 0 : 4), 4);
	} else {
		__builtin_memcpy(hop->party_addr, a + (is_skb ? 16 : 0), 16);
		__builtin_memcpy(hop->server_addr, a + (is_skb ? 0 : 16), 16);
	}
	hop->family = p->l3;
	hop->l2_len = l2;
	hop->party_port = is_skb ? p->dport : p->sport;
	hop->server_port = is_skb ? p->sport : p->dport;
	return 0;
}

/* Copy a message a BYE at the deadline will need (an INVITE that reaches
 * the server, a 2xx to an INVITE either way) into the capture ring, with
 * where it came from (capture_hop), the interface and RX queue.  At most
 * SD_CAPTURE_SIP_MAX bytes: the header section, and the start of the
 * body when it fits (run keeps the header section only).  Nothing else
 * is ever copied: in-dialog requests cost nothing here.
 *
 * The payload is in the scanner's copy already, with the record's header
 * right before it: one helper call copies the record, as long as the
 * message.  No wakeup per record (an irq_work and a wakeup: microseconds
 * per call): `run` reads the ring every SD_CAPTURE_POLL_MS, and is woken
 * when a quarter of it is full (looked at every 64th record of a CPU). */
static __always_inline void capture(void *ctx, int is_skb, struct l4 *p, struct sd_result *r,
				    __u32 ifindex, __u32 rxq, struct sd_counters *cnt)
{
	struct sd_scratch *x;
	__u32 zero = 0, len = p->len;
	__u64 wake = BPF_RB_NO_WAKEUP;

	x = bpf_map_lookup_elem(&SD_MAP_SCRATCH, &zero);
	if (!x)
		return;
	/* no more than the scanner copied (a build with a smaller scan
	 * budget, make bench's 2 KiB one, copies less) */
	if (len > SD_CAPTURE_SIP_MAX)
		len = SD_CAPTURE_SIP_MAX;
	if (len > SD_SCAN_MAX)
		len = SD_SCAN_MAX;
	__builtin_memset(&x->cap, 0, sizeof(x->cap));
	if (len < 1 || len > x->s.end || capture_hop(ctx, is_skb, p, &x->cap.hop))
		goto lost;
	x->cap.call_id_hash = r->call_id_hash;
	x->cap.dir = is_skb ? SD_CAP_EGRESS : SD_CAP_INGRESS;
	x->cap.kind = r->kind;
	x->cap.status = r->status;
	x->cap.len = len;
	x->cap.hop.ifindex = ifindex;
	x->cap.hop.rx_queue = rxq;
	if (!(++x->captures & 63) &&
	    bpf_ringbuf_query(&SD_MAP_CAPTURE, BPF_RB_AVAIL_DATA) > SD_CAPTURE_RING / 4)
		wake = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&SD_MAP_CAPTURE, &x->cap, sizeof(x->cap) + len, wake))
		goto lost;                      /* the ring is full */
	cnt->captured++;
	return;
lost:
	cnt->capture_lost++;
}

/* Is this a message capture() keeps?  An INVITE without To tag the
 * server receives, or a 2xx with CSeq method INVITE -- but not the 2xx
 * the server sends on for a call a received 2xx confirmed (a proxy's
 * copy of what was captured coming in).  dflags: what dialog_track
 * returned for it. */
static __always_inline int capture_wanted(struct sd_result *r, int egress, __u32 dflags)
{
	if (r->kind == SD_K_REQUEST)
		return r->method == SD_M_INVITE && !(r->flags & SD_F_TO_TAG);
	if (r->kind != SD_K_RESPONSE || r->status < 200 || r->status >= 300 ||
	    !(r->flags & SD_F_CSEQ) || r->cseq_method != SD_M_INVITE)
		return 0;
	return !egress || !(dflags & SD_DF_2XX_IN);
}
#endif

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
	struct sd_counters *cnt;
	struct sd_config *cfg;
	struct sd_result r;
	struct l4 p;
	int action = XDP_PASS, k, untracked = 0;

	/* everything that is not UDP to a gated port leaves early: one
	 * counter, no scan.  First the common frame, untagged IPv4 without
	 * options, at fixed offsets with one bounds check. */
	{
		void *data = (void *)(long)ctx->data;
		void *data_end = (void *)(long)ctx->data_end;
		struct iphdr *ip = data + sizeof(struct ethhdr);
		struct udphdr *udp = (void *)(ip + 1);

		if ((void *)(udp + 1) <= data_end &&
		    ((struct ethhdr *)data)->h_proto == bpf_htons(ETH_P_IP) &&
		    *(__u8 *)ip == 0x45 && ip->protocol == IPPROTO_UDP &&
		    !(ip->frag_off & bpf_htons(0x3fff)) &&
		    !port_gated(bpf_ntohs(udp->dest))) {
			cnt = bpf_map_lookup_elem(&SD_MAP_COUNTERS, &zero);
			if (cnt)
				cnt->other_traffic++;
			if (cfg_record_last) {
				__builtin_memset(&r, 0, sizeof(r));
				record_last(&r, action);
			}
			return XDP_PASS;
		}
	}
	__builtin_memset(&p, 0, sizeof(p));
	k = walk_l4(ctx, 0, &p);
	if (k == L4_TCP) {
		cnt = bpf_map_lookup_elem(&SD_MAP_COUNTERS, &zero);
		cfg = bpf_map_lookup_elem(&SD_MAP_CONFIG, &zero);
		action = -1;
		if (cnt && cfg && cfg->ntcp_ports)
			action = tcp_refuse(ctx, &p, cfg, cnt);
		if (action < 0)
			action = XDP_PASS;
		if (cnt)                /* passed, refused or dropped: one class */
			cnt->other_traffic++;
		if (cfg_record_last) {
			__builtin_memset(&r, 0, sizeof(r));
			record_last(&r, action);
		}
		return action;
	}
	if (k != L4_UDP || !port_gated(p.dport)) {
		cnt = bpf_map_lookup_elem(&SD_MAP_COUNTERS, &zero);
		if (cnt) {
			if (k == L4_BAD)
				cnt->bad_l3++;
			else if (k == L4_FRAGMENT)
				cnt->ip_fragments++;
			else
				cnt->other_traffic++;
		}
		if (cfg_record_last) {
			__builtin_memset(&r, 0, sizeof(r));
			r.fragment = k == L4_FRAGMENT;
			record_last(&r, action);
		}
		return XDP_PASS;
	}

	cnt = bpf_map_lookup_elem(&SD_MAP_COUNTERS, &zero);
	cfg = bpf_map_lookup_elem(&SD_MAP_CONFIG, &zero);
	if (!cnt || !cfg)
		return XDP_PASS;
	__builtin_memset(&r, 0, sizeof(r));
	if (p.len < sizeof(struct udphdr) ||
	    p.off - sizeof(struct udphdr) + p.len > ctx_len(ctx, 0)) {
		cnt->bad_l3++;
		goto out;
	}
	p.len -= sizeof(struct udphdr);
	r.l3 = p.l3;
	if (scan_l4(ctx, 0, &p, &r)) {
		cnt->bad_l3++;
		goto out;
	}

	if (r.kind == SD_K_REQUEST) {
		cnt->requests++;
		count(cnt, method_counter(r.method));
		if (r.flags & SD_F_TO_TAG) {
			cnt->req_in_dialog++;
			count(cnt, dlg_counter(r.method));
		}
	} else if (r.kind == SD_K_RESPONSE) {
		cnt->responses++;
		count(cnt, status_counter(r.status));
	} else if (r.kind == SD_K_KEEPALIVE) {
		cnt->keepalives++;
	} else if (r.kind == SD_K_UNPARSED) {
		cnt->unparsed++;
		count(cnt, SD_C_unparsed_truncated + r.unparsed - SD_U_TRUNCATED);
	} else {
		cnt->not_sip++;
	}

	r.verdict = decide(cfg, state_word(cfg), &r, cnt);
	if (r.verdict == SD_V_REDIRECT && r.kind == SD_K_REQUEST) {
		k = addr_check(ctx, &p);
		if (k == ADDR_NOT_OURS) {
			r.verdict = SD_V_PASS;  /* not for this server: as if no gate */
			untracked = 1;          /* and no call of the server's */
			cnt->not_ours++;
		} else if (k == ADDR_BAD_DEST) {
			r.verdict = SD_V_DROP;  /* no 503, no new call */
			cnt->bad_destination++;
		} else if (k == ADDR_BAD_SOURCE) {
			r.verdict = SD_V_DROP;  /* nobody there to answer */
			cnt->bad_source++;
		} else if (!guard_allows(cfg, &p, cnt)) {
			r.verdict = SD_V_DROP;  /* over this source's reply rate */
			cnt->guard_dropped++;
		}
	}
	if (r.kind == SD_K_REQUEST)
		count(cnt, SD_C_MV(r.method % SD_M_MAX, r.verdict));
	/* what reaches the server (and every response) moves the call on */
	if ((r.verdict == SD_V_PASS && !untracked) || r.kind == SD_K_RESPONSE)
		dialog_track(&r, cnt, 0);
	/* what a BYE at the deadline will need, of calls the server takes
	 * (SD_NO_CAPTURE: make bench's reference build) */
#ifndef SD_NO_CAPTURE
	if (r.verdict == SD_V_PASS && !untracked && capture_wanted(&r, 0, 0))
		capture(ctx, 0, &p, &r, ctx->ingress_ifindex, ctx->rx_queue_index, cnt);
#endif
	if (r.verdict == SD_V_DROP) {
		cnt->verdict_drop++;
		action = XDP_DROP;
	} else if (r.verdict == SD_V_REDIRECT) {
		cnt->verdict_redirect++;
		action = redirect(ctx, cfg, cnt, r.kind == SD_K_REQUEST ? XDP_PASS : XDP_DROP);
	} else {
		cnt->verdict_pass++;
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
	__u32 zero = 0;
	struct sd_counters *cnt = bpf_map_lookup_elem(&SD_MAP_COUNTERS, &zero);
	struct sd_config *cfg = bpf_map_lookup_elem(&SD_MAP_CONFIG, &zero);
	struct sd_result r = {};
	struct sd_guard_key peer = {};
	struct l4 p;
	__u32 dflags __attribute__((unused));   /* read by the capture only */

	if (!cnt || !cfg)
		return TC_ACT_OK;
	count(cnt, SD_C_egress_packets);
	__builtin_memset(&p, 0, sizeof(p));
	/* the same walk as ingress: from a gated source port */
	if (walk_l4(skb, 1, &p) != L4_UDP || !port_gated(p.sport))
		goto out;
	if (p.len < sizeof(struct udphdr) || p.off - sizeof(struct udphdr) + p.len > ctx_len(skb, 1))
		goto out;
	p.len -= sizeof(struct udphdr);
	/* whom the server talks to: the destination, as the guard keys it */
	{
		void *data = (void *)(long)skb->data;
		void *data_end = (void *)(long)skb->data_end;

		peer.family = p.l3;
		if (p.l3 == 4) {
			struct iphdr *ip = data + (p.l3off & 0x3ff);

			if ((void *)(ip + 1) > data_end)
				goto out;
			peer.v4 = ip->daddr;
		} else {
			struct ipv6hdr *ip6 = data + (p.l3off & 0x3ff);

			if ((void *)(ip6 + 1) > data_end)
				goto out;
			__builtin_memcpy(&peer.v6_prefix, &ip6->daddr, 8);     /* the /64 */
		}
	}
	if (scan_l4(skb, 1, &p, &r))
		goto out;
	r.l3 = p.l3;
	if (r.kind == SD_K_REQUEST)
		count(cnt, SD_C_egress_requests);
	else if (r.kind == SD_K_RESPONSE)
		count(cnt, SD_C_egress_responses);
	/* the server answered this address with a 2xx, or acknowledged a
	 * call's 2xx to it: a peer it does business with (a 401, 404 or 486
	 * to a scanner makes none, nor churns the table).  The responder's
	 * 503s leave through AF_XDP and the RSTs through XDP_TX, below TC:
	 * they never make a peer (or every flood source would) */
	if ((r.kind == SD_K_RESPONSE && r.status >= 200 && r.status < 300) ||
	    (r.kind == SD_K_REQUEST && r.method == SD_M_ACK))
		peer_mark(&peer, cnt);
	dflags = dialog_track(&r, cnt, 1);
#ifndef SD_NO_CAPTURE
	if (r.kind == SD_K_RESPONSE && capture_wanted(&r, 1, dflags))
		capture(skb, 1, &p, &r, skb->ifindex, 0, cnt);
#endif
out:
	record_last(&r, TC_ACT_OK);
	return TC_ACT_OK;
}
