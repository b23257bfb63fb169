# SPDX-License-Identifier: GPL-3.0-or-later
"""pgtmp.py: the CLI the C tests and benchmarks use, crash and restart, cleanup."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import psycopg2
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pgtmp  # noqa: E402

PGTMP = os.path.join(HERE, "pgtmp.py")


def cli(*args):
    r = subprocess.run([sys.executable, PGTMP, *args], capture_output=True, text=True, timeout=60)
    return r.returncode, dict(ln.split("=", 1) for ln in r.stdout.splitlines()), r.stderr


def postmaster(datadir):
    try:
        with open(os.path.join(datadir, "postmaster.pid")) as f:
            pid = int(f.readline())
    except OSError:
        return None
    return pid if pgtmp._alive(pid) else None


def test_cli_start_restart_kill_stop(tmp_path):
    # As root the server runs as another user, who must reach DIR: pytest's
    # tmp_path sits in a 0700 directory, mkdtemp's own directory is fine.
    d = tempfile.mkdtemp(prefix="pgtmp-cli-")
    rc, info, err = cli("start", d, "--trgm")
    assert rc == 0, err
    port = int(info["port"])
    assert info["conninfo"] == f"host=127.0.0.1 port={port} dbname=empdir user=postgres"
    assert info["url"] == f"postgresql://postgres@127.0.0.1:{port}/empdir"
    try:
        with psycopg2.connect(info["conninfo"]) as conn, conn.cursor() as cur:
            cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'employees' ORDER BY 1")
            assert [r[0] for r in cur.fetchall()] == [
                "employees_badges_trgm", "employees_fullname_trgm", "employees_job_title_trgm",
                "employees_location_trgm", "employees_pkey"]
            cur.execute("INSERT INTO employees VALUES ('1', 'A', 'B', 'C', NULL)")
        conn.close()
        assert cli("start", d)[1]["port"] == str(port)  # already running: same server
        assert cli("restart", d)[1]["port"] == str(port)
        assert cli("kill", d)[0] == 0 and postmaster(os.path.join(d, "data")) is None
        rc, info, err = cli("start", d)
        assert rc == 0 and info["port"] == str(port), err
        with psycopg2.connect(info["conninfo"]) as conn, conn.cursor() as cur:
            cur.execute("SELECT fullname FROM employees")
            assert cur.fetchall() == [("A",)]  # committed before the crash: kept
        conn.close()
    finally:
        assert cli("stop", d)[0] == 0
        assert postmaster(os.path.join(d, "data")) is None
        shutil.rmtree(d)
    rc, _, err = cli("stop", str(tmp_path / "nothing"))
    assert rc == 1 and "no PostgreSQL data directory" in err


def test_server_object_lifecycle():
    with pgtmp.PgServer(password_user=("app", "s3cret")) as pg:
        pg.create_schema()
        assert pg.psql("SELECT 1 + 1").strip() == "2"
        conn = psycopg2.connect(pg.conninfo_for("app", "s3cret"))
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO employees VALUES ('x', 'A', 'B', 'C', '[]')")
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(pg.conninfo_for("app", "wrong"))
        port, pid = pg.port, pg.postmaster_pid()
        pg.restart()
        assert pg.port == port and pg.postmaster_pid() != pid
        with pytest.raises(psycopg2.OperationalError):
            conn.cursor().execute("SELECT 1")  # the restart ended it
        pg.kill()
        assert not pg.running()
        pg.start()
        assert pg.port == port and pg.psql("SELECT id FROM employees").strip() == "x"
        d, pid = pg.dir, pg.postmaster_pid()
    assert not os.path.exists(d) and not pgtmp._alive(pid)


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {here!r})
    import pgtmp
    pg = pgtmp.PgServer()
    print(pg.dir, pg.postmaster_pid(), flush=True)
    time.sleep(60)
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_nothing_left_when_the_owner_dies(sig):
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(here=HERE)], stdout=subprocess.PIPE, text=True)
    d, pid = child.stdout.readline().split()
    child.send_signal(sig)
    child.wait(30)
    if sig == signal.SIGKILL:  # no chance to clean up: the next PgServer reaps it
        assert os.path.exists(d)
        pgtmp.reap_orphans()
    deadline = time.monotonic() + 10
    while pgtmp._alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pgtmp._alive(int(pid)) and not os.path.exists(d)
