#!/usr/bin/env python3
"""A stand-in for systemd's notification socket: binds an AF_UNIX datagram
socket at PATH and writes each line of each datagram received, as
'SECONDS-SINCE-START PID FIELD=VALUE', to LOG (flushed per datagram).
The sender's PID comes from SCM_CREDENTIALS, as systemd reads it.

    notify_listen.py PATH LOG
"""
import os
import socket
import struct
import sys
import time

path, log = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
t0 = time.monotonic()
with open(log, "a") as out:
    out.write("%.3f %d LISTENING=1\n" % (0.0, os.getpid()))
    out.flush()
    while True:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = 0
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", value[:12])[0]
        now = time.monotonic() - t0
        for line in data.decode("utf-8", "replace").split("\n"):
            if line:
                out.write("%.3f %d %s\n" % (now, pid, line))
        out.flush()
