"""Shared pieces of the benchmarks in tests/load/ (bench_step.py, bench_compare.py):
sampling of processes (/proc: CPU, RSS, PSS, UDP drops), SIPp response-time files,
percentiles, formatting, finding the build. Python 3 standard library only; the SIPp,
Redis and gateway plumbing lives in tests/e2e/harness.py."""

import csv
import glob
import os
import resource
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

import harness as h  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def find_build_dir(explicit):
    if explicit:
        return os.path.abspath(explicit)
    for name in ("build-release", "build"):
        d = os.path.join(h.REPO, name)
        if os.access(os.path.join(d, "gateway", "app", "switchboard"), os.X_OK):
            return d
    return os.path.join(h.REPO, "build")


def build_type(build_dir):
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    return line.split("=", 1)[1].strip() or "(none)"
    except OSError:
        pass
    return "?"


# --- /proc ------------------------------------------------------------------------------

def status_kb(pid, field):
    """A kB field of /proc/PID/status (`field` with its colon, e.g. "VmRSS:"); 0 when unreadable."""
    try:
        with open("/proc/%d/status" % pid, encoding="utf-8") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def proc_rss_kb(pid):
    return status_kb(pid, "VmRSS:")


def proc_hwm_kb(pid):
    return status_kb(pid, "VmHWM:")


def proc_pss_kb(pid):
    """Proportional set size (/proc/PID/smaps_rollup): shared pages (Kamailio's shared
    memory, libraries) divided among the processes that map them, so the PSS of all the
    processes of a program adds up to what the program really holds."""
    try:
        with open("/proc/%d/smaps_rollup" % pid, encoding="utf-8") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def proc_cpu_s(pid):
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def descendants(pid):
    """pid and every live process below it (by /proc/*/stat ppid)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8") as f:
                parent[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        for child, ppid in parent.items():
            if ppid == p and child not in out:
                out.append(child)
                todo.append(child)
    return out


def host_busy_s():
    """CPU seconds all CPUs spent busy (not idle or iowait) since boot (/proc/stat)."""
    try:
        with open("/proc/stat", encoding="utf-8") as f:
            values = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    return (sum(values) - values[3] - values[4]) / CLK_TCK


def children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def udp_drops():
    """{local port: drops} of every IPv4 UDP socket (/proc/net/udp, last column)."""
    out = {}
    try:
        with open("/proc/net/udp", encoding="utf-8") as f:
            next(f)
            for line in f:
                fields = line.split()
                port = int(fields[1].split(":")[1], 16)
                out[port] = out.get(port, 0) + int(fields[-1])
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return out


class GroupSampler:
    """While a step runs: peak RSS and peak PSS of a group of processes (summed over the
    group, sampled every `interval` s) and the CPU each named group used, as % of one core
    over the step's wall time. `groups`: {name: [pid, ...]}; `memory_group` names the one
    whose memory is sampled (None: none). The UAC (our waited-for child) is counted from
    RUSAGE_CHILDREN as "uac"; "other" is every other process on the machine."""

    def __init__(self, groups, memory_group=None, interval=0.2):
        self.groups = {k: list(v) for k, v in groups.items()}
        self.memory_group = memory_group
        self.interval = interval
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.cpu_pct = {}
        self._stop = threading.Event()
        self._thread = None

    def _cpu(self):
        return {k: sum(proc_cpu_s(p) for p in pids) for k, pids in self.groups.items()}

    def _sample_memory(self):
        pids = self.groups.get(self.memory_group) or []
        self.peak_rss_kb = max(self.peak_rss_kb, sum(proc_rss_kb(p) for p in pids))
        self.peak_pss_kb = max(self.peak_pss_kb, sum(proc_pss_kb(p) for p in pids))

    def __enter__(self):
        self.cpu0 = self._cpu()
        self.uac0 = children_cpu_s()
        self.host0 = host_busy_s()
        self.t0 = time.monotonic()
        if self.memory_group:
            self._sample_memory()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample_memory()

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        wall = max(time.monotonic() - self.t0, 1e-6)
        cpu1 = self._cpu()
        self.cpu_pct = {k: 100.0 * (cpu1[k] - self.cpu0[k]) / wall for k in cpu1}
        self.cpu_pct["uac"] = 100.0 * (children_cpu_s() - self.uac0) / wall
        host = 100.0 * (host_busy_s() - self.host0) / wall
        self.cpu_pct["other"] = max(0.0, host - sum(self.cpu_pct.values()))
        return False


# --- SIPp files -------------------------------------------------------------------------

def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def rtt_freq(calls):
    """SIPp writes -trace_rtt values in batches of -rtt_freq and drops an incomplete last
    batch: a batch size that divides the number of calls (at most 1000)."""
    return max(d for d in range(1, min(calls, 1000) + 1) if calls % d == 0)


def read_rtt(stepdir):
    """All (time_ms, response_time_ms) of response time 1 from the step's -trace_rtt file
    (Date_ms: milliseconds since SIPp started; both at SIPp's millisecond clock tick)."""
    rows = []
    for path in glob.glob(os.path.join(stepdir, "*_rtt.csv")):
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            for row in csv.reader(f, delimiter=";"):
                if len(row) < 3 or row[0].startswith("Date"):
                    continue
                try:
                    if row[2].strip() == "1":
                        rows.append((float(row[0]), float(row[1])))
                except ValueError:
                    continue
        os.remove(path)
    return rows


def read_counts(stepdir):
    """The last row of the step's -trace_counts file as {column: int} (per scenario
    element: "<index>_<message>_Recv", "_Retrans", "_Timeout", "_Unexp", ...)."""
    out = {}
    for path in glob.glob(os.path.join(stepdir, "*_counts.csv")):
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            rows = [r for r in csv.reader(f, delimiter=";") if r]
        if len(rows) < 2:
            continue
        for k, v in zip(rows[0], rows[-1]):
            try:
                out[k] = out.get(k, 0) + int(v)
            except ValueError:
                continue
    return out


def peer_counts(uas):
    """(successful, failed) calls of the long-running UAS so far (its stat file, -fd 1)."""
    stats = uas.result().stats
    try:
        return int(stats.get("SuccessfulCall(C)", 0)), int(stats.get("FailedCall(C)", 0))
    except ValueError:
        return 0, 0


def start_gateway(daemon, workdir, redis_address, sip_port=None, extra_sip=None, extra_redis=None,
                  log_level="warn", **gateway_options):
    """The gateway without limits that would cap the offered load: every call comes from
    one source address (the per-source flood limit, 500/s by default, is lifted) and
    max_in_progress is raised. A daemon older than the flood limit rejects its keys (unknown
    keys are errors): then it is started without them. `extra_sip`: more sip: keys."""
    unlimited = {"max_in_progress": 50000, "flood_rate": 1000000, "flood_burst": 1000000}
    unlimited.update(extra_sip or {})
    gw = h.Gateway(daemon, workdir, redis_address, failover_timeout_ms=2000, log_level=log_level,
                   extra_sip=unlimited, extra_redis=extra_redis, sip_port=sip_port, **gateway_options)
    try:
        return gw.start()
    except h.HarnessError:
        if "flood_" not in gw.log_tail():
            raise
    gw.stop()
    gw = h.Gateway(daemon, workdir, redis_address, failover_timeout_ms=2000, log_level=log_level,
                   extra_sip=dict({"max_in_progress": 50000}, **(extra_sip or {})),
                   extra_redis=extra_redis, sip_port=sip_port, **gateway_options)
    return gw.start()


def gateway_counts(before, after):
    """The step's switchboard_trunk_calls_total and rejections, e.g.
    "js-suzhou answered 29973, js-suzhou timeout 27, js-province failed 27"."""
    parts = []
    for k, v in sorted(h.deltas(before, after, ("switchboard_trunk_calls_total",
                                                 "switchboard_rejections_total")).items(),
                       key=lambda kv: -kv[1]):
        labels = dict(k[1])
        what = ("%s %s%s" % (labels.get("trunk"), labels.get("result"),
                             " (in)" if labels.get("direction") == "in" else "")
                if "trunk" in labels else "rejected %s" % labels.get("reason"))
        parts.append("%s %d" % (what, v))
    return ", ".join(parts) or "-"


def fmt(value, spec, none="-"):
    return none if value is None else format(value, spec)
