#!/usr/bin/env python3
"""Several SIP workers behind one address (issue 7, cores; gateway.yaml `sip.workers`).

With sip.workers: 2 the daemon is a supervisor of two worker processes. Both bind the listen
port (SO_REUSEPORT: the kernel hashes each source address and port to one worker); each also
listens on a private port (listen port + worker_port_offset + index) that it puts in its Via
and Record-Route, so a call's responses and in-dialog requests reach the worker holding it.
What must hold, checked on the wire by tests/e2e/sip_peer.py playing the trunk and by each
worker's own /metrics:
  - calls from many source ports (SIPp -t un: a socket per call) are spread over both
    workers, and every one completes: INVITE, 200, ACK and BYE through the right worker;
  - the trunk sees one worker's private port in both Via and Record-Route of each INVITE;
  - each worker counts the other as a live instance (capacity and cps are shared);
  - SIGHUP to the supervisor reloads every worker;
  - a worker killed with SIGKILL is started again and takes calls;
  - SIGTERM to the supervisor stops every worker and the supervisor exits 0.
Real redis-server, real daemon, SIPp callers, all on loopback.
"""

import os
import re
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as h  # noqa: E402
import test_calls as tc  # noqa: E402
import test_probing as tp  # noqa: E402

WORKERS = 2
OFFSET = 1  # worker i's private port: listen port + 1 + i
CALLS = 40  # over 2 workers; all in one worker by chance: 2 ** -39
WAIT_S = 15.0  # bound for a hung run, not a measurement
TRUNK = "zj-hangzhou"
NUMBER = "12333330100"


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return sorted(int(x) for x in out.split())


class WorkersTests(tp.ProbingCase):
    probe = {"interval_ms": 0}
    peers = {TRUNK: {"invite": "answer"}}
    extra_sip = {"workers": WORKERS, "worker_port_offset": OFFSET}

    @classmethod
    def gateway_options(cls):
        cls.sip_port = h.free_port_run(1 + OFFSET + WORKERS)
        return {"sip_port": cls.sip_port, "admin_port": h.free_port_run(WORKERS),
                "metrics_port": h.free_port_run(WORKERS)}

    @classmethod
    def private_ports(cls):
        return [cls.sip_port + OFFSET + i for i in range(WORKERS)]

    # --- helpers ----------------------------------------------------------------------

    def worker_get(self, index, path):
        return h.http_get("127.0.0.1", self.gw.admin_port + index, path)

    def worker_metrics(self, index):
        status, body = self.worker_get(index, "/metrics")
        self.assertEqual(status, 200, body)
        return h.parse_metrics(body)

    def answered(self, index):
        return self.worker_metrics(index).get(
            h.key("switchboard_trunk_calls_total", trunk=TRUNK, direction="out",
                  result="answered"), 0.0)

    def wait_workers_ready(self):
        def ready():
            try:
                return all(self.worker_get(i, "/readyz")[0] == 200 for i in range(WORKERS))
            except OSError:
                return False
        try:
            h.wait_until(ready, WAIT_S, interval=0.1, what="every worker ready")
        except h.HarnessError as e:
            self.fail("%s%s" % (e, self.context()))

    def calls(self, count):
        rr = r"sip:%s:(%s);lr" % (h.re_escape(h.GATEWAY_IP),
                                 "|".join(str(p) for p in self.private_ports()))
        return h.run_uac("uac-call.xml", self.gw.sip_address, NUMBER, self.workdir,
                         params={"CALLER": tc.CALLER, "RR_RE": rr}, calls=count,
                         rate=20, transport="un", timeout_s=30,
                         extra_args=["-max_socket", "200"])

    # --- tests ------------------------------------------------------------------------

    def test_1_calls_spread_over_the_workers_and_complete(self):
        self.wait_workers_ready()
        before = [self.answered(i) for i in range(WORKERS)]
        result = self.calls(CALLS)
        self.assertSippOk(result, calls=CALLS)
        after = [self.answered(i) for i in range(WORKERS)]
        per_worker = [a - b for a, b in zip(after, before)]
        self.assertEqual(sum(per_worker), CALLS, per_worker)
        for i, n in enumerate(per_worker):
            self.assertGreater(n, 0, "worker %d took no call: %s%s" % (i, per_worker,
                                                                   self.context()))
        # On the wire: each INVITE names one worker's private port in Via and Record-Route.
        seen = set()
        for e in self.peer_procs[TRUNK].events("invite")[-CALLS:]:
            via_port = re.search(r"%s:(\d+)" % re.escape(h.GATEWAY_IP), e["via"])
            rr_port = re.search(r":(\d+);lr", e["headers"].get("record-route", ""))
            self.assertTrue(via_port and rr_port, e)
            self.assertEqual(via_port.group(1), rr_port.group(1), e)
            seen.add(int(via_port.group(1)))
        self.assertEqual(seen, set(self.private_ports()))
        for i in range(WORKERS):
            h.wait_until(lambda i=i: self.worker_metrics(i).get(
                h.key("switchboard_calls_in_progress"), 0.0) == 0, WAIT_S,
                what="worker %d: no call in progress" % i)

    def test_2_workers_count_as_live_instances(self):
        self.wait_workers_ready()

        def both_seen():
            for i in range(WORKERS):
                status, body = self.worker_get(i, "/api/v1/status")
                if status != 200 or '"live_instances":%d' % WORKERS not in body:
                    return False
            return True
        try:
            h.wait_until(both_seen, WAIT_S, interval=0.1, what="live_instances %d" % WORKERS)
        except h.HarnessError as e:
            self.fail("%s%s" % (e, self.context()))

    def test_3_sighup_reloads_every_worker(self):
        self.wait_workers_ready()
        before = h.tail(self.gw.log_path, 100000).count("event=config_reloaded")
        os.kill(self.gw.pid(), signal.SIGHUP)
        h.wait_until(lambda: h.tail(self.gw.log_path, 100000).count("event=config_reloaded")
                     == before + WORKERS, WAIT_S, what="%d config_reloaded lines" % WORKERS)

    def test_4_a_killed_worker_is_started_again(self):
        self.wait_workers_ready()
        old = children(self.gw.pid())
        self.assertEqual(len(old), WORKERS, old)
        os.kill(old[-1], signal.SIGKILL)
        h.wait_until(lambda: len(children(self.gw.pid())) == WORKERS
                     and children(self.gw.pid()) != old, WAIT_S, what="a new worker")
        self.wait_workers_ready()
        result = self.calls(10)
        self.assertSippOk(result, calls=10)

    def test_5_sigterm_stops_every_worker_and_exits_0(self):
        self.wait_workers_ready()
        workers = children(self.gw.pid())
        code = self.gw.stop()
        self.assertEqual(code, 0, self.context())
        for pid in workers:
            self.assertFalse(os.path.exists("/proc/%d" % pid) and
                             "zombie" not in open("/proc/%d/status" % pid).read().lower(),
                             "worker %d still running" % pid)


if __name__ == "__main__":
    sys.exit(tc.main(module=sys.modules[__name__]))
