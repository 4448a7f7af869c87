// Reads a routing-table directory (SPEC §5) into a core::TableSpec. Strict like every config
// we read (style.md): unknown keys, wrong types and syntax errors are all reported, each
// with file:line, and reading goes on after an error so one run shows every problem.
#include "tables/yaml_tables.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/routing_table.hpp"

namespace sb::tables {
namespace {

constexpr const char* kTrunksFile = "trunks.yaml";
constexpr const char* kRoutesFile = "routes.yaml";
constexpr const char* kAreaCodesFile = "area-codes.yaml";
constexpr const char* kRegionsFile = "regions.yaml";
constexpr const char* kCallerPrefixesFile = "caller-prefixes.yaml";

// yaml-cpp tags a plain (unquoted) scalar "?" and a quoted one "!".
bool isPlainScalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool allDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string joinNames(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// Items (by file:line) that had reading errors: the build's complaints about them are
// consequences ("has no targets" after "targets must be a list") and are not repeated.
using Tainted = std::set<std::pair<std::string, int>>;

// One YAML file: its name for error messages and the shared error list.
class FileReader {
 public:
  FileReader(std::string file, std::vector<core::TableError>& errors, Tainted& tainted)
      : file_(std::move(file)), errors_(errors), tainted_(tainted) {}

  std::size_t errorCount() const { return errors_.size(); }
  // Marks `loc` tainted when errors were recorded since errorCount() returned `before`.
  void taintIfErrors(std::size_t before, const core::SourceLoc& loc) {
    if (errors_.size() != before) tainted_.emplace(loc.file, loc.line);
  }

  const std::string& file() const { return file_; }

  core::SourceLoc loc(const YAML::Node& node) const {
    const int line = node.Mark().line;
    return core::SourceLoc{file_, line >= 0 ? line + 1 : 0};
  }

  void error(const YAML::Node& at, std::string message) {
    errors_.push_back(core::TableError{loc(at), std::move(message)});
  }
  void error(int line, std::string message) {
    errors_.push_back(core::TableError{core::SourceLoc{file_, line}, std::move(message)});
  }

  // Parses the file and returns the value of its single top-level key. nullopt when the file
  // cannot be used at all (missing, syntax error, wrong shape): the error is recorded.
  // `missing_ok`: an absent file is not an error and yields an empty (null) node.
  std::optional<YAML::Node> open(const std::string& top_key, bool missing_ok) {
    std::error_code ec;
    if (!std::filesystem::exists(file_, ec)) {
      if (missing_ok) return YAML::Node();
      error(0, "file not found");
      return std::nullopt;
    }
    std::ifstream in(file_, std::ios::binary);
    if (!in) {
      error(0, "cannot open file");
      return std::nullopt;
    }
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(in);
    } catch (const YAML::ParserException& e) {
      error(e.mark.line >= 0 ? e.mark.line + 1 : 0, "YAML syntax error: " + e.msg);
      return std::nullopt;
    } catch (const YAML::Exception& e) {
      error(e.mark.line >= 0 ? e.mark.line + 1 : 0, "cannot read YAML: " + e.msg);
      return std::nullopt;
    }
    if (docs.size() > 1) {
      error(docs[1], "more than one YAML document; a table file holds exactly one");
      return std::nullopt;
    }
    if (docs.empty() || docs[0].IsNull()) {
      if (missing_ok) return YAML::Node();
      error(1, "file is empty; expected a map with the key '" + top_key + "'");
      return std::nullopt;
    }
    const YAML::Node& root = docs[0];
    if (!root.IsMap()) {
      error(root, "expected a map with the key '" + top_key + "', found " + describe(root));
      return std::nullopt;
    }
    std::optional<YAML::Node> value;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : describe(it->first);
      if (key != top_key) {
        error(it->first, "unknown key '" + key + "' (this file holds only '" + top_key + "')");
      } else if (value) {
        error(it->first, "duplicate key '" + top_key + "'");
      } else {
        value = it->second;
      }
    }
    if (!value) {
      error(root, "missing key '" + top_key + "'");
      return std::nullopt;
    }
    return value;
  }

  // A map item whose keys must come from `allowed`: unknown and duplicate keys are errors.
  // Returns the known fields; nullopt (with an error) when `node` is not a map.
  std::optional<std::map<std::string, YAML::Node>> fields(
      const YAML::Node& node, std::string_view what,
      std::initializer_list<std::string_view> allowed) {
    if (!node.IsMap()) {
      error(node, std::string(what) + " must be a map with keys " + joinNames(allowed) +
                      ", found " + describe(node));
      return std::nullopt;
    }
    std::map<std::string, YAML::Node> out;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) {
        error(it->first,
              "keys in " + std::string(what) + " must be names, found " + describe(it->first));
        continue;
      }
      const std::string key = it->first.Scalar();
      bool known = false;
      for (std::string_view name : allowed) known = known || name == key;
      if (!known) {
        error(it->first, "unknown key '" + key + "' in " + std::string(what) +
                             " (allowed: " + joinNames(allowed) + ")");
      } else if (!out.emplace(key, it->second).second) {
        error(it->first, "duplicate key '" + key + "' in " + std::string(what));
      }
    }
    return out;
  }

  // Text of a scalar. Plain numbers are fine as text: yaml-cpp keeps the digits as written.
  bool string(const YAML::Node& node, std::string_view what, std::string& out) {
    if (!node.IsScalar()) {
      error(node, std::string(what) + " must be a string, found " + describe(node));
      return false;
    }
    out = node.Scalar();
    return true;
  }

  // A code such as "320500" or "0512". Codes should be quoted; an unquoted number is
  // accepted as written unless the digits show it lost a leading 0 (an area code
  // starts with 0, so unquoted 512 was meant as "0512" or is a mistake either way).
  bool code(const YAML::Node& node, std::string_view what, bool leading_zero, std::string& out) {
    if (!string(node, what, out)) return false;
    if (leading_zero && isPlainScalar(node) && allDigits(out) && out.front() != '0') {
      error(node, std::string(what) + " " + out +
                      " has no leading 0: YAML reads unquoted digits as a number and drops "
                      "leading zeros; quote codes as strings, e.g. \"0" +
                      out + "\"");
      return false;
    }
    return true;
  }

  // A non-negative integer written as a plain YAML number.
  bool uint(const YAML::Node& node, std::string_view what, std::uint32_t& out) {
    if (!node.IsScalar() || !isPlainScalar(node)) {
      error(node, std::string(what) + " must be a non-negative integer, found " +
                      (node.IsScalar() ? "the string \"" + node.Scalar() + "\"" : describe(node)));
      return false;
    }
    const std::string& text = node.Scalar();
    std::uint32_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (!allDigits(text) || ec != std::errc() || ptr != end) {
      error(node,
            std::string(what) + " must be a non-negative integer below 2^32, found '" + text + "'");
      return false;
    }
    out = value;
    return true;
  }

  // A list of strings; an empty list is allowed (meaning is checked by buildTable).
  bool stringList(const YAML::Node& node, std::string_view what, std::vector<std::string>& out) {
    if (!node.IsSequence()) {
      error(node, std::string(what) + " must be a list of strings, found " + describe(node));
      return false;
    }
    bool ok = true;
    for (const YAML::Node& item : node) {
      std::string text;
      if (string(item, std::string(what) + " item", text)) {
        out.push_back(std::move(text));
      } else {
        ok = false;
      }
    }
    return ok;
  }

 private:
  std::string file_;
  std::vector<core::TableError>& errors_;
  Tainted& tainted_;
};

// trunks.yaml: `trunks:` list of {name, region, display_name, targets, sources, capacity, cps}.
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
    const auto f = r.fields(
        item, "trunk", {"name", "region", "display_name", "targets", "sources", "capacity", "cps"});
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

// regions.yaml: `regions:` code -> {name_zh, name_en}.
bool readRegions(FileReader& r, std::vector<core::RegionSpec>& out) {
  const std::optional<YAML::Node> map = r.open("regions", false);
  if (!map) return false;
  if (map->IsNull()) return true;
  if (!map->IsMap()) {
    r.error(*map, "'regions' must be a map of code -> {name_zh, name_en}, found " + describe(*map));
    return false;
  }
  for (auto it = map->begin(); it != map->end(); ++it) {
    const std::size_t errors_before = r.errorCount();
    core::RegionSpec region;
    region.loc = r.loc(it->first);
    if (!r.code(it->first, "region code", false, region.code)) continue;
    const std::string what = "region " + region.code;
    const auto f = r.fields(it->second, what, {"name_zh", "name_en"});
    if (!f) continue;
    if (const auto zh = f->find("name_zh"); zh == f->end()) {
      r.error(it->second, what + ": missing key 'name_zh'");
    } else {
      r.string(zh->second, what + " name_zh", region.name_zh);
    }
    if (const auto en = f->find("name_en"); en != f->end()) {
      r.string(en->second, what + " name_en", region.name_en);
    }
    r.taintIfErrors(errors_before, region.loc);
    out.push_back(std::move(region));
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
    usable = readRegions(r, result.spec.regions) && usable;
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
