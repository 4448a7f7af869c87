#!/usr/bin/env python3
"""The metric cross-check of monitoring/ (issue 6): every metric name the rules and the
dashboards use is exported by a live gateway.

Starts a real redis-server and the real switchboard daemon on loopback (tests/e2e/
harness.py), publishes the e2e fixture tables, answers OPTIONS probes and one call at
js-suzhou with a SIPp peer, makes that call and one that has no route, then scrapes
/metrics and checks:
  - every metric name in the expressions of monitoring/rules/*.yml and the panel targets
    and query variables of monitoring/grafana/*.json is a series name the gateway exports
    (histograms by their _bucket/_sum/_count series), or a series the recording rules
    record, or one Prometheus makes (`up`);
  - every such name is in docs/metrics.md;
  - every label a selector matches on exists on that metric (instance and job come from
    Prometheus), and every `le` bucket edge a rule or panel selects exists; every label
    of a by/on/group_left clause or a panel legend exists on some exported metric;
  - every value an equality matcher asks for (result="answered", reason="no_route",
    direction="out", ...) is one the gateway exports for that label.
A failure lists each missing name with where it is used.

A real Prometheus server (Debian `prometheus`, the package that ships promtool) scrapes the
same gateway every second with monitoring/rules loaded, from before the calls: every
rule must evaluate without error on the gateway's real series and labels, the recorded
figures of the answered call must come out (ASR, NER and answered-within-20 s of js-suzhou
are 1), and the trunk-down and province-down alerts must be pending exactly for the trunks
and provinces nobody answers for.

Run:  python3 tests/monitoring/test_metric_names.py --build-dir build [-v] [--keep]
Prints "N passed, N failed" last and exits non-zero when anything failed.
"""

import contextlib
import glob
import json
import os
import shutil
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

import harness as h  # noqa: E402
import monitoring_files as mf  # noqa: E402

BUILD_DIR = os.path.join(h.REPO, "build")
ORIGIN = "ha-province"  # the fixture trunk whose source address the SIPp caller uses
CALLER = "13800138000"


def daemon_binary():
    return os.environ.get("SWITCHBOARD_BIN") or os.path.join(BUILD_DIR, "gateway", "app", "switchboard")


def ctl_binary():
    return os.environ.get("SWITCHBOARDCTL_BIN") or os.path.join(BUILD_DIR, "gateway", "ctl", "switchboardctl")


PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


class Prometheus:
    """A Prometheus server on a free loopback port scraping one gateway every second, with
    monitoring/rules/*.yml loaded, its TSDB in the work dir."""

    def __init__(self, workdir, target):
        self.workdir = workdir
        self.port = h.free_port()
        self.config_path = os.path.join(workdir, "prometheus.yml")
        self.log_path = os.path.join(workdir, "prometheus.log")
        self.proc = None
        rules = ", ".join('"%s"' % p for p in sorted(glob.glob(mf.RULES_GLOB)))
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write("# written by tests/monitoring/test_metric_names.py\n"
                    "global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}\n"
                    "rule_files: [%s]\n"
                    "scrape_configs:\n"
                    "  - job_name: switchboard\n"
                    "    static_configs: [{targets: [\"%s\"]}]\n" % (rules, target))

    def start(self, timeout=30.0):
        self.proc = h._spawn([PROMETHEUS, "--config.file=" + self.config_path,
                              "--storage.tsdb.path=" + os.path.join(self.workdir, "tsdb"),
                              "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
                             self.log_path, cwd=self.workdir)

        def ready():
            if self.proc.poll() is not None:
                raise h.HarnessError("prometheus exited with %s:\n%s" % (self.proc.returncode, h.tail(self.log_path)))
            try:
                return h.http_get("127.0.0.1", self.port, "/-/ready")[0] == 200
            except OSError:
                return False
        h.wait_until(ready, timeout, interval=0.2, what="prometheus /-/ready")
        return self

    def api(self, path):
        status, body = h.http_get("127.0.0.1", self.port, path, timeout=5.0)
        if status != 200:
            raise h.HarnessError("prometheus %s answered %d: %s" % (path, status, body[:500]))
        return json.loads(body)["data"]

    def query(self, expr):
        """Instant query -> {frozenset(labels): value}."""
        data = self.api("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        return {frozenset(r["metric"].items()): float(r["value"][1]) for r in data["result"]}

    def stop(self):
        if self.proc is not None:
            h._stop(self.proc)
            self.proc = None


def exported(metrics):
    """{series name: {label: {values}}} of a parsed scrape."""
    out = {}
    for (name, labels), _ in metrics.items():
        per = out.setdefault(name, {})
        for k, v in labels:
            per.setdefault(k, set()).add(v)
    return out


class LiveGatewayNames(unittest.TestCase):
    """One gateway, two calls, one scrape; the checks below read that scrape."""

    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        try:
            cls.workdir = h.make_workdir("sb-monitoring-")
            cls.redis = h.RedisServer(cls.workdir).start()
            cls.stack.callback(cls.redis.stop)
            ports = {t: h.free_port() for t in h.TRUNKS}
            table_dir = os.path.join(cls.workdir, "tables")
            h.make_table_dir(table_dir, ports)
            h.publish_tables(ctl_binary(), table_dir, cls.redis.address)
            # Probes on: the peer answers them (trunk up, RTT); the trunks nobody listens
            # for answer with ICMP port unreachable and go down after three probes, so
            # health, state and probe series all carry values. Three misses, not one, keep
            # the peer's trunk up on a slow (sanitizer) build.
            cls.gw = h.Gateway(daemon_binary(), cls.workdir, cls.redis.address,
                               extra_sip={"probe": "{interval_ms: 500, timeout_ms: 400, down_after: 3}"})
            cls.stack.callback(cls.gw.stop)
            cls.gw.start()
            gw_re = h.re_escape(cls.gw.sip_address)
            peer = h.Uas("uas-answer.xml", ports["js-suzhou"], cls.workdir, timeout_s=60,
                         params={"ORIGIN": ORIGIN, "REGION": "320500", "LEVEL": "city", "GW_RE": gw_re})
            peer.start()
            cls.stack.callback(peer.stop)
            cls.prom = Prometheus(cls.workdir, "127.0.0.1:%d" % cls.gw.metrics_port).start()
            cls.stack.callback(cls.prom.stop)
            # Two scrapes before the calls, so that the counters' increase includes them.
            h.wait_until(lambda: cls.prom.query('count_over_time(up{job="switchboard"}[1m]) >= 2 '
                                                'and up{job="switchboard"} == 1'),
                         30.0, interval=0.2, what="prometheus scraping the gateway")
            # Until the gateway has had a probe answer from the peer (the call then goes
            # straight to it) and seen the others down.
            h.wait_until(lambda: cls.gw.metric("switchboard_trunk_up", trunk="js-suzhou") == 1
                         and cls.gw.metric("switchboard_trunk_up", trunk="zj-ningbo") == 0,
                         15.0, interval=0.1, what="probes: js-suzhou up, zj-ningbo down")
            call = h.run_uac("uac-call.xml", cls.gw.sip_address, "12333320500", cls.workdir,
                             params={"CALLER": CALLER, "RR_RE": "sip:%s;lr" % gw_re})
            if call.rc != 0 or call.successful != 1:
                raise h.HarnessError("the answered call failed\n" + call.describe())
            rejected = h.run_uac("uac-reject.xml", cls.gw.sip_address, "12333990000", cls.workdir,
                                 params={"CALLER": CALLER, "STATUS": 404, "WHY_RE": "^SIP/2.0 ",
                                         "MAX_FORWARDS": 70, "EXTRA_RE": "^SIP/2.0 "})
            if rejected.rc != 0 or rejected.successful != 1:
                raise h.HarnessError("the call without route did not get 404\n" + rejected.describe())
            # The answered call is counted when it ends (BYE relayed).
            h.wait_until(lambda: (cls.gw.metric("switchboard_trunk_calls_total", trunk="js-suzhou",
                                                direction="out", result="answered")
                                  or cls.gw.metric("switchboard_trunk_calls_total", trunk="js-suzhou",
                                                   result="answered") or 0) >= 1,
                         10.0, interval=0.1, what="the answered call counted")
            time.sleep(0.2)
            cls.scrape = exported(cls.gw.metrics())
            # Until Prometheus has scraped the counted call and evaluated the rules on it.
            asr = 'trunk:switchboard_trunk_asr:ratio1h{trunk="js-suzhou"}'
            h.wait_until(lambda: cls.prom.query(asr), 30.0, interval=0.2, what="%s recorded" % asr)
            time.sleep(2.5)  # two more evaluations: alerts and every group have run since
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def uses(self):
        """[(where, expr)] of every rule and dashboard expression."""
        out = mf.rule_expressions() + mf.dashboard_expressions()
        self.assertGreater(len(out), 50, "rules or dashboards not found")
        return out

    def test_every_name_is_exported(self):
        recorded = mf.recorded_names()
        missing = {}
        for where, expr in self.uses():
            for name in mf.metric_names(expr):
                if name in recorded or name in mf.PROMETHEUS_SERIES or name in self.scrape:
                    continue
                missing.setdefault(name, []).append(where)
        if missing:
            self.fail("%d metric name(s) used in monitoring/ that the gateway does not export:\n%s"
                      % (len(missing), "\n".join("  %s  (%s%s)" % (n, w[0], ", +%d more" % (len(w) - 1) if len(w) > 1 else "")
                                                 for n, w in sorted(missing.items()))))

    def test_every_name_is_documented(self):
        docs = mf.documented_metrics()
        recorded = mf.recorded_names()
        missing = sorted({n for _, e in self.uses() for n in mf.metric_names(e)
                          if n not in recorded and n not in mf.PROMETHEUS_SERIES and not mf.documented(n, docs)})
        self.assertEqual(missing, [], "names used in monitoring/ but not in docs/metrics.md")

    def test_the_gateway_exports_nothing_undocumented(self):
        docs = mf.documented_metrics()
        self.assertEqual(sorted(n for n in self.scrape if not mf.documented(n, docs)), [],
                         "series the gateway exports that docs/metrics.md does not list")

    def test_selected_labels_and_values_exist(self):
        problems = set()
        for where, expr in self.uses():
            for name, matchers in mf.selectors(expr):
                labels = self.scrape.get(name)
                if labels is None:
                    continue  # recorded, Prometheus' own, or reported by test_every_name_is_exported
                for label, op, value in matchers:
                    if label in mf.TARGET_LABELS:
                        continue
                    if label not in labels:
                        problems.add("%s: %s has no label %s" % (where, name, label))
                    elif op == "=" and "$" not in value and value not in labels[label]:
                        problems.add("%s: %s{%s=\"%s\"}: the gateway exports %s=%s" % (
                            where, name, label, value, label, "|".join(sorted(labels[label]))))
                    elif op == "=~" and "$" not in value:
                        for alt in value.split("|"):
                            if alt.isidentifier() and alt not in labels[label]:
                                problems.add("%s: %s{%s=~\"%s\"}: no %s=%s exported" % (
                                    where, name, label, value, label, alt))
        self.assertEqual(sorted(problems), [])

    def test_grouping_and_legend_labels_exist(self):
        """Labels in by/on/group_left clauses and in legends are labels the gateway exports
        (on some metric), Prometheus adds, or a histogram has (le)."""
        known = {label for per in self.scrape.values() for label in per} | mf.TARGET_LABELS | {"le"}
        problems = sorted({"%s: label %s" % (where, label)
                           for where, expr in self.uses() for label in mf.grouping_labels(expr)
                           if label not in known}
                          | {"%s: legend label %s" % (where, label)
                             for where, label in mf.dashboard_legend_labels() if label not in known})
        self.assertEqual(problems, [], "labels no exported metric has")

    # ---- the rules evaluated by a real Prometheus on this gateway's series ----

    def test_every_rule_evaluates_without_error(self):
        groups = self.prom.api("/api/v1/rules")["groups"]
        evaluated = {r["name"]: r for g in groups for r in g["rules"]}
        defined = mf.recorded_names() | mf.alert_names()
        self.assertEqual(sorted(defined - set(evaluated)), [], "rules Prometheus did not load")
        problems = ["%s: health %s %s" % (name, r.get("health"), r.get("lastError", ""))
                    for name, r in sorted(evaluated.items()) if r.get("health") != "ok"]
        self.assertEqual(problems, [], "rules failing on the gateway's real series\n%s" % h.tail(self.prom.log_path))

    def test_recorded_figures_of_the_answered_call(self):
        def one(expr):
            got = self.prom.query(expr)
            self.assertEqual(len(got), 1, "%s: %s" % (expr, got))
            return list(got.values())[0]
        for name in ("asr", "ner", "answered_within_20s", "answered_within_30s"):
            self.assertEqual(one('trunk:switchboard_trunk_%s:ratio1h{trunk="js-suzhou"}' % name), 1.0, name)
        # The caller's origin trunk: one call in, answered, none abandoned.
        self.assertEqual(one('trunk:switchboard_trunk_abandon:ratio1h{trunk="%s"}' % ORIGIN), 0.0)
        self.assertEqual(one('province:switchboard_trunk_asr:ratio1h{province="320000"}'), 1.0)
        self.assertGreater(one(":switchboard_calls:increase1h"), 0)
        # Every trunk of the table once, with its province.
        info = self.prom.query("trunk:switchboard_trunk_info:max")
        self.assertEqual(sorted(dict(k)["trunk"] for k in info), sorted(h.TRUNKS))
        self.assertEqual({dict(k)["province"] for k in info if dict(k)["trunk"] == "js-suzhou"}, {"320000"})

    def test_down_alerts_pending_for_exactly_the_unanswered(self):
        pending = self.prom.query('ALERTS{alertstate="pending"}')
        down = sorted(dict(k)["trunk"] for k in pending if dict(k)["alertname"] == "SwitchboardTrunkDown")
        self.assertEqual(down, sorted(t for t in h.TRUNKS if t != "js-suzhou"))
        provinces = sorted(dict(k)["province"] for k in pending if dict(k)["alertname"] == "SwitchboardProvinceDown")
        # Jiangsu has js-suzhou up; Zhejiang, Henan and Beijing have nobody answering.
        self.assertEqual(provinces, ["110000", "330000", "410000"])
        others = sorted({dict(k)["alertname"] for k in pending}
                        - {"SwitchboardTrunkDown", "SwitchboardProvinceDown"})
        self.assertEqual(others, [], "alerts pending on a healthy gateway")

    def test_answer_delay_has_the_20_and_30_second_edges(self):
        edges = self.scrape.get("switchboard_trunk_answer_delay_seconds_bucket", {}).get("le", set())
        self.assertTrue({"20", "30"} <= edges, "le edges exported: %s" % sorted(edges))


def set_build_dir(path):
    global BUILD_DIR
    BUILD_DIR = path


if __name__ == "__main__":
    sys.exit(h.run_suite(sys.modules[__name__], set_build_dir, BUILD_DIR, label="monitoring"))
