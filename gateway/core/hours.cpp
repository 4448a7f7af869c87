// Opening hours: parsing, checking and compiling the rules; evaluating the schedule.
// SPEC §4 ("a down, disabled, draining, closed or full trunk is skipped").
#include "core/hours.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <utility>

#include "core/china_time.hpp"

namespace sb::core {
namespace {

constexpr std::uint16_t kDayMinutes = 1440;
constexpr std::uint32_t kWeekMinutes = 7 * kDayMinutes;
constexpr std::string_view kDayNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::string_view kDaysExpected =
    "expected mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, a list such as "
    "mon,wed, or daily";

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::optional<unsigned> dayIndex(std::string_view name) {
  if (name.size() != 3) return std::nullopt;
  for (unsigned d = 0; d < 7; ++d) {
    const std::string_view day = kDayNames[d];
    if (lower(name[0]) == day[0] && lower(name[1]) == day[1] && lower(name[2]) == day[2]) {
      return d;
    }
  }
  return std::nullopt;
}

// Splits on spaces and tabs, and also on commas when `commas`.
std::vector<std::string_view> tokens(std::string_view text, bool commas) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  const auto separator = [commas](char c) { return c == ' ' || c == '\t' || (commas && c == ','); };
  while (i < text.size()) {
    while (i < text.size() && separator(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !separator(text[i])) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

// "HH:MM" -> minutes since 00:00; "24:00" only when `end`.
std::optional<std::uint16_t> parseClock(std::string_view text, bool end) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (const std::size_t i : {0, 1, 3, 4}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  const int hour = (text[0] - '0') * 10 + (text[1] - '0');
  const int minute = (text[3] - '0') * 10 + (text[4] - '0');
  if (minute > 59) return std::nullopt;
  if (hour == 24 && minute == 0 && end) return kDayMinutes;
  if (hour > 23) return std::nullopt;
  return static_cast<std::uint16_t>(hour * 60 + minute);
}

// "YYYY-MM-DD" -> CST days since 1970-01-01.
std::optional<std::int64_t> parseDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int values[3] = {0, 0, 0};
  const std::pair<std::size_t, std::size_t> fields[3] = {{0, 4}, {5, 2}, {8, 2}};
  for (int f = 0; f < 3; ++f) {
    for (std::size_t i = fields[f].first; i < fields[f].first + fields[f].second; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      values[f] = values[f] * 10 + (text[i] - '0');
    }
  }
  if (values[0] < 1970 ||
      !isValidDate(values[0], static_cast<unsigned>(values[1]), static_cast<unsigned>(values[2]))) {
    return std::nullopt;
  }
  return daysFromCivil(values[0], static_cast<unsigned>(values[1]),
                       static_cast<unsigned>(values[2]));
}

std::string where(const SourceLoc& loc) {
  if (loc.file.empty()) return loc.line > 0 ? "line " + std::to_string(loc.line) : "";
  return loc.line > 0 ? loc.file + ":" + std::to_string(loc.line) : loc.file;
}

std::string clockText(unsigned minutes) {
  minutes %= kDayMinutes * 2;
  if (minutes > kDayMinutes) minutes -= kDayMinutes;
  const unsigned h = minutes / 60;
  const unsigned m = minutes % 60;
  return std::string{static_cast<char>('0' + h / 10), static_cast<char>('0' + h % 10), ':',
                     static_cast<char>('0' + m / 10), static_cast<char>('0' + m % 10)};
}

struct Range {
  std::uint16_t start = 0;
  std::uint16_t end = 0;  // > start; > 1440 for an overnight range
};

// An interval on a line (minutes of the week, or of one date) and the rule it came from.
struct Piece {
  std::uint32_t start = 0;
  std::uint32_t end = 0;
  std::size_t rule = 0;
};

}  // namespace

// Turns HoursSpec text into an OpeningHours (a friend: it fills the private schedule).
class HoursCompiler {
 public:
  HoursCompiler(const HoursSpec& spec, std::string_view what, std::vector<TableError>& errors)
      : spec_(spec), what_(what), errors_(errors) {}

  std::optional<OpeningHours> run();

 private:
  void fail(const HoursRuleSpec& rule, std::string_view kind, const std::string& message) {
    errors_.push_back(TableError{
        rule.loc.file.empty() ? spec_.loc : rule.loc,
        std::string(what_) + " " + std::string(kind) + " '" + rule.text + "': " + message});
    failed_ = true;
  }

  // Ranges after the first token of a rule; reports and returns false on a bad one.
  bool ranges(const HoursRuleSpec& rule, std::string_view kind,
              const std::vector<std::string_view>& parts, std::vector<Range>& out);
  bool days(const HoursRuleSpec& rule, std::string_view text, std::array<bool, 7>& out);
  // Reports overlapping pieces (sorted by start here), once per pair of rules.
  void overlaps(std::vector<Piece>& pieces, const std::vector<HoursRuleSpec>& rules,
                std::string_view kind, std::string_view on);

  const HoursSpec& spec_;
  std::string_view what_;
  std::vector<TableError>& errors_;
  bool failed_ = false;
};

bool HoursCompiler::ranges(const HoursRuleSpec& rule, std::string_view kind,
                           const std::vector<std::string_view>& parts, std::vector<Range>& out) {
  if (parts.size() < 2) {
    fail(rule, kind,
         "no time range (expected e.g. '" +
             std::string(kind == "weekly" ? "mon-fri 08:30-17:30" : "2026-09-27 08:30-17:30") +
             "')");
    return false;
  }
  bool ok = true;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string_view text = parts[i];
    const std::size_t dash = text.find('-');
    const auto start =
        dash == std::string_view::npos ? std::nullopt : parseClock(text.substr(0, dash), false);
    const auto end =
        dash == std::string_view::npos ? std::nullopt : parseClock(text.substr(dash + 1), true);
    if (!start || !end) {
      fail(rule, kind,
           "bad time range '" + std::string(text) +
               "' (expected HH:MM-HH:MM, times 00:00 to 23:59, an end of 24:00 allowed)");
      ok = false;
      continue;
    }
    if (*start == *end) {
      fail(rule, kind,
           "time range '" + std::string(text) +
               "' is empty (start equals end); for a whole day write 00:00-24:00");
      ok = false;
      continue;
    }
    // An end before the start runs past midnight (SPEC §4: a center may close at night).
    const auto stop = static_cast<std::uint16_t>(*end < *start ? *end + kDayMinutes : *end);
    out.push_back(Range{*start, stop});
  }
  return ok;
}

bool HoursCompiler::days(const HoursRuleSpec& rule, std::string_view text,
                         std::array<bool, 7>& out) {
  if (text == "daily" || text == "Daily") {
    out.fill(true);
    return true;
  }
  bool ok = true;
  std::vector<std::string_view> items;
  for (std::size_t start = 0;;) {
    const std::size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  for (const std::string_view item : items) {
    if (item.empty()) {
      fail(rule, "weekly", "empty day in the day list (write days without spaces: 'mon,wed')");
      ok = false;
      continue;
    }
    const std::size_t dash = item.find('-');
    const auto first = dayIndex(item.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : dayIndex(item.substr(dash + 1));
    if (!first || !last) {
      fail(rule, "weekly",
           "unknown day '" + std::string(item) + "' (" + std::string(kDaysExpected) + ")");
      ok = false;
      continue;
    }
    // A range may wrap the week end: fri-mon is fri, sat, sun, mon.
    for (unsigned d = *first;; d = (d + 1) % 7) {
      if (out[d]) {
        fail(rule, "weekly", "day '" + std::string(kDayNames[d]) + "' listed twice");
        ok = false;
      }
      out[d] = true;
      if (d == *last) break;
    }
  }
  return ok;
}

void HoursCompiler::overlaps(std::vector<Piece>& pieces, const std::vector<HoursRuleSpec>& rules,
                             std::string_view kind, std::string_view on) {
  std::sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) {
    return std::tie(a.start, a.rule) < std::tie(b.start, b.rule);
  });
  std::vector<std::pair<std::size_t, std::size_t>> reported;
  const Piece* reach = nullptr;  // the piece reaching furthest so far
  for (const Piece& piece : pieces) {
    if (reach != nullptr && piece.start < reach->end) {
      const std::size_t a = std::min(piece.rule, reach->rule);
      const std::size_t b = std::max(piece.rule, reach->rule);
      if (std::find(reported.begin(), reported.end(), std::make_pair(a, b)) == reported.end()) {
        reported.emplace_back(a, b);
        const std::string day = on.empty()
                                    ? std::string(kDayNames[piece.start / kDayMinutes % 7]) + " "
                                    : std::string(on) + " ";
        const std::string at = day + clockText(piece.start % kDayMinutes);
        if (a == b) {
          fail(rules[b], kind, "its ranges overlap (at " + at + ")");
        } else {
          fail(rules[b], kind,
               "overlaps '" + rules[a].text + "' (" + where(rules[a].loc) + ") at " + at);
        }
      }
    }
    if (reach == nullptr || piece.end > reach->end) reach = &piece;
  }
}

std::optional<OpeningHours> HoursCompiler::run() {
  // Weekly: per weekday its ranges, and the same on one week-long line for the overlap check.
  std::array<std::vector<Range>, 7> by_day;
  if (spec_.weekly) {
    const std::vector<HoursRuleSpec>& rules = *spec_.weekly;
    if (rules.empty()) {
      errors_.push_back(TableError{spec_.loc, std::string(what_) +
                                                  ": 'weekly' is empty; leave it out for a "
                                                  "center open all week, or list its ranges"});
      failed_ = true;
    }
    std::vector<Piece> week;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const std::vector<std::string_view> parts = tokens(rules[i].text, false);
      if (parts.empty()) {
        fail(rules[i], "weekly", "empty rule (expected e.g. 'mon-fri 08:30-17:30')");
        continue;
      }
      std::array<bool, 7> on{};
      std::vector<Range> ranges_of_rule;
      const bool days_ok = days(rules[i], parts[0], on);
      // Ranges may also be separated by commas: "mon-fri 08:30-12:00, 13:30-17:30".
      std::vector<std::string_view> rest{parts[0]};
      for (std::size_t p = 1; p < parts.size(); ++p) {
        for (const std::string_view t : tokens(parts[p], true)) rest.push_back(t);
      }
      if (!ranges(rules[i], "weekly", rest, ranges_of_rule) || !days_ok) continue;
      for (unsigned d = 0; d < 7; ++d) {
        if (!on[d]) continue;
        for (const Range& r : ranges_of_rule) {
          by_day[d].push_back(r);
          const std::uint32_t start = d * kDayMinutes + r.start;
          const std::uint32_t end = d * kDayMinutes + r.end;
          week.push_back(Piece{start, std::min(end, kWeekMinutes), i});
          if (end > kWeekMinutes) week.push_back(Piece{0, end - kWeekMinutes, i});  // sun night
        }
      }
    }
    overlaps(week, rules, "weekly", "");
  } else {
    for (auto& day : by_day) day.push_back(Range{0, kDayMinutes});
  }

  // Dates: closed all day, or open with their own ranges.
  struct Dated {
    bool closed = false;
    std::size_t rule = 0;  // closed: the rule; open: the first one
    std::vector<Piece> pieces;
  };
  std::vector<std::pair<std::int64_t, Dated>> dated;
  const auto find = [&dated](std::int64_t days) -> Dated* {
    for (auto& [d, entry] : dated) {
      if (d == days) return &entry;
    }
    return nullptr;
  };
  for (std::size_t i = 0; i < spec_.closed.size(); ++i) {
    const HoursRuleSpec& rule = spec_.closed[i];
    const std::vector<std::string_view> parts = tokens(rule.text, false);
    const auto days = parts.size() == 1 ? parseDate(parts[0]) : std::nullopt;
    if (!days) {
      fail(rule, "closed",
           parts.size() > 1 ? "a closed date is closed all day: write only YYYY-MM-DD"
                            : "bad date (expected YYYY-MM-DD, an existing date)");
      continue;
    }
    if (const Dated* seen = find(*days)) {
      fail(rule, "closed",
           "date listed twice (first at " + where(spec_.closed[seen->rule].loc) + ")");
      continue;
    }
    dated.emplace_back(*days, Dated{true, i, {}});
  }
  for (std::size_t i = 0; i < spec_.open.size(); ++i) {
    const HoursRuleSpec& rule = spec_.open[i];
    const std::vector<std::string_view> parts = tokens(rule.text, true);
    const auto days = parts.empty() ? std::nullopt : parseDate(parts[0]);
    if (!days) {
      fail(rule, "open", "bad date (expected 'YYYY-MM-DD HH:MM-HH:MM', an existing date)");
      continue;
    }
    std::vector<Range> ranges_of_rule;
    if (!ranges(rule, "open", parts, ranges_of_rule)) continue;
    Dated* entry = find(*days);
    if (entry != nullptr && entry->closed) {
      fail(rule, "open",
           "the date is also listed as closed (" + where(spec_.closed[entry->rule].loc) + ")");
      continue;
    }
    if (entry == nullptr) entry = &dated.emplace_back(*days, Dated{false, i, {}}).second;
    for (const Range& r : ranges_of_rule) entry->pieces.push_back(Piece{r.start, r.end, i});
  }
  for (auto& [days, entry] : dated) {
    if (entry.closed) continue;
    const CivilDate date = civilFromDays(days);
    char on[16];
    std::snprintf(on, sizeof on, "%04d-%02u-%02u", date.year, date.month, date.day);
    overlaps(entry.pieces, spec_.open, "open", on);
  }
  if (failed_) return std::nullopt;

  // Compile: weekly spans grouped by weekday, then each open date's spans; dates by day.
  OpeningHours out;
  out.has_weekly_ = spec_.weekly.has_value();
  for (unsigned d = 0; d < 7; ++d) {
    std::sort(by_day[d].begin(), by_day[d].end(),
              [](const Range& a, const Range& b) { return a.start < b.start; });
    out.weekly_first_[d] = static_cast<std::uint32_t>(out.spans_.size());
    for (const Range& r : by_day[d]) out.spans_.push_back(OpeningHours::Span{r.start, r.end});
  }
  out.weekly_first_[7] = static_cast<std::uint32_t>(out.spans_.size());
  std::sort(dated.begin(), dated.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [days, entry] : dated) {
    OpeningHours::DateRule rule;
    rule.days = days;
    rule.closed = entry.closed;
    rule.first = static_cast<std::uint32_t>(out.spans_.size());
    for (const Piece& p : entry.pieces) {
      out.spans_.push_back(OpeningHours::Span{static_cast<std::uint16_t>(p.start),
                                              static_cast<std::uint16_t>(p.end)});
    }
    rule.count = static_cast<std::uint32_t>(out.spans_.size()) - rule.first;
    out.dates_.push_back(rule);
  }
  out.always_open_ = !out.has_weekly_ && out.dates_.empty();
  if (spec_.weekly) {
    for (const HoursRuleSpec& r : *spec_.weekly) out.weekly_text_.push_back(r.text);
  }
  for (const HoursRuleSpec& r : spec_.closed) out.closed_text_.push_back(r.text);
  for (const HoursRuleSpec& r : spec_.open) out.open_text_.push_back(r.text);
  return out;
}

std::optional<OpeningHours> OpeningHours::compile(const HoursSpec& spec, std::string_view what,
                                                  std::vector<TableError>& errors) {
  return HoursCompiler(spec, what, errors).run();
}

const OpeningHours::DateRule* OpeningHours::dateRule(std::int64_t days) const {
  const auto it = std::lower_bound(dates_.begin(), dates_.end(), days,
                                   [](const DateRule& r, std::int64_t d) { return r.days < d; });
  return it != dates_.end() && it->days == days ? &*it : nullptr;
}

bool OpeningHours::coversOwn(std::uint32_t first, std::uint32_t count, std::int32_t second) const {
  for (std::uint32_t i = first; i < first + count; ++i) {
    if (spans_[i].start * 60 <= second && second < spans_[i].end * 60) return true;
  }
  return false;
}

bool OpeningHours::coversSpill(std::uint32_t first, std::uint32_t count,
                               std::int32_t second) const {
  // The part of the previous date's overnight ranges after midnight.
  for (std::uint32_t i = first; i < first + count; ++i) {
    if (second + kSecondsPerDay < spans_[i].end * 60) return true;
  }
  return false;
}

bool OpeningHours::openAt(std::int64_t unix_seconds) const {
  if (always_open_) return true;
  const CstInstant now = cstInstant(unix_seconds);
  const DateRule* today = dateRule(now.days);
  if (today != nullptr && today->closed) return false;  // a holiday: closed all day
  if (today != nullptr) {
    if (coversOwn(today->first, today->count, now.second)) return true;
  } else {
    const unsigned d = weekdayOfDays(now.days);
    if (coversOwn(weekly_first_[d], weekly_first_[d + 1] - weekly_first_[d], now.second)) {
      return true;
    }
  }
  const DateRule* yesterday = dateRule(now.days - 1);
  if (yesterday != nullptr) {
    return !yesterday->closed && coversSpill(yesterday->first, yesterday->count, now.second);
  }
  const unsigned y = weekdayOfDays(now.days - 1);
  return coversSpill(weekly_first_[y], weekly_first_[y + 1] - weekly_first_[y], now.second);
}

std::optional<std::int64_t> OpeningHours::nextChange(std::int64_t from,
                                                     std::int64_t horizon_seconds) const {
  if (always_open_) return std::nullopt;
  const bool state = openAt(from);
  // Changes happen on minute boundaries, which CST (a whole-hour offset) shares with UTC.
  std::int64_t t = from - ((from % 60) + 60) % 60 + 60;
  for (; t <= from + horizon_seconds; t += 60) {
    if (openAt(t) != state) return t;
  }
  return std::nullopt;
}

}  // namespace sb::core
