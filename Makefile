# sipdrain: BPF object -> skeleton -> one self-contained binary.
CLANG    ?= clang
CC       ?= cc
BPFTOOL  ?= bpftool
PKGS     := libbpf libxdp libpcap libmicrohttpd libsystemd
PREFIX   ?= /usr/local

BUILD    := build
BPF_OBJ  := $(BUILD)/sipdrain.bpf.o
SKEL     := $(BUILD)/sipdrain.skel.h
BIN      := $(BUILD)/sipdrain

ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
# The system include directories as the host compiler sees them (the
# multiarch one holds asm/types.h), after our own, as libbpf-bootstrap
# does: no directory written in here.
BPF_SYS_INCLUDES ?= $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -target bpf -O2 -g -mcpu=v3 -Wall -Wextra -Werror \
	-Wno-unused-parameter -D__TARGET_ARCH_$(ARCH) -Iinclude $(BPF_SYS_INCLUDES)
CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Werror -std=gnu11 -Iinclude -I$(BUILD) -Iuser \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz
# what `sipdrain --version` says: git describe of the tree built, the
# libxdp it was built against
SD_VERSION ?= $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)
VERSION_FLAGS := -DSD_VERSION='"$(SD_VERSION)"' \
	-DSD_LIBXDP_VERSION='"$(shell pkg-config --modversion libxdp 2>/dev/null || echo unknown)"' 

USER_SRC := $(wildcard user/*.c)
LIB_SRC  := $(filter-out user/main.c,$(USER_SRC))
LIB_OBJ  := $(patsubst user/%.c,$(BUILD)/user/%.o,$(LIB_SRC))
HDRS     := $(wildcard include/*.h user/*.h tests/*.h)
TEST_BIN := $(BUILD)/gate_test $(BUILD)/walk_test $(BUILD)/reply_test $(BUILD)/details_test $(BUILD)/bye_test \
	$(BUILD)/fill_dialogs $(BUILD)/sipload

.PHONY: all compile deps test clean install bench demo fuzz fuzz-bins
# `make` builds only: what is missing is named in one line (`make deps`
# installs it).  demo, test, bench and fuzz install what is missing first.
all:
	@$(MAKE) --no-print-directory compile

compile: $(BIN) $(TEST_BIN) $(BUILD)/trivial.bpf.o

# What building needs, checked when `make` alone is asked to build: the
# tools, the libraries pkg-config knows, the headers of libelf and zlib.
ifeq ($(filter-out all,$(MAKECMDGOALS)),)
HASH := \#
MISSING := $(shell for t in $(CLANG) $(CC) $(BPFTOOL) pkg-config; do \
		command -v $$t >/dev/null 2>&1 || echo $$t; done; \
	for p in $(PKGS); do pkg-config --exists $$p 2>/dev/null || echo $$p; done; \
	for h in gelf.h zlib.h; do echo "$(HASH)include <$$h>" | $(CC) -E - >/dev/null 2>&1 || echo $$h; done)
ifneq ($(strip $(MISSING)),)
$(error cannot build, missing: $(strip $(MISSING)) (as root: make deps))
endif
endif

# Debian 12 packages; installed only when missing (idempotent, quiet).
DEB_PKGS := kamailio clang llvm libbpf-dev libxdp-dev libpcap-dev libmicrohttpd-dev libsystemd-dev libelf-dev zlib1g-dev \
	libc6-dev linux-libc-dev bpftool xdp-tools sip-tester iproute2 ethtool \
	python3 python3-prometheus-client python3-jsonschema python3-seccomp systemd libcap2-bin \
	pkg-config gcc make util-linux procps libclang-rt-14-dev scdoc man-db bash-completion python3-yaml
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "sipdrain: installing packages needs root" >&2; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq >/dev/null && \
		apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

$(BUILD) $(BUILD)/user:
	@mkdir -p $@

$(BPF_OBJ): bpf/sipdrain.bpf.c $(HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name sipdrain > $@.tmp && mv $@.tmp $@

$(BUILD)/user/%.o: user/%.c $(HDRS) $(SKEL) | $(BUILD)/user
	$(CC) $(CFLAGS) -c $< -o $@

# rebuilt every time: the version is the tree's, not the file's
$(BUILD)/user/version.o: user/version.c $(HDRS) FORCE | $(BUILD)/user
	$(CC) $(CFLAGS) $(VERSION_FLAGS) -c $< -o $@
.PHONY: FORCE
FORCE:

$(BIN): $(BUILD)/user/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/%_test: tests/%_test.c $(LIB_OBJ) $(HDRS)
	$(CC) $(CFLAGS) $< $(LIB_OBJ) -o $@ $(LDLIBS)

$(BUILD)/fill_dialogs: tests/fill_dialogs.c $(LIB_OBJ) $(HDRS)
	$(CC) $(CFLAGS) $< $(LIB_OBJ) -o $@ $(LDLIBS)

test: deps
	@$(MAKE) --no-print-directory compile fuzz-bins
	tests/run.sh

# libFuzzer targets (tests/fuzz): the parser, the 503 builder, the BYE
# builder, and the XDP program against the parser.  make fuzz FUZZ_SECONDS=N runs each N s.
FUZZ_SECONDS ?= 60
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -g -O1 $(FUZZ_SAN) -Wall -Wextra -Werror -std=gnu11 -Iinclude -I$(BUILD) -Iuser \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_LIB    := $(patsubst user/%.c,$(BUILD)/fuzz/%.o,$(LIB_SRC))
FUZZ_BIN    := $(BUILD)/fuzz/fuzz_parser $(BUILD)/fuzz/fuzz_reply $(BUILD)/fuzz/fuzz_bye $(BUILD)/fuzz/fuzz_diff

$(BUILD)/fuzz:
	@mkdir -p $@

$(BUILD)/fuzz/%.o: user/%.c $(HDRS) $(SKEL) | $(BUILD)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $(HDRS)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) -o $@ $(LDLIBS)

fuzz-bins: $(FUZZ_BIN)
# kept between runs: make would delete them as intermediates
.SECONDARY: $(FUZZ_LIB)

fuzz: deps
	@$(MAKE) --no-print-directory compile fuzz-bins
	tests/fuzz/run.sh $(FUZZ_SECONDS)

$(BUILD)/sipload: tests/bench/sipload.c | $(BUILD)
	$(CC) -O2 -Wall -Wextra -Werror -pthread $< -o $@

# the gate with the scan budget it had before (2 KiB): make bench shows
# what reading whole header sections of jumbo frames costs
$(BUILD)/sipdrain_scan2k.bpf.o: bpf/sipdrain.bpf.c $(HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -DSD_SCAN_MAX=2048 -c $< -o $@

# the gate without the calls' details capture: make bench shows what it costs
$(BUILD)/sipdrain_nocap.bpf.o: bpf/sipdrain.bpf.c $(HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -DSD_NO_CAPTURE -c $< -o $@

$(BUILD)/trivial.bpf.o: tests/bench/trivial.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/xdp_bench: tests/bench/xdp_bench.c $(LIB_OBJ) $(HDRS)
	$(CC) $(CFLAGS) $< $(LIB_OBJ) -o $@ $(LDLIBS)

# The main job: a real SIP server drained under load (tests/lab/demo.sh).
demo: deps
	@$(MAKE) --no-print-directory compile
	tests/lab/demo.sh

# Benchmarks: ratios against a reference measured in the same run.
bench: deps
	@$(MAKE) --no-print-directory compile $(BUILD)/sipload $(BUILD)/trivial.bpf.o $(BUILD)/xdp_bench \
		$(BUILD)/sipdrain_scan2k.bpf.o $(BUILD)/sipdrain_nocap.bpf.o
	tests/bench/bench.sh

# The man page, sipdrain(8), from its scdoc source; built by `make` too
# (compile depends on it), checked by tests/dist_test.sh.
MAN      := $(BUILD)/sipdrain.8
SCDOC    ?= scdoc
.PHONY: man
man: $(MAN)
compile: $(MAN)
$(MAN): user/dist/sipdrain.8.scd | $(BUILD)
	$(SCDOC) < $< > $@.tmp && mv $@.tmp $@
ifeq ($(filter-out all man,$(MAKECMDGOALS)),)
ifeq ($(shell command -v $(SCDOC) 2>/dev/null),)
$(error cannot build the man page, missing: scdoc (as root: make deps))
endif
endif

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the man page,
# the bash completion, the systemd unit and (if absent) its environment file.
SYSTEMD_DIR ?= $(PREFIX)/lib/systemd/system
BASHCOMP_DIR ?= $(PREFIX)/share/bash-completion/completions
install: $(BIN) $(MAN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/sipdrain
	install -D -m 0644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man8/sipdrain.8
	install -D -m 0644 user/dist/sipdrain.bash $(DESTDIR)$(BASHCOMP_DIR)/sipdrain
	install -d $(DESTDIR)$(PREFIX)/share/sipdrain/schema
	install -m 0644 user/dist/schema/*.schema.json $(DESTDIR)$(PREFIX)/share/sipdrain/schema/
	install -d $(DESTDIR)$(SYSTEMD_DIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' user/dist/sipdrain.service > $(DESTDIR)$(SYSTEMD_DIR)/sipdrain.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_DIR)/sipdrain.service
	@if [ ! -e $(DESTDIR)/etc/default/sipdrain ]; then \
		install -D -m 0644 user/dist/sipdrain.default $(DESTDIR)/etc/default/sipdrain; \
	else echo "keeping $(DESTDIR)/etc/default/sipdrain"; fi

clean:
	rm -rf $(BUILD)
