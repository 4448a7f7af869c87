// Front door of the proxy: agent set-up, dispatch of every message nta does not absorb,
// in-dialog forwarding by Route (no per-dialog memory), stateless ACK/2xx relaying.
#include "sip/proxy.hpp"

#include <algorithm>
#include <cstring>
#include <random>

#include "core/json_text.hpp"
#include "log/log.hpp"
#include "sip/call.hpp"
#include "sip/prober.hpp"
#include "sip/reuseport.hpp"
#include "sip/sofia.hpp"

namespace sb::sip {

struct CallbackAccess {
  static int message(nta_agent_magic_t* magic, nta_agent_t*, msg_t* msg, sip_t* sip) {
    return reinterpret_cast<Proxy*>(magic)->onMessage(msg, sip);
  }
  static void sweep(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
    reinterpret_cast<Proxy*>(arg)->sweepEstablished();
  }
  static int relayResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip);
  static int relayCancel(nta_incoming_magic_t* magic, nta_incoming_t* irq, sip_t const* sip);
  // The ACK for a non-2xx final answer (or Timer H without one) ends the transaction.
  static int tailAck(nta_incoming_magic_t* magic, nta_incoming_t* irq, sip_t const* sip) {
    if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_ack) {
      reinterpret_cast<Proxy*>(magic)->metrics_.request(metrics::SipMethod::Ack);
    }
    nta_incoming_destroy(irq);
    return 0;
  }
};

namespace {
log::RateLimit g_drop_log(10);

core::ProbeConfig probeConfig(const config::ProbeSettings& p) {
  core::ProbeConfig c;
  c.interval_ms = p.interval_ms;
  c.jitter_percent = p.jitter_percent;
  c.timeout_ms = p.timeout_ms;
  c.down_after = p.down_after;
  c.up_after = p.up_after;
  c.accepted_codes = p.accepted_codes;
  return c;
}

std::string hostForUri(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}
}  // namespace

// An in-dialog request (or one addressed by Route) forwarded statefully: it relays every
// response back and carries a CANCEL of a re-INVITE downstream. It remembers nothing of
// the dialog itself.
struct Proxy::Relay {
  Proxy* proxy = nullptr;
  nta_incoming_t* irq = nullptr;
  nta_outgoing_t* orq = nullptr;
};

int CallbackAccess::relayResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq,
                                  sip_t const* sip) {
  auto* relay = reinterpret_cast<Proxy::Relay*>(magic);
  int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
  if (status < 200 && status == 100) return 0;  // hop by hop: we sent our own 100
  msg_t* response = nta_outgoing_getresponse(orq);
  if (response && !nta_msg_is_internal(response)) {
    sip_t* rsip = sip_object(response);
    sip_via_remove(response, rsip);
    relay->proxy->metrics_.response(status);
    nta_incoming_mreply(relay->irq, response);
  } else {
    // nta's own 408/503 for a dead next hop: answer upstream with the same status.
    if (response) msg_destroy(response);
    relay->proxy->metrics_.response(status);
    nta_incoming_treply(relay->irq, status, nullptr,
                        SIPTAG_SERVER_STR(relay->proxy->server_.c_str()), TAG_END());
  }
  if (status >= 200) {
    --relay->proxy->relays_;
    nta_outgoing_destroy(orq);
    relay->proxy->releaseServerTransaction(relay->irq);
    delete relay;
  }
  return 0;
}

int CallbackAccess::relayCancel(nta_incoming_magic_t* magic, nta_incoming_t*, sip_t const* sip) {
  auto* relay = reinterpret_cast<Proxy::Relay*>(magic);
  if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_cancel) {
    relay->proxy->metrics_.request(metrics::SipMethod::Cancel);
    if (relay->orq) nta_outgoing_tcancel(relay->orq, nullptr, nullptr, TAG_END());
  }
  return 0;
}

Proxy::Proxy(const config::SipConfig& config, metrics::Metrics& metrics)
    : config_(config), metrics_(metrics), random_state_(std::random_device{}()) {
  retry_after_ = std::to_string(config_.retry_after_s);
  server_ = config_.server_name;
}

Proxy::~Proxy() { shutdown(); }

bool Proxy::start(su_root_t* root, std::string& error) {
  root_ = root;
  agent_ = nta_agent_create(
      root, reinterpret_cast<url_string_t*>(-1), &CallbackAccess::message,
      reinterpret_cast<nta_agent_magic_t*>(this),
      // notes/sofia-sip.md: proxy behaviour, not a UA.
      NTATAG_UA(0), NTATAG_CANCEL_487(0), NTATAG_MERGE_482(0), NTATAG_SERVER_RPORT(1),
      NTATAG_CLIENT_RPORT(1), NTATAG_USE_NAPTR(0), NTATAG_USE_SRV(0), NTATAG_UDP_MTU(65535),
      NTATAG_PASS_100(1), NTATAG_MAXSIZE(config_.max_message_bytes), NTATAG_SIP_T1(config_.t1_ms),
      NTATAG_SIP_T2(config_.t2_ms), NTATAG_SIP_T4(config_.t4_ms), NTATAG_STATELESS(0), TAG_END());
  if (!agent_) {
    error = "cannot create SIP agent";
    return false;
  }
  // A worker of several (config.hpp, sip.workers) first listens on its private ports: the
  // first tport of a transport is the one nta sends requests through, so this worker's Via
  // and Record-Route name its private port and responses and in-dialog requests come back
  // to it, whichever worker the kernel hands the shared port's traffic to.
  const bool worker = config_.worker_index >= 0 && config_.workers > 1;
  struct Bind {
    config::ListenAddress address;
    bool shared;
  };
  std::vector<Bind> binds;
  if (worker) {
    for (const auto& l : config_.listen) {
      config::ListenAddress p = l;
      p.port = l.port + static_cast<int>(config_.worker_port_offset) + config_.worker_index;
      binds.push_back({p, false});
    }
  }
  for (const auto& l : config_.listen) binds.push_back({l, worker});
  for (const auto& [l, shared] : binds) {
    std::string url = "sip:" + hostForUri(l.host) + ":" + std::to_string(l.port) +
                      ";transport=" + config::transportName(l.transport);
    if (shared && !shareListenPort(l.port)) {
      error = "too many shared listen ports";
      nta_agent_destroy(agent_);
      agent_ = nullptr;
      return false;
    }
    // A burst must not overflow the kernel's default 208 KiB UDP buffer: loss there costs
    // retransmissions (measured in tests/load). The kernel caps it at net.core.rmem_max.
    if (nta_agent_add_tport(agent_, URL_STRING_MAKE(url.c_str()),
                            TPTAG_UDP_RMEM(config_.udp_buffer_bytes),
                            TPTAG_UDP_WMEM(config_.udp_buffer_bytes), TAG_END()) < 0) {
      error = "cannot listen on " + config::transportName(l.transport) + ":" + l.host + ":" +
              std::to_string(l.port) + ": " + std::strerror(errno);
      nta_agent_destroy(agent_);
      agent_ = nullptr;
      return false;
    }
    own_.emplace_back(l.host, std::to_string(l.port));
    // RFC 3261 §16.6 item 4: our Record-Route, one per transport so the far end reaches us
    // on the transport the dialog uses (a worker's: its private port, added first).
    std::string rr = "<sip:" + hostForUri(l.host) + ":" + std::to_string(l.port) +
                     (l.transport == config::Transport::Tcp ? ";transport=tcp" : "") + ";lr>";
    if (l.transport == config::Transport::Tcp) {
      if (rr_tcp_.empty()) rr_tcp_ = rr;
    } else if (rr_udp_.empty()) {
      rr_udp_ = rr;
    }
  }
  if (rr_udp_.empty()) rr_udp_ = rr_tcp_;
  if (rr_tcp_.empty()) rr_tcp_ = rr_udp_;
  prober_ = std::make_unique<Prober>(agent_, root, probeConfig(config_.probe),
                                     "sip:switchboard@" + hostForUri(config_.listen.front().host) +
                                         ":" + std::to_string(config_.listen.front().port),
                                     metrics_, [](const Prober::StateChange&) {});
  sweep_timer_ = su_timer_create(su_root_task(root), 1000);
  su_timer_set_for_ever(sweep_timer_, &CallbackAccess::sweep,
                        reinterpret_cast<su_timer_arg_t*>(this));
  return true;
}

void Proxy::shutdown() {
  prober_.reset();
  if (sweep_timer_) {
    su_timer_destroy(sweep_timer_);
    sweep_timer_ = nullptr;
  }
  for (auto& [branch, invite] : ack_bases_) msg_destroy(invite);
  ack_bases_.clear();
  ack_base_order_.clear();
  if (agent_) {
    nta_agent_destroy(agent_);
    agent_ = nullptr;
  }
}

bool Proxy::floodAdmit(const std::string& source) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
  auto it = flood_.find(source);
  if (it == flood_.end()) {
    it = flood_.emplace(source, core::TokenBucket(config_.flood_rate, config_.flood_burst, now))
             .first;
  }
  return it->second.take(now);
}

void Proxy::reconfigure(const config::SipConfig& config) {
  auto listen = config_.listen;
  config_ = config;
  config_.listen = listen;
  retry_after_ = std::to_string(config_.retry_after_s);
  server_ = config_.server_name;
  flood_.clear();  // new rates apply to fresh buckets
  if (prober_) prober_->setDefaults(probeConfig(config_.probe));
}

void Proxy::setSnapshot(std::shared_ptr<const RoutingSnapshot> snapshot) {
  snapshot_ = std::move(snapshot);
  // Admission state (admin state, calls held, rate buckets) carries over by trunk name.
  admission_.applyTrunks(snapshot_->table->trunks(), monoMs());
  health_.assign(snapshot_->table->trunks().size(), core::HealthState::Unknown);
  if (prober_) prober_->apply(*snapshot_);  // health carries over by trunk name
}

const std::vector<core::HealthState>& Proxy::healthStates() const {
  return prober_ ? prober_->states() : health_;
}

void Proxy::callTransportError(core::TrunkIndex trunk) {
  if (prober_) prober_->callTransportError(trunk, "transport error on a call");
}

bool Proxy::setAdminState(const std::string& trunk, core::AdminState state) {
  return admission_.setAdminState(trunk, state);
}

void Proxy::setCallsElsewhere(const std::string& trunk, std::uint32_t calls) {
  admission_.setCallsElsewhere(trunk, calls);
}

void Proxy::setInstances(std::size_t instances) { admission_.setInstances(instances, monoMs()); }

std::unordered_map<std::string, std::uint32_t> Proxy::localCalls() const {
  std::unordered_map<std::string, std::uint32_t> out;
  if (!snapshot_) return out;
  for (const auto& t : snapshot_->table->trunks()) out[t.name] = admission_.activeCalls(t.index);
  return out;
}

bool Proxy::trunksJson(const std::string& name, std::string& out) const {
  if (!snapshot_) return false;
  auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  bool found = false;
  std::string items;
  for (const auto& t : snapshot_->table->trunks()) {
    if (!name.empty() && t.name != name) continue;
    found = true;
    const core::TrunkAdmission* a = admission_.trunk(t.index);
    const auto& states = healthStates();
    core::HealthState h = t.index < states.size() ? states[t.index] : core::HealthState::Unknown;
    const core::HealthStatus* hs = prober_ ? prober_->status(t.name) : nullptr;
    std::string probe =
        ",\"probe_rtt_ms\":" +
        (hs && hs->last_rtt_ms ? std::to_string(*hs->last_rtt_ms) : std::string("null")) +
        ",\"health_reason\":" + core::jsonString(hs ? hs->last_failure : "") +
        ",\"last_change_ms\":" + (hs ? std::to_string(hs->changed_at_ms) : "null");
    core::WindowTotals w;
    if (auto it = windows_.find(t.name); it != windows_.end()) w = it->second.totals(now_unix);
    char region[16];
    std::snprintf(region, sizeof region, "%06u", t.region);
    char province[16];
    std::snprintf(province, sizeof province, "%06u", core::provinceOf(t.region));
    std::string item =
        "{\"name\":" + core::jsonString(t.name) +
        ",\"display_name\":" + core::jsonString(t.display_name) + ",\"region\":\"" + region +
        "\",\"province\":\"" + province + "\"" +
        ",\"target\":" + core::jsonString(t.targets.empty() ? "" : t.targets.front()) +
        ",\"health\":\"" + std::string(core::healthStateName(h)) + "\"" + probe + ",\"admin\":\"" +
        std::string(core::adminStateName(a ? a->admin : core::AdminState::Enabled)) +
        "\",\"open_now\":" + (t.openAt(now_unix) ? "true" : "false") +
        ",\"active_calls\":" + std::to_string(a ? a->active : 0) +
        ",\"calls_elsewhere\":" + std::to_string(a ? a->elsewhere : 0) +
        ",\"capacity\":" + std::to_string(t.capacity) + ",\"cps\":" + std::to_string(t.cps) +
        ",\"last_15m\":{\"offered\":" + std::to_string(w.offered) +
        ",\"answered\":" + std::to_string(w.answered) +
        ",\"answered_20s\":" + std::to_string(w.answered_20s) + "}}";
    if (!items.empty()) items += ",";
    items += item;
  }
  if (!found) return false;
  if (!name.empty()) {
    out = items;
  } else {
    out = "{\"table_version\":" + std::to_string(snapshot_->table->version()) + ",\"trunks\":[" +
          items + "]}";
  }
  return true;
}

const char* Proxy::recordRouteFor(bool tcp) const {
  return tcp ? rr_tcp_.c_str() : rr_udp_.c_str();
}

bool Proxy::isOwnUri(const void* p) const {
  auto* url = static_cast<const url_t*>(p);
  if (!url || !url->url_host) return false;
  std::string_view host = url->url_host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::string_view port = portOr5060(url->url_port);
  for (const auto& [h, pt] : own_) {
    if (host == h && port == pt) return true;
  }
  return false;
}

bool Proxy::isOwnVia(const void* p) const {
  auto* via = static_cast<const sip_via_t*>(p);
  if (!via || !via->v_host) return false;
  std::string_view host = via->v_host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::string_view port = portOr5060(via->v_port);
  for (const auto& [h, pt] : own_) {
    if (host == h && port == pt) return true;
  }
  return false;
}

// RFC 3261 §16.4: remove the Route entries that name us.
bool Proxy::popOwnRoutes(msg_t* msg, sip_t* sip) const {
  bool popped = false;
  while (sip->sip_route && isOwnUri(sip->sip_route->r_url)) {
    sip_route_remove(msg, sip);
    popped = true;
  }
  return popped;
}

// Loop detection (RFC 3261 §16.3 item 4, adapted): our branch carries a hash of what
// identifies this request at this hop. A request that comes back with one of our Vias
// carrying the same hash is a loop; one with a different hash is a spiral.
std::uint64_t Proxy::loopHash(sip_t const* sip) const {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  mix(sv(sip->sip_call_id ? sip->sip_call_id->i_id : nullptr));
  mix(sv(sip->sip_from ? sip->sip_from->a_tag : nullptr));
  mix(std::to_string(sip->sip_cseq ? sip->sip_cseq->cs_seq : 0));
  mix(sv(sip->sip_request->rq_url->url_user));
  return h;
}

bool Proxy::looped(sip_t const* sip, std::uint64_t hash) const {
  char mark[40];
  std::snprintf(mark, sizeof mark, "z9hG4bK-sb%016llx", static_cast<unsigned long long>(hash));
  for (sip_via_t const* v = sip->sip_via; v; v = v->v_next) {
    if (v->v_branch && std::strncmp(v->v_branch, mark, std::strlen(mark)) == 0 && isOwnVia(v)) {
      return true;
    }
  }
  return false;
}

int Proxy::onMessage(msg_t* msg, sip_t* sip) {
  try {
    if (!sip || (!sip->sip_request && !sip->sip_status)) {
      msg_destroy(msg);
      return 0;
    }
    if (sip->sip_status) {
      onStrayResponse(msg, sip);
    } else {
      onRequest(msg, sip);
    }
  } catch (const std::exception& e) {
    // style: no exception crosses a Sofia callback.
    if (g_drop_log.admit() >= 0) {
      SB_LOG(log::Level::Error, log::Line("sip_internal_error").kv("what", e.what()));
    }
  }
  return 0;
}

// RFC 3261 §16.11: a response with no transaction (a 2xx retransmission after ours ended)
// is forwarded statelessly by its Via, if the top Via is ours.
void Proxy::onStrayResponse(msg_t* msg, sip_t* sip) {
  // Responses to our INVITE attempts after their transaction was released (Proxy::detach),
  // and late finals of ended attempts: never relayed as they are, except a 2xx of an ended
  // attempt (below). Our branches start with the prefix forwardToTrunk gives them.
  if (sip->sip_cseq && sip->sip_cseq->cs_method == sip_method_invite && sip->sip_via &&
      sip->sip_via->v_branch && std::strncmp(sip->sip_via->v_branch, "z9hG4bK-sb", 10) == 0 &&
      isOwnVia(sip->sip_via) &&
      (sip->sip_status->st_status >= 300 || sip->sip_status->st_status < 200 ||
       branches_.contains(sip->sip_via->v_branch))) {
    onDetachedResponse(msg, sip);
    return;
  }
  if (!sip->sip_via || !isOwnVia(sip->sip_via) || !sip->sip_via->v_next) {
    msg_destroy(msg);
    return;
  }
  metrics_.response(sip->sip_status->st_status);
  nta_msg_tsend(agent_, msg, nullptr, TAG_END());
}

void Proxy::rejectStateless(msg_t* msg, int status, const char* phrase, const char* reason,
                            metrics::Reject counted, bool with_decision) {
  sip_t const* sip = sip_object(msg);
  if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_invite &&
      !(sip->sip_to && sip->sip_to->a_tag)) {
    recordRejected(msg, sip, status, counted, with_decision);
  }
  metrics_.reject(counted);
  metrics_.response(status);
  if (!reason) {
    nta_msg_treply(agent_, msg, status, phrase, SIPTAG_SERVER_STR(server_.c_str()),
                   TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR(retry_after_.c_str())), TAG_END());
    return;
  }
  char warning[160];
  std::snprintf(warning, sizeof warning, "399 switchboard \"%s\"", reason);
  char reason_hdr[200];
  std::snprintf(reason_hdr, sizeof reason_hdr, "SIP;cause=%d;text=\"%s\"", status, reason);
  nta_msg_treply(agent_, msg, status, phrase, SIPTAG_WARNING_STR(warning),
                 SIPTAG_REASON_STR(reason_hdr), SIPTAG_SERVER_STR(server_.c_str()),
                 TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR(retry_after_.c_str())), TAG_END());
}

void Proxy::onRequest(msg_t* msg, sip_t* sip) {
  sip_method_t method = sip->sip_request->rq_method;
  metrics_.request(metrics::methodFromName(sv(sip->sip_request->rq_method_name)));

  if (method == sip_method_ack) {
    forwardAck(msg, sip);
    return;
  }
  // SPEC §9: requests missing a mandatory header get 400, not silence (nta answers most of
  // these; this is the net under it).
  if (!sip->sip_call_id || !sip->sip_from || !sip->sip_to || !sip->sip_cseq || !sip->sip_via) {
    rejectStateless(msg, 400, "Missing Mandatory Header", "missing mandatory header",
                    metrics::Reject::Malformed);
    return;
  }
  if (method == sip_method_cancel) {
    // nta matched no INVITE transaction for it.
    metrics_.response(481);
    nta_msg_treply(agent_, msg, SIP_481_NO_TRANSACTION, SIPTAG_SERVER_STR(server_.c_str()),
                   TAG_END());
    return;
  }
  url_t const* ruri = sip->sip_request->rq_url;
  if (ruri->url_type != url_sip && ruri->url_type != url_sips) {
    rejectStateless(msg, 416, "Unsupported URI Scheme", "only sip: and sips: are routed",
                    metrics::Reject::Unsupported);
    return;
  }
  if (hasControlChars(ruri->url_user) || hasControlChars(ruri->url_host)) {
    rejectStateless(msg, 400, "Bad Request-URI", "control character in Request-URI",
                    metrics::Reject::Malformed);
    return;
  }
  // RFC 3261 §16.3 item 3: Max-Forwards. OPTIONS with 0 may be answered by us.
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0 &&
      method != sip_method_options) {
    rejectStateless(msg, 483, "Too Many Hops", "Max-Forwards exhausted",
                    metrics::Reject::TooManyHops);
    return;
  }
  // SPEC §9: an unsupported Proxy-Require gets 420 naming it.
  if (sip->sip_proxy_require) {
    if (method == sip_method_invite && !(sip->sip_to && sip->sip_to->a_tag)) {
      recordRejected(msg, sip, 420, metrics::Reject::Unsupported, false);
    }
    metrics_.reject(metrics::Reject::Unsupported);
    metrics_.response(420);
    nta_msg_treply(agent_, msg, SIP_420_BAD_EXTENSION,
                   SIPTAG_UNSUPPORTED(reinterpret_cast<sip_unsupported_t*>(sip->sip_proxy_require)),
                   SIPTAG_SERVER_STR(server_.c_str()), TAG_END());
    return;
  }

  bool in_dialog = sip->sip_to && sip->sip_to->a_tag;
  if (!in_dialog) {
    // style.md pipeline: limits (size and Max-Forwards above, loop here) -> source (ACL) ->
    // rate, before anything is routed.
    if (method == sip_method_invite && looped(sip, loopHash(sip))) {
      rejectStateless(msg, 482, "Loop Detected", "request looped back to the gateway",
                      metrics::Reject::Loop);
      return;
    }
    std::string source = sourceAddress(msg);
    if (config_.source_acl && snapshot_ && !snapshot_->table->trunkBySource(source)) {
      // SPEC §9: 403 before any routing, saying nothing a scanner could learn from.
      if (g_drop_log.admit() >= 0) {
        SB_LOG(log::Level::Warn, log::Line("acl_reject").kv("source", source));
      }
      rejectStateless(msg, 403, "Forbidden", nullptr, metrics::Reject::Acl);
      return;
    }
    if (!floodAdmit(source)) {
      rejectStateless(msg, 503, "Service Unavailable", nullptr, metrics::Reject::RateLimit);
      return;
    }
  }
  if (in_dialog) {
    if (method == sip_method_invite) {
      forwardStateful(msg, sip);
    } else {
      forwardStateless(msg, sip);
    }
    return;
  }
  switch (method) {
    case sip_method_invite:
      newCall(msg, sip);
      return;
    case sip_method_options:
      // Addressed to the gateway (no Route onward): it is alive. RFC 3261 §11.
      metrics_.response(200);
      nta_msg_treply(
          agent_, msg, SIP_200_OK,
          SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, REFER, NOTIFY, PRACK"),
          SIPTAG_ACCEPT_STR("application/sdp"), SIPTAG_SERVER_STR(server_.c_str()), TAG_END());
      return;
    default:
      metrics_.reject(metrics::Reject::Unsupported);
      metrics_.response(405);
      nta_msg_treply(
          agent_, msg, SIP_405_METHOD_NOT_ALLOWED,
          SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, REFER, NOTIFY, PRACK"),
          SIPTAG_SERVER_STR(server_.c_str()), TAG_END());
      return;
  }
}

// ACK for a 2xx (ACK for non-2xx is absorbed by nta's server transaction): forward
// statelessly along the Route set. An ACK for one of our own stateless rejections is
// addressed to us with nothing beyond: absorb it.
void Proxy::forwardAck(msg_t* msg, sip_t* sip) {
  popOwnRoutes(msg, sip);
  if (!sip->sip_route && isOwnUri(sip->sip_request->rq_url)) {
    msg_destroy(msg);
    return;
  }
  if (!sip->sip_route && !(sip->sip_to && sip->sip_to->a_tag)) {
    msg_destroy(msg);
    return;
  }
  if (sip->sip_max_forwards) {
    if (sip->sip_max_forwards->mf_count == 0) {
      msg_destroy(msg);
      return;
    }
    sip->sip_max_forwards->mf_count--;
    msg_fragment_clear(sip->sip_max_forwards->mf_common);
  }
  nta_msg_tsend(agent_, msg, nullptr, TAG_END());
}

// In-dialog requests other than re-INVITE (BYE, UPDATE, INFO, REFER, NOTIFY, PRACK...):
// forwarded statelessly along their Route set (RFC 3261 §16.11), their responses coming back
// through onStrayResponse by our stateless Via. Retransmissions are the endpoints' business,
// exactly as for the ACK of a 2xx. Issue 7: a stateful relay kept ~11 KB per call for
// 64×T1 (32 s, Timer J of the BYE server transaction) for nothing a proxy needs.
void Proxy::forwardStateless(msg_t* msg, sip_t* sip) {
  popOwnRoutes(msg, sip);
  if (!sip->sip_route && isOwnUri(sip->sip_request->rq_url)) {
    // Nothing beyond us: the dialog is not one we can route (or it is for us).
    metrics_.response(481);
    nta_msg_treply(agent_, msg, SIP_481_NO_TRANSACTION, SIPTAG_SERVER_STR(server_.c_str()),
                   TAG_END());
    return;
  }
  if (sip->sip_max_forwards) {
    sip->sip_max_forwards->mf_count--;
    msg_fragment_clear(sip->sip_max_forwards->mf_common);
  } else {
    msg_header_add_make(msg, reinterpret_cast<msg_pub_t*>(sip), sip_max_forwards_class, "70");
  }
  if (sip->sip_request->rq_method == sip_method_bye && sip->sip_call_id) {
    // The caller's BYE carries the caller's tag in From; the called side's in To. The call
    // ends when its first BYE passes (a retransmission finds nothing left to end).
    std::string call_id = sip->sip_call_id->i_id;
    auto why = records::EndReason::CallerBye;
    auto it = established_.find(call_id);
    if (it != established_.end() && sip->sip_from && sip->sip_from->a_tag &&
        it->second.caller_tag != sip->sip_from->a_tag) {
      why = records::EndReason::CalleeBye;
    }
    callEnded(call_id, why);
  }
  // A next hop that cannot be reached drops the request (nta frees it); the endpoint's own
  // retransmission and timeout take over, as they would behind any stateless proxy.
  nta_msg_tsend(agent_, msg, nullptr, TAG_END());
}

// re-INVITEs, and anything else carrying a To tag that is not handled statelessly: routed
// by their Route headers, or their Request-URI when none is left, with a transaction (100
// Trying upstream, CANCEL carried downstream).
void Proxy::forwardStateful(msg_t* msg, sip_t* sip) {
  nta_incoming_t* irq = nta_incoming_create(agent_, nullptr, msg, sip, TAG_END());
  if (!irq) return;
  msg_t* original = nta_incoming_getrequest(irq);
  msg_t* fwd = msg_dup(original);  // not msg_copy: a copy keeps the original alive with it
  msg_destroy(original);
  sip_t* fsip = fwd ? sip_object(fwd) : nullptr;
  if (!fsip) {
    if (fwd) msg_destroy(fwd);
    metrics_.response(500);
    nta_incoming_treply(irq, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
    nta_incoming_destroy(irq);
    return;
  }
  popOwnRoutes(fwd, fsip);
  if (!fsip->sip_route && isOwnUri(fsip->sip_request->rq_url)) {
    // Nothing beyond us: the dialog is not one we can route (or it is for us).
    msg_destroy(fwd);
    metrics_.response(481);
    nta_incoming_treply(irq, SIP_481_NO_TRANSACTION, SIPTAG_SERVER_STR(server_.c_str()), TAG_END());
    nta_incoming_destroy(irq);
    return;
  }
  if (fsip->sip_max_forwards) {
    fsip->sip_max_forwards->mf_count--;
    msg_fragment_clear(fsip->sip_max_forwards->mf_common);
  } else {
    msg_header_add_make(fwd, reinterpret_cast<msg_pub_t*>(fsip), sip_max_forwards_class, "70");
  }
  auto* relay = new Relay{this, irq, nullptr};
  nta_incoming_treply(irq, SIP_100_TRYING, TAG_END());
  nta_incoming_bind(irq, &CallbackAccess::relayCancel,
                    reinterpret_cast<nta_incoming_magic_t*>(relay));
  ++relays_;
  relay->orq = nta_outgoing_mcreate(agent_, &CallbackAccess::relayResponse,
                                    reinterpret_cast<nta_outgoing_magic_t*>(relay), nullptr, fwd,
                                    NTATAG_PASS_100(0), TAG_END());
  if (!relay->orq) {
    --relays_;
    msg_destroy(fwd);
    metrics_.response(502);
    nta_incoming_treply(irq, 502, "Bad Gateway", SIPTAG_SERVER_STR(server_.c_str()), TAG_END());
    nta_incoming_destroy(irq);
    delete relay;
  }
}

void Proxy::releaseServerTransaction(void* p) {
  auto* irq = static_cast<nta_incoming_t*>(p);
  if (nta_incoming_method(irq) == sip_method_invite && nta_incoming_status(irq) >= 300) {
    nta_incoming_bind(irq, &CallbackAccess::tailAck, reinterpret_cast<nta_incoming_magic_t*>(this));
    return;
  }
  nta_incoming_destroy(irq);
}

void Proxy::callEstablished(Call& call, metrics::TrunkHandles* handles) {
  Established e;
  e.handles = handles;
  e.origin_metrics = call.origin_metrics;
  e.leg = call.serial;
  e.answered_at = std::chrono::steady_clock::now();
  e.caller_tag = std::move(call.caller_tag);
  e.invite_cseq = call.invite_cseq;
  e.rec = std::move(call.rec);
  std::string id = e.rec.call_id;
  established_.emplace(std::move(id), std::move(e));
  // The call moves from in progress to established: its origin stays occupied.
  call.origin_metrics = nullptr;
  updateGauges();
}

bool Proxy::answeredInvite(sip_t const* sip) const {
  if (established_.empty() || !sip->sip_call_id || !sip->sip_cseq) return false;
  auto range = established_.equal_range(std::string_view(sip->sip_call_id->i_id));
  for (auto it = range.first; it != range.second; ++it) {
    const Established& e = it->second;
    if (e.invite_cseq == sip->sip_cseq->cs_seq && sip->sip_from && sip->sip_from->a_tag &&
        e.caller_tag == sip->sip_from->a_tag) {
      return true;
    }
  }
  return false;
}

void Proxy::callEnded(const std::string& call_id, records::EndReason why) {
  auto it = established_.find(call_id);
  if (it == established_.end()) return;
  endEstablished(it->second, why);
}

// An answered call ends (BYE, max duration, shutdown): capacity back, metrics, its record.
void Proxy::endEstablished(Established& e, records::EndReason why) {
  admission_.release(e.leg);
  double duration =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - e.answered_at).count();
  if (e.handles) {
    e.handles->active->Decrement();
    e.handles->duration->Observe(duration);
  }
  if (e.origin_metrics) {
    e.origin_metrics->in_active->Decrement();
    e.origin_metrics->in_duration->Observe(duration);
  }
  e.rec.t_end = unixMs();
  e.rec.result = records::Result::Answered;
  e.rec.fail_reason = records::FailReason::None;
  e.rec.end_reason = why;
  emitRecord(e.rec, e.origin_metrics);
  // `e` lives in established_: find it by address (a Call-ID may repeat in a spiral).
  auto range = established_.equal_range(e.rec.call_id);
  for (auto it = range.first; it != range.second; ++it) {
    if (&it->second == &e) {
      established_.erase(it);
      break;
    }
  }
  updateGauges();
}

// The safety net (SPEC §4 via issue: maximum call duration): an established call whose
// BYE never crossed us (a peer died) stops counting after max_call_duration_s.
void Proxy::sweepEstablished() {
  auto limit = std::chrono::seconds(config_.max_call_duration_s);
  auto now = std::chrono::steady_clock::now();
  // Forget flood buckets that are full again (bounded memory under a spoofed-source flood).
  auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  for (auto it = flood_.begin(); it != flood_.end();) {
    it = it->second.idle(now_ms) ? flood_.erase(it) : std::next(it);
  }
  std::vector<Established*> expired;
  for (auto& [id, e] : established_) {
    if (now - e.answered_at >= limit) expired.push_back(&e);
  }
  for (Established* e : expired) {
    SB_LOG(log::Level::Warn, log::Line("call_max_duration").kv("call_id", e->rec.call_id));
    endEstablished(*e, records::EndReason::MaxDuration);
  }
  recentlyRejected(nullptr);  // expire old entries
  updateTrunkGauges();
}

void Proxy::setRecordSink(std::function<void(std::string)> sink, std::string instance) {
  record_sink_ = std::move(sink);
  instance_ = std::move(instance);
}

void Proxy::emitRecord(const records::CallRecord& rec, metrics::TrunkHandles* origin) {
  auto result = static_cast<metrics::CallResult>(rec.result);
  metrics_.callRecorded(result);
  if (origin) origin->in_calls[static_cast<std::size_t>(result)]->Increment();
  if (record_sink_) record_sink_(records::encode(rec, instance_));
}

namespace {
records::FailReason failReasonOf(metrics::Reject r) {
  switch (r) {
    case metrics::Reject::Acl:
      return records::FailReason::Acl;
    case metrics::Reject::RateLimit:
      return records::FailReason::RateLimit;
    case metrics::Reject::Malformed:
      return records::FailReason::Malformed;
    case metrics::Reject::NoRoute:
      return records::FailReason::NoRoute;
    case metrics::Reject::Loop:
      return records::FailReason::Loop;
    case metrics::Reject::Capacity:
      return records::FailReason::Capacity;
    case metrics::Reject::TooManyHops:
      return records::FailReason::MaxForwards;
    case metrics::Reject::Unsupported:
      return records::FailReason::Unsupported;
    case metrics::Reject::Shutdown:
      return records::FailReason::Shutdown;
    case metrics::Reject::Unavailable:
      return records::FailReason::Unavailable;
    default:
      return records::FailReason::Rejected;
  }
}
}  // namespace

void Proxy::recordRejected(msg_t* msg, sip_t const* sip, int status, metrics::Reject counted,
                           bool with_decision) {
  if (recentlyRejected(sip)) return;
  records::CallRecord rec;
  if (sip->sip_call_id && sip->sip_call_id->i_id) rec.call_id = sip->sip_call_id->i_id;
  rec.source = sourceAddress(msg);
  metrics::TrunkHandles* origin_metrics = nullptr;
  if (snapshot_) {
    const core::RoutingTable& table = *snapshot_->table;
    if (const core::Trunk* origin = table.trunkBySource(rec.source)) {
      rec.origin = origin->name;
      origin_metrics =
          snapshot_->trunk_metrics[static_cast<std::size_t>(origin - table.trunks().data())];
    }
  }
  rec.dialled = records::dialledText(sv(sip->sip_request->rq_url->url_user));
  rec.caller = records::maskCaller(callerNumber(sip));
  if (with_decision && decision_.rejected_at == core::DecisionStage::Candidates) {
    // A route was found but none of its trunks could take the call.
    rec.region = decision_.region;
    rec.routed = true;
    rec.level = decision_.found.level;
    if (decision_.topic_status == core::TopicStatus::Valid) {
      rec.topic = std::string(core::topicText(decision_.topic).view());
    }
  }
  rec.t_invite = rec.t_end = unixMs();
  rec.code = status;
  rec.result = records::Result::Failed;
  rec.fail_reason = failReasonOf(counted);
  rec.end_reason = records::EndReason::Rejected;
  emitRecord(rec, origin_metrics);
}

// A retransmission carries the same Call-ID, From tag, CSeq and top Via branch. Entries
// live 64*T1 (Timer B/F: how long a client retransmits); the set is bounded.
bool Proxy::recentlyRejected(sip_t const* sip) {
  constexpr std::size_t kMaxEntries = 100000;
  std::int64_t now = monoMs();
  while (!recent_reject_order_.empty() &&
         (recent_reject_order_.front().first <= now || recent_reject_order_.size() > kMaxEntries)) {
    auto [expiry, key] = recent_reject_order_.front();
    recent_reject_order_.pop_front();
    auto it = recent_rejects_.find(key);
    if (it != recent_rejects_.end() && it->second == expiry) recent_rejects_.erase(it);
  }
  if (!sip) return false;
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view text) {
    for (unsigned char c : text) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  mix(sv(sip->sip_call_id ? sip->sip_call_id->i_id : nullptr));
  mix(sv(sip->sip_from ? sip->sip_from->a_tag : nullptr));
  mix(std::to_string(sip->sip_cseq ? sip->sip_cseq->cs_seq : 0));
  mix(sv(sip->sip_via ? sip->sip_via->v_branch : nullptr));
  if (recent_rejects_.contains(h)) return true;
  std::int64_t expiry = now + 64 * static_cast<std::int64_t>(config_.t1_ms);
  recent_rejects_[h] = expiry;
  recent_reject_order_.emplace_back(expiry, h);
  return false;
}

void Proxy::updateTrunkGauges() {
  if (agent_) {
    usize_t server = 0, client = 0;
    nta_agent_get_stats(agent_, NTATAG_S_IRQ_HASH_USED_REF(server),
                        NTATAG_S_ORQ_HASH_USED_REF(client), TAG_END());
    metrics_.transactions(static_cast<double>(server), static_cast<double>(client));
  }
  if (!snapshot_) return;
  const auto& trunks = snapshot_->table->trunks();
  const auto& health = healthStates();
  for (std::size_t i = 0; i < trunks.size(); ++i) {
    metrics::TrunkHandles* h = snapshot_->trunk_metrics[i];
    std::size_t state = i < health.size() ? static_cast<std::size_t>(health[i]) : 0;
    for (std::size_t k = 0; k < h->state.size(); ++k) h->state[k]->Set(k == state ? 1 : 0);
    const core::TrunkAdmission* a = admission_.trunk(static_cast<core::TrunkIndex>(i));
    std::size_t admin = static_cast<std::size_t>(a ? a->admin : core::AdminState::Enabled);
    for (std::size_t k = 0; k < h->admin_state.size(); ++k) {
      h->admin_state[k]->Set(k == admin ? 1 : 0);
    }
    h->capacity->Set(trunks[i].capacity);
  }
}

void Proxy::updateGauges() {
  metrics_.callsInProgress(static_cast<double>(in_progress_));
  metrics_.activeCalls(static_cast<double>(in_progress_ + established_.size()));
}

}  // namespace sb::sip
