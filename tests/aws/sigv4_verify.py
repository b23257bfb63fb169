# SPDX-License-Identifier: GPL-3.0-or-later
"""Independent AWS Signature Version 4 verifier for the loopback fake (fake_aws.py).

It recomputes the signature of an incoming request with hashlib/hmac only, so
it shares no code with botocore (which the tests use to sign) or with our C
signer. verify() returns a VerifyResult or raises VerifyError whose `kind`
says which AWS error the fake must answer with. Nothing here stores or
returns a secret: canonical requests handed back have the session token
redacted.
"""

import calendar
import hashlib
import hmac
import re
import time
import urllib.parse

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")
SIG_RE = re.compile(r"^[0-9a-f]{64}$")
UNRESERVED = "-_.~"
REDACTED = "<redacted>"

# VerifyError kinds. fake_aws.py maps each to the AWS error code and status.
INCOMPLETE = "incomplete_signature"
INVALID = "invalid_signature"
UNRECOGNIZED = "unrecognized_client"
EXPIRED_TOKEN = "expired_token"
MISSING_AUTH = "missing_authentication_token"


class VerifyError(Exception):
    """A request the real service would refuse.

    kind: one of the constants above. message: the text AWS would send.
    detail: extra fields for the request log (never secrets).
    """

    def __init__(self, kind, message, **detail):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail


class VerifyResult:
    def __init__(self, **fields):
        self.__dict__.update(fields)

    def as_dict(self):
        return dict(self.__dict__)


# ---------------------------------------------------------------- canonical form

def _encode(text_or_bytes):
    """RFC 3986 percent-encoding of everything but the unreserved set."""
    if isinstance(text_or_bytes, str):
        text_or_bytes = text_or_bytes.encode("utf-8")
    return urllib.parse.quote(text_or_bytes, safe=UNRESERVED)


def _as_bytes(raw):
    if raw is None:
        return b""
    if isinstance(raw, bytes):
        return raw
    # http.server hands over the request line decoded as latin-1.
    try:
        return raw.encode("latin-1")
    except UnicodeEncodeError:
        return raw.encode("utf-8")


def canonical_uri(raw_path, normalize=True):
    """The path exactly as sent on the wire, percent-encoded once more.

    That is the non-S3 rule ("encode each segment twice"): a wire path of
    /a%20b becomes /a%2520b, as botocore and the CRT signers produce. With
    normalize, dot segments and empty segments are removed as every non-S3
    service does; a trailing slash is kept.
    """
    path = _as_bytes(raw_path)
    if not path:
        return "/"
    segments = path.split(b"/")
    if not normalize:
        return "/".join(_encode(s) for s in segments) or "/"
    trailing = path.endswith(b"/") or segments[-1] in (b".", b"..")
    kept = []
    for seg in segments:
        if seg in (b"", b"."):
            continue
        if seg == b"..":
            if kept:
                kept.pop()
            continue
        kept.append(seg)
    body = "/".join(_encode(s) for s in kept)
    return "/" + body + ("/" if trailing and body else "")


def canonical_query(raw_query):
    """Sorted key=value pairs, each decoded then re-encoded; valueless keys get '='."""
    query = _as_bytes(raw_query)
    if not query:
        return ""
    pairs = []
    for part in query.split(b"&"):
        if not part:
            continue
        key, _, value = part.partition(b"=")
        pairs.append((_encode(urllib.parse.unquote_to_bytes(key)),
                      _encode(urllib.parse.unquote_to_bytes(value))))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def _trim(value):
    return " ".join(value.split())


def header_map(headers):
    """[(name, value), ...] -> {lowercase name: [trimmed values in order]}."""
    out = {}
    for name, value in headers:
        out.setdefault(name.lower().strip(), []).append(_trim(value))
    return out


def canonical_headers(hmap, signed):
    lines = []
    for name in signed:
        values = hmap.get(name, [])
        lines.append(f"{name}:{','.join(values)}\n")
    return "".join(lines)


def canonical_request(method, raw_path, raw_query, hmap, signed, payload_hash,
                      normalize=True):
    return "\n".join([
        method.upper(),
        canonical_uri(raw_path, normalize),
        canonical_query(raw_query),
        canonical_headers(hmap, signed),
        ";".join(signed),
        payload_hash,
    ])


def string_to_sign(amz_date, scope, creq):
    return "\n".join([
        ALGORITHM, amz_date, scope,
        hashlib.sha256(creq.encode("utf-8")).hexdigest(),
    ])


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signature(secret, date, region, service, sts):
    k = _hmac(("AWS4" + secret).encode("utf-8"), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    k = _hmac(k, "aws4_request")
    return hmac.new(k, sts.encode("utf-8"), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- Authorization

def redact_authorization(value):
    """The Authorization header with its Signature value hidden (for logs)."""
    return re.sub(r"(Signature=)[^,\s]*", r"\1" + REDACTED, value)


def parse_authorization(value):
    """'AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..' -> dict."""
    shown = redact_authorization(value)
    algo, _, rest = value.strip().partition(" ")
    if algo != ALGORITHM:
        raise VerifyError(
            INCOMPLETE,
            f"Unsupported AWS 'algorithm': '{algo}'. Authorization={shown}")
    fields = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        key, eq, val = part.partition("=")
        if not eq:
            raise VerifyError(
                INCOMPLETE,
                f"Authorization header requires each component to be of the form "
                f"key=value. Authorization={shown}")
        fields[key.strip()] = val.strip()
    missing = [k for k in ("Credential", "Signature", "SignedHeaders") if not fields.get(k)]
    if missing:
        msg = " ".join(f"Authorization header requires '{k}' parameter." for k in missing)
        raise VerifyError(INCOMPLETE, f"{msg} Authorization={shown}")
    return fields


def amz_date_to_epoch(amz_date):
    return calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))


def epoch_to_amz_date(epoch):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


# ---------------------------------------------------------------- verify

def verify(method, raw_path, raw_query, headers, body, keys, now, service,
           regions, max_skew=900, require_signed=("host", "x-amz-date")):
    """Check one request the way AWS does, in AWS's order.

    headers: [(name, value), ...] as received. body: bytes as received.
    keys: {access_key_id: {"secret": str, "session_token": str|None,
    "expired": bool, "expires_at": epoch|None}}. now: epoch seconds.
    service: the signing name the endpoint expects. regions: the regions the
    endpoint accepts in the scope (its own). Returns a VerifyResult.
    """
    hmap = header_map(headers)
    auth_values = hmap.get("authorization", [])
    if not auth_values:
        if b"X-Amz-Signature=" in _as_bytes(raw_query):
            raise VerifyError(INCOMPLETE,
                              "Presigned (query-string) requests are not accepted by this endpoint.")
        raise VerifyError(MISSING_AUTH, "Missing Authentication Token")
    if len(auth_values) > 1:
        raise VerifyError(INCOMPLETE, "Request contains more than one Authorization header.")
    # The raw (untrimmed) value keeps the signature exact.
    raw_auth = next(v for n, v in headers if n.lower().strip() == "authorization")
    fields = parse_authorization(raw_auth)

    amz_dates = hmap.get("x-amz-date", [])
    if not amz_dates:
        raise VerifyError(
            INCOMPLETE,
            "Authorization header requires existence of either a 'X-Amz-Date' or a "
            f"'Date' header. Authorization={redact_authorization(raw_auth)}")
    amz_date = amz_dates[0]
    if len(amz_dates) > 1 or not AMZ_DATE_RE.match(amz_date):
        raise VerifyError(
            INCOMPLETE,
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")

    cred = fields["Credential"].split("/")
    if len(cred) != 5 or not all(cred):
        raise VerifyError(
            INCOMPLETE,
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            "keyid/date/region/service/term, got '" + fields["Credential"] + "'")
    akid, scope_date, scope_region, scope_service, terminator = cred
    if terminator != "aws4_request":
        raise VerifyError(
            INCOMPLETE,
            f"Credential should be scoped with a valid terminator: 'aws4_request', "
            f"not '{terminator}'. ")

    signed = fields["SignedHeaders"].split(";")
    base = dict(access_key_id=akid, scope="/".join(cred[1:]),
                region=scope_region, service=scope_service,
                amz_date=amz_date, signed_headers=signed)

    key = keys.get(akid)
    if key is None:
        raise VerifyError(UNRECOGNIZED,
                          "The security token included in the request is invalid.", **base)

    if scope_date != amz_date[:8]:
        raise VerifyError(
            INVALID,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
            f"date from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.", **base)
    if scope_service != service:
        raise VerifyError(
            INVALID, f"Credential should be scoped to correct service: '{service}'. ", **base)
    if scope_region not in regions:
        raise VerifyError(
            INVALID, f"Credential should be scoped to a valid region, not '{scope_region}'. ",
            **base)

    if any(h != h.lower() or not h for h in signed):
        raise VerifyError(
            INCOMPLETE, "SignedHeaders must be lowercase, non-empty names separated by ';'.",
            **base)
    for need in require_signed:
        if need not in signed:
            nice = {"host": "'Host' or ':authority'"}.get(need, f"'{need}'")
            raise VerifyError(
                INCOMPLETE,
                f"{nice} must be a 'SignedHeader' in the AWS Authorization.", **base)

    try:
        t = amz_date_to_epoch(amz_date)
    except ValueError:
        raise VerifyError(
            INCOMPLETE,
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"", **base)
    if t < now - max_skew:
        raise VerifyError(
            INVALID,
            f"Signature expired: {amz_date} is now earlier than "
            f"{epoch_to_amz_date(now - max_skew)} ({epoch_to_amz_date(now)} - "
            f"{max_skew // 60} min.)", **base)
    if t > now + max_skew:
        raise VerifyError(
            INVALID,
            f"Signature not yet current: {amz_date} is still later than "
            f"{epoch_to_amz_date(now + max_skew)} ({epoch_to_amz_date(now)} + "
            f"{max_skew // 60} min.)", **base)

    payload_hash = hashlib.sha256(body or b"").hexdigest()
    creq = canonical_request(method, raw_path, raw_query, hmap, signed, payload_hash)
    sts = string_to_sign(amz_date, "/".join(cred[1:]), creq)
    want = signature(key["secret"], scope_date, scope_region, scope_service, sts)
    token_values = hmap.get("x-amz-security-token", [])
    shown_creq = creq
    for tok in token_values:
        if tok:
            shown_creq = shown_creq.replace(tok, REDACTED)
    base.update(canonical_request=shown_creq, string_to_sign=sts,
                token_present=bool(token_values),
                token_signed="x-amz-security-token" in signed)
    given = fields["Signature"]
    if not SIG_RE.match(given) or not hmac.compare_digest(want, given):
        raise VerifyError(
            INVALID,
            "The request signature we calculated does not match the signature you "
            "provided. Check your AWS Secret Access Key and signing method. Consult the "
            "service documentation for details.\n\n"
            f"The Canonical String for this request should have been\n'{shown_creq}'\n\n"
            f"The String-to-Sign should have been\n'{sts}'\n", **base)

    expected_token = key.get("session_token")
    if len(token_values) > 1:
        raise VerifyError(UNRECOGNIZED,
                          "The security token included in the request is invalid.", **base)
    got_token = token_values[0] if token_values else None
    if expected_token is None:
        if got_token is not None:
            raise VerifyError(UNRECOGNIZED,
                              "The security token included in the request is invalid.", **base)
    else:
        if got_token is None or not hmac.compare_digest(got_token.encode(),
                                                        expected_token.encode()):
            raise VerifyError(UNRECOGNIZED,
                              "The security token included in the request is invalid.", **base)
    expires_at = key.get("expires_at")
    if key.get("expired") or (expires_at is not None and now >= float(expires_at)):
        raise VerifyError(EXPIRED_TOKEN,
                          "The security token included in the request is expired", **base)

    return VerifyResult(ok=True, **base)
