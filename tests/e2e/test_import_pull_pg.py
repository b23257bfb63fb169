# SPDX-License-Identifier: GPL-3.0-or-later
"""PostgreSQL and the offline side: `snapshot pull` streamed with the COPY
protocol (the snapshot equals the table row by row, versions included),
offline edits pushed back, remote changes between pull and push detected as
conflicts, a pull killed at random points, and `empdir-tui import` of a
generated legacy file (integer ids, comma badges) verified row by row, with
--dry-run, --on-conflict and the refusals.

One real server (tests/lib/pgtmp.py) for the module; every test works in a
database of its own."""
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import psycopg2
import pytest

from tui import BIN, HOSTILE_NAME, ROOT, query, snapshot_versions

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import pgtmp  # noqa: E402

GEN = os.environ.get("EMPDIR_GEN_BIN", os.path.join(ROOT, "build", "empdir-gen"))
VERSION_SQL = ("md5(convert_to(id || chr(31) || fullname || chr(31) || location || chr(31) || "
               "job_title || chr(31) || coalesce(badges, chr(30)), 'UTF8'))")

# Rows the COPY text format must carry unchanged: escapes, NULL badges,
# comma badges left from the legacy days, terminal attacks.
TRICKY = [
    ("t-backslash", "Back\\slash \\N", "C:\\path", "Tab\there", '["q\\"uote", "b\\\\s"]'),
    ("t-newline", "New\nline", "Cr\rhere", "Nul badges", None),
    ("t-comma", "Comma Badges", "Oslo", "Clerk", "Runner, Coffee Snob"),
    ("t-hostile", HOSTILE_NAME.replace("\x00", ""), "Nowhere", "Attacker", '["\\u001b[31mred"]'),
    ("t-unicode", "Zoë Ångström 山田太郎", "Zürich", "Physicist", "[]"),
]
ADA = "00000000-0000-4000-8000-000000000001"  # an anchor of every generated file
_db_ids = itertools.count()


@pytest.fixture(scope="module")
def server():
    srv = pgtmp.PgServer()
    try:
        yield srv
    finally:
        srv.close()


class Db:
    """One database of the server, with the deployed employees table."""

    def __init__(self, srv, table=True):
        self.srv = srv
        self.name = "t%d" % next(_db_ids)
        srv.psql('CREATE DATABASE "%s"' % self.name, dbname="postgres")
        self.conninfo = "host=127.0.0.1 port=%d dbname=%s user=postgres" % (srv.port, self.name)
        if table:
            self.sql(pgtmp.TABLE_SQL)

    def sql(self, stmt, *args):
        conn = psycopg2.connect(self.conninfo)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(stmt, args or None)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def copy_csv(self, path):
        conn = psycopg2.connect(self.conninfo)
        try:
            with conn, conn.cursor() as cur, open(path, encoding="utf-8") as f:
                cur.copy_expert("COPY employees FROM STDIN CSV HEADER", f)
        finally:
            conn.close()

    def rows(self):
        return {r[0]: tuple(r[1:]) for r in self.sql(
            "SELECT id, fullname, location, job_title, badges FROM employees")}

    def versions(self):
        return dict(self.sql("SELECT id, %s FROM employees" % VERSION_SQL))

    def fingerprint(self):
        return self.sql("SELECT count(*), md5(coalesce(string_agg(%s, '' ORDER BY id COLLATE \"C\"), '')) "
                        "FROM employees" % VERSION_SQL)[0]


def cli(*args, check=None, env=None, timeout=120):
    e = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    e.update(env or {})
    r = subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    return r


def gen(tmp_path, rows, *extra):
    out = str(tmp_path / ("gen-%d%s.%s" % (rows, "".join(extra).replace("-", ""),
                                             "csv" if "csv" in extra else "db")))
    subprocess.run([GEN, "--rows", str(rows), "--seed", "7", "--out", out] + list(extra), check=True)
    return out


def seeded(server, tmp_path, rows=2000):
    db = Db(server)
    db.copy_csv(gen(tmp_path, rows, "--format", "csv"))
    conn = psycopg2.connect(db.conninfo)
    with conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO employees VALUES (%s, %s, %s, %s, %s)", TRICKY)
    conn.close()
    return db


def decoded(badges):
    """Badges as the program reads them: a JSON array, or a comma list."""
    if badges is None or badges.strip() == "":
        return []
    if badges.lstrip().startswith("["):
        return json.loads(badges)
    return [p.strip() for p in badges.split(",") if p.strip()]


def snapshot_rows(path):
    return {r[0]: (r[1], r[2], r[3], decoded(r[4])) for r in query(
        path, "SELECT id, fullname, location, job_title, badges FROM employees")}


def as_read(rows):
    return {k: (v[0], v[1], v[2], decoded(v[3])) for k, v in rows.items()}


# ---- pull, edit, push ----

def test_pull_copies_the_table_row_by_row_with_its_versions(server, tmp_path):
    db = seeded(server, tmp_path)
    snap = str(tmp_path / "snap.db")
    r = cli("snapshot", "pull", "--pg", db.conninfo, snap, check=0)
    assert "pulled" in r.stdout
    # Rows as stored (NULL and comma badges too), so a version is the
    # content's: none needs storing.
    assert {r[0]: r[1:] for r in query(snap, "SELECT id, fullname, location, job_title, badges FROM employees")} \
        == db.rows()
    assert snapshot_versions(snap) == db.versions()
    assert query(snap, "SELECT count(*) FROM empdir_remote") == [(0,)]
    meta = dict(query(snap, "SELECT key, value FROM empdir_meta"))
    assert meta["source_backend"] == "pg" and meta["source_target"] == db.conninfo
    assert query(snap, "PRAGMA integrity_check") == [("ok",)]
    # ids are unique; the search index waits for the first open
    assert ("empdir_by_id",) in query(snap, "SELECT name FROM pragma_index_list('employees') WHERE \"unique\"")
    assert query(snap, "SELECT count(*) FROM sqlite_master WHERE name = 'empdir_fts'") == [(0,)]
    assert "search index: not yet (built on the first open)" in cli("snapshot", "status", snap, check=0).stdout
    # ... or is built in the same step with --index, and finds a tricky row
    indexed = str(tmp_path / "indexed.db")
    cli("snapshot", "pull", "--index", "--pg", db.conninfo, indexed, check=0)
    assert query(indexed, "SELECT count(*) FROM empdir_fts WHERE empdir_fts MATCH 'mma' AND rowid = "
                          "(SELECT rowid FROM employees WHERE id = 't-comma')") == [(1,)]
    assert "search index: built" in cli("snapshot", "status", indexed, check=0).stdout
    status = cli("snapshot", "status", snap, check=0).stdout
    assert "source: pg" in status and "edits waiting: 0" in status


def test_offline_edits_are_pushed_to_pg(server, tmp_path):
    db = seeded(server, tmp_path, rows=300)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--pg", db.conninfo, snap, check=0)
    c = sqlite3.connect(snap)
    c.execute("UPDATE employees SET location = 'Mars' WHERE id = 't-comma'")
    c.execute("DELETE FROM employees WHERE id = 't-unicode'")
    # several edits of one record: each is based on the one before
    twice, gone = ADA[:-1] + "2", ADA[:-1] + "3"
    c.execute("UPDATE employees SET job_title = 'First' WHERE id = ?", (twice,))
    c.execute("UPDATE employees SET job_title = 'Second' WHERE id = ?", (twice,))
    c.execute("UPDATE employees SET location = 'Gone soon' WHERE id = ?", (gone,))
    c.execute("DELETE FROM employees WHERE id = ?", (gone,))
    c.execute("INSERT INTO employees VALUES ('n-1', 'New Hire', 'Moon', 'Pilot', '[\"Astronaut\"]')")
    c.commit()
    c.close()
    r = cli("snapshot", "push", snap, check=0)
    assert "pushed 7 edits; 0 waiting" in r.stdout
    rows = db.rows()
    assert rows["t-comma"][1] == "Mars" and "t-unicode" not in rows
    assert rows[twice][2] == "Second" and gone not in rows
    assert rows["n-1"] == ("New Hire", "Moon", "Pilot", '["Astronaut"]')
    assert snapshot_rows(snap) == as_read(rows)
    assert snapshot_versions(snap) == db.versions()


def test_remote_changes_between_pull_and_push_are_conflicts(server, tmp_path):
    db = seeded(server, tmp_path, rows=300)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--pg", db.conninfo, snap, check=0)
    db.sql("UPDATE employees SET job_title = 'Countess' WHERE id = 't-comma'")
    db.sql("DELETE FROM employees WHERE id = 't-unicode'")
    c = sqlite3.connect(snap)
    for id_, loc in (("t-comma", "Paris"), ("t-unicode", "Lisbon"), (ADA, "Rome")):
        c.execute("UPDATE employees SET location = ? WHERE id = ?", (loc, id_))
    c.commit()
    c.close()
    r = cli("snapshot", "push", snap, check=1)
    assert "pushed 1 edit" in r.stdout and "2 conflicts" in r.stdout
    rows = db.rows()
    assert rows["t-comma"][1:3] == ("Oslo", "Countess")  # theirs kept, not overwritten
    assert "t-unicode" not in rows
    assert rows[ADA][1] == "Rome"
    assert query(snap, "SELECT id FROM empdir_journal WHERE state = 'conflict' ORDER BY id") == [
        ("t-comma",), ("t-unicode",)]


def test_batched_push_replayed_applies_nothing_twice(server, tmp_path):
    """Push sends edits in batches (one statement each). A push whose
    confirmations were lost (the journal as it was before the push) is run
    again: every edit is recognised as already applied, none is applied twice.
    Deletes and creates that collide with remote changes are conflicts."""
    db = seeded(server, tmp_path, rows=600)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--pg", db.conninfo, snap, check=0)
    c = sqlite3.connect(snap)
    c.execute("UPDATE employees SET job_title = 'Batched ' || substr(job_title, 1, 40) WHERE rowid IN "
              "(SELECT rowid FROM employees WHERE id NOT LIKE 't-%' ORDER BY id LIMIT 450)")
    c.execute("DELETE FROM employees WHERE id = 't-backslash'")
    c.execute("INSERT INTO employees VALUES ('n-batch', 'Batch Hire', 'Moon', 'Pilot', '[]')")
    c.commit()
    c.close()
    before = str(tmp_path / "before-push.db")
    with sqlite3.connect(snap) as src, sqlite3.connect(before) as dst:
        src.backup(dst)
    r = cli("snapshot", "push", snap, check=0)
    assert "pushed 452 edits; 0 waiting" in r.stdout
    after = db.fingerprint()
    assert sum(1 for v in db.rows().values() if v[2].startswith("Batched ")) == 450
    r = cli("snapshot", "push", before, check=0)
    assert "pushed 0 edits, 452 already applied by an earlier push; 0 waiting" in r.stdout
    assert db.fingerprint() == after
    assert snapshot_versions(before) == db.versions()

    # Remote changes between pull and push, now through the batch: a delete
    # of a changed row and a create whose id someone else took.
    cli("snapshot", "pull", "--pg", db.conninfo, snap, check=0)
    db.sql("UPDATE employees SET location = 'Elsewhere' WHERE id = 't-newline'")
    c = sqlite3.connect(snap)
    c.execute("DELETE FROM employees WHERE id = 't-newline'")
    c.execute("INSERT INTO employees VALUES ('n-taken', 'Mine', 'Here', 'Clerk', '[]')")
    c.commit()
    c.close()
    db.sql("INSERT INTO employees VALUES ('n-taken', 'Theirs', 'There', 'Clerk', '[]')")
    r = cli("snapshot", "push", snap, check=None)
    assert r.returncode != 0
    rows = db.rows()
    assert rows["t-newline"][1] == "Elsewhere"
    assert rows["n-taken"][0] == "Theirs"


def test_a_snapshot_is_never_pushed_into_another_directory(server, tmp_path):
    """The snapshot records which directory it came from (the cluster's
    system identifier and the database); pushing it anywhere else is refused
    before anything is sent, and its edits wait for the right one."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = seeded(server, tmp_path / "a", rows=50), seeded(server, tmp_path / "b", rows=50)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--pg", a.conninfo, snap, check=0)
    c = sqlite3.connect(snap)
    c.execute("UPDATE employees SET location = 'Elsewhere' WHERE id = ?", (ADA,))
    c.commit()
    c.close()
    untouched = b.fingerprint()
    r = cli("snapshot", "push", snap, "--pg", b.conninfo, check=1)
    assert "pulled from another directory" in r.stderr and "nothing was sent" in r.stderr
    assert b.fingerprint() == untouched
    assert query(snap, "SELECT count(*) FROM empdir_journal WHERE state = 'pending'") == [(1,)]
    r = cli("snapshot", "push", snap, "--pg", a.conninfo.replace("127.0.0.1", "localhost"), check=0)
    assert "pushed 1 edit; 0 waiting" in r.stdout
    assert a.rows()[ADA][1] == "Elsewhere"


def test_pull_killed_at_random_points_leaves_the_old_snapshot(server, tmp_path):
    db = seeded(server, tmp_path, rows=20000)
    snap = str(tmp_path / "snap.db")
    t0 = time.monotonic()
    cli("snapshot", "pull", "--pg", db.conninfo, snap, check=0)
    took = time.monotonic() - t0
    before = snapshot_rows(snap)
    db.sql("UPDATE employees SET location = 'Changed' WHERE id LIKE 't-%'")
    after = as_read(db.rows())
    rnd = random.Random(11)
    for _ in range(6):
        p = subprocess.Popen([BIN, "snapshot", "pull", "--pg", db.conninfo, snap],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.0, took))
        p.send_signal(signal.SIGKILL)
        p.wait()
        assert query(snap, "PRAGMA quick_check") == [("ok",)]
        now = snapshot_rows(snap)
        assert now == before or now == after
    for leftover in os.listdir(str(tmp_path)):
        if leftover.startswith("snap.db.pull-"):
            os.unlink(str(tmp_path / leftover))
    cli("snapshot", "pull", "--pg", db.conninfo, snap, check=0)
    assert snapshot_rows(snap) == after


def test_a_connection_killed_during_the_copy_fails_the_pull_cleanly(server, tmp_path):
    db = seeded(server, tmp_path, rows=20000)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--pg", db.conninfo, snap, check=0)
    before = snapshot_rows(snap)
    db.sql("UPDATE employees SET location = 'Changed' WHERE id LIKE 't-%'")
    # The COPY waits behind a lock until its connection is terminated.
    holder = psycopg2.connect(db.conninfo)
    holder.cursor().execute("LOCK TABLE employees IN ACCESS EXCLUSIVE MODE")
    p = subprocess.Popen([BIN, "snapshot", "pull", "--pg", db.conninfo, snap], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    killed = []
    deadline = time.monotonic() + 20
    while not killed and p.poll() is None and time.monotonic() < deadline:
        killed = db.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                        "AND state = 'active' AND query LIKE 'COPY (SELECT%%'", db.name)
    out, err = p.communicate(timeout=60)
    holder.rollback()
    holder.close()
    assert killed, "the COPY ended before it could be interrupted"
    assert p.returncode == 1, (out, err)
    assert "connection" in err and "lost" in err
    assert snapshot_rows(snap) == before
    assert [f for f in os.listdir(str(tmp_path)) if f.startswith("snap.db.pull-")] == []


def aurora_config(path, server, db):
    """A config naming db as the connection "aurora"."""
    path.write_text("[connection aurora]\nbackend = pg\nhost = 127.0.0.1\nport = %d\ndbname = %s\n"
                    "user = postgres\nstatement_timeout = 5\nconnect_timeout = 5\n" % (server.port, db.name))


def test_export_from_pg_streams_in_the_same_order_as_every_backend(server, tmp_path):
    """From pg, export is one COPY sorted by the server; it writes exactly
    what a paged export of a snapshot of the same table writes (order,
    escapes, NULL and comma badges), in CSV and JSON."""
    db = seeded(server, tmp_path, rows=700)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--pg", db.conninfo, snap, check=0)
    for fmt in ("csv", "json"):
        streamed = cli("export", "--pg", db.conninfo, "--format", fmt, check=0).stdout
        paged = cli("export", "--offline", snap, "--format", fmt, check=0).stdout
        assert streamed == paged
    rows = json.loads(streamed)
    assert len(rows) == len(db.rows())
    assert {r["id"]: r["badges"] for r in rows}["t-comma"] == ["Runner", "Coffee Snob"]
    assert {r["id"]: r["badges"] for r in rows}["t-newline"] == []


def test_ctrl_c_during_a_pull_leaves_nothing_behind(server, tmp_path):
    """Ctrl-C (or SIGTERM, SIGHUP) while the COPY runs: the temporary file
    is removed at once, the snapshot is as it was, and the exit status says
    which signal it was."""
    db = seeded(server, tmp_path, rows=200)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "--pg", db.conninfo, snap, check=0)
    before = snapshot_rows(snap)
    for sig in (signal.SIGINT, signal.SIGTERM):
        holder = psycopg2.connect(db.conninfo)  # the COPY waits behind this lock
        holder.cursor().execute("LOCK TABLE employees IN ACCESS EXCLUSIVE MODE")
        p = subprocess.Popen([BIN, "snapshot", "pull", "--pg", db.conninfo, snap], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        waiting = []
        deadline = time.monotonic() + 20
        while not waiting and time.monotonic() < deadline:
            waiting = db.sql("SELECT pid FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
                             "AND query LIKE 'COPY (SELECT%%'", db.name)
        assert waiting, "the pull never reached its COPY"
        assert [f for f in os.listdir(str(tmp_path)) if f.startswith("snap.db.pull-")]
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
        holder.rollback()
        holder.close()
        assert p.returncode == -sig, (p.returncode, out, err)
        assert "pull interrupted; the snapshot file is unchanged" in err
        assert [f for f in os.listdir(str(tmp_path)) if f.startswith("snap.db.pull-")] == []
        assert snapshot_rows(snap) == before


def test_pull_from_a_named_connection_and_a_missing_table(server, tmp_path):
    db = seeded(server, tmp_path, rows=50)
    cfg = tmp_path / "config"
    aurora_config(cfg, server, db)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "aurora", snap, check=0, env={"EMPDIR_CONFIG": str(cfg)})
    assert snapshot_rows(snap) == as_read(db.rows())
    assert "source: pg aurora" in cli("snapshot", "status", snap, check=0).stdout
    empty = Db(server, table=False)
    r = cli("snapshot", "pull", "--pg", empty.conninfo, str(tmp_path / "none.db"), check=3)
    assert "no employees table" in r.stderr
    assert not os.path.exists(str(tmp_path / "none.db"))


def test_push_to_a_source_that_no_longer_exists_keeps_every_edit(server, tmp_path):
    """The database dropped, or the named connection gone from the config:
    a clear message, and the journal as it was."""
    db = seeded(server, tmp_path, rows=50)
    cfg = tmp_path / "config"
    aurora_config(cfg, server, db)
    snap = str(tmp_path / "snap.db")
    cli("snapshot", "pull", "aurora", snap, check=0, env={"EMPDIR_CONFIG": str(cfg)})
    c = sqlite3.connect(snap)
    c.execute("UPDATE employees SET location = 'Kept' WHERE id = ?", (ADA,))
    c.commit()
    c.close()
    journal = query(snap, "SELECT seq, op, id, state FROM empdir_journal")
    # the connection is no longer configured
    cfg.write_text("")
    r = cli("snapshot", "push", snap, env={"EMPDIR_CONFIG": str(cfg)})
    assert r.returncode == 2 and "name the SOURCE" in r.stderr, r.stderr
    # the database itself is gone
    aurora_config(cfg, server, db)
    server.psql('DROP DATABASE "%s" WITH (FORCE)' % db.name, dbname="postgres")
    r = cli("snapshot", "push", snap, env={"EMPDIR_CONFIG": str(cfg)})
    assert r.returncode == 3 and db.name in r.stderr and "does not exist" in r.stderr, r.stderr
    assert query(snap, "SELECT seq, op, id, state FROM empdir_journal") == journal


# ---- import ----

def legacy_expected(path):
    """The rows the import must store: what the legacy file says, mapped."""
    out = {}
    for id_, name, loc, title, badges in query(path, "SELECT id, fullname, location, job_title, badges "
                                                     "FROM employees"):
        stored = None if badges is None else json.dumps(decoded(badges), ensure_ascii=False)
        out[str(id_)] = (name.strip(), loc.strip(), title.strip(), stored)
    return out


@pytest.fixture
def legacy(tmp_path):
    path = gen(tmp_path, 3000, "--legacy")
    kinds = query(path, "SELECT sum(badges IS NULL), sum(badges LIKE '[%'), "
                        "sum(badges NOT LIKE '[%' AND badges <> '') FROM employees")[0]
    assert all(k > 0 for k in kinds), kinds  # NULL, JSON and comma badges all present
    return path


def test_import_of_a_legacy_file_verified_row_by_row(server, legacy):
    db = Db(server)
    r = cli("import", legacy, "--pg", db.conninfo, check=0)
    assert "new rows: 3000" in r.stdout and "imported: 3000 new" in r.stdout
    assert db.rows() == legacy_expected(legacy)
    count, checksum = db.fingerprint()
    assert count == 3000 and "checksum %s" % checksum in r.stdout
    # again: every row identical, nothing to do
    r = cli("import", legacy, "--pg", db.conninfo, check=0)
    assert "identical: 3000" in r.stdout and "imported: 0 new" in r.stdout
    assert db.fingerprint() == (count, checksum)


def test_dry_run_reports_and_writes_nothing(server, legacy):
    db = Db(server)
    r = cli("import", legacy, "--pg", db.conninfo, "--dry-run", check=0)
    assert "new rows: 3000" in r.stdout and "dry run: nothing was written" in r.stdout
    assert db.fingerprint()[0] == 0
    cli("import", legacy, "--pg", db.conninfo, check=0)
    db.sql("UPDATE employees SET location = 'Elsewhere' WHERE id IN ('5', '17')")
    db.sql("DELETE FROM employees WHERE id = '9'")
    before = db.fingerprint()
    r = cli("import", legacy, "--pg", db.conninfo, "--dry-run", "--on-conflict", "replace", check=0)
    assert "new rows: 1\nidentical: 2997\nconflicting: 2 (17, 5)" in r.stdout
    assert db.fingerprint() == before
    # refused as asked (conflicts, default policy): exit 1, still nothing written
    r = cli("import", legacy, "--pg", db.conninfo, "--dry-run", check=1)
    assert "would be refused" in r.stdout
    assert db.fingerprint() == before
    assert db.sql("SELECT count(*) FROM pg_class WHERE relname = 'empdir_import'") == [(0,)]


def test_on_conflict_fail_skip_and_replace(server, legacy):
    db = Db(server)
    cli("import", legacy, "--pg", db.conninfo, check=0)
    expected = legacy_expected(legacy)
    db.sql("UPDATE employees SET location = 'Elsewhere' WHERE id IN ('5', '17')")
    db.sql("DELETE FROM employees WHERE id = '9'")
    before = db.fingerprint()
    r = cli("import", legacy, "--pg", db.conninfo, check=1)
    assert "--on-conflict" in r.stderr and "nothing was imported" in r.stderr
    assert db.fingerprint() == before
    r = cli("import", legacy, "--pg", db.conninfo, "--on-conflict", "skip", check=0)
    assert "imported: 1 new, 0 replaced" in r.stdout
    rows = db.rows()
    assert rows["9"] == expected["9"] and rows["5"][1] == "Elsewhere" and rows["17"][1] == "Elsewhere"
    r = cli("import", legacy, "--pg", db.conninfo, "--on-conflict", "replace", check=0)
    assert "imported: 0 new, 2 replaced" in r.stdout
    assert db.rows() == expected
    cli("import", legacy, "--pg", db.conninfo, "--on-conflict", "sometimes", check=2)


def test_a_legacy_file_whose_columns_do_not_match_is_refused(server, tmp_path):
    db = Db(server)
    db.sql("INSERT INTO employees VALUES ('1', 'Kept', 'As', 'It was', NULL)")
    before = db.fingerprint()
    wrong = str(tmp_path / "wrong.db")
    c = sqlite3.connect(wrong)
    c.execute("CREATE TABLE employees(id INTEGER PRIMARY KEY, name TEXT, location TEXT, job_title TEXT, "
              "badges TEXT, salary INTEGER)")
    c.execute("INSERT INTO employees VALUES (1, 'X', 'Y', 'Z', NULL, 10)")
    c.commit()
    c.close()
    r = cli("import", wrong, "--pg", db.conninfo, check=3)
    assert "(id, name, location, job_title, badges, salary)" in r.stderr and "nothing was imported" in r.stderr
    notdb = tmp_path / "notes.txt"
    notdb.write_text("id,fullname\n1,Ada\n")
    r = cli("import", str(notdb), "--pg", db.conninfo, check=3)
    assert "not a SQLite database" in r.stderr
    assert db.fingerprint() == before


def test_invalid_rows_are_reported_and_refused_unless_skipped(server, legacy, tmp_path):
    bad = str(tmp_path / "bad.db")
    with open(legacy, "rb") as src, open(bad, "wb") as dst:
        dst.write(src.read())
    c = sqlite3.connect(bad)
    c.execute("INSERT INTO employees VALUES (90001, '   ', 'Somewhere', 'Clerk', NULL)")
    c.execute("INSERT INTO employees VALUES (90002, 'Twice', 'X', 'Y', 'Runner,Runner')")
    c.execute("INSERT INTO employees VALUES (90003, '  Trimmed  ', ' X ', 'Y', ' a , b ')")
    c.commit()
    c.close()
    db = Db(server)
    r = cli("import", bad, "--pg", db.conninfo, check=1)
    assert "invalid row (id 90001): fullname is required" in r.stderr
    assert "invalid row (id 90002): badge 2 repeats badge 1" in r.stderr
    assert "--skip-invalid" in r.stderr and db.fingerprint()[0] == 0
    r = cli("import", bad, "--pg", db.conninfo, "--skip-invalid", check=0)
    assert "invalid: 2" in r.stdout and "imported: 3001 new" in r.stdout
    rows = db.rows()
    assert "90001" not in rows and "90002" not in rows
    assert rows["90003"] == ("Trimmed", "X", "Y", '["a", "b"]')


def test_an_import_killed_at_random_points_is_all_or_nothing(server, tmp_path):
    big = gen(tmp_path, 20000, "--legacy")
    db = Db(server)
    t0 = time.monotonic()
    cli("import", big, "--pg", db.conninfo, "--dry-run", check=0)
    took = time.monotonic() - t0
    full = None
    rnd = random.Random(5)
    for _ in range(5):
        p = subprocess.Popen([BIN, "import", big, "--pg", db.conninfo], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.0, took))
        p.send_signal(signal.SIGKILL)
        p.wait()
        n, checksum = db.fingerprint()
        assert n in (0, 20000)
        if n:
            full = full or checksum
            assert checksum == full
            db.sql("DELETE FROM employees")
    r = cli("import", big, "--pg", db.conninfo, check=0)
    assert "imported: 20000 new" in r.stdout
    assert db.rows() == legacy_expected(big)


def test_import_needs_the_table_and_a_pg_target(server, legacy, tmp_path):
    empty = Db(server, table=False)
    r = cli("import", legacy, "--pg", empty.conninfo, check=3)
    assert "no employees table" in r.stderr and "db setup" in r.stderr
    cli("import", legacy, "--offline", str(tmp_path / "x.db"), check=2)
    cli("import", legacy, check=2)
    r = cli("import", str(tmp_path / "missing.db"), "--pg", empty.conninfo, check=3)
    assert "missing.db" in r.stderr
