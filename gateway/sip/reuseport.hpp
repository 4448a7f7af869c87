// Listen ports shared by several worker processes (issue 7, cores). Sofia-SIP's tport has no
// option for SO_REUSEPORT (notes/sofia-sip.md), so the gateway interposes bind(2): a socket
// bound to a port marked here gets SO_REUSEPORT first. Every worker marks the same ports, so
// each binds them; the kernel then hashes each datagram's (or connection's) source address
// and port to one worker, which keeps a client's retransmissions, ACKs and CANCELs together.
// Unmarked ports bind as before: with one worker a second daemon on the port still fails
// with EADDRINUSE.
#pragma once

namespace sb::sip {

// Marks `port` (TCP and UDP) for SO_REUSEPORT. Call before the listeners are created, on the
// thread that creates them; at most 16 ports.
bool shareListenPort(int port);
bool listenPortShared(int port);

}  // namespace sb::sip
