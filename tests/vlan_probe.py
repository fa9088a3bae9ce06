#!/usr/bin/env python3
"""Send VLAN-tagged SIP INVITEs on a raw interface and check the replies.

This kernel has no 802.1Q driver (CONFIG_VLAN_8021Q unset), so no VLAN
device can carry sipp's traffic; this probe writes tagged frames itself
(AF_PACKET) and reads what comes back, the tag from the packet's
auxiliary data when the driver moved it out of the frame.

usage: vlan_probe.py IFACE SRC_IP DST_IP DST_MAC VLAN_ID COUNT RETRY
Prints 'N passed, N failed' (one check per INVITE: a 503 came back with
the VLAN tag, to our address and port, with the right Retry-After).
"""
import os, socket, struct, sys, time
from rawip import csum, ipv4_udp

ETH_P_ALL, ETH_P_8021Q, SOL_PACKET, PACKET_AUXDATA = 3, 0x8100, 263, 8
TP_STATUS_VLAN_VALID = 1 << 4

def frame(src_mac, dst_mac, vid, src, dst, sport, dport, payload):
    return (dst_mac + src_mac + struct.pack("!HH", ETH_P_8021Q, vid) + struct.pack("!H", 0x0800) +
            ipv4_udp(src, dst, sport, dport, payload))

def invite(src, dst, sport, i):
    return ("INVITE sip:svc@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK-vlan-%d\r\n"
            "From: <sip:probe@%s>;tag=p%d\r\nTo: <sip:svc@%s>\r\nCall-ID: vlan-probe-%d-%d@%s\r\n"
            "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            % (dst, src, sport, i, src, i, dst, os.getpid(), i, src)).encode()

def main():
    ifname, src, dst, dst_mac_s, vid, count, retry = sys.argv[1:8]
    vid, count = int(vid), int(count)
    dst_mac = bytes.fromhex(dst_mac_s.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    src_mac = s.getsockname()[4]
    sport = 40000 + os.getpid() % 20000
    for i in range(count):
        s.send(frame(src_mac, dst_mac, vid, src, dst, sport, 5060, invite(src, dst, sport, i)))
    got, deadline = {}, time.time() + 5
    s.settimeout(0.2)
    while len(got) < count and time.time() < deadline:
        try:
            data, anc, _, _ = s.recvmsg(65535, socket.CMSG_LEN(32))
        except socket.timeout:
            continue
        tag = None
        for lvl, typ, val in anc:
            if lvl == SOL_PACKET and typ == PACKET_AUXDATA and len(val) >= 18:
                st, _, _, _, _, tci = struct.unpack("IIIHHH", val[:18])
                if st & TP_STATUS_VLAN_VALID:
                    tag = tci & 0xfff
        off = 12
        if struct.unpack("!H", data[12:14])[0] == ETH_P_8021Q:
            tag = struct.unpack("!H", data[14:16])[0] & 0xfff
            off = 16
        if struct.unpack("!H", data[off:off + 2])[0] != 0x0800 or data[off + 2 + 9] != 17:
            continue
        ip = data[off + 2:]
        ihl = (ip[0] & 0xf) * 4
        if socket.inet_ntoa(ip[16:20]) != src or socket.inet_ntoa(ip[12:16]) != dst:
            continue
        udp = ip[ihl:]
        if struct.unpack("!H", udp[2:4])[0] != sport:
            continue
        body = udp[8:].decode(errors="replace")
        if not body.startswith("SIP/2.0 503 "):
            continue
        cid = body.split("Call-ID: ", 1)[1].split("\r\n", 1)[0]
        got[cid] = (tag, ("\r\nRetry-After: %s\r\n" % retry) in body, csum(ip[:ihl]) == 0)
    passed = failed = 0
    for i in range(count):
        cid = "vlan-probe-%d-%d@%s" % (os.getpid(), i, src)
        r = got.get(cid)
        if r and r[0] == vid and r[1] and r[2]:
            passed += 1
        else:
            failed += 1
            print("  INVITE %d: %s" % (i, "no 503" if not r else
                  "tag %s, retry-after ok %s, ip csum ok %s" % r))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
