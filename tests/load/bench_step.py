#!/usr/bin/env python3
"""SIPp step load test of the gateway, next to SIPp UAC -> UAS directly in the same run.

Starts a private redis-server, publishes the e2e fixture tables (every trunk unlimited),
starts switchboard (the Release build when there is one) and one SIPp UAS that answers at
once (uas-bench.xml: 100, 180, 200; ACK; BYE/200). Then, for each rate of the step list,
runs the same SIPp UAC (uac-bench.xml, dialling 12333320500 -> trunk js-suzhou) for
--duration seconds twice: straight to the UAS ("direct", the reference: what SIPp and
this machine manage without a gateway) and through the gateway ("gateway"). Prints one
table: offered rate, achieved calls/s, failed calls, INVITE->200 p50/p99 (SIPp -trace_rtt,
millisecond resolution), the gateway's CPU and peak RSS during the step, the SIPp
processes' CPU, UDP receive-buffer drops, and the gateway/direct ratios.

Columns: achieved/s = answers (200 to the INVITE) per second from the UAC's start to its
last answer; ok/failed = SIPp UAC calls (failed includes calls not completed in time);
peer failed = calls the UAS aborted (e.g. BYE before ACK); retrans = SIPp UAC
retransmissions; p50/p99 = INVITE sent -> 200 received; gw CPU = the daemon's CPU time
over the step's wall time (100 = one core); gw RSS peak = VmRSS sampled every 50 ms; UDP
drops = receive-buffer drops on the gateway's socket / the peer's socket / all UDP sockets
(/proc/net/udp); SIPp CPU = UAC + UAS CPU time over the step's wall time; other CPU =
every other process on the machine (from /proc/stat; when it is not near 0 someone
else's work competed with the run and the figures are not worth much). Below the table: the gateway's own
per-trunk results for each step (anything but "answered" explains failures).

Not part of the test command. Loopback only. Every step is bounded (SIPp -timeout and a
process timeout), and everything started is stopped at the end, also on Ctrl-C.
A Release build: cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release &&
cmake --build build-release -j2 (picked up automatically when present).

  tests/load/bench_step.py                      # 500 1000 2000 3000 4000 5000, 10 s each
  tests/load/bench_step.py --rates 500,2000 --duration 5
  tests/load/bench_step.py --build-dir build-release --hold-ms 0 --keep
  SWITCHBOARD_BIN=/path/to/switchboard tests/load/bench_step.py   # any daemon binary
"""

import argparse
import os
import shutil
import signal
import sys
import threading
import time

from benchlib import (HERE, build_type, children_cpu_s, find_build_dir, fmt, gateway_counts, h, host_busy_s,
                      peer_counts,
                      percentile, proc_cpu_s, proc_hwm_kb, proc_rss_kb, read_rtt, rtt_freq, start_gateway,
                      udp_drops)

NUMBER = "12333320500"  # Suzhou: route 320500 -> js-suzhou


# --- sampling of the processes and sockets -------------------------------------------

class Sampler:
    """Samples the gateway's VmRSS every 50 ms while a step runs; CPU of the gateway and of
    the SIPp processes (the UAS by its pid, the UAC as our waited-for child)."""

    def __init__(self, pid, peer_pid):
        self.pid = pid
        self.peer_pid = peer_pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        self.peak_kb = proc_rss_kb(self.pid) if self.pid else 0
        self.cpu0 = proc_cpu_s(self.pid) if self.pid else 0.0
        self.sipp0 = proc_cpu_s(self.peer_pid) + children_cpu_s()
        self.host0 = host_busy_s()
        self.t0 = time.monotonic()
        if self.pid:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.05):
            self.peak_kb = max(self.peak_kb, proc_rss_kb(self.pid))

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=1)
        wall = time.monotonic() - self.t0
        self.cpu_pct = (100.0 * (proc_cpu_s(self.pid) - self.cpu0) / wall) if self.pid else None
        self.sipp_pct = 100.0 * (proc_cpu_s(self.peer_pid) + children_cpu_s() - self.sipp0) / wall
        host_pct = 100.0 * (host_busy_s() - self.host0) / wall
        # Everything else on the machine (other users' builds...): a benchmark is only
        # worth its numbers when this stays near zero.
        self.other_pct = max(0.0, host_pct - self.sipp_pct - (self.cpu_pct or 0.0))
        return False


# --- one step ---------------------------------------------------------------------------

def run_step(path, target, rate, duration, hold_ms, workdir, gateway_pid, peer_pid, watch_ports):
    calls = int(rate * duration)
    stepdir = os.path.join(workdir, "%s-%d" % (path, rate))
    os.makedirs(stepdir, exist_ok=True)
    drops0 = udp_drops()
    with Sampler(gateway_pid, peer_pid) as sample:
        result = h.run_uac(os.path.join(HERE, "uac-bench.xml"), target, NUMBER, stepdir,
                           params={"HOLD_MS": hold_ms}, calls=calls, rate=rate,
                           timeout_s=duration + 10, trace_msg=False,
                           extra_args=["-trace_rtt", "-rtt_freq", str(rtt_freq(calls))])
    drops1 = udp_drops()
    rtt = read_rtt(stepdir)
    answered = len(rtt)
    # Answers per second from SIPp's start to the last answer: a step that falls behind
    # (or waits on retransmissions) stretches this span.
    span = max(t for t, _ in rtt) / 1000.0 if rtt else 0
    values = sorted(v for _, v in rtt)
    ok = result.successful or 0
    created = result.created or 0
    failed = (result.failed or 0) + max(0, calls - ok - (result.failed or 0))
    return {
        "path": path,
        "rate": rate,
        "calls": calls,
        "created": created,
        "ok": ok,
        "failed": failed,
        "retrans": int(result.stats.get("Retransmissions(C)", "0") or 0),
        "achieved": (answered / span) if span > 0 else 0.0,
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "gw_cpu": sample.cpu_pct,
        "gw_rss_mb": sample.peak_kb / 1024.0 if gateway_pid else None,
        "sipp_cpu": sample.sipp_pct,
        "other_cpu": sample.other_pct,
        "rc": result.rc,
        "wall": result.elapsed,
        "drops": {name: drops1.get(port, 0) - drops0.get(port, 0) for name, port in watch_ports.items()},
        "drops_all": sum(drops1.values()) - sum(drops0.values()),
    }


def print_table(rows, out=sys.stdout):
    header = ("| offered/s | path    | achieved/s | ok     | failed | peer failed | retrans "
              "| p50 ms | p99 ms | gw CPU % | SIPp CPU % | other CPU % | gw RSS peak MB "
              "| UDP drops gw/peer/all |")
    out.write(header + "\n")
    out.write("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|\n")
    by_rate = {}
    for r in rows:
        by_rate.setdefault(r["rate"], {})[r["path"]] = r
        drops = "%d/%d/%d" % (r["drops"]["gateway"], r["drops"]["peer"], r["drops_all"])
        out.write("| %9d | %-7s | %10s | %6d | %6d | %11d | %7d | %6s | %6s | %8s | %10s | %11s "
                  "| %14s | %21s |\n" % (
            r["rate"], r["path"], fmt(r["achieved"], ".0f"), r["ok"], r["failed"], r["peer_failed"],
            r["retrans"],
            fmt(r["p50"], ".1f"), fmt(r["p99"], ".1f"), fmt(r["gw_cpu"], ".0f"),
            fmt(r["sipp_cpu"], ".0f"), fmt(r["other_cpu"], ".0f"), fmt(r["gw_rss_mb"], ".1f"), drops))
    notes = ["  %d/s: %s" % (r["rate"], r["gw_counts"]) for r in rows
             if r["path"] == "gateway" and r.get("gw_counts")]
    if notes:
        out.write("\ngateway counters per step (switchboard_trunk_calls_total, rejections):\n")
        out.write("\n".join(notes) + "\n")
    out.write("\nratio gateway/direct per rate (achieved calls/s; p50, p99 latency):\n")
    out.write("| offered/s | achieved ratio | p50 gw/direct ms | p99 gw/direct ms |\n")
    out.write("|-----------|----------------|------------------|------------------|\n")
    for rate in sorted(by_rate):
        d, g = by_rate[rate].get("direct"), by_rate[rate].get("gateway")
        if not (d and g):
            continue
        ratio = (g["achieved"] / d["achieved"]) if d["achieved"] else None
        out.write("| %9d | %14s | %16s | %16s |\n" % (
            rate, fmt(ratio, ".2f"),
            "%s / %s" % (fmt(g["p50"], ".1f"), fmt(d["p50"], ".1f")),
            "%s / %s" % (fmt(g["p99"], ".1f"), fmt(d["p99"], ".1f"))))
    out.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", help="default: build-release if built, else build")
    parser.add_argument("--rates", default="500,1000,2000,3000,4000,5000",
                        help="comma-separated offered call rates (calls/s)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per step (<= 20)")
    parser.add_argument("--hold-ms", type=int, default=0, help="call hold between ACK and BYE")
    parser.add_argument("--no-direct", action="store_true", help="skip the direct reference")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    rates = [int(r) for r in args.rates.replace(" ", ",").split(",") if r]
    duration = min(max(args.duration, 1.0), 20.0)

    build_dir = find_build_dir(args.build_dir)
    daemon = os.environ.get("SWITCHBOARD_BIN") or os.path.join(build_dir, "gateway", "app", "switchboard")
    ctl = os.environ.get("SWITCHBOARDCTL_BIN") or os.path.join(build_dir, "gateway", "ctl", "switchboardctl")
    workdir = h.make_workdir("sb-bench-")
    print("switchboard: %s (CMAKE_BUILD_TYPE=%s)" % (daemon, build_type(build_dir)))
    print("sipp: %s; %d CPUs; work dir %s" % (h.SIPP, os.cpu_count(), workdir))
    print("steps: %s calls/s, %.0f s each, hold %d ms, number %s\n"
          % (" ".join(map(str, rates)), duration, args.hold_ms, NUMBER))

    # SIGTERM/SIGINT: unwind through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    redis = gw = uas = None
    rows = []
    ok = False
    try:
        redis = h.RedisServer(workdir).start()
        uas_port = h.free_port()
        tables = os.path.join(workdir, "tables")
        h.make_table_dir(tables, {"js-suzhou": uas_port})
        h.publish_tables(ctl, tables, redis.address)
        gw = start_gateway(daemon, workdir, redis.address)
        total = len(rates) * (duration + 12) * (1 if args.no_direct else 2) + 60
        uas = h.Uas(os.path.join(HERE, "uas-bench.xml"), uas_port, workdir, timeout_s=int(total),
                    trace_msg=False)
        uas.start()
        for rate in rates:
            paths = ([] if args.no_direct else [("direct", "%s:%d" % (h.PEER_IP, uas_port))]) + \
                [("gateway", gw.sip_address)]
            for path, target in paths:
                peer_before = peer_counts(uas)
                metrics_before = gw.metrics()
                row = run_step(path, target, rate, duration, args.hold_ms, workdir,
                               gw.pid() if path == "gateway" else None, uas.proc.pid,
                               {"gateway": gw.sip_port, "peer": uas_port})
                # Let the peer's calls (timewait) and the gateway's transactions settle,
                # and the peer write its statistics (every second).
                time.sleep(2.5)
                peer_after = peer_counts(uas)
                row["peer_failed"] = peer_after[1] - peer_before[1]
                row["gw_counts"] = gateway_counts(metrics_before, gw.metrics())
                rows.append(row)
                print("  %-7s %5d/s: achieved %6.0f/s ok %6d failed %5d (peer %d) p50 %s p99 %s ms"
                      "  drops gw %d peer %d all %d%s"
                      % (path, rate, row["achieved"], row["ok"], row["failed"], row["peer_failed"],
                         fmt(row["p50"], ".1f"), fmt(row["p99"], ".1f"), row["drops"]["gateway"],
                         row["drops"]["peer"], row["drops_all"],
                         "  gw CPU %s%% RSS %s MB  %s" % (fmt(row["gw_cpu"], ".0f"),
                                                        fmt(row["gw_rss_mb"], ".1f"), row["gw_counts"])
                         if path == "gateway" else ""), flush=True)
                if not gw.alive():
                    raise h.HarnessError("switchboard died during the %d/s step:\n%s"
                                         % (rate, gw.log_tail()))
        print()
        print_table(rows)
        print("\ngateway VmHWM (peak RSS since start): %.1f MB" % (proc_hwm_kb(gw.pid()) / 1024.0))
        ok = True
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        if rows:
            print_table(rows)
        return 130
    finally:
        if uas:
            uas.stop()
        if gw:
            rc = gw.stop()
            if rc not in (0, None):
                print("switchboard exited %s on SIGTERM\n%s" % (rc, gw.log_tail()), file=sys.stderr)
        if redis:
            redis.stop()
        if args.keep or not ok:
            print("work dir kept: %s" % workdir, file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    failed_steps = [r for r in rows if r["path"] == "gateway" and (r["failed"] or r["peer_failed"])]
    return 1 if failed_steps else 0


if __name__ == "__main__":
    sys.exit(main())
