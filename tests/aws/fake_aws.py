#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Loopback stand-in for the AWS endpoints empdir-tui calls.

CloudWatch (AWS JSON 1.0, X-Amz-Target GraniteServiceVersion20100801.*:
DescribeAlarms, DescribeAlarmHistory, GetMetricData; plus
awsQuery form posts for older SDKs) and Cost Explorer (AWS JSON 1.1,
AWSInsightsIndexService.GetCostAndUsage) on one port. Every request's SigV4
signature is recomputed independently (sigv4_verify.py, hashlib/hmac only)
and refused the way AWS refuses it. State comes from a JSON scenario and can
be switched at run time through the unsigned loopback control API:

  GET  /_health               {"ok": true, "port": N}
  GET  /_state                scenario, clock, key ids (never secrets)
  GET  /_requests[?since=N]   {"requests": [record, ...]}  (seq > N)
  DELETE /_requests           forget recorded requests
  POST /_control              {"reset"|"scenario"|"merge"|"now"|"keys"|"clear_requests"}

Usage: fake_aws.py [--port 0] [--scenario FILE] [--keys FILE] [--region R]
                   [--now EPOCH|YYYYMMDDTHHMMSSZ] [--port-file FILE] [--quiet]
Prints "listening on http://127.0.0.1:PORT" on stdout once ready.
See tests/aws/README.md for the scenario format and the record fields.
"""

import argparse
import copy
import datetime
import decimal
import ipaddress
import json
import math
import os
import re
import signal
import socket
import sys
import threading
import time
import uuid
import xml.sax.saxutils
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_aws_ops as ops  # noqa: E402
import sigv4_verify as sigv4  # noqa: E402

DEFAULT_KEYS = {"AKIDEXAMPLE": {"secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}}
CW_PREFIX = "GraniteServiceVersion20100801"
CE_PREFIX = "AWSInsightsIndexService"
CW_XMLNS = "http://monitoring.amazonaws.com/doc/2010-08-01/"
HOST_RE = re.compile(r"^(monitoring|ce)\.([a-z0-9-]+)\.amazonaws\.com(?::\d+)?$")
MAX_BODY = 8 * 1024 * 1024
MAX_RECORDS = 5000
BODY_LOG_LIMIT = 65536

# How each verifier outcome is answered: (JSON __type, awsQuery code, HTTP status).
AUTH_ERRORS = {
    sigv4.INCOMPLETE: ("com.amazon.coral.service#IncompleteSignatureException",
                       "IncompleteSignature", 400),
    sigv4.INVALID: ("com.amazon.coral.service#InvalidSignatureException",
                    "SignatureDoesNotMatch", 403),
    sigv4.UNRECOGNIZED: ("com.amazon.coral.service#UnrecognizedClientException",
                         "InvalidClientTokenId", 403),
    sigv4.EXPIRED_TOKEN: ("com.amazon.coral.service#ExpiredTokenException",
                          "ExpiredToken", 403),
    sigv4.MISSING_AUTH: ("com.amazon.coral.service#MissingAuthenticationTokenException",
                         "MissingAuthenticationToken", 403),
}


# ---------------------------------------------------------------- numbers and JSON

def java_double(x):
    """Format a double as Java's Double.toString does (what AWS JSON services
    emit): 5.0, 0.25, 1.7356896E9, 1.0E-4."""
    if math.isnan(x) or math.isinf(x):
        raise ValueError("JSON cannot carry NaN or Infinity")
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        return repr(x)  # repr is positional with a fraction in this range
    sign, digits, exponent = decimal.Decimal(repr(x)).normalize().as_tuple()
    d = "".join(map(str, digits))
    return f"{'-' if sign else ''}{d[0]}.{d[1:] or '0'}E{len(d) - 1 + exponent}"


def to_json(obj, style="java"):
    """Serialise with AWS-like numbers; non-ASCII text goes out as raw UTF-8
    and control characters as \\u escapes, as a JSON service sends them."""
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        if style == "java":
            return java_double(obj)
        return str(int(obj)) if obj.is_integer() and abs(obj) < 1e15 else repr(obj)
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{to_json(v, style)}"
                              for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(to_json(v, style) for v in obj) + "]"
    raise TypeError(f"cannot serialise {type(obj).__name__}")


# ---------------------------------------------------------------- awsQuery

QUERY_TIMESTAMPS = {"StartTime", "EndTime", "StartDate", "EndDate"}
QUERY_INTS = {"MaxRecords", "MaxDatapoints", "Period"}
QUERY_BOOLS = {"ReturnData"}
XML_TIMESTAMPS = {"StateUpdatedTimestamp", "StateTransitionedTimestamp",
                  "AlarmConfigurationUpdatedTimestamp", "Timestamps", "Timestamp"}
XML_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _iso_to_epoch(text):
    text = text.strip().replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text).timestamp()


def query_to_input(pairs):
    """Flattened awsQuery parameters ("A.member.1.B=x") -> the JSON-shaped input."""
    root = {}
    for key, value in pairs:
        if key in ("Action", "Version"):
            continue
        parts = key.split(".")
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "member":
                continue
            nxt_is_member = not last and parts[i + 1] == "member"
            if part.isdigit():
                idx = int(part) - 1
                while len(node) <= idx:
                    node.append(None)
                if last:
                    node[idx] = value
                else:
                    if node[idx] is None:
                        node[idx] = [] if parts[i + 1] == "member" else {}
                    node = node[idx]
                continue
            if last:
                if part in QUERY_TIMESTAMPS:
                    value = _iso_to_epoch(value)
                elif part in QUERY_INTS:
                    value = int(value)
                elif part in QUERY_BOOLS:
                    value = value.lower() == "true"
                node[part] = value
            else:
                node = node.setdefault(part, [] if nxt_is_member else {})
    return root


def _xml_text(value, key):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and key in XML_TIMESTAMPS:
        dt = datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    # XML 1.0 cannot carry most control characters even escaped.
    return xml.sax.saxutils.escape(XML_BAD_CHARS.sub("\ufffd", str(value)))


def to_xml(key, value):
    if isinstance(value, dict):
        inner = "".join(to_xml(k, v) for k, v in value.items())
    elif isinstance(value, list):
        # list members carry the list's name for the timestamp rule
        inner = "".join(to_xml("member", v) if isinstance(v, (dict, list))
                        else f"<member>{_xml_text(v, key)}</member>" for v in value)
    else:
        inner = _xml_text(value, key)
    return f"<{key}>{inner}</{key}>"


def query_response(op, out, request_id):
    result = "".join(to_xml(k, v) for k, v in out.items())
    return (f'<{op}Response xmlns="{CW_XMLNS}"><{op}Result>{result}</{op}Result>'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{op}Response>\n").encode("utf-8")


def query_error(code, message, fault, request_id):
    return (f'<ErrorResponse xmlns="{CW_XMLNS}"><Error><Type>{fault}</Type>'
            f"<Code>{_xml_text(code, '')}</Code><Message>{_xml_text(message, '')}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>\n").encode("utf-8")


# ---------------------------------------------------------------- state

class State:
    """Everything mutable, behind one lock. Handlers take snapshots."""

    def __init__(self, scenario, keys, fixed_now):
        self.lock = threading.Lock()
        self.initial = (copy.deepcopy(scenario), copy.deepcopy(keys), fixed_now)
        self.scenario = scenario
        self.keys = keys
        self.fixed_now = fixed_now
        self.requests = []
        self.seq = 0

    def now(self):
        with self.lock:
            return self.fixed_now if self.fixed_now is not None else time.time()

    def snapshot(self):
        with self.lock:
            now = self.fixed_now if self.fixed_now is not None else time.time()
            return self.scenario, self.keys, now

    def take_faults(self, service, operation):
        """The faults that hit this request, with their counts spent."""
        hit = []
        with self.lock:
            for f in self.scenario.get("faults") or []:
                targets = f.get("targets")
                if targets and operation not in targets and service not in targets:
                    continue
                if f.get("count") is not None:
                    if f["count"] <= 0:
                        continue
                    f["count"] -= 1
                hit.append(dict(f))
        return hit

    def record(self, rec):
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.requests.append(rec)
            del self.requests[:-MAX_RECORDS]

    def public(self):
        with self.lock:
            return {
                "scenario": copy.deepcopy(self.scenario),
                "now": self.fixed_now if self.fixed_now is not None else time.time(),
                "fixed_now": self.fixed_now is not None,
                "keys": {k: {"session": bool(v.get("session_token")),
                             "expired": bool(v.get("expired")),
                             "expires_at": v.get("expires_at")}
                         for k, v in self.keys.items()},
                "requests": self.seq,
            }


def load_keys(data):
    if not isinstance(data, dict) or not data:
        raise ValueError("keys must be a non-empty object {access_key_id: {secret, ...}}")
    out = {}
    for akid, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("secret"), str):
            raise ValueError(f"key {akid!r} needs a string 'secret'")
        extra = set(entry) - {"secret", "session_token", "expired", "expires_at"}
        if extra:
            raise ValueError(f"key {akid!r}: unknown fields {sorted(extra)}")
        out[akid] = dict(entry)
    return out


def parse_now(text):
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        return float(text)
    if re.match(r"^\d{8}T\d{6}Z$", text):
        return float(sigv4.amz_date_to_epoch(text))
    return float(text)


# ---------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the
    # second waits for the client's delayed ACK (40 ms) on a kept-alive
    # connection, which real AWS endpoints do not make clients wait.
    disable_nagle_algorithm = True
    server_version = "Server"
    sys_version = ""

    # --- plumbing

    def version_string(self):
        return "Server"

    def log_message(self, fmt, *args):  # the default access log is replaced by log_line
        pass

    def log_line(self, text):
        if not self.server.quiet:
            sys.stderr.write(f"fake_aws: {text}\n")
            sys.stderr.flush()

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def send(self, status, body, content_type, extra=(), request_id=None, declared=None):
        # Record before answering, so a client that reads /_requests right
        # after its response always finds its own request there.
        self.flush_record()
        self.send_response(status)
        self.send_header("x-amzn-RequestId", request_id or str(uuid.uuid4()))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(declared if declared is not None else len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def flush_record(self):
        rec, self.pending_record = getattr(self, "pending_record", None), None
        if rec is not None:
            self.server.state.record(rec)

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def dispatch(self):
        try:
            peer = ipaddress.ip_address(self.client_address[0])
        except ValueError:
            peer = None
        if peer is None or not peer.is_loopback:
            self.close_connection = True
            return self.send(403, b'{"message":"loopback only"}\n', "application/json")
        try:
            body = self.read_body()
        except ValueError:
            self.close_connection = True
            return self.send(413, b'{"message":"request body too large"}\n', "application/json")
        url = urlsplit(self.path)
        if url.path.startswith("/_"):
            return self.control(url, body)
        return self.aws(url, body)

    # --- control API (unsigned, loopback only, never recorded)

    def control_reply(self, status, obj):
        self.send(status, (json.dumps(obj, indent=1) + "\n").encode(), "application/json")

    def control(self, url, body):
        state = self.server.state
        path, method = url.path, self.command
        if path == "/_health" and method == "GET":
            return self.control_reply(200, {"ok": True, "port": self.server.server_port})
        if path == "/_state" and method == "GET":
            return self.control_reply(200, state.public())
        if path == "/_requests" and method == "GET":
            since = int(dict(parse_qsl(url.query)).get("since", 0))
            with state.lock:
                recs = [r for r in state.requests if r["seq"] > since]
            return self.control_reply(200, {"requests": recs})
        if path == "/_requests" and method == "DELETE":
            with state.lock:
                state.requests.clear()
            return self.control_reply(200, {"ok": True})
        if path == "/_control" and method == "POST":
            try:
                cmd = json.loads(body or b"{}")
                applied = apply_control(state, cmd)
            except (ValueError, TypeError) as e:
                return self.control_reply(400, {"ok": False, "error": str(e)})
            self.log_line(f"control {', '.join(applied) or 'nothing'}")
            return self.control_reply(200, {"ok": True, "applied": applied})
        return self.control_reply(404, {"ok": False, "error": f"no control route {method} {path}"})

    # --- AWS

    def aws(self, url, body):
        request_id = str(uuid.uuid4())
        headers = list(self.headers.items())
        target = self.headers.get("X-Amz-Target")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        rec = {
            "time": time.time(), "client": f"{self.client_address[0]}:{self.client_address[1]}",
            "method": self.command, "path": url.path, "query": url.query, "target": target,
            "protocol": None, "service": None, "operation": None, "region": None,
            "headers": redact_headers(headers),
            "body": body[:BODY_LOG_LIMIT].decode("utf-8", "replace"),
            "input": None, "auth": None, "fault": None, "status": None, "error": None,
            "request_id": request_id,
        }
        proto = Proto(self, rec, request_id)
        self.pending_record = rec
        try:
            try:
                self.route(url, body, headers, target, ctype, rec, proto)
            except ops.ApiError as e:
                proto.error(e)
            except (ConnectionError, TimeoutError):
                raise
            except Exception as e:  # a bug here must still answer, and show in the log
                rec["bug"] = repr(e)
                proto.error(ops.ApiError("InternalFailure", "fake_aws internal error", 500,
                                         "com.amazon.coral.service#InternalFailure",
                                         "InternalFailure", "Receiver"))
        except (ConnectionError, TimeoutError):
            rec["status"] = "client-gone"
            self.close_connection = True
        self.flush_record()  # answers that send nothing (drop, client gone)
        auth = rec.get("auth") or {}
        self.log_line(f"{self.command} {rec['operation'] or url.path} "
                      f"{rec['service'] or '-'}/{rec['region'] or '-'} "
                      f"key={auth.get('access_key_id', '-')} -> {rec['status']}"
                      f"{' ' + rec['error'] if rec['error'] else ''}"
                      f"{' fault=' + rec['fault'] if rec['fault'] else ''}")

    def route(self, url, body, headers, target, ctype, rec, proto):
        # Which protocol and operation
        if target:
            prefix, _, op = target.partition(".")
            if prefix == CW_PREFIX:
                proto.set("json-1.0", "monitoring", op)
            elif prefix == CE_PREFIX:
                proto.set("json-1.1", "ce", op)
            else:
                proto.set("json-1.0", "unknown", op)
                raise unknown_operation(target)
        else:
            params = parse_qsl(url.query, keep_blank_values=True)
            if self.command == "POST" and ctype == "application/x-www-form-urlencoded":
                params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            action = dict(params).get("Action")
            if not action:
                proto.set("json-1.0", "unknown", None)
                raise ops.ApiError("UnknownOperationException",
                                   "Neither X-Amz-Target nor an awsQuery Action was given.",
                                   400, "com.amazon.coral.service#UnknownOperationException",
                                   "InvalidAction")
            proto.set("query", "monitoring", action)
            query_params = params

        service = rec["service"]
        host = self.headers.get("Host") or ""
        m = HOST_RE.match(host.lower())
        scenario, keys, now = self.server.state.snapshot()
        if m:  # the client kept the real hostname (CURLOPT_CONNECT_TO and the like)
            regions = {m.group(2)}
            if m.group(1) != service:
                raise unknown_operation(f"{target or rec['operation']} on host {host}")
        elif service == "ce":
            regions = {ops.BILLING_REGION}
        else:
            regions = {scenario["region"], ops.BILLING_REGION}

        auth_conf = scenario.get("auth") or {}
        try:
            result = sigv4.verify(
                self.command, url.path.encode("latin-1", "replace"),
                url.query.encode("latin-1", "replace"), headers, body, keys, now, service,
                regions, max_skew=int(auth_conf.get("max_skew", 900)),
                require_signed=tuple(auth_conf.get("require_signed_headers",
                                                   ("host", "x-amz-date"))))
        except sigv4.VerifyError as e:
            rec["auth"] = dict(e.detail, ok=False, error=AUTH_ERRORS[e.kind][0].split("#")[1],
                               message=e.message.split("\n")[0])
            rec["region"] = e.detail.get("region")
            json_type, query_code, status = AUTH_ERRORS[e.kind]
            raise ops.ApiError(json_type.split("#")[1], e.message, status, json_type, query_code)
        rec["auth"] = dict(result.as_dict(), error=None, message=None)
        rec["region"] = result.region

        # Protocol details checked only once the caller is known to be genuine.
        op = rec["operation"]
        if rec["protocol"] == "query":
            if self.command not in ("POST", "GET"):
                raise unknown_operation(op)
            params = ops_input = query_to_input(query_params)
        else:
            if self.command != "POST" or url.path != "/":
                raise unknown_operation(target)
            if ctype not in ("application/x-amz-json-1.0", "application/x-amz-json-1.1"):
                raise ops.ApiError("UnknownOperationException",
                                   f"Content-Type {ctype!r} is not an AWS JSON type.", 400,
                                   "com.amazon.coral.service#UnknownOperationException",
                                   "InvalidAction")
            try:
                params = json.loads(body.decode("utf-8")) if body else None
            except (UnicodeDecodeError, ValueError):
                params = None
            if not isinstance(params, dict):
                raise ops.ApiError("SerializationException",
                                   "The request body must be a JSON object ({} when empty).",
                                   400, "com.amazon.coral.service#SerializationException",
                                   "MalformedInput")
            ops_input = params
        rec["input"] = ops_input
        handler = ops.OPERATIONS.get((service, op))
        if handler is None:
            raise unknown_operation(target or op)

        for fault in self.server.state.take_faults(service, op):
            if fault["mode"] == "slow":
                time.sleep(float(fault.get("seconds", 2.0)))
                rec["fault"] = "slow"
                continue
            rec["fault"] = fault["mode"]
            return proto.fault(fault, lambda: handler(ops.Ctx(scenario, rec["region"], now),
                                                      params))
        out = handler(ops.Ctx(scenario, rec["region"], now), params)
        proto.ok(out, scenario.get("number_style", "java"))


def unknown_operation(what):
    return ops.ApiError("UnknownOperationException", f"Unknown operation {what}", 400,
                        "com.amazon.coral.service#UnknownOperationException", "InvalidAction")


def redact_headers(headers):
    out = {}
    for name, value in headers:
        low = name.lower()
        if low == "authorization":
            value = sigv4.redact_authorization(value)
        elif low == "x-amz-security-token":
            value = sigv4.REDACTED
        out[low] = value if low not in out else out[low] + ", " + value
    return out


class Proto:
    """Writes answers in the request's protocol and fills the record."""

    def __init__(self, handler, rec, request_id):
        self.h, self.rec, self.rid = handler, rec, request_id

    def set(self, protocol, service, op):
        self.rec.update(protocol=protocol, service=service, operation=op)

    def content_type(self):
        p = self.rec["protocol"]
        return {"query": "text/xml", "json-1.1": "application/x-amz-json-1.1"}.get(
            p, "application/x-amz-json-1.0")

    def ok(self, out, style):
        self.rec["status"] = 200
        if self.rec["protocol"] == "query":
            body = query_response(self.rec["operation"], out, self.rid)
        else:
            body = to_json(out, style).encode("utf-8")
        self.h.send(200, body, self.content_type(), request_id=self.rid)

    def error(self, e):
        self.rec["status"] = e.status
        self.rec["error"] = e.code
        self.rec["query_error"] = e.query_code
        extra = []
        if self.rec["protocol"] == "query":
            body = query_error(e.query_code, e.message, e.fault, self.rid)
        else:
            body = to_json({"__type": e.json_type, "message": e.message}).encode("utf-8")
            if self.rec["service"] == "monitoring":  # awsQueryCompatible
                extra.append(("x-amzn-query-error", f"{e.query_code};{e.fault}"))
        if getattr(e, "retry_after", None) is not None:
            extra.append(("Retry-After", str(e.retry_after)))
        self.h.send(e.status, body, self.content_type(), extra, request_id=self.rid)

    def fault(self, f, run):
        mode = f["mode"]
        if mode == "throttle":
            e = ops.ApiError(
                "ThrottlingException", f.get("message", "Rate exceeded"),
                int(f.get("status", 400)), "com.amazon.coral.availability#ThrottlingException",
                "Throttling")
            e.retry_after = f.get("retry_after")
            return self.error(e)
        if mode == "internal":
            if self.rec["service"] == "monitoring":
                e = ops.ApiError("InternalServiceError", "Internal service error", 500,
                                 "com.amazonaws.cloudwatch#InternalServiceFault",
                                 "InternalServiceError", "Receiver")
            else:
                e = ops.ApiError("InternalFailure", "Internal failure", 500,
                                 "com.amazon.coral.service#InternalFailure",
                                 "InternalFailure", "Receiver")
            e.status = int(f.get("status", 500))
            return self.error(e)
        if mode == "unavailable":
            e = ops.ApiError(
                "ServiceUnavailableException", f.get("message", "Service Unavailable"),
                int(f.get("status", 503)),
                "com.amazon.coral.availability#ServiceUnavailableException",
                "ServiceUnavailable", "Receiver")
            e.retry_after = f.get("retry_after")
            return self.error(e)
        if mode == "error":
            code = f["code"]
            return self.error(ops.ApiError(
                code.split("#")[-1], f.get("message", code), int(f.get("status", 400)),
                code if "#" in code else f"com.amazon.coral.service#{code}",
                f.get("query_code", code.split("#")[-1]), f.get("fault", "Sender")))
        if mode == "garbage":
            self.rec["status"] = 200
            return self.h.send(200, b"<html><body>502 Bad Gateway</body></html>\n",
                               "text/html", request_id=self.rid)
        if mode == "drop":
            self.rec["status"] = "dropped"
            self.h.close_connection = True
            return None
        # truncate / short: a real answer cut in half
        out = run()
        body = to_json(out).encode("utf-8") if self.rec["protocol"] != "query" else \
            query_response(self.rec["operation"], out, self.rid)
        half = body[: max(1, len(body) // 2)]
        self.rec["status"] = 200
        if mode == "truncate":  # consistent Content-Length, body is not valid JSON/XML
            return self.h.send(200, half, self.content_type(), request_id=self.rid)
        self.h.close_connection = True  # short: promises more bytes than it sends
        return self.h.send(200, half, self.content_type(), request_id=self.rid,
                           declared=len(body))


def apply_control(state, cmd):
    """POST /_control. Members are applied in this order; any error applies nothing."""
    if not isinstance(cmd, dict):
        raise ValueError("the control body must be a JSON object")
    unknown = set(cmd) - {"reset", "scenario", "merge", "now", "keys", "clear_requests"}
    if unknown:
        raise ValueError(f"unknown control members {sorted(unknown)}")
    applied = []
    with state.lock:
        scenario, keys, fixed = state.scenario, state.keys, state.fixed_now
        clear = False
        if cmd.get("reset"):
            scenario, keys, fixed = copy.deepcopy(state.initial)
            clear = True
            applied.append("reset")
        if "scenario" in cmd:
            scenario = ops.deep_merge(ops.default_scenario(), cmd["scenario"])
            applied.append("scenario")
        if "merge" in cmd:
            if not isinstance(cmd["merge"], dict):
                raise ValueError("merge must be an object")
            scenario = ops.deep_merge(scenario, cmd["merge"])
            applied.append("merge")
        ops.validate_scenario(scenario)
        if "now" in cmd:
            fixed = parse_now(cmd["now"])
            applied.append("now")
        if "keys" in cmd:
            keys = load_keys(cmd["keys"])
            applied.append("keys")
        if cmd.get("clear_requests"):
            clear = True
            applied.append("clear_requests")
        state.scenario, state.keys, state.fixed_now = scenario, keys, fixed
        if clear:
            state.requests.clear()
    return applied


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--scenario", help="JSON scenario merged over the defaults")
    ap.add_argument("--keys", help='JSON {"AKID": {"secret": ..., "session_token": ...}}')
    ap.add_argument("--region", help="deployment region (overrides the scenario)")
    ap.add_argument("--now", help="fixed clock: epoch seconds or YYYYMMDDTHHMMSSZ")
    ap.add_argument("--port-file", help="also write the port number to this file")
    ap.add_argument("--quiet", action="store_true", help="no per-request log on stderr")
    args = ap.parse_args(argv)

    try:
        if not ipaddress.ip_address(args.host).is_loopback:
            ap.error("--host must be a loopback address: the control API is unauthenticated")
    except ValueError:
        ap.error("--host must be a numeric loopback address")
    try:
        scenario = ops.default_scenario()
        if args.scenario:
            with open(args.scenario, encoding="utf-8") as f:
                scenario = ops.deep_merge(scenario, json.load(f))
        if args.region:
            scenario["region"] = args.region
        ops.validate_scenario(scenario)
        keys = DEFAULT_KEYS
        if args.keys:
            with open(args.keys, encoding="utf-8") as f:
                keys = load_keys(json.load(f))
        fixed = parse_now(args.now)
    except (OSError, ValueError) as e:
        print(f"fake_aws: {e}", file=sys.stderr)
        return 2

    Server.address_family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    server = Server((args.host, args.port), Handler)
    server.state = State(scenario, copy.deepcopy(keys), fixed)
    server.quiet = args.quiet
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"listening on http://{host}:{port}", flush=True)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
