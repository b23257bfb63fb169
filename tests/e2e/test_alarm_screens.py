# SPDX-License-Identifier: GPL-3.0-or-later
"""The alarm and cost screens against the AWS stand-in, which checks every
request's SigV4 signature; and the alarm badge on the other screens."""
import pytest

from awsfake import FakeAws
from tui import Tui, make_db

LAMBDA = "EmployeeDirectoryLambdaErrors"
BILLING = "EmployeeDirectoryCostExceeded"


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    f = FakeAws(tmp_path_factory.mktemp("aws"))
    yield f
    f.close()


@pytest.fixture
def aws(fake, tmp_path):
    fake.control({"reset": True})
    started = []

    def start(args, **kw):
        t = Tui(tmp_path, args, env=fake.env(tmp_path), **kw)
        started.append(t)
        t.settle()
        return t
    yield start
    for t in started:
        t.close()


def test_alarms_screen_shows_states_condition_metrics_and_charges(fake, aws):
    fake.control({"merge": {"alarms": {LAMBDA: {"StateValue": "ALARM", "StateReason": "Threshold Crossed: 9 > 5"}}}})
    t = aws(["--alarms"], cols=120, rows=30)
    s = t.screen()
    lam = [l for l in s.split("\n") if LAMBDA in l][0]
    assert "ALARM" in lam and "Threshold Crossed" in lam
    assert "OK" in [l for l in s.split("\n") if BILLING in l][0]
    assert "Errors (Sum)" in s and "Invocations (Sum)" in s and "Duration (Average)" in s
    assert "Estimated charges this month:" in s and "USD" in s
    assert "1 ALARM (A)" in s  # the badge
    # the selected alarm's condition, in words
    t.keys("Home") if False else None
    for _ in range(3):
        if "AWS/Lambda Errors" in t.screen():
            break
        t.keys("j")
    assert "AWS/Lambda Errors Sum > 5" in t.screen()


def test_each_part_reports_its_own_failure(fake, aws):
    fake.control({"merge": {"faults": [{"mode": "error", "code": "AccessDeniedException", "status": 400,
                                        "message": "not allowed", "targets": ["GetMetricData"]}]}})
    t = aws(["--alarms"], cols=120, rows=30)
    s = t.screen()
    assert LAMBDA in s  # alarms still shown
    assert "access denied" in s.lower() and "GetMetricData" in s


def test_badge_on_the_list_and_A_opens_alarms(fake, aws, tmp_path):
    db = str(tmp_path / "people.db")
    make_db(db, rows=5)
    fake.control({"merge": {"alarms": {LAMBDA: {"StateValue": "ALARM"}}}})
    cfg = tmp_path / "home" / "config" / "empdir"
    cfg.mkdir(parents=True)
    (cfg / "config").write_text("[aws]\nrefresh_seconds = 60\n")
    t = aws(["--offline", db])
    t.wait_for("1 ALARM (A)")
    t.keys("A")
    assert "Alarms" in t.screen() and LAMBDA in t.screen()
    t.keys("Escape")
    assert "Name ▲" in t.screen()


def test_cost_screen_fetches_only_when_asked(fake, aws):
    t = aws(["--alarms"], cols=100, rows=30)
    before = len([r for r in fake.requests() if r.get("operation") == "GetCostAndUsage"])
    t.keys("$")
    assert "nothing cached yet" in t.screen()
    t.keys("f")
    assert "0.01 USD" in t.screen()
    t.keys("n")
    assert len([r for r in fake.requests() if r.get("operation") == "GetCostAndUsage"]) == before
    t.keys("f", "y")
    s = t.screen()
    assert "fetched from Cost Explorer" in s and "AWS Lambda" in s
    assert len([r for r in fake.requests() if r.get("operation") == "GetCostAndUsage"]) == before + 1
    t.keys("Escape", "$")
    assert "cached" in t.screen()
    assert len([r for r in fake.requests() if r.get("operation") == "GetCostAndUsage"]) == before + 1


def test_hostile_alarm_text_is_drawn_harmlessly(fake, aws):
    fake.control({"merge": {"hostile": True}})
    t = aws(["--alarms"], cols=120, rows=30)
    raw = t.raw_bytes()
    assert b"\x1b]52;" not in raw and "\u202e".encode() not in raw


def test_no_credentials_is_a_message_not_a_crash(fake, aws, tmp_path):
    t = Tui(tmp_path, ["--alarms"], env={"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": fake.url,
                                          "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                                          "AWS_CONFIG_FILE": "/nonexistent"})
    try:
        t.settle()
        assert "credentials" in t.screen().lower()
        t.keys("q")
        assert t.exit_status() == 0
    finally:
        t.close()
