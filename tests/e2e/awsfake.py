# SPDX-License-Identifier: GPL-3.0-or-later
"""Start the loopback AWS stand-in (tests/aws/fake_aws.py) for screen tests
and steer it through its control API."""
import json
import os
import select
import subprocess
import urllib.request

from tui import ROOT

FAKE = os.path.join(ROOT, "tests", "aws", "fake_aws.py")
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


class FakeAws:
    def __init__(self, tmp):
        self.log = open(os.path.join(str(tmp), "fake_aws.log"), "w+")
        self.proc = subprocess.Popen(["/usr/bin/python3", FAKE, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        assert ready, "fake_aws did not start"
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        self.url = line.split(" ")[-1]

    def control(self, cmd):
        req = urllib.request.Request(self.url + "/_control", data=json.dumps(cmd).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200

    def requests(self):
        with urllib.request.urlopen(self.url + "/_requests", timeout=10) as r:
            return json.loads(r.read())["requests"]

    def env(self, tmp):
        """The environment a program needs to reach the fake with the test key."""
        return {"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "eu-west-1",
                "AWS_ENDPOINT_URL": self.url, "XDG_CACHE_HOME": os.path.join(str(tmp), "cache")}

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)
        self.log.close()
