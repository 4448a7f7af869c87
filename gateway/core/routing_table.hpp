// The immutable, validated routing snapshot the call path reads. SPEC §3–§5. Pure.
// Built aside by buildTable(), shared as std::shared_ptr<const RoutingTable>, swapped whole.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/hours.hpp"
#include "core/region.hpp"
#include "core/table_spec.hpp"
#include "core/topic.hpp"

namespace sb::core {

using TrunkIndex = std::uint32_t;

struct Trunk {
  TrunkIndex index = 0;  // position in RoutingTable::trunks()
  std::string name;
  RegionCode region = kNoRegion;
  std::string display_name;
  std::vector<std::string> targets;
  std::vector<std::string> sources;
  std::uint32_t capacity = 0;
  std::uint32_t cps = 0;
  OpeningHours hours;  // SPEC §4; 7×24 unless the table gives hours
  // SPEC §4: the trunk's own probe settings over the gateway-wide ones
  // (core::resolveProbeConfig); empty: the gateway-wide settings.
  ProbeOverrides probe;

  // SPEC §4: outside its hours a trunk is skipped. Allocation-free; time passed in.
  bool openAt(std::int64_t unix_seconds) const { return hours.openAt(unix_seconds); }
};

struct RouteMember {
  TrunkIndex trunk = 0;
  std::uint32_t weight = 1;
};

struct RouteGroup {
  std::vector<RouteMember> members;
};

struct Route {
  std::vector<RouteGroup> groups;
};

struct LookupResult {
  const Route* route = nullptr;  // nullptr: no route at any level and no default
  Level level = Level::Default;
  RegionCode matched = kNoRegion;  // the key that matched (kNoRegion for the default route)
  TopicCode topic = kNoTopic;      // the matched key's topic; kNoTopic: a region-only route
};

// Names of a listed region or topic (explanations, the admin API).
struct RegionInfo {
  std::string name_zh;
  std::string name_en;
};
struct TopicInfo {
  std::string name_zh;
  std::string name_en;
};

// What a caller's number matched (SPEC §3): a mobile prefix or a fixed line's area code.
struct CallerMatch {
  RegionCode region = kNoRegion;
  bool mobile = false;      // true: by mobile prefix; false: by area code
  std::uint8_t length = 0;  // digits of the number that matched ("1370371": 7; "0512": 4)
};

// A route key as text, without allocating: "320500", "320500/0202", "default", "default/02".
struct RouteKeyText {
  std::array<char, 16> chars{};
  std::uint8_t size = 0;
  std::string_view view() const { return {chars.data(), size}; }
};
RouteKeyText routeKeyText(RegionCode region, TopicCode topic);

// Mobile caller prefixes (1 to 7 digits, SPEC §3) -> division. The national table has
// ~154,000: as std::unordered_map<std::string, RegionCode> nodes they held ~12 MB of every
// gateway's memory. Here: open addressing over 8-byte slots (key = length and digits,
// value = region code) at most half full, ~2.4 MB, one probe sequence per lookup, no
// allocation on lookup.
class CallerPrefixMap {
 public:
  // False when `prefix` is already there (its first code stays) or is not 1-7 digits.
  bool insert(std::string_view prefix, RegionCode code);
  std::optional<RegionCode> find(std::string_view prefix) const;
  std::size_t size() const { return size_; }

 private:
  static std::uint64_t key(std::string_view prefix);  // 0: not 1-7 digits
  void grow();
  std::vector<std::uint64_t> slots_;  // key << 32 | code; 0 = empty
  std::size_t size_ = 0;
};

class RoutingTable {
 public:
  std::uint64_t version() const { return version_; }
  const std::vector<Trunk>& trunks() const { return trunks_; }
  const Trunk* findTrunk(std::string_view name) const;

  // A division code is known when it is a listed region, or a county whose city is listed,
  // or (when no city of that province is listed) any code whose province is listed.
  bool knownRegion(RegionCode code) const;

  // "0512" -> 320500.
  std::optional<RegionCode> areaCode(std::string_view area_code) const;

  // Caller home region from a normalised national number (no +86/0086; fixed lines keep
  // their leading 0: "051268001234"; mobiles "13905121234"). Mobiles by the longest listed
  // prefix, fixed lines by area code (3 or 4 digits with the 0).
  std::optional<RegionCode> callerRegion(std::string_view national_number) const;
  // The same, saying what matched.
  std::optional<CallerMatch> matchCaller(std::string_view national_number) const;

  // SPEC §3: exact county -> its city -> its province -> default route.
  LookupResult lookup(RegionCode code) const;
  // SPEC §3 with a topic: at each level the (region, topic) route beats the region's own
  // route: county+topic > county > city+topic > city > province+topic > province >
  // default+topic > default. A second-level topic ("0202") also matches routes of its first
  // level ("02"), the exact code first. kNoTopic: as lookup(code). kNoRegion: the default
  // routes only. Allocation-free (integer keys).
  LookupResult lookup(RegionCode code, TopicCode topic) const;
  const Route* defaultRoute() const { return default_route_ ? &*default_route_ : nullptr; }

  // The trunk whose sources list this IP address (textual form as the socket reports it).
  const Trunk* trunkBySource(std::string_view ip) const;

  std::size_t routeCount() const {
    return routes_.size() + topic_routes_.size() + (default_route_ ? 1 : 0);
  }

  // Listed topics (topics table); nullptr when `topic` is not listed.
  const TopicInfo* topic(TopicCode topic) const;
  std::size_t topicCount() const { return topics_.size(); }
  // Names of a listed region; nullptr when the code itself is not listed.
  const RegionInfo* region(RegionCode code) const;

 private:
  friend struct TableBuilder;
  std::uint64_t version_ = 0;
  std::vector<Trunk> trunks_;
  std::unordered_map<std::string, TrunkIndex> trunk_by_name_;
  std::unordered_map<RegionCode, Route> routes_;
  std::optional<Route> default_route_;
  std::unordered_map<std::string, RegionCode> area_codes_;
  std::unordered_map<RegionCode, std::uint8_t> regions_;  // listed codes
  CallerPrefixMap caller_prefixes_;
  std::unordered_map<std::string, TrunkIndex> trunk_by_source_;
  // (region << 16 | topic) -> route; region kNoRegion for "default/<topic>".
  std::unordered_map<std::uint64_t, Route> topic_routes_;
  std::unordered_map<TopicCode, TopicInfo> topics_;
  std::unordered_map<RegionCode, RegionInfo> region_names_;
};

struct BuildResult {
  std::shared_ptr<const RoutingTable> table;  // null when errors is not empty
  std::vector<TableError> errors;             // every error found, not just the first
};

// Validates everything (unknown trunk, duplicate trunk/route/area code, bad code, bad URI,
// route key whose province is not a listed region, trunk used by no route, a source
// address claimed by two trunks, a route topic not in the topics table, bad opening hours,
// ...) and builds the snapshot.
BuildResult buildTable(const TableSpec& spec, std::uint64_t version);

// The order in which a call tries the trunks of a route: groups in order; inside a group
// a weighted random order drawn from `random` (injected so tests are deterministic).
std::vector<TrunkIndex> candidateOrder(const Route& route, std::uint64_t random);

// Strips "+86", "0086", "86" before an 11-digit mobile, and leaves a national number:
// "+8613905121234" -> "13905121234", "0086512..." -> "0512...", "+861068001234" -> "01068001234".
// Returns "" for withheld/anonymous/garbage input.
std::string normaliseCallerNumber(std::string_view raw);

// The same, kept inline (no allocation whatever the input): the call path's form.
struct NationalNumber {
  std::array<char, 15> digits{};
  std::uint8_t size = 0;
  std::string_view view() const { return {digits.data(), size}; }
};
NationalNumber nationalNumber(std::string_view raw);

}  // namespace sb::core
