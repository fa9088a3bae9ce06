/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Prometheus text exposition (version 0.0.4) of the gate's state, served
 * by `sipdrain run --metrics ADDR:PORT` at /metrics. */
#ifndef SD_METRICS_H
#define SD_METRICS_H

#include <stddef.h>

/* Listen on "ADDR:PORT", "[V6ADDR]:PORT" or "PORT" (127.0.0.1); a
 * non-blocking socket, or -errno (one line printed). */
int sd_metrics_listen(const char *spec);
/* Answer the pending connections on the listening socket. */
void sd_metrics_serve(int lfd);
/* Render the exposition into buf; returns its length (0: error). */
size_t sd_metrics_render(char *buf, size_t cap);

#endif
