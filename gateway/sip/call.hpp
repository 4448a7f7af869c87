// Per-call state of a new INVITE being routed: owned by the SIP thread, one per call,
// freed when the caller has its final response. Private to sip/.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/failover.hpp"
#include "core/routing_table.hpp"
#include "records/call_record.hpp"
#include "sip/proxy.hpp"
#include "sip/sofia.hpp"

namespace sb::sip {

struct Proxy::Call {
  Proxy* proxy = nullptr;
  nta_incoming_t* irq = nullptr;
  nta_outgoing_t* orq = nullptr;  // nta's client transaction, until the first provisional
  msg_t* request = nullptr;       // reference to the INVITE as received: the base of each copy
  // The current attempt's forwarded INVITE (a reference, with our Via once sent) and its
  // branch: what a CANCEL or an ACK for a non-2xx final is built from after the attempt's
  // transaction was released (Proxy::detach).
  msg_t* fwd = nullptr;
  std::string branch;
  bool detached = false;  // responses of the current attempt arrive by branch (branches_)
  std::shared_ptr<const RoutingSnapshot> snap;

  std::vector<core::TrunkIndex> candidates;
  std::size_t next = 0;
  bool has_current = false;
  core::TrunkIndex current = 0;
  std::vector<core::AttemptResult> attempts;
  std::vector<msg_t*> attempt_responses;  // trunk responses kept for RFC 3261 §16.7

  su_timer_t* failover_timer = nullptr;
  su_timer_t* ring_timer = nullptr;

  bool provisional = false;  // any 1xx from the current trunk
  bool ringing = false;      // first 18x seen (post-dial delay observed)
  bool cancelled = false;
  bool in_create = false;  // inside nta_outgoing_mcreate: responses are deferred
  int deferred_status = 0;
  msg_t* deferred_response = nullptr;
  bool deferred_local = false;

  std::chrono::steady_clock::time_point invite_at;
  std::string user;  // dialled user part
  // Origin, region, level and topic for the forwarded headers live in `rec` (one copy).
  std::uint64_t loop_hash = 0;
  std::uint64_t serial = 0;
  bool tcp_in = false;

  // The call's record (SPEC §6), filled as the call goes; encoded once, when it ends.
  records::CallRecord rec;
  metrics::TrunkHandles* origin_metrics = nullptr;  // direction="in"; nullptr: unknown source
  std::string caller_tag;                           // From tag: a BYE with it is the caller's
  std::uint32_t invite_cseq = 0;                    // the INVITE's CSeq number
  Call* link_prev = nullptr;                        // calls in progress (shutdown ends them)
  Call* link_next = nullptr;
};

// The caller's number from P-Asserted-Identity, else From (SPEC §3).
std::string_view callerNumber(sip_t const* sip);
// The optional X-12333-Topic header (SPEC §3).
std::string_view topicHeader(sip_t const* sip);
// Wall-clock Unix milliseconds, for records.
std::int64_t unixMs();

}  // namespace sb::sip
