# SPDX-License-Identifier: GPL-3.0-or-later
"""The command line: options, bad input (one clear line, the documented exit
status, nothing modified), the man page and config.example."""
import hashlib
import os
import re
import shutil
import subprocess

import pytest

from tui import BIN, ROOT, make_db


def run(*args, env=None, tmp=None):
    e = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    if tmp is not None:
        e["HOME"] = str(tmp)
        e["XDG_CONFIG_HOME"] = str(tmp / "config")
    e.update(env or {})
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e,
                          stdin=subprocess.DEVNULL, timeout=30)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def one_line_error(r, status, *words):
    assert r.returncode == status, (r.returncode, r.stderr)
    lines = r.stderr.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("empdir-tui: "), r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def test_help_and_version(tmp_path):
    r = run("--help", tmp=tmp_path)
    assert r.returncode == 0 and "--offline FILE" in r.stdout and "--read-only" in r.stdout
    r = run("--version", tmp=tmp_path)
    assert r.returncode == 0 and re.match(r"empdir-tui \d+\.\d+\.\d+", r.stdout)


def test_unknown_option(tmp_path):
    one_line_error(run("--frobnicate", tmp=tmp_path), 2, "unknown option '--frobnicate'", "--help")
    one_line_error(run("--offline", tmp=tmp_path), 2, "needs a value")


def test_no_data_source(tmp_path):
    one_line_error(run(tmp=tmp_path), 2, "no data source", "--offline")


def test_missing_file_is_not_created(tmp_path):
    p = tmp_path / "nope.db"
    one_line_error(run("--offline", str(p), tmp=tmp_path), 3, "no such file", str(p))
    assert not p.exists()


def test_not_sqlite_is_left_alone(tmp_path):
    p = tmp_path / "people.csv"
    p.write_text("id,fullname\n1,Ada\n")
    before = digest(p)
    one_line_error(run("--offline", str(p), tmp=tmp_path), 3, "not a SQLite database")
    assert digest(p) == before and sorted(os.listdir(tmp_path)) == ["people.csv"]


def test_sqlite_without_employees_table(tmp_path):
    import sqlite3
    p = tmp_path / "other.db"
    c = sqlite3.connect(p)
    c.execute("CREATE TABLE people(name TEXT)")
    c.commit()
    c.close()
    before = digest(p)
    one_line_error(run("--offline", str(p), tmp=tmp_path), 3, "no employees table")
    assert digest(p) == before


def test_corrupted_database(tmp_path):
    p = tmp_path / "broken.db"
    make_db(str(p), rows=3000)
    with open(p, "r+b") as f:
        f.seek(8192)
        f.write(b"\xa5" * 16384)
    before = digest(p)
    line = one_line_error(run("--offline", str(p), tmp=tmp_path), 3)
    assert "corrupt" in line or "malformed" in line
    assert "backup" in line or "snapshot" in line
    assert digest(p) == before




def test_bad_config_value(tmp_path):
    cfg = tmp_path / "config"
    cfg.write_text("[general]\nhistory_size = lots\n")
    one_line_error(run("--config", str(cfg), "--offline", "x.db", tmp=tmp_path), 2,
                   str(cfg) + ":2:", "history_size")
    cfg.write_text("[general]\ncolour = never\n")
    one_line_error(run("--config", str(cfg), "--offline", "x.db", tmp=tmp_path), 2,
                   ":2:", "did you mean 'color'")


def test_missing_config_file_named_on_command_line(tmp_path):
    one_line_error(run("--config", str(tmp_path / "nope"), "--offline", "x.db", tmp=tmp_path), 2,
                   "cannot read config")


def test_unknown_connection_name(tmp_path):
    cfg = tmp_path / "config" / "empdir"
    cfg.mkdir(parents=True)
    (cfg / "config").write_text("[connection demo]\nbackend = offline\npath = /tmp/x.db\n")
    one_line_error(run("staging", tmp=tmp_path), 2, "no connection named 'staging'", "known: demo")


def test_connection_from_default_config(tmp_path):
    """A named connection resolves from $XDG_CONFIG_HOME/empdir/config (it then
    fails only because stdin is not a terminal, which is exit status 4)."""
    db = tmp_path / "demo.db"
    make_db(str(db), rows=3)
    cfg = tmp_path / "config" / "empdir"
    cfg.mkdir(parents=True)
    (cfg / "config").write_text("[general]\ndefault = demo\n[connection demo]\nbackend = offline\npath = ~/demo.db\n")
    one_line_error(run(tmp=tmp_path), 4, "must be a terminal")


def test_terminal_that_cannot_move_the_cursor(tmp_path):
    db = tmp_path / "demo.db"
    make_db(str(db), rows=3)
    r = subprocess.run(["script", "-qec", "%s --offline %s" % (BIN, db), "/dev/null"],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, TERM="dumb", HOME=str(tmp_path), LANG="C.UTF-8"))
    assert "cannot move the cursor" in r.stdout + r.stderr


def test_config_example_documents_every_key():
    src = open(os.path.join(ROOT, "core", "config.c"), encoding="utf-8").read()
    keys = set(re.findall(r'\{"(?:general|connection|aws)", "([a-z_]+)"', src))
    example = open(os.path.join(ROOT, "config.example"), encoding="utf-8").read()
    documented = set(re.findall(r"^[#;]? ?([a-z_]+) =", example, re.M))
    assert keys - documented == set()
    assert documented - keys == set()


def test_config_example_parses(tmp_path):
    r = run("--config", os.path.join(ROOT, "config.example"), "--offline", str(tmp_path / "none.db"),
            tmp=tmp_path)
    assert r.returncode == 3 and "no such file" in r.stderr  # the config itself was fine


def test_man_page_is_current_and_lints_clean():
    man = os.path.join(ROOT, "man", "empdir-tui.1")
    keys = subprocess.run([BIN, "--man-keys"], capture_output=True, text=True).stdout
    text = open(man, encoding="utf-8").read()
    assert keys in text, "man/empdir-tui.1 is stale: run make man"
    r = subprocess.run(["mandoc", "-Tlint", "-Wwarning", man], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    for section in ("OPTIONS", "KEYS", "CONFIGURATION", "ENVIRONMENT", "FILES", "EXIT STATUS"):
        assert ".Sh " + section in text
    r = subprocess.run(["man", "-l", man], capture_output=True, text=True,
                       env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
    assert r.returncode == 0 and "--read-only" in r.stdout.replace("‐", "-")


def test_make_install_and_uninstall(tmp_path):
    dest = tmp_path / "dest"
    r = subprocess.run(["make", "-s", "-C", ROOT, "install", "PREFIX=/opt/empdir", "DESTDIR=%s" % dest],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert os.access(dest / "opt/empdir/bin/empdir-tui", os.X_OK)
    assert (dest / "opt/empdir/share/man/man1/empdir-tui.1").exists()
    r = subprocess.run(["make", "-s", "-C", ROOT, "uninstall", "PREFIX=/opt/empdir", "DESTDIR=%s" % dest],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not (dest / "opt/empdir/bin/empdir-tui").exists()
