// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The calls' details: the capture ring into SD_MAP_DETAILS.
 *
 * Per call (Call-ID hash) the entry keeps two header sections and where
 * they came from:
 *  - the INVITE as it reached the server, from the caller (ingress); a
 *    retry (after 401/407, a higher CSeq) replaces it;
 *  - the first 2xx to that INVITE: received by the server (the callee
 *    answered: the server is a proxy, or placed the call itself), or
 *    else sent by it (the server answered: it is the UAS).
 * 2xx to re-INVITEs only raise the CSeq number of the side that sent the
 * re-INVITE, so that a BYE at the deadline goes above it.  Which side
 * that is follows from whom the 2xx came from or went to: a 2xx a party
 * sends answers the other side's request, a 2xx sent to a party
 * answers its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "details.h"
#include "gate.h"
#include "log.h"
#include "sip_hdr.h"
#include "snapshot.h"

struct sd_details_reader {
	struct ring_buffer *rb;
	struct sd_responder_counters *c;
	int ring_fd, details_fd;
	pthread_t thread;
	volatile bool stop;
};

size_t sd_header_section_len(const char *msg, size_t len)
{
	size_t last = 0;

	for (size_t i = 0; i < len; i++) {
		if (msg[i] != '\n')
			continue;
		/* an empty line: LF, or CR LF, right after the previous LF */
		if (i > 0 && (msg[i - 1] == '\n' || (msg[i - 1] == '\r' && i > 1 && msg[i - 2] == '\n')))
			return i + 1;
		last = i + 1;
	}
	return last;
}

/* The lines of header section m[0..len) a BYE needs, into out (cap
 * bytes): the start line; From, To, Call-ID, CSeq, Contact and
 * Record-Route (long or compact names, with their folds); the line after
 * Record-Route lines (in a section cut short it tells the builder the
 * route set ended there); the empty line that ends the section, if it
 * was copied.  Returns the bytes written, 0 when they do not fit. */
size_t sd_details_keep(const char *m, size_t len, char *out, size_t cap)
{
	size_t i = 0, n = 0, start;
	bool after_rr = false;
	struct sd_hline h;
	int rc;

	while (i < len && m[i] != '\n')
		i++;
	if (i >= len)
		return 0;
	i++;
	if (i > cap)
		return 0;
	memcpy(out, m, i);
	n = i;
	for (;;) {
		bool keep, rr;

		start = i;
		rc = sd_next_line(m, len, &i, &h);
		if (rc < 0)
			break;                  /* cut: the complete lines are kept */
		rr = rc > 0 && sd_name_is(h.name, "record-route", 0);
		keep = rc == 0 || rr || after_rr || sd_name_is(h.name, "from", 'f') ||
		       sd_name_is(h.name, "to", 't') || sd_name_is(h.name, "call-id", 'i') ||
		       sd_name_is(h.name, "cseq", 0) || sd_name_is(h.name, "contact", 'm');
		after_rr = rr;
		if (rc == 0) {                  /* the empty line: CRLF or LF */
			i = start + (m[start] == '\r' ? 2 : 1);
			if (i > len)
				break;
		}
		if (keep) {
			if (n + (i - start) > cap)
				return 0;
			memcpy(out + n, m + start, i - start);
			n += i - start;
		}
		if (rc == 0)
			break;
	}
	return n;
}

/* The number of the CSeq header of a header section (0: none): the
 * lines read as the BYE builder reads them (folds included). */
static __u32 cseq_number(const char *m, size_t len)
{
	struct sd_hline h;
	size_t i;
	__u64 n = 0;

	for (i = 0; i < len && m[i] != '\n'; i++)
		;                               /* past the start line */
	for (i++; i < len && sd_next_line(m, len, &i, &h) > 0;) {
		if (!sd_name_is(h.name, "cseq", 0))
			continue;
		for (size_t k = 0; k < h.value.n && h.value.p[k] >= '0' && h.value.p[k] <= '9' &&
				   n <= 0xffffffffULL; k++)
			n = n * 10 + (h.value.p[k] - '0');
		return n <= 0xffffffffULL ? (__u32)n : 0;
	}
	return 0;
}

static bool same_party(const struct sd_hop *a, const struct sd_hop *b)
{
	return a->family == b->family && a->party_port == b->party_port &&
	       !memcmp(a->party_addr, b->party_addr, a->family == 4 ? 4 : 16);
}

/* true when n is above what *side had */
static bool raise_cseq(__u32 *side, __u32 n)
{
	if (n <= *side)
		return false;
	*side = n;
	return true;
}

int sd_details_apply(int fd, const struct sd_capture *c)
{
	static struct sd_details d;     /* 4 KiB: not on the stack of a thread */
	const struct sd_capture_hdr *h = &c->h;
	size_t len = sd_header_section_len(c->sip, h->len < SD_CAPTURE_SIP_MAX ?
					   h->len : SD_CAPTURE_SIP_MAX);
	__u32 n = cseq_number(c->sip, len);
	size_t kept;
	bool have = !bpf_map_lookup_elem(fd, &h->call_id_hash, &d);

	if (!len)
		return 0;
	if (!have) {
		memset(&d, 0, sizeof(d));
		d.call_id_hash = h->call_id_hash;
	}
	if (h->kind == SD_K_REQUEST) {
		/* the INVITE from the caller; a retry after a challenge
		 * (higher CSeq) replaces it, a retransmission does not */
		if (h->dir != SD_CAP_INGRESS ||
		    ((d.flags & SD_DT_INVITE_IN) && n <= d.cseq_caller))
			return 0;
		if (d.flags & (SD_DT_2XX_IN | SD_DT_2XX_OUT))
			return 0;               /* answered already: this is late */
		kept = sd_details_keep(c->sip, len, d.invite, sizeof(d.invite));
		if (!kept)
			return -EMSGSIZE;
		d.flags |= SD_DT_INVITE_IN;
		d.caller = h->hop;
		d.cseq_caller = n;
		d.invite_len = kept;
	} else if (h->kind == SD_K_RESPONSE) {
		bool from_party = h->dir == SD_CAP_INGRESS;

		if (!(d.flags & (SD_DT_2XX_IN | SD_DT_2XX_OUT))) {
			/* the 2xx that made the dialog: the callee's (received)
			 * is kept over the server's own (sent, a UAS) */
			if (from_party) {
				d.flags |= SD_DT_2XX_IN;
				d.callee = h->hop;
			} else if (d.flags & SD_DT_INVITE_IN) {
				d.flags |= SD_DT_2XX_OUT;
			} else {
				return 0;       /* a UAS whose INVITE we did not see */
			}
			kept = sd_details_keep(c->sip, len, d.resp, sizeof(d.resp));
			if (!kept)
				return -EMSGSIZE;
			d.resp_len = kept;
			/* the INVITE's side sent the request it answers */
			(void)raise_cseq(&d.cseq_caller, n);
		} else if ((d.flags & SD_DT_INVITE_IN) && same_party(&h->hop, &d.caller)) {
			/* a re-INVITE's 2xx: from the caller it answers the
			 * callee's side, to the caller its own */
			if (!raise_cseq(from_party ? &d.cseq_callee : &d.cseq_caller, n))
				return 0;
		} else if ((d.flags & SD_DT_2XX_IN) && same_party(&h->hop, &d.callee)) {
			if (!raise_cseq(from_party ? &d.cseq_caller : &d.cseq_callee, n))
				return 0;
		} else {
			return 0;               /* a party we do not know of this call */
		}
	} else {
		return 0;
	}
	d.updated_ns = sd_now_ns();
	if (bpf_map_update_elem(fd, &h->call_id_hash, &d, BPF_ANY))
		return -errno;
	return 1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct sd_details_reader *dr = ctx;
	int err;

	if (size < sizeof(struct sd_capture_hdr) ||
	    size < sizeof(struct sd_capture_hdr) + ((const struct sd_capture_hdr *)data)->len)
		return 0;                       /* not a record this build wrote */
	err = sd_details_apply(dr->details_fd, data);
	if (err > 0)
		__atomic_fetch_add(&dr->c->details_kept, 1, __ATOMIC_RELAXED);
	else if (err == -E2BIG || err == -ENOMEM)
		__atomic_fetch_add(&dr->c->details_full, 1, __ATOMIC_RELAXED);
	else if (err == -EMSGSIZE)
		__atomic_fetch_add(&dr->c->details_too_big, 1, __ATOMIC_RELAXED);
	else if (err < 0)
		pr_debug("cannot keep a call's details: %s\n", strerror(-err));
	return 0;                       /* never stop the ring for one record */
}

static void *reader(void *arg)
{
	struct sd_details_reader *dr = arg;

	while (!dr->stop) {
		/* the programs wake us only when the ring fills up: read it
		 * on a clock too */
		int n = ring_buffer__poll(dr->rb, SD_CAPTURE_POLL_MS);

		if (n >= 0)
			n = ring_buffer__consume(dr->rb);

		if (n < 0 && n != -EINTR) {
			pr_warn("the capture ring cannot be read (%s): calls set up from now on "
				"cannot be ended with BYE at the deadline\n", strerror(-n));
			break;
		}
	}
	return NULL;
}

struct sd_details_reader *sd_details_start(struct sd_responder_counters *c)
{
	struct sd_details_reader *dr = calloc(1, sizeof(*dr));
	sigset_t all, old;
	int err;

	if (!dr)
		return NULL;
	dr->c = c;
	dr->ring_fd = sd_pinned_map_fd(SD_STR(SD_MAP_CAPTURE));
	dr->details_fd = sd_pinned_map_fd(SD_STR(SD_MAP_DETAILS));
	if (dr->ring_fd < 0 || dr->details_fd < 0) {
		pr_warn("cannot open the capture ring or the details under %s: %s\n", sd_pin_dir,
			strerror(-(dr->ring_fd < 0 ? dr->ring_fd : dr->details_fd)));
		goto fail;
	}
	dr->rb = ring_buffer__new(dr->ring_fd, on_record, dr, NULL);
	if (!dr->rb) {
		pr_warn("cannot read the capture ring: %s\n", strerror(errno));
		goto fail;
	}
	/* signals are the main thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&dr->thread, NULL, reader, dr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pr_warn("cannot start the capture reader: %s\n", strerror(err));
		ring_buffer__free(dr->rb);
		goto fail;
	}
	pthread_setname_np(dr->thread, "sipdrain-cap");
	return dr;
fail:
	if (dr->ring_fd >= 0)
		close(dr->ring_fd);
	if (dr->details_fd >= 0)
		close(dr->details_fd);
	free(dr);
	return NULL;
}

void sd_details_stop(struct sd_details_reader *dr)
{
	if (!dr)
		return;
	dr->stop = true;
	pthread_join(dr->thread, NULL);
	/* what is still in the ring stays there for the next run */
	ring_buffer__free(dr->rb);
	close(dr->ring_fd);
	close(dr->details_fd);
	free(dr);
}

/* Is the call of this Call-ID hash still up in either table? */
static bool call_up(int calls_fd, int attempts_fd, __u64 key, const struct sd_config *cfg, __u64 now)
{
	struct sd_dialog dl;

	if (!bpf_map_lookup_elem(calls_fd, &key, &dl) && sd_dialog_effective(&dl, now, cfg) != SD_D_ENDED)
		return true;
	return !bpf_map_lookup_elem(attempts_fd, &key, &dl) &&
	       sd_dialog_effective(&dl, now, cfg) != SD_D_ENDED;
}

int sd_details_sweep(int fd, int calls_fd, int attempts_fd, const struct sd_config *cfg,
		     unsigned int budget)
{
	static __u64 keys[4096], cursor;
	static bool resume;
	__u64 now = sd_now_ns();
	unsigned int n = 0;
	int removed = 0, err = 0, last_kept = -1;

	if (budget > sizeof(keys) / sizeof(keys[0]))
		budget = sizeof(keys) / sizeof(keys[0]);
	/* the keys first, then the deletions: get_next_key from a key just
	 * deleted would start the walk over */
	while (n < budget) {
		if (bpf_map_get_next_key(fd, resume ? &cursor : NULL, &keys[n])) {
			err = errno == ENOENT ? 0 : -errno;
			resume = false;         /* the end: start over next time */
			break;
		}
		cursor = keys[n++];
		resume = true;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (call_up(calls_fd, attempts_fd, keys[i], cfg, now))
			last_kept = i;
		else if (!bpf_map_delete_elem(fd, &keys[i]))
			removed++;
	}
	/* from a key just deleted the walk would start over: go on after
	 * the last one kept, or (all of the slice gone) from the start */
	if (resume) {
		if (last_kept >= 0)
			cursor = keys[last_kept];
		else
			resume = false;
	}
	return err ? err : removed;
}
