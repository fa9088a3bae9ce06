// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <bpf/libbpf.h>

#include "sipdrain_common.h"
#include "version.h"

/* set by the Makefile: git describe, and pkg-config's libxdp version */
#ifndef SD_VERSION
#define SD_VERSION "unknown"
#endif
#ifndef SD_LIBXDP_VERSION
#define SD_LIBXDP_VERSION "unknown"
#endif

const char *sd_version(void)
{
	return SD_VERSION;
}

const char *sd_libxdp_version(void)
{
	return SD_LIBXDP_VERSION;
}

size_t sd_version_line(char *buf, size_t n)
{
	int k = snprintf(buf, n, "sipdrain %s (pin ABI %d, libbpf %s, libxdp %s)", SD_VERSION,
			 SD_ABI_VERSION, libbpf_version_string(), SD_LIBXDP_VERSION);

	return k < 0 ? 0 : (size_t)k;
}
