#!/usr/bin/env python3
"""A small SIP UAS peer over UDP (Python 3 standard library only) for the e2e and load tests.

SIPp's `-aa` answers only the first out-of-dialog OPTIONS of a run, so a peer whose trunk is
probed for minutes, paused and resumed needs something else. This peer answers:

  OPTIONS  -> `--options-code` (200 by default; 404/405/403 model PBXs that do not do OPTIONS)
  INVITE   -> 100 Trying, then by the call's behaviour (`--invite`, or drawn from `--mix`):
                answer:    180 Ringing, 200 OK with SDP after `--answer-ms` (an agent)
                ivr:       180 Ringing, 200 OK with SDP after `--ivr-ms` (the voice menu)
                busy:      486 Busy Here
                noanswer:  180 Ringing, then 480 Temporarily Unavailable after
                           `--noanswer-ms` unless the caller cancels first
                fail:      500 Server Internal Error
              final responses are retransmitted (RFC 3261 §13.3.1.4, §17.2.1) until the ACK
              arrives, for at most 64*T1; an INVITE retransmission gets the last response again
  ACK      -> nothing (ends the retransmissions)
  BYE      -> 200 OK
  CANCEL   -> 200 OK, and 487 Request Terminated for the INVITE if it has no final response
              yet (RFC 3261 §9.2); 481 when no such INVITE is known
  other    -> 501 Not Implemented

Responses go back to the packet's source address (what the gateway's nta listens on).
Every request is logged as one JSON line in `--events` (flushed at once) so a test can read
what arrived: {"event": "invite", "call_id": ..., "behaviour": "answer", "headers": {...}}.

Pause it with SIGSTOP to make the trunk stop answering (its socket stays bound, so the
gateway sees no ICMP error, only silence); SIGCONT brings it back. SIGTERM ends it.

Delays are milliseconds, or a range "A-B" drawn uniformly per call.

One process can play many trunks: `--endpoints FILE`, a JSON list of objects with the keys
of the options below (ip, port, name, options_code, invite, mix, answer_ms, ivr_ms,
noanswer_ms), one socket each, all on one loop (tests/load/national_profile.py plays the
national network's 116 trunks this way).

Run:  sip_peer.py --port 5071 [--ip 127.0.0.1] [--options-code 200] [--invite answer]
                  [--mix answer=70,busy=20,noanswer=10] [--events FILE] [--seed N]
      sip_peer.py --endpoints trunks.json [--events FILE] [--seed N]
"""

import argparse
import atexit
import heapq
import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import time

T1 = 0.5  # RFC 3261 §17: T1 500 ms
T2 = 4.0
BEHAVIOURS = ("answer", "ivr", "busy", "noanswer", "fail")
REASONS = {100: "Trying", 180: "Ringing", 200: "OK", 404: "Not Found", 403: "Forbidden",
           405: "Method Not Allowed", 480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
           486: "Busy Here", 487: "Request Terminated", 500: "Server Internal Error",
           501: "Not Implemented", 503: "Service Unavailable"}
# RFC 3261 §7.3.3 compact forms.
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported", "s": "subject"}
MAX_DATAGRAM = 65535


class Message:
    """A parsed SIP request: first line, headers in order (lower-case names), body."""

    def __init__(self, start, headers, body):
        self.start = start
        self.headers = headers  # [(name_lower, value), ...]
        self.body = body

    def all(self, name):
        return [v for n, v in self.headers if n == name]

    def get(self, name, default=""):
        values = self.all(name)
        return values[0] if values else default

    @property
    def method(self):
        return self.start.split(" ", 1)[0]

    def branch(self):
        top = self.get("via")
        for part in top.split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.lower() == "branch":
                return v
        return ""


def parse(data):
    """Bytes -> Message, or None for anything that is not a SIP request (responses, CRLF
    keep-alives, garbage)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head, sep, body = text.partition("\r\n\r\n")
    if not sep:
        head, sep, body = text.partition("\n\n")
    lines = head.replace("\r\n", "\n").split("\n")
    start = lines[0].strip()
    if not start or start.startswith("SIP/2.0") or not start.endswith("SIP/2.0"):
        return None
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # RFC 3261 §7.3.1 folding
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name = name.strip().lower()
        name = COMPACT.get(name, name)
        # Via may carry several values in one header line.
        if name == "via":
            for v in value.split(","):
                headers.append((name, v.strip()))
        else:
            headers.append((name, value.strip()))
    return Message(start, headers, body)


def response(req, code, to_tag=None, extra=(), body=""):
    """A response to `req` (RFC 3261 §8.2.6): Vias, From, Call-ID, CSeq copied; To with our
    tag unless it already has one; Record-Route copied on dialog-creating answers."""
    lines = ["SIP/2.0 %d %s" % (code, REASONS.get(code, "Response"))]
    lines += ["Via: %s" % v for v in req.all("via")]
    lines.append("From: %s" % req.get("from"))
    to = req.get("to")
    if to_tag and ";tag=" not in to.replace(" ", ""):
        to += ";tag=%s" % to_tag
    lines.append("To: %s" % to)
    lines.append("Call-ID: %s" % req.get("call-id"))
    lines.append("CSeq: %s" % req.get("cseq"))
    lines += list(extra)
    lines.append("Server: switchboard-test-peer")
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body.encode("utf-8")))
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8")


class InviteTransaction:
    def __init__(self, req, addr, behaviour, tag):
        self.req = req
        self.addr = addr
        self.behaviour = behaviour
        self.tag = tag
        self.last = None  # bytes of the last response sent
        self.final = None  # final status code sent
        self.acked = False
        self.interval = T1
        self.give_up_at = None


def parse_delay(text):
    """'500' or '1000-6000' (ms) -> (low, high) in seconds."""
    text = str(text).strip()
    low, sep, high = text.partition("-")
    try:
        a = int(low)
        b = int(high) if sep else a
    except ValueError:
        raise SystemExit("sip_peer: bad delay %r (ms, or a range A-B)" % text) from None
    if a < 0 or b < a:
        raise SystemExit("sip_peer: bad delay %r (ms, or a range A-B)" % text)
    return a / 1000.0, b / 1000.0


def parse_mix(text):
    weights = []
    for item in str(text).split(","):
        name, _, weight = item.partition("=")
        name = name.strip()
        if name not in BEHAVIOURS:
            raise SystemExit("sip_peer: unknown behaviour %r in mix (one of %s)"
                             % (name, ", ".join(BEHAVIOURS)))
        try:
            w = float(weight)
        except ValueError:
            raise SystemExit("sip_peer: bad weight %r in mix" % item) from None
        if w < 0:
            raise SystemExit("sip_peer: negative weight in mix")
        weights.append((name, w))
    if sum(w for _, w in weights) <= 0:
        raise SystemExit("sip_peer: mix weights sum to 0")
    return weights


ENDPOINT_DEFAULTS = {"ip": "127.0.0.1", "name": "", "options_code": 200, "invite": "answer",
                     "mix": None, "answer_ms": "0", "ivr_ms": "0", "noanswer_ms": "60000"}


class Endpoint:
    """One trunk played on one UDP socket; its timers run on the shared Loop."""

    def __init__(self, loop, config):
        unknown = set(config) - set(ENDPOINT_DEFAULTS) - {"port"}
        if unknown:
            raise SystemExit("sip_peer: unknown endpoint keys %s" % ", ".join(sorted(unknown)))
        c = dict(ENDPOINT_DEFAULTS, **config)
        self.loop = loop
        self.ip = c["ip"]
        self.port = int(c["port"])
        self.name = c["name"] or "%s:%d" % (self.ip, self.port)
        self.options_code = int(c["options_code"])
        if not 100 <= self.options_code <= 699:
            raise SystemExit("sip_peer: options code must be a SIP status (100-699)")
        if c["invite"] not in BEHAVIOURS:
            raise SystemExit("sip_peer: unknown behaviour %r" % c["invite"])
        self.invite = c["invite"]
        self.mix = parse_mix(c["mix"]) if c["mix"] else None
        self.answer_delay = parse_delay(c["answer_ms"])
        self.ivr_delay = parse_delay(c["ivr_ms"])
        self.noanswer_delay = parse_delay(c["noanswer_ms"])
        self.sock = socket.socket(socket.AF_INET6 if ":" in self.ip else socket.AF_INET,
                                  socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((self.ip, self.port))
        self.sock.setblocking(False)
        self.invites = {}  # (call_id, branch) -> InviteTransaction

    def behaviour(self):
        if not self.mix:
            return self.invite
        total = sum(w for _, w in self.mix)
        x = self.loop.random.uniform(0, total)
        for name, w in self.mix:
            if x < w:
                return name
            x -= w
        return self.mix[-1][0]

    def delay(self, bounds):
        return self.loop.random.uniform(*bounds)

    def log(self, event, req=None, **fields):
        self.loop.log(event, req, endpoint=self.name, **fields)

    def send(self, data, addr):
        try:
            self.sock.sendto(data, addr)
        except OSError:
            pass  # the gateway went away; nothing to do for a test peer

    def new_tag(self):
        return "peer%x" % self.loop.random.getrandbits(48)

    # --- requests -------------------------------------------------------------------

    def on_request(self, req, addr):
        method = req.method
        if method == "OPTIONS":
            self.log("options", req, code=self.options_code)
            self.send(response(req, self.options_code, to_tag=self.new_tag(),
                               extra=("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS",)), addr)
        elif method == "INVITE":
            self.on_invite(req, addr)
        elif method == "ACK":
            self.on_ack(req)
        elif method == "BYE":
            self.log("bye", req)
            self.send(response(req, 200), addr)
        elif method == "CANCEL":
            self.on_cancel(req, addr)
        else:
            self.log("other", req, method=method)
            self.send(response(req, 501, to_tag=self.new_tag()), addr)

    def on_invite(self, req, addr):
        key = (req.get("call-id"), req.branch())
        tx = self.invites.get(key)
        if tx is not None:  # a retransmission: the last response again (RFC 3261 §17.2.1)
            self.log("invite_retransmission", req)
            if tx.last:
                self.send(tx.last, addr)
            return
        tx = InviteTransaction(req, addr, self.behaviour(), self.new_tag())
        self.invites[key] = tx
        self.log("invite", req, behaviour=tx.behaviour)
        self.provisional(tx, 100)
        if tx.behaviour == "busy":
            self.final(tx, 486)
        elif tx.behaviour == "fail":
            self.final(tx, 500)
        elif tx.behaviour in ("answer", "ivr"):
            self.provisional(tx, 180)
            bounds = self.answer_delay if tx.behaviour == "answer" else self.ivr_delay
            self.loop.at(self.delay(bounds), lambda: self.answer(tx))
        else:  # noanswer
            self.provisional(tx, 180)
            self.loop.at(self.delay(self.noanswer_delay), lambda: self.final(tx, 480))

    def contact(self):
        host = "[%s]" % self.ip if ":" in self.ip else self.ip
        return "Contact: <sip:peer@%s:%d;transport=udp>" % (host, self.port)

    def provisional(self, tx, code):
        extra = () if code == 100 else tuple(
            "Record-Route: %s" % rr for rr in tx.req.all("record-route")) + (self.contact(),)
        data = response(tx.req, code, to_tag=None if code == 100 else tx.tag, extra=extra)
        tx.last = data
        self.send(data, tx.addr)

    def answer(self, tx):
        if tx.final is not None:
            return
        kind = "IP6" if ":" in self.ip else "IP4"
        sdp = ("v=0\r\no=peer 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
               "m=audio 49170 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n" % (kind, self.ip, kind, self.ip))
        extra = tuple("Record-Route: %s" % rr for rr in tx.req.all("record-route")) + (self.contact(),)
        self.final(tx, 200, extra=extra, body=sdp)

    def final(self, tx, code, extra=(), body=""):
        if tx.final is not None:
            return
        tx.final = code
        data = response(tx.req, code, to_tag=tx.tag, extra=extra, body=body)
        tx.last = data
        self.log("final", tx.req, code=code)
        self.send(data, tx.addr)
        # Retransmit until the ACK (2xx: RFC 3261 §13.3.1.4; others: Timer G), for 64*T1.
        tx.interval = T1
        tx.give_up_at = time.monotonic() + 64 * T1
        self.loop.at(tx.interval, lambda: self.retransmit(tx))

    def retransmit(self, tx):
        if tx.acked or time.monotonic() >= tx.give_up_at:
            self.forget(tx)
            return
        self.send(tx.last, tx.addr)
        tx.interval = min(tx.interval * 2, T2)
        self.loop.at(tx.interval, lambda: self.retransmit(tx))

    def forget(self, tx):
        # Kept a little longer than the ACK so late INVITE retransmissions are absorbed.
        key = (tx.req.get("call-id"), tx.req.branch())
        self.loop.at(5.0, lambda: self.invites.pop(key, None))

    def on_ack(self, req):
        self.log("ack", req)
        call_id = req.get("call-id")
        branch = req.branch()
        for (cid, b), tx in self.invites.items():
            # A 2xx ACK is a new transaction (its own branch); a non-2xx ACK has the
            # INVITE's branch. Either ends the retransmissions of that call's final answer.
            if cid == call_id and (b == branch or tx.final == 200):
                tx.acked = True

    def on_cancel(self, req, addr):
        key = (req.get("call-id"), req.branch())
        tx = self.invites.get(key)
        if tx is None:
            self.log("cancel", req, matched=False)
            self.send(response(req, 481, to_tag=self.new_tag()), addr)
            return
        self.log("cancel", req, matched=True)
        self.send(response(req, 200, to_tag=tx.tag), addr)
        if tx.final is None:  # RFC 3261 §9.2: the INVITE ends with 487
            self.final(tx, 487)

    def receive(self):
        for _ in range(256):  # drain what is queued, bounded
            try:
                data, addr = self.sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # an ICMP error reported on the socket: nothing to read
            req = parse(data)
            if req is not None:
                try:
                    self.on_request(req, addr)
                except Exception as e:  # noqa: BLE001 - a test peer must not die on input
                    self.log("error", req, error=repr(e))


class Loop:
    """The endpoints' sockets and timers, one select loop, one event log."""

    def __init__(self, configs, events_path=None, seed=None):
        self.random = random.Random(seed)
        self.timers = []  # heap of (when, seq, fn)
        self.seq = 0
        self.counts = {}
        self.running = True
        self.events = open(events_path, "a", encoding="utf-8") if events_path else None
        self.endpoints = [Endpoint(self, c) for c in configs]
        self.by_fd = {e.sock.fileno(): e for e in self.endpoints}

    def log(self, event, req=None, **fields):
        self.counts[event] = self.counts.get(event, 0) + 1
        if not self.events:
            return
        record = {"event": event, "t": round(time.time(), 3)}
        if req is not None:
            record["call_id"] = req.get("call-id")
            record["headers"] = {n: v for n, v in req.headers
                                 if n.startswith("x-") or n in ("record-route", "max-forwards")}
            record["request_uri"] = req.start.split(" ")[1] if " " in req.start else ""
            record["branch"] = req.branch()
            record["cseq"] = req.get("cseq")
            record["to"] = req.get("to")
            record["via"] = req.get("via")
        record.update(fields)
        self.events.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.events.flush()

    def at(self, delay, fn):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, fn))

    def run(self):
        poller = select.poll()
        for fd in self.by_fd:
            poller.register(fd, select.POLLIN)
        while self.running:
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, fn = heapq.heappop(self.timers)
                fn()
            timeout = max(0.0, self.timers[0][0] - time.monotonic()) if self.timers else 0.5
            try:
                ready = poller.poll(min(timeout, 0.5) * 1000)
            except InterruptedError:
                continue
            for fd, _ in ready:
                self.by_fd[fd].receive()
        self.close()

    def close(self):
        if self.events:
            self.log("exit", counts=self.counts)
            self.events.close()
            self.events = None
        for e in self.endpoints:
            e.sock.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int)
    p.add_argument("--endpoints", help="JSON list of endpoints (many trunks in one process)")
    p.add_argument("--options-code", type=int, default=200)
    p.add_argument("--invite", choices=BEHAVIOURS, default="answer")
    p.add_argument("--mix", help="behaviour weights per INVITE: answer=70,busy=20,noanswer=10")
    p.add_argument("--answer-ms", default="0", help="ringing before an agent's 200 OK (A or A-B)")
    p.add_argument("--ivr-ms", default="0", help="ringing before the voice menu's 200 OK")
    p.add_argument("--noanswer-ms", default="60000", help="ringing before the 480")
    p.add_argument("--events", help="append one JSON line per request to this file")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    if args.endpoints:
        with open(args.endpoints, encoding="utf-8") as f:
            configs = json.load(f)
        if not isinstance(configs, list) or not configs:
            p.error("--endpoints must hold a non-empty JSON list")
    elif args.port is None:
        p.error("--port or --endpoints is required")
    else:
        configs = [{"ip": args.ip, "port": args.port, "options_code": args.options_code,
                    "invite": args.invite, "mix": args.mix, "answer_ms": args.answer_ms,
                    "ivr_ms": args.ivr_ms, "noanswer_ms": args.noanswer_ms}]
    loop = Loop(configs, args.events, args.seed)

    def stop(signum, frame):
        loop.running = False
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    loop.run()
    return 0


# ---------------------------------------------------------------------------------------
# For test scripts: the peer as a child process, and its event log read back.

class PeerProcess:
    """sip_peer.py as a child process on ip:port; `events()` reads what it received.
    pause()/resume() send SIGSTOP/SIGCONT (a silent trunk whose socket stays bound)."""

    def __init__(self, port, workdir, name, ip="127.0.0.1", options_code=200, invite="answer",
                 mix=None, answer_ms=0, noanswer_ms=60000, seed=None, endpoints=None):
        self.port = port
        self.ip = ip
        self.name = name
        self.events_path = os.path.join(workdir, "peer-%s-%d.events" % (name, port))
        self.log_path = os.path.join(workdir, "peer-%s-%d.out" % (name, port))
        self.argv = [sys.executable, os.path.abspath(__file__), "--events", self.events_path]
        # `endpoints`: many trunks in this one process (a list of endpoint dicts).
        self.addresses = [(ip, port)]
        if endpoints:
            path = os.path.join(workdir, "peer-%s-endpoints.json" % name)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(endpoints, f, ensure_ascii=False, indent=1)
            self.argv += ["--endpoints", path]
            self.addresses = [(e.get("ip", "127.0.0.1"), int(e["port"])) for e in endpoints]
        else:
            self.argv += ["--ip", ip, "--port", str(port), "--options-code", str(options_code),
                          "--invite", invite, "--answer-ms", str(answer_ms),
                          "--noanswer-ms", str(noanswer_ms)]
            if mix:
                self.argv += ["--mix", mix]
        if seed is not None:
            self.argv += ["--seed", str(seed)]
        self.proc = None
        self.paused = False

    def start(self, timeout=5.0):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        _CHILDREN.append(self.proc)
        deadline = time.monotonic() + timeout
        for ip, port in self.addresses:
            while not _udp_bound(ip, port):
                if self.proc.poll() is not None:
                    raise RuntimeError("sip_peer on %s:%d exited at start (%s): %s"
                                       % (ip, port, self.proc.returncode, self.output()))
                if time.monotonic() >= deadline:
                    raise RuntimeError("sip_peer on %s:%d not listening after %.0f s"
                                       % (ip, port, timeout))
                time.sleep(0.02)
        return self

    def output(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def events(self, kind=None):
        out = []
        try:
            with open(self.events_path, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue  # a line being written right now
                    if kind is None or record.get("event") == kind:
                        out.append(record)
        except OSError:
            pass
        return out

    def stop(self, timeout=5.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        if self.paused:
            self.resume()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        return self.proc.returncode


_CHILDREN = []


def _kill_children():
    for proc in _CHILDREN:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait(timeout=5)
            except Exception:  # noqa: BLE001 - best effort at exit
                pass


def _udp_bound(host, port):
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


atexit.register(_kill_children)

if __name__ == "__main__":
    sys.exit(main())
