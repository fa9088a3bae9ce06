// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static enum sd_log_level log_level = SD_LOG_INFO;
static __thread char *capture;
static __thread size_t capture_cap;

void sd_log_set_level(enum sd_log_level lvl)
{
	log_level = lvl;
}

void sd_log_capture(char *buf, size_t cap)
{
	capture = cap ? buf : NULL;
	capture_cap = cap;
	if (capture)
		capture[0] = 0;
}

static void vlog(enum sd_log_level lvl, const char *fmt, va_list ap)
{
	if (lvl == SD_LOG_WARN && capture) {
		/* the first line is the cause; what follows is consequence */
		if (!capture[0])
			vsnprintf(capture, capture_cap, fmt, ap);
		return;
	}
	if (lvl > log_level)
		return;
	if (lvl == SD_LOG_WARN)
		fputs("sipdrain: ", stderr);
	vfprintf(stderr, fmt, ap);
}

void sd_log(enum sd_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

/* The libraries' own warnings are chatter for an operator: our caller
 * prints one clear line when something fails. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (log_level >= SD_LOG_DEBUG)
		vfprintf(stderr, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (log_level >= SD_LOG_DEBUG)
		vfprintf(stderr, fmt, ap);
	return 0;
}

void sd_log_hook_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
