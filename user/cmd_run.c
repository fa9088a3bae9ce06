// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain run: the long-running process.  Attaches the gate (or adopts
 * one already attached) and answers what it redirects with 503s over
 * AF_XDP.  Foreground, logs to stderr.  Stopping it leaves the gate and
 * its pinned state (the drain, the calls it knows) for the next `run`:
 * only `detach` takes the gate off.  A stop during a drain finishes the
 * drain first; a second signal exits at once. */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>

#include "attach.h"
#include "audit.h"
#include "byes.h"
#include "details.h"
#include "cli.h"
#include "gate.h"
#include "log.h"
#include "responder.h"
#include "addrs.h"
#include "agent.h"
#include "http.h"
#include "snapshot.h"
#include "notify.h"

struct run_opts {
	bool detach_on_exit;
	const char *reason, *server, *metrics;
	__u32 coalesce_us;
};

/* After sd_attach_options, which run shares with attach. */
static const struct sd_opt run_options[] = {
	{ .name = "detach-on-exit", .type = SD_OPT_FLAG,
	  SD_OPT_FIELD(struct run_opts, detach_on_exit),
	  .help = "take the gate off when this process stops while serving (never "
		  "draining or offline)" },
	{ .name = "keep-on-exit", .letter = 'k', .type = SD_OPT_FLAG,
	  .help = "the default: leave the gate attached (for older scripts)" },
	{ .name = "reason", .letter = 'R', .type = SD_OPT_TEXT, .arg = "TEXT", .max = 200,
	  SD_OPT_FIELD(struct run_opts, reason),
	  .help = "add 'Reason: SIP;cause=503;text=\"TEXT\"'" },
	{ .name = "server", .letter = 'S', .type = SD_OPT_TEXT, .arg = "TEXT", .max = 200,
	  SD_OPT_FIELD(struct run_opts, server),
	  .help = "add 'Server: TEXT' (none by default); the two texts together at most "
		  "63 characters (a 503 may exceed its request by 256 bytes, no more)" },
	{ .name = "metrics", .letter = 'M', .type = SD_OPT_STRING, .arg = "ADDR:PORT",
	  SD_OPT_FIELD(struct run_opts, metrics),
	  .help = "serve Prometheus metrics at http://ADDR:PORT/metrics, readiness at "
		  "/ready, health at /healthz (a bare PORT listens on 127.0.0.1)" },
	{ .name = "coalesce-us", .letter = 'c', .type = SD_OPT_UINT, .arg = "N",
	  SD_OPT_FIELD(struct run_opts, coalesce_us), .min = 0, .max = 100000,
	  .help = "after a small batch wait N microseconds so that replies share wakeups "
		  "and TX kicks (default 500, 0 to answer each frame at once)" },
	{ 0 }
};

static const struct sd_usage run_usage = {
	.cmd = "run",
	.operands = "IFACE...",
	.text =
	"Attach the gate to the interfaces (or adopt the gate already attached\n"
	"to them) and run the 503 responder: one AF_XDP socket per RX queue,\n"
	"zero-copy where the driver has it, copy mode otherwise.  Requests the\n"
	"gate refuses (see 'sipdrain drain') are answered 503 Service Unavailable\n"
	"from the server's address and port; the server never sees them.\n"
	"Runs in the foreground until SIGINT/SIGTERM.  Stopping keeps the gate\n"
	"attached with its pins (the drain, its deadline, the calls it knows), so\n"
	"that a restart or an upgrade adopts them; without a responder refused\n"
	"requests reach the server (fail-open, counted as redirect_fallback).\n"
	"While a drain runs, a stop first finishes it: 503s go on until the node\n"
	"is offline (last call or deadline); a second signal exits at once.\n"
	"'sipdrain detach' takes the gate off.\n",
	.epilogue = "Example: sipdrain run eth0 --reason \"node maintenance\"\n",
};

static volatile sig_atomic_t signals;

static void on_signal(int sig)
{
	(void)sig;
	signals++;
}

/* Reason and Server together must leave every reply within the bound a
 * reflector keeps, or most requests would pass to the server unanswered
 * (SD_R_TOO_BIG): refused here rather than found out during a drain. */
static bool texts_fit(const char *reason, const char *server)
{
	struct sd_reply_opts o = { .reason = reason, .server = server };
	struct sd_reply_opts bare = { .reason = reason ? "" : NULL, .server = server ? "" : NULL };
	size_t worst = sd_reply_worst_growth(&o), room;

	if (worst <= SD_REPLY_MAX_GROWTH)
		return true;
	room = SD_REPLY_MAX_GROWTH - sd_reply_worst_growth(&bare);
	pr_warn("invalid %s: a 503 could exceed its request by %zu bytes, %zu more than the %d "
		"allowed; %s at most %zu characters\n",
		reason && server ? "reason and server" : reason ? "reason" : "server",
		worst, worst - SD_REPLY_MAX_GROWTH, SD_REPLY_MAX_GROWTH,
		reason && server ? "the two texts together may be" : "the text may be", room);
	return false;
}

/* The attached gate (of this build's layout) covers every interface
 * named?  --min-watch given: it becomes the gate's. */
static int check_adopt(const struct sd_attach_opts *o)
{
	char **ifnames = o->ifnames;
	int n = o->nifaces;
	struct sd_config cfg;
	bool change;
	int fd, err, lock;

	fd = sd_config_begin(&cfg, &lock);
	if (fd < 0)
		return fd;
	change = (o->min_watch_set && cfg.min_watch_ns != o->min_watch_ns) ||
		 (o->peer_window_set && cfg.peer_window_ns != o->peer_window_ns);
	if (o->min_watch_set)
		cfg.min_watch_ns = o->min_watch_ns;
	if (o->peer_window_set)
		cfg.peer_window_ns = o->peer_window_ns;
	err = sd_config_end(fd, lock, change ? &cfg : NULL);
	if (err)
		return err;
	for (int i = 0; i < n; i++) {
		__u32 idx = if_nametoindex(ifnames[i]);
		int s;

		for (s = 0; s < SD_MAX_IFACES; s++)
			if (idx && cfg.ifindex[s] == idx)
				break;
		if (s == SD_MAX_IFACES) {
			pr_warn("%s: the attached gate does not cover it; 'sipdrain detach' first\n",
				ifnames[i]);
			return -ENOENT;
		}
	}
	return 0;
}

/* The server's addresses, read again on every netlink address event
 * and at least this often (events can be lost). */
#define ADDRS_RESYNC_S 10

static void sync_addrs(int fd)
{
	static int last = -1;
	int n = sd_addrs_sync(fd);

	if (n < 0)
		pr_warn("cannot update the server's addresses: %s\n", strerror(-n));
	else if (n != last)
		pr_debug("the server has %d addresses (requests to others pass the gate)\n", n);
	if (n == 0 && last != 0)
		pr_warn("the server has no address: every refused request passes to it\n");
	last = n;
}

/* A stop waits for this: a drain on, or the BYEs at its deadline. */
static bool drain_on(const volatile struct sd_config *c)
{
	return c->state == SD_DRAINING || (c->state == SD_OFFLINE && (c->flags & SD_CF_BYE_PENDING));
}

int cmd_run(int argc, char **argv)
{
	struct sd_attach_opts o = { .mode = XDP_MODE_UNSPEC };
	struct run_opts ro = { .coalesce_us = 500 };
	const struct sd_opt_group groups[] = {
		{ sd_attach_options, &o }, { run_options, &ro }, { 0 }
	};
	static struct sd_responder_ctx r;
	struct sigaction sa = { .sa_handler = on_signal };
	bool adopted, finishing = false;
	struct sd_audit audit;
	/* the maps run reads every second, opened once after their layout
	 * was checked: pins replaced later (detach, another build's attach)
	 * are never read through these */
	int calls_fd = -1, meta_fd = -1, cnt_fd = -1, att_fd = -1, details_fd = -1;
	struct sd_details_reader *details = NULL;
	struct sd_byes *byes = NULL;
	struct sd_http *http = NULL;
	struct timespec last_agent = { 0 };
	struct sd_snapshot switched;    /* the agent's switch to offline */
	struct sd_config last_cfg;
	bool pins_lost = false;
	int first, rc, err;
	struct timespec last = { 0 }, now, last_sweep = { 0 }, last_addrs = { 0 };
	int addrs_fd = -1, nl_fd = -1;

	first = sd_opts_parse(argc, argv, &run_usage, groups);
	if (first < 0)
		return SD_EXIT_USAGE;
	if (!texts_fit(ro.reason, ro.server))
		return SD_EXIT_USAGE;
	if (ro.metrics && !sd_http_spec_valid(ro.metrics))
		return SD_EXIT_USAGE;
	if ((rc = sd_take_ifaces(argc, argv, first, "run", &o)))
		return rc;
	if (sd_require_root())
		return SD_EXIT_ERR;
	sd_log_stamp_auto();            /* a service's log: each line says when */

	if (ro.metrics) {        /* before attaching: nothing to undo if it fails */
		http = sd_http_start(ro.metrics);
		if (!http)
			return SD_EXIT_ERR;
	}
	adopted = sd_is_attached();
	err = adopted ? check_adopt(&o) : sd_attach(&o);
	if (err) {
		sd_http_stop(http);
		return SD_EXIT_ERR;
	}
	if (adopted)
		pr_info("adopting the gate attached under %s\n", sd_pin_dir);
	calls_fd = sd_pinned_map_fd(SD_STR(SD_MAP_CALLS));
	meta_fd = sd_pinned_map_fd(SD_STR(SD_MAP_META));
	cnt_fd = sd_pinned_map_fd(SD_STR(SD_MAP_COUNTERS));
	att_fd = sd_pinned_map_fd(SD_STR(SD_MAP_ATTEMPTS));
	details_fd = sd_pinned_map_fd(SD_STR(SD_MAP_DETAILS));

	addrs_fd = sd_pinned_map_fd(SD_STR(SD_MAP_ADDRS));
	nl_fd = sd_addrs_watch();
	if (nl_fd < 0)
		pr_warn("cannot follow address changes (netlink: %s): the server's addresses are "
			"read again every %d s\n", strerror(-nl_fd), ADDRS_RESYNC_S);
	if (addrs_fd >= 0)
		sync_addrs(addrs_fd);
	err = sd_responder_open(&r, ro.reason, ro.server);
	r.coalesce_us = ro.coalesce_us;
	if (!err) {
		/* the BYEs at the deadline: their answers come through the
		 * data path thread */
		byes = sd_byes_new(&r.st->c, r.cfg);
		r.bye_response = byes ? sd_byes_response : NULL;
		r.bye_ctx = byes;
		sd_agent_sends_byes = byes != NULL;
		err = sd_responder_start(&r);
	}
	if (err) {
		sd_responder_close(&r);
		sd_byes_free(byes);
		sd_http_stop(http);
		if (!adopted)
			sd_detach(NULL, 0);
		return SD_EXIT_ERR;
	}
	/* the calls' details for a BYE at the deadline: without them the
	 * gate works as before, and the deadline can only refuse */
	details = sd_details_start(&r.st->c);
	if (!details)
		pr_warn("calls set up from now on cannot be ended with BYE at the deadline\n");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);       /* the on-offline hook is never waited for */
	pr_info("responder running (pid %d)\n", getpid());
	sd_audit_start(&audit, r.cfg, meta_fd, cnt_fd, adopted);
	notify_ready(&r);        /* systemd: attached, every queue bound */
	/* a run stopped while the deadline's BYEs went on: they go on here
	 * (the calls answered meanwhile have left the table) */
	if (r.cfg->state == SD_OFFLINE && (r.cfg->flags & SD_CF_BYE_PENDING) && byes)
		sd_byes_start(byes);

	for (;;) {
		if (signals && !finishing) {
			if (signals > 1 || pins_lost || !drain_on(r.cfg))
				break;
			/* the server's preStop drain may still run: a sidecar
			 * that left now would let new calls in */
			finishing = true;
			notify_stopping("stopping once the drain is over (503s go on until offline); "
					"a second signal exits at once");
			if (r.cfg->deadline_ns) {
				double left = ((double)r.cfg->deadline_ns - (double)sd_now_ns()) / 1e9;

				pr_info("stop requested during a drain: finishing it first (503s go on "
					"until the node is offline: the last call, or the deadline in "
					"%.0f s at most); a second signal exits at once\n", left > 0 ? left : 0);
			} else {
				pr_info("stop requested during a drain without deadline: 503s go on "
					"until 'sipdrain resume' or offline; a second signal exits at once\n");
			}
		}
		if (finishing && (signals > 1 || pins_lost || !drain_on(r.cfg))) {
			if (signals > 1)
				pr_info("second signal: exiting now, the drain goes on without a responder\n");
			else if (pins_lost)
				pr_info("the pins are gone: nobody can end the drain, exiting\n");
			else
				pr_info("the drain is over (state %s): exiting\n",
					sd_state_name(r.cfg->state));
			break;
		}
		/* the control plane: the data path has its own thread, HTTP
		 * its own (libmicrohttpd) */
		{
			struct pollfd pfd[1] = { { .fd = nl_fd, .events = POLLIN } };

			poll(pfd, 1, 100);
			if (nl_fd >= 0 && (pfd[0].revents & POLLIN) && sd_addrs_changed(nl_fd))
				last_addrs.tv_sec = 0;          /* read them now */
		}
		if (r.error) {
			err = r.error;
			break;
		}
		notify_tick(&r, finishing, pins_lost);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (addrs_fd >= 0 && !pins_lost &&
		    (now.tv_sec - last_addrs.tv_sec) >= (last_addrs.tv_sec ? ADDRS_RESYNC_S : 0)) {
			sync_addrs(addrs_fd);
			last_addrs = now;
		}
		if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >= 200) {
			last = now;
			/* the gate runs on without its pins, but nobody can see it */
			if (!pins_lost && !sd_is_attached()) {
				pins_lost = true;
				pr_warn("the pins under %s are gone (removed, or bpffs unmounted): the gate "
					"keeps enforcing until this process exits; status and drain cannot "
					"reach it\n", sd_pin_dir);
			}
			/* every change of the drain, whoever made it */
			if (!pins_lost)
				sd_audit_tick(&audit, r.cfg);
		}
		/* ended calls whose end the wire never showed (timeouts)
		 * leave the call table, a slice at a time */
		if (!pins_lost && (now.tv_sec - last_sweep.tv_sec) * 1000 +
		    (now.tv_nsec - last_sweep.tv_nsec) / 1000000 >= 1000) {
			if (calls_fd >= 0)
				sd_calls_sweep(calls_fd, (const struct sd_config *)r.cfg, 4096);
			/* and the details of calls the tables no longer hold */
			if (details_fd >= 0 && calls_fd >= 0 && att_fd >= 0)
				sd_details_sweep(details_fd, calls_fd, att_fd,
						 (const struct sd_config *)r.cfg, 4096);
			last_sweep = now;
		}
		/* the drain's clock: only while a deadline runs */
		if (!pins_lost && r.cfg->state == SD_DRAINING && r.cfg->deadline_ns &&
		    (now.tv_sec - last_agent.tv_sec) * 1000 +
		    (now.tv_nsec - last_agent.tv_nsec) / 1000000 >= 250) {
			/* its switch to offline, logged by the agent: the
			 * audit takes it in before any later change */
			if (sd_agent_tick(&switched) > 0) {
				sd_audit_tick(&audit, r.cfg);
				/* by what the switch wrote: a resume may already
				 * have cleared it, and start() says so */
				if (switched.cfg.flags & SD_CF_BYE_PENDING)
					sd_byes_start(byes);
			}
			last_agent = now;
		}
		/* the deadline's BYEs: retransmissions, the end */
		if (!pins_lost)
			sd_byes_tick(byes);
	}
	notify_stopping("stopping: the responder unbinds");
	pr_info("responder stopping: %llu replies sent\n", (unsigned long long)r.st->c.replies);
	sd_details_stop(details);
	sd_agent_sends_byes = false;
	sd_responder_stop(&r);
	sd_config_read(r.cfg, &last_cfg);
	sd_responder_close(&r);
	sd_byes_free(byes);             /* the data path is stopped: nobody calls it */
	if (addrs_fd >= 0)
		close(addrs_fd);
	if (nl_fd >= 0)
		close(nl_fd);
	for (int i = 0; i < 5; i++) {
		int fd = i == 0 ? calls_fd : i == 1 ? meta_fd : i == 2 ? cnt_fd : i == 3 ? att_fd :
			 details_fd;

		if (fd >= 0)
			close(fd);
	}
	sd_http_stop(http);
	if (!sd_is_attached()) {
		/* pins gone: nobody can reach the gate any more; take it off
		 * the interfaces we know rather than leave it unmanaged */
		sd_detach_config(&last_cfg);
		return SD_EXIT_OK;
	}
	/* never out of a drain or an offline node: the server would get
	 * new calls again */
	if (ro.detach_on_exit && last_cfg.state == SD_SERVING) {
		if (sd_detach(NULL, 0))
			return SD_EXIT_ERR;
	} else {
		pr_info("gate left attached with its state under %s (state %s); "
			"'sipdrain detach' takes it off\n", sd_pin_dir,
			sd_state_name(last_cfg.state));
	}
	return err < 0 ? SD_EXIT_ERR : SD_EXIT_OK;
}
