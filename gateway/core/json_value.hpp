// A small, strict JSON reader (RFC 8259): a DOM with numbers kept as their text. Hand-written
// because a national table holds ~100,000 JSON values in Redis and a general YAML parser
// spends seconds on them; also reads call records (docs/call-records.md). Pure, std only.
// Moved here from gateway/redis/json.* so the core's report can read records; the Redis
// adapter keeps its names through redis/json.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::core {

struct JsonValue {
  enum class Type : std::uint8_t { Null, Bool, Number, String, Array, Object };
  Type type = Type::Null;
  bool boolean = false;
  std::string text;  // a string's value, or a number as written
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members;

  bool isString() const { return type == Type::String; }
  bool isArray() const { return type == Type::Array; }
  bool isObject() const { return type == Type::Object; }
  bool isNumber() const { return type == Type::Number; }
  // An object's member, or nullptr (also when this is not an object).
  const JsonValue* find(std::string_view key) const;
  // A number that is a non-negative integer below 2^32.
  std::optional<std::uint32_t> asUint32() const;
  // A number that is an integer (no fraction, no exponent) in the range of int64.
  std::optional<std::int64_t> asInt64() const;
};

// The whole of `text` as one JSON value; nullopt with `error` set otherwise.
std::optional<JsonValue> parseJson(std::string_view text, std::string& error);

}  // namespace sb::core
