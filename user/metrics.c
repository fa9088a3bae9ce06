// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gate.h"
#include "metrics.h"
#include "version.h"
#include <bpf/libbpf.h>
#include "snapshot.h"

/* n: the length of everything written so far, also past cap (what a
 * buffer large enough would need) */
struct buf {
	char *p;
	size_t n, cap;
};

static void out(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->n < b->cap ? b->p + b->n : NULL, b->n < b->cap ? b->cap - b->n : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->n += n;
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

#define RHELP_(name, help) help,
static const char *const responder_help[SD_RC_MAX] = { SD_RESPONDER_COUNTERS(RHELP_) };
#undef RHELP_
#define CHELP_(name, help) help,
static const char *const counter_help[SD_C_MAX] = { SD_COUNTERS(CHELP_) };
#undef CHELP_

/* Counters exposed with labels rather than one metric each (requests
 * and responses are the sums of sipdrain_requests_total and
 * sipdrain_responses_total). */
static int labelled(int i)
{
	return i == SD_C_requests || i == SD_C_responses ||
	       (i >= SD_C_req_invite && i <= SD_C_req_other) ||
	       (i >= SD_C_resp_1xx && i <= SD_C_resp_other) ||
	       (i >= SD_C_dlg_invite && i <= SD_C_dlg_other);
}

size_t sd_metrics_render(char *p, size_t cap)
{
	static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "other" };
	struct buf b = { .p = p, .cap = cap };
	struct sd_snapshot s;
	const __u64 *c;
	char name[IF_NAMESIZE];
	double left;

	if (sd_snapshot_take(&s, true))
		return 0;
	sd_snapshot_peers(&s);
	c = (const __u64 *)&s.cnt;

	head(&b, "sipdrain_state", "gauge", "1 for the gate's current state");
	for (int i = 0; i < SD_STATE_MAX; i++)
		out(&b, "sipdrain_state{state=\"%s\"} %d\n", sd_state_names[i], s.cfg.state == (__u32)i);
	head(&b, "sipdrain_build_info", "gauge", "This sipdrain build: version, pin ABI, libbpf, libxdp");
	out(&b, "sipdrain_build_info{version=\"%s\",abi=\"%d\",libbpf=\"%s\",libxdp=\"%s\"} 1\n",
	    sd_version(), SD_ABI_VERSION, libbpf_version_string(), sd_libxdp_version());
	left = sd_seconds_left(&s);
	head(&b, "sipdrain_drain_deadline_timestamp_seconds", "gauge",
	     "Unix time of the drain deadline (0: none)");
	out(&b, "sipdrain_drain_deadline_timestamp_seconds %.3f\n",
	    s.cfg.deadline_ns && s.cfg.state == SD_DRAINING ? s.wall + left : 0.0);
	head(&b, "sipdrain_drain_seconds_left", "gauge", "Seconds until the drain deadline (0: none or past)");
	out(&b, "sipdrain_drain_seconds_left %.3f\n", s.cfg.state == SD_DRAINING && left > 0 ? left : 0.0);
	head(&b, "sipdrain_calls_cut", "gauge", "Calls still up when the last deadline struck");
	out(&b, "sipdrain_calls_cut %u\n", s.cfg.calls_cut);
	/* the BYEs at the last deadline */
	head(&b, "sipdrain_at_deadline_bye", "gauge",
	     "1 when calls still up at the deadline are ended with BYE (drain --at-deadline bye)");
	out(&b, "sipdrain_at_deadline_bye %d\n", !(s.cfg.flags & SD_CF_BYE_OFF));
	head(&b, "sipdrain_deadline_bye_pending", "gauge", "1 while the deadline's BYEs go on");
	out(&b, "sipdrain_deadline_bye_pending %d\n", !!(s.cfg.flags & SD_CF_BYE_PENDING));
	head(&b, "sipdrain_deadline_bye_calls", "gauge",
	     "Calls the last deadline ended with BYE, by how their BYEs were answered");
	out(&b, "sipdrain_deadline_bye_calls{outcome=\"answered\"} %u\n", s.cfg.bye_answered);
	out(&b, "sipdrain_deadline_bye_calls{outcome=\"no_answer\"} %u\n", s.cfg.bye_no_answer);
	out(&b, "sipdrain_deadline_bye_calls{outcome=\"answered_otherwise\"} %u\n", s.cfg.bye_otherwise);
	head(&b, "sipdrain_deadline_calls_not_ended", "gauge",
	     "Calls up at the last deadline that could not be ended with BYE, by why");
	out(&b, "sipdrain_deadline_calls_not_ended{reason=\"learned\"} %u\n", s.cfg.not_ended_learned);
	out(&b, "sipdrain_deadline_calls_not_ended{reason=\"early\"} %u\n", s.cfg.not_ended_early);
	out(&b, "sipdrain_deadline_calls_not_ended{reason=\"no_details\"} %u\n",
	    s.cfg.not_ended_no_details);

	head(&b, "sipdrain_dialogs", "gauge", "Dialogs by state (learned: calls whose INVITE the gate "
	     "did not see; learning: in-dialog traffic from outside not yet answered; ended: not yet removed)");
	for (int i = 0; i < SD_D_MAX; i++)
		out(&b, "sipdrain_dialogs{state=\"%s\"} %llu\n", sd_dialog_state_names[i],
		    (unsigned long long)s.dlg.by_state[i]);
	out(&b, "sipdrain_dialogs{state=\"learned\"} %llu\n", (unsigned long long)s.dlg.learned);
	out(&b, "sipdrain_dialogs{state=\"learning\"} %llu\n", (unsigned long long)s.dlg.tentative);
	head(&b, "sipdrain_dialog_oldest_seconds", "gauge", "Age of the oldest dialog in each state");
	for (int i = 0; i < SD_D_ENDED; i++)
		out(&b, "sipdrain_dialog_oldest_seconds{state=\"%s\"} %.3f\n", sd_dialog_state_names[i],
		    s.dlg.oldest_ns[i] / 1e9);
	out(&b, "sipdrain_dialog_oldest_seconds{state=\"learned\"} %.3f\n", s.dlg.learned_oldest_ns / 1e9);
	head(&b, "sipdrain_dialog_table_max", "gauge", "Size of each dialog table (calls, attempts)");
	out(&b, "sipdrain_dialog_table_max %u\n", s.cfg.max_dialogs);
	head(&b, "sipdrain_dialog_table_entries", "gauge", "Entries in each dialog table");
	out(&b, "sipdrain_dialog_table_entries{table=\"calls\"} %llu\n", (unsigned long long)s.dlg.calls);
	out(&b, "sipdrain_dialog_table_entries{table=\"attempts\"} %llu\n",
	    (unsigned long long)s.dlg.attempts);
	out(&b, "sipdrain_dialog_table_entries{table=\"learning\"} %llu\n",
	    (unsigned long long)s.dlg.learning);
	{
		const char *why;
		__u64 hold = sd_early_offline_wait_ns(&s, &why);

		head(&b, "sipdrain_watch_start_timestamp_seconds", "gauge",
		     "Unix time the gate began watching this server (calls before it are learned)");
		out(&b, "sipdrain_watch_start_timestamp_seconds %.3f\n", s.meta.watch_start_unix_ns / 1e9);
		head(&b, "sipdrain_min_watch_seconds", "gauge",
		     "Early offline only after the gate has watched this long (0: off)");
		out(&b, "sipdrain_min_watch_seconds %.0f\n", s.cfg.min_watch_ns / 1e9);
		head(&b, "sipdrain_early_offline_wait_seconds", "gauge",
		     "Seconds before early offline may trust the picture of calls (min-watch, full call table)");
		out(&b, "sipdrain_early_offline_wait_seconds %.3f\n", hold / 1e9);
	}

	head(&b, "sipdrain_packets_total", "counter", "Packets the gate saw (ingress)");
	out(&b, "sipdrain_packets_total %llu\n", (unsigned long long)sd_counters_packets(&s.cnt));
	head(&b, "sipdrain_requests_total", "counter",
	     "SIP requests received, by method and the gate's verdict");
	for (int m = 0; m < SD_M_MAX; m++)
		for (int v = 0; v < SD_V_MAX; v++)
			out(&b, "sipdrain_requests_total{method=\"%s\",verdict=\"%s\"} %llu\n",
			    sd_method_names[m], sd_verdict_names[v],
			    (unsigned long long)c[SD_C_MV(m, v)]);
	head(&b, "sipdrain_in_dialog_requests_total", "counter",
	     "SIP requests received with a To tag, by method");
	for (int i = SD_C_dlg_invite; i <= SD_C_dlg_other; i++)
		out(&b, "sipdrain_in_dialog_requests_total{method=\"%s\"} %llu\n",
		    i == SD_C_dlg_other ? "other" : sd_method_names[SD_M_INVITE + i - SD_C_dlg_invite],
		    (unsigned long long)c[i]);
	head(&b, "sipdrain_responses_total", "counter", "SIP responses received, by status class");
	for (int i = SD_C_resp_1xx; i <= SD_C_resp_other; i++)
		out(&b, "sipdrain_responses_total{class=\"%s\"} %llu\n", classes[i - SD_C_resp_1xx],
		    (unsigned long long)c[i]);
	/* the sum of these is the replies counter: not exposed twice */
	head(&b, "sipdrain_responder_replies_total", "counter", "503s sent by the responder, by request method");
	for (int i = SD_RC_reply_invite; i <= SD_RC_reply_other; i++)
		out(&b, "sipdrain_responder_replies_total{method=\"%s\"} %llu\n",
		    i == SD_RC_reply_other ? "other" : sd_method_names[SD_M_INVITE + i - SD_RC_reply_invite],
		    (unsigned long long)((const __u64 *)&s.rs.c)[i]);
	for (int i = 0; i < SD_C_MAX; i++) {
		char n[96];

		if (labelled(i))
			continue;
		snprintf(n, sizeof(n), "sipdrain_%s_total", sd_counter_names[i]);
		head(&b, n, "counter", counter_help[i]);
		out(&b, "%s %llu\n", n, (unsigned long long)c[i]);
	}
	for (int i = 0; i < SD_RC_MAX; i++) {
		char n[96];

		if (i == SD_RC_replies || (i >= SD_RC_reply_invite && i <= SD_RC_reply_other))
			continue;
		snprintf(n, sizeof(n), "sipdrain_responder_%s_total", sd_responder_counter_names[i]);
		head(&b, n, "counter", responder_help[i]);
		out(&b, "%s %llu\n", n, (unsigned long long)((const __u64 *)&s.rs.c)[i]);
	}
	head(&b, "sipdrain_responder_up", "gauge", "1 when a responder is running");
	out(&b, "sipdrain_responder_up %d\n", s.responder_alive);
	head(&b, "sipdrain_known_peers", "gauge",
	     "Sources the server answered within the peer window: 503s to them not limited per source");
	out(&b, "sipdrain_known_peers %llu\n", (unsigned long long)s.known_peers);
	head(&b, "sipdrain_peer_window_seconds", "gauge", "How long a source the server answered stays known (0: off)");
	out(&b, "sipdrain_peer_window_seconds %.0f\n", s.cfg.peer_window_ns / 1e9);
	head(&b, "sipdrain_interface_rx_queues", "gauge", "RX queues of each gated interface");
	for (int i = 0; i < SD_MAX_IFACES; i++)
		if (s.cfg.ifindex[i] && if_indextoname(s.cfg.ifindex[i], name))
			out(&b, "sipdrain_interface_rx_queues{interface=\"%s\"} %u\n", name,
			    s.rs.queues_total[i]);
	head(&b, "sipdrain_responder_queues_bound", "gauge",
	     "RX queues of each interface with a responder socket");
	for (int i = 0; i < SD_MAX_IFACES; i++)
		if (s.cfg.ifindex[i] && if_indextoname(s.cfg.ifindex[i], name))
			out(&b, "sipdrain_responder_queues_bound{interface=\"%s\"} %d\n", name,
			    s.responder_alive ? __builtin_popcountll(s.rs.queues_bound[i]) : 0);
	return b.n;
}
