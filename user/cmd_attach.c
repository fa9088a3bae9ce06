// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain attach / detach */
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <xdp/libxdp.h>

#include "attach.h"
#include "cli.h"
#include "gate.h"
#include "log.h"

static const char attach_usage[] =
	"Usage: sipdrain attach IFACE... [--port N]... [--mode native|skb] [--max-dialogs N]\n"
	"\n"
	"Load the gate once and attach it to each interface (libxdp: its\n"
	"dispatcher where the kernel allows it, the program alone otherwise).\n"
	"Program and maps are pinned under " SD_PIN_DIR " (or --pin-dir); all\n"
	"interfaces"
	" share one state and one set of counters.  The gate starts SERVING.\n"
	"\n"
	"  -p, --port N          UDP port of the SIP server (repeatable, default 5060, at most 8)\n"
	"  -m, --mode MODE       native or skb (default: native, else skb)\n"
	"  -d, --max-dialogs N   size of the dialog table (default 262144)\n"
	"  -I, --dialog-idle DURATION  a call silent this long has ended (default 2h)\n"
	"  -r, --reply-rate PPS  503s per second per source address (IPv6: per /64)\n"
	"                        before the gate drops instead of answering\n"
	"                        (default 1000; 0 or off: no limit)\n"
	"  -b, --reply-burst N   burst above that rate (default 2 x rate)\n"
	"  -P, --peer-window DURATION  a source the server answered with a final\n"
	"                        response is a known peer this long: its 503s are\n"
	"                        not limited per source (default 24h; 0: none)\n"
	"  -T, --tcp-port N      SIP over TCP/TLS port (repeatable, e.g. 5060, 5061):\n"
	"                        while draining, new connections get a RST at once\n"
	"  -W, --min-watch DURATION  early offline ('the last call ended') only after\n"
	"                        the gate has watched the server this long: a call\n"
	"                        older than the gate that sends nothing is invisible\n"
	"                        (default 2h; 0: off, e.g. when attached before the\n"
	"                        server took its first call)\n"
	"  -h, --help            this text\n"
	"\n"
	"Example: sipdrain attach eth0 --port 5060 --port 5080\n";

static const char detach_usage[] =
	"Usage: sipdrain detach [IFACE...]\n"
	"\n"
	"Detach the gate from the interfaces named (default: all).  With the\n"
	"last interface the pins under " SD_PIN_DIR " are removed, and with them\n"
	"the drain and what the gate knows of calls.  Traffic then reaches the\n"
	"server untouched.  Stopping 'sipdrain run' does not detach: this does.\n"
	"It also takes off a gate attached by an incompatible sipdrain build.\n";

/* Options attach and run share; returns 0, or an exit code. */
int sd_parse_attach_opt(int opt, struct sd_attach_opts *o, __u16 *ports)
{
	unsigned long v;

	switch (opt) {
	case 'p':
		return sd_add_port(ports, &o->nports, optarg) ? 0 : SD_EXIT_USAGE;
	case 'm':
		if (!strcmp(optarg, "native")) {
			o->mode = XDP_MODE_NATIVE;
		} else if (!strcmp(optarg, "skb")) {
			o->mode = XDP_MODE_SKB;
		} else {
			pr_warn("invalid mode '%s' (native or skb)\n", optarg);
			return SD_EXIT_USAGE;
		}
		return 0;
	case 'd':
		if (!sd_parse_uint("max-dialogs", optarg, 1024, 1U << 24, &v))
			return SD_EXIT_USAGE;
		o->max_dialogs = v;
		return 0;
	case 'T':
		return sd_add_port(o->tcp_ports, &o->ntcp_ports, optarg) ? 0 : SD_EXIT_USAGE;
	case 'r':
		if (!strcmp(optarg, "0") || !strcmp(optarg, "off")) {
			o->no_reply_limit = true;
			return 0;
		}
		if (!sd_parse_uint("reply-rate", optarg, 1, 10000000, &v))
			return SD_EXIT_USAGE;
		o->reply_rate = v;
		return 0;
	case 'b':
		if (!sd_parse_uint("reply-burst", optarg, 1, 100000000, &v))
			return SD_EXIT_USAGE;
		o->reply_burst = v;
		return 0;
	case 'W':
		if (!sd_parse_min_watch(optarg, &o->min_watch_ns))
			return SD_EXIT_USAGE;
		o->min_watch_set = true;
		return 0;
	case 'P':
		if (!strcmp(optarg, "0") || !strcmp(optarg, "off")) {
			o->peer_window_ns = 0;
		} else if (!(o->peer_window_ns = sd_parse_duration(optarg))) {
			pr_warn("invalid peer-window '%s' (a duration up to 7 days, e.g. 24h, or 0: "
				"no known peers)\n", optarg);
			return SD_EXIT_USAGE;
		}
		o->peer_window_set = true;
		return 0;
	case 'I': {
		__u64 ns = sd_parse_duration(optarg);

		if (ns < 60000000000ULL) {
			pr_warn("invalid dialog-idle '%s' (a duration of 1 minute to 7 days, e.g. 2h)\n",
				optarg);
			return SD_EXIT_USAGE;
		}
		o->dialog_idle_s = ns / 1000000000ULL;
		return 0;
	}
	}
	return SD_EXIT_USAGE;
}

/* The IFACE... operands of attach and run: 0, or an exit code after one
 * line. */
int sd_take_ifaces(int argc, char **argv, const char *cmd, struct sd_attach_opts *o)
{
	if (optind >= argc) {
		pr_warn("%s: name at least one interface (see 'sipdrain %s --help')\n", cmd, cmd);
		return SD_EXIT_USAGE;
	}
	if (argc - optind > SD_MAX_IFACES) {
		pr_warn("at most %d interfaces\n", SD_MAX_IFACES);
		return SD_EXIT_USAGE;
	}
	o->ifnames = argv + optind;
	o->nifaces = argc - optind;
	for (int i = 0; i < o->nifaces; i++)
		if (!if_nametoindex(o->ifnames[i])) {
			pr_warn("no such interface: %s\n", o->ifnames[i]);
			return SD_EXIT_ERR;
		}
	return 0;
}

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		SD_ATTACH_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct sd_attach_opts o = { .mode = XDP_MODE_UNSPEC };
	__u16 ports[SD_MAX_PORTS];
	int opt, rc;

	o.ports = ports;
	while ((opt = sd_getopt(argc, argv, SD_ATTACH_SHORTOPTS "h", opts, attach_usage)) != -1)
		if ((rc = sd_parse_attach_opt(opt, &o, ports)))
			return rc;
	if ((rc = sd_take_ifaces(argc, argv, "attach", &o)))
		return rc;
	if (sd_require_root())
		return SD_EXIT_ERR;
	return sd_attach(&o) ? SD_EXIT_ERR : SD_EXIT_OK;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};

	while (sd_getopt(argc, argv, "h", opts, detach_usage) != -1)
		;
	if (sd_require_root())
		return SD_EXIT_ERR;
	return sd_detach(argv + optind, argc - optind) ? SD_EXIT_ERR : SD_EXIT_OK;
}
