# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end: the real binary on the reference HTTP API over a real
PostgreSQL (tests/lib/apienv.py), in tmux at 80x24: browse, search, add,
edit, delete, a conflict, read-only, Esc on a slow answer, and the start-up
failures (one clear line, no secret in it)."""
import os
import subprocess
import sys
import time

import pytest

from tui import BIN, ROOT, Tui

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from apienv import ApiEnv  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

TOKEN = "e2e-Secret-Token-4711"


@pytest.fixture(scope="module")
def api():
    try:
        env = ApiEnv(token=TOKEN)
    except Exception as e:  # say why, instead of a wall of errors
        pytest.fail("cannot start PostgreSQL and the reference API: %s" % e)
    yield env
    env.close()


@pytest.fixture
def tui(tmp_path, api):
    api.seed(rows=200)
    started = []

    def start(*args, **kw):
        t = Tui(tmp_path, list(args) or ["--api", api.url], **kw)
        started.append(t)
        t.settle()
        return t
    yield start
    for t in started:
        t.close()


def status_line(t):
    return [l for l in t.lines() if l.startswith(" http ")][0]


def test_browse_and_paging(tui, api):
    t = tui()
    s = t.screen()
    lines = s.split("\n")
    assert lines[0].startswith("Name ▲")
    assert lines[1].startswith("Ada Lovelace") and "Mathematician" in lines[1] and "Mac User" in lines[1]
    host = api.url[len("http://"):]
    assert "http %s | 1/204 | sort fullname asc" % host in s
    t.keys("End")
    s = t.screen()
    assert "| 204/204 |" in s and "山田太郎" in s
    for _ in range(5):
        t.keys("PPage")
    t.keys("Home")
    assert "| 1/204 |" in t.screen()
    for _ in range(6):
        t.keys("NPage")
    assert "| 127/204 |" in t.screen()
    t.keys("3")  # sort by location, over the API
    s = t.screen()
    assert "Location ▲" in s and "sort location asc" in s


def test_search(tui):
    t = tui()
    t.keys("/")
    t.type("lovelace")
    t.keys("Enter")
    s = t.screen()
    assert 'search "lovelace"' in s and "| 1/1 |" in s and "Ada Lovelace" in s
    t.keys("/", "C-u")
    t.type("COFFEE")
    t.keys("Enter")
    assert "Zoë Ångström" in t.screen()
    t.keys("/", "C-u")
    t.type("badge 3")
    t.keys("Enter")
    assert "| 1/50 |" in t.screen()
    t.keys("Escape")
    assert "| 1/204 |" in t.screen()


def test_add_edit_delete(tui, api):
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
    t.keys("Enter", "C-s")
    s = t.screen()
    assert "saved Grace Hopper" in s and "| 2/205 |" in s
    assert api.sql("SELECT job_title, location, badges FROM employees WHERE fullname = 'Grace Hopper'") == \
        [("Rear Admiral", "Arlington", '["Navy", "COBOL"]')]
    # edit the selected row (Grace)
    t.keys("e", "Down", "Down", "Enter", "C-u")
    t.type("Paris")
    t.keys("Enter", "C-s")
    assert "saved Grace Hopper" in t.screen()
    assert api.sql("SELECT location FROM employees WHERE fullname = 'Grace Hopper'") == [("Paris",)]
    t.keys("d")
    assert "Delete Grace Hopper (Rear Admiral, Paris)? y/N" in t.screen()
    t.keys("y")
    s = t.screen()
    assert "deleted Grace Hopper" in s and "/204 |" in s
    assert api.sql("SELECT count(*) FROM employees WHERE fullname = 'Grace Hopper'") == [(0,)]


def test_edit_conflict_shows_both_versions(tui, api):
    t = tui()
    t.keys("e", "Down", "Down", "Enter", "C-u")
    t.type("Paris")
    t.keys("Enter")
    api.sql("UPDATE employees SET location = 'Berlin' WHERE fullname = 'Ada Lovelace'")
    t.keys("C-s")
    s = t.screen()
    assert "changed this employee" in s
    assert "Berlin" in s and "Paris" in s
    assert api.sql("SELECT location FROM employees WHERE fullname = 'Ada Lovelace'") == [("Berlin",)]
    t.keys("m")  # save mine over theirs, knowingly
    assert "saved Ada Lovelace" in t.screen()
    assert api.sql("SELECT location FROM employees WHERE fullname = 'Ada Lovelace'") == [("Paris",)]


def test_delete_of_a_changed_record_is_refused(tui, api):
    t = tui()
    api.sql("UPDATE employees SET job_title = 'Countess' WHERE fullname = 'Ada Lovelace'")
    t.keys("d", "y")
    s = t.screen()
    assert "Ada Lovelace was changed since you read it (now: Countess, London)" in s
    assert api.sql("SELECT count(*) FROM employees WHERE fullname = 'Ada Lovelace'") == [(1,)]
    t.keys("n")
    assert "not deleted" in t.screen()
    assert api.sql("SELECT count(*) FROM employees WHERE fullname = 'Ada Lovelace'") == [(1,)]


def test_read_only_refuses_writes(tui, api):
    t = tui("--api", api.url, "--read-only")
    s = t.screen()
    assert "(read-only)" in s
    t.keys("a")
    assert "read-only connection: add is not allowed" in t.screen()
    t.keys("d")
    assert "read-only connection: delete is not allowed" in t.screen()
    assert api.sql("SELECT count(*) FROM employees") == [(204,)]


def test_esc_cancels_a_slow_answer(tui, api):
    host, port = api.url[len("http://"):].split(":")
    with FaultProxy((host, int(port))) as fp:
        t = tui("--api", "http://127.0.0.1:%d" % fp.port)
        fp.set_mode("delay 4000 times=1")
        start = time.time()
        t.tmux("send-keys", "End")
        t.wait_for("Esc cancels", timeout=3)
        t.tmux("send-keys", "Escape")
        t.wait_for("cancelled", timeout=3)
        assert time.time() - start < 3
        t.keys("j")  # alive, and the next request goes through
        t.keys("End")
        assert "| 204/204 |" in t.screen()


def run(*args, env=None, home=None):
    e = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    if home is not None:
        e["HOME"] = str(home)
        e["XDG_CONFIG_HOME"] = str(home / "config")
    e.update(env or {})
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e,
                          stdin=subprocess.DEVNULL, timeout=60)


def one_line(r):
    assert r.returncode != 0, r
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("empdir-tui: "), r.stderr
    return lines[0]


def write_config(home, text, mode=0o600):
    d = home / "config" / "empdir"
    d.mkdir(parents=True, exist_ok=True)
    p = d / "config"
    p.write_text(text)
    p.chmod(mode)
    return p


def test_start_up_failures_are_one_clear_line(tmp_path, api):
    line = one_line(run("--api", "http://127.0.0.1:1", home=tmp_path))
    assert "cannot connect to the API" in line and "check the URL" in line
    # the API wants a token
    line = one_line(run("--api", api.auth_url, home=tmp_path))
    assert "401" in line and "token" in line
    cfg = "[connection prod]\nbackend = http\nurl = %s\ntoken_env = EMPDIR_TOKEN\n" % api.auth_url
    write_config(tmp_path, cfg)
    r = run("prod", home=tmp_path, env={"EMPDIR_TOKEN": "wrong-" + TOKEN})
    line = one_line(r)
    assert "refused the credentials (401" in line and TOKEN not in r.stderr + r.stdout
    # a token in a file others can read is refused before anything is sent
    p = write_config(tmp_path, "[connection prod]\nbackend = http\nurl = %s\ntoken = %s\n" % (api.auth_url, TOKEN),
                     mode=0o644)
    r = run("prod", home=tmp_path)
    line = one_line(r)
    assert "chmod 600" in line and str(p) in line and TOKEN not in line
    p.chmod(0o600)


def test_token_from_config_opens_and_never_shows(tmp_path, api):
    api.seed(rows=5)
    write_config(tmp_path / "home", "[connection prod]\nbackend = http\nurl = %s\ntoken = %s\n" % (api.auth_url, TOKEN))
    t = Tui(tmp_path, ["prod"])
    try:
        t.settle()
        s = t.screen()
        assert "Ada Lovelace" in s and "| 1/9 |" in s
        t.keys("Enter")  # the detail view
        t.keys("?")
        assert TOKEN.encode() not in t.raw_bytes()
    finally:
        t.close()
