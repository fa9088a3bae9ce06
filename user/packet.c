// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>

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

size_t sd_build_frame(__u8 *out, size_t cap, const struct sd_wrap *w,
		      const void *payload, size_t plen)
{
	static const __u8 src_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
	static const __u8 dst_mac[6] = { 0x02, 0, 0, 0, 0, 2 };
	size_t l2 = 14 + 4 * w->vlans, l3 = w->ipv6 ? 40 : 20;
	size_t ulen = 8 + plen, total = l2 + l3 + ulen;
	struct udphdr *udp;
	__u16 ethertype = htons(w->ipv6 ? ETH_P_IPV6 : ETH_P_IP);
	__u8 *p = out;
	__u32 sum;

	if (total > cap || ulen > 0xffff)
		return 0;
	memcpy(p, dst_mac, 6);
	memcpy(p + 6, src_mac, 6);
	p += 12;
	if (w->vlans == 2) {
		*(__u16 *)p = htons(ETH_P_8021AD);
		*(__u16 *)(p + 2) = htons(100);
		p += 4;
	}
	if (w->vlans >= 1) {
		*(__u16 *)p = htons(ETH_P_8021Q);
		*(__u16 *)(p + 2) = htons(200);
		p += 4;
	}
	*(__u16 *)p = ethertype;
	p += 2;

	udp = (struct udphdr *)(p + l3);
	udp->source = htons(w->sport);
	udp->dest = htons(w->dport);
	udp->len = htons(ulen);
	udp->check = 0;
	memcpy(udp + 1, payload, plen);

	if (w->ipv6) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)p;
		__u32 plen_be;

		memset(ip6, 0, sizeof(*ip6));
		ip6->version = 6;
		ip6->payload_len = htons(ulen);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		inet_pton(AF_INET6, "2001:2::1", &ip6->saddr);
		inet_pton(AF_INET6, "2001:2::2", &ip6->daddr);
		plen_be = htonl(ulen);
		sum = sd_csum_add(0, &ip6->saddr, 32);
		sum = sd_csum_add(sum, &plen_be, 4);
		sum += IPPROTO_UDP;
	} else {
		struct iphdr *ip = (struct iphdr *)p;

		memset(ip, 0, sizeof(*ip));
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(l3 + ulen);
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		inet_pton(AF_INET, "198.18.0.1", &ip->saddr);
		inet_pton(AF_INET, "198.18.0.2", &ip->daddr);
		ip->check = htons(sd_csum_fold(sd_csum_add(0, ip, 20)));
		sum = sd_csum_add(0, &ip->saddr, 8);
		sum += IPPROTO_UDP + ulen;
	}
	sum = sd_csum_add(sum, udp, ulen);
	udp->check = htons(sd_csum_fold(sum) ?: 0xffff);
	return total;
}
