#!/usr/bin/env python3
"""Held calls: N concurrent established calls (long hold) through one gateway, its memory
per held call, and the active-call gauges checked exact at every step.

Starts a private redis-server, publishes the e2e fixture tables (every trunk unlimited),
starts switchboard (the Release build when there is one) and one SIPp UAS answering at once
(uas-bench.xml). The calls are placed in --steps equal steps, one SIPp UAC process per step
(uac-bench.xml dialling 12333320500 -> trunk js-suzhou, from the Henan trunk's source
address) at --rate calls/s; each UAC's hold is chosen so that no call of any step sends its
BYE before the last measurement, and the steps' BYEs follow one another at --rate.

After each step, once the UAC has placed its calls and the gateway has no INVITE in
progress, the bench checks that the gauges are exact: switchboard_active_calls and
switchboard_trunk_active_calls (js-suzhou out; ha-province in when exported) equal the
calls SIPp holds (UAC: ACKs sent - BYEs sent; UAS: ACKs received - BYEs received), and
reads the gateway's RSS ("ramp": the set-up transactions of the last 64*T1 s are still
alive). It then waits until those transactions have ended (until
switchboard_transactions_in_progress is 0 when the daemon exports it, else nta's 64*T1 =
32 s and a margin), checks the gauges again and reads RSS ("steady"). Then every call ends
with its BYE; the gauges must return to 0; RSS is read at once and again after the BYE
transactions have ended.

Reported: RSS before any call, at each step (ramp and steady), RSS per held call two ways:
(steady at N - before) / N, which includes the heap the set-up transactions left behind
(glibc keeps it), and steady step to steady step (the transactions' heap is reused, so the
growth is what the held calls themselves take); peak RSS, RSS after all BYEs and after the
BYE transactions, switchboard_transactions_in_progress at each point when the daemon
exports it. Exit 0 only when every gauge was exact, no call failed and the gauges returned
to 0.

Not part of the test command. Loopback only, every wait bounded.

  tests/load/bench_hold.py --quick                       # 5,000 calls, ~1 minute
  tests/load/bench_hold.py --calls 100000 --rate 1000    # the full measurement (~8 min)
"""

import argparse
import os
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import scale_common as sc  # noqa: E402
from scale_common import h  # noqa: E402

NUMBER = "12333320500"  # Suzhou: route 320500 -> js-suzhou
OUT_TRUNK = "js-suzhou"
IN_TRUNK = "ha-province"  # the fixture trunk whose source address the UAC sends from
# nta keeps a transaction for 64*T1 after its final answer (Timer D/H/J; NTATAG_SIP_T1X64,
# 32 s: sip.t1_ms sets the retransmission timer only) and a margin.
DRAIN_S = 40.0


class Run:
    def __init__(self, args, daemon, ctl, workdir):
        self.args = args
        self.daemon = daemon
        self.ctl = ctl
        self.workdir = workdir
        self.redis = self.gw = self.uas = None
        self.uacs = []
        self.rows = []
        self.problems = []

    # -- what SIPp holds ---------------------------------------------------------------------

    def sipp_held(self):
        return (sum(sc.established_uac(u.counts()) for u in self.uacs),
                sc.established_uas(self.uas.counts()))

    def sipp_failed(self):
        failed = 0
        for u in self.uacs + [self.uas]:
            try:
                failed += int(u.result().stats.get("FailedCall(C)", 0) or 0)
            except ValueError:
                pass
        return failed

    def snapshot(self, label, expected):
        """Waits (bounded) until the gateway and both SIPp sides agree on `expected` held
        calls with nothing in progress, then records one row. A disagreement left at the
        end of the wait is recorded as a problem."""
        state = {}

        def agreed():
            g = sc.gauges(self.gw, OUT_TRUNK, IN_TRUNK)
            uac, uas = self.sipp_held()
            state.update(g, uac=uac, uas=uas)
            values = [g["active"], g["trunk_out"], uac, uas]
            if g["trunk_in"] is not None:
                values.append(g["trunk_in"])
            return g["in_progress"] == 0 and all(v == expected for v in values)

        # SIPp writes its counts once a second: agreement must hold on two reads in a row.
        ok = sc.wait_for(lambda: agreed() and (time.sleep(1.2) or agreed()), self.args.settle_timeout)
        row = dict(state, label=label, expected=expected, exact=bool(ok), t=time.monotonic())
        self.rows.append(row)
        if not ok:
            self.problems.append("%s: gauges not exact: expected %d, gateway active %s trunk out %s "
                                 "in %s in_progress %s, SIPp UAC %s UAS %s"
                                 % (label, expected, state.get("active"), state.get("trunk_out"),
                                    state.get("trunk_in"), state.get("in_progress"), state.get("uac"),
                                    state.get("uas")))
        print("  %-22s held %7d  gateway active %7s trunk out %7s in %7s  SIPp UAC %7d UAS %7d  "
              "transactions %6s  RSS %8.1f MB%s"
              % (label, expected, fmt(state.get("active")), fmt(state.get("trunk_out")),
                 fmt(state.get("trunk_in")), state.get("uac", 0), state.get("uas", 0),
                 fmt(state.get("transactions")), state.get("rss_mb", 0.0), "" if ok else "  NOT EXACT"),
              flush=True)
        return row

    def drain(self):
        """Waits until the transactions of the calls just set up or ended are gone: until
        switchboard_transactions_in_progress is 0 when the daemon exports it (bounded), else
        for nta's transaction lifetime (64*T1 = 32 s, Timer D/H/J) and a margin."""
        if sc.transactions(self.gw.metrics()) is None:
            time.sleep(DRAIN_S)
            return
        sc.wait_for(lambda: sc.transactions(self.gw.metrics()) == 0, DRAIN_S, interval=0.5)

    # -- the run ------------------------------------------------------------------------------

    def run(self):
        a = self.args
        self.redis = h.RedisServer(self.workdir).start()
        uas_port = h.free_port()
        tables = os.path.join(self.workdir, "tables")
        h.make_table_dir(tables, {OUT_TRUNK: uas_port})
        h.publish_tables(self.ctl, tables, self.redis.address)
        self.gw = sc.start_gateway(self.daemon, self.workdir, self.redis.address,
                                   extra_sip={"t1_ms": a.t1_ms})
        per_step = a.calls // a.steps
        step_s = per_step / float(a.rate)  # time to place one step's calls
        drain_s = DRAIN_S
        # Every BYE after the last measurement: the plan gives each step its placing time,
        # two settle timeouts (a snapshot waits at most that long) and the drain.
        settle_budget = a.settle_timeout + 1.5
        steadies = a.steps if a.steady_each_step else 1
        bye_at = time.monotonic() + a.steps * (step_s + settle_budget) + steadies * (drain_s + settle_budget) + 5
        total_s = (bye_at - time.monotonic()) + a.steps * step_s + 60
        self.uas = sc.Sipp(os.path.join(HERE, "uas-bench.xml"), uas_port, self.workdir,
                           timeout_s=int(total_s + drain_s + 60),
                           extra_args=["-l", str(a.calls + 1000)]).start()
        time.sleep(1.0)
        before = self.snapshot("before", 0)
        print("  plan: %d steps of %d calls at %d/s (%.1f s each), first BYE in %.0f s, T1 %d ms"
              % (a.steps, per_step, a.rate, step_s, bye_at - time.monotonic(), a.t1_ms), flush=True)

        peak = sc.PeakRss(self.gw.pid()).start()
        held = 0
        ramp_rows, steady_rows = [], []
        for step in range(a.steps):
            now = time.monotonic()
            # This step's calls are placed over [now, now + step_s]; they end over
            # [bye_at + step*step_s, ...], after every measurement and after the previous
            # step's BYEs.
            hold_ms = int((bye_at + step * step_s - now) * 1000)
            uac = sc.Sipp(os.path.join(HERE, "uac-bench.xml"), h.free_port(h.CALLER_IP), self.workdir,
                          params={"HOLD_MS": hold_ms}, ip=h.CALLER_IP,
                          timeout_s=int(hold_ms / 1000 + step_s + 90),
                          uac={"service": NUMBER, "calls": per_step, "rate": a.rate,
                               "limit": per_step + 10, "target": self.gw.sip_address})
            uac.start()
            self.uacs.append(uac)
            held += per_step
            sc.wait_for(lambda: uac.count("0_INVITE_Sent") >= per_step or not uac.running(),
                        step_s * 3 + 30)
            ramp_rows.append(self.snapshot("%d held, ramp" % held, held))
            if a.steady_each_step or step == a.steps - 1:
                # The set-up transactions (INVITE server and client after the 2xx) end
                # 64*T1 after the call was answered: what stays is what a held call costs.
                self.drain()
                steady_rows.append(self.snapshot("%d held, steady" % held, held))
        ramp_peak = peak.peak_mb
        if time.monotonic() >= bye_at:
            self.problems.append("the last measurement came after the first BYE was due "
                                 "(raise --settle-timeout)")

        # BYEs: every UAC ends by itself once its calls are done.
        for uac in self.uacs:
            uac.wait(timeout=max(5.0, bye_at + a.steps * step_s + 120 - time.monotonic()))
        ended = self.snapshot("after all BYEs", 0)
        drained = None
        if not a.quick:
            self.drain()
            drained = self.snapshot("BYE transactions ended", 0)
        peak.stop()

        failed = self.sipp_failed()
        if failed:
            self.problems.append("%d SIPp calls failed" % failed)
        if not self.gw.alive():
            self.problems.append("switchboard died")
        self.report(before, ramp_rows, steady_rows, ended, drained, ramp_peak, peak.peak_mb, failed)

    def report(self, before, ramp_rows, steady_rows, ended, drained, ramp_peak, peak, failed):
        a = self.args
        last = steady_rows[-1]
        n = last["expected"]
        print()
        print("| point | held calls | active_calls | trunk_active out/in | SIPp UAC/UAS | "
              "transactions | gateway RSS MB |")
        print("|---|---|---|---|---|---|---|")
        for r in self.rows:
            print("| %s | %d | %s | %s/%s | %d/%d | %s | %.1f |%s"
                  % (r["label"], r["expected"], fmt(r["active"]), fmt(r["trunk_out"]),
                     fmt(r["trunk_in"]), r["uac"], r["uas"], fmt(r["transactions"]), r["rss_mb"],
                     "" if r["exact"] else " **not exact**"))
        gross_kb = (last["rss_mb"] - before["rss_mb"]) * 1024.0 / n if n else 0.0
        print()
        print("calls %d at %d/s in %d steps, T1 %d ms; SIPp failed calls %d"
              % (n, a.rate, a.steps, a.t1_ms, failed))
        print("gateway RSS: before %.1f MB; at %d held: %.1f MB at the end of the ramp, %.1f MB "
              "steady; peak during the ramp %.1f MB; after all BYEs %.1f MB; after the BYE "
              "transactions %s; peak over the run %.1f MB"
              % (before["rss_mb"], n, ramp_rows[-1]["rss_mb"], last["rss_mb"], ramp_peak,
                 ended["rss_mb"], "%.1f MB" % drained["rss_mb"] if drained else "not waited for (--quick)",
                 peak))
        print("RSS per held call, (steady at %d - before) / %d: %.2f KB (includes the heap the "
              "set-up transactions left behind)" % (n, n, gross_kb))
        if len(steady_rows) > 1:
            first = steady_rows[0]
            marginal_kb = ((last["rss_mb"] - first["rss_mb"]) * 1024.0
                           / (last["expected"] - first["expected"]))
            print("RSS per held call, steady step to steady step ((%d - %d held) / %d calls): "
                  "%.2f KB (the set-up transactions' heap is reused from step to step)"
                  % (last["expected"], first["expected"], last["expected"] - first["expected"],
                     marginal_kb))
        print("gauges exact at every point: %s" % ("yes" if all(r["exact"] for r in self.rows) else "NO"))

    def close(self):
        for uac in self.uacs:
            uac.stop()
        if self.uas:
            self.uas.stop()
        if self.gw:
            rc = self.gw.stop(timeout=60)
            if rc not in (0, None):
                print("switchboard exited %s on SIGTERM\n%s" % (rc, self.gw.log_tail()), file=sys.stderr)
        if self.redis:
            self.redis.stop()


def fmt(value):
    if value is None:
        return "-"
    return "%d" % value if float(value).is_integer() else "%.1f" % value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", help="default: build-release if built, else build")
    parser.add_argument("--calls", type=int, default=100000, help="concurrent calls to hold")
    parser.add_argument("--rate", type=int, default=1000, help="calls per second while placing them")
    parser.add_argument("--steps", type=int, default=4, help="measurement steps (equal shares of --calls)")
    parser.add_argument("--t1-ms", type=int, default=500, help="the gateway's sip.t1_ms")
    parser.add_argument("--steady-each-step", type=int, default=1,
                        help="1: wait for the set-up transactions to end after every step, "
                             "0: only after the last")
    parser.add_argument("--settle-timeout", type=float, default=20.0,
                        help="seconds a step may take to agree after its calls are placed")
    parser.add_argument("--quick", action="store_true",
                        help="5,000 calls at 1,000/s in 2 steps, steady measured at the end "
                             "only, no wait after the BYEs (about a minute)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rate, args.steps, args.steady_each_step, args.settle_timeout = 5000, 1000, 2, 0, 4.0
    if args.calls < args.steps or args.rate < 1 or args.steps < 1:
        parser.error("need --calls >= --steps >= 1 and --rate >= 1")
    args.calls -= args.calls % args.steps

    build_dir = sc.find_build_dir(args.build_dir)
    daemon, ctl = sc.binaries(build_dir)
    workdir = h.make_workdir("sb-hold-")
    print("switchboard: %s (CMAKE_BUILD_TYPE=%s)" % (daemon, sc.build_type(build_dir)))
    print("sipp: %s; %d CPUs; work dir %s" % (h.SIPP, os.cpu_count(), workdir), flush=True)

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    run = Run(args, daemon, ctl, workdir)
    ok = False
    try:
        run.run()
        ok = not run.problems
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except h.HarnessError as e:
        run.problems.append(str(e))
    finally:
        run.close()
        for p in run.problems:
            print("PROBLEM: %s" % p, file=sys.stderr)
        if args.keep or not ok:
            print("work dir kept: %s" % workdir, file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
