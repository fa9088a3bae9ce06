// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
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

static void count_entry(const struct sd_dialog *d, enum sd_table t, const struct sd_config *cfg,
			__u64 now, struct sd_dialog_stats *st)
{
	int e = sd_dialog_effective(d, now, cfg);
	__u64 age = now > d->created_ns ? now - d->created_ns : 0;

	st->entries++;
	if (t == SD_T_CALLS)
		st->calls++;
	else if (t == SD_T_ATTEMPTS)
		st->attempts++;
	else
		st->learning++;
	if (e != SD_D_ENDED && sd_dialog_tentative(d)) {
		st->tentative++;
		st->live++;
		return;
	}
	if (e != SD_D_ENDED && (d->flags & SD_DF_LEARNED)) {
		st->learned++;
		st->live++;
		if (age > st->learned_oldest_ns)
			st->learned_oldest_ns = age;
		return;
	}
	st->by_state[e]++;
	if (age > st->oldest_ns[e])
		st->oldest_ns[e] = age;
	if (e != SD_D_ENDED)
		st->live++;
}

int sd_dialogs_scan(int fd, enum sd_table t, const struct sd_config *cfg, __u64 now,
		    struct sd_dialog_stats *st)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 in = 0, outb = 0, *keys;
	struct sd_dialog *vals;
	bool first = true;
	int err = 0;

	/* per call, not static: the HTTP threads (/metrics) walk the tables
	 * while run's own loop walks them for the drain's clock */
	keys = malloc(SCAN_BATCH * sizeof(*keys));
	vals = malloc(SCAN_BATCH * sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 n = SCAN_BATCH;

		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &outb, keys, vals, &n, &opts);
		if (err)
			err = -errno;
		for (__u32 i = 0; i < n; i++)
			count_entry(&vals[i], t, cfg, now, st);
		if (err == -ENOENT) {           /* the end of the table */
			err = 0;
			break;
		}
		if (err)
			break;
		in = outb;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return err;
}

int sd_calls_sweep(int fd, const struct sd_config *cfg, __u32 max)
{
	static __u64 keys[SCAN_BATCH];
	static struct sd_dialog vals[SCAN_BATCH];
	static __u64 cursor;
	static bool resume;
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 outb = 0;
	__u32 n = max < SCAN_BATCH ? max : SCAN_BATCH, ndead = 0;
	struct sd_dialog now_val;
	int err;

	err = bpf_map_lookup_batch(fd, resume ? &cursor : NULL, &outb, keys, vals, &n, &opts);
	err = err ? -errno : 0;
	if (err && err != -ENOENT) {
		resume = false;         /* start over next time */
		return err;
	}
	/* ENOENT: the walk reached the end; begin again next time */
	resume = !err;
	cursor = outb;
	for (__u32 i = 0; i < n; i++) {
		if (sd_dialog_effective(&vals[i], sd_now_ns(), cfg) != SD_D_ENDED)
			continue;
		/* the batch is a copy: decide again on the entry as it is now,
		 * so that a call refreshed meanwhile stays */
		if (bpf_map_lookup_elem(fd, &keys[i], &now_val) ||
		    sd_dialog_effective(&now_val, sd_now_ns(), cfg) != SD_D_ENDED)
			continue;
		if (!bpf_map_delete_elem(fd, &keys[i]))
			ndead++;
	}
	if (ndead)
		pr_debug("swept %u ended calls from the call table\n", ndead);
	return n;
}

int sd_snapshot_take(struct sd_snapshot *s, bool dialogs)
{
	int fd, err;
	__u32 zero = 0;
	struct timespec ts;

	memset(s, 0, sizeof(*s));
	fd = sd_open_config();          /* checks every pin's layout first */
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
	err = sd_meta_get(&s->meta);
	if (err) {
		pr_warn("cannot read %s/%s: %s\n", sd_pin_dir, SD_STR(SD_MAP_META), strerror(-err));
		return err;
	}
	if (!dialogs)
		return 0;
	/* an entry moves from the attempt or learning table to the call
	 * table (insert, then delete): read those first, so that a move
	 * during the walk is seen twice rather than not at all */
	for (int i = 0; i < 3; i++) {
		static const char *const names[] = {
			SD_STR(SD_MAP_ATTEMPTS), SD_STR(SD_MAP_LEARNING), SD_STR(SD_MAP_CALLS)
		};
		const char *name = names[i];

		fd = sd_pinned_map_fd(name);
		err = fd < 0 ? fd : sd_dialogs_scan(fd, (enum sd_table)i, &s->cfg, s->mono_ns, &s->dlg);
		if (fd >= 0)
			close(fd);
		if (err) {
			pr_warn("cannot read %s/%s: %s\n", sd_pin_dir, name, strerror(-err));
			return err;
		}
	}
	s->have_dialogs = true;
	return 0;
}

void sd_snapshot_peers(struct sd_snapshot *s)
{
	int fd = sd_pinned_map_fd(SD_STR(SD_MAP_PEERS));

	if (fd >= 0) {
		s->known_peers = sd_known_peers(fd, &s->cfg, s->mono_ns);
		close(fd);
	}
}

__u64 sd_known_peers(int fd, const struct sd_config *cfg, __u64 now)
{
	struct sd_guard_key key, next, *prev = NULL;
	struct sd_peer_state ps;
	__u64 n = 0;

	if (!cfg->peer_window_ns)
		return 0;
	for (__u32 i = 0; i < SD_PEERS_MAX && !bpf_map_get_next_key(fd, prev, &next); i++) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &ps) && now - ps.last_ns < cfg->peer_window_ns)
			n++;
	}
	return n;
}

double sd_seconds_left(const struct sd_snapshot *s)
{
	if (!s->cfg.deadline_ns)
		return 0;
	return ((double)s->cfg.deadline_ns - (double)s->mono_ns) / 1e9;
}

double sd_watched_seconds(const struct sd_snapshot *s)
{
	return s->mono_ns > s->meta.watch_start_ns ?
	       (s->mono_ns - s->meta.watch_start_ns) / 1e9 : 0;
}

__u64 sd_early_offline_wait_ns(const struct sd_snapshot *s, const char **why)
{
	__u64 idle = s->cfg.dialog_idle_ns ?: SD_DEFAULT_DIALOG_IDLE_S * 1000000000ULL;
	__u64 watched = s->mono_ns > s->meta.watch_start_ns ? s->mono_ns - s->meta.watch_start_ns : 0;
	__u64 wait = 0, since;

	*why = "";
	if (watched < s->cfg.min_watch_ns) {
		wait = s->cfg.min_watch_ns - watched;
		*why = "watch";
	}
	/* a call with no room may have been evicted since: not before it
	 * would count as ended anyway */
	if (s->meta.table_full_ns) {
		since = s->mono_ns > s->meta.table_full_ns ? s->mono_ns - s->meta.table_full_ns : 0;
		if (since < idle && idle - since > wait) {
			wait = idle - since;
			*why = "table_full";
		}
	}
	return wait;
}
