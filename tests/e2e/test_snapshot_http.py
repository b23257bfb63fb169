"""Snapshots against the reference HTTP API over a real PostgreSQL: pull
(paged through the API), offline edits, push with version preconditions,
conflicts from remote edits, and a push killed and run again."""
import os
import signal
import sqlite3
import subprocess
import sys
import time

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
