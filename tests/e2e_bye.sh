#!/bin/bash
# Calls still up at the deadline are ended with a BYE on both sides
# (issue 14):
#  - the lab's Kamailio record-routing proxy with the gate on both of its
#    interfaces, long calls (sipp caller and callee that wait for a BYE,
#    answer it 200 and count the call successful): drain --deadline 3s
#    --wait ends every call with a BYE on both sides, each the one the
#    dialog's other side would send; 0 failed calls at both ends; none of
#    the BYEs' 200s reaches Kamailio; status, --wait and the on-offline
#    hook count them; IPv4 and IPv6;
#  - a sipp UAS as the server: the caller gets the BYE as from the UAS
#    (its tag in From, a CSeq above the UAS's own re-INVITE's);
#  - a party that never answers: retransmissions at T1 doubling to T2
#    (0.5, 1, 2, 4, 4 ... s), none after 64*T1 = 32 s; counted no answer;
#  - resume while the BYEs go on: no BYE after it, the hook that waits
#    for their outcome does not run, resume --json says both;
#  - run restarted between the calls' setup and the deadline: the BYEs
#    still go out (the details are pinned);
#  - --at-deadline refuse: no BYE, the calls are left up, as before;
#  - bad input: an INVITE or a 2xx without Contact: not ended (no
#    details), no BYE sent.
. "$(dirname "$0")/lab/lab.sh"
need sipp kamailio bpftool

now() { date +%s.%N; }
since() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
# jget NS PIN EXPR: a value of status --json (d), or ERR
jget() { sd_json "$1" "$2" "$3" 2>/dev/null || echo ERR; }
# poll NS PIN EXPR WANT SECONDS: until status --json gives WANT
poll() {
	local i
	for i in $(seq $(( $5 * 10 ))); do
		[ "$(jget "$1" "$2" "$3")" = "$4" ] && return 0
		sleep 0.1
	done
	return 1
}
# the flags of the calls' details, sorted (bpftool reads the pinned map)
details_flags() {
	bpftool -j map dump pinned $1/sd_details 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(str(e.get("formatted", e)["value"]["flags"]) for e in sorted(d, key=lambda e: str(e))) or "none")'
}
details_field() {     # details_field PIN FIELD: that field of every entry
	bpftool -j map dump pinned $1/sd_details 2>/dev/null | python3 -c '
import json, sys
print(" ".join(str(e.get("formatted", e)["value"][sys.argv[1]]) for e in json.load(sys.stdin)) or "none")' "$2"
}
# scenario FILE KEY=VALUE...: a copy of a scenario of tests/sipp with its
# placeholders set
scenario() {
	local f=$WORK/$(basename "$1" .xml)-$RANDOM.xml kv src=$1
	shift
	cp "$ROOT/tests/sipp/$src" $f
	for kv in "$@"; do sed -i "s|${kv%%=*}|${kv#*=}|g" $f; done
	echo $f
}
msgs() { python3 "$ROOT/tests/sipp_msgs.py" "$@"; }
# wait_rc PID SECONDS: RC = the exit status of a process started by
# bg_*, or "running" (then it is killed).  Not in $(...): a subshell
# cannot wait for the shell's children.
wait_rc() {
	if wait_gone "$1" "$2"; then
		wait "$1" 2>/dev/null
		RC=$?
	else
		kill "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		RC=running
	fi
}
# the figures drain --wait and run's log print
# the responder's BYE counters, as status --json prints them: [sent, responses]
BYE_COUNTS='[d["responder"]["counters"][k] for k in ("bye_sent", "bye_responses")]'
bye_line() { echo "ended $1 calls\? with BYE ($2 answered 200, $3 no answer), $4 could not be ended ($5 learned, $6 early, $7 without details)"; }

# BYE_CASES="proxy uas noanswer resume restart refuse bad": only those cases
# (all by default)
want() { [ -z "${BYE_CASES:-}" ] || [[ " $BYE_CASES " == *" $1 "* ]]; }

N=4
AWAIT=$(scenario uac_await_bye.xml BYE_WAIT_MS=30000)
CALLEE=$(scenario uas_await_bye.xml BYE_WAIT_MS=30000)

# ---- 1. the record-routing proxy, the gate on both of its interfaces ----
proxy_case() {
	local fam=$1 sc rc crc urc out hook=$WORK/hook-$1.env
	echo "-- Kamailio record-routing proxy, gate on both interfaces, $N long calls ($fam)"
	lab_single $fam both none || { fail "the lab ($fam) did not come up"; lab_teardown; return; }
	bg_ns $NS_U sipp -sf $CALLEE -i $U_IP -p 5060 -m $((N + 1)) -aa -nostdin -timeout 60 \
		-trace_msg -message_file $WORK/callee-$fam.msg >/dev/null 2>&1
	local UAS=${PIDS[-1]}
	check "the gate runs on both of Kamailio's interfaces ($(jget $NS_S $PIN '" ".join(sorted(i["name"] for i in d["interfaces"]))'))" \
		test "$(jget $NS_S $PIN '" ".join(sorted(i["name"] for i in d["interfaces"]))')" = "$(echo $VS vt$ID | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
	check "status: at_deadline bye by default ($(jget $NS_S $PIN 'd.get("at_deadline")'))" \
		test "$(jget $NS_S $PIN 'd.get("at_deadline")')" = bye
	# a control: a call that ends with the caller's own BYE while serving;
	# its 200 reaches Kamailio and is logged (REPLY-BYE), so the log can
	# tell when a BYE's 200 reaches it
	sc=$(caller_scenario 300 300)
	in_ns $NS_C timeout 20 sipp -sf $sc "$(uri_host $S_PUB):5060" -i $C_IP -p 5071 -m 1 \
		-timeout 15 -timeout_error -nostdin >/dev/null 2>&1
	rc=$?
	check "a control call ended by its caller completes through Kamailio (sipp exit $rc)" test $rc -eq 0
	check "Kamailio logged the 200 to the control call's BYE (REPLY-BYE: $(grep -c 'REPLY-BYE 200' $KLOG))" \
		test "$(grep -c 'REPLY-BYE 200' $KLOG)" -eq 1
	bg_ns $NS_C sipp -sf $AWAIT "$(uri_host $S_PUB):5060" -i $C_IP -p 5070 -m $N -r 10 -nostdin \
		-timeout 60 -trace_msg -message_file $WORK/caller-$fam.msg >/dev/null 2>&1
	local UAC=${PIDS[-1]}
	check "$N calls confirmed through the proxy" poll $NS_S $PIN 'd["dialogs"]["confirmed"]' $N 5
	for i in $(seq 50); do [ "$(details_flags $PIN)" = "$(printf '3 %.0s' $(seq $N) | sed 's/ $//')" ] && break; sleep 0.1; done
	check "their details are kept, both legs seen (flags INVITE_IN|2XX_IN = 3 each: $(details_flags $PIN))" \
		test "$(details_flags $PIN)" = "$(printf '3 %.0s' $(seq $N) | sed 's/ $//')"
	t0=$(now)
	sd_in $NS_S $PIN drain --deadline 3s --min-watch 0 --wait \
		--exec-on-offline "env | grep ^SIPDRAIN_ > $hook" > $WORK/drain-$fam.out 2>&1
	rc=$?
	t1=$(now)
	check "drain --wait exits 3: the deadline cut the calls (got $rc after $(since $t0 $t1) s)" test $rc -eq 3
	check "it says: $(bye_line $N $N 0 0 0 0 0 | tr -d '\\') (got: $(grep -o 'ended .*' $WORK/drain-$fam.out))" \
		grep -q "$(bye_line $N $N 0 0 0 0 0)" $WORK/drain-$fam.out
	wait_rc $UAC 15; crc=$RC
	wait_rc $UAS 15; urc=$RC
	check "callers: $N calls ended by a BYE, 0 failed (sipp exit $crc)" test "$crc" = 0
	check "callees: $N+1 calls, each ended by a BYE, 0 failed (sipp exit $urc)" test "$urc" = 0
	check "each caller got one BYE, from the gate ($(msgs $WORK/caller-$fam.msg 'len(set(b["h"]["call-id"][0] for b in byes if "z9hG4bK-sdbye-" in b["h"]["via"][0]))'))" \
		test "$(msgs $WORK/caller-$fam.msg 'len(set(b["h"]["call-id"][0] for b in byes if "z9hG4bK-sdbye-" in b["h"]["via"][0]))')" = $N
	check "each callee got one BYE, from the gate ($(msgs $WORK/callee-$fam.msg 'len(set(b["h"]["call-id"][0] for b in byes if "z9hG4bK-sdbye-" in b["h"]["via"][0]))'))" \
		test "$(msgs $WORK/callee-$fam.msg 'len(set(b["h"]["call-id"][0] for b in byes if "z9hG4bK-sdbye-" in b["h"]["via"][0]))')" = $N
	python3 "$ROOT/tests/bye_check.py" proxy $WORK/caller-$fam.msg $WORK/callee-$fam.msg "$(uri_host $C_IP)" \
		"$(uri_host $S_PUB)" "$(uri_host $U_IP)" "$(uri_host $S_PRIV)" > $WORK/byes-$fam.out 2>&1
	check "each BYE is the dialog's other side's: Request-URI the party's Contact, tags swapped right, no Route (only Kamailio's own entries), Via from the server's address and port (z9hG4bK-sdbye-, rport) ($(tail -1 $WORK/byes-$fam.out))" \
		grep -q '^ok' $WORK/byes-$fam.out
	check "Kamailio received none of the BYEs' 200s (REPLY-BYE lines: $(grep -c 'REPLY-BYE' $KLOG), the control's 1)" \
		test "$(grep -c 'REPLY-BYE' $KLOG)" -eq 1
	check "status: bye.calls $N, answered $N, no_answer 0, otherwise 0, pending false ($(jget $NS_S $PIN 'd.get("bye")'))" \
		test "$(jget $NS_S $PIN '(d["bye"]["calls"], d["bye"]["answered"], d["bye"]["no_answer"], d["bye"]["answered_otherwise"], d["bye"]["pending"])')" = "($N, $N, 0, 0, False)"
	check "status: bye.not_ended all 0 ($(jget $NS_S $PIN 'd["bye"]["not_ended"]'))" \
		test "$(jget $NS_S $PIN 'sorted(d["bye"]["not_ended"].items())')" = "[('early', 0), ('learned', 0), ('no_details', 0)]"
	# the parties answer within a millisecond of each BYE (veth): none
	# needs a retransmission, unless the gate lost an answer
	check "no BYE retransmitted, every answer taken: responder bye_sent $((2 * N)), bye_responses $((2 * N)) (got $(jget $NS_S $PIN "$BYE_COUNTS"))" \
		test "$(jget $NS_S $PIN "$BYE_COUNTS")" = "[$((2 * N)), $((2 * N))]"
	for i in $(seq 50); do [ -s $hook ] && break; sleep 0.1; done
	check "the on-offline hook got the figures ($(grep -E 'BYE|NOT_ENDED' $hook 2>/dev/null | tr '\n' ' '))" \
		bash -c "grep -qx SIPDRAIN_CALLS_BYE=$N $hook && grep -qx SIPDRAIN_BYE_ANSWERED=$N $hook &&
			grep -qx SIPDRAIN_BYE_NO_ANSWER=0 $hook && grep -qx SIPDRAIN_CALLS_NOT_ENDED=0 $hook"
	for i in $(seq 30); do grep -q 'ended .* with BYE' $WORK/sipdrain-$NS_S.log 2>/dev/null && break; sleep 0.1; done
	check "run's log says it ($(grep -o 'ended .* with BYE.*' $WORK/sipdrain-$NS_S.log | tail -1))" \
		grep -q "$(bye_line $N $N 0 0 0 0 0)" $WORK/sipdrain-$NS_S.log
	lab_teardown
}
if want proxy; then
	proxy_case v4
	proxy_case v6
fi

# ---- the cases against a sipp UAS (one veth pair, the gate on it) ----------
# uas_start SUBNET SCENARIO|- [sipp option...]: namespaces, run, a sipp UAS
uas_start() {
	local n=$1 sc=$2
	shift 2
	setup_pair $n || return 1
	bg_s "$SD" run $VS --min-watch 0 2>>$WORK/run-$n.log
	RUN=${PIDS[-1]}
	wait_responder || return 1
	if [ "$sc" = - ]; then
		bg_s sipp -sn uas -i 198.18.$n.2 -p 5060 -nostdin "$@" >/dev/null 2>&1
	else
		bg_s sipp -sf $sc -i 198.18.$n.2 -p 5060 -nostdin "$@" >/dev/null 2>&1
	fi
	UAS=${PIDS[-1]}
	wait_bound u 5060 || { fail "the sipp UAS did not bind"; return 1; }
}
# await_calls SUBNET N: callers that wait for a BYE (30 s at most)
await_calls() {
	bg_c sipp -sf $AWAIT 198.18.$1.2:5060 -i 198.18.$1.1 -p 5070 -m $2 -r 50 -nostdin -timeout 60 \
		-trace_msg -message_file $WORK/caller-$1.msg >/dev/null 2>&1
	UAC=${PIDS[-1]}
}
sj() { jget $NS_S $PIN_DIR "$1"; }

if want uas; then
	echo "-- a sipp UAS as the server: the caller gets the BYE as from the UAS"
	uas_start 71 $(scenario uas_reinvite_hold.xml HOLD_MS=30000) -m 1 -trace_msg -message_file $WORK/uas-71.msg ||
		fail "setup"
	await_calls 71 1
	check "the call is confirmed" poll $NS_S $PIN_DIR 'd["dialogs"]["confirmed"]' 1 5
	for i in $(seq 30); do [ "$(details_field $PIN_DIR cseq_callee)" = 100 ] && break; sleep 0.1; done
	check "its details: the UAS answered (flags INVITE_IN|2XX_OUT = 5: $(details_flags $PIN_DIR))" test "$(details_flags $PIN_DIR)" = 5
	check "... and the UAS's re-INVITE raised its side's CSeq to 100 ($(details_field $PIN_DIR cseq_callee))" \
		test "$(details_field $PIN_DIR cseq_callee)" = 100
	in_s "$SD" drain --deadline 2s --min-watch 0 --wait > $WORK/drain-71.out 2>&1; rc=$?
	check "drain --wait exits 3 and says it ended 1 call (exit $rc: $(grep -o 'ended .*' $WORK/drain-71.out))" \
		bash -c "test $rc -eq 3 && grep -q '$(bye_line 1 1 0 0 0 0 0)' $WORK/drain-71.out"
	wait_rc $UAC 10; rc=$RC
	check "the caller got a BYE and counted the call successful (sipp exit $rc)" test "$rc" = 0
	python3 "$ROOT/tests/bye_check.py" uas $WORK/caller-71.msg 198.18.71.1 198.18.71.2 > $WORK/byes-71.out 2>&1
	check "the BYE is the UAS's: From with the UAS's tag, To the caller's, CSeq above the UAS's 100, Request-URI the caller's Contact, Via from 198.18.71.2:5060 ($(tail -1 $WORK/byes-71.out))" \
		grep -q '^ok' $WORK/byes-71.out
	check "the UAS got no BYE and none of the caller's answer ($(msgs $WORK/uas-71.msg '[x["start"] for x in m if x["dir"] == "in" and "BYE" in x["cseq"]]'))" \
		test "$(msgs $WORK/uas-71.msg 'len([x for x in m if x["dir"] == "in" and "BYE" in x["cseq"]])')" = 0
	check "status: bye 1 call, 1 answered ($(sj 'd.get("bye")'))" \
		test "$(sj '(d["bye"]["calls"], d["bye"]["answered"], d["bye"]["no_answer"])')" = "(1, 1, 0)"
	check "responder: bye_sent 1, bye_responses 1 ($(sj "$BYE_COUNTS"))" \
		test "$(sj "$BYE_COUNTS")" = "[1, 1]"
	teardown
fi

if want noanswer; then
	echo "-- a party that never answers the BYE: RFC 3261 17.1.2.2 retransmissions"
	uas_start 72 - || fail "setup"
	bg_c python3 "$ROOT/tests/bye_party.py" 198.18.72.1 5070 198.18.72.2 5060 20 37 $WORK/party.json > $WORK/party.out
	PARTY=${PIDS[-1]}
	for i in $(seq 50); do grep -q up $WORK/party.out && break; sleep 0.1; done
	check "the party's call is up" poll $NS_S $PIN_DIR 'd["dialogs"]["confirmed"]' 1 5
	t0=$(now)
	in_s "$SD" drain --deadline 2s --min-watch 0 --wait > $WORK/drain-72.out 2>&1; rc=$?
	t1=$(now)
	check "drain --wait waited for the BYE to be given up, ~2 + 32 s (took $(since $t0 $t1) s, exit $rc)" \
		python3 -c "import sys; sys.exit(not (33 < $(since $t0 $t1) < 38 and $rc == 3))"
	check "it says: 1 call, 0 answered, 1 no answer ($(grep -o 'ended .*' $WORK/drain-72.out))" \
		grep -q "$(bye_line 1 0 1 0 0 0 0)" $WORK/drain-72.out
	wait_rc $PARTY 45; rc=$RC
	python3 - $WORK/party.json > $WORK/party.check 2>&1 <<-'PY'
	import json, sys
	r = json.load(open(sys.argv[1]))
	b = r["byes"]
	t = [x["t"] for x in b]
	gaps = [round(t[i + 1] - t[i], 2) for i in range(len(t) - 1)]
	want = [min(0.5 * 2 ** i, 4.0) for i in range(len(gaps))]
	print("BYEs at", t)
	print("gaps", gaps)
	err = []
	if not b:
	    err.append("no BYE")
	if not 10 <= len(b) <= 11:
	    err.append("%d transmissions, expected 11 (10 if the 11th fell past 32 s)" % len(b))
	if len(set(x["branch"] for x in b)) > 1 or len(set(x["cseq"] for x in b)) > 1:
	    err.append("not one transaction: branches %s, CSeqs %s" % (set(x["branch"] for x in b), set(x["cseq"] for x in b)))
	bad = [(g, w) for g, w in zip(gaps, want) if abs(g - w) > 0.3]
	if bad:
	    err.append("gaps off T1 doubling to T2 (got, want): %s" % bad)
	if t and t[-1] > 32.5:
	    err.append("a retransmission %.2f s after the first, past 64*T1" % t[-1])
	print("FAIL " + "; ".join(err) if err else "ok %d transmissions, gaps %s, last at %.2f s" % (len(b), gaps, t[-1]))
	PY
	check "BYEs at T1 doubling capped at T2, one transaction, none after 32 s, listened 37 s ($(tail -1 $WORK/party.check))" \
		grep -q '^ok' $WORK/party.check
	n=$(python3 -c "import json; print(len(json.load(open('$WORK/party.json'))['byes']))" 2>/dev/null)
	check "responder: bye_sent counts every transmission ($(sj 'd["responder"]["counters"]["bye_sent"]') for $n received), no response" \
		test "$(sj "$BYE_COUNTS")" = "[$n, 0]"
	check "status: 1 call, no_answer 1 ($(sj 'd.get("bye")'))" \
		test "$(sj '(d["bye"]["calls"], d["bye"]["answered"], d["bye"]["no_answer"], d["bye"]["pending"])')" = "(1, 0, 1, False)"
	teardown
fi

if want resume; then
	echo "-- resume while the BYEs go on: they stop, and the hook that waited for them does not run"
	uas_start 77 - || fail "setup"
	bg_c python3 "$ROOT/tests/bye_party.py" 198.18.77.1 5070 198.18.77.2 5060 20 10 $WORK/party-77.json \
		> $WORK/party-77.out
	PARTY=${PIDS[-1]}
	for i in $(seq 50); do grep -q up $WORK/party-77.out && break; sleep 0.1; done
	check "the party's call is up" poll $NS_S $PIN_DIR 'd["dialogs"]["confirmed"]' 1 5
	in_s "$SD" drain --deadline 1s --min-watch 0 --exec-on-offline "touch $WORK/hook-77" >/dev/null 2>&1
	check "offline at the deadline, its BYE pending (no answer)" \
		poll $NS_S $PIN_DIR '(d["state"], d["bye"]["pending"])' "('offline', True)" 5
	sleep 1         # the BYE and its first retransmission (0.5 s), the next due 1 s later
	in_s "$SD" resume --json > $WORK/resume-77.json 2>&1
	check "resume --json: byes_stopped and hook_cancelled ($(cat $WORK/resume-77.json))" \
		/usr/bin/python3 -c '
import json, sys, jsonschema
d = json.load(open(sys.argv[2]))
jsonschema.validate(d, json.load(open(sys.argv[1])))
sys.exit(not (d["byes_stopped"] is True and d["hook_cancelled"] is True and d["previous_state"] == "offline"))
' "$ROOT/user/dist/schema/resume.schema.json" $WORK/resume-77.json
	sleep 0.5       # the responder's next tick sees the resume
	s0=$(sj 'd["responder"]["counters"]["bye_sent"]')
	sleep 4         # without the resume, at least one more transmission (1, 2, 4 s apart)
	s1=$(sj 'd["responder"]["counters"]["bye_sent"]')
	check "no BYE sent after the resume (bye_sent $s0, 4 s later $s1; 2 to 4 before it)" \
		test "$s0" = "$s1" -a "$s0" -ge 2 -a "$s0" -le 4
	wait_rc $PARTY 15
	n=$(python3 -c "import json; print(len(json.load(open('$WORK/party-77.json'))['byes']))" 2>/dev/null)
	check "the party received as many BYEs as were sent ($n of $s1)" test "$n" = "$s1"
	check "the on-offline hook did not run" test ! -e $WORK/hook-77
	check "run's log says the BYEs stopped ($(grep -o "the deadline's BYEs stop.*" $WORK/run-77.log))" \
		grep -q "the deadline's BYEs stop: the drain was resumed or replaced (the on-offline hook, which waited for them, does not run)" $WORK/run-77.log
	check "serving, nothing pending ($(sj '(d["state"], d["bye"]["pending"])'))" \
		test "$(sj '(d["state"], d["bye"]["pending"])')" = "('serving', False)"
	teardown
fi

if want restart; then
	R=20
	FIVES=$(printf '5 %.0s' $(seq $R) | sed 's/ $//')
	echo "-- run restarted between the calls' setup and the deadline ($R calls)"
	uas_start 73 - -m $R || fail "setup"
	await_calls 73 $R
	check "$R calls confirmed" poll $NS_S $PIN_DIR 'd["dialogs"]["confirmed"]' $R 5
	for i in $(seq 30); do [ "$(details_flags $PIN_DIR)" = "$FIVES" ] && break; sleep 0.1; done
	check "their details are kept ($(details_flags $PIN_DIR))" test "$(details_flags $PIN_DIR)" = "$FIVES"
	kill -TERM $RUN; wait $RUN; rc=$?
	check "run exits 0 on SIGTERM (got $rc)" test $rc -eq 0
	bg_s "$SD" run $VS --min-watch 0 2>>$WORK/run-73.log
	RUN=${PIDS[-1]}
	check "a new run adopts the gate" wait_responder
	check "the details survived ($(details_flags $PIN_DIR))" test "$(details_flags $PIN_DIR)" = "$FIVES"
	in_s "$SD" drain --deadline 2s --min-watch 0 --wait > $WORK/drain-73.out 2>&1; rc=$?
	check "the deadline ends the $R calls with BYE (exit $rc: $(grep -o 'ended .*' $WORK/drain-73.out))" \
		bash -c "test $rc -eq 3 && grep -q '$(bye_line $R $R 0 0 0 0 0)' $WORK/drain-73.out"
	wait_rc $UAC 10; rc=$RC
	check "the callers got their BYEs, 0 failed calls (sipp exit $rc)" test "$rc" = 0
	# sent in one tick; each caller answers within a millisecond
	check "no BYE retransmitted, every answer taken: responder bye_sent $R, bye_responses $R ($(sj "$BYE_COUNTS"))" \
		test "$(sj "$BYE_COUNTS")" = "[$R, $R]"
	teardown
fi

if want refuse; then
	echo "-- --at-deadline refuse: no BYE, the calls left up (as before)"
	uas_start 74 - || fail "setup"
	bg_c sipp -sf $(scenario uac_await_bye.xml BYE_WAIT_MS=8000) 198.18.74.2:5060 -i 198.18.74.1 -p 5070 -m 2 -r 10 \
		-nostdin -timeout 30 -trace_msg -message_file $WORK/caller-74.msg >/dev/null 2>&1
	UAC=${PIDS[-1]}
	check "2 calls confirmed" poll $NS_S $PIN_DIR 'd["dialogs"]["confirmed"]' 2 5
	in_s "$SD" drain --deadline 2s --min-watch 0 --at-deadline refuse --wait > $WORK/drain-74.out 2>&1; rc=$?
	check "drain --wait exits 3 and says it cut 2 calls (exit $rc: $(tail -1 $WORK/drain-74.out))" \
		bash -c "test $rc -eq 3 && grep -q 'cut 2 calls' $WORK/drain-74.out"
	check "status: at_deadline refuse, offline ($(sj '(d.get("at_deadline"), d["state"])'))" \
		test "$(sj '(d.get("at_deadline"), d["state"])')" = "('refuse', 'offline')"
	sleep 3
	check "no BYE sent (bye_sent $(sj 'd["responder"]["counters"]["bye_sent"]'), bye.calls $(sj 'd["bye"]["calls"]'))" \
		test "$(sj '(d["responder"]["counters"]["bye_sent"], d["bye"]["calls"])')" = "(0, 0)"
	wait_rc $UAC 10; rc=$RC
	check "the callers waited in vain: no BYE reached them, both calls failed by their 8 s timeout (sipp exit $rc, BYEs $(msgs $WORK/caller-74.msg 'len(byes)'))" \
		test "$rc:$(msgs $WORK/caller-74.msg 'len(byes)')" = 1:0
	teardown
fi

# bad_input SUBNET CALLER_SCENARIO UAS_SCENARIO|-: a call a BYE cannot
# be built for: not ended, counted without details, no BYE sent
bad_input() {
	local n=$1 rc
	uas_start $n $3 || fail "setup"
	bg_c sipp -sf $2 198.18.$n.2:5060 -i 198.18.$n.1 -p 5070 -m 1 \
		-nostdin -timeout 30 -trace_msg -message_file $WORK/caller-$n.msg >/dev/null 2>&1
	UAC=${PIDS[-1]}
	check "the call is confirmed" poll $NS_S $PIN_DIR 'd["dialogs"]["confirmed"]' 1 5
	in_s "$SD" drain --deadline 2s --min-watch 0 --wait > $WORK/drain-$n.out 2>&1; rc=$?
	check "drain --wait: 0 ended, 1 could not be ended, without details (exit $rc: $(grep -o 'ended .*' $WORK/drain-$n.out))" \
		bash -c "test $rc -eq 3 && grep -q '$(bye_line 0 0 0 1 0 0 1)' $WORK/drain-$n.out"
	check "status: bye.calls 0, not_ended.no_details 1 ($(sj 'd.get("bye")'))" \
		test "$(sj '(d["bye"]["calls"], d["bye"]["not_ended"]["no_details"])')" = "(0, 1)"
	check "no BYE sent (bye_sent $(sj 'd["responder"]["counters"]["bye_sent"]'))" \
		test "$(sj 'd["responder"]["counters"]["bye_sent"]')" = 0
	wait_rc $UAC 15; rc=$RC
	check "the caller saw no BYE (BYEs $(msgs $WORK/caller-$n.msg 'len(byes)'); sipp exit $rc)" \
		test "$(msgs $WORK/caller-$n.msg 'len(byes)')" = 0
	teardown
}
if want bad; then
	echo "-- bad input: the caller's INVITE without Contact (the caller cannot be addressed)"
	sed '/Contact: <sip:caller@/d' $(scenario uac_await_bye.xml BYE_WAIT_MS=6000) > $WORK/uac_no_contact.xml
	bad_input 75 $WORK/uac_no_contact.xml -
	echo "-- bad input: the UAS's 2xx without Contact"
	bad_input 76 $(scenario uac_await_bye.xml BYE_WAIT_MS=6000) $(scenario uas_no_contact.xml HOLD_MS=30000)
fi
finish
