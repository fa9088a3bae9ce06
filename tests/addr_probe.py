#!/usr/bin/env python3
"""Requests a gate must never answer, written on the wire by hand.

From the client's veth (AF_PACKET), to the server's MAC, during a drain:
INVITEs from sources that cannot receive a reply (broadcast, a subnet
broadcast, multicast, unspecified, loopback, the server's own address,
source port 0) and INVITEs addressed to someone else (another host, a
broadcast, a multicast group), IPv4 and IPv6.  After each, every frame
on the veth is read for 0.4 s: any 'SIP/2.0 503' seen is a failure.  A
last, ordinary INVITE must get its 503 (the probe can see one).

usage: addr_probe.py IFACE DST_MAC NET4 NET6
  NET4: the /24's first three octets (198.18.6), server .2, client .1
  NET6: the /64's prefix (2001:2:0:6), server ::2, client ::1
Prints one line per case and 'N passed, N failed'; exit 1 on failure.
"""
import os, socket, struct, sys, time
from rawip import ipv4_udp, ipv6_udp

ETH_P_ALL = 3

def invite(src, dst, sport, tag):
    host = "[%s]" % src if ":" in src else src
    return ("INVITE sip:svc@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK-%s\r\n"
            "From: <sip:probe@x>;tag=%s\r\nTo: <sip:svc@x>\r\nCall-ID: addr-probe-%d-%s@x\r\n"
            "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            % ("x", host, sport or 5060, tag, tag, os.getpid(), tag)).encode()

def main():
    ifname, dst_mac_s, net4, net6 = sys.argv[1:5]
    dst_mac = bytes.fromhex(dst_mac_s.replace(":", ""))
    srv4, cli4 = net4 + ".2", net4 + ".1"
    srv6, cli6 = net6 + "::2", net6 + "::1"
    cases = [
        # name, src, dst, sport, want_503
        ("src 255.255.255.255", "255.255.255.255", srv4, 5070, False),
        ("src subnet broadcast", net4 + ".255", srv4, 5070, False),
        ("src 224.0.0.1", "224.0.0.1", srv4, 5070, False),
        ("src 0.0.0.0", "0.0.0.0", srv4, 5070, False),
        ("src 127.0.0.1", "127.0.0.1", srv4, 5070, False),
        ("src the server's own v4", srv4, srv4, 5070, False),
        ("source port 0 v4", cli4, srv4, 0, False),
        ("src ::1", "::1", srv6, 5070, False),
        ("src ::", "::", srv6, 5070, False),
        ("src ff02::1", "ff02::1", srv6, 5070, False),
        ("src the server's own v6", srv6, srv6, 5070, False),
        ("source port 0 v6", cli6, srv6, 0, False),
        ("dst another host v4", cli4, net4 + ".9", 5070, False),
        ("dst subnet broadcast", cli4, net4 + ".255", 5070, False),
        ("dst 255.255.255.255", cli4, "255.255.255.255", 5070, False),
        ("dst 224.0.0.1", cli4, "224.0.0.1", 5070, False),
        ("dst another host v6", cli6, net6 + "::9", 5070, False),
        ("dst ff02::1", cli6, "ff02::1", 5070, False),
        ("ordinary INVITE v4 (control)", cli4, srv4, 5070, True),
        ("ordinary INVITE v6 (control)", cli6, srv6, 5070, True),
    ]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    src_mac = s.getsockname()[4]
    s.settimeout(0.05)
    passed = failed = 0
    for i, (name, src, dst, sport, want) in enumerate(cases):
        v6 = ":" in src
        pay = invite(src, dst, sport, "c%d" % i)
        l3 = ipv6_udp(src, dst, sport, 5060, pay) if v6 else ipv4_udp(src, dst, sport, 5060, pay)
        s.send(dst_mac + src_mac + struct.pack("!H", 0x86dd if v6 else 0x0800) + l3)
        got, end = False, time.time() + 0.4
        while time.time() < end:
            try:
                data = s.recv(65535)
            except socket.timeout:
                continue
            if b"SIP/2.0 503" in data and b"addr-probe-%d-c%d@" % (os.getpid(), i) in data:
                got = True
        if got == want:
            passed += 1
            print("  ok   %s: %s" % (name, "answered 503" if got else "no 503 on the wire"))
        else:
            failed += 1
            print("  FAIL %s: %s" % (name, "a 503 left the server" if got else "no 503"))
    print("addr_probe: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)

main()
