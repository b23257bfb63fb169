# SPDX-License-Identifier: GPL-3.0-or-later
"""Snapshots: pull, offline edits journaled, push with conflicts detected and
resolved in the sync screen, crash safety, export. The source here is
another SQLite snapshot (the same backend interface the pg and http
sources use)."""
import csv
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from tui import BIN, Tui, content_version, make_db, query, snapshot_versions


def cli(*args, check=None, env=None):
    e = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    e.update(env or {})
    r = subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e,
                       stdin=subprocess.DEVNULL, timeout=120)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    return r


def sql(path, stmt, *args):
    c = sqlite3.connect(path)
    c.execute(stmt, args)
    c.commit()
    c.close()


@pytest.fixture
def pair(tmp_path):
    src = str(tmp_path / "source.db")
    snap = str(tmp_path / "snap.db")
    make_db(src, rows=50)
    cli("snapshot", "pull", "--offline", src, snap, check=0)
    return src, snap


def rows(path):
    """Rows by content; no badges is [] whether stored as NULL or []."""
    return sorted(query(path, "SELECT id, fullname, location, job_title, coalesce(badges, '[]') FROM employees"))


def test_pull_copies_everything_and_records_the_source(pair):
    src, snap = pair
    assert rows(src) == rows(snap)
    r = cli("snapshot", "status", snap, check=0)
    assert "source: offline " + src in r.stdout and "edits waiting: 0" in r.stdout
    # Each record's version at the source; only those that differ from the
    # content version of what the snapshot stores are kept (here: the rows
    # whose badges the source stores as NULL, stored as [] after a paged pull).
    source = {r[0]: content_version(*r) for r in query(
        src, "SELECT id, fullname, location, job_title, badges FROM employees")}
    assert snapshot_versions(snap) == source
    kept = query(snap, "SELECT count(*) FROM empdir_remote")[0][0]
    assert kept == query(src, "SELECT count(*) FROM employees WHERE badges IS NULL OR badges NOT LIKE '[%'")[0][0]


def test_edits_are_journaled_and_pushed(pair):
    src, snap = pair
    sql(snap, "UPDATE employees SET location = 'Mars' WHERE fullname = 'Ada Lovelace'")
    sql(snap, "DELETE FROM employees WHERE fullname = 'José Müller'")
    sql(snap, "INSERT INTO employees VALUES ('n-1', 'New Hire', 'Moon', 'Pilot', '[]')")
    assert "edits waiting: 3" in cli("snapshot", "status", snap, check=0).stdout
    r = cli("snapshot", "push", snap, check=0)
    assert "pushed 3 edits; 0 waiting" in r.stdout
    assert rows(src) == rows(snap)
    # pushing again does nothing
    assert "pushed 0 edits; 0 waiting" in cli("snapshot", "push", snap, check=0).stdout


def test_pull_is_refused_while_edits_wait(pair):
    src, snap = pair
    sql(snap, "UPDATE employees SET location = 'Mars' WHERE fullname = 'Ada Lovelace'")
    before = rows(snap)
    r = cli("snapshot", "pull", "--offline", src, snap, check=2)
    assert "1 edit not pushed yet" in r.stderr
    assert rows(snap) == before


def test_conflicts_are_detected_and_never_overwrite(pair):
    src, snap = pair
    sql(src, "UPDATE employees SET job_title = 'Countess' WHERE fullname = 'Ada Lovelace'")
    sql(src, "DELETE FROM employees WHERE fullname = 'José Müller'")
    sql(snap, "UPDATE employees SET location = 'Paris' WHERE fullname = 'Ada Lovelace'")
    sql(snap, "UPDATE employees SET location = 'Lisbon' WHERE fullname = 'José Müller'")
    sql(snap, "UPDATE employees SET location = 'Rome' WHERE fullname = 'Person 0001'")
    r = cli("snapshot", "push", snap, check=1)
    assert "pushed 1 edit" in r.stdout and "2 conflicts" in r.stdout
    assert query(src, "SELECT job_title, location FROM employees WHERE fullname = 'Ada Lovelace'") == [
        ("Countess", "London")]
    assert query(src, "SELECT location FROM employees WHERE fullname = 'Person 0001'") == [("Rome",)]


def test_sync_screen_merges_field_by_field(pair, tmp_path):
    src, snap = pair
    sql(src, "UPDATE employees SET job_title = 'Countess' WHERE fullname = 'Ada Lovelace'")
    sql(snap, "UPDATE employees SET location = 'Paris' WHERE fullname = 'Ada Lovelace'")
    cli("snapshot", "push", snap, check=1)
    t = Tui(tmp_path, ["--offline", snap])
    try:
        t.settle()
        assert "1 to push, 1 in conflict" in t.screen()
        t.keys("S")
        s = t.screen()
        assert "Conflict 1 of 1" in s and "Base (pulled)" in s and "Theirs (now)" in s
        assert "Countess" in s and "Paris" in s and "Mathematician" in s
        t.keys("Down", "Right")  # job title from theirs; location stays mine
        t.keys("M")
        assert "saved at the source" in t.screen()
    finally:
        t.close()
    assert query(src, "SELECT job_title, location FROM employees WHERE fullname = 'Ada Lovelace'") == [
        ("Countess", "Paris")]
    assert query(snap, "SELECT job_title, location FROM employees WHERE fullname = 'Ada Lovelace'") == [
        ("Countess", "Paris")]
    assert query(snap, "SELECT count(*) FROM empdir_journal") == [(0,)]


def test_take_theirs_and_keep_mine(pair, tmp_path):
    src, snap = pair
    sql(src, "UPDATE employees SET job_title = 'Countess' WHERE fullname = 'Ada Lovelace'")
    sql(src, "UPDATE employees SET job_title = 'Doctor' WHERE fullname = 'José Müller'")
    sql(snap, "UPDATE employees SET location = 'Paris' WHERE fullname = 'Ada Lovelace'")
    sql(snap, "UPDATE employees SET location = 'Lisbon' WHERE fullname = 'José Müller'")
    cli("snapshot", "push", snap, check=1)
    t = Tui(tmp_path, ["--offline", snap])
    try:
        t.settle()
        t.keys("S")
        first = "Ada Lovelace" if "Ada Lovelace" in t.screen() else "José Müller"
        t.keys("t")  # theirs for the first
        assert "took theirs" in t.screen()
        t.keys("m")  # mine for the second
        assert "saved at the source" in t.screen()
    finally:
        t.close()
    assert query(snap, "SELECT count(*) FROM empdir_journal") == [(0,)]
    assert rows(src) == rows(snap)
    other = "José Müller" if first == "Ada Lovelace" else "Ada Lovelace"
    assert query(src, "SELECT location FROM employees WHERE fullname = ?", first)[0][0] in ("London", "São Paulo")
    assert query(src, "SELECT location FROM employees WHERE fullname = ?", other)[0][0] in ("Paris", "Lisbon")


def test_push_killed_at_random_points_loses_and_duplicates_nothing(pair):
    src, snap = pair
    c = sqlite3.connect(snap)
    for i in range(120):
        c.execute("INSERT INTO employees VALUES (?, ?, 'Lab', 'Tester', '[]')", ("k-%03d" % i, "Killed %03d" % i))
        c.commit()
    c.execute("UPDATE employees SET location = 'Updated' WHERE fullname LIKE 'Person 00%'")
    c.commit()
    # the same records edited again, and some new ones edited after creation:
    # a push interrupted between them must not see its own edits as conflicts
    c.execute("UPDATE employees SET job_title = 'Twice' WHERE fullname LIKE 'Person 00%'")
    c.execute("UPDATE employees SET job_title = 'Renamed' WHERE fullname LIKE 'Killed 00%'")
    c.commit()
    c.close()
    expected = rows(snap)
    rnd = random.Random(7)
    for _ in range(8):
        p = subprocess.Popen([BIN, "snapshot", "push", snap], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.0, 0.08))
        p.send_signal(signal.SIGKILL)
        p.wait()
        # the snapshot always opens, and every edit is either pushed or waiting
        assert rows(snap) == expected
    r = cli("snapshot", "push", snap)
    assert r.returncode == 0, r.stdout + r.stderr
    assert rows(src) == expected
    assert query(src, "SELECT count(*) FROM employees WHERE fullname LIKE 'Killed %'") == [(120,)]


def test_pull_killed_leaves_the_old_snapshot(pair):
    src, snap = pair
    before = rows(snap)
    sql(src, "UPDATE employees SET location = 'Changed' WHERE fullname = 'Ada Lovelace'")
    for delay in (0.0, 0.01, 0.03):
        p = subprocess.Popen([BIN, "snapshot", "pull", "--offline", src, snap],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        now = rows(snap)
        assert now == before or now == rows(src)
    cli("snapshot", "pull", "--offline", src, snap, check=0)  # a later pull clears the leftovers
    assert [f for f in os.listdir(os.path.dirname(snap)) if ".pull-" in f] == []


def test_a_full_disk_fails_the_pull_cleanly(pair, tmp_path):
    """The writer thread's failure (here: the file may not grow past
    1 MB, as on a full disk) stops the pull with SQLite's reason; the old
    snapshot stays and no temporary file is left."""
    import resource
    src, snap = pair
    big = str(tmp_path / "big.db")
    make_db(big, rows=30000)  # more than SQLite's page cache: the writer thread hits the limit
    before = rows(snap)

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    e = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    r = subprocess.run([BIN, "snapshot", "pull", "--offline", big, snap], capture_output=True, text=True,
                       env=e, stdin=subprocess.DEVNULL, timeout=120, preexec_fn=small_files)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "cannot write the snapshot %s" % snap in r.stderr and "the previous one is unchanged" in r.stderr, r.stderr
    assert "is the disk full?" in r.stderr
    assert rows(snap) == before
    assert [f for f in os.listdir(os.path.dirname(snap)) if ".pull-" in f] == []


def test_a_file_that_was_not_pulled(tmp_path):
    p = str(tmp_path / "plain.db")
    make_db(p, rows=3)
    r = cli("snapshot", "push", p, check=3)
    assert "was not pulled" in r.stderr


def test_export_csv_and_json(pair):
    src, _ = pair
    r = cli("export", "--offline", src, "--format", "csv", check=0)
    got = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(got) == 54 and got[0]["fullname"] == "Ada Lovelace"
    assert json.loads(got[0]["badges"]) == ["Mac User"]
    r = cli("export", "--offline", src, "--format", "json", check=0)
    data = json.loads(r.stdout)
    assert len(data) == 54 and data[0]["badges"] == ["Mac User"]
    cli("export", "--offline", src, "--format", "xml", check=2)


def test_a_snapshot_from_a_newer_version_is_refused_and_left_alone(pair):
    """A journal this version cannot read: push, status and a pull over it
    all refuse with the same clear message, and the file keeps its edit."""
    src, snap = pair
    sql(snap, "UPDATE employees SET location = 'Waiting' WHERE id = (SELECT min(id) FROM employees)")
    sql(snap, "UPDATE empdir_meta SET value = '99' WHERE key = 'format'")
    source = rows(src)
    for args in (("snapshot", "push", snap), ("snapshot", "status", snap),
                 ("snapshot", "pull", "--offline", src, snap)):
        r = cli(*args)
        assert r.returncode in (2, 3), (args, r.returncode, r.stderr)
        assert "written by a newer empdir-tui (snapshot format 99" in r.stderr and "upgrade" in r.stderr
    assert query(snap, "SELECT count(*) FROM empdir_journal") == [(1,)]
    assert query(snap, "SELECT count(*) FROM employees WHERE location = 'Waiting'") == [(1,)]
    assert rows(src) == source


def test_pull_never_replaces_a_file_that_is_not_a_snapshot(pair, tmp_path):
    src, _ = pair
    mine = str(tmp_path / "employees.db")
    make_db(mine, rows=5)
    before = open(mine, "rb").read()
    r = cli("snapshot", "pull", "--offline", src, mine, check=2)
    assert "is not a snapshot" in r.stderr and "another file" in r.stderr
    assert open(mine, "rb").read() == before


def test_pull_and_push_show_progress_on_a_terminal(pair, tmp_path):
    """On a terminal, pull and push draw a progress bar (rows done of the
    total); piped, they print only their one-line result."""
    src, snap = pair
    fresh = str(tmp_path / "fresh.db")
    t = Tui(tmp_path, ["snapshot", "pull", "--offline", src, fresh])
    assert t.exit_status() == 0
    raw = t.raw_bytes().decode("utf-8", "replace")
    t.close()
    assert "pulling: 54/54 (100%)" in raw and "pulled 54 employees" in raw
    sql(fresh, "UPDATE employees SET location = 'Bar' WHERE rowid <= 3")
    (tmp_path / "push").mkdir()
    t = Tui(tmp_path / "push", ["snapshot", "push", fresh])
    assert t.exit_status() == 0
    raw = t.raw_bytes().decode("utf-8", "replace")
    t.close()
    assert "pushing: 3/3 (100%)" in raw and "pushed 3 edits; 0 waiting" in raw
    piped = cli("snapshot", "pull", "--offline", src, str(tmp_path / "piped.db"), check=0)
    assert "pulling" not in piped.stderr + piped.stdout
