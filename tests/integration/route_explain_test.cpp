// switchboardctl route explain run as a program on the example tables, from the directory
// and from Redis: the decision chain as text and as JSON (issue 4, item 6).
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "redis/json.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

namespace {

using sb::redis::detail::JsonValue;
using sb::test::ProcessResult;

ProcessResult ctl(std::vector<std::string> args) {
  args.insert(args.begin(), sb::test::ctlPath());
  ProcessResult r =
      sb::test::runProcess(args, {}, {"SWITCHBOARD_REDIS_PASSWORD"}, std::chrono::seconds(30));
  REQUIRE_FALSE(r.timed_out);
  return r;
}

ProcessResult explain(std::vector<std::string> args) {
  args.insert(args.begin(), {"route", "explain"});
  args.insert(args.end(), {"--tables", sb::test::exampleDir()});
  return ctl(args);
}

const JsonValue& member(const JsonValue& object, std::initializer_list<const char*> path) {
  const JsonValue* at = &object;
  for (const char* key : path) {
    at = at->find(key);
    REQUIRE(at != nullptr);
  }
  return *at;
}

}  // namespace

TEST_CASE("route explain: the decision chain as text", "[ctl][explain]") {
  SECTION("a 0202 complaint to Suzhou on a Sunday: inspection and Suzhou closed") {
    const ProcessResult r =
        explain({"sip:12333320500@gw", "--topic", "0202", "--time", "2026-09-27T10:00"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith("dialled    '12333320500': 12333 + division code 320500\n"
                                        "caller     (none)\n"
                                        "topic      0202 劳动保障监察 (Labour and social-security "
                                        "inspection)\n"
                                        "time       2026-09-27T10:00:00+08:00 (unix 1790474400)\n"
                                        "region     320500 苏州 Suzhou, from the dialled division "
                                        "code\n"
                                        "route      320500/0202 at city level (topic route)\n"
                                        "candidates\n"
                                        "  1. js-inspection"));
    CHECK_THAT(r.out, Catch::Contains("group 1  skipped: closed, opens 2026-09-28T08:30:00+08:00\n"
                                      "      hours mon-fri 08:30-17:30; closed 2026-10-01"));
    CHECK_THAT(r.out, Catch::Contains("  2. js-suzhou"));
    CHECK_THAT(r.out,
               Catch::Contains("  3. js-province     江苏省12333             group 3  usable\n"));
    CHECK_THAT(r.out,
               Catch::EndsWith("answer     forward to js-province (1 of 3 candidates usable; "
                               "the next is tried on 408, 5xx or no answer in time)\n"
                               "tables     read from files (not a published version)\n"));
  }
  SECTION("a bare 12333 from a Henan mobile lands on Henan") {
    const ProcessResult r =
        explain({"12333", "--caller", "+8613007501234", "--time", "2026-09-28T09:00"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("caller     '+8613007501234' -> 13007501234\n"));
    CHECK_THAT(r.out, Catch::Contains("region     410100 in 河南 Henan, from the caller's mobile "
                                      "prefix 1300750\n"));
    CHECK_THAT(r.out, Catch::Contains("route      410000 at province level\n"));
    CHECK_THAT(r.out, Catch::Contains("answer     forward to ha-province"));
  }
  SECTION("Hangzhou on a public holiday: the Zhejiang province center") {
    const ProcessResult r = explain({"sip:123330571@gw", "--time", "2026-10-01T10:00+08:00"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("region     330100 杭州 Hangzhou, from the dialled area "
                                      "code 0571\n"));
    CHECK_THAT(r.out, Catch::Contains("1. zj-hangzhou   杭州市12333  group 1  skipped: closed, "
                                      "opens 2026-10-08T08:30:00+08:00\n"));
    CHECK_THAT(r.out, Catch::Contains("answer     forward to zj-province"));
    // The same instant in UTC and as Unix seconds.
    CHECK(explain({"sip:123330571@gw", "--time", "2026-10-01T02:00Z"}).out == r.out);
    CHECK(explain({"sip:123330571@gw", "--time", "1790820000"}).out == r.out);
  }
  SECTION("a withheld caller and an invalid topic: the default route") {
    const ProcessResult r = explain(
        {"sip:12333@gw", "--caller", "anonymous", "--topic", "99x", "--time", "2026-09-28T09:00"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("caller     'anonymous' -> no usable number"));
    CHECK_THAT(r.out, Catch::Contains("topic      '99x' ignored: invalid"));
    CHECK_THAT(r.out, Catch::Contains("region     none: the default route\n"));
    CHECK_THAT(r.out, Catch::Contains("answer     forward to mohrss-national"));
  }
  SECTION("rejected numbers are explained, exit 0") {
    const ProcessResult malformed = explain({"sip:12333abc@gw", "--time", "0"});
    CHECK(malformed.exit_code == 0);
    CHECK_THAT(malformed.out, Catch::Contains("answer     484 Address Incomplete: malformed number "
                                              "[stage dialled]\n"));
    // Jiangsu lists its cities; 321400 is none of them.
    const ProcessResult unknown = explain({"12333321400", "--time", "0"});
    CHECK_THAT(unknown.out, Catch::Contains("region     321400: unknown division code\n"));
    CHECK_THAT(unknown.out, Catch::Contains("answer     404 Not Found: unknown division code"));
  }
  SECTION("Request-URI forms") {
    for (const char* uri :
         {"12333320500", "sip:12333320500@gw", "SIPS:12333320500@gw:5061",
          "<sip:12333320500@10.0.0.1;transport=tcp>", "tel:12333320500;phone-context=+86"}) {
      CAPTURE(uri);
      CHECK_THAT(explain({uri, "--time", "0"}).out, Catch::StartsWith("dialled    '12333320500'"));
    }
    // A SIP URI without a user part names only a host: nothing to route on.
    CHECK_THAT(explain({"sip:12333320500", "--time", "0"}).out,
               Catch::StartsWith("dialled    '': malformed number"));
  }
}

TEST_CASE("route explain --json", "[ctl][explain]") {
  const ProcessResult r =
      explain({"sip:12333320500@gw", "--topic", "0202", "--time", "2026-09-27T10:00", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::string error;
  const std::optional<JsonValue> json = sb::redis::detail::parseJson(r.out, error);
  INFO(error);
  REQUIRE(json.has_value());
  CHECK(member(*json, {"route", "key"}).text == "320500/0202");
  CHECK(member(*json, {"route", "level"}).text == "city");
  CHECK(member(*json, {"route", "topic_route"}).boolean);
  CHECK(member(*json, {"region", "source"}).text == "dialled_code");
  CHECK(member(*json, {"region", "name_en"}).text == "Suzhou");
  CHECK(member(*json, {"topic", "status"}).text == "valid");
  CHECK(member(*json, {"input", "time"}).text == "1790474400");
  const JsonValue& candidates = member(*json, {"candidates"});
  REQUIRE(candidates.items.size() == 3);
  CHECK(member(candidates.items[0], {"trunk"}).text == "js-inspection");
  CHECK(member(candidates.items[0], {"skip"}).text == "closed");
  CHECK(member(candidates.items[0], {"hours", "next_change"}).text == "2026-09-28T08:30:00+08:00");
  CHECK(member(candidates.items[2], {"usable"}).boolean);
  CHECK(member(candidates.items[2], {"hours"}).type == JsonValue::Type::Null);
  CHECK(member(*json, {"result", "action"}).text == "forward");
  CHECK(member(*json, {"result", "trunk"}).text == "js-province");

  const ProcessResult rejected = explain({"12333330100", "--time", "2026-09-28T10:00", "--json",
                                          "--caller", std::string("\xff\x01", 2)});
  const std::optional<JsonValue> bad = sb::redis::detail::parseJson(rejected.out, error);
  INFO(rejected.out);
  REQUIRE(bad.has_value());  // valid JSON whatever the input bytes
  CHECK(member(*bad, {"input", "caller"}).text == "\xef\xbf\xbd\x01");
}

TEST_CASE("route explain from the tables published in Redis", "[ctl][explain][redis]") {
  sb::test::RedisServer server;
  const ProcessResult none = ctl({"route", "explain", "12333320500", "--redis", server.address()});
  CHECK(none.exit_code == 1);
  CHECK_THAT(none.err, Catch::Contains("no tables published under prefix 'sb'"));

  REQUIRE(ctl({"tables", "publish", sb::test::exampleDir(), "--redis", server.address(), "--prefix",
               "lab"})
              .exit_code == 0);
  const ProcessResult r = ctl({"route", "explain", "123330512", "--redis", server.address(),
                               "--prefix", "lab", "--time", "2026-10-03T10:00"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("1. js-suzhou     苏州市12333  group 1  skipped: closed"));
  CHECK_THAT(r.out, Catch::Contains("answer     forward to js-province"));
  CHECK_THAT(r.out, Catch::EndsWith("tables     version 1\n"));
  // The directory and Redis give the same decision.
  const ProcessResult from_dir = explain({"123330512", "--time", "2026-10-03T10:00"});
  CHECK(from_dir.out.substr(0, from_dir.out.rfind("tables")) ==
        r.out.substr(0, r.out.rfind("tables")));
}

TEST_CASE("route explain usage errors", "[ctl][explain]") {
  struct Bad {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string dir = sb::test::exampleDir();
  const std::vector<Bad> bad{
      {{"12333"}, "exactly one of --tables DIR and --redis HOST:PORT"},
      {{"12333", "--tables", dir, "--redis", "127.0.0.1:1"}, "exactly one of"},
      {{"12333", "--tables", dir, "--prefix", "x"}, "--prefix goes with --redis"},
      {{"12333", "--tables", dir, "--time", "yesterday"},
       "--time must be Unix seconds or ISO 8601"},
      {{"12333", "--tables", dir, "--time", "2026-02-30T10:00"}, "--time must be"},
      {{"12333", "--tables", dir, "--seed", "-1"}, "--seed must be a non-negative integer"},
      {{"12333", "--tables", "/nonexistent"}, "is not a directory"},
      {{"--tables", dir}, "missing argument URI"},
      {{"12333", "--tables", dir, "--json=yes"}, "takes no value"},
  };
  for (const Bad& b : bad) {
    std::vector<std::string> args{"route", "explain"};
    args.insert(args.end(), b.args.begin(), b.args.end());
    const ProcessResult r = ctl(args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(b.message));
  }
  const ProcessResult help = ctl({"route", "explain", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out,
             Catch::StartsWith("usage: switchboardctl route explain URI [--caller NUMBER] "
                               "[--topic CODE] [--time WHEN] [--tables DIR] [--redis "
                               "HOST:PORT]"));
  CHECK_THAT(ctl({"--help"}).out, Catch::Contains("route explain URI"));

  // Invalid tables: every error, exit 1.
  sb::test::TempTableDir broken;
  broken.copyExample();
  broken.write("routes.yaml", "routes:\n  \"320000/0299\": [js-province]\n");
  const ProcessResult invalid = ctl({"route", "explain", "12333", "--tables", broken.path()});
  CHECK(invalid.exit_code == 1);
  CHECK_THAT(invalid.err, Catch::Contains("routes.yaml:2: topic '0299' in route key "
                                          "'320000/0299' is not in the topics table"));
}
