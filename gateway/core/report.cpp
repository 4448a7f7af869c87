// Call records -> the ministry's figures (SPEC §6; docs/call-records.md is the contract).
#include "core/report.hpp"

#include "core/china_time.hpp"
#include "core/json_value.hpp"
#include "core/region.hpp"

namespace sb::core {
namespace {

constexpr std::int64_t kDayMs = kSecondsPerDay * 1000;
constexpr std::size_t kMaxReasonLength = 32;

// Reads the fields of one record object, remembering the first problem.
class FieldReader {
 public:
  explicit FieldReader(const JsonValue& object) : object_(object) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }

  std::string string(const char* name) {
    const JsonValue* value = object_.find(name);
    if (value == nullptr) {
      fail(std::string("missing field '") + name + "'");
      return {};
    }
    if (!value->isString()) {
      fail(std::string("field '") + name + "' is not a string");
      return {};
    }
    return value->text;
  }

  std::int64_t integer(const char* name) {
    const JsonValue* value = object_.find(name);
    if (value == nullptr) {
      fail(std::string("missing field '") + name + "'");
      return 0;
    }
    const std::optional<std::int64_t> number = value->asInt64();
    if (!number) {
      fail(std::string("field '") + name + "' is not an integer");
      return 0;
    }
    return *number;
  }

 private:
  const JsonValue& object_;
  std::string error_;
};

bool reasonToken(std::string_view reason) {
  if (reason.empty() || reason.size() > kMaxReasonLength) return false;
  for (const char c : reason) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// docs/call-records.md: region is the routing key, province its xx0000, city its xxxx00
// (the province itself for a province-level key); all three "" when the call was not routed.
void checkRegion(FieldReader& in, const CallRecord& r) {
  if (r.region.empty()) {
    if (!r.province.empty() || !r.city.empty()) {
      in.fail("province or city given for a call without a region");
    }
    return;
  }
  const std::optional<RegionCode> region = parseRegionCode(r.region);
  if (!region) {
    in.fail("region '" + r.region + "' is not a 6-digit division code");
    return;
  }
  const std::optional<RegionCode> province = parseRegionCode(r.province);
  if (!province || *province != provinceOf(*region)) {
    in.fail("province '" + r.province + "' is not the province of region " + r.region);
    return;
  }
  const std::optional<RegionCode> city = parseRegionCode(r.city);
  if (!city || *city != cityOf(*region)) {
    in.fail("city '" + r.city + "' is not the city of region " + r.region);
  }
}

void checkTimes(FieldReader& in, const CallRecord& r) {
  if (r.t_invite <= 0) return in.fail("t_invite must be a positive Unix time in ms");
  if (r.t_ring != 0 && r.t_ring < r.t_invite) return in.fail("t_ring is before t_invite");
  if (r.t_end < r.t_invite) return in.fail("t_end is before t_invite");
  if (r.result == CallResult::Answered) {
    if (r.t_answer == 0) return in.fail("answered call without t_answer");
    if (r.t_answer < r.t_invite) return in.fail("t_answer is before t_invite");
    if (r.t_end < r.t_answer) return in.fail("t_end is before t_answer");
    if (r.code < 200 || r.code > 299) return in.fail("answered call with a non-2xx code");
  } else if (r.t_answer != 0) {
    return in.fail(std::string(callResultName(r.result)) + " call with t_answer set");
  }
}

void addCounts(Figures& sum, const Figures& f) {
  sum.offered += f.offered;
  sum.answered += f.answered;
  sum.abandoned += f.abandoned;
  sum.failed += f.failed;
  for (const auto& [reason, n] : f.failed_by_reason) sum.failed_by_reason[reason] += n;
  sum.answered_within_20s += f.answered_within_20s;
  sum.answered_within_30s += f.answered_within_30s;
  sum.pdd_count += f.pdd_count;
  sum.pdd_sum_ms += f.pdd_sum_ms;
  sum.answer_delay_sum_ms += f.answer_delay_sum_ms;
  sum.duration_sum_ms += f.duration_sum_ms;
}

std::string countsText(const Figures& f) {
  return "offered " + std::to_string(f.offered) + ", answered " + std::to_string(f.answered) +
         ", abandoned " + std::to_string(f.abandoned) + ", failed " + std::to_string(f.failed) +
         ", within 20 s " + std::to_string(f.answered_within_20s) + ", within 30 s " +
         std::to_string(f.answered_within_30s) + ", with ring " + std::to_string(f.pdd_count);
}

bool sameCounts(const Figures& a, const Figures& b) {
  return a.offered == b.offered && a.answered == b.answered && a.abandoned == b.abandoned &&
         a.failed == b.failed && a.failed_by_reason == b.failed_by_reason &&
         a.answered_within_20s == b.answered_within_20s &&
         a.answered_within_30s == b.answered_within_30s && a.pdd_count == b.pdd_count &&
         a.pdd_sum_ms == b.pdd_sum_ms && a.answer_delay_sum_ms == b.answer_delay_sum_ms &&
         a.duration_sum_ms == b.duration_sum_ms;
}

void checkRow(IdentityCheck& check, const std::string& row, const Figures& f) {
  ++check.rows_checked;
  if (f.offered != f.answered + f.abandoned + f.failed) {
    check.violations.push_back(row + ": offered " + std::to_string(f.offered) + " != answered " +
                               std::to_string(f.answered) + " + abandoned " +
                               std::to_string(f.abandoned) + " + failed " +
                               std::to_string(f.failed));
  }
  std::uint64_t by_reason = 0;
  for (const auto& [reason, n] : f.failed_by_reason) by_reason += n;
  if (by_reason != f.failed) {
    check.violations.push_back(row + ": failed " + std::to_string(f.failed) +
                               " != the sum of its reasons " + std::to_string(by_reason));
  }
  if (f.answered_within_20s > f.answered_within_30s || f.answered_within_30s > f.answered) {
    check.violations.push_back(row + ": answered within 20 s " +
                               std::to_string(f.answered_within_20s) + ", within 30 s " +
                               std::to_string(f.answered_within_30s) + ", answered " +
                               std::to_string(f.answered) + " are not in order");
  }
}

void checkSum(IdentityCheck& check, const std::string& what, const Figures& sum,
              const Figures& expected) {
  if (!sameCounts(sum, expected)) {
    check.violations.push_back(what + " add up to (" + countsText(sum) + ") instead of (" +
                               countsText(expected) + ")");
  }
}

std::optional<double> ratio(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

std::optional<double> mean(std::int64_t sum, std::uint64_t count) {
  if (count == 0) return std::nullopt;
  return static_cast<double>(sum) / static_cast<double>(count);
}

bool allDigits(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

unsigned number(std::string_view digits) {
  unsigned value = 0;
  for (const char c : digits) value = value * 10 + static_cast<unsigned>(c - '0');
  return value;
}

// Midnight CST at the start of year/month/day, in Unix ms.
std::int64_t cstMidnightMs(int year, unsigned month, unsigned day) {
  return (daysFromCivil(year, month, day) * kSecondsPerDay - kCstOffsetSeconds) * 1000;
}

Period monthsPeriod(int year, unsigned first_month, unsigned months) {
  unsigned end_month = first_month + months;
  int end_year = year;
  if (end_month > 12) {
    end_month -= 12;
    ++end_year;
  }
  return {cstMidnightMs(year, first_month, 1), cstMidnightMs(end_year, end_month, 1)};
}

}  // namespace

std::string_view callResultName(CallResult result) {
  switch (result) {
    case CallResult::Answered:
      return "answered";
    case CallResult::Abandoned:
      return "abandoned";
    case CallResult::Failed:
      return "failed";
  }
  return "failed";
}

const std::vector<std::string>& knownFailReasons() {
  static const std::vector<std::string> kReasons{
      "acl",      "rate_limit",  "malformed", "no_route", "loop",    "max_forwards", "unsupported",
      "capacity", "unavailable", "busy",      "rejected", "timeout", "shutdown"};
  return kReasons;
}

std::optional<CallRecord> parseCallRecord(std::string_view json, std::string& error) {
  std::string why;
  const std::optional<JsonValue> value = parseJson(json, why);
  if (!value) {
    error = "not JSON: " + why;
    return std::nullopt;
  }
  if (!value->isObject()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  FieldReader in(*value);
  const std::int64_t version = in.integer("v");
  if (!in.ok()) {
    error = in.error();
    return std::nullopt;
  }
  if (version != 1) {
    error = "unsupported schema version " + std::to_string(version) + " (this reader knows 1)";
    return std::nullopt;
  }
  CallRecord r;
  r.call_id = in.string("call_id");
  r.origin = in.string("origin");
  r.region = in.string("region");
  r.province = in.string("province");
  r.city = in.string("city");
  r.trunk = in.string("trunk");
  r.t_invite = in.integer("t_invite");
  r.t_ring = in.integer("t_ring");
  r.t_answer = in.integer("t_answer");
  r.t_end = in.integer("t_end");
  const std::int64_t code = in.integer("code");
  const std::string result = in.string("result");
  r.fail_reason = in.string("fail_reason");
  if (in.ok()) {
    if (code < 0 || code > 699) in.fail("code " + std::to_string(code) + " is not a SIP code");
    r.code = static_cast<int>(code);
    if (result == "answered") {
      r.result = CallResult::Answered;
    } else if (result == "abandoned") {
      r.result = CallResult::Abandoned;
    } else if (result == "failed") {
      r.result = CallResult::Failed;
    } else {
      in.fail("unknown result '" + result + "'");
    }
  }
  if (in.ok()) {
    if (r.result == CallResult::Failed && !reasonToken(r.fail_reason)) {
      in.fail(r.fail_reason.empty() ? std::string("failed call without fail_reason")
                                    : "fail_reason '" + r.fail_reason + "' is not a reason word");
    } else if (r.result != CallResult::Failed && !r.fail_reason.empty()) {
      in.fail("fail_reason given for a call that did not fail");
    }
  }
  if (in.ok()) checkRegion(in, r);
  if (in.ok()) checkTimes(in, r);
  if (!in.ok()) {
    error = in.error();
    return std::nullopt;
  }
  return r;
}

void Figures::add(const CallRecord& r) {
  ++offered;
  switch (r.result) {
    case CallResult::Answered: {
      ++answered;
      const std::int64_t delay = r.t_answer - r.t_invite;
      if (delay <= kWithin20Ms) ++answered_within_20s;
      if (delay <= kWithin30Ms) ++answered_within_30s;
      answer_delay_sum_ms += delay;
      duration_sum_ms += r.t_end - r.t_answer;
      break;
    }
    case CallResult::Abandoned:
      ++abandoned;
      break;
    case CallResult::Failed:
      ++failed;
      ++failed_by_reason[r.fail_reason];
      break;
  }
  if (r.t_ring != 0) {
    const std::int64_t pdd = r.t_ring - r.t_invite;
    ++pdd_count;
    pdd_sum_ms += pdd;
    ++pdd_histogram_ms[pdd];
  }
}

std::optional<double> Figures::answerRate() const { return ratio(answered, offered); }
std::optional<double> Figures::shareWithin20s() const {
  return ratio(answered_within_20s, offered);
}
std::optional<double> Figures::shareWithin30s() const {
  return ratio(answered_within_30s, offered);
}
std::optional<double> Figures::pddMeanMs() const { return mean(pdd_sum_ms, pdd_count); }
std::optional<double> Figures::answerDelayMeanMs() const {
  return mean(answer_delay_sum_ms, answered);
}
std::optional<double> Figures::durationMeanMs() const { return mean(duration_sum_ms, answered); }

std::optional<std::int64_t> Figures::pddP95Ms() const {
  if (pdd_count == 0) return std::nullopt;
  const std::uint64_t rank = (pdd_count * 95 + 99) / 100;  // ceil(0.95 n), n >= 1
  std::uint64_t seen = 0;
  for (const auto& [ms, n] : pdd_histogram_ms) {
    seen += n;
    if (seen >= rank) return ms;
  }
  return pdd_histogram_ms.rbegin()->first;  // not reached when the histogram matches the count
}

std::optional<std::int64_t> parsePeriodBound(std::string_view text, bool is_end) {
  // "YYYY-MM-DD": a whole day in CST.
  if (text.size() == 10 && text[4] == '-' && text[7] == '-' && allDigits(text.substr(0, 4)) &&
      allDigits(text.substr(5, 2)) && allDigits(text.substr(8, 2))) {
    const int year = static_cast<int>(number(text.substr(0, 4)));
    const unsigned month = number(text.substr(5, 2));
    const unsigned day = number(text.substr(8, 2));
    if (!isValidDate(year, month, day)) return std::nullopt;
    return cstMidnightMs(year, month, day) + (is_end ? kDayMs : 0);
  }
  const std::optional<std::int64_t> seconds = parseTimeText(text);
  if (!seconds) return std::nullopt;
  return *seconds * 1000;
}

std::optional<Period> parseQuarter(std::string_view text) {
  if (text.size() != 6 || !allDigits(text.substr(0, 4)) || (text[4] != 'Q' && text[4] != 'q') ||
      text[5] < '1' || text[5] > '4') {
    return std::nullopt;
  }
  const int year = static_cast<int>(number(text.substr(0, 4)));
  if (year < 1970) return std::nullopt;
  return monthsPeriod(year, 3 * static_cast<unsigned>(text[5] - '1') + 1, 3);
}

std::optional<Period> parseMonth(std::string_view text) {
  if (text.size() != 7 || !allDigits(text.substr(0, 4)) || text[4] != '-' ||
      !allDigits(text.substr(5, 2))) {
    return std::nullopt;
  }
  const int year = static_cast<int>(number(text.substr(0, 4)));
  const unsigned month = number(text.substr(5, 2));
  if (year < 1970 || month < 1 || month > 12) return std::nullopt;
  return monthsPeriod(year, month, 1);
}

bool Report::add(const CallRecord& r) {
  if (r.t_invite < period.from_ms || r.t_invite >= period.to_ms) {
    ++outside_period;
    return false;
  }
  total.add(r);
  if (r.region.empty()) {
    unrouted.add(r);
  } else {
    provinces[r.province].add(r);
    cities[r.city].add(r);
  }
  trunks[r.trunk].add(r);
  origins[r.origin].add(r);
  return true;
}

void Report::addJson(std::string_view json, std::string_view where) {
  ++input.read;
  std::string error;
  const std::optional<CallRecord> record = parseCallRecord(json, error);
  if (!record) {
    ++input.malformed;
    if (input.malformed_examples.size() < kMalformedExamples) {
      input.malformed_examples.push_back(std::string(where) + ": " + error);
    }
    return;
  }
  add(*record);
}

IdentityCheck checkIdentity(const Report& report) {
  IdentityCheck check;
  Figures provinces_sum = report.unrouted;
  checkRow(check, "unrouted", report.unrouted);
  for (const auto& [code, f] : report.provinces) {
    checkRow(check, "province " + code, f);
    addCounts(provinces_sum, f);
    Figures cities_sum;
    const std::string prefix = code.substr(0, 2);
    for (const auto& [city, cf] : report.cities) {
      if (city.compare(0, 2, prefix) == 0) addCounts(cities_sum, cf);
    }
    checkSum(check, "the cities of province " + code, cities_sum, f);
  }
  Figures cities_sum = report.unrouted;
  for (const auto& [code, f] : report.cities) {
    checkRow(check, "city " + code, f);
    addCounts(cities_sum, f);
  }
  Figures trunks_sum;
  for (const auto& [name, f] : report.trunks) {
    checkRow(check, "trunk " + (name.empty() ? std::string("(none)") : name), f);
    addCounts(trunks_sum, f);
  }
  Figures origins_sum;
  for (const auto& [name, f] : report.origins) {
    checkRow(check, "origin " + (name.empty() ? std::string("(unknown)") : name), f);
    addCounts(origins_sum, f);
  }
  checkRow(check, "total", report.total);
  checkSum(check, "the provinces and the unrouted calls", provinces_sum, report.total);
  checkSum(check, "the cities and the unrouted calls", cities_sum, report.total);
  checkSum(check, "the destination trunks", trunks_sum, report.total);
  checkSum(check, "the origin trunks", origins_sum, report.total);
  return check;
}

}  // namespace sb::core
