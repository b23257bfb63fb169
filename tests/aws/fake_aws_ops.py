# SPDX-License-Identifier: GPL-3.0-or-later
"""What the fake AWS endpoints answer: the scenario model and the three operations.

fake_aws.py owns HTTP, SigV4 and the wire protocols; this module turns a
parsed input dict into an output dict (or raises ApiError) from a scenario
snapshot. Everything returned is a fresh structure the caller may keep.
"""

import base64
import calendar
import copy
import datetime
import hashlib
import json
import math
import re

LAMBDA_ALARM = "EmployeeDirectoryLambdaErrors"
BILLING_ALARM = "EmployeeDirectoryCostExceeded"
BILLING_REGION = "us-east-1"          # billing metrics and Cost Explorer live only here
STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
ALARM_TYPES = ("MetricAlarm", "CompositeAlarm", "LogAlarm")
CE_METRICS = ("AmortizedCost", "BlendedCost", "NetAmortizedCost", "NetUnblendedCost",
              "NormalizedUsageAmount", "UnblendedCost", "UsageQuantity")
FAULT_MODES = ("throttle", "internal", "unavailable", "error", "slow", "garbage",
               "truncate", "short", "drop")
METRIC_ID_RE = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Text a hostile account could put into alarm names, reasons and cost keys:
# OSC 52 (clipboard write), clear screen, title set, C1 CSI, bidi override,
# carriage return / backspace overwrites, wide and combining characters.
HOSTILE = {
    "osc52": "\x1b]52;c;aGk=\x07",
    "clear": "\x1b[2J\x1b[H",
    "title": "\x1b]0;pwned\x07",
    "c1_csi": "\u009b31m",
    "rlo": "\u202e",
    "pdf": "\u202c",
    "cr": "\rALL OK ",
    "bs": "\x08\x08\x08",
    "bell": "\x07",
    "del": "\x7f",
    "wide": "\u5f93\u696d\u54e1\U0001F525",
    "combining": "e\u0301\u0301\u0301",
    "zero_width": "\u200b\u200d\ufeff",
}
HOSTILE_ALARM_NAMES = [
    "EmployeeDirectory\x1b]52;c;aGk=\x07Clipboard",
    "EmployeeDirectory\x1b[2J\x1b[HClearScreen",
    "EmployeeDirectory\u202esrorrEadbmaL",
    "EmployeeDirectory\u009b31mC1Red\x1b]0;pwned\x07",
]

SCENARIO_KEYS = {"region", "account_id", "function_name", "alarms", "hostile", "metrics",
                 "cost", "faults", "number_style", "auth", "history", "metric_page_size"}
HISTORY_TYPES = ("ConfigurationUpdate", "StateUpdate", "Action",
                 "AlarmContributorStateUpdate", "AlarmContributorAction")
# The Lambda metrics the fake serves, by scenario key.
LAMBDA_METRICS = {"Errors": "lambda_errors", "Invocations": "lambda_invocations",
                  "Throttles": "lambda_throttles", "Duration": "lambda_duration"}
METRIC_KEYS = tuple(LAMBDA_METRICS.values()) + ("billing_charges",)
ALARM_META_KEYS = {"Region", "present"}


class ApiError(Exception):
    """An error answer. code is the short code; json_type the JSON `__type`;
    query_code what awsQuery (and `x-amzn-query-error`) calls it."""

    def __init__(self, code, message, status=400, json_type=None, query_code=None,
                 fault="Sender"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.json_type = json_type or code
        self.query_code = query_code or code
        self.fault = fault


def cw_validation(msg):
    return ApiError("ValidationError", msg, 400,
                    "com.amazon.coral.validate#ValidationException", "ValidationError")


def cw_invalid_param(msg):
    return ApiError("InvalidParameterValue", msg, 400,
                    "com.amazonaws.cloudwatch#InvalidParameterValueException",
                    "InvalidParameterValue")


def cw_missing_param(msg):
    return ApiError("MissingParameter", msg, 400,
                    "com.amazonaws.cloudwatch#MissingRequiredParameterException",
                    "MissingParameter")


def cw_bad_token():
    return ApiError("InvalidNextToken", "The service returned an error: invalid NextToken.",
                    400, "com.amazonaws.cloudwatch#InvalidNextToken", "InvalidNextToken")


def ce_validation(msg):
    return ApiError("ValidationException", msg, 400,
                    "com.amazon.coral.validate#ValidationException")


def ce_bad_token():
    return ApiError("InvalidNextTokenException", "The pagination token is invalid.", 400,
                    "com.amazonaws.awsinsightsindexservice#InvalidNextTokenException")


# ---------------------------------------------------------------- scenario

def default_scenario():
    """The scenario when nothing is configured. Alarm timestamps left out here
    are computed from the clock at answer time."""
    return {
        "region": "eu-west-1",
        "account_id": "123456789012",
        "function_name": "empdir-api",
        "alarms": {
            LAMBDA_ALARM: {"StateValue": "OK"},
            BILLING_ALARM: {"StateValue": "OK"},
        },
        "hostile": False,
        "metrics": {
            "lambda_errors": {"datapoints": None, "values": None, "status_code": "Complete"},
            "lambda_invocations": {"datapoints": None, "values": None, "status_code": "Complete"},
            "lambda_throttles": {"datapoints": None, "values": None, "status_code": "Complete"},
            "lambda_duration": {"datapoints": None, "values": None, "status_code": "Complete"},
            "billing_charges": {"datapoints": None, "values": None, "status_code": "Complete"},
        },
        "cost": {
            "unit": "USD",
            "estimated": True,
            "page_size": 0,
            "services": {
                "AWS Lambda": "0.0001234",
                "Amazon API Gateway": "0.35",
                "Amazon DynamoDB": "1.2004",
                "AmazonCloudWatch": "0.3",
                "Tax": "0",
            },
        },
        "faults": [],
        "history": {},
        "number_style": "java",
        "auth": {"max_skew": 900, "require_signed_headers": ["host", "x-amz-date"]},
    }


def deep_merge(base, patch):
    """Merge patch into a copy of base: dicts recurse, None deletes, the rest replaces."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def validate_scenario(s):
    """Raise ValueError naming the first thing wrong, so typos do not pass silently."""
    unknown = set(s) - SCENARIO_KEYS
    if unknown:
        raise ValueError(f"unknown scenario keys: {sorted(unknown)}; known: {sorted(SCENARIO_KEYS)}")
    if not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", str(s.get("region", ""))):
        raise ValueError(f"region {s.get('region')!r} does not look like an AWS region")
    if not re.match(r"^\d{12}$", str(s.get("account_id", ""))):
        raise ValueError("account_id must be 12 digits")
    for name, over in (s.get("alarms") or {}).items():
        if not isinstance(over, dict):
            raise ValueError(f"alarms[{name!r}] must be an object")
        if "StateValue" in over and over["StateValue"] not in STATES:
            raise ValueError(f"alarms[{name!r}].StateValue must be one of {STATES}")
        for ts in ("StateUpdatedTimestamp", "StateTransitionedTimestamp",
                   "AlarmConfigurationUpdatedTimestamp"):
            if ts in over and not isinstance(over[ts], (int, float)):
                raise ValueError(f"alarms[{name!r}].{ts} must be epoch seconds (a number)")
    for key, m in (s.get("metrics") or {}).items():
        if key not in METRIC_KEYS:
            raise ValueError(f"metrics[{key!r}]: only {', '.join(METRIC_KEYS)} exist")
        for dp in (m.get("datapoints") or []):
            if not (isinstance(dp, list) and len(dp) == 2
                    and all(isinstance(x, (int, float)) for x in dp)):
                raise ValueError(f"metrics[{key!r}].datapoints entries must be [epoch, value]")
        if m.get("status_code", "Complete") not in ("Complete", "PartialData",
                                                     "InternalError", "Forbidden"):
            raise ValueError(f"metrics[{key!r}].status_code is not a StatusCode")
    for i, f in enumerate(s.get("faults") or []):
        if not isinstance(f, dict) or f.get("mode") not in FAULT_MODES:
            raise ValueError(f"faults[{i}].mode must be one of {FAULT_MODES}")
        if f["mode"] == "error" and not f.get("code"):
            raise ValueError(f"faults[{i}]: mode 'error' needs a 'code'")
    for name, items in (s.get("history") or {}).items():
        if not isinstance(items, list):
            raise ValueError(f"history[{name!r}] must be a list of history items")
        for item in items:
            if (not isinstance(item, dict) or isinstance(item.get("Timestamp"), bool)
                    or not isinstance(item.get("Timestamp"), (int, float))
                    or item.get("HistoryItemType") not in HISTORY_TYPES):
                raise ValueError(f"history[{name!r}] items need a numeric Timestamp and a "
                                 f"HistoryItemType in {HISTORY_TYPES}")
    if s.get("number_style", "java") not in ("java", "plain"):
        raise ValueError("number_style must be 'java' or 'plain'")
    cost = s.get("cost") or {}
    for name, amount in (cost.get("services") or {}).items():
        try:
            float(amount)
        except (TypeError, ValueError):
            raise ValueError(f"cost.services[{name!r}] is not a number")


# ---------------------------------------------------------------- helpers

class Ctx:
    """One request's view: scenario snapshot, signing region, clock."""

    def __init__(self, scenario, region, now):
        self.s = scenario
        self.region = region
        self.now = now


def _opaque_token(kind, offset, fingerprint):
    raw = json.dumps([kind, offset, fingerprint]).encode()
    return base64.b64encode(b"\x00fake" + raw).decode()


def _read_token(token, kind, fingerprint, bad):
    try:
        raw = base64.b64decode(token.encode(), validate=True)
        if not raw.startswith(b"\x00fake"):
            raise ValueError
        k, offset, fp = json.loads(raw[5:])
    except Exception:
        raise bad()
    if k != kind or fp != fingerprint or not isinstance(offset, int) or offset < 0:
        raise bad()
    return offset


def _fingerprint(params, drop):
    keep = {k: v for k, v in params.items() if k not in drop}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def _fmt_time(epoch):
    return datetime.datetime.utcfromtimestamp(epoch).strftime("%d/%m/%y %H:%M:%S")


def _want_str(p, key, maxlen=None, check=cw_validation):
    v = p.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or (maxlen and len(v) > maxlen) or v == "":
        raise check(f"1 validation error detected: Value at '{key}' failed to satisfy "
                    f"constraint: Member must be a string of length 1 to {maxlen or 'n'}")
    return v


def _want_int(p, key, lo, hi, default):
    v = p.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise cw_validation(
            f"1 validation error detected: Value '{v}' at '{key[0].lower() + key[1:]}' failed "
            f"to satisfy constraint: Member must have value between {lo} and {hi}")
    return v


# ---------------------------------------------------------------- alarms

def _reason(alarm, now):
    """A StateReason in CloudWatch's own words, consistent with the state."""
    state, threshold = alarm["StateValue"], alarm.get("Threshold")
    n, period = int(alarm.get("EvaluationPeriods") or 1), int(alarm.get("Period") or 300)
    if state == "INSUFFICIENT_DATA":
        return (f"Insufficient Data: {n} datapoint{'s were' if n > 1 else ' was'} unknown.")
    breach = state == "ALARM"
    if alarm.get("Namespace") == "AWS/Billing":
        values = [42.17 if breach else 12.34]
    else:
        values = [9.0, 7.0] if breach else [0.0, 1.0]
    values = values[:n]
    pts = ", ".join(f"{v} ({_fmt_time(now - (i + 1) * period)})" for i, v in enumerate(values))
    verb = "were greater" if breach else "were not greater"
    return (f"Threshold Crossed: {n} out of the last {n} datapoint{'s' if n > 1 else ''} "
            f"[{pts}] {verb} than the threshold ({threshold}) (minimum {n} datapoint"
            f"{'s' if n > 1 else ''} for {'OK -> ALARM' if breach else 'ALARM -> OK'} "
            f"transition).")


def _alarm_template(ctx, name):
    s = ctx.s
    minute = math.floor(ctx.now / 60) * 60
    topic = f"arn:aws:sns:{{region}}:{s['account_id']}:EmployeeDirectoryAlarms"
    common = {
        "AlarmName": name,
        "AlarmDescription": "",
        "AlarmConfigurationUpdatedTimestamp": minute - 30 * 86400 + 0.512,
        "ActionsEnabled": True,
        "OKActions": [topic], "AlarmActions": [topic], "InsufficientDataActions": [],
        "StateUpdatedTimestamp": minute - 1500 + 0.318,
        "StateTransitionedTimestamp": minute - 2 * 86400 + 0.871,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
    if name == BILLING_ALARM:
        common.update({
            "Region": BILLING_REGION,
            "AlarmDescription": "Estimated charges of the Employee Directory account above 30 USD",
            "MetricName": "EstimatedCharges", "Namespace": "AWS/Billing", "Statistic": "Maximum",
            "Dimensions": [{"Name": "Currency", "Value": "USD"}],
            "Period": 86400, "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
            "Threshold": 30.0, "TreatMissingData": "missing",
        })
    else:
        common.update({
            "Region": s["region"],
            "AlarmDescription": "Errors from the Employee Directory Lambda function",
            "MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "Sum",
            "Dimensions": [{"Name": "FunctionName", "Value": s["function_name"]}],
            "Period": 300, "EvaluationPeriods": 2, "DatapointsToAlarm": 2, "Threshold": 5.0,
        })
    return common


def _hostile_reason(long):
    h = HOSTILE
    text = (f"Threshold Crossed{h['clear']}: {h['osc52']}{h['title']}{h['c1_csi']}"
            f"{h['rlo']}gnihton ees{h['pdf']} {h['cr']}{h['bs']}{h['bell']}{h['del']} "
            f"{h['wide']} {h['combining']}{h['zero_width']}")
    if long:
        text += " " + h["wide"] * 400
        text = text[:1023]
    return text


def build_alarms(ctx):
    """All metric alarms visible in ctx.region, sorted by name as CloudWatch does."""
    s = ctx.s
    overrides = s.get("alarms") or {}
    names = list(dict.fromkeys([LAMBDA_ALARM, BILLING_ALARM] + list(overrides)))
    if s.get("hostile"):
        names += HOSTILE_ALARM_NAMES
    out = []
    for name in names:
        over = overrides.get(name, {})
        if over.get("present", True) is False:
            continue
        alarm = _alarm_template(ctx, name)
        alarm.update({k: copy.deepcopy(v) for k, v in over.items() if k != "present"})
        region = alarm.pop("Region")
        if region != ctx.region:
            continue
        alarm.setdefault("StateValue", "OK")
        if "StateReason" not in over:
            alarm["StateReason"] = _reason(alarm, ctx.now)
        if "StateReasonData" not in over:
            alarm["StateReasonData"] = json.dumps({
                "version": "1.0", "queryDate": "", "statistic": alarm.get("Statistic"),
                "period": alarm.get("Period"), "threshold": alarm.get("Threshold"),
                "recentDatapoints": [],
            })
        if s.get("hostile"):
            hostile_name = name in HOSTILE_ALARM_NAMES
            alarm["StateReason"] = _hostile_reason(long=(name == LAMBDA_ALARM))
            alarm["AlarmDescription"] = f"desc{HOSTILE['osc52']}{HOSTILE['clear']}{HOSTILE['rlo']}x"
            alarm["StateReasonData"] = json.dumps({"note": HOSTILE["osc52"] + HOSTILE["clear"]})
            if hostile_name:
                alarm["StateValue"] = "ALARM"
        alarm["AlarmArn"] = f"arn:aws:cloudwatch:{ctx.region}:{s['account_id']}:alarm:{name}"
        for key in ("OKActions", "AlarmActions", "InsufficientDataActions"):
            alarm[key] = [a.replace("{region}", ctx.region) for a in alarm.get(key, [])]
        for key in ("StateUpdatedTimestamp", "StateTransitionedTimestamp",
                    "AlarmConfigurationUpdatedTimestamp", "Threshold"):
            if isinstance(alarm.get(key), int):
                alarm[key] = float(alarm[key])
        out.append(_order_alarm(alarm))
    out.sort(key=lambda a: a["AlarmName"])
    return out


ALARM_FIELD_ORDER = [
    "AlarmName", "AlarmArn", "AlarmDescription", "AlarmConfigurationUpdatedTimestamp",
    "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions", "StateValue",
    "StateReason", "StateReasonData", "StateUpdatedTimestamp", "MetricName", "Namespace",
    "Statistic", "Dimensions", "Period", "EvaluationPeriods", "DatapointsToAlarm",
    "Threshold", "ComparisonOperator", "TreatMissingData", "StateTransitionedTimestamp",
]


def _order_alarm(alarm):
    ordered = {k: alarm[k] for k in ALARM_FIELD_ORDER if k in alarm}
    ordered.update({k: v for k, v in alarm.items() if k not in ordered})
    return ordered


def describe_alarms(ctx, p):
    names = p.get("AlarmNames")
    if names is not None:
        if (not isinstance(names, list) or len(names) > 100
                or not all(isinstance(n, str) and 0 < len(n) <= 255 for n in names)):
            raise cw_validation("1 validation error detected: Value at 'alarmNames' failed to "
                                "satisfy constraint: Member must have length less than or "
                                "equal to 100")
    prefix = _want_str(p, "AlarmNamePrefix", 255)
    action_prefix = _want_str(p, "ActionPrefix", 1024)
    if names and prefix:
        raise ApiError("InvalidParameterCombination",
                       "AlarmNames and AlarmNamePrefix cannot be specified together.", 400,
                       "com.amazonaws.cloudwatch#InvalidParameterCombinationException",
                       "InvalidParameterCombination")
    types = p.get("AlarmTypes") or ["MetricAlarm"]
    if not isinstance(types, list) or any(t not in ALARM_TYPES for t in types):
        raise cw_validation(f"1 validation error detected: Value '{types}' at 'alarmTypes' "
                            f"failed to satisfy constraint: Member must satisfy enum value "
                            f"set: {list(ALARM_TYPES)}")
    state = p.get("StateValue")
    if state is not None and state not in STATES:
        raise cw_validation(f"1 validation error detected: Value '{state}' at 'stateValue' "
                            f"failed to satisfy constraint: Member must satisfy enum value "
                            f"set: {list(STATES)}")
    max_records = _want_int(p, "MaxRecords", 1, 100, 50)

    alarms = build_alarms(ctx) if "MetricAlarm" in types else []
    if names:
        alarms = [a for a in alarms if a["AlarmName"] in names]
    if prefix:
        alarms = [a for a in alarms if a["AlarmName"].startswith(prefix)]
    if state:
        alarms = [a for a in alarms if a["StateValue"] == state]
    if action_prefix:
        alarms = [a for a in alarms if any(
            x.startswith(action_prefix)
            for x in a["OKActions"] + a["AlarmActions"] + a["InsufficientDataActions"])]

    fp = _fingerprint(p, {"NextToken", "MaxRecords"}) + ctx.region
    offset = 0
    if p.get("NextToken") is not None:
        offset = _read_token(str(p["NextToken"]), "alarms", fp, cw_bad_token)
    page = alarms[offset:offset + max_records]
    out = {}
    if "MetricAlarm" in types:
        out["MetricAlarms"] = page
    if "CompositeAlarm" in types:
        out["CompositeAlarms"] = []
    if "LogAlarm" in types:
        out["LogAlarms"] = []
    if offset + max_records < len(alarms):
        out["NextToken"] = _opaque_token("alarms", offset + max_records, fp)
    return out


# ---------------------------------------------------------------- alarm history

def _state_item(alarm, ts, old, new):
    name = alarm["AlarmName"]
    reason = (alarm["StateReason"] if new == alarm["StateValue"]
              else _reason(dict(alarm, StateValue=new), ts))
    data = {"version": "1.0",
            "oldState": {"stateValue": old, "stateReason": f"state {old}"},
            "newState": {"stateValue": new, "stateReason": reason}}
    return {"AlarmName": name, "AlarmType": "MetricAlarm", "Timestamp": float(ts),
            "HistoryItemType": "StateUpdate",
            "HistorySummary": f"Alarm updated from {old} to {new}",
            "HistoryData": json.dumps(data)}


def _generated_history(ctx, alarm):
    """A plausible, deterministic past that ends in the alarm's current state:
    created, then INSUFFICIENT_DATA -> OK, an OK -> ALARM -> OK episode with
    its SNS action, and the last transition at StateTransitionedTimestamp."""
    name, current = alarm["AlarmName"], alarm["StateValue"]
    created = float(alarm["AlarmConfigurationUpdatedTimestamp"])
    last = max(float(alarm["StateTransitionedTimestamp"]), created + 600)
    states = ["INSUFFICIENT_DATA", "OK", "ALARM", "OK"]
    states += ["ALARM", "OK"] if current == "OK" else [current]
    pairs = list(zip(states, states[1:]))
    items = [{"AlarmName": name, "AlarmType": "MetricAlarm", "Timestamp": created,
              "HistoryItemType": "ConfigurationUpdate",
              "HistorySummary": f'Alarm "{name}" created',
              "HistoryData": json.dumps({"version": "1.0", "type": "Create",
                                         "createdAlarm": {"alarmName": name}})}]
    for i, (old, new) in enumerate(pairs):
        if i == 0:
            ts = created + 60
        else:
            ts = max(last - (len(pairs) - 1 - i) * 7200.0, created + 60 + i)
        items.append(_state_item(alarm, ts, old, new))
        if new == "ALARM":
            topic = (alarm.get("AlarmActions") or ["arn:aws:sns:::none"])[0]
            items.append({"AlarmName": name, "AlarmType": "MetricAlarm", "Timestamp": ts + 0.5,
                          "HistoryItemType": "Action",
                          "HistorySummary": f"Successfully executed action {topic}",
                          "HistoryData": json.dumps({"actionState": "Succeeded",
                                                     "notificationResource": topic})})
    if ctx.s.get("hostile"):
        for item in items:
            item["HistorySummary"] += HOSTILE["clear"] + HOSTILE["osc52"] + HOSTILE["rlo"]
    return items


def build_history(ctx):
    """Every history item of the metric alarms visible in ctx.region."""
    configured = ctx.s.get("history") or {}
    out = []
    for alarm in build_alarms(ctx):
        name = alarm["AlarmName"]
        if name in configured:
            for item in configured[name]:
                full = {"AlarmName": name, "AlarmType": "MetricAlarm",
                        "HistorySummary": "", "HistoryData": "{}"}
                full.update(copy.deepcopy(item))
                full["Timestamp"] = float(full["Timestamp"])
                out.append(full)
        else:
            out += _generated_history(ctx, alarm)
    return out


def describe_alarm_history(ctx, p):
    name = _want_str(p, "AlarmName", 255)
    kind = p.get("HistoryItemType")
    if kind is not None and kind not in HISTORY_TYPES:
        raise cw_validation(f"1 validation error detected: Value '{kind}' at 'historyItemType' "
                            f"failed to satisfy constraint: Member must satisfy enum value "
                            f"set: {list(HISTORY_TYPES)}")
    types = p.get("AlarmTypes") or ["MetricAlarm", "CompositeAlarm"]
    if not isinstance(types, list) or any(t not in ALARM_TYPES for t in types):
        raise cw_validation(f"1 validation error detected: Value '{types}' at 'alarmTypes' "
                            f"failed to satisfy constraint: Member must satisfy enum value "
                            f"set: {list(ALARM_TYPES)}")
    dates = {}
    for key in ("StartDate", "EndDate"):
        v = p.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise cw_validation(f"1 validation error detected: Value at '{key[0].lower()}"
                                f"{key[1:]}' failed to satisfy constraint: Member must be a "
                                f"timestamp")
        dates[key] = v
    if (dates["StartDate"] is not None and dates["EndDate"] is not None
            and dates["StartDate"] > dates["EndDate"]):
        raise cw_invalid_param("The parameter StartDate must be before EndDate.")
    scan = p.get("ScanBy", "TimestampDescending")
    if scan not in ("TimestampDescending", "TimestampAscending"):
        raise cw_validation(f"1 validation error detected: Value '{scan}' at 'scanBy' failed "
                            f"to satisfy constraint: Member must satisfy enum value set: "
                            f"[TimestampDescending, TimestampAscending]")
    max_records = _want_int(p, "MaxRecords", 1, 100, 100)

    items = build_history(ctx) if "MetricAlarm" in types else []
    if name:
        items = [i for i in items if i["AlarmName"] == name]
    if kind:
        items = [i for i in items if i["HistoryItemType"] == kind]
    if dates["StartDate"] is not None:
        items = [i for i in items if i["Timestamp"] >= dates["StartDate"]]
    if dates["EndDate"] is not None:
        items = [i for i in items if i["Timestamp"] <= dates["EndDate"]]
    items.sort(key=lambda i: (i["Timestamp"], i["AlarmName"]),
               reverse=(scan == "TimestampDescending"))

    fp = _fingerprint(p, {"NextToken", "MaxRecords"}) + ctx.region
    offset = 0
    if p.get("NextToken") is not None:
        offset = _read_token(str(p["NextToken"]), "history", fp, cw_bad_token)
    out = {"AlarmHistoryItems": items[offset:offset + max_records]}
    if offset + max_records < len(items):
        out["NextToken"] = _opaque_token("history", offset + max_records, fp)
    return out


# ---------------------------------------------------------------- metric data

def _dims(metric):
    return sorted((d.get("Name"), d.get("Value")) for d in (metric.get("Dimensions") or []))


def _series_key(ctx, metric):
    ns, name = metric.get("Namespace"), metric.get("MetricName")
    if ns == "AWS/Lambda" and name in LAMBDA_METRICS and ctx.region == ctx.s["region"]:
        if _dims(metric) == [("FunctionName", ctx.s["function_name"])]:
            return LAMBDA_METRICS[name]
    if (ns, name) == ("AWS/Billing", "EstimatedCharges") and ctx.region == BILLING_REGION:
        if _dims(metric) == [("Currency", "USD")]:
            return "billing_charges"
    return None


def _generated(key, t, period):
    """Deterministic made-up data: a few Lambda errors per period; estimated
    charges that grow through the month and reset on the 1st."""
    n = int(t // period)
    if key == "lambda_errors":
        return float((n * 2654435761 >> 7) % 4)
    if key == "lambda_invocations":
        return float(40 + (n * 2246822519 >> 9) % 60)
    if key == "lambda_throttles":
        return float(1 if (n * 3266489917 >> 11) % 7 == 0 else 0)
    if key == "lambda_duration":
        return round(80.0 + (n * 668265263 >> 8) % 400 / 10.0, 2)
    day = datetime.datetime.utcfromtimestamp(t)
    month_start = calendar.timegm((day.year, day.month, 1, 0, 0, 0))
    return round(0.8 * (t - month_start) / 86400.0 + 0.05, 2)


def _series(ctx, key, start, end, period):
    conf = (ctx.s.get("metrics") or {}).get(key) or {}
    horizon = min(end, ctx.now)
    if conf.get("datapoints") is not None:
        pts = [(float(t), float(v)) for t, v in conf["datapoints"]]
    elif conf.get("values") is not None:
        last = math.floor(ctx.now / period) * period - period
        vals = conf["values"]
        pts = [(float(last - (len(vals) - 1 - i) * period), float(v)) for i, v in enumerate(vals)]
    else:
        first = math.ceil(start / period) * period
        count = max(0, min(100800, int(math.ceil((horizon - first) / period))))
        pts = [(float(first + i * period), _generated(key, first + i * period, period))
               for i in range(count)]
    return [(t, v) for t, v in pts if start <= t < end]


def _check_query(q, seen):
    if not isinstance(q, dict):
        raise cw_validation("MetricDataQueries members must be structures")
    qid = q.get("Id")
    if not isinstance(qid, str) or not METRIC_ID_RE.match(qid) or len(qid) > 255:
        raise cw_validation(f"The value {qid!r} for parameter MetricDataQueries.member.Id is "
                            f"invalid: it must start with a lowercase letter and contain only "
                            f"letters, digits and underscores.")
    if qid in seen:
        raise cw_invalid_param("The values for parameter id in MetricDataQueries are not unique.")
    seen.add(qid)
    has_stat, has_expr = "MetricStat" in q, "Expression" in q
    if has_stat == has_expr:
        raise cw_invalid_param(f"Exactly one element of the metrics list should specify "
                               f"either MetricStat or Expression (query {qid}).")
    if has_stat:
        ms = q["MetricStat"]
        if not isinstance(ms, dict) or not isinstance(ms.get("Metric"), dict):
            raise cw_missing_param(f"MetricStat of query {qid} needs Metric.")
        period = ms.get("Period")
        if (isinstance(period, bool) or not isinstance(period, int) or period <= 0
                or (period >= 60 and period % 60) or (period < 60 and period not in (1, 5, 10, 20, 30))):
            raise cw_invalid_param(f"The parameter MetricDataQueries.member.MetricStat.Period "
                                   f"must be a multiple of 60 (query {qid}).")
        if not ms.get("Stat"):
            raise cw_missing_param(f"MetricStat of query {qid} needs Stat.")


def get_metric_data(ctx, p):
    queries = p.get("MetricDataQueries")
    if not isinstance(queries, list) or not queries or len(queries) > 500:
        raise cw_missing_param("The parameter MetricDataQueries is required and must hold "
                               "1 to 500 queries.")
    for key in ("StartTime", "EndTime"):
        if isinstance(p.get(key), bool) or not isinstance(p.get(key), (int, float)):
            raise cw_missing_param(f"The parameter {key} is required (epoch seconds).")
    start, end = float(p["StartTime"]), float(p["EndTime"])
    if start >= end:
        raise cw_invalid_param("The parameter StartTime must be less than the parameter EndTime.")
    scan = p.get("ScanBy", "TimestampDescending")
    if scan not in ("TimestampDescending", "TimestampAscending"):
        raise cw_validation(f"1 validation error detected: Value '{scan}' at 'scanBy' failed "
                            f"to satisfy constraint: Member must satisfy enum value set: "
                            f"[TimestampDescending, TimestampAscending]")
    max_dp = _want_int(p, "MaxDatapoints", 1, 100800, 100800)
    # AWS also pages on its own when an answer gets large; the scenario can force it.
    if int(ctx.s.get("metric_page_size") or 0) > 0:
        max_dp = min(max_dp, int(ctx.s["metric_page_size"]))
    seen = set()
    for q in queries:
        _check_query(q, seen)

    hostile = ctx.s.get("hostile")
    results = []       # [result dict, points list]
    for q in queries:
        if q.get("ReturnData") is False:
            continue
        res = {"Id": q["Id"]}
        pts, status, messages = [], "Complete", []
        if "MetricStat" in q:
            ms = q["MetricStat"]
            res["Label"] = q.get("Label") or ms["Metric"].get("MetricName", "")
            key = _series_key(ctx, ms["Metric"])
            if key:
                pts = _series(ctx, key, start, end, ms["Period"])
                conf = (ctx.s.get("metrics") or {}).get(key) or {}
                status = conf.get("status_code", "Complete")
                messages = copy.deepcopy(conf.get("messages") or [])
        else:
            res["Label"] = q.get("Label") or q["Id"]
            messages = [{"Code": "Unsupported",
                         "Value": "fake_aws does not evaluate metric math expressions"}]
        if hostile:
            res["Label"] += HOSTILE["clear"] + HOSTILE["osc52"] + HOSTILE["rlo"]
            messages.append({"Code": "Hostile" + HOSTILE["c1_csi"],
                             "Value": HOSTILE["osc52"] + HOSTILE["title"]})
        pts.sort(reverse=(scan == "TimestampDescending"))
        results.append((res, pts, status, messages))

    fp = _fingerprint(p, {"NextToken", "MaxDatapoints"}) + ctx.region
    offset = 0
    if p.get("NextToken") is not None:
        offset = _read_token(str(p["NextToken"]), "metricdata", fp, cw_bad_token)
    total = sum(len(r[1]) for r in results)
    lo, hi = offset, offset + max_dp
    out_results, pos = [], 0
    for res, pts, status, messages in results:
        a, b = max(lo - pos, 0), max(min(hi - pos, len(pts)), 0)
        page = pts[a:b] if a < len(pts) else []
        pos += len(pts)
        more = (a + len(page)) < len(pts)
        res["Timestamps"] = [t for t, _ in page]
        res["Values"] = [v for _, v in page]
        res["StatusCode"] = "PartialData" if more else status
        if messages and offset == 0:
            res["Messages"] = messages
        out_results.append(res)
    out = {"MetricDataResults": out_results, "Messages": []}
    if hi < total:
        out["NextToken"] = _opaque_token("metricdata", hi, fp)
    return out


# ---------------------------------------------------------------- cost explorer

def _parse_date(s, what):
    if not isinstance(s, str) or not DATE_RE.match(s):
        raise ce_validation(f"{what} date is invalid: {s!r} (expected YYYY-MM-DD)")
    try:
        return datetime.date.fromisoformat(s)
    except ValueError:
        raise ce_validation(f"{what} date is invalid: {s!r}")


def _fmt_amount(x):
    text = f"{x:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _periods(start, end, granularity):
    out, cur = [], start
    while cur < end:
        if granularity == "DAILY":
            nxt = cur + datetime.timedelta(days=1)
        else:
            nxt = (cur.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
        out.append((cur, min(nxt, end)))
        cur = min(nxt, end)
    return out


def get_cost_and_usage(ctx, p):
    tp = p.get("TimePeriod")
    if not isinstance(tp, dict):
        raise ce_validation("TimePeriod is required.")
    start = _parse_date(tp.get("Start"), "Start")
    end = _parse_date(tp.get("End"), "End")
    if start >= end:
        raise ce_validation("Start date (and hour) should be before end date (and hour)")
    gran = p.get("Granularity")
    if gran not in ("DAILY", "MONTHLY", "HOURLY"):
        raise ce_validation("Granularity is required and must be DAILY, MONTHLY or HOURLY.")
    if gran == "HOURLY":
        raise ce_validation("fake_aws does not implement HOURLY granularity.")
    metrics = p.get("Metrics")
    if not isinstance(metrics, list) or not metrics or any(m not in CE_METRICS for m in metrics):
        raise ce_validation(f"Metrics is required; each must be one of {list(CE_METRICS)}.")
    group_by = p.get("GroupBy") or []
    if not isinstance(group_by, list) or len(group_by) > 2:
        raise ce_validation("GroupBy allows at most 2 entries.")
    for g in group_by:
        if not isinstance(g, dict) or g.get("Type") != "DIMENSION" or g.get("Key") != "SERVICE":
            raise ce_validation("fake_aws implements GroupBy DIMENSION/SERVICE only.")

    cost = ctx.s.get("cost") or {}
    unit = cost.get("unit", "USD")
    services = dict(cost.get("services") or {})
    if ctx.s.get("hostile"):
        services = {
            ("AWS Lambda" + HOSTILE["osc52"] if k == "AWS Lambda" else k): v
            for k, v in services.items()}
        services[HOSTILE["rlo"] + "Amazon Evil" + HOSTILE["clear"]] = "0.01"
    today = datetime.datetime.utcfromtimestamp(ctx.now).date()
    month_start = today.replace(day=1)
    elapsed = max((today - month_start).days, 1)

    def amount(raw, a, b):
        # The scenario's amounts are month to date; other spans use the same daily rate.
        if (a, b) == (month_start, today):
            return str(raw) if isinstance(raw, str) else _fmt_amount(float(raw))
        return _fmt_amount(float(raw) * (b - a).days / elapsed)

    entries = []
    for a, b in _periods(start, end, gran):
        groups = []
        if group_by:
            for name, raw in services.items():
                amt = amount(raw, a, b)
                groups.append({"Keys": [name] * len(group_by),
                               "Metrics": {m: {"Amount": amt, "Unit": unit if m != "UsageQuantity" else "N/A"}
                                           for m in metrics}})
        total = {}
        if not group_by:
            s = sum(float(amount(raw, a, b)) for raw in services.values())
            total = {m: {"Amount": _fmt_amount(s), "Unit": unit if m != "UsageQuantity" else "N/A"}
                     for m in metrics}
        entries.append({"TimePeriod": {"Start": a.isoformat(), "End": b.isoformat()},
                        "Total": total, "Groups": groups,
                        "Estimated": bool(cost.get("estimated", True)) and b > month_start})

    page_size = int(cost.get("page_size") or 0)
    fp = _fingerprint(p, {"NextPageToken"})
    offset = 0
    if p.get("NextPageToken") is not None:
        offset = _read_token(str(p["NextPageToken"]), "cost", fp, ce_bad_token)
    next_token = None
    if group_by and page_size > 0:
        flat = [(i, g) for i, e in enumerate(entries) for g in e["Groups"]]
        chosen = flat[offset:offset + page_size]
        if offset + page_size < len(flat):
            next_token = _opaque_token("cost", offset + page_size, fp)
        keep = {}
        for i, g in chosen:
            keep.setdefault(i, []).append(g)
        entries = [dict(entries[i], Groups=gs) for i, gs in sorted(keep.items())]
    out = {"GroupDefinitions": copy.deepcopy(group_by), "ResultsByTime": entries,
           "DimensionValueAttributes": []}
    if next_token:
        out["NextPageToken"] = next_token
    return out


OPERATIONS = {
    ("monitoring", "DescribeAlarms"): describe_alarms,
    ("monitoring", "GetMetricData"): get_metric_data,
    ("monitoring", "DescribeAlarmHistory"): describe_alarm_history,
    ("ce", "GetCostAndUsage"): get_cost_and_usage,
}
