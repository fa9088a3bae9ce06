#!/bin/bash
# The lab: SIP servers and their callers in network namespaces, joined by
# veth (198.18.0.0/15, 2001:2::/48 only).  Sourced by `make demo`
# (tests/lab/demo.sh) and the lab tests; every process it starts is
# remembered by PID and stopped, every namespace removed, on exit.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
LAB=$ROOT/tests/lab
KAMAILIO_MODULES=/usr/lib/x86_64-linux-gnu/kamailio/modules
LAB_NS=()
LAB_PINS=()

# Extra namespaces and gates (pin dirs) go with the lab.
lab_teardown() {
	local p n
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.1       # twice: `run` finishes a drain on the first signal
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PIDS=()
	for p in "${LAB_PINS[@]}"; do
		[ -e "$p" ] && "$SD" --pin-dir "$p" detach >/dev/null 2>&1
	done
	LAB_PINS=()
	for n in "${LAB_NS[@]}"; do ip netns del "$n" 2>/dev/null; done
	LAB_NS=()
	teardown
}
cleanup() {
	lab_teardown
	if [ -n "${KEEP_LOGS:-}" ]; then
		echo "lab: logs kept in $WORK" >&2
	else
		work_remove
	fi
}

ns_new() { ip netns add "$1" && LAB_NS+=("$1") && ip -n "$1" link set lo up; }
in_ns() { local n=$1; shift; nsenter --net=/run/netns/$n "$@"; }
bg_ns() { local n=$1; shift; nsenter --net=/run/netns/$n "$@" & PIDS+=($!); }

# link NS_A IF_A ADDR_A NS_B IF_B ADDR_B (v4 "a.b.c.d/24" or v6 ".../64")
link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || return 1
	in_ns "$1" ip addr add "$3" dev "$2" nodad 2>/dev/null || in_ns "$1" ip addr add "$3" dev "$2"
	in_ns "$4" ip addr add "$6" dev "$5" nodad 2>/dev/null || in_ns "$4" ip addr add "$6" dev "$5"
	in_ns "$1" ip link set "$2" up; in_ns "$4" ip link set "$5" up
	in_ns "$1" ethtool -K "$2" tx off >/dev/null 2>&1
	in_ns "$4" ethtool -K "$5" tx off >/dev/null 2>&1
}

# A URI host: IPv6 in brackets.
uri_host() { case $1 in *:*) echo "[$1]";; *) echo "$1";; esac; }

# kamailio_start NS CFG LOG key=value...: a Kamailio from a lab config
# with its placeholders replaced; waits until it listens.
kamailio_start() {
	local ns=$1 cfg=$2 log=$3 out kv
	out=$WORK/$(basename "$cfg" .cfg)-$ns.cfg
	shift 3
	cp "$cfg" "$out"
	for kv in "$@"; do sed -i "s|${kv%%=*}|${kv#*=}|g" "$out"; done
	mkdir -p $WORK/run-$ns
	bg_ns "$ns" kamailio -DD -E -f "$out" -Y $WORK/run-$ns -m 64 -M 8 -L $KAMAILIO_MODULES >"$log" 2>&1
	wait_bound_in "$ns" u 5060 && return 0
	echo "lab: Kamailio did not start in $ns:"; tail -5 "$log"
	return 1
}

# gate_start NS IFACES PINDIR [OPTION...]: sipdrain run in front of a
# server (IFACES: one interface, or several separated by spaces)
gate_start() {
	local ns=$1 ifs=$2 pin=$3
	shift 3
	LAB_PINS+=("$pin")
	# attached before the first call: --min-watch 0 lets the drain end
	# when the last call does
	bg_ns "$ns" "$SD" --pin-dir "$pin" run $ifs --min-watch 0 "$@" >>$WORK/sipdrain-$ns.log 2>&1
	GATE=${PIDS[-1]}
	for i in $(seq 100); do
		in_ns "$ns" "$SD" --pin-dir "$pin" status --json 2>/dev/null | grep -q '"running":true' && return 0
		sleep 0.1
	done
	echo "lab: sipdrain run did not start in $ns"
	return 1
}
sd_in() { local ns=$1 pin=$2; shift 2; in_ns "$ns" "$SD" --pin-dir "$pin" "$@"; }
sd_json() { sd_in "$1" "$2" status --json | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$3"; }

# caller_scenario MIN_MS MAX_MS [no503]: the caller with its call length
# (no503: a 503 is a failed call, as the pool test wants)
caller_scenario() {
	local f=$WORK/caller-$1-$2${3:+-$3}.xml
	sed "s/MIN_MS/$1/; s/MAX_MS/$2/" $LAB/caller.xml > $f
	[ "${3:-}" = no503 ] && sed -i '/response="503"/d' $f
	echo $f
}

# sipp_stat CSV COLUMN: the last value of a column of sipp's -trace_stat
sipp_stat() {
	python3 - "$1" "$2" <<'PY'
import sys
rows = [l.rstrip("\n").split(";") for l in open(sys.argv[1]) if l.strip()]
i = rows[0].index(sys.argv[2])
print(rows[-1][i])
PY
}

# The single-server lab: callers (C) -> server S (Kamailio, sipdrain run on
# its caller-facing veth) -> callees (U).  lab_single v4|v6 [both [CALLEE]]
#   both    the gate on both of Kamailio's interfaces (VS toward the
#           callers, vt$ID toward the callees): both legs of every call
#           cross it (a BYE at the deadline goes to both parties);
#   CALLEE  the callees' sipp scenario (default tests/lab/callee.xml);
#           none is started when it is "none".
lab_single() {
	FAM=$1
	local gifs=$VS callee=${3:-$LAB/callee.xml}
	[ "${2:-}" = both ] && gifs="$VS vt$ID"
	NS_U=sdu$ID
	ns_new $NS_C && ns_new $NS_S && ns_new $NS_U || return 1
	if [ "$FAM" = v6 ]; then
		C_IP=2001:2:0:20::1 S_PUB=2001:2:0:20::2 S_PRIV=2001:2:0:21::1 U_IP=2001:2:0:21::2; P=64
	else
		C_IP=198.18.20.1 S_PUB=198.18.20.2 S_PRIV=198.18.21.1 U_IP=198.18.21.2; P=24
	fi
	link $NS_C $VC $C_IP/$P $NS_S $VS $S_PUB/$P || return 1
	link $NS_S vt$ID $S_PRIV/$P $NS_U vu$ID $U_IP/$P || return 1
	in_ns $NS_S sysctl -qw net.ipv4.ip_forward=0
	PIN=$PIN_DIR-lab
	KLOG=$WORK/kamailio.log
	kamailio_start $NS_S $LAB/kamailio-proxy.cfg $KLOG PUBLIC=$(uri_host $S_PUB) \
		PRIVATE=$(uri_host $S_PRIV) CALLEE=$(uri_host $U_IP) || return 1
	if [ "$callee" != none ]; then
		bg_ns $NS_U sipp -sf $callee -i $U_IP -p 5060 -aa -nostdin \
			-trace_err -error_file $WORK/callee_err.log -trace_msg -message_file $WORK/callee_msg.log >/dev/null 2>&1
	fi
	gate_start $NS_S "$gifs" $PIN || return 1
}

# Start the callers: caller_start RATE MIN_MS MAX_MS MAX_CALLS CSV [no503]
caller_start() {
	local sc
	sc=$(caller_scenario $2 $3 ${6:-})
	bg_ns $NS_C sipp -sf $sc "$(uri_host $S_PUB):5060" -i $C_IP -p 5070 -r $1 -m $4 \
		-timeout 150 -nostdin -trace_stat -stf $5 -fd 1 \
		-trace_err -error_file $WORK/caller_err.log -trace_msg -message_file $WORK/caller_msg.log \
		-trace_screen -screen_file $WORK/caller_screen.log >/dev/null 2>&1
	CALLER=${PIDS[-1]}
}

# Stop placing calls, let the current ones finish, wait (bounded).
caller_stop() {
	kill -USR1 $CALLER 2>/dev/null
	wait_gone $CALLER 40 || kill $CALLER 2>/dev/null
	wait $CALLER 2>/dev/null
	return 0
}
