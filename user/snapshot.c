// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "gate.h"
#include "log.h"
#include "responder.h"
#include "snapshot.h"

const char *const sd_dialog_state_names[SD_D_MAX] = {
	"attempt", "early", "confirmed", "closing", "ended"
};

__u64 sd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#define SCAN_BATCH 4096

int sd_dialogs_scan(int fd, const struct sd_config *cfg, __u64 now, struct sd_dialog_stats *st)
{
	static __u64 keys[SCAN_BATCH];
	static struct sd_dialog vals[SCAN_BATCH];
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 in = 0, outb = 0;
	bool first = true;
	int err = 0;

	memset(st, 0, sizeof(*st));
	for (;;) {
		__u32 n = SCAN_BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &outb, keys, vals, &n, &opts);
		if (err)
			err = -errno;
		for (__u32 i = 0; i < n; i++) {
			int e = sd_dialog_effective(&vals[i], now, cfg);
			__u64 age = now > vals[i].created_ns ? now - vals[i].created_ns : 0;

			st->entries++;
			st->by_state[e]++;
			if (age > st->oldest_ns[e])
				st->oldest_ns[e] = age;
			if (e != SD_D_ENDED)
				st->live++;
		}
		if (err == -ENOENT)
			return 0;
		if (err)
			return err;
		in = outb;
		first = false;
	}
}

int sd_snapshot_take(struct sd_snapshot *s, bool dialogs)
{
	int fd, err;
	__u32 zero = 0;
	struct timespec ts;

	memset(s, 0, sizeof(*s));
	fd = sd_open_config();
	if (fd < 0)
		return fd;
	err = sd_config_get(fd, &s->cfg);
	close(fd);
	if (err) {
		pr_warn("cannot read the config: %s\n", strerror(-err));
		return err;
	}
	s->mono_ns = sd_now_ns();
	clock_gettime(CLOCK_REALTIME, &ts);
	s->wall = ts.tv_sec + ts.tv_nsec / 1e9;
	fd = sd_pinned_map_fd(SD_STR(SD_MAP_COUNTERS));
	err = fd < 0 ? fd : sd_counters_get(fd, &s->cnt);
	if (fd >= 0)
		close(fd);
	if (err) {
		pr_warn("cannot read the counters: %s\n", strerror(-err));
		return err;
	}
	fd = sd_pinned_map_fd(SD_STR(SD_MAP_RESPONDER));
	if (fd >= 0) {
		bpf_map_lookup_elem(fd, &zero, &s->rs);
		close(fd);
	}
	s->responder_alive = sd_responder_alive(&s->rs);
	if (!dialogs)
		return 0;
	fd = sd_pinned_map_fd(SD_STR(SD_MAP_DIALOGS));
	err = fd < 0 ? fd : sd_dialogs_scan(fd, &s->cfg, s->mono_ns, &s->dlg);
	if (fd >= 0)
		close(fd);
	if (err) {
		pr_warn("cannot read the dialog table: %s\n", strerror(-err));
		return err;
	}
	s->have_dialogs = true;
	return 0;
}

double sd_seconds_left(const struct sd_snapshot *s)
{
	if (!s->cfg.deadline_ns)
		return 0;
	return ((double)s->cfg.deadline_ns - (double)s->mono_ns) / 1e9;
}
