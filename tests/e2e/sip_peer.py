#!/usr/bin/env python3
"""A small SIP UAS peer over UDP (Python 3 standard library only) for the e2e and load tests.

SIPp's `-aa` answers only the first out-of-dialog OPTIONS of a run, so a peer whose trunk is
probed for minutes, paused and resumed needs something else. This peer answers:

  OPTIONS  -> `--options-code` (200 by default; 404/405/403 model PBXs that do not do OPTIONS)
  INVITE   -> 100 Trying, then by the call's behaviour (`--invite`, or drawn from `--mix`):
                answer:    180 Ringing, 200 OK with SDP after `--answer-ms`
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

Run:  sip_peer.py --port 5071 [--ip 127.0.0.1] [--options-code 200] [--invite answer]
                  [--mix answer=70,busy=20,noanswer=10] [--events FILE] [--seed N]
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
BEHAVIOURS = ("answer", "busy", "noanswer", "fail")
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
        self.retransmit_at = None
        self.interval = T1
        self.give_up_at = None


class Peer:
    def __init__(self, args):
        self.args = args
        self.random = random.Random(args.seed)
        self.sock = socket.socket(socket.AF_INET6 if ":" in args.ip else socket.AF_INET,
                                  socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((args.ip, args.port))
        self.events = open(args.events, "a", encoding="utf-8") if args.events else None
        self.invites = {}  # (call_id, branch) -> InviteTransaction
        self.timers = []  # heap of (when, seq, fn)
        self.seq = 0
        self.counts = {}
        self.running = True
        self.mix = self.parse_mix(args.mix) if args.mix else None

    @staticmethod
    def parse_mix(text):
        weights = []
        for item in text.split(","):
            name, _, weight = item.partition("=")
            name = name.strip()
            if name not in BEHAVIOURS:
                raise SystemExit("sip_peer: unknown behaviour %r in --mix (one of %s)"
                                 % (name, ", ".join(BEHAVIOURS)))
            w = float(weight)
            if w < 0:
                raise SystemExit("sip_peer: negative weight in --mix")
            weights.append((name, w))
        if sum(w for _, w in weights) <= 0:
            raise SystemExit("sip_peer: --mix weights sum to 0")
        return weights

    def behaviour(self):
        if not self.mix:
            return self.args.invite
        total = sum(w for _, w in self.mix)
        x = self.random.uniform(0, total)
        for name, w in self.mix:
            if x < w:
                return name
            x -= w
        return self.mix[-1][0]

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
        record.update(fields)
        self.events.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.events.flush()

    def at(self, delay, fn):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, fn))

    def send(self, data, addr):
        try:
            self.sock.sendto(data, addr)
        except OSError:
            pass  # the gateway went away; nothing to do for a test peer

    # --- requests -------------------------------------------------------------------

    def on_request(self, req, addr):
        method = req.method
        if method == "OPTIONS":
            self.log("options", req, code=self.args.options_code)
            self.send(response(req, self.args.options_code, to_tag=self.new_tag(),
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

    def new_tag(self):
        return "peer%x" % self.random.getrandbits(48)

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
        elif tx.behaviour == "answer":
            self.provisional(tx, 180)
            self.at(self.args.answer_ms / 1000.0, lambda: self.answer(tx))
        else:  # noanswer
            self.provisional(tx, 180)
            self.at(self.args.noanswer_ms / 1000.0, lambda: self.final(tx, 480))

    def contact(self):
        host = "[%s]" % self.args.ip if ":" in self.args.ip else self.args.ip
        return "Contact: <sip:peer@%s:%d;transport=udp>" % (host, self.args.port)

    def provisional(self, tx, code):
        extra = () if code == 100 else tuple("Record-Route: %s" % rr for rr in tx.req.all("record-route")) + (self.contact(),)
        data = response(tx.req, code, to_tag=None if code == 100 else tx.tag, extra=extra)
        tx.last = data
        self.send(data, tx.addr)

    def answer(self, tx):
        if tx.final is not None:
            return
        host = self.args.ip
        kind = "IP6" if ":" in host else "IP4"
        sdp = ("v=0\r\no=peer 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
               "m=audio 49170 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n" % (kind, host, kind, host))
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
        self.at(tx.interval, lambda: self.retransmit(tx))

    def retransmit(self, tx):
        if tx.acked or time.monotonic() >= tx.give_up_at:
            self.forget(tx)
            return
        self.send(tx.last, tx.addr)
        tx.interval = min(tx.interval * 2, T2)
        self.at(tx.interval, lambda: self.retransmit(tx))

    def forget(self, tx):
        # Kept a little longer than the ACK so late INVITE retransmissions are absorbed.
        key = (tx.req.get("call-id"), tx.req.branch())
        self.at(5.0, lambda: self.invites.pop(key, None))

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

    # --- loop -----------------------------------------------------------------------

    def run(self):
        while self.running:
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, fn = heapq.heappop(self.timers)
                fn()
            timeout = max(0.0, self.timers[0][0] - time.monotonic()) if self.timers else 0.5
            try:
                readable, _, _ = select.select([self.sock], [], [], min(timeout, 0.5))
            except InterruptedError:
                continue
            if not readable:
                continue
            for _ in range(256):  # drain what is queued, bounded
                try:
                    data, addr = self.sock.recvfrom(MAX_DATAGRAM, socket.MSG_DONTWAIT)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break  # ICMP error reported on the socket: nothing to read
                req = parse(data)
                if req is not None:
                    try:
                        self.on_request(req, addr)
                    except Exception as e:  # noqa: BLE001 - a test peer must not die on input
                        self.log("error", req, error=repr(e))
        self.close()

    def close(self):
        if self.events:
            self.log("exit", counts=self.counts)
            self.events.close()
            self.events = None
        self.sock.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ip", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--options-code", type=int, default=200)
    p.add_argument("--invite", choices=BEHAVIOURS, default="answer")
    p.add_argument("--mix", help="behaviour weights per INVITE: answer=70,busy=20,noanswer=10")
    p.add_argument("--answer-ms", type=int, default=0, help="ringing before the 200 OK")
    p.add_argument("--noanswer-ms", type=int, default=60000, help="ringing before the 480")
    p.add_argument("--events", help="append one JSON line per request to this file")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    if not 100 <= args.options_code <= 699:
        p.error("--options-code must be a SIP status (100-699)")
    peer = Peer(args)

    def stop(signum, frame):
        peer.running = False
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    peer.run()
    return 0


# ---------------------------------------------------------------------------------------
# For test scripts: the peer as a child process, and its event log read back.

class PeerProcess:
    """sip_peer.py as a child process on ip:port; `events()` reads what it received.
    pause()/resume() send SIGSTOP/SIGCONT (a silent trunk whose socket stays bound)."""

    def __init__(self, port, workdir, name, ip="127.0.0.1", options_code=200, invite="answer",
                 mix=None, answer_ms=0, noanswer_ms=60000, seed=None):
        self.port = port
        self.ip = ip
        self.name = name
        self.events_path = os.path.join(workdir, "peer-%s-%d.events" % (name, port))
        self.log_path = os.path.join(workdir, "peer-%s-%d.out" % (name, port))
        self.argv = [sys.executable, os.path.abspath(__file__), "--ip", ip, "--port", str(port),
                     "--options-code", str(options_code), "--invite", invite,
                     "--answer-ms", str(answer_ms), "--noanswer-ms", str(noanswer_ms),
                     "--events", self.events_path]
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
        while not _udp_bound(self.ip, self.port):
            if self.proc.poll() is not None:
                raise RuntimeError("sip_peer on %s:%d exited at start (%s): %s"
                                   % (self.ip, self.port, self.proc.returncode, self.output()))
            if time.monotonic() >= deadline:
                raise RuntimeError("sip_peer on %s:%d not listening after %.0f s"
                                   % (self.ip, self.port, timeout))
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
