#!/usr/bin/env python3
"""Are the BYEs sipp received at the deadline the ones the dialog's other
side would send (RFC 3261 12.2.1.1)?  (tests/e2e_bye.sh)

usage: bye_check.py proxy CALLER_MSG CALLEE_MSG CALLER_HOST PUBLIC_HOST CALLEE_HOST PRIVATE_HOST
       bye_check.py uas CALLER_MSG CALLER_HOST SERVER_HOST

MSG files are sipp -trace_msg logs (tests/sipp_msgs.py reads them); HOSTs
as in a URI (IPv6 in brackets).  Only the BYEs whose Via branch starts
z9hG4bK-sdbye- (the gate's) are judged; a party must have got at least
one.  Checked for each: Request-URI = the party's own Contact; From tag =
the other side's tag, To tag = the party's; Call-ID of the party's call;
CSeq method BYE and its number above any the other side used; no Route
(the only Record-Route entries are the server's own); top Via
SIP/2.0/UDP SERVER:5060;branch=z9hG4bK-sdbye-...;rport.  Prints the
problems, then "ok ..." or "FAIL ...".
"""
import sys
from sipp_msgs import parse, tag, uri

def cseq_num(v):
    try:
        return int(v.split()[0])
    except (ValueError, IndexError):
        return -1

def judge(byes, dialogs, server, who):
    err = []
    for b in byes:
        cid = b["h"].get("call-id", [""])[0]
        d = dialogs.get(cid)
        if d is None:
            err.append("%s: a BYE for an unknown Call-ID %s" % (who, cid))
            continue
        ruri = b["start"].split(" ")[1] if b["start"].count(" ") >= 2 else ""
        frm, to = b["h"].get("from", [""])[0], b["h"].get("to", [""])[0]
        via = b["h"].get("via", [""])[0]
        cs = b["cseq"]
        if ruri != d["contact"]:
            err.append("%s %s: Request-URI %s, the party's Contact is %s" % (who, cid, ruri, d["contact"]))
        if tag(frm) != d["far_tag"]:
            err.append("%s %s: From tag %s, want %s" % (who, cid, tag(frm), d["far_tag"]))
        if tag(to) != d["own_tag"]:
            err.append("%s %s: To tag %s, want %s" % (who, cid, tag(to), d["own_tag"]))
        if cs.split()[-1:] != ["BYE"] or cseq_num(cs) <= d["far_cseq"]:
            err.append("%s %s: CSeq %s, want BYE above %d" % (who, cid, cs, d["far_cseq"]))
        if "route" in b["h"]:
            err.append("%s %s: Route %s" % (who, cid, b["h"]["route"]))
        want = "SIP/2.0/UDP %s:5060;branch=z9hG4bK-sdbye-" % server
        if not via.replace(" ;", ";").startswith(want) or ";rport" not in via.replace(" ", ""):
            err.append("%s %s: Via %s, want %s...;rport" % (who, cid, via, want))
    return err

BRANCH = __import__("os").environ.get("BYE_BRANCH", "z9hG4bK-sdbye-")

def gate_byes(m):
    return [x for x in m if x["dir"] == "in" and x["method"] == "BYE"
            and BRANCH in x["h"].get("via", [""])[0]]

def caller_dialogs(m, host):
    """The caller's calls: its INVITE (own tag, Contact), the 2xx (far tag),
    the far side's requests (re-INVITE: far CSeq)."""
    d = {}
    for x in m:
        cid = x["h"].get("call-id", [""])[0]
        if x["dir"] == "out" and x["method"] == "INVITE" and cid not in d:
            d[cid] = {"own_tag": tag(x["h"]["from"][0]), "contact": uri(x["h"]["contact"][0]),
                      "far_tag": None, "far_cseq": 0}
        elif x["dir"] == "in" and x["code"] // 100 == 2 and x["cseq"].endswith("INVITE") and cid in d \
                and cseq_num(x["cseq"]) == 1:
            d[cid]["far_tag"] = tag(x["h"]["to"][0])
        elif x["dir"] == "in" and x["method"] and x["method"] != "BYE" and cid in d:
            d[cid]["far_cseq"] = max(d[cid]["far_cseq"], cseq_num(x["cseq"]))
    return d

def callee_dialogs(m):
    d = {}
    for x in m:
        cid = x["h"].get("call-id", [""])[0]
        if x["dir"] == "in" and x["method"] == "INVITE" and cid not in d:
            d[cid] = {"far_tag": tag(x["h"]["from"][0]), "far_cseq": cseq_num(x["cseq"]),
                      "own_tag": None, "contact": None}
        elif x["dir"] == "out" and x["code"] // 100 == 2 and x["cseq"].endswith("INVITE") and cid in d:
            d[cid]["own_tag"] = tag(x["h"]["to"][0])
            d[cid]["contact"] = uri(x["h"]["contact"][0])
    return d

err, said = [], []
if sys.argv[1] == "proxy":
    cm, um = parse(sys.argv[2]), parse(sys.argv[3])
    chost, pub, uhost, priv = sys.argv[4:8]
    cb, ub = gate_byes(cm), gate_byes(um)
    if not cb or not ub:
        err.append("BYEs from the gate: %d at the callers, %d at the callees" % (len(cb), len(ub)))
    err += judge(cb, caller_dialogs(cm, chost), pub, "caller")
    err += judge(ub, callee_dialogs(um), priv, "callee")
    said.append("%d BYEs at the callers, %d at the callees" % (len(cb), len(ub)))
else:
    cm = parse(sys.argv[2])
    server = sys.argv[4]
    cb = gate_byes(cm)
    d = caller_dialogs(cm, sys.argv[3])
    if not cb:
        err.append("no BYE from the gate at the caller")
    err += judge(cb, d, server, "caller")
    said.append("%d BYE, CSeq %s, From tag %s, the UAS's re-INVITE CSeq %s" % (
        len(cb), [b["cseq"] for b in cb], [tag(b["h"]["from"][0]) for b in cb],
        [v["far_cseq"] for v in d.values()]))
for e in err:
    print(e)
print(("FAIL %d problems: %s; " % (len(err), err[0]) if err else "ok ") + "; ".join(said))
sys.exit(1 if err else 0)
