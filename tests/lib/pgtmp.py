#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""pgtmp: a throwaway PostgreSQL server for tests and benchmarks.

    with PgServer() as pg:                 # initdb + start on a free 127.0.0.1 port
        pg.create_schema(with_trgm_index=True)
        pg.psql("INSERT INTO employees VALUES ('1', 'A', 'B', 'C', NULL)")
        psycopg2.connect(pg.conninfo)

The CLI is what the C pg-backend tests and the benchmarks use; keep it stable:

    pgtmp.py start DIR [--trgm] [--port N]    prints conninfo=..., port=..., url=... and exits,
                                              leaving the server running (db "empdir", schema made)
    pgtmp.py stop DIR [--mode fast|immediate|smart]
    pgtmp.py restart DIR                      fast stop, then start on the same port
    pgtmp.py kill DIR                         SIGKILL the postmaster and its children (a crash)

A server directory holds data/ (PGDATA), sock/ (the Unix socket) and postgres.log.
PostgreSQL refuses to run as root, so as root initdb and the server run as the
unprivileged user empdir-test (created on demand; nobody when that fails); the
directories above DIR must then be searchable by others (`mktemp -d` makes a
0700 directory: use it as DIR itself, not as DIR's parent).
Servers a PgServer made in a temporary directory are stopped and removed at exit
(atexit, SIGTERM, SIGHUP); ones whose owning process died anyway (SIGKILL) are
reaped by the next PgServer. Servers made through the CLI stay until stopped.
"""

import argparse
import atexit
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DBNAME = "empdir"
SUPERUSER = "postgres"
RUN_USER = "empdir-test"
TEMP_PREFIX = "pgtmp-"
HOST = "127.0.0.1"

# The table as deployed (the seed's SQLAlchemy model), unchanged.
TABLE_SQL = """
CREATE TABLE IF NOT EXISTS employees(
    id varchar(36) PRIMARY KEY,
    fullname varchar(100) NOT NULL,
    location varchar(100) NOT NULL,
    job_title varchar(100) NOT NULL,
    badges text
);
"""

TRGM_SQL = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS employees_fullname_trgm ON employees USING gin (fullname gin_trgm_ops);
CREATE INDEX IF NOT EXISTS employees_location_trgm ON employees USING gin (location gin_trgm_ops);
CREATE INDEX IF NOT EXISTS employees_job_title_trgm ON employees USING gin (job_title gin_trgm_ops);
CREATE INDEX IF NOT EXISTS employees_badges_trgm ON employees USING gin (badges gin_trgm_ops);
"""


class PgError(RuntimeError):
    pass


def find_bindir():
    """The directory holding initdb, pg_ctl and postgres."""
    candidates = []
    if os.environ.get("PGTMP_BINDIR"):
        candidates.append(os.environ["PGTMP_BINDIR"])
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
        candidates.append(out.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        pass

    def version(path):
        m = re.search(r"/postgresql/(\d+)", path)
        return int(m.group(1)) if m else 0

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for d in candidates:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return d
    raise PgError("no PostgreSQL server binaries found (install postgresql, or set PGTMP_BINDIR)")


_run_as = None


def run_as():
    """(uid, gid) the server runs as when we are root, else None."""
    global _run_as
    if os.geteuid() != 0:
        return None
    if _run_as is None:
        try:
            pw = pwd.getpwnam(RUN_USER)
        except KeyError:
            # A parallel run may create it at the same time; only the lookup decides.
            subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                            "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", RUN_USER],
                           capture_output=True)
            try:
                pw = pwd.getpwnam(RUN_USER)
            except KeyError:
                pw = pwd.getpwnam("nobody")
        _run_as = (pw.pw_uid, pw.pw_gid)
    return _run_as


def _clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCLIENTENCODING"] = "UTF8"
    env.setdefault("LANG", "C.UTF-8")
    env.pop("LC_ALL", None)
    return env


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _proc_stat(pid):
    """(state, ppid, starttime) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return fields[0].decode(), int(fields[1]), int(fields[19])


def _alive(pid):
    st = _proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def _children(pid):
    kids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            st = _proc_stat(int(p))
            if st and st[1] == pid:
                kids.append(int(p))
    return kids


def _sigkill_tree(pid, timeout=10.0):
    """SIGKILL a postmaster and its children and wait until all are gone."""
    victims = [pid] + _children(pid)
    for v in victims:
        try:
            os.kill(v, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while any(_alive(v) for v in victims) and time.monotonic() < deadline:
        time.sleep(0.01)


def _unsearchable_ancestor(path, uid, gid):
    """The first directory above path that uid/gid may not enter, or None."""
    parent = os.path.dirname(path)
    while True:
        st = os.stat(parent)
        ok = (st.st_mode & 0o001 or (st.st_uid == uid and st.st_mode & 0o100)
              or (st.st_gid == gid and st.st_mode & 0o010))
        if not ok:
            return parent
        if parent == "/":
            return None
        parent = os.path.dirname(parent)


def _conf_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"


class PgServer:
    """One PostgreSQL server in its own directory, listening on 127.0.0.1 only.

    base_dir=None makes a temporary directory that close() removes; with a
    directory given, data already there is reused and nothing is removed.
    keep=True leaves the server running when this process exits (the CLI).
    password_user=(name, password) adds a login role that must use its
    password over TCP (the superuser "postgres" is trusted); create_schema()
    grants it the table."""

    def __init__(self, base_dir=None, *, port=None, dbname=DBNAME, password_user=None,
                 locale="C.UTF-8", start=True, create=True, keep=False):
        self.bindir = find_bindir()
        self.owned = base_dir is None
        self.keep = keep
        self.dbname = dbname
        self.password_user = password_user
        self.port = port
        self._port_fixed = port is not None
        if self.owned:
            reap_orphans()
            base_dir = tempfile.mkdtemp(prefix=TEMP_PREFIX)
            st = _proc_stat(os.getpid())
            with open(os.path.join(base_dir, "owner.pid"), "w") as f:
                f.write(f"{os.getpid()} {st[2] if st else 0}\n")
        self.dir = os.path.abspath(base_dir)
        self.datadir = os.path.join(self.dir, "data")
        self.sockdir = os.path.join(self.dir, "sock")
        self.logfile = os.path.join(self.dir, "postgres.log")
        if not keep:
            _live.add(self)
            _install_signal_handlers()
        try:
            if not os.path.exists(os.path.join(self.datadir, "PG_VERSION")):
                if not create:
                    raise PgError(f"{self.dir} holds no PostgreSQL data directory")
                self._initdb(locale)
            elif self.port is None:
                self.port = self._configured_port()
            if start:
                self.start()
                self._create_database()
        except BaseException:
            self.close()
            raise

    # ---- properties ----

    @property
    def conninfo(self):
        return f"host={HOST} port={self.port} dbname={self.dbname} user={SUPERUSER}"

    @property
    def url(self):
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{self.dbname}"

    def conninfo_for(self, user, password):
        return f"host={HOST} port={self.port} dbname={self.dbname} user={user} password={password}"

    # ---- running commands ----

    def _run(self, cmd, **kw):
        """Run a server tool as the unprivileged user when we are root."""
        ids = run_as()
        if ids:
            kw.update(user=ids[0], group=ids[1], extra_groups=[])
        return subprocess.run(cmd, cwd=self.dir, env=_clean_env(), capture_output=True, text=True, **kw)

    def _tool(self, name):
        return os.path.join(self.bindir, name)

    def _give(self, path):
        ids = run_as()
        if ids:
            os.chown(path, ids[0], ids[1])

    def _initdb(self, locale):
        os.makedirs(self.dir, exist_ok=True)
        ids = run_as()
        if ids:
            # The server user must be able to reach its directories (mkdtemp makes 0700).
            os.chmod(self.dir, os.stat(self.dir).st_mode | 0o711)
            blocked = _unsearchable_ancestor(self.dir, *ids)
            if blocked:
                raise PgError(f"{blocked} is not searchable by the server's user (uid {ids[0]}); "
                              f"chmod o+x it or choose a directory elsewhere (e.g. under /tmp)")
        for d in (self.datadir, self.sockdir):
            os.makedirs(d, mode=0o700, exist_ok=True)
            self._give(d)
        open(self.logfile, "a").close()
        self._give(self.logfile)
        base = [self._tool("initdb"), "-D", self.datadir, "-U", SUPERUSER, "-A", "trust",
                "-E", "UTF8", "--no-sync", "--no-instructions"]
        r = self._run(base + [f"--locale={locale}"])
        if r.returncode != 0 and locale != "C":
            shutil.rmtree(self.datadir, ignore_errors=True)
            os.makedirs(self.datadir, mode=0o700, exist_ok=True)
            self._give(self.datadir)
            r = self._run(base + ["--locale=C"])
        if r.returncode != 0:
            raise PgError(f"initdb failed in {self.datadir}:\n{r.stderr.strip()}")
        with open(os.path.join(self.datadir, "pg_hba.conf"), "w") as f:
            f.write(f"local all all trust\n"
                    f"host all {SUPERUSER} {HOST}/32 trust\n"
                    f"host all all {HOST}/32 scram-sha-256\n")
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write("\ninclude 'pgtmp.conf'\n")

    def _write_conf(self, port):
        sock = self.sockdir
        if len(sock) + len("/.s.PGSQL.65535") >= 108:
            sock = ""  # too long for sun_path: TCP only
        path = os.path.join(self.datadir, "pgtmp.conf")
        with open(path, "w") as f:
            f.write(f"port = {port}\n"
                    f"listen_addresses = '{HOST}'\n"
                    f"unix_socket_directories = {_conf_quote(sock)}\n"
                    # Survives a server crash (kill()), not an OS crash. Not
                    # synchronous_commit=off: a kill() would lose commits.
                    "fsync = off\n"
                    "full_page_writes = off\n")
        self._give(path)

    def _configured_port(self):
        try:
            with open(os.path.join(self.datadir, "pgtmp.conf")) as f:
                m = re.search(r"^port = (\d+)", f.read(), re.M)
                return int(m.group(1)) if m else None
        except OSError:
            return None

    # ---- server state ----

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.datadir, "postmaster.pid")) as f:
                pid = int(f.readline())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def running(self):
        return self.postmaster_pid() is not None

    def start(self, timeout=60):
        """Start (no-op when running) and wait until it accepts connections.
        The first start picks a free port and retries on a collision; later
        starts keep the port."""
        if self.running():
            pid_port = self._pidfile_port()
            if pid_port:
                self.port = pid_port
            return
        # After a crash the lock files name a dead postmaster, maybe a zombie
        # (where nothing reaps orphans), which the server's own check takes
        # for a live one.
        for lock in [os.path.join(self.datadir, "postmaster.pid")] + glob.glob(
                os.path.join(self.sockdir, ".s.PGSQL.*")):
            try:
                os.unlink(lock)
            except FileNotFoundError:
                pass
        tries = 1 if self._port_fixed else 5
        preferred = self.port
        for attempt in range(tries):
            port = preferred if (attempt == 0 and preferred) else free_port()
            self._write_conf(port)
            log_offset = os.path.getsize(self.logfile) if os.path.exists(self.logfile) else 0
            r = self._run([self._tool("pg_ctl"), "start", "-D", self.datadir, "-l", self.logfile,
                           "-w", "-t", str(timeout), "-s"])
            if r.returncode == 0:
                self.port = port
                self._port_fixed = True
                return
            tail = self._log_since(log_offset)
            if "could not bind" in tail or "could not create any TCP/IP sockets" in tail:
                continue
            raise PgError(f"pg_ctl start failed:\n{r.stdout}{r.stderr}\n{tail}")
        raise PgError(f"could not find a free port after {tries} tries")

    def _pidfile_port(self):
        try:
            with open(os.path.join(self.datadir, "postmaster.pid")) as f:
                return int(f.read().split("\n")[3])
        except (OSError, ValueError, IndexError):
            return None

    def _log_since(self, offset):
        try:
            with open(self.logfile, errors="replace") as f:
                f.seek(offset)
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self, mode="fast"):
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(f"bad stop mode {mode!r}")
        if not self.running():
            return
        r = self._run([self._tool("pg_ctl"), "stop", "-D", self.datadir, "-m", mode, "-w", "-t", "60", "-s"])
        if r.returncode != 0 and self.running():
            raise PgError(f"pg_ctl stop failed:\n{r.stdout}{r.stderr}")

    def restart(self):
        self.stop("fast")
        self.start()

    def kill(self):
        """Crash: SIGKILL the postmaster and its children, as if the machine died."""
        pid = self.postmaster_pid()
        if pid:
            _sigkill_tree(pid)

    def close(self):
        """Stop the server and, for a temporary directory, remove it."""
        try:
            if self.running():
                try:
                    self.stop("immediate")
                except PgError:
                    self.kill()
        finally:
            _live.discard(self)
            if self.owned:
                shutil.rmtree(self.dir, ignore_errors=True)

    cleanup = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- SQL ----

    def psql(self, sql, *, dbname=None, user=SUPERUSER, variables=None, check=True):
        """Run SQL (from stdin, so :'var' interpolation works) and return the
        unaligned, tuples-only output ('|' between columns)."""
        cmd = [self._tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
               "-h", HOST, "-p", str(self.port), "-U", user, "-d", dbname or self.dbname]
        for k, v in (variables or {}).items():
            cmd += ["-v", f"{k}={v}"]
        r = subprocess.run(cmd, input=sql, capture_output=True, encoding="utf-8", env=_clean_env())
        if check and r.returncode != 0:
            raise PgError(f"psql failed ({r.returncode}): {r.stderr.strip()}")
        return r.stdout

    def _create_database(self):
        exists = self.psql("SELECT 1 FROM pg_database WHERE datname = :'db'", dbname="postgres",
                           variables={"db": self.dbname})
        if not exists.strip():
            self.psql('CREATE DATABASE :"db"', dbname="postgres", variables={"db": self.dbname})
        if self.password_user:
            name, password = self.password_user
            found = self.psql("SELECT 1 FROM pg_roles WHERE rolname = :'name'", dbname="postgres",
                              variables={"name": name})
            if not found.strip():
                self.psql("CREATE ROLE :\"name\" LOGIN PASSWORD :'pw'", dbname="postgres",
                          variables={"name": name, "pw": password})

    def create_schema(self, with_trgm_index=False):
        """The deployed employees table; optionally pg_trgm GIN indexes for search."""
        sql = TABLE_SQL + (TRGM_SQL if with_trgm_index else "")
        if self.password_user:
            sql += 'GRANT SELECT, INSERT, UPDATE, DELETE ON employees TO :"name";\n'
        self.psql(sql, variables={"name": self.password_user[0]} if self.password_user else None)


# ---- cleanup of servers this process made ----

_live = set()
_handlers_installed = False


def _close_all():
    for s in list(_live):
        try:
            s.close()
        except Exception:
            pass


atexit.register(_close_all)


def _on_signal(signum, frame):
    _close_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_signal_handlers():
    """Stop our servers on SIGTERM/SIGHUP, unless the program handles those itself."""
    global _handlers_installed
    if _handlers_installed:
        return
    _handlers_installed = True
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) == signal.SIG_DFL:
                signal.signal(sig, _on_signal)
        except ValueError:
            pass  # not the main thread


def reap_orphans():
    """Stop and remove temporary servers whose owning process is gone (SIGKILLed)."""
    for d in glob.glob(os.path.join(tempfile.gettempdir(), TEMP_PREFIX + "*")):
        try:
            with open(os.path.join(d, "owner.pid")) as f:
                pid, start = (int(x) for x in f.read().split())
        except (OSError, ValueError):
            continue
        st = _proc_stat(pid)
        if st and st[0] not in ("Z", "X") and st[2] == start:
            continue
        try:
            with open(os.path.join(d, "data", "postmaster.pid")) as f:
                pm = int(f.readline())
            with open(f"/proc/{pm}/cmdline", "rb") as f:
                if b"postgres" in f.read() and _alive(pm):
                    _sigkill_tree(pm)
        except (OSError, ValueError):
            pass
        shutil.rmtree(d, ignore_errors=True)


# ---- CLI ----

def _print_info(srv):
    print(f"conninfo={srv.conninfo}")
    print(f"port={srv.port}")
    print(f"url={srv.url}")
    sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="pgtmp.py", description="A throwaway PostgreSQL server for tests.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start", help="start (initdb when new), create db empdir and its table")
    p.add_argument("dir")
    p.add_argument("--trgm", action="store_true", help="also CREATE EXTENSION pg_trgm and GIN indexes")
    p.add_argument("--port", type=int, help="listen on this port (default: a free one)")
    p = sub.add_parser("stop", help="stop the server in DIR")
    p.add_argument("dir")
    p.add_argument("--mode", choices=["smart", "fast", "immediate"], default="fast")
    p = sub.add_parser("restart", help="fast stop, then start on the same port")
    p.add_argument("dir")
    p = sub.add_parser("kill", help="SIGKILL the postmaster and its children")
    p.add_argument("dir")
    args = ap.parse_args(argv)

    try:
        if args.cmd == "start":
            srv = PgServer(args.dir, port=args.port, keep=True)
            srv.create_schema(with_trgm_index=args.trgm)
            _print_info(srv)
            return 0
        srv = PgServer(args.dir, keep=True, start=False, create=False)
        if args.cmd == "stop":
            srv.stop(args.mode)
        elif args.cmd == "restart":
            srv.restart()
            _print_info(srv)
        elif args.cmd == "kill":
            srv.kill()
        return 0
    except PgError as e:
        print(f"pgtmp: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
