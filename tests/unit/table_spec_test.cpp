// Error formatting and single-field syntax of the routing tables. SPEC §4, §5, §9.
#include <optional>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/table_spec.hpp"

using sb::core::TableError;

TEST_CASE("formatError names file and line", "[table_spec]") {
  struct Case {
    std::string file;
    int line;
    std::string formatted;
  };
  const Case cases[] = {
      {"routes.yaml", 12, "routes.yaml:12: unknown trunk 'x'"},
      {"redis:sb:tables:v7:trunks", 0, "redis:sb:tables:v7:trunks: unknown trunk 'x'"},
      {"", 3, "line 3: unknown trunk 'x'"},
      {"", 0, "unknown trunk 'x'"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file, c.line);
    TableError error;
    error.loc.file = c.file;
    error.loc.line = c.line;
    error.message = "unknown trunk 'x'";
    CHECK(sb::core::formatError(error) == c.formatted);
  }
}

TEST_CASE("isTrunkName: [a-z0-9][a-z0-9-]*", "[table_spec]") {
  struct Case {
    std::string_view name;
    bool ok;
  };
  const Case cases[] = {
      {"js-suzhou", true},  {"a", true},          {"0", true},          {"gd-12345", true},
      {"a--b", true},       {"", false},          {"-js", false},       {"JS-suzhou", false},
      {"js_suzhou", false}, {"js suzhou", false}, {"js.suzhou", false}, {"苏州", false},
      {"js/suzhou", false}, {"js\n", false},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.name));
    CHECK(sb::core::isTrunkName(c.name) == c.ok);
  }
}

TEST_CASE("isSipTarget accepts sip:/sips: URIs with a host", "[table_spec]") {
  struct Case {
    std::string_view uri;
    bool ok;
  };
  const Case cases[] = {
      {"sip:10.0.0.1", true},
      {"sip:10.0.0.1:5060", true},
      {"sip:pbx.example.cn", true},
      {"sip:pbx.example.cn.", true},
      {"sip:pbx-1.example.cn:5061", true},
      {"sips:pbx.example.cn:5061", true},
      {"SIP:pbx.example.cn", true},
      {"sip:12333@10.0.0.1:5060;transport=udp", true},
      {"sip:10.0.0.1:5060;transport=tcp", true},
      {"sip:10.0.0.1;transport=TLS", true},
      {"sip:10.0.0.1;transport=tls;lr", true},
      {"sip:[2001:db8::1]", true},
      {"sip:[2001:db8::1]:5060;transport=udp", true},
      {"sip:user@[::1]:5070", true},
      {"sip:localhost", true},
      {"", false},
      {"sip:", false},
      {"sip:@10.0.0.1", false},
      {"10.0.0.1:5060", false},
      {"tel:+8612333", false},
      {"http://10.0.0.1", false},
      {"sip:10.0.0.1:", false},
      {"sip:10.0.0.1:0", false},
      {"sip:10.0.0.1:65536", false},
      {"sip:10.0.0.1:50a", false},
      {"sip:10.0.0.256", false},
      {"sip:10.0.0", false},
      {"sip:2001:db8::1", false},  // IPv6 needs brackets
      {"sip:[2001:db8::1", false},
      {"sip:[2001:db8::g]", false},
      {"sip:[10.0.0.1]", false},
      {"sip:-pbx.example.cn", false},
      {"sip:pbx..example.cn", false},
      {"sip:pbx_1.example.cn", false},
      {"sip:10.0.0.1;transport=sctp", false},
      {"sip:10.0.0.1;transport=", false},
      {"sip:10.0.0.1;", false},
      {"sip:user:secret@10.0.0.1", false},  // no passwords in tables
      {"sip:10.0.0.1?subject=x", false},
      {"sip:10.0.0.1 ", false},
      {"sip:pbx.example.cn\r\n", false},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.uri));
    CHECK(sb::core::isSipTarget(c.uri) == c.ok);
  }
}

TEST_CASE("canonicalAddress gives the form sockets report", "[table_spec]") {
  struct Case {
    std::string_view text;
    std::optional<std::string> canonical;
  };
  const Case cases[] = {
      {"10.0.0.1", "10.0.0.1"},
      {"255.255.255.255", "255.255.255.255"},
      {"0.0.0.0", "0.0.0.0"},
      {"2001:db8::1", "2001:db8::1"},
      {"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
      {"2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"},
      {"2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"},
      {"2001:db8:1:1:1:1:1:1", "2001:db8:1:1:1:1:1:1"},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // RFC 5952 §4.2.2: no "::" for one 0
      {"::1", "::1"},
      {"::", "::"},
      {"fe80::", "fe80::"},
      {"[2001:db8::1]", "2001:db8::1"},
      {"::ffff:10.0.0.1", "10.0.0.1"},
      {"::FFFF:0a00:0001", "10.0.0.1"},
      {"64:ff9b::10.0.0.1", "64:ff9b::a00:1"},
      {"", std::nullopt},
      {"10.0.0", std::nullopt},
      {"10.0.0.1.1", std::nullopt},
      {"10.0.0.256", std::nullopt},
      {"010.0.0.1", std::nullopt},
      {"10.0.0.1/24", std::nullopt},
      {"pbx.example.cn", std::nullopt},
      {"2001:db8:::1", std::nullopt},
      {"2001:db8::1::2", std::nullopt},
      {"2001:db8:1:1:1:1:1:1:1", std::nullopt},
      {"2001:db8:1:1:1:1:1", std::nullopt},
      {":1:2:3:4:5:6:7", std::nullopt},
      {"1:2:3:4:5:6:7:", std::nullopt},
      {"12345::1", std::nullopt},
      {"::ffff:10.0.0", std::nullopt},
      {"[10.0.0.1", std::nullopt},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.text));
    CHECK(sb::core::canonicalAddress(c.text) == c.canonical);
  }
}
