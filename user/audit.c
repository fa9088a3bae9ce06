// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* run's audit trail.  The drain's state lives in the pinned config,
 * written by other processes (drain, resume); run sees each change on
 * its next look (5 a second) and logs it with the writer the config
 * names.  Changes quicker than that (a drain and a resume within 200 ms)
 * show as their net result. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "audit.h"
#include "drain_view.h"
#include "gate.h"
#include "log.h"
#include "snapshot.h"

#define MINUTE_NS 60000000000ULL

static void who(const struct sd_config *c, char *buf, size_t n)
{
	if (!c->changed_by_pid)
		snprintf(buf, n, "an unknown process");
	else if (c->changed_by_pid == (__u32)getpid())
		snprintf(buf, n, "this process (pid %u)", c->changed_by_pid);
	else
		snprintf(buf, n, "pid %u (uid %u)", c->changed_by_pid, c->changed_by_uid);
}

static double since_s(__u64 then, __u64 now)
{
	return then && then <= now ? (now - then) / 1e9 : 0;
}

static void log_state(const struct sd_config *was, const struct sd_config *c, __u64 now)
{
	struct sd_drain_view a, b;
	char by[64], text[768];

	who(c, by, sizeof(by));
	sd_drain_view(was, now, &a);
	sd_drain_view(c, now, &b);
	switch (c->state) {
	case SD_DRAINING:
		if (was->state == SD_DRAINING && was->drain_started_ns == c->drain_started_ns) {
			if (sd_drain_changes(&a, &b, text, sizeof(text), NULL))
				pr_info("drain changed by %s: %s\n", by, text);
			return;
		}
		sd_drain_describe(&b, text, sizeof(text));
		if (was->state == SD_OFFLINE)
			pr_info("drain started again by %s after %.0f s offline: %s\n", by,
				since_s(was->offline_ns, now), text);
		else
			pr_info("drain started by %s: %s\n", by, text);
		return;
	case SD_SERVING:
		pr_info("resumed by %s: serving again after %.0f s %s\n", by,
			since_s(was->state == SD_OFFLINE ? was->offline_ns : was->drain_started_ns, now),
			sd_state_name(was->state));
		return;
	case SD_OFFLINE:
		/* the agent in this process logs its own switch as it makes it */
		if (c->changed_by_pid == (__u32)getpid())
			return;
		pr_info("offline, switched by %s: %s, %u call%s cut\n", by,
			c->offline_reason == SD_OR_DEADLINE ? "deadline reached" :
			c->offline_reason == SD_OR_LAST_CALL ? "the last call ended" : "no reason given",
			c->calls_cut, c->calls_cut == 1 ? "" : "s");
		return;
	default:
		pr_warn("the config holds an unknown state %u (written by %s)\n", c->state, by);
	}
}

/* What the drain's state and settings are made of: a change elsewhere
 * (the seqlock, the agent's hook flag) is not an event. */
static bool drain_differs(const struct sd_config *a, const struct sd_config *b)
{
	return a->state != b->state || a->drain_started_ns != b->drain_started_ns ||
	       a->deadline_ns != b->deadline_ns || a->retry_after != b->retry_after ||
	       a->retry_jitter != b->retry_jitter || a->allow_mask != b->allow_mask ||
	       ((a->flags ^ b->flags) & (SD_CF_NO_EARLY_OFFLINE | SD_CF_RETRY_AUTO | SD_CF_BYE_OFF)) ||
	       a->min_watch_ns != b->min_watch_ns || strcmp(a->on_offline, b->on_offline);
}

void sd_audit_start(struct sd_audit *a, const volatile struct sd_config *m, int meta_fd,
		    int cnt_fd, bool adopted)
{
	struct sd_counters cnt;
	struct sd_drain_view v;
	struct sd_meta meta;
	char text[768];
	__u64 now = sd_now_ns();
	__u32 zero = 0;

	memset(a, 0, sizeof(*a));
	a->meta_fd = meta_fd;
	a->cnt_fd = cnt_fd;
	sd_config_read(m, &a->last);
	a->last.on_offline[sizeof(a->last.on_offline) - 1] = 0;
	if (cnt_fd >= 0 && !sd_counters_get(cnt_fd, &cnt))
		a->learned = cnt.calls_learned;
	if (meta_fd >= 0 && !bpf_map_lookup_elem(meta_fd, &zero, &meta))
		a->full_seen_ns = meta.table_full_ns;
	if (!adopted)
		return;
	switch (a->last.state) {
	case SD_DRAINING:
		sd_drain_view(&a->last, now, &v);
		sd_drain_describe(&v, text, sizeof(text));
		pr_info("the gate is draining (for %.0f s): %s\n",
			since_s(a->last.drain_started_ns, now), text);
		break;
	case SD_OFFLINE:
		pr_info("the gate is offline (for %.0f s, %s, %u call%s cut)\n",
			since_s(a->last.offline_ns, now),
			a->last.offline_reason == SD_OR_DEADLINE ? "deadline" : "last call ended",
			a->last.calls_cut, a->last.calls_cut == 1 ? "" : "s");
		break;
	default:
		pr_info("the gate is %s\n", sd_state_name(a->last.state));
	}
}

/* Calls learned from in-dialog traffic (their INVITE was not seen: they
 * began before the gate): at most one line a minute. */
static void log_learned(struct sd_audit *a, __u64 now)
{
	struct sd_counters c;

	if (a->cnt_fd < 0 || (a->learned_logged_ns && now - a->learned_logged_ns < MINUTE_NS) ||
	    sd_counters_get(a->cnt_fd, &c) || c.calls_learned == a->learned)
		return;
	pr_info("learned %llu call%s from in-dialog traffic (their INVITE was not seen: older "
		"than the gate), %llu so far\n", (unsigned long long)(c.calls_learned - a->learned),
		c.calls_learned - a->learned == 1 ? "" : "s", (unsigned long long)c.calls_learned);
	a->learned = c.calls_learned;
	a->learned_logged_ns = now;
}

/* A call found no room in the call table since we last looked: at most
 * one line a minute (counted and shown by status and /metrics too). */
static void log_table_full(struct sd_audit *a, __u64 now)
{
	struct sd_meta meta;
	struct sd_counters c;
	__u32 zero = 0;

	if (a->meta_fd < 0 || bpf_map_lookup_elem(a->meta_fd, &zero, &meta) ||
	    meta.table_full_ns == a->full_seen_ns)
		return;
	if (a->full_logged_ns && now - a->full_logged_ns < MINUTE_NS)
		return;                 /* full_seen_ns stays: logged when the minute is up */
	a->full_logged_ns = now;
	if (a->cnt_fd >= 0 && !sd_counters_get(a->cnt_fd, &c))
		pr_warn("the call table is full (%u calls, --max-dialogs): %llu answered or "
			"learned calls found no room so far and are kept as attempts, which can "
			"be evicted; early offline is held back for --dialog-idle after this\n",
			a->last.max_dialogs, (unsigned long long)c.calls_table_full);
	a->full_seen_ns = meta.table_full_ns;
}

void sd_audit_tick(struct sd_audit *a, const volatile struct sd_config *m)
{
	struct sd_config c;
	__u64 now = sd_now_ns();

	sd_config_read(m, &c);
	c.on_offline[sizeof(c.on_offline) - 1] = 0;
	if (drain_differs(&a->last, &c))
		log_state(&a->last, &c, now);
	a->last = c;
	log_learned(a, now);
	log_table_full(a, now);
}
