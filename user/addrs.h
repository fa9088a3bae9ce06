/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The server's own addresses in SD_MAP_ADDRS: the gate answers only
 * requests addressed to one of them, and never answers a request that
 * claims to come from one (or from a subnet broadcast address). */
#ifndef SD_ADDRS_H
#define SD_ADDRS_H

/* Make the map hold exactly the addresses of this network namespace's
 * interfaces (unicast: SD_ADDR_LOCAL; IPv4 broadcast: SD_ADDR_BROADCAST).
 * Returns how many it holds, or -errno (-E2BIG: more than SD_ADDRS_MAX,
 * the first ones held: requests to the others pass the gate). */
int sd_addrs_sync(int addrs_fd);

/* A netlink socket that becomes readable when an address is added or
 * removed (-errno on failure); sd_addrs_changed() drains it and says
 * whether anything came. */
int sd_addrs_watch(void);
int sd_addrs_changed(int nl_fd);

#endif
