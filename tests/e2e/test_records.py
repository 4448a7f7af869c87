#!/usr/bin/env python3
"""End-to-end: call records (issue 6, SPEC §6, docs/call-records.md) with SIPp peers against
the real daemon and a real redis-server.

  - After a SIPp run of a known mix (answered, busy, cancelled, failed by every trunk,
    refused before routing: no route and an unknown source), the stream P:records holds
    exactly one record per call with the right result, fail_reason, end_reason, code and
    attempts; and the metrics agree: switchboard_calls_total by result equals the records
    by result, switchboard_trunk_calls_total{direction="in"} of the origin trunk equals its
    records by result, switchboard_records_total{sink="redis"} counts them, nothing dropped.
  - Redis stopped mid-run: records queue up to records.queue_max, the rest spill to the
    file; when Redis is back the queue drains into the stream; no record is lost (stream +
    file = every call, once) and the counters say so.
  - SIGTERM with a call still ringing and one established at the drain deadline: the first
    gets 503, both end as records with end_reason shutdown, in the stream when the daemon
    has exited.
  - The other ends: the called side's BYE, Timer C, the maximum call duration, a
    retransmitted INVITE that was refused (one record), and every metric of
    docs/metrics.md exported with its labels and bucket edges.

Run:  python3 tests/e2e/test_records.py --build-dir build [-v] [TestClass[.test_name] ...]
Prints "N passed, N failed" last and exits non-zero when anything failed.
"""

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as h  # noqa: E402
import test_calls as tc  # noqa: E402

ORIGIN = tc.ORIGIN  # the fixture caller's trunk (CALLER_IP is its source)
MASKED_CALLER = "1380013****"  # tc.CALLER, first 7 digits kept
UNKNOWN_SOURCE = "127.0.0.9"  # no trunk's source: 403 (acl)


class RecordsGateway(h.Gateway):
    """h.Gateway with a records: section in its gateway.yaml."""

    def __init__(self, *args, records=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = records or {}

    def write_config(self):
        super().write_config()
        if self.records:
            with open(self.config_path, "a", encoding="utf-8") as f:
                f.write("records:\n")
                for k, v in self.records.items():
                    f.write("  %s: %s\n" % (k, v))


def stream_records(redis, key="sb:records"):
    """Every record of the stream, oldest first (redis-cli --raw: id, field, value)."""
    out = subprocess.run(["redis-cli", "-p", str(redis.port), "--raw", "XRANGE", key, "-", "+"],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def file_records(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def by(records, field):
    out = {}
    for r in records:
        out[r[field]] = out.get(r[field], 0) + 1
    return out


class RecordsCase(tc.GatewayTestCase):
    """One redis-server and one gateway (with `records` settings) for the class."""

    records_config = {}
    extra_sip = {}

    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        try:
            cls.workdir = h.make_workdir("sb-e2e-%s-" % cls.__name__)
            cls.redis = h.RedisServer(cls.workdir).start()
            cls.stack.callback(lambda: cls.redis.stop())
            cls.ports = {t: h.free_port() for t in h.TRUNKS}
            cls.table_dir = os.path.join(cls.workdir, "tables")
            h.make_table_dir(cls.table_dir, cls.ports)
            cls.version = h.publish_tables(tc.ctl_binary(), cls.table_dir, cls.redis.address)
            records = {k: (v % {"workdir": cls.workdir} if isinstance(v, str) else v)
                       for k, v in cls.records_config.items()}
            cls.gw = RecordsGateway(tc.daemon_binary(), cls.workdir, cls.redis.address,
                                    failover_timeout_ms=tc.FAILOVER_MS, extra_sip=cls.extra_sip,
                                    records=records)
            cls.stack.callback(cls._stop_gateway)
            cls.gw.start()
            cls.gw_re = h.re_escape(cls.gw.sip_address)
        except BaseException:
            cls.stack.close()
            raise

    def wait_records(self, count, timeout=10.0):
        """Waits until the stream holds `count` records; returns them."""
        got = []

        def enough():
            got[:] = stream_records(self.redis)
            return len(got) >= count
        h.wait_until(enough, timeout, what="%d records in the stream" % count)
        return got

    def metric_delta(self, before, name, **labels):
        k = h.key(name, **labels)
        return self.gw.metrics().get(k, 0.0) - before.get(k, 0.0)

    def answered_calls(self, calls):
        peer = self.answering_peer("js-suzhou", region="320500", level="city", calls=calls)
        result = h.run_uac("uac-call.xml", self.gw.sip_address, "12333320500", self.workdir,
                           params={"CALLER": tc.CALLER, "RR_RE": r"sip:%s;lr" % self.gw_re},
                           calls=calls, rate=20)
        self.assertSippOk(result, calls=calls)
        self.assertPeerOk(peer, calls=calls)


class RecordMixTests(RecordsCase):
    """A known mix of calls -> exactly that many records, right fields; metrics agree."""

    def test_known_mix_one_record_per_call_and_metrics_agree(self):
        # The report's period starts on a whole second with nothing of other tests in it.
        period_from = int(time.time()) + 1
        time.sleep(period_from - time.time())
        before = self.gw.metrics()
        already = len(stream_records(self.redis))

        # 3 answered (caller hangs up), 2 busy, 2 cancelled while ringing, 1 failed by
        # every trunk (503, 503), 1 refused: no route, 1 refused: unknown source.
        self.answered_calls(3)
        busy = self.peer("js-suzhou", "uas-busy.xml", calls=2)
        result = h.run_uac("uac-reject.xml", self.gw.sip_address, "12333320500", self.workdir,
                           params={"CALLER": tc.CALLER, "STATUS": 486, "WHY_RE": "^SIP/2.0 ",
                                   "MAX_FORWARDS": 70, "EXTRA_RE": "^SIP/2.0 "}, calls=2, rate=20)
        self.assertSippOk(result, calls=2)
        self.assertPeerOk(busy, calls=2)
        self.cancelled_call()
        self.cancelled_call()
        first = self.peer("zj-hangzhou", "uas-503.xml")
        backup = self.peer("zj-province", "uas-503.xml")
        self.assertSippOk(self.rejected_call("12333330100", 503, "[a-z]"))
        self.assertPeerOk(first)
        self.assertPeerOk(backup)
        self.assertSippOk(self.rejected_call("12333990000", 404, "[a-z]"))
        self.assertSippOk(self.rejected_call("12333320500", 403, None, ip=UNKNOWN_SOURCE))
        self.assertIdle()

        calls = 10
        records = self.wait_records(already + calls)[already:]
        self.assertEqual(len(records), calls, "exactly one record per call")
        time.sleep(0.3)  # nothing more may arrive (a second record for any call)
        self.assertEqual(len(stream_records(self.redis)), already + calls)
        self.assertEqual(len({r["call_id"] for r in records}), calls, "one record per Call-ID")

        for r in records:
            self.assertEqual(r["v"], 1)
            self.assertTrue(r["instance"])
            self.assertLessEqual(r["t_invite"], r["t_end"])
            self.assertEqual(r["result"] == "failed", r["fail_reason"] != "", r)

        def pick(**want):
            return [r for r in records if all(r[k] == v for k, v in want.items())]

        answered = pick(result="answered")
        self.assertEqual(len(answered), 3)
        for r in answered:
            self.assertEqual((r["code"], r["end_reason"], r["trunk"], r["origin"]),
                             (200, "caller_bye", "js-suzhou", ORIGIN))
            self.assertEqual(r["attempts"], [{"trunk": "js-suzhou", "code": 200, "result": "answered"}])
            self.assertEqual((r["region"], r["province"], r["city"], r["level"]),
                             ("320500", "320000", "320500", "city"))
            self.assertEqual((r["dialled"], r["caller"], r["source"]),
                             ("12333320500", MASKED_CALLER, h.CALLER_IP))
            self.assertTrue(r["t_invite"] <= r["t_ring"] <= r["t_answer"] <= r["t_end"], r)

        busy = pick(fail_reason="busy")
        self.assertEqual(len(busy), 2)
        for r in busy:
            self.assertEqual((r["result"], r["code"], r["end_reason"]), ("failed", 486, "trunk_final"))
            self.assertEqual(r["attempts"], [{"trunk": "js-suzhou", "code": 486, "result": "busy"}])
            self.assertEqual(r["t_answer"], 0)

        abandoned = pick(result="abandoned")
        self.assertEqual(len(abandoned), 2)
        for r in abandoned:
            self.assertEqual((r["code"], r["end_reason"], r["fail_reason"]), (487, "caller_cancel", ""))
            self.assertEqual(r["attempts"], [{"trunk": "js-suzhou", "code": 487, "result": "cancelled"}])
            self.assertGreater(r["t_ring"], 0, "the call rang before it was cancelled")
            self.assertEqual(r["t_answer"], 0)

        [failed] = pick(fail_reason="rejected")
        self.assertEqual((failed["code"], failed["end_reason"], failed["trunk"]), (503, "trunk_final", "zj-province"))
        self.assertEqual(failed["attempts"], [{"trunk": "zj-hangzhou", "code": 503, "result": "failed"},
                                              {"trunk": "zj-province", "code": 503, "result": "failed"}])

        [no_route] = pick(fail_reason="no_route")
        self.assertEqual((no_route["code"], no_route["end_reason"], no_route["origin"]), (404, "rejected", ORIGIN))
        self.assertEqual((no_route["attempts"], no_route["trunk"], no_route["region"], no_route["level"]),
                         ([], "", "", ""))
        self.assertEqual(no_route["dialled"], "12333990000")

        [acl] = pick(fail_reason="acl")
        self.assertEqual((acl["code"], acl["end_reason"], acl["origin"], acl["source"]),
                         (403, "rejected", "", UNKNOWN_SOURCE))

        # offered = answered + abandoned + failed, here 3 + 2 + 5.
        results = by(records, "result")
        self.assertEqual(results, {"answered": 3, "abandoned": 2, "failed": 5})

        # The metrics agree with the records.
        after = self.gw.metrics()
        for result in ("answered", "abandoned", "failed"):
            k = h.key("switchboard_calls_total", result=result)
            self.assertEqual(after.get(k, 0) - before.get(k, 0), results.get(result, 0),
                             "switchboard_calls_total{result=%s}" % result)
            from_origin = sum(1 for r in records if r["origin"] == ORIGIN and r["result"] == result)
            k = h.key("switchboard_trunk_calls_total", trunk=ORIGIN, direction="in", result=result)
            self.assertEqual(after.get(k, 0) - before.get(k, 0), from_origin,
                             "switchboard_trunk_calls_total{trunk=%s,direction=in,result=%s}" % (ORIGIN, result))
        h.wait_until(lambda: self.metric_delta(before, "switchboard_records_total", sink="redis") == calls,
                     5.0, what="switchboard_records_total{sink=redis} up by %d" % calls)
        self.assertEqual(self.metric_delta(before, "switchboard_records_dropped_total"), 0)
        self.assertEqual(self.metric_delta(before, "switchboard_records_spilled_total"), 0)
        self.assertEqual(self.gw.metric("switchboard_records_queue_depth"), 0)
        # And switchboardctl report (docs/call-records.md's reader) sees the same mix.
        out = subprocess.run([tc.ctl_binary(), "report", "--redis", self.redis.address,
                              "--from", str(period_from), "--to", str(int(time.time()) + 2), "--json"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        total = json.loads(out.stdout)["total"]
        self.assertEqual((total["offered"], total["answered"], total["abandoned"], total["failed"]),
                         (10, 3, 2, 5))
        self.assertEqual({k: v for k, v in total["failed_by_reason"].items() if v},
                         {"busy": 2, "rejected": 1, "no_route": 1, "acl": 1})
        # The destination side (direction="out") counts attempts.
        k = h.key("switchboard_trunk_calls_total", trunk="js-suzhou", direction="out", result="busy")
        self.assertEqual(after.get(k, 0) - before.get(k, 0), 2)
        # Answered calls were timed on both sides.
        for direction, trunk in (("in", ORIGIN), ("out", "js-suzhou")):
            k = h.key("switchboard_trunk_answer_delay_seconds_count", trunk=trunk, direction=direction)
            self.assertEqual(after.get(k, 0) - before.get(k, 0), 3, (direction, trunk))
            k = h.key("switchboard_trunk_call_duration_seconds_count", trunk=trunk, direction=direction)
            self.assertEqual(after.get(k, 0) - before.get(k, 0), 3, (direction, trunk))


    def test_every_documented_metric_is_exported_with_its_labels_and_buckets(self):
        # docs/metrics.md is the contract the dashboards and rules are written against.
        with open(os.path.join(h.REPO, "docs", "metrics.md"), encoding="utf-8") as f:
            doc = f.read()
        documented = {}
        for name, kind, labels in re.findall(r"^\| `([a-z_]+)` \| ([a-z]+)[^|]*\| ([^|]*)\|", doc, re.M):
            # Label names; the values a label takes are listed in parentheses.
            names = re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", labels))
            documented[name] = (kind, set(names))
        self.assertGreater(len(documented), 35)
        scraped = self.gw.metrics(admin=False)
        labels_of = {}
        for name, labels in scraped:
            base = re.sub(r"_(bucket|count|sum)$", "", name) if name not in documented else name
            labels_of.setdefault(base, set()).update(k for k, _ in labels if k != "le")
        for name, (kind, labels) in sorted(documented.items()):
            with self.subTest(metric=name):
                self.assertIn(name, labels_of, "documented but not exported")
                self.assertEqual(labels_of[name], labels, "labels of %s" % name)
        # Bucket edges (docs/metrics.md), 20 s and 30 s among them.
        edges = {
            "switchboard_trunk_post_dial_delay_seconds": "0.1 0.25 0.5 1 2 3 5 10 20 30 60",
            "switchboard_trunk_answer_delay_seconds": "1 2 5 10 15 20 25 30 45 60 120",
            "switchboard_trunk_call_duration_seconds": "10 30 60 120 180 300 600 1200 1800 3600",
        }
        for name, want in edges.items():
            got = sorted({float(v) for n, labels in scraped if n == name + "_bucket"
                          for k, v in labels if k == "le" and v != "+Inf"})
            self.assertEqual(got, [float(x) for x in want.split()], name)
        # Values computed at scrape.
        self.assertGreaterEqual(self.gw.metric("switchboard_routing_table_age_seconds"), 0)
        self.assertGreater(self.gw.metric("process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(self.gw.metric("process_open_fds"), 3)
        self.assertGreater(self.gw.metric("process_start_time_seconds"), time.time() - 3600)
        for state, value in (("unknown", 1), ("up", 0), ("down", 0)):  # probing off here
            self.assertEqual(self.gw.metric("switchboard_trunk_state", trunk="js-suzhou", state=state), value)
        self.assertEqual(self.gw.metric("switchboard_trunk_admin_state", trunk="js-suzhou", state="enabled"), 1)


    def test_retransmitted_refused_invite_makes_one_record(self):
        # RFC 3261 §17.1.1.2: a caller that missed our 404 sends the same INVITE again; it
        # is refused again but it is still one call (a real UDP peer, not SIPp: SIPp does not
        # retransmit once answered).
        already = len(stream_records(self.redis))
        before = self.gw.metrics()
        gw_host, gw_port = self.gw.sip_address.split(":")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((h.CALLER_IP, 0))
            s.settimeout(3.0)
            port = s.getsockname()[1]
            invite = ("INVITE sip:12333990000@{gw} SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP {me}:{port};branch=z9hG4bK-retrans-1\r\n"
                      "From: <sip:{caller}@{me}>;tag=retrans-from\r\n"
                      "To: <sip:12333990000@{gw}>\r\n"
                      "Call-ID: retrans-{t}@{me}\r\n"
                      "CSeq: 1 INVITE\r\n"
                      "Max-Forwards: 70\r\n"
                      "Content-Length: 0\r\n\r\n").format(gw=self.gw.sip_address, me=h.CALLER_IP,
                                                            port=port, caller=tc.CALLER, t=time.time())
            for _ in range(3):
                s.sendto(invite.encode(), (gw_host, int(gw_port)))
                reply = s.recv(65535).decode(errors="replace")
                self.assertTrue(reply.startswith("SIP/2.0 404"), reply)
        [r] = self.wait_records(already + 1)[already:]
        self.assertEqual((r["fail_reason"], r["code"]), ("no_route", 404))
        time.sleep(0.3)
        self.assertEqual(len(stream_records(self.redis)), already + 1, "a retransmission made a record")
        self.assertEqual(self.metric_delta(before, "switchboard_calls_total", result="failed"), 1)
        self.assertEqual(self.metric_delta(before, "switchboard_rejections_total", reason="no_route"), 3)


class EndReasonTests(RecordsCase):
    """The other ways a call ends: the called side's BYE, Timer C (sip.ring_timeout_s 1),
    the maximum call duration (sip.max_call_duration_s 1) -- each exactly one record."""

    extra_sip = {"ring_timeout_s": 1, "max_call_duration_s": 1}

    def new_records(self, already, count, timeout=10.0):
        records = self.wait_records(already + count, timeout)[already:]
        self.assertEqual(len(records), count)
        return records

    def test_callee_bye(self):
        already = len(stream_records(self.redis))
        peer = self.peer("js-suzhou", "uas-answer-bye.xml")
        result = h.run_uac("uac-callee-bye.xml", self.gw.sip_address, "12333320500", self.workdir,
                           params={"CALLER": tc.CALLER, "RR_RE": r"sip:%s;lr" % self.gw_re})
        self.assertSippOk(result)
        self.assertPeerOk(peer)
        [r] = self.new_records(already, 1)
        self.assertEqual((r["result"], r["end_reason"], r["code"]), ("answered", "callee_bye", 200))
        self.assertIdle()

    def test_ring_timeout(self):
        already = len(stream_records(self.redis))
        ringing = self.peer("js-suzhou", "uas-ring.xml")
        result = h.run_uac("uac-ring-final.xml", self.gw.sip_address, "12333320500", self.workdir,
                           params={"CALLER": tc.CALLER, "STATUS": 408, "WHY_RE": "^SIP/2.0 ",
                                   "MAX_FORWARDS": 70, "EXTRA_RE": "^SIP/2.0 "})
        self.assertSippOk(result)
        self.assertPeerOk(ringing)
        [r] = self.new_records(already, 1)
        self.assertEqual((r["result"], r["fail_reason"], r["end_reason"], r["code"]),
                         ("failed", "timeout", "ring_timeout", 408))
        self.assertEqual(r["attempts"], [{"trunk": "js-suzhou", "code": 0, "result": "timeout"}])
        self.assertGreater(r["t_ring"], 0)
        self.assertIdle()

    def test_max_call_duration_then_the_bye_makes_no_second_record(self):
        already = len(stream_records(self.redis))
        holding = h.Uas("uas-hold.xml", self.ports["js-suzhou"], self.workdir, calls=1, timeout_s=30,
                        params={"GW_RE": self.gw_re, "BYE_TIMEOUT_MS": 10000})
        holding.start()
        self.addCleanup(holding.stop)
        result = h.run_uac("uac-hold.xml", self.gw.sip_address, "12333320500", self.workdir,
                           timeout_s=20, params={"CALLER": tc.CALLER, "RR_RE": r"sip:%s;lr" % self.gw_re,
                                                 "HOLD_MS": 2500})
        # The BYE after 2.5 s still crosses the gateway (Record-Route, no dialog state).
        self.assertSippOk(result)
        self.assertPeerOk(holding)
        [r] = self.new_records(already, 1)
        self.assertEqual((r["result"], r["end_reason"], r["code"]), ("answered", "max_duration", 200))
        self.assertGreaterEqual(r["t_end"] - r["t_answer"], 1000)
        time.sleep(0.3)
        self.assertEqual(len(stream_records(self.redis)), already + 1, "the BYE made a second record")
        self.assertIdle()


    def test_sighup_keeps_the_record_writer_it_started_with(self):
        # records: changes need a restart (the writer thread owns its connection and file);
        # a reload says so and records keep flowing.
        before = self.gw.metrics()
        already = len(stream_records(self.redis))
        self.gw.records = {"queue_max": 7}
        self.gw.write_config()
        os.kill(self.gw.pid(), signal.SIGHUP)
        h.wait_until(lambda: self.metric_delta(before, "switchboard_config_reloads_total", result="ok") == 1,
                     5.0, what="config reloaded")
        with open(self.gw.log_path, encoding="utf-8", errors="replace") as f:
            self.assertIn("records changes take effect after a restart", f.read())
        self.assertSippOk(self.rejected_call("12333990000", 404, "[a-z]"))
        self.wait_records(already + 1)


class RedisOutageRecordTests(RecordsCase):
    """Redis stopped mid-run: queue (records.queue_max 3), then the spill file; nothing lost."""

    records_config = {"queue_max": 3, "spill_file": "%(workdir)s/spill.jsonl"}

    def test_redis_stopped_records_queue_then_spill_then_drain_none_lost(self):
        spill = os.path.join(self.workdir, "spill.jsonl")
        self.answered_calls(1)
        self.wait_records(1)
        before = self.gw.metrics()

        self.redis.stop()
        self.answered_calls(6)
        h.wait_until(lambda: self.metric_delta(before, "switchboard_records_spilled_total") == 3, 10.0,
                     what="3 records spilled")
        self.assertEqual(self.gw.metric("switchboard_records_queue_depth"), 3)
        spilled = file_records(spill)
        self.assertEqual(len(spilled), 3)
        self.assertEqual(self.metric_delta(before, "switchboard_records_total", sink="file"), 3)

        # Redis back (empty: the test server keeps no data): the queue drains into it.
        self.redis.start()
        queued = self.wait_records(3, timeout=15.0)
        h.wait_until(lambda: self.gw.metric("switchboard_records_queue_depth") == 0, 10.0,
                     what="record queue drained")
        self.assertEqual(len(queued), 3)
        self.assertEqual(self.metric_delta(before, "switchboard_records_total", sink="redis"), 3)
        self.assertEqual(self.metric_delta(before, "switchboard_records_dropped_total"), 0)

        # Every call of the outage is in exactly one place, and it is a whole record.
        outage = queued + spilled
        self.assertEqual(len({r["call_id"] for r in outage}), 6)
        for r in outage:
            self.assertEqual((r["result"], r["end_reason"], r["trunk"]), ("answered", "caller_bye", "js-suzhou"))
        self.assertEqual(self.metric_delta(before, "switchboard_calls_total", result="answered"), 6)


class ShutdownRecordTests(RecordsCase):
    """SIGTERM: at the drain deadline a call still ringing gets 503 and an established call
    is cut; each ends as its record with end_reason shutdown, flushed to the stream before
    the daemon exits."""

    extra_sip = {"drain_timeout_s": 1}

    def test_calls_left_at_drain_deadline_get_shutdown_records(self):
        holding = h.Uas("uas-hold.xml", self.ports["js-suzhou"], self.workdir, calls=1, timeout_s=30,
                        params={"GW_RE": self.gw_re, "BYE_TIMEOUT_MS": 20000})
        holding.start()
        self.addCleanup(holding.stop)
        ringing = self.peer("zj-hangzhou", "uas-ring.xml")
        callers = {}

        def hold():
            callers["held"] = h.run_uac(
                "uac-hold.xml", self.gw.sip_address, "12333320500", self.workdir, timeout_s=20,
                params={"CALLER": tc.CALLER, "RR_RE": r"sip:%s;lr" % self.gw_re, "HOLD_MS": 8000})

        def ring():
            callers["ringing"] = h.run_uac(
                "uac-ring-final.xml", self.gw.sip_address, "12333330100", self.workdir, timeout_s=20,
                params={"CALLER": tc.CALLER, "STATUS": 503, "WHY_RE": "shutting down",
                        "MAX_FORWARDS": 70, "EXTRA_RE": "Retry-After: *[0-9]+"})
        threads = [threading.Thread(target=f, daemon=True) for f in (hold, ring)]
        for t in threads:
            t.start()
        h.wait_until(lambda: self.gw.metric("switchboard_trunk_active_calls", trunk="js-suzhou",
                                            direction="out") == 1, 10.0, what="the call established")
        h.wait_until(lambda: self.gw.metric("switchboard_calls_in_progress") == 1, 10.0,
                     what="the other call ringing")
        self.assertEqual(self.gw.metric("switchboard_trunk_active_calls", trunk=ORIGIN, direction="in"), 2)
        started = time.monotonic()
        code = self.gw.stop()
        self.assertEqual(code, 0, self.gw.log_tail())
        self.assertLess(time.monotonic() - started, 8.0, "the drain deadline (1 s) was not kept")
        records = {r["dialled"]: r for r in stream_records(self.redis)}
        self.assertEqual(len(records), 2, records)
        held = records["12333320500"]
        self.assertEqual((held["result"], held["end_reason"], held["code"], held["trunk"]),
                         ("answered", "shutdown", 200, "js-suzhou"))
        self.assertGreater(held["t_end"], held["t_answer"])
        rang = records["12333330100"]
        self.assertEqual((rang["result"], rang["fail_reason"], rang["end_reason"], rang["code"]),
                         ("failed", "shutdown", "shutdown", 503))
        for t in threads:
            t.join(30)
        # The ringing caller got its 503 with Retry-After. (The center got a CANCEL; its 487
        # arrives after the daemon has gone, so that peer's scenario ends unfinished.)
        self.assertSippOk(callers["ringing"], who="ringing caller")
        ringing.stop()
        holding.stop()

    @classmethod
    def _stop_gateway(cls):
        # The test stops the gateway itself; a second stop is a no-op returning its code.
        cls.gw_exit = cls.gw.stop()


def main(argv=None):
    return tc.main(argv, module=sys.modules[__name__])


if __name__ == "__main__":
    sys.exit(main())
