// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain attach / detach */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "cli.h"
#include "gate.h"
#include "log.h"
#include "sipdrain.skel.h"

static const char attach_usage[] =
	"Usage: sipdrain attach IFACE... [--port N]... [--mode native|skb] [--max-dialogs N]\n"
	"\n"
	"Load the gate once and attach it to each interface (libxdp: its\n"
	"dispatcher where the kernel allows it, the program alone otherwise).\n"
	"Program and maps are pinned under " SD_PIN_DIR "; all interfaces\n"
	"share one state and one set of counters.  The gate starts SERVING.\n"
	"\n"
	"  -p, --port N          UDP port of the SIP server (repeatable, default 5060, at most 8)\n"
	"  -m, --mode MODE       native or skb (default: native, else skb)\n"
	"  -d, --max-dialogs N   size of the dialog table (default 262144)\n"
	"  -h, --help            this text\n"
	"\n"
	"Example: sipdrain attach eth0 --port 5060 --port 5080\n";

static const char detach_usage[] =
	"Usage: sipdrain detach [IFACE...]\n"
	"\n"
	"Detach the gate from the interfaces named (default: all).  With the\n"
	"last interface the pins under " SD_PIN_DIR " are removed.  Traffic\n"
	"then reaches the server untouched.\n";

static const char *mode_name(enum xdp_attach_mode m)
{
	return m == XDP_MODE_NATIVE ? "native" : m == XDP_MODE_SKB ? "skb" :
	       m == XDP_MODE_HW ? "hw" : "unspec";
}

/* Find sipdrain's program among those libxdp sees on ifindex. */
static struct xdp_program *find_ours(struct xdp_multiprog *mp)
{
	struct xdp_program *p;

	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		return p && !strcmp(xdp_program__name(p), "sipdrain_xdp") ? p : NULL;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
		if (!strcmp(xdp_program__name(p), "sipdrain_xdp"))
			return p;
	return NULL;
}

static int detach_ifindex(int ifindex, const char *name)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	int err;

	if (libxdp_get_error(mp)) {
		pr_warn("%s: no XDP program found (already gone)\n", name);
		return 0;
	}
	p = find_ours(mp);
	if (!p) {
		pr_warn("%s: sipdrain's program is not attached (already gone)\n", name);
		xdp_multiprog__close(mp);
		return 0;
	}
	err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
	if (err)
		pr_warn("%s: cannot detach: %s\n", name, strerror(-err));
	xdp_multiprog__close(mp);
	return err;
}

/* Is any XDP program of ours on this interface already? */
static bool ours_attached(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	bool found;

	if (libxdp_get_error(mp))
		return false;
	found = find_ours(mp) != NULL;
	xdp_multiprog__close(mp);
	return found;
}

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "max-dialogs", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct sd_config cfg = { .retry_after = SD_DEFAULT_RETRY_AFTER };
	enum xdp_attach_mode mode = XDP_MODE_UNSPEC;
	int ifindex[SD_MAX_IFACES], n_if = 0, attached = 0, opt, err;
	const char *ifname[SD_MAX_IFACES];
	unsigned long max_dialogs = SD_DEFAULT_DIALOGS;
	struct xdp_program *xp = NULL;
	struct sipdrain *skel = NULL;
	char errmsg[256];

	while ((opt = sd_getopt(argc, argv, "p:m:d:h", opts, attach_usage)) != -1) {
		switch (opt) {
		case 'p':
			if (!sd_add_port(cfg.ports, &cfg.nports, optarg))
				return SD_EXIT_USAGE;
			break;
		case 'm':
			if (!strcmp(optarg, "native")) {
				mode = XDP_MODE_NATIVE;
			} else if (!strcmp(optarg, "skb")) {
				mode = XDP_MODE_SKB;
			} else {
				pr_warn("invalid mode '%s' (native or skb)\n", optarg);
				return SD_EXIT_USAGE;
			}
			break;
		case 'd':
			if (!sd_parse_uint("max-dialogs", optarg, 1024, 1U << 24, &max_dialogs))
				return SD_EXIT_USAGE;
			break;
		}
	}
	if (optind >= argc) {
		pr_warn("attach: name at least one interface (see 'sipdrain attach --help')\n");
		return SD_EXIT_USAGE;
	}
	if (!cfg.nports) {
		cfg.nports = 1;
		cfg.ports[0] = SD_DEFAULT_PORT;
	}
	for (int i = optind; i < argc; i++) {
		int idx = if_nametoindex(argv[i]);

		if (!idx) {
			pr_warn("no such interface: %s\n", argv[i]);
			return SD_EXIT_ERR;
		}
		for (int j = 0; j < n_if; j++)
			if (ifindex[j] == idx) {
				pr_warn("interface named twice: %s\n", argv[i]);
				return SD_EXIT_USAGE;
			}
		if (n_if == SD_MAX_IFACES) {
			pr_warn("at most %d interfaces\n", SD_MAX_IFACES);
			return SD_EXIT_USAGE;
		}
		ifname[n_if] = argv[i];
		ifindex[n_if++] = idx;
	}
	if (sd_require_root())
		return SD_EXIT_ERR;
	if (sd_is_attached()) {
		pr_warn("already attached (%s exists); 'sipdrain detach' first\n", SD_PIN_DIR);
		return SD_EXIT_ERR;
	}
	for (int i = 0; i < n_if; i++)
		if (ours_attached(ifindex[i])) {
			pr_warn("%s: a sipdrain program is already attached (pins lost?); "
				"remove it with 'xdp-loader unload %s --all'\n", ifname[i], ifname[i]);
			return SD_EXIT_ERR;
		}
	err = sd_bpffs_prepare();
	if (err)
		return SD_EXIT_ERR;

	skel = sd_gate_open(max_dialogs, false);
	if (!skel)
		return SD_EXIT_ERR;
	{
		DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .obj = skel->obj,
				    .prog_name = "sipdrain_xdp");
		xp = xdp_program__create(&xopts);
	}
	err = libxdp_get_error(xp);
	if (!err)       /* jumbo / multi-buffer frames: read with bpf_xdp_load_bytes */
		err = xdp_program__set_xdp_frags_support(xp, true);
	if (err) {
		if (libxdp_get_error(xp))
			xp = NULL;
		libxdp_strerror(err, errmsg, sizeof(errmsg));
		pr_warn("cannot prepare the XDP program: %s\n", errmsg);
		goto fail;
	}
	for (attached = 0; attached < n_if; attached++) {
		err = xdp_program__attach(xp, ifindex[attached], mode, 0);
		if (err) {
			libxdp_strerror(err, errmsg, sizeof(errmsg));
			pr_warn("%s: XDP attach refused: %s%s\n", ifname[attached], errmsg,
				err == -EPERM || err == -EACCES ?
				" (BPF not permitted here?)" : "");
			goto fail;
		}
		cfg.ifindex[attached] = ifindex[attached];
		cfg.xdp_mode[attached] = xdp_program__is_attached(xp, ifindex[attached]);
		pr_debug("%s: attached in %s mode\n", ifname[attached],
			 mode_name(cfg.xdp_mode[attached]));
	}
	cfg.nifaces = n_if;
	cfg.max_dialogs = max_dialogs;
	err = sd_config_set(bpf_map__fd(skel->maps.sd_config), &cfg);
	if (err) {
		pr_warn("cannot write the config: %s\n", strerror(-err));
		goto fail;
	}
	err = sd_pin_all(skel, xdp_program__fd(xp));
	if (err)
		goto fail;
	for (int i = 0; i < n_if; i++)
		pr_info("%s: sipdrain attached (%s mode), ports", ifname[i],
			mode_name(cfg.xdp_mode[i]));
	for (__u32 i = 0; i < cfg.nports; i++)
		pr_info(" %u", cfg.ports[i]);
	pr_info(", state serving\n");
	xdp_program__close(xp);
	sd_gate_close(skel);
	return SD_EXIT_OK;
fail:
	while (attached-- > 0)
		detach_ifindex(ifindex[attached], ifname[attached]);
	sd_unpin_all();
	if (xp)
		xdp_program__close(xp);
	sd_gate_close(skel);
	return SD_EXIT_ERR;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct sd_config cfg;
	int fd, err, rc = SD_EXIT_OK;
	bool pick[SD_MAX_IFACES] = { 0 };
	char name[IF_NAMESIZE];

	while (sd_getopt(argc, argv, "h", opts, detach_usage) != -1)
		;
	if (sd_require_root())
		return SD_EXIT_ERR;
	fd = sd_open_config();
	if (fd < 0)
		return SD_EXIT_ERR;
	err = sd_config_get(fd, &cfg);
	if (err) {
		pr_warn("cannot read the config: %s\n", strerror(-err));
		close(fd);
		return SD_EXIT_ERR;
	}
	for (int i = optind; i < argc; i++) {
		int idx = if_nametoindex(argv[i]), s;

		for (s = 0; s < SD_MAX_IFACES; s++)
			if (idx && cfg.ifindex[s] == (__u32)idx)
				break;
		if (s == SD_MAX_IFACES) {
			pr_warn("%s: sipdrain is not attached there\n", argv[i]);
			close(fd);
			return SD_EXIT_ERR;
		}
		pick[s] = true;
	}
	for (int s = 0; s < SD_MAX_IFACES; s++) {
		if (!cfg.ifindex[s] || (optind < argc && !pick[s]))
			continue;
		if (!if_indextoname(cfg.ifindex[s], name))
			snprintf(name, sizeof(name), "if%u", cfg.ifindex[s] % 100000u);
		if (detach_ifindex(cfg.ifindex[s], name)) {
			rc = SD_EXIT_ERR;
			continue;
		}
		pr_info("%s: sipdrain detached\n", name);
		cfg.ifindex[s] = 0;
		cfg.xdp_mode[s] = 0;
		cfg.nifaces--;
	}
	if (cfg.nifaces == 0) {
		close(fd);
		sd_unpin_all();
		pr_info("pins removed from %s\n", SD_PIN_DIR);
		return rc;
	}
	err = sd_config_set(fd, &cfg);
	close(fd);
	if (err) {
		pr_warn("cannot write the config: %s\n", strerror(-err));
		return SD_EXIT_ERR;
	}
	return rc;
}
