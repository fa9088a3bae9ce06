#!/bin/bash
# The CLI's contract: --help on every subcommand; every error is one
# clear line on stderr and a non-zero exit.
. "$(dirname "$0")/lib.sh"

# expect_error DESCRIPTION PATTERN COMMAND...: non-zero exit (exactly
# $WANT_RC when set), exactly one line on stderr, matching PATTERN,
# nothing on stdout.
expect_error() {
	local d=$1 pat=$2; shift 2
	"$@" >$WORK/out 2>$WORK/err
	local rc=$? lines
	lines=$(wc -l <$WORK/err)
	if [ $rc -ne 0 ] && [ $rc -eq "${WANT_RC:-$rc}" ] && [ "$lines" -eq 1 ] &&
	   grep -q -- "$pat" $WORK/err && [ ! -s $WORK/out ]; then
		ok "$d (exit $rc): $(cat $WORK/err)"
	else
		fail "$d (exit $rc${WANT_RC:+, want $WANT_RC}, $lines stderr lines: $(head -3 $WORK/err | tr '\n' '|'))"
	fi
}
# expect_usage: the same, a usage error: exit 2
expect_usage() { WANT_RC=2 expect_error "$@"; }

for c in run attach detach drain resume status classify; do
	out=$("$SD" $c --help 2>&1); rc=$?
	check "$c --help exits 0 with usage" test $rc -eq 0 -a "${out#Usage: sipdrain $c}" != "$out"
done
check "sipdrain --help" bash -c "'$SD' --help | grep -q classify"
for v in --version version; do
	out=$("$SD" $v 2>&1); rc=$?
	check "sipdrain $v: exit $rc, '$out'" bash -c '[ $1 -eq 0 ] && [[ "$2" =~ ^sipdrain\ [^\ ]+\ \(pin\ ABI\ [0-9]+,\ libbpf\ [^,]+,\ libxdp\ [0-9.]+\)$ ]]' _ $rc "$out"
done
# one letter, one option: a short option means the same in every command
# (and in sipdrain's own options)
clash=$(for c in "" run attach detach drain resume status classify; do "$SD" $c --help; done |
	sed -n 's/^  -\(.\), --\([a-z-]*\).*/\1 \2/p' | sort -u |
	awk '{ n[$1]++; o[$1] = o[$1] " --" $2 } END { for (l in n) if (n[l] > 1) printf "-%s:%s; ", l, o[l] }')
check "each short option means one long option in every command${clash:+ (not: $clash)}" test -z "$clash"

expect_usage "no command"            "no command given"  "$SD"
expect_usage "unknown command"       "unknown command"   "$SD" frobnicate
expect_usage "unknown global option" "unknown option"    "$SD" --frob status
expect_usage "attach without iface"  "at least one interface" "$SD" attach
expect_usage "bad port"              "invalid port"      "$SD" attach lo --port 0
expect_error "port not a number"     "invalid port"      "$SD" attach lo --port 50x
expect_error "bad mode"              "invalid mode"      "$SD" attach lo --mode turbo
expect_error "unknown option"        "unknown option\|bad option" "$SD" attach --frob lo
expect_usage "missing option value"  "needs a value\|bad option" "$SD" drain --retry-after
expect_error "no such interface"     "no such interface: nosuch0" "$SD" attach nosuch0
expect_usage "run without iface"     "at least one interface" "$SD" run
expect_error "run, no such interface" "no such interface: nosuch0" "$SD" run nosuch0
expect_usage "run, unsafe reason"    "invalid reason"    "$SD" run lo --reason 'a"b'
expect_usage "run, bad coalesce"     "invalid coalesce-us" "$SD" run lo --coalesce-us x
expect_usage "run, reason+server past the 256-byte bound" "at most 63 characters" \
	"$SD" run lo --reason "$(printf 'r%.0s' $(seq 40))" --server "$(printf 's%.0s' $(seq 30))"
expect_usage "bad peer-window"       "invalid peer-window" "$SD" attach lo --peer-window soon
# durations: a whole number and a unit, at most 7 days; nothing else
for d in nan inf 0x10 1e3 -5 +5 5.5s 600000m 8d 169h 99999999999999999999 "" " 5" 10x; do
	expect_usage "deadline '$d' refused" "invalid deadline" "$SD" drain --deadline "$d"
done
expect_usage "--deadline off with --wait" "need --deadline" "$SD" drain --deadline off --wait
expect_usage "run, bad metrics address" "invalid metrics port" "$SD" run lo --metrics foo
expect_usage "run, metrics address not an IP" "invalid metrics address" "$SD" run lo --metrics 1.2.3:80
expect_usage "status --watch with a word" "unexpected argument" "$SD" status --watch x
expect_usage "resume with an argument" "unexpected argument" "$SD" resume now
expect_usage "bad --at-deadline" "invalid at-deadline" "$SD" drain --deadline 1m --at-deadline hangup
expect_usage "bad reply rate"        "invalid reply-rate" "$SD" attach lo --reply-rate fast
expect_usage "bad tcp port"          "invalid port"      "$SD" attach lo --tcp-port 70000
expect_usage "bad pin dir"           "invalid pin directory" "$SD" --pin-dir relative/dir status
expect_usage "methods are case-sensitive" "unknown method" "$SD" drain --allow invite
expect_usage "bad retry-after"       "invalid retry-after" "$SD" drain --retry-after -5
expect_usage "bad deadline"          "invalid deadline"  "$SD" drain --deadline 10x
expect_usage "zero deadline"         "invalid deadline"  "$SD" drain --deadline 0
expect_usage "bad watch interval"    "invalid watch interval" "$SD" status --watch=0
expect_usage "bad min-watch"         "invalid min-watch" "$SD" drain --min-watch soon
expect_usage "bad min-watch (attach)" "invalid min-watch" "$SD" attach lo --min-watch -1
expect_usage "classify without files" "at least one file" "$SD" classify
expect_usage "classify bad state"    "invalid state"     "$SD" classify --state paused x
expect_error "classify missing file" "nosuch.sip"        "$SD" classify /nonexistent/nosuch.sip
expect_error "classify bad capture"  "nosuch.pcap"       "$SD" classify --pcap /nonexistent/nosuch.pcap

# the two readings of the issue "the gate knows every live call"
out=$("$SD" classify --state draining "$ROOT/tests/data/long_headers_3k.sip" 2>&1)
check "classify: 3137 bytes of headers, To at byte 2707: a new INVITE, refused while draining ($out)" \
	bash -c "grep -q '\"kind\":\"request\",\"method\":\"INVITE\"' <<<'$out' && grep -q '\"verdict\":\"redirect\"' <<<'$out'"
out=$("$SD" classify --state draining "$ROOT/tests/data/start_line_folded.sip" 2>&1)
check "classify: a continuation right after the start line is unparsed and passes ($out)" \
	bash -c "grep -q '\"kind\":\"unparsed\"' <<<'$out' && grep -q '\"unparsed\":\"malformed\"' <<<'$out' && grep -q '\"verdict\":\"pass\"' <<<'$out'"

if [ -e $PIN_DIR ]; then
	fail "a gate is attached on this machine: cannot test 'nothing attached'"
else
	expect_error "status, nothing attached" "nothing attached" "$SD" status
	expect_error "drain, nothing attached"  "nothing attached" "$SD" drain
	expect_error "resume, nothing attached" "nothing attached" "$SD" resume
	expect_error "detach, nothing attached" "nothing attached" "$SD" detach
fi

# `make` builds only: something missing is named in one line, nothing installed
out=$(make -s -C "$ROOT" PKGS="libbpf nosuchlib-for-test" 2>&1 >/dev/null); rc=$?
check "make with a library missing: exit $rc, one line naming it ($out)" \
	bash -c '[ $1 -ne 0 ] && [ $(printf "%s\n" "$2" | wc -l) -eq 1 ] && [[ "$2" == *"missing: nosuchlib-for-test (as root: make deps)"* ]]' _ $rc "$out"

# make install into a staging root
make -s -C "$ROOT" install DESTDIR=$WORK/root PREFIX=/usr/local >/dev/null 2>&1
check "make install: binary, unit, environment file" test -x $WORK/root/usr/local/sbin/sipdrain -a \
	-f $WORK/root/usr/local/lib/systemd/system/sipdrain.service -a -f $WORK/root/etc/default/sipdrain
check "the unit runs the installed binary" grep -q '^ExecStart=/usr/local/sbin/sipdrain run \$SIPDRAIN_INTERFACES' \
	$WORK/root/usr/local/lib/systemd/system/sipdrain.service
check "the installed binary works" bash -c "$WORK/root/usr/local/sbin/sipdrain run --help | grep -q Usage"
check "make install: the JSON Schemas of status, drain and resume" test -f \
	$WORK/root/usr/local/share/sipdrain/schema/status.schema.json -a -f \
	$WORK/root/usr/local/share/sipdrain/schema/drain.schema.json -a -f \
	$WORK/root/usr/local/share/sipdrain/schema/resume.schema.json

# not root: as nobody
expect_error "status as non-root" "must run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$SD" status
expect_error "classify as non-root" "must run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$SD" classify "$ROOT/tests/data/lf_only.sip"

# already attached; XDP refused (a dummy device has no native XDP)
setup_pair 2 || { fail "namespaces"; finish; exit; }
# a bridge has no native XDP (ndo_bpf)
in_s ip link add sdd$ID type bridge && in_s ip link set sdd$ID up
expect_error "XDP refused" "XDP attach refused" in_s "$SD" attach sdd$ID --mode native
check "refused attach leaves no pins" test ! -e $PIN_DIR
check "attach" in_s "$SD" attach $VS
expect_error "already attached" "already attached" in_s "$SD" attach $VS
expect_error "detach an interface not attached" "not attached there" in_s "$SD" detach lo
# status --json is JSON in every state, Retry-After auto included
jsonok() {      # jsonok EXPR: status --json parses and EXPR (python, d) holds
	in_s "$SD" status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$1"
}
check "status --json, serving: valid, Retry-After fixed 300" \
	jsonok 'd["state"] == "serving" and d["retry_after_mode"] == "fixed" and d["retry_after"] == 300'
in_s "$SD" drain --deadline 1h --retry-after auto >/dev/null 2>&1
check "status --json, draining with Retry-After auto: valid, mode auto, the seconds left as a number" \
	jsonok 'd["state"] == "draining" and d["retry_after_mode"] == "auto" and 3590 <= d["retry_after"] <= 3600'
in_s "$SD" resume >/dev/null 2>&1
# --watch takes its interval as --watch=2 and as --watch 2
for w in "--watch 1" "--watch=1"; do
	out=$(timeout 2.5 nsenter --net=/run/netns/$NS_S "$SD" status $w 2>&1); rc=$?
	check "status $w: refreshes until stopped (exit $rc, $(printf '%s' "$out" | grep -c '^state') screens)" \
		bash -c '[ $1 -eq 124 ] && [ $(printf "%s\n" "$2" | grep -c "^state") -ge 2 ]' _ $rc "$out"
done
# options that need a deadline, against the drain's state: a new drain
# has none unless given, a running one may have one
expect_usage "--wait needs a deadline" "need --deadline" in_s "$SD" drain --wait
expect_usage "auto needs a deadline" "need --deadline"   in_s "$SD" drain --retry-after auto
in_s "$SD" drain --deadline 1h >/dev/null 2>&1
check "on a drain with a deadline, auto alone is accepted" in_s "$SD" drain --retry-after auto
expect_usage "removing the deadline of a drain with auto" "the running drain has none" \
	in_s "$SD" drain --deadline off
in_s "$SD" resume >/dev/null 2>&1
check "detach" in_s "$SD" detach
finish
