// New calls: the named pipeline (limits -> loop -> dialled number -> region -> route ->
// candidates -> forward) and the failover loop over a route's trunks. SPEC §3-§4.
#include "sip/call.hpp"

#include <algorithm>
#include <cstring>

#include "core/decide.hpp"
#include "core/dialled.hpp"
#include "log/log.hpp"

namespace sb::sip {

struct CallCallbacks {
  static int response(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip);
  static int ackCancel(nta_incoming_magic_t* magic, nta_incoming_t* irq, sip_t const* sip);
  static void failover(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg);
  static void ring(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg);
  static int cancelDone(nta_outgoing_magic_t*, nta_outgoing_t* orq, sip_t const* sip);
};

int CallCallbacks::cancelDone(nta_outgoing_magic_t*, nta_outgoing_t* orq, sip_t const* sip) {
  int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
  if (status >= 200) nta_outgoing_destroy(orq);
  return 0;
}

namespace {

// X-12333-Region: the requested region's 6 digits, "default" when there is none.
std::string regionHeader(core::RegionCode code) {
  if (code == core::kNoRegion) return "default";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06u", code);
  return buf;
}

metrics::TrunkResult resultFor(int status) {
  // Busy: the center has no free seat (486 Busy Here, 600 Busy Everywhere).
  if (status == 486 || status == 600) return metrics::TrunkResult::Busy;
  if (status == 408) return metrics::TrunkResult::Timeout;
  if (status == 487) return metrics::TrunkResult::Cancelled;
  return metrics::TrunkResult::Failed;
}

records::AttemptResult attemptResultOf(metrics::TrunkResult r) {
  switch (r) {
    case metrics::TrunkResult::Answered:
      return records::AttemptResult::Answered;
    case metrics::TrunkResult::Busy:
      return records::AttemptResult::Busy;
    case metrics::TrunkResult::Cancelled:
      return records::AttemptResult::Cancelled;
    case metrics::TrunkResult::Timeout:
      return records::AttemptResult::Timeout;
    default:
      return records::AttemptResult::Failed;
  }
}

bool isBusy(int status) { return status == 486 || status == 600; }

double secondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

// SPEC §3: the caller's number from P-Asserted-Identity, else From.
std::string_view callerNumber(sip_t const* sip) {
  if (auto* paid = sip_p_asserted_identity(sip)) {
    if (paid->paid_url->url_type == url_tel) return sv(paid->paid_url->url_host);
    if (paid->paid_url->url_user) return sv(paid->paid_url->url_user);
  }
  if (sip->sip_from && sip->sip_from->a_url->url_user) return sv(sip->sip_from->a_url->url_user);
  return {};
}

// SPEC §3: the optional topic of the call.
std::string_view topicHeader(sip_t const* sip) {
  for (sip_unknown_t const* u = sip->sip_unknown; u; u = u->un_next) {
    if (u->un_name && strcasecmp(u->un_name, "X-12333-Topic") == 0) return sv(u->un_value);
  }
  return {};
}

std::int64_t unixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int CallCallbacks::response(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip) {
  auto* call = reinterpret_cast<Proxy::Call*>(magic);
  int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
  msg_t* response = status > 100 ? nta_outgoing_getresponse(orq) : nullptr;
  bool local = !sip || nta_sip_is_internal(sip);
  if (call->in_create) {
    // nta answered synchronously (no transport): handle it once mcreate has returned.
    if (status >= 200 && call->deferred_status == 0) {
      call->deferred_status = status;
      call->deferred_response = response;
      call->deferred_local = local;
    } else if (response) {
      msg_destroy(response);
    }
    return 0;
  }
  try {
    if (status < 200 && !call->detached) call->proxy->detach(*call, orq);
    call->proxy->onCallResponse(*call, status, response, local);
  } catch (...) {
  }
  return 0;
}

int CallCallbacks::ackCancel(nta_incoming_magic_t* magic, nta_incoming_t*, sip_t const* sip) {
  auto* call = reinterpret_cast<Proxy::Call*>(magic);
  if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_cancel) {
    call->proxy->metrics_.request(metrics::SipMethod::Cancel);
    call->proxy->onCallCancel(*call);
  }
  return 0;
}

void CallCallbacks::failover(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
  auto* call = reinterpret_cast<Proxy::Call*>(arg);
  call->proxy->onFailoverTimer(*call);
}

void CallCallbacks::ring(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
  auto* call = reinterpret_cast<Proxy::Call*>(arg);
  call->proxy->onRingTimer(*call);
}

void Proxy::newCall(msg_t* msg, sip_t* sip) {
  // A retransmission of an INVITE this gateway already answered with 2xx: nta keeps that
  // server transaction only T4 (sip.t4_ms) after the 2xx, so a later copy arrives here as a
  // new request. It must not become a second call: absorb it (RFC 6026 §7.1, the Accepted
  // state; the called side retransmits its 2xx to the caller end to end).
  if (answeredInvite(sip)) {
    msg_destroy(msg);
    return;
  }
  // Stage: limits. Overload (notes/sofia-sip.md: nta has none on this path) and shutdown.
  if (!accepting_) {
    rejectStateless(msg, 503, "Service Unavailable", "gateway shutting down",
                    metrics::Reject::Shutdown);
    return;
  }
  if (in_progress_ >= config_.max_in_progress) {
    rejectStateless(msg, 503, "Service Unavailable", "gateway overloaded",
                    metrics::Reject::Capacity);
    return;
  }
  // The loop was checked in onRequest; its hash marks our branches.
  std::uint64_t hash = loopHash(sip);
  if (!snapshot_) {
    rejectStateless(msg, 503, "Service Unavailable", "routing tables not loaded",
                    metrics::Reject::NoRoute);
    return;
  }
  const core::RoutingTable& table = *snapshot_->table;

  // Stages dialled number -> region -> route -> candidates: the same core code as
  // `switchboardctl route explain` and the admin dry-run.
  std::string_view user = sv(sip->sip_request->rq_url->url_user);
  core::DecideInput input;
  input.dialled = user;
  input.caller = callerNumber(sip);
  input.topic = topicHeader(sip);
  input.now_unix =
      static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  random_state_ += 0x9e3779b97f4a7c15ULL;
  input.random = random_state_;
  // SPEC §4: a down, disabled, draining or full trunk is skipped (closed comes from hours).
  admission_.fillTrunkState(healthStates(), monoMs(), trunk_state_);
  input.trunk_state = trunk_state_;
  core::decide(table, input, decision_);
  if (decision_.topic_status == core::TopicStatus::Invalid) metrics_.invalidTopic();
  if (!decision_.forward()) {
    metrics::Reject counted = metrics::Reject::NoRoute;
    switch (decision_.rejected_at) {
      case core::DecisionStage::Dialled:
        if (decision_.status == 484) counted = metrics::Reject::Malformed;
        break;
      case core::DecisionStage::Route:
        metrics_.lookupMiss();
        break;
      case core::DecisionStage::Candidates:
        metrics_.lookup(decision_.found.level);
        counted = metrics::Reject::Unavailable;
        break;
      default:
        break;
    }
    std::string reason(decision_.reason);
    const char* phrase = decision_.status == 484   ? "Address Incomplete"
                         : decision_.status == 503 ? "Service Unavailable"
                                                   : "Not Found";
    rejectStateless(msg, decision_.status, phrase, reason.c_str(), counted, true);
    return;
  }
  metrics_.lookup(decision_.found.level);
  std::vector<core::TrunkIndex> candidates;
  candidates.reserve(decision_.usable);
  for (const auto& c : decision_.candidates) {
    if (c.usable()) candidates.push_back(c.trunk);
  }

  // Stage: forward. From here the call is stateful.
  std::string source = sourceAddress(msg);
  std::int64_t t_invite = unixMs();
  const core::Trunk* origin = table.trunkBySource(source);
  metrics::TrunkHandles* origin_metrics =
      origin ? snapshot_->trunk_metrics[static_cast<std::size_t>(origin - table.trunks().data())]
             : nullptr;
  std::string call_id = sip->sip_call_id->i_id;
  std::string dialled = records::dialledText(user);
  nta_incoming_t* irq = nta_incoming_create(agent_, nullptr, msg, sip, TAG_END());
  if (!irq) {
    // Nothing could be answered (out of memory in the stack): still one record.
    records::CallRecord rec;
    rec.call_id = std::move(call_id);
    rec.source = source;
    rec.dialled = std::move(dialled);
    rec.t_invite = rec.t_end = t_invite;
    rec.fail_reason = records::FailReason::Capacity;
    emitRecord(rec, origin_metrics);
    return;
  }
  auto* call = new Call();
  call->proxy = this;
  call->irq = irq;
  call->request = nta_incoming_getrequest(irq);
  call->snap = snapshot_;
  call->candidates = std::move(candidates);
  call->invite_at = std::chrono::steady_clock::now();
  call->user = std::string(user);  // copied: `user` points into the message
  // The record's facts known now (SPEC §6); the rest is added as the call goes.
  records::CallRecord& rec = call->rec;
  rec.call_id = std::move(call_id);
  rec.source = std::move(source);
  rec.origin = origin ? origin->name : std::string();
  rec.dialled = std::move(dialled);
  rec.caller = records::maskCaller(input.caller);
  rec.region = decision_.region;
  rec.routed = true;
  rec.level = decision_.found.level;
  rec.t_invite = t_invite;
  call->origin_metrics = origin_metrics;
  if (sip->sip_from && sip->sip_from->a_tag) call->caller_tag = sip->sip_from->a_tag;
  call->invite_cseq = sip->sip_cseq->cs_seq;
  if (origin_metrics) origin_metrics->in_active->Increment();
  // Linked so a shutdown can end the calls still in progress.
  call->link_next = calls_head_;
  if (calls_head_) calls_head_->link_prev = call;
  calls_head_ = call;
  if (decision_.topic_status == core::TopicStatus::Valid) {
    rec.topic = std::string(core::topicText(decision_.topic).view());
  }
  call->loop_hash = hash;
  call->serial = ++serial_;
  call->tcp_in = sip->sip_via && sip->sip_via->v_protocol &&
                 strcasecmp(sip->sip_via->v_protocol, "SIP/2.0/TCP") == 0;
  nta_incoming_bind(irq, &CallCallbacks::ackCancel, reinterpret_cast<nta_incoming_magic_t*>(call));
  // RFC 3261 §16.2: a stateful proxy answers 100 for an INVITE.
  nta_incoming_treply(irq, SIP_100_TRYING, SIPTAG_SERVER_STR(server_.c_str()), TAG_END());
  ++in_progress_;
  updateGauges();
  if (log::enabled(log::Level::Debug)) {
    SB_LOG(log::Level::Debug, log::Line("route")
                                  .kv("call_id", call->rec.call_id)
                                  .kv("origin", call->rec.origin)
                                  .kv("key", regionHeader(call->rec.region))
                                  .kv("level", core::levelName(call->rec.level))
                                  .kv("candidates", call->candidates.size()));
  }
  tryNextTrunk(*call);
}

void Proxy::tryNextTrunk(Call& call) {
  while (call.next < call.candidates.size()) {
    core::TrunkIndex trunk = call.candidates[call.next++];
    if (forwardToTrunk(call, trunk)) return;
  }
  respondExhausted(call);
}

// Builds the copy of the INVITE for one trunk and sends it. False when it could not be
// sent at all (the attempt is recorded as a local failure).
bool Proxy::forwardToTrunk(Call& call, core::TrunkIndex trunk) {
  const TrunkTarget& target = call.snap->targets[trunk];
  const core::Trunk& t = call.snap->table->trunks()[trunk];
  metrics::TrunkHandles* handles = call.snap->trunk_metrics[trunk];
  if (!target.valid) {
    metrics_.badTrunkTarget();
    call.attempts.push_back({503, true});
    call.attempt_responses.push_back(nullptr);
    return false;
  }
  // The trunk's capacity is held from here until the attempt ends (or, when answered, until
  // the call ends). A trunk that filled up since the decision is skipped like a full one.
  core::AdmitResult admitted = admission_.acquire(trunk, call.serial, monoMs());
  if (admitted != core::AdmitResult::Admitted) {
    SB_LOG(log::Level::Debug, log::Line("trunk_skipped")
                                  .kv("call_id", call.rec.call_id)
                                  .kv("trunk", t.name)
                                  .kv("why", core::admitResultName(admitted)));
    return false;
  }
  // msg_dup, not msg_copy: a copy holds its original as parent, so the INVITE as received
  // would live as long as the client transaction (32 s after a 2xx, nta's Timer D).
  msg_t* fwd = msg_dup(call.request);
  sip_t* sip = fwd ? sip_object(fwd) : nullptr;
  if (!sip) {
    if (fwd) msg_destroy(fwd);
    admission_.release(call.serial);
    call.attempts.push_back({500, true});
    call.attempt_responses.push_back(nullptr);
    return false;
  }
  su_home_t* home = msg_home(fwd);

  // The trunk's target becomes the Request-URI; the dialled number stays as the user part
  // unless the trunk names its own.
  url_t* url = sip->sip_request->rq_url;
  url->url_type = target.secure ? url_sips : url_sip;
  url->url_scheme = target.secure ? "sips" : "sip";
  url->url_user = su_strdup(home, target.user.empty() ? call.user.c_str() : target.user.c_str());
  url->url_password = nullptr;
  std::string host =
      target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host;
  url->url_host = su_strdup(home, host.c_str());
  url->url_port = target.port.empty() ? nullptr : su_strdup(home, target.port.c_str());
  url->url_params = target.transport.empty()
                        ? nullptr
                        : su_sprintf(home, "transport=%s", target.transport.c_str());
  url->url_headers = nullptr;
  msg_fragment_clear(sip->sip_request->rq_common);

  // The gateway routes new calls itself: any preloaded Route is dropped.
  while (sip->sip_route) sip_route_remove(fwd, sip);

  // RFC 3261 §16.6 item 3: Max-Forwards.
  if (sip->sip_max_forwards) {
    sip->sip_max_forwards->mf_count--;
    msg_fragment_clear(sip->sip_max_forwards->mf_common);
  } else {
    msg_header_add_make(fwd, reinterpret_cast<msg_pub_t*>(sip), sip_max_forwards_class, "70");
  }

  // What the receiving center needs to know (context.md: carry only that). Callers cannot
  // forge these: any copy they sent is removed first.
  for (sip_unknown_t* u = sip->sip_unknown; u;) {
    sip_unknown_t* next = u->un_next;
    if (u->un_name && (strcasecmp(u->un_name, "X-12333-Origin") == 0 ||
                       strcasecmp(u->un_name, "X-12333-Region") == 0 ||
                       strcasecmp(u->un_name, "X-12333-Level") == 0 ||
                       strcasecmp(u->un_name, "X-12333-Topic") == 0)) {
      msg_header_remove(fwd, reinterpret_cast<msg_pub_t*>(sip), reinterpret_cast<msg_header_t*>(u));
    }
    u = next;
  }
  std::string h = "X-12333-Origin: " + (call.rec.origin.empty() ? "-" : call.rec.origin);
  msg_header_add_make(fwd, reinterpret_cast<msg_pub_t*>(sip), sip_unknown_class, h.c_str() + 0);
  h = "X-12333-Region: " + regionHeader(call.rec.region);
  msg_header_add_make(fwd, reinterpret_cast<msg_pub_t*>(sip), sip_unknown_class, h.c_str());
  h = "X-12333-Level: " + std::string(core::levelName(call.rec.level));
  msg_header_add_make(fwd, reinterpret_cast<msg_pub_t*>(sip), sip_unknown_class, h.c_str());
  if (!call.rec.topic.empty()) {
    // Only a listed topic is passed on; an invalid one was counted and dropped.
    h = "X-12333-Topic: " + call.rec.topic;
    msg_header_add_make(fwd, reinterpret_cast<msg_pub_t*>(sip), sip_unknown_class, h.c_str());
  }

  // RFC 3261 §16.6 item 4: Record-Route, doubled when the call changes transport.
  bool tcp_out = target.transport == "tcp";
  msg_header_insert(
      fwd, reinterpret_cast<msg_pub_t*>(sip),
      reinterpret_cast<msg_header_t*>(sip_record_route_make(home, recordRouteFor(call.tcp_in))));
  if (tcp_out != call.tcp_in) {
    msg_header_insert(
        fwd, reinterpret_cast<msg_pub_t*>(sip),
        reinterpret_cast<msg_header_t*>(sip_record_route_make(home, recordRouteFor(tcp_out))));
  }

  char branch[64];
  std::snprintf(branch, sizeof branch, "z9hG4bK-sb%016llx.%llx.%zu",
                static_cast<unsigned long long>(call.loop_hash),
                static_cast<unsigned long long>(call.serial), call.attempts.size());

  if (call.fwd) msg_destroy(call.fwd);
  call.fwd = msg_ref_create(fwd);
  call.branch = branch;
  call.detached = false;
  call.in_create = true;
  call.deferred_status = 0;
  nta_outgoing_t* orq = nta_outgoing_mcreate(
      agent_, &CallCallbacks::response, reinterpret_cast<nta_outgoing_magic_t*>(&call), nullptr,
      fwd, NTATAG_BRANCH_KEY(branch), NTATAG_PASS_100(1), TAG_END());
  call.in_create = false;
  call.has_current = true;
  call.current = trunk;
  call.provisional = false;
  handles->active->Increment();
  if (!orq) {
    msg_destroy(fwd);
    msg_destroy(call.fwd);
    call.fwd = nullptr;
    metrics_.badTrunkTarget();
    SB_LOG(log::Level::Warn,
           log::Line("forward_failed").kv("call_id", call.rec.call_id).kv("trunk", t.name));
    if (call.deferred_response) msg_destroy(call.deferred_response);
    call.deferred_response = nullptr;
    endAttempt(call, metrics::TrunkResult::Failed, 0);
    call.attempts.push_back({503, true});
    call.attempt_responses.push_back(nullptr);
    return false;
  }
  call.orq = orq;
  if (call.deferred_status) {
    int status = call.deferred_status;
    msg_t* response = call.deferred_response;
    call.deferred_status = 0;
    call.deferred_response = nullptr;
    onCallResponse(call, status, response, call.deferred_local);
    return true;  // onCallResponse moved on (next trunk or final answer)
  }
  if (!call.failover_timer) call.failover_timer = su_timer_create(su_root_task(root_), 0);
  su_timer_set_interval(call.failover_timer, &CallCallbacks::failover,
                        reinterpret_cast<su_timer_arg_t*>(&call), config_.failover_timeout_ms);
  return true;
}

// Releases the current trunk attempt's capacity and counts its result.
void Proxy::endAttempt(Call& call, metrics::TrunkResult result, int code) {
  if (!call.has_current) return;
  metrics::TrunkHandles* handles = call.snap->trunk_metrics[call.current];
  call.rec.attempts.push_back({call.snap->table->trunks()[call.current].name,
                               static_cast<std::uint16_t>(code), attemptResultOf(result)});
  handles->calls[static_cast<std::size_t>(result)]->Increment();
  bool answered = result == metrics::TrunkResult::Answered;
  if (!answered) {
    handles->active->Decrement();
    admission_.release(call.serial);
  }
  auto now = std::chrono::system_clock::now();
  windows_[call.snap->table->trunks()[call.current].name].add(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count(), answered,
      std::chrono::steady_clock::now() - call.invite_at <= std::chrono::seconds(20));
  call.has_current = false;
  if (call.detached) {
    branches_.erase(call.branch);
    call.detached = false;
    // A final may still come (the 487 after our CANCEL, a retransmission): it is ACKed.
    if (!answered && call.fwd) {
      rememberForAck(call.branch, call.fwd);
      call.fwd = nullptr;
    }
  }
  if (call.fwd) {
    msg_destroy(call.fwd);
    call.fwd = nullptr;
  }
  if (call.failover_timer) su_timer_reset(call.failover_timer);
  if (call.ring_timer) su_timer_reset(call.ring_timer);
}

void Proxy::onCallResponse(Call& call, int status, msg_t* response, bool local) {
  if (status < 200) {
    // Any provisional shows the trunk is alive: the failover timer stops, Timer C runs.
    call.provisional = true;
    if (call.failover_timer) su_timer_reset(call.failover_timer);
    if (!call.ring_timer) call.ring_timer = su_timer_create(su_root_task(root_), 0);
    su_timer_set_interval(call.ring_timer, &CallCallbacks::ring,
                          reinterpret_cast<su_timer_arg_t*>(&call),
                          static_cast<su_duration_t>(config_.ring_timeout_s) * 1000);
    if (status == 100 || !response) {
      if (response) msg_destroy(response);
      return;
    }
    if (!call.ringing && status >= 180) {
      call.ringing = true;
      call.rec.t_ring = unixMs();
      double pdd = secondsSince(call.invite_at);
      call.snap->trunk_metrics[call.current]->post_dial_delay->Observe(pdd);
      if (call.origin_metrics) call.origin_metrics->in_post_dial_delay->Observe(pdd);
    }
    sip_via_remove(response, sip_object(response));
    metrics_.response(status);
    nta_incoming_mreply(call.irq, response);
    return;
  }

  core::AttemptOutcome outcome = core::classifyFinal(status);
  if (call.cancelled && outcome != core::AttemptOutcome::Answered) {
    // The caller gave up: its 487 comes from downstream (issue: "the caller gets 487 from
    // downstream"); no further trunk is tried.
    endAttempt(call, metrics::TrunkResult::Cancelled, status);
    int sent = 487;
    if (response && !local) {
      sip_via_remove(response, sip_object(response));
      metrics_.response(status);
      nta_incoming_mreply(call.irq, response);
      sent = status;
    } else {
      if (response) msg_destroy(response);
      replyToCaller(call, 487, "Request Terminated", "caller cancelled", false);
    }
    endCall(call, sent, records::Result::Abandoned, records::FailReason::None,
            records::EndReason::CallerCancel);
    return;
  }
  switch (outcome) {
    case core::AttemptOutcome::Answered: {
      metrics::TrunkHandles* handles = call.snap->trunk_metrics[call.current];
      double delay = secondsSince(call.invite_at);
      handles->answer_delay->Observe(delay);
      if (call.origin_metrics) call.origin_metrics->in_answer_delay->Observe(delay);
      endAttempt(call, metrics::TrunkResult::Answered, status);
      sip_via_remove(response, sip_object(response));
      metrics_.response(status);
      nta_incoming_mreply(call.irq, response);
      call.rec.t_answer = unixMs();
      call.rec.code = status;
      callEstablished(call, handles);  // its record is made when it ends
      finishCall(call);
      return;
    }
    case core::AttemptOutcome::Final:
      // SPEC §4: other 4xx and all 6xx are final and go back to the caller.
      endAttempt(call, resultFor(status), status);
      if (response && !local) {
        sip_via_remove(response, sip_object(response));
        metrics_.response(status);
        nta_incoming_mreply(call.irq, response);
      } else {
        if (response) msg_destroy(response);
        replyToCaller(call, status, nullptr, "trunk failed", false);
      }
      endCall(call, status, records::Result::Failed,
              isBusy(status) ? records::FailReason::Busy : records::FailReason::Rejected,
              records::EndReason::TrunkFinal);
      return;
    case core::AttemptOutcome::TryNext:
      // SPEC §4: 408 and any 5xx move the call to the next trunk.
      if (local && status == 503 && call.has_current) callTransportError(call.current);
      endAttempt(call, status == 408 ? metrics::TrunkResult::Timeout : metrics::TrunkResult::Failed,
                 local ? 0 : status);
      if (call.orq) {
        nta_outgoing_destroy(call.orq);
        call.orq = nullptr;
      }
      call.attempts.push_back({status, local});
      if (response && local) {
        msg_destroy(response);
        response = nullptr;
      }
      call.attempt_responses.push_back(response);
      SB_LOG(log::Level::Debug,
             log::Line("failover").kv("call_id", call.rec.call_id).kv("status", status));
      tryNextTrunk(call);
      return;
  }
}

void Proxy::onCallCancel(Call& call) {
  if (call.cancelled) return;
  call.cancelled = true;
  if (call.has_current && call.provisional) {
    // RFC 3261 §16.10: CANCEL the pending branch; its 487 is relayed to the caller.
    cancelCurrent(call);
    return;
  }
  // Nothing has answered yet: a CANCEL could not be sent downstream before a provisional
  // (RFC 3261 §9.1), so the branch is dropped and the caller gets 487 now.
  endAttempt(call, metrics::TrunkResult::Cancelled, 0);
  if (call.orq) {
    nta_outgoing_destroy(call.orq);
    call.orq = nullptr;
  }
  replyToCaller(call, 487, "Request Terminated", "caller cancelled", false);
  endCall(call, 487, records::Result::Abandoned, records::FailReason::None,
          records::EndReason::CallerCancel);
}

// SPEC §4: no provisional answer within the failover timer moves the call on.
void Proxy::onFailoverTimer(Call& call) {
  if (call.provisional || !call.orq) return;
  SB_LOG(log::Level::Debug, log::Line("failover_timer").kv("call_id", call.rec.call_id));
  endAttempt(call, metrics::TrunkResult::Timeout, 0);
  nta_outgoing_destroy(call.orq);  // no provisional: nta drops it without a CANCEL
  call.orq = nullptr;
  call.attempts.push_back({408, true});
  call.attempt_responses.push_back(nullptr);
  tryNextTrunk(call);
}

// RFC 3261 §16.6 item 11, Timer C: ringing without an answer for too long.
void Proxy::onRingTimer(Call& call) {
  if (!call.has_current) return;
  cancelCurrent(call);
  endAttempt(call, metrics::TrunkResult::Timeout, 0);
  if (call.orq) nta_outgoing_destroy(call.orq);
  call.orq = nullptr;
  replyToCaller(call, 408, "Request Timeout", "no answer from the destination center", false);
  endCall(call, 408, records::Result::Failed, records::FailReason::Timeout,
          records::EndReason::RingTimeout);
}

void Proxy::respondExhausted(Call& call) {
  core::Exhausted ex = core::chooseExhaustedResponse(call.attempts);
  if (ex.use_trunk_response && ex.index < call.attempt_responses.size() &&
      call.attempt_responses[ex.index]) {
    msg_t* response = call.attempt_responses[ex.index];
    call.attempt_responses[ex.index] = nullptr;
    sip_via_remove(response, sip_object(response));
    metrics_.response(ex.status);
    nta_incoming_mreply(call.irq, response);
  } else {
    replyToCaller(call, ex.status, ex.status == 503 ? "Service Unavailable" : nullptr,
                  "all destination trunks failed", ex.retry_after);
  }
  // docs/call-records.md fail_reason: no trunk could be tried -> unavailable; only
  // timeouts (or a 408 chosen) -> timeout; a busy answer chosen -> busy; else rejected.
  records::FailReason why = records::FailReason::Rejected;
  if (call.rec.attempts.empty()) {
    why = records::FailReason::Unavailable;
  } else if (ex.status == 408 || std::all_of(call.rec.attempts.begin(), call.rec.attempts.end(),
                                             [](const records::Attempt& a) {
                                               return a.result == records::AttemptResult::Timeout;
                                             })) {
    why = records::FailReason::Timeout;
  } else if (isBusy(ex.status)) {
    why = records::FailReason::Busy;
  }
  endCall(call, ex.status, records::Result::Failed, why, records::EndReason::TrunkFinal);
}

void Proxy::endCall(Call& call, int code, records::Result result, records::FailReason why,
                    records::EndReason end) {
  records::CallRecord& rec = call.rec;
  rec.t_end = unixMs();
  rec.code = code;
  rec.result = result;
  rec.fail_reason = why;
  rec.end_reason = end;
  if (call.origin_metrics) call.origin_metrics->in_active->Decrement();
  emitRecord(rec, call.origin_metrics);
  finishCall(call);
}

// Gateway shutdown: calls still being routed get 503 (a ringing branch is cancelled).
void Proxy::endAllCalls() {
  while (calls_head_) {
    Call& call = *calls_head_;
    if (call.has_current && call.provisional) cancelCurrent(call);
    endAttempt(call, metrics::TrunkResult::Cancelled, 0);
    replyToCaller(call, 503, "Service Unavailable", "gateway shutting down", true);
    endCall(call, 503, records::Result::Failed, records::FailReason::Shutdown,
            records::EndReason::Shutdown);
  }
  while (!established_.empty())
    endEstablished(established_.begin()->second, records::EndReason::Shutdown);
}

void Proxy::replyToCaller(Call& call, int status, const char* phrase, const char* reason,
                          bool retry_after) {
  char reason_hdr[200];
  std::snprintf(reason_hdr, sizeof reason_hdr, "SIP;cause=%d;text=\"%s\"", status, reason);
  metrics_.response(status);
  nta_incoming_treply(call.irq, status, phrase, SIPTAG_REASON_STR(reason_hdr),
                      SIPTAG_SERVER_STR(server_.c_str()),
                      TAG_IF(retry_after, SIPTAG_RETRY_AFTER_STR(retry_after_.c_str())), TAG_END());
}

void Proxy::finishCall(Call& call) {
  if (call.failover_timer) su_timer_destroy(call.failover_timer);
  if (call.ring_timer) su_timer_destroy(call.ring_timer);
  if (call.orq) nta_outgoing_destroy(call.orq);
  if (call.irq) releaseServerTransaction(call.irq);
  for (msg_t* m : call.attempt_responses) {
    if (m) msg_destroy(m);
  }
  if (call.request) msg_destroy(call.request);
  if (call.detached) branches_.erase(call.branch);
  if (call.fwd) msg_destroy(call.fwd);
  if (call.link_prev) call.link_prev->link_next = call.link_next;
  if (call.link_next) call.link_next->link_prev = call.link_prev;
  if (calls_head_ == &call) calls_head_ = call.link_next;
  --in_progress_;
  updateGauges();
  delete &call;
}

void Proxy::detach(Call& call, nta_outgoing_t* orq) {
  if (!call.fwd || call.branch.empty()) return;
  // Released before completion, nta frees the INVITE transaction at once (a 2xx or a final
  // then reaches the agent callback, onStrayResponse). Retransmissions of the INVITE are
  // over: the trunk has answered something.
  nta_outgoing_destroy(orq);
  if (call.orq == orq) call.orq = nullptr;
  call.detached = true;
  branches_[call.branch] = &call;
}

// A response to a detached attempt, or to one already ended (ACKed if non-2xx, else
// dropped); a 2xx retransmission of an ended attempt is not for here (relayed statelessly).
// Returns with msg consumed.
void Proxy::onDetachedResponse(msg_t* msg, sip_t* sip) {
  int status = sip->sip_status->st_status;
  std::string branch = sip->sip_via->v_branch;
  auto it = branches_.find(branch);
  if (it == branches_.end()) {
    if (status >= 300) {
      auto base = ack_bases_.find(branch);
      if (base != ack_bases_.end()) sendAck(base->second, sip, branch);
    }
    msg_destroy(msg);
    return;
  }
  Call& call = *it->second;
  if (status >= 300) sendAck(call.fwd, sip, branch);
  if (status == 100) {
    msg_destroy(msg);
    return;
  }
  onCallResponse(call, status, msg, false);
}

// RFC 3261 §9.1: CANCEL with the INVITE's Request-URI, Call-ID, From, To, CSeq number,
// Route and top Via branch; sent in a transaction of its own (retransmitted over UDP).
void Proxy::cancelCurrent(Call& call) {
  if (call.orq) {
    nta_outgoing_tcancel(call.orq, nullptr, nullptr, TAG_END());
    return;
  }
  if (!call.fwd || call.branch.empty()) return;
  sip_t const* inv = sip_object(call.fwd);
  msg_t* msg = nta_msg_create(agent_, 0);
  sip_t* sip = msg ? sip_object(msg) : nullptr;
  if (!sip || !inv) {
    if (msg) msg_destroy(msg);
    return;
  }
  su_home_t* home = msg_home(msg);
  if (sip_add_tl(msg, sip, SIPTAG_FROM(inv->sip_from), SIPTAG_TO(inv->sip_to),
                 SIPTAG_CALL_ID(inv->sip_call_id), SIPTAG_ROUTE(inv->sip_route),
                 SIPTAG_MAX_FORWARDS_STR("70"), TAG_END()) < 0 ||
      msg_header_insert(msg, reinterpret_cast<msg_pub_t*>(sip),
                        reinterpret_cast<msg_header_t*>(
                            sip_cseq_create(home, inv->sip_cseq->cs_seq, SIP_METHOD_CANCEL))) < 0 ||
      msg_header_insert(
          msg, reinterpret_cast<msg_pub_t*>(sip),
          reinterpret_cast<msg_header_t*>(sip_request_create(
              home, SIP_METHOD_CANCEL,
              reinterpret_cast<url_string_t const*>(inv->sip_request->rq_url), nullptr))) < 0) {
    msg_destroy(msg);
    return;
  }
  nta_outgoing_t* orq =
      nta_outgoing_mcreate(agent_, &CallCallbacks::cancelDone, nullptr, nullptr, msg,
                           NTATAG_BRANCH_KEY(call.branch.c_str()), TAG_END());
  if (!orq) msg_destroy(msg);
}

// RFC 3261 §17.1.1.3: the ACK of a non-2xx final is hop by hop, on the INVITE's branch.
void Proxy::sendAck(msg_t* invite, sip_t const* response, const std::string& branch) {
  sip_t const* inv = invite ? sip_object(invite) : nullptr;
  if (!inv || !inv->sip_request || !response->sip_to) return;
  msg_t* msg = nta_msg_create(agent_, 0);
  sip_t* sip = msg ? sip_object(msg) : nullptr;
  if (!sip) {
    if (msg) msg_destroy(msg);
    return;
  }
  su_home_t* home = msg_home(msg);
  if (sip_add_tl(msg, sip, SIPTAG_FROM(inv->sip_from), SIPTAG_TO(response->sip_to),
                 SIPTAG_CALL_ID(inv->sip_call_id), SIPTAG_ROUTE(inv->sip_route),
                 SIPTAG_MAX_FORWARDS_STR("70"), TAG_END()) < 0 ||
      msg_header_insert(msg, reinterpret_cast<msg_pub_t*>(sip),
                        reinterpret_cast<msg_header_t*>(
                            sip_cseq_create(home, inv->sip_cseq->cs_seq, SIP_METHOD_ACK))) < 0 ||
      msg_header_insert(
          msg, reinterpret_cast<msg_pub_t*>(sip),
          reinterpret_cast<msg_header_t*>(sip_request_create(
              home, SIP_METHOD_ACK, reinterpret_cast<url_string_t const*>(inv->sip_request->rq_url),
              nullptr))) < 0) {
    msg_destroy(msg);
    return;
  }
  nta_outgoing_t* ack =
      nta_outgoing_mcreate(agent_, nullptr, nullptr, nullptr, msg,
                           NTATAG_BRANCH_KEY(branch.c_str()), NTATAG_STATELESS(1), TAG_END());
  if (ack) {
    nta_outgoing_destroy(ack);
  } else {
    msg_destroy(msg);
  }
}

// Keeps an ended attempt's INVITE for 64*T1 (how long a UAS retransmits its final); the
// set is bounded, oldest first out.
void Proxy::rememberForAck(const std::string& branch, msg_t* invite) {
  constexpr std::size_t kMaxEntries = 100000;
  std::int64_t now = monoMs();
  while (!ack_base_order_.empty() &&
         (ack_base_order_.front().first <= now || ack_base_order_.size() >= kMaxEntries)) {
    auto it = ack_bases_.find(ack_base_order_.front().second);
    if (it != ack_bases_.end()) {
      msg_destroy(it->second);
      ack_bases_.erase(it);
    }
    ack_base_order_.pop_front();
  }
  auto [it, inserted] = ack_bases_.emplace(branch, invite);
  if (!inserted) {
    msg_destroy(invite);
    return;
  }
  ack_base_order_.emplace_back(now + 64 * static_cast<std::int64_t>(config_.t1_ms), branch);
}

}  // namespace sb::sip
