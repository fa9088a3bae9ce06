#!/bin/bash
# The HTTP endpoints of `run --metrics` (libmicrohttpd, threads of their own):
#  - /ready and /healthz in each state: serving 200/200, draining 503 with
#    the draining line / 200, offline 503 / 200, resumed 200/200;
#  - run's main thread stopped with ptrace: 503s still answered, /healthz
#    200; its data path thread stopped: /healthz 503 (the HTTP threads
#    answer, /ready too); and when the interface
#    gained an RX queue the responder has no socket on; run stopped:
#    nothing listens any more, the gate stays; the pins removed: 503s
#    saying so from all three;
#  - while 200 idle and 50 slow connections are held to the port during a
#    drain, each of 500 INVITEs (100/s) gets its 503, and /metrics, /ready
#    and /healthz answer a normal client; the server closes the idle ones
#    after its 10 s timeout;
#  - 405 with Allow for other methods, 404 for other paths, 400 for a
#    malformed request, HEAD without a body, Cache-Control: no-store;
#  - --metrics on a port in use: one line, exit 1, nothing attached;
#    "[::1]:PORT" listens on IPv6 loopback.
. "$(dirname "$0")/lib.sh"
need sipp

H="python3 $ROOT/tests/http_hold.py"
PORT=9562
URL=http://127.0.0.1:$PORT
RETRY=37
sed "s/\[retry\]/$RETRY/" "$ROOT/tests/sipp/uac_503.xml" > $WORK/uac_503.xml

# get PATH [METHOD] [BASE]: 'STATUS SECONDS FIRST-LINE' (or 'error ...'),
# asked from the server namespace with a 3 s timeout
get() { in_s $H get ${3:-$URL}$1 ${2:-}; }
# expect PATH STATUS LINE-REGEX [BASE]: the answer has that status and line
expect() {
	local out
	out=$(get "$1" GET "${4:-}")
	check "GET $1 -> $2 '$3' (got: $out)" \
		bash -c '[[ "$1" =~ ^$2\ [0-9.]+\ $3$ ]]' _ "$out" "$2" "$3"
}
# header PATH METHOD REGEX: a header line of the answer matches
header() {
	in_s curl -s -o /dev/null -D - -m 3 -X "$2" "$URL$1" | tr -d '\r' | grep -qiE "$3"
}
# quiet CMD...: its output (drain's and resume's report) is not the test's
quiet() { "$@" >/dev/null; }
# state_is STATE: sipdrain status --json says that state
state_is() { in_s "$SD" status --json | grep -q "\"state\":\"$1\""; }

start_run() {   # start_run N [metrics spec]: run with --metrics, a sipp UAS
	rm -f $WORK/uas.log
	bg_s "$SD" run $VS --metrics "${2:-127.0.0.1:$PORT}" --min-watch 0
	RUN_PID=${PIDS[-1]}
	wait_responder || { fail "responder did not come up"; return 1; }
	bg_s sipp -sn uas -i 198.18.$1.2 -p 5060 -nostdin -trace_msg -message_file $WORK/uas.log \
		>/dev/null 2>&1
	wait_bound u 5060 || { fail "the sipp UAS did not bind"; return 1; }
}

echo "-- states"
setup_pair 43 || { fail "namespaces"; finish; exit; }
# a port taken: one line before anything is attached
bg_s python3 "$ROOT/tests/tcp_probe.py" serve 127.0.0.1 $PORT
TAKER=${PIDS[-1]}
wait_bound t $PORT || fail "the port taker did not listen"
in_s timeout 10 "$SD" run $VS --metrics 127.0.0.1:$PORT > $WORK/busy.out 2>&1; rc=$?
check "--metrics on a port in use: exit 1 (got $rc)" test $rc -eq 1
check "... one line saying so ($(head -1 $WORK/busy.out))" \
	bash -c "test \$(wc -l < $WORK/busy.out) -eq 1 && grep -q 'cannot listen on 127.0.0.1:$PORT: Address already in use' $WORK/busy.out"
check "... and nothing attached" test ! -e $PIN_DIR/sd_config
kill $TAKER; wait $TAKER 2>/dev/null

start_run 43 || { finish; exit; }
expect /ready 200 'serving'
expect /healthz 200 'ok'
expect /metrics 200 '# HELP sipdrain_state 1 for the gate.s current state'
ABI=$(sed -n 's/^#define SD_ABI_VERSION *\([0-9]*\).*/\1/p' "$ROOT/include/sipdrain_common.h")
check "/metrics: sipdrain_build_info with version, ABI $ABI, libbpf, libxdp" bash -c \
	"in_s() { nsenter --net=/run/netns/$NS_S \"\$@\"; }; in_s curl -s -m 3 $URL/metrics | grep -qE '^sipdrain_build_info\\{version=\"[^\"]+\",abi=\"$ABI\",libbpf=\"[^\"]+\",libxdp=\"[^\"]+\"\\} 1$'"
check "/metrics: Content-Type text/plain; version=0.0.4" \
	header /metrics GET '^Content-Type: text/plain; version=0\.0\.4; charset=utf-8$'
for p in /metrics /ready /healthz /nope; do
	check "$p: Cache-Control: no-store" header $p GET '^Cache-Control: no-store$'
done
expect /nope 404 'not found: /metrics, /ready, /healthz'
out=$(get /metrics POST)
check "POST /metrics -> 405 (got: $out)" bash -c "[[ '$out' == 405\ * ]]"
check "... with Allow: GET, HEAD" header /metrics POST '^Allow: GET, HEAD$'
out=$(get /ready HEAD)
check "HEAD /ready -> 200 without a body (got: $out)" bash -c "[[ '$out' =~ ^200\ [0-9.]+\ $ ]]"
check "... Content-Length of the GET body (8)" header /ready HEAD '^Content-Length: 8$'
out=$(in_s $H raw 127.0.0.1 $PORT 'this is not http\r\n\r\n')
check "a request line that is not HTTP -> 400 (got: $out)" test "$out" = "HTTP/1.1 400 Bad Request"
out=$(in_s $H raw 127.0.0.1 $PORT 'GET /ready HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n')
check "a header line without colon -> 400 (got: $out)" test "$out" = "HTTP/1.1 400 Bad Request"
out=$(in_s $H raw 127.0.0.1 $PORT 'GARBAGE\r\n\r\n')
check "a request line of one word: closed without an answer, no 2xx (got: $out)" test "$out" = closed
out=$(in_s $H raw 127.0.0.1 $PORT "POST /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
check "POST with a body -> 405 (got: $out)" test "$out" = "HTTP/1.1 405 Method Not Allowed"

# no early offline: the gate has no call and would go offline at once
check "drain (deadline 300 s)" quiet in_s "$SD" drain --deadline 300s --no-early-offline --retry-after $RETRY
expect /ready 503 'draining: [0-9] s into the drain, deadline in (29[0-9]|300) s'
expect /healthz 200 'ok'
expect /metrics 200 '# HELP sipdrain_state 1 for the gate.s current state'
check "resume" quiet in_s "$SD" resume
expect /ready 200 'serving'
check "drain without deadline" quiet in_s "$SD" drain --retry-after $RETRY
expect /ready 503 "draining: [0-9] s into the drain, no deadline \\(until 'sipdrain resume'\\)"
check "drain with a 1 s deadline, --wait until offline" \
	quiet in_s timeout 10 "$SD" drain --deadline 1s --no-early-offline --retry-after $RETRY --wait
check "status says offline" state_is offline
expect /ready 503 'offline: deadline, 0 calls cut'
expect /healthz 200 'ok'
check "resume" quiet in_s "$SD" resume
expect /ready 200 'serving'
expect /healthz 200 'ok'

# run's control plane stuck (its main thread stopped with ptrace): the
# data path, a thread of its own, answers on and /healthz stays 200
check "drain" quiet in_s "$SD" drain --retry-after $RETRY
in_s $H freeze $RUN_PID 4 > $WORK/freeze.out 2>&1 &
FREEZER=$!
PIDS+=($FREEZER)
t=0; until grep -q frozen $WORK/freeze.out || [ $t -ge 30 ]; do sleep 0.1; t=$((t + 1)); done
check "run's main thread stopped (ptrace)" grep -q frozen $WORK/freeze.out
in_c timeout 20 sipp -sf $WORK/uac_503.xml 198.18.43.2:5060 -i 198.18.43.1 -p 5070 -m 20 -r 20 \
	-timeout 15 -timeout_error -nostdin >/dev/null 2>&1
check "... 20 INVITEs still got their 503 at once (sipp exit $?)" test $? -eq 0
expect /healthz 200 'ok'
wait $FREEZER
check "resume" quiet in_s "$SD" resume
# its data path stuck, the process alive: only /healthz can tell
XSK=""
for t in /proc/$RUN_PID/task/*; do
	[ "$(cat $t/comm 2>/dev/null)" = sipdrain-xsk ] && XSK=${t##*/}
done
check "run has a data path thread (sipdrain-xsk, tid $XSK)" test -n "$XSK"
in_s $H freeze ${XSK:-0} 7 > $WORK/freeze.out 2>&1 &
FREEZER=$!
PIDS+=($FREEZER)
t=0; until grep -q frozen $WORK/freeze.out || [ $t -ge 30 ]; do sleep 0.1; t=$((t + 1)); done
check "run's data path thread stopped (ptrace)" grep -q frozen $WORK/freeze.out
sleep 5.5
expect /healthz 503 "responder: pid $RUN_PID has not reported for [5-9]\.[0-9] s \\(its data path is stuck\\)"
expect /ready 200 'serving'
wait $FREEZER
check "run's data path running again ($(tail -1 $WORK/freeze.out))" grep -q thawed $WORK/freeze.out
sleep 0.5
expect /healthz 200 'ok'

# run stopped while serving: the gate stays, nothing answers HTTP
kill -TERM $RUN_PID; wait $RUN_PID; rc=$?
check "run exits 0 on SIGTERM (serving; got $rc)" test $rc -eq 0
check "the gate stays attached" test -e $PIN_DIR/sd_config
check "status: no responder running" bash -c "nsenter --net=/run/netns/$NS_S '$SD' status --json | grep -q '\"running\":false'"
out=$(get /healthz)
check "/healthz: connection refused, a probe fails (got: $out)" bash -c "[[ '$out' == error*refused* ]]"
teardown

echo "-- an RX queue added after the responder bound; IPv6 loopback listener"
setup_pair 44 2 || { fail "namespaces"; finish; exit; }
# XDP on veth wants as many RX queues as the peer has TX queues
in_s ethtool -L $VS rx 1 tx 1 && in_c ethtool -L $VC rx 1 tx 1
check "veth down to 1 queue" test $? -eq 0
URL6="http://[::1]:$PORT"
start_run 44 "[::1]:$PORT" || { finish; exit; }
expect /healthz 200 'ok' "$URL6"
expect /ready 200 'serving' "$URL6"
check "ethtool: a second RX queue" in_s ethtool -L $VS rx 2
expect /healthz 503 "$VS: responder bound on 1 of 2 RX queues" "$URL6"
out=$(get /healthz GET $URL)
check "nothing listens on 127.0.0.1 (got: $out)" bash -c "[[ '$out' == error* ]]"
# the pins removed under run: each endpoint says it cannot read the gate
rm $PIN_DIR/sd_config
expect /ready 503 'unknown: nothing attached \(no /sys/fs/bpf/[^)]*\); .*' "$URL6"
expect /healthz 503 'gate: nothing attached \(no /sys/fs/bpf/[^)]*\); .*' "$URL6"
expect /metrics 503 'nothing attached \(no /sys/fs/bpf/[^)]*\); .*' "$URL6"
teardown

echo "-- a drain while 200 idle and 50 slow connections are held"
setup_pair 45 || { fail "namespaces"; finish; exit; }
start_run 45 || { finish; exit; }
check "drain" quiet in_s "$SD" drain --retry-after $RETRY
bg_s $H hold 127.0.0.1 $PORT 200 50 15 $WORK/held > $WORK/hold.out 2>&1
HOLDER=${PIDS[-1]}
t=0; until [ -s $WORK/held ] || [ $t -ge 100 ]; do sleep 0.1; t=$((t + 1)); done
check "200 idle and 50 slow connections open ($(cat $WORK/held 2>/dev/null))" \
	grep -q '^held 200 50$' $WORK/held
in_c timeout 40 sipp -sf $WORK/uac_503.xml 198.18.45.2:5060 -i 198.18.45.1 -p 5070 -m 500 -r 100 \
	-timeout 30 -timeout_error -nostdin >/dev/null 2>&1 &
UAC=$!
PIDS+=($UAC)
sleep 1
n=$(in_s ss -Htn state established "( sport = :$PORT )" | wc -l)
check "the server holds them ($n established connections on :$PORT)" test "$n" -ge 250
expect /metrics 200 '# HELP sipdrain_state 1 for the gate.s current state'
expect /ready 503 'draining: [0-9] s into the drain, no deadline .*'
expect /healthz 200 'ok'
n=$(in_s ss -Htn state established "( sport = :$PORT )" | wc -l)
check "... still held after those requests ($n)" test "$n" -ge 250
wait $UAC; rc=$?
check "500 INVITEs at 100/s: each got its 503 (sipp exit $rc)" test $rc -eq 0
check "responder sent 500 INVITE replies: none for a retransmission (got $(counter responder reply_invite))" \
	test "$(counter responder reply_invite)" -eq 500
check "UAS received no INVITE (got $(grep -c '^INVITE ' $WORK/uas.log 2>/dev/null))" \
	test "$(grep -c '^INVITE ' $WORK/uas.log 2>/dev/null || true)" -eq 0
check "no redirect fell back (got $(counter redirect_fallback))" test "$(counter redirect_fallback)" -eq 0
wait_gone $HOLDER 30 || kill $HOLDER; wait $HOLDER
nidle=-1 first=0 last=0
read -r _ nidle _ first _ last < <(grep '^idle_closed' $WORK/hold.out)
check "the server closed the 200 idle connections after its 10 s timeout ($(tr '\n' ' ' < $WORK/hold.out))" \
	python3 -c "import sys; sys.exit(not ($nidle == 200 and 9.5 <= $first and $last <= 13))"
expect /ready 503 'draining: [0-9]+ s into the drain, no deadline .*'
teardown

finish
