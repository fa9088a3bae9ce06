#!/bin/bash
# make demo: a real SIP server drained under load, in one command.
#
# callers (sipp, 10 calls/s, 5-20 s each) -> Kamailio (stateful,
# record-routing proxy, stock modules) with `sipdrain run` in front ->
# callees (sipp).  After 15 s of load: `sipdrain drain --deadline 30s
# --wait`, then a summary, `sipdrain resume`, and everything removed.
# DEMO_FAMILY=v6 runs it over IPv6.  Exit status: 0 when no new INVITE
# reached Kamailio during the drain and no call failed or was cut.
. "$(dirname "$0")/lab.sh"
FAMILY=${DEMO_FAMILY:-v4}
RATE=${DEMO_RATE:-10}
WARMUP=${DEMO_WARMUP:-15}

if [ "$(id -u)" != 0 ]; then
	echo "demo: must run as root (network namespaces, XDP, BPF)" >&2; exit 1
fi
if ! "$SD" classify "$ROOT/tests/data/lf_only.sip" >/dev/null 2>$WORK/bpf.err; then
	echo "demo: BPF is not permitted here: $(head -1 $WORK/bpf.err)" >&2; exit 1
fi
for t in kamailio sipp; do
	command -v $t >/dev/null || { echo "demo: $t is missing (make demo installs it)" >&2; exit 1; }
done

echo "== lab ($FAMILY): callers -> Kamailio proxy (sipdrain run in front) -> callees"
lab_single $FAMILY || { echo "demo: the lab did not come up"; exit 1; }
echo "   server $S_PUB:5060, gate on $VS, pins in $PIN"
echo "== load: $RATE calls/s, 5-20 s each, ${WARMUP} s before the drain"
caller_start $RATE 5000 20000 $((RATE * 150)) $WORK/caller.csv
sleep $WARMUP

up=$(sd_json $NS_S $PIN 'd["dialogs"]["live"]')
echo "== sipdrain drain --deadline 30s --wait   ($up calls up)"
t0=$(date +%s.%N)
# the calls the gate let through before the drain, read while it runs
# (ended calls leave the call table: read before any could end)
( sleep 0.5; in_ns $NS_S bash -c "echo [; bpftool -j map dump pinned $PIN/sd_calls; echo ,;
	bpftool -j map dump pinned $PIN/sd_attempts; echo ]" > $WORK/tables.json ) &
DUMPER=$!
sd_in $NS_S $PIN drain --deadline 30s --wait 2>&1 | sed 's/^/   /'
rc=${PIPESTATUS[0]}
t1=$(date +%s.%N)
wait $DUMPER
# counted on Kamailio's side: the new INVITEs it logged whose Call-ID the
# gate first let through after the drain began
during=$(python3 "$LAB/kamailio_during_drain.py" $KLOG 0 $PIN $WORK/tables.json | head -1)
eval "$(sd_json $NS_S $PIN '"reason=%s cut=%d refused=%d secs=%.1f byes=%d" % (d["offline_reason"], d["calls_cut"], d["responder"]["counters"]["reply_invite"], d["drain_seconds"], d["bye"]["calls"])')"
caller_stop
ok_calls=$(sipp_stat $WORK/caller.csv "SuccessfulCall(C)")
failed=$(sipp_stat $WORK/caller.csv "FailedCall(C)")
sd_in $NS_S $PIN resume >/dev/null 2>&1
state=$(sd_json $NS_S $PIN 'd["state"]')

printf '\n== summary\n'
printf '  %-52s %s\n' "calls up when the drain began" "$up"
printf '  %-52s %s\n' "  ... completed" "$((up - cut))"
printf '  %-52s %s\n' "  ... cut at the deadline" "$cut"
printf '  %-52s %s\n' "calls ended with BYE at the deadline" "$byes"
printf '  %-52s %s\n' "new INVITEs answered 503 by sipdrain" "$refused"
printf '  %-52s %s\n' "new INVITEs that reached Kamailio during the drain" "$during"
printf '  %-52s %s\n' "seconds from drain to OFFLINE" "$(python3 -c "print('%.1f' % ($t1 - $t0))")"
printf '  %-52s %s\n' "why" "$( [ "$reason" = last_call ] && echo 'the last call ended' || echo 'the deadline')"
printf '  %-52s %s\n' "caller calls: completed or refused cleanly / failed" "$ok_calls / $failed"
printf '  %-52s %s\n' "drain --wait exit status" "$rc"
printf '  %-52s %s\n' "after 'sipdrain resume'" "$state"
echo
if [ "$during" = 0 ] && [ "$cut" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$rc" -eq 0 ] &&
   [ "$refused" -gt 0 ] && [ "$state" = serving ]; then
	echo "demo: OK - no new call reached the server, no call was lost"
	result=0
else
	echo "demo: FAILED - see the summary above"
	KEEP_LOGS=1
	result=1
fi
echo "== removing the lab"
exit $result
