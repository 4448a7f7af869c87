#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace sb::metrics {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(TrunkResult::kCount)> kResultNames =
    {"answered", "busy", "failed", "cancelled", "timeout"};

constexpr std::array<std::string_view, static_cast<std::size_t>(SipMethod::kCount)> kMethodNames = {
    "INVITE", "ACK",   "BYE",    "CANCEL", "OPTIONS", "UPDATE",
    "INFO",   "REFER", "NOTIFY", "PRACK",  "OTHER"};

// SPEC §7 / context.md: the ministry scores answers within 20 s (and 30 s), so 20 and 30
// are bucket edges.
prometheus::Histogram::BucketBoundaries answerBuckets() {
  return {0.5, 1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 120, 300};
}
prometheus::Histogram::BucketBoundaries durationBuckets() {
  return {10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200};
}

std::string regionText(core::RegionCode code) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06u", code);
  return buf;
}

}  // namespace

std::string_view rejectName(Reject reason) {
  static constexpr std::array<std::string_view, static_cast<std::size_t>(Reject::kCount)> names = {
      "acl",      "rate_limit",   "malformed",   "no_route", "loop",
      "capacity", "max_forwards", "unsupported", "shutdown", "unavailable"};
  return names[static_cast<std::size_t>(reason)];
}

SipMethod methodFromName(std::string_view name) {
  for (std::size_t i = 0; i + 1 < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == name) return static_cast<SipMethod>(i);
  }
  return SipMethod::Other;
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& reg = *registry_;
  trunk_calls_ = &prometheus::BuildCounter()
                      .Name("switchboard_trunk_calls_total")
                      .Help("Call attempts per destination trunk by result")
                      .Register(reg);
  trunk_active_ = &prometheus::BuildGauge()
                       .Name("switchboard_trunk_active_calls")
                       .Help("Calls occupying the trunk: forwarded and not yet ended")
                       .Register(reg);
  trunk_answer_delay_ = &prometheus::BuildHistogram()
                             .Name("switchboard_trunk_answer_delay_seconds")
                             .Help("INVITE received to 2xx relayed, per destination trunk")
                             .Register(reg);
  trunk_pdd_ = &prometheus::BuildHistogram()
                    .Name("switchboard_trunk_post_dial_delay_seconds")
                    .Help("INVITE received to first ringing (18x), per destination trunk")
                    .Register(reg);
  trunk_duration_ = &prometheus::BuildHistogram()
                         .Name("switchboard_trunk_call_duration_seconds")
                         .Help("Answer to end of call, per destination trunk")
                         .Register(reg);
  trunk_info_ = &prometheus::BuildGauge()
                     .Name("switchboard_trunk_info")
                     .Help("Static trunk labels (region, province, display name); value 1")
                     .Register(reg);
  trunk_up_ = &prometheus::BuildGauge()
                   .Name("switchboard_trunk_up")
                   .Help("Trunk health from OPTIONS probes: 1 up or not yet known, 0 down")
                   .Register(reg);
  trunk_probe_rtt_ = &prometheus::BuildGauge()
                          .Name("switchboard_trunk_probe_rtt_seconds")
                          .Help("Round-trip time of the last OPTIONS probe the trunk answered")
                          .Register(reg);
  trunk_probes_ = &prometheus::BuildCounter()
                       .Name("switchboard_trunk_probes_total")
                       .Help("OPTIONS probes per trunk by result (answered, missed)")
                       .Register(reg);
  trunk_state_changes_ = &prometheus::BuildCounter()
                              .Name("switchboard_trunk_state_changes_total")
                              .Help("Health state changes per trunk (unknown/up/down)")
                              .Register(reg);

  auto& rej = prometheus::BuildCounter()
                  .Name("switchboard_rejections_total")
                  .Help("Requests refused by the gateway itself, by reason")
                  .Register(reg);
  for (std::size_t i = 0; i < rejections_.size(); ++i) {
    rejections_[i] = &rej.Add({{"reason", std::string(rejectName(static_cast<Reject>(i)))}});
  }
  auto& lk = prometheus::BuildCounter()
                 .Name("switchboard_route_lookups_total")
                 .Help("Routing-table lookups by the level that matched")
                 .Register(reg);
  for (std::size_t i = 0; i < core::kLevelCount; ++i) {
    lookups_[i] = &lk.Add({{"level", std::string(core::levelName(static_cast<core::Level>(i)))}});
  }
  lookups_[core::kLevelCount] = &lk.Add({{"level", "none"}});
  auto& rq = prometheus::BuildCounter()
                 .Name("switchboard_sip_requests_total")
                 .Help("SIP requests received, by method")
                 .Register(reg);
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    requests_[i] = &rq.Add({{"method", std::string(kMethodNames[i])}});
  }
  auto& rs = prometheus::BuildCounter()
                 .Name("switchboard_sip_responses_total")
                 .Help("SIP responses sent upstream (relayed or generated), by class")
                 .Register(reg);
  for (std::size_t i = 0; i < responses_.size(); ++i) {
    responses_[i] = &rs.Add({{"class", std::to_string(i + 1) + "xx"}});
  }
  in_progress_ = &prometheus::BuildGauge()
                      .Name("switchboard_calls_in_progress")
                      .Help("New INVITEs being routed and not yet answered finally")
                      .Register(reg)
                      .Add({});
  active_ = &prometheus::BuildGauge()
                 .Name("switchboard_active_calls")
                 .Help("Calls in progress or established through the gateway")
                 .Register(reg)
                 .Add({});
  table_version_ = &prometheus::BuildGauge()
                        .Name("switchboard_routing_table_version")
                        .Help("Version of the routing table in force")
                        .Register(reg)
                        .Add({});
  table_loaded_ = &prometheus::BuildGauge()
                       .Name("switchboard_routing_table_loaded_timestamp_seconds")
                       .Help("Unix time the routing table in force was loaded (age = now - this)")
                       .Register(reg)
                       .Add({});
  auto& reload = prometheus::BuildCounter()
                     .Name("switchboard_routing_table_reloads_total")
                     .Help("Routing-table versions loaded, by result")
                     .Register(reg);
  reload_ok_ = &reload.Add({{"result", "ok"}});
  reload_error_ = &reload.Add({{"result", "error"}});
  redis_up_ = &prometheus::BuildGauge()
                   .Name("switchboard_redis_up")
                   .Help("1 when the table watcher's Redis connection works")
                   .Register(reg)
                   .Add({});
  bad_target_ = &prometheus::BuildCounter()
                     .Name("switchboard_trunk_target_errors_total")
                     .Help("Forwarding attempts that could not be sent to a trunk target")
                     .Register(reg)
                     .Add({});
  invalid_topic_ = &prometheus::BuildCounter()
                        .Name("switchboard_invalid_topics_total")
                        .Help("Calls whose X-12333-Topic is not a listed topic (ignored)")
                        .Register(reg)
                        .Add({});
  auto& cfg = prometheus::BuildCounter()
                  .Name("switchboard_config_reloads_total")
                  .Help("gateway.yaml reloads (SIGHUP), by result; a rejected file changes nothing")
                  .Register(reg);
  config_reload_ok_ = &cfg.Add({{"result", "ok"}});
  config_reload_error_ = &cfg.Add({{"result", "error"}});
}

Metrics::~Metrics() = default;

TrunkHandles* Metrics::trunk(const core::Trunk& trunk) {
  std::lock_guard<std::mutex> lock(trunk_mutex_);
  auto it = trunks_.find(trunk.name);
  if (it != trunks_.end()) return it->second.get();
  auto h = std::make_unique<TrunkHandles>();
  for (std::size_t i = 0; i < h->calls.size(); ++i) {
    h->calls[i] =
        &trunk_calls_->Add({{"trunk", trunk.name}, {"result", std::string(kResultNames[i])}});
  }
  h->active = &trunk_active_->Add({{"trunk", trunk.name}});
  h->answer_delay = &trunk_answer_delay_->Add({{"trunk", trunk.name}}, answerBuckets());
  h->post_dial_delay = &trunk_pdd_->Add({{"trunk", trunk.name}}, answerBuckets());
  h->duration = &trunk_duration_->Add({{"trunk", trunk.name}}, durationBuckets());
  h->up = &trunk_up_->Add({{"trunk", trunk.name}});
  h->up->Set(1);  // a new trunk is Unknown, which is routed as up
  h->probe_rtt = &trunk_probe_rtt_->Add({{"trunk", trunk.name}});
  h->probes_answered = &trunk_probes_->Add({{"trunk", trunk.name}, {"result", "answered"}});
  h->probes_missed = &trunk_probes_->Add({{"trunk", trunk.name}, {"result", "missed"}});
  h->state_changes = &trunk_state_changes_->Add({{"trunk", trunk.name}});
  trunk_info_
      ->Add({{"trunk", trunk.name},
             {"region", regionText(trunk.region)},
             {"province", regionText(core::provinceOf(trunk.region))},
             {"name", trunk.display_name}})
      .Set(1);
  auto* raw = h.get();
  trunks_.emplace(trunk.name, std::move(h));
  return raw;
}

void Metrics::reject(Reject reason) { rejections_[static_cast<std::size_t>(reason)]->Increment(); }
void Metrics::lookup(core::Level level) { lookups_[static_cast<std::size_t>(level)]->Increment(); }
void Metrics::lookupMiss() { lookups_[core::kLevelCount]->Increment(); }
void Metrics::request(SipMethod method) {
  requests_[static_cast<std::size_t>(method)]->Increment();
}
void Metrics::response(int status) {
  if (status >= 100 && status < 700)
    responses_[static_cast<std::size_t>(status / 100 - 1)]->Increment();
}
void Metrics::callsInProgress(double value) { in_progress_->Set(value); }
void Metrics::activeCalls(double value) { active_->Set(value); }
void Metrics::tableVersion(std::uint64_t version, double loaded_unix_seconds) {
  table_version_->Set(static_cast<double>(version));
  table_loaded_->Set(loaded_unix_seconds);
}
void Metrics::tableReload(bool ok) { (ok ? reload_ok_ : reload_error_)->Increment(); }
void Metrics::redisUp(bool up) { redis_up_->Set(up ? 1 : 0); }
void Metrics::badTrunkTarget() { bad_target_->Increment(); }
void Metrics::invalidTopic() { invalid_topic_->Increment(); }
void Metrics::configReload(bool ok) {
  (ok ? config_reload_ok_ : config_reload_error_)->Increment();
}

std::string Metrics::serialize() const {
  prometheus::TextSerializer serializer;
  std::ostringstream out;
  serializer.Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace sb::metrics
