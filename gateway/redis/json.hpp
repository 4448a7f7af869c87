// A small, strict JSON reader and string writer (RFC 8259) for the values of a table version
// in Redis. Hand-written because a national table holds ~100,000 such values and a general
// YAML parser spends seconds on them; only what those values need is kept: a DOM with
// numbers as their text. Internal to gateway/redis.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::redis::detail {

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
  // An object's member, or nullptr (also when this is not an object).
  const JsonValue* find(std::string_view key) const;
  // A number that is a non-negative integer below 2^32.
  std::optional<std::uint32_t> asUint32() const;
};

// The whole of `text` as one JSON value; nullopt with `error` set otherwise.
std::optional<JsonValue> parseJson(std::string_view text, std::string& error);

// Appends `value` as a JSON string literal; UTF-8 passes through, control characters are
// escaped.
void appendJsonString(std::string& out, std::string_view value);

}  // namespace sb::redis::detail
