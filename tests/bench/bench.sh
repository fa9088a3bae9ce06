#!/bin/bash
# make bench: the 503 responder against Kamailio's sl_send_reply("503")
# with one worker, same namespaces, same generator, same run.  Prints
# replies/s at saturation and CPU per reply for both, and their ratios;
# writes build/bench.json.
. "$(dirname "$0")/../lib.sh"
SECS=${BENCH_SECONDS:-5}
# the paced run: below both servers' saturation, for a fair CPU per reply
PACED=${BENCH_PACED_RATE:-20000}
LOAD=$ROOT/build/sipload
OUT=$ROOT/build/bench.json

# CPU seconds (user+system) of a process and its children processes.
proc_cpu() {
	local pids="$*" total=0 p t
	for p in $pids; do
		[ -r /proc/$p/stat ] || continue
		t=$(awk '{print $14 + $15}' /proc/$p/stat)
		total=$((total + t))
	done
	echo "$total"          # clock ticks
}
tree() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
TCK=$(getconf CLK_TCK)

setup_pair 9 || { echo "bench: cannot create namespaces"; exit 1; }

# measure NAME PIDS-COMMAND [RATE]: run the generator (flat out, or
# paced at RATE INVITEs/s), print a JSON line
measure() {
	local name=$1 pidfn=$2 rate=${3:-0} c0 c1 b0 b1 res
	c0=$(proc_cpu $($pidfn)); b0=$(busy_ticks)
	res=$(in_c "$LOAD" -d 198.18.9.2 -s 198.18.9.1 -t $SECS -w 1 -r $rate)
	c1=$(proc_cpu $($pidfn)); b1=$(busy_ticks)
	python3 - "$name" "$res" $((c1 - c0)) $((b1 - b0)) $TCK <<'PY'
import json, sys
name, res, cpu, busy, tck = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rep = max(res["replies_total"], 1)
res.update(name=name, server_cpu_s=cpu / tck, machine_busy_s=busy / tck,
           cpu_us_per_reply=1e6 * cpu / tck / rep,
           machine_us_per_reply=1e6 * (busy / tck - res["cpu_seconds"]) / rep)
print(json.dumps(res))
PY
}

echo "bench: responder (sipdrain run, AF_XDP copy mode on veth), ${SECS}s at saturation"
bg_s "$SD" run $VS
RUN=${PIDS[-1]}
wait_responder || { echo "bench: responder did not start"; exit 1; }
in_s "$SD" drain --retry-after 60 >/dev/null 2>&1
resp_pids() { echo $RUN; }
R1=$(measure responder resp_pids)
P1=$(measure responder resp_pids $PACED)
kill -TERM $RUN; wait $RUN 2>/dev/null

echo "bench: Kamailio $(kamailio -v 2>/dev/null | head -1 | awk '{print $3}') sl_send_reply(\"503\"), 1 UDP worker, ${SECS}s at saturation"
sed "s/LISTEN_ADDR/198.18.9.2/" "$ROOT/tests/bench/kamailio-503.cfg" > $WORK/kam.cfg
mkdir -p $WORK/kamrun
bg_s kamailio -DD -E -f $WORK/kam.cfg -Y $WORK/kamrun -m 64 -M 8 \
	-L /usr/lib/x86_64-linux-gnu/kamailio/modules >$WORK/kamailio.log 2>&1
KAM=${PIDS[-1]}
for i in $(seq 50); do in_s ss -lun 2>/dev/null | grep -q 198.18.9.2:5060 && break; sleep 0.1; done
kam_pids() { tree $KAM; }
R2=$(measure kamailio kam_pids)
P2=$(measure kamailio kam_pids $PACED)
kill -TERM $KAM; wait $KAM 2>/dev/null

python3 - "$R1" "$R2" "$OUT" "$(nproc)" "$(uname -r)" "$P1" "$P2" $PACED <<'PY'
import json, sys
r, k = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pr, pk, paced = json.loads(sys.argv[6]), json.loads(sys.argv[7]), int(sys.argv[8])
out = {"machine": {"cpus": int(sys.argv[4]), "kernel": sys.argv[5]}, "responder": r, "kamailio": k,
       "paced_rate": paced, "responder_paced": pr, "kamailio_paced": pk}
def ratio(a, b): return a / b if b else float("inf")
out["ratios"] = {
    "reply_rate_responder_over_kamailio": ratio(r["reply_rate"], k["reply_rate"]),
    "cpu_per_reply_responder_over_kamailio": ratio(r["cpu_us_per_reply"], k["cpu_us_per_reply"]),
    "machine_cpu_per_reply_responder_over_kamailio": ratio(r["machine_us_per_reply"], k["machine_us_per_reply"]),
    "paced_cpu_per_reply_responder_over_kamailio": ratio(pr["cpu_us_per_reply"], pk["cpu_us_per_reply"]),
    "paced_machine_cpu_per_reply_responder_over_kamailio": ratio(pr["machine_us_per_reply"], pk["machine_us_per_reply"]),
}
json.dump(out, open(sys.argv[3], "w"), indent=1)
print()
print("%-34s %14s %14s %10s" % ("", "responder", "kamailio", "ratio"))
print("%-34s %14.0f %14.0f %10.2f" % ("replies/s at saturation", r["reply_rate"], k["reply_rate"], out["ratios"]["reply_rate_responder_over_kamailio"]))
print("%-34s %14.2f %14.2f %10.3f" % ("server CPU us per reply", r["cpu_us_per_reply"], k["cpu_us_per_reply"], out["ratios"]["cpu_per_reply_responder_over_kamailio"]))
print("%-34s %14.2f %14.2f %10.3f" % ("machine CPU us/reply (- generator)", r["machine_us_per_reply"], k["machine_us_per_reply"], out["ratios"]["machine_cpu_per_reply_responder_over_kamailio"]))
print("%-34s %14.0f %14.0f" % ("INVITEs sent/s (generator)", r["send_rate"], k["send_rate"]))
print("%-34s %14.2f %14.2f" % ("generator CPU s", r["cpu_seconds"], k["cpu_seconds"]))
print("%-34s %14d %14d" % ("INVITE size (bytes)", r["msg_bytes"], k["msg_bytes"]))
print("paced at %d INVITE/s (below both saturations):" % paced)
print("%-34s %14.0f %14.0f" % ("  replies/s", pr["reply_rate"], pk["reply_rate"]))
print("%-34s %14.2f %14.2f %10.3f" % ("  server CPU us per reply", pr["cpu_us_per_reply"], pk["cpu_us_per_reply"], out["ratios"]["paced_cpu_per_reply_responder_over_kamailio"]))
print("%-34s %14.2f %14.2f %10.3f" % ("  machine CPU us/reply (- generator)", pr["machine_us_per_reply"], pk["machine_us_per_reply"], out["ratios"]["paced_machine_cpu_per_reply_responder_over_kamailio"]))
print()
print("targets: CPU per reply <= 0.20 of Kamailio's (saturation and paced): %s; replies/s >= 4x: %s" % (
    "met" if max(out["ratios"]["cpu_per_reply_responder_over_kamailio"],
                 out["ratios"]["paced_cpu_per_reply_responder_over_kamailio"]) <= 0.2 else "MISSED",
    "met" if out["ratios"]["reply_rate_responder_over_kamailio"] >= 4 else "MISSED"))
print("the generator shares this %d-CPU machine with the server under test: at saturation it is"
      " one of the bounds (its send rate is in the table)." % out["machine"]["cpus"])
print("written: %s" % sys.argv[3])
PY
