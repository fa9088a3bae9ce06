// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "gate.h"
#include "log.h"
#include "packet.h"
#include "responder.h"
#include "snapshot.h"
#include "sip_parse.h"

#define NUM_FRAMES 2048
#define RING_SIZE  2048
#define BATCH      64

struct sd_xsk {
	struct xsk_ring_cons rx, comp;
	struct xsk_ring_prod tx, fill;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	void *area;
	int fd, slot, queue;
};

bool sd_responder_alive(const struct sd_responder *st)
{
	return st->pid && (kill(st->pid, 0) == 0 || errno == EPERM) &&
	       sd_now_ns() - st->heartbeat_ns < 5000000000ULL;
}

int sd_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), n = 1;

	if (fd < 0)
		return 1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	if (!ioctl(fd, SIOCETHTOOL, &ifr)) {
		n = ch.rx_count + ch.combined_count;   /* RX-only and combined channels */
		if (n < 1)
			n = 1;
	}
	close(fd);
	return n > SD_MAX_QUEUES ? SD_MAX_QUEUES : n;
}

static void xsk_free(struct sd_xsk *s)
{
	if (!s)
		return;
	if (s->xsk)
		xsk_socket__delete(s->xsk);
	if (s->umem)
		xsk_umem__delete(s->umem);
	if (s->area)
		munmap(s->area, (size_t)NUM_FRAMES * SD_XSK_FRAME_SIZE);
	free(s);
}

/* One socket with its own UMEM, every frame in the fill ring. */
static int xsk_open(struct sd_responder_ctx *r, const char *ifname, int slot,
		    int queue, struct sd_xsk **out)
{
	struct xsk_umem_config ucfg = {
		.fill_size = RING_SIZE, .comp_size = RING_SIZE,
		.frame_size = SD_XSK_FRAME_SIZE, .frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = RING_SIZE, .tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	};
	size_t size = (size_t)NUM_FRAMES * SD_XSK_FRAME_SIZE;
	struct sd_xsk *s = calloc(1, sizeof(*s));
	__u32 idx, key = SD_XSK_KEY(slot, queue);
	int err;

	if (!s)
		return -ENOMEM;
	s->slot = slot;
	s->queue = queue;
	s->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->area == MAP_FAILED) {
		s->area = NULL;
		err = -errno;
		goto fail;
	}
	/* libxdp 1.3.1 leaves the rings' cached indices unset: zeroed above */
	err = xsk_umem__create(&s->umem, s->area, size, &s->fill, &s->comp, &ucfg);
	if (err)
		goto fail;
	/* zero-copy where the driver has it, copy mode otherwise (veth) */
	/* A responder that just exited leaves its socket bound until the
	 * kernel has released it (deferred): a restart retries EBUSY for up
	 * to 3 s rather than fail (systemd restart, upgrade). */
	for (int tries = 0;; tries++) {
		scfg.bind_flags = XDP_USE_NEED_WAKEUP | XDP_ZEROCOPY;
		err = xsk_socket__create(&s->xsk, ifname, queue, s->umem, &s->rx, &s->tx, &scfg);
		if (err) {
			scfg.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY;
			err = xsk_socket__create(&s->xsk, ifname, queue, s->umem, &s->rx, &s->tx, &scfg);
		} else {
			r->zerocopy_any = true;
		}
		if (err != -EBUSY || tries >= 60)
			break;
		if (tries == 0)
			pr_debug("%s queue %d: still bound by the previous responder, retrying\n",
				 ifname, queue);
		usleep(50000);
	}
	if (err)
		goto fail;
	s->fd = xsk_socket__fd(s->xsk);
	if (xsk_ring_prod__reserve(&s->fill, NUM_FRAMES, &idx) != NUM_FRAMES) {
		err = -ENOSPC;
		goto fail;
	}
	for (__u32 i = 0; i < NUM_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&s->fill, idx + i) = (__u64)i * SD_XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&s->fill, NUM_FRAMES);
	if (bpf_map_update_elem(r->xsks_fd, &key, &s->fd, BPF_ANY)) {
		err = -errno;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	pr_warn("%s queue %d: cannot bind an AF_XDP socket: %s\n", ifname, queue, strerror(-err));
	xsk_free(s);
	return err;
}

void sd_responder_tick(struct sd_responder_ctx *r)
{
	r->st->heartbeat_ns = sd_now_ns();
}

int sd_responder_open(struct sd_responder_ctx *r, const char *reason, const char *server)
{
	char name[IF_NAMESIZE];
	int err;

	memset(r, 0, sizeof(*r));
	r->xsks_fd = r->resp_fd = r->cfg_fd = r->att_fd = -1;
	r->opts.reason = reason;
	r->opts.server = server;
	r->cfg_fd = sd_open_config();
	if (r->cfg_fd < 0)
		return r->cfg_fd;
	r->xsks_fd = sd_pinned_map_fd(SD_STR(SD_MAP_XSKS));
	r->resp_fd = sd_pinned_map_fd(SD_STR(SD_MAP_RESPONDER));
	r->att_fd = sd_pinned_map_fd(SD_STR(SD_MAP_ATTEMPTS));
	if (r->xsks_fd < 0 || r->resp_fd < 0 || r->att_fd < 0) {
		pr_warn("cannot open the pinned maps under %s (gate from an older sipdrain?)\n",
			sd_pin_dir);
		return -ENOENT;
	}
	r->cfg = mmap(NULL, sizeof(struct sd_config), PROT_READ, MAP_SHARED, r->cfg_fd, 0);
	if (r->cfg == MAP_FAILED) {
		r->cfg = NULL;
		err = -errno;
		pr_warn("cannot map the config: %s (gate from an older sipdrain? detach it)\n",
			strerror(errno));
		return err;
	}
	r->st = mmap(NULL, sizeof(struct sd_responder), PROT_READ | PROT_WRITE, MAP_SHARED,
		     r->resp_fd, 0);
	if (r->st == MAP_FAILED) {
		r->st = NULL;
		err = -errno;
		pr_warn("cannot map the responder state: %s (gate from an older sipdrain? detach it)\n",
			strerror(errno));
		return err;
	}
	if (sd_responder_alive(r->st) && r->st->pid != (__u32)getpid()) {
		pr_warn("a responder is already running (pid %u)\n", r->st->pid);
		r->busy = true;
		return -EBUSY;
	}
	/* counters restart with each responder */
	memset(r->st, 0, sizeof(*r->st));
	r->st->pid = getpid();
	r->st->heartbeat_ns = sd_now_ns();
	for (int slot = 0; slot < SD_MAX_IFACES; slot++) {
		int nq;

		if (!r->cfg->ifindex[slot])
			continue;
		if (!if_indextoname(r->cfg->ifindex[slot], name)) {
			pr_warn("interface %u of the gate is gone\n", r->cfg->ifindex[slot]);
			return -ENODEV;
		}
		nq = sd_rx_queues(name);
		r->st->queues_total[slot] = nq;
		for (int q = 0; q < nq; q++) {
			err = xsk_open(r, name, slot, q, &r->socks[r->nsocks]);
			if (err)
				return err;
			r->nsocks++;
			r->st->queues_bound[slot] |= 1ULL << q;
		}
		pr_info("%s: responder bound to %d RX queue%s (%s mode)\n", name, nq,
			nq == 1 ? "" : "s", r->zerocopy_any ? "zero-copy" : "copy");
	}
	r->st->nsockets = r->nsocks;
	return 0;
}

static __u32 method_counter(int m)
{
	return m < 0 ? SD_RC_reply_other
		     : SD_METHOD_COUNTER(SD_RC_reply_invite, SD_RC_reply_other, (unsigned)m);
}

static void bump(struct sd_responder_ctx *r, __u32 idx)
{
	if (idx < SD_RC_MAX)
		((__u64 *)&r->st->c)[idx]++;
}

/* A well-formed request the responder cannot answer as RFC 3261 asks
 * (its reply would outgrow it by more than the bound, or a maddr names
 * another host): the server answers it.  Its Call-ID becomes an attempt
 * the gate lets through, so the caller's retransmission (T1, 500 ms)
 * passes the drain and reaches the server: fail-open, counted. */
static void pass_on(struct sd_responder_ctx *r, const struct sd_result *cls)
{
	struct sd_dialog d = { 0 };

	/* offline, the gate lets nothing new through (the state table):
	 * there is no server to hand it to */
	if (!(cls->flags & SD_F_CALLID) || r->now.state != SD_DRAINING) {
		bump(r, SD_RC_dropped_malformed);
		return;
	}
	/* a fresh attempt, over any ended one of the same Call-ID (a
	 * REGISTER refresh reuses its Call-ID) */
	d.created_ns = d.last_ns = sd_now_ns();
	d.state = SD_D_ATTEMPT;
	if (bpf_map_update_elem(r->att_fd, &cls->call_id_hash, &d, BPF_ANY)) {
		bump(r, SD_RC_dropped_malformed);
		return;
	}
	bump(r, SD_RC_passed_to_server);
}

/* Answer one frame in place; returns its new length, 0 to drop it. */
static size_t answer(struct sd_responder_ctx *r, __u8 *pkt, size_t len, size_t cap)
{
	static char reply[SD_XSK_FRAME_SIZE];
	struct sd_udp_frame req, rep;
	struct sd_peer src, dst;
	struct sd_result cls;
	size_t rlen = 0;
	__u32 jitter;
	int method;
	enum sd_reply_outcome rc;

	if (sd_udp_frame_parse(pkt, len, &req)) {
		bump(r, SD_RC_dropped_not_udp);
		return 0;
	}
	src.family = req.family;
	memcpy(src.addr, req.saddr, 16);
	src.port = req.sport;
	r->opts.retry_after = r->now.retry_after;
	if ((r->now.flags & SD_CF_RETRY_AUTO) && r->now.deadline_ns &&
	    r->now.state == SD_DRAINING) {
		/* come back when this node is gone: the seconds left */
		__u64 now = sd_now_ns(), dl = r->now.deadline_ns;

		r->opts.retry_after = dl > now ? (dl - now + 999999999ULL) / 1000000000ULL : 1;
	}
	jitter = r->now.retry_jitter;
	if (jitter)
		r->opts.retry_after += random() % (jitter + 1);
	/* read once as the gate reads it; the builder walks the header
	 * lines it copies */
	sd_parse(pkt + req.payload_off, req.payload_len, &cls);
	/* the answer to a BYE the gate sent at the deadline: absorbed */
	if (cls.kind == SD_K_RESPONSE && (cls.flags & SD_F_CSEQ) && cls.cseq_method == SD_M_BYE &&
	    r->bye_response && r->bye_response(r->bye_ctx, (const char *)pkt + req.payload_off,
						 req.payload_len, cls.status))
		return 0;
	rc = sd_build_503_cls((const char *)pkt + req.payload_off, req.payload_len, &cls, &src,
			      &r->opts, reply, sizeof(reply), &rlen, &dst, &method);
	if (sd_reply_outcome_passes(rc)) {
		pass_on(r, &cls);
		return 0;
	}
	switch (rc) {
	case SD_R_OK:
		break;
	case SD_R_ACK:
		bump(r, SD_RC_absorbed_acks);
		return 0;
	case SD_R_NOT_REQUEST:
		bump(r, SD_RC_ignored_responses);
		return 0;
	default:
		bump(r, SD_RC_dropped_malformed);
		return 0;
	}
	sd_udp_frame_reverse(&req, &rep);
	/* RFC 3261 18.2.2, RFC 3581: the source port with rport, else the
	 * sent-by port (5060 when absent); the address is always the
	 * source's (the builder leaves a maddr elsewhere to the server) */
	rep.dport = dst.port;
	rlen = sd_udp_frame_write(pkt, cap, &rep, reply, rlen);
	if (!rlen) {
		bump(r, SD_RC_dropped_too_big);
		return 0;
	}
	bump(r, SD_RC_replies);
	bump(r, method_counter(method));
	return rlen;
}

static void recycle(struct sd_xsk *s, const __u64 *addrs, __u32 n)
{
	__u32 idx;

	if (!n)
		return;
	/* every frame fits in the fill ring (NUM_FRAMES == RING_SIZE) */
	while (xsk_ring_prod__reserve(&s->fill, n, &idx) != n)
		;
	for (__u32 i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&s->fill, idx + i) = addrs[i];
	xsk_ring_prod__submit(&s->fill, n);
}

/* Returns the frames received. */
static __u32 service(struct sd_responder_ctx *r, struct sd_xsk *s)
{
	__u64 drop[BATCH], done[BATCH];
	struct xdp_desc out[BATCH];
	__u32 n, idx, ntx = 0, ndrop = 0;

	/* sent frames come back: refill */
	n = xsk_ring_cons__peek(&s->comp, BATCH, &idx);
	if (n) {
		for (__u32 i = 0; i < n; i++)
			done[i] = *xsk_ring_cons__comp_addr(&s->comp, idx + i);
		xsk_ring_cons__release(&s->comp, n);
		recycle(s, done, n);
	}

	n = xsk_ring_cons__peek(&s->rx, BATCH, &idx);
	if (!n)
		return 0;
	/* state, Retry-After, deadline: one consistent copy per batch */
	sd_config_read(r->cfg, &r->now);
	for (__u32 i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->rx, idx + i);
		__u64 addr = xsk_umem__add_offset_to_addr(d->addr);
		__u64 base = xsk_umem__extract_addr(d->addr) & ~(__u64)(SD_XSK_FRAME_SIZE - 1);
		__u8 *pkt = xsk_umem__get_data(s->area, addr);
		size_t cap = base + SD_XSK_FRAME_SIZE - addr, len;

		r->st->c.rx_frames++;
		len = answer(r, pkt, d->len, cap);
		if (len) {
			out[ntx].addr = addr;
			out[ntx].len = len;
			out[ntx].options = 0;
			ntx++;
		} else {
			drop[ndrop++] = addr;
		}
	}
	xsk_ring_cons__release(&s->rx, n);
	if (ntx && xsk_ring_prod__reserve(&s->tx, ntx, &idx) != ntx) {
		r->st->c.tx_ring_full += ntx;
		for (__u32 i = 0; i < ntx; i++)
			drop[ndrop++] = out[i].addr;
		ntx = 0;
	}
	for (__u32 i = 0; i < ntx; i++)
		*xsk_ring_prod__tx_desc(&s->tx, idx + i) = out[i];
	if (ntx) {
		xsk_ring_prod__submit(&s->tx, ntx);
		/* copy mode sends nothing without a kick */
		sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	}
	recycle(s, drop, ndrop);
	return n;
}

int sd_responder_poll(struct sd_responder_ctx *r, int timeout_ms)
{
	struct pollfd pfd[SD_XSK_ENTRIES];
	int n;

	for (int i = 0; i < r->nsocks; i++) {
		pfd[i].fd = r->socks[i]->fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	n = poll(pfd, r->nsocks, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	n = 0;
	for (int i = 0; i < r->nsocks; i++)     /* completions too, even without RX */
		n += service(r, r->socks[i]);
	/* Interrupt moderation: after a small batch, let frames gather for
	 * a moment so that one wakeup and one TX kick serve many replies.
	 * Under load batches are full and nothing waits. */
	if (n && n < BATCH && r->coalesce_us)
		usleep(r->coalesce_us);
	return n;
}

static void *serve(void *arg)
{
	struct sd_responder_ctx *r = arg;
	__u64 last = 0;
	sigset_t all;

	/* signals are the control thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!r->stop) {
		int n = sd_responder_poll(r, 100);
		__u64 now = sd_now_ns();

		if (n < 0) {
			r->error = n;
			pr_warn("responder: poll: %s\n", strerror(-n));
			break;
		}
		if (now - last >= 200000000ULL) {
			sd_responder_tick(r);
			last = now;
		}
	}
	return NULL;
}

int sd_responder_start(struct sd_responder_ctx *r)
{
	int err;

	r->stop = 0;
	r->error = 0;
	err = pthread_create(&r->thread, NULL, serve, r);
	if (err) {
		pr_warn("cannot start the responder thread: %s\n", strerror(err));
		return -err;
	}
	pthread_setname_np(r->thread, "sipdrain-xsk");
	r->running = true;
	return 0;
}

void sd_responder_stop(struct sd_responder_ctx *r)
{
	if (!r->running)
		return;
	r->stop = 1;
	pthread_join(r->thread, NULL);
	r->running = false;
}

void sd_responder_close(struct sd_responder_ctx *r)
{
	sd_responder_stop(r);
	for (int i = 0; i < r->nsocks; i++)
		xsk_free(r->socks[i]);
	r->nsocks = 0;
	if (r->st) {
		if (!r->busy) {         /* another responder's state is not ours */
			r->st->pid = 0;
			r->st->nsockets = 0;
			memset(r->st->queues_bound, 0, sizeof(r->st->queues_bound));
		}
		munmap(r->st, sizeof(*r->st));
		r->st = NULL;
	}
	if (r->resp_fd >= 0)
		close(r->resp_fd);
	if (r->xsks_fd >= 0)
		close(r->xsks_fd);
	if (r->att_fd >= 0)
		close(r->att_fd);
	if (r->cfg)
		munmap((void *)r->cfg, sizeof(struct sd_config));
	r->cfg = NULL;
	if (r->cfg_fd >= 0)
		close(r->cfg_fd);
	r->resp_fd = r->xsks_fd = r->cfg_fd = r->att_fd = -1;
}
