#!/usr/bin/env python3
"""Regression guards of the call path that are not timings (issue 7): real SIPp calls
through the real daemon and a real redis-server on loopback.

  - the call path issues no Redis command: over a few hundred calls, redis-server's own
    command counters (INFO commandstats, reset before the calls) show no command beyond a
    bounded handful of background ones (table poll, cluster heartbeat) and one XADD per
    call record written to Redis (docs/call-records.md); a per-call command would add
    hundreds. The counting is checked in the same window: the test's own ECHOs are seen,
    and so are the gateway's reads for a table reload it is asked for;
  - the call path never waits on Redis: with redis-server frozen (SIGSTOP) every call of a
    batch still completes, and the gateway finds Redis again after SIGCONT;
  - transactions are freed: switchboard_transactions_in_progress is above 0 right after a
    load and returns to 0 within nta's transaction lifetime (64*T1 and a margin), and the
    call gauges return to 0.

The gateway's background intervals are set long (redis.poll_interval_ms,
redis.cluster_interval_ms) so that the background commands in the window stay a handful
whatever the machine's speed. (The allocation half of the guard is tests/unit/
no_allocation_test.cpp: the routing decision allocates nothing more on a 100,000-route
table.)

Run:  python3 tests/e2e/test_guard.py --build-dir build [-v] [TestClass[.test_name] ...]
Prints "N passed, N failed" last and exits non-zero when anything failed.
"""

import os
import re
import signal
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as h  # noqa: E402

BUILD_DIR = os.path.join(h.REPO, "build")
TOKEN = "e2e-guard-token-0123456789abcdef"
NUMBER = "12333320500"  # Suzhou: route 320500 -> js-suzhou
CALLER = "13800138000"
CALLS = 300  # calls of the counted run: a per-call command would show up 300 times
RATE = 150  # calls per second
# Background commands the gateway may issue in the counted window: at most one cluster
# round (SET, HSET, HGETALL x2, SCAN, HDEL), one table poll (GET, HGET) and the reload the
# test asks for (GET, HGET), with room to spare; far below CALLS.
BACKGROUND_MAX = 20
# Ours, not the gateway's: excluded from its count.
OWN_COMMANDS = {"echo", "info", "config"}
# nta keeps a transaction 64*T1 after its final answer (Timer D/H/J); 32 s unless the
# daemon derives that lifetime from sip.t1_ms (set to 50 ms below); plus a margin.
TRANSACTION_DRAIN_S = 45.0


def daemon_binary():
    return os.environ.get("SWITCHBOARD_BIN") or os.path.join(BUILD_DIR, "gateway", "app", "switchboard")


def ctl_binary():
    return os.environ.get("SWITCHBOARDCTL_BIN") or os.path.join(BUILD_DIR, "gateway", "ctl", "switchboardctl")


def command_stats(redis):
    """{command: calls} from INFO commandstats (cmdstat_get:calls=3,usec=...)."""
    text = redis.command("INFO", "commandstats").decode("utf-8", "replace")
    return {m.group(1).lower(): int(m.group(2))
            for m in re.finditer(r"^cmdstat_([a-z|_-]+):calls=(\d+)", text, re.M)}


def series_sum(metrics, name, **labels):
    """Sum of every series of `name` whose labels include `labels`; None when absent."""
    values = [v for (n, ls), v in metrics.items()
              if n == name and set(labels.items()) <= set(ls)]
    return sum(values) if values else None


class GuardTests(unittest.TestCase):
    """One redis-server and one gateway for the class; fixture tables, js-suzhou answering."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = h.make_workdir("sb-e2e-guard-")
        cls.redis = h.RedisServer(cls.workdir).start()
        cls.gw = None
        try:
            cls.ports = {t: h.free_port() for t in h.TRUNKS}
            tables = os.path.join(cls.workdir, "tables")
            h.make_table_dir(tables, cls.ports)
            version = h.publish_tables(ctl_binary(), tables, cls.redis.address)
            cls.gw = h.Gateway(daemon_binary(), cls.workdir, cls.redis.address,
                               extra_sip={"t1_ms": 50},
                               extra_redis={"poll_interval_ms": 3600000,
                                            "cluster_interval_ms": 60000, "lease_ms": 180000},
                               env={"SWITCHBOARD_ADMIN_TOKEN": TOKEN})
            cls.gw.start()
            cls.gw.wait_table_version(version or 1)
            cls.gw_re = h.re_escape(cls.gw.sip_address)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.gw:
            cls.gw.stop()
        cls.redis.proc and cls.redis.proc.send_signal(signal.SIGCONT)
        cls.redis.stop()

    # --- helpers ------------------------------------------------------------------------

    def context(self):
        return "\n--- switchboard log (%s) ---\n%s" % (self.gw.log_path, self.gw.log_tail(30))

    def calls(self, count):
        """`count` full calls (uac-call.xml) at RATE/s to js-suzhou, checked on both sides."""
        uas = h.Uas("uas-answer.xml", self.ports["js-suzhou"], self.workdir,
                    params={"ORIGIN": "ha-province", "REGION": "320500", "LEVEL": "city",
                            "GW_RE": self.gw_re},
                    calls=count, timeout_s=60, trace_msg=False)
        uas.start()
        self.addCleanup(uas.stop)
        result = h.run_uac("uac-call.xml", self.gw.sip_address, NUMBER, self.workdir,
                           params={"CALLER": CALLER, "RR_RE": r"sip:%s;lr" % self.gw_re},
                           calls=count, rate=RATE, timeout_s=30, trace_msg=False)
        if not (result.rc == 0 and result.successful == count and result.failed == 0):
            self.fail("SIPp caller: expected %d successful calls\n%s%s"
                      % (count, result.describe(), self.context()))
        peer = uas.wait(15)
        if not (peer.rc == 0 and peer.successful == count and peer.failed == 0):
            self.fail("SIPp js-suzhou peer: expected %d successful calls\n%s%s"
                      % (count, peer.describe(), self.context()))

    def reload_tables(self):
        req = urllib.request.Request("http://127.0.0.1:%d/api/v1/tables/reload" % self.gw.admin_port,
                                     method="POST", data=b"",
                                     headers={"Authorization": "Bearer " + TOKEN})
        with urllib.request.urlopen(req, timeout=5) as resp:
            self.assertEqual(resp.status, 200)

    def wait_idle(self, timeout):
        """Waits (bounded) for the call gauges to reach 0; returns what is left."""
        def busy():
            m = self.gw.metrics()
            return {h.describe_series(k): v for k, v in m.items()
                    if k[0] in ("switchboard_active_calls", "switchboard_calls_in_progress",
                                "switchboard_trunk_active_calls") and v != 0}
        deadline = time.monotonic() + timeout
        left = busy()
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = busy()
        return left

    # --- the guards ----------------------------------------------------------------------

    def records_idle(self):
        """No call record waiting for Redis or being written (an earlier test's may still be
        on its way): the queue empty and the written count still over 0.3 s."""
        def state():
            m = self.gw.metrics()
            return (series_sum(m, "switchboard_records_queue_depth"),
                    series_sum(m, "switchboard_records_total", sink="redis"))
        first = state()
        time.sleep(0.3)
        return first[0] in (None, 0) and state() == first

    def test_calls_issue_no_redis_command(self):
        self.assertEqual(self.wait_idle(5), {})
        h.wait_until(self.records_idle, 30, what="the record queue to empty")
        self.assertEqual(self.redis.command("CONFIG", "RESETSTAT"), b"+OK\r\n")
        before = self.gw.metrics()
        self.calls(CALLS)
        # Positive controls in the same window: our own commands, and a table reload the
        # gateway is asked for (it reads `current` and the version's meta from Redis).
        for i in range(7):
            self.redis.command("ECHO", "guard-%d" % i)
        self.reload_tables()
        h.wait_until(lambda: command_stats(self.redis).get("get", 0) >= 1, 10,
                     what="the gateway's GET of the current table version")
        # Call records (docs/call-records.md) go to Redis off the call path, one XADD each:
        # wait until the gateway has written every record it produced.
        def records_written():
            m = self.gw.metrics()
            produced = series_sum(m, "switchboard_calls_total")
            written = series_sum(m, "switchboard_records_total", sink="redis")
            if produced is None or written is None:
                return True  # a daemon without records
            return (written - (series_sum(before, "switchboard_records_total", sink="redis") or 0)
                    >= produced - (series_sum(before, "switchboard_calls_total") or 0))
        h.wait_until(records_written, 15, what="the call records written to Redis")
        after = self.gw.metrics()
        stats = command_stats(self.redis)

        self.assertEqual(stats.get("echo"), 7, "INFO commandstats does not count as expected: %s" % stats)
        records = None
        if series_sum(after, "switchboard_records_total", sink="redis") is not None:
            records = (series_sum(after, "switchboard_records_total", sink="redis")
                       - (series_sum(before, "switchboard_records_total", sink="redis") or 0))
        xadd = stats.get("xadd", 0)
        # Redis 7 names subcommands "config|resetstat": judged by the command.
        gateway = {c: n for c, n in stats.items()
                   if c.split("|")[0] not in OWN_COMMANDS and c != "xadd"}
        self.assertLessEqual(sum(gateway.values()), BACKGROUND_MAX,
                             "Redis commands during %d calls (besides record XADDs): %s — a "
                             "command per call on the call path?%s" % (CALLS, gateway, self.context()))
        # One XADD per record written to Redis, never more than one per call.
        self.assertEqual(xadd, int(records or 0),
                         "XADD %d, records written to Redis %s" % (xadd, records))
        self.assertLessEqual(xadd, CALLS)

    def test_calls_complete_with_redis_frozen(self):
        self.assertEqual(self.wait_idle(5), {})
        self.redis.proc.send_signal(signal.SIGSTOP)
        try:
            # Frozen, not closed: a command sent now would wait for its answer, and so
            # would any call that waited on one.
            self.assertFalse(self.redis.ping(), "redis-server still answers after SIGSTOP")
            self.calls(100)
        finally:
            self.redis.proc.send_signal(signal.SIGCONT)
        self.assertTrue(self.redis.ping())
        self.assertEqual(self.wait_idle(5), {}, "calls left active" + self.context())
        status, _ = self.gw.get("/readyz")
        self.assertEqual(status, 200, self.context())

    def test_transactions_return_to_zero_after_load(self):
        if series_sum(self.gw.metrics(), "switchboard_transactions_in_progress") is None:
            self.skipTest("this daemon does not export switchboard_transactions_in_progress "
                          "(docs/metrics.md)")
        self.calls(CALLS)
        # The BYE server transactions of the last calls wait out Timer J: not 0 yet.
        held = series_sum(self.gw.metrics(), "switchboard_transactions_in_progress")
        self.assertGreater(held, 0, "no transaction counted right after %d calls" % CALLS)
        self.assertEqual(self.wait_idle(5), {}, "calls left active" + self.context())
        deadline = time.monotonic() + TRANSACTION_DRAIN_S
        left = held
        while left and time.monotonic() < deadline:
            time.sleep(0.5)
            left = series_sum(self.gw.metrics(), "switchboard_transactions_in_progress")
        self.assertEqual(left, 0, "transactions left %.0f s after the load (%s right after it)%s"
                         % (TRANSACTION_DRAIN_S, held, self.context()))


def main():
    def set_build_dir(path):
        global BUILD_DIR
        BUILD_DIR = path
    return h.run_suite(sys.modules[__name__], set_build_dir, BUILD_DIR, label="e2e.guard")


if __name__ == "__main__":
    sys.exit(main())
