"""IPv4/UDP datagrams built by hand, for the raw-socket probes
(tests/vlan_probe.py, tests/flood.py)."""
import socket, struct

def csum(data):
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ipv4_udp(src, dst, sport, dport, payload):
    """An IPv4 header (DF, TTL 64) and a UDP datagram with both checksums."""
    udp_len = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xffff
    return ip + udp[:6] + struct.pack("!H", c) + udp[8:]

def ipv6_udp(src, dst, sport, dport, payload):
    """An IPv6 header (hop limit 64) and a UDP datagram with its checksum."""
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    udp_len = 8 + len(payload)
    ip = struct.pack("!IHBB", 0x60000000, udp_len, 17, 64) + s + d
    pseudo = s + d + struct.pack("!IxxxB", udp_len, 17)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xffff
    return ip + udp[:6] + struct.pack("!H", c) + udp[8:]
