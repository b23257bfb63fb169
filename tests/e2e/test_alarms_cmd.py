# SPDX-License-Identifier: GPL-3.0-or-later
"""`empdir-tui alarms` and `empdir-tui cost` against the loopback AWS stand-in
(tests/aws/fake_aws.py), which checks every request's SigV4 signature.

Each run gets a private HOME, XDG dirs and AWS_* environment; the fake is
reset before each test and steered through its control API: states, paging,
regions, clock skew, bad keys, AccessDenied, throttling, malformed answers,
hostile text, and the Cost Explorer cache (checked through /_requests).
"""
import json
import os
import select
import subprocess
import sys
import time
import urllib.request

import pytest

from tui import BIN, ROOT

FAKE = os.path.join(ROOT, "tests", "aws", "fake_aws.py")
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_AKID = "ASIAFAKESESSIONKEY01"
SESSION_SECRET = "sessionSecretEXAMPLEKEY/0123456789abcdef"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEFAKE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token=="
EXPIRED_AKID = "ASIAFAKEEXPIREDKEY01"
EXPIRED_TOKEN = "FwoGZXIvYXdzEFAKEexpiredtoken"
SECRETS = [SECRET, SESSION_SECRET, SESSION_TOKEN, EXPIRED_TOKEN]
LAMBDA = "EmployeeDirectoryLambdaErrors"
BILLING = "EmployeeDirectoryCostExceeded"


# ---------------------------------------------------------------- the fake

@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    d = tmp_path_factory.mktemp("fake_aws")
    keys = {
        AKID: {"secret": SECRET},
        SESSION_AKID: {"secret": SESSION_SECRET, "session_token": SESSION_TOKEN},
        EXPIRED_AKID: {"secret": SESSION_SECRET, "session_token": EXPIRED_TOKEN,
                       "expired": True},
    }
    (d / "keys.json").write_text(json.dumps(keys))
    log = open(d / "fake.log", "w+")
    proc = subprocess.Popen(["/usr/bin/python3", FAKE, "--port", "0", "--keys",
                             str(d / "keys.json")],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    assert ready, "fake_aws did not start"
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on http://127.0.0.1:"), line
    port = int(line.rsplit(":", 1)[1])
    yield {"port": port, "url": f"http://127.0.0.1:{port}", "log": d / "fake.log"}
    proc.terminate()
    proc.wait(timeout=5)
    log.close()


def control(fake, cmd):
    req = urllib.request.Request(fake["url"] + "/_control", data=json.dumps(cmd).encode(),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200


def records(fake):
    with urllib.request.urlopen(fake["url"] + "/_requests", timeout=10) as r:
        return json.loads(r.read())["requests"]


@pytest.fixture(autouse=True)
def fresh(fake):
    control(fake, {"reset": True})


# ---------------------------------------------------------------- running the binary

def aws_env(fake, tmp, **over):
    """A private environment: no AWS_* from the caller's, static keys by default."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("HOME", "XDG_CONFIG_HOME",
                                                     "XDG_CACHE_HOME")}
    env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", HOME=str(tmp),
               XDG_CONFIG_HOME=str(tmp / "config"), XDG_CACHE_HOME=str(tmp / "cache"),
               AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="eu-west-1",
               AWS_ENDPOINT_URL=fake["url"])
    for k, v in over.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run(fake, tmp, *args, env=None, config=None):
    if config is not None:
        (tmp / "config" / "empdir").mkdir(parents=True, exist_ok=True)
        (tmp / "config" / "empdir" / "config").write_text(config)
    r = subprocess.run([BIN] + list(args), capture_output=True, env=env or aws_env(fake, tmp),
                       stdin=subprocess.DEVNULL, timeout=60)
    out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    for s in SECRETS:
        assert s not in out and s not in err
    r.out, r.err, r.raw = out, err, r.stdout
    return r


def alarms(fake, tmp, *args, **kw):
    return run(fake, tmp, "alarms", *args, **kw)


def one_line_error(r, *words):
    assert r.returncode == 3, (r.returncode, r.out, r.err)
    assert r.out == ""
    lines = r.err.strip().split("\n")
    assert len(lines) == 1 and lines[0].startswith("empdir-tui: "), r.err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def table(r):
    """Rows of the table as {name: (state, region)}."""
    lines = r.out.rstrip("\n").split("\n")
    assert lines[0].split()[:5] == ["NAME", "STATE", "SINCE", "REGION", "REASON"], r.out
    rows = {}
    for ln in lines[1:]:
        parts = ln.split()
        rows[parts[0]] = (parts[1], parts[3])
    return rows


def set_states(fake, **states):
    control(fake, {"merge": {"alarms": {name: {"StateValue": st}
                                        for name, st in states.items()}}})


# ---------------------------------------------------------------- exit codes and output

def test_all_ok_exits_0_with_both_regions(fake, tmp_path):
    r = alarms(fake, tmp_path)
    assert r.returncode == 0, r.err
    assert r.err == ""
    assert table(r) == {LAMBDA: ("OK", "eu-west-1"), BILLING: ("OK", "us-east-1")}
    regions = sorted(rec["region"] for rec in records(fake))
    assert regions == ["eu-west-1", "us-east-1"]
    assert all(rec["auth"]["ok"] and rec["operation"] == "DescribeAlarms"
               for rec in records(fake))
    # the app in us-east-1 needs one request only
    control(fake, {"reset": True, "scenario": {"region": "us-east-1"}})
    r = alarms(fake, tmp_path, env=aws_env(fake, tmp_path, AWS_REGION="us-east-1"))
    assert r.returncode == 0 and len(records(fake)) == 1
    assert table(r) == {LAMBDA: ("OK", "us-east-1"), BILLING: ("OK", "us-east-1")}


def test_any_alarm_exits_1(fake, tmp_path):
    set_states(fake, **{LAMBDA: "ALARM", BILLING: "INSUFFICIENT_DATA"})
    r = alarms(fake, tmp_path)
    assert r.returncode == 1, r.err
    assert table(r)[LAMBDA][0] == "ALARM"
    assert "Threshold Crossed" in r.out


def test_insufficient_data_exits_2(fake, tmp_path):
    set_states(fake, **{BILLING: "INSUFFICIENT_DATA"})
    r = alarms(fake, tmp_path)
    assert r.returncode == 2, r.err
    assert table(r)[BILLING] == ("INSUFFICIENT_DATA", "us-east-1")
    assert "Insufficient Data" in r.out


def test_a_configured_alarm_that_is_gone_exits_2(fake, tmp_path):
    cfg = f"[aws]\nalarm_names = {LAMBDA}, NoSuchAlarm\n"
    r = alarms(fake, tmp_path, config=cfg)
    assert r.returncode == 2, r.err
    rows = table(r)
    assert rows["NoSuchAlarm"][0] == "NOT_FOUND" and rows[LAMBDA][0] == "OK"
    assert BILLING not in rows
    set_states(fake, **{LAMBDA: "ALARM"})
    assert alarms(fake, tmp_path, config=cfg).returncode == 1


def test_json_shape(fake, tmp_path):
    control(fake, {"merge": {"alarms": {LAMBDA: {
        "StateValue": "ALARM", "StateReason": "Threshold Crossed: 9 > 5",
        "StateUpdatedTimestamp": 1735689600.25, "StateTransitionedTimestamp": 1735689000}}}})
    r = alarms(fake, tmp_path, "--json")
    assert r.returncode == 1, r.err
    assert all(b < 0x80 for b in r.raw)            # pure ASCII
    doc = json.loads(r.out)
    assert set(doc) == {"alarms", "missing", "summary", "exit_status"}
    assert doc["exit_status"] == 1 and doc["missing"] == []
    assert doc["summary"] == {"OK": 1, "ALARM": 1, "INSUFFICIENT_DATA": 0, "NOT_FOUND": 0}
    by_name = {a["name"]: a for a in doc["alarms"]}
    lam = by_name[LAMBDA]
    assert lam["state"] == "ALARM" and lam["region"] == "eu-west-1"
    assert lam["reason"] == "Threshold Crossed: 9 > 5"
    assert lam["since"] == 1735689000 and lam["since_utc"] == "2024-12-31T23:50:00Z"
    assert lam["updated"] == 1735689600.25
    assert (lam["namespace"], lam["metric"], lam["statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert lam["threshold"] == 5 and lam["comparison"] == "GreaterThanThreshold"
    assert lam["period"] == 300 and lam["evaluation_periods"] == 2
    assert lam["arn"].startswith("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:")
    assert by_name[BILLING]["region"] == "us-east-1"
    assert by_name[BILLING]["metric"] == "EstimatedCharges"


def test_paging_with_a_prefix(fake, tmp_path):
    many = {f"EmployeeDirectoryPaged{i:03d}": {"StateValue": "OK"} for i in range(150)}
    many["EmployeeDirectoryPaged149"]["StateValue"] = "INSUFFICIENT_DATA"
    control(fake, {"merge": {"alarms": many}})
    r = alarms(fake, tmp_path, "--json", config="[aws]\nalarm_prefix = EmployeeDirectoryPaged\n")
    assert r.returncode == 2, r.err
    names = [a["name"] for a in json.loads(r.out)["alarms"]]
    assert names == sorted(many)
    recs = [x for x in records(fake) if x["region"] == "eu-west-1"]
    assert len(recs) == 2
    assert "NextToken" not in recs[0]["input"] and recs[1]["input"]["NextToken"]
    assert recs[0]["input"]["AlarmNamePrefix"] == "EmployeeDirectoryPaged"


def test_prefix_matching_nothing_is_an_error(fake, tmp_path):
    r = alarms(fake, tmp_path, config="[aws]\nalarm_prefix = Nothing\n")
    one_line_error(r, "no alarm name starts with 'Nothing'", "eu-west-1", "us-east-1")


def test_hostile_text_is_sanitised(fake, tmp_path):
    control(fake, {"merge": {"hostile": True}})
    r = alarms(fake, tmp_path, config="[aws]\nalarm_prefix = EmployeeDirectory\n")
    assert r.returncode == 1, r.err                 # the planted alarms are in ALARM
    for bad in (b"\x1b", b"\x07", b"\x08", b"\r", b"\x7f", "\u009b".encode(),
                "\u202e".encode()):
        assert bad not in r.raw, bad
    assert "\u241b" in r.out                        # ESC shown as a visible symbol
    assert len(r.out.strip().split("\n")) == 1 + 6   # header, 2 real + 4 planted alarms
    j = alarms(fake, tmp_path, "--json",
               config="[aws]\nalarm_prefix = EmployeeDirectory\n")
    assert all(0x20 <= b < 0x7f or b in (0x09, 0x0a) for b in j.raw)
    names = [a["name"] for a in json.loads(j.out)["alarms"]]
    assert "EmployeeDirectory\x1b]52;c;aGk=\x07Clipboard" in names   # lossless in JSON


def test_profile_from_the_shared_files(fake, tmp_path):
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(f"[dev]\naws_access_key_id = {SESSION_AKID}\n"
                                     f"aws_secret_access_key = {SESSION_SECRET}\n"
                                     f"aws_session_token = {SESSION_TOKEN}\n")
    (aws / "config").write_text("[profile dev]\nregion = eu-west-1\n")
    env = aws_env(fake, tmp_path, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                  AWS_REGION=None)
    r = alarms(fake, tmp_path, "--profile", "dev", env=env)
    assert r.returncode == 0, r.err
    recs = records(fake)
    assert all(x["auth"]["access_key_id"] == SESSION_AKID and x["auth"]["token_signed"]
               for x in recs)
    # the [aws] section chooses the profile too
    r = alarms(fake, tmp_path, env=env, config="[aws]\nprofile = dev\n")
    assert r.returncode == 0, r.err
    # signed headers: what we send is what we sign
    assert records(fake)[-1]["auth"]["signed_headers"] == [
        "content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"]


def test_config_endpoint_url_wins(fake, tmp_path):
    env = aws_env(fake, tmp_path, AWS_ENDPOINT_URL="http://nonexistent.invalid")
    r = alarms(fake, tmp_path, env=env, config=f"[aws]\nendpoint_url = {fake['url']}\n")
    assert r.returncode == 0, r.err


# ---------------------------------------------------------------- failures: one line, exit 3

def test_clock_skew_says_check_the_clock(fake, tmp_path):
    control(fake, {"now": time.time() + 3600})
    line = one_line_error(alarms(fake, tmp_path), "check the clock")
    assert "Signature expired" in line
    control(fake, {"now": time.time() - 3600})
    one_line_error(alarms(fake, tmp_path), "check the clock", "not yet current")


def test_expired_credentials(fake, tmp_path):
    env = aws_env(fake, tmp_path, AWS_ACCESS_KEY_ID=EXPIRED_AKID,
                  AWS_SECRET_ACCESS_KEY=SESSION_SECRET, AWS_SESSION_TOKEN=EXPIRED_TOKEN)
    one_line_error(alarms(fake, tmp_path, env=env), "credentials have expired", "ExpiredToken")
    assert len(records(fake)) == 1                   # not retried


def test_unknown_key(fake, tmp_path):
    env = aws_env(fake, tmp_path, AWS_ACCESS_KEY_ID="AKIDUNKNOWN0000000000")
    one_line_error(alarms(fake, tmp_path, env=env), "does not recognise the access key",
                   "InvalidClientTokenId")


def test_wrong_secret(fake, tmp_path):
    env = aws_env(fake, tmp_path, AWS_SECRET_ACCESS_KEY="not-the-secret")
    line = one_line_error(alarms(fake, tmp_path, env=env), "signature does not match",
                          "secret access key")
    assert "Canonical" not in line                   # AWS's long explanation is cut


def test_access_denied(fake, tmp_path):
    control(fake, {"merge": {"faults": [{
        "mode": "error", "code": "AccessDeniedException", "status": 400,
        "message": "User: arn:aws:iam::123456789012:user/support is not authorized to "
                   "perform: cloudwatch:DescribeAlarms"}]}})
    one_line_error(alarms(fake, tmp_path), "access denied", "cloudwatch:DescribeAlarms",
                   "environment variables")


def test_throttling_then_success(fake, tmp_path):
    control(fake, {"merge": {"faults": [{"mode": "throttle", "count": 2,
                                         "targets": ["DescribeAlarms"]}]}})
    r = alarms(fake, tmp_path)
    assert r.returncode == 0, r.err
    statuses = [x["status"] for x in records(fake)]
    assert statuses.count(400) == 2 and statuses.count(200) == 2


def test_throttling_forever(fake, tmp_path):
    control(fake, {"merge": {"faults": [{"mode": "throttle", "status": 429}]}})
    t0 = time.monotonic()
    one_line_error(alarms(fake, tmp_path), "kept throttling", "4 attempts", "try again")
    assert time.monotonic() - t0 < 15
    assert len(records(fake)) == 4


def test_malformed_and_truncated_answers(fake, tmp_path):
    control(fake, {"merge": {"faults": [{"mode": "garbage"}]}})
    one_line_error(alarms(fake, tmp_path), "not JSON", "<html>")
    control(fake, {"reset": True, "merge": {"faults": [{"mode": "truncate"}]}})
    one_line_error(alarms(fake, tmp_path), "not valid JSON")
    control(fake, {"reset": True, "merge": {"faults": [{"mode": "short"}]}})
    one_line_error(alarms(fake, tmp_path), "closed before the answer was complete")
    control(fake, {"reset": True, "merge": {"alarms": {BILLING: {"Threshold": "30"}}}})
    one_line_error(alarms(fake, tmp_path), "malformed", "MetricAlarms[0].Threshold",
                   "not a number")
    control(fake, {"reset": True, "merge": {"alarms": {LAMBDA: {"StateReason": 42}}}})
    one_line_error(alarms(fake, tmp_path), "malformed", "StateReason is not a string")


def test_dns_failure(fake, tmp_path):
    env = aws_env(fake, tmp_path, AWS_ENDPOINT_URL="http://nonexistent.invalid")
    one_line_error(alarms(fake, tmp_path, env=env), "cannot resolve the host name",
                   "nonexistent.invalid")


def test_no_credentials_at_all(fake, tmp_path):
    env = aws_env(fake, tmp_path, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    one_line_error(alarms(fake, tmp_path, env=env), "no AWS credentials")
    assert records(fake) == []


def test_unknown_profile(fake, tmp_path):
    one_line_error(alarms(fake, tmp_path, "--profile", "nope"), "profile 'nope'", "not found")
    assert records(fake) == []


def test_no_region(fake, tmp_path):
    env = aws_env(fake, tmp_path, AWS_REGION=None)
    one_line_error(alarms(fake, tmp_path, env=env), "no AWS region")
    assert alarms(fake, tmp_path, "--region", "eu-west-1", env=env).returncode == 0


def test_bad_config_and_usage(fake, tmp_path):
    one_line_error(alarms(fake, tmp_path, config="[aws]\nalarm_name = x\n"), "alarm_name")
    one_line_error(alarms(fake, tmp_path, "--frobnicate", config=""), "unknown option")
    one_line_error(alarms(fake, tmp_path, "extra"), "unexpected argument")
    one_line_error(alarms(fake, tmp_path, "--profile"), "needs a value")
    r = alarms(fake, tmp_path, "--help")
    assert r.returncode == 0 and "Exit status" in r.out
    assert records(fake) == []


# ---------------------------------------------------------------- cost

def cost_requests(fake):
    return [x for x in records(fake) if x["operation"] == "GetCostAndUsage"]


def test_cost_is_cached(fake, tmp_path):
    control(fake, {"merge": {"cost": {"page_size": 2}}})
    r = run(fake, tmp_path, "cost")
    assert r.returncode == 0, r.err
    assert "Amazon DynamoDB" in r.out and "TOTAL" in r.out and "0.01 USD" in r.out
    first = cost_requests(fake)
    assert len(first) == 3                           # 5 services in pages of 2
    assert all(x["region"] == "us-east-1" and x["service"] == "ce" for x in first)
    assert first[0]["input"]["GroupBy"] == [{"Type": "DIMENSION", "Key": "SERVICE"}]
    assert first[0]["input"]["Metrics"] == ["UnblendedCost"]
    tp = first[0]["input"]["TimePeriod"]
    assert tp["Start"] < tp["End"] and tp["Start"].endswith("-01")
    # the second call does not reach AWS
    r = run(fake, tmp_path, "cost", "--json")
    assert r.returncode == 0, r.err
    doc = json.loads(r.out)
    assert doc["from_cache"] is True and doc["requests"] == 0 and doc["age_seconds"] < 60
    assert {s["name"] for s in doc["services"]} >= {"AWS Lambda", "Amazon DynamoDB"}
    assert abs(doc["total"] - sum(s["amount"] for s in doc["services"])) < 1e-9
    assert len(cost_requests(fake)) == 3
    cache = list((tmp_path / "cache" / "empdir-tui").iterdir())
    assert len(cache) == 1 and oct(cache[0].stat().st_mode & 0o777) == "0o600"
    assert SECRET not in cache[0].read_text() and AKID not in cache[0].read_text()
    # --refresh asks again; --cached never does
    assert run(fake, tmp_path, "cost", "--refresh").returncode == 0
    assert len(cost_requests(fake)) == 6
    r = run(fake, tmp_path, "cost", "--cached", "--json")
    assert r.returncode == 0 and json.loads(r.out)["from_cache"] is True
    assert len(cost_requests(fake)) == 6


def test_cost_cache_only_without_cache(fake, tmp_path):
    one_line_error(run(fake, tmp_path, "cost", "--cached"), "not been fetched yet", "0.01 USD")
    assert records(fake) == []


def test_cost_errors(fake, tmp_path):
    control(fake, {"merge": {"faults": [{"mode": "error", "code": "AccessDeniedException",
                                         "status": 400, "message": "no"}]}})
    one_line_error(run(fake, tmp_path, "cost"), "Cost Explorer GetCostAndUsage",
                   "ce:GetCostAndUsage")
    control(fake, {"reset": True, "merge": {"hostile": True}})
    r = run(fake, tmp_path, "cost", "--refresh")
    assert r.returncode == 0 and b"\x1b" not in r.raw and "\u202e".encode() not in r.raw
