# SPDX-License-Identifier: GPL-3.0-or-later
"""routes: the contract's HTTP side, as a Flask blueprint.

create_blueprint() makes one (auth, batch and total as options); api_blueprint
is one with the defaults (no auth, batch offered, total on every page). The
routes are relative to the blueprint's url_prefix, /api/v1 unless the
deployment registers it elsewhere."""

import hmac
import itertools
import json
import re
import threading
import urllib.parse
import weakref
from collections import OrderedDict

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import RequestRedirect

from . import rules, store

URL_PREFIX = "/api/v1"
BATCH_MAX = 500
TOTALS = ("always", "first", "never")


def json_response(status, obj, headers=None):
    return Response(json.dumps(obj, ensure_ascii=False), status=status, headers=headers,
                    content_type="application/json")


def problem_doc(status, detail=None, errors=None, current=None):
    """An RFC 9457 problem document (type about:blank: the title is the status's)."""
    doc = {"type": "about:blank", "title": HTTP_STATUS_CODES.get(status, "Error"), "status": status}
    if detail:
        doc["detail"] = detail
    if errors:
        doc["errors"] = errors
    if current:
        doc["current"] = current
    return doc


def problem(status, detail=None, errors=None, current=None, headers=None):
    return Response(json.dumps(problem_doc(status, detail, errors, current), ensure_ascii=False),
                    status=status, headers=headers, content_type="application/problem+json")


def http_problem(e):
    """A werkzeug HTTPException (404, 405, ...) as a problem, keeping Allow."""
    headers = {k: v for k, v in e.get_headers() if k.lower() == "allow"}
    return problem(e.code, e.description, headers=headers)


def employee_path(emp_id):
    """The record's path (the Location of a 201): the id as one path segment."""
    return url_for(".list_employees") + "/" + urllib.parse.quote(emp_id, safe="")


def render(o):
    """An Outcome as an HTTP response."""
    if o.status in (200, 201):
        headers = {"ETag": rules.etag(o.employee["version"])}
        if o.status == 201:
            headers["Location"] = employee_path(o.employee["id"])
        return json_response(o.status, o.employee, headers)
    if o.status == 204:
        return Response(status=204)
    return problem(o.status, o.detail, o.errors, o.current)


def batch_result(o):
    """An Outcome as one entry of a batch's results."""
    if o.status in (200, 201):
        return {"status": o.status, "employee": o.employee}
    if o.status == 204:
        return {"status": 204}
    return {"status": o.status, "problem": problem_doc(o.status, o.detail, o.errors, o.current)}


class IdempotencyKeys:
    """Idempotency-Key -> the id its POST created, so a retried POST without a
    client-chosen id finds its record. In memory, bounded, per process (clients
    that follow the contract send their own id as well, which needs no memory
    at all)."""

    def __init__(self, size=10000):
        self._ids = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key):
        with self._lock:
            return self._ids.get(key)

    def put(self, key, emp_id):
        with self._lock:
            self._ids[key] = emp_id
            self._ids.move_to_end(key)
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)


def read_json():
    """(document, None) or (None, a 400 response)."""
    try:
        return json.loads(request.get_data(cache=True).decode("utf-8")), None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, problem(400, "The body must be a JSON document in UTF-8.")


def create_blueprint(token=None, batch=True, total="always", name="empdir_api", url_prefix=URL_PREFIX,
                     api_only=False):
    """The API as a blueprint, for app.register_blueprint().

    token: require "Authorization: Bearer <token>" (str or bytes; surrounding
        white space is dropped) on every route, None for no auth.
    batch: offer POST /employees/batch (and list "batch" in /health).
    total: which pages carry the match count, "always", "first" (pages without
        a cursor) or "never" (total is null).
    api_only: the app serves nothing else, so a path outside the prefix that
        matches no route is answered as one inside it (auth, then a problem);
        otherwise those are left to the app.

    The app needs Flask-SQLAlchemy (empdir_api.db.init_app(app), or its own
    SQLAlchemy() instance) with a default engine on the PostgreSQL database
    holding the employees table."""
    if isinstance(token, str):
        token = token.encode("utf-8")
    if token is not None:
        token = token.strip()  # as the credential is compared
        if not token:
            raise ValueError("the bearer token is empty")
    if total not in TOTALS:
        raise ValueError(f"total must be one of {', '.join(TOTALS)}")

    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    keys = IdempotencyKeys()
    prefixes = weakref.WeakKeyDictionary()  # app -> where it registered this blueprint

    @bp.record
    def remember_prefix(state):
        prefixes.setdefault(state.app, []).append((state.url_prefix or "").rstrip("/"))

    # ---- the operations, shared by the single routes and the batch ----

    def check_create(employee, op_id=None, key=None):
        """(the store.Write, None) or (None, the refusal)."""
        rec, errors = rules.normalize_employee(employee)
        if op_id is not None:  # a batch operation's id
            msg = rules.check_id(op_id)
            if not msg and rec and rec.get("id", op_id) != op_id:
                msg = "differs from the employee's id"
            if msg:
                errors = {**errors, "id": msg}
            elif rec:
                rec["id"] = op_id
        if errors:
            return None, store.invalid(errors)
        if "id" not in rec and key:
            rec["id"] = keys.get(key)
        return store.Write.create(rec), None

    def check_replace(emp_id, tags, employee):
        """(the store.Write, None) or (None, the refusal)."""
        rec, errors = rules.normalize_employee(employee)
        if rec and rec.get("id", emp_id) != emp_id:
            errors = {"id": "differs from the id in the path"}
        if errors:
            return None, store.invalid(errors)
        return store.Write.replace(emp_id, tags, rec), None

    def write(w):
        """One write, in its own transaction."""
        return store.run(lambda s: store.apply(s, [w]))[0]

    def do_create(employee, key=None):
        w, refusal = check_create(employee, key=key)
        if refusal:
            return refusal
        o = write(w)
        if key and o.status in (200, 201):
            keys.put(key, o.employee["id"])
        return o

    def do_replace(emp_id, tags, employee):
        w, refusal = check_replace(emp_id, tags, employee)
        return refusal or write(w)

    def if_match():
        """(tags, None) or (None, the refusal) from the If-Match header."""
        h = request.headers.get("If-Match")
        if h is None:
            return None, store.Outcome(428, detail="Send the record's version in If-Match, as its ETag has it.")
        try:
            return rules.parse_if_match(h), None
        except ValueError as e:
            return None, store.Outcome(400, detail=str(e), errors={"If-Match": str(e)})

    # ---- every request ----

    def authenticate():
        # Read the body whatever the answer: closing a socket with unread
        # input resets it, and the client may lose the answer.
        request.get_data(cache=True)
        if token is None:
            return None
        scheme, _, cred = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(cred.strip().encode("latin-1", "replace"), token):
            return None
        challenge = 'Bearer realm="empdir"'
        if "Authorization" in request.headers:
            challenge += ', error="invalid_token"'
        return problem(401, "A valid bearer token is required.", headers={"WWW-Authenticate": challenge})

    bp.before_request(authenticate)

    @bp.before_app_request
    def routing_error():
        """A path under the API's prefix that matches no route (404) or not
        with this method (405): answered here, as a problem, after the same
        auth check. Routing fails before any blueprint is chosen, so the
        blueprint's error handlers never see it. Other paths are left to the
        app, unless api_only."""
        e = request.routing_exception
        if e is None or isinstance(e, RequestRedirect):
            return None
        path = request.path
        mine = prefixes.get(current_app._get_current_object(), ())
        if not api_only and not any(not p or path == p or path.startswith(p + "/") for p in mine):
            return None
        return authenticate() or http_problem(e)

    @bp.errorhandler(store.Unavailable)
    def unavailable(e):
        current_app.logger.warning("database unavailable: %s", e)
        return problem(503, "The database is unavailable; try again.", headers={"Retry-After": "1"})

    @bp.errorhandler(HTTPException)
    def http_error(e):
        return http_problem(e)

    @bp.errorhandler(Exception)
    def internal_error(e):
        current_app.logger.exception("internal error")
        return problem(500, "Internal error.")

    # ---- routes ----

    @bp.get("/health")
    def health():
        try:
            database = "ok" if store.run(store.ping) else "unavailable"
        except store.Unavailable:
            database = "unavailable"
        return json_response(200, {"status": "ok", "database": database,
                                   "features": ["batch"] if batch else []})

    @bp.get("/employees")
    def list_employees():
        args, errors = request.args, {}
        q = args.get("q", "")
        if len(q) > rules.Q_MAX:
            errors["q"] = f"is {len(q)} characters long; at most {rules.Q_MAX} are allowed"
        elif "\x00" in q:
            errors["q"] = "must not contain NUL"
        sort = args.get("sort", "fullname")
        if sort not in rules.SORTS:
            errors["sort"] = "must be one of " + ", ".join(rules.SORTS)
        order = args.get("order", "asc")
        if order not in rules.ORDERS:
            errors["order"] = "must be asc or desc"
        limit = args.get("limit", str(rules.LIMIT_DEFAULT))
        if not re.fullmatch(r"[0-9]{1,4}", limit) or not 1 <= int(limit) <= rules.LIMIT_MAX:
            errors["limit"] = f"must be an integer from 1 to {rules.LIMIT_MAX}"
        after = None
        if args.get("cursor") and not errors:
            try:
                after = rules.decode_cursor(args["cursor"], q, sort, order)
            except ValueError as e:
                errors["cursor"] = str(e)
        if errors:
            return problem(400, "Invalid query parameters.", errors=errors)
        want_total = total == "always" or (total == "first" and after is None)
        page = store.run(lambda s: store.list_page(s, q, sort, order, int(limit), after, want_total))
        return json_response(200, page)

    @bp.post("/employees")
    def create_employee():
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= 64:
            return problem(400, "Idempotency-Key must be 1 to 64 characters.",
                           errors={"Idempotency-Key": "must be 1 to 64 characters"})
        body, refusal = read_json()
        if refusal:
            return refusal
        return render(do_create(body, key=key))

    @bp.get("/employees/<path:emp_id>")
    def get_employee(emp_id):
        return render(store.run(lambda s: store.get(s, emp_id)))

    @bp.put("/employees/<path:emp_id>")
    def replace_employee(emp_id):
        tags, refusal = if_match()
        if refusal:
            return render(refusal)
        body, refusal = read_json()
        if refusal:
            return refusal
        return render(do_replace(emp_id, tags, body))

    @bp.delete("/employees/<path:emp_id>")
    def delete_employee(emp_id):
        tags, refusal = if_match()
        if refusal:
            return render(refusal)
        return render(write(store.Write.delete(emp_id, tags)))

    def batch_op(op):
        """(the store.Write, None) or (None, the refusal) for one operation."""
        kind, op_id = op["op"], op.get("id")
        if op_id is not None and not isinstance(op_id, str):
            return None, store.invalid({"id": "must be a string"}, "The operation is not valid.")
        if kind != "create":
            if op_id is None:
                return None, store.invalid({"id": "is required"}, "The operation is not valid.")
            if op.get("if_match") is None:
                return None, store.Outcome(428, detail="if_match must hold the record's version.")
            try:
                tags = rules.if_match_from_batch(op["if_match"])
            except ValueError as e:
                return None, store.invalid({"if_match": str(e)}, "The operation is not valid.")
        if kind == "delete":
            return store.Write.delete(op_id, tags), None
        if op.get("employee") is None:
            return None, store.invalid({"employee": "is required"}, "The operation is not valid.")
        if kind == "create":
            return check_create(op["employee"], op_id=op_id)
        return check_replace(op_id, tags, op["employee"])

    if batch:
        @bp.post("/employees/batch")
        def run_batch():
            body, refusal = read_json()
            if refusal:
                return refusal
            ops = body.get("operations") if isinstance(body, dict) else None
            if not isinstance(ops, list):
                return problem(400, "The body must be {\"operations\": [...]}.",
                               errors={"operations": "must be an array"})
            if len(ops) > BATCH_MAX:
                return problem(400, f"At most {BATCH_MAX} operations per batch.",
                               errors={"operations": f"holds {len(ops)} operations; at most {BATCH_MAX} are allowed"})
            for i, op in enumerate(ops):
                if not isinstance(op, dict) or op.get("op") not in ("create", "replace", "delete"):
                    return problem(400, "Nothing was applied: an operation is malformed.",
                                   errors={f"operations[{i}]": "must be an object whose op is create, replace or delete"})
            planned = [batch_op(op) for op in ops]
            writes = [w for w, _ in planned if w]
            # The writes share one transaction; the refusals were decided
            # before it, so they stand when the database fails.
            try:
                applied = iter(store.run(lambda s: store.apply(s, writes)))
            except store.Unavailable:
                applied = itertools.repeat(store.Outcome(503, detail="The database is unavailable."))
            results = [batch_result(next(applied) if w else refusal) for w, refusal in planned]
            return json_response(200, {"results": results})

    return bp


api_blueprint = create_blueprint()
