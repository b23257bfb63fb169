# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmarks of issue #6 (snapshots and the legacy import against
PostgreSQL), side by side with the routes users would otherwise take, on one
throwaway server (tests/lib/pgtmp.py) in one run:

  pull    `empdir-tui snapshot pull --pg` against `psql -c "\\copy employees
          TO f.csv CSV HEADER"` followed by `sqlite3 x.db ".import --csv f.csv
          employees"` (goal: at most 0.6x). Neither file has the search index;
          the program builds it on a file's first open, so that is measured
          for both, and so is `pull --index`, which builds it at once.
  push    `empdir-tui snapshot push` of 10,000 offline edits to pg (goal < 2 s),
          and to the reference HTTP API over its own copy of the table, through
          the contract's batch endpoint (goal < 5 s)
  export  `empdir-tui export --pg` (CSV) against psql \\copy of the same sorted
          query (no goal in the issue; measured because it streams too)
  import  `empdir-tui import` of 1,000,000 legacy rows against the seed's own
          route (sqlite3 .schema/.dump, sed, psql), which imports nothing.

    bench/pull_import.py            (bench/run calls it; stdlib Python only)
    bench/pull_import.py --report   rewrite the .md from the last run's .json

Writes bench/results/pull_import.json and bench/results/pull_import.md (a
section for BENCHMARKS.md). Environment: BENCH_ROWS (1000000), BENCH_SEED
(1), BENCH_REPEAT (3), BENCH_PUSH_EDITS (10000), EMPDIR_TUI_BIN and
EMPDIR_GEN_BIN (default build/empdir-tui, build/empdir-gen).
"""
import datetime
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RES = os.path.join(ROOT, "bench", "results")
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import pgtmp  # noqa: E402

BIN = os.environ.get("EMPDIR_TUI_BIN", os.path.join(ROOT, "build", "empdir-tui"))
GEN = os.environ.get("EMPDIR_GEN_BIN", os.path.join(ROOT, "build", "empdir-gen"))
SQLITE = shutil.which("sqlite3") or "/usr/bin/sqlite3"
ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
SEED = int(os.environ.get("BENCH_SEED", "1"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
PUSH_EDITS = int(os.environ.get("BENCH_PUSH_EDITS", "10000"))


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    e.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", PGCLIENTENCODING="UTF8")
    return e


def timed(cmd, **kw):
    """Seconds a command took (it must succeed), and its result."""
    t = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env(), **kw)
    took = time.monotonic() - t
    if r.returncode != 0 and not kw.get("input"):
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], r.returncode, r.stderr.strip()[-400:]))
    return took, r


def rm(*paths):
    for p in paths:
        for s in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(p + s):
                os.unlink(p + s)


def count(path):
    c = sqlite3.connect(path)
    try:
        return c.execute("SELECT count(*) FROM employees").fetchone()[0]
    finally:
        c.close()


def median(xs):
    return statistics.median(xs)


# ---- set-up ----

def psql_cmd(srv, dbname):
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(srv.port), "-U",
            "postgres", "-d", dbname]


def conninfo(srv, dbname):
    return "host=127.0.0.1 port=%d dbname=%s user=postgres" % (srv.port, dbname)


def new_database(srv, name, table=True):
    srv.psql('CREATE DATABASE "%s"' % name, dbname="postgres")
    if table:
        srv.psql(pgtmp.TABLE_SQL, dbname=name)


def prepare(srv, work):
    csv = os.path.join(work, "gen.csv")
    legacy = os.path.join(work, "legacy.db")
    log("generating %d rows (seed %d): CSV for the table, and the legacy file" % (ROWS, SEED))
    subprocess.run([GEN, "--rows", str(ROWS), "--seed", str(SEED), "--format", "csv", "--out", csv], check=True)
    subprocess.run([GEN, "--rows", str(ROWS), "--seed", str(SEED), "--legacy", "--out", legacy], check=True)
    new_database(srv, "directory")
    timed(psql_cmd(srv, "directory") + ["-c", "\\copy employees FROM '%s' CSV HEADER" % csv])
    timed(psql_cmd(srv, "directory") + ["-c", "VACUUM ANALYZE employees"])
    os.unlink(csv)
    return legacy


# ---- pull ----

def manual_route(srv, work):
    csv, db = os.path.join(work, "manual.csv"), os.path.join(work, "manual.db")
    rm(csv, db)
    t_copy, _ = timed(psql_cmd(srv, "directory") + ["-c", "\\copy employees TO '%s' CSV HEADER" % csv])
    t_import, _ = timed([SQLITE, db, ".import --csv %s employees" % csv])
    assert count(db) == ROWS
    os.unlink(csv)
    return t_copy, t_import, db


def first_open(work, db):
    """The program's first writable open of db (it builds its search index),
    without a screen: a push of an empty journal to db as the destination."""
    src, tiny = os.path.join(work, "tiny-src.db"), os.path.join(work, "tiny.db")
    rm(src, tiny)
    c = sqlite3.connect(src)
    c.execute("CREATE TABLE employees(id varchar(36) primary key, fullname varchar(100) not null, "
              "location varchar(100) not null, job_title varchar(100) not null, badges text)")
    c.commit()
    c.close()
    timed([BIN, "snapshot", "pull", "--offline", src, tiny])
    took, r = timed([BIN, "snapshot", "push", tiny, "--offline", db])
    assert "pushed 0 edits" in r.stdout, r.stdout
    return took


def bench_pull(srv, work):
    res = {"manual_copy": [], "manual_import": [], "pull": [], "pull_index": []}
    snap, indexed = os.path.join(work, "snap.db"), os.path.join(work, "indexed.db")
    for i in range(REPEAT):
        log("pull, round %d of %d" % (i + 1, REPEAT))
        t_copy, t_import, manual = manual_route(srv, work)
        res["manual_copy"].append(t_copy)
        res["manual_import"].append(t_import)
        rm(snap, indexed)
        t, _ = timed([BIN, "snapshot", "pull", "--pg", conninfo(srv, "directory"), snap])
        assert count(snap) == ROWS
        res["pull"].append(t)
        t, _ = timed([BIN, "snapshot", "pull", "--index", "--pg", conninfo(srv, "directory"), indexed])
        assert count(indexed) == ROWS
        res["pull_index"].append(t)
    res["sizes"] = {"manual_db": os.path.getsize(manual), "snapshot": os.path.getsize(snap),
                    "indexed": os.path.getsize(indexed)}
    log("the search index on the first open: of the manual file, of a pulled snapshot")
    res["manual_first_open"] = first_open(work, manual)
    res["pull_first_open"] = first_open(work, snap)
    rm(manual, indexed)
    return res, snap


# ---- push ----

def edit_and_push(snap, edits, *source):
    """Seconds `snapshot push` takes for `edits` offline edits made to snap."""
    c = sqlite3.connect(snap)
    c.execute("UPDATE employees SET job_title = 'Moved ' || substr(job_title, 1, 50) WHERE rowid IN "
              "(SELECT rowid FROM employees ORDER BY id LIMIT ?)", (edits,))
    c.commit()
    waiting = c.execute("SELECT count(*) FROM empdir_journal").fetchone()[0]
    c.close()
    assert waiting == edits, waiting
    took, r = timed([BIN, "snapshot", "push", snap] + list(source))
    assert "pushed %d edits; 0 waiting" % edits in r.stdout, r.stdout
    return took


def bench_push(srv, snap):
    log("push of %d offline edits" % PUSH_EDITS)
    took = edit_and_push(snap, PUSH_EDITS)
    return {"edits": PUSH_EDITS, "seconds": took}


def http_database(srv, work, name):
    """A database of its own with ROWS generated rows, for the HTTP API."""
    csv = os.path.join(work, name + ".csv")
    subprocess.run([GEN, "--rows", str(ROWS), "--seed", str(SEED), "--format", "csv", "--out", csv], check=True)
    new_database(srv, name)
    timed(psql_cmd(srv, name) + ["-c", "\\copy employees FROM '%s' CSV HEADER" % csv])
    timed(psql_cmd(srv, name) + ["-c", "VACUUM ANALYZE employees"])
    os.unlink(csv)


def bench_push_http(srv, work):
    """`snapshot push` of PUSH_EDITS offline edits (at most ROWS) to the
    reference HTTP API (contrib/reference-api, as tests/lib/apienv.py starts
    it), which takes them through the contract's batch endpoint; each round
    edits the same rows again. The snapshot is pulled from the API's database
    with --pg (the same rows and versions as through the API, where paging
    through 1,000,000 rows would take minutes) and pushed with --api."""
    import apienv  # tests/lib: the reference server's runner
    edits = min(PUSH_EDITS, ROWS)
    http_database(srv, work, "httpapi")
    server, url = apienv.start_server(conninfo(srv, "httpapi"))
    snap = os.path.join(work, "http-snap.db")
    times = []
    try:
        log("push to the HTTP API at %s: pulling %d rows" % (url, ROWS))
        rm(snap)
        timed([BIN, "snapshot", "pull", "--pg", conninfo(srv, "httpapi"), snap])
        assert count(snap) == ROWS
        for i in range(REPEAT):
            log("push of %d offline edits to the HTTP API, round %d of %d" % (edits, i + 1, REPEAT))
            times.append(edit_and_push(snap, edits, "--api", url))
        moved = srv.psql("SELECT count(*) FROM employees WHERE job_title LIKE 'Moved %'", dbname="httpapi")
        assert int(moved.strip()) == edits, moved
    finally:
        apienv.stop(server)
        rm(snap)
    return {"edits": edits, "seconds": median(times), "runs": times}


# ---- import ----

def seed_route(srv, work, legacy):
    """The guide's Phase 1 step 2, verbatim (its psql runs without
    ON_ERROR_STOP, as in the guide, so it goes on after each error)."""
    new_database(srv, "seedroute", table=False)
    schema, data = os.path.join(work, "schema.sql"), os.path.join(work, "data.sql")
    base = ["psql", "-X", "-h", "127.0.0.1", "-p", str(srv.port), "-U", "postgres", "-d", "seedroute"]
    t = time.monotonic()
    with open(schema, "w") as f:
        subprocess.run([SQLITE, legacy, ".schema"], stdout=f, check=True)
    with open(data, "w") as f:
        subprocess.run([SQLITE, legacy, ".dump"], stdout=f, check=True)
    subprocess.run(["sed", "-i", "s/AUTOINCREMENT/SERIAL/g", schema], check=True)
    subprocess.run(["sed", "-i", "s/INTEGER PRIMARY KEY/INTEGER PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY/g",
                    schema], check=True)
    errors = []
    for path in (schema, data):
        with open(path) as f:
            r = subprocess.run(base, stdin=f, capture_output=True, text=True, env=env())
        errors += [l for l in r.stderr.splitlines() if "ERROR" in l]
    took = time.monotonic() - t
    rows = srv.psql("SELECT count(*) FROM employees", dbname="seedroute").strip() or "no table"
    id_type = srv.psql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                       "to_regclass('employees') AND attname = 'id'", dbname="seedroute").strip()
    for p in (schema, data):
        os.unlink(p)
    return {"seconds": took, "rows": rows, "id_type": id_type, "errors": len(errors),
            "first_errors": [e[:160] for e in errors[:3]]}


# ---- export ----

EXPORT_SQL = ('SELECT id, fullname, location, job_title, badges FROM employees '
              'ORDER BY lower(fullname COLLATE "C"), id COLLATE "C"')


def bench_export(srv, work):
    """`empdir-tui export --pg` (CSV, sorted by name) against psql \\copy of
    the same sorted query to CSV."""
    out = os.path.join(work, "export.csv")
    res = {"ours": [], "psql": []}
    for i in range(REPEAT):
        log("export, round %d of %d" % (i + 1, REPEAT))
        with open(out, "w") as f:
            t = time.monotonic()
            subprocess.run([BIN, "export", "--pg", conninfo(srv, "directory"), "--format", "csv"], stdout=f,
                           check=True, env=env())
            res["ours"].append(time.monotonic() - t)
        with open(out) as f:
            assert sum(1 for _ in f) == ROWS + 1
        took, _ = timed(psql_cmd(srv, "directory") + ["-c", "\\copy (%s) TO '%s' CSV HEADER" % (EXPORT_SQL, out)])
        res["psql"].append(took)
    rm(out)
    return res


def bench_import(srv, work, legacy):
    log("import: the seed's route")
    seed = seed_route(srv, work, legacy)
    log("import: empdir-tui import")
    new_database(srv, "imported")
    took, r = timed([BIN, "import", legacy, "--pg", conninfo(srv, "imported")])
    rows = int(srv.psql("SELECT count(*) FROM employees", dbname="imported").strip())
    assert rows == ROWS and "verified %d rows" % ROWS in r.stdout, r.stdout
    dry, r = timed([BIN, "import", legacy, "--pg", conninfo(srv, "imported"), "--dry-run"])
    assert "identical: %d" % ROWS in r.stdout, r.stdout
    return {"seed_route": seed, "ours": {"seconds": took, "rows": rows, "report": r.stdout.strip()},
            "dry_run_again_seconds": dry}


# ---- the report ----

def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    ver = lambda cmd: subprocess.run(cmd, capture_output=True, text=True).stdout.strip()  # noqa: E731
    return {"nproc": os.cpu_count(), "cpu": cpu, "postgres": ver(["psql", "--version"]),
            "sqlite3": ver([SQLITE, "--version"]).split(" ")[0], "empdir-tui": ver([BIN, "--version"])}


def write_report(res):
    os.makedirs(RES, exist_ok=True)
    with open(os.path.join(RES, "pull_import.json"), "w") as f:
        json.dump(res, f, indent=1)
    p = res["pull"]
    copy, imp, pull = median(p["manual_copy"]), median(p["manual_import"]), median(p["pull"])
    manual = copy + imp
    pull_idx = median(p["pull_index"])
    m_open, p_open = p["manual_first_open"], p["pull_first_open"]
    push, im = res["push"], res["import"]
    http = res.get("push_http")  # absent in runs from before it was measured
    seed, ours = im["seed_route"], im["ours"]
    m = res["machine"]
    verdict = "met" if pull <= 0.6 * manual else "not met"
    lines = [
        "## Snapshots and the legacy import against PostgreSQL (issue 6)",
        "",
        "%s, %d rows (`empdir-gen --seed %d`), %s, %s on one throwaway server (tests/lib/pgtmp.py: "
        "local TCP, fsync off), %s. Medians of %d runs; %s." % (
            res["date"], res["rows"], res["seed"], m["empdir-tui"], m["postgres"],
            "%d x %s" % (m["nproc"], m["cpu"]), res["repeat"], "bench/pull_import.py"),
        "",
        "### snapshot pull vs psql \\copy + sqlite3 .import",
        "",
        "| route | seconds | x manual |",
        "| --- | ---: | ---: |",
        "| manual: `psql -c \"\\copy employees TO f.csv CSV HEADER\"` | %.2f | |" % copy,
        "| manual: `sqlite3 x.db \".import --csv f.csv employees\"` | %.2f | |" % imp,
        "| **manual route** (no search index, no versions, no unique id) | **%.2f** | 1.00 |" % manual,
        "| **`empdir-tui snapshot pull --pg`** (COPY, unique id, versions, journal, fsync'd rename) | **%.2f** | "
        "**%.2f** |" % (pull, pull / manual),
        "| `empdir-tui snapshot pull --index --pg` (the search index built in the same step) | %.2f | %.2f |"
        % (pull_idx, pull_idx / manual),
        "| manual route, then the program's first open of that file (it builds the search index) | %.2f | %.2f |"
        % (manual + m_open, (manual + m_open) / manual),
        "| `snapshot pull`, then the program's first open of the snapshot (it builds the search index) "
        "| %.2f | %.2f |" % (pull + p_open, (pull + p_open) / manual),
        "",
        "Goal (pull at most 0.6x the manual route): **%s**. Files: manual %.0f MB, snapshot %.0f MB "
        "(%.0f MB with the search index)." % (
            verdict, p["sizes"]["manual_db"] / 1e6, p["sizes"]["snapshot"] / 1e6, p["sizes"]["indexed"] / 1e6),
        "",
        "### snapshot push",
        "",
        "%d offline edits pushed to pg: **%.2f s** (goal < 2 s: **%s**)." % (
            push["edits"], push["seconds"], "met" if push["seconds"] < 2 else "not met"),
        "",
    ]
    if http:
        lines += [
            "%d offline edits pushed to the reference HTTP API: **%.2f s** (goal < 5 s: **%s**; median of %d)."
            % (http["edits"], http["seconds"], "met" if http["seconds"] < 5 else "not met", len(http["runs"])),
            "",
        ]
    ex = res.get("export")  # absent in runs from before it was measured
    if ex:
        o, q = median(ex["ours"]), median(ex["psql"])
        lines += [
            "### export",
            "",
            "`empdir-tui export --pg ... --format csv` (one COPY sorted by name): **%.2f s**; psql `\\copy` of "
            "the same sorted query to CSV: %.2f s (**%.2fx**)." % (o, q, o / q),
            "",
        ]
    lines += [
        "### import of the legacy file",
        "",
        "| route | seconds | rows in the table afterwards |",
        "| --- | ---: | --- |",
        "| the seed's guide: `sqlite3 .schema/.dump`, `sed`, `psql <` | %.2f | %s (id became %s; %d errors) |"
        % (seed["seconds"], seed["rows"], seed["id_type"] or "?", seed["errors"]),
        "| `empdir-tui import LEGACY.db --pg ...` (one transaction, verified) | %.2f | %d, counts and "
        "checksum verified before COMMIT |" % (ours["seconds"], ours["rows"]),
        "| the same import again with `--dry-run` (all identical) | %.2f | unchanged |" % im["dry_run_again_seconds"],
        "",
    ]
    if seed["first_errors"]:
        lines += ["The seed's route fails with, first:", ""] + ["    " + e for e in seed["first_errors"]] + [""]
    lines += [
        "### What dominates",
        "",
        "- **pull**: the server streams the table unsorted (COPY), one thread receives and another "
        "writes the rows into a plain table, and a unique index on id is built at the end; versions are "
        "MD5s of the content, so none is stored for pg (the server's COPY is the floor: `\\copy` alone "
        "is %.2f s). The search index (FTS5 trigram + 3 NOCASE sort indexes) is built by the first "
        "writable open, for a pulled snapshot as for the manual file (%.1f s and %.1f s here), or during "
        "the pull with `--index`." % (copy, p_open, m_open),
        "- **push**: edits go in batches of 200, each one statement to pg (the edits as one JSON parameter, "
        "data-modifying CTEs with the version preconditions) and one request to the HTTP API's batch "
        "endpoint; confirmations are committed locally in groups of 256 (one fsync per group). To the "
        "reference HTTP API: %s; the server reads and locks a batch's records in one statement and writes "
        "them with one more, in one transaction."
        % ("{:,} edits took {:.2f} s".format(http["edits"], http["seconds"]) if http else "not measured in this run"),
        "- **import**: server-side work in one transaction: COPY into a staging table, one join that "
        "checks what arrived (count and checksum) and classifies every row, the INSERT, and one join "
        "that verifies the table before COMMIT.",
        "",
    ]
    with open(os.path.join(RES, "pull_import.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


def main():
    if sys.argv[1:] == ["--report"]:  # rewrite the section from the last run's JSON
        with open(os.path.join(RES, "pull_import.json")) as f:
            write_report(json.load(f))
        return
    for tool in (BIN, GEN):
        if not os.access(tool, os.X_OK):
            sys.exit("bench: %s is missing; build first (make)" % tool)
    res = {"rows": ROWS, "seed": SEED, "repeat": REPEAT,
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine()}
    work = tempfile.mkdtemp(prefix="empdir-bench6-")
    srv = pgtmp.PgServer()
    try:
        legacy = prepare(srv, work)
        res["pull"], snap = bench_pull(srv, work)
        res["push"] = bench_push(srv, snap)
        res["push_http"] = bench_push_http(srv, work)
        res["export"] = bench_export(srv, work)
        res["import"] = bench_import(srv, work, legacy)
    finally:
        srv.close()
        shutil.rmtree(work, ignore_errors=True)
    write_report(res)


if __name__ == "__main__":
    main()
