#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <prometheus/collectable.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#ifndef SB_VERSION
#define SB_VERSION "unknown"
#endif

namespace sb::metrics {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(TrunkResult::kCount)> kResultNames =
    {"answered", "busy", "failed", "cancelled", "timeout"};

constexpr std::array<std::string_view, static_cast<std::size_t>(SipMethod::kCount)> kMethodNames = {
    "INVITE", "ACK",   "BYE",    "CANCEL", "OPTIONS", "UPDATE",
    "INFO",   "REFER", "NOTIFY", "PRACK",  "OTHER"};

constexpr std::array<std::string_view, static_cast<std::size_t>(CallResult::kCount)>
    kCallResultNames = {"answered", "abandoned", "failed"};
constexpr std::array<std::string_view, kHealthStates> kHealthNames = {"unknown", "up", "down"};
constexpr std::array<std::string_view, kAdminStates> kAdminNames = {"enabled", "draining",
                                                                    "disabled"};

// docs/metrics.md bucket edges. SPEC §7 / context.md: the ministry scores answers within
// 20 s (and 30 s), so 20 and 30 are edges.
prometheus::Histogram::BucketBoundaries postDialBuckets() {
  return {0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60};
}
prometheus::Histogram::BucketBoundaries answerBuckets() {
  return {1, 2, 5, 10, 15, 20, 25, 30, 45, 60, 120};
}
prometheus::Histogram::BucketBoundaries durationBuckets() {
  return {10, 30, 60, 120, 180, 300, 600, 1200, 1800, 3600};
}

double nowUnix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// /proc/self/stat: utime, stime and starttime (clock ticks), fields 14, 15 and 22; the
// command name (field 2) may hold spaces, so fields are counted after its ')'.
struct ProcStat {
  double cpu_seconds = 0;
  double start_ticks = 0;
  bool ok = false;
};

ProcStat readProcStat() {
  ProcStat out;
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream fields(text.substr(close + 1));
  std::vector<std::string> f;
  for (std::string t; fields >> t;) f.push_back(t);
  if (f.size() < 20) return out;  // f[0] is field 3 (state)
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  try {
    out.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    out.start_ticks = std::stod(f[19]) / ticks;
    out.ok = true;
  } catch (const std::exception&) {
  }
  return out;
}

double bootTime() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

double residentBytes() {
  std::ifstream in("/proc/self/statm");
  double size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double openFds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n;
}

class ScrapeCollectable : public prometheus::Collectable {
 public:
  ScrapeCollectable(Metrics& metrics, std::shared_ptr<prometheus::Registry> registry)
      : metrics_(metrics), registry_(std::move(registry)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    metrics_.refresh();
    return registry_->Collect();
  }

 private:
  Metrics& metrics_;
  std::shared_ptr<prometheus::Registry> registry_;
};

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
                      .Help(
                          "Calls per trunk and direction by result (out: per attempt on the "
                          "destination trunk; in: per call from the origin trunk)")
                      .Register(reg);
  trunk_active_ =
      &prometheus::BuildGauge()
           .Name("switchboard_trunk_active_calls")
           .Help("Calls occupying the trunk (out: forwarded, in: received) and not yet ended")
           .Register(reg);
  trunk_answer_delay_ = &prometheus::BuildHistogram()
                             .Name("switchboard_trunk_answer_delay_seconds")
                             .Help("INVITE received to 2xx relayed, per trunk and direction")
                             .Register(reg);
  trunk_pdd_ = &prometheus::BuildHistogram()
                    .Name("switchboard_trunk_post_dial_delay_seconds")
                    .Help("INVITE received to first 18x relayed, per trunk and direction")
                    .Register(reg);
  trunk_duration_ = &prometheus::BuildHistogram()
                         .Name("switchboard_trunk_call_duration_seconds")
                         .Help("Answer to end of call, per trunk and direction")
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

  trunk_state_ = &prometheus::BuildGauge()
                      .Name("switchboard_trunk_state")
                      .Help("1 for the trunk's current health state (unknown, up, down), else 0")
                      .Register(reg);
  trunk_admin_state_ = &prometheus::BuildGauge()
                            .Name("switchboard_trunk_admin_state")
                            .Help("1 for the trunk's admin state (enabled, draining, disabled)")
                            .Register(reg);
  trunk_capacity_ = &prometheus::BuildGauge()
                         .Name("switchboard_trunk_capacity_calls")
                         .Help("Configured maximum concurrent calls of the trunk (0 = unlimited)")
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
  auto& calls = prometheus::BuildCounter()
                    .Name("switchboard_calls_total")
                    .Help("Call records produced, by result (answered, abandoned, failed)")
                    .Register(reg);
  for (std::size_t i = 0; i < calls_.size(); ++i) {
    calls_[i] = &calls.Add({{"result", std::string(kCallResultNames[i])}});
  }
  auto& tr = prometheus::BuildGauge()
                 .Name("switchboard_transactions_in_progress")
                 .Help("SIP transactions held by the stack, by kind (server, client)")
                 .Register(reg);
  transactions_server_ = &tr.Add({{"kind", "server"}});
  transactions_client_ = &tr.Add({{"kind", "client"}});
  table_age_ = &prometheus::BuildGauge()
                    .Name("switchboard_routing_table_age_seconds")
                    .Help("Seconds since the routing table in force was loaded (at scrape)")
                    .Register(reg)
                    .Add({});
  auto& rec = prometheus::BuildCounter()
                  .Name("switchboard_records_total")
                  .Help("Call records written, by sink (redis, file)")
                  .Register(reg);
  records_redis_ = &rec.Add({{"sink", "redis"}});
  records_file_ = &rec.Add({{"sink", "file"}});
  records_spilled_ = &prometheus::BuildCounter()
                          .Name("switchboard_records_spilled_total")
                          .Help("Call records written to the file because the queue was full")
                          .Register(reg)
                          .Add({});
  records_dropped_ = &prometheus::BuildCounter()
                          .Name("switchboard_records_dropped_total")
                          .Help("Call records lost (queue full and no file); should stay 0")
                          .Register(reg)
                          .Add({});
  records_queue_ = &prometheus::BuildGauge()
                        .Name("switchboard_records_queue_depth")
                        .Help("Call records waiting for Redis")
                        .Register(reg)
                        .Add({});
  prometheus::BuildGauge()
      .Name("switchboard_build_info")
      .Help("The gateway's version; value 1")
      .Register(reg)
      .Add({{"version", SB_VERSION}})
      .Set(1);
  process_cpu_ = &prometheus::BuildCounter()
                      .Name("process_cpu_seconds_total")
                      .Help("Total user and system CPU time spent in seconds")
                      .Register(reg)
                      .Add({});
  process_rss_ = &prometheus::BuildGauge()
                      .Name("process_resident_memory_bytes")
                      .Help("Resident memory size in bytes")
                      .Register(reg)
                      .Add({});
  process_start_ = &prometheus::BuildGauge()
                        .Name("process_start_time_seconds")
                        .Help("Start time of the process since unix epoch in seconds")
                        .Register(reg)
                        .Add({});
  process_fds_ = &prometheus::BuildGauge()
                      .Name("process_open_fds")
                      .Help("Number of open file descriptors")
                      .Register(reg)
                      .Add({});
  ProcStat stat = readProcStat();
  process_start_->Set(stat.ok ? bootTime() + stat.start_ticks : nowUnix());
}

Metrics::~Metrics() = default;

TrunkHandles* Metrics::trunk(const core::Trunk& trunk) {
  std::lock_guard<std::mutex> lock(trunk_mutex_);
  auto it = trunks_.find(trunk.name);
  if (it != trunks_.end()) return it->second.get();
  auto h = std::make_unique<TrunkHandles>();
  for (std::size_t i = 0; i < h->calls.size(); ++i) {
    h->calls[i] = &trunk_calls_->Add(
        {{"trunk", trunk.name}, {"direction", "out"}, {"result", std::string(kResultNames[i])}});
  }
  for (std::size_t i = 0; i < h->in_calls.size(); ++i) {
    h->in_calls[i] = &trunk_calls_->Add(
        {{"trunk", trunk.name}, {"direction", "in"}, {"result", std::string(kCallResultNames[i])}});
  }
  const prometheus::Labels out{{"trunk", trunk.name}, {"direction", "out"}};
  const prometheus::Labels in{{"trunk", trunk.name}, {"direction", "in"}};
  h->active = &trunk_active_->Add(out);
  h->answer_delay = &trunk_answer_delay_->Add(out, answerBuckets());
  h->post_dial_delay = &trunk_pdd_->Add(out, postDialBuckets());
  h->duration = &trunk_duration_->Add(out, durationBuckets());
  h->in_active = &trunk_active_->Add(in);
  h->in_answer_delay = &trunk_answer_delay_->Add(in, answerBuckets());
  h->in_post_dial_delay = &trunk_pdd_->Add(in, postDialBuckets());
  h->in_duration = &trunk_duration_->Add(in, durationBuckets());
  for (std::size_t i = 0; i < kHealthStates; ++i) {
    h->state[i] =
        &trunk_state_->Add({{"trunk", trunk.name}, {"state", std::string(kHealthNames[i])}});
  }
  h->state[0]->Set(1);  // a new trunk is Unknown
  for (std::size_t i = 0; i < kAdminStates; ++i) {
    h->admin_state[i] =
        &trunk_admin_state_->Add({{"trunk", trunk.name}, {"state", std::string(kAdminNames[i])}});
  }
  h->admin_state[0]->Set(1);  // enabled until told otherwise
  h->capacity = &trunk_capacity_->Add({{"trunk", trunk.name}});
  h->capacity->Set(trunk.capacity);
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
  table_loaded_at_ = loaded_unix_seconds;
}
void Metrics::tableReload(bool ok) { (ok ? reload_ok_ : reload_error_)->Increment(); }
void Metrics::redisUp(bool up) { redis_up_->Set(up ? 1 : 0); }
void Metrics::badTrunkTarget() { bad_target_->Increment(); }
void Metrics::invalidTopic() { invalid_topic_->Increment(); }
void Metrics::configReload(bool ok) {
  (ok ? config_reload_ok_ : config_reload_error_)->Increment();
}

void Metrics::callRecorded(CallResult result) {
  calls_[static_cast<std::size_t>(result)]->Increment();
}

void Metrics::transactions(double server, double client) {
  transactions_server_->Set(server);
  transactions_client_->Set(client);
}

void Metrics::setRecordSource(std::function<RecordCounts()> source) {
  std::lock_guard lock(refresh_mutex_);
  record_source_ = std::move(source);
}

std::shared_ptr<prometheus::Collectable> Metrics::collectable() {
  // The Exposer keeps a weak_ptr: this object owns it.
  if (!scrape_) scrape_ = std::make_shared<ScrapeCollectable>(*this, registry_);
  return scrape_;
}

void Metrics::refresh() {
  std::lock_guard lock(refresh_mutex_);
  const double loaded = table_loaded_at_.load();
  table_age_->Set(loaded > 0 ? std::max(0.0, nowUnix() - loaded) : 0);
  if (record_source_) {
    // Counters only go up: add what the writer did since the last scrape.
    RecordCounts now = record_source_();
    auto add = [](prometheus::Counter* c, std::uint64_t now_value, std::uint64_t& seen) {
      if (now_value > seen) c->Increment(static_cast<double>(now_value - seen));
      seen = std::max(seen, now_value);
    };
    add(records_redis_, now.redis, records_seen_.redis);
    add(records_file_, now.file, records_seen_.file);
    add(records_spilled_, now.spilled, records_seen_.spilled);
    add(records_dropped_, now.dropped, records_seen_.dropped);
    records_queue_->Set(static_cast<double>(now.queue_depth));
  }
  ProcStat stat = readProcStat();
  if (stat.ok && stat.cpu_seconds > cpu_seen_) {
    process_cpu_->Increment(stat.cpu_seconds - cpu_seen_);
    cpu_seen_ = stat.cpu_seconds;
  }
  process_rss_->Set(residentBytes());
  process_fds_->Set(openFds());
}

std::string Metrics::serialize() {
  refresh();
  prometheus::TextSerializer serializer;
  std::ostringstream out;
  serializer.Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace sb::metrics
