#!/usr/bin/env python3
"""Count the new INVITEs Kamailio received that passed the gate during the drain.

usage: kamailio_during_drain.py KAMAILIO_LOG SKIP_LINES PIN_DIR

Kamailio logs "NEW-INVITE <Call-ID>" for each initial INVITE it handles
(tests/lab/kamailio-proxy.cfg).  For each Call-ID logged after the first
SKIP_LINES lines, the gate's pinned dialog table says when the gate first
let that Call-ID through (created_ns, CLOCK_MONOTONIC); the pinned config
says when the drain began (drain_started_ns, same clock).  An INVITE that
reached Kamailio during the drain is one whose Call-ID first passed after
the drain began, or that the gate never recorded.  Prints the count, then
the offending Call-IDs.
"""
import json, subprocess, sys

def fnv1a(s):
    h = 0xcbf29ce484222325
    for c in s.encode():
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

def dump(path):
    return json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "pinned", path],
                                     check=True, capture_output=True, text=True).stdout)

def main():
    log, skip, pin = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    callids = []
    for i, line in enumerate(open(log, errors="replace")):
        if i >= skip and "NEW-INVITE " in line:
            callids.append(line.split("NEW-INVITE ", 1)[1].strip())
    cfg = dump(pin + "/sd_config")[0]
    cfg = cfg.get("formatted", cfg)["value"]
    started = int(cfg["drain_started_ns"])
    table = {}
    for e in dump(pin + "/sd_dialogs"):
        e = e.get("formatted", e)
        table[int(e["key"])] = int(e["value"]["created_ns"])
    bad = [c for c in callids if table.get(fnv1a(c), started + 1) > started]
    print(len(bad))
    for c in bad:
        print(c)

if __name__ == "__main__":
    main()
