/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* run's audit trail: every change of the drain's state or settings, with
 * the process that made it (drain, resume and the agent stamp the config
 * with their pid and uid), calls learned, and a full call table. */
#ifndef SD_AUDIT_H
#define SD_AUDIT_H

#include <stdbool.h>
#include "sipdrain_common.h"

struct sd_audit {
	struct sd_config last;          /* the config as last logged */
	__u64 learned;                  /* calls_learned at the last report */
	__u64 learned_logged_ns;
	__u64 full_seen_ns, full_logged_ns;
	int meta_fd, cnt_fd;
};

/* Logs the state run starts in (adopted: the drain it takes over). */
void sd_audit_start(struct sd_audit *a, const volatile struct sd_config *m, int meta_fd,
		    int cnt_fd, bool adopted);
/* Logs what changed since the last call; cheap (the config, a counter,
 * the meta entry), called a few times a second. */
void sd_audit_tick(struct sd_audit *a, const volatile struct sd_config *m);

#endif
