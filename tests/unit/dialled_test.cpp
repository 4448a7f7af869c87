// Dialled numbers (Request-URI user part). SPEC §3, §9.
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/dialled.hpp"

using namespace std::string_view_literals;
using sb::core::DialError;
using sb::core::DialledForm;
using sb::core::parseDialled;
using sb::core::Service;

TEST_CASE("parseDialled reads every valid form", "[dialled]") {
  struct Case {
    std::string_view user;
    Service service;
    DialledForm form;
    sb::core::RegionCode division;
    std::string_view area_code;
  };
  const Case cases[] = {
      {"12333320500", Service::Hotline12333, DialledForm::Division, 320500, ""},
      {"12370320500", Service::Exam12370, DialledForm::Division, 320500, ""},
      {"12333320506", Service::Hotline12333, DialledForm::Division, 320506, ""},
      {"12333320000", Service::Hotline12333, DialledForm::Division, 320000, ""},
      {"12333110101", Service::Hotline12333, DialledForm::Division, 110101, ""},
      {"12333660000", Service::Hotline12333, DialledForm::Division, 660000, ""},
      {"123330512", Service::Hotline12333, DialledForm::AreaCode, 0, "0512"},
      {"123700371", Service::Exam12370, DialledForm::AreaCode, 0, "0371"},
      {"12333010", Service::Hotline12333, DialledForm::AreaCode, 0, "010"},
      {"12333025", Service::Hotline12333, DialledForm::AreaCode, 0, "025"},
      {"12333", Service::Hotline12333, DialledForm::Bare, 0, ""},
      {"12370", Service::Exam12370, DialledForm::Bare, 0, ""},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.user));
    const sb::core::DialResult result = parseDialled(c.user);
    REQUIRE(result.ok());
    CHECK(result.error == DialError::None);
    CHECK(result.dialled.service == c.service);
    CHECK(result.dialled.form == c.form);
    CHECK(result.dialled.division == c.division);
    CHECK(result.dialled.area_code == c.area_code);
  }
}

TEST_CASE("parseDialled rejects every bad form with the right error", "[dialled]") {
  struct Case {
    std::string_view user;
    DialError error;
  };
  const Case cases[] = {
      // Malformed: anything that is not a plain digit string (SPEC §9: never routed).
      {"", DialError::Malformed},
      {"12333\0"sv, DialError::Malformed},
      {"\0"sv
       "12333320500"sv,
       DialError::Malformed},
      {"12333320\0"sv
       "500"sv,
       DialError::Malformed},
      {"12333\r\n", DialError::Malformed},
      {"12333\x7f", DialError::Malformed},
      {"12333\t320500", DialError::Malformed},
      {"+12333", DialError::Malformed},
      {"+8612333", DialError::Malformed},
      {"12333 320500", DialError::Malformed},
      {" 12333", DialError::Malformed},
      {"12333-320500", DialError::Malformed},
      {"1233332050a", DialError::Malformed},
      {"12333%33", DialError::Malformed},
      {"anonymous", DialError::Malformed},
      {"\xef\xbc\x91"
       "2333",
       DialError::Malformed},  // full-width digit one
      // NotService: digits, but not 12333/12370 (404).
      {"12345", DialError::NotService},
      {"12360320500", DialError::NotService},
      {"1233", DialError::NotService},
      {"1", DialError::NotService},
      {"112333", DialError::NotService},
      {"012333", DialError::NotService},
      {"0012333320500", DialError::NotService},
      {"13905121234", DialError::NotService},
      // Incomplete: wrong number of digits after the service number (484).
      {"1233332", DialError::Incomplete},
      {"123333205", DialError::Incomplete},
      {"1233332050", DialError::Incomplete},
      {"123333205001", DialError::Incomplete},
      {"12333320500999", DialError::Incomplete},
      {"1233305", DialError::Incomplete},
      {"12333051", DialError::Incomplete},    // 05x needs four digits with the 0
      {"1233305123", DialError::Incomplete},  // 0512 + a digit
      {"123330100", DialError::Incomplete},   // 010 is three digits with the 0
      {"1233302", DialError::Incomplete},
      {"1233302100", DialError::Incomplete},  // 021 + a digit
      {"1233300", DialError::Incomplete},
      {"123330", DialError::Incomplete},
      {"1237032", DialError::Incomplete},
      // BadCode: six digits that are no division code (404), leading zeros included.
      {"12333000000", DialError::BadCode},
      {"12333012345", DialError::BadCode},
      {"12333051200", DialError::BadCode},
      {"12333100000", DialError::BadCode},
      {"12333320012", DialError::BadCode},
      {"12370000000", DialError::BadCode},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.user));
    const sb::core::DialResult result = parseDialled(c.user);
    CHECK_FALSE(result.ok());
    CHECK(result.error == c.error);
    CHECK_FALSE(result.reason.empty());
  }
}

TEST_CASE("parseDialled gives short static reasons for SIP headers", "[dialled]") {
  CHECK(parseDialled("12333000000").reason == "unknown division code");
  CHECK(parseDialled("1233332").reason == "incomplete number");
  CHECK(parseDialled("12345").reason == "not a 12333/12370 number");
  CHECK(parseDialled("12333\0"sv).reason == "malformed number");
  CHECK(parseDialled("12333320500").reason.empty());
}

TEST_CASE("the area code form points into the dialled text", "[dialled]") {
  const std::string user = "123330512";
  const sb::core::DialResult result = parseDialled(user);
  REQUIRE(result.ok());
  CHECK(result.dialled.area_code.data() == user.data() + 5);
}

TEST_CASE("dialErrorStatus maps errors to 404 and 484", "[dialled]") {
  struct Case {
    DialError error;
    int status;
  };
  const Case cases[] = {
      {DialError::NotService, 404}, {DialError::BadCode, 404}, {DialError::Malformed, 484},
      {DialError::Incomplete, 484}, {DialError::None, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(static_cast<int>(c.error));
    CHECK(sb::core::dialErrorStatus(c.error) == c.status);
  }
}

TEST_CASE("isAreaCodeShape follows China's area code lengths", "[dialled]") {
  struct Case {
    std::string_view code;
    bool ok;
  };
  const Case cases[] = {
      {"010", true},  {"021", true},   {"029", true},    {"0512", true},  {"0371", true},
      {"0991", true}, {"051", false},  {"0100", false},  {"0210", false}, {"05123", false},
      {"512", false}, {"00", false},   {"0086", false},  {"001", false},  {"", false},
      {"0", false},   {"05a2", false}, {"0512 ", false},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.code));
    CHECK(sb::core::isAreaCodeShape(c.code) == c.ok);
  }
}

TEST_CASE("userOfUri: the user part the daemon routes on", "[dialled]") {
  struct Case {
    std::string_view uri;
    std::string_view user;
  };
  const Case cases[] = {
      {"12333320500", "12333320500"},
      {"sip:12333320500@gw", "12333320500"},
      {"SIP:12333320500@10.0.0.1:5060;transport=tcp", "12333320500"},
      {"sips:123330512@gw.example.cn", "123330512"},
      {"<sip:12333@gw>", "12333"},
      {"tel:12333320500;phone-context=+86", "12333320500"},
      {"sip:12333320500", ""},  // a host only: RFC 3261 §19.1.1
      {"sip:@gw", ""},
      {"", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.uri));
    CHECK(sb::core::userOfUri(c.uri) == c.user);
  }
}
