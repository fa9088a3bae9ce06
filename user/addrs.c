// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <ifaddrs.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "addrs.h"
#include "sipdrain_common.h"

struct want {
	struct sd_addr_key k[SD_ADDRS_MAX];
	__u32 kind[SD_ADDRS_MAX];
	int n;
	bool truncated;
};

static void add(struct want *w, const struct sockaddr *sa, __u32 kind)
{
	struct sd_addr_key k = { 0 };

	if (!sa)
		return;
	if (sa->sa_family == AF_INET) {
		k.family = 4;
		memcpy(k.addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		k.family = 6;
		memcpy(k.addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		return;
	}
	for (int i = 0; i < w->n; i++)
		if (!memcmp(&w->k[i], &k, sizeof(k))) {
			if (kind == SD_ADDR_LOCAL)      /* an address of ours wins */
				w->kind[i] = kind;
			return;
		}
	if (w->n == SD_ADDRS_MAX) {
		w->truncated = true;
		return;
	}
	w->k[w->n] = k;
	w->kind[w->n++] = kind;
}

int sd_addrs_sync(int fd)
{
	static struct want w;
	struct sd_addr_key key, next, *prev = NULL;
	struct ifaddrs *ifa, *i;
	int err = 0;

	if (getifaddrs(&ifa))
		return -errno;
	w.n = 0;
	w.truncated = false;
	for (i = ifa; i; i = i->ifa_next) {
		add(&w, i->ifa_addr, SD_ADDR_LOCAL);
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask)
			continue;
		/* the subnet's broadcast address, whether or not the address
		 * was given one (`ip addr add` sets none without brd): a
		 * sender never has it */
		{
			struct sockaddr_in b = *(const struct sockaddr_in *)i->ifa_addr;
			__u32 mask = ((const struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr;

			if (ntohl(~mask) >= 3) {        /* /30 and wider: /31, /32 have none */
				b.sin_addr.s_addr |= ~mask;
				add(&w, (const struct sockaddr *)&b, SD_ADDR_BROADCAST);
			}
		}
		if ((i->ifa_flags & IFF_BROADCAST) && i->ifa_broadaddr &&
		    ((const struct sockaddr_in *)i->ifa_broadaddr)->sin_addr.s_addr)
			add(&w, i->ifa_broadaddr, SD_ADDR_BROADCAST);
	}
	freeifaddrs(ifa);
	/* remove what is gone, then add: an address that stays is never
	 * missing for a moment, and a full map has room for the new ones */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		bool keep = false;

		for (int j = 0; j < w.n && !keep; j++)
			keep = !memcmp(&w.k[j], &next, sizeof(next));
		key = next;
		if (!keep && !bpf_map_delete_elem(fd, &key))
			continue;       /* the walk goes on from the start's successor */
		prev = &key;
	}
	for (int j = 0; j < w.n; j++)
		if (bpf_map_update_elem(fd, &w.k[j], &w.kind[j], BPF_ANY))
			err = -errno;
	if (w.truncated)
		return -E2BIG;
	return err ? err : w.n;
}

int sd_addrs_watch(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int sd_addrs_changed(int fd)
{
	char buf[8192];
	int any = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		any = 1;
	/* ENOBUFS: events were lost, which is a change too */
	if (errno == ENOBUFS)
		any = 1;
	return any;
}
