# SPDX-License-Identifier: GPL-3.0-or-later
"""rules: the contract's rules with no I/O: employee validation, the badges
column codec, list cursors and If-Match parsing.

The validation messages are the C client's (core/employee.c), so a record
refused here reads the same as one refused before it is sent."""

import base64
import binascii
import json
import re

TEXT_FIELDS = ("fullname", "location", "job_title")
TEXT_MAX = 100
BADGES_MAX = 20
BADGE_MAX = 50
ID_MAX = 36
SORTS = ("fullname", "location", "job_title")
ORDERS = ("asc", "desc")
LIMIT_MAX = 500
LIMIT_DEFAULT = 50
Q_MAX = 200

# What Python's str.strip() removes (str.isspace()); the C client trims the same.
TRIM_CHARS = (" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680"
              + "".join(chr(c) for c in range(0x2000, 0x200B))
              + "\u2028\u2029\u202f\u205f\u3000")


def _has_control(s):
    return any(c < "\x20" or "\x7f" <= c <= "\x9f" for c in s)


def check_text(s, max_chars):
    """The message for a trimmed text value that breaks the rules, or None."""
    if any("\ud800" <= c <= "\udfff" for c in s):
        return "is not valid UTF-8 text"
    if _has_control(s):
        return "must not contain control characters"
    if not s:
        return "is required"
    if len(s) > max_chars:
        return f"is {len(s)} characters long; at most {max_chars} are allowed"
    return None


def check_id(value):
    """The message for a bad id (taken as-is, never trimmed), or None."""
    if not isinstance(value, str):
        return "must be a string"
    return check_text(value, ID_MAX)


def normalize_employee(body):
    """Trim and check an EmployeeInput. Returns (record, errors): record holds
    the trimmed fullname, location, job_title and badges (a list) and the id
    when the body had one; errors maps field name to message."""
    if not isinstance(body, dict):
        return None, {"body": "must be a JSON object"}
    rec, errors = {}, {}
    for f in TEXT_FIELDS:
        v = body.get(f)
        if v is None:
            errors[f] = "is required"
        elif not isinstance(v, str):
            errors[f] = "must be a string"
        else:
            rec[f] = v.strip()
            msg = check_text(rec[f], TEXT_MAX)
            if msg:
                errors[f] = msg
    badges = body.get("badges")
    if badges is None:
        badges = []
    msg = None
    if not isinstance(badges, list):
        msg = "must be an array of strings"
    else:
        trimmed, first = [], {}
        for i, b in enumerate(badges, 1):
            if not isinstance(b, str):
                msg = msg or f"badge {i} must be a string"
                continue
            t = b.strip()
            if not msg:
                why = check_text(t, BADGE_MAX)
                if why:
                    msg = f"badge {i} {why}"
                elif t in first:
                    msg = f"badge {i} repeats badge {first[t]}"
            first.setdefault(t, i)
            trimmed.append(t)
        if not msg and len(trimmed) > BADGES_MAX:
            msg = f"{len(trimmed)} badges; at most {BADGES_MAX} are allowed"
        rec["badges"] = trimmed
    if msg:
        errors["badges"] = msg
    if "id" in body and body["id"] is not None:
        msg = check_id(body["id"])
        if msg:
            errors["id"] = msg
        else:
            rec["id"] = body["id"]
    return (None if errors else rec), errors


# ---- the badges column ----

def encode_badges(badges):
    """As the seed app writes it (json.dumps), but UTF-8 rather than \\u escapes."""
    return json.dumps(badges, ensure_ascii=False)


def decode_badges(text):
    """The stored text as a list: a JSON array of strings, else the legacy
    comma-separated form ("Mac User,Coffee Lover"); NULL or "" is no badges.
    A JSON array whose strings are not valid text (lone surrogates, NUL) counts
    as legacy, as it does for BADGE_JSON_RE in SQL and for the C client."""
    if not text:
        return []
    if text.lstrip(" \t\n\r").startswith("["):
        try:
            v = json.loads(text)
        except ValueError:
            v = None
        if isinstance(v, list) and all(isinstance(b, str) and "\x00" not in b and
                                       not any("\ud800" <= c <= "\udfff" for c in b) for b in v):
            return v
    return [t for t in (p.strip() for p in text.split(",")) if t]


# The texts decode_badges() takes as JSON, as a PostgreSQL regular expression,
# so SQL can tell the two forms apart before json_array_elements_text() (which
# would fail on anything else). Strings: no raw control characters, escapes as
# JSON has them, no \u0000, surrogates only in pairs.
_HEX = "[0-9a-fA-F]"
_U = (rf"u(?!0000)([0-9a-cA-Ce-fE-F]{_HEX}{{3}}|[dD][0-7]{_HEX}{{2}}"
      rf"|[dD][89abAB]{_HEX}{{2}}\\u[dD][c-fC-F]{_HEX}{{2}})")
_STR = rf'"([^"\\\x01-\x1f]|\\(["\\/bfnrt]|{_U}))*"'
_WS = "[ \t\n\r]*"
BADGE_JSON_RE = rf"^{_WS}\[{_WS}({_STR}{_WS}(,{_WS}{_STR}{_WS})*)?\]{_WS}$"


def like_pattern(q):
    """An ILIKE pattern matching q as a plain substring."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def raw_badges_can_prefilter(q):
    """True when a badge that contains q has q in the stored text as well, so
    `badges ILIKE pattern` may narrow the search (and use an index). JSON may
    escape quotes, backslashes, slashes and anything non-ASCII, so those need
    the exact test alone. (One gap is left: a \\u-escaped character whose lower
    case is ASCII, such as the Kelvin sign for "k".)"""
    return all(" " <= c <= "~" and c not in '"\\/' for c in q)


# ---- cursors ----

def encode_cursor(q, sort, order, last):
    """Opaque keyset cursor: the query it belongs to and the last row's
    (sort value, id)."""
    raw = json.dumps([1, q, sort, order, last[sort], last["id"]], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor, q, sort, order):
    """(sort value, id) after which the page starts; ValueError with a message."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        v = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValueError("is not a cursor this server made")
    if not (isinstance(v, list) and len(v) == 6 and v[0] == 1 and all(isinstance(x, str) for x in v[1:])):
        raise ValueError("is not a cursor this server made")
    if v[1:4] != [q, sort, order]:
        raise ValueError("belongs to another query (q, sort and order must stay the same)")
    return v[4], v[5]


# ---- If-Match ----

_ETAG_LIST = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(,|$)')


def parse_if_match(header):
    """'*' or the list of strong tags' values (weak ones never match, RFC 9110
    strong comparison). ValueError when the header is not entity-tag syntax."""
    h = header.strip()
    if h == "*":
        return "*"
    tags, pos = [], 0
    while pos < len(h):
        m = _ETAG_LIST.match(h, pos)
        if not m or m.end() == pos:
            raise ValueError("If-Match must be \"*\" or quoted entity tags, as the ETag header has them")
        if not m.group(1):
            tags.append(m.group(2))
        pos = m.end()
    if not h:
        raise ValueError("If-Match is empty")
    return tags


def if_match_from_batch(value):
    """A batch operation's if_match: the version, quoted as in If-Match or bare."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("if_match must be the record's version")
    v = value.strip()
    if v.startswith('"') or v.startswith("W/") or v == "*":
        return parse_if_match(v)
    return [v]


def etag(version):
    return f'"{version}"'


def matches(tags, version):
    return tags == "*" or version in tags
