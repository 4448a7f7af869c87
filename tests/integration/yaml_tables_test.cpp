// The routing-table loader on real files: the example set, every accepted form, and the
// errors (each with file:line) for broken directories.
#include <catch2/catch.hpp>

#include <string>
#include <tuple>
#include <vector>

#include "core/routing_table.hpp"
#include "helpers.hpp"
#include "tables/yaml_tables.hpp"

namespace {

using sb::test::exampleDir;
using sb::test::fixtureDir;
using sb::test::TempTableDir;

std::string allErrors(const std::vector<sb::core::TableError>& errors) {
  std::string out;
  for (const auto& e : errors) out += sb::core::formatError(e) + "\n";
  return out;
}

// file name (without directory), line, a part of the message
using Expected = std::tuple<std::string, int, std::string>;

void requireErrors(const std::string& dir, const std::vector<sb::core::TableError>& errors,
                   const std::vector<Expected>& expected) {
  INFO(allErrors(errors));
  REQUIRE(errors.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [file, line, message] = expected[i];
    CHECK(errors[i].loc.file == dir + "/" + file);
    CHECK(errors[i].loc.line == line);
    CHECK_THAT(errors[i].message, Catch::Contains(message));
  }
}

const sb::core::TrunkSpec* findTrunk(const sb::core::TableSpec& spec, const std::string& name) {
  for (const auto& t : spec.trunks) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const sb::core::RouteSpec* findRoute(const sb::core::TableSpec& spec, const std::string& key) {
  for (const auto& r : spec.routes) {
    if (r.key == key) return &r;
  }
  return nullptr;
}

// A minimal valid set around one routes.yaml / trunks.yaml under test.
void writeMinimal(const TempTableDir& dir) {
  dir.write("trunks.yaml",
            "trunks:\n"
            "  - name: a\n"
            "    region: \"320500\"\n"
            "    display_name: A\n"
            "    targets: [\"sip:127.0.0.1:5070\"]\n"
            "    sources: [\"127.0.0.20\"]\n"
            "    capacity: 10\n"
            "    cps: 5\n"
            "  - name: b\n"
            "    region: 320000\n"
            "    display_name: B\n"
            "    targets: [\"sip:127.0.0.1:5071\"]\n"
            "  - name: c\n"
            "    region: \"320000\"\n"
            "    display_name: C\n"
            "    targets: [\"sip:127.0.0.1:5072\"]\n");
  dir.write("routes.yaml",
            "routes:\n"
            "  \"320500\": [a, [b, {trunk: c, weight: 3}]]\n"
            "  320000:\n"
            "    - {trunk: b, weight: 2}\n"
            "    - [c]\n"
            "  default: [b]\n");
  dir.write("area-codes.yaml", "area_codes:\n  0512: 320500\n  \"025\": \"320100\"\n");
  dir.write("regions.yaml",
            "regions:\n"
            "  \"320000\": {name_zh: 江苏, name_en: Jiangsu}\n"
            "  320500: {name_zh: 苏州}\n");
}

}  // namespace

TEST_CASE("the example tables load and validate", "[tables]") {
  const sb::tables::LoadResult loaded = sb::tables::loadTableDir(exampleDir());
  INFO(allErrors(loaded.errors));
  REQUIRE(loaded.errors.empty());
  const sb::core::TableSpec& spec = loaded.spec;
  CHECK(spec.trunks.size() == 9);
  CHECK(spec.routes.size() == 10);
  CHECK(spec.area_codes.size() == 6);
  CHECK(spec.regions.size() == 56);
  CHECK(spec.caller_prefixes.size() == 5);
  CHECK(spec.topics.size() == 173);

  // Trunks in file order, each with its file:line.
  CHECK(spec.trunks.front().name == "js-province");
  CHECK(spec.trunks.back().name == "js-inspection");
  const sb::core::TrunkSpec* suzhou = findTrunk(spec, "js-suzhou");
  REQUIRE(suzhou != nullptr);
  CHECK(suzhou->region == "320500");
  CHECK(suzhou->display_name == "苏州市12333");
  CHECK(suzhou->targets == std::vector<std::string>{"sip:127.0.0.1:15101"});
  CHECK(suzhou->sources == std::vector<std::string>{"127.0.0.11"});
  CHECK(suzhou->capacity == 100);
  CHECK(suzhou->cps == 20);
  CHECK(suzhou->loc.file == exampleDir() + "/trunks.yaml");
  CHECK(suzhou->loc.line == 34);
  // Opening hours: each rule with its own line (errors name it).
  REQUIRE(suzhou->hours.has_value());
  REQUIRE(suzhou->hours->weekly.has_value());
  REQUIRE(suzhou->hours->weekly->size() == 2);
  CHECK((*suzhou->hours->weekly)[0].text == "mon-fri 08:30-17:30");
  CHECK((*suzhou->hours->weekly)[1].loc.line == 42);
  CHECK(suzhou->hours->closed.size() == 7);
  CHECK(suzhou->hours->closed[4].text == "2026-10-05");
  CHECK(suzhou->hours->closed[4].loc.line == 44);  // the flow list's second line
  REQUIRE(suzhou->hours->open.size() == 2);
  CHECK(suzhou->hours->open[1].text == "2026-10-10 08:30-17:30");
  CHECK_FALSE(findTrunk(spec, "js-province")->hours.has_value());  // 7x24
  CHECK(findRoute(spec, "320000/0202") != nullptr);

  const sb::core::RouteSpec* route = findRoute(spec, "320500");
  REQUIRE(route != nullptr);
  REQUIRE(route->groups.size() == 2);
  CHECK(route->groups[0].size() == 1);
  CHECK(route->groups[0][0].trunk == "js-suzhou");
  CHECK(route->groups[0][0].weight == 1);
  CHECK(route->groups[1][0].trunk == "js-province");
  CHECK(route->loc.file == exampleDir() + "/routes.yaml");
  CHECK(findRoute(spec, "default") != nullptr);

  bool found_area = false;
  for (const auto& a : spec.area_codes) {
    if (a.area_code == "0512") {
      found_area = a.division == "320500";
      CHECK(a.loc.file == exampleDir() + "/area-codes.yaml");
    }
  }
  CHECK(found_area);

  // The validation the CLI runs, and the table the gateway would build.
  const auto errors = sb::tables::validateTableDir(exampleDir());
  INFO(allErrors(errors));
  CHECK(errors.empty());
  const sb::core::BuildResult built = sb::core::buildTable(spec, 1);
  REQUIRE(built.table != nullptr);
  CHECK(built.table->trunks().size() == 9);
  CHECK(built.table->routeCount() == 10);
  CHECK(built.table->topicCount() == 173);
  CHECK(built.table->areaCode("0512") == sb::core::RegionCode{320500});
}

TEST_CASE("every accepted form of routes, codes and groups", "[tables]") {
  TempTableDir dir;
  writeMinimal(dir);
  dir.write("caller-prefixes.yaml", "caller_prefixes:\n  \"1390512\": \"320500\"\n");
  const sb::tables::LoadResult loaded = sb::tables::loadTableDir(dir.path());
  INFO(allErrors(loaded.errors));
  REQUIRE(loaded.errors.empty());
  const auto& spec = loaded.spec;

  // Unquoted codes whose digits survive are taken as written.
  REQUIRE(findTrunk(spec, "b") != nullptr);
  CHECK(findTrunk(spec, "b")->region == "320000");
  CHECK(findTrunk(spec, "b")->sources.empty());  // optional
  CHECK(findTrunk(spec, "b")->capacity == 0);    // optional: unlimited
  REQUIRE(spec.area_codes.size() == 2);
  CHECK(spec.area_codes[0].area_code == "0512");
  CHECK(spec.area_codes[0].division == "320500");
  CHECK(spec.area_codes[0].loc.line == 2);
  CHECK(spec.regions[1].code == "320500");
  CHECK(spec.regions[1].name_en.empty());

  // "320500": [a, [b, {trunk: c, weight: 3}]]
  const auto* r1 = findRoute(spec, "320500");
  REQUIRE(r1 != nullptr);
  REQUIRE(r1->groups.size() == 2);
  REQUIRE(r1->groups[0].size() == 1);
  CHECK(r1->groups[0][0].trunk == "a");
  REQUIRE(r1->groups[1].size() == 2);
  CHECK(r1->groups[1][0].trunk == "b");
  CHECK(r1->groups[1][0].weight == 1);
  CHECK(r1->groups[1][1].trunk == "c");
  CHECK(r1->groups[1][1].weight == 3);
  CHECK(r1->loc.line == 2);

  // 320000: block list with a {trunk, weight} group of one and a list group.
  const auto* r2 = findRoute(spec, "320000");
  REQUIRE(r2 != nullptr);
  REQUIRE(r2->groups.size() == 2);
  CHECK(r2->groups[0][0].trunk == "b");
  CHECK(r2->groups[0][0].weight == 2);
  CHECK(r2->groups[0][0].loc.line == 4);
  CHECK(r2->groups[1][0].trunk == "c");
  CHECK(r2->groups[1][0].loc.line == 5);

  REQUIRE(spec.caller_prefixes.size() == 1);
  CHECK(spec.caller_prefixes[0].prefix == "1390512");
  CHECK(spec.caller_prefixes[0].division == "320500");

  const auto errors = sb::tables::validateTableDir(dir.path());
  INFO(allErrors(errors));
  CHECK(errors.empty());
}

TEST_CASE("loader errors name file and line", "[tables]") {
  TempTableDir dir;
  writeMinimal(dir);

  SECTION("an unquoted area code that lost its leading zero") {
    dir.write("area-codes.yaml", "area_codes:\n  \"0512\": \"320500\"\n  25: \"320100\"\n");
    const auto errors = sb::tables::validateTableDir(dir.path());
    requireErrors(dir.path(), errors, {{"area-codes.yaml", 3, "quote"}});
    CHECK_THAT(errors[0].message, Catch::Contains("\"025\""));
  }
  SECTION("unknown keys, duplicates and wrong types in a trunk") {
    dir.write("trunks.yaml",
              "trunks:\n"
              "  - name: a\n"
              "    region: \"320500\"\n"
              "    display_name: A\n"
              "    targets: [\"sip:127.0.0.1:5070\"]\n"
              "    capacity: -1\n"
              "    name: again\n"
              "  - name: b\n"
              "    region: [320000]\n"
              "    display_name: B\n"
              "    targets: [\"sip:127.0.0.1:5071\", [x]]\n"
              "    cps: 1.5\n"
              "    colour: red\n"
              "  - just-a-name\n"
              "  - name: c\n"
              "    region: \"320000\"\n"
              "    display_name: C\n"
              "    targets: [\"sip:127.0.0.1:5072\"]\n");
    requireErrors(dir.path(), sb::tables::validateTableDir(dir.path()),
                  {{"trunks.yaml", 6, "capacity must be a non-negative integer"},
                   {"trunks.yaml", 7, "duplicate key 'name'"},
                   {"trunks.yaml", 9, "region must be a string"},
                   {"trunks.yaml", 11, "targets item must be a string"},
                   {"trunks.yaml", 12, "cps must be a non-negative integer"},
                   {"trunks.yaml", 13, "unknown key 'colour'"},
                   {"trunks.yaml", 14, "trunk must be a map"}});
  }
  SECTION("a missing required key") {
    dir.write("trunks.yaml",
              "trunks:\n"
              "  - name: a\n"
              "    region: \"320500\"\n"
              "    targets: [\"sip:127.0.0.1:5070\"]\n"
              "  - name: b\n"
              "    display_name: B\n"
              "    region: \"320000\"\n"
              "    targets: [\"sip:127.0.0.1:5071\"]\n"
              "  - name: c\n"
              "    display_name: C\n"
              "    region: \"320000\"\n"
              "    targets: [\"sip:127.0.0.1:5072\"]\n");
    requireErrors(dir.path(), sb::tables::validateTableDir(dir.path()),
                  {{"trunks.yaml", 2, "missing key 'display_name'"}});
  }
  SECTION("bad route shapes") {
    dir.write("routes.yaml",
              "routes:\n"
              "  \"320500\": [a, [b, {trunk: c, weight: 0}]]\n"
              "  \"320000\": []\n"
              "  \"320100\": [b, []]\n"
              "  default: [{trunk: b, wait: 2}]\n");
    requireErrors(dir.path(), sb::tables::validateTableDir(dir.path()),
                  {{"routes.yaml", 2, "must be at least 1"},
                   {"routes.yaml", 3, "non-empty list of trunk groups"},
                   {"routes.yaml", 4, "empty trunk group"},
                   {"routes.yaml", 5, "unknown key 'wait'"}});
  }
  SECTION("the wrong top-level key, an empty file, two documents") {
    dir.write("routes.yaml", "route:\n  default: [a]\n");
    dir.write("regions.yaml", "# nothing yet\n");
    dir.write("area-codes.yaml", "area_codes:\n  \"025\": \"320100\"\n---\narea_codes: {}\n");
    requireErrors(dir.path(), sb::tables::validateTableDir(dir.path()),
                  {{"area-codes.yaml", 4, "more than one YAML document"},
                   {"regions.yaml", 1, "file is empty"},
                   {"routes.yaml", 1, "unknown key 'route'"},
                   {"routes.yaml", 1, "missing key 'routes'"}});
  }
  SECTION("a syntax error stops that file, not the others") {
    dir.write("regions.yaml", "regions:\n  \"320000\": {name_zh: 江苏\n");
    dir.write("routes.yaml", "routes:\n  default: [a]\n  colour: {x: 1}\n");
    const auto errors = sb::tables::validateTableDir(dir.path());
    INFO(allErrors(errors));
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].loc.file == dir.file("regions.yaml"));
    CHECK(errors[0].loc.line >= 2);
    CHECK_THAT(errors[0].message, Catch::StartsWith("YAML syntax error"));
    CHECK(errors[1].loc.file == dir.file("routes.yaml"));
    CHECK(errors[1].loc.line == 3);
  }
  SECTION("an optional caller-prefixes file is still checked") {
    dir.write("caller-prefixes.yaml", "caller_prefixes:\n  \"139051\": \"320500\"\n  x: [1]\n");
    requireErrors(dir.path(), sb::tables::validateTableDir(dir.path()),
                  {{"caller-prefixes.yaml", 3, "division must be a string"}});
  }
}

TEST_CASE("broken fixture directories report every error with file:line", "[tables]") {
  SECTION("syntax error") {
    const std::string dir = fixtureDir("syntax-error");
    requireErrors(dir, sb::tables::validateTableDir(dir),
                  {{"trunks.yaml", 6, "YAML syntax error: end of sequence flow not found"}});
  }
  SECTION("bad items") {
    const std::string dir = fixtureDir("bad-items");
    requireErrors(dir, sb::tables::validateTableDir(dir),
                  {{"area-codes.yaml", 2, "area code 512 has no leading 0"},
                   {"regions.yaml", 3, "unknown key 'name_fr' in region 320500"},
                   {"routes.yaml", 3, "weight of 'js-suzhou' must be at least 1"},
                   {"routes.yaml", 4, "route 'default' must be a non-empty list"},
                   {"trunks.yaml", 7, "unknown key 'capcity'"},
                   {"trunks.yaml", 8, "trunk 'js-suzhou' cps must be a non-negative integer"},
                   {"trunks.yaml", 12, "trunk 'js-province' targets must be a list"}});
  }
  SECTION("meaning (from the core's buildTable)") {
    const std::string dir = fixtureDir("semantic");
    requireErrors(dir, sb::tables::validateTableDir(dir),
                  {{"routes.yaml", 4, "duplicate route key '320000'"},
                   {"routes.yaml", 5, "'3205'"},
                   {"routes.yaml", 6, "unknown trunk 'mohrss-national'"},
                   {"trunks.yaml", 7, "already claimed by trunk 'js-suzhou'"},
                   {"trunks.yaml", 12, "unreachable trunk 'js-spare'"}});
  }
  SECTION("missing file") {
    const std::string dir = fixtureDir("missing-file");
    const auto errors = sb::tables::validateTableDir(dir);
    requireErrors(dir, errors, {{"regions.yaml", 0, "file not found"}});
    CHECK(sb::core::formatError(errors[0]) == dir + "/regions.yaml: file not found");
  }
}

// SPEC §4: a trunk's own probe settings in trunks.yaml.
TEST_CASE("a trunk's probe block: every key, and the example's", "[tables][probe]") {
  SECTION("the example tables") {
    const sb::tables::LoadResult loaded = sb::tables::loadTableDir(exampleDir());
    REQUIRE(loaded.errors.empty());
    const sb::core::TrunkSpec* ningbo = findTrunk(loaded.spec, "zj-ningbo");
    REQUIRE(ningbo);
    REQUIRE(ningbo->probe);
    CHECK(ningbo->probe->settings.accepted_codes == std::vector<int>{200, 404, 405});
    CHECK_FALSE(ningbo->probe->settings.interval_ms);
    const sb::core::TrunkSpec* national = findTrunk(loaded.spec, "mohrss-national");
    REQUIRE(national);
    REQUIRE(national->probe);
    CHECK(national->probe->settings.interval_ms == 5000u);
    CHECK(national->probe->settings.timeout_ms == 1000u);
    CHECK_FALSE(national->probe->settings.accepted_codes);
    CHECK_FALSE(findTrunk(loaded.spec, "zj-province")->probe);
  }
  SECTION("every key, block and flow style") {
    TempTableDir dir;
    writeMinimal(dir);
    dir.write("trunks.yaml",
              "trunks:\n"
              "  - name: a\n"
              "    region: \"320500\"\n"
              "    display_name: A\n"
              "    targets: [\"sip:127.0.0.1:5070\"]\n"
              "    probe:\n"
              "      enabled: true\n"
              "      interval_ms: 5000\n"
              "      jitter_percent: 10\n"
              "      timeout_ms: 1000\n"
              "      down_after: 4\n"
              "      up_after: 3\n"
              "      accepted_codes: [200, 404]\n"
              "  - name: b\n"
              "    region: \"320000\"\n"
              "    display_name: B\n"
              "    targets: [\"sip:127.0.0.1:5071\"]\n"
              "    probe: {enabled: false}\n"
              "  - name: c\n"
              "    region: \"320000\"\n"
              "    display_name: C\n"
              "    targets: [\"sip:127.0.0.1:5072\"]\n"
              "    probe: {accepted_codes: []}\n");
    const sb::tables::LoadResult loaded = sb::tables::loadTableDir(dir.path());
    INFO(allErrors(loaded.errors));
    REQUIRE(loaded.errors.empty());
    CHECK(sb::tables::validateTableDir(dir.path()).empty());
    const sb::core::ProbeSpec& a = *findTrunk(loaded.spec, "a")->probe;
    CHECK(a.settings.enabled == true);
    CHECK(a.settings.interval_ms == 5000u);
    CHECK(a.settings.jitter_percent == 10u);
    CHECK(a.settings.timeout_ms == 1000u);
    CHECK(a.settings.down_after == 4u);
    CHECK(a.settings.up_after == 3u);
    CHECK(a.settings.accepted_codes == std::vector<int>{200, 404});
    CHECK(a.loc.line == 7);
    CHECK(a.locOf("timeout_ms").line == 10);
    CHECK(a.locOf("accepted_codes").line == 13);
    const sb::core::ProbeSpec& b = *findTrunk(loaded.spec, "b")->probe;
    CHECK(b.settings.enabled == false);
    CHECK_FALSE(b.settings.interval_ms);
    const sb::core::ProbeSpec& c = *findTrunk(loaded.spec, "c")->probe;
    REQUIRE(c.settings.accepted_codes);
    CHECK(c.settings.accepted_codes->empty());  // any answer, whatever sip.probe lists
    // Built: the trunk carries its own settings.
    const sb::core::BuildResult built = sb::core::buildTable(loaded.spec, 1);
    REQUIRE(built.errors.empty());
    CHECK(built.table->findTrunk("a")->probe == a.settings);
  }
}

TEST_CASE("a trunk's probe block: errors name file and line", "[tables][probe]") {
  TempTableDir dir;
  writeMinimal(dir);
  dir.write("trunks.yaml",
            "trunks:\n"
            "  - name: a\n"
            "    region: \"320500\"\n"
            "    display_name: A\n"
            "    targets: [\"sip:127.0.0.1:5070\"]\n"
            "    probe:\n"
            "      enabled: no\n"
            "      interval_ms: fast\n"
            "      timeout_ms: 70000\n"
            "      misses: 3\n"
            "  - name: b\n"
            "    region: \"320000\"\n"
            "    display_name: B\n"
            "    targets: [\"sip:127.0.0.1:5071\"]\n"
            "    probe: 15000\n"
            "  - name: c\n"
            "    region: \"320000\"\n"
            "    display_name: C\n"
            "    targets: [\"sip:127.0.0.1:5072\"]\n"
            "    probe:\n"
            "      interval_ms: 1000\n"
            "      timeout_ms: 900\n"
            "      down_after: 0\n"
            "      accepted_codes: [200, 100, \"404\"]\n");
  requireErrors(dir.path(), sb::tables::validateTableDir(dir.path()),
                {{"trunks.yaml", 7, "trunk 'a' probe enabled must be true or false, found 'no'"},
                 {"trunks.yaml", 8, "trunk 'a' probe interval_ms must be a non-negative integer"},
                 {"trunks.yaml", 9, "trunk 'a' probe timeout_ms 70000 ms must be between 10"},
                 {"trunks.yaml", 10, "unknown key 'misses' in trunk 'a' probe"},
                 {"trunks.yaml", 15, "trunk 'b' probe must be a map with keys"},
                 {"trunks.yaml", 22, "shorter than the shortest interval 800 ms"},
                 {"trunks.yaml", 23, "trunk 'c' probe down_after 0 must be between 1 and 100"},
                 {"trunks.yaml", 24, "accepted_codes item must be a non-negative integer"}});
}
