#!/bin/bash
# End to end: sipp UAC in one namespace, sipp UAS in another behind the
# gate attached by `sipdrain attach`; calls complete in SERVING and the
# counters match sipp's call count.  Then, with no responder running, a
# drain must fail open: new INVITEs are redirect verdicts that fall back
# to the server, and those calls still complete.
. "$(dirname "$0")/lib.sh"
need sipp

CALLS=20
setup_pair 1 || { fail "namespaces"; finish; exit; }

check "attach to the server veth" in_s "$SD" attach $VS --port 5060
check "pins exist" test -e $PIN_DIR/sd_counters -a -e $PIN_DIR/prog
check "program is attached (ip link shows xdp)" bash -c "ip -n $NS_S link show $VS | grep -q xdp"
dump=$(bpftool map dump pinned $PIN_DIR/sd_counters 2>&1)
check "bpftool map dump shows counter field names" bash -c "grep -q '\"other_traffic\"' <<<'$dump' && grep -q '\"req_invite\"' <<<'$dump'"
cfgdump=$(bpftool map dump pinned $PIN_DIR/sd_config 2>&1)
check "bpftool map dump shows config field names" bash -c "grep -q '\"state\"' <<<'$cfgdump' && grep -q '\"ports\"' <<<'$cfgdump'"

bg_s sipp -sn uas -i 198.18.1.2 -p 5060 -nostdin -trace_err -error_file $WORK/uas_err.log >/dev/null 2>&1
sleep 1
in_c timeout 60 sipp -sn uac 198.18.1.2:5060 -i 198.18.1.1 -p 5070 -m $CALLS -r 20 -d 200 \
	-timeout 50 -timeout_error -nostdin -trace_stat -stf $WORK/uac1.csv >/dev/null 2>&1
check "sipp UAC completed $CALLS calls through the gate (exit 0)" test $? -eq 0
inv=$(counter req_invite); bye=$(counter req_bye); ack=$(counter req_ack)
rec=$(counter dialogs_recorded)
check "gate counted $CALLS INVITEs (got $inv)" test "$inv" -eq $CALLS
check "gate counted $CALLS ACKs (got $ack)" test "$ack" -eq $CALLS
check "gate counted $CALLS BYEs (got $bye)" test "$bye" -eq $CALLS
check "gate recorded $CALLS dialogs (got $rec)" test "$rec" -eq $CALLS
check "all passed, none redirected or dropped" test "$(counter verdict_redirect)$(counter verdict_drop)" = "00"
in_dialog=$(counter req_in_dialog)
check "ACK and BYE counted in-dialog ($in_dialog)" test "$in_dialog" -eq $((2 * CALLS))
check "gate followed $CALLS calls to their end (dialogs_ended $(counter dialogs_ended))" test "$(counter dialogs_ended)" -eq $CALLS
check "ended calls left the call table (bpftool: sd_calls empty)" test "$(bpftool map dump pinned $PIN_DIR/sd_calls -j | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 0
ABI=$(sed -n 's/^#define SD_ABI_VERSION *\([0-9]*\).*/\1/p' "$ROOT/include/sipdrain_common.h")
check "bpftool map dump shows the meta fields (abi $ABI)" bash -c "bpftool map dump pinned $PIN_DIR/sd_meta | grep -q '\"abi\": $ABI'"

# DRAINING without a responder: fail open, counted.
check "drain" in_s "$SD" drain --retry-after 30
check "status says draining" bash -c "in_s() { nsenter --net=/run/netns/$NS_S \"\$@\"; }; in_s '$SD' status | grep -q '^state *draining'"
in_c timeout 60 sipp -sn uac 198.18.1.2:5060 -i 198.18.1.1 -p 5070 -m 5 -r 10 -d 200 \
	-timeout 50 -timeout_error -nostdin >/dev/null 2>&1
check "with no responder, calls during a drain still complete (fail-open)" test $? -eq 0
check "5 new INVITEs got the redirect verdict" test "$(counter verdict_redirect)" -eq 5
check "5 redirect fallbacks counted" test "$(counter redirect_fallback)" -eq 5
check "resume" in_s "$SD" resume
check "detach" in_s "$SD" detach
check "pins removed after detach" test ! -e $PIN_DIR

# Two interfaces, one state: attach both, detach one, then the other.
in_s ip link add ${VS}b type veth peer name ${VS}p && in_s ip link set ${VS}b up && in_s ip link set ${VS}p up
check "attach two interfaces" in_s "$SD" attach $VS ${VS}b --port 5060 --port 5080
ifs=$(in_s "$SD" status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(i["name"] for i in d["interfaces"]), d["ports"])')
check "status lists both interfaces and ports ($ifs)" test "$ifs" = "$VS ${VS}b [5060, 5080]"
check "drain applies to the shared state" in_s "$SD" drain
check "both interfaces carry the program" bash -c "ip -n $NS_S link show $VS | grep -q xdp && ip -n $NS_S link show ${VS}b | grep -q xdp"
check "detach one interface" in_s "$SD" detach ${VS}b
check "the other keeps the gate and the pins" bash -c "ip -n $NS_S link show $VS | grep -q xdp && test -e $PIN_DIR/sd_config"
check "state survived the partial detach" bash -c "nsenter --net=/run/netns/$NS_S '$SD' status | grep -q '^state *draining'"
check "detach the last interface" in_s "$SD" detach
check "pins removed" test ! -e $PIN_DIR
check "no XDP left on the veth" bash -c "! ip -n $NS_S link show $VS | grep -q xdp"
finish
