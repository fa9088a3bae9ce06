#!/usr/bin/env python3
"""TCP probes for the fault tests.

tcp_probe.py serve ADDR PORT          an echo server (foreground, for bg_s)
tcp_probe.py connect ADDR PORT        prints 'connected', 'refused SECONDS' or 'timeout'
tcp_probe.py hold ADDR PORT FIFO_DIR  connects, then echoes a line through the open
                                      connection each time FIFO_DIR/ping appears;
                                      writes FIFO_DIR/ok or FIFO_DIR/broken
"""
import os, socket, sys, threading, time

def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET

def serve(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    def echo(c):
        with c:
            while True:
                d = c.recv(4096)
                if not d:
                    return
                c.sendall(d)
    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()

def connect(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.settimeout(5)
    t0 = time.time()
    try:
        s.connect((addr, port))
        print("connected")
    except ConnectionRefusedError:
        print("refused %.3f" % (time.time() - t0))
    except socket.timeout:
        print("timeout")

def hold(addr, port, d):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((addr, port))
    open(os.path.join(d, "up"), "w").close()
    deadline = time.time() + 60
    while time.time() < deadline:
        p = os.path.join(d, "ping")
        if os.path.exists(p):
            os.unlink(p)
            try:
                s.sendall(b"INVITE inside the open connection\n")
                ok = s.recv(100).startswith(b"INVITE")
            except OSError:
                ok = False
            open(os.path.join(d, "ok" if ok else "broken"), "w").close()
            return
        time.sleep(0.05)

if __name__ == "__main__":
    cmd, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"serve": lambda: serve(addr, port), "connect": lambda: connect(addr, port),
     "hold": lambda: hold(addr, port, sys.argv[4])}[cmd]()
