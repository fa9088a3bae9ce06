#!/usr/bin/env python3
"""The system calls a SystemCallFilter= allow list admits, expanded as
systemd expands it (groups within groups), from `systemd-analyze
syscall-filter` of the systemd installed here.

    syscall_set.py ITEM...        e.g. @system-service bpf

prints one system call a line, sorted."""
import subprocess
import sys

out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"],
                     capture_output=True, text=True, check=True).stdout
groups, cur = {}, None
for line in out.splitlines():
    if line.startswith("@"):
        cur = groups.setdefault(line.split()[0], [])
    elif cur is not None and line.startswith("    ") and not line.strip().startswith("#"):
        cur.append(line.strip())
    elif not line.strip():
        cur = None


def expand(item, seen):
    if not item.startswith("@"):
        return {item}
    if item in seen:
        return set()
    seen.add(item)
    if item not in groups:
        sys.exit("unknown group %s" % item)
    r = set()
    for x in groups[item]:
        r |= expand(x, seen)
    return r


allowed = set()
for a in sys.argv[1:]:
    allowed |= expand(a, set())
print("\n".join(sorted(allowed)))
