# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end: the real binary on a SQLite snapshot, in tmux at 80x24."""
import os
import signal

import pytest

from tui import HOSTILE_NAME, Tui, make_db, query


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "people.db")
    make_db(path, rows=200, extra=[("h-1", HOSTILE_NAME, "Nowhere", "Attacker", '["\\u001b[31mred"]')])
    return path


@pytest.fixture
def tui(tmp_path, db):
    started = []

    def start(*args, **kw):
        t = Tui(tmp_path, list(args) or ["--offline", db], **kw)
        started.append(t)
        t.settle()
        return t
    yield start
    for t in started:
        t.close()


def selected_line(t):
    """The selected row is the one drawn in reverse video/colour: find it by
    moving nothing and reading the detail screen is slower, so tests use the
    status position instead."""
    return [l for l in t.lines() if l.startswith(" offline")][0]


def test_browse_first_screen_and_paging(tui, db):
    t = tui()
    s = t.screen()
    lines = s.split("\n")
    assert lines[0].startswith("Name ▲")
    assert "Job title" in lines[0] and "Location" in lines[0] and "Badges" in lines[0]
    assert lines[1].startswith("Ada Lovelace")
    assert "Mathematician" in lines[1] and "London" in lines[1] and "Mac User" in lines[1]
    assert "offline people.db | 1/205 | sort fullname asc" in s
    t.keys("j", "j")
    assert "| 3/205 |" in t.screen()
    t.keys("NPage")
    assert "| 24/205 |" in t.screen()
    t.keys("End")
    s = t.screen()
    assert "| 205/205 |" in s
    assert "山田太郎" in s  # sorts last (NOCASE on code points)
    t.keys("Home")
    assert "| 1/205 |" in t.screen()
    # walk down past several fetched chunks and back: nothing lost, positions exact
    for _ in range(6):
        t.keys("NPage")
    assert "| 127/205 |" in t.screen()
    for _ in range(6):
        t.keys("PPage")
    assert "| 1/205 |" in t.screen()


def test_sort_by_column_and_command_line(tui):
    t = tui()
    t.keys("3")
    s = t.screen()
    assert "Location ▲" in s
    assert s.split("\n")[1].split()[-1] != ""  # first row is drawn
    t.keys("3")
    assert "Location ▼" in t.screen()
    t.keys(":")
    t.type("sort name desc")
    t.keys("Enter")
    s = t.screen()
    assert "Name ▼" in s
    assert s.split("\n")[1].startswith("山田太郎")
    t.keys(":")
    t.type("nonsense")
    t.keys("Enter")
    assert "unknown command 'nonsense'" in t.screen()


def test_incremental_search(tui):
    t = tui()
    t.keys("/")
    t.type("lov")
    s = t.screen()
    assert "Ada Lovelace" in s and "Person 0001" not in s
    t.type("elace")
    t.keys("Enter")
    s = t.screen()
    assert 'search "lovelace"' in s and "| 1/1 |" in s
    # badges and Unicode case folding
    t.keys("/")
    t.keys("C-u")
    t.type("COFFEE")
    t.keys("Enter")
    assert "Zoë Ångström" in t.screen()
    t.keys("/", "C-u")
    t.type("ÅNGSTR")
    t.keys("Enter")
    assert "Zoë Ångström" in t.screen()
    t.keys("Escape")
    s = t.screen()
    assert 'search "' not in s and "| 1/205 |" in s
    # no match
    t.keys("/")
    t.type("no-such-person")
    assert "no employee matches" in t.screen()
    t.keys("Escape")  # cancelling the prompt restores the list
    assert "Ada Lovelace" in t.screen()


def test_search_history_is_kept(tui, tmp_path):
    t = tui()
    t.keys("/")
    t.type("Zürich")
    t.keys("Enter")
    t.keys(":")
    t.type("quit")
    t.keys("Enter")
    assert t.exit_status() == 0
    hist = tmp_path / "home" / "state" / "empdir-tui" / "search.history"
    assert "Zürich" in hist.read_text()
    assert oct(hist.stat().st_mode & 0o777) == "0o600"


def test_detail_view(tui):
    t = tui()
    t.keys("End", "k", "Enter")  # second to last: Zoë sorts after the Latin names
    s = t.screen()
    assert "Zoë Ångström" in s and "Physicist" in s and "Zürich" in s
    assert "Runner" in s and "Coffee Snob" in s
    assert "00000000-0000-4000-8000-000000000002" in s
    t.keys("Escape")
    assert "Name ▲" in t.screen()


def test_add_employee(tui, db):
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
    assert "Grace Hopper" in s and "| 2/206 |" in s  # the selection follows the new row
    rows = query(db, "SELECT job_title, location, badges FROM employees WHERE fullname = 'Grace Hopper'")
    assert rows == [("Rear Admiral", "Arlington", '["Navy", "COBOL"]')]


def test_validation_error_is_shown_beside_the_field(tui, db):
    t = tui()
    t.keys("a")
    t.keys("Down")  # leave the name empty
    t.type("Tester")
    t.keys("Enter")
    t.keys("C-s")
    s = t.screen()
    name_line = [l for l in s.split("\n") if "Name" in l and "required" in l]
    assert name_line, s
    assert "Name is required" in s
    # the selection went to the first bad field; badges: duplicates
    assert "> Name" in s
    t.keys("Enter")
    t.type("Someone")
    t.keys("Enter")
    t.keys("Down", "Down", "Enter")
    t.type("a, a")
    t.keys("Enter")
    t.keys("C-s")
    assert "repeats" in t.screen()
    assert query(db, "SELECT count(*) FROM employees WHERE job_title = 'Tester'") == [(0,)]
    # Esc on a changed form asks before discarding
    t.keys("Escape")
    assert "Discard your changes?" in t.screen()
    t.keys("y")
    assert "Name ▲" in t.screen()


def test_edit_employee(tui, db):
    t = tui()
    t.keys("e")
    assert "Edit employee" in t.screen()
    t.keys("Down", "Down", "Enter", "C-u")
    t.type("Paris")
    t.keys("Enter", "C-s")
    assert "saved Ada Lovelace" in t.screen()
    assert query(db, "SELECT location FROM employees WHERE fullname = 'Ada Lovelace'") == [("Paris",)]


def test_edit_conflict_shows_both_versions(tui, db):
    t = tui()
    t.keys("e", "Down", "Down", "Enter", "C-u")
    t.type("Paris")
    t.keys("Enter")
    # someone else changes the record meanwhile
    query(db, "UPDATE employees SET location = 'Berlin' WHERE fullname = 'Ada Lovelace'")
    import sqlite3
    c = sqlite3.connect(db)
    c.execute("UPDATE employees SET location = 'Berlin' WHERE fullname = 'Ada Lovelace'")
    c.commit()
    c.close()
    t.keys("C-s")
    s = t.screen()
    assert "changed this employee" in s
    assert "Berlin" in s and "Paris" in s
    assert query(db, "SELECT location FROM employees WHERE fullname = 'Ada Lovelace'") == [("Berlin",)]
    t.keys("m")  # save mine over theirs, knowingly
    assert "saved Ada Lovelace" in t.screen()
    assert query(db, "SELECT location FROM employees WHERE fullname = 'Ada Lovelace'") == [("Paris",)]


def test_delete_asks_first(tui, db):
    t = tui()
    t.keys("d")
    assert "Delete Ada Lovelace (Mathematician, London)? y/N" in t.screen()
    t.keys("n")
    assert "not deleted" in t.screen()
    assert query(db, "SELECT count(*) FROM employees WHERE fullname = 'Ada Lovelace'") == [(1,)]
    t.keys("d", "y")
    s = t.screen()
    assert "deleted Ada Lovelace" in s and "| 1/204 |" in s
    assert query(db, "SELECT count(*) FROM employees WHERE fullname = 'Ada Lovelace'") == [(0,)]


def test_read_only_refuses_writes(tui, db):
    t = tui("--offline", db, "--read-only")
    s = t.screen()
    assert "(read-only)" in s
    assert " a add" not in s  # write actions are not offered
    t.keys("a")
    assert "read-only connection: add is not allowed" in t.screen()
    t.keys("d")
    assert "read-only connection: delete is not allowed" in t.screen()
    t.keys(":")
    t.type("add")
    t.keys("Enter")
    assert "read-only connection: add is not allowed" in t.screen()
    assert query(db, "SELECT count(*) FROM employees") == [(205,)]


def test_help_comes_from_the_action_table(tui):
    t = tui()
    t.keys("?")
    seen = t.screen()
    assert "Keys" in seen and "show this help" in seen
    for _ in range(4):  # the help scrolls
        t.keys("NPage")
        seen += t.screen()
    assert "add an employee" in seen and "search name, title" in seen
    assert "(refused: read-only)" not in seen
    t.keys("q")
    assert "Name ▲" in t.screen()


def test_resize_and_too_small(tui):
    t = tui()
    t.resize(120, 30)
    s = t.screen()
    assert len(s.split("\n")[0]) > 80 and "| 1/205 |" in s
    t.resize(30, 8)
    assert "terminal too small (30x8)" in t.screen()
    t.resize(80, 24)
    s = t.screen()
    assert s.split("\n")[1].startswith("Ada Lovelace")


def test_hostile_text_is_drawn_harmlessly(tui):
    t = tui()
    t.keys("/")
    t.type("mallory")
    t.keys("Enter")
    s = t.screen()
    line = [l for l in s.split("\n") if l.startswith("Mallory")][0]
    assert "␛[2J" in line  # visible, not executed
    raw = t.raw_bytes()
    assert b"\x1b]52;" not in raw
    assert b"\x1b]8;" not in raw
    assert "\u202e".encode() not in raw
    assert b"\xc2\x9b" not in raw
    assert b"aGk=" not in raw or b"\x1b]52" not in raw
    t.keys("Enter")
    s = t.screen()
    assert "Attacker" in s and "␛" in s


def test_sigterm_restores_terminal_and_exits(tui):
    t = tui()
    os.kill(t.pid(), signal.SIGTERM)
    assert t.exit_status() == 128 + signal.SIGTERM
    raw = t.raw_bytes()
    # the alternate screen was left (rmcup) after the last frame
    assert raw.rstrip().endswith(b"\x1b[?1049l") or b"\x1b[?1049l" in raw[-64:]


def test_sighup_exits(tui):
    t = tui()
    os.kill(t.pid(), signal.SIGHUP)
    assert t.exit_status() == 128 + signal.SIGHUP


def test_no_color(tui, db):
    t = tui()
    assert "\x1b[3" in t.colored() or "\x1b[4" in t.colored()
    t2 = tui("--offline", db, env={"NO_COLOR": "1"})
    c = t2.colored()
    import re
    assert not re.search(r"\x1b\[[0-9;]*(3[0-7]|4[0-7]|38;|48;)", c), c
    assert "\x1b[7m" in c  # the selection stays visible (reverse)


def test_ctrl_z_and_resume(tui, tmp_path, db):
    t = Tui(tmp_path, [], shell=True)
    try:
        t.wait_for(lambda s: True)
        t.tmux("send-keys", "-l", t.prog + " --offline " + db)
        t.tmux("send-keys", "Enter")
        t.wait_for("Ada Lovelace")
        t.tmux("send-keys", "C-z")
        t.wait_for("Stopped")
        t.tmux("send-keys", "-l", "fg")
        t.tmux("send-keys", "Enter")
        t.wait_for(lambda s: s.split("\n")[0].startswith("Name ▲"), what="repaint after fg")
        t.tmux("send-keys", "q")
        t.wait_for(lambda s: "Name ▲" not in s, what="exit")
    finally:
        t.close()


def test_saved_survives_a_crash(tui, db):
    """After the screen says saved, SIGKILL loses nothing (WAL, synchronous=FULL)."""
    t = tui()
    t.keys("a")
    t.type("Crash Test")
    t.keys("Enter")
    t.type("Dummy")
    t.keys("Enter")
    t.type("Lab")
    t.keys("Enter", "C-s")
    t.wait_for("saved Crash Test")
    os.kill(t.pid(), signal.SIGKILL)
    t.exit_status()
    assert query(db, "SELECT job_title FROM employees WHERE fullname = 'Crash Test'") == [("Dummy",)]


def test_wide_and_combining_text_keeps_columns_aligned(tmp_path):
    from wcwidth import wcswidth
    from tui import Tui, make_db
    path = str(tmp_path / "wide.db")
    make_db(path, rows=5, extra=[
        ("w-1", "長い名前の社員さん長い名前の社員さん長い名前の社員さん", "東京都千代田区丸の内一丁目", "シニアソフトウェアエンジニア", '["🙂", "👩‍👩‍👧"]'),
        ("w-2", "Ze\u0301\u0301\u0301\u0301\u0301\u0301 Combining Marks Everywhere Here", "Zu\u0308rich", "Ti\u0302tle", "[]"),
        ("w-3", "👩‍🔬 Scientist With Emoji Name And More", "Seoul 서울특별시 강남구", "연구원", '["🇰🇷"]'),
    ])
    t = Tui(tmp_path, ["--offline", path])
    try:
        t.settle()
        header = t.lines()[0]
        title_col = wcswidth(header[:header.index("Job title")])
        for line in t.lines()[1:10]:
            if not line.strip():
                continue
            # the column boundary (a space) sits at the same display column on every row
            col = 0
            for i, ch in enumerate(line):
                if col >= title_col:
                    break
                col += max(wcswidth(ch), 0)
            assert col == title_col, (line, col, title_col)
        assert "…" in t.screen()  # long names are cut on a character boundary
    finally:
        t.close()


def test_command_line_completion_and_history(tui):
    t = tui()
    t.keys(":")
    t.type("so")
    t.keys("Tab")
    assert ":sort" in t.screen().split("\n")[-2]  # the common prefix of sort, sort-name, ...
    t.type(" loc")
    t.keys("Tab")
    assert ":sort location" in t.screen().split("\n")[-2]
    t.type("desc")
    t.keys("Enter")
    assert "Location ▼" in t.screen()
    t.keys(":", "Up")  # the command history
    assert ":sort location desc" in t.screen().split("\n")[-2]
    t.keys("Escape")
    t.keys(":")
    t.type("re")
    t.keys("Tab")
    s = t.screen()
    assert "reload" in s and "reverse" in s  # ambiguous: the candidates are listed


def test_first_open_says_how_far_the_indexing_is(tui):
    """A file without the search index (the seed's, a fresh pull) is indexed
    on its first writable open, with the percentage on the terminal."""
    t = tui()
    raw = t.raw_bytes().decode("utf-8", "replace")
    assert "indexing people.db for search (first open only): 0%" in raw
    assert "indexing people.db for search (first open only): 100%" in raw
    assert "Name ▲" in t.screen()
