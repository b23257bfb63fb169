# SPDX-License-Identifier: GPL-3.0-or-later
"""Snapshots against the reference HTTP API over a real PostgreSQL: pull
(paged through the API), offline edits, push with version preconditions,
conflicts from remote edits, a push killed and run again, and malformed
answers to the batch endpoint."""
import http.client
import http.server
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from tui import BIN, ROOT

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from apienv import ApiEnv  # noqa: E402


@pytest.fixture(scope="module")
def api():
    try:
        env = ApiEnv()
    except Exception as e:
        pytest.fail("cannot start PostgreSQL and the reference API: %s" % e)
    yield env
    env.close()


def cli(*args, check=None):
    r = subprocess.run([BIN] + list(args), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8"), timeout=120)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    return r


def sql(path, stmt, *args):
    c = sqlite3.connect(path)
    c.execute(stmt, args)
    c.commit()
    c.close()


def remote(api):
    return sorted(tuple(r) for r in api.sql("SELECT id, fullname, location, job_title, coalesce(badges, '[]') FROM employees"))


def local(path):
    c = sqlite3.connect(path)
    try:
        return sorted(c.execute("SELECT id, fullname, location, job_title, coalesce(badges, '[]') FROM employees").fetchall())
    finally:
        c.close()


def test_round_trip_through_the_api(api, tmp_path):
    api.seed(rows=120)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--api", api.url, snap, check=0)
    assert local(snap) == remote(api)
    sql(snap, "UPDATE employees SET location = 'Mars' WHERE fullname = 'Ada Lovelace'")
    sql(snap, "INSERT INTO employees VALUES ('aaaaaaaa-0000-4000-8000-000000000001', 'New Hire', 'Moon', 'Pilot', '[]')")
    sql(snap, "DELETE FROM employees WHERE fullname = 'José Müller'")
    r = cli("snapshot", "push", snap, check=0)
    assert "pushed 3 edits; 0 waiting" in r.stdout
    assert local(snap) == remote(api)


def test_remote_changes_are_conflicts(api, tmp_path):
    api.seed(rows=20)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--api", api.url, snap, check=0)
    api.sql("UPDATE employees SET job_title = 'Countess' WHERE fullname = 'Ada Lovelace'")
    api.sql("DELETE FROM employees WHERE fullname = 'José Müller'")
    sql(snap, "UPDATE employees SET location = 'Paris' WHERE fullname = 'Ada Lovelace'")
    sql(snap, "UPDATE employees SET location = 'Lisbon' WHERE fullname = 'José Müller'")
    r = cli("snapshot", "push", snap, check=1)
    assert "2 conflicts" in r.stdout
    assert api.sql("SELECT job_title, location FROM employees WHERE fullname = 'Ada Lovelace'") == [("Countess", "London")]


def test_push_killed_and_run_again(api, tmp_path):
    api.seed(rows=20)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--api", api.url, snap, check=0)
    c = sqlite3.connect(snap)
    for i in range(60):
        c.execute("INSERT INTO employees VALUES (?, ?, 'Lab', 'Tester', '[]')",
                  ("bbbbbbbb-0000-4000-8000-%012d" % i, "Killed %02d" % i))
        c.commit()
    c.execute("UPDATE employees SET job_title = 'Edited' WHERE fullname LIKE 'Killed 1%'")
    c.commit()
    c.close()
    expected = local(snap)
    for delay in (0.05, 0.15, 0.3):
        p = subprocess.Popen([BIN, "snapshot", "push", snap], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert local(snap) == expected
    r = cli("snapshot", "push", snap)
    assert r.returncode == 0, r.stdout + r.stderr
    assert remote(api) == expected
    assert api.sql("SELECT count(*) FROM employees WHERE fullname LIKE 'Killed %%'") == [(60,)]


def test_push_without_the_batch_endpoint(api, tmp_path):
    """A deployment that does not offer batch gets one request per edit."""
    from apienv import start_server, stop
    api.seed(rows=10)
    server, url = start_server(api.pg.conninfo, extra=("--no-batch",))
    try:
        snap = str(tmp_path / "snap.db")
        cli("snapshot", "pull", "--api", url, snap, check=0)
        sql(snap, "UPDATE employees SET location = 'Oslo' WHERE fullname LIKE 'Person%'")
        r = cli("snapshot", "push", snap, "--api", url, check=0)
        assert "pushed 10 edits; 0 waiting" in r.stdout
        assert local(snap) == remote(api)
    finally:
        stop(server)


# ---- malformed answers to the batch endpoint ----

class BatchMangler:
    """HTTP in front of the reference server: every request is forwarded, but
    the answer to the nth batch request is replaced by mangle(the server's
    answer); the server has applied that batch unless forward is False (then
    mangle gets None). .batches: each batch request's operations.
    on_request(method, path) runs before each request is forwarded."""

    def __init__(self, target_url, nth, mangle, forward=True, on_request=None):
        target = urllib.parse.urlsplit(target_url)
        self.batches = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                if on_request:
                    on_request(self.command, self.path)
                mangled = False
                if self.command == "POST" and self.path.endswith("/employees/batch"):
                    outer.batches.append(json.loads(body)["operations"])
                    mangled = len(outer.batches) == nth
                if mangled and not forward:
                    status, headers, data = 200, [("Content-Type", "application/json")], mangle(None)
                else:
                    hop = ("host", "connection", "content-length")
                    c = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                    c.request(self.command, self.path, body=body,
                              headers={k: v for k, v in self.headers.items() if k.lower() not in hop})
                    r = c.getresponse()
                    status, headers, data = r.status, r.getheaders(), r.read()
                    c.close()
                    if mangled:
                        data = mangle(data)
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def mangle_results(change):
    """A mangle that applies change(results) to the parsed answer."""
    def mangle(body):
        doc = json.loads(body)
        change(doc["results"])
        return json.dumps(doc).encode()
    return mangle


def with_record(results):
    """The first result that carries a record (a create's or a replace's)."""
    return next(r for r in results if "employee" in r)


def no_record(results):
    """A create's or a replace's result as a 204, without the record it stored."""
    r = with_record(results)
    del r["employee"]
    r["status"] = 204


def other_id(results):
    """The first record given another result's id."""
    mine = with_record(results)
    mine["employee"]["id"] = next(r["employee"]["id"] for r in results if "employee" in r and r is not mine)


MALFORMED = {
    "truncated": (lambda body: body[:len(body) // 2], True),
    "html": (lambda body: b"<html><body>502 Bad Gateway</body></html>", True),
    "unapplied_truncated": (lambda body: b'{"results": [{"status": 20', False),
    "no_results": (lambda body: b'{"items": []}', True),
    "results_not_array": (lambda body: b'{"results": {"status": 200}}', True),
    "one_result_missing": (mangle_results(lambda rs: rs.pop()), True),
    "one_result_too_many": (mangle_results(lambda rs: rs.append(rs[0])), True),
    "result_not_object": (mangle_results(lambda rs: rs.__setitem__(-1, 204)), True),
    "status_missing": (mangle_results(lambda rs: rs[-1].pop("status")), True),
    "status_a_string": (mangle_results(lambda rs: rs[-1].update(status="200")), True),
    "employee_missing": (mangle_results(lambda rs: with_record(rs).pop("employee")), True),
    "employee_not_object": (mangle_results(lambda rs: with_record(rs).update(employee=[])), True),
    "version_missing": (mangle_results(lambda rs: with_record(rs)["employee"].pop("version")), True),
    "fullname_a_number": (mangle_results(lambda rs: with_record(rs)["employee"].update(fullname=7)), True),
    "no_record_for_a_write": (mangle_results(no_record), True),
    "record_of_another_id": (mangle_results(other_id), True),
    "results_reordered": (mangle_results(lambda rs: rs.reverse()), True),
}


def pending_ids(path):
    c = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in c.execute("SELECT id FROM empdir_journal WHERE state = 'pending'"))
    finally:
        c.close()


PUSHED = re.compile(r"pushed (\d+) edits?(?:, (\d+) already applied by an earlier push)?; 0 waiting")


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_batch_answer_loses_nothing(api, tmp_path, name):
    """A malformed answer to the second batch (applied by the server, mostly):
    push stops with a clear message, the first batch's edits are confirmed,
    every edit of the second one still waits, and a push to a good server
    then settles them all, each once, with the right versions."""
    mangle, forward = MALFORMED[name]
    api.seed(rows=300)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--api", api.url, snap, check=0)
    c = sqlite3.connect(snap)
    fillers = [r[0] for r in c.execute("SELECT id FROM employees WHERE fullname LIKE 'Person%' ORDER BY id")]
    c.executemany("UPDATE employees SET location = 'Replaced' WHERE id = ?", [(i,) for i in fillers[:180]])
    c.executemany("DELETE FROM employees WHERE id = ?", [(i,) for i in fillers[180:200]])
    c.executemany("INSERT INTO employees VALUES (?, ?, 'Lab', 'Tester', '[]')",
                  [("cccccccc-0000-4000-8000-%012d" % i, "Created %02d" % i) for i in range(20)])
    c.executemany("UPDATE employees SET job_title = 'Replaced' WHERE id = ?", [(i,) for i in fillers[200:215]])
    c.executemany("DELETE FROM employees WHERE id = ?", [(i,) for i in fillers[215:230]])
    c.commit()
    c.close()
    edited = pending_ids(snap)
    assert len(edited) == 250
    expected = local(snap)

    proxy = BatchMangler(api.url, 2, mangle, forward)
    try:
        r = cli("snapshot", "push", snap, "--api", proxy.url)
    finally:
        proxy.close()
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "malformed answer to POST /api/v1/employees/batch" in r.stderr, r.stderr
    assert len(proxy.batches) == 2
    # Confirmed: exactly the first batch. Waiting: everything else, the second batch included.
    first = {op["id"] for op in proxy.batches[0]}
    assert pending_ids(snap) == sorted(set(edited) - first)
    assert {op["id"] for op in proxy.batches[1]} <= set(pending_ids(snap))
    assert local(snap) == expected

    r = cli("snapshot", "push", snap, check=0)
    m = PUSHED.search(r.stdout)
    assert m, r.stdout
    assert int(m.group(1)) + int(m.group(2) or 0) == 250 - len(first)
    assert local(snap) == expected == remote(api)
    # The versions recorded are the server's: records of the mangled batch take one more edit, no conflict.
    changed = [op["id"] for op in proxy.batches[1] if op["op"] != "delete"]
    sql(snap, "UPDATE employees SET fullname = 'Again' WHERE id IN (?, ?)", changed[0], changed[-1])
    r = cli("snapshot", "push", snap, check=0)
    assert "pushed 2 edits; 0 waiting" in r.stdout
    assert local(snap) == remote(api)


def test_a_record_renamed_while_the_pull_pages_is_kept_once(api, tmp_path):
    """A pull through the API pages in name order. A record renamed between
    two pages, from the first page's names to the last's, comes twice: the
    snapshot keeps it once, as it is now, with its version."""
    api.seed(rows=1200)
    first = api.sql("SELECT id FROM employees ORDER BY fullname, id LIMIT 1")[0][0]
    pages = []

    def rename_after_the_first_page(method, path):
        if method == "GET" and path.startswith("/api/v1/employees?"):
            pages.append(path)
            if len(pages) == 2:
                api.sql("UPDATE employees SET fullname = 'Zzz Renamed Meanwhile' WHERE id = %s", (first,))

    proxy = BatchMangler(api.url, 0, None, on_request=rename_after_the_first_page)
    snap = str(tmp_path / "snap.db")
    try:
        r = cli("snapshot", "pull", "--api", proxy.url, snap, check=0)
    finally:
        proxy.close()
    assert len(pages) >= 3
    assert local(snap) == remote(api)
    assert "pulled %d employees" % len(remote(api)) in r.stdout
    c = sqlite3.connect(snap)
    try:
        assert c.execute("SELECT fullname FROM employees WHERE id = ?", (first,)).fetchall() == [
            ("Zzz Renamed Meanwhile",)]
    finally:
        c.close()
