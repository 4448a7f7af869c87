// Trunk health probing over nta: OPTIONS out, results into core::TrunkHealth, its actions
// performed in order. SPEC §4; RFC 3261 §11 (OPTIONS), §17.1.2 (non-INVITE client
// transaction), §18.4 (ICMP errors reported to the transaction).
#include "sip/prober.hpp"

#include <sofia-sip/msg.h>

#include <cerrno>
#include <chrono>
#include <system_error>
#include <utility>
#include <variant>

#include "log/log.hpp"
#include "sip/sofia.hpp"

namespace sb::sip {

struct Prober::Probe {
  Prober* prober = nullptr;
  std::string name;
  core::TrunkIndex index = 0;
  TrunkTarget target;
  std::string request_uri;         // built from `target`: "sip:[user@]host[:port][;transport=x]"
  std::string to;                  // "<sip:[user@]host[:port]>"
  std::string where;               // "udp 10.0.2.1:5060", for failure reasons
  core::ProbeOverrides overrides;  // the trunk's own settings from the routing table
  std::string adjusted;            // why its settings were fitted, as last logged
  core::TrunkHealth health;
  metrics::TrunkHandles* handles = nullptr;
  su_timer_t* next_timer = nullptr;     // ArmNextProbe -> TimerFired
  su_timer_t* timeout_timer = nullptr;  // ArmTimeout -> ProbeTimedOut
  nta_outgoing_t* orq = nullptr;        // the outstanding probe's transaction
  std::uint32_t cseq = 0;
  std::chrono::steady_clock::time_point sent_at;
  // A final response delivered while nta_outgoing_mcreate runs is handled once it has
  // returned and the probe is known to have left (nta normally defers these itself).
  bool in_create = false;
  int deferred_status = 0;
  bool deferred_local = false;
  std::string deferred_error;
};

namespace {

std::int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string hostForUri(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// The probe's addresses from the trunk's first target, as parsed for calls.
void describeTarget(Prober::Probe& probe) {
  const TrunkTarget& t = probe.target;
  if (!t.valid) {
    probe.request_uri.clear();
    probe.to.clear();
    probe.where = "no valid target";
    return;
  }
  std::string base = std::string(t.secure ? "sips:" : "sip:") +
                     (t.user.empty() ? "" : t.user + "@") + hostForUri(t.host) +
                     (t.port.empty() ? "" : ":" + t.port);
  probe.request_uri = base + (t.transport.empty() ? "" : ";transport=" + t.transport);
  probe.to = "<" + base + ">";
  const std::string transport =
      !t.transport.empty() ? t.transport : (t.secure ? std::string("tls") : std::string("udp"));
  probe.where = transport + " " + hostForUri(t.host) + ":" +
                (t.port.empty() ? std::string(t.secure ? "5061" : "5060") : t.port);
}

// Why nta answered a probe with its own 503: the errno tport reported on the request
// (RFC 3261 §18.4: ICMP port unreachable, connection refused or reset, TLS failure).
std::string transportFailure(nta_outgoing_t* orq, const Prober::Probe& probe, sip_t const* sip) {
  int err = 0;
  if (msg_t* request = nta_outgoing_getrequest(orq)) {  // a new reference
    err = msg_errno(request);
    msg_destroy(request);
  }
  std::string what;
  if (err != 0) {
    what = std::system_category().message(err);
    const bool datagram = probe.where.rfind("udp ", 0) == 0;
    if (err == ECONNREFUSED && datagram) what += " (ICMP port unreachable)";
  } else {
    what = "local 503";
    if (sip && sip->sip_status && sip->sip_status->st_phrase) {
      what += " " + std::string(sip->sip_status->st_phrase);
    }
  }
  return what + " to " + probe.where;
}

}  // namespace

struct ProberCallbacks {
  static int response(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip) {
    auto* probe = reinterpret_cast<Prober::Probe*>(magic);
    const int status =
        sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
    // RFC 3261 §17.1.2.2: a provisional response leaves the probe waiting for its final one.
    if (status < 200) return 0;
    // SPEC §4: a locally generated response is never proof of life. nta's 503 means the
    // request could not be delivered: a transport error, a miss at once.
    const bool local = sip == nullptr || nta_sip_is_internal(sip);
    try {
      const std::string error = local && status == 503 ? transportFailure(orq, *probe, sip) : "";
      probe->prober->onFinal(*probe, status, local, error);
    } catch (...) {  // style.md: no exception crosses a Sofia callback
    }
    return 0;
  }
  static void timeout(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
    auto* probe = reinterpret_cast<Prober::Probe*>(arg);
    try {
      probe->prober->onTimeout(*probe);
    } catch (...) {
    }
  }
  static void next(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
    auto* probe = reinterpret_cast<Prober::Probe*>(arg);
    try {
      probe->prober->onNextProbe(*probe);
    } catch (...) {
    }
  }
};

Prober::Prober(nta_agent_t* agent, su_root_t* root, core::ProbeConfig defaults,
               std::string from_uri, metrics::Metrics& metrics, OnChange on_change)
    : agent_(agent),
      root_(root),
      defaults_(std::move(defaults)),
      from_uri_(std::move(from_uri)),
      metrics_(metrics),
      on_change_(std::move(on_change)),
      random_(std::random_device{}()) {}

Prober::~Prober() {
  for (auto& [name, probe] : probes_) destroy(*probe);
}

void Prober::destroy(Probe& probe) {
  dropTransaction(probe);
  if (probe.timeout_timer) su_timer_destroy(probe.timeout_timer);
  if (probe.next_timer) su_timer_destroy(probe.next_timer);
  probe.timeout_timer = nullptr;
  probe.next_timer = nullptr;
}

std::vector<std::uint32_t> Prober::firstDelays(const std::vector<core::ProbeConfig>& configs) {
  // SPEC §4 / issue 5: 350 trunks must not be probed in one burst; each trunk's first probe
  // falls within its own interval (disabled trunks: 0, never armed).
  std::vector<std::uint32_t> intervals;
  intervals.reserve(configs.size());
  for (const core::ProbeConfig& config : configs) intervals.push_back(config.interval_ms);
  return core::spreadFirstProbes(intervals, random_());
}

core::ProbeConfig Prober::resolve(Probe& probe) {
  std::string adjusted;
  core::ProbeConfig config = core::resolveProbeConfig(defaults_, probe.overrides, &adjusted);
  // Said once per change, not at every reload: a trunk's short interval with the gateway's
  // longer timeout.
  if (adjusted != probe.adjusted) {
    probe.adjusted = adjusted;
    if (!adjusted.empty()) {
      SB_LOG(log::Level::Warn,
             log::Line("probe_settings").kv("trunk", probe.name).kv("adjusted", adjusted));
    }
  }
  return config;
}

const core::ProbeConfig* Prober::config(std::string_view trunk) const {
  auto it = probes_.find(trunk);
  return it == probes_.end() ? nullptr : &it->second->health.config();
}

void Prober::apply(const RoutingSnapshot& snapshot) {
  const auto& trunks = snapshot.table->trunks();
  const std::int64_t now = wallMs();

  // Removed trunks stop first: their timers and transactions go with them.
  for (auto it = probes_.begin(); it != probes_.end();) {
    if (snapshot.table->findTrunk(it->first) == nullptr) {
      destroy(*it->second);
      it = probes_.erase(it);
    } else {
      ++it;
    }
  }

  // Index the new table before anything is reported, so states() matches it.
  by_index_.assign(trunks.size(), nullptr);
  states_.assign(trunks.size(), core::HealthState::Unknown);
  // SPEC §4: each trunk's own probe settings over the gateway-wide ones.
  std::vector<Probe*> probes;
  probes.reserve(trunks.size());
  std::vector<core::ProbeConfig> configs;
  configs.reserve(trunks.size());
  std::vector<bool> fresh(trunks.size(), false);
  for (const core::Trunk& trunk : trunks) {
    auto it = probes_.find(trunk.name);
    if (it == probes_.end()) {
      auto created = std::make_unique<Probe>();
      created->prober = this;
      created->name = trunk.name;
      created->next_timer = su_timer_create(su_root_task(root_), 0);
      created->timeout_timer = su_timer_create(su_root_task(root_), 0);
      it = probes_.emplace(trunk.name, std::move(created)).first;
      fresh[trunk.index] = true;
    }
    Probe* probe = it->second.get();
    probe->overrides = trunk.probe;
    probes.push_back(probe);
    configs.push_back(resolve(*probe));
  }
  const std::vector<std::uint32_t> delays = firstDelays(configs);
  std::vector<std::pair<Probe*, core::HealthActions>> pending;
  pending.reserve(trunks.size());
  for (const core::Trunk& trunk : trunks) {
    Probe* probe = probes[trunk.index];
    core::HealthActions actions;
    if (fresh[trunk.index]) {
      probe->health = core::TrunkHealth(configs[trunk.index], now);
      actions = probe->health.start(delays[trunk.index]);
    } else {
      // SPEC §4: health survives table reloads, keyed by trunk name; changed settings (its
      // own or the gateway-wide ones) apply from now on.
      actions = probe->health.reconfigure(configs[trunk.index], now, delays[trunk.index]);
    }
    probe->index = trunk.index;
    // A changed target is probed from the next probe on; the verdict so far carries over.
    probe->target =
        trunk.index < snapshot.targets.size() ? snapshot.targets[trunk.index] : TrunkTarget{};
    describeTarget(*probe);
    probe->handles =
        trunk.index < snapshot.trunk_metrics.size() ? snapshot.trunk_metrics[trunk.index] : nullptr;
    if (probe->handles)
      probe->handles->up->Set(core::healthRoutable(probe->health.state()) ? 1 : 0);
    by_index_[trunk.index] = probe;
    states_[trunk.index] = probe->health.state();
    pending.emplace_back(probe, std::move(actions));
  }
  for (auto& [probe, actions] : pending) perform(*probe, actions);
}

void Prober::setDefaults(core::ProbeConfig config) {
  defaults_ = std::move(config);
  const std::int64_t now = wallMs();
  std::vector<core::ProbeConfig> configs;
  configs.reserve(by_index_.size());
  for (Probe* probe : by_index_) configs.push_back(resolve(*probe));
  const std::vector<std::uint32_t> delays = firstDelays(configs);
  for (std::size_t i = 0; i < by_index_.size(); ++i) {
    Probe& probe = *by_index_[i];
    perform(probe, probe.health.reconfigure(configs[i], now, delays[i]));
  }
}

void Prober::callTransportError(core::TrunkIndex trunk, std::string_view reason) {
  if (trunk >= by_index_.size()) return;
  feed(*by_index_[trunk], core::TransportError{reason, wallMs(), false});
}

const core::HealthStatus* Prober::status(std::string_view trunk) const {
  auto it = probes_.find(trunk);
  return it == probes_.end() ? nullptr : &it->second->health.status();
}

void Prober::feed(Probe& probe, const core::HealthEvent& event) {
  const core::HealthStatus& status = probe.health.status();
  const std::uint64_t answers = status.answers;
  const std::uint64_t misses = status.misses;
  const core::HealthActions actions = probe.health.handle(event);
  // Probe results only: a call's transport error is a miss of the trunk, not of a probe.
  const auto* transport = std::get_if<core::TransportError>(&event);
  if (probe.handles && (transport == nullptr || transport->probe)) {
    if (status.answers > answers) probe.handles->probes_answered->Increment();
    if (status.misses > misses) probe.handles->probes_missed->Increment();
  }
  perform(probe, actions);
}

void Prober::perform(Probe& probe, const core::HealthActions& actions) {
  auto* arg = reinterpret_cast<su_timer_arg_t*>(&probe);
  for (const core::HealthAction& action : actions) {
    switch (action.kind) {
      case core::HealthActionKind::SendProbe:
        send(probe);
        break;
      case core::HealthActionKind::ArmTimeout:
        su_timer_set_interval(probe.timeout_timer, &ProberCallbacks::timeout, arg,
                              static_cast<su_duration_t>(action.ms));
        break;
      case core::HealthActionKind::CancelTimeout:
        su_timer_reset(probe.timeout_timer);
        dropTransaction(probe);
        break;
      case core::HealthActionKind::ArmNextProbe:
        su_timer_set_interval(probe.next_timer, &ProberCallbacks::next, arg,
                              static_cast<su_duration_t>(action.ms));
        break;
      case core::HealthActionKind::StateChanged:
        changed(probe, action);
        break;
    }
  }
}

void Prober::send(Probe& probe) {
  const std::int64_t now = wallMs();
  if (!probe.target.valid) {
    feed(probe, core::TransportError{"no valid SIP target", now, true});
    return;
  }
  msg_t* msg = nta_msg_create(agent_, 0);
  if (msg == nullptr) {
    feed(probe, core::TransportError{"cannot create OPTIONS", now, true});
    return;
  }
  su_home_t* home = msg_home(msg);
  sip_t* sip = sip_object(msg);
  // RFC 3261 §11.1: an out-of-dialog OPTIONS; a From tag, a fresh Call-ID per probe.
  const char* tag = nta_agent_newtag(home, "%s", agent_);
  const std::string from = "<" + from_uri_ + ">;tag=" + (tag ? tag : "sb");
  const std::string request = "OPTIONS " + probe.request_uri + " SIP/2.0";
  const std::string cseq = std::to_string(++probe.cseq) + " OPTIONS";
  if (sip_add_tl(msg, sip, SIPTAG_REQUEST_STR(request.c_str()), SIPTAG_FROM_STR(from.c_str()),
                 SIPTAG_TO_STR(probe.to.c_str()), SIPTAG_CALL_ID(sip_call_id_create(home, nullptr)),
                 SIPTAG_CSEQ_STR(cseq.c_str()), SIPTAG_MAX_FORWARDS_STR("70"),
                 SIPTAG_CONTENT_LENGTH_STR("0"), TAG_END()) < 0) {
    msg_destroy(msg);
    feed(probe, core::TransportError{"cannot build OPTIONS for " + probe.request_uri, now, true});
    return;
  }
  probe.in_create = true;
  probe.deferred_status = 0;
  probe.deferred_error.clear();
  probe.sent_at = std::chrono::steady_clock::now();
  nta_outgoing_t* orq = nta_outgoing_mcreate(agent_, &ProberCallbacks::response,
                                             reinterpret_cast<nta_outgoing_magic_t*>(&probe),
                                             nullptr, msg, TAG_END());
  probe.in_create = false;
  if (orq == nullptr) {
    msg_destroy(msg);
    feed(probe, core::TransportError{"cannot send OPTIONS to " + probe.where, now, true});
    return;
  }
  probe.orq = orq;
  feed(probe, core::ProbeSent{now});
  if (probe.deferred_status != 0 && probe.orq == orq) {
    const int status = probe.deferred_status;
    probe.deferred_status = 0;
    onFinal(probe, status, probe.deferred_local, probe.deferred_error);
  }
}

void Prober::onFinal(Probe& probe, int status, bool local, const std::string& transport_error) {
  if (probe.in_create) {
    if (probe.deferred_status == 0) {
      probe.deferred_status = status;
      probe.deferred_local = local;
      probe.deferred_error = transport_error;
    }
    return;
  }
  const std::int64_t now = wallMs();
  if (!transport_error.empty()) {
    feed(probe, core::TransportError{transport_error, now, true});
    return;
  }
  // RTT from send to the final answer (SPEC §4 export), whole ms for the machine.
  const auto rtt = std::chrono::steady_clock::now() - probe.sent_at;
  if (!local && probe.handles) {
    probe.handles->probe_rtt->Set(std::chrono::duration<double>(rtt).count());
  }
  const auto rtt_ms = std::chrono::duration_cast<std::chrono::milliseconds>(rtt).count();
  feed(probe, core::ProbeAnswered{status, local, static_cast<std::uint32_t>(rtt_ms), now});
}

void Prober::onTimeout(Probe& probe) {
  // SPEC §4: the probe's own timeout ends it, never nta's 32 s Timer F.
  dropTransaction(probe);
  feed(probe, core::ProbeTimedOut{wallMs()});
}

void Prober::onNextProbe(Probe& probe) { feed(probe, core::TimerFired{wallMs(), random_()}); }

void Prober::dropTransaction(Probe& probe) {
  if (probe.orq == nullptr) return;
  // nta keeps a non-INVITE transaction it was told to forget until it completes (its
  // retransmissions end with Timer F) but calls us no more: a late answer is absorbed.
  nta_outgoing_destroy(probe.orq);
  probe.orq = nullptr;
}

void Prober::changed(Probe& probe, const core::HealthAction& action) {
  if (probe.index < states_.size() && by_index_[probe.index] == &probe) {
    states_[probe.index] = action.to;
  }
  if (probe.handles) {
    probe.handles->up->Set(core::healthRoutable(action.to) ? 1 : 0);
    probe.handles->state_changes->Increment();
  }
  const log::Level level =
      action.to == core::HealthState::Down ? log::Level::Warn : log::Level::Info;
  SB_LOG(level, log::Line("trunk_state")
                    .kv("trunk", probe.name)
                    .kv("from", core::healthStateName(action.from))
                    .kv("to", core::healthStateName(action.to))
                    .kv("reason", action.reason));
  if (on_change_) on_change_(StateChange{probe.name, action.from, action.to, action.reason});
}

}  // namespace sb::sip
