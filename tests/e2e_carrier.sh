#!/bin/bash
# Carrier-grade answering, on the wire: a known peer (a source the server
# answered) gets a 503 for every INVITE at 5000/s while an unknown source
# is still limited; requests from impossible sources or to other hosts
# are never answered; drain and resume racing the agent's switch to
# offline always end in the last command's state, the hook once per
# offline; `run` killed with SIGKILL under load binds again at once.
. "$(dirname "$0")/lib.sh"
need sipp
LOAD=$ROOT/build/sipload
ROUNDS=${ROUNDS:-200}

json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[sys.argv[2]])' "$@"; }
status_field() {
	in_s "$SD" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

setup_pair 6 || { fail "namespaces"; finish; exit; }
in_c ip addr add 198.18.6.3/24 dev $VC          # a second source the server never answered
# defaults otherwise (--reply-rate 1000); a 55-character --reason leaves
# room for the reply probe's request too long to answer within the bound
REASON="maintenance window: this node is leaving service, retry"
bg_s "$SD" run $VS --min-watch 0 --reason "$REASON" > $WORK/run.log 2>&1
RUN_PID=${PIDS[-1]}
wait_responder || { fail "responder did not come up"; finish; exit; }
bg_s sipp -sn uas -i 198.18.6.2 -p 5060 -nostdin -trace_msg -message_file $WORK/uas.log >/dev/null 2>&1
sleep 0.5

echo "-- a known peer at 5000 INVITEs/s during a drain; an unknown source still guarded"
in_c timeout 20 sipp -sn uac 198.18.6.2:5060 -i 198.18.6.1 -p 5090 -m 1 -timeout 15 \
	-timeout_error -nostdin >/dev/null 2>&1
check "a call while serving (the server answers 198.18.6.1)" test $? -eq 0
kp=$(status_field known_peers)
check "198.18.6.1 is a known peer (known_peers $kp)" test "$kp" -ge 1
check "drain" in_s "$SD" drain --retry-after 30
g0=$(counter guard_dropped)
in_c timeout 30 "$LOAD" -d 198.18.6.2 -s 198.18.6.1 -r 5000 -t 2 -n 10000 > $WORK/peer.json
sent=$(json $WORK/peer.json sent); got=$(json $WORK/peer.json replies_total)
check "known peer: $got 503s for $sent INVITEs at 5000/s for 2 s (all of them)" \
	test "$sent" -ge 9000 -a "$got" -eq "$sent"
g1=$(counter guard_dropped)
check "guard_dropped stayed $g0 for the known peer (now $g1)" test "$g1" -eq "$g0"
kn=$(counter guard_known_peer)
check "guard_known_peer counted them ($kn)" test "$kn" -ge "$sent"
in_c timeout 30 "$LOAD" -d 198.18.6.2 -s 198.18.6.3 -r 5000 -t 2 -n 10000 > $WORK/unknown.json
sent=$(json $WORK/unknown.json sent); got=$(json $WORK/unknown.json replies_total)
g2=$(counter guard_dropped)
# burst 2000, then 1000/s: about 4000 of 10000 within the 2 s
check "unknown source: limited to $got 503s of $sent (burst 2000 + 1000/s)" \
	test "$got" -ge 3000 -a "$got" -le 5000
check "guard_dropped counted the rest ($((g2 - g1)))" test $((g2 - g1)) -ge $((sent - got - 100))

echo "-- impossible sources and foreign destinations, on the wire"
b0=$(counter bad_source); n0=$(counter not_ours); r0=$(counter responder replies)
d0=$(counter bad_destination)
SMAC=$(in_s ip -o link show $VS | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
in_c python3 "$ROOT/tests/addr_probe.py" $VC $SMAC 198.18.6 2001:2:0:6 > $WORK/probe.out 2>&1
rc=$?
sed 's/^/  /' $WORK/probe.out | grep -v "  ok " 
check "addr_probe: $(tail -1 $WORK/probe.out)" test $rc -eq 0
b1=$(counter bad_source); n1=$(counter not_ours); r1=$(counter responder replies)
d1=$(counter bad_destination)
check "bad_source counted the 12 impossible sources (+$((b1 - b0)))" test $((b1 - b0)) -eq 12
check "not_ours counted the 2 requests to another host, passed (+$((n1 - n0)))" test $((n1 - n0)) -eq 2
check "bad_destination counted the 4 to a broadcast or multicast address, dropped (+$((d1 - d0)))" \
	test $((d1 - d0)) -eq 4
check "the responder answered only the 2 control INVITEs (+$((r1 - r0)))" test $((r1 - r0)) -eq 2

echo "-- where the 503 goes (RFC 3261 18.2.2, RFC 3581), what it carries, what it cannot answer"
p0=$(counter responder passed_to_server); k0=$(counter drain_known_callid)
in_c python3 "$ROOT/tests/reply_probe.py" 198.18.6.1 198.18.6.2 2001:2:0:6::1 2001:2:0:6::2 \
	$WORK/cids > $WORK/reply.out 2>&1
rc=$?
sed 's/^/  /' $WORK/reply.out | grep -v "  ok "
check "reply_probe: $(tail -1 $WORK/reply.out)" test $rc -eq 0
p1=$(counter responder passed_to_server)
check "passed_to_server counted the 2 requests it could not answer (+$((p1 - p0)))" \
	test $((p1 - p0)) -eq 2
k1=$(counter drain_known_callid)
check "their retransmissions passed the drain to the server (drain_known_callid +$((k1 - k0)))" \
	test $((k1 - k0)) -eq 2
# sipp parses (and logs) only what it can read: the maddr one, not the bare-LF one
cid=$(tail -1 $WORK/cids 2>/dev/null)
n=$(grep -c "Call-ID: $cid" $WORK/uas.log 2>/dev/null || true)
check "the server (sipp) received $cid (seen $n times)" test "$n" -ge 1

echo "-- drain --deadline against resume around the agent's switch, $ROUNDS rounds"
: > $WORK/hooks
: > $WORK/resumes
bad=0
for i in $(seq 1 $ROUNDS); do
	in_s "$SD" drain --deadline 300ms --no-early-offline \
		--exec-on-offline "echo $i >> $WORK/hooks" >/dev/null 2>&1 || { bad=$((bad + 1)); continue; }
	# the agent switches at the deadline, on its next 250 ms tick: resume
	# from 0.2 s to 0.6 s in, around it
	sleep 0.$((2 + RANDOM % 5))$((RANDOM % 10))
	in_s "$SD" resume --json >> $WORK/resumes 2>/dev/null || bad=$((bad + 1))
	st=$(status_field state)
	[ "$st" = serving ] || { bad=$((bad + 1)); echo "    round $i: $st after resume"; }
done
sleep 0.5
st=$(status_field state)
check "every round ended serving after its resume ($bad wrong), and it stays ($st)" \
	test $bad -eq 0 -a "$st" = serving
sleep 0.5
offl=$(grep -c "^[0-9T:.+-]* offline: deadline" $WORK/run.log 2>/dev/null || true)
dup=$(sort $WORK/hooks | uniq -d | wc -l)
nh=$(wc -l < $WORK/hooks)
# a call the server answered is still up (the reply probe's): a switch
# sets the deadline's BYEs pending and the hook waits for their outcome;
# a resume that comes first stops them and the hook does not run, and
# says so (decided under the config lock: one or the other, never both)
nc=$(grep -c '"hook_cancelled":true' $WORK/resumes)
check "the hook ran once per drain that went offline ($nh hooks, $offl switches, $nc cancelled by their resume, $dup rounds twice)" \
	test "$nh" -eq $((offl - nc)) -a "$dup" -eq 0
check "some rounds went offline before their resume, some not ($offl of $ROUNDS)" \
	test "$offl" -gt 0 -a "$offl" -lt "$ROUNDS"

echo "-- run killed with SIGKILL under load and started again at once, 10 times"
check "drain" in_s "$SD" drain --retry-after 30
bg_c "$LOAD" -d 198.18.6.2 -s 198.18.6.1 -r 1000 -t 40 -n 40000 > $WORK/kill.json
LOAD_PID=${PIDS[-1]}
first=0
for i in $(seq 1 10); do
	kill -KILL $RUN_PID; wait $RUN_PID 2>/dev/null
	bg_s "$SD" run $VS > $WORK/run$i.log 2>&1
	RUN_PID=${PIDS[-1]}
	if wait_responder && kill -0 $RUN_PID 2>/dev/null && grep -q "responder running" $WORK/run$i.log; then
		first=$((first + 1))
	else
		sed 's/^/    /' $WORK/run$i.log | tail -3
	fi
	sleep 0.5
done
check "every restart bound its socket on its first start ($first of 10)" test $first -eq 10
r0=$(counter responder replies)
sleep 1
r1=$(counter responder replies)
check "the last one answers ($((r1 - r0)) 503s in 1 s)" test $((r1 - r0)) -ge 500
kill $LOAD_PID 2>/dev/null

teardown
finish
