// Rendering a decision: the text for operators and the JSON the admin API serves.
#include <string>

#include <catch2/catch.hpp>

#include "core/china_time.hpp"
#include "core/decide.hpp"
#include "core/explain.hpp"
#include "core/json_text.hpp"
#include "decide_tables.hpp"

namespace {

struct Explained {
  std::string text;
  std::string json;
};

Explained explain(std::string_view dialled, std::string_view caller, std::string_view topic,
                  std::string_view when) {
  const sb::core::BuildResult built = sb::core::buildTable(sb::test::decideSpec(), 7);
  REQUIRE(built.table);
  sb::core::DecideInput input;
  input.dialled = dialled;
  input.caller = caller;
  input.topic = topic;
  input.now_unix = *sb::core::parseTimeText(when);
  const sb::core::Decision d = sb::core::decide(*built.table, input);
  return {sb::core::explainText(*built.table, input, d),
          sb::core::explainJson(*built.table, input, d)};
}

}  // namespace

TEST_CASE("explainText tells each stage", "[explain]") {
  const Explained e = explain("12333320500", "", "0202", "2026-10-03T10:00");
  CHECK_THAT(e.text, Catch::Contains("dialled    '12333320500': 12333 + division code 320500\n"));
  CHECK_THAT(e.text, Catch::Contains("topic      0202 劳动保障监察 (Labour inspection)\n"));
  CHECK_THAT(e.text, Catch::Contains("time       2026-10-03T10:00:00+08:00 (unix 1790992800)\n"));
  CHECK_THAT(e.text,
             Catch::Contains("region     320500 苏州市 Suzhou, from the dialled division code\n"));
  CHECK_THAT(e.text, Catch::Contains("route      320500/0202 at city level (topic route)\n"));
  CHECK_THAT(e.text, Catch::Contains("1. js-inspection"));
  CHECK_THAT(e.text, Catch::Contains("skipped: closed, opens 2026-10-05T08:30:00+08:00\n"));
  CHECK_THAT(e.text, Catch::Contains("hours mon-fri 08:30-17:30; closed 2026-10-01\n"));
  CHECK_THAT(e.text, Catch::Contains("3. js-province"));
  CHECK_THAT(e.text, Catch::Contains("answer     forward to js-province (1 of 3 candidates"));
  CHECK_THAT(e.text, Catch::EndsWith("tables     version 7\n"));

  const Explained bare = explain("12333", "+8613007501234", "x", "2026-09-28T10:00");
  CHECK_THAT(bare.text, Catch::Contains("caller     '+8613007501234' -> 13007501234\n"));
  CHECK_THAT(bare.text,
             Catch::Contains("topic      'x' ignored: invalid (not a listed topic code)"));
  CHECK_THAT(bare.text, Catch::Contains("region     410100 in 河南省 Henan, from the caller's "
                                        "mobile prefix 1300750\n"));
  CHECK_THAT(bare.text, Catch::Contains("route      410000 at province level\n"));

  const Explained closed = explain("12333330100", "", "", "2026-09-28T22:00");
  CHECK_THAT(closed.text, Catch::Contains("answer     503 Service Unavailable: every destination "
                                          "trunk is closed now (with Retry-After) [stage "
                                          "candidates]\n"));
  const Explained bad = explain("12333440300", "\x01", "", "2026-09-28T22:00");
  CHECK_THAT(bad.text, Catch::Contains("caller     '\\x01' (not used"));
  CHECK_THAT(bad.text, Catch::Contains("region     440300: unknown division code\n"));
  CHECK_THAT(bad.text, Catch::Contains("answer     404 Not Found: unknown division code [stage "
                                       "region]\n"));
}

TEST_CASE("explainJson has every member, null when not applicable", "[explain]") {
  const Explained e = explain("12333320500", "", "0202", "2026-10-03T10:00");
  for (
      const char* part :
      {R"({"table_version": 7, "input": {"dialled": "12333320500", "caller": "", "topic": "0202", )"
       R"("time": 1790992800, "time_cst": "2026-10-03T10:00:00+08:00", "seed": "0"}, )",
       R"("dialled": {"ok": true, "service": "12333", "form": "division", "division": "320500", )"
       R"("area_code": null, "error": null}, )",
       R"("caller": {"national": null, "matched": null, "used": false}, )",
       R"("region": {"code": "320500", "source": "dialled_code", "name_zh": "苏州市", )"
       R"("name_en": "Suzhou"}, )",
       R"("topic": {"status": "valid", "value": "0202", "code": "0202", "name_zh": "劳动保障监察", )"
       R"("name_en": "Labour inspection"}, )",
       R"("route": {"found": true, "key": "320500/0202", "level": "city", "topic_route": true}, )",
       R"({"trunk": "js-inspection", "display_name": "js-inspection", "region": "320000", )"
       R"("group": 1, "weight": 1, "usable": false, "skip": "closed", "hours": {"weekly": )"
       R"(["mon-fri 08:30-17:30"], "closed": ["2026-10-01"], "open": [], "open_now": false, )"
       R"("next_change": "2026-10-05T08:30:00+08:00"}}, )",
       R"({"trunk": "js-province", "display_name": "js-province", "region": "320000", "group": 3, )"
       R"("weight": 1, "usable": true, "skip": null, "hours": null}], )",
       R"("result": {"action": "forward", "trunk": "js-province", "status": null, "reason": null, )"
       R"("retry_after": false, "stage": null}})"}) {
    CHECK_THAT(e.json, Catch::Contains(part));
  }
  const Explained rejected = explain("12333abc", "\xff", "", "2026-10-03T10:00");
  CHECK_THAT(rejected.json, Catch::Contains(R"("caller": "\ufffd")") ||
                                Catch::Contains("\"caller\": \"\xef\xbf\xbd\""));
  CHECK_THAT(rejected.json, Catch::Contains(R"("dialled": {"ok": false, "service": null, )"
                                            R"("form": null, "division": null, "area_code": )"
                                            R"(null, "error": "malformed number"})"));
  CHECK_THAT(rejected.json, Catch::Contains(R"("route": {"found": false, "key": null, )"));
  CHECK_THAT(rejected.json, Catch::Contains(R"("candidates": [], )"));
  CHECK_THAT(rejected.json, Catch::Contains(R"("result": {"action": "reject", "trunk": null, )"
                                            R"("status": 484, "reason": "malformed number", )"
                                            R"("retry_after": false, "stage": "dialled"}})"));
}

TEST_CASE("appendJsonString escapes controls and repairs invalid UTF-8", "[explain]") {
  CHECK(sb::core::jsonString("a\"b\\c\n\t\x01\x7f") == R"("a\"b\\c\n\t\u0001\u007f")");
  CHECK(sb::core::jsonString("苏州") == "\"苏州\"");
  CHECK(sb::core::jsonString("\xff"
                             "a\xe8\x8b") ==
        "\"\xef\xbf\xbd"
        "a\xef\xbf\xbd\xef\xbf\xbd\"");
  CHECK(sb::core::jsonString("\xed\xa0\x80") == "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
  CHECK(sb::core::jsonString("\xf0\x9f\x98\x80") == "\"\xf0\x9f\x98\x80\"");
}
