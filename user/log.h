/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Logging in the manner of xdp-tools: warnings always, info by default,
 * debug (and libbpf/libxdp chatter) with --verbose. */
#ifndef SD_LOG_H
#define SD_LOG_H

#include <stddef.h>

enum sd_log_level { SD_LOG_WARN, SD_LOG_INFO, SD_LOG_DEBUG };

void sd_log_set_level(enum sd_log_level lvl);
/* From now on each line of this process's log starts with the time
 * (ISO 8601, milliseconds, the zone's offset), or, when stderr is the
 * journal (systemd's JOURNAL_STREAM names it), with the syslog priority
 * prefix <4>, <6>, <7> that journald reads as the line's level: the
 * journal stamps lines itself.  For the long-running commands (run,
 * drain --wait into a file or pipe). */
void sd_log_stamp_auto(void);
void sd_log(enum sd_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* This thread's warnings go into buf (the first one, cut to cap) rather
 * than to stderr, until called with NULL: for code that answers with
 * what failed instead of logging it (the HTTP threads). */
void sd_log_capture(char *buf, size_t cap);
/* Route libbpf's and libxdp's messages through sd_log (debug level). */
void sd_log_hook_libs(void);

#define pr_warn(...)  sd_log(SD_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  sd_log(SD_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) sd_log(SD_LOG_DEBUG, __VA_ARGS__)

#endif
