#!/usr/bin/env python3
"""Count the new INVITEs Kamailio received that passed the gate during the drain.

usage: kamailio_during_drain.py KAMAILIO_LOG SKIP_LINES PIN_DIR TABLES_JSON

Kamailio logs "NEW-INVITE <unix time> <Call-ID>" for each new INVITE
transaction it handles (tests/lab/kamailio-proxy.cfg).  TABLES_JSON holds
the gate's two dialog tables (sd_calls, sd_attempts) as `bpftool -j map
dump` printed them shortly after the drain began: every call the gate let
through before the drain and that was still up, with when the gate first
saw it (created_ns, CLOCK_MONOTONIC).  The pinned config says when the
drain began (drain_started_ns, same clock).

An INVITE logged by Kamailio from one second before the drain on is one
that reached it during the drain unless its Call-ID was in those tables,
first let through before the drain (a retransmission, or an INVITE that
crossed the gate just before the drain and Kamailio just after).  Calls
last 5 s or more in the lab, so none let through in that last second has
left the tables by the time they are read.  Prints the count, then the
offending Call-IDs.
"""
import json, subprocess, sys, time

def fnv1a(s):
    h = 0xcbf29ce484222325
    for c in s.encode():
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h

def dump(path):
    return json.loads(subprocess.run(["bpftool", "-j", "map", "dump", "pinned", path],
                                     check=True, capture_output=True, text=True).stdout)

def main():
    log, skip, pin, tables = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    cfg = dump(pin + "/sd_config")[0]
    cfg = cfg.get("formatted", cfg)["value"]
    started = int(cfg["drain_started_ns"])
    # the drain's start on the wall clock Kamailio logs with
    started_wall = time.time() - (time.clock_gettime(time.CLOCK_MONOTONIC) - started / 1e9)
    seen = {}
    for entries in json.load(open(tables)):
        for e in entries:
            e = e.get("formatted", e)
            seen[int(e["key"])] = int(e["value"]["created_ns"])
    bad = []
    for i, line in enumerate(open(log, errors="replace")):
        if i < skip or "NEW-INVITE " not in line:
            continue
        when, callid = line.split("NEW-INVITE ", 1)[1].split(None, 1)
        if float(when) < started_wall - 1.0:
            continue
        if seen.get(fnv1a(callid.strip()), started + 1) > started:
            bad.append(callid.strip())
    print(len(bad))
    for c in bad:
        print(c)

if __name__ == "__main__":
    main()
