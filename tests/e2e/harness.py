"""End-to-end harness: a private redis-server, the real switchboard daemon and SIPp peers,
all on loopback, all bounded in time and all cleaned up even when a test fails.

Python 3 standard library only. Used by tests/e2e/test_calls.py and tests/load/.

Pieces:
  free_port()                 a port free for both UDP and TCP on 127.0.0.1
  RedisServer                 redis-server on a free port, no persistence
  make_table_dir()            tests/fixtures/e2e/tables with the run's ports filled in
  publish_tables()            switchboardctl tables publish DIR --redis ADDR
  Gateway                     gateway.yaml in a temp dir, start, /readyz, /metrics, SIGTERM
  Uas                         a SIPp UAS peer (one scenario, one port) as a subprocess
  run_uac()                   a SIPp UAC run to completion: exit code, stats, errors
  parse_metrics()             Prometheus text -> {(name, frozenset(labels)): value}
"""

import atexit
import csv
import errno
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCENARIOS = os.path.join(HERE, "scenarios")
FIXTURE_TABLES = os.path.join(REPO, "tests", "fixtures", "e2e", "tables")

# Where the SIPp UAC sends from: a loopback address of its own, listed as the source of
# trunk ha-province in the fixture tables (so the gateway sees a known origin trunk).
CALLER_IP = "127.0.0.2"
GATEWAY_IP = "127.0.0.1"
PEER_IP = "127.0.0.1"

# Every trunk of the fixture tables.
TRUNKS = ("js-province", "js-suzhou", "zj-province", "zj-hangzhou", "zj-ningbo",
          "ha-province", "bj-province", "mohrss-national")

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class HarnessError(Exception):
    """Something in the test set-up (not the system under test's answer) went wrong."""


# ---------------------------------------------------------------------------------------
# Processes: every child is registered so that an interrupted run still kills it.

_children = []


def _kill_leftovers():
    for proc in _children:
        if proc.poll() is None:
            try:
                proc.kill()
                proc.wait(timeout=5)
            except Exception:  # noqa: BLE001 - best effort at exit
                pass


atexit.register(_kill_leftovers)


def _spawn(argv, log_path, cwd=None, env=None):
    log = open(log_path, "ab")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=cwd, env=env, start_new_session=True)
    finally:
        log.close()
    _children.append(proc)
    return proc


def _stop(proc, sig=signal.SIGTERM, timeout=5.0):
    """Signals one child we started and waits for it; kills it when it does not stop.
    Returns its exit code (negative: killed by that signal)."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no file %s)" % path
    return "\n".join(data[-lines:])


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HarnessError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------------------------------
# Ports

_handed_out = set()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(host, port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def free_port(host="127.0.0.1"):
    """A port that is free for both UDP and TCP on `host` right now, never handed out
    twice by this process. Taken below the kernel's ephemeral range when there is room:
    a port from that range can be handed by the kernel to any socket bound to port 0 (a
    resolver, an outgoing connection) between this call and the bind of whoever it is for."""
    low, _ = _ephemeral_range()
    if low > 12000:
        rng = random.Random(os.getpid() ^ int(time.monotonic_ns()))
        for _ in range(500):
            port = rng.randrange(10000, low)
            if port not in _handed_out and _bindable(host, port):
                _handed_out.add(port)
                return port
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind((host, 0))
            port = t.getsockname()[1]
        if port not in _handed_out and _bindable(host, port):
            _handed_out.add(port)
            return port
    raise HarnessError("no free port found")


def free_port_run(count, host="127.0.0.1"):
    """`count` consecutive ports free for UDP and TCP (below the ephemeral range, like
    free_port): a gateway with sip.workers uses port + offset + worker index."""
    low, _ = _ephemeral_range()
    rng = random.Random(os.getpid() ^ int(time.monotonic_ns()))
    for _ in range(500):
        first = rng.randrange(10000, max(10001, min(low, 65535) - count))
        run = range(first, first + count)
        if all(p not in _handed_out and _bindable(host, p) for p in run):
            _handed_out.update(run)
            return first
    raise HarnessError("no run of %d free ports found" % count)


def udp_port_bound(host, port):
    """True when something is bound to UDP host:port (we cannot bind it ourselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            return e.errno == errno.EADDRINUSE
    return False


def tcp_port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
# Redis

class RedisServer:
    """redis-server on a free loopback port, without persistence, in its own temp dir."""

    def __init__(self, workdir, port=None):
        self.workdir = workdir
        self.port = port or free_port()
        self.proc = None
        self.log_path = os.path.join(workdir, "redis-%d.log" % self.port)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self, timeout=10.0):
        self.proc = _spawn([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                            "--save", "", "--appendonly", "no", "--dir", self.workdir],
                           self.log_path, cwd=self.workdir)

        def up():
            if self.proc.poll() is not None:
                raise HarnessError("redis-server exited with %s:\n%s"
                                   % (self.proc.returncode, tail(self.log_path)))
            return self.ping()
        wait_until(up, timeout, what="redis-server on %s" % self.address)
        return self

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args):
        """One Redis command over RESP; returns the raw reply bytes (enough for tests)."""
        payload = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            payload += b"$%d\r\n%s\r\n" % (len(a), a)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(payload)
            return s.recv(65536)

    def stop(self):
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


# ---------------------------------------------------------------------------------------
# Routing tables

def make_table_dir(dest, ports, routes=None, caller_ip=CALLER_IP):
    """Copies the fixture tables to `dest`, filling each trunk's target port from `ports`
    (trunk -> port; a trunk not given gets a free port where nothing listens) and the
    caller's source address. `routes` (key -> [trunk, ...]) replaces routes.yaml."""
    os.makedirs(dest, exist_ok=True)
    all_ports = dict(ports)
    for trunk in TRUNKS:
        all_ports.setdefault(trunk, free_port())
    for name in os.listdir(FIXTURE_TABLES):
        if not name.endswith(".yaml"):
            continue
        with open(os.path.join(FIXTURE_TABLES, name), encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"@PORT:([a-z0-9-]+)@", lambda m: str(all_ports[m.group(1)]), text)
        text = text.replace("@CALLER_IP@", caller_ip)
        body = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
        if re.search(r"@(PORT:[a-z0-9-]+|[A-Z_]+)@", body):
            raise HarnessError("unfilled placeholder left in %s" % name)
        with open(os.path.join(dest, name), "w", encoding="utf-8") as f:
            f.write(text)
    if routes is not None:
        lines = ["# rewritten by tests/e2e/harness.py", "routes:"]
        for key, trunks in routes.items():
            lines.append('  "%s": [%s]' % (key, ", ".join(trunks)) if key != "default"
                         else "  default: [%s]" % ", ".join(trunks))
        with open(os.path.join(dest, "routes.yaml"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return all_ports


def fixture_routes():
    """The fixture's routes.yaml as {key: [trunk, ...]} (flat: one trunk per group)."""
    routes = {}
    with open(os.path.join(FIXTURE_TABLES, "routes.yaml"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r'\s+"?([0-9a-z]+)"?:\s*\[(.*)\]', line)
            if m:
                routes[m.group(1)] = [t.strip() for t in m.group(2).split(",") if t.strip()]
    return routes


def run_ctl(ctl, args, timeout=30.0):
    proc = subprocess.run([ctl] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def publish_tables(ctl, table_dir, redis_address, timeout=30.0):
    """switchboardctl tables publish DIR --redis ADDR; raises with its output on failure.
    Returns the published version number when the output names one, else None."""
    rc, out, err = run_ctl(ctl, ["tables", "publish", table_dir, "--redis", redis_address], timeout)
    if rc != 0:
        raise HarnessError("switchboardctl tables publish %s failed (exit %d):\n%s%s"
                           % (table_dir, rc, out, err))
    m = re.search(r"version\D{0,3}(\d+)", out + err)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------
# Metrics

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset({(label, value), ...})): float}."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise HarnessError("unparsable metrics line: %r" % line)
        labels = frozenset((k, bytes(v, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8"))
                           for k, v in _LABEL.findall(m.group(3) or ""))
        value = m.group(4)
        out[(m.group(1), labels)] = float(value.replace("+Inf", "inf").replace("-Inf", "-inf"))
    return out


def key(name, **labels):
    return (name, frozenset(labels.items()))


def deltas(before, after, families):
    """Non-zero changes of every series of the given metric families."""
    out = {}
    for k, v in after.items():
        if k[0] in families:
            d = v - before.get(k, 0.0)
            if d != 0:
                out[k] = d
    for k, v in before.items():
        if k[0] in families and k not in after and v != 0:
            out[k] = -v
    return out


def describe_series(k):
    name, labels = k
    return "%s{%s}" % (name, ",".join('%s="%s"' % kv for kv in sorted(labels)))


# ---------------------------------------------------------------------------------------
# The gateway

def http_get(host, port, path, timeout=2.0):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


class Gateway:
    """The switchboard daemon with a gateway.yaml of its own in `workdir`."""

    def __init__(self, binary, workdir, redis_address, failover_timeout_ms=500,
                 log_level="info", sip_port=None, extra_sip=None, extra_redis=None, env=None,
                 metrics_port=None, admin_port=None):
        self.binary = binary
        self.workdir = workdir
        self.redis_address = redis_address
        self.failover_timeout_ms = failover_timeout_ms
        self.log_level = log_level
        self.sip_port = sip_port or free_port()
        self.metrics_port = metrics_port or free_port()
        self.admin_port = admin_port or free_port()
        self.extra_sip = extra_sip or {}
        self.extra_redis = extra_redis or {}
        self.env = env  # extra environment variables of the daemon (e.g. SWITCHBOARD_ADMIN_TOKEN)
        self.proc = None
        self.config_path = os.path.join(workdir, "gateway.yaml")
        self.log_path = os.path.join(workdir, "switchboard.log")
        self.exit_code = None

    @property
    def sip_address(self):
        return "%s:%d" % (GATEWAY_IP, self.sip_port)

    def write_config(self):
        # OPTIONS health probes off unless a test asks for them: the SIPp destination
        # scenarios expect calls only (probing has its own tests).
        sip = {"failover_timeout_ms": self.failover_timeout_ms, "probe": "{interval_ms: 0}"}
        sip.update(self.extra_sip)
        redis = {"address": self.redis_address, "poll_interval_ms": 1000, "reconnect_ms": 200}
        redis.update(self.extra_redis)
        lines = ["# written by tests/e2e/harness.py", "sip:", "  listen:",
                 '    - "udp:%s:%d"' % (GATEWAY_IP, self.sip_port),
                 '    - "tcp:%s:%d"' % (GATEWAY_IP, self.sip_port)]
        lines += ["  %s: %s" % kv for kv in sip.items()]
        lines += ["redis:"] + ["  %s: %s" % kv for kv in redis.items()]
        lines += ["metrics:", "  listen: 127.0.0.1:%d" % self.metrics_port,
                  "admin:", "  listen: 127.0.0.1:%d" % self.admin_port,
                  "log:", "  level: %s" % self.log_level]
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, timeout=15.0, wait_ready=True):
        if not os.access(self.binary, os.X_OK):
            raise HarnessError("no daemon binary at %s (build it first)" % self.binary)
        self.write_config()
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = _spawn([self.binary, "--config", self.config_path], self.log_path, cwd=self.workdir,
                           env=env)
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _check_alive(self):
        if not self.alive():
            raise HarnessError("switchboard exited with %s:\n%s"
                               % (self.proc.returncode if self.proc else None, self.log_tail()))

    def wait_ready(self, timeout=15.0):
        def ready():
            self._check_alive()
            try:
                return http_get("127.0.0.1", self.admin_port, "/readyz")[0] == 200
            except OSError:
                return False
        try:
            wait_until(ready, timeout, interval=0.1, what="/readyz of switchboard")
        except HarnessError as e:
            raise HarnessError("%s\n--- switchboard log ---\n%s" % (e, self.log_tail())) from None
        # The SIP listener must be up too (readiness says so, this double-checks).
        wait_until(lambda: udp_port_bound(GATEWAY_IP, self.sip_port), 5.0,
                   what="switchboard UDP listener")

    def get(self, path, admin=True):
        port = self.admin_port if admin else self.metrics_port
        return http_get("127.0.0.1", port, path)

    def metrics_text(self, admin=True):
        self._check_alive()
        status, body = self.get("/metrics", admin=admin)
        if status != 200:
            raise HarnessError("/metrics answered %d" % status)
        return body

    def metrics(self, admin=True):
        return parse_metrics(self.metrics_text(admin=admin))

    def metric(self, name, **labels):
        return self.metrics().get(key(name, **labels))

    def status(self):
        status, body = self.get("/api/v1/status")
        if status != 200:
            raise HarnessError("/api/v1/status answered %d" % status)
        return json.loads(body)

    def table_version(self):
        v = self.metric("switchboard_routing_table_version")
        return int(v) if v is not None else None

    def wait_table_version(self, version, timeout=10.0):
        """Waits until the table in force is `version` (or newer when version is None
        means: anything loaded)."""
        return wait_until(lambda: (self.table_version() or 0) >= version, timeout, interval=0.05,
                          what="routing table version %s in force" % version)

    def log_tail(self, lines=40):
        return tail(self.log_path, lines)

    def pid(self):
        return self.proc.pid if self.proc else None

    def stop(self, timeout=20.0):
        """SIGTERM; returns the exit code (0 expected). The daemon drains calls in
        progress for up to 10 s before it exits."""
        if self.proc is None:
            return self.exit_code
        self.exit_code = _stop(self.proc, signal.SIGTERM, timeout)
        self.proc = None
        return self.exit_code


# ---------------------------------------------------------------------------------------
# SIPp

_PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")


def render_scenario(name, params, workdir, tag=None):
    """Copies scenarios/NAME (or an absolute path) into workdir with @PARAM@ replaced;
    every placeholder must be given a value."""
    src = name if os.path.isabs(name) else os.path.join(SCENARIOS, name)
    with open(src, encoding="utf-8") as f:
        text = f.read()
    # Placeholders inside XML comments are documentation: left alone.
    parts = re.split(r"(<!--.*?-->)", text, flags=re.S)
    code = parts[0::2]
    missing = sorted({m for part in code for m in _PLACEHOLDER.findall(part) if m not in params})
    if missing:
        raise HarnessError("scenario %s needs parameters %s" % (name, ", ".join(missing)))
    parts[0::2] = [_PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), part) for part in code]
    text = "".join(parts)
    base = os.path.splitext(os.path.basename(src))[0]
    out = os.path.join(workdir, "%s%s.xml" % (base, "-" + tag if tag else ""))
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return out


def re_escape(text):
    """POSIX ERE escaping for values put into scenario regexps."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)


def _stat_row(path):
    """The last row of a SIPp -trace_stat CSV as {column: value}."""
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            rows = list(csv.reader(f, delimiter=";"))
    except OSError:
        return {}
    if len(rows) < 2:
        return {}
    header = rows[0]
    return {h: v for h, v in zip(header, rows[-1]) if h}


def _sipp_duration_ms(text):
    """'00:00:00:512000' (h:m:s:us) -> milliseconds."""
    parts = text.strip().split(":")
    if len(parts) != 4:
        return None
    h, m, s, us = (int(p) for p in parts)
    return ((h * 60 + m) * 60 + s) * 1000.0 + us / 1000.0


class SippResult:
    def __init__(self, rc, stats, workdir, prefix, elapsed):
        self.rc = rc
        self.stats = stats
        self.elapsed = elapsed
        self.error_path = os.path.join(workdir, prefix + "-errors.log")
        self.message_path = os.path.join(workdir, prefix + "-messages.log")
        self.screen_path = os.path.join(workdir, prefix + "-screen.log")
        self.log_path = os.path.join(workdir, prefix + ".out")
        self.actions_path = os.path.join(workdir, prefix + "-actions.log")

    def _int(self, column):
        try:
            return int(self.stats.get(column, ""))
        except ValueError:
            return None

    @property
    def successful(self):
        return self._int("SuccessfulCall(C)")

    @property
    def failed(self):
        return self._int("FailedCall(C)")

    @property
    def created(self):
        return self._int("TotalCallCreated")

    def response_time_ms(self, n=1):
        """Mean INVITE -> 200 (response time `n` of the scenario) over the run."""
        value = self.stats.get("ResponseTime%d(C)" % n)
        return _sipp_duration_ms(value) if value else None

    def describe(self):
        return ("sipp exit %s, successful %s, failed %s\n--- output ---\n%s\n--- errors ---\n%s"
                "\n--- messages ---\n%s"
                % (self.rc, self.successful, self.failed, tail(self.log_path, 10),
                   tail(self.error_path, 30), tail(self.message_path, 80)))


def _sipp_args(scenario_path, workdir, prefix, trace_msg=True, trace_err=True):
    args = [SIPP, "-sf", scenario_path, "-nostdin"]
    if trace_err:
        args += ["-trace_err", "-error_file", os.path.join(workdir, prefix + "-errors.log")]
    args += ["-trace_stat", "-stf", os.path.join(workdir, prefix + "-stat.csv"), "-fd", "1",
            "-trace_screen", "-screen_file", os.path.join(workdir, prefix + "-screen.log"),
            "-trace_logs", "-log_file", os.path.join(workdir, prefix + "-actions.log")]
    if trace_msg:
        args += ["-trace_msg", "-message_file", os.path.join(workdir, prefix + "-messages.log")]
    return args


_run_counter = [0]


def _prefix(kind, scenario):
    _run_counter[0] += 1
    return "%s-%02d-%s" % (kind, _run_counter[0], os.path.splitext(os.path.basename(scenario))[0])


class Uas:
    """A SIPp UAS peer: `scenario` (from scenarios/, rendered with `params`) listening on
    PEER_IP:port. With `calls`, SIPp exits by itself after that many calls; its exit code
    then tells whether every call passed the scenario's checks."""

    def __init__(self, scenario, port, workdir, params=None, calls=None, transport="u1",
                 ip=PEER_IP, timeout_s=60, extra_args=None, trace_msg=True):
        self.scenario = scenario
        self.port = port
        self.workdir = workdir
        self.params = params or {}
        self.calls = calls
        self.transport = transport
        self.ip = ip
        self.timeout_s = timeout_s
        self.extra_args = extra_args or []
        self.trace_msg = trace_msg
        self.prefix = _prefix("uas", scenario)
        self.proc = None
        self.started = None

    def start(self, timeout=5.0):
        path = render_scenario(self.scenario, self.params, self.workdir, tag=self.prefix)
        args = _sipp_args(path, self.workdir, self.prefix, self.trace_msg)
        args += ["-i", self.ip, "-p", str(self.port), "-t", self.transport,
                 "-timeout", "%ds" % self.timeout_s,
                 # Answer the gateway's OPTIONS health probes (SPEC §4) with 200 outside
                 # the scenario: a probe neither fails the peer nor marks its trunk down.
                 "-aa"]
        if self.calls is not None:
            args += ["-m", str(self.calls)]
        args += self.extra_args
        self.started = time.monotonic()
        self.proc = _spawn(args, os.path.join(self.workdir, self.prefix + ".out"), cwd=self.workdir)

        def listening():
            if self.proc.poll() is not None:
                raise HarnessError("SIPp UAS %s exited at start (%s):\n%s"
                                   % (self.scenario, self.proc.returncode,
                                      tail(os.path.join(self.workdir, self.prefix + ".out"))))
            if self.transport.startswith("t"):
                return tcp_port_open(self.ip, self.port)
            return udp_port_bound(self.ip, self.port)
        wait_until(listening, timeout, what="SIPp UAS on %s:%d" % (self.ip, self.port))
        return self

    def result(self):
        return SippResult(self.proc.returncode if self.proc else None,
                          _stat_row(os.path.join(self.workdir, self.prefix + "-stat.csv")),
                          self.workdir, self.prefix,
                          time.monotonic() - self.started if self.started else None)

    def wait(self, timeout=10.0):
        """Waits for SIPp to finish its `calls` by itself; kills it after `timeout`.
        Returns its SippResult (rc None would mean it never ran)."""
        if self.proc is not None:
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _stop(self.proc, signal.SIGUSR1, 2.0)  # SIPp: dump stats and quit
                if self.proc.poll() is None:
                    _stop(self.proc, signal.SIGKILL)
        return self.result()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            _stop(self.proc, signal.SIGUSR1, 3.0)
            if self.proc.poll() is None:
                _stop(self.proc, signal.SIGKILL)
        return self.result()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def run_uac(scenario, target, service, workdir, params=None, calls=1, rate=None,
            transport="u1", ip=CALLER_IP, timeout_s=15, extra_args=None, trace_msg=True,
            limit=None, rate_period_ms=None, trace_err=True):
    """Runs a SIPp UAC against target ("host:port") to completion. The SIPp run is bounded
    by -timeout (timeout_s, counted as an error) and by a process timeout beyond it."""
    prefix = _prefix("uac", scenario)
    path = render_scenario(scenario, params or {}, workdir, tag=prefix)
    args = _sipp_args(path, workdir, prefix, trace_msg, trace_err)
    args += ["-i", ip, "-p", str(free_port(ip)), "-t", transport, "-s", service, "-m", str(calls),
             "-timeout", "%ds" % timeout_s, "-timeout_error"]
    if rate is not None:
        args += ["-r", str(rate)]
    if rate_period_ms is not None:
        args += ["-rp", "%dms" % rate_period_ms]
    if limit is not None:
        args += ["-l", str(limit)]
    args += extra_args or []
    args.append(target)
    started = time.monotonic()
    proc = _spawn(args, os.path.join(workdir, prefix + ".out"), cwd=workdir)
    try:
        proc.wait(timeout=timeout_s + 15)
    except subprocess.TimeoutExpired:
        _stop(proc, signal.SIGKILL)
    elapsed = time.monotonic() - started
    return SippResult(proc.returncode, _stat_row(os.path.join(workdir, prefix + "-stat.csv")),
                      workdir, prefix, elapsed)


WORKDIRS = []


def make_workdir(prefix="sb-e2e-"):
    """A temp dir for one run's files (configs, tables, SIPp traces, logs); listed in
    WORKDIRS so the runner can remove them after a clean run or name them after a failed one."""
    path = tempfile.mkdtemp(prefix=prefix)
    WORKDIRS.append(path)
    return path


# ---------------------------------------------------------------------------------------
# The runner every e2e script uses: arguments, the unittest run, "N passed, N failed".

def run_suite(module, set_build_dir, default_build_dir, argv=None, label="e2e", extra=None):
    """Runs `module`'s tests (or the named ones) and prints "N passed, N failed" last.
    `set_build_dir(path)` tells the module where the binaries are; `extra()` may return one
    more line for the summary. A set-up or tear-down error counts as a failure, and so does
    every test of a class whose set-up failed; a failing subTest counts once, for its test.
    Returns the exit status: non-zero when anything failed or nothing ran."""
    import argparse
    import unittest
    parser = argparse.ArgumentParser(description=(module.__doc__ or label).splitlines()[0])
    parser.add_argument("--build-dir", default=default_build_dir)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work dirs even when all pass")
    parser.add_argument("tests", nargs="*", help="TestClass or TestClass.test_name")
    args = parser.parse_args(argv)
    set_build_dir(os.path.abspath(args.build_dir))

    loader = unittest.TestLoader()
    suite = loader.loadTestsFromNames(args.tests, module) if args.tests else loader.loadTestsFromModule(module)
    started = time.monotonic()
    result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1, stream=sys.stdout).run(suite)
    problems = result.failures + result.errors
    failing = {getattr(t, "test_case", t).id() for t, _ in problems if isinstance(t, unittest.TestCase)}
    failing |= {t.id() for t in result.unexpectedSuccesses}
    fixture_errors = sum(1 for t, _ in problems if not isinstance(t, unittest.TestCase))
    not_run = max(0, suite.countTestCases() - result.testsRun - len(result.skipped))
    failed = len(failing) + fixture_errors + not_run
    passed = result.testsRun - len(failing) - len(result.skipped)
    line = "%s: %.1f s" % (label, time.monotonic() - started)
    if extra:
        line += "; " + extra()
    print(line)
    if failed and not args.keep:
        print("kept for inspection (SIPp traces, switchboard.log): %s" % " ".join(WORKDIRS))
    elif not args.keep:
        for path in WORKDIRS:
            shutil.rmtree(path, ignore_errors=True)
    else:
        print("work dirs: %s" % " ".join(WORKDIRS))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or result.testsRun == 0 else 0
