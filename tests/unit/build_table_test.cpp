// buildTable validation: every error kind, each with file:line, all of them collected.
// SPEC §5: unknown trunk, duplicate key, bad code, unreachable route — each with file:line.
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/routing_table.hpp"
#include "sample_tables.hpp"

using sb::core::TableSpec;
using sb::test::at;
using sb::test::kAreaCodes;
using sb::test::kCallers;
using sb::test::kRegions;
using sb::test::kRoutes;
using sb::test::kTrunks;
using sb::test::member;
using sb::test::sampleSpec;
using sb::test::trunk;

namespace {

using Errors = std::vector<std::string>;

// Builds the sample tables after `edit` and returns the formatted errors; a table comes
// back exactly when there are none.
Errors errorsAfter(const std::function<void(TableSpec&)>& edit) {
  TableSpec spec = sampleSpec();
  edit(spec);
  const sb::core::BuildResult built = sb::core::buildTable(spec, 3);
  CHECK((built.table == nullptr) == !built.errors.empty());
  Errors out;
  for (const sb::core::TableError& error : built.errors) out.push_back(formatError(error));
  return out;
}

// Sample spec items by name, so an edit reads like the YAML an operator would change.
sb::core::TrunkSpec& trunkNamed(TableSpec& spec, const std::string& name) {
  for (auto& t : spec.trunks) {
    if (t.name == name) return t;
  }
  FAIL("no trunk " << name);
  return spec.trunks.front();
}

sb::core::RouteSpec& routeKeyed(TableSpec& spec, const std::string& key) {
  for (auto& r : spec.routes) {
    if (r.key == key) return r;
  }
  FAIL("no route " << key);
  return spec.routes.front();
}

}  // namespace

TEST_CASE("the unchanged sample builds without errors", "[build]") {
  CHECK(errorsAfter([](TableSpec&) {}).empty());
}

TEST_CASE("build error: unknown trunk in a route", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          routeKeyed(s, "320500").groups[0].push_back(member("js-suzhu", 1, 42));
        }) == Errors{"tables/routes.yaml:42: unknown trunk 'js-suzhu' in route 320500"});
}

TEST_CASE("build error: a member without its own line is reported at its route", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          routeKeyed(s, "320500").groups[0].push_back(sb::core::RouteMemberSpec{"ghost", 1, {}});
        }) == Errors{"tables/routes.yaml:4: unknown trunk 'ghost' in route 320500"});
}

TEST_CASE("build error: duplicate trunk name", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          s.trunks.push_back(trunk("js-suzhou", "320500", "sip:10.0.7.1", "10.0.7.1", 60));
        }) == Errors{"tables/trunks.yaml:60: duplicate trunk 'js-suzhou' (first defined at "
                     "tables/trunks.yaml:10)"});
}

TEST_CASE("build error: duplicate route key", "[build]") {
  SECTION("a division code") {
    CHECK(errorsAfter([](TableSpec& s) {
            s.routes.push_back({"320500", {{member("js-province", 1, 31)}}, at(kRoutes, 30)});
          }) == Errors{"tables/routes.yaml:30: duplicate route key '320500' (first defined at "
                       "tables/routes.yaml:4)"});
  }
  SECTION("the default route") {
    CHECK(errorsAfter([](TableSpec& s) {
            s.routes.push_back({"default", {{member("js-province", 1, 31)}}, at(kRoutes, 30)});
          }) == Errors{"tables/routes.yaml:30: duplicate route key 'default' (first defined at "
                       "tables/routes.yaml:12)"});
  }
}

TEST_CASE("build error: duplicate area code", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          s.area_codes.push_back({"0512", "320500", at(kAreaCodes, 9)});
        }) == Errors{"tables/area-codes.yaml:9: duplicate area code '0512' (first defined at "
                     "tables/area-codes.yaml:1)"});
}

TEST_CASE("build error: duplicate region", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          s.regions.push_back({"320500", "苏州", "Suzhou", at(kRegions, 9)});
        }) == Errors{"tables/regions.yaml:9: duplicate region '320500' (first defined at "
                     "tables/regions.yaml:2)"});
}

TEST_CASE("build error: duplicate caller prefix", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          s.caller_prefixes.push_back({"1390512", "320000", at(kCallers, 9)});
        }) ==
        Errors{"tables/caller-prefixes.yaml:9: duplicate caller prefix '1390512' (first defined "
               "at tables/caller-prefixes.yaml:1)"});
}

TEST_CASE("build error: bad division codes everywhere a code is written", "[build]") {
  SECTION("trunk region") {
    CHECK(errorsAfter([](TableSpec& s) { trunkNamed(s, "js-suzhou").region = "32050"; }) ==
          Errors{"tables/trunks.yaml:10: bad division code '32050' for trunk 'js-suzhou': "
                 "expected 6 digits of a GB/T 2260 code"});
  }
  SECTION("route key") {
    CHECK(errorsAfter([](TableSpec& s) { routeKeyed(s, "320506").key = "320006"; }) ==
          Errors{"tables/routes.yaml:8: bad division code '320006' in route key: expected 6 "
                 "digits of a GB/T 2260 code or 'default'"});
  }
  SECTION("area code target") {
    CHECK(errorsAfter([](TableSpec& s) { s.area_codes[0].division = "000512"; }) ==
          Errors{"tables/area-codes.yaml:1: bad division code '000512' for area code '0512': "
                 "expected 6 digits of a GB/T 2260 code"});
  }
  SECTION("region") {
    CHECK(errorsAfter([](TableSpec& s) {
            s.regions.push_back({"4401", "广州", "Guangzhou", at(kRegions, 7)});
          }) == Errors{"tables/regions.yaml:7: bad division code '4401' in regions: expected 6 "
                       "digits of a GB/T 2260 code"});
  }
  SECTION("caller prefix target") {
    CHECK(errorsAfter([](TableSpec& s) { s.caller_prefixes[2].division = "41010x"; }) ==
          Errors{"tables/caller-prefixes.yaml:3: bad division code '41010x' for caller prefix "
                 "'1370371': expected 6 digits of a GB/T 2260 code"});
  }
}

TEST_CASE("build error: bad area code format", "[build]") {
  for (const std::string code : {"512", "05123", "0100", "051", "00", "0x12", ""}) {
    CAPTURE(code);
    CHECK(errorsAfter([&](TableSpec& s) {
            s.area_codes.push_back({code, "320500", at(kAreaCodes, 8)});
          }) == Errors{"tables/area-codes.yaml:8: bad area code '" + code +
                       "': expected 0 + 2 digits (010, 02x) or 0 + 3 digits (0512)"});
  }
}

TEST_CASE("build error: invalid trunk name", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          s.trunks.push_back(trunk("JS_Bad", "320500", "sip:10.0.7.1", "10.0.7.1", 60));
          routeKeyed(s, "320500").groups[1].push_back(member("JS_Bad", 1, 70));
        }) ==
        Errors{"tables/trunks.yaml:60: invalid trunk name 'JS_Bad': expected [a-z0-9][a-z0-9-]*"});
}

TEST_CASE("build error: trunk without targets", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) { trunkNamed(s, "js-suzhou").targets.clear(); }) ==
        Errors{"tables/trunks.yaml:10: trunk 'js-suzhou' has no targets"});
}

TEST_CASE("build error: target that is not a sip:/sips: URI with a host", "[build]") {
  for (const std::string target :
       {"10.0.2.1:5060", "tel:+8651268001234", "sip:", "sip:10.0.2.1;transport=sctp",
        "sip:2001:db8::1", "sip:10.0.2.1:99999", "http://pbx.example.cn"}) {
    CAPTURE(target);
    CHECK(errorsAfter([&](TableSpec& s) {
            trunkNamed(s, "js-suzhou").targets.push_back(target);
          }) == Errors{"tables/trunks.yaml:10: bad target '" + target +
                       "' for trunk 'js-suzhou': expected a sip: or sips: URI with a host"});
  }
}

TEST_CASE("build error: weight 0", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) { routeKeyed(s, "320500").groups[0][1].weight = 0; }) ==
        Errors{"tables/routes.yaml:6: weight 0 for trunk 'js-suzhou-b' in route 320500: weights "
               "must be at least 1"});
}

TEST_CASE("build error: empty route and empty group", "[build]") {
  SECTION("a route without groups") {
    CHECK(errorsAfter([](TableSpec& s) {
            s.routes.push_back({"320100", {}, at(kRoutes, 20)});
          }) == Errors{"tables/routes.yaml:20: route 320100 has no trunk groups"});
  }
  SECTION("an empty group") {
    CHECK(errorsAfter([](TableSpec& s) { routeKeyed(s, "320500").groups.emplace_back(); }) ==
          Errors{"tables/routes.yaml:4: group 3 of route 320500 is empty"});
  }
}

TEST_CASE("build error: route key whose province is not a listed region", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          s.routes.push_back({"440300", {{member("national", 1, 21)}}, at(kRoutes, 20)});
        }) ==
        Errors{"tables/routes.yaml:20: route 440300: province 440000 is not a listed region"});
}

TEST_CASE("build error: a source address claimed by two trunks", "[build]") {
  SECTION("the same text") {
    CHECK(errorsAfter([](TableSpec& s) {
            trunkNamed(s, "js-suzhou-b").sources.push_back("10.0.1.1");
          }) == Errors{"tables/trunks.yaml:20: source address '10.0.1.1' of trunk 'js-suzhou-b' "
                       "is already claimed by trunk 'js-province'"});
  }
  SECTION("the same IPv6 address spelt differently") {
    CHECK(errorsAfter([](TableSpec& s) {
            trunkNamed(s, "national").sources.push_back("2001:DB8:0::21");
          }) == Errors{"tables/trunks.yaml:50: source address '2001:DB8:0::21' of trunk "
                       "'national' is already claimed by trunk 'js-suzhou'"});
  }
  SECTION("twice in one trunk") {
    CHECK(errorsAfter([](TableSpec& s) {
            trunkNamed(s, "js-suzhou").sources.push_back("10.0.2.1");
          }) == Errors{"tables/trunks.yaml:10: source address '10.0.2.1' listed twice for trunk "
                       "'js-suzhou'"});
  }
}

TEST_CASE("build error: bad source address", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) { trunkNamed(s, "js-suzhou").sources.push_back("10.0.2"); }) ==
        Errors{"tables/trunks.yaml:10: bad source address '10.0.2' for trunk 'js-suzhou': "
               "expected an IPv4 or IPv6 address"});
}

TEST_CASE("build error: unreachable trunk", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          s.trunks.push_back(trunk("spare", "320500", "sip:10.0.7.1", "10.0.7.1", 60));
        }) == Errors{"tables/trunks.yaml:60: unreachable trunk 'spare': no route uses it"});
}

TEST_CASE("build error: bad caller prefix", "[build]") {
  for (const std::string prefix : {"0512", "13905121", "139a", "", "+86139"}) {
    CAPTURE(prefix);
    CHECK(errorsAfter([&](TableSpec& s) {
            s.caller_prefixes.push_back({prefix, "320500", at(kCallers, 7)});
          }) == Errors{"tables/caller-prefixes.yaml:7: bad caller prefix '" + prefix +
                       "': expected 1 to 7 digits of a mobile number (starting with 1)"});
  }
}

TEST_CASE("build error: the same trunk twice in a route", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          routeKeyed(s, "320500").groups[1].push_back(member("js-suzhou", 1, 7));
        }) == Errors{"tables/routes.yaml:7: trunk 'js-suzhou' appears twice in route 320500"});
}

TEST_CASE("build errors: without a line the file alone is named", "[build]") {
  CHECK(errorsAfter([](TableSpec& s) {
          s.area_codes.push_back({"0512", "320500", {"redis:sb:tables:v7:area_codes", 0}});
        }) == Errors{"redis:sb:tables:v7:area_codes: duplicate area code '0512' (first defined at "
                     "tables/area-codes.yaml:1)"});
}

TEST_CASE("build errors: every error is collected, in file and line order", "[build]") {
  const Errors errors = errorsAfter([](TableSpec& s) {
    s.regions.push_back({"320500", "苏州", "Suzhou", at(kRegions, 9)});
    trunkNamed(s, "js-suzhou").region = "32050";
    trunkNamed(s, "js-province").targets = {"sip:"};
    s.trunks.push_back(trunk("spare", "320500", "sip:10.0.7.1", "10.0.2.1", 60));
    routeKeyed(s, "320500").groups[0].push_back(member("js-suzhu", 0, 44));
    s.routes.push_back({"440300", {{member("national", 1, 51)}}, at(kRoutes, 50)});
    s.area_codes.push_back({"512", "320500", at(kAreaCodes, 5)});
    s.caller_prefixes.push_back({"13905", "320000", at(kCallers, 4)});
  });
  CHECK(errors ==
        Errors{
            "tables/area-codes.yaml:5: bad area code '512': expected 0 + 2 digits (010, 02x) or "
            "0 + 3 digits (0512)",
            "tables/caller-prefixes.yaml:4: duplicate caller prefix '13905' (first defined at "
            "tables/caller-prefixes.yaml:2)",
            "tables/regions.yaml:9: duplicate region '320500' (first defined at "
            "tables/regions.yaml:2)",
            "tables/routes.yaml:44: weight 0 for trunk 'js-suzhu' in route 320500: weights must "
            "be at least 1",
            "tables/routes.yaml:44: unknown trunk 'js-suzhu' in route 320500",
            "tables/routes.yaml:50: route 440300: province 440000 is not a listed region",
            "tables/trunks.yaml:1: bad target 'sip:' for trunk 'js-province': expected a sip: or "
            "sips: URI with a host",
            "tables/trunks.yaml:10: bad division code '32050' for trunk 'js-suzhou': expected 6 "
            "digits of a GB/T 2260 code",
            "tables/trunks.yaml:60: source address '10.0.2.1' of trunk 'spare' is already "
            "claimed by trunk 'js-suzhou'",
            "tables/trunks.yaml:60: unreachable trunk 'spare': no route uses it",
        });
}

namespace {

// A probe block written at trunks.yaml line `line`, each given field one line further down in
// the order interval_ms, jitter_percent, timeout_ms, down_after, up_after, accepted_codes.
sb::core::ProbeSpec probeAt(int line, const sb::core::ProbeOverrides& settings) {
  sb::core::ProbeSpec probe;
  probe.settings = settings;
  probe.loc = at(kTrunks, line);
  int next = line;
  for (const char* field : {"enabled", "interval_ms", "jitter_percent", "timeout_ms", "down_after",
                            "up_after", "accepted_codes"}) {
    probe.field_locs.emplace_back(field, at(kTrunks, ++next));
  }
  return probe;
}

}  // namespace

TEST_CASE("a trunk's own probe settings build into the table", "[build][probe]") {
  TableSpec spec = sampleSpec();
  sb::core::ProbeOverrides settings;
  settings.interval_ms = 5'000;
  settings.timeout_ms = 1'000;
  settings.accepted_codes = std::vector<int>{200, 404};
  trunkNamed(spec, "js-suzhou").probe = probeAt(90, settings);
  sb::core::ProbeOverrides off;
  off.enabled = false;
  trunkNamed(spec, "js-province").probe = probeAt(100, off);
  const sb::core::BuildResult built = sb::core::buildTable(spec, 4);
  REQUIRE(built.errors.empty());
  CHECK(built.table->findTrunk("js-suzhou")->probe == settings);
  CHECK(built.table->findTrunk("js-province")->probe == off);
  CHECK(built.table->findTrunk("ha-province")->probe.empty());  // the gateway-wide settings
}

TEST_CASE("build error: probe settings out of range, each at its own line", "[build][probe]") {
  const auto errorsWith = [](const sb::core::ProbeOverrides& settings) {
    return errorsAfter(
        [&](TableSpec& s) { trunkNamed(s, "js-suzhou").probe = probeAt(90, settings); });
  };
  sb::core::ProbeOverrides p;
  p.interval_ms = 0;
  CHECK(errorsWith(p) == Errors{"tables/trunks.yaml:92: trunk 'js-suzhou' probe interval_ms 0 ms "
                                "must be between 100 and 3600000 ms (enabled: false turns "
                                "probing off)"});
  p = {};
  p.interval_ms = 3'600'001;
  CHECK(errorsWith(p) == Errors{"tables/trunks.yaml:92: trunk 'js-suzhou' probe interval_ms "
                                "3600001 ms must be between 100 and 3600000 ms"});
  p = {};
  p.jitter_percent = 51;
  CHECK(errorsWith(p) == Errors{"tables/trunks.yaml:93: trunk 'js-suzhou' probe jitter_percent "
                                "51 % must be between 0 and 50 %"});
  p = {};
  p.timeout_ms = 9;
  p.down_after = 0;
  p.up_after = 101;
  CHECK(errorsWith(p) ==
        Errors{"tables/trunks.yaml:94: trunk 'js-suzhou' probe timeout_ms 9 ms must be between 10 "
               "and 60000 ms",
               "tables/trunks.yaml:95: trunk 'js-suzhou' probe down_after 0 must be between 1 and "
               "100",
               "tables/trunks.yaml:96: trunk 'js-suzhou' probe up_after 101 must be between 1 and "
               "100"});
  p = {};
  p.accepted_codes = std::vector<int>{200, 180, 404, 404, 700};
  CHECK(errorsWith(p) ==
        Errors{"tables/trunks.yaml:97: trunk 'js-suzhou' probe accepted_codes: 180 is not a final "
               "SIP status (200-699)",
               "tables/trunks.yaml:97: trunk 'js-suzhou' probe accepted_codes: 404 listed twice",
               "tables/trunks.yaml:97: trunk 'js-suzhou' probe accepted_codes: 700 is not a final "
               "SIP status (200-699)"});
}

TEST_CASE("build error: a trunk's probe timeout must end before its next probe", "[build][probe]") {
  const auto errorsWith = [](const sb::core::ProbeOverrides& settings) {
    return errorsAfter(
        [&](TableSpec& s) { trunkNamed(s, "js-suzhou").probe = probeAt(90, settings); });
  };
  sb::core::ProbeOverrides p;
  p.interval_ms = 1'000;
  p.timeout_ms = 800;  // the shortest interval with SPEC's 20 % jitter is 800 ms
  CHECK(errorsWith(p) == Errors{"tables/trunks.yaml:94: trunk 'js-suzhou' probe timeout_ms 800 ms "
                                "must be shorter than the shortest interval 800 ms (interval_ms "
                                "1000 - 20 % jitter)"});
  p.timeout_ms = 799;
  CHECK(errorsWith(p).empty());
  p.jitter_percent = 50;
  CHECK(errorsWith(p) == Errors{"tables/trunks.yaml:94: trunk 'js-suzhou' probe timeout_ms 799 ms "
                                "must be shorter than the shortest interval 500 ms (interval_ms "
                                "1000 - 50 % jitter)"});
  p.jitter_percent = 0;
  p.timeout_ms = 999;
  CHECK(errorsWith(p).empty());
  // Only one of the two given: the other is the gateway's, fitted at run time.
  p = {};
  p.interval_ms = 1'000;
  CHECK(errorsWith(p).empty());
  p = {};
  p.timeout_ms = 60'000;
  CHECK(errorsWith(p).empty());
}
