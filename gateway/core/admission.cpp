// Live admission: admin state, capacity, calls per second. SPEC §4; issue 5 items 2-3.
#include "core/admission.hpp"

#include <algorithm>

namespace sb::core {

namespace {

// SPEC §4 calls per second, cluster-wide: the trunk's rate is shared evenly by the live
// instances (each takes cps / instances a second, up to one second's worth at once, at least
// one call), so the sum over the cluster stays within `cps` with no Redis round trip per call.
TokenBucket rateBucket(std::uint32_t cps, std::size_t instances, std::int64_t now_ms) {
  const double rate =
      static_cast<double>(cps) / static_cast<double>(std::max<std::size_t>(instances, 1));
  return TokenBucket(rate, std::max(rate, 1.0), now_ms);
}

}  // namespace

std::string_view adminStateName(AdminState state) {
  switch (state) {
    case AdminState::Enabled:
      return "enabled";
    case AdminState::Draining:
      return "draining";
    case AdminState::Disabled:
      return "disabled";
  }
  return "enabled";
}

std::optional<AdminState> parseAdminState(std::string_view text) {
  for (const AdminState state : {AdminState::Enabled, AdminState::Draining, AdminState::Disabled}) {
    if (text == adminStateName(state)) return state;
  }
  return std::nullopt;
}

std::string_view admitResultName(AdmitResult result) {
  switch (result) {
    case AdmitResult::Admitted:
      return "admitted";
    case AdmitResult::Disabled:
      return "disabled";
    case AdmitResult::Draining:
      return "draining";
    case AdmitResult::Full:
      return "full";
    case AdmitResult::RateLimited:
      return "rate_limited";
    case AdmitResult::UnknownTrunk:
      return "unknown_trunk";
    case AdmitResult::AlreadyHeld:
      return "already_held";
  }
  return "";
}

SkipReason skipReasonOf(AdmitResult result) {
  switch (result) {
    case AdmitResult::Disabled:
      return SkipReason::Disabled;
    case AdmitResult::Draining:
      return SkipReason::Draining;
    case AdmitResult::Full:
    case AdmitResult::RateLimited:
      return SkipReason::Full;
    case AdmitResult::Admitted:
    case AdmitResult::UnknownTrunk:
    case AdmitResult::AlreadyHeld:
      return SkipReason::None;
  }
  return SkipReason::None;
}

SkipReason liveSkipReason(AdminState admin, HealthState health, bool full) {
  // The order of precedence is documented in admission.hpp: Disabled > Draining > Down > Full.
  if (admin == AdminState::Disabled) return SkipReason::Disabled;
  if (admin == AdminState::Draining) return SkipReason::Draining;
  if (!healthRoutable(health)) return SkipReason::Down;
  if (full) return SkipReason::Full;
  return SkipReason::None;
}

Admission::Record& Admission::recordFor(std::string_view name) {
  auto [it, inserted] = records_.try_emplace(std::string(name));
  if (inserted) it->second.info.name = it->first;
  return it->second;
}

void Admission::applyTrunks(std::span<const Trunk> trunks, std::int64_t now_ms) {
  for (auto& [name, record] : records_) record.info.in_table = false;
  by_index_.assign(trunks.size(), nullptr);
  for (std::size_t i = 0; i < trunks.size(); ++i) {
    Record& record = recordFor(trunks[i].name);
    const bool new_rate = !record.bucket_ready || record.info.cps != trunks[i].cps;
    record.info.in_table = true;
    record.info.capacity = trunks[i].capacity;
    record.info.cps = trunks[i].cps;
    record.index = static_cast<TrunkIndex>(i);
    // A new trunk, or a new rate: a fresh (full) bucket. Otherwise the tokens carry over, so
    // a reload is no way round the rate.
    if (new_rate) {
      record.bucket = rateBucket(trunks[i].cps, instances_, now_ms);
      record.bucket_ready = true;
    }
    by_index_[i] = &record;
  }
  // Forget trunks that left the table and hold nothing worth keeping. Calls point at their
  // records, so a record with calls stays.
  std::erase_if(records_, [](const auto& entry) {
    const TrunkAdmission& info = entry.second.info;
    return !info.in_table && info.active == 0 && info.admin == AdminState::Enabled;
  });
}

bool Admission::setAdminState(std::string_view trunk, AdminState state) {
  // Enabled is what an unknown trunk is anyway: nothing to remember.
  if (state == AdminState::Enabled && !records_.contains(std::string(trunk))) return false;
  Record& record = recordFor(trunk);
  record.info.admin = state;
  return record.info.in_table;
}

AdminState Admission::adminState(std::string_view trunk) const {
  const TrunkAdmission* info = this->trunk(trunk);
  return info ? info->admin : AdminState::Enabled;
}

void Admission::setInstances(std::size_t instances, std::int64_t now_ms) {
  instances = std::max<std::size_t>(instances, 1);
  if (instances == instances_) return;
  instances_ = instances;
  for (auto& [name, record] : records_) {
    if (record.bucket_ready) record.bucket = rateBucket(record.info.cps, instances_, now_ms);
  }
}

bool Admission::setCallsElsewhere(std::string_view trunk, std::uint32_t calls) {
  const auto it = records_.find(std::string(trunk));
  // An unknown trunk's number is not stored: the next update after the table that adds it
  // brings it (the Redis thread sends them periodically).
  if (it == records_.end()) return false;
  it->second.info.elsewhere = calls;
  return it->second.info.in_table;
}

AdmitResult Admission::admit(const Record& record, std::int64_t now_ms) const {
  const TrunkAdmission& info = record.info;
  if (info.admin == AdminState::Disabled) return AdmitResult::Disabled;
  // SPEC §4: draining takes no new calls.
  if (info.admin == AdminState::Draining) return AdmitResult::Draining;
  if (capacityFull(info.capacity, info.active, info.elsewhere)) return AdmitResult::Full;
  if (info.cps > 0) {
    TokenBucket probe = record.bucket;  // look without spending: take from a copy
    if (!probe.take(now_ms)) return AdmitResult::RateLimited;
  }
  return AdmitResult::Admitted;
}

AdmitResult Admission::check(TrunkIndex trunk, std::int64_t now_ms) const {
  if (trunk >= by_index_.size()) return AdmitResult::UnknownTrunk;
  return admit(*by_index_[trunk], now_ms);
}

AdmitResult Admission::acquire(TrunkIndex trunk, CallId call, std::int64_t now_ms) {
  if (trunk >= by_index_.size()) return AdmitResult::UnknownTrunk;
  if (calls_.contains(call)) return AdmitResult::AlreadyHeld;
  Record& record = *by_index_[trunk];
  const AdmitResult result = admit(record, now_ms);
  switch (result) {
    case AdmitResult::Admitted:
      if (record.info.cps > 0) record.bucket.take(now_ms);  // admit() saw a token there
      ++record.info.active;
      ++record.info.admitted;
      calls_.emplace(call, Held{&record, now_ms});
      break;
    case AdmitResult::Disabled:
      ++record.info.refused_disabled;
      break;
    case AdmitResult::Draining:
      ++record.info.refused_draining;
      break;
    case AdmitResult::Full:
      ++record.info.refused_full;
      break;
    case AdmitResult::RateLimited:
      ++record.info.refused_rate;
      break;
    case AdmitResult::UnknownTrunk:
    case AdmitResult::AlreadyHeld:
      break;
  }
  return result;
}

bool Admission::release(CallId call) {
  const auto it = calls_.find(call);
  if (it == calls_.end()) {
    ++unknown_releases_;  // released twice, or never admitted: nothing to give back
    return false;
  }
  Record& record = *it->second.record;
  // Every held call added one; the guard only documents that the count cannot wrap.
  if (record.info.active > 0) --record.info.active;
  calls_.erase(it);
  if (!record.info.in_table && record.info.active == 0 &&
      record.info.admin == AdminState::Enabled) {
    const std::string name = record.info.name;  // not a reference into the erased node
    records_.erase(name);                       // the last call of a trunk gone from the table
  }
  return true;
}

SkipReason Admission::skipReason(TrunkIndex trunk, HealthState health, std::int64_t now_ms) const {
  if (trunk >= by_index_.size()) return SkipReason::None;
  const Record& record = *by_index_[trunk];
  const AdmitResult admitted = admit(record, now_ms);
  const bool full = admitted == AdmitResult::Full || admitted == AdmitResult::RateLimited;
  return liveSkipReason(record.info.admin, health, full);
}

void Admission::fillTrunkState(std::span<const HealthState> health, std::int64_t now_ms,
                               std::vector<SkipReason>& out) const {
  out.resize(by_index_.size());
  for (std::size_t i = 0; i < by_index_.size(); ++i) {
    const HealthState state = i < health.size() ? health[i] : HealthState::Unknown;
    out[i] = skipReason(static_cast<TrunkIndex>(i), state, now_ms);
  }
}

std::vector<CallId> Admission::callsHeldSince(std::int64_t cutoff_ms) const {
  std::vector<CallId> out;
  for (const auto& [call, held] : calls_) {
    if (held.since_ms < cutoff_ms) out.push_back(call);
  }
  std::sort(out.begin(), out.end());  // a stable order for logs and tests
  return out;
}

std::optional<TrunkIndex> Admission::trunkOf(CallId call) const {
  const auto it = calls_.find(call);
  if (it == calls_.end() || !it->second.record->info.in_table) return std::nullopt;
  return it->second.record->index;
}

const TrunkAdmission* Admission::trunk(TrunkIndex trunk) const {
  return trunk < by_index_.size() ? &by_index_[trunk]->info : nullptr;
}

const TrunkAdmission* Admission::trunk(std::string_view name) const {
  const auto it = records_.find(std::string(name));
  return it == records_.end() ? nullptr : &it->second.info;
}

std::uint32_t Admission::activeCalls(TrunkIndex trunk) const {
  return trunk < by_index_.size() ? by_index_[trunk]->info.active : 0;
}

}  // namespace sb::core
