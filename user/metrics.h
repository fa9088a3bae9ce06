/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Prometheus text exposition (version 0.0.4) of the gate's state, served
 * by `sipdrain run --metrics ADDR:PORT` at /metrics (user/http.c). */
#ifndef SD_METRICS_H
#define SD_METRICS_H

#include <stddef.h>

/* Render the exposition into buf; returns its length: 0 on error (one
 * line printed), cap or more when it did not fit (the length it needs,
 * without the terminating NUL).  Thread-safe: the HTTP threads render
 * while the main loop runs. */
size_t sd_metrics_render(char *buf, size_t cap);

#endif
