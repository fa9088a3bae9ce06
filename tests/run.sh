#!/bin/bash
# Runs every test of `make test`; prints each test's lines and a total
# 'N passed, N failed'.  Exit status non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
export SHARED=${SHARED:-$(cd .. && pwd)/shared/testdata}
total_pass=0; total_fail=0

if [ "$(id -u)" != 0 ]; then
	echo "tests: must run as root (BPF_PROG_TEST_RUN, XDP, network namespaces)" >&2
	exit 1
fi
if [ ! -d "$SHARED/rfc4475" ]; then
	echo "tests: test data not found at $SHARED (expected ../shared/testdata beside the repo)" >&2
	exit 1
fi

run() {
	local name=$1; shift
	echo "== $name"
	local out rc
	out=$("$@" 2>&1); rc=$?
	echo "$out"
	local line p f
	line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
	f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	if [ -z "$line" ]; then p=0; f=1; echo "  ($name printed no result line)"; fi
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "  ($name exited $rc)"; fi
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

run helpers     tests/check_helpers.sh build/sipdrain.bpf.o
run gate        build/gate_test "$SHARED" tests/data
run walk        build/walk_test
run reply       build/reply_test "$SHARED" tests/data
run pcap        python3 tests/pcap_check.py build/sipdrain "$SHARED/pcap"
run cli         bash tests/cli_test.sh
run e2e-sipp    bash tests/e2e_sipp.sh
run e2e-responder bash tests/e2e_responder.sh
run e2e-carrier bash tests/e2e_carrier.sh
run e2e-drain   bash tests/e2e_drain.sh
run e2e-http    bash tests/e2e_http.sh
run e2e-known-calls bash tests/e2e_known_calls.sh
run e2e-lab     bash tests/e2e_lab.sh
run e2e-pool    bash tests/e2e_pool.sh
run e2e-faults  bash tests/e2e_faults.sh
run fuzz        tests/fuzz/run.sh 20

echo "== total"
echo "$total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ]
