// China Standard Time calendar arithmetic (SPEC §4 opening hours).
#include "core/china_time.hpp"

#include <cstdio>

namespace sb::core {
namespace {

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Reads exactly `count` ASCII digits at `pos`; advances pos. nullopt otherwise.
std::optional<unsigned> digits(std::string_view text, std::size_t& pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  unsigned value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  pos += count;
  return value;
}

bool allDigits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

}  // namespace

// Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms": days_from_civil.
std::int64_t daysFromCivil(int year, unsigned month, unsigned day) {
  const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  const std::int64_t era = floorDiv(y, 400);
  const std::int64_t yoe = y - era * 400;                                            // [0, 399]
  const std::int64_t mp = (static_cast<std::int64_t>(month) + 9) % 12;               // March = 0
  const std::int64_t doy = (153 * mp + 2) / 5 + static_cast<std::int64_t>(day) - 1;  // [0, 365]
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    // [0, 146096]
  return era * 146097 + doe - 719468;
}

// The same paper: civil_from_days.
CivilDate civilFromDays(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = floorDiv(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  CivilDate out;
  out.day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  out.month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  out.year = static_cast<int>(yoe + era * 400 + (out.month <= 2 ? 1 : 0));
  return out;
}

unsigned weekdayOfDays(std::int64_t days) {
  // Day 0 (1970-01-01) was a Thursday, index 3 with Monday = 0.
  return static_cast<unsigned>(days + 3 - floorDiv(days + 3, 7) * 7);
}

bool isValidDate(int year, unsigned month, unsigned day) {
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const unsigned last = month == 2 && leap ? 29 : kDays[month - 1];
  return day <= last;
}

CstInstant cstInstant(std::int64_t unix_seconds) {
  const std::int64_t local = unix_seconds + kCstOffsetSeconds;
  CstInstant out;
  out.days = floorDiv(local, kSecondsPerDay);
  out.second = static_cast<std::int32_t>(local - out.days * kSecondsPerDay);
  return out;
}

std::string formatCst(std::int64_t unix_seconds) {
  const CstInstant at = cstInstant(unix_seconds);
  const CivilDate date = civilFromDays(at.days);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d+08:00", date.year, date.month,
                date.day, at.second / 3600, at.second / 60 % 60, at.second % 60);
  return buf;
}

std::optional<std::int64_t> parseTimeText(std::string_view text) {
  if (allDigits(text)) {
    if (text.size() > 12) return std::nullopt;  // beyond year 33000: a typo
    std::int64_t value = 0;
    for (const char c : text) value = value * 10 + (c - '0');
    return value;
  }
  std::size_t pos = 0;
  const auto year = digits(text, pos, 4);
  if (!year || pos >= text.size() || text[pos++] != '-') return std::nullopt;
  const auto month = digits(text, pos, 2);
  if (!month || pos >= text.size() || text[pos++] != '-') return std::nullopt;
  const auto day = digits(text, pos, 2);
  if (!day || pos >= text.size() || (text[pos] != 'T' && text[pos] != ' ')) return std::nullopt;
  ++pos;
  const auto hour = digits(text, pos, 2);
  if (!hour || pos >= text.size() || text[pos++] != ':') return std::nullopt;
  const auto minute = digits(text, pos, 2);
  if (!minute) return std::nullopt;
  unsigned second = 0;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    const auto s = digits(text, pos, 2);
    if (!s) return std::nullopt;
    second = *s;
  }
  std::int64_t offset = kCstOffsetSeconds;
  if (pos < text.size()) {
    const char sign = text[pos++];
    if (sign == 'Z' || sign == 'z') {
      offset = 0;
    } else if (sign == '+' || sign == '-') {
      const auto oh = digits(text, pos, 2);
      if (!oh) return std::nullopt;
      if (pos < text.size() && text[pos] == ':') ++pos;
      const auto om = digits(text, pos, 2);
      if (!om || *oh > 23 || *om > 59) return std::nullopt;
      offset = (sign == '+' ? 1 : -1) * static_cast<std::int64_t>(*oh * 3600 + *om * 60);
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  if (!isValidDate(static_cast<int>(*year), *month, *day) || *hour > 23 || *minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  return daysFromCivil(static_cast<int>(*year), *month, *day) * kSecondsPerDay +
         static_cast<std::int64_t>(*hour) * 3600 + *minute * 60 + second - offset;
}

}  // namespace sb::core
