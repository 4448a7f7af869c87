// A trunk's opening hours (SPEC §4: "a center may close at night; the province's 7×24
// center takes over"), in China Standard Time (UTC+8, no daylight saving). Written as text
// rules (HoursSpec), compiled once by buildTable into a small schedule; openAt() is then a
// few integer comparisons with no allocation. The time is always passed in. Pure, std only.
//
// Rules:
//   weekly  "mon-fri 08:30-17:30", "sat 09:00-12:00 13:30-17:00", "sun 22:00-06:00"
//           Days: mon tue wed thu fri sat sun, ranges "mon-fri" (also wrapping "fri-mon"),
//           lists "mon,wed,fri", or "daily". Times HH:MM, the end may be 24:00. An end
//           before the start runs past midnight into the next day (overnight). Ranges of one
//           week must not overlap. No `weekly` at all means open all week.
//   closed  "2026-10-01": closed the whole date (public holidays), also for an overnight
//           range that began the evening before.
//   open    "2026-09-27 08:30-17:30": exceptional opening (make-up working day); the date's
//           own weekly ranges are replaced by these.
// A range belongs to the date it starts on: an overnight range of a closed date does not
// spill into the next morning; one of an ordinary date does, unless that morning is closed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/table_spec.hpp"

namespace sb::core {

class HoursCompiler;

class OpeningHours {
 public:
  OpeningHours() = default;  // open 7×24

  bool alwaysOpen() const { return always_open_; }
  // Open at this instant (Unix seconds). Allocation-free.
  bool openAt(std::int64_t unix_seconds) const;
  // The first minute boundary after `from`, at most `horizon_seconds` later, where openAt
  // changes; nullopt when it does not change within the horizon. For explanations, not for
  // the call path (it steps minute by minute).
  std::optional<std::int64_t> nextChange(std::int64_t from, std::int64_t horizon_seconds) const;

  // The rules as written, for explanations and the admin API.
  bool hasWeekly() const { return has_weekly_; }
  const std::vector<std::string>& weeklyRules() const { return weekly_text_; }
  const std::vector<std::string>& closedDates() const { return closed_text_; }
  const std::vector<std::string>& openDates() const { return open_text_; }

  // Parses and checks `spec`. Every problem goes to `errors` at its rule's place, prefixed
  // with `what` (e.g. "trunk 'js-suzhou' hours"); nullopt when there was any.
  static std::optional<OpeningHours> compile(const HoursSpec& spec, std::string_view what,
                                             std::vector<TableError>& errors);

 private:
  friend class HoursCompiler;

  // Minutes from 00:00 of the date the range starts on; start < 1440, start < end <= start
  // + 1440. end > 1440 runs into the next date.
  struct Span {
    std::uint16_t start = 0;
    std::uint16_t end = 0;
  };
  struct DateRule {
    std::int64_t days = 0;  // CST days since 1970-01-01
    bool closed = false;
    std::uint32_t first = 0;  // its spans in spans_ (open dates)
    std::uint32_t count = 0;
  };

  const DateRule* dateRule(std::int64_t days) const;
  bool coversOwn(std::uint32_t first, std::uint32_t count, std::int32_t second) const;
  bool coversSpill(std::uint32_t first, std::uint32_t count, std::int32_t second) const;

  bool always_open_ = true;
  bool has_weekly_ = false;
  std::array<std::uint32_t, 8> weekly_first_{};  // weekday d (Mon = 0): [d] .. [d + 1]
  std::vector<Span> spans_;                      // weekly spans by weekday, then dates'
  std::vector<DateRule> dates_;                  // sorted by day
  std::vector<std::string> weekly_text_;
  std::vector<std::string> closed_text_;
  std::vector<std::string> open_text_;
};

}  // namespace sb::core
