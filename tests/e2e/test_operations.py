#!/usr/bin/env python3
"""End-to-end tests of trunk operations (issue 5, "What it must show"): SIPp peers on
loopback against the real switchboard daemon and a real redis-server.

  - an unknown source address gets 403 and is counted (acl); a trunk's source gets through;
  - the admin API: changing endpoints without or with a wrong token get 401 and change
    nothing; drain keeps new calls off a trunk (they go to the route's backup) while a call
    in progress on it completes with its BYE; enable brings it back; the same through
    `switchboardctl trunks drain|enable|list|show`;
  - capacity 5: five concurrent calls on a trunk, the sixth goes to the backup, the gauge
    returns to 0;
  - a flood from one source is limited (rate_limit counted) while another trunk's source
    still completes a call;
  - two gateway instances sharing one Redis hold one capacity limit between them; kill -9 of
    one releases its calls within the lease time;
  - SIGTERM during held calls: new calls refused, every call in progress completes, exit 0.

Run:  python3 tests/e2e/test_operations.py --build-dir build [-v] [TestClass[.test_name] ...]
Prints "N passed, N failed" last and exits non-zero when anything failed.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as h  # noqa: E402
import test_calls as tc  # noqa: E402

TOKEN = "e2e-operations-token-0123456789"
CAPACITY = 5
FLOOD_SOURCE = "127.0.0.3"  # listed as a source of zj-province in these tables


def write_tables(dest, ports):
    """The fixture tables with js-suzhou limited to CAPACITY concurrent calls and
    FLOOD_SOURCE as a source of zj-province."""
    h.make_table_dir(dest, ports)
    path = os.path.join(dest, "trunks.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    marker = "  - name: js-suzhou\n"
    assert marker in text
    text = text.replace(marker, marker + "    capacity: %d\n" % CAPACITY)
    marker = "  - name: zj-province\n"
    assert marker in text
    text = text.replace(marker, marker + '    sources: ["%s"]\n' % FLOOD_SOURCE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def admin_request(gw, method, path, token=None, timeout=5.0):
    """(status, parsed JSON or text) of one admin API request."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (gw.admin_port, path), method=method,
                                 data=b"" if method == "POST" else None)
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, body = resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode("utf-8", "replace")
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def trunk(gw, name):
    status, body = admin_request(gw, "GET", "/api/v1/trunks/" + name)
    if status != 200 or not isinstance(body, dict):
        raise h.HarnessError("/api/v1/trunks/%s answered %s: %r" % (name, status, body))
    return body


class Background(threading.Thread):
    """run_uac in a thread (held calls while the test does something else)."""

    def __init__(self, fn, *args, **kwargs):
        super().__init__(daemon=True)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.result = None
        self.error = None
        self.start()

    def run(self):
        try:
            self.result = self.fn(*self.args, **self.kwargs)
        except BaseException as e:  # noqa: BLE001 - reported by join_result
            self.error = e

    def join_result(self, timeout=60.0):
        self.join(timeout)
        if self.is_alive():
            raise h.HarnessError("background SIPp run did not finish in %.0f s" % timeout)
        if self.error:
            raise self.error
        return self.result


class OperationsCase(tc.GatewayTestCase):
    """One redis-server and one gateway (admin token set), the operations tables published."""

    extra_sip = {}
    extra_redis = {}

    @classmethod
    def setUpClass(cls):
        cls.stack = tc.contextlib.ExitStack()
        cls.gw_exit = None
        try:
            cls.workdir = h.make_workdir("sb-e2e-%s-" % cls.__name__)
            cls.redis = h.RedisServer(cls.workdir).start()
            cls.stack.callback(lambda: cls.redis.stop())
            cls.ports = {t: h.free_port() for t in h.TRUNKS}
            cls.table_dir = os.path.join(cls.workdir, "tables")
            write_tables(cls.table_dir, cls.ports)
            cls.version = h.publish_tables(tc.ctl_binary(), cls.table_dir, cls.redis.address)
            cls.gw = cls.make_gateway("gw")
            cls.stack.callback(cls._stop_gateway)
            cls.gw.start()
            cls.gw_re = h.re_escape(cls.gw.sip_address)
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def make_gateway(cls, name):
        workdir = os.path.join(cls.workdir, name)
        os.makedirs(workdir, exist_ok=True)
        return h.Gateway(tc.daemon_binary(), workdir, cls.redis.address,
                         failover_timeout_ms=tc.FAILOVER_MS, extra_sip=cls.extra_sip,
                         extra_redis=cls.extra_redis, env={"SWITCHBOARD_ADMIN_TOKEN": TOKEN})

    # --- helpers ----------------------------------------------------------------------

    def held_calls(self, number, calls, hold_ms, gw=None, rate=50, timeout_s=20):
        """`calls` concurrent calls held `hold_ms` ms each, in the background."""
        gw = gw or self.gw
        rr = r"sip:%s;lr" % h.re_escape(gw.sip_address)
        return Background(h.run_uac, "uac-hold.xml", gw.sip_address, number, self.workdir,
                          params={"CALLER": tc.CALLER, "RR_RE": rr, "HOLD_MS": hold_ms},
                          calls=calls, rate=rate, limit=calls, timeout_s=timeout_s)

    def holding_peer(self, trunk_name, calls, bye_timeout_ms=20000, gw_re=None, timeout_s=60):
        uas = h.Uas("uas-hold.xml", self.ports[trunk_name], self.workdir, calls=calls,
                    timeout_s=timeout_s,
                    params={"GW_RE": gw_re or self.gw_re, "BYE_TIMEOUT_MS": bye_timeout_ms})
        uas.start()
        self.addCleanup(uas.stop)
        return uas

    def wait_trunk(self, name, timeout=5.0, gw=None, **want):
        """Waits until /api/v1/trunks/NAME shows every field of `want`; returns it."""
        gw = gw or self.gw
        last = [None]

        def matches():
            last[0] = trunk(gw, name)
            return all(last[0].get(k) == v for k, v in want.items())
        try:
            h.wait_until(matches, timeout, interval=0.05, what="trunk %s %s" % (name, want))
        except h.HarnessError as e:
            self.fail("%s; last seen: %s%s" % (e, json.dumps(last[0]), self.context()))
        return last[0]

    def ctl(self, *args, token=True):
        argv = list(args) + ["--admin", "127.0.0.1:%d" % self.gw.admin_port]
        if token:
            argv += ["--token-file", self.token_file()]
        return h.run_ctl(tc.ctl_binary(), argv)

    def token_file(self):
        path = os.path.join(self.workdir, "admin-token")
        with open(path, "w", encoding="utf-8") as f:
            f.write(TOKEN + "\n")
        return path


class OperationsTests(OperationsCase):

    def test_unknown_source_gets_403_and_a_trunks_source_gets_through(self):
        before = self.gw.metrics()
        self.assertSippOk(self.rejected_call("12333320500", 403, None, ip="127.0.0.9"))
        self.assertCounted(before, rejections={"acl": 1}, requests=tc.REJECTED)
        before = self.gw.metrics()
        peer = self.answering_peer("js-suzhou", "320500", "city")
        self.assertSippOk(self.call("12333320500"))  # from CALLER_IP: ha-province's source
        self.assertPeerOk(peer)
        self.assertCounted(before, calls={("js-suzhou", "answered"): 1}, lookups={"city": 1},
                           requests=tc.FULL_CALL)
        self.assertIdle()

    def test_admin_changes_without_the_token_get_401_and_change_nothing(self):
        before = trunk(self.gw, "zj-ningbo")
        for action in ("drain", "disable", "enable"):
            for token in (None, "wrong-token-0123456789", TOKEN + "x"):
                with self.subTest(action=action, token=token):
                    status, body = admin_request(self.gw, "POST",
                                                 "/api/v1/trunks/zj-ningbo/" + action, token)
                    self.assertEqual(status, 401, body)
        time.sleep(0.3)
        after = trunk(self.gw, "zj-ningbo")
        self.assertEqual(after.get("admin"), before.get("admin"))
        self.assertEqual(after.get("admin"), "enabled")
        # And the CLI without a token refuses before asking the gateway.
        rc, out, err = self.ctl("trunks", "drain", "zj-ningbo", token=False)
        self.assertNotEqual(rc, 0, out + err)
        self.assertEqual(trunk(self.gw, "zj-ningbo").get("admin"), "enabled")

    def test_drained_trunk_takes_no_new_call_while_its_call_in_progress_completes(self):
        # 330100: [zj-hangzhou, zj-province].
        holding = self.holding_peer("zj-hangzhou", calls=1)
        held = self.held_calls("12333330100", calls=1, hold_ms=2500)
        self.wait_trunk("zj-hangzhou", active_calls=1)
        try:
            status, body = admin_request(self.gw, "POST", "/api/v1/trunks/zj-hangzhou/drain", TOKEN)
            self.assertEqual(status, 200, body)
            self.wait_trunk("zj-hangzhou", admin="draining", active_calls=1)
            before = self.gw.metrics()
            backup = self.answering_peer("zj-province", "330100", "city")
            self.assertSippOk(self.call("12333330100"))
            self.assertPeerOk(backup)
            # The drained trunk is skipped, not tried.
            self.assertCounted(before, calls={("zj-province", "answered"): 1},
                               lookups={"city": 1}, requests=tc.FULL_CALL,
                               families=("switchboard_trunk_calls_total",
                                         "switchboard_route_lookups_total"))
            # The call in progress on the drained trunk ends with its BYE, through the gateway.
            self.assertSippOk(held.join_result(), who="held caller")
            self.assertPeerOk(holding)
            self.wait_trunk("zj-hangzhou", admin="draining", active_calls=0)
        finally:
            status, body = admin_request(self.gw, "POST", "/api/v1/trunks/zj-hangzhou/enable", TOKEN)
            self.assertEqual(status, 200, body)
        self.wait_trunk("zj-hangzhou", admin="enabled")
        peer = self.answering_peer("zj-hangzhou", "330100", "city")
        self.assertSippOk(self.call("12333330100"))
        self.assertPeerOk(peer)
        self.assertIdle()

    def test_cli_drain_list_show_enable(self):
        try:
            rc, out, err = self.ctl("trunks", "drain", "zj-ningbo")
            self.assertEqual(rc, 0, out + err)
            rc, out, err = self.ctl("trunks", "list", "--json", token=False)
            self.assertEqual(rc, 0, out + err)
            listed = json.loads(out)
            trunks = listed.get("trunks", listed) if isinstance(listed, dict) else listed
            by_name = {t["name"]: t for t in trunks}
            self.assertEqual(set(by_name), set(h.TRUNKS))
            self.assertEqual(by_name["zj-ningbo"]["admin"], "draining")
            self.assertEqual(by_name["zj-province"]["admin"], "enabled")
            self.assertEqual(trunk(self.gw, "zj-ningbo")["admin"], "draining")
            rc, out, err = self.ctl("trunks", "show", "zj-ningbo", "--json", token=False)
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(json.loads(out)["admin"], "draining")
            # People's table names the trunk and its state.
            rc, out, err = self.ctl("trunks", "list", token=False)
            self.assertEqual(rc, 0, out + err)
            line = [l for l in out.splitlines() if "zj-ningbo" in l]
            self.assertEqual(len(line), 1, out)
            self.assertIn("draining", line[0])
            # A drained Ningbo: its route goes to Zhejiang at once.
            backup = self.answering_peer("zj-province", "330200", "city")
            self.assertSippOk(self.call("12333330200"))
            self.assertPeerOk(backup)
        finally:
            rc, out, err = self.ctl("trunks", "enable", "zj-ningbo")
            self.assertEqual(rc, 0, out + err)
        rc, out, err = self.ctl("trunks", "show", "zj-ningbo", "--json", token=False)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(json.loads(out)["admin"], "enabled")
        rc, out, err = self.ctl("status", token=False)
        self.assertEqual(rc, 0, out + err)

    def test_capacity_five_the_sixth_call_goes_to_the_backup(self):
        # 320500: [js-suzhou (capacity 5), js-province].
        self.assertEqual(trunk(self.gw, "js-suzhou").get("capacity"), CAPACITY)
        holding = self.holding_peer("js-suzhou", calls=CAPACITY)
        held = self.held_calls("12333320500", calls=CAPACITY, hold_ms=3000)
        self.wait_trunk("js-suzhou", active_calls=CAPACITY)
        self.assertEqual(self.gw.metric("switchboard_trunk_active_calls", trunk="js-suzhou", direction="out"), CAPACITY)
        before = self.gw.metrics()
        backup = self.answering_peer("js-province", "320500", "city")
        self.assertSippOk(self.call("12333320500"))
        self.assertPeerOk(backup)
        self.assertCounted(before, calls={("js-province", "answered"): 1}, lookups={"city": 1},
                           requests=tc.FULL_CALL,
                           families=("switchboard_trunk_calls_total", "switchboard_route_lookups_total"))
        self.assertSippOk(held.join_result(), calls=CAPACITY, who="held callers")
        self.assertPeerOk(holding, calls=CAPACITY)
        self.assertIdle()
        self.assertEqual(self.gw.metric("switchboard_trunk_active_calls", trunk="js-suzhou", direction="out"), 0)


class FloodTests(OperationsCase):
    extra_sip = {"flood_rate": 20, "flood_burst": 20}

    def test_flood_from_one_source_is_limited_while_another_source_calls(self):
        before = self.gw.metrics()
        flood = Background(h.run_uac, "uac-options-flood.xml", self.gw.sip_address, "flood",
                           self.workdir, calls=300, rate=200, ip=FLOOD_SOURCE, trace_msg=False)
        time.sleep(0.3)
        peer = self.answering_peer("js-suzhou", "320500", "city")
        self.assertSippOk(self.call("12333320500"))  # from ha-province's source, meanwhile
        self.assertPeerOk(peer)
        result = flood.join_result()
        # Every OPTIONS got an answer: 200 while the bucket had tokens, 503 beyond.
        self.assertSippOk(result, calls=300, who="flooding source")
        limited = h.deltas(before, self.gw.metrics(), ("switchboard_rejections_total",))
        got = limited.get(h.key("switchboard_rejections_total", reason="rate_limit"), 0)
        # 300 in ~1.5 s against 20/s + a burst of 20: about 50 pass, the rest are limited.
        self.assertGreaterEqual(got, 200, limited)
        self.assertLessEqual(got, 280, limited)
        self.assertNotIn(h.key("switchboard_rejections_total", reason="acl"), limited)
        self.assertIdle()


class ClusterTests(OperationsCase):
    """Two gateways on different ports sharing one Redis; short leases."""

    LEASE_MS = 1500
    CLUSTER_MS = 250
    extra_redis = {"lease_ms": 1500, "cluster_interval_ms": 250}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.gw_b = cls.make_gateway("gw-b")
            cls.gw_b_exit = None
            cls.stack.callback(cls._stop_b)
            cls.gw_b.start()
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def _stop_b(cls):
        cls.gw_b_exit = cls.gw_b.stop()

    @classmethod
    def _stop_gateway(cls):
        # Gateway A is killed by the test; its exit status then is -9.
        cls.gw_exit = cls.gw.stop() if cls.gw.alive() else 0

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if cls.gw_b_exit != 0:
            raise AssertionError("switchboard B exited %s on SIGTERM\n--- log ---\n%s"
                                 % (cls.gw_b_exit, cls.gw_b.log_tail()))

    def test_capacity_shared_by_two_instances_and_released_by_kill_9(self):
        a, b = self.gw, self.gw_b
        re_a, re_b = h.re_escape(a.sip_address), h.re_escape(b.sip_address)
        either = "(%s|%s)" % (re_a, re_b)
        # js-suzhou's peer: every call through either gateway (the ones via A never get
        # their BYE once A is killed, so its result is not checked).
        suzhou = self.holding_peer("js-suzhou", calls=None, gw_re=either, bye_timeout_ms=8000,
                                   timeout_s=120)
        del suzhou
        via_a = self.held_calls("12333320500", calls=3, hold_ms=30000, gw=a, timeout_s=40)
        self.wait_trunk("js-suzhou", gw=a, active_calls=3)
        self.wait_trunk("js-suzhou", gw=b, active_calls=0, calls_elsewhere=3)
        via_b = self.held_calls("12333320500", calls=2, hold_ms=3000, gw=b)
        self.wait_trunk("js-suzhou", gw=b, active_calls=2, calls_elsewhere=3)
        # The sixth call, via B, goes to the backup.
        backup = h.Uas("uas-answer.xml", self.ports["js-province"], self.workdir, calls=1,
                       timeout_s=30, params={"ORIGIN": h.re_escape(tc.ORIGIN), "REGION": "320500",
                                             "LEVEL": "city", "GW_RE": re_b})
        backup.start()
        self.addCleanup(backup.stop)
        self.assertSippOk(h.run_uac("uac-call.xml", b.sip_address, "12333320500", self.workdir,
                                    params={"CALLER": tc.CALLER, "RR_RE": r"sip:%s;lr" % re_b}))
        self.assertPeerOk(backup)
        self.assertSippOk(via_b.join_result(), calls=2, who="callers via B")
        self.wait_trunk("js-suzhou", gw=b, active_calls=0, calls_elsewhere=3)
        # kill -9 of A: its 3 calls stop counting once its lease expires.
        a.proc.kill()
        a.proc.wait(5)
        killed = time.monotonic()
        budget = (self.LEASE_MS + 2 * self.CLUSTER_MS) / 1000.0 + 1.0
        self.wait_trunk("js-suzhou", gw=b, timeout=budget, calls_elsewhere=0)
        released = time.monotonic() - killed
        sys.stdout.write(" [A's calls released %.2f s after kill -9] " % released)
        via_a.join_result()  # its BYEs go nowhere now: failed calls, not checked
        # B can take five again.
        via_b = self.held_calls("12333320500", calls=CAPACITY, hold_ms=2500, gw=b)
        self.wait_trunk("js-suzhou", gw=b, active_calls=CAPACITY, calls_elsewhere=0)
        self.assertSippOk(via_b.join_result(), calls=CAPACITY, who="callers via B")
        self.wait_trunk("js-suzhou", gw=b, active_calls=0, calls_elsewhere=0)


class SigtermTests(OperationsCase):

    def test_sigterm_during_held_calls_completes_every_call_and_exits_0(self):
        holding = self.holding_peer("js-suzhou", calls=3)
        held = self.held_calls("12333320500", calls=3, hold_ms=2500)
        self.wait_trunk("js-suzhou", active_calls=3)
        self.gw.proc.send_signal(signal.SIGTERM)
        # New calls are refused with 503 + Retry-After while the calls in progress finish.
        self.assertSippOk(self.rejected_call("12333320500", 503, None,
                                             extra_re="Retry-After: *[0-9]+"))
        self.assertSippOk(held.join_result(), calls=3, who="held callers")
        self.assertPeerOk(holding, calls=3)
        try:
            code = self.gw.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            code = None
        self.assertEqual(code, 0, "switchboard exit status after SIGTERM" + self.context())


if __name__ == "__main__":
    sys.exit(tc.main(module=sys.modules[__name__]))
