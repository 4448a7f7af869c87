// Caller numbers (P-Asserted-Identity, else From) -> national number. SPEC §3.
#include <string>
#include <string_view>

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
