#!/bin/bash
# The gate knows every live call (issue: calls that began before it,
# across restarts and upgrades, through floods):
#  - calls set up with no gate attached are learned from their in-dialog
#    traffic; a drain waits for them; none fails;
#  - silent calls older than the gate: early offline does not fire before
#    --min-watch, the deadline cuts (exit 3, said); --min-watch 0: as before;
#  - run stopped (SIGTERM) and started again mid-call and mid-drain: the
#    gate stays, the table and the deadline survive, no call is lost;
#  - SIGTERM during a drain: 503s go on until offline, then run exits 0;
#  - a flood of 12 000 new INVITEs (ten times --max-dialogs 1024) from
#    12 000 spoofed sources evicts none of 20 calls; the drain waits for
#    them all, none refused;
#  - pins of another layout are refused in one line, never read; detach
#    takes them off.
. "$(dirname "$0")/lib.sh"
need sipp

now() { date +%s.%N; }
since() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
json_get() { in_s "$SD" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
# poll_json EXPR WANT SECONDS: until status --json gives WANT
poll_json() {
	local i
	for i in $(seq $(( $3 * 10 ))); do
		[ "$(json_get "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# refused RC OUT PATTERN: exit 1, one line, saying PATTERN
# calls with details kept (what a BYE at the deadline needs), as bpftool reads them
details_count() { bpftool -j map dump pinned $PIN_DIR/sd_details | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
refused() { [ "$1" -eq 1 ] && [ "$(printf '%s\n' "$2" | wc -l)" -eq 1 ] && grep -q "$3" <<<"$2"; }
# calls_up SUBNET N DURATION_MS RCFILE: a sipp UAS behind the gate, a UAC
# placing N calls of that length; its exit status lands in RCFILE
calls_up() {
	bg_s sipp -sn uas -i 198.18.$1.2 -p 5060 -nostdin >/dev/null 2>&1
	wait_bound u 5060 || fail "the sipp UAS did not bind"
	bg_c bash -c "sipp -sn uac 198.18.$1.2:5060 -i 198.18.$1.1 -p 5070 -m $2 -r 20 -d $3 -timeout 60 \
		-timeout_error -nostdin >/dev/null 2>&1; echo \$? > $4"
	UAC=${PIDS[-1]}
}
sed "s/\[retry\]/300/" "$ROOT/tests/sipp/uac_503.xml" > $WORK/uac_503.xml

echo "-- calls older than the gate, learned from their in-dialog traffic"
setup_pair 60 || { fail "namespaces"; finish; exit; }
bg_s sipp -sf "$ROOT/tests/sipp/uas_refresh.xml" -i 198.18.60.2 -p 5060 -nostdin >/dev/null 2>&1
wait_bound u 5060 || fail "the sipp UAS did not bind"
bg_c bash -c "sipp -sf '$ROOT/tests/sipp/uac_refresh.xml' 198.18.60.2:5060 -i 198.18.60.1 -p 5070 -m 6 -r 20 \
	-timeout 40 -timeout_error -nostdin -trace_stat -stf $WORK/a.csv >/dev/null 2>&1; echo \$? > $WORK/a.rc"
UAC=${PIDS[-1]}
sleep 1                                 # 6 calls up, no gate yet
bg_s "$SD" run $VS 2>$WORK/learn.log
check "run attaches while 6 calls are up" wait_responder
check "their in-dialog OPTIONS make all 6 learned calls" poll_json 'd["dialogs"]["learned"]' 6 4
in_s "$SD" drain --deadline 30s --min-watch 0 --wait > $WORK/a.out 2>&1; rc=$?
check "drain --wait waited for the learned calls and exits 0 (got $rc: $(tail -1 $WORK/a.out))" test $rc -eq 0
check "its progress counted them as learned" grep -q 'learned 6)' $WORK/a.out
wait_gone $UAC 20
check "sipp: 0 failed calls (exit $(cat $WORK/a.rc 2>/dev/null))" test "$(cat $WORK/a.rc 2>/dev/null)" = 0
check "counter calls_learned = 6 (got $(counter calls_learned))" test "$(counter calls_learned)" -eq 6
check "run's log says it learned calls ($(grep -m1 'learned' $WORK/learn.log))" \
	grep -Eq '^[0-9-]{10}T[0-9:.]{12}[+-][0-9]{4} learned [1-6] calls? from in-dialog traffic .*, [1-6] so far$' $WORK/learn.log
check "no in-dialog request was answered 503 (OPTIONS $(counter responder reply_options), BYE $(counter responder reply_bye))" \
	test "$(counter responder reply_options)$(counter responder reply_bye)" = 00
check "offline because the last call ended" test "$(json_get 'd["offline_reason"]')" = last_call
teardown

echo "-- silent calls older than the gate: the default --min-watch holds early offline"
setup_pair 61 || { fail "namespaces"; finish; exit; }
calls_up 61 3 8000 $WORK/b.rc
sleep 1
bg_s "$SD" run $VS
wait_responder
t0=$(now)
in_s "$SD" drain --deadline 3s --wait > $WORK/b.out 2>&1; rc=$?
t1=$(now)
check "drain said early offline is held back by --min-watch" grep -q 'early offline held back' $WORK/b.out
check "early offline did not fire: offline at the deadline ($(since $t0 $t1) s for 3 s)" \
	python3 -c "import sys; sys.exit(not 2.9 < $(since $t0 $t1) < 4.5)"
check "drain --wait exits 3 (got $rc) and says unseen calls may have been cut" \
	bash -c "test $rc -eq 3 && grep -q 'older than the gate' $WORK/b.out"
check "status: unseen_calls_may_be_cut" test "$(json_get 'd["unseen_calls_may_be_cut"]')" = True
teardown
setup_pair 62 || { fail "namespaces"; finish; exit; }
calls_up 62 3 8000 $WORK/c.rc
sleep 1
bg_s "$SD" run $VS --min-watch 0
wait_responder
t0=$(now)
in_s "$SD" drain --deadline 10s --wait > $WORK/c.out 2>&1; rc=$?
t1=$(now)
check "--min-watch 0: offline at once, as before (exit $rc after $(since $t0 $t1) s)" \
	python3 -c "import sys; sys.exit(not ($rc == 0 and $(since $t0 $t1) < 2))"
teardown

echo "-- run stopped and started again, mid-call and mid-drain"
setup_pair 63 || { fail "namespaces"; finish; exit; }
bg_s "$SD" run $VS --min-watch 0
RUN=${PIDS[-1]}
wait_responder
calls_up 63 5 9000 $WORK/d.rc
check "5 calls confirmed" poll_json 'd["dialogs"]["confirmed"]' 5 3
since0=$(json_get 'd["watch"]["since_unix"]')
check "their details are kept: 5 (bpftool reads $(details_count))" test "$(details_count)" = 5
kill -TERM $RUN; wait $RUN; rc=$?
check "run exits 0 on SIGTERM while serving (got $rc)" test $rc -eq 0
check "the gate stays attached with its pins" bash -c "test -e $PIN_DIR/sd_calls && ip -n $NS_S link show $VS | grep -q xdp"
bg_s "$SD" run $VS
RUN=${PIDS[-1]}
check "a new run adopts it" wait_responder
check "the call table is intact: 5 confirmed" test "$(json_get 'd["dialogs"]["confirmed"]')" = 5
check "and their details ($(details_count))" test "$(details_count)" = 5
check "the observation horizon is kept" test "$(json_get 'd["watch"]["since_unix"]')" = "$since0"
check "drain with a 40 s deadline" in_s "$SD" drain --deadline 40s
dl0=$(json_get 'd["deadline_unix"]')
kill -TERM $RUN; sleep 0.5
check "SIGTERM mid-drain: run keeps going to finish the drain" kill -0 $RUN
kill -TERM $RUN; wait $RUN
bg_s "$SD" run $VS
RUN=${PIDS[-1]}
check "run started again mid-drain" wait_responder
dl1=$(json_get 'd["deadline_unix"]')
check "the deadline is kept to within 0.1 s ($dl0 / $dl1)" \
	python3 -c "import sys; sys.exit(not abs($dl0 - $dl1) < 0.1)"
check "the drain goes on with the 5 calls" test "$(json_get 'd["state"], d["dialogs"]["live"]')" = "('draining', 5)"
check "offline when the last call ended" poll_json 'd["state"], d["offline_reason"]' "('offline', 'last_call')" 15
for i in $(seq 30); do [ "$(details_count)" = 0 ] && break; sleep 0.2; done
check "the details of ended calls are removed ($(details_count) left)" test "$(details_count)" = 0
wait_gone $UAC 15
check "0 calls lost (sipp exit $(cat $WORK/d.rc 2>/dev/null))" test "$(cat $WORK/d.rc 2>/dev/null)" = 0
teardown

echo "-- SIGTERM during a drain: 503s until offline, then exit 0"
setup_pair 64 || { fail "namespaces"; finish; exit; }
bg_s "$SD" run $VS --min-watch 0 2> $WORK/e.log
RUN=${PIDS[-1]}
wait_responder
calls_up 64 2 5000 $WORK/e.rc
poll_json 'd["dialogs"]["confirmed"]' 2 3
in_s "$SD" drain --deadline 30s >/dev/null 2>&1
kill -TERM $RUN; sleep 0.5
check "run is still up after SIGTERM" kill -0 $RUN
check "it logged that it finishes the drain first" grep -q 'finishing it first' $WORK/e.log
in_c timeout 20 sipp -sf $WORK/uac_503.xml 198.18.64.2:5060 -i 198.18.64.1 -p 5071 -m 3 -r 10 \
	-timeout 10 -timeout_error -nostdin >/dev/null 2>&1
check "new INVITEs still get 503 (sipp exit $?)" test $? -eq 0
wait_gone $RUN 15; wait $RUN; rc=$?
check "run exits 0 once offline (got $rc)" test $rc -eq 0
check "offline because the last call ended" test "$(json_get 'd["state"], d["offline_reason"]')" = "('offline', 'last_call')"
wait_gone $UAC 10
check "the 2 calls completed (sipp exit $(cat $WORK/e.rc 2>/dev/null))" test "$(cat $WORK/e.rc 2>/dev/null)" = 0
teardown

echo "-- a flood of new INVITEs evicts no call"
setup_pair 65 || { fail "namespaces"; finish; exit; }
# the flood's spoofed sources are unreachable from the server: its answers
# wait for a neighbour that never replies (as to a scanner's fake address)
in_s ip route add 198.19.0.0/16 via 198.18.65.99
bg_s "$SD" run $VS --max-dialogs 1024 --min-watch 0
wait_responder
calls_up 65 20 12000 $WORK/f.rc
check "20 calls confirmed" poll_json 'd["dialogs"]["confirmed"]' 20 4
smac=$(in_s ip -o link show $VS | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
out=$(in_c timeout 30 python3 "$ROOT/tests/flood.py" $VC 198.18.65.2 $smac 12000 8000)
rec=$(counter dialogs_recorded)
check "flood: 12 000 INVITEs, 12 000 sources, 11x the table ($out s; $rec attempts recorded)" test "$rec" -ge 12000
check "all 20 calls still known after the flood" test "$(json_get 'd["dialogs"]["confirmed"]')" = 20
check "no call found the table full (calls_table_full $(counter calls_table_full))" test "$(counter calls_table_full)" -eq 0
in_s "$SD" drain --deadline 60s --wait > $WORK/f.out 2>&1; rc=$?
check "the drain waited for all 20 and exits 0 (got $rc: $(tail -1 $WORK/f.out))" test $rc -eq 0
wait_gone $UAC 20
check "all 20 calls finished (sipp exit $(cat $WORK/f.rc 2>/dev/null))" test "$(cat $WORK/f.rc 2>/dev/null)" = 0
check "none refused: no BYE answered 503 (got $(counter responder reply_bye))" test "$(counter responder reply_bye)" -eq 0
teardown

echo "-- a full call table is counted, shown, logged, and holds early offline"
setup_pair 67 || { fail "namespaces"; finish; exit; }
bg_s "$SD" run $VS --max-dialogs 1024 --min-watch 0 2> $WORK/g.log
wait_responder
bg_s sipp -sn uas -i 198.18.67.2 -p 5060 -nostdin >/dev/null 2>&1
in_s "$ROOT/build/fill_dialogs" 1024 >/dev/null
in_c timeout 20 sipp -sn uac 198.18.67.2:5060 -i 198.18.67.1 -p 5070 -m 1 -r 10 -d 100 -timeout 15 \
	-timeout_error -nostdin >/dev/null 2>&1
check "a call still completes with the call table full (sipp exit $?)" test $? -eq 0
check "counted: calls_table_full $(counter calls_table_full)" test "$(counter calls_table_full)" -ge 1
check "status shows it" bash -c "nsenter --net=/run/netns/$NS_S '$SD' status | grep -q 'CALL TABLE FULL'"
for i in $(seq 30); do grep -q 'call table is full' $WORK/g.log && break; sleep 0.1; done
check "run logged it" grep -q 'call table is full' $WORK/g.log
in_s "$SD" drain --deadline 2s > $WORK/g.out 2>&1
check "drain says early offline is held back by the full table" grep -q 'call table was full' $WORK/g.out
teardown

echo "-- pins of another layout"
setup_pair 66 || { fail "namespaces"; finish; exit; }
in_s "$SD" attach $VS >/dev/null 2>&1
rm -f $PIN_DIR/sd_calls
bpftool map create $PIN_DIR/sd_calls type hash key 8 value 16 entries 64 name sd_calls
out=$(in_s "$SD" status 2>&1); rc=$?
check "status refuses them in one line, exit 1 ($out)" refused $rc "$out" 'sd_calls laid out differently' 
out=$(in_s "$SD" run $VS 2>&1); rc=$?
check "run refuses to adopt them (exit $rc), one line saying what to do" refused $rc "$out" "'sipdrain detach'" 
out=$(in_s "$SD" drain 2>&1); rc=$?
check "drain refuses them (exit $rc)" test $rc -eq 1
check "detach takes them off" in_s "$SD" detach
check "no pins, no XDP left" bash -c "test ! -e $PIN_DIR && ! ip -n $NS_S link show $VS | grep -q xdp"
in_s "$SD" attach $VS >/dev/null 2>&1
rm -f $PIN_DIR/sd_meta                  # what a build of ABI 1 left
out=$(in_s "$SD" status 2>&1); rc=$?
check "pins of ABI 1 (no sd_meta) are refused in one line ($out)" refused $rc "$out" 'pin ABI 1' 
check "detach takes them off" in_s "$SD" detach
teardown
finish
