#!/bin/bash
# Shared by the shell tests: pass/fail accounting, network namespaces
# joined by veth (198.18.0.0/15, 2001:2::/48 only), cleanup by PID.
# Each test has its own pin directory (SIPDRAIN_PIN_DIR): a gate in the
# default /sys/fs/bpf/sipdrain, a real one perhaps, is never touched.
#
# Under tests/run.sh the runner decides a suite's state directory
# (SD_TEST_STATE, created and removed by the runner) and its pin directory
# (SIPDRAIN_PIN_DIR); run alone, a suite makes its own.  Exit status:
# 0 passed, 4 skipped (skip, need), anything else failed (finish).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SD=${SD:-$ROOT/build/sipdrain}
SHARED=${SHARED:-$ROOT/../shared/testdata}
TNAME=$(basename "$0" .sh)
ID=$$
NS_C=sdc$ID
NS_S=sds$ID
VC=vc$ID
VS=vs$ID
SD_DEFAULT_PIN_DIR=/sys/fs/bpf/sipdrain
SD_SKIP=4
if [ -n "${SD_TEST_STATE:-}" ] && [ -d "$SD_TEST_STATE" ] &&
   [ -n "${SIPDRAIN_PIN_DIR:-}" ] && [ "${SIPDRAIN_PIN_DIR%/}" != $SD_DEFAULT_PIN_DIR ]; then
	WORK=$SD_TEST_STATE             # the runner's: it removes it
	OWN_WORK=
else
	WORK=$(mktemp -d /tmp/sipdrain-test.XXXXXX)
	OWN_WORK=1
	# never a SIPDRAIN_PIN_DIR from outside: it may hold a real gate
	export SIPDRAIN_PIN_DIR=/sys/fs/bpf/sipdrain-test-$TNAME-$ID
fi
# what a script this one starts (tests/lab/demo.sh) makes its own
unset SD_TEST_STATE
PIN_DIR=$SIPDRAIN_PIN_DIR
PIDS=()
PASSED=0
FAILED=0

ok()   { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }

in_s() { nsenter --net=/run/netns/$NS_S "$@"; }
in_c() { nsenter --net=/run/netns/$NS_C "$@"; }

# Start a background process in a namespace; its PID is remembered.
bg_s() { nsenter --net=/run/netns/$NS_S "$@" & PIDS+=($!); }
bg_c() { nsenter --net=/run/netns/$NS_C "$@" & PIDS+=($!); }

# Stop what a case started (by PID) and remove its namespaces and pins.
# Twice: `run` finishes a drain on the first signal, exits on the second.
teardown() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.1
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
	if [ -e /run/netns/$NS_S ]; then
		in_s "$SD" detach >/dev/null 2>&1
		ip netns del $NS_S 2>/dev/null
	fi
	[ -e /run/netns/$NS_C ] && ip netns del $NS_C 2>/dev/null
	# pins of a gate whose interfaces died with the namespace
	[ -e $PIN_DIR/sd_config ] && "$SD" detach >/dev/null 2>&1
	rm -f $PIN_DIR/* 2>/dev/null; rmdir $PIN_DIR 2>/dev/null
	return 0
}
# The state directory, unless the runner's.
work_remove() {
	[ -n "$OWN_WORK" ] && rm -rf "$WORK"
	return 0
}
cleanup() {
	teardown
	work_remove
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two namespaces, client and server, one veth pair.  $1: subnet index,
# $2: RX/TX queues per veth end (default 1).
setup_pair() {
	local n=${1:-1} q=${2:-1}
	ip netns add $NS_C && ip netns add $NS_S || return 1
	ip link add $VC netns $NS_C numrxqueues $q numtxqueues $q type veth \
		peer name $VS netns $NS_S numrxqueues $q numtxqueues $q || return 1
	in_c ip addr add 198.18.$n.1/24 dev $VC
	in_s ip addr add 198.18.$n.2/24 dev $VS
	in_c ip -6 addr add 2001:2:0:$n::1/64 dev $VC nodad
	in_s ip -6 addr add 2001:2:0:$n::2/64 dev $VS nodad
	in_c ip link set lo up; in_s ip link set lo up
	in_c ip link set $VC up; in_s ip link set $VS up
	# veth leaves UDP checksums partial otherwise (DESIGN.md)
	in_c ethtool -K $VC tx off >/dev/null 2>&1
	in_s ethtool -K $VS tx off >/dev/null 2>&1
	return 0
}

# Counter value from `sipdrain status --json` run in the server namespace:
# counter NAME (gate) or counter responder NAME.
counter() {
	in_s "$SD" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
a = sys.argv[1:]
print(d["responder"]["counters"][a[1]] if a[0] == "responder" else d["counters"][a[0]])' "$@"
}

# Wait until a process started by bg_s/bg_c is gone (max $2 seconds).
wait_gone() {
	local t=0
	while kill -0 "$1" 2>/dev/null && [ $t -lt $(( ${2:-10} * 10 )) ]; do sleep 0.1; t=$((t + 1)); done
	! kill -0 "$1" 2>/dev/null
}

# Wait until the responder reports itself bound (max 10 s).
wait_responder() {
	local t=0
	while [ $t -lt 100 ]; do
		in_s "$SD" status --json 2>/dev/null | grep -q '"running":true' && return 0
		sleep 0.1; t=$((t + 1))
	done
	return 1
}

# wait_bound_in NS t|u PORT [SECONDS]: until a TCP listener or UDP socket
# has the port in namespace NS (max 5 s): a server started in the
# background may take longer than any fixed sleep to bind on a loaded
# machine.  wait_bound t|u PORT [SECONDS]: the same in the server namespace
wait_bound_in() {
	local t=0
	while [ $t -lt $(( ${4:-5} * 10 )) ]; do
		nsenter --net=/run/netns/$1 ss -Hln$2 "sport = :$3" 2>/dev/null | grep -q . && return 0
		sleep 0.1; t=$((t + 1))
	done
	return 1
}
wait_bound() { wait_bound_in $NS_S "$@"; }

# skip REASON: the suite cannot run here (exit 4, reported as skipped).
skip() {
	echo "$TNAME: skipped: $*"
	exit $SD_SKIP
}
# need COMMAND...: skip unless every command is there (make test installs
# them: a skip here means a run outside make test).
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is missing"
	done
}

finish() {
	echo "$TNAME: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
