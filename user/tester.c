// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gate.h"
#include "log.h"
#include "sip_scan.h"
#include "sipdrain.skel.h"
#include "tester.h"

/* Delete every entry of a hash map (keys of up to 32 bytes). */
static int map_empty(int fd)
{
	__u8 key[32], next[32];

	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, sizeof(key));
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	}
	return 0;
}
_Static_assert(sizeof(struct sd_addr_key) <= 32 && sizeof(struct sd_guard_key) <= 32,
	       "map_empty's key buffer");

/* sd_addrs as opened: the server of sd_build_frame's test frames, or
 * nothing for a tester of any destination. */
static int tester_addrs(struct sd_tester *t)
{
	struct sd_addr_key k4 = { .family = 4, .addr = { 198, 18, 0, 2 } };
	struct sd_addr_key k6 = { .family = 6, .addr = { 0x20, 0x01, 0, 2, [15] = 2 } };
	__u32 local = SD_ADDR_LOCAL;
	int err = map_empty(t->addrs_fd);

	if (err)
		return err;
	if (t->any_dst)
		return 0;
	if (bpf_map_update_elem(t->addrs_fd, &k4, &local, BPF_ANY) ||
	    bpf_map_update_elem(t->addrs_fd, &k6, &local, BPF_ANY))
		return -errno;
	return 0;
}

int sd_tester_defaults(struct sd_tester *t)
{
	memset(&t->cfg, 0, sizeof(t->cfg));
	t->cfg.nports = 1;
	t->cfg.ports[0] = SD_DEFAULT_PORT;
	t->cfg.retry_after = SD_DEFAULT_RETRY_AFTER;
	t->cfg.auth_grace_ms = SD_DEFAULT_AUTH_GRACE_MS;
	t->cfg.dialog_idle_ns = SD_DEFAULT_DIALOG_IDLE_S * 1000000000ULL;
	t->cfg.min_watch_ns = SD_DEFAULT_MIN_WATCH_S * 1000000000ULL;
	t->cfg.peer_window_ns = SD_DEFAULT_PEER_WINDOW_S * 1000000000ULL;
	return sd_tester_apply(t);
}

static int tester_open(struct sd_tester *t, bool record, bool any_dst)
{
	int err;

	memset(t, 0, sizeof(*t));
	/* a small dialog table: the tests never fill it */
	t->skel = sd_gate_open(4096, record);
	if (!t->skel)
		return -ENOMEM;
	t->skel->rodata->cfg_check_dst = !any_dst;
	if (record) {
		sd_gate_set_ports(t->skel, NULL, 0);    /* ports from t->cfg */
	} else {
		__u16 port = SD_DEFAULT_PORT;

		sd_gate_set_ports(t->skel, &port, 1);
	}
	err = sipdrain__load(t->skel);
	if (err) {
		pr_warn("cannot load the XDP program: %s (run as root; kernel >= 6.1 with BPF)\n",
			strerror(-err));
		sd_gate_close(t->skel);
		t->skel = NULL;
		return err;
	}
	t->prog_fd = bpf_program__fd(t->skel->progs.sipdrain_xdp);
	t->egress_fd = bpf_program__fd(t->skel->progs.sipdrain_egress);
	t->cfg_fd = bpf_map__fd(t->skel->maps.sd_config);
	t->cnt_fd = bpf_map__fd(t->skel->maps.sd_counters);
	t->last_fd = bpf_map__fd(t->skel->maps.sd_last);
	t->calls_fd = bpf_map__fd(t->skel->maps.sd_calls);
	t->att_fd = bpf_map__fd(t->skel->maps.sd_attempts);
	t->learn_fd = bpf_map__fd(t->skel->maps.sd_learning);
	t->addrs_fd = bpf_map__fd(t->skel->maps.sd_addrs);
	t->peers_fd = bpf_map__fd(t->skel->maps.sd_peers);
	t->any_dst = any_dst;
	err = tester_addrs(t);
	if (err)
		return err;
	return sd_tester_defaults(t);
}

int sd_tester_open(struct sd_tester *t)
{
	return tester_open(t, true, false);
}

int sd_tester_open_any_dst(struct sd_tester *t)
{
	return tester_open(t, true, true);
}

int sd_tester_open_plain(struct sd_tester *t)
{
	return tester_open(t, false, false);
}

void sd_tester_close(struct sd_tester *t)
{
	if (t->skel)
		sd_gate_close(t->skel);
	t->skel = NULL;
}

int sd_tester_apply(struct sd_tester *t)
{
	return sd_config_set(t->cfg_fd, &t->cfg);
}

static int run_prog_out(struct sd_tester *t, int fd, const void *frame, size_t len,
			void *out, size_t *out_len, struct sd_result *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame,
		    .data_size_in = len,
		    .data_out = out,
		    .data_size_out = out ? *out_len : 0,
		    .repeat = 1);
	struct sd_result before;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(t->last_fd, &zero, &before))
		return -errno;
	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	if (bpf_map_lookup_elem(t->last_fd, &zero, r))
		return -errno;
	if (r->seq == before.seq)       /* the program did not record: a bug */
		return -EIO;
	r->xdp_action = opts.retval;
	if (out_len)
		*out_len = opts.data_size_out;
	return 0;
}

static int run_prog(struct sd_tester *t, int fd, const void *frame, size_t len,
		    struct sd_result *r)
{
	return run_prog_out(t, fd, frame, len, NULL, NULL, r);
}

int sd_tester_run_out(struct sd_tester *t, const void *frame, size_t len,
		      void *out, size_t *out_len, struct sd_result *r)
{
	return run_prog_out(t, t->prog_fd, frame, len, out, out_len, r);
}

int sd_tester_run(struct sd_tester *t, const void *frame, size_t len,
		  struct sd_result *r)
{
	return run_prog(t, t->prog_fd, frame, len, r);
}

int sd_tester_run_egress(struct sd_tester *t, const void *frame, size_t len,
			 struct sd_result *r)
{
	return run_prog(t, t->egress_fd, frame, len, r);
}

int sd_tester_counters(struct sd_tester *t, struct sd_counters *c)
{
	return sd_counters_get(t->cnt_fd, c);
}

int sd_tester_reset(struct sd_tester *t)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sd_counters *zeros = calloc(ncpu, sizeof(*zeros));
	__u32 zero = 0;
	int err = 0;

	if (!zeros)
		return -ENOMEM;
	if (bpf_map_update_elem(t->cnt_fd, &zero, zeros, BPF_ANY))
		err = -errno;
	free(zeros);
	{
		int fds[] = { t->calls_fd, t->att_fd, t->learn_fd, t->peers_fd,
			      bpf_map__fd(t->skel->maps.sd_guard) };

		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]) && !err; i++)
			err = map_empty(fds[i]);
	}
	return err;
}

int sd_tester_restart(struct sd_tester *t)
{
	struct sd_meta meta = { 0 };
	__u32 zero = 0;
	int err;

	err = sd_tester_reset(t);
	if (!err && bpf_map_update_elem(bpf_map__fd(t->skel->maps.sd_meta), &zero, &meta, BPF_ANY))
		err = -errno;
	if (!err)
		err = tester_addrs(t);
	if (!err)
		err = sd_tester_defaults(t);
	return err;
}
