#!/bin/bash
# The systemd unit (user/dist/sipdrain.service), installed by `make install`:
#  - offline: `systemd-analyze verify` clean, `systemd-analyze security
#    --offline=yes` at most 3.5 ("OK"; the unit without its sandbox scores
#    above, so the check can fail), Type=notify, keep-on-exit;
#  - its ExecStart line (EnvironmentFile variables substituted) run under
#    the nearest equivalent of its sandbox without systemd as PID 1
#    (tests/unit_exec.py: read-only mounts but /sys/fs/bpf, private /tmp
#    and /dev, no /home, the capability bounding set, no_new_privs, the
#    seccomp allow list and address families), NOTIFY_SOCKET a datagram
#    socket of the test's (tests/notify_listen.py): READY=1 only once
#    /healthz says every RX queue is bound, STATUS= lines that follow a
#    drain and the 503s sent, a drained INVITE answered 503, WATCHDOG=1
#    only while the data path beats (its thread stopped: no pings),
#    STOPPING=1 on SIGTERM (in a drain: run finishes it first), the
#    --exec-on-offline hook inside the sandbox (AF_UNIX works, writing
#    outside /sys/fs/bpf does not), an adopting restart;
#  - each capability claimed necessary, taken away: run fails with one
#    line (CAP_NET_RAW, CAP_NET_ADMIN, bpf(2) in the filter) or, without
#    CAP_SYS_ADMIN, attaches without libxdp's dispatcher and cannot find
#    its program again to detach it.
. "$(dirname "$0")/lib.sh"
need systemd-analyze setpriv unshare capsh sipp curl
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import seccomp' 2>/dev/null ||
	skip "python3-seccomp (for /usr/bin/python3) is missing"

NS_C=sdsysdc$ID
NS_S=sdsysds$ID
RUNDIR=/run/sdsysd$ID           # outside PrivateTmp, read-only in the sandbox
SOCK=$RUNDIR/notify
NLOG=$WORK/notify.log
DEST=$WORK/root
UNIT=$DEST/usr/lib/systemd/system/sipdrain.service
PORT=9563
RETRY=37
MAX_SCORE=3.5
mkdir -p $RUNDIR
my_cleanup() {
	teardown
	rm -rf "$RUNDIR"
	work_remove
}
trap my_cleanup EXIT

# ---- installed, verified offline ------------------------------------------
echo "-- make install, systemd-analyze"
make -C "$ROOT" --no-print-directory install DESTDIR=$DEST PREFIX=/usr > $WORK/install.out 2>&1
check "make install DESTDIR=... PREFIX=/usr ($(tail -1 $WORK/install.out))" \
	test -x $DEST/usr/sbin/sipdrain -a -f $UNIT -a -f $DEST/etc/default/sipdrain
check "the unit comes from user/dist/ (no @SBINDIR@ left, ExecStart /usr/sbin/sipdrain)" \
	grep -qx 'ExecStart=/usr/sbin/sipdrain run $SIPDRAIN_INTERFACES $SIPDRAIN_OPTIONS' $UNIT
check "Type=notify" grep -qx 'Type=notify' $UNIT
check "keep-on-exit: no --detach-on-exit in ExecStart or the default options" \
	bash -c "! grep -qE -- '^(ExecStart|SIPDRAIN_OPTIONS)=.*--detach-on-exit' $UNIT $DEST/etc/default/sipdrain"

# verify wants the units a service pulls in (sysinit.target, ...): the
# host's targets beside it in a root of its own
verify_root() {         # verify_root DIR UNIT-FILE: verify's output
	rm -rf "$1"; mkdir -p "$1/usr/lib/systemd/system" "$1/usr/sbin" "$1/etc/default"
	cp /usr/lib/systemd/system/*.target "$1/usr/lib/systemd/system/"
	cp "$2" "$1/usr/lib/systemd/system/sipdrain.service"
	cp $DEST/usr/sbin/sipdrain "$1/usr/sbin/"
	cp $DEST/etc/default/sipdrain "$1/etc/default/"
	systemd-analyze verify --man=no --root="$1" sipdrain.service 2>&1
	echo "rc=$?"
}
out=$(verify_root $WORK/vroot $UNIT)
check "systemd-analyze verify: exit 0, nothing said (got: $(echo $out))" test "$out" = "rc=0"
sed 's/^Type=notify$/Type=notifyy/' $UNIT > $WORK/bad.service
out=$(verify_root $WORK/vroot-bad $WORK/bad.service)
check "... and it does speak up: a unit with Type=notifyy is reported ($(echo $out | cut -c1-90)...)" \
	bash -c "[[ '$(echo $out)' == *notifyy* ]]"

score() {               # score ROOT: the overall exposure level
	systemd-analyze security --offline=yes --no-pager --root="$1" sipdrain.service 2>&1 |
		sed -n 's/.*Overall exposure level for sipdrain.service: \([0-9.]*\) .*/\1/p'
}
s=$(score $DEST)
systemd-analyze security --offline=yes --no-pager --root=$DEST sipdrain.service 2>&1 | tail -1 > $WORK/score.out
check "systemd-analyze security --offline=yes: $s <= $MAX_SCORE ($(sed 's/.*: //' $WORK/score.out))" \
	python3 -c "import sys; sys.exit(not ('$s' and float('$s') <= $MAX_SCORE))"
# the same unit without its sandbox section: the check can fail
rm -rf $WORK/sroot; mkdir -p $WORK/sroot/usr/lib/systemd/system
sed '/^# ---- sandbox/,/^\[Install\]/{/^\[Install\]/!d}' $UNIT > $WORK/sroot/usr/lib/systemd/system/sipdrain.service
s2=$(score $WORK/sroot)
check "... the unit without its sandbox lines scores $s2 > $MAX_SCORE (the check can fail)" \
	python3 -c "import sys; sys.exit(not ('$s2' and float('$s2') > $MAX_SCORE))"

# ---- run under the sandbox ------------------------------------------------
echo "-- ExecStart under the unit's sandbox, NOTIFY_SOCKET a socket of the test"
setup_pair 80 2 || { fail "namespaces"; finish; exit; }
# the installed default file with this namespace's interface and options
sed -e "s/^SIPDRAIN_INTERFACES=.*/SIPDRAIN_INTERFACES=\"$VS\"/" \
    -e "s/^SIPDRAIN_OPTIONS=.*/SIPDRAIN_OPTIONS=\"--port 5060 --metrics 127.0.0.1:$PORT --min-watch 0\"/" \
	$DEST/etc/default/sipdrain > $WORK/sipdrain.env
sed "s/^SIPDRAIN_OPTIONS=\"/&--detach-on-exit /" $WORK/sipdrain.env > $WORK/sipdrain-detach.env
check "environment file: $(grep -c '^SIPDRAIN_' $WORK/sipdrain.env) variables, interface $VS" \
	grep -qx "SIPDRAIN_INTERFACES=\"$VS\"" $WORK/sipdrain.env
sed "s/\[retry\]/$RETRY/" "$ROOT/tests/sipp/uac_503.xml" > $WORK/uac_503.xml

python3 "$ROOT/tests/notify_listen.py" $SOCK $NLOG & PIDS+=($!)
t=0; until grep -q LISTENING $NLOG 2>/dev/null || [ $t -ge 50 ]; do sleep 0.1; t=$((t + 1)); done

# unit_run NAME [unit_exec options]: the unit's ExecStart in the server
# namespace; RUN_PID (the same through every exec)
unit_run() {
	local name=$1; shift
	NOTIFY_SOCKET=$SOCK nsenter --net=/run/netns/$NS_S unshare --mount --propagation private \
		/usr/bin/python3 "$ROOT/tests/unit_exec.py" --env SIPDRAIN_PIN_DIR=$PIN_DIR \
		--exe $DEST/usr/sbin/sipdrain --env-file $WORK/sipdrain.env "$@" $UNIT \
		> $WORK/$name.out 2>&1 &
	RUN_PID=$!
	PIDS+=($RUN_PID)
}
# what RUN_PID sent: FIELD=VALUE lines (or 'T FIELD=VALUE' with -t)
sent() {
	if [ "${1:-}" = -t ]; then
		awk -v p=$RUN_PID '$2 == p { print $1, substr($0, index($0, $3)) }' $NLOG
	else
		awk -v p=$RUN_PID '$2 == p { print substr($0, index($0, $3)) }' $NLOG
	fi
}
export -f sent
export NLOG RUN_PID=0
# wait_sent REGEX [SECONDS]: until RUN_PID sent a matching line
wait_sent() {
	local t=0
	while [ $t -lt $(( ${2:-10} * 50 )) ]; do
		sent | grep -qE "$1" && return 0
		sleep 0.02; t=$((t + 1))
	done
	return 1
}
# mark TEXT: a line in the notification log, on its clock
mark() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(sys.argv[2].encode(), sys.argv[1])' \
		$SOCK "MARK=$1"
	sleep 0.05
}
mark_time() { awk -v m="MARK=$1" '$3 == m { print $1; exit }' $NLOG; }
# healthz: 'STATUS FIRST-LINE' of /healthz
healthz() {
	local code
	code=$(in_s curl -s -m 3 -o $WORK/healthz.body -w '%{http_code}' http://127.0.0.1:$PORT/healthz)
	echo "$code $(head -1 $WORK/healthz.body 2>/dev/null)"
}
# one_warning FILE REGEX: exactly one 'sipdrain:' line, and it matches
# run's lines carry a time stamp (its stderr is no journal here)
W='^([0-9T:.+-]+ )?sipdrain: '
one_warning() {
	[ "$(grep -cE "$W" "$1")" -eq 1 ] && grep -E "$W" "$1" | grep -qE "$2"
}

unit_run serve --set WatchdogSec=2s
if wait_sent '^READY=1$' 15; then
	h=$(healthz)            # at once: was everything bound when READY=1 came?
	ok "READY=1 arrived"
	check "... only once every RX queue was bound: /healthz at that moment '$h'" test "$h" = "200 ok"
else
	fail "READY=1 arrived (run said: $(tr '\n' '|' < $WORK/serve.out))"
	finish; exit
fi
check "... from run's own pid, the one systemd would watch ($RUN_PID; senders: $(awk '$3 == "READY=1" { print $2 }' $NLOG | sort -u | tr '\n' ' '))" \
	test "$(awk '$3 == "READY=1" { print $2 }' $NLOG | sort -u)" = "$RUN_PID"
check "... with STATUS=serving, 0 calls, 0 503s sent" bash -c "sent | grep -qx 'STATUS=serving, 0 calls, 0 503s sent'"
check "run bound both RX queues ($(grep -o 'bound to .*' $WORK/serve.out))" grep -q 'bound to 2 RX queues' $WORK/serve.out
# the sandbox really is around it
caps=$(capsh --decode=$(awk '/^CapBnd/ { print $2 }' /proc/$RUN_PID/status) | sed 's/.*=//')
check "its bounding set: $caps" bash -c "[[ ,$caps, == *,cap_net_raw,* && ,$caps, == *,cap_sys_admin,* && ,$caps, != *,cap_dac_override,* && ,$caps, != *,cap_sys_ptrace,* ]]"
check "no_new_privs and a seccomp filter" bash -c \
	"grep -q '^NoNewPrivs:[[:space:]]1' /proc/$RUN_PID/status && grep -q '^Seccomp:[[:space:]]2' /proc/$RUN_PID/status"
check "/ read-only, /sys/fs/bpf writable, /tmp private ($(findmnt --task $RUN_PID -no FSTYPE /tmp))" bash -c \
	"findmnt --task $RUN_PID -no OPTIONS / | grep -q '^ro' && findmnt --task $RUN_PID -no OPTIONS /sys/fs/bpf | grep -q '^rw' && test \"\$(findmnt --task $RUN_PID -no FSTYPE /tmp)\" = tmpfs"
check "the gate's state is under the suite's pin dir" test -e $PIN_DIR/sd_config
sleep 1.2
n=$(sent | grep -c '^WATCHDOG=1$')
check "WATCHDOG=1 while the data path beats (WatchdogSec=2s: $n in ~1.5 s)" test "$n" -ge 2

echo "-- STATUS follows a drain; a drained INVITE gets its 503"
mark drain
check "drain --deadline 60s" bash -c "nsenter --net=/run/netns/$NS_S '$SD' drain --deadline 60s --no-early-offline --retry-after $RETRY >/dev/null"
sleep 3.2
d=$(sent | grep -E '^STATUS=draining: 0 calls left, [0-9]+ s to deadline, 0 503s sent$' | sort -u | wc -l)
check "STATUS= changed to the draining line, and moves with the clock ($d different lines in 3 s)" test "$d" -ge 2
check "... never more than once a second" bash -c "sent -t | awk '\$2 ~ /^STATUS=draining/ { if (n++ && \$1 - last < 0.9) bad = 1; last = \$1 } END { exit bad }'"
in_c timeout 20 sipp -sf $WORK/uac_503.xml 198.18.80.2:5060 -i 198.18.80.1 -p 5070 -m 5 -r 10 \
	-timeout 15 -timeout_error -nostdin >/dev/null 2>&1
check "5 INVITEs during the drain: each got its 503 with Retry-After $RETRY (sipp exit $?)" test $? -eq 0
check "STATUS= counts them: '... 5 503s sent'" wait_sent '^STATUS=draining: [0-9]+ calls? left, [0-9]+ s to deadline, 5 503s sent$' 3

echo "-- WATCHDOG=1 tied to the data path's heartbeat"
XSK=""
for t in /proc/$RUN_PID/task/*; do
	[ "$(cat $t/comm 2>/dev/null)" = sipdrain-xsk ] && XSK=${t##*/}
done
check "run has a data path thread (sipdrain-xsk, tid $XSK)" test -n "$XSK"
python3 "$ROOT/tests/http_hold.py" freeze ${XSK:-0} 4 > $WORK/freeze.out 2>&1 &
FREEZER=$!
PIDS+=($FREEZER)
t=0; until grep -q frozen $WORK/freeze.out || [ $t -ge 30 ]; do sleep 0.1; t=$((t + 1)); done
mark frozen
wait $FREEZER
mark thawed
sleep 1.5
tf=$(mark_time frozen); tt=$(mark_time thawed)
# the mark comes a little after the thread stopped (a python start): the
# window is from 1.5 s after it (the heartbeat 1 s old, WatchdogSec/2) to
# 3.5 s after it (stopped for 4 s)
n=$(sent -t | awk -v a="$tf" '$2 == "WATCHDOG=1" && $1 > a + 1.5 && $1 < a + 3.5' | wc -l)
check "no WATCHDOG=1 while sipdrain-xsk was stopped (4 s; $n pings from 1.5 s after until thawed)" \
	test -n "$tf" -a -n "$tt" -a "$n" -eq 0
n=$(sent -t | awk -v b="$tt" '$2 == "WATCHDOG=1" && $1 > b' | wc -l)
check "... and again once it runs ($n in 1.5 s)" test "$n" -ge 1

echo "-- SIGTERM during the drain: STOPPING=1, the drain finished first; the hook in the sandbox"
kill -TERM $RUN_PID
check "STOPPING=1 on SIGTERM" wait_sent '^STOPPING=1$' 3
sleep 1.2
check "... run goes on: a stop during a drain finishes the drain" kill -0 $RUN_PID
check "... STATUS says so" wait_sent '^STATUS=stopping once the drain is over; draining: ' 2
check "drain --deadline 2s --exec-on-offline (the hook)" bash -c "nsenter --net=/run/netns/$NS_S '$SD' drain --deadline 2s \
	--no-early-offline --retry-after $RETRY --exec-on-offline '/usr/bin/python3 $ROOT/tests/hook_probe.py $RUNDIR' >/dev/null"
wait_gone $RUN_PID 10; wait $RUN_PID; rc=$?
check "run exits 0 once the node is offline (got $rc)" test $rc -eq 0
check "the gate stays attached (keep-on-exit), offline" bash -c \
	"nsenter --net=/run/netns/$NS_S '$SD' status --json | grep -q '\"state\":\"offline\"'"
t=0; until grep -q ' HOOK=' $NLOG || [ $t -ge 50 ]; do sleep 0.1; t=$((t + 1)); done
hook=$(grep -o 'HOOK=.*' $NLOG)
check "the hook ran in the sandbox and reached an AF_UNIX socket on read-only /run ($hook)" \
	bash -c "[[ '$hook' == 'HOOK=deadline wrote='* ]]"
check "... but could not write outside /sys/fs/bpf (ProtectSystem=strict)" \
	bash -c "[[ '$hook' == *wrote=no* ]] && test ! -e $RUNDIR/hook-wrote"

echo "-- a restart adopts the gate; SIGTERM while serving"
check "resume" bash -c "nsenter --net=/run/netns/$NS_S '$SD' resume >/dev/null"
unit_run adopt
check "READY=1 (adopting)" wait_sent '^READY=1$' 15
h=$(healthz)
check "... '$(grep -o 'adopting.*' $WORK/adopt.out)'; /healthz '$h'" bash -c \
	"grep -q 'adopting the gate' $WORK/adopt.out && test '$h' = '200 ok'"
kill -TERM $RUN_PID
check "STOPPING=1 on SIGTERM while serving" wait_sent '^STOPPING=1$' 3
wait_gone $RUN_PID 5; wait $RUN_PID; rc=$?
check "... exit 0 (got $rc), the gate left attached" bash -c "test $rc -eq 0 && test -e $PIN_DIR/sd_config"

echo "-- each capability claimed, taken away"
ALL="CAP_SYS_ADMIN CAP_NET_ADMIN CAP_NET_RAW CAP_BPF CAP_PERFMON"
check "the unit's set is the one measured ($ALL)" grep -qx "CapabilityBoundingSet=$ALL" $UNIT
without() { echo $ALL | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' '; }
# unit_fail NAME REGEX [unit_exec options]: exits 1 with one line, no READY
unit_fail() {
	local name=$1 re=$2 rc; shift 2
	unit_run $name "$@"
	wait_gone $RUN_PID 15; wait $RUN_PID; rc=$?
	check "$name: exit 1 (got $rc), one line: $(grep -E "$W" $WORK/$name.out | head -2 | tr '\n' '|')" \
		bash -c "W='$W'; $(declare -f one_warning); test $rc -eq 1 && one_warning $WORK/$name.out '$re'"
	check "... and no READY=1" bash -c "! sent | grep -q READY=1"
}
# adopting the attached gate: the AF_XDP sockets
unit_fail no-net-raw 'cannot bind an AF_XDP socket: Operation not permitted' \
	--set "CapabilityBoundingSet=$(without CAP_NET_RAW)" --set "AmbientCapabilities=$(without CAP_NET_RAW)"
check "detach (a fresh attach from here on)" bash -c "nsenter --net=/run/netns/$NS_S '$SD' detach >/dev/null"
unit_fail no-net-admin 'XDP attach refused: Operation not permitted' \
	--set "CapabilityBoundingSet=$(without CAP_NET_ADMIN)" --set "AmbientCapabilities=$(without CAP_NET_ADMIN)"
check "... nothing left attached" bash -c "test ! -e $PIN_DIR/sd_config && ! nsenter --net=/run/netns/$NS_S ip link show $VS 2>/dev/null | grep -q xdp"
unit_fail no-bpf-syscall 'XDP attach refused: Operation not permitted' --set "SystemCallFilter=@system-service"
# without CAP_SYS_ADMIN the kernel refuses BPF_BTF_GET_FD_BY_ID and
# BPF_PROG_GET_FD_BY_ID: libxdp attaches without its dispatcher and cannot
# find the program again; --detach-on-exit detaches the pinned program by
# netlink (an unmanaged gate without pins must not stay behind)
unit_run no-sys-admin --env-file $WORK/sipdrain-detach.env \
	--set "CapabilityBoundingSet=$(without CAP_SYS_ADMIN)" --set "AmbientCapabilities=$(without CAP_SYS_ADMIN)"
check "no-sys-admin: READY=1 all the same" wait_sent '^READY=1$' 15
check "... attached without libxdp's dispatcher: '$(grep -o 'attached ([a-z]* mode)' $WORK/no-sys-admin.out)'" \
	grep -q 'sipdrain attached (unspec mode)' $WORK/no-sys-admin.out
kill -TERM $RUN_PID; wait_gone $RUN_PID 5; wait $RUN_PID
check "... --detach-on-exit takes it off all the same ('$(grep -o "$VS: sipdrain detached" $WORK/no-sys-admin.out)'): nothing on $VS, its pins gone" \
	bash -c "grep -q '$VS: sipdrain detached' $WORK/no-sys-admin.out && ! nsenter --net=/run/netns/$NS_S ip link show $VS 2>/dev/null | grep -q xdp && test ! -e $PIN_DIR/sd_config"
in_s ip link set dev $VS xdp off 2>/dev/null     # whatever the outcome, for what follows

finish
