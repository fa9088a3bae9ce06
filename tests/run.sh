#!/bin/bash
# The one runner of `make test`: every suite, each in a state of its own.
#
#   tests/run.sh [SUITE...]      (all suites when none is named)
#
# For each suite the runner exports
#   SD_TEST_SUITE     the suite's name;
#   SD_TEST_STATE     a directory of its own (created before, removed
#                     after; kept when SD_TEST_KEEP=1);
#   SIPDRAIN_PIN_DIR  its pin directory, /sys/fs/bpf/sipdrain-test-SUITE-PID
#                     (left pins are detached and removed after it);
# and judges it by its exit status: 0 passed, 4 skipped, anything else
# failed.  The 'N passed, N failed' a suite prints is shown and summed for
# the total line, never used to decide.
#
# Around the suites, the test default-pin-dir-untouched: no suite may
# read, write or remove the default pin directory /sys/fs/bpf/sipdrain.
# When nothing is there, a gate is attached there on a veth in a
# namespace of its own and drained (state, config and counters nobody else
# would produce), and afterwards its pins must be the same maps and
# program (ids), its state, config and counters unchanged; then it is
# detached and its namespace removed.  When a gate is there already (a
# real one), it is only looked at: its pins and its state and config must
# be the same afterwards; it is never detached or changed.
#
# Output ends with 'N passed, N failed' (checks); exit status non-zero
# when a suite or the guard failed.
set -u
cd "$(dirname "$0")/.." || exit 1
export SHARED=${SHARED:-$(cd .. && pwd)/shared/testdata}
SD=$PWD/build/sipdrain
SKIP=4
DEFAULT_PIN_DIR=/sys/fs/bpf/sipdrain
total_pass=0; total_fail=0
passed=(); failed=(); skipped=()

if [ "$(id -u)" != 0 ]; then
	echo "tests: must run as root (BPF_PROG_TEST_RUN, XDP, network namespaces)" >&2
	exit 1
fi
if [ ! -d "$SHARED/rfc4475" ]; then
	echo "tests: test data not found at $SHARED (expected ../shared/testdata beside the repo)" >&2
	exit 1
fi

# ---- the default pin directory guard ------------------------------------
GUARD_NS=sdguard$$
GUARD_OWN=                      # set when the guard attached the gate itself
GUARD_PROG_ID=                  # the program it attached
GUARD_DIR=$(mktemp -d /tmp/sipdrain-guard.XXXXXX)

# The default gate's status, without SIPDRAIN_PIN_DIR, in the guard's
# namespace when it is the guard's gate.
guard_sd() {
	if [ -n "$GUARD_OWN" ]; then
		env -u SIPDRAIN_PIN_DIR nsenter --net=/run/netns/$GUARD_NS "$SD" "$@"
	else
		env -u SIPDRAIN_PIN_DIR "$SD" "$@"
	fi
}

# guard_snapshot FILE: the pins (name, kind, id) and the status fields
# that do not move with time: state and config always, counters and the
# dialog tables when the gate is the guard's own.
guard_snapshot() {
	local f p id
	{
		echo "pins:"
		for f in "$DEFAULT_PIN_DIR"/*; do
			[ -e "$f" ] || continue
			p=$(basename "$f")
			if id=$(bpftool -j map show pinned "$f" 2>/dev/null); then
				echo "  $p map $(echo "$id" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d.get("name", ""))')"
			elif id=$(bpftool -j prog show pinned "$f" 2>/dev/null); then
				echo "  $p prog $(echo "$id" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d.get("name", ""))')"
			else
				echo "  $p other $(stat -c '%F %a' "$f")"
			fi
		done
		echo "config:"
		bpftool -j map dump pinned "$DEFAULT_PIN_DIR/sd_config" 2>&1 | python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)[0]["formatted"]["value"]
except (ValueError, LookupError, TypeError) as e:
    print("  unreadable: %s" % e)
    sys.exit(0)
for k in ("state", "allow_mask", "retry_after", "retry_jitter", "deadline_ns",
          "drain_started_ns", "offline_ns", "flags", "min_watch_ns", "peer_window_ns"):
    print("  config.%s: %s" % (k, json.dumps(v.get(k))))
'
		echo "status:"
		guard_sd status --json 2>&1 | python3 -c '
import json, sys
own = sys.argv[1] == "1"
try:
    d = json.load(sys.stdin)
except ValueError as e:
    print("  unreadable: %s" % e)
    sys.exit(0)
# deadline_unix is derived (wall clock + monotonic time left) and moves
# by a millisecond as the clocks drift: the raw config below has it
keep = ["state", "unseen_calls_may_be_cut", "early_offline",
        "offline_reason", "calls_cut", "retry_after", "retry_jitter", "on_offline",
        "allow", "ports", "tcp_ports", "reply_rate", "reply_burst",
        "peer_window_seconds", "interfaces"]
out = {k: d.get(k) for k in keep}
w = d.get("watch") or {}
out["watch"] = {k: w.get(k) for k in ("since_unix", "min_watch_seconds", "abi")}
if own:
    out["counters"] = d.get("counters")
    out["known_peers"] = d.get("known_peers")
    dl = d.get("dialogs") or {}
    out["dialogs"] = {k: dl.get(k) for k in ("entries", "max", "calls_entries",
                                              "attempt_entries", "learning_entries")}
    out["responder"] = (d.get("responder") or {}).get("counters")
for k in sorted(out):
    if isinstance(out[k], dict):        # one line each: a diff names it
        for s in sorted(out[k]):
            print("  %s.%s: %s" % (k, s, json.dumps(out[k][s], sort_keys=True)))
    else:
        print("  %s: %s" % (k, json.dumps(out[k], sort_keys=True)))
' "${GUARD_OWN:-0}"
	} > "$1"
}

prog_id() {
	bpftool -j prog show pinned "$1" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null
}

# guard_show FILE: a snapshot, the counters summed up
guard_show() {
	grep -v '^  \(counters\|responder\)\.' "$1" | sed 's/^/  /'
	echo "    counters: $(grep -c '^  \(counters\|responder\)\.' "$1") recorded," \
		"$(grep '^  \(counters\|responder\)\.' "$1" | grep -vc ': 0$') not zero"
}

guard_remove() {
	if [ -n "$GUARD_OWN" ]; then
		# only the gate the guard attached (its program), in its namespace
		if [ -n "$GUARD_PROG_ID" ] &&
		   [ "$(prog_id "$DEFAULT_PIN_DIR/prog")" = "$GUARD_PROG_ID" ]; then
			guard_sd detach >/dev/null 2>&1
		elif [ -e "$DEFAULT_PIN_DIR" ]; then
			echo "  not detaching $DEFAULT_PIN_DIR: not the program the guard attached"
		fi
		GUARD_OWN=
	fi
	[ -e /run/netns/$GUARD_NS ] && ip netns del $GUARD_NS 2>/dev/null
	return 0
}

# Attach and drain a gate at the default pin directory, unless one is there.
guard_start() {
	if [ -e "$DEFAULT_PIN_DIR" ]; then
		echo "  $DEFAULT_PIN_DIR exists (a real gate?): only looked at, never changed"
		guard_snapshot "$GUARD_DIR/before"
		guard_show "$GUARD_DIR/before"
		return 0
	fi
	ip netns add $GUARD_NS || return 1
	ip -n $GUARD_NS link add sdga$$ type veth peer name sdgb$$ || return 1
	# no address, the links down: nothing reaches the gate
	GUARD_OWN=1
	if ! guard_sd attach sdga$$ > "$GUARD_DIR/attach.out" 2>&1; then
		sed 's/^/  /' "$GUARD_DIR/attach.out"
		return 1
	fi
	GUARD_PROG_ID=$(prog_id "$DEFAULT_PIN_DIR/prog")
	[ -n "$GUARD_PROG_ID" ] || { echo "  no program pinned at $DEFAULT_PIN_DIR/prog"; return 1; }
	guard_sd drain --deadline 1h --retry-after 77 > "$GUARD_DIR/drain.out" 2>&1 || {
		sed 's/^/  /' "$GUARD_DIR/drain.out"; return 1; }
	guard_snapshot "$GUARD_DIR/before"
	grep -q '^  state: "draining"' "$GUARD_DIR/before" &&
		grep -q '^  retry_after: 77$' "$GUARD_DIR/before" &&
		grep -q ' map ' "$GUARD_DIR/before" || {
		echo "  the guard's gate is not as set:"; sed 's/^/  /' "$GUARD_DIR/before"; return 1; }
	echo "  a gate at $DEFAULT_PIN_DIR on sdga$$ in $GUARD_NS, draining, Retry-After 77:"
	guard_show "$GUARD_DIR/before"
}

guard_ok=1
cleanup() {
	guard_remove
	rm -rf "$GUARD_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== default-pin-dir-untouched (set up)"
if ! guard_start; then
	echo "  FAIL could not set up the gate at $DEFAULT_PIN_DIR"
	guard_ok=
	guard_remove
fi

# ---- the suites ------------------------------------------------------
# run NAME COMMAND...: one suite with its own state and pin directory.
run() {
	local name=$1; shift
	local state pin rc out line p f left
	if [ ${#SELECT[@]} -gt 0 ] && ! printf '%s\n' "${SELECT[@]}" | grep -qxF -- "$name"; then
		return 0
	fi
	echo "== $name"
	state=$(mktemp -d "/tmp/sipdrain-$name.XXXXXX")
	pin=/sys/fs/bpf/sipdrain-test-$name-$$
	out=$(SD_TEST_SUITE=$name SD_TEST_STATE=$state SIPDRAIN_PIN_DIR=$pin "$@" 2>&1)
	rc=$?
	echo "$out"
	# pins a suite left: detached, removed, said
	for left in "$pin" "$pin"-*; do
		[ -e "$left" ] || continue
		echo "  ($name left pins in $left: removed)"
		[ -e "$left/sd_config" ] && SIPDRAIN_PIN_DIR=$left "$SD" detach >/dev/null 2>&1
		rm -f "$left"/* 2>/dev/null; rmdir "$left" 2>/dev/null
	done
	if [ -n "${SD_TEST_KEEP:-}" ]; then
		echo "  (state kept in $state)"
	else
		rm -rf "$state"
	fi
	# counts for information and the total line
	line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
	f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	p=${p:-0}; f=${f:-0}
	if [ $rc -eq $SKIP ]; then
		skipped+=("$name")
		echo "  -> $name: skipped"
		return 0
	fi
	if [ $rc -eq 0 ] && [ "$f" -eq 0 ]; then
		passed+=("$name")
		echo "  -> $name: passed"
	else
		failed+=("$name")
		# a failure counts at least once in the total
		[ "$f" -eq 0 ] && f=1
		if [ $rc -eq 0 ]; then
			echo "  -> $name: FAILED (exit 0, but it printed failures)"
		else
			echo "  -> $name: FAILED (exit $rc)"
		fi
	fi
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

SELECT=("$@")
run helpers     bash tests/check_helpers.sh build/sipdrain.bpf.o
run gate        build/gate_test "$SHARED" tests/data
run walk        build/walk_test
run reply       build/reply_test "$SHARED" tests/data
run details     build/details_test
run bye         build/bye_test
run pcap        python3 tests/pcap_check.py build/sipdrain "$SHARED/pcap"
run cli         bash tests/cli_test.sh
run dist        bash tests/dist_test.sh
run e2e-sipp    bash tests/e2e_sipp.sh
run e2e-responder bash tests/e2e_responder.sh
run e2e-carrier bash tests/e2e_carrier.sh
run e2e-drain   bash tests/e2e_drain.sh
run e2e-operate bash tests/e2e_operate.sh
run e2e-http    bash tests/e2e_http.sh
run e2e-known-calls bash tests/e2e_known_calls.sh
run e2e-bye     bash tests/e2e_bye.sh
run e2e-lab     bash tests/e2e_lab.sh
run e2e-pool    bash tests/e2e_pool.sh
run e2e-faults  bash tests/e2e_faults.sh
run systemd     bash tests/systemd_test.sh
run fuzz        tests/fuzz/run.sh 20

# ---- the guard's verdict --------------------------------------------
echo "== default-pin-dir-untouched"
if [ -n "$guard_ok" ]; then
	if [ -z "$GUARD_OWN" ] && [ ! -e "$GUARD_DIR/before" ]; then
		guard_ok=
		echo "  FAIL nothing recorded before the suites"
	else
		guard_snapshot "$GUARD_DIR/after"
		if [ -n "$GUARD_OWN" ] && [ ! -e "/run/netns/$GUARD_NS" ]; then
			guard_ok=
			echo "  FAIL the guard's namespace $GUARD_NS is gone"
		fi
		if ! diff -U0 "$GUARD_DIR/before" "$GUARD_DIR/after" > "$GUARD_DIR/diff"; then
			guard_ok=
			echo "  FAIL $DEFAULT_PIN_DIR changed during the suites:"
			sed 's/^/    /' "$GUARD_DIR/diff"
		fi
	fi
fi
if [ -n "$guard_ok" ]; then
	echo "  ok   pins (same map and program ids), state, config$([ -n "$GUARD_OWN" ] && echo ", counters") unchanged"
	total_pass=$((total_pass + 1))
	passed+=("default-pin-dir-untouched")
else
	total_fail=$((total_fail + 1))
	failed+=("default-pin-dir-untouched")
fi
if [ -n "$GUARD_OWN" ]; then
	guard_remove
	if [ -e "$DEFAULT_PIN_DIR" ]; then
		echo "  FAIL the guard's gate did not leave $DEFAULT_PIN_DIR"
		total_fail=$((total_fail + 1))
		failed+=("default-pin-dir-untouched (detach)")
	fi
fi

echo "== total"
echo "suites and guard: passed ${#passed[@]}, failed ${#failed[@]}${failed[*]:+ (${failed[*]})}, skipped ${#skipped[@]}${skipped[*]:+ (${skipped[*]})}"
echo "$total_pass passed, $total_fail failed"
[ ${#failed[@]} -eq 0 ]
