// Caller numbers (P-Asserted-Identity, else From) -> national number. SPEC §3.
#include <string>
#include <string_view>
#include <unordered_map>

#include <catch2/catch.hpp>

#include "core/routing_table.hpp"

using namespace std::string_view_literals;

TEST_CASE("normaliseCallerNumber leaves a national number or nothing", "[caller]") {
  struct Case {
    std::string_view raw;
    std::string_view national;
  };
  const Case cases[] = {
      // Mobiles.
      {"13905121234", "13905121234"},
      {"+8613905121234", "13905121234"},
      {"008613905121234", "13905121234"},
      {"8613905121234", "13905121234"},
      {"19912345678", "19912345678"},
      // Fixed lines: domestic with the 0, E.164 without it.
      {"051268001234", "051268001234"},
      {"05126800123", "05126800123"},  // 7-digit subscriber number
      {"+8651268001234", "051268001234"},
      {"008651268001234", "051268001234"},
      {"+861062345678", "01062345678"},  // Beijing: 10 is no mobile prefix
      {"+862583791234", "02583791234"},
      {"01062345678", "01062345678"},
      {"+86051268001234", "051268001234"},  // a peer that keeps the trunk 0
      // Other countries: no home region in China.
      {"+14155550123", ""},
      {"+85221234567", ""},  // Hong Kong has its own country code
      {"+8", ""},
      {"0014155550123", ""},
      {"00852", ""},
      // Withheld or garbage.
      {"", ""},
      {"anonymous", ""},
      {"Anonymous", ""},
      {"unknown", ""},
      {"+", ""},
      {"+86", ""},
      {"0086", ""},
      {"+86 13905121234", ""},
      {"139-0512-1234", ""},
      {"1390512123\0"sv, ""},
      {"13905121234\r", ""},
      {"++8613905121234", ""},
      {"1390512123", ""},    // 10 digits
      {"139051212345", ""},  // 12 digits
      {"12905121234", ""},   // 12x is no mobile range
      {"68001234", ""},      // local number without area code
      {"12333", ""},
      {"0051268001234", ""},  // 00 + 5...: an international call to country 5x
      {"0212345678", ""},     // 021 + 7 digits: too short for a 3-digit area code
      {"8651268001234", ""},  // "86" is stripped only before a mobile
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.raw));
    CHECK(sb::core::normaliseCallerNumber(c.raw) == c.national);
  }
}

TEST_CASE("CallerPrefixMap: prefixes of every length, duplicates, bad keys, growth", "[caller]") {
  sb::core::CallerPrefixMap map;
  CHECK_FALSE(map.find("139"));
  CHECK(map.insert("1", 110000));
  CHECK(map.insert("13", 120000));
  CHECK(map.insert("139", 130000));
  CHECK(map.insert("1390512", 320500));
  CHECK(map.insert("0139", 140000));       // same digits value as "139", another length
  CHECK_FALSE(map.insert("139", 999999));  // the first code stays
  CHECK_FALSE(map.insert("", 1));
  CHECK_FALSE(map.insert("12345678", 1));  // 8 digits
  CHECK_FALSE(map.insert("13a", 1));
  CHECK(map.size() == 5);
  CHECK(map.find("1") == 110000u);
  CHECK(map.find("13") == 120000u);
  CHECK(map.find("139") == 130000u);
  CHECK(map.find("0139") == 140000u);
  CHECK(map.find("1390512") == 320500u);
  CHECK_FALSE(map.find("1390513"));
  CHECK_FALSE(map.find("12345678"));
  CHECK_FALSE(map.find("x"));

  // 200,000 7-digit prefixes (more than the national table's ~154,000) against a reference.
  sb::core::CallerPrefixMap big;
  std::unordered_map<std::string, std::uint32_t> reference;
  std::uint64_t x = 12345;
  for (int i = 0; i < 200000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::string prefix = std::to_string(1300000 + (x >> 33) % 7000000);
    const auto code = static_cast<std::uint32_t>(110000 + (x >> 20) % 600000);
    CHECK(big.insert(prefix, code) == reference.emplace(prefix, code).second);
  }
  CHECK(big.size() == reference.size());
  for (const auto& [prefix, code] : reference) {
    if (big.find(prefix) != code) FAIL("prefix " << prefix);
  }
  CHECK_FALSE(big.find("1299999"));
}
