// China Standard Time: UTC+8 all year, no daylight saving since 1991 (opening hours, SPEC §4).
// Calendar arithmetic on plain integers; the core reads no clock, callers pass the time in.
// Pure, std only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::core {

constexpr std::int64_t kCstOffsetSeconds = 8 * 3600;
constexpr std::int64_t kSecondsPerDay = 86400;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
// Valid for the years this gateway sees; no range check.
std::int64_t daysFromCivil(int year, unsigned month, unsigned day);

struct CivilDate {
  int year = 1970;
  unsigned month = 1;
  unsigned day = 1;
};
CivilDate civilFromDays(std::int64_t days);

// 0 = Monday ... 6 = Sunday (ISO 8601). 1970-01-01 was a Thursday.
unsigned weekdayOfDays(std::int64_t days);

// True for an existing calendar date (February 29 only in leap years).
bool isValidDate(int year, unsigned month, unsigned day);

// The CST calendar day and second of that day of a Unix time (negative times included).
struct CstInstant {
  std::int64_t days = 0;    // days since 1970-01-01, counted in CST
  std::int32_t second = 0;  // 0 .. 86399 into that CST day
};
CstInstant cstInstant(std::int64_t unix_seconds);

// "2026-09-28T09:00:00+08:00".
std::string formatCst(std::int64_t unix_seconds);

// What an operator types for "when": Unix seconds ("1790557200"), or ISO 8601 date and time
// "2026-09-28T09:00[:00]" (a space instead of 'T' is fine) with an optional offset "Z",
// "+08:00", "+0800", "-05:00". Without an offset the time is China Standard Time, the zone
// every center's hours are written in. nullopt for anything else (also impossible dates).
std::optional<std::int64_t> parseTimeText(std::string_view text);

}  // namespace sb::core
