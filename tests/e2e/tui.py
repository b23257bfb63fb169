# SPDX-License-Identifier: GPL-3.0-or-later
"""Drive the real empdir-tui in a private tmux server and read its screen.

Each Tui gets its own tmux socket, HOME, XDG dirs and INPUTRC=/dev/null, a
raw byte log of everything the program wrote (pipe-pane, started before the
first frame through a wait-for gate), and the program's idle counter
(EMPDIR_TUI_TEST_IDLE) so a test can wait for "nothing more will change"
without sleeping. Waits poll a predicate with a deadline; on timeout the
screen is printed.
"""
import os
import shlex
import sqlite3
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("EMPDIR_TUI_BIN", os.path.join(ROOT, "build", "empdir-tui"))

SCHEMA = ("CREATE TABLE employees(id varchar(36) primary key, fullname varchar(100) not null,"
          " location varchar(100) not null, job_title varchar(100) not null, badges text)")

HOSTILE_NAME = ("Mallory \x1b[2J\x1b]52;c;aGk=\x07\x1b]8;;http://evil/\x07link\x1b]8;;\x07"
                "\rX\x08 \u202eevil\u202c \u009b31m")


def make_db(path, rows=200, extra=()):
    """A snapshot with known anchors, `rows` filler employees and extra rows."""
    db = sqlite3.connect(path)
    db.execute(SCHEMA)
    anchors = [
        ("00000000-0000-4000-8000-000000000001", "Ada Lovelace", "London", "Mathematician", '["Mac User"]'),
        ("00000000-0000-4000-8000-000000000002", "Zoë Ångström", "Zürich", "Physicist", '["Runner", "Coffee Snob"]'),
        ("00000000-0000-4000-8000-000000000003", "山田太郎", "東京", "エンジニア", None),
        ("00000000-0000-4000-8000-000000000004", "José Müller", "São Paulo", "Nurse", '["Dog Person"]'),
    ]
    db.executemany("INSERT INTO employees VALUES (?,?,?,?,?)", anchors)
    db.executemany("INSERT INTO employees VALUES (?,?,?,?,?)", [
        ("10000000-0000-4000-8000-%012d" % i, "Person %04d" % i, "City %d" % (i % 9),
         "Title %d" % (i % 5), '["Badge %d"]' % (i % 4)) for i in range(rows)])
    db.executemany("INSERT INTO employees VALUES (?,?,?,?,?)", list(extra))
    db.commit()
    db.close()


def query(path, sql, *args):
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def content_version(id_, fullname, location, job_title, badges):
    """A record's version from its content: employee_content_version(), the
    reference API's and PostgreSQL's PG_VERSION_SQL."""
    import hashlib
    tail = "\x1e" if badges is None else badges
    return hashlib.md5("\x1f".join((id_, fullname, location, job_title, tail)).encode()).hexdigest()


def snapshot_versions(path):
    """Every record's version at the source as a pulled snapshot knows it
    (no edits waiting): its empdir_remote row, else its content version."""
    return {r[0]: r[5] or content_version(*r[:5]) for r in query(
        path, "SELECT e.id, e.fullname, e.location, e.job_title, e.badges, r.version"
              " FROM employees e LEFT JOIN empdir_remote r ON r.id = e.id")}


class Tui:
    def __init__(self, tmp, args, cols=80, rows=24, env=None, shell=False):
        self.tmp = str(tmp)
        self.sock = os.path.join(self.tmp, "tmux.sock")
        self.raw = os.path.join(self.tmp, "raw.out")
        self.idle = os.path.join(self.tmp, "idle.log")
        open(self.idle, "w").close()
        home = os.path.join(self.tmp, "home")
        os.makedirs(home, exist_ok=True)
        e = {
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": home,
            "XDG_STATE_HOME": os.path.join(home, "state"),
            "XDG_CONFIG_HOME": os.path.join(home, "config"),
            "INPUTRC": "/dev/null", "ESCDELAY": "25", "TZ": "UTC",
            "EMPDIR_TUI_TEST_IDLE": self.idle,
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                e[k] = os.environ[k]
        e.update(env or {})
        envargs = []
        for k, v in e.items():
            envargs += ["-e", "%s=%s" % (k, v)]
        prog = " ".join(shlex.quote(a) for a in [BIN] + list(args))
        if shell:
            inner = "tmux -S %s wait-for go && exec bash --norc --noprofile" % shlex.quote(self.sock)
            self.prog = prog
        else:
            self.exitfile = os.path.join(self.tmp, "exit.status")
            inner = "tmux -S %s wait-for go && %s; echo $? > %s" % (
                shlex.quote(self.sock), prog, shlex.quote(self.exitfile))
        self.tmux("-f", "/dev/null", "new-session", "-d", "-x", str(cols), "-y", str(rows),
                  *envargs, inner)
        self.tmux("set", "-g", "remain-on-exit", "on")
        self.tmux("pipe-pane", "-o", "cat >> %s" % shlex.quote(self.raw))
        self.tmux("wait-for", "-S", "go")

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-S", self.sock] + list(args), capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("tmux %s: %s" % (args, r.stderr))
        return r.stdout

    def screen(self):
        return self.tmux("capture-pane", "-p")

    def lines(self):
        return self.screen().split("\n")

    def colored(self):
        return self.tmux("capture-pane", "-p", "-e")

    def idle_count(self):
        with open(self.idle) as f:
            return sum(1 for _ in f)

    def wait_for(self, pred, timeout=10, what=None):
        if isinstance(pred, str):
            text = pred
            pred = lambda s: text in s
            what = what or repr(text)
        deadline = time.time() + timeout
        while True:
            s = self.screen()
            if pred(s):
                return s
            if time.time() > deadline:
                raise AssertionError("timed out waiting for %s; screen:\n%s" % (what or pred, s))
            time.sleep(0.02)

    def settle(self, timeout=10):
        """Wait until the program has drawn everything and is waiting for keys
        (the first call waits for the first frame, which may already be there)."""
        start = self.idle_count() if getattr(self, "_settled", False) else 0
        self._settled = True
        deadline = time.time() + timeout
        while self.idle_count() <= start:
            if time.time() > deadline:
                raise AssertionError("program never became idle; screen:\n" + self.screen())
            time.sleep(0.01)
        prev = None
        while True:
            s = self.screen()
            if s == prev:
                return s
            prev = s
            time.sleep(0.02)

    def keys(self, *names):
        """Send named keys (Enter, Escape, C-s, ...), waiting for each to be handled."""
        for k in names:
            before = self.idle_count()
            self.tmux("send-keys", k)
            if k == "Escape":
                time.sleep(0.15)  # a lone Esc must not merge with the next key
            self._wait_idle_after(before)

    def type(self, text):
        before = self.idle_count()
        self.tmux("send-keys", "-l", text)
        self._wait_idle_after(before)

    def _wait_idle_after(self, before, timeout=10):
        deadline = time.time() + timeout
        while self.idle_count() <= before:
            if self.dead():
                return
            if time.time() > deadline:
                raise AssertionError("no redraw after key; screen:\n" + self.screen())
            time.sleep(0.005)

    def pid(self):
        """The program's pid (the pane runs a shell that records its exit status)."""
        shell = self.tmux("display", "-p", "#{pane_pid}").strip()
        out = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
        return int(out[0])

    def dead(self):
        return os.path.exists(getattr(self, "exitfile", "/nonexistent")) and \
            os.path.getsize(self.exitfile) > 0

    def exit_status(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.dead():
                with open(self.exitfile) as f:
                    return int(f.read().strip())
            time.sleep(0.02)
        raise AssertionError("program did not exit; screen:\n" + self.screen())

    def raw_bytes(self):
        try:
            with open(self.raw, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def resize(self, cols, rows):
        before = self.idle_count()
        self.tmux("resize-window", "-x", str(cols), "-y", str(rows))
        self._wait_idle_after(before)

    def close(self):
        self.tmux("kill-server", check=False)
