// The immutable routing snapshot: validation and build. SPEC §3–§5. The queries are in
// routing_queries.cpp, caller numbers in caller_number.cpp.
#include "core/routing_table.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "core/dialled.hpp"
#include "core/routing_internal.hpp"
#include "core/trunk_health.hpp"

namespace sb::core {

namespace {

using detail::allDigits;
using detail::kHasCity;
using detail::kListed;
using detail::kMaxCallerPrefix;
using detail::topicRouteKey;

// ---- Small text helpers -------------------------------------------------------------------

bool isCallerPrefix(std::string_view prefix) {
  return !prefix.empty() && prefix.size() <= kMaxCallerPrefix && prefix.front() == '1' &&
         allDigits(prefix);
}

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
      table->region_names_.emplace(*code, RegionInfo{region.name_zh, region.name_en});
    }
  }

  // context.md: the ministry's two-level topic codes. A second-level code needs its first
  // level listed too (a route for "02" covers "0202", so the hierarchy must be whole).
  void addTopics() {
    for (const TopicSpec& topic : spec.topics) {
      const std::optional<TopicCode> code = parseTopicCode(topic.code);
      if (!code) {
        fail(topic.loc, "bad topic code " + quoted(topic.code) +
                            ": expected 2 digits (first level, '02') or 4 digits (second "
                            "level, '0202'), neither level 00");
        continue;
      }
      if (!firstTime("topic", topic.code, topic.loc)) continue;
      table->topics_.emplace(*code, TopicInfo{topic.name_zh, topic.name_en});
    }
    for (const TopicSpec& topic : spec.topics) {
      const std::optional<TopicCode> code = parseTopicCode(topic.code);
      if (code && !isFirstLevelTopic(*code) && table->topics_.count(firstLevelOf(*code)) == 0) {
        fail(topic.loc, "topic " + quoted(topic.code) + ": its first level " +
                            quoted(topicText(firstLevelOf(*code)).view()) + " is not listed");
      }
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
      if (spec_trunk.hours) {
        // SPEC §4: opening hours, each rule checked at its own file:line.
        std::optional<OpeningHours> hours =
            OpeningHours::compile(*spec_trunk.hours, "trunk " + quoted(name) + " hours", errors);
        if (hours) trunk.hours = std::move(*hours);
      }
      if (spec_trunk.probe) {
        checkProbe(*spec_trunk.probe, "trunk " + quoted(name) + " probe");
        trunk.probe = spec_trunk.probe->settings;
      }
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

  // SPEC §4: a trunk's own probe settings, each field at its own file:line. Ranges as
  // gateway.yaml's sip.probe; a trunk turns probing off with `enabled: false`.
  void checkProbe(const ProbeSpec& probe, const std::string& what) {
    const ProbeOverrides& p = probe.settings;
    const auto range = [&](const std::optional<std::uint32_t>& value, const char* field,
                           std::uint32_t low, std::uint32_t high, const char* unit,
                           const char* hint) {
      if (value && (*value < low || *value > high)) {
        fail(probe.locOf(field), what + " " + field + " " + std::to_string(*value) + unit +
                                     " must be between " + std::to_string(low) + " and " +
                                     std::to_string(high) + unit + hint);
      }
    };
    range(p.interval_ms, "interval_ms", kMinProbeIntervalMs, kMaxProbeIntervalMs, " ms",
          p.interval_ms == 0u ? " (enabled: false turns probing off)" : "");
    range(p.jitter_percent, "jitter_percent", 0, kMaxProbeJitterPercent, " %", "");
    range(p.timeout_ms, "timeout_ms", kMinProbeTimeoutMs, kMaxProbeTimeoutMs, " ms", "");
    range(p.down_after, "down_after", 1, kMaxProbeThreshold, "", "");
    range(p.up_after, "up_after", 1, kMaxProbeThreshold, "", "");
    if (p.accepted_codes) {
      std::vector<int> seen;
      for (const int code : *p.accepted_codes) {
        // RFC 3261 §21: a probe ends with a final response, 200-699.
        if (code < 200 || code > 699) {
          fail(probe.locOf("accepted_codes"), what + " accepted_codes: " + std::to_string(code) +
                                                  " is not a final SIP status (200-699)");
        } else if (std::find(seen.begin(), seen.end(), code) != seen.end()) {
          fail(probe.locOf("accepted_codes"),
               what + " accepted_codes: " + std::to_string(code) + " listed twice");
        }
        seen.push_back(code);
      }
    }
    // One probe at a time: when the trunk gives both, its timeout must end a probe before
    // the next is due at the shortest jittered interval (its own jitter, else SPEC's 20 %).
    // With only one given, resolveProbeConfig fits the timeout under the interval.
    if (p.interval_ms && p.timeout_ms && *p.interval_ms >= kMinProbeIntervalMs &&
        p.jitter_percent.value_or(0) <= kMaxProbeJitterPercent) {
      const std::uint32_t jitter = p.jitter_percent.value_or(ProbeConfig{}.jitter_percent);
      const std::uint64_t shortest =
          *p.interval_ms - static_cast<std::uint64_t>(*p.interval_ms) * jitter / 100;
      if (*p.timeout_ms >= shortest) {
        fail(probe.locOf("timeout_ms"), what + " timeout_ms " + std::to_string(*p.timeout_ms) +
                                            " ms must be shorter than the shortest interval " +
                                            std::to_string(shortest) + " ms (interval_ms " +
                                            std::to_string(*p.interval_ms) + " - " +
                                            std::to_string(jitter) + " % jitter)");
      }
    }
  }

  void addRoutes() {
    for (const RouteSpec& spec_route : spec.routes) {
      const SourceLoc& loc = spec_route.loc;
      // "<division>" or "default", optionally "/<topic>" (SPEC §3: (region, topic) routes).
      const std::size_t slash = spec_route.key.find('/');
      const std::string_view region_part = std::string_view(spec_route.key).substr(0, slash);
      const bool is_default = region_part == "default";
      std::optional<RegionCode> key;
      if (!is_default) {
        key = parseRegionCode(region_part);
        if (!key) {
          fail(loc, "bad division code " + quoted(region_part) +
                        " in route key: expected 6 digits of a GB/T 2260 code or 'default'");
        }
      }
      std::optional<TopicCode> topic;
      bool topic_ok = true;
      if (slash != std::string::npos) {
        const std::string_view topic_part = std::string_view(spec_route.key).substr(slash + 1);
        topic = parseTopicCode(topic_part);
        topic_ok = topic && table->topics_.count(*topic) != 0;
        if (!topic) {
          fail(loc, "bad topic " + quoted(topic_part) + " in route key " + quoted(spec_route.key) +
                        ": expected <division or default>/<2 or 4 digit topic code>");
        } else if (!topic_ok) {
          // A topic no call can carry: a typo, or the topics table lacks it.
          fail(loc, "topic " + quoted(topic_part) + " in route key " + quoted(spec_route.key) +
                        " is not in the topics table");
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

      if (!first || !topic_ok) continue;
      if (topic) {
        if (is_default || key) {
          table->topic_routes_.emplace(topicRouteKey(key.value_or(kNoRegion), *topic),
                                       std::move(route));
        }
      } else if (is_default) {
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
      table->caller_prefixes_.insert(prefix.prefix, *code);
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
  builder.addTopics();   // before routes: topic route keys are checked against topics
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

}  // namespace sb::core
