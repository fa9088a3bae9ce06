/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Frames around a SIP message: Ethernet, 0-2 VLAN tags, IPv4/IPv6, UDP. */
#ifndef SD_PACKET_H
#define SD_PACKET_H

#include <stddef.h>
#include <linux/types.h>

struct sd_wrap {
	int ipv6;           /* 0: IPv4 198.18.0.1 -> .2; 1: IPv6 2001:2::1 -> ::2 */
	int vlans;          /* 0, 1 (802.1Q) or 2 (802.1ad outer + 802.1Q) */
	__u16 sport, dport;
};

/* Largest frame we build: a UDP datagram of 64 KiB plus headers. */
#define SD_FRAME_MAX (65535 + 14 + 8 + 40)

/* Returns the frame length, 0 if it does not fit in cap. */
size_t sd_build_frame(__u8 *out, size_t cap, const struct sd_wrap *w,
		      const void *payload, size_t plen);

/* Internet checksum helpers (also used by the responder later). */
__u32 sd_csum_add(__u32 sum, const void *data, size_t len);
__u16 sd_csum_fold(__u32 sum);

#endif
