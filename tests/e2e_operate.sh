#!/bin/bash
# The operator's flow (issue 13): drain is explicit and idempotent, its
# outcome readable by people and by scripts, and run keeps an audit trail.
#  - status --json, drain --json and resume --json validate against the
#    JSON Schemas in user/dist/schema/ in every state (serving; draining
#    with a fixed and an automatic Retry-After, without a deadline;
#    offline by deadline and by the last call);
#  - a second drain changes only what it names and says what changed;
#    drain on an offline node is refused unless --again; resume says which
#    state it left;
#  - run logs every change with the pid and uid that made it, each line
#    time-stamped (into a file), or with syslog priority prefixes when its
#    stderr is the journal (JOURNAL_STREAM); drain --wait into a pipe
#    stamps its progress lines.
. "$(dirname "$0")/lib.sh"
SCHEMA=$ROOT/user/dist/schema
PY=/usr/bin/python3             # Debian's, with python3-jsonschema (make deps)
$PY -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is missing (make deps)"
STAMP='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{4} '

# valid SCHEMA FILE [EXPR]: every line of FILE is a JSON object valid
# against SCHEMA, and EXPR (python, d: the last object) holds
valid() {
	$PY - "$SCHEMA/$1.schema.json" "$2" "${3:-True}" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
lines = [l for l in open(sys.argv[2]).read().splitlines()]
if not lines:
    sys.exit("no output")
for l in lines:
    d = json.loads(l)
    jsonschema.validate(d, schema)
if not eval(sys.argv[3]):
    sys.exit("not: %s in %s" % (sys.argv[3], lines[-1]))
PY
}
# status_valid NAME [EXPR]: status --json in the state at hand
status_valid() {
	in_s "$SD" status --json > $WORK/status-$1.json 2>$WORK/status.err || return 1
	valid status $WORK/status-$1.json "${2:-True}"
}
# sd_pid OUT ERR ARGS...: sipdrain ARGS in the server namespace, its pid
# in $LAST_PID (what run's log must name), its exit status in $LAST_RC
sd_pid() {
	local out=$1 err=$2; shift 2
	nsenter --net=/run/netns/$NS_S bash -c 'echo $$ > "$0"; exec "$@"' $WORK/pid "$SD" "$@" \
		>$out 2>$err
	LAST_RC=$?
	LAST_PID=$(cat $WORK/pid)
}
# logged PATTERN: run's log has a line matching PATTERN (ERE) within 3 s
logged() {
	local i
	for i in $(seq 30); do
		grep -Eq -- "$1" $WORK/run.log && return 0
		sleep 0.1
	done
	return 1
}
state_is() { in_s "$SD" status --json | $PY -c 'import json,sys; sys.exit(json.load(sys.stdin)["state"] != sys.argv[1])' "$1"; }
wait_state() {
	local i
	for i in $(seq $(( ${2:-5} * 10 ))); do state_is "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

for f in status drain resume; do
	check "schema $f.schema.json is a valid Draft 7 schema" \
		$PY -c 'import json,sys,jsonschema; jsonschema.Draft7Validator.check_schema(json.load(open(sys.argv[1])))' \
		"$SCHEMA/$f.schema.json"
done
# the schema can fail: a status with a field renamed is refused
echo '{"state":"paused"}' > $WORK/bad.json
refuses() { ! valid "$@" 2>/dev/null; }
check "a status the schema must refuse is refused" refuses status $WORK/bad.json

setup_pair 70 || { fail "namespaces"; finish; exit; }
bg_s "$SD" run $VS 2>$WORK/run.log
RUN=${PIDS[-1]}
check "run starts" wait_responder
check "run's lines are time-stamped into a file ($(head -1 $WORK/run.log))" \
	bash -c '[ -s $1 ] && ! grep -Evq "$2" $1' _ $WORK/run.log "$STAMP"

echo "-- serving"
check "status --json, serving: valid" status_valid serving 'd["state"] == "serving"'
sd_pid $WORK/o $WORK/e resume --json
check "resume --json while serving: unchanged" valid resume $WORK/o \
	'd["result"] == "unchanged" and d["previous_state"] == "serving"'
sd_pid $WORK/o $WORK/e resume
check "resume while serving says so ($(cat $WORK/e))" grep -qx "already serving" $WORK/e

echo "-- a drain, then a second one that changes what it names"
sd_pid $WORK/o $WORK/e drain --deadline 1h --retry-after 120 --allow REGISTER --json
check "drain --json: started from serving, exit $LAST_RC" valid drain $WORK/o \
	'd["result"] == "started" and d["previous_state"] == "serving" and d["settings"]["retry_after"] == 120 and d["settings"]["allow"] == ["REGISTER"] and 3590 < d["settings"]["deadline_seconds_left"] <= 3600'
check "run logged the drain with its settings and who (pid $LAST_PID)" \
	logged "${STAMP}drain started by pid $LAST_PID \(uid 0\): deadline in 3600 s \(then BYE to calls still up\), early offline on, Retry-After 120, jitter 0 s, allowed methods REGISTER"
check "status --json, draining, Retry-After fixed: valid" status_valid fixed \
	'd["state"] == "draining" and d["retry_after_mode"] == "fixed" and d["retry_after"] == 120'
sleep 1
sd_pid $WORK/o $WORK/e drain --deadline 5m
check "a second drain says what changed ($(head -1 $WORK/e))" \
	grep -Eq '^already draining for [0-9]+ s; deadline now in 300 s \(was in 35[0-9]{2} s\)$' $WORK/e
check "run logged the change (pid $LAST_PID)" \
	logged "${STAMP}drain changed by pid $LAST_PID \(uid 0\): deadline now in 300 s \(was in 35[0-9]{2} s\)$"
check "... and kept what it did not name (Retry-After 120, REGISTER allowed)" status_valid kept \
	'd["retry_after"] == 120 and "REGISTER" in d["allow"] and 290 < d["deadline_seconds_left"] <= 300'
sd_pid $WORK/o $WORK/e drain --retry-after auto --json
check "drain --json on a draining node: changed [retry_after], previous settings given" valid drain $WORK/o \
	'd["result"] == "changed" and d["changed"] == ["retry_after"] and d["previous"]["retry_after"] == 120 and d["settings"]["retry_after_mode"] == "auto"'
check "status --json, draining, Retry-After auto: valid, seconds as a number" status_valid auto \
	'd["retry_after_mode"] == "auto" and 290 < d["retry_after"] <= 300'
sd_pid $WORK/o $WORK/e drain
check "a drain that names nothing changes nothing ($(head -1 $WORK/e))" \
	grep -Eq '^already draining for [0-9]+ s; nothing changed$' $WORK/e
sd_pid $WORK/o $WORK/e drain --json
check "... --json: unchanged" valid drain $WORK/o 'd["result"] == "unchanged" and d["changed"] == []'
sd_pid $WORK/o $WORK/e drain --at-deadline refuse
check "--at-deadline refuse on a running drain ($(head -1 $WORK/e))" \
	grep -Eq '^already draining for [0-9]+ s; at the deadline now refuse \(was bye\)$' $WORK/e
check "status --json says so" status_valid refuse 'd["at_deadline"] == "refuse" and d["bye"]["calls"] == 0'
sd_pid $WORK/o $WORK/e drain --at-deadline bye --json
check "... and back: changed [at_deadline]" valid drain $WORK/o \
	'd["changed"] == ["at_deadline"] and d["settings"]["at_deadline"] == "bye"'
sd_pid $WORK/o $WORK/e drain --deadline off
check "removing the deadline while Retry-After is auto: refused, exit 2 ($(cat $WORK/e))" \
	bash -c '[ $0 -eq 2 ] && grep -q "the running drain has none" $1' $LAST_RC $WORK/e
sd_pid $WORK/o $WORK/e drain --deadline off --retry-after 60
check "--deadline off with a fixed Retry-After: accepted ($(head -1 $WORK/e))" \
	grep -Eq '^already draining for [0-9]+ s; no deadline now \(was in [0-9]+ s\); Retry-After now 60 \(was auto\)$' $WORK/e
check "status --json, draining without deadline: valid" status_valid nodeadline \
	'd["deadline_seconds_left"] is None and d["deadline_unix"] is None and d["retry_after"] == 60'

echo "-- offline, drain refused, --again, resume"
sd_pid $WORK/o $WORK/e drain --deadline 1s --no-early-offline
check "drain at the deadline goes offline" wait_state offline 4
check "run logged the switch" logged "${STAMP}offline: deadline reached, 0 calls cut"
check "status --json, offline by the deadline: valid" status_valid offline_deadline \
	'd["state"] == "offline" and d["offline_reason"] == "deadline"'
sd_pid $WORK/o $WORK/e drain --deadline 10m
check "drain on an offline node: refused, exit 1, one line naming --again ($(cat $WORK/e))" \
	bash -c '[ $0 -eq 1 ] && [ $(wc -l < $1) -eq 1 ] && grep -q "is offline.*drain --again" $1 && [ ! -s $2 ]' \
	$LAST_RC $WORK/e $WORK/o
check "... and the node stays offline" state_is offline
sd_pid $WORK/o $WORK/e drain --again --deadline 1h --json
check "drain --again: a new drain from offline" valid drain $WORK/o \
	'd["result"] == "started" and d["previous_state"] == "offline" and d["settings"]["retry_after"] == 300 and d["settings"]["early_offline"]'
check "run logged the new drain (pid $LAST_PID)" \
	logged "${STAMP}drain started again by pid $LAST_PID \(uid 0\) after [0-9]+ s offline: deadline in 3600 s"
sleep 1
sd_pid $WORK/o $WORK/e resume
check "resume says which state it left ($(cat $WORK/e))" grep -Eqx 'serving \(was draining for [0-9]+ s\)' $WORK/e
check "run logged the resume (pid $LAST_PID)" \
	logged "${STAMP}resumed by pid $LAST_PID \(uid 0\): serving again after [0-9]+ s draining$"
in_s "$SD" drain --deadline 1s --no-early-offline >/dev/null 2>&1
wait_state offline 4
sd_pid $WORK/o $WORK/e resume --json
check "resume --json from offline: valid" valid resume $WORK/o \
	'd["result"] == "resumed" and d["previous_state"] == "offline" and d["previous_state_seconds"] >= 0'

echo "-- drain --wait into a pipe, and its JSON lines"
sd_pid $WORK/o $WORK/e drain --deadline 3s --min-watch 0 --no-early-offline --wait
check "drain --wait exits 0 with no call left (got $LAST_RC)" test $LAST_RC -eq 0
check "its progress lines carry a time stamp ($(grep -m1 draining: $WORK/e))" \
	grep -Eq "${STAMP}draining: 0 calls left" $WORK/e
in_s "$SD" resume >/dev/null 2>&1
sd_pid $WORK/o $WORK/e drain --deadline 2s --min-watch 0 --wait --json
check "drain --wait --json: two lines, both valid, the second the outcome (exit $LAST_RC)" valid drain $WORK/o \
	'len(lines) == 2 and json.loads(lines[0])["result"] == "started" and d["result"] == "offline" and d["offline_reason"] == "last_call"'
check "status --json, offline by the last call: valid" status_valid offline_last \
	'd["state"] == "offline" and d["offline_reason"] == "last_call"'
in_s "$SD" resume >/dev/null 2>&1

echo "-- run under journald: priority prefixes, no time stamp"
kill $RUN; wait_gone $RUN 5
# JOURNAL_STREAM names stderr's device and inode, as systemd sets it
nsenter --net=/run/netns/$NS_S bash -c 'exec 2>"$1"; JOURNAL_STREAM=$(stat -L -c "%d:%i" /proc/self/fd/2) exec "$2" run "$3"' \
	_ $WORK/journal.log "$SD" $VS & PIDS+=($!)
RUN=${PIDS[-1]}
check "run adopts the gate" wait_responder
sd_pid $WORK/o $WORK/e drain --deadline 1h
for i in $(seq 30); do grep -q "drain started" $WORK/journal.log && break; sleep 0.1; done
check "lines start with <6> (info), no time stamp ($(grep -m1 'drain started' $WORK/journal.log | cut -c1-60))" \
	bash -c 'grep -Eq "^<6>drain started by pid $1 " $2 && ! grep -Evq "^<[0-9]>" $2' _ $LAST_PID $WORK/journal.log
in_s "$SD" resume >/dev/null 2>&1
kill $RUN; wait_gone $RUN 5
check "detach" in_s "$SD" detach
finish
