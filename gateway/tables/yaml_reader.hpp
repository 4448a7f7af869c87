// The strict YAML reading shared by the table files (internal to gateway/tables): one file's
// name for errors, the shared error list, and readers for the field types. Every error
// carries file:line; reading goes on after an error so one run shows every problem.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/table_spec.hpp"

namespace sb::tables::detail {

// yaml-cpp tags a plain (unquoted) scalar "?" and a quoted one "!".
inline bool isPlainScalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() == "?"; }

// "nothing", "'text'", "a list", "a map": what was found where something else was expected.
std::string describe(const YAML::Node& node);

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
  std::optional<YAML::Node> open(const std::string& top_key, bool missing_ok);

  // A map item whose keys must come from `allowed`: unknown and duplicate keys are errors.
  // Returns the known fields; nullopt (with an error) when `node` is not a map.
  std::optional<std::map<std::string, YAML::Node>> fields(
      const YAML::Node& node, std::string_view what,
      std::initializer_list<std::string_view> allowed);

  // Text of a scalar. Plain numbers are fine as text: yaml-cpp keeps the digits as written.
  bool string(const YAML::Node& node, std::string_view what, std::string& out);

  // A code such as "320500" or "0512". Codes should be quoted; an unquoted number is
  // accepted as written unless the digits show it lost a leading 0 (an area code
  // starts with 0, so unquoted 512 was meant as "0512" or is a mistake either way).
  bool code(const YAML::Node& node, std::string_view what, bool leading_zero, std::string& out);

  // A non-negative integer written as a plain YAML number.
  bool uint(const YAML::Node& node, std::string_view what, std::uint32_t& out);

  // `true` or `false`, unquoted (YAML 1.2's booleans; yes/no/on/off are refused as the
  // strings they are in YAML 1.2).
  bool boolean(const YAML::Node& node, std::string_view what, bool& out);

  // A list of strings; an empty list is allowed (meaning is checked by buildTable).
  bool stringList(const YAML::Node& node, std::string_view what, std::vector<std::string>& out);

 private:
  std::string file_;
  std::vector<core::TableError>& errors_;
  Tainted& tainted_;
};

}  // namespace sb::tables::detail
