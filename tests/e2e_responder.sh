#!/bin/bash
# The responder on the wire: sipp UAC -> veth -> `sipdrain run` in front of
# a sipp UAS.  While DRAINING every new INVITE gets a 503 with the
# configured Retry-After and a sipdrain To tag, the UAS sees none of them
# and no stray ACK, calls established before the drain finish (BYE and its
# 200 pass), OPTIONS gets 503 with rport/received.  Over IPv4, IPv6, a veth
# with 2 RX queues and behind a VLAN tag.  The responder killed with
# SIGKILL mid-drain: INVITEs fall back to the server, counted; a new run
# binds again.
. "$(dirname "$0")/lib.sh"
need sipp

RETRY=37
# sipp does not expand -key values inside regexps: write the value in.
sed "s/\[retry\]/$RETRY/" "$ROOT/tests/sipp/uac_503.xml" > $WORK/uac_503.xml
sed "s/rport=\[local_port\]/rport=5071/" "$ROOT/tests/sipp/options_503.xml" > $WORK/options_503.xml

# uac_503 LOCAL REMOTE COUNT [extra sipp args]: all COUNT calls must get
# the 503 (exit 0).
uac_503() {
	local l=$1 r=$2 m=$3; shift 3
	in_c timeout 40 sipp -sf $WORK/uac_503.xml "$r" -i "$l" -m "$m" -r 20 -timeout 30 \
		-timeout_error -nostdin "$@" >/dev/null 2>&1
}

# uas_count PATTERN: messages of that start line the UAS received
uas_count() { grep -c "^$1 " $WORK/uas.log 2>/dev/null || true; }

start_gate_and_uas() {   # $1: UAS address
	rm -f $WORK/uas.log
	bg_s "$SD" run $VS
	RUN_PID=${PIDS[-1]}
	wait_responder || { fail "responder did not come up"; return 1; }
	bg_s sipp -sn uas -i "$1" -p 5060 -nostdin -trace_msg -message_file $WORK/uas.log >/dev/null 2>&1
	sleep 0.5
}

echo "-- IPv4"
setup_pair 3 || { fail "namespaces"; finish; exit; }
start_gate_and_uas 198.18.3.2
# calls established before the drain, 3 s long
bg_c sipp -sn uac 198.18.3.2:5060 -i 198.18.3.1 -p 5090 -m 5 -r 20 -d 3000 -timeout 30 \
	-timeout_error -nostdin >/dev/null 2>&1
EARLY=${PIDS[-1]}
sleep 1
check "drain" in_s "$SD" drain --retry-after $RETRY
uac_503 198.18.3.1 198.18.3.2:5060 10 -p 5070
check "10 new INVITEs: 503, Retry-After $RETRY, sipdrain To tag (sipp exit 0)" test $? -eq 0
in_c timeout 30 sipp -sf $WORK/options_503.xml 198.18.3.2:5060 -i 198.18.3.1 -p 5071 \
	-m 3 -r 10 -timeout 20 -timeout_error -nostdin >/dev/null 2>&1
check "OPTIONS: 503 with rport and received filled (sipp exit 0)" test $? -eq 0
wait_gone $EARLY 20; wait $EARLY; rc=$?
check "the 5 calls set up before the drain completed (BYE/200 passed; sipp exit $rc)" test $rc -eq 0
check "UAS received only the 5 pre-drain INVITEs (got $(uas_count INVITE))" test "$(uas_count INVITE)" -eq 5
check "UAS received no stray ACK: 5 for its own 200s (got $(uas_count ACK))" test "$(uas_count ACK)" -eq 5
check "UAS received no OPTIONS (got $(uas_count OPTIONS))" test "$(uas_count OPTIONS)" -eq 0
check "UAS received the 5 BYEs (got $(uas_count BYE))" test "$(uas_count BYE)" -eq 5
check "responder counted 10 INVITE replies" test "$(counter responder reply_invite)" -eq 10
check "responder counted 3 OPTIONS replies" test "$(counter responder reply_options)" -eq 3
check "gate absorbed the 10 ACKs for the 503s" test "$(counter ack_absorbed)" -eq 10
check "no redirect fell back while the responder ran" test "$(counter redirect_fallback)" -eq 0

# SIGKILL mid-drain: the gate keeps enforcing, redirects fall back to the server
kill -9 $RUN_PID; wait $RUN_PID 2>/dev/null
check "after SIGKILL the gate is still attached" test -e $PIN_DIR/sd_config
in_c timeout 40 sipp -sn uac 198.18.3.2:5060 -i 198.18.3.1 -p 5072 -m 3 -r 10 -d 100 -timeout 30 \
	-timeout_error -nostdin >/dev/null 2>&1
check "with the responder dead, new calls reach the server (fail-open, sipp exit 0)" test $? -eq 0
check "3 redirect fallbacks counted" test "$(counter redirect_fallback)" -eq 3
check "drain reports that no responder runs" bash -c "nsenter --net=/run/netns/$NS_S '$SD' drain --retry-after $RETRY 2>&1 | grep -q 'no responder is running'"
bg_s "$SD" run $VS
RUN_PID=${PIDS[-1]}
check "a new run adopts the gate and binds again" wait_responder
uac_503 198.18.3.1 198.18.3.2:5060 3 -p 5073
check "503s again after the restart (sipp exit 0)" test $? -eq 0
in_s "$SD" resume >/dev/null
kill -TERM $RUN_PID; wait $RUN_PID; rc=$?
check "run exits 0 on SIGTERM (serving)" test $rc -eq 0
check "the gate stays attached with its pins after run stops" \
	bash -c "test -e $PIN_DIR/sd_config && ip -n $NS_S link show $VS | grep -q xdp"
check "detach takes it off" in_s "$SD" detach
check "pins gone after detach" test ! -e $PIN_DIR
teardown

echo "-- IPv6"
setup_pair 4 || { fail "namespaces"; finish; exit; }
start_gate_and_uas 2001:2:0:4::2
check "drain" in_s "$SD" drain --retry-after $RETRY
uac_503 2001:2:0:4::1 "[2001:2:0:4::2]:5060" 10 -p 5070
check "IPv6: 10 INVITEs answered 503 (sipp exit 0)" test $? -eq 0
check "IPv6: UAS received no INVITE" test "$(uas_count INVITE)" -eq 0
check "IPv6: UAS received no ACK" test "$(uas_count ACK)" -eq 0
teardown

echo "-- veth with 2 RX queues"
setup_pair 5 2 || { fail "namespaces"; finish; exit; }
start_gate_and_uas 198.18.5.2
check "responder bound to 2 of 2 queues" bash -c "nsenter --net=/run/netns/$NS_S '$SD' status | grep -q 'responder on 2/2 queues'"
check "drain" in_s "$SD" drain --retry-after $RETRY
for p in 5070 5074 5078 5082; do uac_503 198.18.5.1 198.18.5.2:5060 5 -p $p || break; done
check "2 queues: 20 INVITEs from 4 sockets answered 503" test $? -eq 0
check "2 queues: UAS received no INVITE" test "$(uas_count INVITE)" -eq 0
teardown

echo "-- behind a VLAN tag (raw tagged frames: this kernel has no 802.1Q driver for sipp)"
setup_pair 6 || { fail "namespaces"; finish; exit; }
start_gate_and_uas 198.18.6.2
check "drain" in_s "$SD" drain --retry-after $RETRY
smac=$(in_s ip -o link show $VS | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
out=$(in_c python3 "$ROOT/tests/vlan_probe.py" $VC 198.18.6.1 198.18.6.2 $smac 77 10 $RETRY)
check "VLAN 77: 10 tagged INVITEs answered 503 with the tag kept ($(echo "$out" | tail -1))" \
	bash -c "echo '$out' | grep -q '^10 passed, 0 failed'"
check "VLAN: UAS received no INVITE" test "$(uas_count INVITE)" -eq 0
check "VLAN: the responder sent 10 replies" test "$(counter responder replies)" -eq 10
teardown

finish
