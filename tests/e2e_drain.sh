#!/bin/bash
# The drain as operators run it (sipp with chosen call durations):
#  - calls shorter than the deadline complete; OFFLINE follows the last
#    BYE within 1 s; drain --wait exits 0;
#  - calls longer than the deadline are cut; --wait exits 3, says how many;
#  - a UAS that hangs up itself is followed through egress;
#  - an INVITE challenged with 407 before the drain and re-sent during it
#    reaches the server;
#  - run killed and restarted mid-drain keeps the deadline;
#  - 100 000 dialogs in the table: status answers in under 1 s;
#  - /metrics parses as Prometheus text (prometheus_client's parser).
. "$(dirname "$0")/lib.sh"
need sipp

now() { date +%s.%N; }
since() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
json_get() { in_s "$SD" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

start() {   # start N: namespaces, run (with metrics), sipp UAS [scenario]
	setup_pair $1 || return 1
	# attached before the first call: the gate has seen every call begin
	bg_s "$SD" run $VS --metrics 127.0.0.1:9560 --min-watch 0
	RUN_PID=${PIDS[-1]}
	wait_responder || return 1
	if [ -n "${2:-}" ]; then
		bg_s sipp -sf "$ROOT/tests/sipp/$2" -i 198.18.$1.2 -p 5060 -nostdin >/dev/null 2>&1
	else
		bg_s sipp -sn uas -i 198.18.$1.2 -p 5060 -nostdin >/dev/null 2>&1
	fi
	wait_bound u 5060 || { fail "the sipp UAS did not bind"; return 1; }
}

echo "-- calls shorter than the deadline"
start 11 || { fail "setup"; finish; exit; }
bg_c bash -c "sipp -sn uac 198.18.11.2:5060 -i 198.18.11.1 -p 5070 -m 8 -r 20 -d 2000 -timeout 30 \
	-timeout_error -nostdin >/dev/null 2>&1; echo \$? > $WORK/uac.rc; date +%s.%N > $WORK/uac.end"
sleep 0.9
t0=$(now)
in_s "$SD" drain --deadline 30s --wait > $WORK/wait.out 2>&1; rc=$?
t1=$(now)
check "drain --wait exits 0 when every call finished (got $rc: $(tail -1 $WORK/wait.out))" test $rc -eq 0
wait_gone ${PIDS[-1]} 10
check "the 8 calls completed (sipp exit $(cat $WORK/uac.rc 2>/dev/null))" test "$(cat $WORK/uac.rc 2>/dev/null)" = 0
lag=$(since "$(cat $WORK/uac.end)" "$t1")
check "OFFLINE followed the last BYE within 1 s (${lag} s; drain took $(since $t0 $t1) s)" \
	python3 -c "import sys; sys.exit(not (-0.5 < float('$lag') < 1.0))"
check "status says offline, reason last_call" test "$(json_get 'd["state"], d["offline_reason"]')" = "('offline', 'last_call')"
teardown

echo "-- calls longer than the deadline"
start 12 || { fail "setup"; finish; exit; }
bg_c sipp -sn uac 198.18.12.2:5060 -i 198.18.12.1 -p 5070 -m 4 -r 10 -d 20000 -timeout 40 -nostdin >/dev/null 2>&1
sleep 1
t0=$(now)
in_s "$SD" drain --deadline 3s --wait > $WORK/wait.out 2>&1; rc=$?
t1=$(now)
check "drain --wait exits 3 when the deadline cut calls (got $rc)" test $rc -eq 3
check "it says 4 calls were cut ($(grep -o 'cut [0-9]* call.*' $WORK/wait.out))" grep -q "cut 4 calls" $WORK/wait.out
check "offline at the deadline ($(since $t0 $t1) s for a 3 s deadline)" \
	python3 -c "import sys; sys.exit(not (2.9 < $(since $t0 $t1) < 4.5))"
check "status: calls_cut 4" test "$(json_get 'd["calls_cut"]')" = 4
teardown

echo "-- a UAS that hangs up itself, followed through egress"
start 13 uas_bye.xml || { fail "setup"; finish; exit; }
bg_c bash -c "sipp -sf '$ROOT/tests/sipp/uac_wait_bye.xml' 198.18.13.2:5060 -i 198.18.13.1 -p 5070 \
	-m 3 -r 10 -timeout 30 -timeout_error -nostdin >/dev/null 2>&1; echo \$? > $WORK/uac.rc"
sleep 0.8
check "the calls are confirmed from what the UAS sent (egress)" \
	test "$(json_get 'd["dialogs"]["confirmed"]')" -ge 1
t0=$(now)
in_s "$SD" drain --deadline 30s --wait > $WORK/wait.out 2>&1; rc=$?
t1=$(now)
check "drain --wait exits 0 once the UAS hung up (got $rc after $(since $t0 $t1) s)" test $rc -eq 0
check "... well before the deadline" python3 -c "import sys; sys.exit(not ($(since $t0 $t1) < 10))"
wait_gone ${PIDS[-1]} 10
check "the callers saw the UAS's BYE (sipp exit $(cat $WORK/uac.rc 2>/dev/null))" test "$(cat $WORK/uac.rc 2>/dev/null)" = 0
check "egress counted the UAS's BYEs" test "$(json_get 'd["counters"]["egress_requests"]')" -ge 3
teardown

echo "-- INVITE challenged with 407 before the drain, re-sent during it"
start 14 uas_407.xml || { fail "setup"; finish; exit; }
bg_c bash -c "sipp -sf '$ROOT/tests/sipp/uac_407.xml' 198.18.14.2:5060 -i 198.18.14.1 -p 5070 \
	-m 1 -timeout 30 -timeout_error -nostdin >/dev/null 2>&1; echo \$? > $WORK/uac.rc"
sleep 0.7
check "drain while the caller is challenged" in_s "$SD" drain --deadline 30s
wait_gone ${PIDS[-1]} 15
check "the re-sent INVITE reached the server and the call completed (sipp exit $(cat $WORK/uac.rc 2>/dev/null))" \
	test "$(cat $WORK/uac.rc 2>/dev/null)" = 0
check "the gate passed it as an INVITE already received" test "$(json_get 'd["counters"]["drain_known_callid"]')" -ge 1
check "and answered no INVITE with 503" test "$(json_get 'd["responder"]["counters"]["reply_invite"]')" -eq 0

echo "-- run killed and restarted mid-drain"
in_s "$SD" resume >/dev/null 2>&1
check "drain with a 40 s deadline" in_s "$SD" drain --deadline 40s --no-early-offline
left0=$(json_get 'd["deadline_seconds_left"]'); t0=$(now)
kill -9 $RUN_PID; wait $RUN_PID 2>/dev/null
sleep 1
bg_s "$SD" run $VS --min-watch 0
RUN_PID=${PIDS[-1]}
check "run restarted" wait_responder
left1=$(json_get 'd["deadline_seconds_left"]'); t1=$(now)
check "the deadline survived the restart (${left0} s left before, ${left1} s after $(since $t0 $t1) s)" \
	python3 -c "import sys; sys.exit(not abs(($left0 - $left1) - $(since $t0 $t1)) < 1.0)"
check "still draining" test "$(json_get 'd["state"]')" = draining
teardown

echo "-- scale and metrics"
start 15 || { fail "setup"; finish; exit; }
check "fill the table with 100 000 dialogs" bash -c "test \"\$(nsenter --net=/run/netns/$NS_S '$ROOT/build/fill_dialogs' 100000)\" = 100000"
t0=$(now); n=$(json_get 'd["dialogs"]["live"]'); t1=$(now)
check "status --json with 100 000 dialogs answers in under 1 s ($(since $t0 $t1) s, $n live)" \
	python3 -c "import sys; sys.exit(not ($(since $t0 $t1) < 1.0 and $n == 100000))"
t0=$(now); in_s "$SD" status >/dev/null; t1=$(now)
check "status (table) in under 1 s ($(since $t0 $t1) s)" python3 -c "import sys; sys.exit(not $(since $t0 $t1) < 1.0)"
in_s "$SD" drain --deadline 10m >/dev/null 2>&1
# Debian's python3 (the one python3-prometheus-client is installed for)
in_s /usr/bin/python3 - > $WORK/metrics.out 2>&1 <<'PY'
import sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen("http://127.0.0.1:9560/metrics", timeout=5).read().decode()
fam = {f.name: f for f in text_string_to_metric_families(text)}
def val(name, **labels):
    for s in fam[name].samples:
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError(name)
need = ["sipdrain_state", "sipdrain_dialogs", "sipdrain_requests", "sipdrain_responder_replies",
        "sipdrain_drain_deadline_timestamp_seconds", "sipdrain_packets", "sipdrain_responder_up"]
missing = [n for n in need if n not in fam]
assert not missing, "missing families: %s" % missing
# renamed in 0.x: the old names must not come back (README, "Metrics")
gone = [n for n in ("sipdrain_replies", "sipdrain_drain_deadline_seconds") if n in fam]
assert not gone, "old families: %s" % gone
assert set(s.labels["method"] for s in fam["sipdrain_responder_replies"].samples) >= {"INVITE", "other"}
assert val("sipdrain_state", state="draining") == 1 and val("sipdrain_state", state="serving") == 0
assert val("sipdrain_dialogs", state="confirmed") == 100000
assert val("sipdrain_drain_deadline_timestamp_seconds") > 1.7e9
assert fam["sipdrain_requests"].type == "counter"
assert ("method", "verdict") == tuple(sorted(fam["sipdrain_requests"].samples[0].labels))
assert val("sipdrain_responder_up") == 1
print("parsed %d families, %d samples" % (len(fam), sum(len(f.samples) for f in fam.values())))
PY
check "/metrics parses as Prometheus text with the expected families ($(tail -1 $WORK/metrics.out))" \
	grep -q '^parsed' $WORK/metrics.out
teardown
finish
