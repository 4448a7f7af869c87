// The immutable routing snapshot: validation and build, lookup, candidates, caller
// numbers. SPEC §3–§5.
#include "core/routing_table.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "core/dialled.hpp"

namespace sb::core {

namespace {

// ---- Small text helpers -------------------------------------------------------------------

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool allDigits(std::string_view text) { return std::all_of(text.begin(), text.end(), isDigit); }

// A structurally valid code as parseRegionCode would accept it; guards lookups given a
// RegionCode that never went through the parser.
bool isWellFormedCode(RegionCode code) {
  return code <= 999999 && code / 10000 >= 11 && !((code / 100) % 100 == 0 && code % 100 != 0);
}

Level levelOfKey(RegionCode key) {
  if (isCountyCode(key)) return Level::County;
  if (isCityCode(key)) return Level::City;
  return Level::Province;
}

// SPEC §3: mobile prefixes are at most 7 digits ("1390512"); fixed lines go by area code.
constexpr std::size_t kMaxCallerPrefix = 7;

bool isCallerPrefix(std::string_view prefix) {
  return !prefix.empty() && prefix.size() <= kMaxCallerPrefix && prefix.front() == '1' &&
         allDigits(prefix);
}

// Flags kept per code in RoutingTable::regions_.
constexpr std::uint8_t kListed = 1;   // the code itself is a listed region
constexpr std::uint8_t kHasCity = 2;  // (province entries) some city of it is listed

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Where an earlier item was, for "duplicate ... (first defined at ...)".
std::string where(const SourceLoc& loc) {
  const std::string line = loc.line > 0 ? std::to_string(loc.line) : std::string();
  if (loc.file.empty()) return line.empty() ? "an earlier entry" : "line " + line;
  return line.empty() ? loc.file : loc.file + ":" + line;
}

}  // namespace

// ---- Build --------------------------------------------------------------------------------

// Fills a RoutingTable's private maps while collecting every error (SPEC §5: each error
// with file:line, all of them, so an operator fixes a file in one pass).
struct TableBuilder {
  explicit TableBuilder(const TableSpec& spec_in, std::uint64_t version) : spec(spec_in) {
    table->version_ = version;
  }

  const TableSpec& spec;
  std::shared_ptr<RoutingTable> table = std::make_shared<RoutingTable>();
  std::vector<TableError> errors;
  std::vector<bool> trunk_used;                           // by TrunkIndex
  std::vector<SourceLoc> trunk_locs;                      // by TrunkIndex
  std::unordered_map<std::string, SourceLoc> first_seen;  // "kind\0key" -> where

  void fail(const SourceLoc& loc, std::string message) {
    errors.push_back(TableError{loc, std::move(message)});
  }

  // True the first time (kind, key) is seen; otherwise reports a duplicate.
  bool firstTime(std::string_view kind, std::string_view key, const SourceLoc& loc) {
    std::string id = std::string(kind) + '\0' + std::string(key);
    const auto [it, inserted] = first_seen.try_emplace(std::move(id), loc);
    if (!inserted) {
      fail(loc, "duplicate " + std::string(kind) + " " + quoted(key) + " (first defined at " +
                    where(it->second) + ")");
    }
    return inserted;
  }

  // A division code field; reports and returns nullopt when it is not one.
  std::optional<RegionCode> division(std::string_view text, const SourceLoc& loc,
                                     std::string_view what) {
    const std::optional<RegionCode> code = parseRegionCode(text);
    if (!code) {
      fail(loc, "bad division code " + quoted(text) + " " + std::string(what) +
                    ": expected 6 digits of a GB/T 2260 code");
    }
    return code;
  }

  bool listed(RegionCode code) const {
    const auto it = table->regions_.find(code);
    return it != table->regions_.end() && (it->second & kListed) != 0;
  }

  void addRegions() {
    for (const RegionSpec& region : spec.regions) {
      const std::optional<RegionCode> code = division(region.code, region.loc, "in regions");
      if (!code || !firstTime("region", region.code, region.loc)) continue;
      table->regions_[*code] |= kListed;
      if (isCityCode(*code)) table->regions_[provinceOf(*code)] |= kHasCity;
    }
  }

  void addTrunks() {
    std::unordered_map<std::string, std::string> source_owner;  // canonical address -> trunk
    for (const TrunkSpec& spec_trunk : spec.trunks) {
      const SourceLoc& loc = spec_trunk.loc;
      const std::string& name = spec_trunk.name;
      if (!isTrunkName(name)) {
        fail(loc, "invalid trunk name " + quoted(name) + ": expected [a-z0-9][a-z0-9-]*");
      }
      if (!firstTime("trunk", name, loc)) continue;

      Trunk trunk;
      trunk.index = static_cast<TrunkIndex>(table->trunks_.size());
      trunk.name = name;
      trunk.display_name = spec_trunk.display_name;
      trunk.capacity = spec_trunk.capacity;
      trunk.cps = spec_trunk.cps;
      trunk.region =
          division(spec_trunk.region, loc, "for trunk " + quoted(name)).value_or(kNoRegion);

      if (spec_trunk.targets.empty()) fail(loc, "trunk " + quoted(name) + " has no targets");
      for (const std::string& target : spec_trunk.targets) {
        if (!isSipTarget(target)) {
          fail(loc, "bad target " + quoted(target) + " for trunk " + quoted(name) +
                        ": expected a sip: or sips: URI with a host");
        }
      }
      trunk.targets = spec_trunk.targets;

      for (const std::string& source : spec_trunk.sources) {
        const std::optional<std::string> address = canonicalAddress(source);
        if (!address) {
          fail(loc, "bad source address " + quoted(source) + " for trunk " + quoted(name) +
                        ": expected an IPv4 or IPv6 address");
          continue;
        }
        const auto [owner, inserted] = source_owner.try_emplace(*address, name);
        if (!inserted) {
          // SPEC §9: the source address identifies the calling trunk; two owners would make
          // the ACL and the origin-trunk metrics ambiguous.
          fail(loc,
               owner->second == name
                   ? "source address " + quoted(source) + " listed twice for trunk " + quoted(name)
                   : "source address " + quoted(source) + " of trunk " + quoted(name) +
                         " is already claimed by trunk " + quoted(owner->second));
          continue;
        }
        table->trunk_by_source_.emplace(*address, trunk.index);
        trunk.sources.push_back(*address);
      }

      table->trunk_by_name_.emplace(name, trunk.index);
      trunk_locs.push_back(loc);
      table->trunks_.push_back(std::move(trunk));
    }
    trunk_used.assign(table->trunks_.size(), false);
  }

  void addRoutes() {
    for (const RouteSpec& spec_route : spec.routes) {
      const SourceLoc& loc = spec_route.loc;
      const bool is_default = spec_route.key == "default";
      std::optional<RegionCode> key;
      if (!is_default) {
        key = parseRegionCode(spec_route.key);
        if (!key) {
          fail(loc, "bad division code " + quoted(spec_route.key) +
                        " in route key: expected 6 digits of a GB/T 2260 code or 'default'");
        }
      }
      const bool first = firstTime("route key", spec_route.key, loc);
      const std::string label = "route " + spec_route.key;
      // SPEC §5 "unreachable route": a key outside every listed province names no region a
      // caller can be in, so it is a typo or a stale entry.
      if (key && !listed(provinceOf(*key))) {
        fail(loc,
             label + ": province " + std::to_string(provinceOf(*key)) + " is not a listed region");
      }

      Route route;
      if (spec_route.groups.empty()) fail(loc, label + " has no trunk groups");
      std::vector<TrunkIndex> seen;
      for (std::size_t g = 0; g < spec_route.groups.size(); ++g) {
        const std::vector<RouteMemberSpec>& group_spec = spec_route.groups[g];
        if (group_spec.empty()) {
          fail(loc, "group " + std::to_string(g + 1) + " of " + label + " is empty");
        }
        RouteGroup group;
        for (const RouteMemberSpec& member : group_spec) {
          const SourceLoc& mloc = member.loc.file.empty() ? loc : member.loc;
          if (member.weight == 0) {
            fail(mloc, "weight 0 for trunk " + quoted(member.trunk) + " in " + label +
                           ": weights must be at least 1");
          }
          const auto it = table->trunk_by_name_.find(member.trunk);
          if (it == table->trunk_by_name_.end()) {
            fail(mloc, "unknown trunk " + quoted(member.trunk) + " in " + label);
            continue;
          }
          trunk_used[it->second] = true;
          // A trunk twice in one route would be tried twice after it already failed.
          if (std::find(seen.begin(), seen.end(), it->second) != seen.end()) {
            fail(mloc, "trunk " + quoted(member.trunk) + " appears twice in " + label);
            continue;
          }
          seen.push_back(it->second);
          group.members.push_back(RouteMember{it->second, member.weight});
        }
        route.groups.push_back(std::move(group));
      }

      if (!first) continue;
      if (is_default) {
        table->default_route_ = std::move(route);
      } else if (key) {
        table->routes_.emplace(*key, std::move(route));
      }
    }
  }

  void addAreaCodes() {
    for (const AreaCodeSpec& area : spec.area_codes) {
      if (!isAreaCodeShape(area.area_code)) {
        fail(area.loc, "bad area code " + quoted(area.area_code) +
                           ": expected 0 + 2 digits (010, 02x) or 0 + 3 digits (0512)");
      }
      const std::optional<RegionCode> code =
          division(area.division, area.loc, "for area code " + quoted(area.area_code));
      if (!firstTime("area code", area.area_code, area.loc) || !code) continue;
      table->area_codes_.emplace(area.area_code, *code);
    }
  }

  void addCallerPrefixes() {
    for (const CallerPrefixSpec& prefix : spec.caller_prefixes) {
      if (!isCallerPrefix(prefix.prefix)) {
        fail(prefix.loc, "bad caller prefix " + quoted(prefix.prefix) +
                             ": expected 1 to 7 digits of a mobile number (starting with 1)");
      }
      const std::optional<RegionCode> code =
          division(prefix.division, prefix.loc, "for caller prefix " + quoted(prefix.prefix));
      if (!firstTime("caller prefix", prefix.prefix, prefix.loc) || !code) continue;
      table->caller_prefixes_.emplace(prefix.prefix, *code);
    }
  }

  // SPEC §5: a trunk no route uses can never receive a call; almost always a typo in a route.
  void checkReachable() {
    for (const Trunk& trunk : table->trunks_) {
      if (!trunk_used[trunk.index]) {
        fail(trunk_locs[trunk.index],
             "unreachable trunk " + quoted(trunk.name) + ": no route uses it");
      }
    }
  }
};

BuildResult buildTable(const TableSpec& spec, std::uint64_t version) {
  TableBuilder builder(spec, version);
  builder.addRegions();  // first: route keys are checked against listed provinces
  builder.addTrunks();   // before routes: members refer to trunks by name
  builder.addRoutes();
  builder.addAreaCodes();
  builder.addCallerPrefixes();
  builder.checkReachable();

  BuildResult result;
  if (!builder.errors.empty()) {
    // Editor order: by file, then line; errors found at one place keep their order.
    std::stable_sort(builder.errors.begin(), builder.errors.end(),
                     [](const TableError& a, const TableError& b) {
                       return std::tie(a.loc.file, a.loc.line) < std::tie(b.loc.file, b.loc.line);
                     });
    result.errors = std::move(builder.errors);
    return result;
  }
  result.table = std::move(builder.table);
  return result;
}

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

std::optional<RegionCode> RoutingTable::callerRegion(std::string_view national_number) const {
  if (national_number.size() < 3 || !allDigits(national_number)) return std::nullopt;
  if (national_number[0] == '1' && national_number[1] >= '3') {  // 13x..19x
    // SPEC §3: mobiles by their prefix; the longest listed prefix is the most specific.
    const std::size_t longest = std::min(kMaxCallerPrefix, national_number.size());
    for (std::size_t len = longest; len > 0; --len) {
      const auto it = caller_prefixes_.find(std::string(national_number.substr(0, len)));
      if (it != caller_prefixes_.end()) return it->second;
    }
    return std::nullopt;
  }
  if (national_number[0] == '0') {
    // SPEC §3: fixed lines by area code; Chinese area codes are prefix-free, so trying the
    // 3-digit form (010, 02x) before the 4-digit one cannot shadow a longer code.
    for (const std::size_t len : {std::size_t{3}, std::size_t{4}}) {
      if (const std::optional<RegionCode> code = areaCode(national_number.substr(0, len))) {
        return code;
      }
    }
  }
  return std::nullopt;
}

LookupResult RoutingTable::lookup(RegionCode code) const {
  // SPEC §3: exact code -> its city -> its province -> default. A level that equals the one
  // before (a city's city is itself) is not checked twice.
  if (code != kNoRegion) {
    const RegionCode chain[] = {code, cityOf(code), provinceOf(code)};
    RegionCode previous = kNoRegion;
    for (const RegionCode key : chain) {
      if (key == previous) continue;
      previous = key;
      const auto it = routes_.find(key);
      if (it != routes_.end()) return LookupResult{&it->second, levelOfKey(key), key};
    }
  }
  return LookupResult{defaultRoute(), Level::Default, kNoRegion};
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

namespace {

// splitmix64 (Steele, Lea, Flood 2014): a tiny, well-mixed generator with no global state,
// so one injected seed fixes the whole order (style: randomness comes in as an argument).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

}  // namespace

std::vector<TrunkIndex> candidateOrder(const Route& route, std::uint64_t random) {
  std::size_t total_members = 0;
  for (const RouteGroup& group : route.groups) total_members += group.members.size();
  std::vector<TrunkIndex> order;
  order.reserve(total_members);

  SplitMix64 rng(random);
  std::vector<RouteMember> pool;
  for (const RouteGroup& group : route.groups) {
    // SPEC §4: groups are tried in order; inside a group trunks share load by weight, so
    // each pick is drawn with probability weight / remaining weight, without replacement.
    pool.assign(group.members.begin(), group.members.end());
    while (!pool.empty()) {
      std::uint64_t remaining = 0;
      for (const RouteMember& member : pool) remaining += member.weight;
      if (remaining == 0) {
        // Only zero weights left (buildTable forbids them; a hand-made Route may not):
        // keep them, last and in listed order, rather than drop a trunk.
        for (const RouteMember& member : pool) order.push_back(member.trunk);
        break;
      }
      // Modulo bias is below 2^-32 for any realistic total weight.
      std::uint64_t draw = rng.next() % remaining;
      std::size_t pick = 0;
      while (draw >= pool[pick].weight) {
        draw -= pool[pick].weight;
        ++pick;
      }
      order.push_back(pool[pick].trunk);
      pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(pick));
    }
  }
  return order;
}

// ---- Caller numbers -----------------------------------------------------------------------

namespace {

// Mobile numbers: 11 digits, 1 then 3..9 (13x..19x).
bool isMobile(std::string_view n) {
  return n.size() == 11 && n[0] == '1' && n[1] >= '3' && n[1] <= '9' && allDigits(n);
}

// A national fixed-line number with its 0: area code 010/02x + 8 digits, or 0xxx + 7 or 8.
bool isFixedLine(std::string_view n) {
  if (n.size() < 4 || n[0] != '0' || !allDigits(n)) return false;
  if (n[1] == '1' || n[1] == '2') return n.size() == 11;
  if (n[1] >= '3' && n[1] <= '9') return n.size() == 11 || n.size() == 12;
  return false;
}

// What follows +86 / 0086: a mobile, or a fixed line written without its trunk 0 (E.164),
// or (a common peer mistake) with it.
std::string fromSubscriber(std::string_view n) {
  if (isMobile(n)) return std::string(n);
  if (!n.empty() && n[0] == '0') return isFixedLine(n) ? std::string(n) : std::string();
  std::string fixed = "0" + std::string(n);
  return isFixedLine(fixed) ? fixed : std::string();
}

}  // namespace

std::string normaliseCallerNumber(std::string_view raw) {
  std::string_view n = raw;
  const bool plus = n.starts_with('+');
  if (plus) n.remove_prefix(1);
  // "anonymous", "unknown", separators, control characters: no usable home region (SPEC §3
  // then routes by the default route).
  if (n.empty() || !allDigits(n)) return {};
  if (plus) {
    // E.164: only China's country code gives a home region in China.
    return n.starts_with("86") ? fromSubscriber(n.substr(2)) : std::string();
  }
  if (n.starts_with("00")) {
    // International prefix dialled from China: 0086 is China, anything else is abroad.
    return n.starts_with("0086") ? fromSubscriber(n.substr(4)) : std::string();
  }
  if (n.size() == 13 && n.starts_with("86") && isMobile(n.substr(2))) {
    return std::string(n.substr(2));  // country code without '+' before a mobile
  }
  if (isMobile(n) || isFixedLine(n)) return std::string(n);
  return {};
}

}  // namespace sb::core
