"""The node's Prometheus endpoint against real Prometheus tooling (issue 18).

A `caspurd dev` node is scraped and the exposition is:

- parsed by `prometheus_client` (the Prometheus project's Python client, from PyPI): every
  CometBFT family has CometBFT's name and type, counters included under their plain names;
- linted by `promtool check metrics` (Prometheus's own checker, Debian's `prometheus`);
- the source of every metric that `deploy/prometheus/caspur-rules.yml` (checked with
  `promtool check rules`) and `deploy/grafana/caspur-dashboard.json` query: a rule or panel
  on a metric the node does not serve fails here.

Run by scripts/test.sh in a virtualenv: `CASPURD=… python -m unittest -v`.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from caspur_support import free_port  # noqa: E402

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(ROOT, "deploy", "prometheus", "caspur-rules.yml")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "caspur-dashboard.json")

COMETBFT = {
    "cometbft_consensus_height": "gauge",
    "cometbft_consensus_latest_block_height": "gauge",
    "cometbft_consensus_block_interval_seconds": "histogram",
    "cometbft_consensus_num_txs": "gauge",
    "cometbft_consensus_total_txs": "gauge",
    "cometbft_consensus_block_size_bytes": "gauge",
    "cometbft_consensus_validators": "gauge",
    "cometbft_consensus_validators_power": "gauge",
    "cometbft_consensus_missing_validators": "gauge",
    "cometbft_consensus_missing_validators_power": "gauge",
    "cometbft_consensus_byzantine_validators": "gauge",
    "cometbft_consensus_byzantine_validators_power": "gauge",
    "cometbft_consensus_validator_missed_blocks": "gauge",
    "cometbft_consensus_validator_last_signed_height": "gauge",
    "cometbft_consensus_rounds": "gauge",
    "cometbft_mempool_size": "gauge",
    "cometbft_mempool_size_bytes": "gauge",
    "cometbft_mempool_failed_txs": "counter",
    "cometbft_mempool_evicted_txs": "counter",
    "cometbft_mempool_recheck_times": "counter",
    "cometbft_p2p_peers": "gauge",
    "cometbft_blocksync_syncing": "gauge",
    "cometbft_statesync_syncing": "gauge",
}

# PromQL words that are not metric names.
PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "sum", "avg", "min", "max", "count", "rate", "increase", "delta",
    "histogram_quantile", "avg_over_time", "max_over_time", "min_over_time", "le", "first",
    "value", "query", "with", "end", "humanizePercentage", "labels", "instance", "chain_id",
    "route", "state", "validator_address",
}


def metric_names(expr: str) -> set:
    """Metric names an expression reads (identifiers followed by `{`, `[`, or standing alone)."""
    expr = re.sub(r'"[^"]*"', "", expr)  # label values and strings
    expr = re.sub(r"\{[^}]*\}", "{}", expr)  # label matchers
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return {n for n in names if n not in PROMQL_WORDS and ("_" in n)}


class Monitoring(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.binary = os.environ.get("CASPURD", os.path.join(ROOT, "target", "debug", "caspurd"))
        cls.dir = tempfile.mkdtemp(prefix="caspur-monitoring-")
        cls.metrics = f"127.0.0.1:{free_port()}"
        rpc_port = free_port()
        cls.rpc = f"http://127.0.0.1:{rpc_port}"
        cls.log = open(os.path.join(cls.dir, "node.log"), "ab")
        cls.proc = subprocess.Popen(
            [cls.binary, "dev", "--home", os.path.join(cls.dir, "home"),
             "--block-time-ms", "200", "--rpc-laddr", f"127.0.0.1:{rpc_port}",
             "--p2p-laddr", f"127.0.0.1:{free_port()}", "--grpc-laddr", "",
             "--prometheus-laddr", cls.metrics],
            stdout=cls.log, stderr=cls.log,
        )
        deadline = time.time() + 60
        while cls.height() < 3:
            if time.time() > deadline or cls.proc.poll() is not None:
                with open(os.path.join(cls.dir, "node.log")) as f:
                    raise AssertionError("the node did not start:\n" + f.read()[-4000:])
            time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.proc.send_signal(signal.SIGINT)
        cls.proc.wait(timeout=30)
        cls.log.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def height(cls):
        try:
            with urllib.request.urlopen(f"{cls.rpc}/status", timeout=5) as r:
                return int(json.load(r)["result"]["sync_info"]["latest_block_height"])
        except Exception:
            return 0

    def scrape(self):
        with urllib.request.urlopen(f"http://{self.metrics}/metrics", timeout=10) as r:
            self.assertTrue(r.headers["content-type"].startswith("text/plain; version=0.0.4"))
            return r.read().decode()

    def test_the_prometheus_client_reads_cometbft_names_and_types(self):
        text = self.scrape()
        families = {f.name: f for f in text_string_to_metric_families(text)}
        for name, kind in COMETBFT.items():
            # The client strips a counter's `_total`; CometBFT's counters have none to strip.
            self.assertIn(name, families, name)
            self.assertEqual(families[name].type, kind, name)
        height = families["cometbft_consensus_latest_block_height"].samples[0]
        self.assertEqual(height.labels, {"chain_id": "caspur-dev-1"})
        self.assertGreaterEqual(height.value, 3)
        counts = [s for s in families["cometbft_consensus_block_interval_seconds"].samples
                  if s.name.endswith("_count")]
        self.assertGreater(counts[0].value, 0)

    def test_promtool_accepts_the_exposition_and_the_rules(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.fail("promtool is missing (scripts/test.sh installs Debian's prometheus)")
        node_families = [line for line in self.scrape().splitlines()
                         if line.startswith(("cometbft_", "caspur_", "# HELP cometbft_",
                                             "# TYPE cometbft_", "# HELP caspur_",
                                             "# TYPE caspur_"))]
        checked = subprocess.run([promtool, "check", "metrics"],
                                 input="\n".join(node_families) + "\n",
                                 capture_output=True, text=True)
        # The one finding allowed is the one CometBFT's own endpoint gets: its counters are
        # named without `_total`, and dashboards query those names. Anything else (a parse
        # error, a missing HELP, a bad name) fails.
        cometbft_counters = {n for n, kind in COMETBFT.items() if kind == "counter"}
        findings = [line for line in (checked.stdout + checked.stderr).splitlines() if line]
        for line in findings:
            name, _, problem = line.partition(" ")
            self.assertIn(name, cometbft_counters, line)
            self.assertEqual(problem, 'counter metrics should have "_total" suffix', line)
        self.assertEqual(len(findings), len(cometbft_counters), findings)
        rules = subprocess.run([promtool, "check", "rules", RULES], capture_output=True, text=True)
        self.assertEqual(rules.returncode, 0, rules.stdout + rules.stderr)

    def test_every_rule_and_panel_reads_a_metric_the_node_serves(self):
        served = {f.name for f in text_string_to_metric_families(self.scrape())}
        # Histogram and counter series names as queried.
        served |= {n + "_bucket" for n in served} | {n + "_total" for n in served}
        with open(RULES) as f:
            groups = yaml.safe_load(f)["groups"]
        exprs = [rule["expr"] for group in groups for rule in group["rules"]]
        self.assertGreaterEqual(len(exprs), 10)
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
        for expr in exprs:
            for name in metric_names(expr):
                self.assertIn(name, served, f"{name} in {expr!r}")


if __name__ == "__main__":
    unittest.main()
