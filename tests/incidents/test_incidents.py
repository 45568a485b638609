"""The node's incident feeds and webhooks against real clients (issue 17).

A `caspurd dev` node whose dev account is the dCERT's one member drives an incident through
triage, declaration, plan, reviews, announcement and an update, with webhook destinations:

- a receiver that verifies every delivery with `standardwebhooks` (the Standard Webhooks
  reference library, from PyPI) and sees every step;
- one answering 500 twice per message (retried with growing delays, then delivered);
- one answering 429 with `Retry-After: 2` (the next try waits at least 2 s);
- one that accepts connections and never answers: block production does not notice (the
  block interval is measured before and while it hangs, and printed), and each message goes
  to the dead-letter file after its last try.

The Atom feed parses with `feedparser` (bozo == 0); the Statuspage summary and security.txt
are served. Run by scripts/test.sh in a virtualenv: `CASPURD=… python -m unittest -v`.
"""

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from caspur_support import free_port  # noqa: E402

import feedparser
from standardwebhooks import Webhook

MNEMONIC = (
    "economy stock theory fatal elder harbor betray wasp final emotion task crumble "
    "siren bottom lizard educate guess current outdoor pair theory focus wife stone"
)
DEV_ADDRESS = "caspur1pkptre7fdkl6gfrzlesjjvhxhlc3r4gm7hng47"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ROTATED = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="
BLOCK_MS = 200


class Receiver:
    """An HTTP receiver recording (time, headers, body) and answering by `policy`."""

    def __init__(self, policy):
        self.seen = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.seen.append((time.monotonic(), dict(self.headers), body))
                    tries = sum(1 for s in receiver.seen if s[1].get("webhook-id") == self.headers.get("webhook-id"))
                status, extra = policy(tries)
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def by_id(self):
        out = {}
        with self.lock:
            for t, h, b in self.seen:
                out.setdefault(h.get("webhook-id"), []).append((t, h, b))
        return out


class BlackHole:
    """Accepts connections and never answers."""

    def __init__(self):
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(64)
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                return


class IncidentFeeds(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.binary = os.environ.get("CASPURD", "target/debug/caspurd")
        cls.dir = tempfile.mkdtemp(prefix="caspur-incidents-")
        cls.home = os.path.join(cls.dir, "node")
        cls.rpc_port = free_port()
        cls.p2p_port = free_port()
        cls.good = Receiver(lambda n: (200, {}))
        cls.flaky = Receiver(lambda n: (500, {}) if n <= 2 else (200, {}))
        cls.limited = Receiver(lambda n: (429, {"Retry-After": "2"}) if n == 1 else (200, {}))
        cls.hole = BlackHole()
        cls.proc = cls.start()
        cls.wait_height(2)
        cls.proc.send_signal(signal.SIGINT)
        cls.proc.wait(timeout=30)
        cls.configure()
        cls.proc = cls.start()
        cls.wait_height(3)

    @classmethod
    def start(cls):
        with open(os.path.join(cls.dir, "node.log"), "ab") as log:
            return cls._spawn(log)

    @classmethod
    def _spawn(cls, log):
        return subprocess.Popen(
            [cls.binary, "dev", "--home", cls.home, "--dev-mnemonic", MNEMONIC,
             "--block-time-ms", str(BLOCK_MS),
             "--rpc-laddr", f"127.0.0.1:{cls.rpc_port}",
             "--p2p-laddr", f"127.0.0.1:{cls.p2p_port}", "--grpc-laddr", "",
             # An empty dCERT: the test seats the dev account itself, with its own key.
             "--dcert-members", "0"],
            stdout=log, stderr=log,
        )

    @classmethod
    def configure(cls):
        path = os.path.join(cls.home, "config", "config.toml")
        with open(path) as f:
            text = f.read()
        text = re.sub(r"(?ms)^\[incidents\].*?(?=^\[(?!incidents)|\Z)", "", text)
        hooks = [
            (cls.good.url(), [SECRET, ROTATED]),
            (cls.flaky.url(), [SECRET]),
            (cls.limited.url(), [SECRET]),
            (f"http://127.0.0.1:{cls.hole.port}/hook", [SECRET]),
        ]
        text += "\n[incidents]\n"
        text += 'security_contacts = ["mailto:security@caspur.example"]\n'
        text += "webhook_timeout_ms = 3000\nwebhook_max_attempts = 4\nwebhook_retry_base_ms = 300\n"
        for url, secrets in hooks:
            text += f'\n[[incidents.webhooks]]\nurl = "{url}"\nsecrets = {json.dumps(secrets)}\nmax_per_minute = 600\n'
        with open(path, "w") as f:
            f.write(text)

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGKILL)
        cls.proc.wait()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def rpc(cls, method, **params):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{cls.rpc_port}", body,
                                     {"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)["result"]

    @classmethod
    def get(cls, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{cls.rpc_port}{path}", timeout=10) as r:
            return r.status, r.headers.get("content-type"), r.read()

    @classmethod
    def height(cls):
        try:
            return int(cls.rpc("status")["sync_info"]["latest_block_height"])
        except Exception:
            return 0

    @classmethod
    def wait_height(cls, h, timeout=60):
        deadline = time.time() + timeout
        while cls.height() < h:
            if time.time() > deadline:
                with open(os.path.join(cls.dir, "node.log")) as f:
                    raise AssertionError(f"height {h} not reached; log:\n" + f.read()[-4000:])
            time.sleep(0.2)

    @classmethod
    def cli(cls, *args):
        out = subprocess.run(
            [cls.binary, *args, "--home", cls.home, "--node", f"tcp://127.0.0.1:{cls.rpc_port}",
             "--keyring-backend", "test", "-o", "json"],
            capture_output=True, text=True, timeout=60,
        )
        if out.returncode != 0:
            raise AssertionError(f"{args}: {out.stderr}")
        return json.loads(out.stdout) if out.stdout.strip() else None

    def tx(self, *args):
        r = self.cli("tx", *args, "--from", "dev")
        self.assertEqual(r["code"], 0, r)

    @classmethod
    def block_interval_ms(cls, first, last):
        times = []
        for h in range(first, last + 1):
            t = cls.rpc("block", height=str(h))["block"]["header"]["time"]
            times.append(t)
        from datetime import datetime
        parse = lambda s: datetime.fromisoformat(re.sub(r"\.(\d{6})\d*", r".\1", s.replace("Z", "+00:00")))
        ts = [parse(t).timestamp() for t in times]
        return 1000 * (ts[-1] - ts[0]) / (len(ts) - 1)

    def test_feeds_and_webhooks(self):
        start = self.height()
        self.wait_height(start + 20)
        baseline = self.block_interval_ms(start, start + 20)

        key = os.path.join(self.dir, "dev.key")
        public = subprocess.run([self.binary, "incident", "keygen", "--out", key, "-o", "json"],
                                capture_output=True, text=True, check=True)
        public = json.loads(public.stdout)["encryption_key"]
        self.tx("dcert", "accept-candidacy", "--encryption-key", public)
        self.tx("dcert", "bond", DEV_ADDRESS, "10000000000ucsp")
        report = os.path.join(self.dir, "report.md")
        with open(report, "w") as f:
            f.write("An overflow in MsgSend.\n")
        hanging_from = self.height()
        self.tx("incident", "report", "--file", report, "--severity", "critical", "--title", "bank issue")
        self.tx("incident", "triage", "1", "--verdict", "verified", "--severity", "critical")
        self.tx("incident", "declare", "1")
        self.tx("incident", "propose-plan", "1", "--summary", "checked add", "--hash", "ab" * 32)
        for kind in ["technical", "risk", "legal"]:
            self.tx("incident", "review", "1", "--kind", kind, "--hash", "cd" * 32)
        self.tx("incident", "announce", "1", "--description", "a bank issue <is> being fixed & tested")
        self.tx("incident", "update", "1", "binaries published")
        steps = ["reported", "triaged", "emergency_declared", "plan_proposed", "review", "review",
                 "review", "announced", "update"]

        # Every step reaches the verifying receiver, signed (with both secrets), in order.
        deadline = time.time() + 60
        while len(self.good.by_id()) < len(steps) and time.time() < deadline:
            time.sleep(0.2)
        verified = []
        for wid, tries in sorted(self.good.by_id().items(), key=lambda kv: kv[1][0][0]):
            _, headers, body = tries[0]
            for secret in (SECRET, ROTATED):
                payload = Webhook(secret).verify(body, headers)
            self.assertEqual(payload["type"], "incident.step")
            verified.append(payload["data"]["action"])
        self.assertEqual(verified, steps)
        with self.assertRaises(Exception):
            Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").verify(body, headers)

        # 500, 500, 200: retried with growing delays (base 300 ms, doubling).
        deadline = time.time() + 60
        while len([t for t in self.flaky.by_id().values() if len(t) >= 3]) < len(steps) and time.time() < deadline:
            time.sleep(0.2)
        for wid, tries in self.flaky.by_id().items():
            self.assertEqual(len(tries), 3, wid)
            gaps = [tries[i + 1][0] - tries[i][0] for i in range(2)]
            self.assertGreaterEqual(gaps[0], 0.25)
            self.assertGreater(gaps[1], gaps[0])
        print(f"\n500-retry gaps (s): {[round(g, 2) for g in gaps]}")

        # 429 with Retry-After: 2 — the next try waits at least 2 s.
        deadline = time.time() + 90
        while len([t for t in self.limited.by_id().values() if len(t) >= 2]) < 2 and time.time() < deadline:
            time.sleep(0.2)
        waits = [t[1][0] - t[0][0] for t in self.limited.by_id().values() if len(t) >= 2]
        self.assertTrue(waits, "no retry after 429")
        self.assertTrue(all(w >= 1.9 for w in waits), waits)
        print(f"429 Retry-After waits (s): {[round(w, 2) for w in waits]}")

        # The black hole has held connections the whole time; blocks kept their pace.
        now = self.height()
        during = self.block_interval_ms(hanging_from, now)
        print(f"block interval: {baseline:.0f} ms before, {during:.0f} ms while a webhook receiver "
              f"never answers ({now - hanging_from} blocks; target {BLOCK_MS} ms)")
        self.assertGreater(len(self.hole.conns), 0, "the black hole was never called")
        self.assertLess(during, max(baseline * 1.5, BLOCK_MS * 2))

        # The Atom feed parses with feedparser.
        status, ctype, body = self.get("/incidents.atom")
        self.assertEqual(status, 200)
        self.assertIn("application/atom+xml", ctype)
        feed = feedparser.parse(body)
        self.assertEqual(feed.bozo, 0, feed.get("bozo_exception"))
        self.assertEqual(feed.feed.title, "caspur-dev-1 incidents")
        entry = feed.entries[0]
        self.assertIn("Incident 1 (announced): bank issue", entry.title)
        self.assertTrue(entry.link.endswith("/incidents/1"))
        self.assertIn("a bank issue &lt;is&gt; being fixed &amp; tested", entry.content[0].value)

        # Statuspage summary: one open critical incident.
        status, _, body = self.get("/api/v2/summary.json")
        summary = json.loads(body)
        self.assertEqual(summary["status"]["indicator"], "critical")
        self.assertEqual(summary["incidents"][0]["status"], "identified")
        self.assertEqual(summary["incidents"][0]["impact"], "critical")

        # security.txt (RFC 9116): contact and expiry.
        status, ctype, body = self.get("/.well-known/security.txt")
        text = body.decode()
        self.assertIn("Contact: mailto:security@caspur.example", text)
        self.assertRegex(text, r"Expires: \d{4}-\d\d-\d\dT")
        self.assertTrue(ctype.startswith("text/plain"))

        # The black hole's first message goes to the dead-letter file after its last try
        # (4 tries of 3 s each, with backoff between).
        dead = os.path.join(self.home, "data", "webhooks", "dead-letter.jsonl")
        deadline = time.time() + 60
        while not os.path.exists(dead) and time.time() < deadline:
            time.sleep(0.5)
        with open(dead) as f:
            letters = [json.loads(line) for line in f]
        self.assertTrue(letters[0]["url"].endswith(f":{self.hole.port}/hook"), letters)
        self.assertEqual(letters[0]["attempts"], 4)
        self.assertEqual(letters[0]["body"]["data"]["action"], "reported")


if __name__ == "__main__":
    unittest.main()
