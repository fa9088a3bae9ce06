/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What this build is: `sipdrain --version`, `sipdrain version` and the
 * sipdrain_build_info metric say the same. */
#ifndef SD_VERSION_H
#define SD_VERSION_H

#include <stddef.h>

/* "sipdrain VERSION (pin ABI N, libbpf X.Y.Z, libxdp A.B.C)" */
size_t sd_version_line(char *buf, size_t n);
const char *sd_version(void);           /* `git describe` at build time */
const char *sd_libxdp_version(void);    /* the libxdp built against */

#endif
