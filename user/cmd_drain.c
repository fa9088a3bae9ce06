// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain drain / resume: change the state in the pinned config; with
 * --wait, follow the drain until the node is offline. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "cli.h"
#include "gate.h"
#include "drain_view.h"
#include "json.h"
#include "log.h"
#include "responder.h"
#include "snapshot.h"

/* A resume or a new drain while the deadline's BYEs go on stops them,
 * and the on-offline hook, which waits for their outcome, never runs (a
 * hook that stops the server must not run on a node that serves again).
 * Decided under the config lock, so exactly one of the two happens: the
 * hook ran before this command, or this command cancelled it. */
struct stopped_byes {
	bool byes;      /* the previous drain's BYEs were still going */
	bool hook;      /* its on-offline hook had not run, and will not */
};

static struct stopped_byes stopped_byes(const struct sd_config *prev)
{
	struct stopped_byes sb;

	sb.byes = prev->state == SD_OFFLINE && (prev->flags & SD_CF_BYE_PENDING);
	sb.hook = sb.byes && prev->on_offline[0] && !(prev->flags & SD_CF_HOOK_DONE);
	return sb;
}

static void say_stopped_byes(const struct sd_config *prev, struct stopped_byes sb)
{
	if (sb.byes)
		pr_info("the deadline's BYEs stop (%u of %u call%s answered so far)%s\n",
			prev->bye_answered, prev->bye_calls, prev->bye_calls == 1 ? "" : "s",
			sb.hook ? "; the on-offline hook, which waited for them, does not run" : "");
}

static void json_stopped_byes(struct stopped_byes sb)
{
	printf(",\"byes_stopped\":%s,\"hook_cancelled\":%s", sb.byes ? "true" : "false",
	       sb.hook ? "true" : "false");
}

/* --retry-after auto: the seconds left until the deadline */
#define RETRY_AUTO 0xffffffffU

struct drain_opts {
	__u64 deadline_ns;
	__u32 retry_after;
	__u32 retry_jitter;
	__u32 allow;
	bool wait;
	const char *hook;
	bool no_early;
	bool min_watch_set;
	__u64 min_watch_ns;
	bool again;
	bool json;
	__u32 refuse_at_deadline;       /* --at-deadline refuse */
	/* what was named: a drain of a draining node changes only that */
	bool deadline_set, retry_set, jitter_set, allow_set, hook_set, at_deadline_set;
};

/* --retry-jitter is long only: -j is status's --json. */
static const struct sd_opt drain_options[] = {
	{ .name = "deadline", .letter = 'D', .type = SD_OPT_DURATION, .arg = "DURATION|off",
	  SD_OPT_FIELD(struct drain_opts, deadline_ns), SD_OPT_SEEN(struct drain_opts, deadline_set),
	  .words = (const struct sd_opt_word[]){ { "off", 0 }, { 0 } },
	  .help = "offline this long from now at the latest: a whole number with a unit ms, s, m, "
		  "h or d (none: seconds), up to 7 days; e.g. 90s, 10m, 1h (off: no deadline, "
		  "to remove one from a running drain)" },
	{ .name = "retry-after", .letter = 'r', .type = SD_OPT_UINT, .arg = "N|auto",
	  SD_OPT_FIELD(struct drain_opts, retry_after), .min = 0, .max = 86400,
	  SD_OPT_SEEN(struct drain_opts, retry_set),
	  .words = (const struct sd_opt_word[]){ { "auto", RETRY_AUTO }, { 0 } },
	  .help = "Retry-After of the 503 (default 300; auto: the seconds left until "
		  "the deadline)" },
	{ .name = "retry-jitter", .type = SD_OPT_UINT, .arg = "N",
	  SD_OPT_FIELD(struct drain_opts, retry_jitter), .min = 0, .max = 86400,
	  SD_OPT_SEEN(struct drain_opts, jitter_set),
	  .help = "add a random 0..N seconds to each Retry-After" },
	{ .name = "allow", .letter = 'a', .type = SD_OPT_METHOD, .arg = "METHOD",
	  SD_OPT_FIELD(struct drain_opts, allow), SD_OPT_SEEN(struct drain_opts, allow_set),
	  .help = "also let this out-of-dialog method through (repeatable; e.g. "
		  "REGISTER, OPTIONS)" },
	{ .name = "wait", .letter = 'w', .type = SD_OPT_FLAG,
	  SD_OPT_FIELD(struct drain_opts, wait),
	  .help = "block until OFFLINE, showing progress; exit 0 when no call was left, "
		  "3 when the deadline cut calls (or may have: calls older than the gate "
		  "are invisible until they send), 1 on error" },
	{ .name = "exec-on-offline", .letter = 'x', .type = SD_OPT_STRING, .arg = "CMD",
	  SD_OPT_FIELD(struct drain_opts, hook), SD_OPT_SEEN(struct drain_opts, hook_set),
	  .max = sizeof(((struct sd_config *)0)->on_offline) - 1,
	  .help = "run CMD (sh -c) once when the node goes offline; SIPDRAIN_REASON and "
		  "SIPDRAIN_CALLS_CUT are set ('': none)" },
	{ .name = "no-early-offline", .letter = 'n', .type = SD_OPT_FLAG,
	  SD_OPT_FIELD(struct drain_opts, no_early),
	  .help = "stay DRAINING until the deadline even when no call is left" },
	{ .name = "min-watch", .letter = 'W', .type = SD_OPT_DURATION, .arg = "DURATION",
	  SD_OPT_FIELD(struct drain_opts, min_watch_ns), .words = sd_opt_off,
	  SD_OPT_SEEN(struct drain_opts, min_watch_set),
	  .help = "early offline only once the gate has watched the server this long "
		  "(a call older than the gate that sends nothing is invisible); changes "
		  "the gate's setting (default 2h; 0: off)" },
	{ .name = "at-deadline", .type = SD_OPT_ENUM, .arg = "bye|refuse",
	  SD_OPT_FIELD(struct drain_opts, refuse_at_deadline),
	  SD_OPT_SEEN(struct drain_opts, at_deadline_set),
	  .words = (const struct sd_opt_word[]){ { "bye", 0 }, { "refuse", 1 }, { 0 } },
	  .help = "calls still up at the deadline: bye (default) ends each with a BYE to its "
		  "parties, as the other side would; refuse leaves them up (everything gets 503)" },
	{ .name = "again", .type = SD_OPT_FLAG, SD_OPT_FIELD(struct drain_opts, again),
	  .help = "start a new drain on an OFFLINE node (otherwise refused)" },
	{ .name = "json", .type = SD_OPT_FLAG, SD_OPT_FIELD(struct drain_opts, json),
	  .help = "print the outcome as one JSON object on stdout (with --wait, a second "
		  "one when the node is offline)" },
	{ 0 }
};

struct resume_opts {
	bool json;
};

static const struct sd_opt resume_options[] = {
	{ .name = "json", .type = SD_OPT_FLAG, SD_OPT_FIELD(struct resume_opts, json),
	  .help = "print the outcome as one JSON object on stdout" },
	{ 0 }
};

static const struct sd_usage drain_usage = {
	.cmd = "drain",
	.text =
	"Start draining: new calls and other out-of-dialog requests are\n"
	"answered 503 Service Unavailable by the responder ('sipdrain run');\n"
	"in-dialog requests, responses, CANCEL, ACK and retransmissions (or\n"
	"401/407 re-sends) of INVITEs the server already received keep reaching\n"
	"the server.  With a deadline, 'sipdrain run' takes the node OFFLINE at\n"
	"the deadline, or as soon as no call is left; without one the drain\n"
	"lasts until 'sipdrain resume'.\n"
	"\n"
	"On a node already draining, drain changes only the options it names\n"
	"and says what changed (a new --deadline counts from now).  On an\n"
	"OFFLINE node it is refused unless --again is given: that starts a new\n"
	"drain with every option not named at its default.\n",
	.epilogue = "Example: sipdrain drain --deadline 10m --retry-after auto --wait\n",
};

static const struct sd_usage resume_usage = {
	.cmd = "resume",
	.text = "Cancel a drain (or bring an offline node back): SERVING again;\n"
		"says which state it left.\n",
};

/* The pin directory's lock, held from load_config to store_config: a
 * drain, a resume and the agent's switch to offline never interleave. */
static int lock_fd = -1;

static int load_config(struct sd_config *cfg)
{
	if (sd_require_root())
		return -EPERM;
	return sd_config_begin(cfg, &lock_fd);
}

static int store_config(struct sd_config *cfg, int fd)
{
	int err = sd_config_end(fd, lock_fd, cfg);

	lock_fd = -1;
	return err ? SD_EXIT_ERR : SD_EXIT_OK;
}

static void progress_line(const struct sd_snapshot *s, char *buf, size_t n)
{
	const __u64 *b = s->dlg.by_state;
	double left = sd_seconds_left(s);
	const char *why;
	__u64 hold = sd_early_offline_wait_ns(s, &why);
	int k;

	k = snprintf(buf, n, "draining: %llu call%s left (attempt %llu, early %llu, confirmed %llu, "
		     "closing %llu, learned %llu), %llu 503s sent, %.0f s left",
		     (unsigned long long)s->dlg.live, s->dlg.live == 1 ? "" : "s",
		     (unsigned long long)(b[SD_D_ATTEMPT] + s->dlg.tentative),
		     (unsigned long long)b[SD_D_EARLY], (unsigned long long)b[SD_D_CONFIRMED],
		     (unsigned long long)b[SD_D_CLOSING], (unsigned long long)s->dlg.learned,
		     (unsigned long long)s->rs.c.replies, left > 0 ? left : 0);
	if (hold && !(s->cfg.flags & SD_CF_NO_EARLY_OFFLINE) && k > 0 && (size_t)k < n)
		snprintf(buf + k, n - k, "; early offline held %.0f s more (%s)", hold / 1e9,
			 !strcmp(why, "watch") ? "min-watch" : "the call table was full");
}

/* One line on what the gate has seen of this server, and whether early
 * offline waits for it. */
static void horizon_lines(const struct sd_snapshot *s)
{
	char when[64];
	time_t t = s->meta.watch_start_unix_ns / 1000000000ULL;
	struct tm tm;
	const char *why;
	__u64 hold = sd_early_offline_wait_ns(s, &why);
	double watched = sd_watched_seconds(s);

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&t, &tm));
	pr_info("the gate has watched this server since %s (%.0f s); %llu call%s known, "
		"%llu of them learned from in-dialog traffic\n", when, watched,
		(unsigned long long)s->dlg.live, s->dlg.live == 1 ? "" : "s",
		(unsigned long long)s->dlg.learned);
	if (!s->cfg.deadline_ns || (s->cfg.flags & SD_CF_NO_EARLY_OFFLINE) || !hold)
		return;
	if (!strcmp(why, "watch"))
		pr_info("early offline held back for %.0f s: the gate has watched for less than "
			"--min-watch %.0f s (a call older than it that sends nothing is invisible; "
			"--min-watch 0 turns this off); the deadline applies\n",
			hold / 1e9, s->cfg.min_watch_ns / 1e9);
	else
		pr_info("early offline held back for %.0f s: the call table was full %.0f s ago, "
			"so a call may be missing from it; the deadline applies\n", hold / 1e9,
			(s->mono_ns - s->meta.table_full_ns) / 1e9);
}

/* Follow the drain to its end.  The responder's agent normally decides;
 * with no responder alive this process does. */
static int wait_offline(bool json)
{
	bool tty = isatty(STDERR_FILENO);
	struct sd_snapshot s;
	__u64 last_log = 0;
	char line[256];
	bool cut;
	int err;

	signal(SIGCHLD, SIG_IGN);       /* the hook, if this process runs it */
	for (;;) {
		err = sd_snapshot_take(&s, true);
		if (err)
			return SD_EXIT_ERR;
		if (s.cfg.state == SD_DRAINING && !s.responder_alive) {
			err = sd_agent_tick(&s);
			if (err < 0)
				return SD_EXIT_ERR;
		}
		if (s.cfg.state == SD_OFFLINE)
			break;
		if (s.cfg.state != SD_DRAINING) {
			if (tty)
				fputc('\n', stderr);
			pr_warn("the drain was cancelled (state %s)\n",
				sd_state_name(s.cfg.state));
			return SD_EXIT_ERR;
		}
		progress_line(&s, line, sizeof(line));
		if (tty) {
			fprintf(stderr, "\r\033[K%s", line);
		} else if (s.mono_ns - last_log >= 5000000000ULL) {
			pr_info("%s\n", line);
			last_log = s.mono_ns;
		}
		usleep(200000);
	}
	/* the calls cut are being ended with BYE (run, at most 64*T1 and
	 * the sending): the outcome when it is known */
	while ((s.cfg.flags & SD_CF_BYE_PENDING) && s.cfg.state == SD_OFFLINE && s.responder_alive) {
		if (tty)
			fprintf(stderr, "\r\033[Koffline: ending the calls cut with BYE...");
		usleep(200000);
		if (sd_snapshot_take(&s, false))
			return SD_EXIT_ERR;
	}
	if (tty)
		fputc('\n', stderr);
	cut = s.cfg.offline_reason == SD_OR_DEADLINE && (s.cfg.calls_cut || (s.cfg.flags & SD_CF_UNSEEN_CUT));
	if (json) {
		printf("{\"command\":\"drain\",\"result\":\"offline\",\"offline_reason\":\"%s\","
		       "\"calls_cut\":%u,\"unseen_calls_may_be_cut\":%s,\"drain_seconds\":%.3f,\"bye\":",
		       s.cfg.offline_reason == SD_OR_DEADLINE ? "deadline" : "last_call",
		       s.cfg.calls_cut, s.cfg.flags & SD_CF_UNSEEN_CUT ? "true" : "false",
		       (s.cfg.offline_ns - s.cfg.drain_started_ns) / 1e9);
		sd_bye_json(stdout, &s.cfg);
		printf("}\n");
	} else if (s.cfg.offline_reason == SD_OR_DEADLINE && s.cfg.calls_cut) {
		printf("offline: the deadline cut %u call%s%s\n", s.cfg.calls_cut,
		       s.cfg.calls_cut == 1 ? "" : "s", s.cfg.flags & SD_CF_UNSEEN_CUT ?
		       ", and any call older than the gate that stayed silent" : "");
	} else if (cut) {
		printf("offline: the deadline cut 0 calls the gate knows; it had watched for %.0f s, "
		       "so calls older than the gate that stayed silent may have been cut\n",
		       s.cfg.offline_ns > s.meta.watch_start_ns ?
		       (s.cfg.offline_ns - s.meta.watch_start_ns) / 1e9 : 0.0);
	} else {
		printf("offline: no call was left (%s, %.1f s after the drain began)\n",
		       s.cfg.offline_reason == SD_OR_DEADLINE ? "deadline" : "last call ended",
		       (s.cfg.offline_ns - s.cfg.drain_started_ns) / 1e9);
	}
	if (!json && s.cfg.offline_reason == SD_OR_DEADLINE && s.cfg.calls_cut &&
	    !(s.cfg.flags & SD_CF_BYE_OFF)) {
		char line[256];

		sd_bye_summary(&s.cfg, line, sizeof(line));
		printf("%s\n", line);
	}
	return cut ? 3 : SD_EXIT_OK;
}

static void warn_no_responder(void)
{
	struct sd_responder st = { 0 };
	__u32 zero = 0;
	int fd = sd_pinned_map_fd(SD_STR(SD_MAP_RESPONDER));

	if (fd >= 0) {
		bpf_map_lookup_elem(fd, &zero, &st);
		close(fd);
	}
	if (!sd_responder_alive(&st))
		pr_warn("warning: no responder is running ('sipdrain run'): refused requests "
			"still reach the server (counted as redirect_fallback)\n");
}

static void json_view(const struct sd_drain_view *v)
{
	const char *sep = "";

	printf("{\"deadline_seconds_left\":");
	if (v->deadline_left < 0)
		printf("null");
	else
		printf("%.3f", v->deadline_left);
	printf(",\"retry_after_mode\":\"%s\",\"retry_after\":%u,\"retry_jitter\":%u,\"allow\":[",
	       v->retry_auto ? "auto" : "fixed", v->retry_auto && v->deadline_left >= 0 ?
	       (__u32)(v->deadline_left + 0.999999999) : v->retry_after, v->retry_jitter);
	for (int m = 1; m < SD_M_MAX; m++)
		if (v->allow & (1U << m)) {
			printf("%s\"%s\"", sep, sd_method_names[m]);
			sep = ",";
		}
	printf("],\"early_offline\":%s,\"at_deadline\":\"%s\",\"on_offline\":",
	       v->early ? "true" : "false", v->bye ? "bye" : "refuse");
	sd_json_str(stdout, v->hook, sizeof(((struct sd_config *)0)->on_offline));
	printf(",\"min_watch_seconds\":%.0f}", v->min_watch);
}

/* How long the node has been in cfg's state, in seconds (-1: unknown). */
static double state_seconds(const struct sd_config *cfg, __u64 now)
{
	__u64 since = cfg->state == SD_DRAINING ? cfg->drain_started_ns :
		      cfg->state == SD_OFFLINE ? cfg->offline_ns : 0;

	return since && since <= now ? (now - since) / 1e9 : -1;
}

int cmd_drain(int argc, char **argv)
{
	struct drain_opts d = { .retry_after = SD_DEFAULT_RETRY_AFTER };
	const struct sd_opt_group groups[] = { { drain_options, &d }, { 0 } };
	const char *names[SD_DRAIN_SETTINGS];
	struct sd_drain_view before, after;
	struct sd_snapshot snap;
	struct sd_config cfg, prev;
	struct stopped_byes sb;
	char what[768];
	bool retry_auto, fresh;
	int first, fd, nchanges;
	__u64 now;

	first = sd_opts_parse(argc, argv, &drain_usage, groups);
	if (first < 0)
		return SD_EXIT_USAGE;
	if (first < argc) {
		pr_warn("drain: unexpected argument '%s'\n", argv[first]);
		return SD_EXIT_USAGE;
	}
	retry_auto = d.retry_after == RETRY_AUTO;
	if (retry_auto)
		d.retry_after = SD_DEFAULT_RETRY_AFTER;
	/* contradictions whatever the state (the rest is checked against
	 * the drain it changes, below) */
	if (d.deadline_set && !d.deadline_ns && (retry_auto || d.wait || d.no_early ||
						 (d.hook && *d.hook))) {
		pr_warn("drain: --retry-after auto, --wait, --exec-on-offline and --no-early-offline "
			"need --deadline (not off)\n");
		return SD_EXIT_USAGE;
	}
	fd = load_config(&cfg);
	if (fd < 0)
		return SD_EXIT_ERR;
	if (d.wait && !isatty(STDERR_FILENO))   /* a log file or a pipe: each line says when */
		sd_log_stamp_auto();
	prev = cfg;
	now = sd_now_ns();
	if (cfg.state == SD_OFFLINE && !d.again) {
		sd_config_end(fd, lock_fd, NULL);
		pr_warn("drain: the node is offline (since %.0f s, %s): 'sipdrain drain --again' starts "
			"a new drain, 'sipdrain resume' serves again\n", state_seconds(&cfg, now) < 0 ?
			0 : state_seconds(&cfg, now), cfg.offline_reason == SD_OR_DEADLINE ?
			"deadline" : cfg.offline_reason == SD_OR_LAST_CALL ? "last call ended" :
			"reason unknown");
		return SD_EXIT_ERR;
	}
	/* a new drain: every option not named at its default; a running
	 * one: only what is named changes */
	fresh = cfg.state != SD_DRAINING;
	if (fresh) {
		cfg.drain_started_ns = now;
		cfg.flags = 0;
		cfg.retry_after = SD_DEFAULT_RETRY_AFTER;
		cfg.retry_jitter = 0;
		cfg.allow_mask = 0;
		cfg.deadline_ns = 0;
		memset(cfg.on_offline, 0, sizeof(cfg.on_offline));
	}
	cfg.state = SD_DRAINING;
	if (d.retry_set) {
		cfg.retry_after = d.retry_after;
		cfg.flags = (cfg.flags & ~SD_CF_RETRY_AUTO) | (retry_auto ? SD_CF_RETRY_AUTO : 0);
	}
	if (d.jitter_set)
		cfg.retry_jitter = d.retry_jitter;
	if (d.allow_set)
		cfg.allow_mask = d.allow;
	if (d.deadline_set)
		cfg.deadline_ns = d.deadline_ns ? now + d.deadline_ns : 0;
	if (d.no_early)
		cfg.flags |= SD_CF_NO_EARLY_OFFLINE;
	if (d.hook_set) {
		memset(cfg.on_offline, 0, sizeof(cfg.on_offline));
		strcpy(cfg.on_offline, d.hook);
		cfg.flags &= ~SD_CF_HOOK_DONE;
	}
	if (d.min_watch_set)
		cfg.min_watch_ns = d.min_watch_ns;
	if (d.at_deadline_set)
		cfg.flags = (cfg.flags & ~SD_CF_BYE_OFF) | (d.refuse_at_deadline ? SD_CF_BYE_OFF : 0);
	if (!cfg.deadline_ns && ((cfg.flags & (SD_CF_RETRY_AUTO | SD_CF_NO_EARLY_OFFLINE)) ||
				 cfg.on_offline[0] || d.wait)) {
		sd_config_end(fd, lock_fd, NULL);
		pr_warn("drain: --retry-after auto, --wait, --exec-on-offline and --no-early-offline "
			"need --deadline%s\n", fresh ? "" : " (the running drain has none)");
		return SD_EXIT_USAGE;
	}
	sb = stopped_byes(&prev);
	cfg.offline_ns = 0;
	cfg.offline_reason = SD_OR_NONE;
	cfg.calls_cut = 0;
	cfg.flags &= ~(SD_CF_UNSEEN_CUT | SD_CF_BYE_PENDING);
	sd_drain_view(&prev, now, &before);
	sd_drain_view(&cfg, now, &after);
	nchanges = sd_drain_changes(&before, &after, what, sizeof(what), names);
	if (fresh || nchanges) {
		sd_config_stamp(&cfg);
		if (store_config(&cfg, fd))
			return SD_EXIT_ERR;
	} else {
		sd_config_end(fd, lock_fd, NULL);
	}
	if (d.json) {
		printf("{\"command\":\"drain\",\"result\":\"%s\",\"previous_state\":\"%s\","
		       "\"state\":\"draining\",\"drain_seconds\":%.3f,\"changed\":[",
		       fresh ? "started" : nchanges ? "changed" : "unchanged", sd_state_name(prev.state),
		       (now - cfg.drain_started_ns) / 1e9);
		for (int i = 0; !fresh && i < nchanges; i++)
			printf("%s\"%s\"", i ? "," : "", names[i]);
		printf("],\"previous\":");
		if (fresh)
			printf("null");
		else
			json_view(&before);
		printf(",\"settings\":");
		json_view(&after);
		json_stopped_byes(sb);
		printf("}\n");
		fflush(stdout);
	} else if (!fresh) {
		pr_info("already draining for %.0f s; %s\n", (now - cfg.drain_started_ns) / 1e9,
			nchanges ? what : "nothing changed");
	} else {
		if (prev.state == SD_OFFLINE)
			pr_info("draining again (the node was offline for %.0f s)\n",
				state_seconds(&prev, now) < 0 ? 0 : state_seconds(&prev, now));
		say_stopped_byes(&prev, sb);
		pr_info("draining: new calls get 503 (Retry-After: ");
		if (after.retry_auto)
			pr_info("seconds left to the deadline)");
		else
			pr_info("%u)", after.retry_after);
		if (after.deadline_left >= 0)
			pr_info(", offline in %.0f s at the latest%s\n", after.deadline_left,
				after.early ? " (earlier when the last call ends)" : "");
		else
			pr_info(", until 'sipdrain resume'\n");
	}
	if (!d.json && !sd_snapshot_take(&snap, true))
		horizon_lines(&snap);
	warn_no_responder();
	if (!d.wait)
		return SD_EXIT_OK;
	return wait_offline(d.json);
}

int cmd_resume(int argc, char **argv)
{
	struct resume_opts ro = { 0 };
	const struct sd_opt_group groups[] = { { resume_options, &ro }, { 0 } };
	struct sd_config cfg, prev;
	struct stopped_byes sb;
	int first, fd;
	double was;

	first = sd_opts_parse(argc, argv, &resume_usage, groups);
	if (first < 0)
		return SD_EXIT_USAGE;
	if (first < argc) {
		pr_warn("resume: unexpected argument '%s'\n", argv[first]);
		return SD_EXIT_USAGE;
	}
	fd = load_config(&cfg);
	if (fd < 0)
		return SD_EXIT_ERR;
	prev = cfg;
	was = state_seconds(&prev, sd_now_ns());
	sb = stopped_byes(&prev);
	if (cfg.state == SD_SERVING) {
		sd_config_end(fd, lock_fd, NULL);
	} else {
		cfg.state = SD_SERVING;
		cfg.allow_mask = 0;
		cfg.drain_started_ns = 0;
		cfg.deadline_ns = 0;
		cfg.offline_ns = 0;
		cfg.offline_reason = SD_OR_NONE;
		cfg.calls_cut = 0;
		cfg.flags = 0;
		memset(cfg.on_offline, 0, sizeof(cfg.on_offline));
		sd_config_stamp(&cfg);
		if (store_config(&cfg, fd))
			return SD_EXIT_ERR;
	}
	if (ro.json) {
		printf("{\"command\":\"resume\",\"result\":\"%s\",\"previous_state\":\"%s\","
		       "\"state\":\"serving\",\"previous_state_seconds\":",
		       prev.state == SD_SERVING ? "unchanged" : "resumed", sd_state_name(prev.state));
		if (prev.state == SD_SERVING || was < 0)
			printf("null");
		else
			printf("%.3f", was);
		json_stopped_byes(sb);
		printf("}\n");
	} else if (prev.state == SD_SERVING) {
		pr_info("already serving\n");
	} else if (prev.state == SD_OFFLINE && prev.offline_reason == SD_OR_DEADLINE) {
		pr_info("serving (was offline for %.0f s; its deadline had cut %u call%s)\n",
			was < 0 ? 0 : was, prev.calls_cut, prev.calls_cut == 1 ? "" : "s");
	} else {
		pr_info("serving (was %s for %.0f s)\n", sd_state_name(prev.state), was < 0 ? 0 : was);
	}
	if (!ro.json)
		say_stopped_byes(&prev, sb);
	return SD_EXIT_OK;
}
