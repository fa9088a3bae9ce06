/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The gate's object and its pinned state under sd_pin_dir. */
#ifndef SD_GATE_H
#define SD_GATE_H

#include <stdbool.h>
#include "sipdrain_common.h"

struct sipdrain;

/* Open the embedded BPF object (not loaded, nothing pinned). */
struct sipdrain *sd_gate_open(__u32 max_dialogs, bool record_last);
/* Before load: the gated ports (read-only data of the programs); n == 0:
 * dynamic, read from the config map per packet (classify). */
void sd_gate_set_ports(struct sipdrain *skel, const __u16 *ports, __u32 n);
void sd_gate_close(struct sipdrain *skel);

/* Names, for status and JSON. */
extern const char *const sd_counter_names[SD_C_TOTAL];
extern const char *const sd_responder_counter_names[SD_RC_MAX];
extern const char *const sd_method_names[SD_M_MAX];
extern const char *const sd_state_names[SD_STATE_MAX];
/* The name of a state, "unknown" for a value no build writes. */
const char *sd_state_name(__u32 state);
extern const char *const sd_kind_names[SD_K_MAX];
extern const char *const sd_verdict_names[SD_V_MAX];
int sd_method_by_name(const char *name);      /* -1 if unknown */
int sd_state_by_name(const char *name);       /* -1 if unknown */

/* Pins: SD_PIN_DIR, or --pin-dir / SIPDRAIN_PIN_DIR (one gate per
 * directory: several SIP servers on one host). */
extern const char *sd_pin_dir;
int sd_set_pin_dir(const char *dir);
int sd_bpffs_prepare(void);                   /* mount bpffs, mkdir pin dir */
bool sd_is_attached(void);                    /* pinned config exists */
int sd_pinned_map_fd(const char *name);       /* -errno when missing */
/* The pinned config map of an attached gate, after checking that every
 * pin has this build's layout (one line on failure). */
int sd_open_config(void);
/* detach only: the config of a gate of any layout (its interface list
 * sits at the same place in every build). */
int sd_open_config_any(bool any_layout);
int sd_meta_get(struct sd_meta *m);
int sd_pin_all(struct sipdrain *skel, int prog_fd, int egress_fd);
void sd_unpin_all(void);

/* The one config entry (a consistent copy: seqlock over the mmapped
 * value) and the summed per-CPU counters.  A read-modify-write holds
 * sd_lock() from the read to the write. */
int sd_config_get(int fd, struct sd_config *cfg);
int sd_config_set(int fd, const struct sd_config *cfg);
/* The same on a mapping the caller keeps (the responder, per batch). */
void sd_config_read(const volatile struct sd_config *m, struct sd_config *out);
void sd_config_write(volatile struct sd_config *m, const struct sd_config *cfg);
/* The pin directory's lock (flock): an fd to give to sd_unlock, or
 * -errno after one line. */
int sd_lock(void);
void sd_unlock(int fd);
/* A read-modify-write of the pinned config: the checked config open,
 * the lock taken, *cfg read.  Returns the config fd (*lock the lock),
 * or -errno after one line.  sd_config_end writes cfg (NULL: nothing),
 * releases the lock and closes; 0 or -errno after one line. */
int sd_config_begin(struct sd_config *cfg, int *lock);
int sd_config_end(int fd, int lock, const struct sd_config *cfg);
/* Name this process (pid, uid) as the one that changed the state: drain,
 * resume and the switch to offline do, for run's audit log. */
void sd_config_stamp(struct sd_config *cfg);
int sd_counters_get(int fd, struct sd_counters *sum);
/* Packets the gate saw: the sum of the classes each packet lands in. */
__u64 sd_counters_packets(const struct sd_counters *c);

/* Root and BPF checks with one clear line on failure. */
int sd_require_root(void);

#endif
