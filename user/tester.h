/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A private instance of the XDP program (nothing attached, nothing
 * pinned) run through BPF_PROG_TEST_RUN: `classify` and the tests. */
#ifndef SD_TESTER_H
#define SD_TESTER_H

#include <stdbool.h>
#include <stddef.h>
#include "sipdrain_common.h"

struct sipdrain;

struct sd_tester {
	struct sipdrain *skel;
	int prog_fd, egress_fd, cfg_fd, cnt_fd, last_fd, calls_fd, att_fd, learn_fd;
	int addrs_fd, peers_fd;
	struct sd_config cfg;
	bool any_dst;
};

/* Test frames go to 198.18.0.2 / 2001:2::2, the server's addresses in
 * sd_addrs. */
int sd_tester_open(struct sd_tester *t);
/* classify: captures of any server, whatever its address. */
int sd_tester_open_any_dst(struct sd_tester *t);
/* The same, as attach loads it (no verdict recorded, ports fixed at load
 * to 5060): for measurements, where sd_tester_run cannot read results. */
int sd_tester_open_plain(struct sd_tester *t);
void sd_tester_close(struct sd_tester *t);
/* Write t->cfg to the config map (after changing state, ports, ...). */
int sd_tester_apply(struct sd_tester *t);
/* t->cfg as opened (serving, port 5060, the defaults), applied. */
int sd_tester_defaults(struct sd_tester *t);
/* The state of a tester just opened: sd_tester_reset, sd_meta zeroed,
 * sd_addrs as opened, sd_tester_defaults.  Each test starts from it. */
int sd_tester_restart(struct sd_tester *t);
/* Run one frame; fills *r (r->xdp_action is the program's return). */
int sd_tester_run(struct sd_tester *t, const void *frame, size_t len,
		  struct sd_result *r);
/* The same, keeping the frame as the program left it (XDP_TX). */
int sd_tester_run_out(struct sd_tester *t, const void *frame, size_t len,
		      void *out, size_t *out_len, struct sd_result *r);
/* The same through the TC egress program (what the server sends). */
int sd_tester_run_egress(struct sd_tester *t, const void *frame, size_t len,
			 struct sd_result *r);
int sd_tester_counters(struct sd_tester *t, struct sd_counters *c);
/* Empty the dialog tables, known peers and guard, zero the counters. */
int sd_tester_reset(struct sd_tester *t);

/* sd_parse, the userspace classifier, for the tests that include this */
#include "sip_parse.h"

#endif
