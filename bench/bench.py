# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmarks of issue #2, measured side by side with the tools users
would otherwise use. Run through bench/run, which installs the tools, builds
the program and then calls this with Debian's /usr/bin/python3.

    bench.py [start] [search] [memory]
                        measure (default: all three), write
                        bench/results/results.json and the raw data under
                        bench/results/raw/

Everything is stdlib Python. Times are CLOCK_MONOTONIC. See BENCHMARKS.md
(written by report.py) for what each number means.

Environment (for trying the harness out; the published numbers use the
defaults): BENCH_ROWS (1000000), BENCH_SEED (1), BENCH_QUICK=1 (fewer
repetitions), BENCH_PAGING_BUDGET (180: seconds the memory benchmark may
spend paging before it gives up and reports how far it got).
"""
import datetime
import errno
import json
import os
import platform
import re
import select
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import termios
import fcntl
import struct
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
RES = os.path.join(BENCH, "results")
DATA = os.path.join(RES, "data")
RAW = os.path.join(RES, "raw")
BIN = os.path.join(ROOT, "build", "empdir-tui")
GEN = os.path.join(ROOT, "build", "empdir-gen")
PY = "/usr/bin/python3"
LAUNCH = os.path.join(BENCH, "launch.py")
TMUX = "/usr/bin/tmux"
VD = "/usr/bin/vd"
SQLITE = "/usr/bin/sqlite3"
HYPERFINE = "/usr/bin/hyperfine"
GNUTIME = "/usr/bin/time"

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
SEED = int(os.environ.get("BENCH_SEED", "1"))
QUICK = os.environ.get("BENCH_QUICK") == "1"
COLS, LINES = 80, 24

# Repetitions (the whole run stays within a few minutes).
N_START = 10 if QUICK else 30        # our start-up, idle marker
N_START_POLL = 5 if QUICK else 15    # our start-up, screen polled like VisiData's
N_VD = 3 if QUICK else 10            # VisiData start-ups (each variant)
N_SEARCH = 2 if QUICK else 5         # typing sessions (fresh process each)
POLL = 0.005                         # s between two capture-pane polls when timing
BATCH = 1000                         # Ctrl-F per batch while paging
PAGING_BUDGET = int(os.environ.get("BENCH_PAGING_BUDGET", "180"))  # seconds
QUERIES = ["an", "winterbottom", "engineer", "müller"]

FIRST_PAGE_SQL = ("SELECT id, fullname, job_title, location, badges FROM employees "
                  "ORDER BY fullname COLLATE NOCASE, id LIMIT 22")
ALL_ROWS_SQL = ("SELECT id, fullname, job_title, location, badges FROM employees "
                "ORDER BY fullname COLLATE NOCASE, id")


def like_sql(prefix):
    lit = "'%" + prefix.replace("'", "''") + "%'"
    return ("SELECT id, fullname, job_title, location, badges FROM employees WHERE "
            "fullname LIKE {0} OR job_title LIKE {0} OR location LIKE {0} OR badges LIKE {0} "
            "ORDER BY fullname COLLATE NOCASE, id LIMIT 22").format(lit)


def now():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def ms(ns):
    return ns / 1e6


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def summary(samples):
    """median, p95 (nearest rank), min, max, mean of a list of milliseconds."""
    s = sorted(samples)
    if not s:
        return None
    p95 = s[min(len(s) - 1, max(0, -(-95 * len(s) // 100) - 1))]
    return {"n": len(s), "median": statistics.median(s), "p95": p95, "min": s[0], "max": s[-1],
            "mean": statistics.fmean(s)}


def run(cmd, **kw):
    kw.setdefault("check", True)
    return subprocess.run(cmd, **kw)


def out(cmd, **kw):
    try:
        return run(cmd, capture_output=True, text=True, **kw).stdout.strip()
    except FileNotFoundError:
        if kw.get("check", True):
            raise
        return ""


# ---------------------------------------------------------------- data -----

def gen_stamp():
    h = out(["sha256sum", os.path.join(ROOT, "tools", "empdir-gen.c")]).split()[0]
    return "rows=%d seed=%d gen=%s\n" % (ROWS, SEED, h)


def prepare_data():
    """The generated snapshot and its CSV export, cached in bench/results/data
    (regenerated when missing or made by another generator/size/seed)."""
    os.makedirs(DATA, exist_ok=True)
    db = os.path.join(DATA, "employees-%d.db" % ROWS)
    csv = os.path.join(DATA, "employees-%d.csv" % ROWS)
    stamp = os.path.join(DATA, "employees-%d.stamp" % ROWS)
    want = gen_stamp()
    have = open(stamp).read() if os.path.exists(stamp) else ""
    if have != want or not os.path.exists(db) or not os.path.exists(csv):
        log("generating %d employees (seed %d)" % (ROWS, SEED))
        for f in (db, csv, stamp):
            if os.path.exists(f):
                os.unlink(f)
        t = now()
        run([GEN, "--rows", str(ROWS), "--seed", str(SEED), "--out", db + ".tmp"])
        os.rename(db + ".tmp", db)
        run([GEN, "--rows", str(ROWS), "--seed", str(SEED), "--format", "csv", "--out", csv + ".tmp"])
        os.rename(csv + ".tmp", csv)
        with open(stamp, "w") as f:
            f.write(want)
        log("generated in %.1f s" % (ms(now() - t) / 1000))
    else:
        log("using cached snapshot %s" % os.path.relpath(db, ROOT))
    return db, csv


# ---------------------------------------------------------------- tmux -----

SERVERS = []


class Tmux:
    """A private tmux server with one 80x24 pane whose program is replaced
    for each trial (respawn-pane -k)."""

    def __init__(self, tmp, name):
        self.sock = os.path.join(tmp, name + ".sock")
        SERVERS.append(self)
        self.t("-u", "-f", "/dev/null", "new-session", "-d", "-x", str(COLS), "-y", str(LINES), "-s", "b",
               "sleep 100000")
        self.t("set", "-g", "remain-on-exit", "on")
        self.t("set", "-g", "status", "off")
        size = self.t("display", "-p", "-t", "b:0.0", "#{pane_width}x#{pane_height}").strip()
        if size != "%dx%d" % (COLS, LINES):
            raise SystemExit("bench: tmux pane is %s, not %dx%d" % (size, COLS, LINES))

    def t(self, *args, check=True):
        r = subprocess.run([TMUX, "-S", self.sock] + list(args), capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError("tmux %s: %s" % (args, r.stderr))
        return r.stdout

    def respawn(self, argv):
        self.t("respawn-pane", "-k", "-t", "b:0.0", "exec " + " ".join(shlex.quote(a) for a in argv))

    def screen(self):
        return self.t("capture-pane", "-p", "-t", "b:0.0")

    def lines(self):
        return self.screen().split("\n")

    def keys(self, *k):
        self.t("send-keys", "-t", "b:0.0", *k)

    def pid(self):
        return int(self.t("display", "-p", "-t", "b:0.0", "#{pane_pid}").strip())

    def dead(self):
        return self.t("display", "-p", "-t", "b:0.0", "#{pane_dead}").strip() == "1"

    def wait_dead(self, timeout=10):
        end = time.time() + timeout
        while not self.dead():
            if time.time() > end:
                raise RuntimeError("program did not exit; screen:\n" + self.screen())
            time.sleep(0.01)

    def wait_screen(self, pred, timeout=20, interval=0.0):
        """Poll capture-pane until pred(lines); returns (lines, CLOCK_MONOTONIC
        when the capture that satisfied it had returned)."""
        end = time.time() + timeout
        while True:
            lines = self.lines()
            t = now()
            if pred(lines):
                return lines, t
            if time.time() > end:
                raise RuntimeError("timed out waiting for the screen; it shows:\n" + "\n".join(lines))
            if interval:
                time.sleep(interval)

    def stop(self):
        """End the pane's program and wait until it is gone, so the next
        trial does not share the machine with it."""
        try:
            pid = self.pid()
        except (RuntimeError, ValueError):
            return
        self.t("respawn-pane", "-k", "-t", "b:0.0", "exec sleep 100000", check=False)
        wait_gone(pid)

    def close(self):
        if self in SERVERS:
            SERVERS.remove(self)
        try:
            pid = self.pid()
        except (RuntimeError, ValueError):
            pid = None
        self.t("kill-server", check=False)
        if pid:
            wait_gone(pid)


def wait_gone(pid, timeout=5):
    """Wait for a process (not our child) to exit; SIGKILL it after timeout."""
    end = time.time() + timeout
    while True:
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state == "Z":
            return
        if time.time() > end:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            end = time.time() + 5
        time.sleep(0.01)


def launch_argv(stamp, env, argv):
    return [PY, LAUNCH, stamp] + ["%s=%s" % kv for kv in env.items()] + ["--"] + argv


def base_env(home):
    os.makedirs(home, exist_ok=True)
    return {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": home, "TZ": "UTC",
            "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": os.path.join(home, "config"),
            "XDG_STATE_HOME": os.path.join(home, "state"), "ESCDELAY": "25"}


def read_stamp(path):
    end = time.time() + 5
    while True:
        try:
            with open(path) as f:
                s = f.read().strip()
            if s:
                return int(s)
        except FileNotFoundError:
            pass
        if time.time() > end:
            raise RuntimeError("no spawn stamp in " + path)
        time.sleep(0.005)


class Fifo:
    """A named pipe for EMPDIR_TUI_TEST_IDLE: the program's idle lines arrive
    here and a blocking poll wakes the moment one is written. Opened O_RDWR
    so it never reports end-of-file and the program's open never blocks."""

    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        os.mkfifo(path)
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self.count = 0
        self.buf = b""

    def read_lines(self):
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return 0
        self.buf += data
        n = self.buf.count(b"\n")
        self.buf = self.buf[self.buf.rfind(b"\n") + 1:]
        self.count += n
        return n

    def close(self):
        os.close(self.fd)
        os.unlink(self.path)


def wait_fifo(fifo, timeout=30):
    """Block until the next idle line; returns CLOCK_MONOTONIC at wake-up."""
    p = select.poll()
    p.register(fifo.fd, select.POLLIN)
    end = now() + int(timeout * 1e9)
    while True:
        left = (end - now()) / 1e6
        if left <= 0:
            raise RuntimeError("no idle marker within %d s" % timeout)
        if p.poll(left):
            t = now()
            if fifo.read_lines():
                return t


# ------------------------------------------------- our program in tmux -----

def our_screen_ok(lines, first, last, pos="1"):
    """The first complete list screen: header, 21 rows from the first to the
    21st name in sort order, the status bar at 1/N, the key hints."""
    return (len(lines) >= LINES and first in lines[1] and last in lines[LINES - 3]
            and (" %s/%d " % (pos, ROWS)) in lines[LINES - 2] and "q quit" in lines[LINES - 1])


def expected_names(db):
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        ours = [r[0] for r in c.execute(
            "SELECT fullname FROM employees ORDER BY fullname COLLATE NOCASE, id LIMIT 21")]
        plain = [r[0] for r in c.execute("SELECT fullname FROM employees ORDER BY rowid LIMIT 21")]
    finally:
        c.close()
    return ours, plain


def index_build(tmp, raw_db, work_db, names):
    """The one-off cost: copy the generated snapshot and open it once."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(work_db + suffix):
            os.unlink(work_db + suffix)
    shutil.copyfile(raw_db, work_db)
    os.sync()
    tm = Tmux(tmp, "index")
    fifo = Fifo(os.path.join(tmp, "idle-index"))
    stamp = os.path.join(tmp, "stamp-index")
    env = base_env(os.path.join(tmp, "home-index"))
    env["EMPDIR_TUI_TEST_IDLE"] = fifo.path
    log("first open of the copied snapshot (index build)")
    tm.respawn(launch_argv(stamp, env, [BIN, "--offline", work_db]))
    t1 = wait_fifo(fifo, timeout=600)
    t0 = read_stamp(stamp)
    lines, _ = tm.wait_screen(lambda l: our_screen_ok(l, names[0][:10], names[20][:10]))
    save_screen("index-first-screen", lines)
    tm.keys("q")
    tm.wait_dead()
    tm.close()
    fifo.close()
    left = [s for s in ("-wal", "-shm") if os.path.exists(work_db + s)]
    if left:  # the program checkpoints on close; make sure the next opens start clean
        run([SQLITE, work_db, "PRAGMA wal_checkpoint(TRUNCATE);"], capture_output=True)
    sizes = {"before_bytes": os.path.getsize(raw_db), "after_bytes": os.path.getsize(work_db)}
    log("index build + first frame: %.0f ms" % ms(t1 - t0))
    return {"ms": ms(t1 - t0), **sizes, "leftover_wal": left}


def save_screen(name, lines):
    with open(os.path.join(RAW, "screen-%s.txt" % name), "w") as f:
        f.write("\n".join(lines) + "\n")


def bench_start_ours(tmp, db, names):
    tm = Tmux(tmp, "start")
    first, last = names[0][:10], names[20][:10]
    marker, polled = [], []
    env = base_env(os.path.join(tmp, "home-start"))
    argv = [BIN, "--offline", db]
    # Warm-up: page cache, tmux, dynamic loader caches.
    for i in range(3 + N_START + N_START_POLL):
        poll_mode = i >= 3 + N_START
        fifo = Fifo(os.path.join(tmp, "idle-start"))
        stamp = os.path.join(tmp, "stamp-start")
        if os.path.exists(stamp):
            os.unlink(stamp)
        e = dict(env, EMPDIR_TUI_TEST_IDLE=fifo.path)
        tm.respawn(launch_argv(stamp, e, argv))
        if poll_mode:
            lines, t1 = tm.wait_screen(lambda l: our_screen_ok(l, first, last), interval=POLL)
        else:
            t1 = wait_fifo(fifo)
        t0 = read_stamp(stamp)
        lines, _ = tm.wait_screen(lambda l: our_screen_ok(l, first, last), timeout=5)
        if i == 3:
            save_screen("start-ours", lines)
        if i >= 3:
            (polled if poll_mode else marker).append(ms(t1 - t0))
        tm.keys("q")
        tm.wait_dead()
        fifo.close()
    tm.close()
    log("start-up (ours): median %.1f ms marker, %.1f ms polled" %
        (statistics.median(marker), statistics.median(polled)))
    return {"marker": marker, "polled": polled}


def vd_rows_ok(lines, names):
    """VisiData's first screen of rows: the menu line, the header, 21 rows
    (the first and the 21st of the table in file order)."""
    return (len(lines) >= LINES and names[0][:8] in lines[2] and names[20][:8] in lines[LINES - 2])


def bench_start_vd(tmp, csv, db, names):
    """VisiData on the CSV export (rows appear while it loads) and on the
    snapshot's employees table (`vd FILE.db +:employees::`, the one-command
    way: VisiData loads the table before it shows it)."""
    tm = Tmux(tmp, "vd")
    env = base_env(os.path.join(tmp, "home-vd"))
    res = {}
    stamp = os.path.join(tmp, "stamp-vd")
    for name, argv in (("csv", [VD, "-N", csv]), ("sqlite", [VD, "-N", db, "+:employees::"])):
        res[name] = []
        for i in range(1 + N_VD):  # the first one warms up
            if os.path.exists(stamp):
                os.unlink(stamp)
            tm.respawn(launch_argv(stamp, env, argv))
            lines, t1 = tm.wait_screen(lambda l: vd_rows_ok(l, names), timeout=120, interval=POLL)
            t0 = read_stamp(stamp)
            if i == 1:
                save_screen("start-vd-%s" % name, lines)
            if i >= 1:
                res[name].append(ms(t1 - t0))
            tm.stop()
    tm.close()
    log("start-up (VisiData): csv %.0f ms, sqlite %.0f ms" %
        (statistics.median(res["csv"]), statistics.median(res["sqlite"])))
    return res


def hyperfine(name, cmds, runs, warmup, env):
    path = os.path.join(RAW, "hyperfine-%s.json" % name)
    argv = [HYPERFINE, "-N", "--style", "basic", "--warmup", str(warmup), "--runs", str(runs),
            "--export-json", path] + [" ".join(shlex.quote(a) for a in c) for c in cmds]
    with open(os.path.join(RAW, "hyperfine-%s.log" % name), "w") as logf:
        run(argv, stdout=logf, stderr=subprocess.STDOUT, env=env)
    with open(path) as f:
        data = json.load(f)
    return [[t * 1000 for t in r["times"]] for r in data["results"]]


def bench_start_sqlite(tmp, db):
    env = dict(base_env(os.path.join(tmp, "home-sqlite")))
    times = hyperfine("first-page", [[SQLITE, db, FIRST_PAGE_SQL]], runs=15 if QUICK else 50,
                      warmup=5, env=env)[0]
    log("first page (sqlite3): median %.1f ms" % statistics.median(times))
    return times


# ------------------------------------------------ incremental search -------

class Pty:
    """The program on a pseudo-terminal of our own, 80x24: a key is one
    write() to the master, and the frame it causes is complete when the
    program writes its idle line (it writes the frame first)."""

    def __init__(self, argv, env, fifo):
        import pty
        self.fifo = fifo
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLS, 0, 0))
        pid = os.fork()
        if pid == 0:
            try:
                os.close(master)
                os.setsid()
                fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(slave, fd)
                if slave > 2:
                    os.close(slave)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        os.close(slave)
        self.pid = pid
        self.fd = master
        os.set_blocking(master, False)
        self.output = 0

    def drain(self):
        while True:
            try:
                d = os.read(self.fd, 65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno == errno.EIO:
                    return
                raise
            if not d:
                return
            self.output += len(d)

    def wait_idle(self, timeout=30):
        """Wait for the next idle line; return CLOCK_MONOTONIC at wake-up.
        The terminal output is drained meanwhile so the program never blocks."""
        p = select.poll()
        p.register(self.fifo.fd, select.POLLIN)
        p.register(self.fd, select.POLLIN)
        end = now() + int(timeout * 1e9)
        while True:
            left = (end - now()) / 1e6
            if left <= 0:
                raise RuntimeError("no idle marker within %d s" % timeout)
            ev = dict(p.poll(left))
            if ev.get(self.fifo.fd, 0) & select.POLLIN:
                t = now()
                if self.fifo.read_lines():
                    self.drain()
                    return t
            if self.fd in ev:
                self.drain()

    def key(self, data):
        """Write one key, wait for its frame; the milliseconds in between."""
        t0 = now()
        os.write(self.fd, data)
        t1 = self.wait_idle()
        return ms(t1 - t0)

    def close(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        end = time.time() + 10
        while time.time() < end:
            self.drain()
            r, _ = os.waitpid(self.pid, os.WNOHANG)
            if r:
                break
            time.sleep(0.01)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def bench_search_ours(tmp, db):
    samples = {q: {q[:i]: [] for i in range(1, len(q) + 1)} for q in QUERIES}
    enter = {q: [] for q in QUERIES}
    for rep in range(1 + N_SEARCH):  # the first session warms up and is dropped
        fifo = Fifo(os.path.join(tmp, "idle-search"))
        env = base_env(os.path.join(tmp, "home-search-%d" % rep))
        env.update(TERM="xterm-256color", EMPDIR_TUI_TEST_IDLE=fifo.path)
        p = Pty([BIN, "--offline", db], env, fifo)
        try:
            p.wait_idle()
            for q in QUERIES:
                p.key(b"/")
                for i in range(1, len(q) + 1):
                    d = p.key(q[i - 1].encode())
                    if rep:
                        samples[q][q[:i]].append(d)
                d = p.key(b"\r")  # commit: the status bar then shows the count
                if rep:
                    enter[q].append(d)
                p.key(b"\x1b")  # Esc: clear the search (after ESCDELAY)
        finally:
            p.close()
            fifo.close()
    for q in QUERIES:
        allk = [x for v in samples[q].values() for x in v]
        log("search (ours) %-14r median %.1f ms p95 %.1f ms; Enter %.0f ms" %
            (q, statistics.median(allk), summary(allk)["p95"], statistics.median(enter[q])))
    return {"keystrokes": samples, "enter": enter}


def bench_search_sqlite(tmp, db):
    env = base_env(os.path.join(tmp, "home-sqlite"))
    prefixes = [q[:i] for q in QUERIES for i in range(1, len(q) + 1)]
    times = hyperfine("search-like", [[SQLITE, db, like_sql(p)] for p in prefixes],
                      runs=3 if QUICK else 5, warmup=1, env=env)
    res = {q: {} for q in QUERIES}
    k = 0
    for q in QUERIES:
        for i in range(1, len(q) + 1):
            res[q][q[:i]] = times[k]
            k += 1
    for q in QUERIES:
        allk = [x for v in res[q].values() for x in v]
        log("search (sqlite3 LIKE) %-14r median %.1f ms p95 %.1f ms" %
            (q, statistics.median(allk), summary(allk)["p95"]))
    return res


def search_screens(tmp, db):
    """Not timed: what the screen shows after each whole query (evidence
    that the keystrokes measured really searched)."""
    tm = Tmux(tmp, "screens")
    env = base_env(os.path.join(tmp, "home-screens"))
    idle = os.path.join(tmp, "idle-screens.log")
    open(idle, "w").close()
    env["EMPDIR_TUI_TEST_IDLE"] = idle

    def count():
        with open(idle) as f:
            return sum(1 for _ in f)

    def settle(before):
        end = time.time() + 30
        while count() <= before:
            if time.time() > end:
                raise RuntimeError("no redraw:\n" + tm.screen())
            time.sleep(0.01)
        time.sleep(0.05)

    stamp = os.path.join(tmp, "stamp-screens")
    tm.respawn(launch_argv(stamp, env, [BIN, "--offline", db]))
    settle(0)
    for q in QUERIES:
        b = count()
        tm.keys("/")
        settle(b)
        b = count()
        tm.keys("-l", q)
        settle(b)
        b = count()
        tm.keys("Enter")
        settle(b)
        save_screen("search-%s" % q, tm.lines())
        b = count()
        tm.keys("Escape")
        settle(b)
    tm.close()


# ------------------------------------------------------------ memory -------

def proc_status(pid):
    r = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS", "VmPeak", "VmSize", "RssAnon", "RssFile", "RssShmem"):
                r[k] = int(v.split()[0])  # kB
    return r


def bench_memory_ours(tmp, db):
    """Page down (Ctrl-F) through every row, in batches of keys, until the
    status bar says N/N; then read the peak resident set (VmHWM).

    Batches: send up to BATCH Ctrl-F, wait until the program has drawn and
    then stayed idle (it drains all typed keys before it draws), read the
    position. Not every key has to count: the next batch sends what is still
    missing. The walk stops after PAGING_BUDGET seconds wherever it is, so a
    slow program cannot stall the run; the report says so."""
    tm = Tmux(tmp, "mem")
    env = base_env(os.path.join(tmp, "home-mem"))
    idle = os.path.join(tmp, "idle-mem.log")
    open(idle, "w").close()
    env["EMPDIR_TUI_TEST_IDLE"] = idle
    stamp = os.path.join(tmp, "stamp-mem")
    tm.respawn(launch_argv(stamp, env, [BIN, "--offline", db]))
    status_re = re.compile(r" (\d+)/(\d+) ")

    def idle_count():
        with open(idle, "rb") as f:
            return f.read().count(b"\n")

    def settle(before, quiet=0.25, timeout=PAGING_BUDGET + 60):
        """Wait for a frame after `before`, then for `quiet` s without one."""
        end = time.time() + timeout
        n = idle_count()
        while n <= before:
            if time.time() > end:
                raise RuntimeError("no frame:\n" + tm.screen())
            time.sleep(0.01)
            n = idle_count()
        last, since = n, time.time()
        while time.time() - since < quiet:
            time.sleep(0.02)
            n = idle_count()
            if n != last:
                last, since = n, time.time()
        return n

    def pos():
        m = status_re.search(tm.lines()[LINES - 2])
        return int(m.group(1)) if m else 0

    tm.wait_screen(lambda l: " 1/%d " % ROWS in l[LINES - 2])
    n = settle(0, quiet=0.1)
    pid = tm.pid()
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert os.path.basename(f.read().split(b"\0")[0]) == b"empdir-tui"
    at_start = proc_status(pid)
    tm.keys("C-f")
    n = settle(n, quiet=0.1)
    page = pos() - 1
    sent, here = 1, pos()
    trace = [(0.0, here, 1, at_start["VmHWM"])]
    t0 = now()
    complete = True
    while here < ROWS:
        if ms(now() - t0) / 1000 > PAGING_BUDGET:
            complete = False
            break
        k = min(BATCH, -(-(ROWS - here) // page))
        tm.keys("-N", str(k), "C-f")
        sent += k
        n = settle(n)
        here = pos()
        trace.append((ms(now() - t0), here, sent, proc_status(pid)["VmHWM"]))
    elapsed = ms(now() - t0)
    at_end = proc_status(pid)
    save_screen("memory-ours-last-page", tm.lines())
    with open(os.path.join(RAW, "memory-ours-trace.tsv"), "w") as f:
        f.write("ms\tposition\tctrl_f_sent\tVmHWM_kB\n")
        for row in trace:
            f.write("%.0f\t%d\t%d\t%d\n" % row)
    tm.keys("q")
    tm.wait_dead(timeout=120)
    tm.close()
    log("memory (ours): VmHWM %d kB at %d/%d (%d Ctrl-F sent, %.1f s)%s" %
        (at_end["VmHWM"], here, ROWS, sent, elapsed / 1000, "" if complete else " -- budget exhausted"))
    return {"start": at_start, "end": at_end, "ctrl_f_sent": sent, "rows_per_page": page,
            "paging_ms": elapsed, "reached": here, "complete": complete, "budget_s": PAGING_BUDGET,
            "trace": trace}


def bench_memory_vd(tmp, db, csv):
    tm = Tmux(tmp, "vdmem")
    env = base_env(os.path.join(tmp, "home-vdmem"))
    res = {}
    loaded = lambda l: ("%d rows" % ROWS) in l[LINES - 1] and "loading" not in l[LINES - 1]
    for name, argv in (("sqlite", [VD, "-N", db, "+:employees::"]), ("csv", [VD, "-N", csv])):
        stamp = os.path.join(tmp, "stamp-vdmem")
        tm.respawn(launch_argv(stamp, env, argv))
        lines, t1 = tm.wait_screen(loaded, timeout=300, interval=0.1)
        t0 = read_stamp(stamp)
        pid = tm.pid()
        st = proc_status(pid)
        st["load_ms"] = ms(t1 - t0)
        res[name] = st
        save_screen("memory-vd-%s" % name, lines)
        log("memory (VisiData %s): VmHWM %d kB, loaded in %.1f s" % (name, st["VmHWM"], st["load_ms"] / 1000))
        tm.stop()
    tm.close()
    return res


def bench_memory_sqlite(tmp, db):
    env = base_env(os.path.join(tmp, "home-sqlite"))
    res = []
    for _ in range(3):
        r = run([GNUTIME, "-v", SQLITE, db, ALL_ROWS_SQL], stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True, env=env)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
        w = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", r.stderr)
        secs = (int(w.group(1) or 0) * 3600 + int(w.group(2)) * 60 + float(w.group(3))) if w else None
        res.append({"VmHWM": int(m.group(1)), "seconds": secs})
    with open(os.path.join(RAW, "time-v-sqlite3-all-rows.txt"), "w") as f:
        f.write(r.stderr)
    log("memory (sqlite3 all rows): max RSS %d kB" % max(x["VmHWM"] for x in res))
    return res


# ------------------------------------------------------------ context ------

def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1])
    gov = None
    p = "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"
    if os.path.exists(p):
        gov = open(p).read().strip()
    osr = {}
    with open("/etc/os-release") as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            osr[k] = v.strip('"')
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_kb": mem, "governor": gov,
            "kernel": platform.release(), "os": osr.get("PRETTY_NAME"),
            "debian_version": open("/etc/debian_version").read().strip(),
            "load_before": os.getloadavg()}


def versions():
    def pkg(p):
        return out(["dpkg-query", "-W", "-f=${Version}", p], check=False) or None
    git = out(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=False)
    dirty = out(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], check=False)
    return {
        "empdir-tui": out([BIN, "--version"]),
        "git": (git + ("+dirty" if dirty else "")) if git else "unknown",
        "libsqlite3 (linked by empdir-tui)": pkg("libsqlite3-0"),
        "sqlite3 CLI": out([SQLITE, "--version"]).split()[0],
        "visidata": pkg("visidata"),
        "hyperfine": out([HYPERFINE, "--version"]).split()[-1],
        "tmux": out([TMUX, "-V"]).split()[-1],
        "libncursesw6": pkg("libncursesw6"),
        "python3 (harness)": platform.python_version(),
        "cc": out(["cc", "--version"]).splitlines()[0],
    }


def main():
    parts = sys.argv[1:] or ["start", "search", "memory"]
    for p in parts:
        if p not in ("start", "search", "memory"):
            raise SystemExit("usage: bench.py [start] [search] [memory]  (default: all three)")
    os.makedirs(RAW, exist_ok=True)
    for f in os.listdir(RAW):
        os.unlink(os.path.join(RAW, f))
    started = now()
    res = {"parts": parts, "rows": ROWS, "seed": SEED, "quick": QUICK, "queries": QUERIES,
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine(), "versions": versions(),
           "sql": {"first_page": FIRST_PAGE_SQL, "all_rows": ALL_ROWS_SQL, "like_example": like_sql("an")}}
    raw_db, csv = prepare_data()
    tmp = tempfile.mkdtemp(prefix="empdir-bench-")
    work = os.path.join(RES, "work")
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, "employees-%d.db" % ROWS)
    try:
        ours, plain = expected_names(raw_db)
        res["index_build"] = index_build(tmp, raw_db, db, ours)
        if "start" in parts:
            res["start"] = {"ours": bench_start_ours(tmp, db, ours),
                            "vd": bench_start_vd(tmp, csv, db, plain),
                            "sqlite3": bench_start_sqlite(tmp, db)}
        if "search" in parts:
            res["search"] = {"ours": bench_search_ours(tmp, db), "sqlite3": bench_search_sqlite(tmp, db)}
            search_screens(tmp, db)
        if "memory" in parts:
            res["memory"] = {"ours": bench_memory_ours(tmp, db), "vd": bench_memory_vd(tmp, db, csv),
                             "sqlite3": bench_memory_sqlite(tmp, db)}
    finally:
        for tm in list(SERVERS):
            tm.close()
        subprocess.run(["rm", "-rf", tmp])
    res["duration_s"] = ms(now() - started) / 1000
    res["machine"]["load_after"] = os.getloadavg()
    with open(os.path.join(RES, "results.json"), "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
    log("results in %s (%.0f s)" % (os.path.relpath(os.path.join(RES, "results.json"), ROOT),
                                    res["duration_s"]))


if __name__ == "__main__":
    main()
