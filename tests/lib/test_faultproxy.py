# SPDX-License-Identifier: GPL-3.0-or-later
"""faultproxy.py: every mode, switched by method and by control file, per request."""

import http.client
import http.server
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from faultproxy import FaultProxy, parse_mode  # noqa: E402


class Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so one connection carries several requests
    served = []

    def do_GET(self):
        Hello.served.append(self.path)
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def target():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield ("127.0.0.1", srv.server_address[1])
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def proxy(target, tmp_path):
    with FaultProxy(target, control_file=str(tmp_path / "mode")) as fp:
        yield fp


def get(port, conn=None, timeout=5):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", "/")
    r = c.getresponse()
    return r.status, r.read()


def test_parse_mode():
    assert parse_mode("pass") == ("pass", (), None)
    assert parse_mode("delay 250 times=3") == ("delay", (250,), 3)
    assert parse_mode("http 503") == ("http", (503,), None)
    assert parse_mode("http 429 2 times=1") == ("http", (429, 2), 1)
    for bad in ["", "delay", "delay x", "drop 5", "explode", "drop times=0", "drop times=x", "http",
                "http 503 1 2", "delay -5"]:
        with pytest.raises(ValueError):
            parse_mode(bad)


def test_pass_and_counters(proxy):
    assert get(proxy.port) == (200, b"hello")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    assert get(proxy.port, conn) == get(proxy.port, conn) == (200, b"hello")
    assert (proxy.connections, proxy.requests, proxy.faults) == (2, 3, 0)


def test_delay(proxy):
    proxy.set_mode("delay 300")
    t = time.monotonic()
    assert get(proxy.port) == (200, b"hello")
    assert time.monotonic() - t >= 0.3


def test_drop_once_then_pass(proxy):
    proxy.set_mode("drop times=1")
    with pytest.raises(http.client.RemoteDisconnected):
        get(proxy.port)
    assert get(proxy.port) == (200, b"hello")
    assert proxy.mode == ("pass", (), None) and proxy.faults == 1


def test_reset(proxy):
    proxy.set_mode("reset")
    with pytest.raises(ConnectionResetError):
        get(proxy.port)


def test_hang_until_the_client_gives_up(proxy):
    proxy.set_mode("hang times=1")
    with pytest.raises(socket.timeout):
        get(proxy.port, timeout=0.4)
    assert get(proxy.port) == (200, b"hello")


def test_mode_applies_per_request_on_a_kept_alive_connection(proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    assert get(proxy.port, conn) == (200, b"hello")
    proxy.set_mode("drop")
    with pytest.raises(http.client.RemoteDisconnected):
        get(proxy.port, conn)


def test_lose_lets_the_server_act_and_drops_its_answer(proxy):
    proxy.set_mode("lose times=1")
    before = len(Hello.served)
    with pytest.raises(http.client.RemoteDisconnected):
        get(proxy.port)
    assert len(Hello.served) == before + 1       # the server did answer...
    assert get(proxy.port) == (200, b"hello")     # ...and the next request passes
    assert proxy.faults == 1


def test_http_answers_like_api_gateway(proxy):
    proxy.set_mode("http 429 2 times=2")
    for _ in range(2):
        c = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
        c.request("POST", "/api/v1/employees", body=b"x" * 300000)
        r = c.getresponse()
        assert (r.status, r.headers["Retry-After"], r.read()) == (429, "2", b'{"message": "Too Many Requests"}')
    proxy.set_mode("http 502")
    status, body = get(proxy.port)
    assert status == 502 and b"Bad Gateway" in body
    proxy.set_mode("pass")
    assert get(proxy.port) == (200, b"hello")


def test_control_file(proxy, tmp_path):
    mode = tmp_path / "mode"
    mode.write_text("# the next request fails\ndrop times=1\n")
    with pytest.raises(http.client.RemoteDisconnected):
        get(proxy.port)
    assert get(proxy.port) == (200, b"hello")
    os.unlink(mode)
    mode.write_text("drop times=1\n")  # the same text again re-arms it
    with pytest.raises(http.client.RemoteDisconnected):
        get(proxy.port)
    mode.write_text("nonsense\n")
    assert get(proxy.port) == (200, b"hello")


def test_target_down_resets(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with FaultProxy(("127.0.0.1", dead)) as fp:
        with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
            get(fp.port)


def test_cli(target, tmp_path):
    mode = tmp_path / "mode"
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "faultproxy.py"), "--target",
                             f"127.0.0.1:{target[1]}", "--control", str(mode), "--mode", "reset times=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().strip().removeprefix("port="))
        with pytest.raises(ConnectionResetError):
            get(port)
        assert get(port) == (200, b"hello")
        mode.write_text("drop\n")
        with pytest.raises(http.client.RemoteDisconnected):
            get(port)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=5)
    assert proc.returncode == 0 and "3 requests, 2 faulted" in err
