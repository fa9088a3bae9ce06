#!/bin/bash
# The pool test: a Kamailio dispatcher load balancer (OPTIONS keepalives
# every second, failover on 5xx and timeouts) in front of two backend SIP
# servers, each behind its own `sipdrain run`.  Under continuous load,
# backend A is drained: the balancer takes A out from the 503 answering
# its OPTIONS, new calls go to B, A's calls finish, A goes OFFLINE, and
# the callers see zero failed calls (a 503 is a failure for them here).
# Then `resume` on A: the balancer brings it back and A takes calls again.
. "$(dirname "$0")/lab/lab.sh"
need sipp kamailio

NS_L=sdl$ID NS_A=sda$ID NS_B=sdb$ID
PIN_A=$PIN_DIR-A PIN_B=$PIN_DIR-B
ns_new $NS_C && ns_new $NS_L && ns_new $NS_A && ns_new $NS_B || { fail "namespaces"; finish; exit; }
link $NS_C $VC 198.18.40.1/24 $NS_L vl$ID 198.18.40.2/24 &&
link $NS_L la$ID 198.18.41.1/24 $NS_A va$ID 198.18.41.2/24 &&
link $NS_L lb$ID 198.18.42.1/24 $NS_B vb$ID 198.18.42.2/24 || { fail "links"; finish; exit; }
cat > $WORK/dispatcher.list <<EOL
1 sip:198.18.41.2:5060
1 sip:198.18.42.2:5060
EOL
bg_ns $NS_A sipp -sf $LAB/callee.xml -i 198.18.41.2 -p 5060 -aa -nostdin -trace_msg -message_file $WORK/a.msg >/dev/null 2>&1
bg_ns $NS_B sipp -sf $LAB/callee.xml -i 198.18.42.2 -p 5060 -aa -nostdin >/dev/null 2>&1
check "backend A: sipdrain run" gate_start $NS_A va$ID $PIN_A
check "backend B: sipdrain run" gate_start $NS_B vb$ID $PIN_B
check "load balancer: Kamailio dispatcher" kamailio_start $NS_L $LAB/kamailio-lb.cfg $WORK/lb.log \
	PUBLIC=198.18.40.2 TO_A=198.18.41.1 TO_B=198.18.42.1 DSLIST=$WORK/dispatcher.list
sleep 2

# callers: 10 calls/s, 2-4 s each, 35 s; any 503 or timeout is a failure
S_PUB=198.18.40.2 C_IP=198.18.40.1
caller_start 10 2000 4000 350 $WORK/pool.csv no503
sleep 5
a0=$(sd_json $NS_A $PIN_A 'd["counters"]["mv_INVITE_pass"]')
check "before the drain A takes calls ($a0 INVITEs)" test "$a0" -gt 10
sd_in $NS_A $PIN_A drain --deadline 20s --wait > $WORK/drainA.out 2>&1; rc=$?
check "A went OFFLINE when its calls ended (drain --wait exit $rc: $(tail -1 $WORK/drainA.out))" test $rc -eq 0
check "A answered the balancer's OPTIONS with 503" test "$(sd_json $NS_A $PIN_A 'd["responder"]["counters"]["reply_options"]')" -ge 1
refusedA=$(sd_json $NS_A $PIN_A 'd["responder"]["counters"]["reply_invite"]')
passedA=$(sd_json $NS_A $PIN_A 'd["counters"]["mv_INVITE_pass"]')
sleep 3
passedA2=$(sd_json $NS_A $PIN_A 'd["counters"]["mv_INVITE_pass"]')
check "while drained, no new INVITE reached A ($passedA then $passedA2; $refusedA refused and failed over)" \
	test "$passedA" -eq "$passedA2"
check "resume A" sd_in $NS_A $PIN_A resume
sleep 4
passedA3=$(sd_json $NS_A $PIN_A 'd["counters"]["mv_INVITE_pass"]')
check "after resume the balancer brings A back: A takes new calls ($passedA2 -> $passedA3)" \
	test "$passedA3" -gt $((passedA2 + 5))
wait_gone $CALLER 60; wait $CALLER 2>/dev/null
ok_calls=$(sipp_stat $WORK/pool.csv "SuccessfulCall(C)")
failed=$(sipp_stat $WORK/pool.csv "FailedCall(C)")
check "sipp: $ok_calls calls, zero failed (got $failed)" test "$failed" -eq 0 -a "$ok_calls" -ge 300
check "B carried calls too" test "$(sd_json $NS_B $PIN_B 'd["counters"]["mv_INVITE_pass"]')" -gt 50
finish
