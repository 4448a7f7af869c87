// Opening hours in China Standard Time: the edges of each rule, overnight ranges, holidays,
// exceptional openings, the time zone, and every compile error with file:line. SPEC §4.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/china_time.hpp"
#include "core/hours.hpp"
#include "core/routing_table.hpp"
#include "sample_tables.hpp"

using sb::core::HoursRuleSpec;
using sb::core::HoursSpec;
using sb::core::OpeningHours;

namespace {

const std::string kFile = "tables/trunks.yaml";

// Rules numbered from line `first` on, one per line, like a YAML block list.
std::vector<HoursRuleSpec> rules(const std::vector<std::string>& texts, int first) {
  std::vector<HoursRuleSpec> out;
  for (const std::string& text : texts) out.push_back({text, sb::test::at(kFile, first++)});
  return out;
}

HoursSpec spec(std::optional<std::vector<std::string>> weekly, std::vector<std::string> closed = {},
               std::vector<std::string> open = {}) {
  HoursSpec s;
  s.loc = sb::test::at(kFile, 10);
  if (weekly) s.weekly = rules(*weekly, 11);
  s.closed = rules(closed, 21);
  s.open = rules(open, 31);
  return s;
}

OpeningHours compiled(const HoursSpec& s) {
  std::vector<sb::core::TableError> errors;
  std::optional<OpeningHours> hours = OpeningHours::compile(s, "hours", errors);
  for (const auto& e : errors) UNSCOPED_INFO(formatError(e));
  REQUIRE(errors.empty());
  REQUIRE(hours.has_value());
  return *hours;
}

std::vector<std::string> errorsOf(const HoursSpec& s) {
  std::vector<sb::core::TableError> errors;
  const std::optional<OpeningHours> hours = OpeningHours::compile(s, "hours", errors);
  CHECK(hours.has_value() == errors.empty());
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(formatError(e));
  return out;
}

// CST wall-clock time -> Unix seconds.
std::int64_t cst(std::string_view text) {
  const std::optional<std::int64_t> t = sb::core::parseTimeText(text);
  REQUIRE(t.has_value());
  return *t;
}

struct At {
  std::string_view when;  // CST
  bool open;
};

void checkAll(const OpeningHours& hours, const std::vector<At>& cases) {
  for (const At& c : cases) {
    CAPTURE(std::string(c.when));
    CHECK(hours.openAt(cst(c.when)) == c.open);
  }
}

}  // namespace

TEST_CASE("China Standard Time: UTC+8, calendar arithmetic, time text", "[hours][time]") {
  // Independent values (Python datetime): 08:30 CST is 00:30 UTC.
  CHECK(cst("2026-09-28T08:30") == 1790555400);
  CHECK(cst("2026-09-28T00:30:00Z") == 1790555400);
  CHECK(cst("2026-09-28 08:30:00+08:00") == 1790555400);
  CHECK(cst("2026-09-28T02:30+0200") == 1790555400);
  CHECK(cst("2026-09-27T19:30:00-05:00") == 1790555400);
  CHECK(cst("1790555400") == 1790555400);
  CHECK(sb::core::formatCst(1790555400) == "2026-09-28T08:30:00+08:00");
  CHECK(sb::core::formatCst(0) == "1970-01-01T08:00:00+08:00");
  CHECK(sb::core::formatCst(-1) == "1970-01-01T07:59:59+08:00");
  for (std::string_view bad :
       {"", "2026-09-28", "2026-09-28T8:30", "2026-02-29T10:00", "2026-09-28T24:00",
        "2026-09-28T10:60", "2026-09-28T10:00+8", "2026-09-28T10:00 CST", "12:30", "now", "-5"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(sb::core::parseTimeText(bad).has_value());
  }
  CHECK(sb::core::parseTimeText("2028-02-29T10:00").has_value());  // a leap year
  CHECK(sb::core::weekdayOfDays(0) == 3);                          // 1970-01-01: Thursday
  CHECK(sb::core::weekdayOfDays(sb::core::daysFromCivil(2026, 9, 28)) == 0);  // a Monday
  CHECK(sb::core::weekdayOfDays(-1) == 2);                                    // Wednesday
  for (std::int64_t days : {-800000LL, -1LL, 0LL, 20724LL, 2932896LL}) {
    const sb::core::CivilDate d = sb::core::civilFromDays(days);
    CHECK(sb::core::daysFromCivil(d.year, d.month, d.day) == days);
  }
  // 16:00 UTC is midnight CST: the CST day turns over then.
  CHECK(sb::core::cstInstant(cst("2026-09-28T15:59:59Z")).second == 86399);
  CHECK(sb::core::cstInstant(cst("2026-09-28T16:00:00Z")).second == 0);
}

TEST_CASE("no hours: open 7x24", "[hours]") {
  const OpeningHours always;
  CHECK(always.alwaysOpen());
  for (std::int64_t t : {std::int64_t{-86400}, std::int64_t{0}, cst("2026-10-01T03:00")}) {
    CHECK(always.openAt(t));
  }
  CHECK_FALSE(always.nextChange(0, 86400 * 14).has_value());
  // A trunk without hours in a built table.
  const auto built = sb::core::buildTable(sb::test::sampleSpec(), 1);
  REQUIRE(built.table);
  CHECK(built.table->findTrunk("js-suzhou")->openAt(cst("2026-10-01T03:00")));
}

TEST_CASE("weekly hours at the edges, overnight, holidays and make-up days", "[hours]") {
  // 2026-09-27 is a Sunday, 2026-09-28 a Monday, 2026-10-01 a Thursday.
  const OpeningHours hours = compiled(
      spec(std::vector<std::string>{"mon-fri 08:30-17:30", "sat 09:00-12:00", "sun 22:00-06:00"},
           {"2026-10-01", "2026-10-02"}, {"2026-09-27 08:30-17:30"}));
  CHECK_FALSE(hours.alwaysOpen());
  SECTION("a minute before and after opening and closing") {
    checkAll(hours, {{"2026-09-29T08:29", false},
                     {"2026-09-29T08:29:59", false},
                     {"2026-09-29T08:30", true},
                     {"2026-09-29T12:00", true},
                     {"2026-09-29T17:29", true},
                     {"2026-09-29T17:29:59", true},
                     {"2026-09-29T17:30", false},
                     {"2026-09-29T17:31", false},
                     {"2026-10-03T08:59", false},  // Saturday
                     {"2026-10-03T09:00", true},
                     {"2026-10-03T11:59", true},
                     {"2026-10-03T12:00", false}});
  }
  SECTION("an overnight range runs past midnight into the next day") {
    checkAll(hours, {{"2026-10-04T21:59", false},  // Sunday evening
                     {"2026-10-04T22:00", true},
                     {"2026-10-04T23:59:59", true},
                     {"2026-10-05T00:00", true},  // Monday morning, Sunday's range
                     {"2026-10-05T05:59", true},
                     {"2026-10-05T06:00", false},
                     {"2026-10-05T08:30", true},
                     {"2026-10-03T23:00", false},    // Saturday night: no overnight range
                     {"2026-09-29T03:00", false}});  // Tuesday night
  }
  SECTION("a public holiday is closed all day") {
    checkAll(hours, {{"2026-09-30T10:00", true},  // Wednesday, a working day
                     {"2026-10-01T08:30", false},
                     {"2026-10-01T10:00", false},
                     {"2026-10-02T17:00", false},
                     {"2026-10-05T10:00", true}});
  }
  SECTION("an exceptional opening replaces that date's weekly ranges") {
    checkAll(hours, {{"2026-09-27T08:29", false},  // a Sunday made a working day
                     {"2026-09-27T08:30", true},
                     {"2026-09-27T17:29", true},
                     {"2026-09-27T17:30", false},
                     {"2026-09-27T22:30", false},   // Sunday's night range is replaced too
                     {"2026-09-28T01:00", false},   // so nothing spills into Monday
                     {"2026-09-20T22:30", true}});  // an ordinary Sunday night
  }
  SECTION("the time zone is China Standard Time, whatever the clock says") {
    CHECK(hours.openAt(cst("2026-09-29T00:30:00Z")));        // 08:30 CST
    CHECK_FALSE(hours.openAt(cst("2026-09-29T00:29:59Z")));  // 08:29:59 CST
    CHECK_FALSE(hours.openAt(cst("2026-09-29T09:30:00Z")));  // 17:30 CST
    CHECK(hours.openAt(cst("2026-10-04T14:00:00Z")));        // Sunday 22:00 CST
    CHECK(hours.openAt(cst("2026-10-04T21:59:00Z")));        // Monday 05:59 CST
    CHECK_FALSE(hours.openAt(cst("2026-10-04T22:00:00Z")));  // Monday 06:00 CST
  }
  SECTION("next change, for explanations") {
    CHECK(hours.nextChange(cst("2026-09-29T07:00"), 86400) == cst("2026-09-29T08:30"));
    CHECK(hours.nextChange(cst("2026-09-29T08:30"), 86400) == cst("2026-09-29T17:30"));
    CHECK(hours.nextChange(cst("2026-09-30T18:00"), 86400 * 7) == cst("2026-10-03T09:00"));
    CHECK_FALSE(hours.nextChange(cst("2026-09-30T18:00"), 3600).has_value());
  }
  CHECK(hours.weeklyRules() ==
        std::vector<std::string>{"mon-fri 08:30-17:30", "sat 09:00-12:00", "sun 22:00-06:00"});
  CHECK(hours.closedDates() == std::vector<std::string>{"2026-10-01", "2026-10-02"});
  CHECK(hours.openDates() == std::vector<std::string>{"2026-09-27 08:30-17:30"});
}

TEST_CASE("a range belongs to the date it starts on", "[hours]") {
  SECTION("a closed Monday also closes Sunday night's spill into it") {
    const OpeningHours hours =
        compiled(spec(std::vector<std::string>{"sun 22:00-06:00"}, {"2026-10-05"}));
    checkAll(hours, {{"2026-10-04T23:00", true}, {"2026-10-05T01:00", false}});
  }
  SECTION("a closed Sunday has no night range to spill into Monday") {
    const OpeningHours hours =
        compiled(spec(std::vector<std::string>{"sun 22:00-06:00"}, {"2026-10-04"}));
    checkAll(hours, {{"2026-10-04T23:00", false}, {"2026-10-05T01:00", false}});
  }
  SECTION("an exceptional opening may run overnight") {
    const OpeningHours hours = compiled(
        spec(std::vector<std::string>{"mon-fri 08:30-17:30"}, {}, {"2026-10-03 20:00-02:00"}));
    checkAll(hours, {{"2026-10-03T19:59", false},
                     {"2026-10-03T20:00", true},
                     {"2026-10-04T01:59", true},
                     {"2026-10-04T02:00", false}});
  }
}

TEST_CASE("hours forms: lists, several ranges, daily, 24:00, no weekly", "[hours]") {
  checkAll(compiled(spec(
               std::vector<std::string>{"mon,wed 08:00-12:00 14:00-18:00", "sat-mon 18:30-19:00"})),
           {{"2026-09-28T08:00", true},  // Monday
            {"2026-09-28T13:00", false},
            {"2026-09-28T14:00", true},
            {"2026-09-28T18:45", true},   // Monday is in sat-mon (wrapping the week end)
            {"2026-09-29T10:30", false},  // Tuesday
            {"2026-09-29T18:45", false},
            {"2026-09-30T17:59", true},   // Wednesday
            {"2026-10-03T10:30", false},  // Saturday
            {"2026-10-03T18:45", true},
            {"2026-10-04T18:45", true}});
  checkAll(compiled(spec(std::vector<std::string>{"mon-fri 08:30-12:00, 13:30-17:30"})),
           {{"2026-09-28T12:30", false}, {"2026-09-28T13:30", true}});
  checkAll(
      compiled(spec(std::vector<std::string>{"daily 00:00-24:00"}, {"2026-10-01"})),
      {{"2026-09-30T23:59:59", true}, {"2026-10-01T00:00", false}, {"2026-10-02T00:00", true}});
  checkAll(compiled(spec(std::vector<std::string>{"Sat 18:00-24:00", "sun 00:00-06:00"})),
           {{"2026-10-03T23:59", true}, {"2026-10-04T00:00", true}, {"2026-10-04T06:00", false}});
  // Without weekly rules: 7x24 except the closed dates.
  const OpeningHours holidays = compiled(spec(std::nullopt, {"2026-10-01"}));
  CHECK_FALSE(holidays.alwaysOpen());
  CHECK_FALSE(holidays.hasWeekly());
  checkAll(holidays,
           {{"2026-09-30T23:59", true}, {"2026-10-01T12:00", false}, {"2026-10-02T00:00", true}});
  // Empty hours (`hours: {}`): 7x24.
  CHECK(compiled(spec(std::nullopt)).alwaysOpen());
}

TEST_CASE("hours errors name the rule and its file:line", "[hours]") {
  struct Case {
    HoursSpec spec;
    std::vector<std::string> errors;
  };
  const std::vector<Case> cases{
      {spec(std::vector<std::string>{"mon-fry 08:30-17:30"}),
       {"tables/trunks.yaml:11: hours weekly 'mon-fry 08:30-17:30': unknown day 'mon-fry' "
        "(expected mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, a list such as "
        "mon,wed, or daily)"}},
      {spec(std::vector<std::string>{"mon-fri 08:30-17:30", "sat 8:30-12:00", "sun 10:00-25:00"}),
       {"tables/trunks.yaml:12: hours weekly 'sat 8:30-12:00': bad time range '8:30-12:00' "
        "(expected HH:MM-HH:MM, times 00:00 to 23:59, an end of 24:00 allowed)",
        "tables/trunks.yaml:13: hours weekly 'sun 10:00-25:00': bad time range '10:00-25:00' "
        "(expected HH:MM-HH:MM, times 00:00 to 23:59, an end of 24:00 allowed)"}},
      {spec(std::vector<std::string>{"mon 24:00-08:00"}),
       {"tables/trunks.yaml:11: hours weekly 'mon 24:00-08:00': bad time range '24:00-08:00' "
        "(expected HH:MM-HH:MM, times 00:00 to 23:59, an end of 24:00 allowed)"}},
      {spec(std::vector<std::string>{"mon 08:30-08:30"}),
       {"tables/trunks.yaml:11: hours weekly 'mon 08:30-08:30': time range '08:30-08:30' is "
        "empty (start equals end); for a whole day write 00:00-24:00"}},
      {spec(std::vector<std::string>{"mon"}),
       {"tables/trunks.yaml:11: hours weekly 'mon': no time range (expected e.g. 'mon-fri "
        "08:30-17:30')"}},
      {spec(std::vector<std::string>{"mon, wed 08:00-09:00"}),
       {"tables/trunks.yaml:11: hours weekly 'mon, wed 08:00-09:00': empty day in the day list "
        "(write days without spaces: 'mon,wed')",
        "tables/trunks.yaml:11: hours weekly 'mon, wed 08:00-09:00': bad time range 'wed' "
        "(expected HH:MM-HH:MM, times 00:00 to 23:59, an end of 24:00 allowed)"}},
      {spec(std::vector<std::string>{"mon-fri,wed 08:00-09:00"}),
       {"tables/trunks.yaml:11: hours weekly 'mon-fri,wed 08:00-09:00': day 'wed' listed twice"}},
      {spec(std::vector<std::string>{"mon-fri 08:30-17:30", "wed 12:00-13:00"}),
       {"tables/trunks.yaml:12: hours weekly 'wed 12:00-13:00': overlaps 'mon-fri 08:30-17:30' "
        "(tables/trunks.yaml:11) at wed 12:00"}},
      {spec(std::vector<std::string>{"sun 22:00-06:00", "mon 05:00-09:00"}),
       {"tables/trunks.yaml:12: hours weekly 'mon 05:00-09:00': overlaps 'sun 22:00-06:00' "
        "(tables/trunks.yaml:11) at mon 05:00"}},
      {spec(std::vector<std::string>{"mon 08:00-12:00 11:00-13:00"}),
       {"tables/trunks.yaml:11: hours weekly 'mon 08:00-12:00 11:00-13:00': its ranges overlap "
        "(at mon 11:00)"}},
      {spec(std::vector<std::string>{}),
       {"tables/trunks.yaml:10: hours: 'weekly' is empty; leave it out for a center open all "
        "week, or list its ranges"}},
      {spec(std::nullopt, {"2026-02-30", "2026-10-1", "2026-10-01 08:00-09:00"}),
       {"tables/trunks.yaml:21: hours closed '2026-02-30': bad date (expected YYYY-MM-DD, an "
        "existing date)",
        "tables/trunks.yaml:22: hours closed '2026-10-1': bad date (expected YYYY-MM-DD, an "
        "existing date)",
        "tables/trunks.yaml:23: hours closed '2026-10-01 08:00-09:00': a closed date is closed "
        "all day: write only YYYY-MM-DD"}},
      {spec(std::nullopt, {"2026-10-01", "2026-10-01"}),
       {"tables/trunks.yaml:22: hours closed '2026-10-01': date listed twice (first at "
        "tables/trunks.yaml:21)"}},
      {spec(std::nullopt, {"2026-10-01"},
            {"2026-10-01 08:30-17:30", "2026-09-27", "27/09/2026 08:30-17:30"}),
       {"tables/trunks.yaml:31: hours open '2026-10-01 08:30-17:30': the date is also listed as "
        "closed (tables/trunks.yaml:21)",
        "tables/trunks.yaml:32: hours open '2026-09-27': no time range (expected e.g. "
        "'2026-09-27 08:30-17:30')",
        "tables/trunks.yaml:33: hours open '27/09/2026 08:30-17:30': bad date (expected "
        "'YYYY-MM-DD HH:MM-HH:MM', an existing date)"}},
      {spec(std::nullopt, {}, {"2026-09-27 08:00-12:00", "2026-09-27 11:00-13:00"}),
       {"tables/trunks.yaml:32: hours open '2026-09-27 11:00-13:00': overlaps '2026-09-27 "
        "08:00-12:00' (tables/trunks.yaml:31) at 2026-09-27 11:00"}},
  };
  for (const Case& c : cases) {
    CHECK(errorsOf(c.spec) == c.errors);
  }
  // Touching ranges are fine.
  CHECK(errorsOf(spec(std::vector<std::string>{"mon 08:00-12:00 12:00-13:00", "sun 22:00-06:00",
                                               "mon 06:00-07:00"}))
            .empty());
}

TEST_CASE("buildTable compiles trunk hours and reports their errors", "[hours][build]") {
  sb::core::TableSpec table = sb::test::sampleSpec();
  table.trunks[1].hours = spec(std::vector<std::string>{"mon-fri 08:30-17:30", "sat 25:00-26:00"});
  std::vector<std::string> errors;
  for (const auto& e : sb::core::buildTable(table, 1).errors) errors.push_back(formatError(e));
  CHECK(errors == std::vector<std::string>{
                      "tables/trunks.yaml:12: trunk 'js-suzhou' hours weekly 'sat 25:00-26:00': "
                      "bad time range '25:00-26:00' (expected HH:MM-HH:MM, times 00:00 to 23:59, "
                      "an end of 24:00 allowed)"});

  table.trunks[1].hours = spec(std::vector<std::string>{"mon-fri 08:30-17:30"});
  const auto built = sb::core::buildTable(table, 1);
  REQUIRE(built.table);
  const sb::core::Trunk* suzhou = built.table->findTrunk("js-suzhou");
  CHECK(suzhou->openAt(cst("2026-09-28T08:30")));
  CHECK_FALSE(suzhou->openAt(cst("2026-09-28T17:30")));
  CHECK(built.table->findTrunk("js-province")->hours.alwaysOpen());
}
