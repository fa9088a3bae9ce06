// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <sys/socket.h>
#include <pcap/pcap.h>

#include "log.h"
#include "packet.h"
#include "pcapfile.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* Offset of the IP header for link types without Ethernet; -1 if none. */
static int ip_offset(int dlt)
{
	switch (dlt) {
	case DLT_NULL:
	case DLT_LOOP:
		return 4;
	case DLT_RAW:
	case 101:               /* LINKTYPE_RAW where libpcap keeps it */
		return 0;
	case DLT_LINUX_SLL:
		return 16;
	case DLT_LINUX_SLL2:
		return 20;
	default:
		return -1;
	}
}

/* UDP ports and payload of an Ethernet frame. */
static void udp_info(const __u8 *f, size_t len, struct sd_udp_info *u)
{
	struct sd_udp_frame uf;

	memset(u, 0, sizeof(*u));
	if (sd_udp_frame_parse(f, len, &uf))
		return;
	u->sport = uf.sport;
	u->dport = uf.dport;
	u->payload = f + uf.payload_off;
	u->plen = uf.payload_len;
}

int sd_pcap_each(const char *path, sd_pcap_cb cb, void *arg)
{
	static __u8 frame[SD_FRAME_MAX];
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const __u8 *data;
	unsigned idx = 0;
	int dlt, ipoff, rc, ret = 0;
	pcap_t *pc;

	pc = pcap_open_offline(path, errbuf);
	if (!pc) {
		pr_warn("%s\n", errbuf);      /* libpcap names the file */
		return -1;
	}
	dlt = pcap_datalink(pc);
	ipoff = ip_offset(dlt);
	if (dlt != DLT_EN10MB && ipoff < 0) {
		pr_warn("%s: unsupported link type %s\n", path,
			pcap_datalink_val_to_name(dlt) ?: "?");
		pcap_close(pc);
		return -1;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		const __u8 *f = NULL;
		size_t len = 0;

		idx++;
		if (dlt == DLT_EN10MB) {
			f = data;
			len = h->caplen;
		} else if ((int)h->caplen > ipoff &&
			   h->caplen - ipoff + 14 <= sizeof(frame)) {
			__u8 ver = data[ipoff] >> 4;
			__u16 et = htons(ver == 6 ? ETH_P_IPV6 : ETH_P_IP);

			memset(frame, 0, 12);
			memcpy(frame + 12, &et, 2);
			memcpy(frame + 14, data + ipoff, h->caplen - ipoff);
			f = frame;
			len = h->caplen - ipoff + 14;
		}
		struct sd_udp_info u = { 0 };

		if (f)
			udp_info(f, len, &u);
		ret = cb(arg, idx, f, len, &u);
		if (ret)
			break;
	}
	if (rc == -1) {
		pr_warn("%s: %s\n", path, pcap_geterr(pc));
		ret = -1;
	}
	pcap_close(pc);
	return ret;
}
