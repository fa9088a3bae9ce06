/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Ethernet (0-2 VLAN tags) / IPv4 or IPv6 / UDP frames: parse the ones
 * the gate redirects, write replies and test frames. */
#ifndef SD_PACKET_H
#define SD_PACKET_H

#include <stddef.h>
#include <linux/types.h>

/* Everything a UDP frame's headers say that a reply needs. */
struct sd_udp_frame {
	__u8 dst_mac[6], src_mac[6];
	__u8 vlan[8];           /* the tags as on the wire (TPID + TCI each) */
	int nvlan;
	int family;             /* AF_INET or AF_INET6 */
	__u8 saddr[16], daddr[16];
	__u16 sport, dport;     /* host order */
	__u8 tos;               /* IPv4 TOS / IPv6 traffic class */
	size_t payload_off, payload_len;
};

/* Parse; 0 when the frame is UDP over IPv4/IPv6 (not a fragment). */
int sd_udp_frame_parse(const __u8 *f, size_t len, struct sd_udp_frame *u);

/* Write h's headers and the payload into out; checksums computed (IPv4
 * header and UDP, IPv4 and IPv6).  Returns the length, 0 if too big. */
size_t sd_udp_frame_write(__u8 *out, size_t cap, const struct sd_udp_frame *h,
			  const void *payload, size_t plen);

/* The reply's headers: addresses, ports and MACs swapped, tags kept,
 * TOS / traffic class (DSCP and ECN) 0. */
void sd_udp_frame_reverse(const struct sd_udp_frame *req, struct sd_udp_frame *rep);

/* Test frames: 198.18.0.1 -> 198.18.0.2, or 2001:2::1 -> 2001:2::2. */
struct sd_wrap {
	int ipv6;
	int vlans;          /* 0, 1 (802.1Q) or 2 (802.1ad outer + 802.1Q) */
	__u16 sport, dport;
};

/* Largest frame we build: a UDP datagram of 64 KiB plus headers. */
#define SD_FRAME_MAX (65535 + 14 + 8 + 40)

size_t sd_build_frame(__u8 *out, size_t cap, const struct sd_wrap *w,
		      const void *payload, size_t plen);

__u32 sd_csum_add(__u32 sum, const void *data, size_t len);
__u16 sd_csum_fold(__u32 sum);

#endif
