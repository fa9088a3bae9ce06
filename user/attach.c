// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "addrs.h"
#include "attach.h"
#include "gate.h"
#include "log.h"
#include "snapshot.h"
#include "sipdrain.skel.h"

const char *sd_mode_name(__u32 m)
{
	return m == XDP_MODE_NATIVE ? "native" : m == XDP_MODE_SKB ? "skb" :
	       m == XDP_MODE_HW ? "hw" : "unspec";
}

/* Find sipdrain's program among those libxdp sees on an interface. */
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

/* The egress program: clsact egress, our handle and priority. */
#define SD_TC_HANDLE 0x5d5d
#define SD_TC_PRIO   1

static int tc_attach(int ifindex, int prog_fd, const char *name)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SD_TC_HANDLE,
			    .priority = SD_TC_PRIO, .prog_fd = prog_fd);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST) {
		pr_warn("%s: cannot add the clsact qdisc for egress: %s\n", name, strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pr_warn("%s: cannot attach the egress program: %s\n", name, strerror(-err));
	return err;
}

/* Our filter only: other users of the clsact qdisc keep theirs. */
static void tc_detach(int ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SD_TC_HANDLE,
			    .priority = SD_TC_PRIO);

	bpf_tc_detach(&hook, &opts);
}

/* Without CAP_SYS_ADMIN the kernel refuses BPF_PROG_GET_FD_BY_ID: libxdp
 * cannot see what is attached (and attached ours alone, without its
 * dispatcher).  The pinned program is ours: if netlink reports its id in
 * one mode, detach exactly it there (XDP_FLAGS_REPLACE with its fd: a
 * program attached meanwhile by someone else stays).  -ENOENT when it is
 * not attached, or not pinned. */
static int detach_pinned(int ifindex, const char *name)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_xdp_attach_opts, a);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), mode;
	int fd, err;

	fd = sd_pinned_map_fd(SD_PROG_PIN);
	if (fd < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		goto out;
	mode = q.drv_prog_id == info.id ? XDP_FLAGS_DRV_MODE :
	       q.skb_prog_id == info.id ? XDP_FLAGS_SKB_MODE :
	       q.hw_prog_id == info.id ? XDP_FLAGS_HW_MODE : 0;
	if (!mode) {
		err = -ENOENT;
		goto out;
	}
	a.old_prog_fd = fd;
	err = bpf_xdp_detach(ifindex, mode | XDP_FLAGS_REPLACE, &a);
	if (err)
		pr_warn("%s: cannot detach: %s\n", name, strerror(-err));
out:
	close(fd);
	return err;
}

static int detach_ifindex(int ifindex, const char *name)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	int err;

	tc_detach(ifindex);
	if (libxdp_get_error(mp)) {
		err = detach_pinned(ifindex, name);
		if (err == -ENOENT)
			pr_warn("%s: no XDP program found (already gone)\n", name);
		return err == -ENOENT ? 0 : err;
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

int sd_attach(const struct sd_attach_opts *o)
{
	struct sd_config cfg = { .retry_after = SD_DEFAULT_RETRY_AFTER };
	int ifindex[SD_MAX_IFACES], attached = 0, err;
	__u32 max_dialogs = o->max_dialogs ?: SD_DEFAULT_DIALOGS;
	struct xdp_program *xp = NULL;
	struct sipdrain *skel = NULL;
	char errmsg[256];
	int lock = -1;

	if (o->nifaces < 1 || o->nifaces > SD_MAX_IFACES) {
		pr_warn("attach: 1 to %d interfaces\n", SD_MAX_IFACES);
		return -EINVAL;
	}
	if (o->ports.n) {
		cfg.nports = o->ports.n;
		memcpy(cfg.ports, o->ports.port, o->ports.n * sizeof(__u16));
	} else {
		cfg.nports = 1;
		cfg.ports[0] = SD_DEFAULT_PORT;
	}
	for (int i = 0; i < o->nifaces; i++) {
		ifindex[i] = if_nametoindex(o->ifnames[i]);
		if (!ifindex[i]) {
			pr_warn("no such interface: %s\n", o->ifnames[i]);
			return -ENODEV;
		}
		for (int j = 0; j < i; j++)
			if (ifindex[j] == ifindex[i]) {
				pr_warn("interface named twice: %s\n", o->ifnames[i]);
				return -EINVAL;
			}
	}
	if (sd_is_attached()) {
		pr_warn("already attached (%s exists); 'sipdrain detach' first\n", sd_pin_dir);
		return -EEXIST;
	}
	for (int i = 0; i < o->nifaces; i++)
		if (ours_attached(ifindex[i])) {
			pr_warn("%s: a sipdrain program is already attached (pins lost?); "
				"remove it with 'xdp-loader unload %s --all'\n",
				o->ifnames[i], o->ifnames[i]);
			return -EEXIST;
		}
	err = sd_bpffs_prepare();
	if (err)
		return err;
	lock = sd_lock();
	if (lock < 0)
		return lock;
	if (sd_is_attached()) {         /* another attach won the race */
		pr_warn("already attached (%s exists); 'sipdrain detach' first\n", sd_pin_dir);
		sd_unlock(lock);
		return -EEXIST;
	}

	skel = sd_gate_open(max_dialogs, false);
	if (!skel) {
		sd_unlock(lock);
		return -ENOMEM;
	}
	sd_gate_set_ports(skel, cfg.ports, cfg.nports);
	{
		DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .obj = skel->obj,
				    .prog_name = "sipdrain_xdp");
		xp = xdp_program__create(&xopts);
	}
	err = libxdp_get_error(xp);
	if (err) {
		xp = NULL;
	} else {
		/* jumbo / multi-buffer frames: read with bpf_xdp_load_bytes */
		err = xdp_program__set_xdp_frags_support(xp, true);
	}
	if (err) {
		libxdp_strerror(err, errmsg, sizeof(errmsg));
		pr_warn("cannot prepare the XDP program: %s\n", errmsg);
		goto fail;
	}
	for (attached = 0; attached < o->nifaces; attached++) {
		err = xdp_program__attach(xp, ifindex[attached], o->mode, 0);
		if (err) {
			libxdp_strerror(err, errmsg, sizeof(errmsg));
			pr_warn("%s: XDP attach refused: %s%s\n", o->ifnames[attached], errmsg,
				err == -EPERM || err == -EACCES ? " (BPF not permitted here?)" : "");
			goto fail;
		}
		cfg.ifindex[attached] = ifindex[attached];
		cfg.xdp_mode[attached] = xdp_program__is_attached(xp, ifindex[attached]);
		err = tc_attach(ifindex[attached], bpf_program__fd(skel->progs.sipdrain_egress),
				o->ifnames[attached]);
		if (err) {
			attached++;     /* so that the XDP side is taken off too */
			goto fail;
		}
	}
	cfg.nifaces = o->nifaces;
	cfg.max_dialogs = max_dialogs;
	cfg.auth_grace_ms = SD_DEFAULT_AUTH_GRACE_MS;
	cfg.reply_rate = o->reply_rate_set ? o->reply_rate : SD_DEFAULT_REPLY_RATE;
	cfg.reply_burst = o->reply_burst ?: (o->reply_rate ? 2 * o->reply_rate : SD_DEFAULT_REPLY_BURST);
	cfg.ntcp_ports = o->tcp_ports.n;
	memcpy(cfg.tcp_ports, o->tcp_ports.port, sizeof(cfg.tcp_ports));
	cfg.dialog_idle_ns = o->dialog_idle_ns ?: SD_DEFAULT_DIALOG_IDLE_S * 1000000000ULL;
	cfg.min_watch_ns = o->min_watch_set ? o->min_watch_ns :
			   SD_DEFAULT_MIN_WATCH_S * 1000000000ULL;
	cfg.peer_window_ns = o->peer_window_set ? o->peer_window_ns :
			     SD_DEFAULT_PEER_WINDOW_S * 1000000000ULL;
	err = sd_addrs_sync(bpf_map__fd(skel->maps.sd_addrs));
	if (err < 0) {
		pr_warn("cannot read the server's addresses: %s\n", strerror(-err));
		goto fail;
	}
	err = sd_config_set(bpf_map__fd(skel->maps.sd_config), &cfg);
	if (err) {
		pr_warn("cannot write the config: %s\n", strerror(-err));
		goto fail;
	}
	{
		/* the observation horizon: from here on the gate sees calls */
		struct sd_meta meta = { .abi = SD_ABI_VERSION, .watch_start_ns = sd_now_ns() };
		struct timespec ts;
		__u32 zero = 0;

		clock_gettime(CLOCK_REALTIME, &ts);
		meta.watch_start_unix_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.sd_meta), &zero, &meta, BPF_ANY)) {
			err = -errno;
			pr_warn("cannot write %s: %s\n", SD_STR(SD_MAP_META), strerror(errno));
			goto fail;
		}
	}
	err = sd_pin_all(skel, xdp_program__fd(xp), bpf_program__fd(skel->progs.sipdrain_egress));
	if (err)
		goto fail;
	for (int i = 0; i < o->nifaces; i++) {
		pr_info("%s: sipdrain attached (%s mode), ports", o->ifnames[i],
			sd_mode_name(cfg.xdp_mode[i]));
		for (__u32 p = 0; p < cfg.nports; p++)
			pr_info(" %u", cfg.ports[p]);
		pr_info(", state serving\n");
	}
	xdp_program__close(xp);
	sd_gate_close(skel);
	sd_unlock(lock);
	return 0;
fail:
	while (attached-- > 0)
		detach_ifindex(ifindex[attached], o->ifnames[attached]);
	sd_unpin_all();
	if (xp)
		xdp_program__close(xp);
	sd_gate_close(skel);
	sd_unlock(lock);
	return err < 0 ? err : -EINVAL;
}

int sd_detach(char **ifnames, int n)
{
	bool pick[SD_MAX_IFACES] = { 0 };
	struct bpf_map_info info = { 0 };
	__u32 ilen = sizeof(info), zero = 0;
	char name[IF_NAMESIZE];
	struct sd_config cfg = { 0 };
	size_t vs = sizeof(cfg);
	char *raw = NULL;
	int fd, err = 0, rc = 0, lock;

	/* also a gate of another build: its interface list sits where ours
	 * does; the value is read at its own size and written back as read */
	fd = sd_open_config_any(true);
	if (fd < 0)
		return fd;
	lock = sd_lock();
	if (lock < 0) {
		close(fd);
		return lock;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		err = -errno;
		pr_warn("cannot inspect the config: %s\n", strerror(-err));
		goto out;
	}
	if (info.value_size > vs)
		vs = info.value_size;
	raw = calloc(1, vs);
	if (!raw) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(fd, &zero, raw)) {
		err = -errno;
		pr_warn("cannot read the config: %s\n", strerror(-err));
		goto out;
	}
	memcpy(&cfg, raw, sizeof(cfg));
	for (int i = 0; i < n; i++) {
		int idx = if_nametoindex(ifnames[i]), s;

		for (s = 0; s < SD_MAX_IFACES; s++)
			if (idx && cfg.ifindex[s] == (__u32)idx)
				break;
		if (s == SD_MAX_IFACES) {
			pr_warn("%s: sipdrain is not attached there\n", ifnames[i]);
			err = -ENOENT;
			goto out;
		}
		pick[s] = true;
	}
	for (int s = 0; s < SD_MAX_IFACES; s++) {
		if (!cfg.ifindex[s] || (n && !pick[s]))
			continue;
		if (!if_indextoname(cfg.ifindex[s], name))
			snprintf(name, sizeof(name), "if%u", cfg.ifindex[s] % 100000u);
		if (detach_ifindex(cfg.ifindex[s], name)) {
			rc = -EIO;
			continue;
		}
		pr_info("%s: sipdrain detached\n", name);
		cfg.ifindex[s] = 0;
		cfg.xdp_mode[s] = 0;
		cfg.nifaces--;
	}
	if (cfg.nifaces == 0) {
		close(fd);
		free(raw);
		sd_unpin_all();
		sd_unlock(lock);
		pr_info("pins removed from %s\n", sd_pin_dir);
		return rc;
	}
	memcpy(raw, &cfg, offsetof(struct sd_config, xdp_mode) + sizeof(cfg.xdp_mode));
	if (bpf_map_update_elem(fd, &zero, raw, BPF_ANY)) {
		err = -errno;
		pr_warn("cannot write the config: %s\n", strerror(-err));
	}
out:
	close(fd);
	free(raw);
	sd_unlock(lock);
	return err ?: rc;
}

void sd_detach_config(const struct sd_config *cfg)
{
	char name[IF_NAMESIZE];

	for (int s = 0; s < SD_MAX_IFACES; s++) {
		if (!cfg->ifindex[s])
			continue;
		if (!if_indextoname(cfg->ifindex[s], name))
			snprintf(name, sizeof(name), "if%u", cfg->ifindex[s] % 100000u);
		if (!detach_ifindex(cfg->ifindex[s], name))
			pr_info("%s: sipdrain detached\n", name);
	}
}
