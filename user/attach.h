/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Attaching the gate to interfaces with libxdp, and taking it off. */
#ifndef SD_ATTACH_H
#define SD_ATTACH_H

#include <stdbool.h>
#include <linux/types.h>
#include "sipdrain_common.h"
#include "options.h"

struct sd_attach_opts {
	char **ifnames;
	int nifaces;
	struct sd_ports ports;  /* none: 5060 */
	int mode;               /* enum xdp_attach_mode */
	__u32 max_dialogs;      /* 0: default */
	__u64 dialog_idle_ns;   /* 0: default (2 h) */
	bool reply_rate_set;    /* else SD_DEFAULT_REPLY_RATE */
	__u32 reply_rate;       /* answered requests/s per source; 0: no limit */
	__u32 reply_burst;      /* 0: 2 x rate */
	struct sd_ports tcp_ports;
	bool min_watch_set;     /* else SD_DEFAULT_MIN_WATCH_S */
	__u64 min_watch_ns;
	bool peer_window_set;   /* else SD_DEFAULT_PEER_WINDOW_S */
	__u64 peer_window_ns;
};

/* Load once, attach to each interface, pin; one line on failure (and
 * nothing left behind).  0 or -errno. */
int sd_attach(const struct sd_attach_opts *o);

/* Detach from the named interfaces (all when n == 0); with the last one
 * the pins go.  0 or -errno (one line printed). */
int sd_detach(char **ifnames, int n);

/* Detach from the interfaces a config names, without the pins (they
 * are gone: removed, or bpffs unmounted under a running `run`). */
void sd_detach_config(const struct sd_config *cfg);

const char *sd_mode_name(__u32 mode);

#endif
