/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The HTTP endpoints of `sipdrain run --metrics ADDR:PORT`: /metrics,
 * /ready and /healthz, served by libmicrohttpd from threads of its own. */
#ifndef SD_HTTP_H
#define SD_HTTP_H

#include <stdbool.h>

struct sd_http;

/* Listen on "ADDR:PORT", "[V6ADDR]:PORT" or "PORT" (127.0.0.1) and
 * serve; NULL after one line saying why. */
struct sd_http *sd_http_start(const char *spec);
/* spec is an address sd_http_start takes (false after one line): for a
 * usage error before anything starts. */
bool sd_http_spec_valid(const char *spec);
/* Close the listener and every connection, wait for the threads.  NULL:
 * nothing. */
void sd_http_stop(struct sd_http *h);

#endif
