#!/usr/bin/python3
"""The --exec-on-offline hook of tests/systemd_test.sh, run by `sipdrain
run` inside the unit's sandbox: tries to create DIR/hook-wrote (DIR is
outside ReadWritePaths: it must fail) and reports over AF_UNIX to
$NOTIFY_SOCKET, as `systemctl stop kamailio` would talk to PID 1:
'HOOK=REASON wrote=yes|no'.

    hook_probe.py DIR
"""
import os
import socket
import sys

try:
    open(os.path.join(sys.argv[1], "hook-wrote"), "w").close()
    wrote = "yes"
except OSError as e:
    wrote = "no(%s)" % e.strerror.replace(" ", "_")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(("HOOK=%s wrote=%s" % (os.environ.get("SIPDRAIN_REASON", "?"), wrote)).encode(),
         os.environ["NOTIFY_SOCKET"])
