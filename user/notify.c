// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `run` under systemd: sd_notify(3) for Type=notify and WatchdogSec=.
 * Nothing here is needed to serve: each call is a no-op when
 * NOTIFY_SOCKET is unset, and a notification that cannot be sent is
 * only logged (once). */
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "gate.h"
#include "log.h"
#include "notify.h"
#include "responder.h"
#include "snapshot.h"

static int enabled = -1;                /* NOTIFY_SOCKET set: 1 */
static __u64 watchdog_ns;               /* WATCHDOG_USEC for us, 0: none */
static __u64 last_status_ns, last_ping_ns;
/* the state line walks the call tables (`status --json`, which walks them
 * too, took 0.35 s with 262 144 calls here):
 * the next look waits 20 times what the last one took, a second at least,
 * so that it takes at most 5 % of run's control thread */
static __u64 status_every_ns = 1000000000ULL;
static char last_status[256];

static bool on(void)
{
	if (enabled < 0) {
		uint64_t usec = 0;

		enabled = getenv("NOTIFY_SOCKET") && *getenv("NOTIFY_SOCKET");
		if (enabled && sd_watchdog_enabled(0, &usec) > 0)
			watchdog_ns = usec * 1000ULL;
	}
	return enabled;
}

static void send_state(const char *state)
{
	static bool warned;
	int err = sd_notify(0, state);

	if (err < 0 && !warned) {
		warned = true;
		pr_warn("cannot notify systemd (NOTIFY_SOCKET=%s): %s\n",
			getenv("NOTIFY_SOCKET"), strerror(-err));
	}
}

/* The state line of `sipdrain status`, short: what systemctl status shows. */
static void state_line(char *buf, size_t n, bool stopping)
{
	struct sd_snapshot s;
	char why[200] = "";
	const char *pre = stopping ? "stopping once the drain is over; " : "";
	double left;
	int err;

	/* a warning of the snapshot becomes the line, not a log line a second */
	sd_log_capture(why, sizeof(why));
	err = sd_snapshot_take(&s, true);
	sd_log_capture(NULL, 0);
	if (err) {
		snprintf(buf, n, "cannot read the gate: %s", why[0] ? why : strerror(-err));
		buf[strcspn(buf, "\n")] = 0;
		return;
	}
	switch (s.cfg.state) {
	case SD_SERVING:
		snprintf(buf, n, "%sserving, %llu call%s, %llu 503s sent", pre,
			 (unsigned long long)s.dlg.live, s.dlg.live == 1 ? "" : "s",
			 (unsigned long long)s.rs.c.replies);
		break;
	case SD_DRAINING:
		left = sd_seconds_left(&s);
		if (s.cfg.deadline_ns)
			snprintf(buf, n, "%sdraining: %llu call%s left, %.0f s to deadline, "
				 "%llu 503s sent", pre, (unsigned long long)s.dlg.live,
				 s.dlg.live == 1 ? "" : "s", left > 0 ? left : 0,
				 (unsigned long long)s.rs.c.replies);
		else
			snprintf(buf, n, "%sdraining: %llu call%s left, no deadline (until "
				 "'sipdrain resume'), %llu 503s sent", pre,
				 (unsigned long long)s.dlg.live, s.dlg.live == 1 ? "" : "s",
				 (unsigned long long)s.rs.c.replies);
		break;
	case SD_OFFLINE:
		if (s.cfg.offline_reason == SD_OR_DEADLINE && (s.cfg.flags & SD_CF_BYE_PENDING))
			snprintf(buf, n, "%soffline: deadline, %u call%s cut, ending %u with BYE", pre,
				 s.cfg.calls_cut, s.cfg.calls_cut == 1 ? "" : "s", s.cfg.bye_calls);
		else if (s.cfg.offline_reason == SD_OR_DEADLINE && s.cfg.bye_calls)
			snprintf(buf, n, "%soffline: deadline, %u call%s cut, %u ended with BYE", pre,
				 s.cfg.calls_cut, s.cfg.calls_cut == 1 ? "" : "s", s.cfg.bye_calls);
		else if (s.cfg.offline_reason == SD_OR_DEADLINE)
			snprintf(buf, n, "%soffline: deadline, %u call%s cut", pre, s.cfg.calls_cut,
				 s.cfg.calls_cut == 1 ? "" : "s");
		else if (s.cfg.offline_reason == SD_OR_LAST_CALL)
			snprintf(buf, n, "%soffline: the last call ended", pre);
		else
			snprintf(buf, n, "%soffline", pre);
		break;
	default:
		snprintf(buf, n, "unknown state %u", s.cfg.state);
	}
}

static void send_status(const char *line)
{
	char msg[sizeof(last_status) + 8];

	snprintf(last_status, sizeof(last_status), "%s", line);
	snprintf(msg, sizeof(msg), "STATUS=%s", line);
	send_state(msg);
	last_status_ns = sd_now_ns();
}

void notify_ready(const struct sd_responder_ctx *r)
{
	char line[sizeof(last_status)], name[IF_NAMESIZE], msg[sizeof(line) + 24];

	if (!on())
		return;
	/* every queue each interface has now, as /healthz asks */
	for (int s = 0; s < SD_MAX_IFACES; s++) {
		int want, bound;

		if (!r->cfg->ifindex[s])
			continue;
		want = if_indextoname(r->cfg->ifindex[s], name) ? sd_rx_queues(name) : 0;
		if ((__u32)want < r->st->queues_total[s])
			want = r->st->queues_total[s];
		bound = __builtin_popcountll(r->st->queues_bound[s]);
		if (!r->running || !want || bound < want) {
			pr_warn("not ready: interface %u has %d of %d RX queues bound%s\n",
				r->cfg->ifindex[s], bound, want,
				r->running ? "" : ", the responder thread is not running");
			return;
		}
	}
	state_line(line, sizeof(line), false);
	snprintf(last_status, sizeof(last_status), "%s", line);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", line);
	send_state(msg);
	last_status_ns = sd_now_ns();
}

void notify_tick(const struct sd_responder_ctx *r, bool stopping, bool pins_lost)
{
	char line[sizeof(last_status)];
	__u64 now;

	if (!on())
		return;
	now = sd_now_ns();
	/* the data path's heartbeat (every 200 ms from sipdrain-xsk), not a
	 * timer of this thread: a stuck data path stops the pings and
	 * systemd restarts run, which adopts the gate */
	if (watchdog_ns && now - last_ping_ns >= watchdog_ns / 4 && r->st &&
	    now - r->st->heartbeat_ns < (watchdog_ns / 2 > 600000000ULL ?
					 watchdog_ns / 2 : 600000000ULL)) {
		send_state("WATCHDOG=1");
		last_ping_ns = now;
	}
	if (now - last_status_ns < status_every_ns)
		return;
	if (pins_lost) {
		snprintf(line, sizeof(line), "%sthe pins under %s are gone: the gate enforces "
			 "until this process exits", stopping ? "stopping; " : "", sd_pin_dir);
	} else {
		__u64 took;

		state_line(line, sizeof(line), stopping);
		took = sd_now_ns() - now;
		status_every_ns = took * 20 > 1000000000ULL ? took * 20 : 1000000000ULL;
	}
	last_status_ns = now;           /* looked at: the next look after status_every_ns */
	if (strcmp(line, last_status))
		send_status(line);
}

void notify_stopping(const char *why)
{
	char msg[sizeof(last_status) + 24];

	if (!on())
		return;
	snprintf(last_status, sizeof(last_status), "%s", why);
	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", why);
	send_state(msg);
	last_status_ns = sd_now_ns();
}
