// The Sofia-SIP adapter: a transaction-stateful proxy on nta. It owns every nta object and
// all per-call state, on the one thread that runs its su_root. Decisions come from core/.
// SPEC §3-§4, §9; notes/sofia-sip.md for the library's behaviour.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/admission.hpp"
#include "core/decide.hpp"
#include "core/rolling_window.hpp"
#include "core/token_bucket.hpp"
#include "core/trunk_health.hpp"
#include "metrics/metrics.hpp"
#include "records/call_record.hpp"
#include "sip/snapshot.hpp"

struct su_root_s;
struct nta_agent_s;
struct msg_s;
struct sip_s;
struct su_timer_s;
struct nta_outgoing_s;

namespace sb::sip {

class Prober;

class Proxy {
 public:
  Proxy(const config::SipConfig& config, metrics::Metrics& metrics);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Creates the agent and one transport per listen address on `root`.
  bool start(su_root_s* root, std::string& error);
  // Stops taking new calls (503 + Retry-After, reason shutdown); in-dialog requests and
  // transactions in progress continue.
  void stopAccepting() { accepting_ = false; }
  // Destroys the agent; call before the root goes away.
  void shutdown();

  void setSnapshot(std::shared_ptr<const RoutingSnapshot> snapshot);
  // Call records (SPEC §6): every new out-of-dialog INVITE ends as exactly one record,
  // handed to `sink` as JSON on the SIP thread; the sink must not block (RecordWriter::push).
  // Without a sink records are still counted (switchboard_calls_total).
  void setRecordSink(std::function<void(std::string)> sink, std::string instance);
  // Gateway shutdown (drain deadline): calls in progress get 503 and established calls are
  // forgotten; each ends as its record with end_reason "shutdown".
  void endAllCalls();
  // Per-trunk state gauges and the stack's transaction counts (SIP thread; once a second).
  void updateTrunkGauges();
  // SIGHUP: timers, limits and identity take effect for new transactions; listen addresses
  // need a restart (the caller says so).
  void reconfigure(const config::SipConfig& config);
  bool hasTable() const { return snapshot_ != nullptr; }

  // Trunk operations (issue 5), all on the SIP thread.
  bool setAdminState(const std::string& trunk, core::AdminState state);
  void setCallsElsewhere(const std::string& trunk, std::uint32_t calls);
  // Live gateway instances sharing one Redis: each admits cps / instances per trunk.
  void setInstances(std::size_t instances);
  // This instance's calls per trunk (for the cluster-wide capacity view).
  std::unordered_map<std::string, std::uint32_t> localCalls() const;
  // JSON of every trunk (name empty) or of one, with live state; false: no such trunk.
  bool trunksJson(const std::string& name, std::string& out) const;
  const RoutingSnapshot* snapshot() const { return snapshot_.get(); }
  const std::vector<core::HealthState>& healthStates() const;
  void callTransportError(core::TrunkIndex trunk);
  bool listening() const { return agent_ != nullptr; }
  std::size_t callsInProgress() const { return in_progress_; }
  std::size_t establishedCalls() const { return established_.size(); }
  std::size_t relaysInProgress() const { return relays_; }

  // Implementation types, public only so the C callbacks in proxy.cpp can name them.
  struct Call;
  struct Relay;
  struct Established {
    metrics::TrunkHandles* handles = nullptr;         // destination trunk (direction out)
    metrics::TrunkHandles* origin_metrics = nullptr;  // origin trunk (direction in)
    std::uint64_t leg = 0;                            // the admission CallId holding the trunk
    std::chrono::steady_clock::time_point answered_at;
    std::string caller_tag;         // From tag of the caller: tells caller BYE from callee BYE
    std::uint32_t invite_cseq = 0;  // with Call-ID and caller_tag: a retransmitted INVITE
    records::CallRecord rec;        // all but t_end and end_reason
  };

 private:
  friend struct CallbackAccess;
  friend struct CallCallbacks;

  int onMessage(msg_s* msg, sip_s* sip);
  void onRequest(msg_s* msg, sip_s* sip);
  void onStrayResponse(msg_s* msg, sip_s* sip);
  void newCall(msg_s* msg, sip_s* sip);
  // An INVITE without To tag whose Call-ID, From tag and CSeq are an established call's.
  bool answeredInvite(sip_s const* sip) const;
  void forwardStateful(msg_s* msg, sip_s* sip);
  void forwardStateless(msg_s* msg, sip_s* sip);
  void forwardAck(msg_s* msg, sip_s* sip);
  // `reason` nullptr: no Warning/Reason header (403 to an unknown source reveals nothing).
  // A new INVITE refused this way ends as a failed record (decision_: with the routing
  // facts of the decision just made).
  void rejectStateless(msg_s* msg, int status, const char* phrase, const char* reason,
                       metrics::Reject counted, bool with_decision = false);
  void recordRejected(msg_s* msg, sip_s const* sip, int status, metrics::Reject counted,
                      bool with_decision);
  // RFC 3261 §17.2.1: a retransmitted INVITE refused statelessly again is not a new call.
  bool recentlyRejected(sip_s const* sip);
  void emitRecord(const records::CallRecord& rec, metrics::TrunkHandles* origin);
  bool floodAdmit(const std::string& source);

  // Call lifecycle (call.cpp).
  void tryNextTrunk(Call& call);
  bool forwardToTrunk(Call& call, core::TrunkIndex trunk);
  void onCallResponse(Call& call, int status, msg_s* response, bool local);
  void onCallCancel(Call& call);
  void onFailoverTimer(Call& call);
  void onRingTimer(Call& call);
  void respondExhausted(Call& call);
  void replyToCaller(Call& call, int status, const char* phrase, const char* reason,
                     bool retry_after);
  void endAttempt(Call& call, metrics::TrunkResult result, int code);
  // Issue 7 (memory per call): nta keeps an INVITE client transaction 32 s after its final
  // response over UDP (Timer D, fixed in the library) with both messages. At the first
  // provisional the gateway releases it and handles the rest of the attempt itself:
  // responses matched by branch, ACK of a non-2xx final, CANCEL.
  void detach(Call& call, nta_outgoing_s* orq);
  void onDetachedResponse(msg_s* msg, sip_s* sip);
  void cancelCurrent(Call& call);
  void sendAck(msg_s* invite, sip_s const* response, const std::string& branch);
  void rememberForAck(const std::string& branch, msg_s* invite);
  // The caller has its final non-2xx answer: the call's record, then finishCall.
  void endCall(Call& call, int code, records::Result result, records::FailReason why,
               records::EndReason end);
  void finishCall(Call& call);

  // Accounting of established calls (BYE through us ends them; max duration is the net).
  void callEstablished(Call& call, metrics::TrunkHandles* handles);
  // Ends one established call with that Call-ID and makes its record.
  void callEnded(const std::string& call_id, records::EndReason why);
  void endEstablished(Established& e, records::EndReason why);
  void sweepEstablished();
  void updateGauges();
  // Hands a server transaction whose final answer was sent back to nta. After a non-2xx
  // final answer of an INVITE the transaction stays bound until the caller's ACK (which
  // nta absorbs) so that ACK is still counted; the binding ends with the transaction.
  void releaseServerTransaction(void* irq);  // nta_incoming_t*

  // Addresses.
  bool isOwnUri(const void* url) const;  // url_t const*
  bool isOwnVia(const void* via) const;  // sip_via_t const*
  bool popOwnRoutes(msg_s* msg, sip_s* sip) const;
  const char* recordRouteFor(bool tcp) const;
  std::uint64_t loopHash(sip_s const* sip) const;
  bool looped(sip_s const* sip, std::uint64_t hash) const;

  config::SipConfig config_;
  metrics::Metrics& metrics_;
  su_root_s* root_ = nullptr;
  nta_agent_s* agent_ = nullptr;
  su_timer_s* sweep_timer_ = nullptr;
  std::shared_ptr<const RoutingSnapshot> snapshot_;
  bool accepting_ = true;
  std::size_t in_progress_ = 0;
  std::size_t relays_ = 0;  // in-dialog transactions being relayed
  std::uint64_t serial_ = 0;
  std::uint64_t random_state_;
  core::Decision decision_;  // reused by every new call: its candidate vector keeps capacity
  std::vector<std::pair<std::string, std::string>> own_;  // host, port ("" = 5060)
  std::string rr_udp_;
  std::string rr_tcp_;
  std::string retry_after_;
  std::string server_;
  // Looked up by a string_view of the Call-ID (transparent hash): no std::string built per
  // INVITE for the retransmission check (answeredInvite).
  struct CallIdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  std::unordered_multimap<std::string, Established, CallIdHash, std::equal_to<>> established_;
  std::unordered_map<std::string, core::TokenBucket> flood_;  // by source address
  core::Admission admission_;
  std::unique_ptr<Prober> prober_;             // OPTIONS health probes of every trunk
  std::vector<core::HealthState> health_;      // by TrunkIndex
  std::vector<core::SkipReason> trunk_state_;  // reused per call
  std::unordered_map<std::string, core::RollingWindow> windows_;  // by trunk name
  std::function<void(std::string)> record_sink_;
  std::string instance_;
  Call* calls_head_ = nullptr;  // calls in progress, linked through the Call
  // Stateless refusals of new INVITEs seen within 64*T1: key hash -> expiry (monoMs).
  std::unordered_map<std::uint64_t, std::int64_t> recent_rejects_;
  std::deque<std::pair<std::int64_t, std::uint64_t>> recent_reject_order_;
  // Detached attempts in progress: branch -> call.
  std::unordered_map<std::string, Call*> branches_;
  // Ended detached attempts within 64*T1: branch -> forwarded INVITE (to ACK a retransmitted
  // or late non-2xx final, e.g. the 487 after our CANCEL), with expiry order.
  std::unordered_map<std::string, msg_s*> ack_bases_;
  std::deque<std::pair<std::int64_t, std::string>> ack_base_order_;
};

}  // namespace sb::sip
