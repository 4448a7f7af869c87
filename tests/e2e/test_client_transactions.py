#!/usr/bin/env python3
"""The gateway's INVITE client side after nta's transaction is released (issue 7).

At a trunk's first provisional answer the gateway frees nta's INVITE client transaction (nta
would keep it, with both messages, 32 s after the final answer: Timer D) and carries the rest
of the attempt itself. What a trunk must still see, checked on the wire by
tests/e2e/sip_peer.py playing the trunks:
  - a non-2xx final (486 after 100 Trying) is ACKed hop by hop on the INVITE's branch with
    the INVITE's CSeq number and the final's To tag (RFC 3261 §17.1.1.3), exactly once when
    nothing is lost;
  - the caller's CANCEL while ringing goes downstream on the INVITE's branch (RFC 3261 §9.1),
    the trunk's 487 is relayed and ACKed on that branch;
  - Timer C (ring timeout) CANCELs the ringing branch the same way and ACKs its 487;
  - an answered INVITE retransmitted after nta let go of its server transaction (T4 after
    the 2xx, sip.t4_ms) is absorbed: the trunk gets no second INVITE;
  - nothing is left behind: calls in progress back to 0.
Real redis-server, real daemon, SIPp callers, all on loopback.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as h  # noqa: E402
import test_calls as tc  # noqa: E402
import test_probing as tp  # noqa: E402

CALLER = tc.CALLER
WAIT_S = 10.0  # bound for a hung run, not a measurement
T4_MS = 200  # sip.t4_ms here: how long nta keeps an INVITE server transaction after its 2xx


class ClientSideTests(tp.ProbingCase):
    """320500 -> js-suzhou (busy), 330100 -> zj-hangzhou (rings, never answers),
    110000 -> bj-province (rings, never answers; Timer C of 1 s ends it)."""

    probe = {"interval_ms": 0}
    peers = {"js-suzhou": {"invite": "busy"},
             "zj-ningbo": {"invite": "answer"},
             "zj-hangzhou": {"invite": "noanswer", "noanswer_ms": 60000},
             "bj-province": {"invite": "noanswer", "noanswer_ms": 60000}}
    extra_sip = {"ring_timeout_s": 1, "t4_ms": T4_MS}

    def events_of(self, trunk, call_id):
        return [e for e in self.peer_procs[trunk].events() if e.get("call_id") == call_id]

    def wait_events(self, trunk, kinds):
        """Waits until the peer logged every kind in `kinds` for one call; returns that
        call's events (the newest INVITE's call)."""
        def found():
            invites = self.peer_procs[trunk].events("invite")
            if not invites:
                return None
            evs = self.events_of(trunk, invites[-1]["call_id"])
            have = {e["event"] for e in evs}
            return evs if all(k in have for k in kinds) else None
        try:
            return h.wait_until(found, WAIT_S, what="%s at %s" % (kinds, trunk))
        except h.HarnessError as e:
            self.fail("%s: %s%s" % (e, self.peer_procs[trunk].events(), self.context()))

    def assertSameTransaction(self, invite, other, method):
        self.assertEqual(other["branch"], invite["branch"], (invite, other))
        self.assertEqual(other["cseq"].split()[0], invite["cseq"].split()[0], (invite, other))
        self.assertEqual(other["cseq"].split()[1], method, other)

    def assertNothingInProgress(self):
        try:
            h.wait_until(lambda: self.gw.metric("switchboard_calls_in_progress") == 0, WAIT_S,
                         what="no call in progress")
        except h.HarnessError as e:
            self.fail("%s%s" % (e, self.context()))

    def test_busy_final_is_acked_on_the_invite_branch_once(self):
        result = h.run_uac("uac-reject.xml", self.gw.sip_address, "12333320500", self.workdir,
                           params={"CALLER": CALLER, "MAX_FORWARDS": 70, "STATUS": 486,
                                   "WHY_RE": ".", "EXTRA_RE": "^SIP/2.0 "})
        self.assertSippOk(result)
        evs = self.wait_events("js-suzhou", ("invite", "ack"))
        invite = next(e for e in evs if e["event"] == "invite")
        acks = [e for e in evs if e["event"] == "ack"]
        self.assertEqual(len(acks), 1, evs)
        self.assertSameTransaction(invite, acks[0], "ACK")
        self.assertIn("tag=", acks[0]["to"], acks[0])
        self.assertEqual(acks[0]["request_uri"], invite["request_uri"], acks[0])
        self.assertNothingInProgress()

    def test_caller_cancel_goes_down_on_the_invite_branch_and_the_487_is_acked(self):
        result = h.run_uac("uac-cancel.xml", self.gw.sip_address, "12333330100", self.workdir,
                           params={"CALLER": CALLER, "CANCEL_AFTER_MS": 200})
        self.assertSippOk(result)
        evs = self.wait_events("zj-hangzhou", ("invite", "cancel", "ack"))
        invite = next(e for e in evs if e["event"] == "invite")
        cancel = next(e for e in evs if e["event"] == "cancel")
        self.assertTrue(cancel.get("matched"), cancel)
        self.assertSameTransaction(invite, cancel, "CANCEL")
        self.assertEqual(cancel["request_uri"], invite["request_uri"], cancel)
        acks = [e for e in evs if e["event"] == "ack"]
        self.assertGreaterEqual(len(acks), 1, evs)
        for ack in acks:
            self.assertSameTransaction(invite, ack, "ACK")
        self.assertNothingInProgress()

    def test_answered_invite_retransmitted_late_is_absorbed(self):
        calls_before = self.gw.metric("switchboard_calls_total", result="answered") or 0.0
        result = h.run_uac("uac-late-retransmission.xml", self.gw.sip_address, "12333330200",
                           self.workdir,
                           params={"CALLER": CALLER, "RR_RE": r"sip:%s;lr" % self.gw_re,
                                   "LATE_MS": 5 * T4_MS})
        self.assertSippOk(result)
        evs = self.wait_events("zj-ningbo", ("invite", "ack", "bye"))
        kinds = [e["event"] for e in evs]
        self.assertEqual(kinds.count("invite"), 1, evs)
        self.assertNotIn("invite_retransmission", kinds, evs)
        self.assertEqual(self.gw.metric("switchboard_calls_total", result="answered"),
                         calls_before + 1, self.context())
        self.assertNothingInProgress()

    def test_ring_timeout_cancels_the_ringing_branch_and_acks_its_487(self):
        result = h.run_uac("uac-ring-final.xml", self.gw.sip_address, "12333110000", self.workdir,
                           params={"CALLER": CALLER, "MAX_FORWARDS": 70, "STATUS": 408,
                                   "WHY_RE": ".", "EXTRA_RE": "^SIP/2.0 "})
        self.assertSippOk(result)
        evs = self.wait_events("bj-province", ("invite", "cancel", "ack"))
        invite = next(e for e in evs if e["event"] == "invite")
        cancel = next(e for e in evs if e["event"] == "cancel")
        self.assertTrue(cancel.get("matched"), cancel)
        self.assertSameTransaction(invite, cancel, "CANCEL")
        for ack in (e for e in evs if e["event"] == "ack"):
            self.assertSameTransaction(invite, ack, "ACK")
        self.assertNothingInProgress()


if __name__ == "__main__":
    sys.exit(tc.main(module=sys.modules[__name__]))
