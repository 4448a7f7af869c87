#!/usr/bin/env python3
"""Offline checks of monitoring/ (issue 6): what promtool does not check by itself.

  - prometheus.yml loads every rule file, and every rule file is loaded by the unit tests;
  - every alert has a `for:`, a severity (critical, warning, info), a summary and a
    description; every recording rule is named level:metric:operation;
  - every recording rule is evaluated by a promql_expr_test, and every alert has an
    alert_rule_test where it fires and one where it does not (monitoring/tests/*.yml);
  - every dashboard is valid Grafana JSON of the expected structure: a uid and a title,
    schemaVersion 39, the DS_PROMETHEUS data-source variable used by every panel and
    query, unique panel ids, panels inside the 24-column grid and not overlapping, every
    target with a unique refId and an expression, every $variable defined;
  - every dashboard expression is valid PromQL (promtool check rules on a generated file);
  - the checked-in dashboards are exactly what monitoring/grafana/generate.py writes.

Run:  python3 tests/monitoring/check_monitoring.py [--promtool PATH] [-v]
Prints "N passed, N failed" last; exit code non-zero on failure.
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import yaml  # noqa: E402

import monitoring_files as mf  # noqa: E402

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
SEVERITIES = {"critical", "warning", "info"}
GRAFANA_BUILTIN_VARS = {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s",
                        "__range_ms", "__from", "__to", "__dashboard", "__name", "__org", "__user",
                        "__url_time_range", "__data", "__field", "__series", "__value", "__cell",
                        "timeFilter", "__timeFilter"}
PANEL_TYPES = {"row", "timeseries", "stat", "table", "bargauge", "gauge", "heatmap", "text",
               "state-timeline", "piechart"}


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


class RuleFiles(unittest.TestCase):
    def test_there_are_rules_and_tests(self):
        self.assertTrue(mf.rule_files(), "no monitoring/rules/*.yml")
        self.assertTrue(mf.rule_test_files(), "no monitoring/tests/*.yml")

    def test_prometheus_yml_loads_every_rule_file(self):
        config = load_yaml(os.path.join(mf.MONITORING, "prometheus.yml"))
        import glob
        loaded = set()
        for pattern in config.get("rule_files", []):
            loaded |= {os.path.realpath(p) for p in glob.glob(os.path.join(mf.MONITORING, pattern))}
        missing = [os.path.relpath(p, mf.REPO) for p in mf.rule_files() if os.path.realpath(p) not in loaded]
        self.assertEqual(missing, [], "rule files prometheus.yml does not load")
        jobs = [s.get("job_name") for s in config.get("scrape_configs", [])]
        self.assertIn("switchboard", jobs, "the rules select up{job=\"switchboard\"}")

    def test_unit_tests_load_every_rule_file(self):
        loaded = set()
        for path in mf.rule_test_files():
            for rf in load_yaml(path).get("rule_files", []):
                loaded.add(os.path.realpath(os.path.join(os.path.dirname(path), rf)))
        missing = [os.path.relpath(p, mf.REPO) for p in mf.rule_files() if os.path.realpath(p) not in loaded]
        self.assertEqual(missing, [], "rule files no unit test loads")

    def test_alerts_have_for_severity_summary_description(self):
        problems = []
        for path, _, rule in mf.load_rules():
            if "alert" not in rule:
                continue
            name = rule["alert"]
            if not rule.get("for"):
                problems.append("%s: no for:" % name)
            if rule.get("labels", {}).get("severity") not in SEVERITIES:
                problems.append("%s: severity not one of %s" % (name, sorted(SEVERITIES)))
            for key in ("summary", "description"):
                if not str(rule.get("annotations", {}).get(key, "")).strip():
                    problems.append("%s: no %s annotation" % (name, key))
        self.assertEqual(problems, [])

    def test_names(self):
        problems = []
        seen = set()
        for _, _, rule in mf.load_rules():
            name = rule.get("record") or rule.get("alert")
            if name in seen:
                problems.append("%s defined twice" % name)
            seen.add(name)
            if "record" in rule and not re.match(r"^[a-z_]*:[a-z0-9_]+:[a-z0-9_]+$", rule["record"]):
                problems.append("%s: not level:metric:operation" % rule["record"])
            if "alert" in rule and not re.match(r"^Switchboard[A-Z][A-Za-z0-9]+$", rule["alert"]):
                problems.append("%s: alert names are SwitchboardCamelCase" % rule["alert"])
        self.assertEqual(problems, [])


class RuleTestCoverage(unittest.TestCase):
    """Every recording rule and every alert has a promtool unit test (firing and not)."""

    @classmethod
    def setUpClass(cls):
        cls.tested_exprs = set()
        cls.firing = set()
        cls.quiet = set()
        for path in mf.rule_test_files():
            for case in load_yaml(path).get("tests", []):
                for t in case.get("promql_expr_test", []) or []:
                    cls.tested_exprs |= mf.metric_names(t["expr"])
                for t in case.get("alert_rule_test", []) or []:
                    (cls.firing if t.get("exp_alerts") else cls.quiet).add(t["alertname"])

    def test_every_recording_rule_is_evaluated(self):
        self.assertEqual(sorted(mf.recorded_names() - self.tested_exprs), [],
                         "recording rules without a promql_expr_test")

    def test_every_alert_fires_in_a_test(self):
        self.assertEqual(sorted(mf.alert_names() - self.firing), [], "alerts never tested firing")

    def test_every_alert_stays_quiet_in_a_test(self):
        self.assertEqual(sorted(mf.alert_names() - self.quiet), [], "alerts never tested not firing")

    def test_tests_name_only_existing_alerts(self):
        self.assertEqual(sorted((self.firing | self.quiet) - mf.alert_names()), [])


def load_dashboards():
    out = {}
    for path in mf.dashboard_files():
        with open(path, encoding="utf-8") as f:
            out[os.path.basename(path)] = json.load(f)
    return out


class Dashboards(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dashboards = load_dashboards()

    def test_three_dashboards(self):
        self.assertEqual(sorted(self.dashboards),
                         ["switchboard-gateway.json", "switchboard-national.json", "switchboard-trunk.json"])

    def test_valid_json_files(self):
        for path in mf.dashboard_files():
            with self.subTest(path=path), open(path, encoding="utf-8") as f:
                json.loads(f.read())

    def test_top_level(self):
        uids = set()
        for name, d in self.dashboards.items():
            with self.subTest(dashboard=name):
                for key in ("uid", "title", "panels", "templating", "time", "schemaVersion", "tags"):
                    self.assertIn(key, d)
                self.assertEqual(d["schemaVersion"], 39)
                self.assertIsNone(d.get("id"), "exported dashboards carry no database id")
                self.assertRegex(d["uid"], r"^[a-z0-9-]{1,40}$")
                self.assertNotIn(d["uid"], uids)
                uids.add(d["uid"])
                self.assertIn("switchboard", d["tags"])
                ds = [v for v in d["templating"]["list"] if v["name"] == "DS_PROMETHEUS"]
                self.assertEqual(len(ds), 1, "one DS_PROMETHEUS variable")
                self.assertEqual((ds[0]["type"], ds[0]["query"]), ("datasource", "prometheus"))

    def test_panels(self):
        for name, d in self.dashboards.items():
            ids = set()
            cells = {}
            for p in mf.all_panels(d["panels"]):
                where = "%s panel %s '%s'" % (name, p.get("id"), p.get("title"))
                with self.subTest(panel=where):
                    self.assertIn(p.get("type"), PANEL_TYPES)
                    self.assertIsInstance(p.get("id"), int)
                    self.assertNotIn(p["id"], ids, "duplicate panel id")
                    ids.add(p["id"])
                    self.assertTrue(p.get("title"), "panel without a title")
                    g = p["gridPos"]
                    for k in ("h", "w", "x", "y"):
                        self.assertIsInstance(g[k], int)
                    self.assertTrue(g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["x"] + g["w"] <= 24)
                    for x in range(g["x"], g["x"] + g["w"]):
                        for y in range(g["y"], g["y"] + g["h"]):
                            self.assertNotIn((x, y), cells, "overlaps panel %s" % cells.get((x, y)))
                            cells[(x, y)] = p["id"]
                    if p["type"] == "row":
                        continue
                    self.assertEqual(p.get("datasource"), {"type": "prometheus", "uid": "${DS_PROMETHEUS}"})
                    targets = p.get("targets") or []
                    self.assertTrue(targets, "panel without queries")
                    refs = [t.get("refId") for t in targets]
                    self.assertEqual(len(refs), len(set(refs)), "duplicate refId")
                    for t in targets:
                        self.assertTrue(t.get("expr", "").strip(), "target %s without expr" % t.get("refId"))
                        self.assertEqual(t.get("datasource"), p["datasource"])
                    self.assertIn("defaults", p.get("fieldConfig", {}))

    def test_variables_are_defined(self):
        for name, d in self.dashboards.items():
            defined = {v["name"] for v in d["templating"]["list"]} | GRAFANA_BUILTIN_VARS
            text = json.dumps(d["panels"]) + json.dumps(d["templating"])
            used = {m.group(1) or m.group(2)
                    for m in re.finditer(r"\$\{([A-Za-z_]\w*)[^}]*\}|\$([A-Za-z_]\w*)", text)}
            with self.subTest(dashboard=name):
                self.assertEqual(sorted(used - defined), [], "undefined variables")

    def test_expressions_are_valid_promql(self):
        """promtool parses every dashboard expression (Grafana variables replaced by values
        of the right kind) as recording rules."""
        exprs = mf.dashboard_expressions()
        self.assertTrue(exprs)
        rules = []
        for i, (where, expr) in enumerate(exprs):
            e = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1h")
            e = re.sub(r"\$\{?[A-Za-z_]\w*\}?", "x", e)
            rules.append({"record": "dashboard:expr_%d:check" % i, "expr": e})
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dashboards.yml")
            with open(path, "w", encoding="utf-8") as f:
                yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}, f, allow_unicode=True)
            proc = subprocess.run([PROMTOOL, "check", "rules", path], capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            index = {"dashboard:expr_%d:check" % i: w for i, (w, _) in enumerate(exprs)}
            out = re.sub(r"dashboard:expr_\d+:check", lambda m: index.get(m.group(0), m.group(0)),
                         proc.stdout + proc.stderr)
            self.fail("promtool check rules failed on dashboard expressions:\n" + out)

    def test_checked_in_files_are_generated(self):
        spec = importlib.util.spec_from_file_location("generate", os.path.join(mf.MONITORING, "grafana", "generate.py"))
        gen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gen)
        for name, build in gen.DASHBOARDS.items():
            with self.subTest(dashboard=name):
                with open(os.path.join(mf.MONITORING, "grafana", name), encoding="utf-8") as f:
                    self.assertEqual(f.read(), gen.render(build),
                                     "%s differs from generate.py's output: run "
                                     "python3 monitoring/grafana/generate.py" % name)


class DocumentedNames(unittest.TestCase):
    """Every gateway metric named in rules and dashboards is in docs/metrics.md, and every
    recorded series they use is recorded by a rule (the live cross-check is
    test_metric_names.py)."""

    def test_names(self):
        docs = mf.documented_metrics()
        self.assertGreater(len(docs), 20, "docs/metrics.md tables not found")
        recorded = mf.recorded_names()
        problems = []
        for where, expr in mf.rule_expressions() + mf.dashboard_expressions():
            for name in sorted(mf.metric_names(expr)):
                if ":" in name:
                    if name not in recorded:
                        problems.append("%s: %s is recorded by no rule" % (where, name))
                elif name not in mf.PROMETHEUS_SERIES and not mf.documented(name, docs):
                    problems.append("%s: %s is not in docs/metrics.md" % (where, name))
        self.assertEqual(problems, [])


def main():
    global PROMTOOL
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promtool", default=PROMTOOL)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    PROMTOOL = args.promtool
    suite = unittest.TestLoader().loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed" % (result.testsRun - failed, failed))
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
