#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""faultproxy: a TCP proxy on 127.0.0.1 that injects network faults, to test a
client's timeouts and retries (HTTP or the PostgreSQL protocol alike).

    with FaultProxy(("127.0.0.1", api_port)) as fp:
        fp.set_mode("drop times=1")      # the next request is dropped, then pass
        client.connect(port=fp.port)

    faultproxy.py --target 127.0.0.1:8080 [--listen 0] [--control FILE] [--mode "delay 500"]
        prints port=N (flushed); runs until SIGTERM or SIGINT.

A request is the data a client sends when the server has nothing left to
answer: the first bytes on a connection and the first bytes after each
response. The mode in force when a request starts decides its fate:

    pass            forward both ways
    delay MS        hold the request MS milliseconds, then forward it
    drop            close the client's connection (FIN), nothing forwarded
    reset           reset the client's connection (RST), nothing forwarded
    hang            swallow the request and all that follows; never answer,
                    never close (until the client gives up or the proxy stops)
    http CODE [S]   answer an HTTP request itself, as API Gateway does when
                    throttled or when Lambda fails: status CODE, body
                    {"message": "<reason>"}, Retry-After: S when given; then close
    lose            forward the request, then when the server starts to answer,
                    throw the answer away and close the client's connection: the
                    server acted, the client never learns the outcome

Any mode may end in "times=N": it then applies to the next N requests only,
after which the mode is pass again. set_mode() takes the same text. With
--control, the mode is the file's first non-comment line, read at each request
start whenever the file changed (rewriting it, even with the same text,
re-arms "times")."""

import argparse
import http
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

# mode -> its arguments (all integers), as the usage says them
MODES = {"pass": (), "delay": ("MS",), "drop": (), "reset": (), "hang": (), "http": ("CODE", "[S]"),
         "lose": ()}


def parse_mode(text):
    """'delay 500 times=2' -> ('delay', (500,), 2). ValueError on anything else."""
    words = text.split()
    times = None
    if words and words[-1].startswith("times="):
        times = words.pop()[len("times="):]
        if not times.isdigit() or int(times) < 1:
            raise ValueError("times must be a number from 1")
        times = int(times)
    if not words or words[0] not in MODES:
        raise ValueError(f"unknown mode {text!r} (use one of {', '.join(MODES)})")
    name, args, usage = words[0], words[1:], MODES[words[0]]
    required = [u for u in usage if not u.startswith("[")]
    if not len(required) <= len(args) <= len(usage) or not all(a.isdigit() for a in args):
        raise ValueError(f"usage: {' '.join((name,) + usage)} [times=N]")
    return name, tuple(int(a) for a in args), times


def http_answer(code, retry_after=None):
    """What API Gateway sends for a throttled or failed request."""
    try:
        reason = http.HTTPStatus(code).phrase
    except ValueError:
        reason = "Error"
    body = json.dumps({"message": reason}).encode()
    head = (f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n")
    if retry_after is not None:
        head += f"Retry-After: {retry_after}\r\n"
    return head.encode() + b"\r\n" + body


class FaultProxy:
    """Listens on 127.0.0.1:listen_port (0: a free one, see .port) and
    forwards to target (host, port). Counters: connections, requests, faults."""

    def __init__(self, target, listen_port=0, control_file=None, mode="pass"):
        self.target = target
        self.control_file = control_file
        self._lock = threading.Lock()
        self._mode = parse_mode(mode)
        self._control_seen = None
        self._closed = False
        self._socks = set()
        self.connections = self.requests = self.faults = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", listen_port))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)
        self._thread.start()

    # ---- control ----

    def set_mode(self, text):
        """set_mode("delay 500"), set_mode("drop times=1"), set_mode("http 503 2")."""
        mode = parse_mode(text)
        with self._lock:
            self._mode = mode

    @property
    def mode(self):
        with self._lock:
            return self._mode

    def _read_control(self):
        try:
            st = os.stat(self.control_file)
            key = (st.st_mtime_ns, st.st_size, st.st_ino)
            if key == self._control_seen:
                return
            with open(self.control_file) as f:
                lines = [ln.split("#", 1)[0].strip() for ln in f]
        except OSError:
            return
        self._control_seen = key
        text = next((ln for ln in lines if ln), "pass")
        try:
            self._mode = parse_mode(text)
        except ValueError as e:
            print(f"faultproxy: {self.control_file}: {e}", file=sys.stderr)

    def _next_action(self):
        """The mode for a request that starts now; counts down times=N."""
        with self._lock:
            if self.control_file:
                self._read_control()
            name, args, times = self._mode
            self.requests += 1
            if name != "pass":
                self.faults += 1
            if times is not None:
                self._mode = ("pass", (), None) if times <= 1 else (name, args, times - 1)
            return name, args

    # ---- forwarding ----

    def _accept_loop(self):
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, *socks):
        with self._lock:
            self._socks.update(socks)

    def _forget(self, *socks):
        with self._lock:
            self._socks.difference_update(socks)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass

    def _serve(self, client):
        self._track(client)
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _reset(client)
            self._forget(client)
            return
        upstream.settimeout(None)
        self._track(upstream)
        socks = [client, upstream]
        new_request, swallow, lose = True, False, False
        try:
            while not self._closed:
                ready, _, _ = select.select(socks, [], [], 0.5)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is upstream:
                        if lose:   # the server acted; its answer never arrives
                            _close_gently(client)
                            return
                        new_request = True
                        client.sendall(data)
                        continue
                    if swallow:
                        continue
                    if new_request:
                        new_request = False
                        action, args = self._next_action()
                        if action == "drop":
                            _close_gently(client)
                            return
                        if action == "reset":
                            _reset(client)
                            return
                        if action in ("hang", "http"):
                            if action == "http":
                                client.sendall(http_answer(*args))
                                client.shutdown(socket.SHUT_WR)  # then read until the client closes
                            swallow = True
                            socks = [client]
                            self._forget(upstream)
                            break
                        if action == "delay":
                            time.sleep(args[0] / 1000)
                        lose = action == "lose"
                    upstream.sendall(data)
        except OSError:
            pass
        finally:
            self._forget(client, upstream)

    def close(self):
        self._closed = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept()
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            socks = list(self._socks)
        self._forget(*socks)
        self._thread.join(2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def _close_gently(sock):
    """FIN, not RST: read what is pending first (closing with unread input resets)."""
    try:
        sock.setblocking(False)
        while sock.recv(65536):
            pass
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main(argv=None):
    ap = argparse.ArgumentParser(prog="faultproxy.py", description="A TCP proxy that injects faults.")
    ap.add_argument("--target", required=True, help="HOST:PORT to forward to")
    ap.add_argument("--listen", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    ap.add_argument("--control", help="file whose first line sets the mode, re-read when it changes")
    ap.add_argument("--mode", default="pass", help='initial mode, e.g. "delay 500", "drop times=1", "http 429 2"')
    args = ap.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    try:
        proxy = FaultProxy((host or "127.0.0.1", int(port)), args.listen, args.control, args.mode)
    except ValueError as e:
        ap.error(str(e))
    print(f"port={proxy.port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        proxy.close()
        print(f"faultproxy: {proxy.connections} connections, {proxy.requests} requests, "
              f"{proxy.faults} faulted", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
