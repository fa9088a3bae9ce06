#!/usr/bin/env python3
"""Where the responder's 503 goes and what it carries, on the wire
(RFC 3261 18.2.2 with RFC 3581), during a drain.

From the client namespace, plain UDP sockets:
  - 64 Via values in comma lists: answered, every value in order;
  - no rport, sent-by port P: the 503 arrives on P, not on the source port;
  - no rport, no sent-by port: on 5060;
  - rport and a forged received=: on the source port, received= replaced;
  - an INVITE marked TOS 0xff (DSCP and ECN CE): the 503 has TOS 0;
  - IPv6, no rport: on the sent-by port;
  - a well-formed request the responder cannot answer within its bound
    (bare-LF line ends, 200 Via lines): no 503; sent again after 500 ms
    as a caller retransmits, it passes to the server (the shell checks).

usage: reply_probe.py CLIENT4 SERVER4 CLIENT6 SERVER6 CALLID_FILE
Prints one line per case and 'N passed, N failed'; exit 1 on failure.
"""
import os, re, socket, sys, time

IP_RECVTOS = 13
passed = failed = 0

def result(ok, text):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print("  %s %s" % ("ok  " if ok else "FAIL", text))

def sock(fam, addr, port, tos=None):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
        if tos is not None:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    s.settimeout(0.1)
    return s

def wait(socks, callid, secs=1.5):
    """(socket index, payload, tos) of the first 503 for callid, or None."""
    end = time.time() + secs
    while time.time() < end:
        for i, s in enumerate(socks):
            try:
                data, anc, _, _ = s.recvmsg(65535, socket.CMSG_SPACE(4))
            except socket.timeout:
                continue
            tos = None
            for lvl, typ, val in anc:
                if lvl == socket.IPPROTO_IP and typ in (IP_RECVTOS, 1):
                    tos = val[0]
            if callid.encode() in data and data.startswith(b"SIP/2.0 503"):
                return i, data.decode(errors="replace"), tos
    return None

def invite(callid, vias, host_of_uri, eol="\r\n"):
    lines = ["INVITE sip:svc@%s SIP/2.0" % host_of_uri] + vias + [
        "From: <sip:probe@x>;tag=f-%s" % callid, "To: <sip:svc@x>", "Call-ID: %s" % callid,
        "CSeq: 1 INVITE", "Max-Forwards: 70", "Content-Length: 0", "", ""]
    return eol.join(lines).encode()

def main():
    c4, s4, c6, s6, cid_file = sys.argv[1:6]
    tag = "%d" % os.getpid()
    F4, F6 = socket.AF_INET, socket.AF_INET6

    # 64 Via values, comma lists, 8 per line
    cid = "via64-%s@x" % tag
    a = sock(F4, c4, 5171)
    # short values: the datagram must fit the veth's 1500 bytes (a
    # fragment is never read by the gate)
    vals = ["SIP/2.0/UDP %s:5171;rport;branch=z9hG4bK-v0" % c4] + \
           ["SIP/2.0/UDP h%d" % i for i in range(1, 64)]
    vias = ["Via: " + ", ".join(vals[k:k + 8]) for k in range(0, 64, 8)]
    a.sendto(invite(cid, vias, s4), (s4, 5060))
    got = wait([a], cid)
    order = got and ["1"] + re.findall(r"SIP/2.0/UDP h(\d+)", got[1]) == ["1"] + [str(i) for i in range(1, 64)]
    result(bool(order), "64 Via values in comma lists: a 503 with all 64 in order")
    a.close()

    # no rport: the sent-by port
    cid = "sentby-%s@x" % tag
    a, b = sock(F4, c4, 5171), sock(F4, c4, 5172)
    a.sendto(invite(cid, ["Via: SIP/2.0/UDP %s:5172;branch=z9hG4bK-sb" % c4], s4), (s4, 5060))
    got = wait([a, b], cid)
    result(got is not None and got[0] == 1, "no rport: the 503 went to the sent-by port 5172%s"
           % ("" if got is None or got[0] == 1 else " (came to the source port)"))
    a.close(); b.close()

    # no rport, no port in sent-by: 5060
    cid = "noport-%s@x" % tag
    a, b = sock(F4, c4, 5171), sock(F4, c4, 5060)
    a.sendto(invite(cid, ["Via: SIP/2.0/UDP %s;branch=z9hG4bK-np" % c4], s4), (s4, 5060))
    got = wait([a, b], cid)
    result(got is not None and got[0] == 1, "no rport, no sent-by port: the 503 went to 5060")
    a.close(); b.close()

    # rport and a forged received: replaced, once
    cid = "recv-%s@x" % tag
    a = sock(F4, c4, 5171)
    a.sendto(invite(cid, ["Via: SIP/2.0/UDP %s:5171;received=203.0.113.9;rport;branch=z9hG4bK-rc"
                          % c4], s4), (s4, 5060))
    got = wait([a], cid)
    via = got and [l for l in got[1].split("\r\n") if l.lower().startswith("via")][0]
    result(bool(via) and via.count("received=") == 1 and ("received=%s" % c4) in via
           and "rport=5171" in via, "rport with a forged received: received=%s once, rport=5171 (%s)"
           % (c4, via))
    a.close()

    # TOS 0xff in, TOS 0 out
    cid = "tos-%s@x" % tag
    a = sock(F4, c4, 5171, tos=0xff)
    a.sendto(invite(cid, ["Via: SIP/2.0/UDP %s:5171;rport;branch=z9hG4bK-tos" % c4], s4), (s4, 5060))
    got = wait([a], cid)
    result(got is not None and got[2] == 0, "INVITE with TOS 0xff (CE): the 503 has TOS %s"
           % (None if got is None else got[2]))
    a.close()

    # IPv6, no rport: the sent-by port
    cid = "v6sentby-%s@x" % tag
    a, b = sock(F6, c6, 5171), sock(F6, c6, 5172)
    a.sendto(invite(cid, ["Via: SIP/2.0/UDP [%s]:5172;branch=z9hG4bK-6" % c6], "[%s]" % s6),
             (s6, 5060))
    got = wait([a, b], cid)
    result(got is not None and got[0] == 1, "IPv6, no rport: the 503 went to the sent-by port")
    a.close(); b.close()

    # cannot be answered within the bound (run has a 55-character
    # --reason; bare-LF line ends, 80 Via lines, each a CR longer in the
    # reply; one datagram, no fragments): passes to the server on the
    # caller's retransmission
    cid = "unanswerable-%s@x" % tag
    a = sock(F4, c4, 5171)
    msg = ("INVITE sip:s SIP/2.0\nv:SIP/2.0/UDP %s:5171;rport;branch=z9hG4bK-u\n" % c4 +
           "v:SIP/2.0/UDP h\n" * 80 +
           "f:<sip:p@x>;tag=f\nt:<sip:s@x>\ni:%s\nCSeq:1 INVITE\n\n" % cid).encode()
    a.sendto(msg, (s4, 5060))
    got = wait([a], cid, 0.5)
    result(got is None, "%d-byte bare-LF INVITE with 81 Via lines: no 503 (it would outgrow "
           "the request by more than 256 bytes)" % len(msg))
    a.sendto(msg, (s4, 5060))                  # the retransmission, T1 later
    got = wait([a], cid, 0.5)
    result(got is None, "its retransmission is not answered either (it passes)")
    a.close()
    # maddr naming another host: the responder cannot send there
    cid2 = "maddr-%s@x" % tag
    a = sock(F4, c4, 5171)
    msg = invite(cid2, ["Via: SIP/2.0/UDP %s:5171;maddr=198.18.250.9;branch=z9hG4bK-m" % c4], s4)
    a.sendto(msg, (s4, 5060))
    got = wait([a], cid2, 0.5)
    a.sendto(msg, (s4, 5060))
    got2 = wait([a], cid2, 0.5)
    result(got is None and got2 is None, "maddr naming another host: no 503, left to the server")
    a.close()
    with open(cid_file, "w") as f:
        f.write(cid + "\n" + cid2 + "\n")
    print("reply_probe: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)

main()
