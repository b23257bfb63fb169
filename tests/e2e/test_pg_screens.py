# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end: the real binary on a real PostgreSQL server (tests/lib/pgtmp.py),
in tmux at 80x24, as test_offline_screens.py does for a snapshot.

One server for the module; each test reseeds the seed's table (the same
anchors and fillers as tui.make_db) and checks the screen and the table."""
import os
import sys
import threading
import time

import psycopg2
import pytest

from tui import HOSTILE_NAME, Tui

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import pgtmp  # noqa: E402

ANCHORS = [
    ("00000000-0000-4000-8000-000000000001", "Ada Lovelace", "London", "Mathematician", '["Mac User"]'),
    ("00000000-0000-4000-8000-000000000002", "Zoë Ångström", "Zürich", "Physicist", '["Runner", "Coffee Snob"]'),
    ("00000000-0000-4000-8000-000000000003", "山田太郎", "東京", "エンジニア", None),
    ("00000000-0000-4000-8000-000000000004", "José Müller", "São Paulo", "Nurse", '["Dog Person"]'),
    ("h-1", HOSTILE_NAME.replace("\x00", ""), "Nowhere", "Attacker", '["\\u001b[31mred"]'),
]
FILLERS = 200
TOTAL = len(ANCHORS) + FILLERS


@pytest.fixture(scope="module")
def server():
    srv = pgtmp.PgServer()
    try:
        srv.create_schema()
        yield srv
    finally:
        srv.close()


def sql(srv, query, *args):
    conn = psycopg2.connect(srv.conninfo)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def set_trgm(srv, on):
    if on:
        srv.psql(pgtmp.TRGM_SQL)
    else:
        srv.psql("DROP INDEX IF EXISTS employees_fullname_trgm, employees_location_trgm, "
                 "employees_job_title_trgm, employees_badges_trgm")


@pytest.fixture
def pg(server):
    set_trgm(server, False)
    conn = psycopg2.connect(server.conninfo)
    with conn, conn.cursor() as cur:
        cur.execute("TRUNCATE employees")
        cur.executemany("INSERT INTO employees VALUES (%s, %s, %s, %s, %s)", ANCHORS)
        cur.execute("INSERT INTO employees SELECT '10000000-0000-4000-8000-' || lpad(i::text, 12, '0'), "
                    "'Person ' || lpad(i::text, 4, '0'), 'City ' || (i %% 9), 'Title ' || (i %% 5), "
                    "'[\"Badge ' || (i %% 4) || '\"]' FROM generate_series(0, %s) i", (FILLERS - 1,))
    conn.close()
    return server


@pytest.fixture
def tui(tmp_path, pg):
    started = []

    def start(*args, **kw):
        t = Tui(tmp_path, ["--pg", pg.conninfo] + list(args), **kw)
        started.append(t)
        t.settle()
        return t
    yield start
    for t in started:
        t.close()


def status(t):
    return [l for l in t.lines() if l.startswith(" pg ")][0]


def test_browse_first_screen_and_paging(tui, pg):
    t = tui()
    s = t.screen()
    lines = s.split("\n")
    assert lines[0].startswith("Name ▲")
    assert lines[1].startswith("Ada Lovelace")
    assert "Mathematician" in lines[1] and "London" in lines[1] and "Mac User" in lines[1]
    assert status(t).startswith(" pg empdir@127.0.0.1:%d | 1/" % pg.port)
    # no trigram index yet: the hint says how to add it
    assert "no trigram index: search scans the table; run `empdir-tui db setup" in s
    t.keys("j", "j")
    assert "| 3/" in status(t)
    t.keys("End")
    lines = [l for l in t.lines() if l.strip()]
    assert lines[-3].startswith("山田太郎")  # last: byte order after ASCII case folding, as offline
    t.keys("Home")
    assert "| 1/" in status(t)
    # walk down past several fetched chunks and back: nothing lost, positions exact
    for _ in range(6):
        t.keys("NPage")
    assert "| 127/" in status(t)
    for _ in range(6):
        t.keys("PPage")
    assert "| 1/" in status(t)
    t.keys(":")
    t.type("sort name desc")
    t.keys("Enter")
    assert t.screen().split("\n")[1].startswith("山田太郎")


def test_search_with_and_without_the_trigram_index(tui, pg):
    for indexed in (False, True):
        set_trgm(pg, indexed)
        t = tui()
        assert ("no trigram index" in t.screen()) != indexed
        t.keys("/")
        t.type("lov")
        s = t.screen()
        assert "Ada Lovelace" in s and "Person 0001" not in s
        t.type("elace")
        t.keys("Enter")
        s = t.screen()
        assert 'search "lovelace"' in s and "| 1/1 |" in s
        for text, who in (("COFFEE", "Zoë Ångström"), ("ÅNGSTR", "Zoë Ångström"), ("100%", None),
                          ("'; DROP TABLE employees; --", None), ("\", \"", None)):
            t.keys("/", "C-u")
            t.type(text)
            t.keys("Enter")
            if who:
                assert who in t.screen()
            else:
                assert "no employee matches" in t.screen()
        t.keys("Escape")
        t.close()
    assert sql(pg, "SELECT count(*) FROM employees") == [(TOTAL,)]


def test_add_employee(tui, pg):
    t = tui()
    t.keys("a")
    assert "Add an employee" in t.screen()
    t.type("Grace Hopper")
    t.keys("Enter")
    t.type("Rear Admiral")
    t.keys("Enter")
    t.type("Arlington")
    t.keys("Enter")
    t.type("Navy, COBOL")
    t.keys("Enter")
    t.keys("C-s")
    s = t.screen()
    assert "saved Grace Hopper" in s
    rows = sql(pg, "SELECT id, job_title, location, badges FROM employees WHERE fullname = 'Grace Hopper'")
    assert len(rows) == 1
    assert rows[0][1:] == ("Rear Admiral", "Arlington", '["Navy", "COBOL"]')
    assert len(rows[0][0]) == 36 and rows[0][0][14] == "4"  # a client-made UUID v4


def test_edit_employee(tui, pg):
    t = tui()
    t.keys("e")
    assert "Edit employee" in t.screen()
    t.keys("Down", "Down", "Enter", "C-u")
    t.type("Paris")
    t.keys("Enter", "C-s")
    assert "saved Ada Lovelace" in t.screen()
    assert sql(pg, "SELECT location FROM employees WHERE fullname = 'Ada Lovelace'") == [("Paris",)]


def test_edit_conflict_shows_both_versions(tui, pg):
    t = tui()
    t.keys("e", "Down", "Down", "Enter", "C-u")
    t.type("Paris")
    t.keys("Enter")
    sql(pg, "UPDATE employees SET location = 'Berlin' WHERE fullname = 'Ada Lovelace'")
    t.keys("C-s")
    s = t.screen()
    assert "changed this employee" in s
    assert "Berlin" in s and "Paris" in s
    assert sql(pg, "SELECT location FROM employees WHERE fullname = 'Ada Lovelace'") == [("Berlin",)]
    t.keys("m")  # save mine over theirs, knowingly
    assert "saved Ada Lovelace" in t.screen()
    assert sql(pg, "SELECT location FROM employees WHERE fullname = 'Ada Lovelace'") == [("Paris",)]


def test_delete_asks_first_and_conflicts_are_refused(tui, pg):
    t = tui()
    t.keys("d")
    assert "Delete Ada Lovelace (Mathematician, London)? y/N" in t.screen()
    t.keys("n")
    assert sql(pg, "SELECT count(*) FROM employees WHERE fullname = 'Ada Lovelace'") == [(1,)]
    t.keys("d", "y")
    assert "deleted Ada Lovelace" in t.screen()
    assert sql(pg, "SELECT count(*) FROM employees WHERE fullname = 'Ada Lovelace'") == [(0,)]
    # the next row changed behind our back: the delete is refused, the row stays
    first = t.screen().split("\n")[1].split("  ")[0]
    sql(pg, "UPDATE employees SET job_title = 'Changed' WHERE fullname = %s", first)
    t.keys("d", "y")
    s = t.screen()
    assert "was changed since you read it (now: Changed" in s and "Delete it" in s
    t.keys("n")
    assert "not deleted" in t.screen()
    assert sql(pg, "SELECT count(*) FROM employees WHERE fullname = %s", first) == [(1,)]


def test_read_only_refuses_writes(tui, pg):
    t = tui("--read-only")
    s = t.screen()
    assert "(read-only)" in s
    assert " a add" not in s
    t.keys("a")
    assert "read-only connection: add is not allowed" in t.screen()
    t.keys("d")
    assert "read-only connection: delete is not allowed" in t.screen()
    assert sql(pg, "SELECT count(*) FROM employees") == [(TOTAL,)]


def test_a_restarted_server_is_reconnected_to(tui, pg):
    t = tui()
    pg.restart()
    t.keys("/")
    t.type("lovelace")
    t.keys("Enter")
    s = t.wait_for("| 1/1 |")
    assert "Ada Lovelace" in s


def test_a_slow_database_shows_waiting_and_esc_cancels(tui, pg):
    t = tui()
    locker = psycopg2.connect(pg.conninfo)
    cur = locker.cursor()
    cur.execute("LOCK TABLE employees IN ACCESS EXCLUSIVE MODE")
    try:
        t.tmux("send-keys", "e", "Down", "Down", "Enter", "C-u")
        t.tmux("send-keys", "-l", "Paris")
        t.tmux("send-keys", "Enter", "C-s")
        t.wait_for("waiting for the database")
        t.tmux("send-keys", "Escape")
        t.wait_for("cancelled; nothing was changed")
    finally:
        locker.rollback()
        locker.close()
    assert sql(pg, "SELECT location FROM employees WHERE fullname = 'Ada Lovelace'") == [("London",)]


def test_hostile_text_is_drawn_harmlessly(tui):
    t = tui()
    t.keys("/")
    t.type("mallory")
    t.keys("Enter")
    line = [l for l in t.lines() if l.startswith("Mallory")][0]
    assert "␛[2J" in line
    raw = t.raw_bytes()
    assert b"\x1b]52;" not in raw and b"\x1b]8;" not in raw
