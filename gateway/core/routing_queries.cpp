// Queries on the immutable routing snapshot: regions, area codes, caller home regions,
// hierarchical lookup with topics, trunks by source, candidate order. SPEC §3-§4. The
// call-path queries allocate nothing beyond short-string keys (kept in the SSO buffer).
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "core/routing_internal.hpp"
#include "core/routing_table.hpp"

namespace sb::core {

using detail::allDigits;
using detail::isWellFormedCode;
using detail::kHasCity;
using detail::kListed;
using detail::kMaxCallerPrefix;
using detail::levelOfKey;
using detail::SplitMix64;
using detail::topicRouteKey;
using detail::weightedOrder;

// ---- Queries (call path: no allocation beyond short-string keys) --------------------------

const Trunk* RoutingTable::findTrunk(std::string_view name) const {
  const auto it = trunk_by_name_.find(std::string(name));
  return it == trunk_by_name_.end() ? nullptr : &trunks_[it->second];
}

bool RoutingTable::knownRegion(RegionCode code) const {
  if (!isWellFormedCode(code)) return false;
  const auto flags = [this](RegionCode c) -> std::uint8_t {
    const auto it = regions_.find(c);
    return it == regions_.end() ? 0 : it->second;
  };
  if (flags(code) & kListed) return true;
  if (isCountyCode(code) && isCityCode(cityOf(code)) && (flags(cityOf(code)) & kListed)) {
    return true;
  }
  // A province listed without any of its cities stands for all of them (a centralised
  // province, context.md); once cities are listed, only those are known.
  const std::uint8_t province = flags(provinceOf(code));
  return (province & kListed) != 0 && (province & kHasCity) == 0;
}

std::optional<RegionCode> RoutingTable::areaCode(std::string_view area_code) const {
  if (area_code.size() > 4) return std::nullopt;  // keeps the key within the short-string buffer
  const auto it = area_codes_.find(std::string(area_code));
  if (it == area_codes_.end()) return std::nullopt;
  return it->second;
}

std::uint64_t CallerPrefixMap::key(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > kMaxCallerPrefix) return 0;
  std::uint64_t value = 0;
  for (const char c : prefix) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return (static_cast<std::uint64_t>(prefix.size()) << 24) | value;  // 10^7 < 2^24
}

namespace {
std::size_t slotOf(std::uint64_t key, std::size_t mask) {
  return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}
}  // namespace

void CallerPrefixMap::grow() {
  std::vector<std::uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
  const std::size_t mask = slots_.size() - 1;
  for (const std::uint64_t slot : old) {
    if (slot == 0) continue;
    std::size_t i = slotOf(slot >> 32, mask);
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

bool CallerPrefixMap::insert(std::string_view prefix, RegionCode code) {
  const std::uint64_t k = key(prefix);
  if (k == 0) return false;
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = slotOf(k, mask);
  while (slots_[i] != 0) {
    if ((slots_[i] >> 32) == k) return false;
    i = (i + 1) & mask;
  }
  slots_[i] = (k << 32) | code;
  ++size_;
  return true;
}

std::optional<RegionCode> CallerPrefixMap::find(std::string_view prefix) const {
  const std::uint64_t k = key(prefix);
  if (k == 0 || slots_.empty()) return std::nullopt;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = slotOf(k, mask);; i = (i + 1) & mask) {
    const std::uint64_t slot = slots_[i];
    if (slot == 0) return std::nullopt;
    if ((slot >> 32) == k) return static_cast<RegionCode>(slot & 0xffffffffu);
  }
}

std::optional<CallerMatch> RoutingTable::matchCaller(std::string_view national_number) const {
  if (national_number.size() < 3 || !allDigits(national_number)) return std::nullopt;
  if (national_number[0] == '1' && national_number[1] >= '3') {  // 13x..19x
    // SPEC §3: mobiles by their prefix; the longest listed prefix is the most specific.
    const std::size_t longest = std::min(kMaxCallerPrefix, national_number.size());
    for (std::size_t len = longest; len > 0; --len) {
      if (const std::optional<RegionCode> code =
              caller_prefixes_.find(national_number.substr(0, len))) {
        return CallerMatch{*code, true, static_cast<std::uint8_t>(len)};
      }
    }
    return std::nullopt;
  }
  if (national_number[0] == '0') {
    // SPEC §3: fixed lines by area code; Chinese area codes are prefix-free, so trying the
    // 3-digit form (010, 02x) before the 4-digit one cannot shadow a longer code.
    for (const std::size_t len : {std::size_t{3}, std::size_t{4}}) {
      if (const std::optional<RegionCode> code = areaCode(national_number.substr(0, len))) {
        return CallerMatch{*code, false, static_cast<std::uint8_t>(len)};
      }
    }
  }
  return std::nullopt;
}

std::optional<RegionCode> RoutingTable::callerRegion(std::string_view national_number) const {
  const std::optional<CallerMatch> match = matchCaller(national_number);
  if (!match) return std::nullopt;
  return match->region;
}

LookupResult RoutingTable::lookup(RegionCode code) const { return lookup(code, kNoTopic); }

LookupResult RoutingTable::lookup(RegionCode code, TopicCode topic) const {
  // SPEC §3: exact code -> its city -> its province -> default, and at each level the
  // (region, topic) route first: the exact topic, then its first level. A level that equals
  // the one before (a city's city is itself) is not checked twice.
  const TopicCode first_level = firstLevelOf(topic);
  const bool topics = topic != kNoTopic && !topic_routes_.empty();
  const auto topicRoute = [&](RegionCode key, Level level) -> std::optional<LookupResult> {
    if (!topics) return std::nullopt;
    for (const TopicCode t : {topic, first_level}) {
      const auto it = topic_routes_.find(topicRouteKey(key, t));
      if (it != topic_routes_.end()) return LookupResult{&it->second, level, key, t};
      if (first_level == topic) break;
    }
    return std::nullopt;
  };
  if (code != kNoRegion) {
    const RegionCode chain[] = {code, cityOf(code), provinceOf(code)};
    RegionCode previous = kNoRegion;
    for (const RegionCode key : chain) {
      if (key == previous) continue;
      previous = key;
      const Level level = levelOfKey(key);
      if (auto found = topicRoute(key, level)) return *found;
      const auto it = routes_.find(key);
      if (it != routes_.end()) return LookupResult{&it->second, level, key, kNoTopic};
    }
  }
  if (auto found = topicRoute(kNoRegion, Level::Default)) return *found;
  return LookupResult{defaultRoute(), Level::Default, kNoRegion, kNoTopic};
}

const TopicInfo* RoutingTable::topic(TopicCode topic) const {
  const auto it = topics_.find(topic);
  return it == topics_.end() ? nullptr : &it->second;
}

const RegionInfo* RoutingTable::region(RegionCode code) const {
  const auto it = region_names_.find(code);
  return it == region_names_.end() ? nullptr : &it->second;
}

const Trunk* RoutingTable::trunkBySource(std::string_view ip) const {
  const auto it = trunk_by_source_.find(std::string(ip));
  if (it != trunk_by_source_.end()) return &trunks_[it->second];
  // Not in the canonical form the table stores (upper-case hex, v4-mapped, brackets): retry
  // once canonicalised. Plain IPv4 is already canonical, so this is the rare path.
  if (ip.find(':') == std::string_view::npos) return nullptr;
  const std::optional<std::string> canonical = canonicalAddress(ip);
  if (!canonical || *canonical == ip) return nullptr;
  const auto again = trunk_by_source_.find(*canonical);
  return again == trunk_by_source_.end() ? nullptr : &trunks_[again->second];
}

// ---- Candidates ---------------------------------------------------------------------------

std::vector<TrunkIndex> candidateOrder(const Route& route, std::uint64_t random) {
  std::size_t total_members = 0;
  for (const RouteGroup& group : route.groups) total_members += group.members.size();
  std::vector<TrunkIndex> order;
  order.reserve(total_members);
  // SPEC §4: groups are tried in order; inside a group trunks share load by weight.
  SplitMix64 rng(random);
  std::vector<RouteMember> pool;
  for (const RouteGroup& group : route.groups) {
    pool.assign(group.members.begin(), group.members.end());
    weightedOrder(pool.begin(), pool.end(), rng,
                  [](const RouteMember& m) -> std::uint64_t { return m.weight; });
    for (const RouteMember& member : pool) order.push_back(member.trunk);
  }
  return order;
}

// ---- Route keys ---------------------------------------------------------------------------

RouteKeyText routeKeyText(RegionCode region, TopicCode topic) {
  RouteKeyText out;
  const auto put = [&out](std::string_view text) {
    for (const char c : text) {
      if (out.size < out.chars.size()) out.chars[out.size++] = c;
    }
  };
  if (region == kNoRegion) {
    put("default");
  } else {
    char digits[6];
    RegionCode value = region;
    for (int i = 5; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    put(std::string_view(digits, 6));
  }
  if (topic != kNoTopic) {
    put("/");
    const TopicText text = topicText(topic);
    put(text.view());
  }
  return out;
}

}  // namespace sb::core
