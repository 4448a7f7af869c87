// A report (core/report.hpp) as a table for people, CSV and JSON (switchboardctl report).
// Region and trunk names come from a routing table when one is given, else rows show their
// codes only. Pure, std only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/report.hpp"
#include "core/routing_table.hpp"

namespace sb::core {

// The breakdown shown: destination provinces (each followed by its cities), destination
// cities, destination trunks, or origin trunks. Every view ends with the totals.
enum class ReportBy : std::uint8_t { Province, City, Trunk, Origin };
std::optional<ReportBy> parseReportBy(std::string_view text);  // "province" ...
std::string_view reportByName(ReportBy by);

struct ReportRow {
  std::string kind;    // "province", "city", "unrouted", "trunk", "origin", "total"
  std::string key;     // division code or trunk name; "" for unrouted/no trunk/unknown/total
  std::string name;    // "江苏 Jiangsu", a trunk's display name, or a note; "" when unknown
  std::string parent;  // a city's province code
  const Figures* figures = nullptr;
};

// The rows of a view in order (codes ascending, names ascending; unrouted / no trunk /
// unknown source last; then the totals). `names` may be null.
std::vector<ReportRow> reportRows(const Report& report, ReportBy by, const RoutingTable* names);

// The definitions every format states (one text, so the README, the table and the JSON
// say the same).
std::string_view reportDefinitions();

std::string formatReportText(const Report& report, ReportBy by, const RoutingTable* names);
// RFC 4180 CSV: a header line, one line per row, the totals last. Ratios as decimals
// (0.6667), times in seconds with millisecond precision, empty when there is no sample.
std::string formatReportCsv(const Report& report, ReportBy by, const RoutingTable* names);
// One JSON object: period, definitions, input, rows, total, identity check.
std::string formatReportJson(const Report& report, ReportBy by, const RoutingTable* names);

}  // namespace sb::core
