#!/usr/bin/env python3
"""Clients an HTTP endpoint must survive, for tests/e2e_http.sh.

http_hold.py hold ADDR PORT IDLE SLOW SECONDS READY_FILE
    opens IDLE connections that send nothing and SLOW ones that send a
    request one byte a second (connecting for 8 s at most); writes 'held
    IDLE SLOW' (those connected) to READY_FILE, holds them SECONDS (at
    most 60), then prints 'idle_closed N first S last S' (connections the
    server closed and when, seconds after connecting) and 'slow_closed N'.
http_hold.py get URL [METHOD]
    one request, 3 s timeout: prints 'STATUS SECONDS BODY-FIRST-LINE',
    or 'error SECONDS REASON'.
http_hold.py raw ADDR PORT BYTES
    sends BYTES (Python escapes, e.g. 'GARBAGE\\r\\n\\r\\n'), prints the
    status line of the answer, or 'closed' when the server closed the
    connection without one (3 s timeout).
http_hold.py freeze PID SECONDS
    stops the main thread of PID alone (ptrace) for SECONDS (at most 30),
    its other threads run on: a loop that hangs in a live process.
    Prints 'frozen' then 'thawed'.
"""
import ctypes, os, selectors, socket, sys, time, urllib.error, urllib.request


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def hold(addr, port, n_idle, n_slow, seconds, ready_file):
    seconds = min(seconds, 60.0)
    sel = selectors.DefaultSelector()
    start = {}
    idle, slow = [], []
    connect_end = time.monotonic() + 8
    for i in range(n_idle + n_slow):
        s = socket.socket(family(addr), socket.SOCK_STREAM)
        s.settimeout(max(0.1, connect_end - time.monotonic()))
        try:
            s.connect((addr, port))
        except OSError:
            s.close()
            break                       # 'held' says how many made it
        s.setblocking(False)
        start[s] = time.monotonic()
        (idle if i < n_idle else slow).append(s)
        sel.register(s, selectors.EVENT_READ)
    with open(ready_file, "w") as f:
        f.write("held %d %d\n" % (len(idle), len(slow)))
    # never complete: the headers go on, a byte a second
    req = b"GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"a" * 200
    sent = 0
    closed = {}
    end = time.monotonic() + seconds
    next_byte = time.monotonic()
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_byte and sent < len(req):
            for s in slow:
                if s not in closed:
                    try:
                        s.send(req[sent:sent + 1])
                    except OSError:
                        closed[s] = now - start[s]
            sent += 1
            next_byte += 1
        for key, _ in sel.select(timeout=max(0.0, min(next_byte, end) - time.monotonic())):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed[s] = time.monotonic() - start[s]
                sel.unregister(s)
    ic = [closed[s] for s in idle if s in closed]
    print("idle_closed %d first %.1f last %.1f" % (len(ic), min(ic, default=0), max(ic, default=0)))
    print("slow_closed %d" % sum(1 for s in slow if s in closed))
    for s in idle + slow:
        s.close()


def get(url, method="GET"):
    t0 = time.monotonic()
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=3) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    except Exception as e:
        print("error %.2f %s" % (time.monotonic() - t0, e))
        return
    line = body.decode(errors="replace").split("\n")[0]
    print("%d %.2f %s" % (status, time.monotonic() - t0, line))


def raw(addr, port, data):
    s = socket.create_connection((addr, port), timeout=3)
    s.sendall(data.encode().decode("unicode_escape").encode("latin-1"))
    try:
        answer = s.recv(4096)
    except socket.timeout:
        print("timeout")
        return
    print(answer.split(b"\r\n")[0].decode(errors="replace") if answer else "closed")


def freeze(pid, seconds):
    PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    # ptrace acts on one thread: the thread group's leader, run's loop
    if libc.ptrace(PTRACE_SEIZE, pid, None, None) or libc.ptrace(PTRACE_INTERRUPT, pid, None, None):
        sys.exit("ptrace: %s" % os.strerror(ctypes.get_errno()))
    os.waitpid(pid, 0x40000000)         # __WALL: until it stopped
    print("frozen", flush=True)
    time.sleep(min(seconds, 30.0))
    # a tracer's exit detaches too: this only makes it explicit
    if libc.ptrace(PTRACE_DETACH, pid, None, None):
        sys.exit("ptrace detach: %s" % os.strerror(ctypes.get_errno()))
    print("thawed", flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "hold":
        hold(a[1], int(a[2]), int(a[3]), int(a[4]), float(a[5]), a[6])
    elif a[0] == "get":
        get(a[1], *a[2:3])
    elif a[0] == "freeze":
        freeze(int(a[1]), float(a[2]))
    elif a[0] == "raw":
        raw(a[1], int(a[2]), a[3])
    else:
        sys.exit(__doc__)
