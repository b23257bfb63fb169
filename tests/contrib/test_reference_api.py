# SPDX-License-Identifier: GPL-3.0-or-later
"""The reference API (contrib/reference-api) against contrib/reference-api/openapi.yaml:
a real PostgreSQL server (tests/lib/pgtmp.py) and the real server process.

    /usr/bin/python3 -m pytest tests/contrib/test_reference_api.py
"""

import hashlib
import http.client
import json
import os
import subprocess
import sys
import uuid
from collections import namedtuple
from urllib.parse import quote, urlencode

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from pgtmp import PgServer  # noqa: E402

REFERENCE_API = os.path.join(ROOT, "contrib", "reference-api")
SERVER = os.path.join(REFERENCE_API, "server.py")
EMP = "/api/v1/employees"

Resp = namedtuple("Resp", "status headers body")


class Api:
    def __init__(self, port, token):
        self.port, self.token = port, token

    def call(self, method, path, body=None, headers=None, auth=True, raw=None):
        h = {"Authorization": f"Bearer {self.token}"} if auth else {}
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            payload = r.read()
        finally:
            conn.close()
        return Resp(r.status, r.headers, json.loads(payload) if payload else None)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body, etag=None, **kw):
        headers = kw.pop("headers", {})
        if etag is not None:
            headers["If-Match"] = etag
        return self.call("PUT", path, body, headers=headers, **kw)

    def delete(self, path, etag=None, **kw):
        return self.call("DELETE", path, headers={} if etag is None else {"If-Match": etag}, **kw)

    def list(self, **params):
        return self.get(EMP + "?" + urlencode(params))


@pytest.fixture(scope="module")
def pg():
    with PgServer() as srv:
        srv.create_schema(with_trgm_index=True)
        yield srv


@pytest.fixture(scope="module")
def api(pg, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    token = uuid.uuid4().hex
    (tmp / "token").write_text(token + "\n")
    with open(tmp / "api.log", "w") as log:
        proc = subprocess.Popen([sys.executable, SERVER, "--database", pg.conninfo, "--port", "0",
                                 "--token-file", str(tmp / "token")],
                                stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), (tmp / "api.log").read_text()
        yield Api(int(line.strip().rsplit(":", 1)[1]), token)
    finally:
        proc.terminate()
        proc.wait(10)


def tag():
    return "t" + uuid.uuid4().hex[:10]


def person(t="", **kw):
    e = {"fullname": f"Ann Lee {t}".strip(), "location": "Oslo", "job_title": "Engineer", "badges": []}
    e.update(kw)
    return e


def content_version(emp_id, fullname, location, job_title, badges_text):
    raw = "\x1f".join([emp_id, fullname, location, job_title, "\x1e" if badges_text is None else badges_text])
    return hashlib.md5(raw.encode()).hexdigest()


def assert_problem(r, status, field=None):
    assert r.status == status, r
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.body["status"] == status and isinstance(r.body["title"], str) and r.body["title"]
    if field:
        assert field in r.body["errors"], r.body


def created(api, body, **kw):
    r = api.post(EMP, body, **kw)
    assert r.status == 201, r
    return r.body


# ---- health and auth ----

def test_health(api):
    r = api.get("/api/v1/health")
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    assert r.body == {"status": "ok", "database": "ok", "features": ["batch"]}


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic dXNlcjpwYXNz", "Bearer", "bearer  "])
def test_auth_failures(api, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path, body in [("GET", EMP, None), ("POST", EMP, person()), ("GET", "/api/v1/health", None)]:
        r = api.call(method, path, body, headers=headers, auth=False)
        assert_problem(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.list(q="Ann Lee").status == 200


# ---- create and get ----

def test_create_and_get(api, pg):
    t = tag()
    body = person(t, fullname=f" \u3000Ann  Lee {t}\t", location="Oslo ", badges=["  Mac User", "Café", "a,b"])
    r = api.post(EMP, body)
    assert r.status == 201
    e = r.body
    assert e["fullname"] == f"Ann  Lee {t}" and e["location"] == "Oslo"
    assert e["badges"] == ["Mac User", "Café", "a,b"]
    assert len(e["id"]) == 36 and uuid.UUID(e["id"])
    assert r.headers["ETag"] == f'"{e["version"]}"'
    assert r.headers["Location"] == f"{EMP}/{e['id']}"
    stored = pg.psql("SELECT badges FROM employees WHERE id = :'id'", variables={"id": e["id"]}).rstrip("\n")
    assert stored == '["Mac User", "Café", "a,b"]'
    assert e["version"] == content_version(e["id"], e["fullname"], "Oslo", "Engineer", stored)
    g = api.get(r.headers["Location"])
    assert g.status == 200 and g.body == e and g.headers["ETag"] == r.headers["ETag"]


def test_create_with_client_id_replays_and_conflicts(api, pg):
    emp_id = str(uuid.uuid4())
    body = person(tag(), id=emp_id, badges=["x"])
    first = api.post(EMP, body)
    assert first.status == 201 and first.body["id"] == emp_id
    again = api.post(EMP, dict(body, fullname="  " + body["fullname"]), headers={"Idempotency-Key": "k1"})
    assert again.status == 200 and again.body == first.body and again.headers["ETag"] == first.headers["ETag"]
    other = api.post(EMP, dict(body, job_title="Manager"))
    assert_problem(other, 409)
    assert other.body["current"] == first.body
    assert pg.psql("SELECT count(*) FROM employees WHERE id = :'id'", variables={"id": emp_id}).strip() == "1"
    legacy = api.post(EMP, person(tag(), id="12345"))
    assert legacy.status == 201 and legacy.headers["Location"] == f"{EMP}/12345"


def test_idempotency_key_without_client_id(api):
    key = uuid.uuid4().hex
    body = person(tag())
    first = api.post(EMP, body, headers={"Idempotency-Key": key})
    again = api.post(EMP, body, headers={"Idempotency-Key": key})
    assert first.status == 201 and again.status == 200 and again.body["id"] == first.body["id"]
    assert_problem(api.post(EMP, body, headers={"Idempotency-Key": "k" * 65}), 400, "Idempotency-Key")


# ---- validation ----

INVALID = [
    ({"location": "Oslo", "job_title": "Eng"}, "fullname"),
    (person(fullname="   \t "), "fullname"),
    (person(fullname="\u3000\u00a0"), "fullname"),
    (person(location="x" * 101), "location"),
    (person(job_title="é" * 101), "job_title"),
    (person(fullname="Ann\x00Lee"), "fullname"),
    (person(fullname="Ann\nLee"), "fullname"),
    (person(location="Os\x1blo"), "location"),
    (person(job_title="Eng\x7f"), "job_title"),
    (person(job_title="En\x85g"), "job_title"),
    (person(job_title="Eng\u009f"), "job_title"),
    (person(fullname=42), "fullname"),
    (person(fullname="\ud800x"), "fullname"),
    (person(badges=[f"b{i}" for i in range(21)]), "badges"),
    (person(badges=["x" * 51]), "badges"),
    (person(badges=["ok", "  "]), "badges"),
    (person(badges=["a", " a "]), "badges"),
    (person(badges=["bad\tbadge"]), "badges"),
    (person(badges=[7]), "badges"),
    (person(badges="a,b"), "badges"),
    (person(id=""), "id"),
    (person(id="x" * 37), "id"),
    (person(id="a\x01b"), "id"),
    ({}, "fullname"),
    ([], "body"),
]


@pytest.mark.parametrize("body,field", INVALID)
def test_create_rejects_invalid(api, body, field):
    r = api.post(EMP, body)
    assert_problem(r, 400, field)
    assert isinstance(r.body["errors"][field], str)


def test_validation_boundaries_are_accepted(api):
    e = created(api, person(fullname="é" * 100, location=" \x85Oslo\u2028", job_title="J" * 100,
                            badges=[f"{i:02d}" + "b" * 48 for i in range(20)]))
    assert e["fullname"] == "é" * 100 and e["location"] == "Oslo" and len(e["badges"]) == 20
    assert created(api, person(badges=None))["badges"] == []
    assert created(api, {"fullname": "A", "location": "B", "job_title": "C"})["badges"] == []


@pytest.mark.parametrize("raw", [b"not json", b'{"fullname": ', b"\xff\xfe{}", b"", b"[" * 100000])
def test_unparseable_bodies(api, raw):
    assert_problem(api.call("POST", EMP, raw=raw), 400)


# ---- replace and delete with preconditions ----

def test_missing_records(api):
    for path in (f"{EMP}/{uuid.uuid4()}", f"{EMP}/{'x' * 40}", f"{EMP}/a%2Fb", f"{EMP}/%00"):
        assert_problem(api.get(path), 404)
        assert_problem(api.put(path, person(), etag='"abc"'), 404)
        assert_problem(api.delete(path, etag='"abc"'), 404)


def test_replace_with_preconditions(api):
    e = created(api, person(tag()))
    path = f"{EMP}/{e['id']}"
    etag = f'"{e["version"]}"'
    new = dict(person(e["fullname"]), location="Bergen", badges=["b1", "b2"])

    assert_problem(api.put(path, new), 428)
    assert_problem(api.put(path, new, etag=e["version"]), 400, "If-Match")
    assert_problem(api.put(path, dict(new, id="other"), etag=etag), 400, "id")
    assert_problem(api.put(path, dict(new, fullname=""), etag=etag), 400, "fullname")
    assert_problem(api.put(path, new, etag=f"W/{etag}"), 412)
    assert api.get(path).body == e  # nothing above changed it

    r = api.put(path, dict(new, id=e["id"], version="ignored"), etag=f'"nope", {etag}')
    assert r.status == 200 and r.body["location"] == "Bergen" and r.body["badges"] == ["b1", "b2"]
    assert r.body["version"] != e["version"] and r.headers["ETag"] == f'"{r.body["version"]}"'

    stale = api.put(path, dict(new, location="Tromsø"), etag=etag)
    assert_problem(stale, 412)
    assert stale.body["current"] == r.body == api.get(path).body
    assert api.put(path, dict(new, location="Tromsø"), etag="*").status == 200
    same = api.get(path)
    assert api.put(path, new | {"location": "Tromsø"}, etag=same.headers["ETag"]).body == same.body


def test_delete_with_preconditions(api):
    e = created(api, person(tag()))
    path = f"{EMP}/{e['id']}"
    assert_problem(api.delete(path), 428)
    changed = api.put(path, person(e["fullname"], location="Bergen"), etag=f'"{e["version"]}"').body
    stale = api.delete(path, etag=f'"{e["version"]}"')
    assert_problem(stale, 412)
    assert stale.body["current"] == changed
    r = api.delete(path, etag=f'"{changed["version"]}"')
    assert r.status == 204 and r.body is None
    assert_problem(api.get(path), 404)
    assert_problem(api.delete(path, etag=f'"{changed["version"]}"'), 404)


# ---- lists: paging, sort orders, search ----

@pytest.fixture(scope="module")
def roster(api):
    """23 employees sharing a badge, with ties in every sort column."""
    t = tag()
    names = ["adam", "Bob", "bob", "Zoe", "Ærø", "ann", "Ann"]
    rows = []
    for i in range(23):
        rows.append(created(api, {"id": f"{t}-{(i * 7) % 23:02d}", "fullname": names[i % len(names)],
                                  "location": ["Oslo", "Bergen", "Åsane"][i % 3],
                                  "job_title": f"Job {i % 5}", "badges": [t, f"n{i}"]}))
    return t, rows


def walk(api, limit, **params):
    items, cursor, pages = [], None, 0
    while True:
        r = api.list(limit=limit, **params, **({"cursor": cursor} if cursor else {}))
        assert r.status == 200, r
        assert len(r.body["items"]) <= limit and r.body["total"] == 23
        items += r.body["items"]
        pages += 1
        cursor = r.body["next_cursor"]
        if cursor is None:
            return items, pages


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("sort", ["fullname", "location", "job_title"])
def test_paging_in_every_order(api, roster, sort, order):
    t, rows = roster
    want = sorted(rows, key=lambda e: (e[sort].encode(), e["id"].encode()), reverse=order == "desc")
    got, pages = walk(api, 4, q=t, sort=sort, order=order)
    assert [e["id"] for e in got] == [e["id"] for e in want]
    assert got == want and pages == 6


def test_paging_defaults(api, roster):
    t, rows = roster
    r = api.list(q=t)
    assert r.body["next_cursor"] is None and len(r.body["items"]) == 23
    assert [e["id"] for e in r.body["items"]] == [
        e["id"] for e in sorted(rows, key=lambda e: (e["fullname"].encode(), e["id"].encode()))]
    assert len(api.list(limit=500).body["items"]) <= 500
    assert api.list(q=t, limit=23).body["next_cursor"] is None


def test_cursor_is_bound_to_its_query(api, roster):
    t, _ = roster
    cursor = api.list(q=t, limit=5, sort="location").body["next_cursor"]
    assert api.list(q=t, limit=5, sort="location", cursor=cursor).status == 200
    for params in [dict(sort="fullname"), dict(sort="location", order="desc"), dict(sort="location", q=t + "x")]:
        assert_problem(api.list(**{"q": t, "limit": 5, **params, "cursor": cursor}), 400, "cursor")
    for bad in ["garbage", "e30", cursor[:-3], "WzEsIiIsIiIsIiIsIiIsMV0"]:
        assert_problem(api.list(q=t, sort="location", cursor=bad), 400, "cursor")


@pytest.mark.parametrize("params,field", [
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "abc"}, "limit"),
    ({"limit": "-1"}, "limit"), ({"limit": "1.5"}, "limit"), ({"limit": " 5"}, "limit"),
    ({"sort": "id"}, "sort"), ({"sort": "FULLNAME"}, "sort"), ({"order": "up"}, "order"),
    ({"q": "x" * 201}, "q"), ({"q": "a\x00b"}, "q"),
])
def test_bad_list_parameters(api, params, field):
    assert_problem(api.list(**params), 400, field)


def test_search_matches_each_field_and_each_badge(api):
    t = tag()
    a = created(api, {"fullname": f"Grace Hopper {t}", "location": "Arlington", "job_title": "Rear Admiral",
                      "badges": ["COBOL", "Navy 100%", "under_score", 'say "hi"', "Ærlig/Ja"]})
    b = created(api, {"fullname": f"Alan Turing {t}", "location": "Wilmslow", "job_title": "Mathematician",
                      "badges": ["Bombe", "Enigma"]})

    def found(q):
        r = api.list(q=q, limit=500)
        assert r.status == 200 and r.body["total"] == len(r.body["items"])
        return {e["id"] for e in r.body["items"]} & {a["id"], b["id"]}

    assert found(t) == {a["id"], b["id"]}
    assert found(t.upper()) == {a["id"], b["id"]}
    assert found("grace HOP") == {a["id"]}
    assert found("wilmslow") == {b["id"]}
    assert found("rear adm") == {a["id"]}
    assert found("cobol") == {a["id"]}
    assert found("nigm") == {b["id"]}
    assert found("y 100%") == {a["id"]}
    assert found("0%") == {a["id"]} and found("%") == {a["id"]}
    assert found("r_s") == {a["id"]} and found("_") == {a["id"]}
    assert found('"hi"') == {a["id"]} and found('say "') == {a["id"]}
    assert found("ærlig/j") == {a["id"]}
    assert found('Bombe", "Enigma') == set() and found('"Bombe"') == set() and found("e, e") == set()
    assert found("") >= {a["id"], b["id"]}


def test_legacy_badge_texts(api, pg):
    """Rows the seed app (or older tools) wrote: comma lists, NULL, \\u escapes."""
    t = tag()
    stored = {f"{t}-comma": "Mac User, Coffee Lover ,", f"{t}-null": None, f"{t}-ascii": '["Caf\\u00e9", "\\ud83d\\ude00 x"]',
              f"{t}-brackets": "[beta],gamma", f"{t}-empty": ""}
    for emp_id, badges in stored.items():
        pg.psql("INSERT INTO employees VALUES (:'id', :'name', 'Oslo', 'Eng', NULLIF(:'b', '<null>'))",
                variables={"id": emp_id, "name": f"Legacy {t}", "b": "<null>" if badges is None else badges})
    want = {f"{t}-comma": ["Mac User", "Coffee Lover"], f"{t}-null": [], f"{t}-ascii": ["Café", "😀 x"],
            f"{t}-brackets": ["[beta]", "gamma"], f"{t}-empty": []}
    for emp_id, badges in want.items():
        e = api.get(f"{EMP}/{emp_id}").body
        assert e["badges"] == badges
        assert e["version"] == content_version(emp_id, f"Legacy {t}", "Oslo", "Eng", stored[emp_id])

    def found(q):
        return {e["id"] for e in api.list(q=q, limit=500).body["items"] if e["id"].startswith(t)}

    assert found("coffee lover") == {f"{t}-comma"}
    assert found("User, Coffee") == set() and found(" Coffee") == set()
    assert found("CAFÉ") == {f"{t}-ascii"} and found("😀") == {f"{t}-ascii"}
    assert found("u00e9") == set()
    assert found("[beta]") == {f"{t}-brackets"}
    assert found(f"Legacy {t}") == set(want)


SQL_INJECTION = [
    "'; DROP TABLE employees; --",
    "Robert'); DROP TABLE employees;--",
    "' OR '1'='1",
    '" OR ""="',
    "1; SELECT pg_sleep(5)",
    "$$ || $$",
    "E'\\\\x27' \\",
    "%' OR 1=1 --",
    "admin'--",
    "') UNION SELECT id, id, id, id, id, id FROM employees --",
    "\\'; COPY employees TO '/tmp/x'; --",
    ":'var' :\"var\" %(pat)s %s {0}",
    "chr(31)||chr(30)",
    "ʼ OR ʼʼ=ʼ",
]


def test_sql_injection_corpus_comes_back_literally(api, pg):
    count = int(pg.psql("SELECT count(*) FROM employees"))
    for i, s in enumerate(SQL_INJECTION):
        body = {"fullname": s, "location": s[:100], "job_title": f"x{i} {s}"[:100], "badges": [s[:50], f"b{i}"]}
        e = created(api, body)
        assert {k: e[k] for k in body} == body
        assert api.get(f"{EMP}/{quote(e['id'])}").body == e
        hits = api.list(q=s, limit=500).body["items"]
        assert e["id"] in [h["id"] for h in hits]
        assert all(s.lower() in " ".join([h["fullname"], h["location"], h["job_title"]] + h["badges"]).lower()
                   for h in hits)
        r = api.put(f"{EMP}/{quote(e['id'])}", dict(body, location="Oslo"), etag=f'"{e["version"]}"')
        assert r.status == 200 and r.body["fullname"] == s
    weird_id = "'; DELETE FROM employees; --"
    assert created(api, person(id=weird_id))["id"] == weird_id
    assert api.get(f"{EMP}/{quote(weird_id, safe='')}").body["id"] == weird_id
    assert int(pg.psql("SELECT count(*) FROM employees")) == count + len(SQL_INJECTION) + 1


# ---- batch ----

def test_batch_applies_each_operation_on_its_own(api):
    keep = created(api, person(tag()))
    gone = created(api, person(tag()))
    new_id = str(uuid.uuid4())
    ops = [
        {"op": "create", "id": new_id, "employee": person(tag(), badges=["b"])},
        {"op": "create", "employee": person(fullname="")},
        {"op": "replace", "id": keep["id"], "if_match": keep["version"], "employee": person("renamed")},
        {"op": "replace", "id": keep["id"], "if_match": f'"{keep["version"]}"', "employee": person("stale")},
        {"op": "delete", "id": gone["id"], "if_match": f'"{gone["version"]}"'},
        {"op": "delete", "id": gone["id"], "if_match": gone["version"]},
        {"op": "delete", "id": keep["id"]},
        {"op": "create", "id": new_id, "employee": person("different")},
    ]
    r = api.post(f"{EMP}/batch", {"operations": ops})
    assert r.status == 200
    res = r.body["results"]
    assert [x["status"] for x in res] == [201, 400, 200, 412, 204, 404, 428, 409]
    assert res[0]["employee"]["id"] == new_id
    assert "fullname" in res[1]["problem"]["errors"]
    assert res[2]["employee"]["fullname"] == "Ann Lee renamed"
    assert res[3]["problem"]["current"] == res[2]["employee"]
    assert res[7]["problem"]["current"] == res[0]["employee"]
    assert api.get(f"{EMP}/{keep['id']}").body == res[2]["employee"]
    assert_problem(api.get(f"{EMP}/{gone['id']}"), 404)


def test_batch_of_many_records_answers_each_as_alone(api, pg):
    """A full batch over distinct records (one read, one INSERT, UPDATE and
    DELETE on the server): every status, record and problem as the single
    request's, and the table as they leave it."""
    t = tag()
    rows = [created(api, person(f"{t} {i:03d}", id=f"{t}-{i:03d}")) for i in range(120)]
    ops, want = [], []

    def op(status, **o):
        ops.append(o)
        want.append(status)

    for e in rows[:40]:
        op(200, op="replace", id=e["id"], if_match=e["version"], employee=person(e["fullname"], location="Bergen"))
    for e in rows[40:50]:
        op(412, op="replace", id=e["id"], if_match=f'"{e["version"][::-1]}"', employee=person("stale"))
    for e in rows[50:80]:
        op(204, op="delete", id=e["id"], if_match=f'"{e["version"]}"')
    for e in rows[80:90]:
        op(412, op="delete", id=e["id"], if_match="W/" + f'"{e["version"]}"')
    for e in rows[90:100]:
        op(200, op="create", id=e["id"], employee={k: e[k] for k in ("fullname", "location", "job_title", "badges")})
    for e in rows[100:110]:
        op(409, op="create", id=e["id"], employee=person("other"))
    for i in range(150):
        op(201, op="create", id=f"{t}-new-{i:03d}", employee=person(f"{t} new {i}", badges=[f"b{i}"]))
    for i in range(20):
        op(201, op="create", employee=person(f"{t} made {i}"))
    for emp_id in (f"{t}-missing", "nul\x00id", "surrogate\ud800", rows[50]["id"]):
        op(404, op="replace", id=emp_id, if_match='"v"', employee=person())
        op(404, op="delete", id=emp_id, if_match="*")
    op(400, op="replace", id=rows[110]["id"], if_match=rows[110]["version"], employee=person(job_title=""))
    op(428, op="delete", id=rows[111]["id"])
    assert len(ops) <= 500
    r = api.post(f"{EMP}/batch", {"operations": ops})
    assert r.status == 200
    res = r.body["results"]
    assert [x["status"] for x in res] == want
    table = {row[0]: row for row in (line.split("|") for line in
             pg.psql(f"SELECT id, fullname, location, job_title, coalesce(badges, '<null>') FROM employees "
                     f"WHERE fullname LIKE '%{t}%'").splitlines())}
    for o, x in zip(ops, res):
        if x["status"] in (200, 201):
            e = x["employee"]
            assert e == api.get(f"{EMP}/{quote(e['id'], safe='')}").body
            assert e["version"] == content_version(*table[e["id"]])
            if o.get("id"):
                assert e["id"] == o["id"]
            if o["op"] == "replace":
                assert e["location"] == "Bergen"
        elif x["status"] == 204:
            assert o["id"] not in table
        else:
            assert x["problem"]["status"] == x["status"]
        if x["status"] in (409, 412):
            assert x["problem"]["current"] == api.get(f"{EMP}/{quote(o['id'], safe='')}").body
    assert len(table) == 120 - 30 + 150 + 20


def test_batches_on_the_same_records_at_once(api):
    """Batches writing the same records in opposite orders, at the same time:
    each waits for the other's locks (taken in one order), none deadlocks."""
    import threading
    t = tag()
    ids = [f"{t}-{i:03d}" for i in range(100)]
    for emp_id in ids[:50]:
        created(api, person(t, id=emp_id))
    answers = []

    def send(order):
        ops = [{"op": "replace", "id": i, "if_match": "*", "employee": person(t)} for i in order[:50]]
        ops += [{"op": "create", "id": i, "employee": person(t)} for i in order[50:]]
        answers.append(api.post(f"{EMP}/batch", {"operations": ops}))

    for _ in range(3):
        answers.clear()
        threads = [threading.Thread(target=send, args=(o,)) for o in (ids, ids[49::-1] + ids[:49:-1])]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert [a.status for a in answers] == [200, 200]
        for a in answers:
            assert {x["status"] for x in a.body["results"]} <= {200, 201}, a.body


@pytest.mark.parametrize("body", [
    {"operations": [{"op": "create", "employee": person()}] * 501},
    {"operations": [{"op": "create", "employee": person(tag())}, {"op": "upsert"}]},
    {"operations": [{"op": "create", "employee": person(tag())}, "create"]},
    {"operations": "create"},
    [],
])
def test_batch_rejects_malformed_requests_whole(api, pg, body):
    count = pg.psql("SELECT count(*) FROM employees")
    assert_problem(api.post(f"{EMP}/batch", body), 400)
    assert pg.psql("SELECT count(*) FROM employees") == count


def test_unknown_routes_and_methods_are_problems(api):
    assert_problem(api.get("/api/v1/nothing"), 404)
    r = api.call("PATCH", f"{EMP}/x", person())
    assert_problem(r, 405)
    assert "PUT" in r.headers["Allow"]


# ---- the blueprint in a deployment's own app (in this process) ----

def deployment_modules():
    if REFERENCE_API not in sys.path:
        sys.path.insert(0, REFERENCE_API)
    import empdir_api
    import flask
    import flask_sqlalchemy
    return flask, flask_sqlalchemy, empdir_api


def test_blueprint_registered_in_a_fresh_app(pg):
    """What a deployment does: db.init_app(app); app.register_blueprint(api_blueprint)."""
    flask, _, empdir_api = deployment_modules()
    app = flask.Flask("deployment")
    app.config["SQLALCHEMY_DATABASE_URI"] = pg.url
    empdir_api.db.init_app(app)
    app.register_blueprint(empdir_api.api_blueprint)

    @app.get("/")
    def home():
        return "<h1>Employee Directory</h1>"

    client = app.test_client()
    try:
        r = client.get("/api/v1/health")
        assert r.status_code == 200 and r.json == {"status": "ok", "database": "ok", "features": ["batch"]}
        body = person(tag(), badges=["Mac User"])
        r = client.post(EMP, json=body)
        assert r.status_code == 201 and r.headers["ETag"] == f'"{r.json["version"]}"'
        e = r.json
        assert r.headers["Location"] == f"{EMP}/{e['id']}"
        assert client.get(r.headers["Location"]).json == e
        assert client.get(EMP, query_string={"q": e["fullname"]}).json["items"] == [e]
        r = client.put(f"{EMP}/{e['id']}", json=body)
        assert r.status_code == 428 and r.content_type == "application/problem+json"
        r = client.delete(f"{EMP}/{e['id']}", headers={"If-Match": f'"{e["version"]}"'})
        assert r.status_code == 204
        # The API's unknown paths are problems; the rest of the app stays the app's.
        r = client.get("/api/v1/nothing")
        assert r.status_code == 404 and r.json["status"] == 404
        assert client.get("/").data == b"<h1>Employee Directory</h1>"
        r = client.get("/nothing")
        assert r.status_code == 404 and r.content_type.startswith("text/html")
    finally:
        with app.app_context():
            empdir_api.db.engine.dispose()


def test_blueprint_with_the_seeds_own_db_and_model(pg):
    """The seed's create_app() keeps its own SQLAlchemy() and Employee model;
    it registers only the blueprint (with a token, under a stage prefix)."""
    flask, flask_sqlalchemy, empdir_api = deployment_modules()
    seed_db = flask_sqlalchemy.SQLAlchemy()

    class SeedEmployee(seed_db.Model):
        __tablename__ = "employees"
        id = seed_db.Column(seed_db.String(36), primary_key=True)
        fullname = seed_db.Column(seed_db.String(100), nullable=False)
        location = seed_db.Column(seed_db.String(100), nullable=False)
        job_title = seed_db.Column(seed_db.String(100), nullable=False)
        badges = seed_db.Column(seed_db.Text)

    app = flask.Flask("seed")
    app.config["SQLALCHEMY_DATABASE_URI"] = pg.url
    seed_db.init_app(app)
    with app.app_context():
        seed_db.create_all()  # the table exists: nothing to do
    with pytest.raises(ValueError):
        empdir_api.create_blueprint(token="  ")
    app.register_blueprint(empdir_api.create_blueprint(token="s3cret", total="never"), url_prefix="/prod/api/v1")
    client = app.test_client()
    try:
        body = person(tag(), badges=["Coffee Lover"])
        r = client.post("/prod/api/v1/employees", json=body)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
        r = client.post("/prod/api/v1/employees", json=body, headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 201, r.json
        assert r.headers["Location"] == f"/prod/api/v1/employees/{r.json['id']}"
        r = client.get("/prod/api/v1/employees", query_string={"q": body["fullname"]},
                       headers={"Authorization": "Bearer s3cret"})
        assert r.json["total"] is None and [e["fullname"] for e in r.json["items"]] == [body["fullname"]]
        with app.app_context():
            seen = seed_db.session.get(SeedEmployee, r.json["items"][0]["id"])
            assert (seen.fullname, json.loads(seen.badges)) == (body["fullname"], ["Coffee Lover"])
        assert client.get("/api/v1/health").status_code == 404  # only under its prefix
    finally:
        with app.app_context():
            seed_db.engine.dispose()


# ---- the database going away (last: it restarts the server) ----

def test_database_restart_and_outage(api, pg):
    e = created(api, person(tag()))
    pg.restart()  # every pooled connection is now dead
    assert api.get(f"{EMP}/{e['id']}").body == e
    pg.stop()
    try:
        r = api.get(f"{EMP}/{e['id']}")
        assert_problem(r, 503)
        assert r.headers["Retry-After"] == "1"
        assert api.get("/api/v1/health").body["database"] == "unavailable"
        r = api.post(f"{EMP}/batch", {"operations": [
            {"op": "create", "employee": person(tag())}, {"op": "create", "employee": person(fullname="")},
            {"op": "delete", "id": e["id"], "if_match": e["version"]}]})
        assert r.status == 200 and [x["status"] for x in r.body["results"]] == [503, 400, 503]
    finally:
        pg.start()
    assert api.list(q=e["fullname"]).body["items"] == [e]
    assert api.get("/api/v1/health").body["database"] == "ok"
