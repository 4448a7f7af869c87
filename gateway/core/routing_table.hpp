// The immutable, validated routing snapshot the call path reads. SPEC §3–§5. Pure.
// Built aside by buildTable(), shared as std::shared_ptr<const RoutingTable>, swapped whole.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/region.hpp"
#include "core/table_spec.hpp"

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

  // SPEC §3: exact county -> its city -> its province -> default route.
  LookupResult lookup(RegionCode code) const;
  const Route* defaultRoute() const { return default_route_ ? &*default_route_ : nullptr; }

  // The trunk whose sources list this IP address (textual form as the socket reports it).
  const Trunk* trunkBySource(std::string_view ip) const;

  std::size_t routeCount() const { return routes_.size() + (default_route_ ? 1 : 0); }

 private:
  friend struct TableBuilder;
  std::uint64_t version_ = 0;
  std::vector<Trunk> trunks_;
  std::unordered_map<std::string, TrunkIndex> trunk_by_name_;
  std::unordered_map<RegionCode, Route> routes_;
  std::optional<Route> default_route_;
  std::unordered_map<std::string, RegionCode> area_codes_;
  std::unordered_map<RegionCode, std::uint8_t> regions_;  // listed codes
  std::unordered_map<std::string, RegionCode> caller_prefixes_;
  std::unordered_map<std::string, TrunkIndex> trunk_by_source_;
};

struct BuildResult {
  std::shared_ptr<const RoutingTable> table;  // null when errors is not empty
  std::vector<TableError> errors;             // every error found, not just the first
};

// Validates everything (unknown trunk, duplicate trunk/route/area code, bad code, bad URI,
// route key whose province is not a listed region, trunk used by no route, a source
// address claimed by two trunks, ...) and builds the snapshot.
BuildResult buildTable(const TableSpec& spec, std::uint64_t version);

// The order in which a call tries the trunks of a route: groups in order; inside a group
// a weighted random order drawn from `random` (injected so tests are deterministic).
std::vector<TrunkIndex> candidateOrder(const Route& route, std::uint64_t random);

// Strips "+86", "0086", "86" before an 11-digit mobile, and leaves a national number:
// "+8613905121234" -> "13905121234", "0086512..." -> "0512...", "+861068001234" -> "01068001234".
// Returns "" for withheld/anonymous/garbage input.
std::string normaliseCallerNumber(std::string_view raw);

}  // namespace sb::core
