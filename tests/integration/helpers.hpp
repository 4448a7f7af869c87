// Shared by the integration tests: paths, a canonical text form of a TableSpec for
// comparisons, temporary table directories and bounded waiting.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/table_spec.hpp"

namespace sb::test {

inline std::string sourcePath(const std::string& relative) {
  return std::string(SB_SOURCE_DIR) + "/" + relative;
}
inline std::string exampleDir() { return sourcePath("routing-tables/example"); }
inline std::string fixtureDir(const std::string& name) {
  return sourcePath("tests/fixtures/tables/" + name);
}
inline std::string ctlPath() { return SB_CTL_PATH; }

// One line per item, sorted within each kind: equal specs give equal text, whatever the
// order and the source locations. A mismatch shows up as a readable diff in the test log.
inline std::string canonical(const core::TableSpec& spec) {
  auto joined = [](const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
    return out;
  };
  const auto rules = [&joined](const std::vector<core::HoursRuleSpec>& items) {
    std::vector<std::string> texts;
    for (const core::HoursRuleSpec& rule : items) texts.push_back(rule.text);
    return "[" + joined(texts) + "]";
  };
  std::vector<std::string> trunks;
  for (const core::TrunkSpec& t : spec.trunks) {
    std::string hours = "7x24";
    if (t.hours) {
      hours = "weekly=" + (t.hours->weekly ? rules(*t.hours->weekly) : std::string("all")) +
              " closed=" + rules(t.hours->closed) + " open=" + rules(t.hours->open);
    }
    std::string probe = "default";
    if (t.probe) {
      const core::ProbeOverrides& p = t.probe->settings;
      const auto number = [](const char* name, const std::optional<std::uint32_t>& v) {
        return v ? std::string(" ") + name + "=" + std::to_string(*v) : std::string();
      };
      probe = "{";
      if (p.enabled) probe += std::string(" enabled=") + (*p.enabled ? "true" : "false");
      probe += number("interval_ms", p.interval_ms) + number("jitter_percent", p.jitter_percent) +
               number("timeout_ms", p.timeout_ms) + number("down_after", p.down_after) +
               number("up_after", p.up_after);
      if (p.accepted_codes) {
        std::vector<std::string> codes;
        for (const int code : *p.accepted_codes) codes.push_back(std::to_string(code));
        probe += " accepted_codes=[" + joined(codes) + "]";
      }
      probe += " }";
    }
    trunks.push_back("trunk " + t.name + " region=" + t.region + " display=" + t.display_name +
                     " targets=" + joined(t.targets) + " sources=" + joined(t.sources) +
                     " capacity=" + std::to_string(t.capacity) + " cps=" + std::to_string(t.cps) +
                     " hours=" + hours + " probe=" + probe);
  }
  std::vector<std::string> routes;
  for (const core::RouteSpec& r : spec.routes) {
    std::string line = "route " + r.key + " =";
    for (const auto& group : r.groups) {
      line += " [";
      for (const core::RouteMemberSpec& m : group) {
        line += " " + m.trunk + "*" + std::to_string(m.weight);
      }
      line += " ]";
    }
    routes.push_back(line);
  }
  std::vector<std::string> others;
  for (const core::AreaCodeSpec& a : spec.area_codes) {
    others.push_back("area " + a.area_code + " " + a.division);
  }
  for (const core::RegionSpec& r : spec.regions) {
    others.push_back("region " + r.code + " " + r.name_zh + " " + r.name_en);
  }
  for (const core::CallerPrefixSpec& p : spec.caller_prefixes) {
    others.push_back("prefix " + p.prefix + " " + p.division);
  }
  for (const core::TopicSpec& t : spec.topics) {
    others.push_back("topic " + t.code + " " + t.name_zh + " " + t.name_en);
  }
  std::string out;
  for (auto* list : {&trunks, &routes, &others}) {
    std::sort(list->begin(), list->end());
    for (const std::string& line : *list) out += line + "\n";
  }
  return out;
}

// A temporary directory of table files, removed at the end of the test.
class TempTableDir {
 public:
  TempTableDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("sb-tables-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempTableDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempTableDir(const TempTableDir&) = delete;
  TempTableDir& operator=(const TempTableDir&) = delete;

  // Copies the example set in, to be edited.
  void copyExample() {
    for (const auto& entry : std::filesystem::directory_iterator(exampleDir())) {
      std::filesystem::copy_file(entry.path(), path_ / entry.path().filename(),
                                 std::filesystem::copy_options::overwrite_existing);
    }
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary | std::ios::trunc) << text;
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Polls `done` every 10 ms until it holds or `timeout` passes; returns its last value.
inline bool waitUntil(const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace sb::test
