// A small network for the decision tests: Jiangsu (Suzhou with office hours, the province
// 7x24, provincial labour-inspection seats for topic 0202), Zhejiang (Hangzhou with two
// weighted trunks, the province open 08:00-20:00), Henan (province 7x24), the default route.
#pragma once

#include <string>

#include "core/table_spec.hpp"
#include "sample_tables.hpp"

namespace sb::test {

inline core::HoursSpec officeHours(const std::string& weekly) {
  core::HoursSpec hours;
  hours.weekly = std::vector<core::HoursRuleSpec>{{weekly, at(kTrunks, 100)}};
  hours.closed = {{"2026-10-01", at(kTrunks, 101)}};
  return hours;
}

inline core::TableSpec decideSpec() {
  core::TableSpec spec;
  spec.regions = {
      {"320000", "江苏省", "Jiangsu", at(kRegions, 1)},
      {"320500", "苏州市", "Suzhou", at(kRegions, 2)},
      {"330000", "浙江省", "Zhejiang", at(kRegions, 3)},
      {"330100", "杭州市", "Hangzhou", at(kRegions, 4)},
      {"410000", "河南省", "Henan", at(kRegions, 5)},
      {"110000", "北京市", "Beijing", at(kRegions, 6)},
      {"320100", "南京市", "Nanjing", at(kRegions, 7)},
  };
  spec.topics = {
      {"02", "人力资源社会保障法制工作", "HRSS legal affairs", at("tables/topics.yaml", 1)},
      {"0202", "劳动保障监察", "Labour inspection", at("tables/topics.yaml", 2)}};
  spec.trunks = {
      trunk("js-province", "320000", "sip:10.0.1.1", "10.0.1.1", 1),
      trunk("js-suzhou", "320500", "sip:10.0.1.2", "10.0.1.2", 2),
      trunk("js-inspection", "320000", "sip:10.0.1.3", "10.0.1.3", 3),
      trunk("zj-hangzhou", "330100", "sip:10.0.2.1", "10.0.2.1", 4),
      trunk("zj-hangzhou-b", "330100", "sip:10.0.2.2", "10.0.2.2", 5),
      trunk("zj-province", "330000", "sip:10.0.2.3", "10.0.2.3", 6),
      trunk("ha-province", "410000", "sip:10.0.4.1", "10.0.4.1", 7),
      trunk("national", "110000", "sip:10.0.9.1", "10.0.9.1", 8),
  };
  spec.trunks[1].hours = officeHours("mon-fri 08:30-17:30");
  spec.trunks[2].hours = officeHours("mon-fri 08:30-17:30");
  spec.trunks[3].hours = officeHours("mon-fri 08:30-17:30");
  spec.trunks[4].hours = officeHours("mon-fri 08:30-17:30");
  spec.trunks[5].hours = officeHours("daily 08:00-20:00");
  spec.routes = {
      {"320500", {{member("js-suzhou", 1, 1)}, {member("js-province", 1, 1)}}, at(kRoutes, 1)},
      {"320000", {{member("js-province", 1, 2)}}, at(kRoutes, 2)},
      {"320000/0202",
       {{member("js-inspection", 1, 3)}, {member("js-province", 1, 3)}},
       at(kRoutes, 3)},
      {"320500/0202",
       {{member("js-inspection", 1, 4)},
        {member("js-suzhou", 1, 4)},
        {member("js-province", 1, 4)}},
       at(kRoutes, 4)},
      {"330100",
       {{member("zj-hangzhou", 3, 5), member("zj-hangzhou-b", 1, 5)},
        {member("zj-province", 1, 5)}},
       at(kRoutes, 5)},
      {"330000", {{member("zj-province", 1, 6)}}, at(kRoutes, 6)},
      {"410000", {{member("ha-province", 1, 7)}}, at(kRoutes, 7)},
      {"default", {{member("national", 1, 8)}}, at(kRoutes, 8)},
  };
  spec.area_codes = {{"0512", "320500", at(kAreaCodes, 1)},
                     {"0571", "330100", at(kAreaCodes, 2)},
                     {"0371", "410100", at(kAreaCodes, 3)},
                     {"010", "110000", at(kAreaCodes, 4)}};
  spec.caller_prefixes = {{"1300750", "410100", at(kCallers, 1)},  // Zhengzhou, Henan
                          {"130045", "320500", at(kCallers, 2)}};  // Suzhou
  return spec;
}

}  // namespace sb::test
