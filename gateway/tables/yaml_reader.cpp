// The strict YAML reading shared by the table files (SPEC §5: every error with file:line).
#include "tables/yaml_reader.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>

namespace sb::tables::detail {
namespace {

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

}  // namespace

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

std::optional<YAML::Node> FileReader::open(const std::string& top_key, bool missing_ok) {
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

std::optional<std::map<std::string, YAML::Node>> FileReader::fields(
    const YAML::Node& node, std::string_view what,
    std::initializer_list<std::string_view> allowed) {
  if (!node.IsMap()) {
    error(node, std::string(what) + " must be a map with keys " + joinNames(allowed) + ", found " +
                    describe(node));
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

bool FileReader::string(const YAML::Node& node, std::string_view what, std::string& out) {
  if (!node.IsScalar()) {
    error(node, std::string(what) + " must be a string, found " + describe(node));
    return false;
  }
  out = node.Scalar();
  return true;
}

bool FileReader::code(const YAML::Node& node, std::string_view what, bool leading_zero,
                      std::string& out) {
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

bool FileReader::uint(const YAML::Node& node, std::string_view what, std::uint32_t& out) {
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

bool FileReader::boolean(const YAML::Node& node, std::string_view what, bool& out) {
  if (isPlainScalar(node) && (node.Scalar() == "true" || node.Scalar() == "false")) {
    out = node.Scalar() == "true";
    return true;
  }
  error(node, std::string(what) + " must be true or false, found " +
                  (node.IsScalar() ? "'" + node.Scalar() + "'" : describe(node)));
  return false;
}

bool FileReader::stringList(const YAML::Node& node, std::string_view what,
                            std::vector<std::string>& out) {
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

}  // namespace sb::tables::detail
