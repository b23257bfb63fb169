#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""apienv: the reference HTTP API over a throwaway PostgreSQL, with what the
http backend's tests put around it.

    with ApiEnv() as env:                 # PgServer + contrib/reference-api
        env.seed(rows=200)                # known anchors + filler rows
        env.url                           # http://127.0.0.1:PORT

    apienv.py serve                       # for the C tests (tests/unit/test_http.c)

`serve` starts everything below, prints NAME=VALUE lines and then "ready",
and obeys one command per line on stdin until stdin closes (so the servers
go away with the test, however it ends):

    api        the reference server
    auth_api   another one that wants `Authorization: Bearer <token>`
    proxy      tests/lib/faultproxy.py in front of `lose` (modes switchable)
    lose       a proxy that forwards a request, lets the server answer, and
               then resets the client's connection instead of relaying the
               answer ("lose N" arms it for the next N requests): the write
               happened, the client never heard
    canned     a server whose /api/v1/employees* answers are chosen by a
               "canned NAME" command (malformed JSON, wrong types, truncated,
               oversized, HTML...); /api/v1/health is fine unless the canned
               answer is one of the health_* ones
    tls        TLS in front of api, with a self-signed certificate (tls_ca)
    iam        API Gateway's IAM authorization in front of api: SigV4 for
               service execute-api checked by tests/aws/sigv4_verify.py with
               the key iam_key / iam_secret in iam_region

    mode TEXT     set the fault proxy's mode            -> ok
    lose N        lose the next N answers               -> ok
    canned NAME   choose the canned answer              -> ok
    sql SQL       run SQL (one line) through psycopg2   -> rows (tab-separated), then "end"
    seed N        truncate and seed N filler rows       -> ok
"""
import http.server
import json
import os
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from faultproxy import FaultProxy  # noqa: E402
from pgtmp import PgServer  # noqa: E402

SERVER = os.path.join(ROOT, "contrib", "reference-api", "server.py")
PY = "/usr/bin/python3"

ANCHORS = [
    ("00000000-0000-4000-8000-000000000001", "Ada Lovelace", "London", "Mathematician", '["Mac User"]'),
    ("00000000-0000-4000-8000-000000000002", "Zoë Ångström", "Zürich", "Physicist", '["Runner", "Coffee Snob"]'),
    ("00000000-0000-4000-8000-000000000003", "山田太郎", "東京", "エンジニア", None),
    ("00000000-0000-4000-8000-000000000004", "José Müller", "São Paulo", "Nurse", '["Dog Person"]'),
]


def filler(rows):
    return [("10000000-0000-4000-8000-%012d" % i, "Person %04d" % i, "City %d" % (i % 9),
             "Title %d" % (i % 5), '["Badge %d"]' % (i % 4)) for i in range(rows)]


def _die_with_parent():
    """In the child: SIGTERM when the process that started it dies, however
    it dies (Linux prctl PR_SET_PDEATHSIG), so no server outlives a test."""
    import ctypes
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def start_server(conninfo, token_file=None, extra=()):
    """The reference server on a free port: (process, base URL)."""
    cmd = [PY, SERVER, "--database", conninfo, "--port", "0", "--quiet"] + list(extra)
    if token_file:
        cmd += ["--token-file", token_file]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_die_with_parent)
    deadline = time.time() + 30
    line = ""
    while time.time() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            line = p.stdout.readline()
            if line.startswith("listening on "):
                # keep draining its stderr so it can never block on a full pipe
                threading.Thread(target=p.stderr.read, daemon=True).start()
                return p, line.split()[-1].strip()
            if not line:
                break
        if p.poll() is not None:
            break
    p.kill()
    err = p.stderr.read()
    raise RuntimeError("the reference server did not start: %s %s" % (line.strip(), err.strip()[-2000:]))


def stop(p):
    if p and p.poll() is None:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class ApiEnv:
    """PostgreSQL + the reference server (+ optional extras for `serve`)."""

    def __init__(self, token=None):
        self.tmp = tempfile.mkdtemp(prefix="apienv-")
        self.procs = []
        self.pg = PgServer()
        try:
            self.pg.create_schema()
            import psycopg2
            self.db = psycopg2.connect(self.pg.conninfo)
            self.db.autocommit = True
            self.server, self.url = start_server(self.pg.conninfo)
            self.procs.append(self.server)
            self.token = token
            if token:
                self.token_file = os.path.join(self.tmp, "token")
                with open(self.token_file, "w") as f:
                    f.write(token + "\n")
                p, self.auth_url = start_server(self.pg.conninfo, self.token_file)
                self.procs.append(p)
        except BaseException:
            self.close()
            raise

    def sql(self, text, args=None):
        with self.db.cursor() as cur:
            cur.execute(text, args)
            return cur.fetchall() if cur.description else []

    def seed(self, rows=200, extra=()):
        with self.db.cursor() as cur:
            cur.execute("TRUNCATE employees")
            cur.executemany("INSERT INTO employees VALUES (%s, %s, %s, %s, %s)",
                            ANCHORS + filler(rows) + list(extra))

    def close(self):
        for p in self.procs:
            stop(p)
        self.procs = []
        if getattr(self, "db", None):
            self.db.close()
            self.db = None
        if self.pg:
            self.pg.close()
            self.pg = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- the lose proxy ----

class LoseProxy:
    """Forwards to target; an armed request is forwarded, and once the server
    starts answering the client's connection is reset instead."""

    def __init__(self, target):
        self.target = target
        self.armed = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, n):
        with self.lock:
            self.armed = n

    def _take(self):
        with self.lock:
            if self.armed > 0:
                self.armed -= 1
                return True
            return False

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, client):
        try:
            up = socket.create_connection(self.target, timeout=5)
            up.settimeout(None)
        except OSError:
            client.close()
            return
        new_request, doomed = True, False
        try:
            while True:
                r, _, _ = select.select([client, up], [], [], 1)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is up:
                        if doomed:
                            _reset(client)
                            return
                        new_request = True
                        client.sendall(data)
                    else:
                        if new_request:
                            new_request = False
                            doomed = self._take()
                        up.sendall(data)
        except OSError:
            pass
        finally:
            for s in (client, up):
                try:
                    s.close()
                except OSError:
                    pass


def _reset(sock):
    import struct
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


# ---- the canned server ----

EMP = {"id": "c-1", "fullname": "Canned", "location": "Here", "job_title": "Tester",
       "badges": [], "version": "v1"}


def canned_answers():
    """name -> (status, content type, body bytes, extra headers)."""
    j = "application/json"

    def page(items, cursor=None):
        return json.dumps({"items": items, "next_cursor": cursor, "total": len(items)}).encode()
    big_item = dict(EMP, fullname="x" * 100)
    return {
        "good": (200, j, page([EMP]), {}),
        "html": (200, "text/html; charset=utf-8", b"<!doctype html><html><body><h1>Employee Directory</h1></body></html>", {}),
        "badjson": (200, j, b'{"items": [ {"id": "c-1",, } ', {}),
        "truncated": (200, j, page([EMP])[:-7], {}),
        "short_body": (200, j, page([EMP]), {"X-Short": "1"}),
        "wrong_type": (200, j, page([dict(EMP, fullname=42)]), {}),
        "wrong_badges": (200, j, page([dict(EMP, badges="Mac User")]), {}),
        "missing_version": (200, j, page([{k: v for k, v in EMP.items() if k != "version"}]), {}),
        "missing_cursor": (200, j, json.dumps({"items": [EMP]}).encode(), {}),
        "items_not_array": (200, j, json.dumps({"items": {"a": 1}, "next_cursor": None}).encode(), {}),
        "too_long": (200, j, page([dict(EMP, fullname="y" * 101)]), {}),
        "bad_version": (200, j, page([dict(EMP, version='a"b')]), {}),
        "not_object": (200, j, b"[1, 2, 3]", {}),
        "oversized": (200, j, b'{"items": [' + b",".join([json.dumps(big_item).encode()] * 60000) + b'], "next_cursor": null}', {}),
        "text_plain": (200, "text/plain", b"hello", {}),
        "problem_500": (500, "application/problem+json", json.dumps({"type": "about:blank", "title": "Internal Server Error", "status": 500, "detail": "boom \x1b[31m"}).encode(), {}),
        "health_404": (404, j, json.dumps({"message": "Not Found"}).encode(), {}),
        "health_v2": (200, j, json.dumps({"status": "ok", "version": "2.0"}).encode(), {}),
        "health_html": (200, "text/html", b"<html><body>Welcome</body></html>", {}),
        "health_wrong": (200, j, json.dumps({"status": 1}).encode(), {}),
    }


class CannedServer:
    def __init__(self):
        self.answers = canned_answers()
        self.current = "good"
        env = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                name = env.current
                if self.path.startswith("/api/v1/health"):
                    if name.startswith("health_") or name == "html":
                        status, ctype, body, extra = env.answers[name]
                    else:
                        status, ctype, body, extra = 200, "application/json", b'{"status": "ok"}', {}
                else:
                    status, ctype, body, extra = env.answers["good" if name.startswith("health_") else name]
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                length = len(body) + (100 if extra.get("X-Short") else 0)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                self.wfile.write(body)
                if extra.get("X-Short"):
                    self.wfile.flush()
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the client hung up on an oversized answer, as it should

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---- TLS in front of the API ----

class TlsFront:
    def __init__(self, target, tmp):
        self.target = target
        self.cert = os.path.join(tmp, "cert.pem")
        key = os.path.join(tmp, "key.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                            "-out", self.cert, "-days", "2", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("openssl req failed: " + r.stderr)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(self.cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, raw):
        try:
            raw.settimeout(5)
            c = self.ctx.wrap_socket(raw, server_side=True)
            c.settimeout(None)
            up = socket.create_connection(self.target, timeout=5)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        try:
            while True:
                socks = [c, up]
                r = [c] if c.pending() else select.select(socks, [], [], 1)[0]
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is c else c).sendall(data)
        except (OSError, ssl.SSLError):
            pass
        finally:
            c.close()
            up.close()


# ---- API Gateway's IAM authorization in front of the API ----

IAM_KEYS = {"AKIDEMPDIRTEST": {"secret": "empdir/test/secret/key", "session_token": None}}
IAM_REGION = "us-east-1"


class IamFront:
    """Checks each request's SigV4 signature (service execute-api) with the
    independent verifier in tests/aws, then forwards it; 403 as API Gateway
    answers when the signature is wrong."""

    def __init__(self, target):
        sys.path.insert(0, os.path.join(ROOT, "tests", "aws"))
        import sigv4_verify
        import http.client
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                path, _, query = self.path.partition("?")
                try:
                    sigv4_verify.verify(self.command, path, query, list(self.headers.items()), body,
                                        IAM_KEYS, time.time(), "execute-api", [IAM_REGION])
                except sigv4_verify.VerifyError as e:
                    msg = json.dumps({"message": str(e).split("\n")[0]}).encode()
                    self.send_response(403)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                c = http.client.HTTPConnection(*target, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                c.request(self.command, self.path, body=body or None, headers=headers)
                r = c.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                c.close()

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---- serve: the C tests' side ----

def serve():
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    env = ApiEnv(token="s3cret-t0ken-value")
    extras = []
    try:
        env.seed(rows=0)
        host, port = env.url.rsplit("/", 1)[-1].split(":")
        lose = LoseProxy((host, int(port)))
        proxy = FaultProxy(("127.0.0.1", lose.port))
        canned = CannedServer()
        extras += [proxy, canned]
        tls = TlsFront((host, int(port)), env.tmp)
        iam = IamFront((host, int(port)))
        extras.append(iam)
        out = sys.stdout
        for k, v in (("api", env.url), ("auth_api", env.auth_url), ("token", env.token),
                     ("proxy", "http://127.0.0.1:%d" % proxy.port), ("lose", "http://127.0.0.1:%d" % lose.port),
                     ("canned", "http://127.0.0.1:%d" % canned.port),
                     ("tls", "https://localhost:%d" % tls.port), ("tls_ca", tls.cert),
                     ("iam", "http://127.0.0.1:%d" % iam.port), ("iam_key", next(iter(IAM_KEYS))),
                     ("iam_secret", IAM_KEYS[next(iter(IAM_KEYS))]["secret"]), ("iam_region", IAM_REGION)):
            out.write("%s=%s\n" % (k, v))
        out.write("ready\n")
        out.flush()
        for line in sys.stdin:
            cmd, _, arg = line.rstrip("\n").partition(" ")
            try:
                if cmd == "mode":
                    proxy.set_mode(arg)
                elif cmd == "lose":
                    lose.arm(int(arg))
                elif cmd == "canned":
                    if arg not in canned.answers:
                        raise ValueError("no canned answer " + arg)
                    canned.current = arg
                elif cmd == "seed":
                    env.seed(rows=int(arg))
                elif cmd == "sql":
                    for row in env.sql(arg):
                        out.write("\t".join("" if v is None else str(v) for v in row) + "\n")
                    out.write("end\n")
                    out.flush()
                    continue
                else:
                    raise ValueError("unknown command " + cmd)
                out.write("ok\n")
            except Exception as e:  # the C side prints it and fails the test
                out.write("error %s\n" % str(e).replace("\n", " "))
                if cmd == "sql":
                    out.write("end\n")
            out.flush()
    finally:
        for x in extras:
            try:
                x.close()
            except Exception:
                pass
        env.close()


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "serve":
        serve()
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
