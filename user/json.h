/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The few JSON pieces the commands print: strings that stay valid
 * whatever bytes they were given. */
#ifndef SD_JSON_H
#define SD_JSON_H

#include <stddef.h>
#include <stdio.h>

/* s (at most max bytes, or up to its NUL) as a JSON string with its
 * quotes: '"', '\\' and control characters escaped, bytes that are not
 * UTF-8 written as U+FFFD, so the output parses whatever s holds. */
void sd_json_str(FILE *f, const char *s, size_t max);

#endif
