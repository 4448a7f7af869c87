// The report's figures (SPEC §6, issue 6): record parsing against docs/call-records.md, the
// period, the definitions at their edges, a property test over randomised call mixes against
// a straightforward independent computation, the identity check, and the three formats.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/json_text.hpp"
#include "core/json_value.hpp"
#include "core/report.hpp"
#include "core/report_format.hpp"
#include "core/routing_table.hpp"
#include "core/text_width.hpp"
#include "sample_tables.hpp"

namespace {

using sb::core::CallRecord;
using sb::core::CallResult;
using sb::core::Figures;
using sb::core::Report;

constexpr std::int64_t kT0 = 1795485600000;  // 2026-11-24T10:00:00+08:00

// A record as the gateway writes it (docs/call-records.md field order, every field).
std::string recordJson(const CallRecord& r) {
  std::string out = "{\"v\":1,\"call_id\":";
  sb::core::appendJsonString(out, r.call_id);
  out += ",\"instance\":\"gw1\",\"source\":\"127.0.0.1\",\"origin\":";
  sb::core::appendJsonString(out, r.origin);
  out += ",\"dialled\":\"12333320500\",\"caller\":\"1391234****\",\"region\":\"" + r.region +
         "\",\"province\":\"" + r.province + "\",\"city\":\"" + r.city + "\",\"level\":\"" +
         (r.region.empty() ? "" : "city") + "\",\"topic\":\"\",\"attempts\":[";
  if (!r.trunk.empty()) {
    out += "{\"trunk\":";
    sb::core::appendJsonString(out, r.trunk);
    out += ",\"code\":" + std::to_string(r.code) + ",\"result\":\"failed\"}";
  }
  out += "],\"trunk\":";
  sb::core::appendJsonString(out, r.trunk);
  out += ",\"t_invite\":" + std::to_string(r.t_invite) + ",\"t_ring\":" + std::to_string(r.t_ring) +
         ",\"t_answer\":" + std::to_string(r.t_answer) + ",\"t_end\":" + std::to_string(r.t_end) +
         ",\"code\":" + std::to_string(r.code) + ",\"result\":\"" +
         std::string(sb::core::callResultName(r.result)) + "\",\"fail_reason\":\"" + r.fail_reason +
         "\",\"end_reason\":\"caller_bye\"}";
  return out;
}

CallRecord routed(const std::string& region, CallResult result, std::int64_t invite) {
  CallRecord r;
  r.call_id = "call-" + std::to_string(invite);
  r.origin = "sh-platform";
  r.region = region;
  r.province = region.substr(0, 2) + "0000";
  r.city = region.substr(4) == "0000" ? region : region.substr(0, 4) + "00";
  r.trunk = "js-suzhou";
  r.t_invite = invite;
  r.t_end = invite + 5000;
  r.result = result;
  r.code = result == CallResult::Answered ? 200 : result == CallResult::Abandoned ? 487 : 486;
  if (result == CallResult::Answered) {
    r.t_ring = invite + 1000;
    r.t_answer = invite + 4000;
    r.t_end = invite + 64000;
  }
  if (result == CallResult::Failed) r.fail_reason = "busy";
  return r;
}

// Where the value of the last `"name":` in a record's JSON is: [begin, end). The last
// occurrence: "trunk", "code" and "result" also appear inside `attempts`, before the record's.
std::pair<std::size_t, std::size_t> valueSpan(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const std::size_t at = json.rfind(key);
  REQUIRE(at != std::string::npos);
  const std::size_t begin = at + key.size();
  std::size_t end = begin;
  if (json[end] == '"') {
    end = json.find('"', end + 1) + 1;
  } else {
    while (end < json.size() && json[end] != ',' && json[end] != '}') ++end;
  }
  return {begin, end};
}

// Replaces the field's value (`value` as JSON text).
std::string withField(const std::string& json, const std::string& name, const std::string& value) {
  const auto [begin, end] = valueSpan(json, name);
  return json.substr(0, begin) + value + json.substr(end);
}

// Removes the field (not the first one) with its comma.
std::string withoutField(const std::string& json, const std::string& name) {
  const auto [begin, end] = valueSpan(json, name);
  const std::size_t comma = begin - name.size() - 4;  // ,"name":
  REQUIRE(json[comma] == ',');
  return json.substr(0, comma) + json.substr(end);
}

}  // namespace

TEST_CASE("a record as the gateway writes it parses with every field the report reads",
          "[report]") {
  CallRecord r = routed("320506", CallResult::Answered, kT0);
  r.t_ring = kT0 + 800;
  r.t_answer = kT0 + 19999;
  r.t_end = kT0 + 80000;
  std::string error;
  const auto parsed = sb::core::parseCallRecord(recordJson(r), error);
  INFO(error);
  REQUIRE(parsed);
  CHECK(parsed->call_id == r.call_id);
  CHECK(parsed->origin == "sh-platform");
  CHECK(parsed->region == "320506");
  CHECK(parsed->province == "320000");
  CHECK(parsed->city == "320500");
  CHECK(parsed->trunk == "js-suzhou");
  CHECK(parsed->t_invite == kT0);
  CHECK(parsed->t_ring == kT0 + 800);
  CHECK(parsed->t_answer == kT0 + 19999);
  CHECK(parsed->t_end == kT0 + 80000);
  CHECK(parsed->code == 200);
  CHECK(parsed->result == CallResult::Answered);
  CHECK(parsed->fail_reason.empty());

  // Unrouted, failed before forwarding; unknown fields (a later schema) are ignored.
  CallRecord u;
  u.call_id = "x";
  u.t_invite = u.t_end = kT0;
  u.code = 404;
  u.result = CallResult::Failed;
  u.fail_reason = "no_route";
  std::string json = recordJson(u);
  json.insert(json.size() - 1, ",\"future\":{\"a\":[1,2]}");
  const auto unrouted = sb::core::parseCallRecord(json, error);
  INFO(error);
  REQUIRE(unrouted);
  CHECK(unrouted->region.empty());
  CHECK(unrouted->fail_reason == "no_route");
}

TEST_CASE("malformed records are refused with the reason", "[report]") {
  const std::string good = recordJson(routed("320500", CallResult::Answered, kT0));
  const std::string failed = recordJson(routed("320500", CallResult::Failed, kT0));
  const std::string abandoned = recordJson(routed("320500", CallResult::Abandoned, kT0));
  struct Bad {
    std::string json;
    std::string why;
  };
  const std::vector<Bad> bad{
      {"", "not JSON"},
      {"{\"v\":1,", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {"{" + good.substr(std::string("{\"v\":1,").size()), "missing field 'v'"},
      {withField(good, "v", "2"), "unsupported schema version 2"},
      {withField(good, "v", "\"1\""), "field 'v' is not an integer"},
      {withoutField(good, "call_id"), "missing field 'call_id'"},
      {withField(good, "trunk", "7"), "field 'trunk' is not a string"},
      {withField(good, "t_invite", "1.5e12"), "field 't_invite' is not an integer"},
      {withField(good, "t_invite", "\"1795485600000\""), "field 't_invite' is not an integer"},
      {withField(good, "t_end", "99999999999999999999"), "field 't_end' is not an integer"},
      {withField(good, "result", "\"ok\""), "unknown result 'ok'"},
      {withField(good, "code", "700"), "code 700 is not a SIP code"},
      {withField(failed, "fail_reason", "\"\""), "failed call without fail_reason"},
      {withField(failed, "fail_reason", "\"Busy Here\""), "is not a reason word"},
      {withField(good, "fail_reason", "\"busy\""), "fail_reason given for a call that did not"},
      {withField(good, "region", "\"32050\""), "region '32050' is not a 6-digit division code"},
      {withField(good, "province", "\"330000\""), "province '330000' is not the province"},
      {withField(good, "city", "\"320100\""), "city '320100' is not the city of region"},
      {withField(withField(withField(good, "region", "\"\""), "province", "\"\""), "city",
                 "\"320500\""),
       "province or city given for a call without a region"},
      {withField(good, "t_invite", "0"), "t_invite must be a positive"},
      {withField(good, "t_ring", std::to_string(kT0 - 1)), "t_ring is before t_invite"},
      {withField(good, "t_answer", "0"), "answered call without t_answer"},
      {withField(good, "t_answer", std::to_string(kT0 - 5)), "t_answer is before t_invite"},
      {withField(good, "t_end", std::to_string(kT0 + 3000)), "t_end is before t_answer"},
      {withField(good, "t_end", std::to_string(kT0 - 3000)), "t_end is before t_invite"},
      {withField(good, "code", "183"), "answered call with a non-2xx code"},
      {withField(abandoned, "t_answer", std::to_string(kT0 + 10)),
       "abandoned call with t_answer set"},
  };
  for (const Bad& b : bad) {
    std::string error;
    INFO(b.json);
    CHECK_FALSE(sb::core::parseCallRecord(b.json, error));
    CHECK_THAT(error, Catch::Contains(b.why));
  }
  std::string error;
  CHECK(sb::core::parseCallRecord(good, error));
  CHECK(sb::core::parseCallRecord(failed, error));
  CHECK(sb::core::parseCallRecord(abandoned, error));
}

TEST_CASE("malformed JSON is counted with where it was, and the rest still counts", "[report]") {
  Report report;
  report.period = {kT0, kT0 + 3600000};
  report.addJson(recordJson(routed("320500", CallResult::Answered, kT0)), "f:1");
  report.addJson("{\"v\":1}", "f:2");
  report.addJson("garbage", "f:3");
  for (int i = 0; i < 30; ++i) report.addJson("", "g:" + std::to_string(i + 1));
  CHECK(report.input.read == 33);
  CHECK(report.input.malformed == 32);
  REQUIRE(report.input.malformed_examples.size() == sb::core::kMalformedExamples);
  CHECK(report.input.malformed_examples[0] == "f:2: missing field 'call_id'");
  CHECK_THAT(report.input.malformed_examples[1], Catch::StartsWith("f:3: not JSON"));
  CHECK(report.total.offered == 1);
}

TEST_CASE("periods: dates in China Standard Time, quarters, months, [from, to)", "[report]") {
  using sb::core::parsePeriodBound;
  // 2026-10-01T00:00+08:00 = 2026-09-30T16:00Z.
  CHECK(parsePeriodBound("2026-10-01", false) == 1790784000000);
  CHECK(parsePeriodBound("2026-10-01", true) == 1790784000000 + 86400000);
  CHECK(parsePeriodBound("2026-10-01T08:30", false) == 1790784000000 + 8 * 3600000 + 1800000);
  CHECK(parsePeriodBound("2026-10-01T08:30", true) == 1790784000000 + 8 * 3600000 + 1800000);
  CHECK(parsePeriodBound("2026-09-30T16:00:00Z", false) == 1790784000000);
  CHECK(parsePeriodBound("1790784000", false) == 1790784000000);
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-1-01", "yesterday", "", "2026-10"}) {
    INFO(bad);
    CHECK_FALSE(parsePeriodBound(bad, false));
  }
  const auto q4 = sb::core::parseQuarter("2026Q4");
  REQUIRE(q4);
  CHECK(q4->from_ms == 1790784000000);
  CHECK(q4->to_ms == *parsePeriodBound("2027-01-01", false));
  const auto q1 = sb::core::parseQuarter("2027q1");
  REQUIRE(q1);
  CHECK(q1->from_ms == q4->to_ms);
  CHECK(q1->to_ms == *parsePeriodBound("2027-04-01", false));
  for (const char* bad : {"2026Q0", "2026Q5", "2026-Q4", "26Q4", "2026Q44"}) {
    INFO(bad);
    CHECK_FALSE(sb::core::parseQuarter(bad));
  }
  const auto nov = sb::core::parseMonth("2026-11");
  REQUIRE(nov);
  CHECK(nov->from_ms == *parsePeriodBound("2026-11-01", false));
  CHECK(nov->to_ms == *parsePeriodBound("2026-11-30", true));
  const auto dec = sb::core::parseMonth("2026-12");
  REQUIRE(dec);
  CHECK(dec->to_ms == q4->to_ms);
  for (const char* bad : {"2026-00", "2026-13", "2026-1", "2026/11"}) {
    INFO(bad);
    CHECK_FALSE(sb::core::parseMonth(bad));
  }

  // [from, to): a call at `from` counts, one at `to` does not.
  Report report;
  report.period = *nov;
  CHECK(report.add(routed("320500", CallResult::Answered, nov->from_ms)));
  CHECK_FALSE(report.add(routed("320500", CallResult::Answered, nov->to_ms)));
  CHECK_FALSE(report.add(routed("320500", CallResult::Answered, nov->from_ms - 1)));
  CHECK(report.add(routed("320500", CallResult::Answered, nov->to_ms - 1)));
  CHECK(report.total.offered == 2);
  CHECK(report.outside_period == 2);
}

TEST_CASE("definitions at their edges: 20 s and 30 s inclusive, p95 by nearest rank", "[report]") {
  Figures f;
  for (const std::int64_t delay : {0, 20000, 20001, 30000, 30001}) {
    CallRecord r = routed("320500", CallResult::Answered, kT0);
    r.t_ring = 0;
    r.t_answer = kT0 + delay;
    r.t_end = r.t_answer + 1000;
    f.add(r);
  }
  f.add(routed("320500", CallResult::Abandoned, kT0));
  f.add(routed("320500", CallResult::Failed, kT0));
  CHECK(f.offered == 7);
  CHECK(f.answered == 5);
  CHECK(f.answered_within_20s == 2);
  CHECK(f.answered_within_30s == 4);
  CHECK(f.shareWithin20s() == Approx(2.0 / 7.0));  // of offered calls, not of answered
  CHECK(f.shareWithin30s() == Approx(4.0 / 7.0));
  CHECK(f.answerRate() == Approx(5.0 / 7.0));
  CHECK(f.answerDelayMeanMs() == Approx((0 + 20000 + 20001 + 30000 + 30001) / 5.0));
  CHECK(f.durationMeanMs() == Approx(1000.0));
  CHECK_FALSE(f.pddMeanMs());  // nothing rang
  CHECK_FALSE(f.pddP95Ms());

  const auto p95Of = [](const std::vector<std::int64_t>& samples) {
    Figures g;
    for (const std::int64_t pdd : samples) {
      CallRecord r = routed("320500", CallResult::Abandoned, kT0);
      r.t_ring = kT0 + pdd;
      g.add(r);
    }
    return g.pddP95Ms();
  };
  CHECK(p95Of({700}) == 700);
  std::vector<std::int64_t> hundred;
  for (int i = 100; i >= 1; --i) hundred.push_back(i);
  CHECK(p95Of(hundred) == 95);  // rank ceil(95) = 95
  std::vector<std::int64_t> twenty;
  for (int i = 1; i <= 20; ++i) twenty.push_back(i * 10);
  CHECK(p95Of(twenty) == 190);  // rank ceil(19) = 19
  std::vector<std::int64_t> twentyone = twenty;
  twentyone.push_back(210);
  CHECK(p95Of(twentyone) == 200);  // rank ceil(19.95) = 20: the 20th smallest
  Figures empty;
  CHECK_FALSE(empty.answerRate());
  CHECK_FALSE(empty.shareWithin20s());
}

namespace {

// The straightforward computation the property test compares against: filter, then count
// and sort per row from the plain list of records.
struct Expected {
  std::uint64_t offered = 0, answered = 0, abandoned = 0, failed = 0;
  std::map<std::string, std::uint64_t> reasons;
  std::uint64_t within20 = 0, within30 = 0;
  std::vector<std::int64_t> pdd;
  std::int64_t wait_sum = 0, duration_sum = 0;
};

Expected expectedOf(const std::vector<CallRecord>& records) {
  Expected e;
  for (const CallRecord& r : records) {
    ++e.offered;
    if (r.result == CallResult::Answered) {
      ++e.answered;
      const std::int64_t wait = r.t_answer - r.t_invite;
      if (wait <= 20000) ++e.within20;
      if (wait <= 30000) ++e.within30;
      e.wait_sum += wait;
      e.duration_sum += r.t_end - r.t_answer;
    } else if (r.result == CallResult::Abandoned) {
      ++e.abandoned;
    } else {
      ++e.failed;
      ++e.reasons[r.fail_reason];
    }
    if (r.t_ring != 0) e.pdd.push_back(r.t_ring - r.t_invite);
  }
  std::sort(e.pdd.begin(), e.pdd.end());
  return e;
}

void compare(const std::string& row, const Figures& f, const Expected& e) {
  INFO(row);
  CHECK(f.offered == f.answered + f.abandoned + f.failed);  // the identity, row by row
  CHECK(f.offered == e.offered);
  CHECK(f.answered == e.answered);
  CHECK(f.abandoned == e.abandoned);
  CHECK(f.failed == e.failed);
  CHECK(f.failed_by_reason == e.reasons);
  CHECK(f.answered_within_20s == e.within20);
  CHECK(f.answered_within_30s == e.within30);
  CHECK(f.answer_delay_sum_ms == e.wait_sum);
  CHECK(f.duration_sum_ms == e.duration_sum);
  CHECK(f.pdd_count == e.pdd.size());
  if (e.offered > 0) {
    CHECK(*f.shareWithin20s() == Approx(static_cast<double>(e.within20) / e.offered));
    CHECK(*f.shareWithin30s() == Approx(static_cast<double>(e.within30) / e.offered));
  }
  if (e.pdd.empty()) {
    CHECK_FALSE(f.pddP95Ms());
  } else {
    // Nearest rank: the value at position ceil(0.95 n) (1-based) of the sorted samples.
    const auto n = static_cast<double>(e.pdd.size());
    const auto rank = static_cast<std::size_t>(std::ceil(0.95 * n - 1e-9));
    CHECK(f.pddP95Ms() == e.pdd[rank - 1]);
    std::int64_t sum = 0;
    for (const std::int64_t v : e.pdd) sum += v;
    CHECK(*f.pddMeanMs() == Approx(static_cast<double>(sum) / n));
  }
}

}  // namespace

TEST_CASE(
    "property: over randomised call mixes the identity holds in every row and the "
    "figures equal a straightforward computation",
    "[report][property]") {
  const std::vector<std::string> regions{"320000", "320500", "320506", "320100", "410000",
                                         "410100", "110000", "330100", "650000", "659001",
                                         "660000", "440300", ""};
  const std::vector<std::string> trunks{"js-suzhou", "js-province", "ha-province", "bj", ""};
  const std::vector<std::string> origins{"sh-platform", "gd-shenzhen", ""};
  const std::vector<std::string>& reasons = sb::core::knownFailReasons();
  std::mt19937_64 rng(20261124);
  const auto pick = [&rng](std::size_t n) {
    return static_cast<std::size_t>(std::uniform_int_distribution<std::size_t>(0, n - 1)(rng));
  };
  const auto between = [&rng](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  const sb::core::Period period{kT0, kT0 + 86400000};

  for (int iteration = 0; iteration < 300; ++iteration) {
    INFO("iteration " << iteration);
    Report report;
    report.period = period;
    std::vector<CallRecord> counted;
    const int calls = static_cast<int>(between(0, 250));
    // Skewed mixes too: some iterations are nearly all answered, abandoned or failed.
    const int bias = static_cast<int>(between(0, 3));
    int malformed = 0;
    for (int i = 0; i < calls; ++i) {
      CallRecord r;
      r.call_id = "c" + std::to_string(iteration) + "-" + std::to_string(i);
      r.region = regions[pick(regions.size())];
      if (!r.region.empty()) {
        r.province = r.region.substr(0, 2) + "0000";
        r.city = r.region.substr(2) == "0000" ? r.region : r.region.substr(0, 4) + "00";
      }
      r.trunk = trunks[pick(trunks.size())];
      r.origin = origins[pick(origins.size())];
      // Around the period's edges as well as inside it.
      r.t_invite = between(period.from_ms - 3600000, period.to_ms + 3600000);
      int kind = static_cast<int>(between(0, 2));
      if (bias > 0 && between(0, 9) < 8) kind = bias - 1;
      r.result = kind == 0   ? CallResult::Answered
                 : kind == 1 ? CallResult::Abandoned
                             : CallResult::Failed;
      const bool rings = between(0, 4) != 0;
      // Delays cluster around the 20 s / 30 s edges, exact edges included.
      const std::int64_t edge = between(0, 3) == 0 ? (between(0, 1) ? 20000 : 30000) : 0;
      const std::int64_t wait = edge != 0 ? edge + between(-2, 2) : between(0, 90000);
      r.t_ring = rings ? r.t_invite + between(0, std::min<std::int64_t>(wait, 15000)) : 0;
      if (r.result == CallResult::Answered) {
        r.t_answer = r.t_invite + wait;
        r.t_end = r.t_answer + between(0, 1800000);
        r.code = 200;
      } else {
        r.t_end = r.t_invite + between(0, 120000);
        r.code = r.result == CallResult::Abandoned ? 487 : 503;
        if (r.result == CallResult::Failed) {
          r.fail_reason = between(0, 20) == 0 ? "new_reason" : reasons[pick(reasons.size())];
        }
      }
      std::string json = recordJson(r);
      if (between(0, 40) == 0) {
        json = json.substr(0, static_cast<std::size_t>(between(0, 60)));  // a cut line
        ++malformed;
      } else if (r.t_invite >= period.from_ms && r.t_invite < period.to_ms) {
        counted.push_back(r);
      }
      report.addJson(json, "rec:" + std::to_string(i));
    }
    CHECK(report.input.read == static_cast<std::uint64_t>(calls));
    CHECK(report.input.malformed == static_cast<std::uint64_t>(malformed));
    CHECK(report.total.offered + report.outside_period + report.input.malformed ==
          static_cast<std::uint64_t>(calls));

    compare("total", report.total, expectedOf(counted));
    std::map<std::string, std::vector<CallRecord>> by_province, by_city, by_trunk, by_origin;
    std::vector<CallRecord> unrouted;
    for (const CallRecord& r : counted) {
      if (r.region.empty()) {
        unrouted.push_back(r);
      } else {
        by_province[r.province].push_back(r);
        by_city[r.city].push_back(r);
      }
      by_trunk[r.trunk].push_back(r);
      by_origin[r.origin].push_back(r);
    }
    compare("unrouted", report.unrouted, expectedOf(unrouted));
    const auto compareAll = [](const std::string& what, const auto& actual, const auto& expected) {
      CHECK(actual.size() == expected.size());
      for (const auto& [key, records] : expected) {
        const auto it = actual.find(key);
        INFO(what << " " << key);
        REQUIRE(it != actual.end());
        compare(what + " " + key, it->second, expectedOf(records));
      }
    };
    compareAll("province", report.provinces, by_province);
    compareAll("city", report.cities, by_city);
    compareAll("trunk", report.trunks, by_trunk);
    compareAll("origin", report.origins, by_origin);

    const sb::core::IdentityCheck check = sb::core::checkIdentity(report);
    INFO((check.violations.empty() ? std::string() : check.violations.front()));
    CHECK(check.holds());
    CHECK(check.rows_checked == report.provinces.size() + report.cities.size() +
                                    report.trunks.size() + report.origins.size() + 2);
  }
}

TEST_CASE("the identity check finds a row or a breakdown that does not add up", "[report]") {
  Report report;
  report.period = {kT0, kT0 + 86400000};
  report.add(routed("320500", CallResult::Answered, kT0));
  report.add(routed("320000", CallResult::Failed, kT0 + 1));
  report.add(routed("410000", CallResult::Abandoned, kT0 + 2));
  REQUIRE(sb::core::checkIdentity(report).holds());

  const auto mentions = [](const sb::core::IdentityCheck& check, const std::string& text) {
    return std::any_of(check.violations.begin(), check.violations.end(),
                       [&](const std::string& v) { return v.find(text) != std::string::npos; });
  };
  Report bad_row = report;
  ++bad_row.cities["320500"].offered;
  auto check = sb::core::checkIdentity(bad_row);
  CHECK(mentions(check, "city 320500: offered 2 != answered 1 + abandoned 0 + failed 0"));
  // The province's cities no longer add up to it, nor the cities to the totals.
  CHECK(mentions(check, "the cities of province 320000 add up to (offered 3"));
  CHECK(mentions(check, "the cities and the unrouted calls add up to (offered 4"));
  CHECK(check.violations.size() == 3);

  Report bad_reason = report;
  ++bad_reason.provinces["320000"].failed;
  ++bad_reason.provinces["320000"].offered;
  check = sb::core::checkIdentity(bad_reason);
  CHECK(mentions(check, "province 320000: failed 2 != the sum of its reasons 1"));

  Report bad_sum = report;
  bad_sum.trunks.erase("js-suzhou");
  check = sb::core::checkIdentity(bad_sum);
  REQUIRE(check.violations.size() == 1);
  CHECK_THAT(check.violations[0], Catch::StartsWith("the destination trunks add up to"));
  CHECK_THAT(sb::core::formatReportText(bad_sum, sb::core::ReportBy::Trunk, nullptr),
             Catch::Contains("identity offered = answered + abandoned + failed: VIOLATED (1)"));
}

namespace {

Report sampleReport() {
  Report report;
  report.period = *sb::core::parseMonth("2026-11");
  report.input.source = "file records.jsonl";
  CallRecord a = routed("320500", CallResult::Answered, kT0);  // ring 1 s, answer 4 s, 60 s
  CallRecord b = routed("320500", CallResult::Answered, kT0 + 10);
  b.t_ring = b.t_invite + 3000;
  b.t_answer = b.t_invite + 25000;
  b.t_end = b.t_answer + 120000;
  CallRecord c = routed("320000", CallResult::Abandoned, kT0 + 20);
  c.t_ring = c.t_invite + 2000;
  c.trunk = "js-province";
  CallRecord d = routed("410100", CallResult::Failed, kT0 + 30);
  d.trunk = "ha-province";
  d.origin = "";
  CallRecord e;
  e.call_id = "e";
  e.t_invite = e.t_end = kT0 + 40;
  e.code = 404;
  e.result = CallResult::Failed;
  e.fail_reason = "no_route";
  e.origin = "sh-platform";
  for (const CallRecord& r : {a, b, c, d, e}) report.addJson(recordJson(r), "records.jsonl:1");
  report.addJson("{oops", "records.jsonl:6");
  return report;
}

}  // namespace

TEST_CASE("the report as CSV: one row per region, exact figures, the totals last", "[report]") {
  const auto built = sb::core::buildTable(sb::test::sampleSpec(), 1);
  REQUIRE(built.table);
  const Report report = sampleReport();
  const std::string csv =
      sb::core::formatReportCsv(report, sb::core::ReportBy::Province, built.table.get());
  const std::string head =
      "kind,key,name,parent,offered,answered,abandoned,failed,answer_rate,answered_within_20s,"
      "share_within_20s,answered_within_30s,share_within_30s,calls_with_ring,pdd_mean_s,"
      "pdd_p95_s,answer_delay_mean_s,duration_mean_s,failed_acl,failed_rate_limit,"
      "failed_malformed,failed_no_route,failed_loop,failed_max_forwards,failed_unsupported,"
      "failed_capacity,failed_unavailable,failed_busy,failed_rejected,failed_timeout,"
      "failed_shutdown\r\n";
  CHECK(csv == head +
                   "province,320000,江苏省 Jiangsu,,3,2,1,0,0.6667,1,0.3333,2,0.6667,3,2.000,3.000,"
                   "14.500,90.000,0,0,0,0,0,0,0,0,0,0,0,0,0\r\n"
                   "city,320000,\"江苏省 Jiangsu, province level\",320000,1,0,1,0,0.0000,0,0.0000,"
                   "0,0.0000,1,2.000,2.000,,,0,0,0,0,0,0,0,0,0,0,0,0,0\r\n"
                   "city,320500,苏州市 Suzhou,320000,2,2,0,0,1.0000,1,0.5000,2,1.0000,2,2.000,"
                   "3.000,14.500,90.000,0,0,0,0,0,0,0,0,0,0,0,0,0\r\n"
                   "province,410000,河南省 Henan,,1,0,0,1,0.0000,0,0.0000,0,0.0000,0,,,,,0,0,0,0,"
                   "0,0,0,0,0,1,0,0,0\r\n"
                   "city,410100,,410000,1,0,0,1,0.0000,0,0.0000,0,0.0000,0,,,,,0,0,0,0,0,0,0,0,"
                   "0,1,0,0,0\r\n"
                   "unrouted,,unrouted (no region),,1,0,0,1,0.0000,0,0.0000,0,0.0000,0,,,,,0,0,"
                   "0,1,0,0,0,0,0,0,0,0,0\r\n"
                   "total,,total,,5,2,1,2,0.4000,1,0.2000,2,0.4000,3,2.000,3.000,14.500,90.000,"
                   "0,0,0,1,0,0,0,0,0,1,0,0,0\r\n");

  // By origin, without names: codes and notes only.
  const std::string origins =
      sb::core::formatReportCsv(report, sb::core::ReportBy::Origin, nullptr);
  CHECK_THAT(origins, Catch::Contains("\r\norigin,sh-platform,,,4,2,1,1,"));
  CHECK_THAT(origins, Catch::Contains("\r\norigin,,(unknown source),,1,0,0,1,"));
}

TEST_CASE("the report as a table and as JSON say the same", "[report]") {
  const auto built = sb::core::buildTable(sb::test::sampleSpec(), 1);
  REQUIRE(built.table);
  const Report report = sampleReport();
  const std::string text =
      sb::core::formatReportText(report, sb::core::ReportBy::Province, built.table.get());
  CHECK_THAT(text, Catch::StartsWith("period   2026-11-01T00:00:00+08:00 to "
                                     "2026-12-01T00:00:00+08:00"));
  CHECK_THAT(text, Catch::Contains("records  6 records read: 5 in the period, 0 outside it, 1 "
                                   "malformed (not counted)\n  malformed: records.jsonl:6: not "
                                   "JSON"));
  CHECK_THAT(text, Catch::Contains("20s%, 30s% = answered within 20 s, 30 s of the INVITE / "
                                   "offered"));
  CHECK_THAT(text, Catch::Contains("\n320000 江苏省 Jiangsu  "));
  CHECK_THAT(text, Catch::Contains("\n  320500 苏州市 Suzhou  "));
  CHECK_THAT(text, Catch::Contains("\nfailed by reason\n"));
  CHECK_THAT(text, Catch::Contains("busy 1, no_route 1\n"));
  CHECK_THAT(text, Catch::Contains("holds in all 13 rows and the totals"));
  // Columns line up: every row of the table is as wide in display columns as the header.
  // (CJK characters take two columns.)
  const auto tableStart = text.find("\nprovince ");
  REQUIRE(tableStart != std::string::npos);
  const auto tableEnd = text.find("\n\n", tableStart);
  std::vector<std::size_t> widths;
  for (std::size_t at = tableStart + 1; at < tableEnd;) {
    const std::size_t eol = text.find('\n', at);
    widths.push_back(sb::core::displayColumns(text.substr(at, eol - at)));
    at = eol + 1;
  }
  REQUIRE(widths.size() == 8);
  CHECK(std::all_of(widths.begin(), widths.end(), [&](std::size_t w) { return w == widths[0]; }));

  std::string error;
  const auto json = sb::core::parseJson(
      sb::core::formatReportJson(report, sb::core::ReportBy::City, built.table.get()), error);
  INFO(error);
  REQUIRE(json);
  CHECK(json->find("by")->text == "city");
  CHECK(json->find("period")->find("from")->text == "2026-11-01T00:00:00+08:00");
  CHECK(json->find("input")->find("malformed")->asInt64() == 1);
  CHECK(json->find("input")->find("in_period")->asInt64() == 5);
  const auto& rows = json->find("rows")->items;
  REQUIRE(rows.size() == 4);  // 320000 (province level), 320500, 410100, unrouted
  CHECK(rows[1].find("key")->text == "320500");
  CHECK(rows[1].find("name")->text == "苏州市 Suzhou");
  CHECK(rows[1].find("answered_within_20s")->asInt64() == 1);
  CHECK(rows[1].find("share_within_20s")->text == "0.5000");
  CHECK(rows[1].find("pdd_p95_s")->text == "3.000");
  CHECK(rows[3].find("kind")->text == "unrouted");
  CHECK(rows[3].find("failed_by_reason")->find("no_route")->asInt64() == 1);
  CHECK(rows[2].find("pdd_mean_s")->type == sb::core::JsonValue::Type::Null);
  const sb::core::JsonValue* total = json->find("total");
  CHECK(total->find("offered")->asInt64() == 5);
  CHECK(total->find("answered")->asInt64() == 2);
  CHECK(total->find("abandoned")->asInt64() == 1);
  CHECK(total->find("failed")->asInt64() == 2);
  CHECK(total->find("answer_rate")->text == "0.4000");
  CHECK(json->find("identity")->find("holds")->boolean);
  CHECK_THAT(json->find("definitions")->text, Catch::Contains("divided by all offered calls"));
}
