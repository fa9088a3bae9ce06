#!/usr/bin/env python3
"""Compare `sipdrain classify --pcap` with sip_packet_summary.txt.

Every SIP packet of every capture listed in the summary must come out of
the real XDP program with the summary's request method or status code,
CSeq method, To tag, and (where the summary's Call-ID is not cut short)
the FNV-1a 64 hash of the Call-ID.  Prints one line per capture and
'N passed, N failed' (packets).
"""
import json, os, subprocess, sys

def fnv1a(s: bytes) -> str:
    h = 0xcbf29ce484222325
    for c in s:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h

def load_summary(path):
    caps, cur = {}, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("## "):
            cur = line[3:].strip()
            caps[cur] = []
        elif line.strip() and cur:
            f = line.split()
            kv = dict(x.split("=", 1) for x in f if "=" in x and not x.startswith("cseq="))
            cseq_i = next(i for i, x in enumerate(f) if x.startswith("cseq="))
            caps[cur].append({"what": f[2], "cseq_method": f[cseq_i + 1],
                              "to_tag": kv["toTag"] == "True", "cid": line.split(" cid=", 1)[1]})
    return caps

def main():
    sipdrain, pcapdir = sys.argv[1], sys.argv[2]
    caps = load_summary(os.path.join(pcapdir, "sip_packet_summary.txt"))
    passed = failed = 0
    for cap, want in caps.items():
        out = subprocess.run([sipdrain, "classify", "--pcap", os.path.join(pcapdir, cap)],
                             check=True, capture_output=True, text=True).stdout
        got = [json.loads(l) for l in out.splitlines()]
        sip = [g for g in got if g["kind"] in ("request", "response", "unparsed")]
        bad = []
        if len(sip) != len(want):
            bad.append("count: %d SIP packets, summary has %d" % (len(sip), len(want)))
        for g, w in zip(sip, want):
            what = g.get("method") if g["kind"] == "request" else str(g.get("status"))
            errs = []
            if g["kind"] == "unparsed":
                errs.append("unparsed (%s)" % g.get("unparsed"))
            if what != w["what"]:
                errs.append("method/status %s != %s" % (what, w["what"]))
            if g.get("cseq_method", g.get("method")) != w["cseq_method"] and g["kind"] == "response":
                errs.append("cseq method %s != %s" % (g.get("cseq_method"), w["cseq_method"]))
            if g["to_tag"] != w["to_tag"]:
                errs.append("to_tag %s != %s" % (g["to_tag"], w["to_tag"]))
            if len(w["cid"]) < 40 and g["call_id_hash"] != fnv1a(w["cid"].encode()):
                errs.append("call-id hash differs for %s" % w["cid"])
            if errs:
                failed += 1
                bad.append("packet %d: %s" % (g["packet"], "; ".join(errs)))
            else:
                passed += 1
        failed += max(0, len(want) - len(sip))
        print("%-36s %3d SIP packets, %s" % (cap, len(sip), "ok" if not bad else "MISMATCH"))
        for b in bad[:10]:
            print("    " + b)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
