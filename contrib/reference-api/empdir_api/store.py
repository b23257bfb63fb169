# SPDX-License-Identifier: GPL-3.0-or-later
"""store: the operations on the deployed employees table, through the app's
Flask-SQLAlchemy session.

Every statement is a SQLAlchemy expression on the Employee model, so every
value is a bound parameter; the only choice made from the request is the sort
column, taken from a fixed map. Statements select or return the model's
FIELDS, whose rows models.record() shapes. A record's version is the MD5 of
its content (Employee.version, computed in SQL), and every write to an
existing row locks it (SELECT ... FOR UPDATE), compares versions and writes in
one transaction: the same statements, round trips and locks as plain SQL.

Writes (Write: create, replace, delete) go through apply(), one or a batch's
worth at a time: the same statements serve both, each reading or writing all
the records at once, so a batch costs a few round trips, not a few per
operation. Operations return an Outcome (the status the API answers with, and
what goes with it); the HTTP layer only renders them. run() gives each
request its transaction."""

import functools
import uuid
from collections import namedtuple

from flask import current_app
from sqlalchemy import Text, and_, bindparam, case, cast, column, exc, exists, func, or_, select, text, tuple_, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.dialects.postgresql import insert as pg_insert

from . import rules
from .models import FIELDS, Employee, record

SORT_COLUMNS = {"fullname": Employee.fullname, "location": Employee.location, "job_title": Employee.job_title}


class Unavailable(Exception):
    """The database could not be reached (or answered too slowly)."""


# employee for 200/201, current for 409/412, detail and errors for problems.
Outcome = namedtuple("Outcome", "status employee detail errors current", defaults=(None,) * 4)


def invalid(errors, detail="The employee is not valid."):
    return Outcome(400, detail=detail, errors=errors)


def _same_content(rec, emp):
    return all(rec[f] == emp[f] for f in rules.TEXT_FIELDS) and rec["badges"] == emp["badges"]


def _not_found(emp_id):
    return Outcome(404, detail=f"No employee has id {emp_id!r}.")


# ---- transactions ----

def session():
    """The session of the Flask-SQLAlchemy extension registered on the current
    app: empdir_api.db, or the deployment's own SQLAlchemy() instance (the
    Employee model works with either: FSA picks the app's default engine)."""
    ext = current_app.extensions.get("sqlalchemy")
    if ext is None:
        raise RuntimeError("no Flask-SQLAlchemy on this app: call empdir_api.db.init_app(app)")
    return ext.session


def run(fn):
    """fn(session) in one transaction, committed when fn returns.

    A pooled connection found dead (PostgreSQL restarted) makes SQLAlchemy
    invalidate it and every connection opened before it; fn then runs once more
    on a new connection. fn runs twice only if the first commit was sent and
    its answer lost, and every operation here is safe to repeat then (a create
    replays, a conditional write finds its version changed). A database that
    cannot be reached, a pool with no free connection and a statement timeout
    raise Unavailable."""
    s = session()
    for attempt in (0, 1):
        try:
            result = fn(s)
            s.commit()
            return result
        except exc.DBAPIError as e:
            s.rollback()
            if e.connection_invalidated and attempt == 0:
                continue
            if e.connection_invalidated or isinstance(e, (exc.OperationalError, exc.InterfaceError)):
                raise Unavailable(str(e.orig).strip()) from e
            raise
        except exc.TimeoutError as e:  # the pool's: every connection is busy
            s.rollback()
            raise Unavailable("every database connection is busy") from e
        except BaseException:
            s.rollback()
            raise


# ---- statements ----
#
# Built once, with named bound parameters; a request only supplies the values.
# (SQLAlchemy 1.4 then compiles each once, except the INSERT: its ON CONFLICT
# clause has no cache key there, so it is compiled per execution.)

_BY_ID = select(*FIELDS).where(Employee.id == bindparam("emp_id"))
# The rows whose ids are in the list :ids; locked FOR UPDATE in id order, so
# two requests locking some of the same rows take those locks in one order.
_BY_IDS = select(*FIELDS).where(Employee.id.in_(bindparam("ids", expanding=True)))
_BY_IDS_LOCKED = _BY_IDS.order_by(Employee.id).with_for_update()

# The records to write, sent as one JSON parameter :rows (a list of
# {"id": ..., "fullname": ..., ...}, see _row()) and read as a table, so one
# statement writes them all, however many there are.
_COLUMNS = ("id", "fullname", "location", "job_title", "badges")
_GIVEN = (func.json_to_recordset(bindparam("rows", type_=JSON))
          .table_valued(*(column(c, Text) for c in _COLUMNS)).render_derived(name="given", with_types=True))
_INSERT = (pg_insert(Employee).from_select(_COLUMNS, select(*(_GIVEN.c[c] for c in _COLUMNS)))
           .on_conflict_do_nothing(index_elements=[Employee.id]).returning(*FIELDS))
# Core-style DML through the session: nothing is loaded into it to synchronize.
_UPDATE = (update(Employee).where(Employee.id == _GIVEN.c.id).values({c: _GIVEN.c[c] for c in _COLUMNS[1:]})
           .returning(*FIELDS).execution_options(synchronize_session=False))
_DELETE = (sql_delete(Employee).where(Employee.id.in_(bindparam("ids", expanding=True)))
           .execution_options(synchronize_session=False))


def _search(prefilter):
    """q (the LIKE pattern :pat) as a case-insensitive substring of a text
    column or of one badge. The badges column holds a JSON array or (legacy)
    comma-separated text, told apart exactly as rules.decode_badges() does
    (:json_re). With prefilter, the raw text narrows the rows first, which lets
    a pg_trgm index do the work (only exact for some q: see
    rules.raw_badges_can_prefilter())."""
    pat, badges = bindparam("pat"), Employee.badges
    json_badge = func.json_array_elements_text(cast(badges, JSON)).column_valued("b")
    legacy_badge = func.unnest(func.string_to_array(badges, ",")).column_valued("b")
    one_badge = case(
        (badges.regexp_match(bindparam("json_re")), exists().where(json_badge.ilike(pat))),
        else_=exists().where(func.btrim(legacy_badge, bindparam("trim")).ilike(pat)))
    if prefilter:
        one_badge = and_(badges.ilike(pat), one_badge)
    return or_(Employee.fullname.ilike(pat), Employee.location.ilike(pat), Employee.job_title.ilike(pat),
               one_badge)


@functools.lru_cache(maxsize=None)
def _page_statements(sort, order, search, after):
    """(page, count) for a list request's shape: sort column and order, search
    None/"plain"/"prefilter", after a cursor or not. Parameters :limit, :pat,
    :json_re, :trim, :after_value, :after_id."""
    col = SORT_COLUMNS[sort]
    match = [_search(search == "prefilter")] if search else []
    page = select(*FIELDS).where(*match)
    if after:
        key, last = tuple_(col, Employee.id), tuple_(bindparam("after_value"), bindparam("after_id"))
        page = page.where(key > last if order == "asc" else key < last)
    if order == "asc":
        page = page.order_by(col.asc(), Employee.id.asc())
    else:
        page = page.order_by(col.desc(), Employee.id.desc())
    page = page.limit(bindparam("limit"))
    return page, select(func.count()).select_from(Employee).where(*match)


def _storable(emp_id):
    """False for an id no text column can hold (NUL, lone surrogates): no row
    has it, and psycopg2 could not send it."""
    return "\x00" not in emp_id and not any("\ud800" <= c <= "\udfff" for c in emp_id)


def _fetch(s, emp_id):
    """The row (FIELDS) with that id, or None."""
    if not _storable(emp_id):
        return None
    return s.execute(_BY_ID, {"emp_id": emp_id}).first()


def _current(s, ids, lock=False):
    """{id: record} of the rows with those ids, in one statement (locked FOR
    UPDATE if asked)."""
    ids = [i for i in ids if _storable(i)]
    if not ids:
        return {}
    return _records(s.execute(_BY_IDS_LOCKED if lock else _BY_IDS, {"ids": ids}))


def _records(rows):
    """{id: record} of rows of FIELDS."""
    return {row[0]: record(*row) for row in rows}


def _row(w):
    """A write's record as one entry of :rows."""
    rec = w.rec
    return {"id": w.emp_id, "fullname": rec["fullname"], "location": rec["location"],
            "job_title": rec["job_title"], "badges": rules.encode_badges(rec["badges"])}


# ---- operations (each takes the session, inside its transaction) ----

def ping(s):
    return s.execute(text("SELECT 1")).scalar() == 1


def get(s, emp_id):
    row = _fetch(s, emp_id)
    return Outcome(200, record(*row)) if row else _not_found(emp_id)


def list_page(s, q, sort, order, limit, after, want_total):
    """One page ordered by (sort, id); after is the (value, id) a cursor holds."""
    if sort not in SORT_COLUMNS or order not in rules.ORDERS:
        raise ValueError("bad sort or order")
    params = {"limit": limit + 1}
    search = None
    if q:
        search = "prefilter" if rules.raw_badges_can_prefilter(q) else "plain"
        params.update(pat=rules.like_pattern(q), json_re=rules.BADGE_JSON_RE, trim=rules.TRIM_CHARS)
    if after:
        params.update(after_value=after[0], after_id=after[1])
    page, count = _page_statements(sort, order, search, bool(after))
    items = [record(*row) for row in s.execute(page, params)]
    next_cursor = None
    if len(items) > limit:
        items.pop()
        next_cursor = rules.encode_cursor(q, sort, order, items[-1])
    total = s.execute(count, params).scalar_one() if want_total else None
    return {"items": items, "next_cursor": next_cursor, "total": total}


# ---- writes ----

class Write(namedtuple("Write", "op emp_id tags rec")):
    """One write whose input the rules accepted, not yet applied: create rec
    (with its id, or a new UUID), replace the record emp_id with rec, or delete
    it, those two only if its version matches tags (parsed If-Match)."""

    __slots__ = ()

    @classmethod
    def create(cls, rec):
        return cls("create", rec.get("id") or str(uuid.uuid4()), None, rec)

    @classmethod
    def replace(cls, emp_id, tags, rec):
        return cls("replace", emp_id, tags, rec)

    @classmethod
    def delete(cls, emp_id, tags):
        return cls("delete", emp_id, tags, None)


def apply(s, writes):
    """The Outcome of each Write, in order, each the one it would have on its
    own (a single request is a list of one). The writes go in groups in which
    no record is written twice: per group one statement reads and locks the
    records to replace or delete, then one INSERT, one UPDATE and one DELETE
    write them all. A record written again starts the next group, so that
    write sees the one before."""
    outcomes = []
    for group in _groups(writes):
        done = _create(s, {i: w for i, w in enumerate(group) if w.op == "create"})
        done.update(_write_if_current(s, {i: w for i, w in enumerate(group) if w.op != "create"}))
        outcomes += [done[i] for i in range(len(group))]
    return outcomes


def _groups(writes):
    """writes cut, in order, into runs that write no record twice."""
    group, ids = [], set()
    for w in writes:
        if w.emp_id in ids:
            yield group
            group, ids = [], set()
        group.append(w)
        ids.add(w.emp_id)
    if group:
        yield group


def _create(s, creates):
    """{i: Outcome} for the creates {i: Write} (distinct ids). An id that
    exists is a replay (200) when the content is the same, else a conflict
    (409) with the record."""
    done = {}
    for _ in range(3):
        if not creates:
            return done
        # In id order: two requests inserting some of the same ids wait on each other in one order.
        rows = sorted((_row(w) for w in creates.values()), key=lambda r: r["id"])
        stored = _records(s.execute(_INSERT, {"rows": rows}))
        now = _current(s, [w.emp_id for w in creates.values() if w.emp_id not in stored])
        left = {}
        for i, w in creates.items():
            if w.emp_id in stored:
                done[i] = Outcome(201, stored[w.emp_id])
            elif w.emp_id in now:
                done[i] = _create_over(w, now[w.emp_id])
            else:  # deleted since the insert saw it: try again
                left[i] = w
        creates = left
    if creates:
        raise Unavailable("the record kept changing under the create")
    return done


def _create_over(w, now):
    if _same_content(w.rec, now):
        return Outcome(200, now)
    return Outcome(409, detail=f"An employee with id {w.emp_id!r} exists with other content.", current=now)


def _write_if_current(s, writes):
    """{i: Outcome} for the replaces and deletes {i: Write} (distinct ids):
    each record is read and locked until the transaction ends, its version
    compared, and those whose precondition holds are written."""
    now = _current(s, [w.emp_id for w in writes.values()], lock=True)
    done, updates, deletes = {}, {}, {}
    for i, w in writes.items():
        cur = now.get(w.emp_id)
        if cur is None:
            done[i] = _not_found(w.emp_id)
        elif not rules.matches(w.tags, cur["version"]):
            done[i] = Outcome(412, detail="The record changed since that version; current holds it now.",
                              current=cur)
        elif w.op == "replace":
            updates[i] = w
        else:
            deletes[i] = w
    if updates:
        stored = _records(s.execute(_UPDATE, {"rows": [_row(w) for w in updates.values()]}))
        done.update((i, Outcome(200, stored[w.emp_id])) for i, w in updates.items())
    if deletes:
        s.execute(_DELETE, {"ids": [w.emp_id for w in deletes.values()]})
        done.update((i, Outcome(204)) for i in deletes)
    return done
