#!/usr/bin/env python3
"""The messages of a sipp -trace_msg log as JSON (tests/e2e_bye.sh).

usage: sipp_msgs.py MESSAGE_FILE [EXPR]

Prints a list of {"dir": "in"|"out", "start": start line, "method": the
request's method or "", "code": the response's code or 0, "cseq": the
CSeq value, "h": {lower-case header name: [values]}} in log order.  With
EXPR, prints eval(EXPR) instead, with m (that list), byes (the BYEs
received), tag(value) (the tag parameter of a From/To value) and uri(v)
(the URI in <...>, or v) at hand.
"""
import json, re, sys

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}

def parse(path):
    text = open(path, errors="replace").read()
    out = []
    for blk in re.split(r"^-{20,}.*$", text, flags=re.M):
        m = re.match(r"\s*\S+ message (sent|received)\b[^\n]*\n\n?(.*)", blk, re.S)
        if not m:
            continue
        lines = m.group(2).replace("\r", "").split("\n")
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            continue
        start, h = lines[0].strip(), {}
        for l in lines[1:]:
            if not l.strip():
                break
            if ":" in l:
                n, v = l.split(":", 1)
                n = n.strip().lower()
                h.setdefault(COMPACT.get(n, n), []).append(v.strip())
        r = re.match(r"SIP/2\.0 (\d{3})", start)
        out.append({"dir": "out" if m.group(1) == "sent" else "in", "start": start,
                    "method": "" if r else start.split(" ", 1)[0],
                    "code": int(r.group(1)) if r else 0,
                    "cseq": (h.get("cseq") or [""])[0], "h": h})
    return out

def tag(v):
    v = re.sub(r"<[^>]*>", "", v)
    t = re.search(r";\s*tag\s*=\s*([^;\s]+)", v)
    return t.group(1) if t else None

def uri(v):
    u = re.search(r"<([^>]*)>", v)
    return u.group(1) if u else v.split(";")[0].strip()

if __name__ == "__main__":
    m = parse(sys.argv[1])
    byes = [x for x in m if x["dir"] == "in" and x["method"] == "BYE"]
    if len(sys.argv) > 2:
        print(eval(sys.argv[2]))
    else:
        json.dump(m, sys.stdout, indent=1)
