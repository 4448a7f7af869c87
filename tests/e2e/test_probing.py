#!/usr/bin/env python3
"""End-to-end tests of trunk health probing (issue 5 "What it must show", SPEC §4): the real
switchboard daemon and redis-server on loopback, trunks played by tests/e2e/sip_peer.py
(SIPp's -aa answers only the first OPTIONS of a run, and a peer that is paused and resumed
has to answer probes for as long as the test runs).

  - a trunk whose peer stops answering (SIGSTOP: its socket stays bound, so the gateway sees
    silence, not ICMP) is marked down after exactly down_after consecutive misses; a call
    placed while it is down goes straight to the route's backup: the down trunk gets no
    attempt at all (counted: no failover timer was waited on it); after SIGCONT it is up
    again after exactly up_after consecutive answers and takes the next call;
  - OPTIONS answered 404 or 405 count as alive when those codes are accepted, 403 (not
    accepted) is a miss; with no accepted codes configured any answer is alive;
  - nobody listening on a trunk's port (ICMP port unreachable) is a transport error: a miss
    at once, never a probe timeout;
  - a trunk's own probe settings in trunks.yaml (accepted codes, down_after, enabled: false),
    published through Redis, apply to it alone over the gateway-wide sip.probe.

Everything is judged by counts (probe results, state changes, call attempts, what the peers
received) and by the reason the gateway gives, never by elapsed time.

Run:  python3 tests/e2e/test_probing.py --build-dir build [-v] [TestClass[.test_name] ...]
Prints "N passed, N failed" last and exits non-zero when anything failed.
"""

import contextlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as h  # noqa: E402
import sip_peer  # noqa: E402
import test_calls as tc  # noqa: E402
import test_operations as ops  # noqa: E402

# Short probing so every transition shows within seconds (gateway-wide sip.probe). The
# timeout stays below the shortest jittered interval (300 ms - 20 %).
PROBE = {"interval_ms": 300, "jitter_percent": 20, "timeout_ms": 200, "down_after": 3,
         "up_after": 2}
WAIT_S = 20.0  # upper bound for any state to show (a bound for a hung run, not a measurement)

_STATE_LINE = re.compile(r'event=trunk_state\b(.*)$')
_KV = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def flow_map(settings):
    """{'a': 1, 'b': [2, 3]} -> '{a: 1, b: [2, 3]}' for gateway.yaml."""
    def value(v):
        return "[%s]" % ", ".join(str(x) for x in v) if isinstance(v, (list, tuple)) else str(v)
    return "{%s}" % ", ".join("%s: %s" % (k, value(v)) for k, v in settings.items())


def state_changes(log_path, trunk, offset=0):
    """The gateway's trunk_state log lines for `trunk` after byte `offset`, each as
    {"from", "to", "reason"}."""
    out = []
    with open(log_path, "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    for line in text.splitlines():
        m = _STATE_LINE.search(line)
        if not m:
            continue
        fields = {k: (v[1:-1].replace('\\"', '"') if v.startswith('"') else v)
                  for k, v in _KV.findall(m.group(1))}
        if fields.get("trunk") == trunk:
            out.append(fields)
    return out


def out_attempts(metrics, trunk):
    """{result: count} of calls forwarded to `trunk` (switchboard_trunk_calls_total, the
    destination side: no direction label, or direction="out")."""
    out = {}
    for (name, labels), value in metrics.items():
        if name != "switchboard_trunk_calls_total":
            continue
        d = dict(labels)
        if d.get("trunk") != trunk or d.get("direction", "out") != "out":
            continue
        out[d.get("result")] = out.get(d.get("result"), 0.0) + value
    return out


def delta(before, after):
    keys = set(before) | set(after)
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in keys
            if after.get(k, 0.0) != before.get(k, 0.0)}


class ProbingCase(tc.GatewayTestCase):
    """A redis-server, the fixture tables (every trunk on a free port), a sip_peer for each
    trunk in `peers` (trunk -> sip_peer options), then one gateway probing with `probe`.
    Trunks without a peer have nobody listening: their probes get ICMP port unreachable."""

    probe = PROBE
    peers = {}
    extra_sip = {}  # more gateway.yaml `sip:` settings of a test class

    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        cls.gw_exit = None
        try:
            cls.workdir = h.make_workdir("sb-e2e-%s-" % cls.__name__)
            cls.redis = h.RedisServer(cls.workdir).start()
            cls.stack.callback(lambda: cls.redis.stop())
            cls.ports = {t: h.free_port() for t in h.TRUNKS}
            cls.table_dir = os.path.join(cls.workdir, "tables")
            h.make_table_dir(cls.table_dir, cls.ports)
            cls.edit_tables(os.path.join(cls.table_dir, "trunks.yaml"))
            cls.version = h.publish_tables(tc.ctl_binary(), cls.table_dir, cls.redis.address)
            cls.peer_procs = {}
            for trunk, options in cls.peers.items():
                peer = sip_peer.PeerProcess(cls.ports[trunk], cls.workdir, trunk, **options)
                peer.start()
                cls.stack.callback(peer.stop)
                cls.peer_procs[trunk] = peer
            cls.gw = h.Gateway(tc.daemon_binary(), cls.workdir, cls.redis.address,
                               failover_timeout_ms=tc.FAILOVER_MS,
                               extra_sip=dict(cls.extra_sip, probe=flow_map(cls.probe)),
                               **cls.gateway_options())
            cls.stack.callback(cls._stop_gateway)
            cls.gw.start()
            cls.gw_re = h.re_escape(cls.gw.sip_address)
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def gateway_options(cls):
        """More keyword arguments of harness.Gateway (ports) for a test class."""
        return {}

    @classmethod
    def edit_tables(cls, trunks_yaml):
        """Gives trunks probe settings of their own: `trunk_probe` (trunk -> YAML flow map)."""
        with open(trunks_yaml, encoding="utf-8") as f:
            text = f.read()
        for trunk, block in getattr(cls, "trunk_probe", {}).items():
            marker = "  - name: %s\n" % trunk
            assert marker in text, trunk
            text = text.replace(marker, marker + "    probe: %s\n" % block)
        with open(trunks_yaml, "w", encoding="utf-8") as f:
            f.write(text)

    # --- helpers ----------------------------------------------------------------------

    def wait_health(self, name, health, **want):
        """Waits until /api/v1/trunks/NAME says `health` (and every field of `want`)."""
        last = [None]

        def matches():
            last[0] = ops.trunk(self.gw, name)
            return last[0].get("health") == health and all(
                last[0].get(k) == v for k, v in want.items())
        try:
            h.wait_until(matches, WAIT_S, interval=0.05, what="trunk %s %s" % (name, health))
        except h.HarnessError as e:
            self.fail("%s; last seen: %s%s" % (e, json.dumps(last[0], ensure_ascii=False),
                                               self.context()))
        return last[0]

    def probes(self, metrics, trunk):
        return {r: metrics.get(h.key("switchboard_trunk_probes_total", trunk=trunk, result=r), 0.0)
                for r in ("answered", "missed")}

    def changes(self, metrics, trunk):
        return metrics.get(h.key("switchboard_trunk_state_changes_total", trunk=trunk), 0.0)

    def up_gauge(self, trunk):
        return self.gw.metric("switchboard_trunk_up", trunk=trunk)

    def log_size(self):
        return os.path.getsize(self.gw.log_path)

    def wait_change(self, trunk, to, offset):
        """The first trunk_state line of `trunk` to `to` logged after `offset`."""
        def found():
            return [c for c in state_changes(self.gw.log_path, trunk, offset) if c.get("to") == to]
        try:
            return h.wait_until(found, 5.0, what="trunk_state %s -> %s in the log" % (trunk, to))[0]
        except h.HarnessError as e:
            self.fail("%s%s" % (e, self.context()))

    def invites(self, trunk):
        return self.peer_procs[trunk].events("invite")


class DownAndUpTests(ProbingCase):
    """320500: [js-suzhou, js-province]; both trunks answer, js-suzhou is paused and resumed."""

    peers = {"js-suzhou": {}, "js-province": {}}

    def test_silent_trunk_down_after_n_misses_calls_skip_it_and_it_comes_back_after_m_answers(self):
        suzhou = self.peer_procs["js-suzhou"]
        self.wait_health("js-suzhou", "up")
        self.wait_health("js-province", "up")
        self.assertEqual(self.up_gauge("js-suzhou"), 1)
        before = self.gw.metrics()
        offset = self.log_size()

        # The peer stops answering; its socket stays bound (silence, not ICMP).
        suzhou.pause()
        try:
            down = self.wait_health("js-suzhou", "down")
            change = self.wait_change("js-suzhou", "down", offset)
            # SPEC §4: down at exactly down_after consecutive misses, each a probe timeout.
            self.assertEqual(change.get("from"), "up", change)
            m = re.match(r"(\d+) consecutive misses, last: (.*)$", change.get("reason", ""))
            self.assertIsNotNone(m, change)
            self.assertEqual(int(m.group(1)), PROBE["down_after"], change)
            self.assertEqual(m.group(2), "no answer within %d ms" % PROBE["timeout_ms"], change)
            self.assertIn("no answer within", down.get("health_reason", ""), down)
            after_down = self.gw.metrics()
            self.assertEqual(after_down.get(h.key("switchboard_trunk_up", trunk="js-suzhou")), 0)
            self.assertEqual(self.changes(after_down, "js-suzhou") - self.changes(before, "js-suzhou"), 1)
            missed = self.probes(after_down, "js-suzhou")["missed"] - self.probes(before, "js-suzhou")["missed"]
            self.assertGreaterEqual(missed, PROBE["down_after"])
            # The backup stays up all along.
            self.assertEqual(self.changes(after_down, "js-province"), self.changes(before, "js-province"))

            # A call while js-suzhou is down goes straight to js-province: js-suzhou gets no
            # attempt (had it been tried, the failover timer would have counted a timeout).
            calls_before = self.gw.metrics()
            backup_invites = len(self.invites("js-province"))
            self.assertSippOk(self.call("12333320500"))
            calls_after = self.gw.metrics()
            self.assertEqual(delta(out_attempts(calls_before, "js-suzhou"),
                                   out_attempts(calls_after, "js-suzhou")), {})
            self.assertEqual(delta(out_attempts(calls_before, "js-province"),
                                   out_attempts(calls_after, "js-province")), {"answered": 1.0})
            got = self.invites("js-province")[backup_invites:]
            self.assertEqual(len(got), 1, got)
            self.assertEqual(got[0]["headers"].get("x-12333-region"), "320500", got[0])
            self.assertEqual(got[0]["behaviour"], "answer", got[0])
            self.assertEqual(self.wait_health("js-suzhou", "down")["health"], "down")
        finally:
            resumed_at = self.log_size()
            back = self.gw.metrics()
            suzhou.resume()

        # Back: up at exactly up_after consecutive answers.
        self.wait_health("js-suzhou", "up")
        change = self.wait_change("js-suzhou", "up", resumed_at)
        self.assertEqual(change.get("from"), "down", change)
        m = re.match(r"(\d+) consecutive answers, last (\d+)$", change.get("reason", ""))
        self.assertIsNotNone(m, change)
        self.assertEqual(int(m.group(1)), PROBE["up_after"], change)
        self.assertEqual(m.group(2), "200", change)
        after_up = self.gw.metrics()
        self.assertEqual(after_up.get(h.key("switchboard_trunk_up", trunk="js-suzhou")), 1)
        self.assertEqual(self.changes(after_up, "js-suzhou") - self.changes(back, "js-suzhou"), 1)
        answered = self.probes(after_up, "js-suzhou")["answered"] - self.probes(back, "js-suzhou")["answered"]
        self.assertGreaterEqual(answered, PROBE["up_after"])
        # What the paused peer had queued was only OPTIONS: no call ever reached it.
        self.assertEqual(self.invites("js-suzhou"), [])
        self.assertGreater(len(suzhou.events("options")), 0)

        # And it takes calls again.
        calls_before = self.gw.metrics()
        self.assertSippOk(self.call("12333320500"))
        calls_after = self.gw.metrics()
        self.assertEqual(delta(out_attempts(calls_before, "js-suzhou"),
                               out_attempts(calls_after, "js-suzhou")), {"answered": 1.0})
        self.assertEqual(delta(out_attempts(calls_before, "js-province"),
                               out_attempts(calls_after, "js-province")), {})
        self.assertEqual(len(self.invites("js-suzhou")), 1)
        self.assertIdle()


class AcceptedCodesTests(ProbingCase):
    """sip.probe.accepted_codes [200, 404, 405]: PBXs that answer OPTIONS 404 or 405 are
    alive; 403 is not accepted; nobody listening is ICMP port unreachable."""

    probe = dict(PROBE, accepted_codes=[200, 404, 405])
    peers = {"zj-hangzhou": {"options_code": 404}, "zj-ningbo": {"options_code": 405},
             "zj-province": {"options_code": 403}}

    def test_404_and_405_are_alive_when_accepted_and_403_is_a_miss(self):
        for name, code in (("zj-hangzhou", 404), ("zj-ningbo", 405)):
            with self.subTest(trunk=name, code=code):
                self.wait_health(name, "up")
                m = self.gw.metrics()
                self.assertEqual(self.probes(m, name)["missed"], 0, self.context())
                self.assertGreaterEqual(self.probes(m, name)["answered"], 1)
                self.assertEqual(m.get(h.key("switchboard_trunk_up", trunk=name)), 1)
                answered = {e["code"] for e in self.peer_procs[name].events("options")}
                self.assertEqual(answered, {code})
        t = self.wait_health("zj-province", "down")
        self.assertEqual(t.get("health_reason"), "answered 403, not an accepted code", t)
        change = self.wait_change("zj-province", "down", 0)
        self.assertTrue(change.get("reason", "").startswith(
            "%d consecutive misses, last: answered 403" % PROBE["down_after"]), change)
        m = self.gw.metrics()
        self.assertEqual(self.probes(m, "zj-province")["answered"], 0)
        self.assertGreaterEqual(self.probes(m, "zj-province")["missed"], PROBE["down_after"])
        self.assertEqual(m.get(h.key("switchboard_trunk_up", trunk="zj-province")), 0)
        # A route whose every trunk is alive by 404: the call goes to the 404 trunk.
        calls_before = self.gw.metrics()
        self.assertSippOk(self.call("12333330100"))  # 330100: [zj-hangzhou, zj-province]
        self.assertEqual(delta(out_attempts(calls_before, "zj-hangzhou"),
                               out_attempts(self.gw.metrics(), "zj-hangzhou")), {"answered": 1.0})
        self.assertEqual(len(self.invites("zj-hangzhou")), 1)
        self.assertIdle()

    def test_nobody_listening_is_a_transport_error_at_once_not_a_timeout(self):
        # mohrss-national's port has no socket: every probe gets ICMP port unreachable, which
        # nta reports on the transaction; the prober counts it as a miss without waiting for
        # the probe timeout, so the reason is the transport error, never "no answer within".
        t = self.wait_health("mohrss-national", "down")
        reason = t.get("health_reason", "")
        self.assertTrue(reason.startswith("transport error: "), t)
        self.assertIn("ICMP port unreachable", reason)
        self.assertIn("udp 127.0.0.1:%d" % self.ports["mohrss-national"], reason)
        change = self.wait_change("mohrss-national", "down", 0)
        self.assertEqual(change.get("from"), "unknown", change)
        self.assertEqual(change.get("reason"), "%d consecutive misses, last: %s"
                         % (PROBE["down_after"], reason), change)
        self.assertNotIn("no answer", " ".join(c.get("reason", "") for c in
                                               state_changes(self.gw.log_path, "mohrss-national")))
        self.assertIsNone(t.get("probe_rtt_ms"), t)  # nothing ever came back from it


class AnyAnswerTests(ProbingCase):
    """No accepted codes configured (SPEC §4 default): any answer from the trunk is alive."""

    peers = {"zj-hangzhou": {"options_code": 404}, "zj-ningbo": {"options_code": 403}}

    def test_any_answer_is_alive_without_accepted_codes(self):
        for name in ("zj-hangzhou", "zj-ningbo"):
            with self.subTest(trunk=name):
                t = self.wait_health(name, "up")
                self.assertIsNotNone(t.get("probe_rtt_ms"), t)
                m = self.gw.metrics()
                self.assertEqual(self.probes(m, name)["missed"], 0, self.context())
                self.assertEqual(m.get(h.key("switchboard_trunk_up", trunk=name)), 1)
        self.wait_health("mohrss-national", "down")


class PerTrunkSettingsTests(ProbingCase):
    """Probe settings of a trunk's own in trunks.yaml (published by switchboardctl, loaded
    from Redis) over the gateway-wide sip.probe (any answer alive, down after 3)."""

    peers = {"zj-ningbo": {"options_code": 404}, "zj-hangzhou": {"options_code": 404}}
    trunk_probe = {"zj-ningbo": "{accepted_codes: [200], down_after: 2}",
                   "mohrss-national": "{enabled: false}"}

    def test_a_trunks_own_settings_apply_to_it_alone(self):
        # Ningbo accepts only 200 and goes down at its own 2 misses; Hangzhou, answering the
        # same 404 under the gateway-wide settings, is up.
        t = self.wait_health("zj-ningbo", "down")
        self.assertEqual(t.get("health_reason"), "answered 404, not an accepted code", t)
        change = self.wait_change("zj-ningbo", "down", 0)
        self.assertEqual(change.get("reason"),
                         "2 consecutive misses, last: answered 404, not an accepted code", change)
        self.wait_health("zj-hangzhou", "up")
        # Nobody listens for mohrss-national, but it is never probed: up, no probe counted,
        # while trunks probed with the gateway-wide settings on closed ports went down.
        self.wait_health("bj-province", "down")
        self.wait_health("ha-province", "down")
        t = self.wait_health("mohrss-national", "up")
        self.assertEqual(t.get("health_reason"), "", t)
        m = self.gw.metrics()
        self.assertEqual(self.probes(m, "mohrss-national"), {"answered": 0, "missed": 0})
        self.assertEqual(self.changes(m, "mohrss-national"), 0)
        self.assertEqual(m.get(h.key("switchboard_trunk_up", trunk="mohrss-national")), 1)
        self.assertEqual(state_changes(self.gw.log_path, "mohrss-national"), [])
        self.assertGreaterEqual(self.probes(m, "bj-province")["missed"], PROBE["down_after"])
        self.assertEqual(self.probes(m, "zj-hangzhou")["missed"], 0)


if __name__ == "__main__":
    sys.exit(tc.main(module=sys.modules[__name__]))
