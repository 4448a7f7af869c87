// switchboardctl report against a real redis-server (issue 6, item 2): a known mix of call
// records XADDed the way the gateway writes them (docs/call-records.md), read back by the
// library reader and by the real switchboardctl, as a table, CSV and JSON, and from
// JSON-lines files with a rotated one. The figures are worked out by hand below.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "core/china_time.hpp"
#include "core/json_text.hpp"
#include "core/json_value.hpp"
#include "core/region.hpp"
#include "core/report.hpp"
#include "core/report_format.hpp"
#include "helpers.hpp"
#include "records/call_record.hpp"
#include "records/record_writer.hpp"
#include "redis/record_stream_reader.hpp"
#include "redis/redis_client.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

namespace {

using sb::test::ProcessResult;
using sb::test::RedisServer;

constexpr std::int64_t kHourMs = 3600000;

ProcessResult ctl(std::vector<std::string> args) {
  args.insert(args.begin(), sb::test::ctlPath());
  ProcessResult r =
      sb::test::runProcess(args, {}, {"SWITCHBOARD_REDIS_PASSWORD"}, std::chrono::seconds(60));
  REQUIRE_FALSE(r.timed_out);
  return r;
}

// The period: two hours that ended an hour ago, on whole seconds. Relative to the clock
// because the stream's IDs are the times Redis writes the records.
struct Clock {
  std::int64_t from_ms;
  std::int64_t to_ms;
  Clock() {
    const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    from_ms = (now_s - 3 * 3600) * 1000;
    to_ms = from_ms + 2 * kHourMs;
  }
  std::string from() const { return std::to_string(from_ms / 1000); }
  std::string to() const { return std::to_string(to_ms / 1000); }
};

struct Call {
  std::string id;
  std::string region;  // "" = not routed
  std::string origin;
  std::string trunk;
  std::string result;
  std::string reason;
  int code = 0;
  std::int64_t invite = 0;  // offset from the period start
  std::int64_t ring = 0;    // offsets from the INVITE; 0 = none
  std::int64_t answer = 0;
  std::int64_t end = 0;
};

// One record as the gateway writes it: every field of schema version 1, in its order.
std::string recordJson(const Call& c, std::int64_t from_ms) {
  const std::int64_t t = from_ms + c.invite;
  const std::string province = c.region.empty() ? "" : c.region.substr(0, 2) + "0000";
  const std::string city = c.region.empty()               ? ""
                           : c.region.substr(2) == "0000" ? c.region
                                                          : c.region.substr(0, 4) + "00";
  std::string out = "{\"v\":1,\"call_id\":";
  sb::core::appendJsonString(out, c.id);
  out += ",\"instance\":\"gw-a\",\"source\":\"127.0.0.2\",\"origin\":\"" + c.origin +
         "\",\"dialled\":\"12333" + c.region + "\",\"caller\":\"1391234****\",\"region\":\"" +
         c.region + "\",\"province\":\"" + province + "\",\"city\":\"" + city + "\",\"level\":\"" +
         (c.region.empty() ? "" : "city") + "\",\"topic\":\"\",\"attempts\":[";
  if (!c.trunk.empty()) {
    out += "{\"trunk\":\"" + c.trunk + "\",\"code\":" + std::to_string(c.code) + ",\"result\":\"" +
           (c.result == "answered" ? "answered" : "failed") + "\"}";
  }
  out += "],\"trunk\":\"" + c.trunk + "\",\"t_invite\":" + std::to_string(t) +
         ",\"t_ring\":" + std::to_string(c.ring ? t + c.ring : 0) +
         ",\"t_answer\":" + std::to_string(c.answer ? t + c.answer : 0) +
         ",\"t_end\":" + std::to_string(t + c.end) + ",\"code\":" + std::to_string(c.code) +
         ",\"result\":\"" + c.result + "\",\"fail_reason\":\"" + c.reason + "\",\"end_reason\":\"" +
         (c.result == "answered"    ? "caller_bye"
          : c.result == "abandoned" ? "caller_cancel"
                                    : "rejected") +
         "\"}";
  return out;
}

// The known mix: 11 calls in the period, one just before it and one at its end (outside).
std::vector<Call> knownMix() {
  return {
      {"c1", "320500", "zj-hangzhou", "js-suzhou", "answered", "", 200, 60000, 1000, 10000, 70000},
      {"c2", "320500", "zj-hangzhou", "js-suzhou", "answered", "", 200, 120000, 3000, 20000,
       140000},  // answered at exactly 20 s: within 20 s
      {"c3", "320500", "ha-province", "js-province", "answered", "", 200, 180000, 2000, 28000,
       88000},
      {"c4", "320500", "ha-province", "js-suzhou", "abandoned", "", 487, 240000, 4000, 0, 30000},
      {"c5", "320000", "zj-hangzhou", "js-province", "failed", "busy", 486, 300000, 0, 0, 500},
      {"c6", "330100", "js-suzhou", "zj-hangzhou", "answered", "", 200, 360000, 1500, 45000,
       105000},
      {"c7", "330100", "js-suzhou", "zj-province", "failed", "timeout", 408, 420000, 2500, 0,
       32000},
      {"c8", "410100", "js-suzhou", "", "failed", "unavailable", 503, 480000, 0, 0, 0},
      {"c9", "", "js-suzhou", "", "failed", "no_route", 404, 540000, 0, 0, 0},
      {"c10", "", "", "", "failed", "acl", 403, 600000, 0, 0, 0},
      {"c11", "330100", "js-suzhou", "zj-hangzhou", "abandoned", "", 487, 660000, 0, 0, 3000},
      {"early", "320500", "zj-hangzhou", "js-suzhou", "answered", "", 200, -1, 1000, 2000, 9000},
      {"late", "320500", "zj-hangzhou", "js-suzhou", "answered", "", 200, 2 * kHourMs, 1000, 2000,
       9000},
  };
}

// Worked out by hand from knownMix(): see the comments per row.
const std::string kCsvHead =
    "kind,key,name,parent,offered,answered,abandoned,failed,answer_rate,answered_within_20s,"
    "share_within_20s,answered_within_30s,share_within_30s,calls_with_ring,pdd_mean_s,"
    "pdd_p95_s,answer_delay_mean_s,duration_mean_s,failed_acl,failed_rate_limit,"
    "failed_malformed,failed_no_route,failed_loop,failed_max_forwards,failed_unsupported,"
    "failed_capacity,failed_unavailable,failed_busy,failed_rejected,failed_timeout,"
    "failed_shutdown\r\n";
const std::string kCsvByProvince =
    kCsvHead +
    // c1-c5: answered 3 (10 s, 20 s, 28 s), rings 1, 3, 2, 4 s, durations 60, 120, 60 s.
    "province,320000,江苏 Jiangsu,,5,3,1,1,0.6000,2,0.4000,3,0.6000,4,2.500,4.000,19.333,80.000,"
    "0,0,0,0,0,0,0,0,0,1,0,0,0\r\n"
    "city,320000,\"江苏 Jiangsu, province level\",320000,1,0,0,1,0.0000,0,0.0000,0,0.0000,0,,,,,"
    "0,0,0,0,0,0,0,0,0,1,0,0,0\r\n"
    "city,320500,苏州 Suzhou,320000,4,3,1,0,0.7500,2,0.5000,3,0.7500,4,2.500,4.000,19.333,"
    "80.000,0,0,0,0,0,0,0,0,0,0,0,0,0\r\n"
    // c6, c7, c11: answered at 45 s (beyond 30 s), rings 1.5 and 2.5 s.
    "province,330000,浙江 Zhejiang,,3,1,1,1,0.3333,0,0.0000,0,0.0000,2,2.000,2.500,45.000,"
    "60.000,0,0,0,0,0,0,0,0,0,0,0,1,0\r\n"
    "city,330100,杭州 Hangzhou,330000,3,1,1,1,0.3333,0,0.0000,0,0.0000,2,2.000,2.500,45.000,"
    "60.000,0,0,0,0,0,0,0,0,0,0,0,1,0\r\n"
    "province,410000,河南 Henan,,1,0,0,1,0.0000,0,0.0000,0,0.0000,0,,,,,0,0,0,0,0,0,0,0,1,0,0,"
    "0,0\r\n"
    "city,410100,,410000,1,0,0,1,0.0000,0,0.0000,0,0.0000,0,,,,,0,0,0,0,0,0,0,0,1,0,0,0,0\r\n"
    "unrouted,,unrouted (no region),,2,0,0,2,0.0000,0,0.0000,0,0.0000,0,,,,,1,0,0,1,0,0,0,0,0,"
    "0,0,0,0\r\n"
    // 6 rings (1, 3, 2, 4, 1.5, 2.5 s): mean 2.333, p95 = the 6th = 4 s; waits 10, 20, 28,
    // 45 s; durations 60, 120, 60, 60 s.
    "total,,total,,11,4,2,5,0.3636,2,0.1818,3,0.2727,6,2.333,4.000,25.750,75.000,1,0,0,1,0,0,0,"
    "0,1,1,0,1,0\r\n";

void xadd(RedisServer& redis, const std::vector<std::string>& fields) {
  std::vector<std::string> args{"XADD", "sb:records", "MAXLEN", "~", "100000", "*"};
  args.insert(args.end(), fields.begin(), fields.end());
  const std::string id = redis.command(args);
  REQUIRE(id.find('-') != std::string::npos);
}

// The words after `label` on the first line of `text` that starts with it.
std::vector<std::string> tableRow(const std::string& text, const std::string& label) {
  const std::size_t at = text.find("\n" + label);
  if (at == std::string::npos) return {};
  std::istringstream line(
      text.substr(at + 1 + label.size(), text.find('\n', at + 1) - at - 1 - label.size()));
  std::vector<std::string> words;
  for (std::string word; line >> word;) words.push_back(word);
  return words;
}

std::string csvLine(const std::string& csv, const std::string& start) {
  const std::size_t at = csv.find("\r\n" + start);
  if (at == std::string::npos) return "";
  return csv.substr(at + 2, csv.find("\r\n", at + 2) - at - 2);
}

}  // namespace

TEST_CASE("report from the Redis stream: the known mix, by library and by switchboardctl",
          "[report]") {
  RedisServer redis;
  const Clock clock;
  const ProcessResult published =
      ctl({"tables", "publish", sb::test::exampleDir(), "--redis", redis.address()});
  REQUIRE(published.exit_code == 0);
  for (const Call& c : knownMix()) xadd(redis, {"rec", recordJson(c, clock.from_ms)});
  xadd(redis, {"rec", "{\"v\":1,\"call_id\":\"cut"});  // a record cut short
  xadd(redis, {"other", "x"});                         // an entry without `rec`

  // The library: small pages, so the paging is exercised.
  sb::core::Report report;
  report.period = {clock.from_ms, clock.to_ms};
  sb::redis::RedisAddress addr = sb::redis::parseRedisAddress(redis.address());
  std::vector<std::string> ids;
  const sb::redis::StreamReadResult read = sb::redis::readRecordStream(
      addr, clock.from_ms,
      [&](const std::string& id, const std::optional<std::string>& rec) {
        ids.push_back(id);
        if (rec) report.addJson(*rec, "entry " + id);
      },
      4);
  INFO(read.error);
  REQUIRE(read.ok);
  CHECK(read.entries == 15);
  CHECK(ids.size() == 15);
  CHECK(std::is_sorted(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) {
    return std::stoll(a) < std::stoll(b) ||
           (std::stoll(a) == std::stoll(b) &&
            std::stoll(a.substr(a.find('-') + 1)) < std::stoll(b.substr(b.find('-') + 1)));
  }));
  CHECK(read.first_id == ids.front());
  CHECK(report.total.offered == 11);
  CHECK(report.outside_period == 2);
  CHECK(report.input.malformed == 1);
  CHECK(sb::core::checkIdentity(report).holds());
  const auto tables = sb::redis::fetchTables(addr);
  REQUIRE(tables.ok);
  const auto built = sb::core::buildTable(tables.spec, tables.version);
  REQUIRE(built.table);
  CHECK(sb::core::formatReportCsv(report, sb::core::ReportBy::Province, built.table.get()) ==
        kCsvByProvince);

  // The real program: CSV, exactly.
  const ProcessResult csv = ctl(
      {"report", "--from", clock.from(), "--to", clock.to(), "--redis", redis.address(), "--csv"});
  INFO(csv.err);
  CHECK(csv.exit_code == 0);
  CHECK(csv.out == kCsvByProvince);
  // Malformed entries are named on stderr, never skipped silently.
  CHECK_THAT(csv.err, Catch::Contains("2 records malformed, not counted; the first: entry "));

  const ProcessResult trunks = ctl({"report", "--from", clock.from(), "--to", clock.to(), "--redis",
                                    redis.address(), "--csv", "--by", "trunk"});
  CHECK(trunks.exit_code == 0);
  // c1, c2, c4: rings 1, 3, 4 s; answered at 10 and 20 s; 60 and 120 s long.
  CHECK(csvLine(trunks.out, "trunk,js-suzhou,") ==
        "trunk,js-suzhou,苏州市12333,,3,2,1,0,0.6667,2,0.6667,2,0.6667,3,2.667,4.000,15.000,"
        "90.000,0,0,0,0,0,0,0,0,0,0,0,0,0");
  CHECK(csvLine(trunks.out, "trunk,js-province,") ==
        "trunk,js-province,江苏省12333,,2,1,0,1,0.5000,0,0.0000,1,0.5000,1,2.000,2.000,28.000,"
        "60.000,0,0,0,0,0,0,0,0,0,1,0,0,0");
  CHECK(csvLine(trunks.out, "trunk,,") ==
        "trunk,,(none: not forwarded),,3,0,0,3,0.0000,0,0.0000,0,0.0000,0,,,,,1,0,0,1,0,0,0,0,1,0,"
        "0,0,0");
  CHECK(csvLine(trunks.out, "total,") == csvLine(kCsvByProvince, "total,"));

  const ProcessResult origins = ctl({"report", "--from", clock.from(), "--to", clock.to(),
                                     "--redis", redis.address(), "--csv", "--by", "origin"});
  CHECK(origins.exit_code == 0);
  CHECK_THAT(csvLine(origins.out, "origin,js-suzhou,"),
             Catch::StartsWith("origin,js-suzhou,苏州市12333,,5,1,1,3,0.2000,0,"));
  CHECK_THAT(csvLine(origins.out, "origin,,"),
             Catch::StartsWith("origin,,(unknown source),,1,0,0,1,"));

  // JSON: the same figures, and the input accounted for.
  const ProcessResult json = ctl({"report", "--from", clock.from(), "--to", clock.to(), "--redis",
                                  redis.address(), "--json", "--by", "city"});
  REQUIRE(json.exit_code == 0);
  std::string error;
  const auto doc = sb::core::parseJson(json.out, error);
  INFO(error);
  REQUIRE(doc);
  const sb::core::JsonValue* input = doc->find("input");
  CHECK(input->find("source")->text == "redis " + redis.address() + " stream sb:records");
  CHECK(input->find("records_read")->asInt64() == 15);
  CHECK(input->find("in_period")->asInt64() == 11);
  CHECK(input->find("outside_period")->asInt64() == 2);
  CHECK(input->find("malformed")->asInt64() == 2);
  REQUIRE(input->find("malformed_examples")->items.size() == 2);
  CHECK_THAT(input->find("malformed_examples")->items[0].text, Catch::Contains("not JSON"));
  CHECK_THAT(input->find("malformed_examples")->items[1].text, Catch::EndsWith(": no field 'rec'"));
  const sb::core::JsonValue* total = doc->find("total");
  CHECK(total->find("offered")->asInt64() == 11);
  CHECK(total->find("answered")->asInt64() == 4);
  CHECK(total->find("abandoned")->asInt64() == 2);
  CHECK(total->find("failed")->asInt64() == 5);
  CHECK(total->find("answered_within_20s")->asInt64() == 2);
  CHECK(total->find("share_within_20s")->text == "0.1818");
  CHECK(total->find("pdd_p95_s")->text == "4.000");
  CHECK(total->find("failed_by_reason")->members.size() == 5);
  CHECK(doc->find("identity")->find("holds")->boolean);
  REQUIRE(doc->find("rows")->items.size() == 5);  // 320000, 320500, 330100, 410100, unrouted
  CHECK(doc->find("rows")->items[2].find("name")->text == "杭州 Hangzhou");

  // The table for people.
  const ProcessResult table =
      ctl({"report", "--from", clock.from(), "--to", clock.to(), "--redis", redis.address()});
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::StartsWith("period   " + sb::core::formatCst(clock.from_ms / 1000) +
                                          " to " + sb::core::formatCst(clock.to_ms / 1000)));
  CHECK_THAT(table.out, Catch::Contains("records  15 records read: 11 in the period, 2 outside "
                                        "it, 2 malformed (not counted)"));
  using Words = std::vector<std::string>;
  CHECK(tableRow(table.out, "320000 江苏 Jiangsu ") ==
        Words{"5", "3", "1", "1", "60.0%", "40.0%", "60.0%", "2.5", "4.0", "19.3", "80.0"});
  CHECK(tableRow(table.out, "  320500 苏州 Suzhou ") ==
        Words{"4", "3", "1", "0", "75.0%", "50.0%", "75.0%", "2.5", "4.0", "19.3", "80.0"});
  CHECK(tableRow(table.out, "unrouted (no region) ") ==
        Words{"2", "0", "0", "2", "0.0%", "0.0%", "0.0%", "-", "-", "-", "-"});
  CHECK(tableRow(table.out, "total ") ==
        Words{"11", "4", "2", "5", "36.4%", "18.2%", "27.3%", "2.3", "4.0", "25.8", "75.0"});
  CHECK_THAT(table.out, Catch::Contains("acl 1, busy 1, no_route 1, timeout 1, unavailable 1\n"));
  CHECK_THAT(table.out, Catch::Contains("identity offered = answered + abandoned + failed: holds "
                                        "in all 18 rows and the totals"));

  // A month, a quarter and dates are accepted; another prefix reads another stream.
  const ProcessResult other = ctl({"report", "--from", clock.from(), "--redis", redis.address(),
                                   "--prefix", "nosuch", "--json"});
  CHECK(other.exit_code == 0);
  const auto empty = sb::core::parseJson(other.out, error);
  REQUIRE(empty);
  CHECK(empty->find("total")->find("offered")->asInt64() == 0);
  CHECK_THAT(empty->find("input")->find("warnings")->items[0].text,
             Catch::Contains("nosuch:records is empty or does not exist"));
}

TEST_CASE("report reads the stream in pages to its end", "[report]") {
  RedisServer redis;
  const Clock clock;
  sb::redis::RedisAddress addr = sb::redis::parseRedisAddress(redis.address());
  sb::redis::detail::RedisConn conn(addr, std::chrono::seconds(2), std::chrono::seconds(10));
  constexpr int kCalls = 2503;  // more than two pages of 1000
  for (int i = 0; i < kCalls; ++i) {
    Call c{"p" + std::to_string(i),
           "320500",
           "zj-hangzhou",
           "js-suzhou",
           "answered",
           "",
           200,
           i * 1000,
           500,
           5000 + (i % 40) * 1000,
           65000};
    conn.append(
        {"XADD", "sb:records", "MAXLEN", "~", "100000", "*", "rec", recordJson(c, clock.from_ms)});
  }
  for (int i = 0; i < kCalls; ++i) conn.readReply();

  const ProcessResult r = ctl(
      {"report", "--from", clock.from(), "--to", clock.to(), "--redis", redis.address(), "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::string error;
  const auto doc = sb::core::parseJson(r.out, error);
  REQUIRE(doc);
  const sb::core::JsonValue* total = doc->find("total");
  CHECK(doc->find("input")->find("records_read")->asInt64() == kCalls);
  CHECK(total->find("offered")->asInt64() == kCalls);
  CHECK(total->find("answered")->asInt64() == kCalls);
  // Waits 5 .. 44 s in turn: 16 of every 40 within 20 s (5..20), 26 within 30 s.
  const int within20 = (kCalls / 40) * 16 + std::min(kCalls % 40, 16);
  const int within30 = (kCalls / 40) * 26 + std::min(kCalls % 40, 26);
  CHECK(total->find("answered_within_20s")->asInt64() == within20);
  CHECK(total->find("answered_within_30s")->asInt64() == within30);
}

TEST_CASE("report from JSON-lines files, rotated ones included, malformed lines named",
          "[report]") {
  const Clock clock;
  sb::test::TempTableDir dir;  // a temporary directory
  const std::vector<Call> mix = knownMix();
  // The older records in the rotated file, the newer ones (with a cut line, an empty line
  // and a CRLF line ending) in the current one.
  std::string rotated;
  for (std::size_t i = 0; i < 6; ++i) rotated += recordJson(mix[i], clock.from_ms) + "\n";
  dir.write("records.jsonl.1", rotated);
  std::string current;
  for (std::size_t i = 6; i < mix.size(); ++i) {
    current += recordJson(mix[i], clock.from_ms) + (i == 7 ? "\r\n" : "\n");
    if (i == 8) current += "{\"v\":1,\"call_id\":\"c\n\n";  // lines 4 and 5
  }
  current += "{\"v\":7}";  // the last line, without a newline
  dir.write("records.jsonl", current);
  const std::string file = dir.file("records.jsonl");

  const ProcessResult csv = ctl({"report", "--from", clock.from(), "--to", clock.to(), "--file",
                                 file, "--tables", sb::test::exampleDir(), "--csv"});
  INFO(csv.err);
  CHECK(csv.exit_code == 0);
  CHECK(csv.out == kCsvByProvince);
  CHECK_THAT(csv.err, Catch::Contains("3 records malformed, not counted; the first: " + file +
                                      ":4: not JSON"));

  // Naming the rotated file too reads it once.
  const ProcessResult json = ctl({"report", "--from", clock.from(), "--to", clock.to(), "--file",
                                  file, "--file", dir.file("records.jsonl.1"), "--json"});
  CHECK(json.exit_code == 0);
  std::string error;
  const auto doc = sb::core::parseJson(json.out, error);
  REQUIRE(doc);
  const sb::core::JsonValue* input = doc->find("input");
  CHECK(input->find("source")->text == "files " + file + ", " + file + ".1");
  CHECK(input->find("records_read")->asInt64() == 16);
  CHECK(input->find("malformed")->asInt64() == 3);
  const auto& examples = input->find("malformed_examples")->items;
  REQUIRE(examples.size() == 3);
  CHECK_THAT(examples[0].text, Catch::StartsWith(file + ":4: not JSON"));
  CHECK(examples[1].text == file + ":5: not JSON: unexpected end of text at offset 0");
  CHECK(examples[2].text == file + ":10: unsupported schema version 7 (this reader knows 1)");
  CHECK(doc->find("total")->find("offered")->asInt64() == 11);
  // Without tables the rows carry codes only.
  CHECK(doc->find("rows")->items[0].find("name")->text.empty());

  // The files' figures equal the stream's: only the period's calls count.
  const ProcessResult quarter = ctl({"report", "--quarter", "1999Q1", "--file", file, "--json"});
  CHECK(quarter.exit_code == 0);
  const auto none = sb::core::parseJson(quarter.out, error);
  REQUIRE(none);
  CHECK(none->find("total")->find("offered")->asInt64() == 0);
  CHECK(none->find("input")->find("outside_period")->asInt64() == 13);
}

TEST_CASE("report: usage errors and unreadable sources", "[report]") {
  struct Bad {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Bad> bad{
      {{"report"}, "exactly one of --from [--to], --quarter, --month"},
      {{"report", "--quarter", "2026Q4", "--month", "2026-11"}, "exactly one of"},
      {{"report", "--to", "2026-11-01", "--quarter", "2026Q4"}, "--to goes with --from"},
      {{"report", "--quarter", "2026Q5"}, "--quarter must look like 2026Q4"},
      {{"report", "--month", "2026-13"}, "--month must look like 2026-11"},
      {{"report", "--from", "2026-02-30"}, "--from must be a date"},
      {{"report", "--from", "2026-11-02", "--to", "2026-11-01T00:00"}, "ends before it begins"},
      {{"report", "--month", "2026-11", "--by", "county"}, "--by must be province, city"},
      {{"report", "--month", "2026-11", "--csv", "--json"}, "at most one of --csv, --json"},
      {{"report", "--month", "2026-11", "--file", "x", "--redis", "127.0.0.1:1"},
       "either the Redis stream"},
      {{"report", "--month", "2026-11", "--file", "records.jsonl.2.gz"}, "is compressed"},
      {{"report", "--month", "2026-11", "--redis", "127.0.0.1:1", "--redis", "127.0.0.1:2"},
       "given twice"},
  };
  for (const Bad& b : bad) {
    const ProcessResult r = ctl(b.args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(b.message));
  }
  const ProcessResult missing = ctl({"report", "--month", "2026-11", "--file", "/nonexistent/x"});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("cannot read '/nonexistent/x'"));

  const int port = sb::test::freePort();  // nothing listens there
  const ProcessResult down =
      ctl({"report", "--month", "2026-11", "--redis", "127.0.0.1:" + std::to_string(port)});
  CHECK(down.exit_code == 1);
  CHECK_THAT(down.err, Catch::Contains("cannot read the records from Redis"));
  CHECK(down.out.empty());

  const ProcessResult help = ctl({"report", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("[--file PATH]..."));
}

namespace {

// The same call as the gateway's own record (gateway/records), names mapped through the
// writer's name functions so no second list of them exists here.
sb::records::CallRecord gatewayRecord(const Call& c, std::int64_t from_ms) {
  using namespace sb::records;
  CallRecord r;
  r.call_id = c.id;
  r.source = "127.0.0.2";
  r.origin = c.origin;
  r.dialled = dialledText("12333" + c.region);
  r.caller = maskCaller("+8613912345678");
  if (!c.region.empty()) {
    r.region = *sb::core::parseRegionCode(c.region);
    r.routed = true;
    r.level = sb::core::Level::City;
  }
  if (!c.trunk.empty()) {
    r.attempts.push_back(
        {c.trunk, static_cast<std::uint16_t>(c.code),
         c.result == "answered" ? AttemptResult::Answered : AttemptResult::Failed});
  }
  r.t_invite = from_ms + c.invite;
  r.t_ring = c.ring ? r.t_invite + c.ring : 0;
  r.t_answer = c.answer ? r.t_invite + c.answer : 0;
  r.t_end = r.t_invite + c.end;
  r.code = c.code;
  for (std::size_t i = 0; i < static_cast<std::size_t>(Result::kCount); ++i) {
    if (resultName(static_cast<Result>(i)) == c.result) r.result = static_cast<Result>(i);
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(FailReason::kCount); ++i) {
    if (failReasonName(static_cast<FailReason>(i)) == c.reason) {
      r.fail_reason = static_cast<FailReason>(i);
    }
  }
  r.end_reason = c.result == "answered"    ? EndReason::CallerBye
                 : c.result == "abandoned" ? EndReason::CallerCancel
                                           : EndReason::Rejected;
  return r;
}

}  // namespace

TEST_CASE("the gateway's record writer and the report agree (docs/call-records.md)", "[report]") {
  RedisServer redis;
  const Clock clock;
  sb::test::TempTableDir dir;
  REQUIRE(
      ctl({"tables", "publish", sb::test::exampleDir(), "--redis", redis.address()}).exit_code ==
      0);
  sb::records::WriterConfig config;
  config.redis = sb::redis::parseRedisAddress(redis.address());
  config.file = dir.file("records.jsonl");
  config.file_max_bytes = 2000;  // a few records per file: the report must read the rotated
  config.file_keep = 50;
  const std::vector<Call> mix = knownMix();
  {
    sb::records::RecordWriter writer(config);
    writer.start();
    for (const Call& c : mix) {
      const std::string json = sb::records::encode(gatewayRecord(c, clock.from_ms), "gw-a");
      std::string error;
      INFO(json);
      CHECK(sb::core::parseCallRecord(json, error));  // every record the gateway writes reads
      CHECK(error.empty());
      writer.push(json);
    }
    REQUIRE(sb::test::waitUntil([&] { return writer.stats().redis_written == mix.size(); }));
    writer.stop();
    CHECK(writer.stats().file_written == mix.size());
    CHECK(writer.stats().dropped == 0);
  }
  REQUIRE(std::filesystem::exists(dir.file("records.jsonl.2")));  // rotated at least twice

  const ProcessResult stream = ctl(
      {"report", "--from", clock.from(), "--to", clock.to(), "--redis", redis.address(), "--csv"});
  INFO(stream.err);
  CHECK(stream.exit_code == 0);
  CHECK(stream.out == kCsvByProvince);
  CHECK(stream.err.empty());

  const ProcessResult files =
      ctl({"report", "--from", clock.from(), "--to", clock.to(), "--file",
           dir.file("records.jsonl"), "--tables", sb::test::exampleDir(), "--csv"});
  INFO(files.err);
  CHECK(files.exit_code == 0);
  CHECK(files.out == kCsvByProvince);
  CHECK(files.err.empty());
}
