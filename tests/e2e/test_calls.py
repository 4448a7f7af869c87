#!/usr/bin/env python3
"""End-to-end tests: SIPp peers on loopback against the real switchboard daemon and a real
redis-server (issue 3, "What it must show"; SPEC §3, §4, §7, §9).

Every test sends a known set of SIP messages and then checks three things:
  - what the SIPp caller received (exact statuses; scenarios fail on any surprise),
  - what the SIPp destination peers received (the scenario checks headers with regexps:
    X-12333-Origin/Region/Level, the gateway's Record-Route, and that ACK and BYE reached
    them through the gateway), and that every peer finished all of its calls,
  - that /metrics moved by exactly what the test sent: the deltas of
    switchboard_trunk_calls_total{trunk,direction="out",result} (the destination side; the
    origin side, direction="in", is checked against the call records in test_records.py),
    switchboard_route_lookups_total{level},
    switchboard_rejections_total{reason} and switchboard_sip_requests_total{method} equal
    the expected ones, and every other series of those families stayed put; and that no
    call is left active afterwards.

Run:  python3 tests/e2e/test_calls.py --build-dir build [-v] [TestClass[.test_name] ...]
Prints "N passed, N failed" last and exits non-zero when anything failed.
"""

import contextlib
import os
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as h  # noqa: E402

BUILD_DIR = os.path.join(h.REPO, "build")
FAILOVER_MS = 500  # sip.failover_timeout_ms of the gateway under test

COUNTED = (
    "switchboard_trunk_calls_total",
    "switchboard_route_lookups_total",
    "switchboard_rejections_total",
    "switchboard_sip_requests_total",
)

# The fixture's caller is trunk ha-province (tests/fixtures/e2e/tables/trunks.yaml lists
# CALLER_IP as its source); a mobile number with no home region in the fixture.
ORIGIN = "ha-province"
CALLER = "13800138000"


def daemon_binary():
    return os.environ.get("SWITCHBOARD_BIN") or os.path.join(BUILD_DIR, "gateway", "app", "switchboard")


def ctl_binary():
    return os.environ.get("SWITCHBOARDCTL_BIN") or os.path.join(BUILD_DIR, "gateway", "ctl", "switchboardctl")


def expected_series(calls=None, lookups=None, rejections=None, requests=None):
    """{(trunk, result): n}, {level: n}, {reason: n}, {method: n} -> metric keys."""
    out = {}
    for (trunk, result), n in (calls or {}).items():
        out[h.key("switchboard_trunk_calls_total", trunk=trunk, direction="out",
                  result=result)] = float(n)
    for level, n in (lookups or {}).items():
        out[h.key("switchboard_route_lookups_total", level=level)] = float(n)
    for reason, n in (rejections or {}).items():
        out[h.key("switchboard_rejections_total", reason=reason)] = float(n)
    for method, n in (requests or {}).items():
        out[h.key("switchboard_sip_requests_total", method=method)] = float(n)
    return out


FULL_CALL = {"INVITE": 1, "ACK": 1, "BYE": 1}  # what uac-call.xml sends the gateway
REJECTED = {"INVITE": 1, "ACK": 1}  # uac-reject.xml: the INVITE and the ACK of the error


class GatewayTestCase(unittest.TestCase):
    """One redis-server and one gateway for the whole class, fixture tables published."""

    maxDiff = None
    extra_sip = {}  # more sip: settings of the class's gateway.yaml

    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        try:
            cls.workdir = h.make_workdir("sb-e2e-%s-" % cls.__name__)
            cls.redis = h.RedisServer(cls.workdir).start()
            cls.stack.callback(lambda: cls.redis.stop())
            cls.ports = {t: h.free_port() for t in h.TRUNKS}
            sip_port = h.free_port()
            # Trunk bj-province points back at the gateway itself: the loop test's trunk.
            cls.ports["bj-province"] = sip_port
            cls.table_dir = os.path.join(cls.workdir, "tables")
            h.make_table_dir(cls.table_dir, cls.ports)
            cls.version = h.publish_tables(ctl_binary(), cls.table_dir, cls.redis.address)
            cls.gw = h.Gateway(daemon_binary(), cls.workdir, cls.redis.address,
                               failover_timeout_ms=FAILOVER_MS, sip_port=sip_port,
                               extra_sip=cls.extra_sip)
            cls.stack.callback(cls._stop_gateway)  # also when start() fails half-way
            cls.gw.start()
            cls.gw_re = h.re_escape(cls.gw.sip_address)
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def _stop_gateway(cls):
        cls.gw_exit = cls.gw.stop()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()
        # SPEC §8: SIGTERM drains gracefully; the daemon must exit 0.
        if cls.gw_exit != 0:
            raise AssertionError("switchboard exited %s on SIGTERM\n--- log ---\n%s"
                                 % (cls.gw_exit, cls.gw.log_tail()))

    # --- helpers ----------------------------------------------------------------------

    def context(self):
        return "\n--- switchboard log (%s) ---\n%s" % (self.gw.log_path, self.gw.log_tail(30))

    def peer(self, trunk, scenario, calls=1, **params):
        """A SIPp UAS for `trunk` on its port, for exactly `calls` calls."""
        uas = h.Uas(scenario, self.ports[trunk], self.workdir, params=params, calls=calls, timeout_s=30)
        uas.start()
        self.addCleanup(uas.stop)
        return uas

    def answering_peer(self, trunk, region, level, origin=ORIGIN, calls=1):
        return self.peer(trunk, "uas-answer.xml", calls=calls, ORIGIN=h.re_escape(origin),
                         REGION=h.re_escape(region), LEVEL=h.re_escape(level), GW_RE=self.gw_re)

    def call(self, number, caller=CALLER, transport="u1", rr_re=None):
        """A full call through the gateway (uac-call.xml)."""
        # No '<' or '>': the regexp goes into an XML attribute.
        rr = rr_re or r"sip:%s;lr" % self.gw_re
        return h.run_uac("uac-call.xml", self.gw.sip_address, number, self.workdir,
                         params={"CALLER": caller, "RR_RE": rr}, transport=transport)

    def rejected_call(self, number, status, why_re, max_forwards=70, caller=CALLER,
                      extra_re="^SIP/2.0 ", ip=h.CALLER_IP):
        """uac-reject.xml: exactly `status`, with a Reason or Warning header matching
        `why_re` (None: no reason required)."""
        why = "^SIP/2.0 " if why_re is None else "(Reason|Warning): [ -~]*(%s)" % why_re
        return h.run_uac("uac-reject.xml", self.gw.sip_address, number, self.workdir,
                         params={"CALLER": caller, "STATUS": status, "WHY_RE": why,
                                 "MAX_FORWARDS": max_forwards, "EXTRA_RE": extra_re}, ip=ip)

    def cancelled_call(self, cancel_after_ms=200):
        """uac-cancel.xml against a ringing js-suzhou peer: INVITE, 180, CANCEL, 487."""
        ringing = self.peer("js-suzhou", "uas-ring.xml")
        result = h.run_uac("uac-cancel.xml", self.gw.sip_address, "12333320500", self.workdir,
                           params={"CALLER": CALLER, "CANCEL_AFTER_MS": cancel_after_ms})
        self.assertSippOk(result)
        self.assertPeerOk(ringing)

    def assertSippOk(self, result, calls=1, who="caller"):
        ok = result.rc == 0 and result.successful == calls and result.failed == 0
        if not ok:
            self.fail("SIPp %s: expected %d successful call(s)\n%s%s"
                      % (who, calls, result.describe(), self.context()))

    def assertPeerOk(self, uas, calls=1, timeout=10.0):
        """The peer finished exactly `calls` calls, every one passing its checks."""
        result = uas.wait(timeout)
        self.assertSippOk(result, calls, who="peer %s on port %d" % (uas.scenario, uas.port))

    def assertCounted(self, before, calls=None, lookups=None, rejections=None, requests=None,
                      timeout=2.0, families=COUNTED):
        """The counted families moved by exactly the expected amounts (waiting briefly for
        the gateway to finish what it relays), and nothing else in them moved."""
        want = {k: v for k, v in expected_series(calls, lookups, rejections, requests).items()
                if k[0] in families}
        deadline = time.monotonic() + timeout
        def outbound(deltas):
            # direction="in" counts the origin trunk's calls (test_records.py checks them).
            return {k: v for k, v in deltas.items()
                    if not (k[0] == "switchboard_trunk_calls_total" and ("direction", "in") in k[1])}
        while True:
            got = outbound(h.deltas(before, self.gw.metrics(), families))
            if got == want or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        if got != want:
            fmt = lambda d: "\n".join("  %s %+g" % (h.describe_series(k), v)  # noqa: E731
                                      for k, v in sorted(d.items(), key=lambda kv: h.describe_series(kv[0])))
            self.fail("metric deltas differ from what the test sent\nexpected:\n%s\ngot:\n%s%s"
                      % (fmt(want) or "  (none)", fmt(got) or "  (none)", self.context()))

    def assertIdle(self, timeout=2.0):
        """No call left in progress or active anywhere (gauges back to zero)."""
        def busy():
            m = self.gw.metrics()
            return {h.describe_series(k): v for k, v in m.items()
                    if k[0] in ("switchboard_active_calls", "switchboard_calls_in_progress",
                                "switchboard_trunk_active_calls") and v != 0}
        deadline = time.monotonic() + timeout
        left = busy()
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = busy()
        self.assertEqual(left, {}, "calls left active after the test" + self.context())


class CallRoutingTests(GatewayTestCase):
    """Routing, failover, CANCEL, rejections and re-publish on one gateway."""

    def test_division_code_full_call_on_suzhou_trunk(self):
        before = self.gw.metrics()
        uas = self.answering_peer("js-suzhou", region="320500", level="city")
        self.assertSippOk(self.call("12333320500"))
        self.assertPeerOk(uas)
        self.assertCounted(before, calls={("js-suzhou", "answered"): 1}, lookups={"city": 1},
                           requests=FULL_CALL)
        self.assertIdle()

    def test_area_code_full_call_on_suzhou_trunk(self):
        before = self.gw.metrics()
        uas = self.answering_peer("js-suzhou", region="320500", level="city")
        self.assertSippOk(self.call("123330512"))
        self.assertPeerOk(uas)
        self.assertCounted(before, calls={("js-suzhou", "answered"): 1}, lookups={"city": 1},
                           requests=FULL_CALL)
        self.assertIdle()

    def test_exam_service_number_routes_like_12333(self):
        # SPEC §3: 12370 shares the same centers.
        before = self.gw.metrics()
        uas = self.answering_peer("js-suzhou", region="320500", level="city")
        self.assertSippOk(self.call("12370320500"))
        self.assertPeerOk(uas)
        self.assertCounted(before, calls={("js-suzhou", "answered"): 1}, lookups={"city": 1},
                           requests=FULL_CALL)

    def test_full_call_with_caller_on_tcp(self):
        # The caller on TCP, the trunk on UDP: the gateway Record-Routes for both sides
        # (RFC 3261 §16.6 item 4), and ACK and BYE still reach the trunk through it.
        before = self.gw.metrics()
        uas = self.answering_peer("js-suzhou", region="320500", level="city")
        result = self.call("12333320500", transport="t1",
                           rr_re=r"sip:%s;transport=tcp;lr" % self.gw_re)
        self.assertSippOk(result)
        self.assertPeerOk(uas)
        self.assertCounted(before, calls={("js-suzhou", "answered"): 1}, lookups={"city": 1},
                           requests=FULL_CALL)
        self.assertIdle()

    def test_county_without_route_lands_on_its_city(self):
        # 320581 (Changshu, a county-level city of Suzhou) has no route of its own.
        before = self.gw.metrics()
        uas = self.answering_peer("js-suzhou", region="320581", level="city")
        self.assertSippOk(self.call("12333320581"))
        self.assertPeerOk(uas)
        self.assertCounted(before, calls={("js-suzhou", "answered"): 1}, lookups={"city": 1},
                           requests=FULL_CALL)

    def test_unknown_city_lands_on_its_province(self):
        # 320700 (Lianyungang) is a known Jiangsu city without a route: the province's.
        before = self.gw.metrics()
        uas = self.answering_peer("js-province", region="320700", level="province")
        self.assertSippOk(self.call("12333320700"))
        self.assertPeerOk(uas)
        self.assertCounted(before, calls={("js-province", "answered"): 1},
                           lookups={"province": 1}, requests=FULL_CALL)

    def test_bare_number_routes_by_callers_home_region(self):
        # SPEC §3: "12333" alone routes by the caller's number (mobile prefix 1390512 is
        # Suzhou in the fixture's caller prefixes).
        before = self.gw.metrics()
        uas = self.answering_peer("js-suzhou", region="320500", level="city")
        self.assertSippOk(self.call("12333", caller="13905121234"))
        self.assertPeerOk(uas)
        self.assertCounted(before, calls={("js-suzhou", "answered"): 1}, lookups={"city": 1},
                           requests=FULL_CALL)

    def test_bare_number_without_caller_region_takes_default_route(self):
        before = self.gw.metrics()
        uas = self.peer("mohrss-national", "uas-answer.xml", ORIGIN=ORIGIN, REGION="[a-z0-9]*",
                        LEVEL="default", GW_RE=self.gw_re)
        self.assertSippOk(self.call("12333", caller=CALLER))
        self.assertPeerOk(uas)
        self.assertCounted(before, calls={("mohrss-national", "answered"): 1},
                           lookups={"default": 1}, requests=FULL_CALL)

    def test_unknown_division_code_gets_404_with_reason(self):
        before = self.gw.metrics()
        self.assertSippOk(self.rejected_call("12333990000", 404, "(unknown|no route|not found)"))
        self.assertCounted(before, rejections={"no_route": 1}, requests=REJECTED)
        self.assertIdle()

    def test_unknown_area_code_gets_404_with_reason(self):
        before = self.gw.metrics()
        self.assertSippOk(self.rejected_call("123330999", 404, "(unknown|no route|not found)"))
        self.assertCounted(before, rejections={"no_route": 1}, requests=REJECTED)

    def test_malformed_number_gets_484_with_reason(self):
        before = self.gw.metrics()
        self.assertSippOk(self.rejected_call("1233332", 484, "(incomplete|malformed)"))
        self.assertCounted(before, rejections={"malformed": 1}, requests=REJECTED)

    def test_unknown_source_gets_403_before_routing(self):
        # SPEC §9: only known trunks' source addresses may send new calls; others get 403
        # before any routing (no lookup is counted). 127.0.0.9 is no trunk's source. The
        # 403 need not say why (it should tell a scanner nothing).
        before = self.gw.metrics()
        self.assertSippOk(self.rejected_call("12333320500", 403, None, ip="127.0.0.9"))
        self.assertCounted(before, rejections={"acl": 1}, requests=REJECTED)
        self.assertIdle()

    def test_max_forwards_zero_gets_483(self):
        before = self.gw.metrics()
        self.assertSippOk(self.rejected_call("12333320500", 483, "(Max-Forwards|hops)",
                                             max_forwards=0))
        self.assertCounted(before, rejections={"max_forwards": 1}, requests=REJECTED)

    def test_options_to_gateway_gets_200(self):
        before = self.gw.metrics()
        result = h.run_uac("uac-options.xml", self.gw.sip_address, "options", self.workdir)
        self.assertSippOk(result)
        self.assertCounted(before, requests={"OPTIONS": 1})

    def test_trunk_answering_503_fails_over_to_backup(self):
        # 330100: [zj-hangzhou, zj-province]; Hangzhou answers 503 (SPEC §4: any 5xx ->
        # next trunk).
        before = self.gw.metrics()
        down = self.peer("zj-hangzhou", "uas-503.xml")
        backup = self.answering_peer("zj-province", region="330100", level="city")
        result = self.call("12333330100")
        self.assertSippOk(result)
        self.assertPeerOk(down)
        self.assertPeerOk(backup)
        self.assertLess(result.response_time_ms(), FAILOVER_MS,
                        "a 503 must move the call on at once, not after the failover timer")
        self.assertCounted(before, calls={("zj-hangzhou", "failed"): 1, ("zj-province", "answered"): 1},
                           lookups={"city": 1}, requests=FULL_CALL)
        self.assertIdle()

    def test_trunk_that_never_answers_fails_over_within_timer(self):
        # 330200: [zj-ningbo, zj-province]; Ningbo receives the INVITE and stays silent.
        # The silent peer fails if it gets anything but INVITE retransmissions (e.g. a
        # CANCEL for a branch that never sent a provisional, RFC 3261 §9.1).
        before = self.gw.metrics()
        silent = self.peer("zj-ningbo", "uas-silent.xml", HOLD_MS=1500)
        backup = self.answering_peer("zj-province", region="330200", level="city")
        result = self.call("12333330200")
        self.assertSippOk(result)
        self.assertPeerOk(backup)
        self.assertPeerOk(silent)
        rt = result.response_time_ms()
        self.assertGreaterEqual(rt, FAILOVER_MS * 0.9, "answered before the failover timer ran out?")
        self.assertLess(rt, FAILOVER_MS + 1000, "failover took far longer than the failover timer")
        self.assertCounted(before, calls={("zj-ningbo", "timeout"): 1, ("zj-province", "answered"): 1},
                           lookups={"city": 1}, requests=FULL_CALL)
        self.assertIdle()

    def test_all_trunks_down_gets_503_with_retry_after(self):
        # SPEC §4: when every trunk of the route is down the caller gets 503 + Retry-After.
        before = self.gw.metrics()
        first = self.peer("zj-hangzhou", "uas-503.xml")
        backup = self.peer("zj-province", "uas-503.xml")
        self.assertSippOk(self.rejected_call("12333330100", 503, "[a-z]", extra_re="Retry-After: *[0-9]+"))
        self.assertPeerOk(first)
        self.assertPeerOk(backup)
        self.assertCounted(before, calls={("zj-hangzhou", "failed"): 1, ("zj-province", "failed"): 1},
                           lookups={"city": 1}, families=COUNTED[:3])
        self.assertIdle()

    def test_request_looping_back_to_the_gateway_gets_482(self):
        # Trunk bj-province (route 110000) points at the gateway itself: the forwarded
        # INVITE comes back with the gateway's own Via and the same identity -> 482, which
        # the first pass relays to the caller (a final 4xx, SPEC §4).
        before = self.gw.metrics()
        self.assertSippOk(self.rejected_call("12333110000", 482, "[Ll]oop"))
        self.assertCounted(before, calls={("bj-province", "failed"): 1}, lookups={"province": 1},
                           rejections={"loop": 1}, families=COUNTED[:3])
        self.assertIdle()

    def test_caller_cancel_while_ringing_gets_487_and_counts_cancelled(self):
        # The caller gets 200 for its CANCEL, then the 487 relayed from the trunk (the
        # trunk's peer checks that the CANCEL reached it and that the gateway ACKs its 487).
        before = self.gw.metrics()
        self.cancelled_call()
        self.assertCounted(before, calls={("js-suzhou", "cancelled"): 1}, lookups={"city": 1},
                           families=COUNTED[:3])
        self.assertIdle()

    def test_cancel_and_ack_are_counted_as_received_requests(self):
        # switchboard_sip_requests_total counts requests received by method: the
        # cancelled call above sends INVITE, CANCEL and the ACK for the 487.
        before = self.gw.metrics()
        self.cancelled_call()
        self.assertCounted(before, calls={("js-suzhou", "cancelled"): 1}, lookups={"city": 1},
                           requests={"INVITE": 1, "CANCEL": 1, "ACK": 1})

    def test_republished_routes_take_effect_for_the_next_call(self):
        # Suzhou's calls move to the province trunk (Suzhou becomes its backup: a trunk no
        # route uses is a table error); then the fixture is restored.
        routes = h.fixture_routes()
        routes["320500"] = ["js-province", "js-suzhou"]
        changed = os.path.join(self.workdir, "tables-changed")
        h.make_table_dir(changed, self.ports, routes=routes)
        old = self.gw.table_version()
        try:
            new = h.publish_tables(ctl_binary(), changed, self.redis.address)
            self.gw.wait_table_version(new if new is not None else old + 1, timeout=5.0)
            before = self.gw.metrics()
            uas = self.answering_peer("js-province", region="320500", level="city")
            self.assertSippOk(self.call("12333320500"))
            self.assertPeerOk(uas)
            self.assertCounted(before, calls={("js-province", "answered"): 1}, lookups={"city": 1},
                               requests=FULL_CALL)
        finally:
            now = self.gw.table_version()
            restored = h.publish_tables(ctl_binary(), self.table_dir, self.redis.address)
            self.gw.wait_table_version(restored if restored is not None else now + 1, timeout=5.0)
        # And back: Suzhou again.
        before = self.gw.metrics()
        uas = self.answering_peer("js-suzhou", region="320500", level="city")
        self.assertSippOk(self.call("12333320500"))
        self.assertPeerOk(uas)
        self.assertCounted(before, calls={("js-suzhou", "answered"): 1}, lookups={"city": 1},
                           requests=FULL_CALL)

    def test_admin_endpoints_and_metrics_listener(self):
        self.assertEqual(self.gw.get("/healthz")[0], 200)
        self.assertEqual(self.gw.get("/readyz")[0], 200)
        status = self.gw.status()
        self.assertIsInstance(status, dict)
        # The listener adds prometheus-cpp's own exposer_* series.
        admin = {k[0] for k in self.gw.metrics(admin=True) if k[0].startswith("switchboard_")}
        listener = {k[0] for k in self.gw.metrics(admin=False) if k[0].startswith("switchboard_")}
        self.assertEqual(admin, listener, "admin /metrics and the metrics listener differ")
        for family in COUNTED + ("switchboard_routing_table_version", "switchboard_redis_up"):
            self.assertIn(family, admin)
        self.assertEqual(self.gw.metric("switchboard_redis_up"), 1.0)
        self.assertGreaterEqual(self.gw.table_version() or 0, 1, "no routing-table version in force")


class OverloadTests(GatewayTestCase):
    """Issue 3 item 2: beyond sip.max_in_progress, new INVITEs get 503 + Retry-After."""

    extra_sip = {"max_in_progress": 1}

    def test_invite_beyond_max_in_progress_gets_503_with_retry_after(self):
        before = self.gw.metrics()
        ringing = self.peer("js-suzhou", "uas-ring.xml")
        first = {}

        def ring_then_cancel():
            first["result"] = h.run_uac("uac-cancel.xml", self.gw.sip_address, "12333320500",
                                        self.workdir, params={"CALLER": CALLER, "CANCEL_AFTER_MS": 2000})
        thread = threading.Thread(target=ring_then_cancel)
        thread.start()
        try:
            h.wait_until(lambda: self.gw.metric("switchboard_calls_in_progress") == 1.0, 5.0,
                         what="the first call in progress")
            second = self.rejected_call("12333320500", 503, "[a-z]", extra_re="Retry-After: *[0-9]+")
        finally:
            thread.join(timeout=30)
        self.assertSippOk(second, who="second caller")
        self.assertSippOk(first["result"], who="first caller")
        self.assertPeerOk(ringing)
        self.assertCounted(before, calls={("js-suzhou", "cancelled"): 1}, lookups={"city": 1},
                           rejections={"capacity": 1}, families=COUNTED[:3])
        self.assertIdle()


class RedisOutageTests(GatewayTestCase):
    """SPEC §5/§9: with Redis gone the gateway keeps routing on its last good tables."""

    def test_1_calls_route_on_last_good_tables_while_redis_is_down(self):
        version = self.gw.table_version()
        self.redis.stop()
        h.wait_until(lambda: self.gw.metric("switchboard_redis_up") == 0.0, 10.0,
                     what="switchboard_redis_up == 0 after redis-server stopped")
        self.assertEqual(self.gw.get("/readyz")[0], 200, "not ready on cached tables")
        for _ in range(2):
            before = self.gw.metrics()
            uas = self.answering_peer("js-suzhou", region="320500", level="city")
            self.assertSippOk(self.call("12333320500"))
            self.assertPeerOk(uas)
            self.assertCounted(before, calls={("js-suzhou", "answered"): 1}, lookups={"city": 1},
                               requests=FULL_CALL)
        self.assertEqual(self.gw.table_version(), version)

    def test_2_new_tables_are_picked_up_once_redis_is_back(self):
        if self.redis.proc is not None:
            self.redis.stop()
        # The same address, empty (no persistence): the operator publishes again.
        self.redis.start()
        h.wait_until(lambda: self.gw.metric("switchboard_redis_up") == 1.0, 10.0,
                     what="switchboard_redis_up == 1 after redis-server came back")
        routes = h.fixture_routes()
        routes["320500"] = ["js-province", "js-suzhou"]
        changed = os.path.join(self.workdir, "tables-after-outage")
        h.make_table_dir(changed, self.ports, routes=routes)
        h.publish_tables(ctl_binary(), changed, self.redis.address)
        # Version numbers may restart with an empty Redis: wait for the route to change
        # rather than for a number.
        deadline = time.monotonic() + 10.0
        moved = False
        while not moved and time.monotonic() < deadline:
            before = self.gw.metrics()
            uas = self.answering_peer("js-province", region="320500", level="city")
            result = self.call("12333320500")
            uas.stop()
            moved = result.rc == 0 and result.successful == 1
            got = h.deltas(before, self.gw.metrics(), COUNTED)
            if not moved:
                time.sleep(0.5)
        self.assertTrue(moved, "calls did not follow the tables published after Redis came back "
                        "(last deltas: %s)%s" % ({h.describe_series(k): v for k, v in got.items()},
                                                 self.context()))


def _set_build_dir(path):
    global BUILD_DIR
    BUILD_DIR = path


def main(argv=None, module=None):
    """Runs the tests of `module` (this one by default; test_national.py and
    test_operations.py reuse it, with this module's binaries)."""
    return h.run_suite(module or sys.modules[__name__], _set_build_dir, BUILD_DIR, argv)

if __name__ == "__main__":
    sys.exit(main())
