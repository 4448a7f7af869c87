#!/usr/bin/env python3
"""A destination that answers every INVITE with 100, 200 and then 180, in that order (the
reorder a multi-worker proxy can produce), and every BYE with 200; ACKs are taken
silently. bench_compare.py calls it straight from the UAC before the benchmark to prove
that the scenario counts each such call as one reorder and still completes it.

  reorder_peer.py IP PORT        (stops on SIGTERM)

Python 3 standard library; loopback use only."""

import signal
import socket
import sys


def header_lines(msg, names):
    return [line for line in msg.split("\r\n")[1:]
            if line.split(":", 1)[0].strip().lower() in names]


def answer(sock, msg, addr, code, text, contact):
    to = header_lines(msg, ("to", "t"))
    to_line = to[0] if to else "To: <sip:unknown@invalid>"
    if code > 100 and ";tag=" not in to_line:
        to_line += ";tag=reorder-peer"
    lines = (["SIP/2.0 %d %s" % (code, text)]
             + header_lines(msg, ("via", "v", "from", "f", "call-id", "i", "cseq", "record-route"))
             + [to_line, "Contact: <%s>" % contact, "Content-Length: 0", "", ""])
    sock.sendto("\r\n".join(lines).encode(), addr)


def main():
    ip, port = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    contact = "sip:%s:%d" % (ip, port)
    while True:
        data, addr = sock.recvfrom(65535)
        msg = data.decode("utf-8", "replace")
        method = msg.split(" ", 1)[0]
        if method == "INVITE":
            answer(sock, msg, addr, 100, "Trying", contact)
            answer(sock, msg, addr, 200, "OK", contact)
            answer(sock, msg, addr, 180, "Ringing", contact)
        elif method in ("BYE", "CANCEL", "OPTIONS"):
            answer(sock, msg, addr, 200, "OK", contact)


if __name__ == "__main__":
    main()
