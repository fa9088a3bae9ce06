#!/bin/bash
# Fuzzing: each libFuzzer target for SECONDS seconds from the seed corpus
# (tests/data, RFC 4475, every regression found so far; for the BYE
# builder also tests/fuzz/bye-seeds, the records bye_test writes with
# SD_BYE_SEEDS=DIR), then every regression replayed.  usage: tests/fuzz/run.sh SECONDS
# Prints executions per target and 'N passed, N failed' (targets).
set -u
cd "$(dirname "$0")/../.."
SECS=${1:-20}
SHARED=${SHARED:-$(cd .. && pwd)/shared/testdata}
B=${FUZZ_DIR:-build/fuzz}
pass=0; fail=0
for t in parser reply bye diff; do
	work=$B/corpus-$t
	mkdir -p $work $B/artifacts-$t
	cp tests/data/*.sip "$SHARED"/rfc4475/*.dat tests/fuzz/regressions/* $work/ 2>/dev/null
	# the BYE builder's input is a record (fuzz_bye.c): bye_test's records
	[ $t = bye ] && cp tests/fuzz/bye-seeds/* $work/ 2>/dev/null
	log=$B/fuzz-$t.log
	# the regressions, once each, must pass before fuzzing
	if ls tests/fuzz/regressions/* >/dev/null 2>&1 &&
	   ! $B/fuzz_$t tests/fuzz/regressions/* >$B/replay-$t.log 2>&1; then
		echo "FAIL fuzz_$t: a regression case fails again (see $B/replay-$t.log)"
		fail=$((fail + 1)); continue
	fi
	$B/fuzz_$t $work -max_total_time=$SECS -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
		-artifact_prefix=$B/artifacts-$t/ -print_final_stats=1 >$log 2>&1
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' $log | grep -o '[0-9]*$')
	if [ $rc -eq 0 ]; then
		echo "  ok   fuzz_$t: ${execs:-?} executions in ${SECS}s, clean"
		pass=$((pass + 1))
	else
		echo "  FAIL fuzz_$t (exit $rc): $(grep -m1 -E 'ERROR|SUMMARY|abort' $log)"
		echo "       reproducer(s): $(ls $B/artifacts-$t/ | head -3 | tr '\n' ' ')  -> add to tests/fuzz/regressions/"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
