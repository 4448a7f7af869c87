// A small, valid set of routing tables shared by the unit tests: Jiangsu with cities
// listed (Suzhou, Nanjing) and a county route (Wuzhong), Henan listed as a province only,
// Beijing carrying the default route.
#pragma once

#include <string>

#include "core/table_spec.hpp"

namespace sb::test {

inline core::SourceLoc at(const std::string& file, int line) { return core::SourceLoc{file, line}; }

inline const std::string kRegions = "tables/regions.yaml";
inline const std::string kTrunks = "tables/trunks.yaml";
inline const std::string kRoutes = "tables/routes.yaml";
inline const std::string kAreaCodes = "tables/area-codes.yaml";
inline const std::string kCallers = "tables/caller-prefixes.yaml";

inline core::TrunkSpec trunk(const std::string& name, const std::string& region,
                             const std::string& target, const std::string& source, int line) {
  core::TrunkSpec t;
  t.name = name;
  t.region = region;
  t.display_name = name;
  t.targets = {target};
  t.sources = {source};
  t.loc = at(kTrunks, line);
  return t;
}

inline core::RouteMemberSpec member(const std::string& name, std::uint32_t weight, int line) {
  return core::RouteMemberSpec{name, weight, at(kRoutes, line)};
}

inline core::TableSpec sampleSpec() {
  core::TableSpec spec;
  spec.regions = {
      {"320000", "江苏省", "Jiangsu", at(kRegions, 1)},
      {"320500", "苏州市", "Suzhou", at(kRegions, 2)},
      {"320100", "南京市", "Nanjing", at(kRegions, 3)},
      {"410000", "河南省", "Henan", at(kRegions, 4)},
      {"110000", "北京市", "Beijing", at(kRegions, 5)},
  };
  spec.trunks = {
      trunk("js-province", "320000", "sip:10.0.1.1:5060;transport=udp", "10.0.1.1", 1),
      trunk("js-suzhou", "320500", "sip:12333@10.0.2.1:5060;transport=tcp", "10.0.2.1", 10),
      trunk("js-suzhou-b", "320500", "sips:js-b.example.cn", "10.0.2.2", 20),
      trunk("js-wuzhong", "320506", "sip:[2001:db8::31]:5070", "2001:db8::31", 30),
      trunk("ha-province", "410000", "sip:ha.example.cn:5060", "10.0.4.1", 40),
      trunk("national", "110000", "sip:10.0.9.1", "10.0.9.1", 50),
  };
  spec.trunks[1].sources.push_back("2001:db8::21");
  spec.routes = {
      {"320000", {{member("js-province", 1, 2)}}, at(kRoutes, 1)},
      {"320500",
       {{member("js-suzhou", 3, 5), member("js-suzhou-b", 1, 6)}, {member("js-province", 1, 7)}},
       at(kRoutes, 4)},
      {"320506", {{member("js-wuzhong", 1, 9)}}, at(kRoutes, 8)},
      {"410000", {{member("ha-province", 1, 11)}}, at(kRoutes, 10)},
      {"default", {{member("national", 1, 13)}}, at(kRoutes, 12)},
  };
  spec.area_codes = {
      {"0512", "320500", at(kAreaCodes, 1)},
      {"025", "320100", at(kAreaCodes, 2)},
      {"010", "110000", at(kAreaCodes, 3)},
      {"0371", "410100", at(kAreaCodes, 4)},
  };
  spec.caller_prefixes = {
      {"1390512", "320500", at(kCallers, 1)},
      {"13905", "320000", at(kCallers, 2)},
      {"1370371", "410100", at(kCallers, 3)},
  };
  return spec;
}

}  // namespace sb::test
