"""Shared pieces of the scale benchmarks (bench_hold.py, bench_swap.py): the gateway started
without the limits that would cap a benchmark, long-running SIPp processes read while they
run (their -trace_counts and -trace_stat files), memory of a process from /proc, and the
gateway's call gauges.

Python 3 standard library only; builds on tests/e2e/harness.py. Loopback only.
"""

import csv
import glob
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

import harness as h  # noqa: E402

import benchlib  # noqa: E402


find_build_dir = benchlib.find_build_dir
build_type = benchlib.build_type


def binaries(build_dir):
    daemon = os.environ.get("SWITCHBOARD_BIN") or os.path.join(build_dir, "gateway", "app", "switchboard")
    ctl = os.environ.get("SWITCHBOARDCTL_BIN") or os.path.join(build_dir, "gateway", "ctl", "switchboardctl")
    return daemon, ctl


# --- memory of a process -----------------------------------------------------------------

def proc_status_kb(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM, RssAnon...); 0 when unreadable."""
    return benchlib.status_kb(pid, field + ":")


def rss_mb(pid):
    return proc_status_kb(pid, "VmRSS") / 1024.0


class PeakRss:
    """Samples VmRSS of `pid` every 50 ms in a thread while the `with` block runs
    (and across several blocks: peak_mb keeps the maximum since the last reset())."""

    def __init__(self, pid):
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = None

    def reset(self):
        self.peak_kb = proc_status_kb(self.pid, "VmRSS")

    @property
    def peak_mb(self):
        return self.peak_kb / 1024.0

    def start(self):
        self.reset()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.05):
            self.peak_kb = max(self.peak_kb, proc_status_kb(self.pid, "VmRSS"))

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=1)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


# --- the gateway -------------------------------------------------------------------------

def start_gateway(daemon, workdir, redis_address, extra_sip=None, extra_redis=None,
                  log_level="warn"):
    """The gateway without the limits that would cap a benchmark (benchlib.start_gateway)."""
    return benchlib.start_gateway(daemon, workdir, redis_address, extra_sip=extra_sip,
                                  extra_redis=extra_redis, log_level=log_level)


def _value(metrics, name, **labels):
    return metrics.get(h.key(name, **labels))


def trunk_gauge(metrics, trunk, direction="out"):
    """switchboard_trunk_active_calls of a trunk in one direction (docs/metrics.md); a
    daemon from before the direction label has the outgoing count without it."""
    value = _value(metrics, "switchboard_trunk_active_calls", trunk=trunk, direction=direction)
    if value is None and direction == "out":
        value = _value(metrics, "switchboard_trunk_active_calls", trunk=trunk)
    return value


def transactions(metrics):
    """switchboard_transactions_in_progress summed over `kind`; None when the daemon does
    not export it."""
    values = [v for (name, _), v in metrics.items() if name == "switchboard_transactions_in_progress"]
    return sum(values) if values else None


def gauges(gw, out_trunk, in_trunk=None):
    """The gateway's call gauges now: active (switchboard_active_calls), in_progress
    (switchboard_calls_in_progress), trunk_out (the destination trunk's active calls),
    trunk_in (the origin trunk's, None when not exported), transactions, rss_mb."""
    m = gw.metrics()
    return {
        "active": _value(m, "switchboard_active_calls"),
        "in_progress": _value(m, "switchboard_calls_in_progress"),
        "trunk_out": trunk_gauge(m, out_trunk, "out"),
        "trunk_in": trunk_gauge(m, in_trunk, "in") if in_trunk else None,
        "transactions": transactions(m),
        "rss_mb": rss_mb(gw.pid()),
    }


# --- SIPp processes that run for a long time -----------------------------------------------

class Sipp(h.Uas):
    """A SIPp process (UAS, or UAC when given a service and a target) that runs in the
    background, with -trace_counts so its per-message counters can be read while it runs
    (every second, -fd 1). A UAC's target goes last on the command line."""

    def __init__(self, scenario, port, workdir, params=None, ip=h.PEER_IP, timeout_s=60,
                 uac=None, extra_args=None):
        # SIPp's remote control socket on loopback (by default it binds 0.0.0.0:8888+).
        self.control_port = h.free_port()
        args = ["-trace_counts", "-ci", "127.0.0.1", "-cp", str(self.control_port)]
        args += list(extra_args or [])
        if uac:
            args += ["-s", uac["service"], "-m", str(uac["calls"]), "-r", str(uac["rate"]),
                     "-l", str(uac.get("limit", uac["calls"]))]
            args += uac.get("args", [])
            args.append(uac["target"])
        super().__init__(scenario, port, workdir, params=params, ip=ip, timeout_s=timeout_s,
                         extra_args=args, trace_msg=False)

    def quit(self):
        """SIPp's 'q' over its control socket: no new call; exits once the calls in
        progress are done."""
        import socket
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"q", ("127.0.0.1", self.control_port))

    def counts(self):
        """The last row of the -trace_counts file as {column: int}; {} before the first."""
        if not self.proc:
            return {}
        pattern = os.path.join(self.workdir, "*%s*_%d_counts.csv" % (self.prefix, self.proc.pid))
        for path in glob.glob(pattern):
            try:
                with open(path, newline="", encoding="utf-8", errors="replace") as f:
                    rows = [r for r in csv.reader(f, delimiter=";") if r]
            except OSError:
                return {}
            if len(rows) < 2:
                return {}
            out = {}
            for name, value in zip(rows[0], rows[-1]):
                try:
                    out[name] = int(value)
                except ValueError:
                    pass
            return out
        return {}

    def stat_rows(self):
        """Every row of the -trace_stat file (written every second) as (unix time, {column:
        value}): cumulative counters such as FailedCall(C) and Retransmissions(C) over time."""
        path = os.path.join(self.workdir, self.prefix + "-stat.csv")
        out = []
        try:
            with open(path, newline="", encoding="utf-8", errors="replace") as f:
                rows = [r for r in csv.reader(f, delimiter=";") if r]
        except OSError:
            return out
        if not rows:
            return out
        header = rows[0]
        for row in rows[1:]:
            values = dict(zip(header, row))
            try:
                # CurrentTime is "date<TAB>time<TAB>unix time".
                t = float(values.get("CurrentTime", "").split("\t")[-1])
            except ValueError:
                continue
            out.append((t, values))
        return out

    def counter_between(self, column, t0, t1):
        """How much a cumulative -trace_stat counter grew between unix times t0 and t1 (from
        the last row at or before t0 to the first row at or after t1)."""
        rows = self.stat_rows()

        def value(values):
            try:
                return int(values.get(column, 0) or 0)
            except ValueError:
                return 0
        before = [value(v) for when, v in rows if when <= t0]
        after = [value(v) for when, v in rows if when >= t1]
        start = before[-1] if before else 0
        end = after[0] if after else (value(rows[-1][1]) if rows else 0)
        return end - start

    def count(self, column, default=0):
        return self.counts().get(column, default)

    def running(self):
        return self.proc is not None and self.proc.poll() is None


def established_uac(counts):
    """Calls a uac-bench.xml UAC holds now: ACKs sent minus BYEs sent."""
    return counts.get("4_ACK_Sent", 0) - counts.get("6_BYE_Sent", 0)


def established_uas(counts):
    """Calls a uas-bench.xml UAS holds now: ACKs received minus BYEs received."""
    return counts.get("4_ACK_Recv", 0) - counts.get("5_BYE_Recv", 0)


def wait_for(predicate, timeout, interval=0.25):
    """Polls `predicate` until it returns a true value or `timeout` passes; returns the
    last value (bounded, never raises on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
