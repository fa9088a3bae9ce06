// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gate.h"
#include "log.h"
#include "sipdrain.skel.h"

#define NAME_(name, help) #name,
#define MV_NAMES_(id, name) "mv_" #id "_pass", "mv_" #id "_redirect", "mv_" #id "_drop",
const char *const sd_counter_names[SD_C_TOTAL] = { SD_COUNTERS(NAME_) SD_METHODS(MV_NAMES_) };
#undef MV_NAMES_
const char *const sd_responder_counter_names[SD_RC_MAX] = { SD_RESPONDER_COUNTERS(NAME_) };
#undef NAME_
#define MNAME_(id, name) name,
const char *const sd_method_names[SD_M_MAX] = { SD_METHODS(MNAME_) };
#undef MNAME_
const char *const sd_state_names[SD_STATE_MAX] = { "serving", "draining", "offline" };

const char *sd_state_name(__u32 state)
{
	return state < SD_STATE_MAX ? sd_state_names[state] : "unknown";
}
const char *const sd_kind_names[SD_K_MAX] = {
	"not_sip", "request", "response", "keepalive", "unparsed"
};
const char *const sd_verdict_names[SD_V_MAX] = { "pass", "redirect", "drop" };

int sd_method_by_name(const char *name)
{
	/* "other" is not a method name an operator can allow by spelling */
	for (int m = SD_M_OTHER + 1; m < SD_M_MAX; m++)
		if (!strcmp(name, sd_method_names[m]))
			return m;
	return -1;
}

int sd_state_by_name(const char *name)
{
	for (int s = 0; s < SD_STATE_MAX; s++)
		if (!strcmp(name, sd_state_names[s]))
			return s;
	return -1;
}

struct sipdrain *sd_gate_open(__u32 max_dialogs, bool record_last)
{
	struct sipdrain *skel = sipdrain__open();

	if (!skel) {
		pr_warn("cannot open the BPF object: %s\n", strerror(errno));
		return NULL;
	}
	skel->rodata->cfg_record_last = record_last;
	if (max_dialogs) {
		bpf_map__set_max_entries(skel->maps.sd_calls, max_dialogs);
		bpf_map__set_max_entries(skel->maps.sd_attempts, max_dialogs);
		bpf_map__set_max_entries(skel->maps.sd_details, max_dialogs);
		bpf_map__set_max_entries(skel->maps.sd_learning,
					 max_dialogs / 4 > 1024 ? max_dialogs / 4 : 1024);
	}
	return skel;
}

void sd_gate_set_ports(struct sipdrain *skel, const __u16 *ports, __u32 n)
{
	__u64 filter = 0;

	skel->rodata->cfg_dynamic_ports = n == 0;
	skel->rodata->cfg_nports = n;
	for (__u32 i = 0; i < n && i < SD_MAX_PORTS; i++) {
		skel->rodata->cfg_ports[i] = ports[i];
		filter |= 1ULL << (ports[i] & 63);
	}
	skel->rodata->cfg_port_filter = filter;
}

void sd_gate_close(struct sipdrain *skel)
{
	sipdrain__destroy(skel);
}

int sd_require_root(void)
{
	if (geteuid() != 0) {
		pr_warn("must run as root (BPF and XDP need CAP_SYS_ADMIN/CAP_NET_ADMIN)\n");
		return -EPERM;
	}
	return 0;
}

const char *sd_pin_dir = SD_PIN_DIR;

int sd_set_pin_dir(const char *dir)
{
	if (!dir || !*dir || dir[0] != '/' || strlen(dir) > 200) {
		pr_warn("invalid pin directory '%s' (an absolute path under a bpffs mount)\n",
			dir ? dir : "");
		return -EINVAL;
	}
	sd_pin_dir = dir;
	return 0;
}

int sd_bpffs_prepare(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			int err = -errno;

			pr_warn("cannot mount bpffs on /sys/fs/bpf: %s\n", strerror(errno));
			return err;
		}
	}
	if (mkdir(sd_pin_dir, 0700) && errno != EEXIST) {
		int err = -errno;

		pr_warn("cannot create %s: %s\n", sd_pin_dir, strerror(errno));
		return err;
	}
	return 0;
}

bool sd_is_attached(void)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", sd_pin_dir, SD_STR(SD_MAP_CONFIG));
	return access(path, F_OK) == 0;
}

int sd_pinned_map_fd(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", sd_pin_dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* The pinned maps, as this build lays them out: what attach pins, detach
 * removes and every command checks before it reads a pin.  Internal
 * maps (.rodata, scratch, last verdict) stay unpinned. */
static const struct pin_spec {
	const char *name;
	enum bpf_map_type type;
	__u32 key_size, value_size;
} pin_specs[] = {
	{ SD_STR(SD_MAP_META), BPF_MAP_TYPE_ARRAY, 4, sizeof(struct sd_meta) },
	{ SD_STR(SD_MAP_CONFIG), BPF_MAP_TYPE_ARRAY, 4, sizeof(struct sd_config) },
	{ SD_STR(SD_MAP_COUNTERS), BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(struct sd_counters) },
	{ SD_STR(SD_MAP_CALLS), BPF_MAP_TYPE_HASH, 8, sizeof(struct sd_dialog) },
	{ SD_STR(SD_MAP_ATTEMPTS), BPF_MAP_TYPE_LRU_HASH, 8, sizeof(struct sd_dialog) },
	{ SD_STR(SD_MAP_LEARNING), BPF_MAP_TYPE_LRU_HASH, 8, sizeof(struct sd_dialog) },
	{ SD_STR(SD_MAP_XSKS), BPF_MAP_TYPE_XSKMAP, 4, 4 },
	{ SD_STR(SD_MAP_RESPONDER), BPF_MAP_TYPE_ARRAY, 4, sizeof(struct sd_responder) },
	{ SD_STR(SD_MAP_GUARD), BPF_MAP_TYPE_LRU_HASH, sizeof(struct sd_guard_key),
	  sizeof(struct sd_guard_state) },
	{ SD_STR(SD_MAP_PEERS), BPF_MAP_TYPE_LRU_HASH, sizeof(struct sd_guard_key),
	  sizeof(struct sd_peer_state) },
	{ SD_STR(SD_MAP_ADDRS), BPF_MAP_TYPE_HASH, sizeof(struct sd_addr_key), 4 },
	{ SD_STR(SD_MAP_CAPTURE), BPF_MAP_TYPE_RINGBUF, 0, 0 },
	{ SD_STR(SD_MAP_DETAILS), BPF_MAP_TYPE_HASH, 8, sizeof(struct sd_details) },
};
#define NPINS (sizeof(pin_specs) / sizeof(pin_specs[0]))

int sd_pin_all(struct sipdrain *skel, int prog_fd, int egress_fd)
{
	char path[256];
	struct bpf_map *m;
	int err;

	for (size_t i = 0; i < NPINS; i++) {
		const struct pin_spec *p = &pin_specs[i];

		m = bpf_object__find_map_by_name(skel->obj, p->name);
		if (!m || bpf_map__type(m) != p->type || bpf_map__key_size(m) != p->key_size ||
		    bpf_map__value_size(m) != p->value_size) {
			pr_warn("internal error: map %s does not match its pin layout\n", p->name);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "%s/%s", sd_pin_dir, p->name);
		err = bpf_map__pin(m, path);
		if (err) {
			pr_warn("cannot pin %s: %s\n", path, strerror(-err));
			return err;
		}
		chmod(path, 0600);      /* the gate's state is root's alone */
	}
	snprintf(path, sizeof(path), "%s/%s", sd_pin_dir, SD_PROG_PIN);
	if (bpf_obj_pin(prog_fd, path)) {
		err = -errno;
		pr_warn("cannot pin %s: %s\n", path, strerror(errno));
		return err;
	}
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/%s", sd_pin_dir, SD_PROG_EGRESS_PIN);
	if (bpf_obj_pin(egress_fd, path)) {
		err = -errno;
		pr_warn("cannot pin %s: %s\n", path, strerror(errno));
		return err;
	}
	chmod(path, 0600);
	chmod(sd_pin_dir, 0700);
	return 0;
}

void sd_unpin_all(void)
{
	static const char *const extra[] = { SD_PROG_PIN, SD_PROG_EGRESS_PIN, SD_LEGACY_PINS };
	char path[256];

	for (size_t i = 0; i < NPINS + sizeof(extra) / sizeof(extra[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", sd_pin_dir,
			 i < NPINS ? pin_specs[i].name : extra[i - NPINS]);
		if (unlink(path) && errno != ENOENT)
			pr_warn("cannot remove %s: %s\n", path, strerror(errno));
	}
	if (rmdir(sd_pin_dir) && errno != ENOENT)
		pr_debug("leaving %s: %s\n", sd_pin_dir, strerror(errno));
}

/* Every pin as this build lays it out, sd_meta saying our ABI: else one
 * line saying what differs.  Never read a pin of another layout. */
static int check_pins(void)
{
	struct bpf_map_info info;
	struct sd_meta meta = { 0 };
	char what[256] = "";
	__u32 len, zero = 0;
	int fd, err = 0;

	for (size_t i = 0; i < NPINS && !err; i++) {
		const struct pin_spec *p = &pin_specs[i];

		fd = sd_pinned_map_fd(p->name);
		if (fd < 0) {
			if (i == 0)     /* no sd_meta: ABI 1 */
				snprintf(what, sizeof(what), "was attached by a sipdrain build with pin ABI 1");
			else
				snprintf(what, sizeof(what), "lacks %s (%s)", p->name, strerror(-fd));
			err = -EPROTO;
			break;
		}
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			err = -errno;
			pr_warn("cannot inspect %s/%s: %s\n", sd_pin_dir, p->name, strerror(errno));
			close(fd);
			return err;
		}
		if (info.type != p->type || info.key_size != p->key_size ||
		    info.value_size != p->value_size) {
			snprintf(what, sizeof(what), "has %s laid out differently (type %u, key %u, "
				 "value %u bytes; this build: %u, %u, %u)", p->name, info.type,
				 info.key_size, info.value_size, p->type, p->key_size, p->value_size);
			err = -EPROTO;
		} else if (i == 0 && (bpf_map_lookup_elem(fd, &zero, &meta) ||
				      meta.abi != SD_ABI_VERSION)) {
			snprintf(what, sizeof(what), "was attached by a sipdrain build with pin ABI %u",
				 meta.abi);
			err = -EPROTO;
		}
		close(fd);
	}
	if (!err)
		return 0;
	pr_warn("the gate under %s %s; this build (ABI %d) will not read it: take it off with "
		"'sipdrain detach' (traffic then passes untouched; calls it knew are learned again "
		"from their traffic) and attach again\n", sd_pin_dir, what, SD_ABI_VERSION);
	return err;
}

/* The config as a seqlock over its mmapped value (the map is
 * BPF_F_MMAPABLE): a writer makes seq odd, writes, makes it even; a
 * reader retries while seq is odd or moved.  Writers hold sd_lock(),
 * so there is one at a time.  A writer killed halfway leaves seq odd:
 * readers give up waiting after a while and take what is there (the
 * next writer, under the lock the dead one released, rewrites it). */
static struct sd_config *config_map(int fd)
{
	void *p = mmap(NULL, sizeof(struct sd_config), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

void sd_config_read(const volatile struct sd_config *m, struct sd_config *out)
{
	for (int tries = 0;; tries++) {
		__u32 s1 = __atomic_load_n(&m->seq, __ATOMIC_ACQUIRE);

		if (!(s1 & 1) || tries > 1000) {
			memcpy(out, (const void *)m, sizeof(*out));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&m->seq, __ATOMIC_RELAXED) == s1 || tries > 1000)
				return;
		}
		if (tries > 100)
			usleep(10);
	}
}

void sd_config_write(volatile struct sd_config *m, const struct sd_config *cfg)
{
	__u32 seq = __atomic_load_n(&m->seq, __ATOMIC_RELAXED) | 1;
	__u64 word;
	const size_t word_end = offsetof(struct sd_config, allow_mask) + sizeof(cfg->allow_mask);
	const size_t seq_at = offsetof(struct sd_config, seq), seq_end = seq_at + sizeof(cfg->seq);

	__atomic_store_n(&m->seq, seq, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	/* state and allow_mask: one store, as the XDP program reads them */
	memcpy(&word, &cfg->state, sizeof(word));
	__atomic_store_n((volatile __u64 *)&m->state, word, __ATOMIC_RELAXED);
	memcpy((char *)m + word_end, (const char *)cfg + word_end, seq_at - word_end);
	memcpy((char *)m + seq_end, (const char *)cfg + seq_end, sizeof(*cfg) - seq_end);
	__atomic_store_n(&m->seq, seq + 1, __ATOMIC_RELEASE);
}

int sd_config_get(int fd, struct sd_config *cfg)
{
	struct sd_config *m = config_map(fd);
	__u32 zero = 0;

	if (!m)         /* not mmapable: cannot happen with this build's maps */
		return bpf_map_lookup_elem(fd, &zero, cfg) ? -errno : 0;
	sd_config_read(m, cfg);
	munmap(m, sizeof(*m));
	return 0;
}

int sd_config_set(int fd, const struct sd_config *cfg)
{
	struct sd_config *m = config_map(fd);
	__u32 zero = 0;

	if (!m)
		return bpf_map_update_elem(fd, &zero, cfg, BPF_ANY) ? -errno : 0;
	sd_config_write(m, cfg);
	munmap(m, sizeof(*m));
	return 0;
}

/* One lock for every read-modify-write of the pinned state: flock on
 * the pin directory itself (bpffs holds no regular files), as libxdp
 * guards its dispatcher.  Held for milliseconds; a holder that dies
 * releases it. */
int sd_lock(void)
{
	int fd = open(sd_pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;

	if (fd < 0) {
		err = -errno;
		pr_warn("cannot open %s to lock it: %s\n", sd_pin_dir, strerror(errno));
		return err;
	}
	for (int tries = 0; flock(fd, LOCK_EX | LOCK_NB); tries++) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			err = -errno;
			pr_warn("cannot lock %s: %s\n", sd_pin_dir, strerror(errno));
			close(fd);
			return err;
		}
		if (tries == 10000) {   /* 10 s */
			pr_warn("another sipdrain process has held the lock on %s for 10 s; "
				"try again\n", sd_pin_dir);
			close(fd);
			return -EWOULDBLOCK;
		}
		usleep(1000);
	}
	/* a detach (which removes the directory) may have gone first: the
	 * directory we locked must still be the one the path names, or the
	 * pins this process opened before are another gate's, or none */
	{
		struct stat a, b;

		if (fstat(fd, &a) || stat(sd_pin_dir, &b) || !a.st_nlink ||
		    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
			pr_warn("the gate under %s was detached meanwhile; try again\n", sd_pin_dir);
			close(fd);
			return -ESTALE;
		}
	}
	/* a writer killed halfway left the config's seqlock odd: no writer
	 * can be at it now, make it even so that readers stop waiting */
	{
		int cfd = sd_pinned_map_fd(SD_STR(SD_MAP_CONFIG));
		struct sd_config *m = cfd >= 0 ? config_map(cfd) : NULL;

		if (m) {
			__u32 seq = __atomic_load_n(&m->seq, __ATOMIC_RELAXED);

			if (seq & 1)
				__atomic_store_n(&m->seq, seq + 1, __ATOMIC_RELEASE);
			munmap(m, sizeof(*m));
		}
		if (cfd >= 0)
			close(cfd);
	}
	return fd;
}

void sd_unlock(int fd)
{
	if (fd >= 0)
		close(fd);      /* releases the flock */
}

int sd_config_begin(struct sd_config *cfg, int *lock)
{
	int fd = sd_open_config(), err;

	if (fd < 0)
		return fd;
	*lock = sd_lock();
	if (*lock < 0) {
		close(fd);
		return *lock;
	}
	err = sd_config_get(fd, cfg);
	if (err) {
		pr_warn("cannot read the config: %s\n", strerror(-err));
		sd_unlock(*lock);
		close(fd);
		return err;
	}
	return fd;
}

void sd_config_stamp(struct sd_config *cfg)
{
	cfg->changed_by_pid = getpid();
	cfg->changed_by_uid = getuid();
}

int sd_config_end(int fd, int lock, const struct sd_config *cfg)
{
	int err = cfg ? sd_config_set(fd, cfg) : 0;

	sd_unlock(lock);
	close(fd);
	if (err)
		pr_warn("cannot write the config: %s\n", strerror(-err));
	return err;
}

int sd_counters_get(int fd, struct sd_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sd_counters *per;
	__u32 zero = 0;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, per)) {
		err = -errno;
		goto out;
	}
	memset(sum, 0, sizeof(*sum));
	for (int c = 0; c < ncpu; c++)
		for (int i = 0; i < SD_C_TOTAL; i++)
			((__u64 *)sum)[i] += ((__u64 *)&per[c])[i];
out:
	free(per);
	return err;
}

int sd_open_config_any(bool any_layout)
{
	int fd, err;

	if (!sd_is_attached()) {
		pr_warn("nothing attached (no %s); run 'sipdrain attach IFACE' first\n",
			sd_pin_dir);
		return -ENOENT;
	}
	if (!any_layout && (err = check_pins()))
		return err;
	fd = sd_pinned_map_fd(SD_STR(SD_MAP_CONFIG));
	if (fd < 0)
		pr_warn("cannot open %s/%s: %s\n", sd_pin_dir,
			SD_STR(SD_MAP_CONFIG), strerror(-fd));
	return fd;
}

int sd_open_config(void)
{
	return sd_open_config_any(false);
}

int sd_meta_get(struct sd_meta *m)
{
	__u32 zero = 0;
	int fd = sd_pinned_map_fd(SD_STR(SD_MAP_META)), err = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &zero, m))
		err = -errno;
	close(fd);
	return err;
}

__u64 sd_counters_packets(const struct sd_counters *c)
{
	return c->other_traffic + c->ip_fragments + c->bad_l3 + c->not_sip +
	       c->keepalives + c->requests + c->responses + c->unparsed;
}
