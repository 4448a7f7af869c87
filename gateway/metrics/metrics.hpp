// Every metric family is declared here, once. Per-trunk handles are resolved when a trunk
// appears in a routing table (off the call path); the call path only touches pointers and
// enum-indexed arrays, never a label string. SPEC §7, prefix switchboard_.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/region.hpp"
#include "core/routing_table.hpp"

namespace prometheus {
class Collectable;
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace sb::metrics {

// Calls by result per trunk (one count per attempt on that trunk).
enum class TrunkResult : std::uint8_t { Answered, Busy, Failed, Cancelled, Timeout, kCount };

// Why a request was refused before (or instead of) routing. SPEC §7 names the first six.
enum class Reject : std::uint8_t {
  Acl,
  RateLimit,
  Malformed,
  NoRoute,
  Loop,
  Capacity,
  TooManyHops,
  Unsupported,
  Shutdown,
  Unavailable,  // every trunk of the route skipped (closed, down, full...) before forwarding
  kCount
};

enum class SipMethod : std::uint8_t {
  Invite,
  Ack,
  Bye,
  Cancel,
  Options,
  Update,
  Info,
  Refer,
  Notify,
  Prack,
  Other,
  kCount
};

// A call's result as its record says (docs/call-records.md), for direction="in" and
// switchboard_calls_total. Same order as records::Result.
enum class CallResult : std::uint8_t { Answered, Abandoned, Failed, kCount };

// Health and admin states as gauges with a `state` label (one is 1, the others 0). Same
// order as core::HealthState and core::AdminState.
constexpr std::size_t kHealthStates = 3;  // unknown, up, down
constexpr std::size_t kAdminStates = 3;   // enabled, draining, disabled

// docs/metrics.md "Per trunk and direction". The unprefixed call handles are
// direction="out" (the destination trunk, one count per attempt); in_* are direction="in"
// (the origin trunk, one count per call, by the record's result).
struct TrunkHandles {
  std::array<prometheus::Counter*, static_cast<std::size_t>(TrunkResult::kCount)> calls{};
  prometheus::Gauge* active = nullptr;
  prometheus::Histogram* answer_delay = nullptr;     // INVITE received -> 2xx relayed
  prometheus::Histogram* post_dial_delay = nullptr;  // INVITE received -> first 18x
  prometheus::Histogram* duration = nullptr;         // answer -> end of call
  std::array<prometheus::Counter*, static_cast<std::size_t>(CallResult::kCount)> in_calls{};
  prometheus::Gauge* in_active = nullptr;
  prometheus::Histogram* in_answer_delay = nullptr;
  prometheus::Histogram* in_post_dial_delay = nullptr;
  prometheus::Histogram* in_duration = nullptr;
  std::array<prometheus::Gauge*, kHealthStates> state{};
  std::array<prometheus::Gauge*, kAdminStates> admin_state{};
  prometheus::Gauge* capacity = nullptr;  // configured maximum concurrent calls, 0 unlimited
  // Health probing (SPEC §4, issue 5), written by the prober on the SIP thread.
  prometheus::Gauge* up = nullptr;                 // 1 up or unknown (routed), 0 down
  prometheus::Gauge* probe_rtt = nullptr;          // seconds, RTT of the last answered probe
  prometheus::Counter* probes_answered = nullptr;  // probes that proved the trunk alive
  prometheus::Counter* probes_missed = nullptr;    // timeouts, transport errors, local replies
  prometheus::Counter* state_changes = nullptr;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Resolves (creating on first sight) a trunk's handles and its info series. Thread-safe;
  // called when a table is swapped in. Handles persist across tables (keyed by name) so
  // counters never reset on reload.
  TrunkHandles* trunk(const core::Trunk& trunk);

  void reject(Reject reason);
  void lookup(core::Level level);
  void lookupMiss();
  void request(SipMethod method);
  void response(int status);  // relayed or generated, by class 1xx..6xx
  void callsInProgress(double value);
  void activeCalls(double value);
  void tableVersion(std::uint64_t version, double loaded_unix_seconds);
  void tableReload(bool ok);
  void redisUp(bool up);
  void badTrunkTarget();
  void invalidTopic();
  void configReload(bool ok);
  // One call record produced (switchboard_calls_total by result).
  void callRecorded(CallResult result);
  // SIP transactions held by the stack (nta_agent_get_stats), set by the SIP thread.
  void transactions(double server, double client);

  // The record writer's counters (cumulative totals; turned into counter increments).
  struct RecordCounts {
    std::uint64_t redis = 0;
    std::uint64_t file = 0;
    std::uint64_t spilled = 0;
    std::uint64_t dropped = 0;
    std::size_t queue_depth = 0;
  };
  // Read at every scrape (from the scraping thread): must be thread-safe and cheap.
  void setRecordSource(std::function<RecordCounts()> source);

  // What a scrape collects: refreshes the values computed at scrape (table age, process_*,
  // record counters), then the registry. For prometheus-cpp's Exposer (which keeps only a
  // weak_ptr: the Metrics object owns what this returns).
  std::shared_ptr<prometheus::Collectable> collectable();

  // The text exposition of everything (for the admin listener and tests).
  std::string serialize();
  // Sets the values computed at scrape time. Thread-safe.
  void refresh();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* trunk_calls_;
  prometheus::Family<prometheus::Gauge>* trunk_active_;
  prometheus::Family<prometheus::Histogram>* trunk_answer_delay_;
  prometheus::Family<prometheus::Histogram>* trunk_pdd_;
  prometheus::Family<prometheus::Histogram>* trunk_duration_;
  prometheus::Family<prometheus::Gauge>* trunk_info_;
  prometheus::Family<prometheus::Gauge>* trunk_up_;
  prometheus::Family<prometheus::Gauge>* trunk_probe_rtt_;
  prometheus::Family<prometheus::Counter>* trunk_probes_;
  prometheus::Family<prometheus::Counter>* trunk_state_changes_;
  prometheus::Family<prometheus::Gauge>* trunk_state_;
  prometheus::Family<prometheus::Gauge>* trunk_admin_state_;
  prometheus::Family<prometheus::Gauge>* trunk_capacity_;
  std::array<prometheus::Counter*, static_cast<std::size_t>(Reject::kCount)> rejections_{};
  std::array<prometheus::Counter*, core::kLevelCount + 1> lookups_{};  // + "none"
  std::array<prometheus::Counter*, static_cast<std::size_t>(SipMethod::kCount)> requests_{};
  std::array<prometheus::Counter*, 6> responses_{};
  prometheus::Gauge* in_progress_;
  prometheus::Gauge* active_;
  prometheus::Gauge* table_version_;
  prometheus::Gauge* table_loaded_;
  prometheus::Counter* reload_ok_;
  prometheus::Counter* reload_error_;
  prometheus::Gauge* redis_up_;
  prometheus::Counter* bad_target_;
  prometheus::Counter* invalid_topic_;
  prometheus::Counter* config_reload_ok_;
  prometheus::Counter* config_reload_error_;
  std::array<prometheus::Counter*, static_cast<std::size_t>(CallResult::kCount)> calls_{};
  prometheus::Gauge* transactions_server_;
  prometheus::Gauge* transactions_client_;
  prometheus::Gauge* table_age_;
  prometheus::Counter* records_redis_;
  prometheus::Counter* records_file_;
  prometheus::Counter* records_spilled_;
  prometheus::Counter* records_dropped_;
  prometheus::Gauge* records_queue_;
  prometheus::Counter* process_cpu_;
  prometheus::Gauge* process_rss_;
  prometheus::Gauge* process_start_;
  prometheus::Gauge* process_fds_;

  std::mutex refresh_mutex_;
  std::function<RecordCounts()> record_source_;  // guarded by refresh_mutex_
  RecordCounts records_seen_;                    // guarded by refresh_mutex_
  double cpu_seen_ = 0;                          // guarded by refresh_mutex_
  std::atomic<double> table_loaded_at_{0};
  std::shared_ptr<prometheus::Collectable> scrape_;

  std::mutex trunk_mutex_;
  std::unordered_map<std::string, std::unique_ptr<TrunkHandles>> trunks_;
};

std::string_view rejectName(Reject reason);
SipMethod methodFromName(std::string_view name);

}  // namespace sb::metrics
