#!/usr/bin/env python3
"""A SIP scanner's flood, bounded: COUNT new INVITEs (distinct Call-IDs,
no To tag) from as many spoofed sources in 198.19.0.0/16 (the second half
of the benchmarking range, which the test's server cannot route back to),
written as raw frames on IFACE at no more than RATE per second.

usage: flood.py IFACE DST_IP DST_MAC COUNT RATE
Prints the number of frames sent and the seconds it took.
"""
import socket, sys, time
from rawip import ipv4_udp

def main():
    iface, dst, dst_mac, count, rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    if not 0 < count <= 1000000 or not 0 < rate <= 100000:
        sys.exit("flood.py: COUNT 1..1000000, RATE 1..100000")
    if not dst.startswith("198.18."):
        sys.exit("flood.py: only to test hosts in 198.18.0.0/15")
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    src_mac = s.getsockname()[4]
    dmac = bytes(int(x, 16) for x in dst_mac.split(":"))
    t0 = time.monotonic()
    for i in range(count):
        src = "198.19.%d.%d" % ((i >> 8) & 0xff, (i & 0xff) or 1)
        payload = ("INVITE sip:100@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-scan%d\r\n"
                   "From: <sip:100@%s>;tag=s%d\r\nTo: <sip:100@%s>\r\nCall-ID: scan-%d-%d\r\n"
                   "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nUser-Agent: friendly-scanner\r\n"
                   "Content-Length: 0\r\n\r\n" % (dst, src, i, src, i, dst, i, t0)).encode()
        s.send(dmac + src_mac + b"\x08\x00" + ipv4_udp(src, dst, 5060, 5060, payload))
        ahead = (i + 1) / rate - (time.monotonic() - t0)
        if ahead > 0.002:
            time.sleep(ahead)
    print("%d %.2f" % (count, time.monotonic() - t0))

main()
