#!/usr/bin/env python3
"""A caller that never answers a BYE (tests/e2e_bye.sh).

usage: bye_party.py LOCAL_IP LOCAL_PORT SERVER_IP SERVER_PORT WAIT LISTEN OUT_JSON

Places one call (INVITE, retransmitted every 0.5 s until a final
response; ACK to the 2xx), says "up" on stdout, then waits up to WAIT
seconds for a BYE and from the first one on records every BYE that
arrives for LISTEN seconds, answering none.  Writes OUT_JSON:
{"up": true, "byes": [{"t": seconds after the first BYE, "branch", "cseq",
"from", "to", "call_id", "src"}], "call_id", "local_tag", "remote_tag"}.
Exit status 0 when the call was set up, 1 otherwise.
"""
import json, re, socket, sys, time

lip, lport, sip, sport, wait, listen, out = sys.argv[1:8]
lport, sport, wait, listen = int(lport), int(sport), float(wait), float(listen)
fam = socket.AF_INET6 if ":" in lip else socket.AF_INET
host = lambda a: "[%s]" % a if ":" in a else a
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((lip, lport))
call_id = "party-%d-%d@%s" % (time.time_ns() % 10**9, lport, lip)
tag = "party%d" % lport
ruri = "sip:uas@%s:%d" % (host(sip), sport)

def hdr(msg, name):
    m = re.search(r"^%s\s*:\s*(.*?)\r?$" % name, msg, re.I | re.M)
    return m.group(1).strip() if m else ""

invite = ("INVITE %s SIP/2.0\r\n"
          "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-party-inv\r\n"
          "From: party <sip:party@%s:%d>;tag=%s\r\n"
          "To: <%s>\r\n"
          "Call-ID: %s\r\n"
          "CSeq: 1 INVITE\r\n"
          "Contact: <sip:party@%s:%d>\r\n"
          "Max-Forwards: 70\r\n"
          "Content-Length: 0\r\n\r\n") % (ruri, host(lip), lport, host(lip), lport, tag,
                                          ruri, call_id, host(lip), lport)
result = {"up": False, "byes": [], "call_id": call_id, "local_tag": tag}

def ack(to):
    return ("ACK %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-party-ack\r\n"
            "From: party <sip:party@%s:%d>;tag=%s\r\n"
            "To: %s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 ACK\r\n"
            "Max-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n") % (ruri, host(lip), lport, host(lip), lport, tag, to, call_id)

dest = (sip, sport)
end = time.time() + 10
next_tx = 0
while time.time() < end and not result["up"]:
    if time.time() >= next_tx:
        s.sendto(invite.encode(), dest)
        next_tx = time.time() + 0.5
    s.settimeout(0.1)
    try:
        data, src = s.recvfrom(65535)
    except socket.timeout:
        continue
    msg = data.decode(errors="replace")
    m = re.match(r"SIP/2.0 (\d{3})", msg)
    if m and hdr(msg, "CSeq").endswith("INVITE"):
        code = int(m.group(1))
        if 200 <= code < 300:
            to = hdr(msg, "To")
            result["remote_tag"] = re.search(r";\s*tag=([^;>\s]+)", to).group(1)
            s.sendto(ack(to).encode(), dest)
            result["up"] = True
        elif code >= 300:
            break
if not result["up"]:
    json.dump(result, open(out, "w"))
    sys.exit(1)
print("up", flush=True)

first = None
end = time.time() + wait
while True:
    now = time.time()
    stop = end if first is None else first + listen
    if now >= stop:
        break
    s.settimeout(stop - now)
    try:
        data, src = s.recvfrom(65535)
    except socket.timeout:
        break
    t = time.time()
    msg = data.decode(errors="replace")
    if msg.startswith("BYE "):
        if first is None:
            first = t
        via = hdr(msg, "Via") or hdr(msg, "v")
        b = re.search(r";\s*branch=([^;\s]+)", via)
        result["byes"].append({"t": round(t - first, 3), "branch": b.group(1) if b else "",
                               "cseq": hdr(msg, "CSeq"), "from": hdr(msg, "From"),
                               "to": hdr(msg, "To"), "call_id": hdr(msg, "Call-ID"),
                               "via": via, "src": "%s:%d" % src[:2]})
    elif re.match(r"SIP/2.0 2\d\d", msg) and hdr(msg, "CSeq").endswith("INVITE"):
        s.sendto(ack(hdr(msg, "To")).encode(), dest)     # a 2xx retransmitted
json.dump(result, open(out, "w"), indent=1)
sys.exit(0)
