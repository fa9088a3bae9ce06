// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <sys/socket.h>

#include "packet.h"

__u32 sd_csum_add(__u32 sum, const void *data, size_t len)
{
	const __u8 *p = data;

	for (; len > 1; len -= 2, p += 2)
		sum += (__u32)p[0] << 8 | p[1];
	if (len)
		sum += (__u32)p[0] << 8;
	return sum;
}

__u16 sd_csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

int sd_udp_frame_parse(const __u8 *f, size_t len, struct sd_udp_frame *u)
{
	size_t off = 12;
	__u16 proto;
	__u8 nh;

	memset(u, 0, sizeof(*u));
	if (len < 14)
		return -1;
	memcpy(u->dst_mac, f, 6);
	memcpy(u->src_mac, f + 6, 6);
	for (;;) {
		proto = f[off] << 8 | f[off + 1];
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if (u->nvlan == 2 || off + 6 > len)
			return -1;
		memcpy(u->vlan + 4 * u->nvlan++, f + off, 4);
		off += 4;
	}
	off += 2;
	/* headers are copied out: in a frame they are not aligned */
	if (proto == ETH_P_IP) {
		struct iphdr ip;

		if (off + 20 > len)
			return -1;
		memcpy(&ip, f + off, sizeof(ip));
		if (ip.ihl < 5 || ip.protocol != IPPROTO_UDP || (ntohs(ip.frag_off) & 0x3fff))
			return -1;
		u->family = AF_INET;
		memcpy(u->saddr, &ip.saddr, 4);
		memcpy(u->daddr, &ip.daddr, 4);
		u->tos = ip.tos;
		off += ip.ihl * 4;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (off + 40 > len)
			return -1;
		memcpy(&ip6, f + off, sizeof(ip6));
		u->family = AF_INET6;
		memcpy(u->saddr, &ip6.saddr, 16);
		memcpy(u->daddr, &ip6.daddr, 16);
		u->tos = (ip6.priority << 4) | (ip6.flow_lbl[0] >> 4);
		nh = ip6.nexthdr;
		off += 40;
		/* the gate's rules (bpf walk_l4): up to 8 hop-by-hop, routing
		 * and destination options headers; a longer chain, or one cut
		 * short, is not read */
		for (int i = 0; i < 8 && (nh == 0 || nh == 43 || nh == 60); i++) {
			if (off + 2 > len)
				return -1;
			nh = f[off];
			off += (f[off + 1] + 1) * 8;
		}
		if (nh != IPPROTO_UDP || off > 0xffff)
			return -1;
	} else {
		return -1;
	}
	if (off + 8 > len)
		return -1;
	u->sport = f[off] << 8 | f[off + 1];
	u->dport = f[off + 2] << 8 | f[off + 3];
	{
		size_t ulen = f[off + 4] << 8 | f[off + 5];

		if (ulen < 8 || off + ulen > len)
			return -1;
		u->payload_off = off + 8;
		u->payload_len = ulen - 8;
	}
	return 0;
}

void sd_udp_frame_reverse(const struct sd_udp_frame *req, struct sd_udp_frame *rep)
{
	*rep = *req;
	memcpy(rep->dst_mac, req->src_mac, 6);
	memcpy(rep->src_mac, req->dst_mac, 6);
	memcpy(rep->saddr, req->daddr, 16);
	memcpy(rep->daddr, req->saddr, 16);
	rep->sport = req->dport;
	rep->dport = req->sport;
	/* our own DSCP and ECN: a CE mark (or a priority) is the request
	 * path's, not the reply's; the kernel's xdp_synproxy does the same */
	rep->tos = 0;
}

size_t sd_udp_frame_write(__u8 *out, size_t cap, const struct sd_udp_frame *h,
			  const void *payload, size_t plen)
{
	int v6 = h->family == AF_INET6;
	size_t l2 = 14 + 4 * h->nvlan, l3 = v6 ? 40 : 20;
	size_t ulen = 8 + plen, total = l2 + l3 + ulen;
	__u16 ethertype = htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	struct udphdr udp = { 0 };
	__u8 *p = out;
	__u32 sum;

	if (total > cap || ulen > 0xffff)
		return 0;
	/* the payload first: it may overlap the request it answers */
	memmove(out + l2 + l3 + 8, payload, plen);
	memcpy(p, h->dst_mac, 6);
	memcpy(p + 6, h->src_mac, 6);
	memcpy(p + 12, h->vlan, 4 * h->nvlan);
	p += 12 + 4 * h->nvlan;
	memcpy(p, &ethertype, 2);
	p += 2;

	/* headers are built aligned, then copied into the frame */
	udp.source = htons(h->sport);
	udp.dest = htons(h->dport);
	udp.len = htons(ulen);
	if (v6) {
		struct ipv6hdr ip6 = { 0 };
		__u32 plen_be = htonl(ulen);

		ip6.version = 6;
		ip6.priority = h->tos >> 4;
		ip6.flow_lbl[0] = (h->tos & 0xf) << 4;
		ip6.payload_len = htons(ulen);
		ip6.nexthdr = IPPROTO_UDP;
		ip6.hop_limit = 64;
		memcpy(&ip6.saddr, h->saddr, 16);
		memcpy(&ip6.daddr, h->daddr, 16);
		memcpy(p, &ip6, sizeof(ip6));
		sum = sd_csum_add(0, &ip6.saddr, 32);
		sum = sd_csum_add(sum, &plen_be, 4);
		sum += IPPROTO_UDP;
	} else {
		struct iphdr ip = { 0 };

		ip.version = 4;
		ip.ihl = 5;
		ip.tos = h->tos;
		ip.tot_len = htons(l3 + ulen);
		ip.frag_off = htons(0x4000);    /* DF */
		ip.ttl = 64;
		ip.protocol = IPPROTO_UDP;
		memcpy(&ip.saddr, h->saddr, 4);
		memcpy(&ip.daddr, h->daddr, 4);
		ip.check = htons(sd_csum_fold(sd_csum_add(0, &ip, 20)));
		memcpy(p, &ip, sizeof(ip));
		sum = sd_csum_add(0, &ip.saddr, 8);
		sum += IPPROTO_UDP + ulen;
	}
	sum = sd_csum_add(sum, &udp, 8);
	sum = sd_csum_add(sum, p + l3 + 8, plen);
	udp.check = htons(sd_csum_fold(sum) ?: 0xffff);
	memcpy(p + l3, &udp, 8);
	return total;
}

size_t sd_build_frame(__u8 *out, size_t cap, const struct sd_wrap *w,
		      const void *payload, size_t plen)
{
	static const __u8 tag_ad[4] = { 0x88, 0xa8, 0x00, 100 };
	static const __u8 tag_q[4] = { 0x81, 0x00, 0x00, 200 };
	struct sd_udp_frame h = {
		.dst_mac = { 0x02, 0, 0, 0, 0, 2 },
		.src_mac = { 0x02, 0, 0, 0, 0, 1 },
		.family = w->ipv6 ? AF_INET6 : AF_INET,
		.sport = w->sport,
		.dport = w->dport,
	};

	if (w->vlans == 2)
		memcpy(h.vlan + 4 * h.nvlan++, tag_ad, 4);
	if (w->vlans >= 1)
		memcpy(h.vlan + 4 * h.nvlan++, tag_q, 4);
	if (w->ipv6) {
		inet_pton(AF_INET6, "2001:2::1", h.saddr);
		inet_pton(AF_INET6, "2001:2::2", h.daddr);
	} else {
		inet_pton(AF_INET, "198.18.0.1", h.saddr);
		inet_pton(AF_INET, "198.18.0.2", h.daddr);
	}
	return sd_udp_frame_write(out, cap, &h, payload, plen);
}
