// The JSON reader and writer behind the values of a table version in Redis.
#include <catch2/catch.hpp>

#include "redis/json.hpp"

using sb::redis::detail::appendJsonString;
using sb::redis::detail::JsonValue;
using sb::redis::detail::parseJson;

TEST_CASE("JSON values parse strictly", "[json]") {
  std::string error;
  const auto v = parseJson(
      R"( {"a": [1, 0, -2, 3.5e2, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00", "o": {}} )",
      error);
  INFO(error);
  REQUIRE(v);
  REQUIRE(v->isObject());
  const JsonValue* a = v->find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->items.size() == 7);
  CHECK(a->items[0].asUint32() == 1u);
  CHECK(a->items[1].asUint32() == 0u);
  CHECK_FALSE(a->items[2].asUint32());
  CHECK_FALSE(a->items[3].asUint32());
  CHECK(a->items[4].type == JsonValue::Type::Bool);
  CHECK(a->items[4].boolean);
  CHECK(a->items[6].type == JsonValue::Type::Null);
  REQUIRE(v->find("s") != nullptr);
  CHECK(v->find("s")->text == "x\"\\/\n\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(v->find("o")->isObject());
  CHECK(v->find("missing") == nullptr);

  for (const char* bad :
       {"", "{", "[1,]", "{\"a\" 1}", "{a: 1}", "\"unterminated", "01", "1.", "-", "tru", "[1] x",
        "\"\\x41\"", "\"\\ud800\"", "\"a\tb\"", "{\"a\": 1,}", "'single'"}) {
    INFO(bad);
    std::string why;
    CHECK_FALSE(parseJson(bad, why));
    CHECK_FALSE(why.empty());
  }
  std::string deep(100, '[');
  deep += std::string(100, ']');
  CHECK_FALSE(parseJson(deep, error));
  CHECK(JsonValue{JsonValue::Type::Number, false, "4294967295", {}, {}}.asUint32() == 4294967295u);
  CHECK_FALSE(JsonValue{JsonValue::Type::Number, false, "4294967296", {}, {}}.asUint32());
}

TEST_CASE("JSON strings written round-trip", "[json]") {
  const std::string original =
      "quote \" backslash \\ nl \n cr \r tab \t nul-free \x01\x1f 苏州 end";
  std::string json;
  appendJsonString(json, original);
  CHECK(json.find('\n') == std::string::npos);
  CHECK(json.find('\x01') == std::string::npos);
  CHECK_THAT(json, Catch::Contains("\\u0001"));
  std::string error;
  const auto back = parseJson(json, error);
  REQUIRE(back);
  CHECK(back->isString());
  CHECK(back->text == original);
}
