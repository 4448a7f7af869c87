// Reads a routing-table directory (SPEC §5) into a core::TableSpec. Strict like every config
// we read (style.md): unknown keys, wrong types and syntax errors are all reported, each
// with file:line, and reading goes on after an error so one run shows every problem.
#include "tables/yaml_tables.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/routing_table.hpp"
#include "tables/yaml_reader.hpp"

namespace sb::tables {
namespace {

constexpr const char* kTrunksFile = "trunks.yaml";
constexpr const char* kRoutesFile = "routes.yaml";
constexpr const char* kAreaCodesFile = "area-codes.yaml";
constexpr const char* kRegionsFile = "regions.yaml";
constexpr const char* kCallerPrefixesFile = "caller-prefixes.yaml";
constexpr const char* kTopicsFile = "topics.yaml";

using detail::describe;
using detail::FileReader;
using detail::Tainted;

// One list of hours rules: each a string, kept with its own line for the build's errors.
// `key` is the list's key in the hours map: where a missing or non-list value is reported.
bool readHoursRules(FileReader& r, const YAML::Node& key, const YAML::Node& list,
                    const std::string& what, std::vector<core::HoursRuleSpec>& out) {
  if (!list.IsSequence()) {
    r.error(key, what + " must be a list of strings, found " + describe(list));
    return false;
  }
  bool ok = true;
  for (const YAML::Node& item : list) {
    core::HoursRuleSpec rule;
    rule.loc = r.loc(item);
    if (r.string(item, what + " item", rule.text)) {
      out.push_back(std::move(rule));
    } else {
      ok = false;
    }
  }
  return ok;
}

// A trunk's `hours: {weekly: [...], closed: [...], open: [...]}` (SPEC §4). Reading checks
// the shape; core::buildTable checks each rule's meaning at its own file:line.
void readHours(FileReader& r, const YAML::Node& node, const std::string& what,
               std::optional<core::HoursSpec>& out) {
  if (!r.fields(node, what, {"weekly", "closed", "open"})) return;
  core::HoursSpec hours;
  hours.loc = r.loc(node);
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
    // Copies: yaml-cpp's iterator hands out a temporary proxy.
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    if (key == "weekly" && !hours.weekly) {
      std::vector<core::HoursRuleSpec> weekly;
      // A weekly list that could not be read is left out rather than reported again as empty.
      if (readHoursRules(r, key_node, value, what + " weekly", weekly) || !weekly.empty()) {
        hours.weekly = std::move(weekly);
      }
    } else if (key == "closed") {
      readHoursRules(r, key_node, value, what + " closed", hours.closed);
    } else if (key == "open") {
      readHoursRules(r, key_node, value, what + " open", hours.open);
    }
  }
  out = std::move(hours);
}

// A trunk's `probe: {enabled, interval_ms, jitter_percent, timeout_ms, down_after, up_after,
// accepted_codes}` (SPEC §4), every key optional. Reading checks types; core::buildTable checks
// the values, each at the line its field was written on.
void readProbe(FileReader& r, const YAML::Node& node, const std::string& what,
               std::optional<core::ProbeSpec>& out) {
  const auto f = r.fields(node, what,
                          {"enabled", "interval_ms", "jitter_percent", "timeout_ms", "down_after",
                           "up_after", "accepted_codes"});
  if (!f) return;
  core::ProbeSpec probe;
  probe.loc = r.loc(node);
  core::ProbeOverrides& p = probe.settings;
  for (const auto& [key, value] : *f) {
    probe.field_locs.emplace_back(key, r.loc(value));
    const std::string field = what + " " + key;
    if (key == "enabled") {
      bool enabled = true;
      if (r.boolean(value, field, enabled)) p.enabled = enabled;
    } else if (key == "accepted_codes") {
      if (!value.IsSequence()) {
        r.error(value, field + " must be a list of SIP status codes, found " + describe(value));
        continue;
      }
      std::vector<int> codes;
      bool ok = true;
      for (const YAML::Node& item : value) {
        std::uint32_t code = 0;
        if (r.uint(item, field + " item", code)) {
          codes.push_back(static_cast<int>(std::min<std::uint32_t>(code, 1'000'000)));
        } else {
          ok = false;
        }
      }
      if (ok) p.accepted_codes = std::move(codes);
    } else {
      std::uint32_t number = 0;
      if (!r.uint(value, field, number)) continue;
      if (key == "interval_ms") p.interval_ms = number;
      if (key == "jitter_percent") p.jitter_percent = number;
      if (key == "timeout_ms") p.timeout_ms = number;
      if (key == "down_after") p.down_after = number;
      if (key == "up_after") p.up_after = number;
    }
  }
  out = std::move(probe);
}

// trunks.yaml: `trunks:` list of {name, region, display_name, targets, sources, capacity, cps,
// hours, probe}.
bool readTrunks(FileReader& r, std::vector<core::TrunkSpec>& out) {
  const std::optional<YAML::Node> list = r.open("trunks", false);
  if (!list) return false;
  if (list->IsNull()) return true;  // `trunks:` with nothing under it; buildTable judges
  if (!list->IsSequence()) {
    r.error(*list, "'trunks' must be a list of trunks, found " + describe(*list));
    return false;
  }
  for (const YAML::Node& item : *list) {
    const std::size_t errors_before = r.errorCount();
    const auto f = r.fields(item, "trunk",
                            {"name", "region", "display_name", "targets", "sources", "capacity",
                             "cps", "hours", "probe"});
    if (!f) continue;
    core::TrunkSpec trunk;
    trunk.loc = r.loc(item);
    // A trunk without a usable name cannot be referred to; it is reported and dropped so
    // routes naming it do not also fail for the wrong reason.
    const auto name = f->find("name");
    if (name == f->end()) {
      r.error(item, "trunk: missing key 'name'");
      continue;
    }
    if (!r.string(name->second, "trunk name", trunk.name)) continue;
    const std::string what = "trunk '" + trunk.name + "'";
    auto required = [&](const char* key) -> const YAML::Node* {
      const auto it = f->find(key);
      if (it == f->end()) {
        r.error(item, what + ": missing key '" + key + "'");
        return nullptr;
      }
      return &it->second;
    };
    if (const YAML::Node* n = required("region")) r.code(*n, what + " region", false, trunk.region);
    if (const YAML::Node* n = required("display_name")) {
      r.string(*n, what + " display_name", trunk.display_name);
    }
    if (const YAML::Node* n = required("targets")) {
      r.stringList(*n, what + " targets", trunk.targets);
    }
    // Optional: a trunk that only receives calls lists no sources; 0 = unlimited.
    if (const auto it = f->find("sources"); it != f->end()) {
      r.stringList(it->second, what + " sources", trunk.sources);
    }
    if (const auto it = f->find("capacity"); it != f->end()) {
      r.uint(it->second, what + " capacity", trunk.capacity);
    }
    if (const auto it = f->find("cps"); it != f->end()) {
      r.uint(it->second, what + " cps", trunk.cps);
    }
    // Optional: no hours = open 7×24 (tables written before hours existed stay valid).
    if (const auto it = f->find("hours"); it != f->end()) {
      readHours(r, it->second, what + " hours", trunk.hours);
    }
    // Optional: no probe block = the gateway-wide sip.probe settings.
    if (const auto it = f->find("probe"); it != f->end()) {
      readProbe(r, it->second, what + " probe", trunk.probe);
    }
    r.taintIfErrors(errors_before, trunk.loc);
    out.push_back(std::move(trunk));
  }
  return true;
}

// One member of a route group: a trunk name, or {trunk: name, weight: n}.
std::optional<core::RouteMemberSpec> readMember(FileReader& r, const YAML::Node& node,
                                                const std::string& what) {
  core::RouteMemberSpec member;
  member.loc = r.loc(node);
  if (node.IsScalar()) {
    member.trunk = node.Scalar();
    return member;
  }
  if (!node.IsMap()) {
    r.error(node,
            what + ": expected a trunk name or {trunk: name, weight: n}, found " + describe(node));
    return std::nullopt;
  }
  const auto f = r.fields(node, what + " member", {"trunk", "weight"});
  if (!f) return std::nullopt;
  const auto trunk = f->find("trunk");
  if (trunk == f->end()) {
    r.error(node, what + ": member without 'trunk'");
    return std::nullopt;
  }
  if (!r.string(trunk->second, what + " trunk", member.trunk)) return std::nullopt;
  // A bad weight is reported and the member kept with weight 1, so the build does not
  // also report its trunk as used by no route.
  if (const auto weight = f->find("weight"); weight != f->end()) {
    if (!r.uint(weight->second, what + " weight of '" + member.trunk + "'", member.weight)) {
      member.weight = 1;
    } else if (member.weight == 0) {
      r.error(weight->second, what + " weight of '" + member.trunk + "' must be at least 1");
      member.weight = 1;
    }
  }
  return member;
}

// routes.yaml: `routes:` key -> list of groups; a group is a trunk name (a group of one),
// a {trunk, weight} map, or a list of those sharing load by weight (SPEC §4).
bool readRoutes(FileReader& r, std::vector<core::RouteSpec>& out) {
  const std::optional<YAML::Node> map = r.open("routes", false);
  if (!map) return false;
  if (map->IsNull()) return true;
  if (!map->IsMap()) {
    r.error(*map,
            "'routes' must be a map of route key -> list of trunk groups, found " + describe(*map));
    return false;
  }
  for (auto it = map->begin(); it != map->end(); ++it) {
    const std::size_t errors_before = r.errorCount();
    core::RouteSpec route;
    route.loc = r.loc(it->first);
    if (!r.code(it->first, "route key", false, route.key)) continue;
    const std::string what = "route '" + route.key + "'";
    // A copy: yaml-cpp's iterator hands out a temporary proxy, a reference would dangle.
    const YAML::Node groups = it->second;
    if (!groups.IsSequence() || groups.size() == 0) {
      r.error(groups.IsNull() ? it->first : groups,
              what + " must be a non-empty list of trunk groups, found " + describe(groups));
      continue;
    }
    for (const YAML::Node& group_node : groups) {
      std::vector<core::RouteMemberSpec> group;
      if (group_node.IsSequence()) {
        if (group_node.size() == 0) {
          r.error(group_node, what + ": empty trunk group");
          continue;
        }
        for (const YAML::Node& member_node : group_node) {
          if (auto member = readMember(r, member_node, what)) group.push_back(std::move(*member));
        }
      } else if (auto member = readMember(r, group_node, what)) {
        group.push_back(std::move(*member));
      }
      if (!group.empty()) route.groups.push_back(std::move(group));
    }
    // Kept with the members that could be read, so the build still checks them.
    r.taintIfErrors(errors_before, route.loc);
    if (!route.groups.empty()) out.push_back(std::move(route));
  }
  return true;
}

// A map file of code -> scalar (area codes, caller prefixes).
template <typename Item, typename Assign>
bool readCodeMap(FileReader& r, const std::string& top_key, bool missing_ok,
                 std::string_view key_what, bool key_leading_zero, std::vector<Item>& out,
                 Assign assign) {
  const std::optional<YAML::Node> map = r.open(top_key, missing_ok);
  if (!map) return false;
  if (map->IsNull()) return true;
  if (!map->IsMap()) {
    r.error(*map, "'" + top_key + "' must be a map, found " + describe(*map));
    return false;
  }
  for (auto it = map->begin(); it != map->end(); ++it) {
    std::string key;
    std::string division;
    if (!r.code(it->first, key_what, key_leading_zero, key)) continue;
    if (!r.code(it->second, std::string(key_what) + " " + key + " division", false, division)) {
      continue;
    }
    Item item;
    assign(item, std::move(key), std::move(division));
    item.loc = r.loc(it->first);
    out.push_back(std::move(item));
  }
  return true;
}

// regions.yaml (`regions:`) and topics.yaml (`topics:`): code -> {name_zh, name_en}.
template <typename Item>
bool readNames(FileReader& r, const std::string& top_key, bool missing_ok, const std::string& kind,
               std::vector<Item>& out) {
  const std::optional<YAML::Node> map = r.open(top_key, missing_ok);
  if (!map) return false;
  if (map->IsNull()) return true;
  if (!map->IsMap()) {
    r.error(*map, "'" + top_key + "' must be a map of code -> {name_zh, name_en}, found " +
                      describe(*map));
    return false;
  }
  for (auto it = map->begin(); it != map->end(); ++it) {
    const std::size_t errors_before = r.errorCount();
    Item item;
    item.loc = r.loc(it->first);
    if (!r.code(it->first, kind + " code", false, item.code)) continue;
    const std::string what = kind + " " + item.code;
    const auto f = r.fields(it->second, what, {"name_zh", "name_en"});
    if (!f) continue;
    if (const auto zh = f->find("name_zh"); zh == f->end()) {
      r.error(it->second, what + ": missing key 'name_zh'");
    } else {
      r.string(zh->second, what + " name_zh", item.name_zh);
    }
    if (const auto en = f->find("name_en"); en != f->end()) {
      r.string(en->second, what + " name_en", item.name_en);
    }
    r.taintIfErrors(errors_before, item.loc);
    out.push_back(std::move(item));
  }
  return true;
}

std::string pathIn(const std::string& dir, const char* file) {
  return (std::filesystem::path(dir) / file).string();
}

// `usable`: false when some file could not be read at all (missing, syntax error, wrong
// shape), so a build would only report the consequences of that.
LoadResult load(const std::string& dir, bool& usable, Tainted& tainted) {
  LoadResult result;
  usable = true;
  {
    FileReader r(pathIn(dir, kTrunksFile), result.errors, tainted);
    usable = readTrunks(r, result.spec.trunks) && usable;
  }
  {
    FileReader r(pathIn(dir, kRoutesFile), result.errors, tainted);
    usable = readRoutes(r, result.spec.routes) && usable;
  }
  {
    FileReader r(pathIn(dir, kAreaCodesFile), result.errors, tainted);
    usable = readCodeMap(r, "area_codes", false, "area code", true, result.spec.area_codes,
                         [](core::AreaCodeSpec& item, std::string key, std::string division) {
                           item.area_code = std::move(key);
                           item.division = std::move(division);
                         }) &&
             usable;
  }
  {
    FileReader r(pathIn(dir, kRegionsFile), result.errors, tainted);
    usable = readNames(r, "regions", false, "region", result.spec.regions) && usable;
  }
  {
    FileReader r(pathIn(dir, kCallerPrefixesFile), result.errors, tainted);
    usable =
        readCodeMap(r, "caller_prefixes", true, "caller prefix", false, result.spec.caller_prefixes,
                    [](core::CallerPrefixSpec& item, std::string key, std::string division) {
                      item.prefix = std::move(key);
                      item.division = std::move(division);
                    }) &&
        usable;
  }
  {
    // Optional: without topics.yaml no topic is valid (calls' topics are ignored) and no
    // route key may carry one.
    FileReader r(pathIn(dir, kTopicsFile), result.errors, tainted);
    usable = readNames(r, "topics", true, "topic", result.spec.topics) && usable;
  }
  return result;
}

}  // namespace

LoadResult loadTableDir(const std::string& dir) {
  bool usable = true;
  Tainted tainted;
  return load(dir, usable, tainted);
}

std::vector<core::TableError> validateTableDir(const std::string& dir) {
  bool usable = true;
  Tainted tainted;
  LoadResult loaded = load(dir, usable, tainted);
  std::vector<core::TableError> errors = std::move(loaded.errors);
  // Items with errors were dropped or partly read; the build still checks the rest so one
  // run reports everything, unless a whole file was unreadable (then every route would
  // merely repeat "unknown trunk").
  if (usable) {
    core::BuildResult built = core::buildTable(loaded.spec, 0);
    for (core::TableError& e : built.errors) {
      if (tainted.count({e.loc.file, e.loc.line}) == 0) errors.push_back(std::move(e));
    }
  }
  // Editor order, as buildTable sorts its own: by file, then line.
  std::stable_sort(errors.begin(), errors.end(),
                   [](const core::TableError& a, const core::TableError& b) {
                     return std::tie(a.loc.file, a.loc.line) < std::tie(b.loc.file, b.loc.line);
                   });
  return errors;
}

}  // namespace sb::tables
