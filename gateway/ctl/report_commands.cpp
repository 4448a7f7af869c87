// switchboardctl report: the ministry's statistics for a period (SPEC §6, issue 6) from the
// call records in the Redis stream P:records or in JSON-lines files (docs/call-records.md),
// counted by core/report and printed as a table, CSV or JSON. Malformed records are counted
// and named (entry ID or file:line), never skipped silently.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

#include "core/china_time.hpp"
#include "core/report.hpp"
#include "core/report_format.hpp"
#include "ctl/commands.hpp"
#include "ctl/common.hpp"
#include "redis/record_stream_reader.hpp"

namespace sb::ctl {
namespace {

// The stream ID is the time Redis wrote the record, after the call ended on the gateway's
// clock; start reading a little before the period in case the two clocks differ.
constexpr std::int64_t kClockSlackMs = 5 * 60 * 1000;
// A record is well under 4 KiB; a longer line is not one (and must not eat memory).
constexpr std::size_t kMaxLineBytes = 1 << 20;
// Rotated files NAME.1 ... NAME.K next to NAME (records.file_keep is far below this).
constexpr int kMaxRotated = 1000;
constexpr const char* kDefaultRedis = "127.0.0.1:6379";

std::int64_t nowMs() {
  // The CLI reads the clock; the core never does.
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

core::Period periodOf(const Args& args) {
  const int ways =
      (args.has("from") ? 1 : 0) + (args.has("quarter") ? 1 : 0) + (args.has("month") ? 1 : 0);
  if (ways != 1) {
    throw UsageError("give the period with exactly one of --from [--to], --quarter, --month");
  }
  if (args.has("to") && !args.has("from")) throw UsageError("--to goes with --from");
  if (const auto quarter = args.get("quarter")) {
    const auto period = core::parseQuarter(*quarter);
    if (!period) throw UsageError("--quarter must look like 2026Q4");
    return *period;
  }
  if (const auto month = args.get("month")) {
    const auto period = core::parseMonth(*month);
    if (!period) throw UsageError("--month must look like 2026-11");
    return *period;
  }
  const char* format =
      " must be a date (2026-10-01), a date and time (2026-10-01T08:00, China Standard Time "
      "unless it ends in Z or an offset like +08:00) or Unix seconds";
  const auto from = core::parsePeriodBound(*args.get("from"), false);
  if (!from) throw UsageError(std::string("--from") + format);
  core::Period period{*from, nowMs()};
  if (const auto to_text = args.get("to")) {
    const auto to = core::parsePeriodBound(*to_text, true);
    if (!to) throw UsageError(std::string("--to") + format);
    period.to_ms = *to;
  }
  if (period.to_ms <= period.from_ms) throw UsageError("the period ends before it begins");
  return period;
}

// Reads `path` line by line (a line: up to '\n', a trailing '\r' dropped); a line longer
// than kMaxLineBytes is reported as such without being kept. False when it cannot be read.
bool readLines(const std::string& path, core::Report& report) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return false;
  std::string line;
  bool too_long = false;
  std::uint64_t number = 0;
  const auto finish = [&] {
    ++number;
    const std::string where = path + ":" + std::to_string(number);
    if (too_long) {
      ++report.input.read;
      ++report.input.malformed;
      if (report.input.malformed_examples.size() < core::kMalformedExamples) {
        report.input.malformed_examples.push_back(where + ": line longer than " +
                                                  std::to_string(kMaxLineBytes) + " bytes");
      }
    } else {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      report.addJson(line, where);
    }
    line.clear();
    too_long = false;
  };
  char buffer[65536];
  std::size_t got = 0;
  bool pending = false;  // bytes of an unfinished line
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    for (std::size_t i = 0; i < got; ++i) {
      if (buffer[i] == '\n') {
        finish();
        pending = false;
        continue;
      }
      pending = true;
      if (too_long) continue;
      if (line.size() >= kMaxLineBytes) {
        too_long = true;
        line.clear();
        continue;
      }
      line += buffer[i];
    }
  }
  if (std::ferror(file.get())) return false;
  if (pending) finish();  // a last line without '\n' (e.g. cut by a crash) is still read
  return true;
}

// --file NAME reads NAME and its rotated files NAME.1, NAME.2 ... that exist; each file
// once, however it was named.
std::vector<std::string> recordFiles(const std::vector<std::string>& given) {
  std::vector<std::string> files;
  std::set<std::filesystem::path> seen;
  const auto addFile = [&](const std::string& path) {
    std::error_code ec;
    const std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
    if (seen.insert(ec ? std::filesystem::path(path) : canonical).second) files.push_back(path);
  };
  for (const std::string& name : given) {
    if (name.ends_with(".gz")) {
      throw UsageError("'" + name + "' is compressed; decompress it first (gunzip -k)");
    }
    if (std::filesystem::is_directory(name)) throw UsageError("'" + name + "' is a directory");
    addFile(name);
    for (int k = 1; k <= kMaxRotated; ++k) {
      const std::string rotated = name + "." + std::to_string(k);
      if (!std::filesystem::exists(rotated)) break;
      addFile(rotated);
    }
  }
  return files;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

bool readFiles(const std::vector<std::string>& files, core::Report& report) {
  report.input.source = (files.size() == 1 ? "file " : "files ") + joined(files);
  for (const std::string& path : files) {
    if (!readLines(path, report)) {
      std::cerr << "switchboardctl: cannot read '" << path << "'\n";
      return false;
    }
  }
  return true;
}

bool readStream(const redis::RedisAddress& addr, const std::string& shown, core::Report& report) {
  const std::string key = redis::recordStreamKey(addr.prefix);
  report.input.source = "redis " + shown + " stream " + key;
  const redis::StreamReadResult read = redis::readRecordStream(
      addr, report.period.from_ms - kClockSlackMs,
      [&](const std::string& id, const std::optional<std::string>& rec) {
        if (rec) {
          report.addJson(*rec, "entry " + id);
          return;
        }
        ++report.input.read;
        ++report.input.malformed;
        if (report.input.malformed_examples.size() < core::kMalformedExamples) {
          report.input.malformed_examples.push_back("entry " + id + ": no field 'rec'");
        }
      });
  if (!read.ok) {
    std::cerr << "switchboardctl: cannot read the records from Redis " << shown << ": "
              << read.error << "\n";
    return false;
  }
  if (read.first_ms < 0) {
    report.input.warnings.push_back("the stream " + key + " is empty or does not exist");
  } else if (read.first_ms > report.period.from_ms) {
    report.input.warnings.push_back(
        "the stream's oldest entry " + read.first_id + " was written at " +
        core::formatCst(read.first_ms / 1000) +
        ", after the period began: earlier records are not in the stream (not written, or "
        "trimmed by MAXLEN); use the record files for the whole period");
  }
  return true;
}

// Names for the rows: --tables DIR, else the tables published in the same Redis; without
// either (or when Redis has none) the rows show codes only.
std::shared_ptr<const core::RoutingTable> namesFor(const Args& args,
                                                   const redis::RedisAddress* addr,
                                                   core::Report& report) {
  if (const auto dir = args.get("tables")) {
    const std::optional<core::TableSpec> spec = loadValidDir(*dir);
    if (!spec) return nullptr;
    return core::buildTable(*spec, 0).table;
  }
  if (addr == nullptr) return nullptr;
  redis::FetchResult fetched = redis::fetchTables(*addr);
  if (fetched.ok && fetched.version != 0) {
    core::BuildResult built = core::buildTable(fetched.spec, fetched.version);
    if (built.errors.empty()) return built.table;
  }
  report.input.warnings.push_back(
      "no usable routing tables in Redis for region and trunk names: rows show codes only");
  return nullptr;
}

int report(const Args& args) {
  core::Report report;
  report.period = periodOf(args);
  core::ReportBy by = core::ReportBy::Province;
  if (const auto text = args.get("by")) {
    const auto parsed = core::parseReportBy(*text);
    if (!parsed) throw UsageError("--by must be province, city, trunk or origin");
    by = *parsed;
  }
  if (args.has("csv") && args.has("json")) throw UsageError("give at most one of --csv, --json");
  const std::vector<std::string> given_files = args.all("file");
  if (!given_files.empty() && (args.has("redis") || args.has("prefix"))) {
    throw UsageError("read either the Redis stream (--redis, --prefix) or files (--file)");
  }

  std::shared_ptr<const core::RoutingTable> names;
  if (!given_files.empty()) {
    const std::vector<std::string> files = recordFiles(given_files);
    if (args.has("tables")) {
      names = namesFor(args, nullptr, report);
      if (!names) return kExitFailed;
    }
    if (!readFiles(files, report)) return kExitFailed;
  } else {
    Args with_default = args;
    if (!with_default.has("redis")) with_default.options["redis"] = kDefaultRedis;
    const redis::RedisAddress addr = redisAddress(with_default);
    if (!readStream(addr, *with_default.get("redis"), report)) return kExitFailed;
    names = namesFor(args, &addr, report);
    if (!names && args.has("tables")) return kExitFailed;
  }

  if (report.input.malformed > 0) {
    std::cerr << "switchboardctl: " << plural(report.input.malformed, "record", "records")
              << " malformed, not counted; the first: " << report.input.malformed_examples[0]
              << "\n";
  }
  if (args.has("json")) {
    std::cout << core::formatReportJson(report, by, names.get()) << "\n";
  } else if (args.has("csv")) {
    std::cout << core::formatReportCsv(report, by, names.get());
  } else {
    std::cout << core::formatReportText(report, by, names.get());
  }
  if (!core::checkIdentity(report).holds()) {
    std::cerr << "switchboardctl: the identity offered = answered + abandoned + failed does "
                 "not hold (see the report)\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> reportCommands() {
  OptionSpec redis = redisOption(false);
  redis.description = std::string("read the stream P:records here (default ") + kDefaultRedis + ")";
  OptionSpec file{"file", "PATH", "read this JSON-lines records file and its rotated PATH.1 ...",
                  false};
  file.repeatable = true;
  return {Command{
      {"report"},
      "",
      "the ministry's call statistics for a period, per region and per trunk",
      "Counts the call records (docs/call-records.md) whose INVITE arrived in the period\n"
      "[from, to) - China Standard Time - per destination province (with its cities), city,\n"
      "destination trunk or origin trunk: offered, answered, abandoned (the caller hung up\n"
      "before any answer), failed (by reason), answer rate, shares answered within 20 s and\n"
      "30 s (of the offered calls), mean and p95 post-dial delay, mean wait and duration.\n"
      "It checks offered = answered + abandoned + failed in every row and the totals.\n"
      "Records come from the Redis stream (default) or from --file (repeatable). Malformed\n"
      "records are counted and named, never silently skipped. A date as --to includes that\n"
      "day. Exit status 0 with a report, 1 when the records cannot be read, 2 usage.",
      {{"from", "WHEN", "start: 2026-10-01, 2026-10-01T08:00 (CST), or Unix seconds", false},
       {"to", "WHEN", "end (exclusive; a date includes that day); default: now", false},
       {"quarter", "YYYYQN", "a calendar quarter in CST, e.g. 2026Q4", false},
       {"month", "YYYY-MM", "a calendar month in CST, e.g. 2026-11", false},
       redis,
       prefixOption(),
       file,
       {"tables", "DIR", "region and trunk names from this table directory", false},
       {"by", "VIEW", "province (default, with its cities), city, trunk or origin", false},
       {"csv", "", "print CSV (RFC 4180)", false},
       {"json", "", "print JSON", false}},
      0,
      0,
      report}};
}

}  // namespace sb::ctl
