/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Read pcap/pcapng captures (libpcap) as Ethernet frames. */
#ifndef SD_PCAPFILE_H
#define SD_PCAPFILE_H

#include <stddef.h>
#include <linux/types.h>

/* UDP facts of a frame; ports 0 when not UDP (or a non-first fragment). */
struct sd_udp_info {
	__u16 sport, dport;
	const __u8 *payload;
	size_t plen;            /* bytes captured of the payload */
};

/* Called per packet (idx from 1) with an Ethernet frame, or frame NULL
 * when the link type or packet cannot be turned into one. */
typedef int (*sd_pcap_cb)(void *arg, unsigned idx, const __u8 *frame,
			  size_t len, const struct sd_udp_info *udp);

/* 0, or -1 after printing one line on why the file cannot be read; a
 * non-zero return of cb stops the walk and is returned. */
int sd_pcap_each(const char *path, sd_pcap_cb cb, void *arg);

#endif
