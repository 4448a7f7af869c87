#!/usr/bin/env python3
"""Side-by-side benchmark (issue 7): Switchboard against Kamailio doing the same job, and
SIPp UAC -> UAS directly as the ceiling of the harness, all in one run.

What it starts (loopback only, everything stopped at the end, also on Ctrl-C):
  - a private redis-server; routing-tables/national published into it with
    `switchboardctl tables publish` after removing every trunk's `capacity` and `cps`
    (unlimited: admission must not cap the offered load; everything else unchanged);
  - one SIPp UAS per destination trunk, on the trunk's own placeholder address from the
    national table (127.0.<province>.1:5060), answering 100, 180, 200 at once
    (uas-bench.xml);
  - the systems under test, each on its own port and kept running for the whole run:
      switchboard          the gateway (probes off, flood limit and max_in_progress lifted);
      kamailio-redis/N     kamailio/kamailio-redis.cfg, N SIP workers: the destination of
                           each INVITE looked up in Redis (ndb_redis) in the gateway's keys;
      kamailio-htable/N    kamailio/kamailio-htable.cfg: the same data copied into htable at
                           start-up, looked up in memory;
    (N from --kamailio-children, e.g. 2 and 4: Kamailio's best is taken);
  - per step, one SIPp UAC (uac-compare.xml: INVITE -> 100/180/200 -> ACK -> hold -> BYE ->
    200) from the source address of a national trunk, dialling numbers from an injection
    CSV spread over --trunks routes (12333 + the province's code, 12333 + area codes of the
    province), each system in turn at the same rate ("direct" sends each call straight to
    its trunk's UAS with SIPp's setdest).

Before the steps, every system answers a routing check: each CSV number once; each UAS must
receive exactly the calls whose numbers route to its trunk.

For each rate and system: achieved calls/s (answers / time to the last answer), failed
calls (UAC failures and calls not completed, plus UAS failures), UAC retransmissions,
reorders (a 180 that reached the caller after the 200 of its call; counted by the UAC
scenario), messages for calls already ended, INVITE->200 p50/p99 (SIPp -trace_rtt, 1 ms
resolution), CPU of the system under test (all its processes), of SIPp (UAC + UAS), of
Redis and of everything else, peak RSS and peak PSS of the system under test (sum over
its processes, sampled every 200 ms; PSS from /proc/PID/smaps_rollup shares Kamailio's
shared memory fairly among its processes), UDP receive-buffer drops.

A step is sustainable when no call failed, UAC retransmissions are at most
--max-retrans-ratio of the calls, and achieved >= --min-achieved of the offered rate. A
system stops stepping after --give-up unsustainable steps in a row. Then, at 80 % of each
Kamailio variant's best maximum rate, Switchboard and that Kamailio run one more step each
(the latency comparison). Printed at the end: each system's maximum sustainable rate and
the ratios Switchboard / Kamailio (throughput; p99 at 80 % of Kamailio's maximum; memory at
Kamailio's maximum rate: Switchboard's RSS against Kamailio's PSS). Written to --out:
results.md (the tables), results.json (every row), compare.png (achieved rate and p99
against offered rate; python3-matplotlib).

Not part of the test command. Takes time: see --quick to check the harness works.

  tests/load/bench_compare.py --quick                       # ~3 minutes, low rates
  tests/load/bench_compare.py                               # the full run (quiet machine)
  tests/load/bench_compare.py --rates 1000,2000 --duration 10 --kamailio-children 4
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

from benchlib import (GroupSampler, build_type, descendants, find_build_dir, fmt, gateway_counts, h,
                      peer_counts,
                      percentile, read_counts, read_rtt, rtt_freq, start_gateway, udp_drops)

HERE = os.path.dirname(os.path.abspath(__file__))
KAMAILIO_DIR = os.path.join(HERE, "kamailio")
NATIONAL = os.path.join(h.REPO, "routing-tables", "national")
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
APT_LINE = "apt-get install -y kamailio kamailio-redis-modules"
PREFIX = "sb"  # redis.prefix: the Kamailio configurations read the same keys

DEFAULT_RATES = "1000,2000,3000,4000,5000,5500,6000,6500,7000,7500,8000,9000,10000,11000,12000,13000"


class BenchError(Exception):
    pass


# --- Redis (RESP, enough for GET / HGETALL) -----------------------------------------------

def redis_call(port, *args):
    payload = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        payload += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(payload)
        f = s.makefile("rb")

        def read():
            line = f.readline()
            if not line:
                raise BenchError("redis closed the connection")
            kind, rest = line[:1], line[1:-2]
            if kind == b"+":
                return rest.decode()
            if kind == b"-":
                raise BenchError("redis: %s" % rest.decode())
            if kind == b":":
                return int(rest)
            if kind == b"$":
                n = int(rest)
                if n < 0:
                    return None
                data = f.read(n + 2)
                return data[:-2].decode("utf-8")
            if kind == b"*":
                n = int(rest)
                return None if n < 0 else [read() for _ in range(n)]
            raise BenchError("unexpected redis reply %r" % line)
        return read()


def hgetall(port, key):
    flat = redis_call(port, "HGETALL", key) or []
    return dict(zip(flat[0::2], flat[1::2]))


# --- tables and the call mix ----------------------------------------------------------------

def unlimited_tables(dest):
    """routing-tables/national copied with every trunk's capacity and cps lines removed."""
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(NATIONAL):
        if not name.endswith(".yaml"):
            continue
        with open(os.path.join(NATIONAL, name), encoding="utf-8") as f:
            text = f.read()
        if name == "trunks.yaml":
            text = re.sub(r"(?m)^\s+(capacity|cps):.*\n", "", text)
        with open(os.path.join(dest, name), "w", encoding="utf-8") as f:
            f.write(text)


def resolve(routes, division):
    """The gateway's hierarchical lookup (README "Routing"): exact, XXXX00, XX0000, default."""
    for key in (division, division[:4] + "00", division[:2] + "0000", "default"):
        if key in routes:
            return key
    return None


def call_mix(redis_port, n_trunks, per_trunk):
    """From the published tables in Redis: `n_trunks` province platforms open 7x24 whose
    route is that one trunk, spread over the country, and for each up to `per_trunk`
    numbers that route to it. Returns (rows, trunks): rows = [(dialled, host, port, trunk)]
    interleaved over the trunks; trunks = {name: (host, port, source)}."""
    version = redis_call(redis_port, "GET", "%s:tables:current" % PREFIX)
    if not version:
        raise BenchError("no %s:tables:current after publishing" % PREFIX)
    base = "%s:tables:v%s" % (PREFIX, version)
    routes = {k: json.loads(v) for k, v in hgetall(redis_port, base + ":routes").items()}
    trunks = {k: json.loads(v) for k, v in hgetall(redis_port, base + ":trunks").items()}
    area_codes = hgetall(redis_port, base + ":area_codes")
    candidates = []
    for key, groups in sorted(routes.items()):
        if not re.fullmatch(r"\d\d0000", key) or len(groups) != 1 or len(groups[0]) != 1:
            continue
        name = groups[0][0]["trunk"]
        t = trunks.get(name, {})
        m = re.fullmatch(r"sip:([0-9.]+):(\d+)", (t.get("targets") or [""])[0])
        if "hours" in t or not m or not t.get("sources"):
            continue
        candidates.append((key, name, m.group(1), int(m.group(2)), t["sources"][0]))
    if len(candidates) < n_trunks:
        raise BenchError("only %d single-trunk 7x24 province routes in the tables, %d asked"
                         % (len(candidates), n_trunks))
    step = len(candidates) / float(n_trunks)
    chosen = [candidates[int(i * step)] for i in range(n_trunks)]
    per = []
    for key, name, host, port, _ in chosen:
        numbers = ["12333" + key]
        for code, division in sorted(area_codes.items()):
            if len(numbers) >= per_trunk:
                break
            if resolve(routes, division) == key:
                numbers.append("12333" + code)
        per.append([(n, host, port, name) for n in numbers])
    rows = []
    for i in range(max(len(p) for p in per)):
        rows += [p[i] for p in per if i < len(p)]
    return rows, {name: (host, port, source) for _, name, host, port, source in chosen}


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("SEQUENTIAL\n")
        for dialled, host, port, _ in rows:
            f.write("%s;%s;%d\n" % (dialled, host, port))


def expected_per_trunk(rows, calls):
    out = {}
    for i in range(calls):
        trunk = rows[i % len(rows)][3]
        out[trunk] = out.get(trunk, 0) + 1
    return out


# --- systems under test -----------------------------------------------------------------------

class Direct:
    name = "direct"
    kind = "direct"

    def __init__(self, target):
        self.target = target
        self.sip_port = None

    def start(self):
        return self

    def pids(self):
        return []

    def alive(self):
        return True

    def stop(self):
        return 0

    def log_tail(self):
        return ""


class Switchboard:
    """The gateway; with `workers` > 1 a supervisor and that many SIP worker processes that
    share the listen port (gateway.yaml sip.workers). The kernel spreads the shared port's
    traffic by source address and port, so its UAC sends each call from a socket of its own
    (SIPp -t un); with one worker the UAC uses one socket, like for every other system."""
    kind = "switchboard"

    def __init__(self, daemon, workdir, redis_address, extra_sip=None, workers=1):
        self.daemon = daemon
        self.workers = workers
        self.name = "switchboard" if workers == 1 else "switchboard/%d" % workers
        self.extra_sip = dict(extra_sip or {})
        self.gateway_options = {}
        self.workdir = os.path.join(workdir, self.name.replace("/", "-"))
        os.makedirs(self.workdir, exist_ok=True)
        self.redis_address = redis_address
        self.gw = None
        if workers > 1:
            self.sip_port = h.free_port_run(2 + workers)
            self.extra_sip.update({"workers": workers, "worker_port_offset": 1})
            self.gateway_options = {"admin_port": h.free_port_run(workers),
                                    "metrics_port": h.free_port_run(workers)}
            self.uac_transport = "un"
        else:
            self.sip_port = h.free_port()
            self.uac_transport = "u1"

    @property
    def target(self):
        return "127.0.0.1:%d" % self.sip_port

    @property
    def sip_ports(self):
        return [self.sip_port] + ([self.sip_port + 1 + i for i in range(self.workers)]
                                  if self.workers > 1 else [])

    def start(self):
        self.gw = start_gateway(self.daemon, self.workdir, self.redis_address, sip_port=self.sip_port,
                                extra_sip=self.extra_sip, **self.gateway_options)
        if self.workers > 1:
            h.wait_until(lambda: all(self.ready(i) for i in range(self.workers)), 20.0,
                         what="%d workers ready" % self.workers)
        return self

    def ready(self, index):
        try:
            return h.http_get("127.0.0.1", self.gw.admin_port + index, "/readyz")[0] == 200
        except OSError:
            return False

    def metrics(self):
        """Every worker's /metrics, summed series by series."""
        total = {}
        for i in range(self.workers):
            status, body = h.http_get("127.0.0.1", self.gw.admin_port + i, "/metrics")
            if status != 200:
                raise BenchError("%s worker %d: /metrics answered %d" % (self.name, i, status))
            for k, v in h.parse_metrics(body).items():
                total[k] = total.get(k, 0.0) + v
        return total

    def pids(self):
        return descendants(self.gw.pid()) if self.gw and self.gw.pid() else []

    def alive(self):
        return self.gw is not None and self.gw.alive()

    def stop(self):
        return self.gw.stop(timeout=60) if self.gw else None

    def log_tail(self):
        return self.gw.log_tail() if self.gw else ""


class Kamailio:
    kind = "kamailio"

    def __init__(self, variant, children, workdir, redis_port, shm_mb):
        self.variant = variant  # "redis" or "htable"
        self.children = children
        self.name = "kamailio-%s/%d" % (variant, children)
        self.cfg = os.path.join(KAMAILIO_DIR, "kamailio-%s.cfg" % variant)
        self.workdir = os.path.join(workdir, "kamailio-%s-%d" % (variant, children))
        os.makedirs(self.workdir, exist_ok=True)
        self.redis_port = redis_port
        self.shm_mb = shm_mb
        self.sip_port = h.free_port()
        self.log_path = os.path.join(self.workdir, "kamailio.log")
        self.proc = None

    @property
    def target(self):
        return "127.0.0.1:%d" % self.sip_port

    def argv(self):
        return [KAMAILIO, "-f", self.cfg, "-DD", "-E", "-l", "udp:127.0.0.1:%d" % self.sip_port,
                "-m", str(self.shm_mb), "-M", "16", "-Y", self.workdir,
                "-P", os.path.join(self.workdir, "kamailio.pid"),
                "-A", "CHILDREN=%d" % self.children,
                "-A", 'REDIS_SERVER="name=sb;addr=127.0.0.1;port=%d"' % self.redis_port]

    def start(self, timeout=20.0):
        self.proc = h._spawn(self.argv(), self.log_path, cwd=self.workdir)

        def ready():
            if self.proc.poll() is not None:
                raise BenchError("kamailio %s exited with %s:\n%s"
                                 % (self.name, self.proc.returncode, h.tail(self.log_path)))
            if not h.udp_port_bound("127.0.0.1", self.sip_port):
                return False
            if self.variant == "htable":
                with open(self.log_path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                if "sb-tables-missing" in text:
                    raise BenchError("kamailio %s found no tables:\n%s" % (self.name, h.tail(self.log_path)))
                return "sb-tables-loaded" in text
            return True
        h.wait_until(ready, timeout, interval=0.1, what="kamailio %s ready" % self.name)
        # Its workers: the main process forks them right after binding.
        h.wait_until(lambda: len(descendants(self.proc.pid)) > self.children, 10, what="kamailio workers")
        return self

    def pids(self):
        return descendants(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return None
        rc = h._stop(self.proc, signal.SIGTERM, 15.0)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # any worker left behind (its own group)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc = None
        return rc

    def log_tail(self):
        return h.tail(self.log_path)


# --- one step ------------------------------------------------------------------------------

class Run:
    """Everything shared by the steps: work dir, Redis, the UAS peers, the CSV."""

    def __init__(self, args, workdir, redis, uas, rows, trunks, caller_ip):
        self.args = args
        self.workdir = workdir
        self.redis = redis
        self.uas = uas  # trunk name -> h.Uas
        self.rows = rows
        self.trunks = trunks
        self.caller_ip = caller_ip
        self.csv_path = os.path.join(workdir, "calls.csv")
        write_csv(self.csv_path, rows)
        self.step_no = 0

    def peer_totals(self):
        return {name: peer_counts(u) for name, u in self.uas.items()}

    def uac(self, system, rate, calls, stepdir, timeout_s):
        direct = system.kind == "direct"
        action = ('<nop><action><setdest host="[field1]" port="[field2]" protocol="udp"/>'
                  '</action></nop>') if direct else ""
        return h.run_uac(os.path.join(HERE, "uac-compare.xml"), system.target, "12333", stepdir,
                         params={"HOLD_MS": max(1, self.args.hold_ms), "DIRECT_ACTION": action},
                         calls=calls, rate=rate, ip=self.caller_ip, timeout_s=timeout_s,
                         transport=getattr(system, "uac_transport", "u1"), trace_msg=False,
                         trace_err=False,  # the hold's timeout would log a line per call
                         extra_args=(["-max_socket", "15000"]
                                     if getattr(system, "uac_transport", "u1") == "un" else [])
                         + ["-inf", self.csv_path, "-trace_rtt", "-rtt_freq", str(rtt_freq(calls)),
                                     "-trace_counts"])

    def step(self, system, rate, duration, phase="step"):
        self.step_no += 1
        calls = max(1, int(round(rate * duration)))
        stepdir = os.path.join(self.workdir, "%03d-%s-%d" % (self.step_no, system.name.replace("/", "-"), rate))
        os.makedirs(stepdir, exist_ok=True)
        uas_pids = [u.proc.pid for u in self.uas.values() if u.proc]
        groups = {"sut": system.pids(), "uas": uas_pids, "redis": [self.redis.proc.pid]}
        peers0 = self.peer_totals()
        metrics0 = system.metrics() if system.kind == "switchboard" else None
        drops0 = udp_drops()
        timeout_s = int(duration + self.args.hold_ms / 1000.0 + 15)
        with GroupSampler(groups, memory_group="sut" if groups["sut"] else None) as sample:
            result = self.uac(system, rate, calls, stepdir, timeout_s)
        drops1 = udp_drops()
        # The UAS peers write their statistics every second: let them, and let the
        # calls' last messages settle.
        time.sleep(2.2)
        peers1 = self.peer_totals()
        # The gateway's own view of the step (anything but "answered" explains failures).
        sut_counts = gateway_counts(metrics0, system.metrics()) if metrics0 is not None else None
        rtt = read_rtt(stepdir)
        counts = read_counts(stepdir)
        values = sorted(v for _, v in rtt)
        span = max(t for t, _ in rtt) / 1000.0 if rtt else 0.0
        ok = result.successful or 0
        failed = (result.failed or 0) + max(0, calls - ok - (result.failed or 0))
        peer_failed = sum(peers1[n][1] - peers0[n][1] for n in peers1)
        per_trunk = {n: peers1[n][0] - peers0[n][0] for n in peers1}
        # The hold element is the last "180" recv of the scenario: its Recv count = reorders.
        late = [k for k in counts if re.fullmatch(r"\d+_180_Recv", k)]
        reorders = counts[max(late, key=lambda k: int(k.split("_")[0]))] if len(late) >= 2 else None
        retrans = int(result.stats.get("Retransmissions(C)", "0") or 0)
        sut_ports = getattr(system, "sip_ports", [system.sip_port] if system.sip_port else [])
        row = {
            "phase": phase, "system": system.name, "kind": system.kind, "rate": rate,
            "duration": duration, "calls": calls, "ok": ok, "failed": failed,
            "peer_failed": peer_failed, "retrans": retrans, "reorders": reorders,
            "dead_call_msgs": int(result.stats.get("DeadCallMsgs(C)", "0") or 0),
            "achieved": (len(rtt) / span) if span > 0 else 0.0,
            "p50": percentile(values, 50), "p99": percentile(values, 99),
            "cpu_sut": sample.cpu_pct.get("sut") if groups["sut"] else None,
            "cpu_sipp": sample.cpu_pct.get("uac", 0.0) + sample.cpu_pct.get("uas", 0.0),
            "cpu_redis": sample.cpu_pct.get("redis"), "cpu_other": sample.cpu_pct.get("other"),
            "rss_mb": sample.peak_rss_kb / 1024.0 if groups["sut"] else None,
            "pss_mb": sample.peak_pss_kb / 1024.0 if groups["sut"] else None,
            "processes": len(groups["sut"]),
            "drops_sut": sum(drops1.get(p, 0) - drops0.get(p, 0) for p in sut_ports),
            "drops_all": sum(drops1.values()) - sum(drops0.values()),
            "per_trunk": per_trunk, "sipp_rc": result.rc, "sut_counts": sut_counts,
        }
        row["sustainable"] = (failed == 0 and peer_failed == 0
                              and retrans <= self.args.max_retrans_ratio * calls
                              and row["achieved"] >= self.args.min_achieved * rate)
        if not self.args.keep:
            shutil.rmtree(stepdir, ignore_errors=True)
        return row

    def routing_check(self, system):
        """Each CSV number once at a low rate: every call answered, and each UAS got exactly
        the calls of its trunk."""
        calls = len(self.rows)
        row = self.step(system, min(50, calls), calls / float(min(50, calls)), phase="check")
        want = expected_per_trunk(self.rows, calls)
        got = {n: c for n, c in row["per_trunk"].items() if c}
        if row["failed"] or row["peer_failed"] or got != want:
            raise BenchError("%s: routing check failed: failed %d, peer failed %d, calls per trunk %s, "
                             "expected %s\n%s" % (system.name, row["failed"], row["peer_failed"], got,
                                                   want, system.log_tail()))
        return row


def check_reorder_counter(args, workdir, caller_ip, calls=20):
    """The instrument first: straight to reorder_peer.py (100, 200, then 180 for every
    call), each call must complete and count as exactly one reorder."""
    port = h.free_port()
    stepdir = os.path.join(workdir, "reorder-check")
    os.makedirs(stepdir, exist_ok=True)
    csv_path = os.path.join(stepdir, "calls.csv")
    write_csv(csv_path, [("123330000", "127.0.0.1", port, "reorder-peer")])
    peer = h._spawn([sys.executable, os.path.join(HERE, "reorder_peer.py"), "127.0.0.1", str(port)],
                    os.path.join(stepdir, "peer.log"))
    try:
        h.wait_until(lambda: h.udp_port_bound("127.0.0.1", port), 5, what="reorder_peer.py")
        action = ('<nop><action><setdest host="[field1]" port="[field2]" protocol="udp"/>'
                  '</action></nop>')
        result = h.run_uac(os.path.join(HERE, "uac-compare.xml"), "127.0.0.1:%d" % port, "12333",
                           stepdir, params={"HOLD_MS": max(1, args.hold_ms), "DIRECT_ACTION": action},
                           calls=calls, rate=calls, ip=caller_ip, timeout_s=15, trace_msg=False,
                           trace_err=False, extra_args=["-inf", csv_path, "-trace_counts"])
    finally:
        h._stop(peer)
    counts = read_counts(stepdir)
    late = [k for k in counts if re.fullmatch(r"\d+_180_Recv", k)]
    got = counts[max(late, key=lambda k: int(k.split("_")[0]))] if len(late) >= 2 else None
    if result.successful != calls or got != calls:
        raise BenchError("the reorder counter does not work: %s successful calls and %s reorders "
                         "counted of %d reordered calls (%s)" % (result.successful, got, calls, stepdir))
    return got


# --- report ---------------------------------------------------------------------------------

COLUMNS = [("offered/s", "rate", "d"), ("system", "system", "s"), ("achieved/s", "achieved", ".0f"),
           ("failed", "failed", "d"), ("peer failed", "peer_failed", "d"), ("retrans", "retrans", "d"),
           ("reorders", "reorders", "d"), ("late msgs", "dead_call_msgs", "d"),
           ("p50 ms", "p50", ".1f"), ("p99 ms", "p99", ".1f"), ("SUT CPU %", "cpu_sut", ".0f"),
           ("SIPp CPU %", "cpu_sipp", ".0f"), ("Redis CPU %", "cpu_redis", ".0f"),
           ("other CPU %", "cpu_other", ".0f"), ("SUT RSS MB", "rss_mb", ".0f"),
           ("SUT PSS MB", "pss_mb", ".0f"), ("SUT UDP drops", "drops_sut", "d"), ("ok", "sustainable", "s")]


def table(rows):
    lines = ["| " + " | ".join(c[0] for c in COLUMNS) + " |",
             "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for r in rows:
        cells = []
        for _, key, spec in COLUMNS:
            v = r.get(key)
            if key == "sustainable":
                cells.append("yes" if v else "**no**")
            elif key == "system":
                cells.append(v)
            else:
                cells.append(fmt(v, spec))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def max_sustainable(rows, system):
    ok = [r["rate"] for r in rows if r["system"] == system and r["phase"] == "step" and r["sustainable"]]
    return max(ok) if ok else 0


def best_kamailio(rows, systems, variant):
    """(name, max rate) of the variant's worker count with the highest maximum."""
    names = [s.name for s in systems if s.kind == "kamailio" and s.variant == variant]
    if not names:
        return None, 0
    best = max(names, key=lambda n: max_sustainable(rows, n))
    return best, max_sustainable(rows, best)


def row_at(rows, system, rate, phases=("step", "p80")):
    found = [r for r in rows if r["system"] == system and r["rate"] == rate and r["phase"] in phases]
    return found[-1] if found else None


def summary(rows, systems):
    out = ["maximum sustainable rate (0 failed calls, retransmissions within the limit, "
           "achieved >= the offered rate's share):"]
    for s in systems:
        out.append("  %-20s %6d calls/s" % (s.name, max_sustainable(rows, s.name)))
    workers = sorted((s for s in systems if s.kind == "switchboard"), key=lambda s: s.workers)
    if len(workers) > 1 and workers[0].workers == 1:
        one = max_sustainable(rows, workers[0].name)
        out.append("")
        out.append("Switchboard's workers (target: 2 workers >= 1.6 x 1 worker where SIPp is not the limit):")
        for s in workers[1:]:
            out.append("  %-20s %s x one worker" % (
                s.name, fmt(max_sustainable(rows, s.name) / one, ".2f") if one else "-"))
    if len(workers) > 1:
        best = max(workers, key=lambda s: max_sustainable(rows, s.name))
        bmax = max_sustainable(rows, best.name)
        ratios = []
        for variant in ("redis", "htable"):
            name, kmax = best_kamailio(rows, systems, variant)
            if name and kmax:
                ratios.append("%s / %s = %s" % (best.name, name, fmt(bmax / kmax, ".2f")))
        if ratios:
            out.append("  best Switchboard (%s, %d calls/s): %s" % (best.name, bmax, ", ".join(ratios)))
    if not any(s.name == "switchboard" for s in systems):
        return "\n".join(out)
    sb = max_sustainable(rows, "switchboard")
    for variant in ("redis", "htable"):
        name, kmax = best_kamailio(rows, systems, variant)
        if not name:
            continue
        out.append("")
        out.append("Switchboard / Kamailio %s (best: %s, %d calls/s):" % (variant, name, kmax))
        out.append("  throughput            %s" % (fmt(sb / kmax, ".2f") if kmax else "- (Kamailio sustained no step)"))
        r80 = int(round(0.8 * kmax))
        a, b = row_at(rows, "switchboard", r80, ("p80",)), row_at(rows, name, r80, ("p80",))
        if a and b:
            out.append("  p99 at %d/s (80 %%)   %s ms / %s ms = %s" % (
                r80, fmt(a["p99"], ".1f"), fmt(b["p99"], ".1f"),
                fmt(a["p99"] / b["p99"], ".2f") if a["p99"] is not None and b["p99"] else "-"))
        a, b = row_at(rows, "switchboard", kmax, ("step",)), row_at(rows, name, kmax, ("step",))
        if a and b and a["rss_mb"] is not None and b["pss_mb"]:
            out.append("  memory at %d/s        RSS %s MB / PSS %s MB = %s  (per 1,000 calls/s: %s MB / %s MB)" % (
                kmax, fmt(a["rss_mb"], ".0f"), fmt(b["pss_mb"], ".0f"), fmt(a["rss_mb"] / b["pss_mb"], ".2f"),
                fmt(a["rss_mb"] * 1000.0 / kmax, ".0f"), fmt(b["pss_mb"] * 1000.0 / kmax, ".0f")))
        elif kmax:
            out.append("  memory at %d/s        - (no Switchboard step at that rate)" % kmax)
        reorders = sum(r["reorders"] or 0 for r in rows if r["system"] == name)
        out.append("  reorders (whole run)  switchboard %d, %s %d" % (
            sum(r["reorders"] or 0 for r in rows if r["system"] == "switchboard"), name, reorders))
    return "\n".join(out)


def plot(json_path, png_path):
    """compare.png with bench_plot.py; when this Python has no matplotlib, with Debian's
    python3 (python3-matplotlib) if that has it."""
    try:
        import bench_plot
        return bench_plot.plot_file(json_path, png_path)
    except ImportError:
        pass
    for python in ("/usr/bin/python3",):
        if os.path.realpath(python) != os.path.realpath(sys.executable) and os.access(python, os.X_OK):
            proc = subprocess.run([python, os.path.join(HERE, "bench_plot.py"), json_path, png_path],
                                  capture_output=True, text=True, timeout=120)
            if proc.returncode == 0:
                return None
    return "no plot: python3-matplotlib is missing (apt-get install -y python3-matplotlib)"


# --- main -----------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", help="default: build-release if built, else build")
    parser.add_argument("--rates", default=DEFAULT_RATES, help="offered call rates, ascending")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per step")
    parser.add_argument("--hold-ms", type=int, default=1000, help="hold between ACK and BYE (>= 1)")
    parser.add_argument("--trunks", type=int, default=8, help="destination trunks (one UAS each)")
    parser.add_argument("--numbers-per-trunk", type=int, default=4)
    parser.add_argument("--kamailio-children", default="2,4", help="Kamailio SIP worker counts to try")
    parser.add_argument("--kamailio-shm-mb", type=int, default=2048)
    parser.add_argument("--switchboard-workers", default="1,2",
                        help="Switchboard worker counts to run (sip.workers), e.g. 1,2")
    parser.add_argument("--systems", default="direct,switchboard,kamailio-redis,kamailio-htable",
                        help="which systems to run")
    parser.add_argument("--switchboard-sip", action="append", default=[], metavar="KEY=VALUE",
                        help="one more sip: key of the gateway's config (repeatable), e.g. "
                             "udp_buffer_bytes=8388608")
    parser.add_argument("--max-retrans-ratio", type=float, default=0.001)
    parser.add_argument("--min-achieved", type=float, default=0.995)
    parser.add_argument("--give-up", type=int, default=1,
                        help="stop stepping a system after this many unsustainable steps in a row")
    parser.add_argument("--no-p80", action="store_true", help="skip the steps at 80 %% of Kamailio's maximum")
    parser.add_argument("--out", help="directory for results.md/json and compare.png "
                                      "(default BUILD/bench-compare)")
    parser.add_argument("--quick", action="store_true",
                        help="check the harness: rates 100,200, 4 s steps, 4 trunks, 2 Kamailio workers")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    for kv in args.switchboard_sip:
        if not re.fullmatch(r"[a-z0-9_]+=\S.*", kv):
            parser.error("--switchboard-sip wants KEY=VALUE, got %r" % kv)
    if args.quick:
        args.rates, args.duration, args.trunks = "100,200", 4.0, 4
        args.numbers_per_trunk, args.kamailio_children = 2, "2"
    try:
        rates = sorted(int(r) for r in args.rates.replace(" ", ",").split(",") if r)
        children = [int(c) for c in args.kamailio_children.split(",") if c]
    except ValueError:
        parser.error("--rates and --kamailio-children take comma-separated integers")
    wanted = set(s for s in args.systems.split(",") if s)
    known = {"direct", "switchboard", "kamailio-redis", "kamailio-htable"}
    if not rates or min(rates) < 1 or not children or min(children) < 1:
        parser.error("rates and worker counts must be positive")
    if not wanted or wanted - known:
        parser.error("--systems: unknown %s (known: %s)" % (
            ", ".join(sorted(wanted - known)) or "(none given)", ", ".join(sorted(known))))
    if args.duration <= 0 or args.hold_ms < 0 or args.trunks < 1 or args.numbers_per_trunk < 1:
        parser.error("--duration, --trunks and --numbers-per-trunk must be positive, --hold-ms >= 0")

    build_dir = find_build_dir(args.build_dir)
    daemon = os.environ.get("SWITCHBOARD_BIN") or os.path.join(build_dir, "gateway", "app", "switchboard")
    ctl = os.environ.get("SWITCHBOARDCTL_BIN") or os.path.join(build_dir, "gateway", "ctl", "switchboardctl")
    out_dir = os.path.abspath(args.out or os.path.join(build_dir, "bench-compare"))
    if wanted & {"kamailio-redis", "kamailio-htable"} and not os.access(KAMAILIO, os.X_OK):
        print("kamailio is not installed; as root: %s" % APT_LINE, file=sys.stderr)
        return 2
    if wanted & {"kamailio-redis", "kamailio-htable"} and not os.path.exists(
            "/usr/lib/x86_64-linux-gnu/kamailio/modules/ndb_redis.so") and not subprocess.run(
            ["sh", "-c", "ls /usr/lib/*/kamailio/modules/ndb_redis.so"], capture_output=True).returncode == 0:
        print("kamailio's ndb_redis module is missing; as root: %s" % APT_LINE, file=sys.stderr)
        return 2
    for tool in (daemon, ctl):
        if not os.access(tool, os.X_OK):
            print("no %s: build first (cmake --build %s)" % (tool, build_dir), file=sys.stderr)
            return 2
    kversion = subprocess.run([KAMAILIO, "-v"], capture_output=True, text=True).stdout.splitlines()[:1] \
        if os.access(KAMAILIO, os.X_OK) else ["-"]

    workdir = h.make_workdir("sb-compare-")
    header = ["bench_compare.py %s" % " ".join(argv if argv is not None else sys.argv[1:]),
              "switchboard: %s (CMAKE_BUILD_TYPE=%s)" % (daemon, build_type(build_dir)),
              "kamailio: %s; sipp: %s; %d CPUs; work dir %s" % ((kversion or ["?"])[0], h.SIPP,
                                                                 os.cpu_count(), workdir),
              "steps: %s calls/s, %.0f s each, hold %d ms, %d trunks" % (
                  " ".join(map(str, rates)), args.duration, args.hold_ms, args.trunks)]
    print("\n".join(header), flush=True)

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    redis = None
    uas = {}
    systems = []
    rows = []
    ok = False
    try:
        redis = h.RedisServer(workdir).start()
        tables = os.path.join(workdir, "tables")
        unlimited_tables(tables)
        h.publish_tables(ctl, tables, redis.address, timeout=120)
        mix, trunks = call_mix(redis.port, args.trunks, args.numbers_per_trunk)
        caller_ip = next(iter(trunks.values()))[2]
        print("call mix: %d numbers over %s; caller %s" % (
            len(mix), ", ".join("%s (%s:%d)" % (n, t[0], t[1]) for n, t in trunks.items()), caller_ip))

        total_s = int(len(rates) * 8 * (args.duration + 15) + 900)
        for name, (host, port, _) in trunks.items():
            if h.udp_port_bound(host, port):
                raise BenchError("%s:%d (trunk %s) is in use by another program" % (host, port, name))
            u = h.Uas(os.path.join(HERE, "uas-bench.xml"), port, workdir, ip=host, timeout_s=total_s,
                      trace_msg=False)
            u.start()
            uas[name] = u
        run = Run(args, workdir, redis, uas, mix, trunks, caller_ip)
        print("reorder counter check: %d of %d reordered calls counted" % (
            check_reorder_counter(args, workdir, caller_ip), 20), flush=True)

        first = mix[0]
        if "direct" in wanted:
            systems.append(Direct("%s:%d" % (first[1], first[2])))
        if "switchboard" in wanted:
            extra = dict(kv.split("=", 1) for kv in args.switchboard_sip)
            for n in sorted(set(int(x) for x in args.switchboard_workers.split(",") if x)):
                systems.append(Switchboard(daemon, workdir, redis.address, extra, workers=n))
        for variant in ("redis", "htable"):
            if "kamailio-" + variant in wanted:
                for n in children:
                    systems.append(Kamailio(variant, n, workdir, redis.port, args.kamailio_shm_mb))
        for s in systems:
            s.start()
            check = run.routing_check(s)
            print("routing check %-20s %d calls, each trunk got its own (%s)" % (
                s.name, check["calls"], ", ".join("%s %d" % kv for kv in sorted(check["per_trunk"].items()))),
                flush=True)

        def report(row):
            print("  %-8s %-20s %6d/s: achieved %7.0f/s failed %d (peer %d) retrans %d reorders %s "
                  "p50 %s p99 %s ms  CPU sut %s sipp %s redis %s other %s  RSS %s PSS %s MB%s" % (
                      row["phase"], row["system"], row["rate"], row["achieved"], row["failed"],
                      row["peer_failed"], row["retrans"], fmt(row["reorders"], "d"), fmt(row["p50"], ".1f"),
                      fmt(row["p99"], ".1f"), fmt(row["cpu_sut"], ".0f"), fmt(row["cpu_sipp"], ".0f"),
                      fmt(row["cpu_redis"], ".0f"), fmt(row["cpu_other"], ".0f"), fmt(row["rss_mb"], ".0f"),
                      fmt(row["pss_mb"], ".0f"), "" if row["sustainable"] else "  NOT SUSTAINABLE")
                  + ("  [%s]" % row["sut_counts"] if row.get("sut_counts") else ""), flush=True)

        misses = {s.name: 0 for s in systems}
        for i, rate in enumerate(rates):
            active = [s for s in systems if misses[s.name] < args.give_up]
            if not active:
                break
            # Alternate: each rate starts with the next system, so no system always runs
            # right after the same neighbour.
            active = active[i % len(active):] + active[:i % len(active)]
            for s in active:
                row = run.step(s, rate, args.duration)
                rows.append(row)
                report(row)
                misses[s.name] = 0 if row["sustainable"] else misses[s.name] + 1
                if not s.alive():
                    raise BenchError("%s died during the %d/s step:\n%s" % (s.name, rate, s.log_tail()))

        if not args.no_p80 and any(s.name == "switchboard" for s in systems):
            sb = next(s for s in systems if s.name == "switchboard")
            for variant in ("redis", "htable"):
                name, kmax = best_kamailio(rows, systems, variant)
                r80 = int(round(0.8 * kmax))
                if not name or r80 <= 0:
                    continue
                for s in (sb, next(x for x in systems if x.name == name)):
                    if row_at(rows, s.name, r80, ("p80",)):
                        continue
                    row = run.step(s, r80, args.duration, phase="p80")
                    rows.append(row)
                    report(row)

        steps = [r for r in rows if r["phase"] != "check"]
        notes = "switchboard's counters per step (switchboard_trunk_calls_total, rejections):\n" + "\n".join(
            "  %s %d/s: %s" % (r["phase"], r["rate"], r["sut_counts"]) for r in steps if r.get("sut_counts"))
        text = "\n".join(header) + "\n\n" + table(steps) + "\n\n" + notes + "\n\n" + summary(rows, systems) + "\n"
        print("\n" + table(steps) + "\n\n" + notes + "\n\n" + summary(rows, systems))
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "results.md"), "w", encoding="utf-8") as f:
            f.write(text)
        with open(os.path.join(out_dir, "results.json"), "w", encoding="utf-8") as f:
            json.dump({"header": header, "systems": [x.name for x in systems], "rows": rows}, f, indent=1)
        problem = plot(os.path.join(out_dir, "results.json"), os.path.join(out_dir, "compare.png"))
        print("\nwritten: %s/results.md, results.json%s" % (
            out_dir, "" if problem else ", compare.png"))
        if problem:
            print(problem)
        ok = True
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        if rows:
            print(table(rows))
        return 130
    except (BenchError, h.HarnessError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    finally:
        for s in systems:
            rc = s.stop()
            if rc not in (0, None, -signal.SIGTERM):
                print("%s exited %s at the end" % (s.name, rc), file=sys.stderr)
        for u in uas.values():
            u.stop()
        if redis:
            redis.stop()
        if args.keep or not ok:
            print("work dir kept: %s" % workdir, file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
