// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain status [--json] [--watch [SECONDS]] */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "cli.h"
#include "gate.h"
#include "drain_view.h"
#include "json.h"
#include "log.h"
#include "snapshot.h"

struct status_opts {
	bool json;
	__u32 every;            /* --watch: seconds between refreshes; 0: once */
};

/* --watch is long only: -w is drain's --wait. */
static const struct sd_opt status_options[] = {
	{ .name = "json", .letter = 'j', .type = SD_OPT_FLAG,
	  SD_OPT_FIELD(struct status_opts, json), .help = "one JSON object" },
	{ .name = "watch", .type = SD_OPT_UINT, .arg = "SECS", .optional = true, .bare = 1,
	  SD_OPT_FIELD(struct status_opts, every), .min = 1, .max = 3600,
	  .what = "watch interval",
	  .help = "refresh every SECS seconds (default 1) until interrupted" },
	{ 0 }
};

static const struct sd_usage status_usage = {
	.cmd = "status",
	.text =
	"State, deadline and time left, calls in the dialog table by state (with\n"
	"the oldest one's age), request rates by method, 503s sent, fallbacks,\n"
	"interfaces and the responder's queues, and every counter.  Rates are\n"
	"measured over 0.25 s (with --watch, between refreshes).\n",
};


static void ifname_of(__u32 ifindex, char *name)
{
	if (!if_indextoname(ifindex, name))
		snprintf(name, IF_NAMESIZE, "if%u", ifindex % 100000u);
}

static int bound(const struct sd_snapshot *s, int slot)
{
	return s->responder_alive ? __builtin_popcountll(s->rs.queues_bound[slot]) : 0;
}

/* Requests per second of method m between two snapshots. */
static double rate(const struct sd_snapshot *a, const struct sd_snapshot *b, int m)
{
	int i = SD_METHOD_COUNTER(SD_C_req_invite, SD_C_req_other, m);
	double dt = (b->mono_ns - a->mono_ns) / 1e9;

	return dt > 0 ? (((const __u64 *)&b->cnt)[i] - ((const __u64 *)&a->cnt)[i]) / dt : 0;
}

static const char *reason_name(__u32 r)
{
	return r == SD_OR_LAST_CALL ? "last_call" : r == SD_OR_DEADLINE ? "deadline" : "none";
}

static void print_json(const struct sd_snapshot *a, const struct sd_snapshot *s)
{
	const struct sd_config *cfg = &s->cfg;
	char name[IF_NAMESIZE];
	const char *sep = "";
	double left = sd_seconds_left(s);

	printf("{\"state\":\"%s\",\"drain_seconds\":%.3f,\"deadline_seconds_left\":",
	       sd_state_name(cfg->state),
	       cfg->drain_started_ns ? (s->mono_ns - cfg->drain_started_ns) / 1e9 : 0.0);
	if (cfg->deadline_ns && cfg->state == SD_DRAINING)
		printf("%.3f", left > 0 ? left : 0);
	else
		printf("null");
	printf(",\"deadline_unix\":");
	if (cfg->deadline_ns)
		printf("%.3f", s->wall + left);
	else
		printf("null");
	printf(",\"unseen_calls_may_be_cut\":%s", cfg->flags & SD_CF_UNSEEN_CUT ? "true" : "false");
	/* Retry-After: its mode as a string, the seconds a 503 carries now
	 * as a number (auto: the seconds left to the deadline, as the
	 * responder computes them) */
	{
		bool automatic = (cfg->flags & SD_CF_RETRY_AUTO) && cfg->deadline_ns;
		unsigned long now_s = automatic ? (left > 0 ? (unsigned long)(left + 0.999999999) : 1)
						: cfg->retry_after;

		printf(",\"early_offline\":%s,\"offline_reason\":\"%s\",\"calls_cut\":%u,"
		       "\"retry_after_mode\":\"%s\",\"retry_after\":%lu,\"retry_jitter\":%u,"
		       "\"on_offline\":", cfg->flags & SD_CF_NO_EARLY_OFFLINE ? "false" : "true",
		       reason_name(cfg->offline_reason), cfg->calls_cut,
		       cfg->flags & SD_CF_RETRY_AUTO ? "auto" : "fixed", now_s, cfg->retry_jitter);
	}
	sd_json_str(stdout, cfg->on_offline, sizeof(cfg->on_offline));
	printf(",\"at_deadline\":\"%s\",\"bye\":", cfg->flags & SD_CF_BYE_OFF ? "refuse" : "bye");
	sd_bye_json(stdout, cfg);
	printf(",\"allow\":[");
	for (int m = 1; m < SD_M_MAX; m++)
		if ((cfg->allow_mask | SD_ALLOW_ALWAYS) & (1U << m)) {
			printf("%s\"%s\"", sep, sd_method_names[m]);
			sep = ",";
		}
	printf("],\"ports\":[");
	for (__u32 i = 0; i < cfg->nports && i < SD_MAX_PORTS; i++)
		printf("%s%u", i ? "," : "", cfg->ports[i]);
	printf("],\"tcp_ports\":[");
	for (__u32 i = 0; i < cfg->ntcp_ports && i < SD_MAX_PORTS; i++)
		printf("%s%u", i ? "," : "", cfg->tcp_ports[i]);
	printf("],\"reply_rate\":%u,\"reply_burst\":%u,\"peer_window_seconds\":%.0f,"
	       "\"known_peers\":%llu,\"interfaces\":[", cfg->reply_rate, cfg->reply_burst,
	       cfg->peer_window_ns / 1e9, (unsigned long long)s->known_peers);
	sep = "";
	for (int i = 0; i < SD_MAX_IFACES; i++) {
		if (!cfg->ifindex[i])
			continue;
		ifname_of(cfg->ifindex[i], name);
		printf("%s{\"name\":", sep);
		sd_json_str(stdout, name, sizeof(name));
		printf(",\"ifindex\":%u,\"mode\":\"%s\",\"rx_queues\":%u,"
		       "\"queues_bound\":%d}", cfg->ifindex[i],
		       sd_mode_name(cfg->xdp_mode[i]), s->rs.queues_total[i], bound(s, i));
		sep = ",";
	}
	{
		const char *why;
		__u64 hold = sd_early_offline_wait_ns(s, &why);

		printf("],\"watch\":{\"since_unix\":%.3f,\"seconds\":%.3f,\"min_watch_seconds\":%.0f,"
		       "\"early_offline_wait_seconds\":%.3f,\"early_offline_wait_reason\":%s%s%s,"
		       "\"table_full_seconds_ago\":", s->meta.watch_start_unix_ns / 1e9,
		       sd_watched_seconds(s), cfg->min_watch_ns / 1e9, hold / 1e9,
		       hold ? "\"" : "", hold ? why : "null", hold ? "\"" : "");
		if (s->meta.table_full_ns)
			printf("%.3f", (s->mono_ns - s->meta.table_full_ns) / 1e9);
		else
			printf("null");
		printf(",\"abi\":%u}", s->meta.abi);
	}
	printf(",\"dialogs\":{\"live\":%llu,\"entries\":%llu,\"max\":%u,\"calls_entries\":%llu,"
	       "\"attempt_entries\":%llu,\"learning_entries\":%llu,\"table_full\":%llu",
	       (unsigned long long)s->dlg.live, (unsigned long long)s->dlg.entries, cfg->max_dialogs,
	       (unsigned long long)s->dlg.calls, (unsigned long long)s->dlg.attempts,
	       (unsigned long long)s->dlg.learning, (unsigned long long)s->cnt.calls_table_full);
	for (int i = 0; i < SD_D_MAX; i++)
		printf(",\"%s\":%llu", sd_dialog_state_names[i], (unsigned long long)s->dlg.by_state[i]);
	printf(",\"learned\":%llu,\"learning\":%llu", (unsigned long long)s->dlg.learned,
	       (unsigned long long)s->dlg.tentative);
	printf(",\"oldest_seconds\":{");
	for (int i = 0; i < SD_D_ENDED; i++)
		printf("%s\"%s\":%.3f", i ? "," : "", sd_dialog_state_names[i], s->dlg.oldest_ns[i] / 1e9);
	printf(",\"learned\":%.3f}},\"rates\":{", s->dlg.learned_oldest_ns / 1e9);
	for (int m = 0; m < SD_M_MAX; m++)
		printf("%s\"%s\":%.1f", m ? "," : "", sd_method_names[m], rate(a, s, m));
	printf("},\"counters\":{\"packets\":%llu",
	       (unsigned long long)sd_counters_packets(&s->cnt));
	for (int i = 0; i < SD_C_TOTAL; i++)
		printf(",\"%s\":%llu", sd_counter_names[i],
		       (unsigned long long)((const __u64 *)&s->cnt)[i]);
	printf("},\"responder\":{\"running\":%s,\"pid\":%u,\"counters\":{",
	       s->responder_alive ? "true" : "false", s->responder_alive ? s->rs.pid : 0);
	for (int i = 0; i < SD_RC_MAX; i++)
		printf("%s\"%s\":%llu", i ? "," : "", sd_responder_counter_names[i],
		       (unsigned long long)((const __u64 *)&s->rs.c)[i]);
	printf("}}}\n");
}

static void print_human(const struct sd_snapshot *a, const struct sd_snapshot *s)
{
	const struct sd_config *cfg = &s->cfg;
	char name[IF_NAMESIZE];
	double left = sd_seconds_left(s);
	int shown = 0;

	printf("state        %s", sd_state_name(cfg->state));
	if (cfg->state == SD_DRAINING) {
		printf(" for %.0f s", (s->mono_ns - cfg->drain_started_ns) / 1e9);
		if (cfg->deadline_ns)
			printf(", deadline in %.0f s%s", left > 0 ? left : 0,
			       cfg->flags & SD_CF_NO_EARLY_OFFLINE ? "" :
			       " (offline earlier when the last call ends)");
		else
			printf(", no deadline (until 'sipdrain resume')");
	} else if (cfg->state == SD_OFFLINE && cfg->offline_reason) {
		printf(" since %.0f s (%s", (s->mono_ns - cfg->offline_ns) / 1e9,
		       cfg->offline_reason == SD_OR_DEADLINE ? "deadline" : "last call ended");
		if (cfg->offline_reason == SD_OR_DEADLINE)
			printf(", %u call%s cut%s", cfg->calls_cut, cfg->calls_cut == 1 ? "" : "s",
			       cfg->flags & SD_CF_UNSEEN_CUT ? ", maybe more older than the gate" : "");
		printf(")");
	}
	printf("\n");
	if (cfg->state == SD_OFFLINE && cfg->offline_reason == SD_OR_DEADLINE && cfg->calls_cut &&
	    !(cfg->flags & SD_CF_BYE_OFF)) {
		char line[256];

		if (cfg->flags & SD_CF_BYE_PENDING) {
			printf("deadline     ending %u call%s with BYE...\n", cfg->bye_calls,
			       cfg->bye_calls == 1 ? "" : "s");
		} else {
			sd_bye_summary(cfg, line, sizeof(line));
			printf("deadline     %s\n", line);
		}
	}
	if (cfg->state != SD_SERVING) {
		printf("503s         Retry-After ");
		if (cfg->flags & SD_CF_RETRY_AUTO)
			printf("auto (seconds left)");
		else
			printf("%u s", cfg->retry_after);
		if (cfg->retry_jitter)
			printf(" + 0..%u s", cfg->retry_jitter);
		printf("; passing anyway: CANCEL ACK");
		for (int m = 1; m < SD_M_MAX; m++)
			if ((cfg->allow_mask & ~SD_ALLOW_ALWAYS) & (1U << m))
				printf(" %s", sd_method_names[m]);
		printf("\n");
	}
	printf("interfaces  ");
	for (int i = 0; i < SD_MAX_IFACES; i++) {
		if (!cfg->ifindex[i])
			continue;
		ifname_of(cfg->ifindex[i], name);
		printf(" %s (%s, responder on %d/%u queues)", name, sd_mode_name(cfg->xdp_mode[i]),
		       bound(s, i), s->rs.queues_total[i]);
	}
	printf("\nports       ");
	for (__u32 i = 0; i < cfg->nports && i < SD_MAX_PORTS; i++)
		printf(" %u", cfg->ports[i]);
	if (cfg->ntcp_ports) {
		printf(" (UDP); TCP/TLS, new connections refused while draining:");
		for (__u32 i = 0; i < cfg->ntcp_ports && i < SD_MAX_PORTS; i++)
			printf(" %u", cfg->tcp_ports[i]);
	}
	if (cfg->reply_rate)
		printf("\nguard        at most %u 503s/s per unknown source, burst %u (%llu dropped)",
		       cfg->reply_rate, cfg->reply_burst, (unsigned long long)s->cnt.guard_dropped);
	else
		printf("\nguard        off (no limit on 503s per source)");
	if (cfg->peer_window_ns)
		printf("\nknown peers  %llu (answered by the server in the last %.0f h: 503s to them "
		       "not limited; %llu so far)", (unsigned long long)s->known_peers,
		       cfg->peer_window_ns / 3.6e12, (unsigned long long)s->cnt.guard_known_peer);
	else
		printf("\nknown peers  off (--peer-window 0: every source guarded)");
	if (s->cnt.not_ours || s->cnt.bad_source)
		printf("\naddresses    %llu refusals not for the server's addresses passed, "
		       "%llu from impossible sources dropped", (unsigned long long)s->cnt.not_ours,
		       (unsigned long long)s->cnt.bad_source);
	printf("\nresponder    %s", s->responder_alive ? "running" :
	       "NOT RUNNING (refused requests reach the server)");
	if (s->responder_alive)
		printf(" (pid %u)", s->rs.pid);
	printf(": %llu 503s sent, %llu dropped malformed, %llu TX ring full\n",
	       (unsigned long long)s->rs.c.replies,
	       (unsigned long long)(s->rs.c.dropped_malformed + s->rs.c.dropped_too_big),
	       (unsigned long long)s->rs.c.tx_ring_full);
	printf("fallbacks    %llu (refusals that reached the server: no responder socket)\n",
	       (unsigned long long)s->cnt.redirect_fallback);
	printf("calls        %llu up:", (unsigned long long)s->dlg.live);
	for (int i = 0; i < SD_D_ENDED; i++) {
		printf(" %s %llu", sd_dialog_state_names[i], (unsigned long long)s->dlg.by_state[i]);
		if (s->dlg.by_state[i])
			printf(" (oldest %.0f s)", s->dlg.oldest_ns[i] / 1e9);
	}
	printf(" learned %llu", (unsigned long long)s->dlg.learned);
	if (s->dlg.learned)
		printf(" (oldest %.0f s)", s->dlg.learned_oldest_ns / 1e9);
	if (s->dlg.tentative)
		printf(" learning %llu", (unsigned long long)s->dlg.tentative);
	printf("; ended %llu\ntables       calls %llu/%u, attempts %llu/%u, learning %llu",
	       (unsigned long long)s->dlg.by_state[SD_D_ENDED], (unsigned long long)s->dlg.calls,
	       cfg->max_dialogs, (unsigned long long)s->dlg.attempts, cfg->max_dialogs,
	       (unsigned long long)s->dlg.learning);
	if (s->cnt.calls_table_full)
		printf("; CALL TABLE FULL %llu times, last %.0f s ago (--max-dialogs)",
		       (unsigned long long)s->cnt.calls_table_full,
		       (s->mono_ns - s->meta.table_full_ns) / 1e9);
	{
		char when[64];
		time_t t = s->meta.watch_start_unix_ns / 1000000000ULL;
		struct tm tm;
		const char *why;
		__u64 hold = sd_early_offline_wait_ns(s, &why);

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		printf("\nwatching     since %s (%.0f s); min-watch %.0f s; early offline ", when,
		       sd_watched_seconds(s), cfg->min_watch_ns / 1e9);
		if (cfg->flags & SD_CF_NO_EARLY_OFFLINE && cfg->state == SD_DRAINING)
			printf("off for this drain\n");
		else if (!hold)
			printf("possible\n");
		else
			printf("held %.0f s more (%s)\n", hold / 1e9, !strcmp(why, "watch") ?
			       "calls older than the gate may be silent" : "the call table was full");
	}
	printf("requests/s  ");
	for (int m = 0; m < SD_M_MAX; m++) {
		double r = rate(a, s, m);

		if (r > 0) {
			printf(" %s %.1f", sd_method_names[m], r);
			shown++;
		}
	}
	printf("%s\n\ncounters (non-zero):\n", shown ? "" : " none");
	printf("  %-24s %llu\n", "packets", (unsigned long long)sd_counters_packets(&s->cnt));
	for (int i = 0; i < SD_C_TOTAL; i++)
		if (((const __u64 *)&s->cnt)[i])
			printf("  %-24s %llu\n", sd_counter_names[i],
			       (unsigned long long)((const __u64 *)&s->cnt)[i]);
	for (int i = 0; i < SD_RC_MAX; i++)
		if (((const __u64 *)&s->rs.c)[i])
			printf("  responder.%-14s %llu\n", sd_responder_counter_names[i],
			       (unsigned long long)((const __u64 *)&s->rs.c)[i]);
}

int cmd_status(int argc, char **argv)
{
	struct status_opts so = { 0 };
	const struct sd_opt_group groups[] = { { status_options, &so }, { 0 } };
	static struct sd_snapshot a, b;
	int first;

	first = sd_opts_parse(argc, argv, &status_usage, groups);
	if (first < 0)
		return SD_EXIT_USAGE;
	if (first < argc) {
		pr_warn("status: unexpected argument '%s'\n", argv[first]);
		return SD_EXIT_USAGE;
	}
	if (sd_require_root())
		return SD_EXIT_ERR;
	if (sd_snapshot_take(&a, false))
		return SD_EXIT_ERR;
	if (so.every)
		sleep(so.every);
	for (;;) {
		if (sd_snapshot_take(&b, true))
			return SD_EXIT_ERR;
		sd_snapshot_peers(&b);
		if (!so.every && b.mono_ns - a.mono_ns < 250000000ULL) {
			/* the rates want 0.25 s: the table walk counts towards it */
			struct sd_snapshot c;

			usleep((250000000ULL - (b.mono_ns - a.mono_ns)) / 1000);
			if (sd_snapshot_take(&c, false))
				return SD_EXIT_ERR;
			b.cnt = c.cnt;
			b.rs = c.rs;
			b.mono_ns = c.mono_ns;
		}
		if (so.every && !so.json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		if (so.json)
			print_json(&a, &b);
		else
			print_human(&a, &b);
		fflush(stdout);
		if (!so.every)
			return SD_EXIT_OK;
		a = b;
		sleep(so.every);
	}
}
