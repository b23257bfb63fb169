# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake AWS endpoint, proved against a real SDK (Debian's botocore 1.29).

Run: /usr/bin/python3 -m pytest -q tests/aws
The server runs as a subprocess, exactly as the C client's tests will use it.
"""

import copy
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time

import botocore.loaders
import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sigv4_verify  # noqa: E402

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_AKID = "ASIAFAKESESSIONKEY01"
SESSION_SECRET = "sessionSecretEXAMPLEKEY/0123456789abcdef"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEFAKE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token=="
EXPIRED_AKID = "ASIAFAKEEXPIREDKEY01"
EXPIRED_TOKEN = "FwoGZXIvYXdzEFAKEexpiredtoken"
REGION = "eu-west-1"
CW = "GraniteServiceVersion20100801."
CE = "AWSInsightsIndexService."
LAMBDA = "EmployeeDirectoryLambdaErrors"
BILLING = "EmployeeDirectoryCostExceeded"
NO_RETRY = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=10)
SECRETS = [SECRET, SESSION_SECRET, SESSION_TOKEN, EXPIRED_TOKEN]


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("fake_aws")
    keys = {
        AKID: {"secret": SECRET},
        SESSION_AKID: {"secret": SESSION_SECRET, "session_token": SESSION_TOKEN},
        EXPIRED_AKID: {"secret": SESSION_SECRET, "session_token": EXPIRED_TOKEN, "expired": True},
    }
    (d / "keys.json").write_text(json.dumps(keys))
    (d / "scenario.json").write_text(json.dumps({"region": REGION}))
    log = open(d / "stderr.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "fake_aws.py"), "--port", "0",
         "--scenario", str(d / "scenario.json"), "--keys", str(d / "keys.json")],
        stdout=subprocess.PIPE, stderr=log, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    assert ready, "fake_aws did not start"
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on http://127.0.0.1:"), line
    port = int(line.rsplit(":", 1)[1])
    yield {"port": port, "url": f"http://127.0.0.1:{port}/", "log": d / "stderr.log"}
    proc.terminate()
    proc.wait(timeout=5)
    log.close()


@pytest.fixture(autouse=True)
def fresh(server):
    control(server, {"reset": True})


def raw(server, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server["port"], timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def control(server, cmd):
    status, _, body = raw(server, "POST", "/_control", json.dumps(cmd).encode(),
                          {"Content-Type": "application/json"})
    assert status == 200, body
    return json.loads(body)


def recorded(server):
    status, _, body = raw(server, "GET", "/_requests")
    assert status == 200
    return json.loads(body)["requests"]


def signed(server, target, payload, region=REGION, service="monitoring", akid=AKID,
           secret=SECRET, token=None, sign_token=True, tamper=None, extra=None,
           json_version=None):
    """Sign with botocore's own SigV4Auth over an AWSRequest, send with http.client."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    version = json_version or ("1.1" if target.startswith(CE) else "1.0")
    headers = {"Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": target}
    headers.update(extra or {})
    req = AWSRequest("POST", server["url"], data=body, headers=headers)
    creds = Credentials(akid, secret, token if sign_token else None)
    SigV4Auth(creds, service, region).add_auth(req)
    prepared = req.prepare()
    send_headers = dict(prepared.headers.items())
    if token and not sign_token:
        send_headers["X-Amz-Security-Token"] = token
    if tamper:
        body = tamper(body)
        send_headers["Content-Length"] = str(len(body))
    status, hdrs, data = raw(server, "POST", "/", body, send_headers)
    return status, hdrs, data


def sjson(result):
    status, hdrs, data = result
    return status, hdrs, json.loads(data)


def lambda_query(qid="errors", function="empdir-api"):
    return {"Id": qid, "ReturnData": True,
            "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors",
                                      "Dimensions": [{"Name": "FunctionName",
                                                      "Value": function}]},
                           "Period": 300, "Stat": "Sum"}}


@pytest.fixture(scope="module")
def query_cw(server):
    """Stock botocore 1.29: CloudWatch over awsQuery (form post, XML answers)."""
    return botocore.session.get_session().create_client(
        "cloudwatch", endpoint_url=server["url"], region_name=REGION,
        aws_access_key_id=AKID, aws_secret_access_key=SECRET, config=NO_RETRY)


@pytest.fixture(scope="module")
def json_session(tmp_path_factory):
    """A botocore session whose CloudWatch model is switched to AWS JSON 1.0, as
    botocore >= 1.42.7 ships it, so the SDK itself speaks what our client speaks."""
    root = tmp_path_factory.mktemp("models")
    model = botocore.loaders.create_loader().load_service_model("cloudwatch", "service-2")
    model = copy.deepcopy(model)
    model["metadata"].update(protocol="json", jsonVersion="1.0",
                             targetPrefix="GraniteServiceVersion20100801",
                             awsQueryCompatible={})
    path = root / "cloudwatch" / model["metadata"]["apiVersion"]
    path.mkdir(parents=True)
    (path / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(root))
    return session


def json_cw(server, json_session, region=REGION, secret=SECRET):
    return json_session.create_client(
        "cloudwatch", endpoint_url=server["url"], region_name=region,
        aws_access_key_id=AKID, aws_secret_access_key=secret, config=NO_RETRY)


def ce_client(server, region="us-east-1", secret=SECRET):
    return botocore.session.get_session().create_client(
        "ce", endpoint_url=server["url"], region_name=region,
        aws_access_key_id=AKID, aws_secret_access_key=secret, config=NO_RETRY)


# ---------------------------------------------------------------- signatures

def test_valid_json_signatures_are_accepted(server):
    status, hdrs, body = sjson(signed(server, CW + "DescribeAlarms", {}))
    assert status == 200, body
    assert hdrs["content-type"] == "application/x-amz-json-1.0"
    assert [a["AlarmName"] for a in body["MetricAlarms"]] == [LAMBDA]
    status, hdrs, body = sjson(signed(server, CE + "GetCostAndUsage", {
        "TimePeriod": {"Start": "2026-08-01", "End": "2026-08-22"}, "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"]}, region="us-east-1", service="ce"))
    assert status == 200, body
    assert hdrs["content-type"] == "application/x-amz-json-1.1"
    auth = recorded(server)[-1]["auth"]
    assert auth["ok"] and auth["service"] == "ce" and auth["region"] == "us-east-1"


def assert_auth_error(result, status, json_code, query_code, text, cloudwatch=True):
    got_status, hdrs, body = sjson(result)
    assert got_status == status, body
    assert body["__type"] == f"com.amazon.coral.service#{json_code}"
    assert text in body["message"]
    if cloudwatch:
        assert hdrs["x-amzn-query-error"] == f"{query_code};Sender"
    else:
        assert "x-amzn-query-error" not in hdrs


def test_tampered_body_is_rejected(server):
    res = signed(server, CW + "DescribeAlarms", {"MaxRecords": 10},
                 tamper=lambda b: b.replace(b"10", b"99"))
    assert_auth_error(res, 403, "InvalidSignatureException", "SignatureDoesNotMatch",
                      "The request signature we calculated does not match")
    # The message carries the canonical request the server computed, as AWS does.
    assert '"MaxRecords": 99' not in sjson(res)[2]["message"]  # body is hashed, not shown
    assert hashlib.sha256(b'{"MaxRecords": 99}').hexdigest() in sjson(res)[2]["message"]


def test_tampered_signed_header_is_rejected(server):
    req_target = CW + "DescribeAlarms"
    body = b"{}"
    req = AWSRequest("POST", server["url"], data=body,
                     headers={"Content-Type": "application/x-amz-json-1.0",
                              "X-Amz-Target": req_target})
    SigV4Auth(Credentials(AKID, SECRET), "monitoring", REGION).add_auth(req)
    headers = dict(req.prepare().headers.items())
    headers["X-Amz-Target"] = CW + "GetMetricData"
    status, _, data = raw(server, "POST", "/", body, headers)
    assert status == 403 and b"InvalidSignatureException" in data


def test_wrong_secret_is_rejected(server, query_cw, json_session):
    res = signed(server, CW + "DescribeAlarms", {}, secret=SECRET[:-1] + "X")
    assert_auth_error(res, 403, "InvalidSignatureException", "SignatureDoesNotMatch",
                      "Check your AWS Secret Access Key")
    with pytest.raises(ClientError) as e:
        json_cw(server, json_session, secret="not-the-secret").describe_alarms()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    bad_query = botocore.session.get_session().create_client(
        "cloudwatch", endpoint_url=server["url"], region_name=REGION,
        aws_access_key_id=AKID, aws_secret_access_key="nope", config=NO_RETRY)
    with pytest.raises(ClientError) as e:
        bad_query.describe_alarms()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as e:
        ce_client(server, secret="nope").get_cost_and_usage(
            TimePeriod={"Start": "2026-08-01", "End": "2026-08-02"},
            Granularity="DAILY", Metrics=["UnblendedCost"])
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_wrong_region_is_rejected(server):
    res = signed(server, CW + "DescribeAlarms", {}, region="ap-south-1")
    assert_auth_error(res, 403, "InvalidSignatureException", "SignatureDoesNotMatch",
                      "Credential should be scoped to a valid region, not 'ap-south-1'")
    # Cost Explorer lives only in us-east-1, whatever the deployment region.
    res = signed(server, CE + "GetCostAndUsage", {}, region=REGION, service="ce")
    assert_auth_error(res, 403, "InvalidSignatureException", None,
                      f"not '{REGION}'", cloudwatch=False)
    with pytest.raises(ClientError) as e:
        ce_client(server, region=REGION).get_cost_and_usage(
            TimePeriod={"Start": "2026-08-01", "End": "2026-08-02"},
            Granularity="DAILY", Metrics=["UnblendedCost"])
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_wrong_service_is_rejected(server):
    res = signed(server, CW + "DescribeAlarms", {}, service="cloudwatch")
    assert_auth_error(res, 403, "InvalidSignatureException", "SignatureDoesNotMatch",
                      "Credential should be scoped to correct service: 'monitoring'")
    res = signed(server, CE + "GetCostAndUsage", {}, region="us-east-1", service="monitoring")
    assert_auth_error(res, 403, "InvalidSignatureException", None,
                      "correct service: 'ce'", cloudwatch=False)


def test_stale_and_future_dates_are_rejected(server):
    now = time.time()
    control(server, {"now": now + 3600})       # the request is an hour old for the server
    res = signed(server, CW + "DescribeAlarms", {})
    assert_auth_error(res, 403, "InvalidSignatureException", "SignatureDoesNotMatch",
                      "Signature expired:")
    control(server, {"now": now - 3600})
    res = signed(server, CW + "DescribeAlarms", {})
    assert_auth_error(res, 403, "InvalidSignatureException", "SignatureDoesNotMatch",
                      "Signature not yet current:")
    control(server, {"now": now + 14 * 60})    # inside the 15 minute window
    assert signed(server, CW + "DescribeAlarms", {})[0] == 200


def test_scope_date_must_match_x_amz_date(server):
    req = AWSRequest("POST", server["url"], data=b"{}",
                     headers={"Content-Type": "application/x-amz-json-1.0",
                              "X-Amz-Target": CW + "DescribeAlarms"})
    SigV4Auth(Credentials(AKID, SECRET), "monitoring", REGION).add_auth(req)
    headers = dict(req.prepare().headers.items())
    day = headers["X-Amz-Date"][:8]
    headers["Authorization"] = headers["Authorization"].replace(f"/{day}/", "/20200101/")
    status, hdrs, data = raw(server, "POST", "/", b"{}", headers)
    assert status == 403
    assert "Date in Credential scope does not match" in json.loads(data)["message"]


def test_session_token_rules(server):
    # right token, signed: accepted
    ok = signed(server, CW + "DescribeAlarms", {}, akid=SESSION_AKID, secret=SESSION_SECRET,
                token=SESSION_TOKEN)
    assert ok[0] == 200
    rec = recorded(server)[-1]
    assert rec["auth"]["token_signed"] and rec["headers"]["x-amz-security-token"] == "<redacted>"
    # right token added after signing (unsigned): AWS accepts that too
    assert signed(server, CW + "DescribeAlarms", {}, akid=SESSION_AKID, secret=SESSION_SECRET,
                  token=SESSION_TOKEN, sign_token=False)[0] == 200
    # missing token for a session key
    res = signed(server, CW + "DescribeAlarms", {}, akid=SESSION_AKID, secret=SESSION_SECRET)
    assert_auth_error(res, 403, "UnrecognizedClientException", "InvalidClientTokenId",
                      "The security token included in the request is invalid")
    # wrong token
    res = signed(server, CW + "DescribeAlarms", {}, akid=SESSION_AKID, secret=SESSION_SECRET,
                 token="bogus")
    assert_auth_error(res, 403, "UnrecognizedClientException", "InvalidClientTokenId",
                      "is invalid")
    # expired token
    res = signed(server, CE + "GetCostAndUsage", {}, akid=EXPIRED_AKID, secret=SESSION_SECRET,
                 token=EXPIRED_TOKEN, region="us-east-1", service="ce")
    assert_auth_error(res, 403, "ExpiredTokenException", None,
                      "The security token included in the request is expired",
                      cloudwatch=False)


def test_unknown_key_missing_and_incomplete_authorization(server):
    res = signed(server, CW + "DescribeAlarms", {}, akid="AKIDUNKNOWN0000000000")
    assert_auth_error(res, 403, "UnrecognizedClientException", "InvalidClientTokenId",
                      "security token included in the request is invalid")
    status, hdrs, data = raw(server, "POST", "/", b"{}", {
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": CW + "DescribeAlarms"})
    assert status == 403
    assert json.loads(data)["__type"].endswith("#MissingAuthenticationTokenException")
    assert hdrs["x-amzn-query-error"] == "MissingAuthenticationToken;Sender"
    # No SignedHeaders component
    req = AWSRequest("POST", server["url"], data=b"{}",
                     headers={"Content-Type": "application/x-amz-json-1.0",
                              "X-Amz-Target": CW + "DescribeAlarms"})
    SigV4Auth(Credentials(AKID, SECRET), "monitoring", REGION).add_auth(req)
    headers = dict(req.prepare().headers.items())
    auth = headers["Authorization"]
    broken = ", ".join(p for p in auth.split(", ") if not p.startswith("SignedHeaders"))
    status, hdrs, data = raw(server, "POST", "/", b"{}", dict(headers, Authorization=broken))
    body = json.loads(data)
    assert status == 400 and body["__type"].endswith("#IncompleteSignatureException")
    assert "requires 'SignedHeaders' parameter" in body["message"]
    assert hdrs["x-amzn-query-error"] == "IncompleteSignature;Sender"
    assert "Signature=<redacted>" in body["message"]
    # host must be among the signed headers
    no_host = re.sub(r"SignedHeaders=[^,]*", "SignedHeaders=x-amz-date;x-amz-target", auth)
    status, _, data = raw(server, "POST", "/", b"{}", dict(headers, Authorization=no_host))
    assert status == 400
    assert "'Host' or ':authority' must be a 'SignedHeader'" in json.loads(data)["message"]


# ---------------------------------------------------------------- shapes

def test_alarm_states_and_documented_shapes(server, json_session):
    control(server, {"merge": {"alarms": {LAMBDA: {
        "StateValue": "ALARM", "StateReason": "Threshold Crossed: 2 datapoints > 5",
        "StateUpdatedTimestamp": 1735689600.25, "StateTransitionedTimestamp": 1735689000}}}})
    status, _, data = signed(server, CW + "DescribeAlarms", {"AlarmNames": [LAMBDA, BILLING]})
    assert status == 200
    # AWS JSON numbers: epoch seconds as doubles in Java's notation
    assert b'"StateUpdatedTimestamp":1.73568960025E9' in data
    assert b'"Threshold":5.0' in data
    alarm = json.loads(data)["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"] == "Threshold Crossed: 2 datapoints > 5"
    assert alarm["StateUpdatedTimestamp"] == 1735689600.25
    assert alarm["StateTransitionedTimestamp"] == 1735689000
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{LAMBDA}"
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == \
        ("AWS/Lambda", "Errors", "Sum")
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["Threshold"]) == (300, 2, 5.0)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert json.loads(alarm["StateReasonData"])["statistic"] == "Sum"
    # The billing alarm lives only in us-east-1
    status, _, body = sjson(signed(server, CW + "DescribeAlarms", {}, region="us-east-1"))
    billing = body["MetricAlarms"][0]
    assert [a["AlarmName"] for a in body["MetricAlarms"]] == [BILLING]
    assert (billing["Namespace"], billing["MetricName"], billing["Statistic"],
            billing["Period"], billing["Threshold"]) == \
        ("AWS/Billing", "EstimatedCharges", "Maximum", 86400, 30.0)
    assert billing["Dimensions"] == [{"Name": "Currency", "Value": "USD"}]
    # StateValue filter and INSUFFICIENT_DATA, through the SDK speaking JSON 1.0
    control(server, {"merge": {"alarms": {BILLING: {"StateValue": "INSUFFICIENT_DATA"}}}})
    sdk = json_cw(server, json_session, region="us-east-1")
    got = sdk.describe_alarms(StateValue="INSUFFICIENT_DATA")["MetricAlarms"]
    assert [a["AlarmName"] for a in got] == [BILLING]
    assert got[0]["StateReason"].startswith("Insufficient Data")
    assert sdk.describe_alarms(StateValue="ALARM")["MetricAlarms"] == []
    last = recorded(server)[-1]
    assert last["protocol"] == "json-1.0" and last["input"] == {"StateValue": "ALARM"}
    assert last["headers"]["x-amz-target"] == CW + "DescribeAlarms"


def test_stock_botocore_query_protocol(server, query_cw):
    control(server, {"merge": {"alarms": {LAMBDA: {"StateValue": "ALARM"}}}})
    alarms = query_cw.describe_alarms(AlarmNames=[LAMBDA])["MetricAlarms"]
    assert alarms[0]["StateValue"] == "ALARM" and alarms[0]["Threshold"] == 5.0
    now = int(time.time()) // 300 * 300
    res = query_cw.get_metric_data(MetricDataQueries=[lambda_query()],
                                   StartTime=now - 3600, EndTime=now,
                                   ScanBy="TimestampAscending")["MetricDataResults"][0]
    assert res["StatusCode"] == "Complete" and len(res["Timestamps"]) == 12
    assert res["Timestamps"] == sorted(res["Timestamps"])
    rec = recorded(server)[-1]
    assert rec["protocol"] == "query" and rec["operation"] == "GetMetricData"
    assert rec["input"]["MetricDataQueries"][0]["MetricStat"]["Period"] == 300


def test_get_metric_data_shapes_and_paging(server, json_session):
    now = int(time.time()) // 300 * 300
    values = [0, 1, 0, 2, 7, 9, 3, 0, 0, 1, 6, 8]
    control(server, {"merge": {"metrics": {"lambda_errors": {"values": values}}}})
    req = {"MetricDataQueries": [lambda_query()], "StartTime": now - 7200,
           "EndTime": now + 300, "ScanBy": "TimestampAscending", "MaxDatapoints": 5}
    pages, token = [], None
    while True:
        body = dict(req, NextToken=token) if token else req
        status, _, page = sjson(signed(server, CW + "GetMetricData", body))
        assert status == 200, page
        pages.append(page)
        token = page.get("NextToken")
        if not token:
            break
    assert len(pages) == 3
    assert [p["MetricDataResults"][0]["StatusCode"] for p in pages] == \
        ["PartialData", "PartialData", "Complete"]
    stamps = sum((p["MetricDataResults"][0]["Timestamps"] for p in pages), [])
    vals = sum((p["MetricDataResults"][0]["Values"] for p in pages), [])
    assert vals == [float(v) for v in values]
    assert stamps == sorted(stamps) and all(b - a == 300 for a, b in zip(stamps, stamps[1:]))
    assert pages[0]["MetricDataResults"][0]["Label"] == "Errors"
    # The SDK's own paginator over JSON 1.0 sees the same data, newest first by default.
    sdk = json_cw(server, json_session)
    results = []
    for page in sdk.get_paginator("get_metric_data").paginate(
            MetricDataQueries=[lambda_query()], StartTime=now - 7200, EndTime=now + 300,
            PaginationConfig={"PageSize": 4}):
        results += page["MetricDataResults"][0]["Values"]
    assert results == [float(v) for v in reversed(values)]
    # The server pages on its own too (metric_page_size), whatever MaxDatapoints says
    control(server, {"merge": {"metric_page_size": 7}})
    big = dict(req)
    del big["MaxDatapoints"]
    status, _, first = sjson(signed(server, CW + "GetMetricData", big))
    assert len(first["MetricDataResults"][0]["Values"]) == 7 and first.get("NextToken")
    control(server, {"merge": {"metric_page_size": None}})
    # Other dimensions are other metrics: empty, Complete
    status, _, body = sjson(signed(server, CW + "GetMetricData", dict(
        req, MetricDataQueries=[lambda_query(function="someone-else")])))
    assert body["MetricDataResults"][0] == {"Id": "errors", "Label": "Errors",
                                            "Timestamps": [], "Values": [],
                                            "StatusCode": "Complete"}
    # A forged token is refused like AWS refuses it
    status, hdrs, body = sjson(signed(server, CW + "GetMetricData", dict(req, NextToken="xyz")))
    assert status == 400 and hdrs["x-amzn-query-error"] == "InvalidNextToken;Sender"
    # Bad query Id
    bad = lambda_query(qid="Errors")
    status, _, body = sjson(signed(server, CW + "GetMetricData",
                                   dict(req, MetricDataQueries=[bad])))
    assert status == 400 and "lowercase" in body["message"]


def test_billing_metric_only_in_us_east_1(server):
    now = int(time.time()) // 86400 * 86400
    control(server, {"now": now + 43200, "merge": {"auth": {"max_skew": 10 ** 6}}})
    q = {"Id": "charges", "MetricStat": {"Metric": {
        "Namespace": "AWS/Billing", "MetricName": "EstimatedCharges",
        "Dimensions": [{"Name": "Currency", "Value": "USD"}]}, "Period": 86400, "Stat": "Maximum"}}
    req = {"MetricDataQueries": [q], "StartTime": now - 5 * 86400, "EndTime": now + 1}
    _, _, east = sjson(signed(server, CW + "GetMetricData", req, region="us-east-1"))
    _, _, home = sjson(signed(server, CW + "GetMetricData", req))
    # one Maximum per day, today's included, newest first; charges grow through the month
    east_values = east["MetricDataResults"][0]["Values"]
    assert len(east_values) == 6 and east["MetricDataResults"][0]["StatusCode"] == "Complete"
    assert home["MetricDataResults"][0]["Values"] == []


def test_describe_alarms_paging(server, query_cw, json_session):
    control(server, {"merge": {"alarms": {
        "EmployeeDirectoryApiLatency": {"StateValue": "OK"},
        "EmployeeDirectoryDbConnections": {"StateValue": "ALARM"}}}})
    names, token, pages = [], None, 0
    while True:
        body = {"MaxRecords": 1, "AlarmNamePrefix": "EmployeeDirectory"}
        if token:
            body["NextToken"] = token
        status, _, page = sjson(signed(server, CW + "DescribeAlarms", body))
        assert status == 200 and len(page["MetricAlarms"]) == 1
        names.append(page["MetricAlarms"][0]["AlarmName"])
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert names == sorted(["EmployeeDirectoryApiLatency", "EmployeeDirectoryDbConnections",
                            LAMBDA])
    # Both SDK protocols page the same way
    for client in (query_cw, json_cw(server, json_session)):
        got = [a["AlarmName"]
               for p in client.get_paginator("describe_alarms").paginate(
                   PaginationConfig={"PageSize": 2})
               for a in p["MetricAlarms"]]
        assert got == names
    status, _, body = sjson(signed(server, CW + "DescribeAlarms", {"MaxRecords": 0}))
    assert status == 400 and body["__type"].endswith("#ValidationException")


def test_describe_alarm_history(server, query_cw, json_session):
    control(server, {"merge": {"alarms": {LAMBDA: {"StateValue": "ALARM"}}}})
    status, _, body = sjson(signed(server, CW + "DescribeAlarmHistory",
                                   {"AlarmName": LAMBDA}))
    assert status == 200, body
    items = body["AlarmHistoryItems"]
    assert items and all(i["AlarmName"] == LAMBDA for i in items)
    stamps = [i["Timestamp"] for i in items]
    assert stamps == sorted(stamps, reverse=True)          # newest first by default
    kinds = {i["HistoryItemType"] for i in items}
    assert kinds == {"ConfigurationUpdate", "StateUpdate", "Action"}
    newest = next(i for i in items if i["HistoryItemType"] == "StateUpdate")
    assert newest["HistorySummary"].endswith("to ALARM")
    data = json.loads(newest["HistoryData"])
    assert data["newState"]["stateValue"] == "ALARM"
    # the last transition is the alarm's StateTransitionedTimestamp
    _, _, alarms = sjson(signed(server, CW + "DescribeAlarms", {"AlarmNames": [LAMBDA]}))
    assert newest["Timestamp"] == alarms["MetricAlarms"][0]["StateTransitionedTimestamp"]
    # filters: type, dates, order; paging with MaxRecords
    req = {"AlarmName": LAMBDA, "HistoryItemType": "StateUpdate",
           "ScanBy": "TimestampAscending", "MaxRecords": 2}
    got, token, pages = [], None, 0
    while True:
        status, _, page = sjson(signed(server, CW + "DescribeAlarmHistory",
                                       dict(req, NextToken=token) if token else req))
        assert status == 200, page
        got += page["AlarmHistoryItems"]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 2 and len(got) == 4
    assert [json.loads(i["HistoryData"])["newState"]["stateValue"] for i in got] == \
        ["OK", "ALARM", "OK", "ALARM"]
    assert [i["Timestamp"] for i in got] == sorted(i["Timestamp"] for i in got)
    assert all(i["HistoryItemType"] == "StateUpdate" for i in got)
    cut = got[2]["Timestamp"]
    _, _, late = sjson(signed(server, CW + "DescribeAlarmHistory",
                              {"AlarmName": LAMBDA, "HistoryItemType": "StateUpdate",
                               "StartDate": cut}))
    assert sorted(i["Timestamp"] for i in late["AlarmHistoryItems"]) == \
        [i["Timestamp"] for i in got[2:]]
    # the billing alarm's history lives in us-east-1 only
    _, _, home = sjson(signed(server, CW + "DescribeAlarmHistory", {"AlarmName": BILLING}))
    assert home["AlarmHistoryItems"] == []
    _, _, east = sjson(signed(server, CW + "DescribeAlarmHistory", {"AlarmName": BILLING},
                              region="us-east-1"))
    assert east["AlarmHistoryItems"] and all(i["AlarmName"] == BILLING
                                             for i in east["AlarmHistoryItems"])
    # a forged token and a bad type are refused as AWS refuses them
    status, hdrs, _ = sjson(signed(server, CW + "DescribeAlarmHistory", dict(req, NextToken="x")))
    assert status == 400 and hdrs["x-amzn-query-error"] == "InvalidNextToken;Sender"
    status, _, body = sjson(signed(server, CW + "DescribeAlarmHistory",
                                   {"HistoryItemType": "Nope"}))
    assert status == 400 and body["__type"].endswith("#ValidationException")
    # both SDK protocols read it
    for client in (query_cw, json_cw(server, json_session)):
        out = client.describe_alarm_history(AlarmName=LAMBDA, HistoryItemType="StateUpdate")
        assert [round(i["Timestamp"].timestamp(), 3) for i in out["AlarmHistoryItems"]] == \
            [round(i["Timestamp"], 3) for i in reversed(got)]
    assert recorded(server)[-2]["protocol"] == "query"
    assert recorded(server)[-2]["input"]["AlarmName"] == LAMBDA


def test_alarm_history_from_the_scenario_and_hostile(server):
    control(server, {"merge": {"history": {LAMBDA: [
        {"Timestamp": 1735689600, "HistoryItemType": "StateUpdate",
         "HistorySummary": "Alarm updated from OK to ALARM"}]}}})
    _, _, body = sjson(signed(server, CW + "DescribeAlarmHistory", {"AlarmName": LAMBDA}))
    assert body["AlarmHistoryItems"] == [{
        "AlarmName": LAMBDA, "AlarmType": "MetricAlarm", "HistorySummary":
        "Alarm updated from OK to ALARM", "HistoryData": "{}", "Timestamp": 1735689600.0,
        "HistoryItemType": "StateUpdate"}]
    status, _, body = raw(server, "POST", "/_control", json.dumps(
        {"merge": {"history": {LAMBDA: [{"Timestamp": "yesterday"}]}}}).encode())
    assert status == 400 and b"history" in body
    control(server, {"reset": True, "merge": {"hostile": True}})
    _, _, data = signed(server, CW + "DescribeAlarmHistory", {"AlarmName": LAMBDA})
    assert b"\\u001b]52;c;aGk=\\u0007" in data


def test_all_four_lambda_metrics(server):
    now = int(time.time()) // 300 * 300
    queries = [dict(lambda_query(qid=name.lower()), MetricStat=dict(
        lambda_query()["MetricStat"], Metric=dict(lambda_query()["MetricStat"]["Metric"],
                                                  MetricName=name),
        Stat="Average" if name == "Duration" else "Sum"))
        for name in ("Errors", "Invocations", "Throttles", "Duration")]
    req = {"MetricDataQueries": queries, "StartTime": now - 3600, "EndTime": now}
    _, _, body = sjson(signed(server, CW + "GetMetricData", req))
    results = {r["Id"]: r for r in body["MetricDataResults"]}
    assert set(results) == {"errors", "invocations", "throttles", "duration"}
    assert all(len(r["Values"]) == 12 and r["StatusCode"] == "Complete"
               for r in results.values())
    assert all(v >= 40 for v in results["invocations"]["Values"])
    assert all(80 <= v < 120 for v in results["duration"]["Values"])
    control(server, {"merge": {"metrics": {"lambda_duration": {"values": [250.5]}}}})
    _, _, body = sjson(signed(server, CW + "GetMetricData", req))
    results = {r["Id"]: r for r in body["MetricDataResults"]}
    assert results["duration"]["Values"] == [250.5]
    # the Lambda function lives in the deployment region only
    _, _, east = sjson(signed(server, CW + "GetMetricData", req, region="us-east-1"))
    assert all(r["Values"] == [] for r in east["MetricDataResults"])


def test_cost_explorer_month_to_date(server):
    control(server, {"now": 1787400000,  # 2026-08-22T12:00:00Z
                     "merge": {"cost": {"services": {"AWS Lambda": "0.0001234",
                                                     "Amazon DynamoDB": 1.5}}}})
    # the fixed clock must sign with the same time, so use a fresh real-time window
    control(server, {"merge": {"auth": {"max_skew": 10 ** 9}}})
    ce = ce_client(server)
    out = ce.get_cost_and_usage(
        TimePeriod={"Start": "2026-08-01", "End": "2026-08-22"}, Granularity="MONTHLY",
        Metrics=["UnblendedCost"], GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}])
    period = out["ResultsByTime"][0]
    assert period["TimePeriod"] == {"Start": "2026-08-01", "End": "2026-08-22"}
    assert period["Estimated"] is True and period["Total"] == {}
    groups = {g["Keys"][0]: g["Metrics"]["UnblendedCost"] for g in period["Groups"]}
    assert groups["AWS Lambda"] == {"Amount": "0.0001234", "Unit": "USD"}
    assert groups["Amazon DynamoDB"] == {"Amount": "1.5", "Unit": "USD"}
    total = ce.get_cost_and_usage(
        TimePeriod={"Start": "2026-08-01", "End": "2026-08-22"}, Granularity="MONTHLY",
        Metrics=["UnblendedCost"])["ResultsByTime"][0]["Total"]["UnblendedCost"]
    assert float(total["Amount"]) == pytest.approx(
        sum(float(x) for x in ["0.0001234", "1.5", "0.35", "0.3", "0"]))
    # Start == End (the 1st of the month) is refused
    with pytest.raises(ClientError) as e:
        ce.get_cost_and_usage(TimePeriod={"Start": "2026-08-01", "End": "2026-08-01"},
                              Granularity="MONTHLY", Metrics=["UnblendedCost"])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    # Paging on NextPageToken
    control(server, {"merge": {"cost": {"page_size": 2}}})
    seen, token = [], None
    while True:
        kw = dict(TimePeriod={"Start": "2026-08-01", "End": "2026-08-22"},
                  Granularity="MONTHLY", Metrics=["UnblendedCost"],
                  GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}])
        if token:
            kw["NextPageToken"] = token
        page = ce.get_cost_and_usage(**kw)
        seen += [g["Keys"][0] for r in page["ResultsByTime"] for g in r["Groups"]]
        token = page.get("NextPageToken")
        if not token:
            break
    assert sorted(seen) == sorted(groups)


# ---------------------------------------------------------------- modes

def test_throttle_internal_and_counted_faults(server, json_session):
    control(server, {"merge": {"faults": [{"mode": "throttle", "count": 2,
                                           "targets": ["DescribeAlarms"]}]}})
    for _ in range(2):
        status, hdrs, body = sjson(signed(server, CW + "DescribeAlarms", {}))
        assert status == 400
        assert body["__type"] == "com.amazon.coral.availability#ThrottlingException"
        assert hdrs["x-amzn-query-error"] == "Throttling;Sender"
    assert signed(server, CW + "DescribeAlarms", {})[0] == 200
    assert "retry-after" not in hdrs
    control(server, {"merge": {"faults": [{"mode": "throttle", "count": 1, "retry_after": 2,
                                           "targets": ["monitoring"]},
                                          {"mode": "unavailable", "count": 1, "targets": ["ce"],
                                           "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT"}]}})
    status, hdrs, _ = signed(server, CW + "DescribeAlarms", {})
    assert status == 400 and hdrs["retry-after"] == "2"
    status, hdrs, _ = signed(server, CE + "GetCostAndUsage", {}, region="us-east-1", service="ce")
    assert status == 503 and hdrs["retry-after"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    control(server, {"merge": {"faults": [{"mode": "throttle", "status": 429}]}})
    with pytest.raises(ClientError) as e:
        json_cw(server, json_session).describe_alarms()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert e.value.response["Error"]["Code"] == "Throttling"
    control(server, {"merge": {"faults": [{"mode": "internal"}]}})
    status, hdrs, body = sjson(signed(server, CW + "DescribeAlarms", {}))
    assert status == 500 and hdrs["x-amzn-query-error"] == "InternalServiceError;Receiver"
    status, hdrs, body = sjson(signed(server, CE + "GetCostAndUsage", {}, region="us-east-1",
                                      service="ce"))
    assert status == 500 and "x-amzn-query-error" not in hdrs
    # Faults never hide a bad signature
    res = signed(server, CW + "DescribeAlarms", {}, secret="wrong")
    assert res[0] == 403
    assert recorded(server)[-1]["fault"] is None


def test_slow_garbage_truncate_and_drop(server):
    control(server, {"merge": {"faults": [{"mode": "slow", "seconds": 0.4, "count": 1}]}})
    t0 = time.monotonic()
    assert signed(server, CW + "DescribeAlarms", {})[0] == 200
    assert time.monotonic() - t0 >= 0.4
    control(server, {"merge": {"faults": [{"mode": "garbage", "count": 1}]}})
    status, hdrs, data = signed(server, CW + "DescribeAlarms", {})
    assert status == 200 and hdrs["content-type"] == "text/html"
    control(server, {"merge": {"faults": [{"mode": "truncate", "count": 1}]}})
    status, hdrs, data = signed(server, CW + "DescribeAlarms", {})
    assert status == 200 and int(hdrs["content-length"]) == len(data)
    with pytest.raises(ValueError):
        json.loads(data)
    control(server, {"merge": {"faults": [{"mode": "drop", "count": 1}]}})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        signed(server, CW + "DescribeAlarms", {})
    control(server, {"merge": {"faults": [{"mode": "short", "count": 1}]}})
    with pytest.raises(http.client.IncompleteRead):
        signed(server, CW + "DescribeAlarms", {})
    control(server, {"merge": {"faults": [{"mode": "error", "code": "AccessDeniedException",
                                           "message": "not allowed", "status": 403}]}})
    status, hdrs, body = sjson(signed(server, CE + "GetCostAndUsage", {}, region="us-east-1",
                                      service="ce"))
    assert status == 403 and body["__type"].endswith("#AccessDeniedException")


def test_hostile_text_mode(server):
    control(server, {"merge": {"hostile": True}})
    status, _, data = signed(server, CW + "DescribeAlarms",
                             {"AlarmNamePrefix": "EmployeeDirectory"})
    assert status == 200
    assert b"\\u001b]52;c;aGk=\\u0007" in data          # control chars as JSON escapes
    assert "\u202e".encode() in data                    # bidi override as raw UTF-8
    alarms = json.loads(data)["MetricAlarms"]
    names = [a["AlarmName"] for a in alarms]
    assert "EmployeeDirectory\x1b]52;c;aGk=\x07Clipboard" in names
    assert any("\u202e" in n for n in names) and any("\x1b[2J" in n for n in names)
    real = next(a for a in alarms if a["AlarmName"] == LAMBDA)
    assert "\x1b[2J" in real["StateReason"] and len(real["StateReason"]) == 1023
    # Exact-name lookups still find the real alarm, with hostile text inside
    status, _, body = sjson(signed(server, CW + "DescribeAlarms", {"AlarmNames": [LAMBDA]}))
    assert [a["AlarmName"] for a in body["MetricAlarms"]] == [LAMBDA]
    now = int(time.time()) // 300 * 300
    _, _, body = sjson(signed(server, CW + "GetMetricData", {
        "MetricDataQueries": [lambda_query()], "StartTime": now - 900, "EndTime": now}))
    assert "\x1b]52;c;aGk=\x07" in body["MetricDataResults"][0]["Label"]
    _, _, body = sjson(signed(server, CE + "GetCostAndUsage", {
        "TimePeriod": {"Start": "2026-08-01", "End": "2026-08-22"}, "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"], "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}]},
        region="us-east-1", service="ce"))
    keys = [g["Keys"][0] for g in body["ResultsByTime"][0]["Groups"]]
    assert any("\x1b]52" in k for k in keys) and any("\u202e" in k for k in keys)


# ---------------------------------------------------------------- control and records

def test_records_and_no_secrets(server):
    signed(server, CW + "DescribeAlarms", {"MaxRecords": 5}, akid=SESSION_AKID,
           secret=SESSION_SECRET, token=SESSION_TOKEN)
    signed(server, CW + "DescribeAlarms", {}, secret="wrong-secret")
    recs = recorded(server)
    assert len(recs) == 2 and recs[0]["seq"] < recs[1]["seq"]
    ok, bad = recs
    assert ok["target"] == CW + "DescribeAlarms" and ok["operation"] == "DescribeAlarms"
    assert ok["input"] == {"MaxRecords": 5} and ok["status"] == 200
    assert ok["auth"]["ok"] and ok["auth"]["access_key_id"] == SESSION_AKID
    assert ok["auth"]["signed_headers"] == ["content-type", "host", "x-amz-date",
                                            "x-amz-security-token", "x-amz-target"]
    assert ok["headers"]["authorization"].endswith("Signature=<redacted>")
    assert bad["auth"]["ok"] is False and bad["auth"]["error"] == "InvalidSignatureException"
    assert bad["status"] == 403 and bad["query_error"] == "SignatureDoesNotMatch"
    _, _, since = raw(server, "GET", f"/_requests?since={ok['seq']}")
    assert [r["seq"] for r in json.loads(since)["requests"]] == [bad["seq"]]
    everything = json.dumps(recs) + raw(server, "GET", "/_state")[2].decode()
    everything += open(server["log"]).read()
    for secret in SECRETS:
        assert secret not in everything
    assert len(ok["auth"]["signed_headers"]) == 5
    assert raw(server, "DELETE", "/_requests")[0] == 200 and recorded(server) == []


def test_control_api_validation(server):
    status, _, body = raw(server, "POST", "/_control",
                          json.dumps({"merge": {"alarms": {LAMBDA: {"StateValue": "BAD"}}}}).encode())
    assert status == 400 and b"StateValue" in body
    status, _, body = raw(server, "POST", "/_control", json.dumps({"merg": {}}).encode())
    assert status == 400
    status, _, body = raw(server, "POST", "/_control",
                          json.dumps({"merge": {"alarm": {}}}).encode())
    assert status == 400 and b"unknown scenario keys" in body
    state = json.loads(raw(server, "GET", "/_state")[2])
    assert state["scenario"]["region"] == REGION
    assert set(state["keys"]) == {AKID, SESSION_AKID, EXPIRED_AKID}
    assert state["keys"][SESSION_AKID] == {"session": True, "expired": False,
                                           "expires_at": None}
    # keys can be swapped at run time
    control(server, {"keys": {"AKIDOTHER": {"secret": "s3cret"}}})
    assert signed(server, CW + "DescribeAlarms", {})[0] == 403
    assert signed(server, CW + "DescribeAlarms", {}, akid="AKIDOTHER", secret="s3cret")[0] == 200
    # the scenario member replaces everything (over defaults)
    control(server, {"scenario": {"region": "ap-southeast-2"}})
    assert signed(server, CW + "DescribeAlarms", {}, region="ap-southeast-2",
                  akid="AKIDOTHER", secret="s3cret")[0] == 200
    assert raw(server, "GET", "/_health")[0] == 200


def test_real_hostnames_pin_the_region(server):
    """A client that keeps the real Host (curl --connect-to) is held to that region."""
    host = f"monitoring.{REGION}.amazonaws.com"
    def call(region):
        req = AWSRequest("POST", f"http://{host}/", data=b"{}",
                         headers={"Content-Type": "application/x-amz-json-1.0",
                                  "X-Amz-Target": CW + "DescribeAlarms"})
        SigV4Auth(Credentials(AKID, SECRET), "monitoring", region).add_auth(req)
        return raw(server, "POST", "/", b"{}",
                   dict(req.prepare().headers.items(), Host=host))
    first = call(REGION)
    assert first[0] == 200, first[2]
    status, _, data = call("us-east-1")   # fine on 127.0.0.1, wrong for this hostname
    assert status == 403 and b"valid region" in data


@pytest.mark.skipif(not shutil.which("curl"), reason="no curl binary")
def test_curl_aws_sigv4_is_accepted(server):
    """A third, unrelated signer (curl's --aws-sigv4, as libcurl offers it) is
    accepted, with the session token added as a header as aws.md describes."""
    def curl(scope, user, target, body, version, token=None):
        cmd = ["curl", "-sS", "--aws-sigv4", f"aws:amz:{scope}", "--user", user,
               "-H", f"Content-Type: application/x-amz-json-{version}",
               "-H", f"X-Amz-Target: {target}", "--data", body,
               "-w", "\n%{http_code}", server["url"]]
        if token:
            cmd[-1:-1] = ["-H", f"X-Amz-Security-Token: {token}"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
        return int(out.rsplit("\n", 1)[1])
    assert curl(f"{REGION}:monitoring", f"{AKID}:{SECRET}", CW + "DescribeAlarms",
                '{"MaxRecords":1}', "1.0") == 200
    assert curl("us-east-1:ce", f"{AKID}:{SECRET}", CE + "GetCostAndUsage",
                '{"TimePeriod":{"Start":"2026-08-01","End":"2026-08-22"},'
                '"Granularity":"MONTHLY","Metrics":["UnblendedCost"]}', "1.1") == 200
    assert curl(f"{REGION}:monitoring", f"{SESSION_AKID}:{SESSION_SECRET}",
                CW + "DescribeAlarms", "{}", "1.0", token=SESSION_TOKEN) == 200
    assert curl(f"{REGION}:monitoring", f"{AKID}:wrong", CW + "DescribeAlarms",
                "{}", "1.0") == 403


# ---------------------------------------------------------------- the verifier itself

VECTORS = os.path.join(HERE, "..", "data", "sigv4", "v4")


def _vector_cases():
    # A missing fixture is a failure with its path, never a skip: every
    # clone carries the vectors (tests/data/sigv4/README.md).
    assert os.path.isdir(VECTORS), f"the SigV4 test vectors are missing: {os.path.abspath(VECTORS)}"
    cases = sorted(c for c in os.listdir(VECTORS) if os.path.isdir(os.path.join(VECTORS, c)))
    assert cases, f"no SigV4 test vectors in {os.path.abspath(VECTORS)}"
    return cases


def test_verifier_against_aws_signing_test_suite():
    """Each signed request of the official suite passes verify() unchanged,
    and fails once its body or a signed header changes."""
    passed = 0
    for case in _vector_cases():
        d = os.path.join(VECTORS, case)
        ctx = json.load(open(os.path.join(d, "context.json")))
        if not ctx.get("normalize", True):
            continue   # services always normalise; the -unnormalized cases are S3-style
        raw_req = open(os.path.join(d, "header-signed-request.txt"), "rb").read()
        head, _, body = raw_req.partition(b"\n\n")
        lines = head.split(b"\n")
        method, rest = lines[0].split(b" ", 1)
        target = rest.rsplit(b" ", 1)[0]
        headers = []
        for ln in lines[1:]:
            if ln[:1] in (b" ", b"\t"):
                headers[-1] = (headers[-1][0], headers[-1][1] + " " + ln.decode().strip())
                continue
            name, _, value = ln.partition(b":")
            headers.append((name.decode(), value.decode()))
        path, _, query = target.partition(b"?")
        creds = ctx["credentials"]
        keys = {creds["access_key_id"]: {"secret": creds["secret_access_key"],
                                         "session_token": creds.get("token")}}
        now = sigv4_verify.amz_date_to_epoch("20150830T123600Z")
        res = sigv4_verify.verify(method.decode(), path, query, headers, body, keys, now,
                                  ctx["service"], {ctx["region"]})
        assert res.ok, case
        want_creq = open(os.path.join(d, "header-canonical-request.txt")).read()
        if creds.get("token") and "x-amz-security-token" in want_creq:
            want_creq = want_creq.replace(creds["token"], "<redacted>")
        assert res.canonical_request == want_creq, case
        with pytest.raises(sigv4_verify.VerifyError):
            sigv4_verify.verify(method.decode(), path, query, headers, body + b"x", keys, now,
                                ctx["service"], {ctx["region"]})
        passed += 1
    assert passed >= 30
