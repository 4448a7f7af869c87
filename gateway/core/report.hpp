// The ministry's statistics from call records (SPEC §6, issue 6): parsing a record
// (docs/call-records.md, schema version 1), counting it into a period's figures per
// destination province and city, destination trunk and origin trunk, and checking the
// identity offered = answered + abandoned + failed everywhere. Formatting is in
// report_format.hpp. Pure, std only: the reader of Redis or files lives in gateway/ctl.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::core {

// docs/call-records.md, "One definition of the result".
enum class CallResult : std::uint8_t { Answered, Abandoned, Failed };
std::string_view callResultName(CallResult result);  // "answered", "abandoned", "failed"

// The fields of a record the report reads.
struct CallRecord {
  std::string call_id;
  std::string origin;         // origin trunk; "" when the source is unknown
  std::string region;         // routing key; "" when not routed
  std::string province;       // "xx0000"; "" when not routed
  std::string city;           // "xxxx00" (= province for a province-level key); "" when not routed
  std::string trunk;          // last destination trunk tried; "" when none
  std::int64_t t_invite = 0;  // Unix ms
  std::int64_t t_ring = 0;    // 0: no provisional relayed
  std::int64_t t_answer = 0;  // 0: not answered
  std::int64_t t_end = 0;
  int code = 0;
  CallResult result = CallResult::Failed;
  std::string fail_reason;  // failed calls only
};

// The fail reasons of docs/call-records.md, in its order. A record may carry another one (a
// newer writer); it is counted under its own name.
const std::vector<std::string>& knownFailReasons();

// One record as written to the stream's `rec` field or a line of a records file. nullopt
// with `error` saying what is wrong: not JSON, not an object, unsupported `v`, a missing or
// mistyped field, an unknown result, a failed call without fail_reason, times that
// contradict each other (answer before INVITE, end before answer ...). Unknown fields are
// ignored (a later schema may add some).
std::optional<CallRecord> parseCallRecord(std::string_view json, std::string& error);

// SPEC §6 / context.md "time to reach an agent": the thresholds of the answered-within
// shares; a call answered exactly at the threshold counts (<=, as a Prometheus bucket).
constexpr std::int64_t kWithin20Ms = 20000;
constexpr std::int64_t kWithin30Ms = 30000;

// Exact figures of one row. Times are kept in integer milliseconds; the p95 comes from an
// exact count per millisecond value (memory grows with distinct values, not with calls).
struct Figures {
  std::uint64_t offered = 0;
  std::uint64_t answered = 0;
  std::uint64_t abandoned = 0;
  std::uint64_t failed = 0;
  std::map<std::string, std::uint64_t> failed_by_reason;
  std::uint64_t answered_within_20s = 0;  // answer delay <= 20 s
  std::uint64_t answered_within_30s = 0;  // answer delay <= 30 s
  std::uint64_t pdd_count = 0;            // calls with a ring (t_ring != 0)
  std::int64_t pdd_sum_ms = 0;
  std::map<std::int64_t, std::uint64_t> pdd_histogram_ms;  // post-dial delay -> calls
  std::int64_t answer_delay_sum_ms = 0;                    // over answered calls
  std::int64_t duration_sum_ms = 0;                        // over answered calls

  void add(const CallRecord& record);

  // Ratios over offered calls (answered / offered ...); nullopt when nothing was offered.
  std::optional<double> answerRate() const;
  std::optional<double> shareWithin20s() const;
  std::optional<double> shareWithin30s() const;
  // Means in milliseconds; nullopt without a sample.
  std::optional<double> pddMeanMs() const;
  std::optional<double> answerDelayMeanMs() const;
  std::optional<double> durationMeanMs() const;
  // Nearest-rank 95th percentile: the smallest post-dial delay that at least 95 % of the
  // calls with a ring do not exceed (rank ceil(0.95 n)). nullopt without a sample.
  std::optional<std::int64_t> pddP95Ms() const;
};

// [from, to) in Unix milliseconds, on t_invite.
struct Period {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
};

// A bound as operators type it: a date "2026-10-01" (midnight China Standard Time; as the
// end of a period the whole day is included, so --to 2026-12-31 ends at 2027-01-01T00:00),
// or anything core::parseTimeText takes (ISO date and time, CST unless an offset is given;
// Unix seconds). Returns Unix milliseconds.
std::optional<std::int64_t> parsePeriodBound(std::string_view text, bool is_end);
// "2026Q4" (or "2026q4"): 2026-10-01 to 2027-01-01, CST.
std::optional<Period> parseQuarter(std::string_view text);
// "2026-11": 2026-11-01 to 2026-12-01, CST.
std::optional<Period> parseMonth(std::string_view text);

// What the reader saw, for the report's header (filled by whoever reads the records).
struct ReportInput {
  std::string source;           // "redis 127.0.0.1:6379 stream sb:records", "file x.jsonl"
  std::uint64_t read = 0;       // records (entries, lines) read
  std::uint64_t malformed = 0;  // of those, not counted because they cannot be read
  std::vector<std::string> malformed_examples;  // "file:line: why" / "entry ID: why"
  std::vector<std::string> warnings;            // e.g. the stream was trimmed inside the period
};

constexpr std::size_t kMalformedExamples = 20;

// The figures of a period. Keys: division codes for provinces and cities, trunk names;
// the unrouted calls (no region) are kept apart; "" is the trunk key of calls never forwarded
// and the origin key of calls from unknown sources.
struct Report {
  Period period;
  ReportInput input;
  std::uint64_t outside_period = 0;  // readable records whose t_invite is not in the period
  Figures total;
  Figures unrouted;
  std::map<std::string, Figures> provinces;
  std::map<std::string, Figures> cities;
  std::map<std::string, Figures> trunks;   // by destination trunk (the last one tried)
  std::map<std::string, Figures> origins;  // by origin trunk

  // Counts the record when its t_invite is in the period; returns whether it did.
  bool add(const CallRecord& record);
  // Reads and counts one record's JSON; a malformed one is counted in input.malformed and
  // its `where` and the reason kept (the first kMalformedExamples). input.read counts all.
  void addJson(std::string_view json, std::string_view where);
};

// The identity offered = answered + abandoned + failed in every row and the totals, failed
// = the sum of its reasons, within-20 s <= within-30 s <= answered, and the rows of each
// breakdown adding up to the totals (cities to their province). Each violation as a sentence.
struct IdentityCheck {
  std::size_t rows_checked = 0;  // rows of every breakdown and the totals
  std::vector<std::string> violations;
  bool holds() const { return violations.empty(); }
};
IdentityCheck checkIdentity(const Report& report);

}  // namespace sb::core
