// A routing decision told to people (switchboardctl route explain) and tools (the admin
// API's dry-run serves the JSON). Renders what core::decide() did, stage by stage: the
// parsed number, the region and where it came from, the topic, the route key and level,
// the candidate trunks in order with why any were skipped, and the answer. Pure, std only
// (no hiredis, no yaml-cpp): link sb_core.
#pragma once

#include <string>

#include "core/decide.hpp"
#include "core/routing_table.hpp"

namespace sb::core {

// Human-readable, one stage a line, ending in '\n'.
std::string explainText(const RoutingTable& table, const DecideInput& input,
                        const Decision& decision);

// One JSON object (no trailing newline). Members, always present (null when not
// applicable):
//   table_version, input{dialled, caller, topic, time, time_cst, seed},
//   dialled{ok, service, form, division, area_code, error},
//   caller{national, matched, used},
//   region{code, source, name_zh, name_en},
//   topic{status, value, code, name_zh, name_en},
//   route{found, key, level, topic_route},
//   candidates[{trunk, display_name, region, group, weight, usable, skip, hours}],
//     hours: null for 7×24, else {weekly, closed, open, open_now, next_change},
//   result{action: "forward"|"reject", trunk, status, reason, retry_after, stage}.
std::string explainJson(const RoutingTable& table, const DecideInput& input,
                        const Decision& decision);

}  // namespace sb::core
