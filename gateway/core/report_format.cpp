// The report's three forms (SPEC §6, issue 6): table, CSV, JSON. The same rows and the same
// definitions in each.
#include "core/report_format.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/china_time.hpp"
#include "core/json_text.hpp"
#include "core/region.hpp"
#include "core/text_width.hpp"

namespace sb::core {
namespace {

constexpr std::string_view kDefinitions =
    "offered: every call whose INVITE reached the gateway in the period (t_invite in "
    "[from, to), China Standard Time), including calls refused before routing. "
    "answered: a 2xx from the destination center (agent or IVR: the gateway cannot tell) was "
    "relayed to the caller. abandoned: the caller hung up (CANCEL) before any answer; nothing "
    "else is abandoned. failed: everything else (refused by the gateway, a final failure from "
    "the trunks, no answer in time), broken down by fail_reason. "
    "offered = answered + abandoned + failed. answer rate = answered / offered. "
    "within 20 s (30 s) = calls answered at most 20 s (30 s) after their INVITE reached the "
    "gateway, divided by all offered calls. post-dial delay (PDD) = first ringing relayed - "
    "INVITE, over the calls that rang; p95 = nearest rank. wait = answer - INVITE and "
    "duration = end - answer, over the answered calls. Region = the routing key's province "
    "and city; destination trunk = the last trunk tried.";

// The table's header says what its columns mean (the full text: kDefinitions).
constexpr std::string_view kLegend =
    "defined  offered = answered + abandoned + failed; abandoned = the caller hung up before "
    "any answer\n"
    "         answer% = answered / offered; 20s%, 30s% = answered within 20 s, 30 s of the "
    "INVITE / offered\n"
    "         pdd = post-dial delay (INVITE to first ringing; calls that rang), pdd95 its 95th "
    "percentile\n"
    "         wait = answer - INVITE, dur = end - answer (answered calls); means, in seconds\n";

std::string regionName(const RoutingTable* names, const std::string& code) {
  if (names == nullptr) return {};
  const std::optional<RegionCode> parsed = parseRegionCode(code);
  if (!parsed) return {};
  const RegionInfo* info = names->region(*parsed);
  if (info == nullptr) return {};
  if (info->name_en.empty()) return info->name_zh;
  if (info->name_zh.empty()) return info->name_en;
  return info->name_zh + " " + info->name_en;
}

std::string trunkName(const RoutingTable* names, const std::string& trunk) {
  if (names == nullptr) return {};
  const Trunk* t = names->findTrunk(trunk);
  return t == nullptr ? std::string() : t->display_name;
}

std::string cityName(const RoutingTable* names, const std::string& city) {
  if (isProvinceCode(parseRegionCode(city).value_or(kNoRegion))) {
    const std::string province = regionName(names, city);
    return province.empty() ? "province level" : province + ", province level";
  }
  return regionName(names, city);
}

void appendCityRows(std::vector<ReportRow>& rows, const Report& report, const RoutingTable* names,
                    const std::string& province) {
  for (const auto& [city, f] : report.cities) {
    if (!province.empty() && city.compare(0, 2, province, 0, 2) != 0) continue;
    rows.push_back({"city", city, cityName(names, city), city.substr(0, 2) + "0000", &f});
  }
}

std::string fixed(double value, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string seconds(std::optional<double> ms, int decimals) {
  return ms ? fixed(*ms / 1000.0, decimals) : std::string();
}

std::string p95Seconds(const Figures& f, int decimals) {
  const std::optional<std::int64_t> p95 = f.pddP95Ms();
  return p95 ? fixed(static_cast<double>(*p95) / 1000.0, decimals) : std::string();
}

std::string percent(std::optional<double> r) { return r ? fixed(*r * 100.0, 1) + "%" : "-"; }

std::string orDash(std::string text) { return text.empty() ? "-" : text; }

std::string rowLabel(const ReportRow& row) {
  std::string label;
  if (row.kind == "city") label = "  ";
  if (!row.key.empty()) label += row.key;
  if (!row.name.empty()) label += (row.key.empty() ? "" : " ") + row.name;
  return label;
}

std::string periodText(const Period& p) {
  return formatCst(p.from_ms / 1000) + " to " + formatCst(p.to_ms / 1000);
}

std::string inputSummary(const Report& report) {
  const ReportInput& in = report.input;
  const std::uint64_t counted = report.total.offered;
  return std::to_string(in.read) + " records read: " + std::to_string(counted) +
         " in the period, " + std::to_string(report.outside_period) + " outside it, " +
         std::to_string(in.malformed) + " malformed (not counted)";
}

std::vector<std::string> reasonColumns(const std::vector<ReportRow>& rows) {
  std::vector<std::string> columns = knownFailReasons();
  std::set<std::string> extra;
  for (const ReportRow& row : rows) {
    for (const auto& [reason, n] : row.figures->failed_by_reason) {
      if (std::find(columns.begin(), columns.end(), reason) == columns.end()) {
        extra.insert(reason);
      }
    }
  }
  columns.insert(columns.end(), extra.begin(), extra.end());
  return columns;
}

std::uint64_t reasonCount(const Figures& f, const std::string& reason) {
  const auto it = f.failed_by_reason.find(reason);
  return it == f.failed_by_reason.end() ? 0 : it->second;
}

// RFC 4180: quote a field holding a comma, quote or line break; double the quotes.
std::string csvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void jsonNumberOrNull(std::string& out, const std::string& number) {
  out += number.empty() ? "null" : number;
}

std::string ratioText(std::optional<double> r) { return r ? fixed(*r, 4) : std::string(); }

void appendFiguresJson(std::string& out, const Figures& f) {
  out += "\"offered\":" + std::to_string(f.offered);
  out += ",\"answered\":" + std::to_string(f.answered);
  out += ",\"abandoned\":" + std::to_string(f.abandoned);
  out += ",\"failed\":" + std::to_string(f.failed);
  out += ",\"failed_by_reason\":{";
  bool first = true;
  for (const auto& [reason, n] : f.failed_by_reason) {
    if (!first) out += ',';
    first = false;
    appendJsonString(out, reason);
    out += ':' + std::to_string(n);
  }
  out += "},\"answer_rate\":";
  jsonNumberOrNull(out, ratioText(f.answerRate()));
  out += ",\"answered_within_20s\":" + std::to_string(f.answered_within_20s);
  out += ",\"share_within_20s\":";
  jsonNumberOrNull(out, ratioText(f.shareWithin20s()));
  out += ",\"answered_within_30s\":" + std::to_string(f.answered_within_30s);
  out += ",\"share_within_30s\":";
  jsonNumberOrNull(out, ratioText(f.shareWithin30s()));
  out += ",\"calls_with_ring\":" + std::to_string(f.pdd_count);
  out += ",\"pdd_mean_s\":";
  jsonNumberOrNull(out, seconds(f.pddMeanMs(), 3));
  out += ",\"pdd_p95_s\":";
  jsonNumberOrNull(out, p95Seconds(f, 3));
  out += ",\"answer_delay_mean_s\":";
  jsonNumberOrNull(out, seconds(f.answerDelayMeanMs(), 3));
  out += ",\"duration_mean_s\":";
  jsonNumberOrNull(out, seconds(f.durationMeanMs(), 3));
}

void appendStringArray(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    appendJsonString(out, items[i]);
  }
  out += ']';
}

std::string identityText(const IdentityCheck& check) {
  if (check.holds()) {
    return "identity offered = answered + abandoned + failed: holds in all " +
           std::to_string(check.rows_checked) +
           " rows and the totals, and every breakdown adds up to the totals\n";
  }
  std::string out = "identity offered = answered + abandoned + failed: VIOLATED (" +
                    std::to_string(check.violations.size()) + ")\n";
  for (const std::string& v : check.violations) out += "  " + v + "\n";
  return out;
}

}  // namespace

std::optional<ReportBy> parseReportBy(std::string_view text) {
  if (text == "province") return ReportBy::Province;
  if (text == "city") return ReportBy::City;
  if (text == "trunk") return ReportBy::Trunk;
  if (text == "origin") return ReportBy::Origin;
  return std::nullopt;
}

std::string_view reportByName(ReportBy by) {
  switch (by) {
    case ReportBy::Province:
      return "province";
    case ReportBy::City:
      return "city";
    case ReportBy::Trunk:
      return "trunk";
    case ReportBy::Origin:
      return "origin";
  }
  return "province";
}

std::string_view reportDefinitions() { return kDefinitions; }

std::vector<ReportRow> reportRows(const Report& report, ReportBy by, const RoutingTable* names) {
  std::vector<ReportRow> rows;
  switch (by) {
    case ReportBy::Province:
      for (const auto& [code, f] : report.provinces) {
        rows.push_back({"province", code, regionName(names, code), "", &f});
        appendCityRows(rows, report, names, code);
      }
      rows.push_back({"unrouted", "", "unrouted (no region)", "", &report.unrouted});
      break;
    case ReportBy::City:
      appendCityRows(rows, report, names, "");
      rows.push_back({"unrouted", "", "unrouted (no region)", "", &report.unrouted});
      break;
    case ReportBy::Trunk:
    case ReportBy::Origin: {
      const bool trunk = by == ReportBy::Trunk;
      const auto& map = trunk ? report.trunks : report.origins;
      const char* kind = trunk ? "trunk" : "origin";
      for (const auto& [name, f] : map) {
        if (!name.empty()) rows.push_back({kind, name, trunkName(names, name), "", &f});
      }
      if (const auto it = map.find(""); it != map.end()) {
        rows.push_back(
            {kind, "", trunk ? "(none: not forwarded)" : "(unknown source)", "", &it->second});
      }
      break;
    }
  }
  rows.push_back({"total", "", "total", "", &report.total});
  return rows;
}

std::string formatReportText(const Report& report, ReportBy by, const RoutingTable* names) {
  const std::vector<ReportRow> rows = reportRows(report, by, names);
  std::string out = "period   " + periodText(report.period) +
                    " (China Standard Time; calls whose INVITE arrived in [from, to))\n";
  out += "source   " + report.input.source + "\n";
  out += "records  " + inputSummary(report) + "\n";
  for (const std::string& m : report.input.malformed_examples) out += "  malformed: " + m + "\n";
  if (report.input.malformed > report.input.malformed_examples.size()) {
    out += "  malformed: ... and " +
           std::to_string(report.input.malformed - report.input.malformed_examples.size()) +
           " more\n";
  }
  for (const std::string& w : report.input.warnings) out += "warning  " + w + "\n";
  out += kLegend;
  out += "\n";

  const std::vector<std::string> head{"offered", "answered", "abandoned", "failed",
                                      "answer%", "20s%",     "30s%",      "pdd s",
                                      "pdd95 s", "wait s",   "dur s"};
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> labels;
  std::size_t label_width = std::string_view(reportByName(by)).size();
  for (const ReportRow& row : rows) {
    const Figures& f = *row.figures;
    labels.push_back(rowLabel(row));
    label_width = std::max(label_width, displayColumns(labels.back()));
    cells.push_back(
        {std::to_string(f.offered), std::to_string(f.answered), std::to_string(f.abandoned),
         std::to_string(f.failed), percent(f.answerRate()), percent(f.shareWithin20s()),
         percent(f.shareWithin30s()), orDash(seconds(f.pddMeanMs(), 1)), orDash(p95Seconds(f, 1)),
         orDash(seconds(f.answerDelayMeanMs(), 1)), orDash(seconds(f.durationMeanMs(), 1))});
  }
  std::vector<std::size_t> widths;
  for (std::size_t c = 0; c < head.size(); ++c) {
    std::size_t w = head[c].size();
    for (const auto& line : cells) w = std::max(w, line[c].size());
    widths.push_back(w);
  }
  const auto appendLine = [&](const std::string& label, const std::vector<std::string>& values) {
    std::string line = label;
    line.append(label_width - displayColumns(label), ' ');
    for (std::size_t c = 0; c < values.size(); ++c) {
      line.append(widths[c] - values[c].size() + 2, ' ');
      line += values[c];
    }
    out += line + "\n";
  };
  appendLine(std::string(reportByName(by)), head);
  for (std::size_t i = 0; i < rows.size(); ++i) appendLine(labels[i], cells[i]);

  std::string reasons;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].figures->failed == 0) continue;
    std::string list;
    for (const auto& [reason, n] : rows[i].figures->failed_by_reason) {
      list += (list.empty() ? "" : ", ") + reason + " " + std::to_string(n);
    }
    std::string label = labels[i];
    label.append(label_width - displayColumns(label), ' ');
    reasons += label + "  " + list + "\n";
  }
  if (!reasons.empty()) out += "\nfailed by reason\n" + reasons;

  out += "\n" + identityText(checkIdentity(report));
  return out;
}

std::string formatReportCsv(const Report& report, ReportBy by, const RoutingTable* names) {
  const std::vector<ReportRow> rows = reportRows(report, by, names);
  const std::vector<std::string> reasons = reasonColumns(rows);
  std::string out =
      "kind,key,name,parent,offered,answered,abandoned,failed,answer_rate,answered_within_20s,"
      "share_within_20s,answered_within_30s,share_within_30s,calls_with_ring,pdd_mean_s,"
      "pdd_p95_s,answer_delay_mean_s,duration_mean_s";
  for (const std::string& reason : reasons) out += ",failed_" + reason;
  out += "\r\n";
  for (const ReportRow& row : rows) {
    const Figures& f = *row.figures;
    const std::vector<std::string> fields{row.kind,
                                          row.key,
                                          row.name,
                                          row.parent,
                                          std::to_string(f.offered),
                                          std::to_string(f.answered),
                                          std::to_string(f.abandoned),
                                          std::to_string(f.failed),
                                          ratioText(f.answerRate()),
                                          std::to_string(f.answered_within_20s),
                                          ratioText(f.shareWithin20s()),
                                          std::to_string(f.answered_within_30s),
                                          ratioText(f.shareWithin30s()),
                                          std::to_string(f.pdd_count),
                                          seconds(f.pddMeanMs(), 3),
                                          p95Seconds(f, 3),
                                          seconds(f.answerDelayMeanMs(), 3),
                                          seconds(f.durationMeanMs(), 3)};
    std::string line;
    for (const std::string& field : fields) line += (line.empty() ? "" : ",") + csvField(field);
    for (const std::string& reason : reasons) line += "," + std::to_string(reasonCount(f, reason));
    out += line + "\r\n";
  }
  return out;
}

std::string formatReportJson(const Report& report, ReportBy by, const RoutingTable* names) {
  const std::vector<ReportRow> rows = reportRows(report, by, names);
  const IdentityCheck check = checkIdentity(report);
  std::string out = "{\"period\":{\"from\":";
  appendJsonString(out, formatCst(report.period.from_ms / 1000));
  out += ",\"to\":";
  appendJsonString(out, formatCst(report.period.to_ms / 1000));
  out += ",\"from_ms\":" + std::to_string(report.period.from_ms) +
         ",\"to_ms\":" + std::to_string(report.period.to_ms) + "},\"definitions\":";
  appendJsonString(out, kDefinitions);
  out += ",\"input\":{\"source\":";
  appendJsonString(out, report.input.source);
  out += ",\"records_read\":" + std::to_string(report.input.read) +
         ",\"in_period\":" + std::to_string(report.total.offered) +
         ",\"outside_period\":" + std::to_string(report.outside_period) +
         ",\"malformed\":" + std::to_string(report.input.malformed) + ",\"malformed_examples\":";
  appendStringArray(out, report.input.malformed_examples);
  out += ",\"warnings\":";
  appendStringArray(out, report.input.warnings);
  out += "},\"by\":";
  appendJsonString(out, reportByName(by));
  out += ",\"rows\":[";
  bool first = true;
  for (const ReportRow& row : rows) {
    if (row.kind == "total") continue;
    out += first ? "{" : ",{";
    first = false;
    out += "\"kind\":";
    appendJsonString(out, row.kind);
    out += ",\"key\":";
    appendJsonString(out, row.key);
    out += ",\"name\":";
    appendJsonString(out, row.name);
    out += ",\"parent\":";
    appendJsonString(out, row.parent);
    out += ',';
    appendFiguresJson(out, *row.figures);
    out += '}';
  }
  out += "],\"total\":{";
  appendFiguresJson(out, report.total);
  out += "},\"identity\":{\"holds\":";
  out += check.holds() ? "true" : "false";
  out += ",\"rows_checked\":" + std::to_string(check.rows_checked) + ",\"violations\":";
  appendStringArray(out, check.violations);
  out += "}}";
  return out;
}

}  // namespace sb::core
