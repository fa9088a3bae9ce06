#!/usr/bin/python3
"""Run a systemd service unit's ExecStart= under the nearest equivalent of
its sandbox that can be built without systemd as PID 1, for
tests/systemd_test.sh.  Run as root, under `unshare --mount
--propagation private` (the mounts below stay in that namespace):

    unit_exec.py [--set KEY=VALUE]... [--env KEY=VALUE]... [--exe PATH]
                 [--env-file PATH] UNIT

--set replaces every KEY= of the unit's [Service] section (a drop-in);
--env adds to the environment (what Environment= would); --exe runs PATH
instead of ExecStart='s first word (the installed binary under DESTDIR);
--env-file reads that file instead of EnvironmentFile=.

What the unit says and how it is built here:
  EnvironmentFile=, ExecStart=  $VAR split into words, ${VAR} one word;
                        a clean environment (PATH, NOTIFY_SOCKET, the
                        file's variables, --env), WATCHDOG_USEC and
                        WATCHDOG_PID from WatchdogSec=
  ProtectSystem=strict, ReadWritePaths=, ProtectKernelTunables=,
  ProtectControlGroups=  every mount read-only (bind remount) but /dev,
                        /proc and the ReadWritePaths; /sys and /proc/sys
                        read-only with ProtectKernelTunables
  ProtectHome=yes       empty read-only tmpfs on /home, /root, /run/user
  PrivateTmp=yes        fresh tmpfs on /tmp and /var/tmp
  PrivateDevices=yes    a tmpfs /dev with null, zero, full, random,
                        urandom, tty (bind mounts) and an empty shm
  UMask=                umask
  LimitMEMLOCK=infinity setrlimit; where the hard limit cannot be raised
                        (no CAP_SYS_RESOURCE in this container) the
                        process gets CAP_IPC_LOCK instead, which lifts the
                        same limit for AF_XDP UMEMs (said on stderr)
  CapabilityBoundingSet=, AmbientCapabilities=, NoNewPrivileges=
                        setpriv (bounding, inheritable and ambient sets)
  SystemCallFilter=, SystemCallErrorNumber=, SystemCallArchitectures=,
  RestrictAddressFamilies=
                        a seccomp filter (python3-seccomp): the allow list
                        expanded by `systemd-analyze syscall-filter`, the
                        error number for the rest, socket() only for the
                        families named (EAFNOSUPPORT otherwise)
Not built: MemoryDenyWriteExecute, LockPersonality, RestrictNamespaces,
RestrictRealtime, RestrictSUIDSGID, ProtectClock, ProtectHostname,
ProtectKernelModules/Logs beyond the read-only mounts and the capability
set, ProtectProc.  The final stage (--stage2) loads the seccomp filter
and executes the binary through a descriptor opened before /tmp was
hidden.
"""
import errno
import os
import resource
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_unit(path, sets):
    svc = {}
    section = None
    with open(path) as f:
        lines = f.read().replace("\\\n", " ").splitlines()
    for line in lines:
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section != "Service" or "=" not in line:
            continue
        k, v = line.split("=", 1)
        svc.setdefault(k.strip(), []).append(v.strip())
    for kv in sets:
        k, v = kv.split("=", 1)
        svc[k] = [v] if v else []
    return svc


def env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            k, v = line.split("=", 1)
            w = shlex.split(v)
            env[k.strip()] = w[0] if w else ""
    return env


def expand_exec(line, env):
    """systemd's rules: $VAR alone is split at white space, ${VAR} is one
    word; a leading '-', '@', '+', '!' or ':' is not handled here."""
    out = []
    for word in shlex.split(line):
        if word.startswith("$") and not word.startswith("${"):
            out += shlex.split(env.get(word[1:], ""))   # systemd unquotes too
        elif word.startswith("${") and word.endswith("}"):
            out.append(env.get(word[2:-1], ""))
        else:
            out.append(word)
    return out


def seconds(v):
    units = {"ms": 0.001, "s": 1, "min": 60, "m": 60}
    for u in sorted(units, key=len, reverse=True):
        if v.endswith(u):
            return float(v[: -len(u)]) * units[u]
    return float(v)


def mount(*args):
    subprocess.run(["mount", *args], check=True)


def mountpoints():
    mps = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            mps.append(mp)
    return mps


def under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def build_mounts(svc):
    strict = svc.get("ProtectSystem", [""])[-1] == "strict"
    tunables = svc.get("ProtectKernelTunables", ["no"])[-1] == "yes"
    rw = [p.lstrip("-") for v in svc.get("ReadWritePaths", []) for p in v.split()]
    # a ReadWritePaths entry becomes a mount of its own, left writable
    mps = mountpoints()
    for p in rw:
        if p not in mps:
            mount("--bind", p, p)
    if tunables:
        mount("--bind", "/proc/sys", "/proc/sys")
    if strict:
        for mp in sorted(set(mountpoints()), key=len):
            if any(under(mp, p) for p in rw):
                continue
            if under(mp, "/dev") or (under(mp, "/proc") and not under(mp, "/proc/sys")):
                continue
            if under(mp, "/sys") and not tunables:
                continue
            subprocess.run(["mount", "-o", "remount,bind,ro", mp],
                           stderr=subprocess.DEVNULL)
    if svc.get("ProtectHome", ["no"])[-1] == "yes":
        for d in ("/home", "/root", "/run/user"):
            if os.path.isdir(d):
                mount("-t", "tmpfs", "-o", "ro,mode=0755", "tmpfs", d)
    if svc.get("PrivateTmp", ["no"])[-1] == "yes":
        for d in ("/tmp", "/var/tmp"):
            mount("-t", "tmpfs", "-o", "mode=1777", "tmpfs", d)
    if svc.get("PrivateDevices", ["no"])[-1] == "yes":
        keep = {}
        for n in ("null", "zero", "full", "random", "urandom", "tty"):
            keep[n] = os.open("/dev/" + n, os.O_PATH)
        mount("-t", "tmpfs", "-o", "mode=0755,nosuid", "tmpfs", "/dev")
        for n, fd in keep.items():
            open("/dev/" + n, "w").close()
            mount("--bind", "/proc/%d/fd/%d" % (os.getpid(), fd), "/dev/" + n)
            os.close(fd)
        os.mkdir("/dev/shm", 0o1777)
        mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", "/dev/shm")


CAPS = {"CAP_SYS_ADMIN": "sys_admin", "CAP_NET_ADMIN": "net_admin",
        "CAP_NET_RAW": "net_raw", "CAP_BPF": "bpf", "CAP_PERFMON": "perfmon",
        "CAP_IPC_LOCK": "ipc_lock", "CAP_DAC_OVERRIDE": "dac_override",
        "CAP_SYS_RESOURCE": "sys_resource", "CAP_KILL": "kill"}


def capnames(svc, key):
    out = []
    for v in svc.get(key, []):
        for c in v.split():
            out.append(CAPS.get(c, c.lower().replace("cap_", "")))
    return out


def seccomp_spec(svc):
    """'ERRNO;FAMILY,...;SYSCALL ...' for stage 2, or '' (no filter)."""
    allow = [a for v in svc.get("SystemCallFilter", []) for a in v.split()]
    if not allow:
        return ""
    if allow[0].startswith("~"):
        sys.exit("unit_exec: only an allow list is built (SystemCallFilter=~...)")
    names = subprocess.run([sys.executable, os.path.join(HERE, "syscall_set.py"), *allow],
                           capture_output=True, text=True, check=True).stdout.split()
    err = svc.get("SystemCallErrorNumber", ["EPERM"])[-1]
    fams = [a for v in svc.get("RestrictAddressFamilies", []) for a in v.split()]
    return "%s;%s;%s" % (err, ",".join(fams), " ".join(names))


def stage2(spec, exe_fd, argv, env):
    if spec:
        import seccomp
        import socket
        err, fams, names = spec.split(";")
        fams = [f for f in fams.split(",") if f]
        f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(getattr(errno, err)))
        for n in names.split():
            if n == "socket" and fams:
                continue
            try:
                f.add_rule(seccomp.ALLOW, n)
            except Exception:       # not a system call of this architecture
                pass
        for fam in fams:
            num = {"AF_XDP": 44}.get(fam) or getattr(socket, fam)
            f.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ, num))
        # socket() of another family: the default action (the error number)
        f.load()
    os.execve(exe_fd, argv, env)


def main():
    a = sys.argv[1:]
    sets, extra, exe, envf, s2 = [], {}, None, None, False
    while a and a[0].startswith("--"):
        o = a.pop(0)
        if o == "--set":
            sets.append(a.pop(0))
        elif o == "--env":
            k, v = a.pop(0).split("=", 1)
            extra[k] = v
        elif o == "--exe":
            exe = a.pop(0)
        elif o == "--env-file":
            envf = a.pop(0)
        elif o == "--stage2":
            s2 = True
        else:
            sys.exit(__doc__)
    if s2:
        # --stage2 FD ARGV...  (the filter in UNIT_EXEC_SECCOMP)
        env = dict(os.environ)
        stage2(env.pop("UNIT_EXEC_SECCOMP", ""), int(a[0]), a[1:], env)
        return
    unit = a[0]
    svc = parse_unit(unit, sets)
    fenv = env_file(envf or svc["EnvironmentFile"][-1].lstrip("-"))
    argv = expand_exec(svc["ExecStart"][-1], fenv)
    exe = exe or argv[0]
    exe_fd = os.open(exe, os.O_RDONLY | os.O_CLOEXEC)
    os.set_inheritable(exe_fd, True)
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    env.update(fenv)
    for k in ("NOTIFY_SOCKET",):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(extra)
    if svc.get("WatchdogSec") and svc["WatchdogSec"][-1] not in ("", "0", "infinity"):
        env["WATCHDOG_USEC"] = str(int(seconds(svc["WatchdogSec"][-1]) * 1e6))
        env["WATCHDOG_PID"] = str(os.getpid())      # every stage execs: the same pid
    env["UNIT_EXEC_SECCOMP"] = seccomp_spec(svc)

    caps = capnames(svc, "CapabilityBoundingSet")
    amb = capnames(svc, "AmbientCapabilities")
    if svc.get("LimitMEMLOCK", [""])[-1] == "infinity":
        inf = resource.RLIM_INFINITY
        try:
            resource.setrlimit(resource.RLIMIT_MEMLOCK, (inf, inf))
        except (ValueError, OSError):
            print("unit_exec: LimitMEMLOCK=infinity refused here (hard limit %d KiB, no "
                  "CAP_SYS_RESOURCE): CAP_IPC_LOCK instead" %
                  (resource.getrlimit(resource.RLIMIT_MEMLOCK)[1] // 1024), file=sys.stderr)
            if "ipc_lock" not in caps:
                caps.append("ipc_lock")
                amb.append("ipc_lock")
    if "UMask" in svc:
        os.umask(int(svc["UMask"][-1], 8))
    build_mounts(svc)
    sp = ["setpriv"]
    if "CapabilityBoundingSet" in svc:
        cs = ",".join(["-all"] + ["+" + c for c in caps])
        sp += ["--bounding-set=" + cs, "--inh-caps=" + cs]
        if amb:
            sp += ["--ambient-caps=" + ",".join(["-all"] + ["+" + c for c in amb if c in caps])]
    if svc.get("NoNewPrivileges", ["no"])[-1] == "yes":
        sp += ["--no-new-privs"]
    os.execve("/usr/bin/setpriv", sp + ["--", sys.executable, os.path.abspath(__file__),
                                        "--stage2", str(exe_fd)] + argv, env)


if __name__ == "__main__":
    main()
