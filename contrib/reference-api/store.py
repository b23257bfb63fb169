"""store: the deployed employees table behind the API, through psycopg2.

The table stays as deployed: no version column, so a record's version is the
MD5 of its content (VERSION_SQL, which the C clients compute too), and every
write to an existing row locks it, compares versions and writes in one
transaction. All values are bound parameters; the only text spliced into SQL
is a sort column taken from a fixed list.

Operations return an Outcome (the status the API answers with, and what goes
with it); the HTTP layer only renders them."""

import threading
import uuid
from collections import namedtuple

import psycopg2

import rules

COLS = "id, fullname, location, job_title, badges"
VERSION_SQL = ("md5(id||chr(31)||fullname||chr(31)||location||chr(31)||job_title||chr(31)"
               "||coalesce(badges,chr(30)))")
RETURNING = f"{COLS}, {VERSION_SQL}"
SELECT = f"SELECT {RETURNING} FROM employees"

# q as a case-insensitive substring of a text column or of one badge. The
# badges column holds a JSON array or (legacy) comma-separated text, told apart
# exactly as rules.decode_badges() does. {prefilter} narrows by the raw text
# first when that is exact, which lets a pg_trgm index do the work.
SEARCH_SQL = """(fullname ILIKE %(pat)s OR location ILIKE %(pat)s OR job_title ILIKE %(pat)s
 OR ({prefilter}CASE WHEN badges ~ %(json_re)s
   THEN EXISTS (SELECT 1 FROM json_array_elements_text(badges::json) AS b(v) WHERE b.v ILIKE %(pat)s)
   ELSE EXISTS (SELECT 1 FROM unnest(string_to_array(badges, ',')) AS b(v)
                WHERE btrim(b.v, %(trim)s) ILIKE %(pat)s) END))"""


class Unavailable(Exception):
    """The database could not be reached (or answered too slowly)."""


# employee for 200/201, current for 409/412, detail and errors for problems.
Outcome = namedtuple("Outcome", "status employee detail errors current", defaults=(None,) * 4)


def invalid(errors, detail="The employee is not valid."):
    return Outcome(400, detail=detail, errors=errors)


def _employee(row):
    return {"id": row[0], "fullname": row[1], "location": row[2], "job_title": row[3],
            "badges": rules.decode_badges(row[4]), "version": row[5]}


def _same_content(rec, emp):
    return all(rec[f] == emp[f] for f in rules.TEXT_FIELDS) and rec["badges"] == emp["badges"]


def _not_found(emp_id):
    return Outcome(404, detail=f"No employee has id {emp_id!r}.")


class Database:
    """A small thread-safe pool. run(fn) calls fn(cursor) in one transaction;
    when a pooled connection turns out dead (the server restarted), the idle
    ones are dropped and fn runs once more on a new connection. fn then runs
    twice only if the first commit was sent and its answer lost."""

    def __init__(self, dsn, maxconn=16):
        self.dsn = dsn
        self._idle = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(maxconn)

    def _connect(self):
        try:
            return psycopg2.connect(self.dsn, connect_timeout=5, application_name="empdir-reference-api",
                                    options="-c statement_timeout=25000")
        except psycopg2.Error as e:
            raise Unavailable(str(e).strip())

    def run(self, fn):
        if not self._slots.acquire(timeout=20):
            raise Unavailable("every database connection is busy")
        try:
            for attempt in (0, 1):
                with self._lock:
                    conn = self._idle.pop() if self._idle else None
                pooled = conn is not None
                conn = conn or self._connect()
                try:
                    with conn, conn.cursor() as cur:
                        result = fn(cur)
                except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:
                    broken = conn.closed != 0
                    conn.close()
                    if broken and pooled and attempt == 0:
                        self.close()  # the rest of the pool predates the same outage
                        continue
                    raise Unavailable(str(e).strip())
                except BaseException:
                    conn.close()
                    raise
                with self._lock:
                    self._idle.append(conn)
                return result
        finally:
            self._slots.release()

    def close(self):
        with self._lock:
            for c in self._idle:
                c.close()
            self._idle.clear()


# ---- operations (each takes a cursor inside its transaction) ----

def ping(cur):
    cur.execute("SELECT 1")
    return cur.fetchone()[0] == 1


def _fetch(cur, emp_id, lock=""):
    if "\x00" in emp_id:  # no text in PostgreSQL holds one; psycopg2 would refuse it
        return None
    cur.execute(SELECT + " WHERE id = %s" + lock, (emp_id,))
    return cur.fetchone()


def get(cur, emp_id):
    row = _fetch(cur, emp_id)
    return Outcome(200, _employee(row)) if row else _not_found(emp_id)


def list_page(cur, q, sort, order, limit, after, want_total):
    """One page ordered by (sort, id); after is the (value, id) a cursor holds."""
    if sort not in rules.SORTS or order not in rules.ORDERS:
        raise ValueError("bad sort or order")
    params = {"limit": limit + 1}
    where = []
    if q:
        prefilter = "badges ILIKE %(pat)s AND " if rules.raw_badges_can_prefilter(q) else ""
        where.append(SEARCH_SQL.format(prefilter=prefilter))
        params.update(pat=rules.like_pattern(q), json_re=rules.BADGE_JSON_RE, trim=rules.TRIM_CHARS)
    filter_sql = " WHERE " + " AND ".join(where) if where else ""
    if after:
        op = ">" if order == "asc" else "<"
        where.append(f"({sort}, id) {op} (%(after_value)s, %(after_id)s)")
        params.update(after_value=after[0], after_id=after[1])
    direction = order.upper()
    sql = SELECT + (" WHERE " + " AND ".join(where) if where else "")
    cur.execute(f"{sql} ORDER BY {sort} {direction}, id {direction} LIMIT %(limit)s", params)
    items = [_employee(r) for r in cur.fetchall()]
    next_cursor = None
    if len(items) > limit:
        items.pop()
        next_cursor = rules.encode_cursor(q, sort, order, items[-1])
    total = None
    if want_total:
        cur.execute("SELECT count(*) FROM employees" + filter_sql, params)
        total = cur.fetchone()[0]
    return {"items": items, "next_cursor": next_cursor, "total": total}


def create(cur, rec):
    """Insert rec (its id, or a new UUID). An existing id is a replay (200)
    when the content is the same, else a conflict (409) with the record."""
    emp_id = rec.get("id") or str(uuid.uuid4())
    values = (emp_id, rec["fullname"], rec["location"], rec["job_title"], rules.encode_badges(rec["badges"]))
    for _ in range(3):
        cur.execute("INSERT INTO employees (id, fullname, location, job_title, badges)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING " + RETURNING, values)
        row = cur.fetchone()
        if row:
            return Outcome(201, _employee(row))
        row = _fetch(cur, emp_id)
        if row:  # else deleted since the insert saw it: try again
            now = _employee(row)
            if _same_content(rec, now):
                return Outcome(200, now)
            return Outcome(409, detail=f"An employee with id {emp_id!r} exists with other content.",
                           current=now)
    raise Unavailable("the record kept changing under the create")


def _lock_current(cur, emp_id, tags):
    """(current record, None) when the precondition holds, else (None, Outcome)."""
    row = _fetch(cur, emp_id, " FOR UPDATE")
    if not row:
        return None, _not_found(emp_id)
    now = _employee(row)
    if not rules.matches(tags, now["version"]):
        return None, Outcome(412, detail="The record changed since that version; current holds it now.",
                             current=now)
    return now, None


def replace(cur, emp_id, tags, rec):
    _, refused = _lock_current(cur, emp_id, tags)
    if refused:
        return refused
    cur.execute("UPDATE employees SET fullname = %s, location = %s, job_title = %s, badges = %s"
                " WHERE id = %s RETURNING " + RETURNING,
                (rec["fullname"], rec["location"], rec["job_title"], rules.encode_badges(rec["badges"]), emp_id))
    return Outcome(200, _employee(cur.fetchone()))


def delete(cur, emp_id, tags):
    _, refused = _lock_current(cur, emp_id, tags)
    if refused:
        return refused
    cur.execute("DELETE FROM employees WHERE id = %s", (emp_id,))
    return Outcome(204)
