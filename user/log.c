// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static enum sd_log_level log_level = SD_LOG_INFO;
static enum { STAMP_NONE, STAMP_TIME, STAMP_JOURNAL } stamp;
/* a message may be a line in parts (several calls): the prefix goes
 * before the first part only */
static __thread bool mid_line;
static __thread char *capture;
static __thread size_t capture_cap;

void sd_log_set_level(enum sd_log_level lvl)
{
	log_level = lvl;
}

void sd_log_stamp_auto(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	stamp = STAMP_TIME;
	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
	    st.st_dev == dev && st.st_ino == ino)
		stamp = STAMP_JOURNAL;
}

static void prefix(enum sd_log_level lvl)
{
	struct timespec ts;
	struct tm tm;
	char when[40], zone[8];

	if (stamp == STAMP_JOURNAL) {
		/* sd-daemon.h's SD_WARNING, SD_INFO, SD_DEBUG */
		fprintf(stderr, "<%d>", lvl == SD_LOG_WARN ? 4 : lvl == SD_LOG_INFO ? 6 : 7);
	} else if (stamp == STAMP_TIME) {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		strftime(zone, sizeof(zone), "%z", &tm);
		fprintf(stderr, "%s.%03ld%s ", when, ts.tv_nsec / 1000000, zone);
	}
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
	char line[1024];
	int n;

	if (lvl > log_level)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	flockfile(stderr);
	if (!mid_line) {
		prefix(lvl);
		if (lvl == SD_LOG_WARN)
			fputs("sipdrain: ", stderr);
	}
	fputs(line, stderr);
	if ((size_t)n >= sizeof(line))
		fputs("...\n", stderr);
	mid_line = (size_t)n < sizeof(line) && n && line[n - 1] != '\n';
	funlockfile(stderr);
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
