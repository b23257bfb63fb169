"""store: the operations on the deployed employees table, through the app's
Flask-SQLAlchemy session.

Every statement is a SQLAlchemy expression on the Employee model, so every
value is a bound parameter; the only choice made from the request is the sort
column, taken from a fixed map. Statements select or return the model's
FIELDS, whose rows models.record() shapes. A record's version is the MD5 of
its content (Employee.version, computed in SQL), and every write to an
existing row locks it (SELECT ... FOR UPDATE), compares versions and writes in
one transaction: the same statements, round trips and locks as plain SQL.

Operations return an Outcome (the status the API answers with, and what goes
with it); the HTTP layer only renders them. run() gives each its transaction."""

import functools
import uuid
from collections import namedtuple

from flask import current_app
from sqlalchemy import and_, bindparam, case, cast, exc, exists, func, or_, select, text, tuple_, update
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
_BY_ID_LOCKED = _BY_ID.with_for_update()
# The values come with the execution: {"id": ..., "fullname": ..., ...}.
_INSERT = pg_insert(Employee).on_conflict_do_nothing(index_elements=[Employee.id]).returning(*FIELDS)
# Core-style DML through the session: nothing is loaded into it to synchronize.
_UPDATE = (update(Employee).where(Employee.id == bindparam("emp_id")).returning(*FIELDS)
           .execution_options(synchronize_session=False))
_DELETE = (sql_delete(Employee).where(Employee.id == bindparam("emp_id"))
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


def _fetch(s, emp_id, lock=False):
    """The row (FIELDS) with that id, locked FOR UPDATE if asked, or None."""
    if "\x00" in emp_id:  # no text in PostgreSQL holds one; psycopg2 would refuse it
        return None
    return s.execute(_BY_ID_LOCKED if lock else _BY_ID, {"emp_id": emp_id}).first()


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


def create(s, rec):
    """Insert rec (its id, or a new UUID). An existing id is a replay (200)
    when the content is the same, else a conflict (409) with the record."""
    emp_id = rec.get("id") or str(uuid.uuid4())
    values = {"id": emp_id, "fullname": rec["fullname"], "location": rec["location"],
              "job_title": rec["job_title"], "badges": rules.encode_badges(rec["badges"])}
    for _ in range(3):
        row = s.execute(_INSERT, values).first()
        if row:
            return Outcome(201, record(*row))
        row = _fetch(s, emp_id)
        if row:  # else deleted since the insert saw it: try again
            now = record(*row)
            if _same_content(rec, now):
                return Outcome(200, now)
            return Outcome(409, detail=f"An employee with id {emp_id!r} exists with other content.",
                           current=now)
    raise Unavailable("the record kept changing under the create")


def _lock_current(s, emp_id, tags):
    """None when the row exists and the precondition holds (the row is then
    locked until the transaction ends), else the refusal."""
    row = _fetch(s, emp_id, lock=True)
    if not row:
        return _not_found(emp_id)
    now = record(*row)
    if not rules.matches(tags, now["version"]):
        return Outcome(412, detail="The record changed since that version; current holds it now.", current=now)
    return None


def replace(s, emp_id, tags, rec):
    refused = _lock_current(s, emp_id, tags)
    if refused:
        return refused
    values = {"emp_id": emp_id, "fullname": rec["fullname"], "location": rec["location"],
              "job_title": rec["job_title"], "badges": rules.encode_badges(rec["badges"])}
    return Outcome(200, record(*s.execute(_UPDATE, values).one()))


def delete(s, emp_id, tags):
    refused = _lock_current(s, emp_id, tags)
    if refused:
        return refused
    s.execute(_DELETE, {"emp_id": emp_id})
    return Outcome(204)
