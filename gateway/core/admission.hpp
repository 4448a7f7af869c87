// Live admission of new calls to trunks on one gateway instance: the operator's admin state
// (enabled / draining / disabled), capacity (maximum concurrent calls) and calls per second.
// SPEC §4: "a down, disabled, draining, closed or full trunk is skipped"; "draining lets calls
// in progress finish and takes no new ones". Together with the health machines it fills
// DecideInput::trunk_state.
//
// Capacity is counted per call: acquire() when the INVITE is forwarded to a trunk, release()
// when that call leg ends, whatever the path (BYE from either side, CANCEL, failure, timeout,
// the maximum call duration). The count of a trunk is the number of calls holding it, so it
// can never drift below 0; releasing a call that holds nothing is a no-op, counted.
//
// Cluster-wide capacity (several instances, one Redis): each instance leases its own calls in
// Redis; the adapter's Redis thread sums the other instances' leases per trunk and posts the
// number to the SIP thread, which calls setCallsElsewhere(). The capacity check then counts
// local calls + calls elsewhere, so the call path never waits on Redis (style.md). The number
// is as fresh as the last message: between two updates two instances may both take the last
// slot; the leases' expiry bounds what a crashed instance holds.
//
// Pure: std only, time passed in (`now_ms`: monotonic milliseconds, for the rate buckets and
// the call ages). One owner thread (the SIP thread); not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/decide.hpp"
#include "core/routing_table.hpp"
#include "core/token_bucket.hpp"
#include "core/trunk_health.hpp"

namespace sb::core {

enum class AdminState : std::uint8_t {
  Enabled,   // takes calls
  Draining,  // takes no new calls; calls in progress finish (SPEC §4)
  Disabled,  // takes no new calls
};
std::string_view adminStateName(AdminState state);  // "enabled", "draining", "disabled"
std::optional<AdminState> parseAdminState(std::string_view text);  // the names above

// Identifies one call leg holding a trunk (the adapter's id of the forwarded INVITE). Holds
// at most one trunk at a time: on failover release the old trunk before acquiring the next.
using CallId = std::uint64_t;

enum class AdmitResult : std::uint8_t {
  Admitted,
  Disabled,
  Draining,
  Full,          // capacity: local calls + calls elsewhere >= capacity
  RateLimited,   // no calls-per-second token left
  UnknownTrunk,  // index outside the current table
  AlreadyHeld,   // this call id already holds a trunk (release it first)
};
std::string_view admitResultName(AdmitResult result);  // "admitted", "disabled", ...
// How a refusal shows in DecideInput::trunk_state: RateLimited is Full (SPEC §4 knows
// "full"; a trunk out of calls-per-second is full for this second). None for Admitted and for
// the adapter's own errors (UnknownTrunk, AlreadyHeld).
SkipReason skipReasonOf(AdmitResult result);

// SPEC §4 capacity across instances: full when the calls held here plus the calls other
// instances hold (their Redis leases) reach the capacity; 0 = unlimited.
constexpr bool capacityFull(std::uint32_t capacity, std::uint32_t local, std::uint32_t elsewhere) {
  return capacity > 0 && std::uint64_t{local} + elsewhere >= capacity;
}

// The one skip reason of a trunk from its live state, in this order of precedence:
//   Disabled > Draining > Down > Full
// The operator's word first (a disabled trunk shows "disabled" whether or not it is also
// down: that is what the duty room set and expects to read), then health (a down trunk is
// out until probes say otherwise), then capacity and rate (a moment's state: the next call
// may fit). None: usable. (Closed, from opening hours, is decide()'s own, under all these.)
SkipReason liveSkipReason(AdminState admin, HealthState health, bool full);

// Per-trunk live state and counters, for the admin API, the status page and metrics.
struct TrunkAdmission {
  std::string name;
  bool in_table = false;  // false: gone from the table, kept while calls hold it or for its
                          // admin state
  AdminState admin = AdminState::Enabled;
  std::uint32_t capacity = 0;   // max concurrent calls (cluster-wide), 0 = unlimited
  std::uint32_t cps = 0;        // max new calls per second (cluster-wide), 0 = unlimited
  std::uint32_t active = 0;     // calls holding the trunk on this instance
  std::uint32_t elsewhere = 0;  // calls holding it on other instances (setCallsElsewhere)
  std::uint64_t admitted = 0;   // totals since start, carried over reloads
  std::uint64_t refused_disabled = 0;
  std::uint64_t refused_draining = 0;
  std::uint64_t refused_full = 0;
  std::uint64_t refused_rate = 0;
};

class Admission {
 public:
  Admission() = default;
  // Calls point into the trunk records: moving keeps them valid, copying would not.
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;
  Admission(Admission&&) = default;
  Admission& operator=(Admission&&) = default;

  // Installs the trunks of a new routing table (RoutingTable::trunks(), index = TrunkIndex),
  // carrying everything over by name: admin state, calls held, calls elsewhere, counters, the
  // rate bucket (rebuilt, full, only when cps changed). Trunks gone from the table stay while
  // calls hold them (their releases still count) or while they are not Enabled (an operator
  // may disable a trunk before the table that adds it); the others are forgotten.
  void applyTrunks(std::span<const Trunk> trunks, std::int64_t now_ms);

  // The operator's state (admin API, CLI, Redis), by trunk name; a name not in the table is
  // remembered for a later table. Returns whether the trunk is in the current table. Calls in
  // progress are never touched (SPEC §4: draining lets them finish).
  bool setAdminState(std::string_view trunk, AdminState state);
  AdminState adminState(std::string_view trunk) const;  // Enabled when never set

  // Calls other instances hold on this trunk (from their Redis leases), posted to the SIP
  // thread by the Redis thread. Returns whether the trunk is in the current table.
  bool setCallsElsewhere(std::string_view trunk, std::uint32_t calls);
  // Live instances sharing the trunks (this one included, from the Redis heartbeats): each
  // instance admits cps / instances calls a second per trunk. A change rebuilds the rate
  // buckets (full). Fewer than 1 counts as 1 (Redis unreachable: this instance alone).
  void setInstances(std::size_t instances, std::int64_t now_ms);
  std::size_t instances() const { return instances_; }

  // Whether a new call could take the trunk now (admin state, capacity, rate), taking
  // nothing. Health is not admission's: see skipReason().
  AdmitResult check(TrunkIndex trunk, std::int64_t now_ms) const;
  // The same, and on Admitted the call holds the trunk and a rate token is spent.
  AdmitResult acquire(TrunkIndex trunk, CallId call, std::int64_t now_ms);
  // The call leg ended: its trunk's count goes down by one. False (and counted in
  // unknownReleases()) when the call holds nothing: released twice, or never admitted.
  bool release(CallId call);

  // The trunk's entry for DecideInput::trunk_state (liveSkipReason of its admin state,
  // `health` and capacity/rate). SkipReason::None for an index outside the table.
  SkipReason skipReason(TrunkIndex trunk, HealthState health, std::int64_t now_ms) const;
  // All trunks of the table, by TrunkIndex, into `out` (resized to the trunk count; no
  // allocation once it has the capacity). `health` by TrunkIndex; missing entries: Unknown.
  void fillTrunkState(std::span<const HealthState> health, std::int64_t now_ms,
                      std::vector<SkipReason>& out) const;

  // Calls that have held their trunk since before `cutoff_ms`: the maximum call duration
  // safety net (the adapter ends them, then releases them).
  std::vector<CallId> callsHeldSince(std::int64_t cutoff_ms) const;
  // The trunk a call holds (index in the current table); nullopt: none, or gone from it.
  std::optional<TrunkIndex> trunkOf(CallId call) const;

  std::size_t trunkCount() const { return by_index_.size(); }
  const TrunkAdmission* trunk(TrunkIndex trunk) const;  // nullptr outside the table
  const TrunkAdmission* trunk(std::string_view name) const;
  std::uint32_t activeCalls(TrunkIndex trunk) const;
  std::size_t activeCallsTotal() const { return calls_.size(); }  // all trunks, gone ones too
  std::uint64_t unknownReleases() const { return unknown_releases_; }

 private:
  std::size_t instances_ = 1;
  struct Record {
    TrunkAdmission info;
    TokenBucket bucket;    // used when info.cps > 0
    TrunkIndex index = 0;  // position in the current table, when info.in_table
    bool bucket_ready = false;
  };
  struct Held {
    Record* record = nullptr;
    std::int64_t since_ms = 0;
  };

  AdmitResult admit(const Record& record, std::int64_t now_ms) const;
  Record& recordFor(std::string_view name);

  // By trunk name; nodes of an unordered_map never move, so the pointers below stay valid.
  std::unordered_map<std::string, Record> records_;
  std::vector<Record*> by_index_;  // the current table, by TrunkIndex
  std::unordered_map<CallId, Held> calls_;
  std::uint64_t unknown_releases_ = 0;
};

}  // namespace sb::core
