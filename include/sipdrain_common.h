/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sipdrain ABI: everything that crosses the kernel/user boundary.
 *
 * Included by the XDP program (bpf/) and by userspace (user/, tests/).
 * Nothing here is declared anywhere else: map key/value structs, enums,
 * the counter layout, limits and map names all live in this one header.
 */
#ifndef SIPDRAIN_COMMON_H
#define SIPDRAIN_COMMON_H

#include <linux/types.h>

/* ---- where state lives ---------------------------------------------- */
#define SD_PIN_DIR        "/sys/fs/bpf/sipdrain"
#define SD_PROG_PIN       "prog"          /* pinned XDP program */
#define SD_PROG_EGRESS_PIN "prog_egress"  /* pinned TC egress program */

/* Map names as macros (xdp-tools style): the pin file name equals the
 * map name, so `bpftool map dump pinned /sys/fs/bpf/sipdrain/<name>`. */
#define SD_MAP_CONFIG     sd_config       /* ARRAY[1] of struct sd_config */
#define SD_MAP_COUNTERS   sd_counters     /* PERCPU_ARRAY[1] of struct sd_counters */
#define SD_MAP_CALLS      sd_calls        /* HASH Call-ID hash -> struct sd_dialog: answered and learned calls */
#define SD_MAP_ATTEMPTS   sd_attempts     /* LRU_HASH Call-ID hash -> struct sd_dialog: attempts */
#define SD_MAP_LEARNING   sd_learning     /* LRU_HASH Call-ID hash -> struct sd_dialog: in-dialog traffic
					   * from outside for unknown calls, until the server answers */
#define SD_MAP_META       sd_meta         /* ARRAY[1] of struct sd_meta: ABI, observation horizon */
#define SD_MAP_XSKS       sd_xsks         /* XSKMAP (iface slot, rx queue) -> AF_XDP socket */
#define SD_MAP_SCRATCH    sd_scratch      /* PERCPU_ARRAY[1] scanner buffer + state */
#define SD_MAP_LAST       sd_last         /* ARRAY[1] last verdict (classify/tests only) */
#define SD_MAP_RESPONDER  sd_responder    /* ARRAY[1] of struct sd_responder, written by `run` */
#define SD_MAP_GUARD      sd_guard        /* LRU_HASH source -> struct sd_guard_state */
#define SD_MAP_PEERS      sd_peers        /* LRU_HASH source -> struct sd_peer_state: known peers */
#define SD_MAP_ADDRS      sd_addrs        /* HASH struct sd_addr_key -> enum sd_addr_kind: the
					   * server's own addresses, written by attach and run */
#define SD_MAP_CAPTURE    sd_capture      /* RINGBUF of struct sd_capture: header sections of the
					   * INVITEs that reach the server and of 2xx to INVITE */
#define SD_MAP_DETAILS    sd_details      /* HASH Call-ID hash -> struct sd_details: what a BYE
					   * at the deadline needs; written by `run` only */
/* Pin names of earlier builds, removed by detach. */
#define SD_LEGACY_PINS    "sd_dialogs"
#define SD_STR_(x) #x
#define SD_STR(x) SD_STR_(x)

/* Version of this header's layouts as pinned: bumped whenever a pinned
 * map's type, key, value or meaning changes.  Pins without sd_meta were
 * made by ABI 1 (one LRU dialog table).  ABI 3: state and allow_mask
 * side by side (one 64-bit word), seq, peer_window_ns, sd_peers, sd_addrs.
 * ABI 4: changed_by_pid/uid.  ABI 5: sd_capture, sd_details, counters captured
 * and capture_lost. */
#define SD_ABI_VERSION    5

/* ---- limits ---------------------------------------------------------- */
#define SD_MAX_PORTS      8
#define SD_MAX_IFACES     8
#define SD_MAX_QUEUES     64              /* per interface, for the XSKMAP */
#define SD_XSK_ENTRIES    (SD_MAX_IFACES * SD_MAX_QUEUES)
/* The XSKMAP key of interface slot s (struct sd_config.ifindex), RX queue q */
#define SD_XSK_KEY(s, q)  ((s) * SD_MAX_QUEUES + (q))
/* AF_XDP frames are 4 KiB; the kernel keeps 256 bytes of headroom.  A
 * longer datagram is not redirected (it passes, counted as fallback). */
#define SD_XSK_FRAME_SIZE 4096
#define SD_XSK_HEADROOM   256
/* A 503 may exceed its request by this much, no more (a reflector must
 * not amplify) */
#define SD_REPLY_MAX_GROWTH 256
/* the longest frame redirected: its reply must fit the same chunk */
#define SD_XSK_MAX_PACKET (SD_XSK_FRAME_SIZE - SD_XSK_HEADROOM - SD_REPLY_MAX_GROWTH)
/* Bytes of UDP payload the scanner may examine: the whole header section
 * of any datagram up to 16 KiB, so of every jumbo frame (9000 bytes).
 * Only what the datagram holds is copied, so a short one costs no more.
 * Power of two: offsets are masked with SD_SCAN_MAX - 1 to keep the
 * verifier's range proofs.  make bench builds it also with 2048 (the
 * budget before) to show what the longer one costs. */
#ifndef SD_SCAN_MAX
#define SD_SCAN_MAX       16384
#endif
/* Bytes the state machine may examine one by one (outside the runs it
 * skips: lines not read, <...> of To, the Call-ID word): what bounds the
 * scan's time.  A legitimate header section needs a few hundred; a To
 * value stuffed with ';' would need one each (about 6 ns each here). */
#define SD_SCAN_STEPS     2048
#define SD_DEFAULT_PORT   5060
#define SD_DEFAULT_DIALOGS (1U << 18)
#define SD_DEFAULT_RETRY_AFTER 300

/* The responder's To tags start with this; an ACK whose To tag starts
 * with it acknowledges our 503 and is absorbed before the server. */
#define SD_TAG_PREFIX     "sdrn503-"
#define SD_TAG_PREFIX_LEN 8

/* ---- enums ----------------------------------------------------------- */
enum sd_state {
	SD_SERVING = 0,         /* zero value: a fresh config passes everything */
	SD_DRAINING = 1,
	SD_OFFLINE = 2,
	SD_STATE_MAX,
};

enum sd_kind {
	SD_K_NOT_SIP = 0,
	SD_K_REQUEST,
	SD_K_RESPONSE,
	SD_K_KEEPALIVE,
	SD_K_UNPARSED,
	SD_K_MAX,
};

/* Why a message ended up SD_K_UNPARSED. */
enum sd_unparsed {
	SD_U_NONE = 0,
	SD_U_TRUNCATED,         /* datagram ended before the header section did */
	SD_U_BUDGET,            /* header section longer than SD_SCAN_MAX, or more
				 * than SD_SCAN_STEPS bytes to examine one by one */
	SD_U_MALFORMED,         /* bare CR, bad status line */
};

/* X-macro: method enum value, name.  Order is the ABI. */
#define SD_METHODS(X) \
	X(OTHER, "other") X(INVITE, "INVITE") X(ACK, "ACK") X(BYE, "BYE") \
	X(CANCEL, "CANCEL") X(OPTIONS, "OPTIONS") X(REGISTER, "REGISTER") \
	X(SUBSCRIBE, "SUBSCRIBE") X(NOTIFY, "NOTIFY") X(REFER, "REFER") \
	X(INFO, "INFO") X(UPDATE, "UPDATE") X(PRACK, "PRACK") \
	X(MESSAGE, "MESSAGE") X(PUBLISH, "PUBLISH")

#define SD_METHOD_ENUM_(id, name) SD_M_##id,
enum sd_method { SD_METHODS(SD_METHOD_ENUM_) SD_M_MAX };
#undef SD_METHOD_ENUM_

enum sd_verdict {
	SD_V_PASS = 0,
	SD_V_REDIRECT,          /* to the responder (XDP_PASS if no socket) */
	SD_V_DROP,
	SD_V_MAX,
};

/* ---- config ---------------------------------------------------------- */
/* The one entry of SD_MAP_CONFIG.  Written by the CLI and the agent
 * under the pin directory's lock, read per packet.  Writers go through
 * the mmapped value as a seqlock (seq odd while writing; readers retry):
 * userspace always reads a consistent config.  The XDP program reads only
 * state and allow_mask at run time (the rest changes at attach), and
 * those two share one aligned 64-bit word that every writer stores in
 * one instruction: a packet never sees a new state with an old mask. */
struct sd_config {
	__u32 state;                    /* enum sd_state */
	__u32 allow_mask;               /* bit (1 << enum sd_method): passes while DRAINING */
	__u32 retry_after;              /* seconds, for the responder's 503 */
	__u32 nports;
	__u16 ports[SD_MAX_PORTS];      /* UDP ports gated, host order */
	__u32 nifaces;
	__u32 ifindex[SD_MAX_IFACES];   /* slot -> ifindex; XSKMAP key = slot * SD_MAX_QUEUES + queue */
	__u32 xdp_mode[SD_MAX_IFACES];  /* enum xdp_attach_mode used on that slot */
	__u32 max_dialogs;
	__u32 retry_jitter;             /* seconds of random spread added to retry_after */
	__u64 drain_started_ns;         /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 deadline_ns;              /* CLOCK_MONOTONIC; 0: no deadline */
	__u64 offline_ns;               /* when OFFLINE began */
	__u32 flags;                    /* SD_CF_* */
	__u32 offline_reason;           /* enum sd_offline_reason */
	__u32 calls_cut;                /* dialogs still up when the deadline struck */
	__u32 auth_grace_ms;            /* a 401/407 keeps an attempt alive this long */
	__u64 dialog_idle_ns;           /* a dialog silent this long has ended */
	char on_offline[256];           /* command `run` runs once when OFFLINE begins */
	__u32 reply_rate;               /* answered requests per second per source (0: no limit) */
	__u32 reply_burst;              /* ... and the burst allowed above that rate */
	__u32 ntcp_ports;
	__u16 tcp_ports[SD_MAX_PORTS];  /* SIP over TCP/TLS: new connections refused (RST) */
	__u32 seq;                      /* seqlock: odd while a writer changes the config */
	__u64 min_watch_ns;             /* early offline only after watching this long (0: off) */
	__u64 peer_window_ns;           /* a source the server answered is a known peer this
					 * long (0: no known peers, every source guarded) */
	__u32 changed_by_pid;           /* the process of the last drain, resume or switch to */
	__u32 changed_by_uid;           /* offline, and its user: run's audit log names them */
	/* the BYEs at the deadline (SD_CF_BYE_PENDING while they go on):
	 * calls sent a BYE, and how it went for them */
	__u32 bye_calls;                /* calls still up at the deadline sent a BYE */
	__u32 bye_answered;             /* ... every BYE answered 2xx */
	__u32 bye_no_answer;            /* ... a BYE without final response in 64*T1 */
	__u32 bye_otherwise;            /* ... a BYE answered with a final non-2xx */
	__u32 not_ended_learned;        /* calls learned from in-dialog traffic: no details */
	__u32 not_ended_early;          /* early dialogs (no 2xx yet) */
	__u32 not_ended_no_details;     /* confirmed, but no usable details (not captured,
					 * no Contact, malformed Record-Route, ...) */
	__u32 bye_pad;
};
/* detach reads the interface list of a gate of any ABI at this offset */
_Static_assert(__builtin_offsetof(struct sd_config, ifindex) == 36, "ifindex moved");
_Static_assert(__builtin_offsetof(struct sd_config, allow_mask) == 4, "state word");

/* The one entry of SD_MAP_META.  Written at attach; table_full_ns by the
 * programs.  CLOCK_MONOTONIC unless named _unix (CLOCK_REALTIME). */
struct sd_meta {
	__u32 abi;                      /* SD_ABI_VERSION of the build that attached */
	__u32 pad;
	__u64 watch_start_ns;           /* when the gate began watching this server */
	__u64 watch_start_unix_ns;
	__u64 table_full_ns;            /* last time an answered call found no room */
};

/* A call that began before the gate and sends nothing is invisible: early
 * offline waits until the gate has watched this long (--min-watch). */
#define SD_DEFAULT_MIN_WATCH_S  7200

#define SD_DEFAULT_REPLY_RATE  1000
#define SD_DEFAULT_REPLY_BURST 2000
#define SD_GUARD_SOURCES       65536   /* sources the guard remembers (LRU) */
/* Addresses the server answered with a 2xx, or sent the ACK of a call's
 * 2xx to (TC egress), are known peers for this long: their refusals are
 * not limited per source (a trunk sends thousands a second). */
#define SD_DEFAULT_PEER_WINDOW_S 86400
#define SD_PEERS_MAX           65536
/* A peer's time stamp is rewritten at most this often (no write per response) */
#define SD_PEER_REFRESH_NS     1000000000ULL
#define SD_ADDRS_MAX           4096    /* a Kubernetes node: one fe80:: per veth */

/* A source of refused requests: an IPv4 address or an IPv6 /64. */
struct sd_guard_key {
	__u32 family;           /* 4 or 6 */
	__u32 v4;               /* network order */
	__u64 v6_prefix;        /* first 64 bits, as on the wire */
};

struct sd_peer_state {
	__u64 first_ns;         /* CLOCK_MONOTONIC: the server's first 2xx or ACK to it */
	__u64 last_ns;          /* ... the latest (to SD_PEER_REFRESH_NS) */
};

/* An address of the server (its interfaces, any scope but host). */
struct sd_addr_key {
	__u32 family;           /* 4 or 6 */
	__u8 addr[16];          /* network order; IPv4 in the first 4 bytes */
};

enum sd_addr_kind {
	SD_ADDR_LOCAL = 1,      /* a unicast address of the server: requests to it are ours */
	SD_ADDR_BROADCAST = 2,  /* a subnet broadcast address: never a sender */
};

/* GCRA: the theoretical arrival time of the next answered request. */
struct sd_guard_state {
	__u64 tat_ns;
	__u64 dropped;
};

#define SD_CF_NO_EARLY_OFFLINE 0x1      /* wait for the deadline even with no call left */
#define SD_CF_RETRY_AUTO       0x2      /* Retry-After: seconds left to the deadline */
#define SD_CF_HOOK_DONE        0x4      /* on_offline has run */
#define SD_CF_UNSEEN_CUT       0x8      /* offline at the deadline while early offline was
					 * still held (min-watch, full table): calls the
					 * gate could not see may have been cut */
#define SD_CF_BYE_OFF          0x10     /* drain --at-deadline refuse: calls left up */
#define SD_CF_BYE_PENDING      0x20     /* the deadline's BYEs go on (run): the hook waits */

enum sd_offline_reason {
	SD_OR_NONE = 0,
	SD_OR_LAST_CALL,                /* no dialog left before the deadline */
	SD_OR_DEADLINE,                 /* the deadline struck */
};

#define SD_DEFAULT_AUTH_GRACE_MS 5000
#define SD_DEFAULT_DIALOG_IDLE_S 7200
/* An attempt nobody answered, or a BYE nobody answered, is over after
 * 64*T1 (RFC 3261 timers B and F). */
#define SD_TRANSACTION_TIMEOUT_NS (32ULL * 1000000000ULL)

/* CANCEL and ACK always pass a drain: they belong to transactions the
 * server already has (DESIGN.md, "which methods are refused"). */
#define SD_ALLOW_ALWAYS ((1U << SD_M_CANCEL) | (1U << SD_M_ACK))

/* ---- counters -------------------------------------------------------- */
/* X-macro: field name, help text.  One __u64 each, per CPU, in this
 * order; the struct gives bpftool the names, the index enum lets the
 * XDP program bump a field by number. */
/* Every packet lands in exactly one of other_traffic, ip_fragments,
 * bad_l3, not_sip, keepalives, requests, responses, unparsed: userspace
 * adds them up for "packets" (one increment less per packet). */
#define SD_COUNTERS(X) \
	X(other_traffic,      "not UDP to a SIP port (ARP, ICMP, TCP, other ports)") \
	X(ip_fragments,       "IP fragments (passed unread)") \
	X(bad_l3,             "truncated or malformed L2/L3/L4 headers (passed)") \
	X(not_sip,            "UDP to a SIP port that is not SIP") \
	X(keepalives,         "CRLF keep-alives") \
	X(requests,           "SIP requests") \
	X(responses,          "SIP responses") \
	X(unparsed,           "SIP-looking datagrams the scanner could not finish") \
	X(unparsed_truncated, "unparsed: header section not terminated") \
	X(unparsed_budget,    "unparsed: header section beyond the scan budget") \
	X(unparsed_malformed, "unparsed: bare CR or bad status line") \
	X(req_in_dialog,      "requests with a To tag") \
	X(req_invite,   "INVITE")   X(req_ack,      "ACK")      X(req_bye,     "BYE") \
	X(req_cancel,   "CANCEL")   X(req_options,  "OPTIONS")  X(req_register,"REGISTER") \
	X(req_subscribe,"SUBSCRIBE") X(req_notify,  "NOTIFY")   X(req_refer,   "REFER") \
	X(req_info,     "INFO")     X(req_update,   "UPDATE")   X(req_prack,   "PRACK") \
	X(req_message,  "MESSAGE")  X(req_publish,  "PUBLISH")  X(req_other,   "other methods") \
	X(resp_1xx, "1xx") X(resp_2xx, "2xx") X(resp_3xx, "3xx") X(resp_4xx, "4xx") \
	X(resp_5xx, "5xx") X(resp_6xx, "6xx") X(resp_other, "status outside 100-699") \
	X(verdict_pass,       "passed to the server") \
	X(verdict_redirect,   "redirected to the responder") \
	X(verdict_drop,       "dropped") \
	X(redirect_fallback,  "redirect wanted, no responder socket: passed") \
	X(ack_absorbed,       "ACKs for the responder's 503 (or any ACK while OFFLINE) dropped") \
	X(responses_dropped,  "responses dropped while OFFLINE") \
	X(drain_allowed,      "out-of-dialog requests passed while DRAINING by method policy") \
	X(drain_known_callid, "tagless requests passed while DRAINING: Call-ID of a live call or attempt") \
	X(dialogs_recorded,   "new Call-IDs of INVITEs recorded as attempts") \
	X(guard_dropped,      "refusals over a source's --reply-rate: dropped, not answered") \
	X(guard_known_peer,   "refusals to known peers (answered by the server): not limited per source") \
	X(not_ours,           "refusals not addressed to the server's own unicast address: passed as if no gate") \
	X(bad_source,         "refusals from a source that cannot send (broadcast, multicast, unspecified, loopback, own address, port 0): dropped") \
	X(bad_destination,    "refusals addressed to a broadcast or multicast address: dropped, neither answered nor passed") \
	X(peers_marked,       "2xx responses and ACKs of the server that made or refreshed a known peer") \
	X(tcp_syn_refused,    "new TCP connections to a SIP TCP/TLS port refused with RST") \
	X(tcp_passed,         "TCP segments to a SIP TCP/TLS port passed (connections up)") \
	X(dialogs_early,      "dialogs that reached early (1xx with To tag)") \
	X(dialogs_confirmed,  "dialogs confirmed (2xx to INVITE)") \
	X(dialogs_ended,      "dialogs ended (BYE answered, final >= 300, CANCEL/487, 481)") \
	X(calls_learned,      "calls learned from in-dialog traffic (their INVITE not seen)") \
	X(calls_tentative,    "in-dialog traffic from outside for unknown calls: held until the server answers") \
	X(calls_table_full,   "answered or learned calls the call table had no room for (kept as attempts)") \
	X(egress_packets,     "packets seen leaving through the TC egress program") \
	X(egress_requests,    "SIP requests the server sent") \
	X(egress_responses,   "SIP responses the server sent") \
	X(captured,           "INVITEs and 2xx to INVITE copied for the calls' details (a BYE at the deadline)") \
	X(capture_lost,       "of those, not copied: the capture ring was full (the call cannot be ended with BYE)") \
	X(dlg_invite,   "in-dialog INVITE (re-INVITE)") X(dlg_ack,  "in-dialog ACK") \
	X(dlg_bye,      "in-dialog BYE")     X(dlg_cancel,   "in-dialog CANCEL") \
	X(dlg_options,  "in-dialog OPTIONS") X(dlg_register, "in-dialog REGISTER") \
	X(dlg_subscribe,"in-dialog SUBSCRIBE") X(dlg_notify, "in-dialog NOTIFY") \
	X(dlg_refer,    "in-dialog REFER")   X(dlg_info,     "in-dialog INFO") \
	X(dlg_update,   "in-dialog UPDATE")  X(dlg_prack,    "in-dialog PRACK") \
	X(dlg_message,  "in-dialog MESSAGE") X(dlg_publish,  "in-dialog PUBLISH") \
	X(dlg_other,    "in-dialog, other methods")

/* After the named counters: requests by method and verdict, ingress
 * (mv_INVITE_pass, mv_INVITE_redirect, mv_INVITE_drop, ...). */
#define SD_COUNTER_FIELD_(name, help) __u64 name;
#define SD_MV_FIELDS_(id, name) __u64 mv_##id##_pass, mv_##id##_redirect, mv_##id##_drop;
struct sd_counters {
	SD_COUNTERS(SD_COUNTER_FIELD_)
	SD_METHODS(SD_MV_FIELDS_)
};
#undef SD_MV_FIELDS_
#undef SD_COUNTER_FIELD_

#define SD_COUNTER_IDX_(name, help) SD_C_##name,
enum sd_counter_idx { SD_COUNTERS(SD_COUNTER_IDX_) SD_C_MAX };
#undef SD_COUNTER_IDX_
#define SD_C_MV(method, verdict) (SD_C_MAX + (method) * SD_V_MAX + (verdict))
/* The counter of method m in a run of per-method counters in SD_METHODS
 * order from INVITE on, closed by the one for other methods */
#define SD_METHOD_COUNTER(first, other, m) \
	((m) == SD_M_OTHER || (m) >= SD_M_MAX ? (other) : (first) + (m) - SD_M_INVITE)
_Static_assert(SD_C_req_other - SD_C_req_invite == SD_M_MAX - 1, "req_* follow SD_METHODS");
_Static_assert(SD_C_dlg_other - SD_C_dlg_invite == SD_M_MAX - 1, "dlg_* follow SD_METHODS");
_Static_assert(SD_C_resp_other - SD_C_resp_1xx == 6, "resp_1xx..6xx, other");
_Static_assert(SD_C_unparsed_malformed - SD_C_unparsed_truncated == SD_U_MALFORMED - SD_U_TRUNCATED,
	       "unparsed_* follow enum sd_unparsed");
#define SD_C_TOTAL (SD_C_MAX + SD_M_MAX * SD_V_MAX)

/* ---- the responder (sipdrain run) -------------------------------------- */
#define SD_RESPONDER_COUNTERS(X) \
	X(rx_frames,         "frames received on the AF_XDP sockets") \
	X(replies,           "503s sent") \
	X(reply_invite,  "INVITE")  X(reply_ack,      "ACK")      X(reply_bye,     "BYE") \
	X(reply_cancel,  "CANCEL")  X(reply_options,  "OPTIONS")  X(reply_register,"REGISTER") \
	X(reply_subscribe,"SUBSCRIBE") X(reply_notify, "NOTIFY")  X(reply_refer,   "REFER") \
	X(reply_info,    "INFO")    X(reply_update,   "UPDATE")   X(reply_prack,   "PRACK") \
	X(reply_message, "MESSAGE") X(reply_publish,  "PUBLISH")  X(reply_other,   "other methods") \
	X(absorbed_acks,     "ACKs that reached the responder: absorbed") \
	X(ignored_responses, "responses that reached the responder: never answered") \
	X(dropped_malformed, "requests it cannot answer correctly: dropped") \
	X(dropped_too_big,   "reply frame would not fit in its AF_XDP chunk: dropped") \
	X(passed_to_server,  "well-formed requests it cannot answer (size bound, maddr elsewhere): "\
			     "its Call-ID let through, the caller's retransmission reaches the server") \
	X(dropped_not_udp,   "frames that are not UDP/IP: dropped") \
	X(tx_ring_full,      "no room in the TX ring: dropped") \
	X(details_kept,      "captured INVITEs and 2xx kept in the calls' details") \
	X(details_full,      "captured messages the details table had no room for") \
	X(details_too_big,   "captured messages whose lines a BYE needs pass SD_DETAILS_MSG_MAX: not kept") \
	X(bye_sent,          "BYEs sent at a deadline, retransmissions included") \
	X(bye_responses,     "responses to those BYEs: absorbed") \
	X(bye_send_failed,   "BYE transmissions the interface refused")

#define SD_COUNTER_FIELD_(name, help) __u64 name;
struct sd_responder_counters { SD_RESPONDER_COUNTERS(SD_COUNTER_FIELD_) };
#undef SD_COUNTER_FIELD_
#define SD_COUNTER_IDX_(name, help) SD_RC_##name,
enum sd_responder_counter_idx { SD_RESPONDER_COUNTERS(SD_COUNTER_IDX_) SD_RC_MAX };
#undef SD_COUNTER_IDX_
_Static_assert(SD_RC_reply_other - SD_RC_reply_invite == SD_M_MAX - 1, "reply_* follow SD_METHODS");

/* The one entry of SD_MAP_RESPONDER: who answers, on which queues. */
struct sd_responder {
	__u32 pid;                      /* 0: no responder */
	__u32 nsockets;
	__u64 heartbeat_ns;             /* CLOCK_MONOTONIC of the last update */
	__u64 queues_bound[SD_MAX_IFACES];  /* per slot, bit q: socket on RX queue q */
	__u32 queues_total[SD_MAX_IFACES];  /* RX queues the interface has */
	struct sd_responder_counters c;
};

/* ---- dialog tables --------------------------------------------------- */
/* Followed from the wire, both directions (XDP ingress, TC egress).
 * Attempts (INVITEs without To tag, cheap for anyone to send) live in
 * the LRU SD_MAP_ATTEMPTS; a call answered with a tagged 1xx or a 2xx,
 * or learned, moves to SD_MAP_CALLS, a plain hash that never evicts:
 * a flood of attempts cannot push a call out.  In-dialog traffic from
 * outside for a Call-ID neither holds waits in its own LRU,
 * SD_MAP_LEARNING, until the server answers it: forged in-dialog requests
 * compete neither with attempts nor with calls.  A call leaves
 * SD_MAP_CALLS when it ends (BYE answered, the server's final >= 300, 481
 * to a learned call) or, silent past its timeout, when `run` sweeps the
 * table.  SD_MAP_CALLS is not preallocated: an entry deleted while
 * another CPU still holds it is freed after that CPU is done, never
 * reused at once for another call. */
enum sd_dialog_state {
	SD_D_ATTEMPT = 0,       /* INVITE passed to (or sent by) the server */
	SD_D_EARLY,             /* 1xx with a To tag */
	SD_D_CONFIRMED,         /* 2xx to the INVITE */
	SD_D_CLOSING,           /* BYE seen, not yet answered */
	SD_D_ENDED,             /* BYE answered, final >= 300, 487 after CANCEL */
	SD_D_MAX,
};

#define SD_DF_LEARNED   0x01    /* its INVITE was not seen: learned from in-dialog traffic */
#define SD_DF_EGRESS    0x02    /* first seen leaving the server */
#define SD_DF_2XX_IN    0x04    /* confirmed by a 2xx the server received (it forwards or placed
				 * the call): the 2xx it sends on are copies, not captured */

struct sd_dialog {
	__u64 created_ns;       /* bpf_ktime_get_ns() when first recorded */
	__u64 last_ns;          /* last datagram of this Call-ID */
	__u64 rejected_ns;      /* 401/407 to the INVITE: a retry may follow */
	__u8 state;             /* enum sd_dialog_state */
	__u8 flags;             /* SD_DF_* */
	__u8 method;            /* SD_MAP_LEARNING: the request that made it (enum sd_method) */
	__u8 pad;
	__u32 hits;             /* INVITEs with this Call-ID seen */
};
_Static_assert(sizeof(struct sd_dialog) == 32, "struct sd_dialog is pinned: 32 bytes");

/* An entry of SD_MAP_LEARNING not yet vouched for by the server: it
 * never lets a tagless request through a drain. */
static inline int sd_dialog_tentative(const struct sd_dialog *d)
{
	return (d->flags & SD_DF_LEARNED) && d->state == SD_D_ATTEMPT;
}

/* The state a dialog is really in, both sides agree: an attempt refused
 * 401/407 and not retried within the grace, an unanswered INVITE or BYE
 * after 32 s, or any dialog silent for dialog_idle, has ended. */
static inline int sd_dialog_effective(const struct sd_dialog *d, __u64 now,
				      const struct sd_config *cfg)
{
	__u64 idle = now > d->last_ns ? now - d->last_ns : 0;
	__u64 grace = (__u64)(cfg->auth_grace_ms ? cfg->auth_grace_ms : SD_DEFAULT_AUTH_GRACE_MS) *
		      1000000ULL;
	__u64 max_idle = cfg->dialog_idle_ns ? cfg->dialog_idle_ns :
			 SD_DEFAULT_DIALOG_IDLE_S * 1000000000ULL;

	if (d->state >= SD_D_ENDED)
		return SD_D_ENDED;
	if (d->rejected_ns && now > d->rejected_ns && now - d->rejected_ns > grace)
		return SD_D_ENDED;
	if ((d->state == SD_D_ATTEMPT || d->state == SD_D_CLOSING) &&
	    idle > SD_TRANSACTION_TIMEOUT_NS)
		return SD_D_ENDED;
	if (idle > max_idle)
		return SD_D_ENDED;
	return d->state;
}

/* ---- scanner result -------------------------------------------------- */
/* What the scanner learnt of one datagram (see include/sip_scan.h). */
#define SD_F_TO          0x01   /* a To header was seen */
#define SD_F_TO_TAG      0x02   /* ... with a tag parameter */
#define SD_F_TAG_OURS    0x04   /* ... whose value starts with SD_TAG_PREFIX */
#define SD_F_CALLID      0x08   /* call_id_hash is valid */
#define SD_F_CSEQ        0x10   /* cseq_method is valid */
#define SD_F_HDR_END     0x20   /* the empty line ending the headers was seen */

struct sd_result {
	__u64 call_id_hash;     /* FNV-1a 64 of the Call-ID value */
	__u64 status;           /* responses: status code as written */
	__u8 kind;              /* enum sd_kind */
	__u8 method;            /* requests: enum sd_method */
	__u8 cseq_method;       /* enum sd_method of the CSeq header */
	__u8 flags;             /* SD_F_* */
	__u8 unparsed;          /* enum sd_unparsed */
	__u8 verdict;           /* enum sd_verdict */
	__u8 l3;                /* 4 or 6; 0 when not UDP/IP to a SIP port */
	__u8 fragment;          /* 1: IP fragment, not read */
	__u32 xdp_action;       /* what the program returned */
	__u32 seq;              /* bumped per packet, for tests */
};

/* ---- what a BYE at the deadline needs ------------------------------ */
/* At the deadline the calls still up are ended with a BYE to each party
 * (RFC 3261 12.2.1.1, 15), as the dialog's other side would send it.
 * For that the gate keeps, per call, the header sections of two
 * messages: the INVITE as it reached the server (the caller's side: its
 * Contact, From, CSeq, Record-Route) and a 2xx that answered it (the
 * tags, the callee's Contact, the full Record-Route set), with where
 * each came from.  The XDP and TC programs copy only those (INVITEs
 * without To tag that pass to the server, 2xx to INVITE both ways) into
 * SD_MAP_CAPTURE; `run` reads them into SD_MAP_DETAILS, which is pinned
 * (it survives a restart of `run`) and loses a call's entry when the
 * call leaves the call tables. */
#define SD_CAPTURE_SIP_MAX 4096         /* bytes of a message copied: its header section, cut here
					 * (an INVITE with an Identity header passes 2 KiB) */
#define SD_DETAILS_MSG_MAX 896          /* bytes of a message kept: the lines a BYE needs (start
					 * line, From, To, Call-ID, CSeq, Contact, Record-Route),
					 * so that an entry fits a 2 KiB allocation */
#define SD_CAPTURE_RING    (16 << 20)   /* the ring: ~30 000 records of 500 bytes */
#define SD_CAPTURE_POLL_MS 50           /* run reads it this often (no wakeup per record) */
#define SD_L2_MAX          22           /* Ethernet header and two VLAN tags */

enum sd_capture_dir { SD_CAP_INGRESS = 0, SD_CAP_EGRESS = 1 };

/* One party of a leg as the wire showed it: how to reach it again from
 * the server's place.  From a message the party sent to the server
 * (ingress), or the server sent to it (egress). */
struct sd_hop {
	__u32 ifindex;                  /* the interface the message crossed */
	__u32 rx_queue;                 /* ingress: its RX queue (the AF_XDP socket to send on) */
	__u8 family;                    /* 4 or 6 */
	__u8 l2_len;                    /* bytes of l2[] used */
	__u8 l2[SD_L2_MAX];             /* the link-layer header as on the wire: Ethernet
					 * (ingress: destination the server, source the party's
					 * next hop; egress: the reverse) and VLAN tags */
	__u8 party_addr[16];            /* the party's address (IPv4: the first 4 bytes) */
	__u8 server_addr[16];           /* the server's address the party talks to */
	__u16 party_port;               /* host order */
	__u16 server_port;
};

struct sd_capture_hdr {
	__u64 call_id_hash;
	__u8 dir;                       /* enum sd_capture_dir */
	__u8 kind;                      /* SD_K_REQUEST: an INVITE without To tag; SD_K_RESPONSE: a 2xx
					 * with CSeq method INVITE */
	__u16 status;
	__u16 len;                      /* bytes of sip[] */
	__u16 pad;
	struct sd_hop hop;
};

/* A record of SD_MAP_CAPTURE: the header, then h.len bytes of the
 * message (records are as long as that, not sizeof(struct sd_capture)). */
struct sd_capture {
	struct sd_capture_hdr h;
	char sip[SD_CAPTURE_SIP_MAX];   /* the message from its start line: its header section,
					 * and the start of its body when it fits */
};

#define SD_DT_INVITE_IN 0x01            /* invite[] is the INVITE as it reached the server; caller is its sender */
#define SD_DT_2XX_IN    0x02            /* resp[] is a 2xx the server received; callee is its sender */
#define SD_DT_2XX_OUT   0x04            /* resp[] is a 2xx the server sent (it is the UAS) */

/* The value of SD_MAP_DETAILS. */
struct sd_details {
	__u64 call_id_hash;
	__u64 updated_ns;               /* CLOCK_MONOTONIC of the last message kept */
	__u32 flags;                    /* SD_DT_* */
	__u32 cseq_caller;              /* highest CSeq number seen of a request from the caller's
					 * side (its INVITE; re-INVITEs through their 2xx) */
	__u32 cseq_callee;              /* ... from the callee's side (re-INVITEs through their 2xx) */
	__u16 invite_len;               /* bytes of invite[] */
	__u16 resp_len;                 /* bytes of resp[] */
	struct sd_hop caller;           /* SD_DT_INVITE_IN: the INVITE's sender */
	struct sd_hop callee;           /* SD_DT_2XX_IN: the 2xx's sender */
	char invite[SD_DETAILS_MSG_MAX];
	char resp[SD_DETAILS_MSG_MAX];
};
/* kmalloc-2k per call up (value, key and the hash element's ~48 bytes) */
_Static_assert(sizeof(struct sd_details) + 8 + 64 <= 2048, "struct sd_details: one 2 KiB allocation");

#endif /* SIPDRAIN_COMMON_H */
