#!/bin/bash
# What ships beside the binary (user/dist/): the man page, the bash
# completion and the Kubernetes manifests, checked against what the binary
# accepts.  The option sets come from 'sipdrain [CMD] --help', so an option
# added to a table without its man page entry or completion fails here.
# The direction is "every option --help prints is documented and
# completed"; options documented but not (yet) in the binary are only
# noted.  Needs no network namespace and no gate.
. "$(dirname "$0")/lib.sh"

need scdoc man python3 bash
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is missing"
[ -x "$SD" ] || { echo "dist_test: $SD not built"; exit 1; }
# SD_DIST: another copy of user/dist (to see a check fail on a broken one)
DIST=${SD_DIST:-$ROOT/user/dist}
COMP=$DIST/sipdrain.bash
CMDS="run attach detach drain resume status classify"

# ---- the option sets, from --help ------------------------------------
# $WORK/opts: one line per option, "CONTEXT LONG SHORT KIND": CONTEXT
# 'global' or a command, SHORT '-' when none, KIND flag, value or optional.
helpopts() {
	python3 - "$SD" $CMDS <<'EOF'
import re, subprocess, sys
sd, cmds = sys.argv[1], sys.argv[2:]
spec = re.compile(r'^  (?:-([A-Za-z0-9]),|   ) --([a-z0-9][a-z0-9-]*)(\[=[^\]]*\]| [^ ]+)?(?:  |$)')
for ctx in ["global"] + cmds:
    out = subprocess.run([sd] + ([] if ctx == "global" else [ctx]) + ["--help"],
                         capture_output=True, text=True, check=True).stdout
    n = 0
    for line in out.splitlines():
        m = spec.match(line)
        if not m:
            continue
        kind = "flag" if not m.group(3) else "optional" if m.group(3).startswith("[") else "value"
        print(ctx, m.group(2), m.group(1) or "-", kind)
        n += 1
    if n == 0:
        sys.exit("no options found in 'sipdrain %s --help'" % ctx)
EOF
}
if helpopts > $WORK/opts 2>$WORK/opts.err; then
	ok "option sets from --help: $(wc -l < $WORK/opts) options in $(echo global $CMDS | wc -w) contexts"
else
	fail "option sets from --help: $(cat $WORK/opts.err)"
fi
# every command 'sipdrain --help' lists
"$SD" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' > $WORK/commands
check "commands from 'sipdrain --help': $(tr '\n' ' ' < $WORK/commands)" \
	bash -c "[ \"\$(tr '\n' ' ' < $WORK/commands)\" = 'run attach detach drain resume status classify version ' ]"
longs()  { awk -v c="$1" '$1 == c { print "--" $2 }' $WORK/opts; }
shorts() { awk -v c="$1" '$1 == c && $3 != "-" { print "-" $3 }' $WORK/opts; }

# ---- the man page ----------------------------------------------------
MAN=$WORK/sipdrain.8
scdoc < $DIST/sipdrain.8.scd > $MAN 2>$WORK/scdoc.err
check "the man page builds (scdoc, no message)" test $? -eq 0 -a -s $MAN -a ! -s $WORK/scdoc.err
MANWIDTH=80 man --warnings -l $MAN > $WORK/man.txt 2>$WORK/man.err
check "man --warnings prints nothing$([ -s $WORK/man.err ] && echo ": $(head -3 $WORK/man.err | tr '\n' '|')")" \
	test ! -s $WORK/man.err -a -s $WORK/man.txt
if [ -e "$ROOT/build/sipdrain.8" ]; then
	check "build/sipdrain.8 is the one the source makes (make man)" \
		bash -c "diff <(grep -v '^\.TH' $MAN) <(grep -v '^\.TH' '$ROOT/build/sipdrain.8') >/dev/null"
fi
# The roff source as text, one line per input line: fonts and escapes
# removed; sections by .SH and .SS.
sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\(aq/'"'"'/g' $MAN > $WORK/man.plain
# section TITLE-REGEX: the lines of the .SS (command) or .SH whose title
# starts so, up to the next heading
section() {
	awk -v re="$1" '
		/^\.S[HS] / { t = $0; sub(/^\.S[HS] "?/, "", t); on = (t ~ ("^" re)) ; next }
		on' $WORK/man.plain
}
has_opt() { grep -qE -- "(^|[^a-z0-9-])$1([^a-z0-9-]|\$)"; }
for c in $(cat $WORK/commands); do
	check "man page: command '$c' has its section" bash -c "grep -qE '^\.SS \"?$c( |\"|\$)' $WORK/man.plain"
done
for ctx in global $CMDS; do
	case $ctx in
	global) sec=$(section "GLOBAL OPTIONS") ;;
	run)    sec=$(section "(run|attach)( |\"|$)") ;;   # run takes attach's options
	*)      sec=$(section "$ctx( |\"|$)") ;;
	esac
	missing=
	for o in $(longs $ctx) $(shorts $ctx); do
		# --help and -h: once, among the global options
		case $o in --help|-h) [ $ctx = global ] || continue ;; esac
		echo "$sec" | has_opt "$o" || missing+=" $o"
	done
	check "man page, ${ctx}: every option --help prints is described${missing:+ (missing:$missing)}" \
		test -z "$missing"
	# documented, not in this binary: said, not failed (options being added)
	extra=$(echo "$sec" | grep -E '^-' | grep -oE -- '(^|[^a-z0-9-])--[a-z][a-z0-9-]*' | sed 's/^[^-]//' | sort -u |
		while read -r o; do longs $ctx | grep -qxF -- "$o" || echo -n " $o"; done)
	[ -n "$extra" ] && [ $ctx != run ] && [ $ctx != global ] &&
		echo "  note man page, $ctx: mentions options this binary lacks:$extra"
done
for s in "EXIT STATUS" "ENVIRONMENT" "FILES" "SIGNALS" "EXAMPLES" "DURATIONS"; do
	check "man page has a section $s" bash -c "grep -q '^\.SH \"\\?$s' $WORK/man.plain"
done
for w in SIPDRAIN_PIN_DIR SIPDRAIN_REASON SIPDRAIN_CALLS_CUT /sys/fs/bpf/sipdrain /etc/default/sipdrain \
	 SIGTERM /ready /healthz; do
	check "man page names $w" grep -qF -- "$w" $WORK/man.plain
done
check "man page: exit statuses 0, 1, 2 and 3" \
	bash -c "[ \"\$(awk '/^\.SH \"?EXIT STATUS/ { on = 1; next } /^\.SH/ { on = 0 } on && /^[0-3]\$/' $WORK/man.plain | tr '\n' ' ')\" = '0 1 2 3 ' ]"
check "man page: duration units ms, s, m, h, d and the 7-day bound" \
	bash -c "section() { awk '/^\.SH / { on = /DURATIONS/; next } on' $WORK/man.plain; }; s=\$(section); for u in ms s m h d; do echo \"\$s\" | grep -qw \$u || exit 1; done; echo \"\$s\" | grep -q '7 days'"

# ---- the bash completion ---------------------------------------------
BC=/usr/share/bash-completion/bash_completion
out=$(bash -c "source $BC 2>/dev/null; source '$COMP'; complete -p sipdrain" 2>&1)
check "the completion loads in bash: '$out'" test "$out" = "complete -F _sipdrain sipdrain"
out=$(bash -c "set -u; source '$COMP' && complete -p sipdrain" 2>&1)
check "the completion loads without bash-completion and under set -u" test "$out" = "complete -F _sipdrain sipdrain"
# comp WORD...: what completing the last word offers, one per line
# (COMP_WORDS and COMP_CWORD as bash sets them; '=' is a word of its own)
comp() {
	bash -c '
		source '"$BC"' 2>/dev/null; source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_sipdrain; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP" "$@" 2>&1
}
# subset LIST-FILE WORDS-FILE: the words of LIST missing from WORDS
missing_from() { grep -vxF -f "$2" "$1" | tr '\n' ' '; }

comp sipdrain "" | sort > $WORK/c.cmds
check "'sipdrain <TAB>': the commands ($(tr '\n' ' ' < $WORK/c.cmds))" \
	bash -c "diff <(sort $WORK/commands) $WORK/c.cmds >/dev/null"
for ctx in global $CMDS; do
	if [ $ctx = global ]; then words=(sipdrain); else words=(sipdrain $ctx); fi
	longs $ctx > $WORK/want.long
	comp "${words[@]}" -- > $WORK/got.long
	m=$(missing_from $WORK/want.long $WORK/got.long)
	check "'${words[*]} --<TAB>' offers every long option --help prints${m:+ (missing: $m)}" test -z "$m"
	extra=$(missing_from $WORK/got.long $WORK/want.long)
	[ -n "$extra" ] && echo "  note completion, $ctx: offers options this binary lacks: $extra"
	shorts $ctx > $WORK/want.short
	comp "${words[@]}" - | grep -v '^--' > $WORK/got.short
	m=$(missing_from $WORK/want.short $WORK/got.short)
	check "'${words[*]} -<TAB>' offers every short option${m:+ (missing: $m)}" test -z "$m"
	# which options take a value, as --help says: what follows them is
	# a value, not an operand
	wrong=$(awk -v c=$ctx '$1 == c { print $2, $3, $4 }' $WORK/opts | while read -r l s k; do
		for o in --$l $([ "$s" != - ] && echo -$s); do
			bash -c 'source "$1"; _sipdrain_takes_value "$2" "$3"' _ "$COMP" $ctx $o
			got=$?
			if [ $k = value ] && [ $got -ne 0 ]; then echo -n " $o(takes a value)"; fi
			if [ $k != value ] && [ $got -eq 0 ]; then echo -n " $o(takes none)"; fi
		done
	done)
	check "completion, $ctx: options take a value exactly as --help says${wrong:+ (not:$wrong)}" test -z "$wrong"
done
check "'sipdrain drain --retry-after <TAB>' offers auto" grep -qx auto <<< "$(comp sipdrain drain --retry-after "")"
check "'sipdrain drain --retry-after=<TAB>' offers auto" grep -qx auto <<< "$(comp sipdrain drain --retry-after = "")"
check "'sipdrain drain -r a<TAB>' completes auto" test "$(comp sipdrain drain -r a)" = auto
check "'sipdrain attach --mode <TAB>': native, skb" test "$(comp sipdrain attach --mode "" | tr '\n' ' ')" = "native skb "
check "'sipdrain classify --state <TAB>': serving, draining, offline" \
	test "$(comp sipdrain classify --state "" | tr '\n' ' ')" = "serving draining offline "
check "'sipdrain drain --deadline <TAB>' suggests durations (and off)" \
	bash -c '[ -n "$1" ] && ! grep -vqE "^([0-9]+(ms|s|m|h|d)?|off)$" <<< "$1"' _ "$(comp sipdrain drain --deadline "")"
check "'sipdrain drain --at-deadline <TAB>': bye, refuse" \
	test "$(comp sipdrain drain --at-deadline "" | tr '\n' ' ')" = "bye refuse "
check "'sipdrain drain --allow <TAB>' offers REGISTER" grep -qx REGISTER <<< "$(comp sipdrain drain --allow "")"
for c in run attach detach; do
	check "'sipdrain $c <TAB>' offers the interface lo" grep -qx lo <<< "$(comp sipdrain $c "")"
done
check "'sipdrain run --port 5060 --metrics 127.0.0.1:9560 l<TAB>': lo (values skipped)" \
	grep -qx lo <<< "$(comp sipdrain run --port 5060 --metrics 127.0.0.1:9560 l)"
check "'sipdrain --pin-dir /sys/fs/bpf/x attach <TAB>': lo" grep -qx lo <<< "$(comp sipdrain --pin-dir /sys/fs/bpf/x attach "")"
check "'sipdrain attach --port <TAB>': a port, no interface" \
	bash -c '[ -n "$1" ] && ! grep -qx lo <<< "$1"' _ "$(comp sipdrain attach --port "")"
mkdir -p $WORK/caps && touch $WORK/caps/a.pcap $WORK/caps/b.pcapng $WORK/caps/notes.txt
check "'sipdrain classify --pcap DIR/<TAB>': captures only" \
	test "$(comp sipdrain classify --pcap $WORK/caps/ | sort | tr '\n' ' ')" = "$WORK/caps/a.pcap $WORK/caps/b.pcapng "
check "'sipdrain classify DIR/<TAB>': every file" \
	test "$(comp sipdrain classify $WORK/caps/ | wc -l)" -eq 3

# ---- make install ----------------------------------------------------
# into a staging root, nothing rebuilt (-o: taken as up to date)
if [ -e "$ROOT/build/sipdrain.8" ]; then
	make -s -C "$ROOT" install DESTDIR=$WORK/root PREFIX=/usr \
		-o build/sipdrain -o build/sipdrain.8 > $WORK/install.out 2>&1
	check "make install puts the man page and the completion in place" \
		test -s $WORK/root/usr/share/man/man8/sipdrain.8 -a -s $WORK/root/usr/share/bash-completion/completions/sipdrain
else
	fail "build/sipdrain.8 missing: 'make' builds it"
fi

# ---- the Kubernetes manifests ----------------------------------------
python3 - "$DIST/kubernetes" $WORK/opts > $WORK/k8s.out 2>&1 <<'EOF'
import glob, os, re, shlex, sys
import yaml

kdir, optsfile = sys.argv[1], sys.argv[2]
opts = {}                                   # ctx -> {"--long"/"-s": kind}
for line in open(optsfile):
    ctx, long, short, kind = line.split()
    d = opts.setdefault(ctx, {})
    d["--" + long] = kind
    if short != "-":
        d["-" + short] = kind

def say(ok, what):
    print(("ok   " if ok else "FAIL ") + what)

def seconds(d):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", d)
    if not m:
        return None
    return int(m.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]

def sipdrain_lines(argv):
    """sipdrain command lines in a command+args array: itself, or the
    simple commands of a 'sh -c' script"""
    if not argv:
        return []
    if os.path.basename(argv[0]) in ("sh", "bash") and "-c" in argv:
        script = " ".join(argv[argv.index("-c") + 1:][:1])
        out = []
        for line in script.splitlines():
            lex = shlex.shlex(line, posix=True, punctuation_chars=True)
            lex.whitespace_split = True
            lex.commenters = "#"
            cmd = []
            for t in list(lex) + [";"]:
                if t in (";", "&", "&&", "||", "|", "(", ")", ";;"):
                    while cmd and cmd[0] in ("if", "then", "else", "do", "while", "until", "!", "exec"):
                        cmd.pop(0)
                    if cmd and os.path.basename(cmd[0]) == "sipdrain":
                        out.append(cmd)
                    cmd = []
                else:
                    cmd.append(t)
        return out
    return [argv] if os.path.basename(argv[0]) == "sipdrain" else []

def parse(line):
    """(command, {option: value or True}, bad options) of a sipdrain line"""
    ctx, cmd, got, bad, i = "global", None, {}, [], 1
    while i < len(line):
        w = line[i]
        if w.startswith("-") and w != "-":
            name, eq, val = w.partition("=")
            kind = opts.get(ctx, {}).get(name)
            if kind is None:
                bad.append("%s %s" % (cmd or "", w))
            elif kind == "value" and not eq:
                i += 1
                val = line[i] if i < len(line) else None
            got[name] = val if (eq or kind == "value") else True
        elif cmd is None:
            cmd = ctx = w
            if ctx not in opts:
                bad.append("unknown command " + w)
        i += 1
    return cmd, got, bad

files = sorted(glob.glob(os.path.join(kdir, "*.yaml")) + glob.glob(os.path.join(kdir, "*.yml")))
say(len(files) >= 2, "manifests: %s" % " ".join(os.path.basename(f) for f in files))
pods = []                                   # (file, kind, name, pod spec)
for f in files:
    try:
        docs = [d for d in yaml.safe_load_all(open(f)) if d]
    except yaml.YAMLError as e:
        say(False, "%s parses: %s" % (os.path.basename(f), e))
        continue
    say(bool(docs), "%s parses (%s)" % (os.path.basename(f), ", ".join(d.get("kind", "?") for d in docs)))
    for d in docs:
        spec = d.get("spec", {})
        pod = spec if d.get("kind") == "Pod" else spec.get("template", {}).get("spec")
        if pod:
            pods.append((os.path.basename(f), d.get("kind"), d.get("metadata", {}).get("name"), pod))

say(any(k == "DaemonSet" and p.get("hostNetwork") is True for _, k, _, p in pods),
    "a DaemonSet with hostNetwork: true")
say(any(any(c.get("restartPolicy") == "Always" for c in p.get("initContainers", [])) and p.get("containers")
        for _, _, _, p in pods),
    "a native sidecar: initContainers[].restartPolicy Always beside the server's containers")

prestop_drain = False
for f, kind, name, pod in pods:
    where = "%s %s/%s" % (f, kind, name)
    containers = pod.get("initContainers", []) + pod.get("containers", [])
    bpf_vols = {v["name"] for v in pod.get("volumes", [])
                if v.get("hostPath", {}).get("path") == "/sys/fs/bpf"
                and v["hostPath"].get("type") == "Directory"}
    drains, runs, bad, prestops = [], [], [], 0
    for c in containers:
        argvs = [("command", (c.get("command") or []) + (c.get("args") or []))]
        hook = c.get("lifecycle", {}).get("preStop", {})
        if hook:
            prestops += 1
            argvs.append(("preStop", hook.get("exec", {}).get("command") or []))
        uses = False
        for src, argv in argvs:
            for line in sipdrain_lines([str(a) for a in argv]):
                uses = True
                cmd, got, b = parse(line)
                bad += ["%s: %s" % (c["name"], x) for x in b]
                if cmd == "drain":
                    drains.append((c["name"], src, got))
                if cmd == "run":
                    runs.append((c, got))
        if uses:
            mounted = {m["name"] for m in c.get("volumeMounts", []) if m.get("mountPath") == "/sys/fs/bpf"}
            say(bool(mounted & bpf_vols), "%s: %s mounts the node's /sys/fs/bpf (hostPath, Directory)" % (where, c["name"]))
            caps = set(c.get("securityContext", {}).get("capabilities", {}).get("add", []))
            need = {"BPF", "NET_ADMIN", "NET_RAW", "SYS_ADMIN"}
            say(need <= caps, "%s: %s adds capabilities %s%s" % (where, c["name"], " ".join(sorted(need)),
                "" if need <= caps else " (missing: %s)" % " ".join(sorted(need - caps))))
    say(not bad, "%s: every sipdrain option is one --help lists%s" % (where, "" if not bad else " (not: %s)" % "; ".join(bad)))
    say(bool(runs), "%s: runs 'sipdrain run'" % where)
    for c, got in runs:
        addr = got.get("--metrics") or got.get("-M")
        port = addr and addr.rsplit(":", 1)[-1]
        probe = c.get("readinessProbe", {}).get("httpGet", {})
        live = c.get("livenessProbe", {}).get("httpGet", {})
        say(bool(addr) and not addr.startswith(("127.", "[::1]", "localhost")) and ":" in addr,
            "%s: run --metrics %s listens where the kubelet probes" % (where, addr))
        say(probe.get("path") == "/ready" and str(probe.get("port")) == port,
            "%s: readinessProbe httpGet /ready on the --metrics port (%s, %s)" % (where, probe.get("path"), probe.get("port")))
        say(live.get("path") == "/healthz" and str(live.get("port")) == port,
            "%s: livenessProbe httpGet /healthz on the --metrics port" % where)
    say(prestops > 0, "%s: a preStop hook" % where)
    say(bool(drains), "%s: runs 'sipdrain drain'" % where)
    grace = pod.get("terminationGracePeriodSeconds")
    for cname, src, got in drains:
        if src == "preStop":
            prestop_drain = prestop_drain or "--wait" in got or "-w" in got
        dl = got.get("--deadline") or got.get("-D")
        s = seconds(dl) if isinstance(dl, str) else None
        say(("--wait" in got or "-w" in got) and s is not None,
            "%s: %s drains with --deadline (%s) and --wait (%s)" % (where, cname, dl, src))
        say(s is not None and isinstance(grace, int) and grace > s,
            "%s: terminationGracePeriodSeconds %s > the deadline %s s" % (where, grace, s))
say(prestop_drain, "a preStop exec runs 'sipdrain drain ... --wait'")
EOF
rc=$?
while IFS= read -r l; do
	case $l in
	"ok   "*) ok "k8s: ${l#ok   }" ;;
	"FAIL "*) fail "k8s: ${l#FAIL }" ;;
	*) fail "k8s: $l" ;;
	esac
done < $WORK/k8s.out
[ $rc -eq 0 ] || fail "k8s: the manifest checker exited $rc"

# The sidecar's drain handshake, run: the sidecar's script and the SIP
# server's preStop under sh, with a stand-in sipdrain that logs its
# arguments (run waits for SIGTERM, drain takes a second and exits 3).
python3 - "$DIST/kubernetes/sidecar.yaml" $WORK/hs <<'EOF' > $WORK/hs.err 2>&1
import os, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
pod, hs = d["spec"]["template"]["spec"], sys.argv[2]
side = [c for c in pod["initContainers"] if c.get("restartPolicy") == "Always"][0]
vol = [m for m in side["volumeMounts"] if m["mountPath"] != "/sys/fs/bpf"][0]
pre = [c["lifecycle"]["preStop"]["exec"]["command"] for c in pod["containers"] if "lifecycle" in c][0]
os.makedirs(hs + "/dir", exist_ok=True)
open(hs + "/sidecar.sh", "w").write(side["args"][0].replace(vol["mountPath"], hs + "/dir"))
open(hs + "/prestop.sh", "w").write(pre[-1].replace(vol["mountPath"], hs + "/dir"))
EOF
mkdir -p $WORK/hs/bin
cat > $WORK/hs/bin/sipdrain <<EOF
#!/bin/sh
echo "\$*" >> $WORK/hs/log
case \$1 in
run) trap 'echo run stopped >> $WORK/hs/log; exit 0' TERM; while :; do sleep 0.1; done ;;
drain) sleep 1; exit 3 ;;
esac
EOF
chmod +x $WORK/hs/bin/sipdrain
if [ -s $WORK/hs/sidecar.sh ] && [ -s $WORK/hs/prestop.sh ]; then
	PATH=$WORK/hs/bin:$PATH sh $WORK/hs/sidecar.sh & side=$!
	sleep 0.5
	timeout 10 sh $WORK/hs/prestop.sh; pre=$?
	kill -TERM $side; wait $side; srv=$?
	check "sidecar handshake: the server's preStop returns once the drain is over (exit $pre)" test $pre -eq 0
	check "sidecar handshake: drain --wait ran, its status kept ($(cat $WORK/hs/dir/drained 2>/dev/null))" \
		test "$(cat $WORK/hs/dir/drained 2>/dev/null)" = 3
	check "sidecar handshake: run, drain, SIGTERM to run, detach, in that order; exit $srv" \
		bash -c "[ $srv -eq 0 ] && [ \"\$(cut -d' ' -f1,2 $WORK/hs/log | tr '\n' ,)\" = 'run eth0,drain --deadline,run stopped,detach,' ]"
else
	fail "sidecar handshake: scripts not found in sidecar.yaml ($(cat $WORK/hs.err))"
fi

finish
