// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Fill the pinned call table with N confirmed calls (batched), for
 * the scale tests.  usage: fill_dialogs N  (SIPDRAIN_PIN_DIR honoured) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "gate.h"
#include "snapshot.h"

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0, done = 0;
	static __u64 keys[8192];
	static struct sd_dialog vals[8192];
	__u64 now = sd_now_ns();
	int fd;

	if (getenv("SIPDRAIN_PIN_DIR") && sd_set_pin_dir(getenv("SIPDRAIN_PIN_DIR")))
		return 1;
	fd = sd_pinned_map_fd(SD_STR(SD_MAP_CALLS));

	if (fd < 0 || !n) {
		fprintf(stderr, "usage: fill_dialogs N (with a gate attached): %s\n", strerror(-fd));
		return 1;
	}
	while (done < n) {
		__u32 k = n - done > 8192 ? 8192 : n - done;

		for (__u32 i = 0; i < k; i++) {
			keys[i] = 0x5d00000000000000ULL + done + i;
			vals[i] = (struct sd_dialog){ .created_ns = now - (done + i) * 1000,
						      .last_ns = now, .state = SD_D_CONFIRMED, .hits = 1 };
		}
		if (bpf_map_update_batch(fd, keys, vals, &k, NULL)) {
			fprintf(stderr, "fill_dialogs: %s after %lu\n", strerror(errno), done);
			return 1;
		}
		done += k;
	}
	printf("%lu\n", done);
	return 0;
}
