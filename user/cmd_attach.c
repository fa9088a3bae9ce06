// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain attach / detach */
#include <stdio.h>
#include <net/if.h>
#include <xdp/libxdp.h>

#include "attach.h"
#include "cli.h"
#include "gate.h"
#include "log.h"

/* The options attach and run share.  -r and -P are long only: drain has
 * -r (--retry-after), classify -P (--pcap). */
const struct sd_opt sd_attach_options[] = {
	{ .name = "port", .letter = 'p', .type = SD_OPT_PORT, .arg = "N",
	  SD_OPT_FIELD(struct sd_attach_opts, ports),
	  .help = "UDP port of the SIP server (repeatable, default 5060, at most 8)" },
	{ .name = "mode", .letter = 'm', .type = SD_OPT_ENUM, .arg = "MODE",
	  SD_OPT_FIELD(struct sd_attach_opts, mode),
	  .words = (const struct sd_opt_word[]){ { "native", XDP_MODE_NATIVE },
						 { "skb", XDP_MODE_SKB }, { 0 } },
	  .help = "native or skb (default: native, else skb)" },
	{ .name = "max-dialogs", .letter = 'd', .type = SD_OPT_UINT, .arg = "N",
	  SD_OPT_FIELD(struct sd_attach_opts, max_dialogs), .min = 1024, .max = 1U << 24,
	  .help = "size of the dialog table (default 262144)" },
	{ .name = "dialog-idle", .letter = 'I', .type = SD_OPT_DURATION, .arg = "DURATION",
	  SD_OPT_FIELD(struct sd_attach_opts, dialog_idle_ns), .min = 60000000000ULL,
	  .help = "a call silent this long has ended (default 2h, at least 1m)" },
	{ .name = "reply-rate", .type = SD_OPT_UINT, .arg = "PPS",
	  SD_OPT_FIELD(struct sd_attach_opts, reply_rate), .min = 1, .max = 10000000,
	  SD_OPT_SEEN(struct sd_attach_opts, reply_rate_set), .words = sd_opt_off,
	  .help = "503s per second per source address (IPv6: per /64) before the gate "
		  "drops instead of answering (default 1000; 0 or off: no limit)" },
	{ .name = "reply-burst", .letter = 'b', .type = SD_OPT_UINT, .arg = "N",
	  SD_OPT_FIELD(struct sd_attach_opts, reply_burst), .min = 1, .max = 100000000,
	  .help = "burst above that rate (default 2 x rate)" },
	{ .name = "peer-window", .type = SD_OPT_DURATION, .arg = "DURATION",
	  SD_OPT_FIELD(struct sd_attach_opts, peer_window_ns), .words = sd_opt_off,
	  SD_OPT_SEEN(struct sd_attach_opts, peer_window_set),
	  .help = "an address the server answered with a 2xx, or sent a call's ACK to, is a known peer "
		  "this long: its 503s are not limited per source (default 24h; 0: none); "
		  "given to a run that adopts a gate, it changes that gate's setting" },
	{ .name = "tcp-port", .letter = 'T', .type = SD_OPT_PORT, .arg = "N",
	  SD_OPT_FIELD(struct sd_attach_opts, tcp_ports),
	  .help = "SIP over TCP/TLS port (repeatable, e.g. 5060, 5061): while draining, "
		  "new connections get a RST at once" },
	{ .name = "min-watch", .letter = 'W', .type = SD_OPT_DURATION, .arg = "DURATION",
	  SD_OPT_FIELD(struct sd_attach_opts, min_watch_ns), .words = sd_opt_off,
	  SD_OPT_SEEN(struct sd_attach_opts, min_watch_set),
	  .help = "early offline ('the last call ended') only after the gate has watched "
		  "the server this long: a call older than the gate that sends nothing is "
		  "invisible (default 2h; 0: off, e.g. when attached before the server took "
		  "its first call); given to a run that adopts a gate, it changes that "
		  "gate's setting" },
	{ 0 }
};

static const struct sd_usage attach_usage = {
	.cmd = "attach",
	.operands = "IFACE...",
	.text =
	"Load the gate once and attach it to each interface (libxdp: its\n"
	"dispatcher where the kernel allows it, the program alone otherwise).\n"
	"Program and maps are pinned under " SD_PIN_DIR " (or --pin-dir); all\n"
	"interfaces"
	" share one state and one set of counters.  The gate starts SERVING.\n",
	.epilogue = "Example: sipdrain attach eth0 --port 5060 --port 5080\n",
};

static const struct sd_usage detach_usage = {
	.cmd = "detach",
	.operands = "[IFACE...]",
	.text =
	"Detach the gate from the interfaces named (default: all).  With the\n"
	"last interface the pins under " SD_PIN_DIR " are removed, and with them\n"
	"the drain and what the gate knows of calls.  Traffic then reaches the\n"
	"server untouched.  Stopping 'sipdrain run' does not detach: this does.\n"
	"It also takes off a gate attached by an incompatible sipdrain build.\n",
};

/* The IFACE... operands of attach and run: 0, or an exit code after one
 * line. */
int sd_take_ifaces(int argc, char **argv, int first, const char *cmd, struct sd_attach_opts *o)
{
	if (first >= argc) {
		pr_warn("%s: name at least one interface (see 'sipdrain %s --help')\n", cmd, cmd);
		return SD_EXIT_USAGE;
	}
	if (argc - first > SD_MAX_IFACES) {
		pr_warn("at most %d interfaces\n", SD_MAX_IFACES);
		return SD_EXIT_USAGE;
	}
	o->ifnames = argv + first;
	o->nifaces = argc - first;
	for (int i = 0; i < o->nifaces; i++)
		if (!if_nametoindex(o->ifnames[i])) {
			pr_warn("no such interface: %s\n", o->ifnames[i]);
			return SD_EXIT_ERR;
		}
	return 0;
}

int cmd_attach(int argc, char **argv)
{
	struct sd_attach_opts o = { .mode = XDP_MODE_UNSPEC };
	const struct sd_opt_group groups[] = { { sd_attach_options, &o }, { 0 } };
	int first, rc;

	first = sd_opts_parse(argc, argv, &attach_usage, groups);
	if (first < 0)
		return SD_EXIT_USAGE;
	if ((rc = sd_take_ifaces(argc, argv, first, "attach", &o)))
		return rc;
	if (sd_require_root())
		return SD_EXIT_ERR;
	return sd_attach(&o) ? SD_EXIT_ERR : SD_EXIT_OK;
}

int cmd_detach(int argc, char **argv)
{
	int first = sd_opts_parse(argc, argv, &detach_usage, NULL);

	if (first < 0)
		return SD_EXIT_USAGE;
	if (sd_require_root())
		return SD_EXIT_ERR;
	return sd_detach(argv + first, argc - first) ? SD_EXIT_ERR : SD_EXIT_OK;
}
