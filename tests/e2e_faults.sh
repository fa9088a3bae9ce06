#!/bin/bash
# Hardening on the wire:
#  - SIP over TCP/TLS: while draining a new connection is refused at once
#    (RST built in XDP), an established one keeps working; IPv4 and IPv6;
#  - the reflection guard: one source flooding INVITEs gets at most its
#    burst of 503s, the rest dropped and counted;
#  - faults: detach mid-call (calls continue), pins removed and bpffs
#    unmounted under a running `run` (clear warning, no crash, still
#    detaches), the interface going down and up, a second `run` refused;
#  - permissions: pins readable and writable by root only.
. "$(dirname "$0")/lib.sh"
need sipp
PROBE="$ROOT/tests/tcp_probe.py"
sed "s/\[retry\]/30/" "$ROOT/tests/sipp/uac_503.xml" > $WORK/uac_503.xml

echo "-- SIP over TCP/TLS"
setup_pair 50 || { fail "namespaces"; finish; exit; }
# veth delivers XDP_TX frames at once only to a peer that runs an XDP
# program itself (with GRO alone they waited ~1 s here); the client side
# gets a pass-through one, as a NIC would need nothing of the kind
in_c ip link set dev $VC xdp obj "$ROOT/build/trivial.bpf.o" sec xdp
bg_s python3 "$PROBE" serve 198.18.50.2 5060
bg_s python3 "$PROBE" serve 2001:2:0:50::2 5061
bg_s "$SD" run $VS --tcp-port 5060 --tcp-port 5061
RUN=${PIDS[-1]}
check "run with --tcp-port 5060 --tcp-port 5061" wait_responder
check "serving: a new TCP connection is accepted" test "$(in_c python3 "$PROBE" connect 198.18.50.2 5060)" = connected
mkdir -p $WORK/h4 $WORK/h6
bg_c python3 "$PROBE" hold 198.18.50.2 5060 $WORK/h4
bg_c python3 "$PROBE" hold 2001:2:0:50::2 5061 $WORK/h6
for i in $(seq 50); do [ -e $WORK/h4/up -a -e $WORK/h6/up ] && break; sleep 0.1; done
check "two connections up (IPv4 to 5060, IPv6 to 5061)" test -e $WORK/h4/up -a -e $WORK/h6/up
in_s "$SD" drain --retry-after 30 >/dev/null 2>&1
r4=$(in_c python3 "$PROBE" connect 198.18.50.2 5060)
r6=$(in_c python3 "$PROBE" connect 2001:2:0:50::2 5061)
check "draining: a new IPv4 connection is refused at once ($r4)" \
	python3 -c "import sys; a='$r4'.split(); sys.exit(not (a[0] == 'refused' and float(a[1]) < 0.5))"
check "draining: a new IPv6 connection is refused at once ($r6)" \
	python3 -c "import sys; a='$r6'.split(); sys.exit(not (a[0] == 'refused' and float(a[1]) < 0.5))"
touch $WORK/h4/ping $WORK/h6/ping
for i in $(seq 50); do [ -e $WORK/h4/ok -o -e $WORK/h4/broken ] && [ -e $WORK/h6/ok -o -e $WORK/h6/broken ] && break; sleep 0.1; done
check "the established connections still carry traffic (an INVITE inside one reaches the server)" \
	test -e $WORK/h4/ok -a -e $WORK/h6/ok
check "counted: tcp_syn_refused 2" test "$(counter tcp_syn_refused)" -eq 2
check "a second run on the same gate is refused" bash -c \
	"nsenter --net=/run/netns/$NS_S '$SD' run $VS 2>&1 | grep -q 'a responder is already running'"
check "... and the first one is still running" kill -0 $RUN
teardown

echo "-- reflection guard"
setup_pair 51 || { fail "namespaces"; finish; exit; }
bg_s "$SD" run $VS --reply-rate 5 --reply-burst 10
check "run with --reply-rate 5 --reply-burst 10" wait_responder
bg_s sipp -sn uas -i 198.18.51.2 -p 5060 -nostdin >/dev/null 2>&1
in_s "$SD" drain --retry-after 30 >/dev/null 2>&1
t0=$(date +%s.%N)
in_c timeout 20 sipp -sf $WORK/uac_503.xml 198.18.51.2:5060 -i 198.18.51.1 -p 5070 -m 40 -r 400 \
	-timeout 8 -recv_timeout 2000 -nostdin >/dev/null 2>&1
t1=$(date +%s.%N)
replies=$(counter responder reply_invite); dropped=$(counter guard_dropped)
# at most the burst plus 5/s for as long as sipp kept retransmitting
max=$(python3 -c "print(int(10 + 5 * ($t1 - $t0) + 2))")
check "one source, 40 INVITEs at once: $replies answered (burst 10 + 5/s: at most $max), $dropped dropped" \
	test "$replies" -ge 10 -a "$replies" -le "$max" -a "$dropped" -ge 20
teardown

echo "-- detach mid-call"
setup_pair 52 || { fail "namespaces"; finish; exit; }
check "attach" in_s "$SD" attach $VS
bg_s sipp -sn uas -i 198.18.52.2 -p 5060 -nostdin >/dev/null 2>&1
wait_bound u 5060 || fail "the sipp UAS did not bind"
bg_c bash -c "sipp -sn uac 198.18.52.2:5060 -i 198.18.52.1 -p 5070 -m 5 -r 20 -d 2500 -timeout 20 \
	-timeout_error -nostdin >/dev/null 2>&1; echo \$? > $WORK/uac.rc"
sleep 1
check "calls up through the gate" test "$(counter dialogs_recorded)" -eq 5
check "detach while they are up" in_s "$SD" detach
wait_gone ${PIDS[-1]} 15
check "the calls completed after the detach (sipp exit $(cat $WORK/uac.rc 2>/dev/null))" test "$(cat $WORK/uac.rc 2>/dev/null)" = 0
teardown

echo "-- pins removed under a running run"
setup_pair 53 || { fail "namespaces"; finish; exit; }
bg_s "$SD" run $VS 2>$WORK/run53.log
RUN=${PIDS[-1]}
wait_responder
check "pins are root's only (files 600, directory 700)" bash -c \
	"test \$(stat -c %a $PIN_DIR) = 700 && test \$(stat -c %a $PIN_DIR/sd_config) = 600 && test \$(stat -c %a $PIN_DIR/prog) = 600"
in_s "$SD" drain --retry-after 30 >/dev/null 2>&1
rm -f $PIN_DIR/*; rmdir $PIN_DIR
sleep 0.5
bg_s sipp -sn uas -i 198.18.53.2 -p 5060 -nostdin >/dev/null 2>&1
in_c timeout 20 sipp -sf $WORK/uac_503.xml 198.18.53.2:5060 -i 198.18.53.1 -p 5070 -m 3 -r 10 \
	-timeout 10 -timeout_error -nostdin >/dev/null 2>&1
check "without its pins the gate still answers 503 (sipp exit $?)" test $? -eq 0
check "status says nothing is attached, in one line" bash -c \
	"test \$(nsenter --net=/run/netns/$NS_S '$SD' status 2>&1 | wc -l) -eq 1"
kill -TERM $RUN; wait $RUN; rc=$?
check "run exits cleanly on SIGTERM (exit $rc)" test $rc -eq 0
check "it warned once about the lost pins" test "$(grep -c "pins under $PIN_DIR are gone" $WORK/run53.log)" -eq 1
check "and took the gate off the interface" bash -c "! ip -n $NS_S link show $VS | grep -q xdp"
teardown

echo "-- bpffs unmounted under a running run"
setup_pair 54 || { fail "namespaces"; finish; exit; }
# a private mount namespace, so that the unmount touches only this run
nsenter --net=/run/netns/$NS_S unshare -m --propagation private "$SD" run $VS > $WORK/run54.log 2>&1 &
RUN=$!; PIDS+=($RUN)
wait_responder
check "bpffs unmounted in run's mount namespace" nsenter -t $RUN -m umount /sys/fs/bpf
sleep 0.6
check "run is still alive" kill -0 $RUN
check "it said so in one clear warning" grep -q 'are gone (removed, or bpffs unmounted)' $WORK/run54.log
kill -TERM $RUN; wait $RUN; rc=$?
check "run exits cleanly (exit $rc) and detaches" bash -c "test $rc -eq 0 && ! ip -n $NS_S link show $VS | grep -q xdp"
rm -rf $PIN_DIR
teardown

echo "-- the interface going down and up"
setup_pair 55 || { fail "namespaces"; finish; exit; }
bg_s "$SD" run $VS
wait_responder
bg_s sipp -sn uas -i 198.18.55.2 -p 5060 -nostdin >/dev/null 2>&1
in_s "$SD" drain --retry-after 30 >/dev/null 2>&1
in_s ip link set $VS down; sleep 0.3; in_s ip link set $VS up
in_c ip link set $VC up; sleep 1
in_c timeout 20 sipp -sf $WORK/uac_503.xml 198.18.55.2:5060 -i 198.18.55.1 -p 5070 -m 5 -r 10 \
	-timeout 10 -timeout_error -nostdin >/dev/null 2>&1; rc=$?
fb=$(counter redirect_fallback); rep=$(counter responder reply_invite)
check "after down/up new INVITEs are answered 503 (sipp exit $rc, $rep replies, $fb fallbacks)" test $rc -eq 0
check "the gate is still attached" bash -c "ip -n $NS_S link show $VS | grep -q xdp"
teardown
finish
