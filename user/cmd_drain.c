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
#include "log.h"
#include "responder.h"
#include "snapshot.h"

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
};

/* --retry-jitter is long only: -j is status's --json. */
static const struct sd_opt drain_options[] = {
	{ .name = "deadline", .letter = 'D', .type = SD_OPT_DURATION, .arg = "DURATION",
	  SD_OPT_FIELD(struct drain_opts, deadline_ns),
	  .help = "a whole number with a unit ms, s, m, h or d (none: seconds), up to 7 days; e.g. 90s, 10m, 1h" },
	{ .name = "retry-after", .letter = 'r', .type = SD_OPT_UINT, .arg = "N|auto",
	  SD_OPT_FIELD(struct drain_opts, retry_after), .min = 0, .max = 86400,
	  .words = (const struct sd_opt_word[]){ { "auto", RETRY_AUTO }, { 0 } },
	  .help = "Retry-After of the 503 (default 300; auto: the seconds left until "
		  "the deadline)" },
	{ .name = "retry-jitter", .type = SD_OPT_UINT, .arg = "N",
	  SD_OPT_FIELD(struct drain_opts, retry_jitter), .min = 0, .max = 86400,
	  .help = "add a random 0..N seconds to each Retry-After" },
	{ .name = "allow", .letter = 'a', .type = SD_OPT_METHOD, .arg = "METHOD",
	  SD_OPT_FIELD(struct drain_opts, allow),
	  .help = "also let this out-of-dialog method through (repeatable; e.g. "
		  "REGISTER, OPTIONS)" },
	{ .name = "wait", .letter = 'w', .type = SD_OPT_FLAG,
	  SD_OPT_FIELD(struct drain_opts, wait),
	  .help = "block until OFFLINE, showing progress; exit 0 when no call was left, "
		  "3 when the deadline cut calls (or may have: calls older than the gate "
		  "are invisible until they send), 1 on error" },
	{ .name = "exec-on-offline", .letter = 'x', .type = SD_OPT_STRING, .arg = "CMD",
	  SD_OPT_FIELD(struct drain_opts, hook),
	  .max = sizeof(((struct sd_config *)0)->on_offline) - 1,
	  .help = "run CMD (sh -c) once when the node goes offline; SIPDRAIN_REASON and "
		  "SIPDRAIN_CALLS_CUT are set" },
	{ .name = "no-early-offline", .letter = 'n', .type = SD_OPT_FLAG,
	  SD_OPT_FIELD(struct drain_opts, no_early),
	  .help = "stay DRAINING until the deadline even when no call is left" },
	{ .name = "min-watch", .letter = 'W', .type = SD_OPT_DURATION, .arg = "DURATION",
	  SD_OPT_FIELD(struct drain_opts, min_watch_ns), .words = sd_opt_off,
	  SD_OPT_SEEN(struct drain_opts, min_watch_set),
	  .help = "early offline only once the gate has watched the server this long "
		  "(a call older than the gate that sends nothing is invisible); changes "
		  "the gate's setting (default 2h; 0: off)" },
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
	"lasts until 'sipdrain resume'.\n",
	.epilogue = "Example: sipdrain drain --deadline 10m --retry-after auto --wait\n",
};

static const struct sd_usage resume_usage = {
	.cmd = "resume",
	.text = "Cancel a drain (or bring an offline node back): SERVING again.\n",
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
static int wait_offline(void)
{
	bool tty = isatty(STDERR_FILENO);
	struct sd_snapshot s;
	__u64 last_log = 0;
	char line[256];
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
				s.cfg.state < SD_STATE_MAX ? sd_state_names[s.cfg.state] : "unknown");
			return SD_EXIT_ERR;
		}
		progress_line(&s, line, sizeof(line));
		if (tty) {
			fprintf(stderr, "\r\033[K%s", line);
		} else if (s.mono_ns - last_log >= 5000000000ULL) {
			fprintf(stderr, "%s\n", line);
			last_log = s.mono_ns;
		}
		usleep(200000);
	}
	if (tty)
		fputc('\n', stderr);
	if (s.cfg.offline_reason == SD_OR_DEADLINE && s.cfg.calls_cut) {
		printf("offline: the deadline cut %u call%s%s\n", s.cfg.calls_cut,
		       s.cfg.calls_cut == 1 ? "" : "s", s.cfg.flags & SD_CF_UNSEEN_CUT ?
		       ", and any call older than the gate that stayed silent" : "");
		return 3;
	}
	if (s.cfg.offline_reason == SD_OR_DEADLINE && (s.cfg.flags & SD_CF_UNSEEN_CUT)) {
		printf("offline: the deadline cut 0 calls the gate knows; it had watched for %.0f s, "
		       "so calls older than the gate that stayed silent may have been cut\n",
		       s.cfg.offline_ns > s.meta.watch_start_ns ?
		       (s.cfg.offline_ns - s.meta.watch_start_ns) / 1e9 : 0.0);
		return 3;
	}
	printf("offline: no call was left (%s, %.1f s after the drain began)\n",
	       s.cfg.offline_reason == SD_OR_DEADLINE ? "deadline" : "last call ended",
	       (s.cfg.offline_ns - s.cfg.drain_started_ns) / 1e9);
	return SD_EXIT_OK;
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

int cmd_drain(int argc, char **argv)
{
	struct drain_opts d = { .retry_after = SD_DEFAULT_RETRY_AFTER };
	const struct sd_opt_group groups[] = { { drain_options, &d }, { 0 } };
	bool retry_auto;
	struct sd_snapshot snap;
	struct sd_config cfg;
	int first, fd;

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
	if (!d.deadline_ns && (retry_auto || d.wait || d.no_early || d.hook)) {
		pr_warn("drain: --retry-after auto, --wait, --exec-on-offline and --no-early-offline need --deadline\n");
		return SD_EXIT_USAGE;
	}
	fd = load_config(&cfg);
	if (fd < 0)
		return SD_EXIT_ERR;
	if (cfg.state != SD_DRAINING)
		cfg.drain_started_ns = sd_now_ns();
	cfg.state = SD_DRAINING;
	cfg.retry_after = d.retry_after;
	cfg.retry_jitter = d.retry_jitter;
	cfg.allow_mask = d.allow;
	cfg.deadline_ns = d.deadline_ns ? sd_now_ns() + d.deadline_ns : 0;
	cfg.flags = (retry_auto ? SD_CF_RETRY_AUTO : 0) | (d.no_early ? SD_CF_NO_EARLY_OFFLINE : 0);
	cfg.offline_ns = 0;
	cfg.offline_reason = SD_OR_NONE;
	cfg.calls_cut = 0;
	memset(cfg.on_offline, 0, sizeof(cfg.on_offline));
	if (d.hook)
		strcpy(cfg.on_offline, d.hook);
	if (d.min_watch_set)
		cfg.min_watch_ns = d.min_watch_ns;
	if (store_config(&cfg, fd))
		return SD_EXIT_ERR;
	pr_info("draining: new calls get 503 (Retry-After: ");
	if (retry_auto)
		pr_info("seconds left to the deadline)");
	else
		pr_info("%u)", d.retry_after);
	if (d.deadline_ns)
		pr_info(", offline in %.0f s at the latest%s\n", d.deadline_ns / 1e9,
			d.no_early ? "" : " (earlier when the last call ends)");
	else
		pr_info(", until 'sipdrain resume'\n");
	if (!sd_snapshot_take(&snap, true))
		horizon_lines(&snap);
	warn_no_responder();
	if (!d.wait)
		return SD_EXIT_OK;
	return wait_offline();
}

int cmd_resume(int argc, char **argv)
{
	struct sd_config cfg;
	int first, fd;

	first = sd_opts_parse(argc, argv, &resume_usage, NULL);
	if (first < 0)
		return SD_EXIT_USAGE;
	if (first < argc) {
		pr_warn("resume: unexpected argument '%s'\n", argv[first]);
		return SD_EXIT_USAGE;
	}
	fd = load_config(&cfg);
	if (fd < 0)
		return SD_EXIT_ERR;
	cfg.state = SD_SERVING;
	cfg.allow_mask = 0;
	cfg.drain_started_ns = 0;
	cfg.deadline_ns = 0;
	cfg.offline_ns = 0;
	cfg.offline_reason = SD_OR_NONE;
	cfg.calls_cut = 0;
	cfg.flags = 0;
	memset(cfg.on_offline, 0, sizeof(cfg.on_offline));
	if (store_config(&cfg, fd))
		return SD_EXIT_ERR;
	pr_info("serving\n");
	return SD_EXIT_OK;
}
