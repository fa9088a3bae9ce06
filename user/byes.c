// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The BYEs at the deadline (byes.h).
 *
 * One transaction per BYE (a call through a proxy has two, one to each
 * party), a non-INVITE client transaction of RFC 3261 17.1.2: sent at
 * once, again after T1, 2*T1, ... capped at T2, every T2 once a 1xx came,
 * given up after 64*T1 (Timer F).  The branch of its Via names this run
 * of the engine and the transaction, so the response, handed over by the
 * data path thread, finds it.
 *
 * Frames go out through an AF_PACKET socket on the interface the party's
 * messages came in on, with their link-layer header turned around (the
 * MAC they came from, VLAN tags as they were): the path the party used,
 * not a route the host might pick.  Through AF_PACKET the BYE passes the
 * TC egress program like anything the server sends, so the gate sees the
 * call closing; the answer ends it. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "byes.h"
#include "drain_view.h"
#include "gate.h"
#include "log.h"
#include "packet.h"
#include "sip_bye.h"
#include "snapshot.h"

#define T1_NS   500000000ULL
#define T2_NS   4000000000ULL
#define TIMER_F (64 * T1_NS)
#define BRANCH_HEAD "z9hG4bK-sdbye-"
/* new BYEs sent per tick (10 a second): 20 000 a second at most, so a
 * trunk with thousands of calls gets them spread, not in one burst */
#define BURST 2000

enum { T_PENDING = 0, T_NO_ANSWER = -1 };

struct txn {
	unsigned call;                  /* index of its call in calls[] */
	__u32 ifindex;
	__u8 dst_mac[6];
	__u8 *frame;
	size_t flen;
	__u64 next_ns, interval_ns, give_up_ns;
	int status;                     /* T_PENDING, T_NO_ANSWER, or the final's code */
	bool provisional;               /* a 1xx came: retransmit every T2 */
	bool partial;                   /* of a call not every party of which gets one */
	bool sent;                      /* first transmission done */
};

struct sd_byes {
	struct sd_responder_counters *c;
	const volatile struct sd_config *pinned;        /* read as a seqlock, no syscall */
	pthread_mutex_t lock;           /* the array (start) against the data path's responses */
	int pkt_fd;
	struct txn *t;
	unsigned n, ncalls;
	char run_tag[17];               /* this start's part of the branch */
	bool active;
	__u64 drain_started_ns;         /* the drain whose deadline this is */
	struct sd_config cfg;           /* the counts so far */
};

struct sd_byes *sd_byes_new(struct sd_responder_counters *counters,
			    const volatile struct sd_config *cfg)
{
	struct sd_byes *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->c = counters;
	b->pinned = cfg;
	b->pkt_fd = -1;
	pthread_mutex_init(&b->lock, NULL);
	return b;
}

static void drop_txns(struct sd_byes *b)
{
	for (unsigned i = 0; i < b->n; i++)
		free(b->t[i].frame);
	free(b->t);
	b->t = NULL;
	b->n = 0;
}

void sd_byes_free(struct sd_byes *b)
{
	if (!b)
		return;
	drop_txns(b);
	if (b->pkt_fd >= 0)
		close(b->pkt_fd);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* The server's own unicast addresses (sd_addrs): Record-Route entries
 * naming them are the server's. */
static size_t own_addrs(struct sd_peer *own, size_t max)
{
	int fd = sd_pinned_map_fd(SD_STR(SD_MAP_ADDRS));
	struct sd_addr_key k, next;
	bool first = true;
	size_t n = 0;
	__u32 kind;

	if (fd < 0)
		return 0;
	while (n < max && !bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		if (bpf_map_lookup_elem(fd, &k, &kind) || kind != SD_ADDR_LOCAL)
			continue;
		memset(&own[n], 0, sizeof(own[n]));
		own[n].family = k.family == 6 ? AF_INET6 : AF_INET;
		memcpy(own[n].addr, k.addr, 16);
		n++;
	}
	close(fd);
	return n;
}

/* The frame of a BYE to hop's party: its link-layer header turned
 * around, from the server's address and port to the party's. */
static size_t bye_frame(const struct sd_hop *hop, const char *bye, size_t len, __u8 *out,
			size_t cap)
{
	struct sd_udp_frame h = { 0 };

	if (hop->l2_len < 14 || hop->l2_len > SD_L2_MAX || (hop->l2_len - 14) % 4)
		return 0;
	memcpy(h.dst_mac, hop->l2 + 6, 6);      /* it came from there */
	memcpy(h.src_mac, hop->l2, 6);          /* to the server */
	h.nvlan = (hop->l2_len - 14) / 4;
	memcpy(h.vlan, hop->l2 + 12, 4 * h.nvlan);
	h.family = hop->family == 6 ? AF_INET6 : AF_INET;
	memcpy(h.saddr, hop->server_addr, 16);
	memcpy(h.daddr, hop->party_addr, 16);
	h.sport = hop->server_port;
	h.dport = hop->party_port;
	return sd_udp_frame_write(out, cap, &h, bye, len);
}

static void transmit(struct sd_byes *b, struct txn *t)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = t->ifindex,
		.sll_halen = 6,
	};

	memcpy(to.sll_addr, t->dst_mac, 6);
	if (sendto(b->pkt_fd, t->frame, t->flen, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		__atomic_fetch_add(&b->c->bye_send_failed, 1, __ATOMIC_RELAXED);
		pr_debug("BYE not sent on ifindex %u: %s\n", t->ifindex, strerror(errno));
	} else {
		__atomic_fetch_add(&b->c->bye_sent, 1, __ATOMIC_RELAXED);
	}
}

/* One call up at the deadline: its BYEs as transactions, or why not
 * (the counter it goes to in b->cfg). */
static void add_call(struct sd_byes *b, __u64 key, const struct sd_dialog *dl, int details_fd,
		     const struct sd_bye_opts *base, size_t *cap, __u64 now)
{
	static struct sd_details d;
	static char text[4096];
	static __u8 frame[4096 + 128];
	int st = sd_dialog_effective(dl, now, &b->cfg);
	unsigned parties, made = 0;
	char branch[64];

	if (st == SD_D_ENDED)
		return;
	if (dl->flags & SD_DF_LEARNED) {
		b->cfg.not_ended_learned++;
		return;
	}
	if (st == SD_D_ATTEMPT || st == SD_D_EARLY) {
		b->cfg.not_ended_early++;       /* not answered yet: no dialog to end */
		return;
	}
	if (bpf_map_lookup_elem(details_fd, &key, &d)) {
		b->cfg.not_ended_no_details++;
		return;
	}
	parties = sd_bye_parties(&d);
	for (int p = SD_BYE_CALLER; p <= SD_BYE_CALLEE; p++) {
		struct sd_bye_opts o = *base;
		const struct sd_hop *hop = p == SD_BYE_CALLER ? &d.caller : &d.callee;
		enum sd_bye_outcome rc;
		struct txn *t;
		size_t tlen, flen;

		if (!(parties & (1U << p)))
			continue;
		snprintf(branch, sizeof(branch), BRANCH_HEAD "%s-%u", b->run_tag, b->n);
		o.branch = branch;
		rc = sd_build_bye(&d, p, &o, text, sizeof(text), &tlen);
		if (rc != SD_BYE_OK) {
			pr_debug("call %016llx: no BYE to the %s: %s\n", (unsigned long long)key,
				 p == SD_BYE_CALLER ? "caller" : "callee", sd_bye_outcome_text[rc]);
			continue;
		}
		flen = bye_frame(hop, text, tlen, frame, sizeof(frame));
		if (!flen)
			continue;
		if (b->n == *cap) {
			struct txn *nt = realloc(b->t, (*cap ? *cap * 2 : 256) * sizeof(*nt));

			if (!nt)
				continue;
			b->t = nt;
			*cap = *cap ? *cap * 2 : 256;
		}
		t = &b->t[b->n];
		memset(t, 0, sizeof(*t));
		t->frame = malloc(flen);
		if (!t->frame)
			continue;
		memcpy(t->frame, frame, flen);
		t->flen = flen;
		t->ifindex = hop->ifindex;
		memcpy(t->dst_mac, hop->l2 + 6, 6);
		t->call = b->ncalls;
		b->n++;
		made++;
	}
	/* a call is ended when every party the record can address got its
	 * BYE; one that could not is still sent the others (a caller left
	 * in silence is worse), and the call is counted as not ended */
	if (made)
		b->ncalls++;
	if (made && made == (unsigned)__builtin_popcount(parties)) {
		b->cfg.bye_calls++;
	} else {
		b->cfg.not_ended_no_details++;  /* details, but not every BYE could be built */
		for (unsigned i = b->n - made; i < b->n; i++)
			b->t[i].partial = true;
	}
}

/* The figures so far into the pinned config, if the drain is still the
 * one these BYEs end (a resume or a new drain meanwhile wins).  done:
 * the BYEs are over, the hook runs (once). */
static void publish(struct sd_byes *b, bool done)
{
	struct sd_config cfg;
	int fd, lock;
	bool hook;

	fd = sd_config_begin(&cfg, &lock);
	if (fd < 0)
		return;
	if (cfg.state != SD_OFFLINE || cfg.drain_started_ns != b->drain_started_ns ||
	    !(cfg.flags & SD_CF_BYE_PENDING)) {
		sd_config_end(fd, lock, NULL);
		return;
	}
	cfg.bye_calls = b->cfg.bye_calls;
	cfg.bye_answered = b->cfg.bye_answered;
	cfg.bye_no_answer = b->cfg.bye_no_answer;
	cfg.bye_otherwise = b->cfg.bye_otherwise;
	cfg.not_ended_learned = b->cfg.not_ended_learned;
	cfg.not_ended_early = b->cfg.not_ended_early;
	cfg.not_ended_no_details = b->cfg.not_ended_no_details;
	hook = false;
	if (done) {
		cfg.flags &= ~SD_CF_BYE_PENDING;
		hook = cfg.on_offline[0] && !(cfg.flags & SD_CF_HOOK_DONE);
		if (hook)
			cfg.flags |= SD_CF_HOOK_DONE;
	}
	if (sd_config_end(fd, lock, &cfg))
		return;
	if (done) {
		char line[256];

		sd_bye_summary(&cfg, line, sizeof(line));
		pr_info("%s\n", line);
	}
	if (hook)
		sd_agent_run_hook(&cfg);
}

int sd_byes_start(struct sd_byes *b)
{
	struct sd_peer own[64];
	struct sd_bye_opts base = { .reason = "drain deadline" };
	struct sd_dialog dl;
	__u64 key, next, now = sd_now_ns();
	int calls_fd, details_fd, err = 0;
	size_t cap = 0;
	bool first = true;

	pthread_mutex_lock(&b->lock);
	drop_txns(b);
	b->ncalls = 0;
	b->active = false;
	pthread_mutex_unlock(&b->lock);
	sd_config_read(b->pinned, &b->cfg);
	if (b->cfg.state != SD_OFFLINE || !(b->cfg.flags & SD_CF_BYE_PENDING)) {
		pr_info("the deadline's BYEs are not sent: the drain was resumed or replaced at once\n");
		return 0;
	}
	b->drain_started_ns = b->cfg.drain_started_ns;
	b->cfg.bye_calls = b->cfg.bye_answered = b->cfg.bye_no_answer = b->cfg.bye_otherwise = 0;
	b->cfg.not_ended_learned = b->cfg.not_ended_early = b->cfg.not_ended_no_details = 0;
	if (b->pkt_fd < 0) {
		/* send only (protocol 0: nothing is received on it) */
		b->pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (b->pkt_fd < 0) {
			err = -errno;
			pr_warn("cannot send BYEs (AF_PACKET socket: %s): calls cut at the deadline "
				"are left up\n", strerror(errno));
		}
	}
	calls_fd = sd_pinned_map_fd(SD_STR(SD_MAP_CALLS));
	details_fd = sd_pinned_map_fd(SD_STR(SD_MAP_DETAILS));
	if (!err && (calls_fd < 0 || details_fd < 0)) {
		err = -ENOENT;
		pr_warn("cannot read the calls or their details under %s: no BYE sent\n", sd_pin_dir);
	}
	{
		/* a tag of this start's own: answers to an earlier start's
		 * BYEs (or a forged branch guessing ours) match nothing */
		__u32 tag;

		if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
			tag = (__u32)(sd_now_ns() ^ ((__u64)getpid() << 16));
		snprintf(b->run_tag, sizeof(b->run_tag), "%08x", tag);
	}
	base.own = own;
	base.n_own = own_addrs(own, sizeof(own) / sizeof(own[0]));
	pthread_mutex_lock(&b->lock);
	while (!err && !bpf_map_get_next_key(calls_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (!bpf_map_lookup_elem(calls_fd, &key, &dl))
			add_call(b, key, &dl, details_fd, &base, &cap, now);
	}
	b->active = !err;
	pthread_mutex_unlock(&b->lock);
	if (calls_fd >= 0)
		close(calls_fd);
	if (details_fd >= 0)
		close(details_fd);
	if (!err)
		pr_info("deadline: ending %u call%s with BYE (%u BYEs); %u cannot be ended (%u learned, "
			"%u early, %u without details)\n", b->cfg.bye_calls,
			b->cfg.bye_calls == 1 ? "" : "s", b->n,
			b->cfg.not_ended_learned + b->cfg.not_ended_early + b->cfg.not_ended_no_details,
			b->cfg.not_ended_learned, b->cfg.not_ended_early, b->cfg.not_ended_no_details);
	publish(b, err || !b->n);
	if (err || !b->n)
		b->active = false;
	return err;
}

/* The calls' outcomes from their transactions: every BYE answered 2xx,
 * one without answer, or one answered otherwise. */
static void tally(struct sd_byes *b)
{
	unsigned i = 0;

	b->cfg.bye_answered = b->cfg.bye_no_answer = b->cfg.bye_otherwise = 0;
	while (i < b->n) {
		unsigned call = b->t[i].call;
		bool none = false, other = false, partial = b->t[i].partial;

		for (; i < b->n && b->t[i].call == call; i++) {
			int st = __atomic_load_n(&b->t[i].status, __ATOMIC_ACQUIRE);

			none |= st == T_NO_ANSWER || st == T_PENDING;
			other |= st >= 300;
		}
		if (partial)
			continue;               /* counted as not ended */
		if (none)
			b->cfg.bye_no_answer++;
		else if (other)
			b->cfg.bye_otherwise++;
		else
			b->cfg.bye_answered++;
	}
}

/* Is the drain these BYEs end still the one in force, offline with its
 * BYEs pending?  A resume or a new drain ends them. */
static bool still_ours(struct sd_byes *b)
{
	struct sd_config cfg;

	sd_config_read(b->pinned, &cfg);
	return cfg.state == SD_OFFLINE && cfg.drain_started_ns == b->drain_started_ns &&
	       (cfg.flags & SD_CF_BYE_PENDING);
}

bool sd_byes_tick(struct sd_byes *b)
{
	__u64 now = sd_now_ns();
	unsigned fresh = 0, pending = 0;
	struct sd_config was;

	if (!b || !b->active)
		return false;
	if (!still_ours(b)) {
		pthread_mutex_lock(&b->lock);
		b->active = false;
		pthread_mutex_unlock(&b->lock);
		pr_info("the deadline's BYEs stop: the drain was resumed or replaced%s\n",
			b->cfg.on_offline[0] && !(b->cfg.flags & SD_CF_HOOK_DONE) ?
			" (the on-offline hook, which waited for them, does not run)" : "");
		return false;
	}
	was = b->cfg;
	/* no lock: only start() changes the array, in this thread; the data
	 * path writes a transaction's status and provisional flag only */
	for (unsigned i = 0; i < b->n; i++) {
		struct txn *t = &b->t[i];
		int st = __atomic_load_n(&t->status, __ATOMIC_ACQUIRE);

		if (st != T_PENDING)
			continue;
		if (!t->sent) {
			if (fresh >= BURST) {
				pending++;
				continue;
			}
			fresh++;
			t->sent = true;
			t->interval_ns = T1_NS;
			t->next_ns = now + T1_NS;
			t->give_up_ns = now + TIMER_F;
			transmit(b, t);
		} else if (now >= t->give_up_ns) {
			__atomic_store_n(&t->status, T_NO_ANSWER, __ATOMIC_RELEASE);
			continue;
		} else if (now >= t->next_ns) {
			transmit(b, t);
			if (__atomic_load_n(&t->provisional, __ATOMIC_ACQUIRE))
				t->interval_ns = T2_NS;
			else if (t->interval_ns < T2_NS)
				t->interval_ns = t->interval_ns * 2 < T2_NS ? t->interval_ns * 2 : T2_NS;
			t->next_ns = now + t->interval_ns;
		}
		pending++;
	}
	tally(b);
	if (!pending) {
		pthread_mutex_lock(&b->lock);
		b->active = false;
		pthread_mutex_unlock(&b->lock);
	}
	/* the figures as they move, and the end */
	if (!pending || was.bye_answered != b->cfg.bye_answered ||
	    was.bye_no_answer != b->cfg.bye_no_answer || was.bye_otherwise != b->cfg.bye_otherwise)
		publish(b, !pending);
	return pending;
}

bool sd_byes_response(void *arg, const char *msg, size_t len, unsigned status)
{
	struct sd_byes *b = arg;
	const char *p = memmem(msg, len, BRANCH_HEAD, sizeof(BRANCH_HEAD) - 1);
	size_t tl = strlen(b->run_tag);
	unsigned long id;
	char *end;
	bool ours = false;

	if (!p)
		return false;
	p += sizeof(BRANCH_HEAD) - 1;
	if ((size_t)(msg + len - p) <= tl + 1 || memcmp(p, b->run_tag, tl) || p[tl] != '-')
		return false;
	p += tl + 1;
	id = strtoul(p, &end, 10);
	if (end == p)
		return false;
	/* never wait on the engine from the data path: a response missed
	 * here comes again with the BYE's next retransmission */
	if (pthread_mutex_trylock(&b->lock))
		return true;
	if (b->active && id < b->n) {
		struct txn *t = &b->t[id];

		ours = true;
		if (status < 200)
			__atomic_store_n(&t->provisional, true, __ATOMIC_RELEASE);
		else if (__atomic_load_n(&t->status, __ATOMIC_ACQUIRE) == T_PENDING)
			__atomic_store_n(&t->status, (int)status, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&b->lock);
	if (ours)
		__atomic_fetch_add(&b->c->bye_responses, 1, __ATOMIC_RELAXED);
	return ours;
}
