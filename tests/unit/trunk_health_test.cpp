// The trunk health state machine: every (state, event) transition as a table row, the reply
// classification, jitter, the spread of first probes, carrying state over a reload, and a
// dead trunk going down and coming back. SPEC §4; issue 5 item 1.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/trunk_health.hpp"

using sb::core::HealthAction;
using sb::core::HealthActionKind;
using sb::core::HealthActions;
using sb::core::HealthEvent;
using sb::core::HealthState;
using sb::core::ProbeConfig;
using sb::core::ProbeVerdict;
using sb::core::TrunkHealth;

namespace {

constexpr HealthState kUnknown = HealthState::Unknown;
constexpr HealthState kUp = HealthState::Up;
constexpr HealthState kDown = HealthState::Down;

// Event shorthands. Timestamps only matter for the exported times.
HealthEvent sent(std::int64_t t = 1) { return sb::core::ProbeSent{t}; }
HealthEvent answered(int status, std::int64_t t = 2, bool local = false) {
  return sb::core::ProbeAnswered{status, local, 12, t};
}
HealthEvent timedOut(std::int64_t t = 3) { return sb::core::ProbeTimedOut{t}; }
HealthEvent transport(bool probe = true, std::int64_t t = 3) {
  return sb::core::TransportError{"ICMP port unreachable", t, probe};
}
// random 0 draws the shortest interval: 15000 - 20 % = 12000 ms.
HealthEvent timer(std::uint64_t random = 0, std::int64_t t = 4) {
  return sb::core::TimerFired{t, random};
}

// Actions with the StateChanged reason left out (checked in their own tests).
struct Act {
  HealthActionKind kind;
  std::uint32_t ms = 0;
  HealthState from = kUnknown;
  HealthState to = kUnknown;
  bool operator==(const Act&) const = default;
};
const Act kSend{.kind = HealthActionKind::SendProbe};
const Act kCancel{.kind = HealthActionKind::CancelTimeout};
Act armTimeout(std::uint32_t ms) { return {.kind = HealthActionKind::ArmTimeout, .ms = ms}; }
Act armNext(std::uint32_t ms) { return {.kind = HealthActionKind::ArmNextProbe, .ms = ms}; }
Act changed(HealthState from, HealthState to) {
  return {HealthActionKind::StateChanged, 0, from, to};
}

std::vector<Act> strip(const HealthActions& actions) {
  std::vector<Act> out;
  for (const HealthAction& a : actions) out.push_back({a.kind, a.ms, a.from, a.to});
  return out;
}

std::string describe(const std::vector<Act>& acts) {
  std::string out;
  for (const Act& a : acts) {
    out += std::string(sb::core::healthActionKindName(a.kind));
    if (a.ms) out += "(" + std::to_string(a.ms) + ")";
    if (a.kind == HealthActionKind::StateChanged) {
      out += "(" + std::string(healthStateName(a.from)) + "->" +
             std::string(healthStateName(a.to)) + ")";
    }
    out += " ";
  }
  return out;
}

// Machines in each state, reached by real events from a fresh one.
using Prelude = std::vector<HealthEvent>;
Prelude operator+(Prelude a, const Prelude& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
const Prelude kFresh = {};                            // Unknown
const Prelude kOutstanding = {sent()};                // + a probe waiting
const Prelude kMiss = {sent(), timedOut()};           // one miss
const Prelude kAnswer = {sent(), answered(200)};      // one answer
const Prelude kUpState = kAnswer;                     // Up
const Prelude kUnknown2Misses = kMiss + kMiss;        // Unknown, misses 2
const Prelude kUp2Misses = kUpState + kMiss + kMiss;  // Up, misses 2
const Prelude kDownState = kMiss + kMiss + kMiss;     // Down, misses 3
const Prelude kDown1Answer = kDownState + kAnswer;    // Down, answers 1

TrunkHealth run(const ProbeConfig& config, const Prelude& prelude) {
  TrunkHealth health(config, 0);
  for (const HealthEvent& e : prelude) health.handle(e);
  return health;
}

struct Row {
  const char* name;
  Prelude prelude;
  HealthState before;
  HealthEvent event;
  HealthState after;
  std::vector<Act> actions;
  std::uint32_t misses;  // consecutive, after the event
  std::uint32_t answers;
  bool outstanding;  // a probe still waiting after the event
};

void checkRows(const ProbeConfig& config, const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    CAPTURE(row.name);
    TrunkHealth health = run(config, row.prelude);
    REQUIRE(health.state() == row.before);
    const std::vector<Act> got = strip(health.handle(row.event));
    CAPTURE(describe(got));
    CAPTURE(describe(row.actions));
    CHECK(got == row.actions);
    CHECK(health.state() == row.after);
    CHECK(health.status().consecutive_misses == row.misses);
    CHECK(health.status().consecutive_answers == row.answers);
    CHECK(health.status().probe_outstanding == row.outstanding);
    CHECK(health.routable() == (row.after != kDown));
  }
}

}  // namespace

TEST_CASE("health transitions with SPEC §4 defaults, one row per (state, event)", "[health]") {
  const ProbeConfig config;  // 15 s ±20 %, timeout 3 s, down after 3, up after 2, any reply
  const std::vector<Row> rows = {
      // Unknown: routed as up; the first answer makes it Up, 3 misses Down.
      {"unknown + timer: probe, next in 12 s",
       kFresh,
       kUnknown,
       timer(0),
       kUnknown,
       {kSend, armNext(12'000)},
       0,
       0,
       false},
      {"unknown + sent: arm the 3 s timeout",
       kFresh,
       kUnknown,
       sent(),
       kUnknown,
       {armTimeout(3'000)},
       0,
       0,
       true},
      {"unknown + 200: up",
       kOutstanding,
       kUnknown,
       answered(200),
       kUp,
       {kCancel, changed(kUnknown, kUp)},
       0,
       1,
       false},
      {"unknown + 404 (a PBX without OPTIONS): up",
       kOutstanding,
       kUnknown,
       answered(404),
       kUp,
       {kCancel, changed(kUnknown, kUp)},
       0,
       1,
       false},
      {"unknown + 503 from the trunk: alive",
       kOutstanding,
       kUnknown,
       answered(503),
       kUp,
       {kCancel, changed(kUnknown, kUp)},
       0,
       1,
       false},
      {"unknown + local 408: a miss",
       kOutstanding,
       kUnknown,
       answered(408, 2, true),
       kUnknown,
       {kCancel},
       1,
       0,
       false},
      {"unknown + local 503: a miss",
       kOutstanding,
       kUnknown,
       answered(503, 2, true),
       kUnknown,
       {kCancel},
       1,
       0,
       false},
      {"unknown + 100 Trying: still waiting",
       kOutstanding,
       kUnknown,
       answered(100),
       kUnknown,
       {},
       0,
       0,
       true},
      {"unknown + timeout: a miss", kOutstanding, kUnknown, timedOut(), kUnknown, {}, 1, 0, false},
      {"unknown + transport error on the probe: a miss at once",
       kOutstanding,
       kUnknown,
       transport(true),
       kUnknown,
       {kCancel},
       1,
       0,
       false},
      {"unknown + transport error sending: a miss",
       kFresh,
       kUnknown,
       transport(true),
       kUnknown,
       {},
       1,
       0,
       false},
      {"unknown + a call's transport error: a miss, the probe waits on",
       kOutstanding,
       kUnknown,
       transport(false),
       kUnknown,
       {},
       1,
       0,
       true},
      {"unknown + timer with the probe unanswered: a miss, a new probe",
       kOutstanding,
       kUnknown,
       timer(0),
       kUnknown,
       {kCancel, kSend, armNext(12'000)},
       1,
       0,
       false},
      {"unknown, 2 misses + timeout: down",
       kUnknown2Misses + kOutstanding,
       kUnknown,
       timedOut(),
       kDown,
       {changed(kUnknown, kDown)},
       3,
       0,
       false},
      {"unknown, 2 misses + transport error: down",
       kUnknown2Misses,
       kUnknown,
       transport(true),
       kDown,
       {changed(kUnknown, kDown)},
       3,
       0,
       false},
      {"unknown, 2 misses + 200: up",
       kUnknown2Misses + kOutstanding,
       kUnknown,
       answered(200),
       kUp,
       {kCancel, changed(kUnknown, kUp)},
       0,
       1,
       false},
      {"unknown + stale answer (no probe out): ignored",
       kFresh,
       kUnknown,
       answered(200),
       kUnknown,
       {},
       0,
       0,
       false},
      {"unknown + stale timeout: ignored", kFresh, kUnknown, timedOut(), kUnknown, {}, 0, 0, false},

      // Up.
      {"up + timer: probe, next in 12 s",
       kUpState,
       kUp,
       timer(0),
       kUp,
       {kSend, armNext(12'000)},
       0,
       1,
       false},
      {"up + sent", kUpState, kUp, sent(), kUp, {armTimeout(3'000)}, 0, 1, true},
      {"up + 200", kUpState + kOutstanding, kUp, answered(200), kUp, {kCancel}, 0, 2, false},
      {"up + 405: alive", kUpState + kOutstanding, kUp, answered(405), kUp, {kCancel}, 0, 2, false},
      {"up + timeout: 1 miss, still up",
       kUpState + kOutstanding,
       kUp,
       timedOut(),
       kUp,
       {},
       1,
       0,
       false},
      {"up + local 408: a miss",
       kUpState + kOutstanding,
       kUp,
       answered(408, 2, true),
       kUp,
       {kCancel},
       1,
       0,
       false},
      {"up + transport error: a miss",
       kUpState + kOutstanding,
       kUp,
       transport(true),
       kUp,
       {kCancel},
       1,
       0,
       false},
      {"up, 2 misses + timeout: down",
       kUp2Misses + kOutstanding,
       kUp,
       timedOut(),
       kDown,
       {changed(kUp, kDown)},
       3,
       0,
       false},
      {"up, 2 misses + local 408: down",
       kUp2Misses + kOutstanding,
       kUp,
       answered(408, 2, true),
       kDown,
       {kCancel, changed(kUp, kDown)},
       3,
       0,
       false},
      {"up, 2 misses + transport error: down at once",
       kUp2Misses + kOutstanding,
       kUp,
       transport(true),
       kDown,
       {kCancel, changed(kUp, kDown)},
       3,
       0,
       false},
      {"up, 2 misses + a call's transport error: down, the probe waits on",
       kUp2Misses + kOutstanding,
       kUp,
       transport(false),
       kDown,
       {changed(kUp, kDown)},
       3,
       0,
       true},
      {"up, 2 misses + timer with the probe unanswered: down, new probe",
       kUp2Misses + kOutstanding,
       kUp,
       timer(0),
       kDown,
       {kCancel, changed(kUp, kDown), kSend, armNext(12'000)},
       3,
       0,
       false},
      {"up, 2 misses + 404: misses start over",
       kUp2Misses + kOutstanding,
       kUp,
       answered(404),
       kUp,
       {kCancel},
       0,
       1,
       false},
      {"up + stale answer: ignored", kUpState, kUp, answered(200), kUp, {}, 0, 1, false},
      {"up + stale timeout: ignored", kUpState, kUp, timedOut(), kUp, {}, 0, 1, false},

      // Down: up again after 2 consecutive answers.
      {"down + timer: still probed",
       kDownState,
       kDown,
       timer(0),
       kDown,
       {kSend, armNext(12'000)},
       3,
       0,
       false},
      {"down + sent", kDownState, kDown, sent(), kDown, {armTimeout(3'000)}, 3, 0, true},
      {"down + 200: 1 answer, still down",
       kDownState + kOutstanding,
       kDown,
       answered(200),
       kDown,
       {kCancel},
       0,
       1,
       false},
      {"down, 1 answer + 200: up",
       kDown1Answer + kOutstanding,
       kDown,
       answered(200),
       kUp,
       {kCancel, changed(kDown, kUp)},
       0,
       2,
       false},
      {"down, 1 answer + 403: up",
       kDown1Answer + kOutstanding,
       kDown,
       answered(403),
       kUp,
       {kCancel, changed(kDown, kUp)},
       0,
       2,
       false},
      {"down, 1 answer + timeout: answers start over",
       kDown1Answer + kOutstanding,
       kDown,
       timedOut(),
       kDown,
       {},
       1,
       0,
       false},
      {"down, 1 answer + local 408: answers start over",
       kDown1Answer + kOutstanding,
       kDown,
       answered(408, 2, true),
       kDown,
       {kCancel},
       1,
       0,
       false},
      {"down, 1 answer + transport error",
       kDown1Answer + kOutstanding,
       kDown,
       transport(true),
       kDown,
       {kCancel},
       1,
       0,
       false},
      {"down + timeout: misses go on",
       kDownState + kOutstanding,
       kDown,
       timedOut(),
       kDown,
       {},
       4,
       0,
       false},
      {"down + transport error", kDownState, kDown, transport(false), kDown, {}, 4, 0, false},
      {"down + 180: still waiting",
       kDownState + kOutstanding,
       kDown,
       answered(180),
       kDown,
       {},
       3,
       0,
       true},
      {"down + stale answer: ignored", kDown1Answer, kDown, answered(200), kDown, {}, 0, 1, false},
      {"down + stale timeout: ignored", kDownState, kDown, timedOut(), kDown, {}, 3, 0, false},
  };
  checkRows(config, rows);
}

TEST_CASE("health transitions with accepted codes: other replies are misses", "[health]") {
  ProbeConfig config;
  config.accepted_codes = {200, 404};
  const std::vector<Row> rows = {
      {"unknown + 200: up",
       kOutstanding,
       kUnknown,
       answered(200),
       kUp,
       {kCancel, changed(kUnknown, kUp)},
       0,
       1,
       false},
      {"unknown + 404 (listed): up",
       kOutstanding,
       kUnknown,
       answered(404),
       kUp,
       {kCancel, changed(kUnknown, kUp)},
       0,
       1,
       false},
      {"unknown + 503: a miss",
       kOutstanding,
       kUnknown,
       answered(503),
       kUnknown,
       {kCancel},
       1,
       0,
       false},
      {"up + 405: a miss",
       kUpState + kOutstanding,
       kUp,
       answered(405),
       kUp,
       {kCancel},
       1,
       0,
       false},
      {"up, 2 misses + 500: down",
       kUp2Misses + kOutstanding,
       kUp,
       answered(500),
       kDown,
       {kCancel, changed(kUp, kDown)},
       3,
       0,
       false},
      {"down, 1 answer + 403: answers start over",
       kDown1Answer + kOutstanding,
       kDown,
       answered(403),
       kDown,
       {kCancel},
       1,
       0,
       false},
      {"down, 1 answer + 404: up",
       kDown1Answer + kOutstanding,
       kDown,
       answered(404),
       kUp,
       {kCancel, changed(kDown, kUp)},
       0,
       2,
       false},
  };
  checkRows(config, rows);

  // A listed 408 still does not make a local 408 alive (SPEC §4).
  ProbeConfig with408;
  with408.accepted_codes = {408};
  checkRows(with408, {{"unknown + local 408 (listed): a miss",
                       kOutstanding,
                       kUnknown,
                       answered(408, 2, true),
                       kUnknown,
                       {kCancel},
                       1,
                       0,
                       false},
                      {"unknown + the trunk's 408 (listed): up",
                       kOutstanding,
                       kUnknown,
                       answered(408),
                       kUp,
                       {kCancel, changed(kUnknown, kUp)},
                       0,
                       1,
                       false}});
}

TEST_CASE("health transitions with other thresholds", "[health]") {
  ProbeConfig config;
  config.down_after = 1;
  config.up_after = 3;
  config.interval_ms = 5'000;
  config.jitter_percent = 0;
  config.timeout_ms = 1'000;
  checkRows(config, {
                        {"up + one miss: down",
                         kUpState + kOutstanding,
                         kUp,
                         timedOut(),
                         kDown,
                         {changed(kUp, kDown)},
                         1,
                         0,
                         false},
                        {"unknown + one transport error: down",
                         kFresh,
                         kUnknown,
                         transport(false),
                         kDown,
                         {changed(kUnknown, kDown)},
                         1,
                         0,
                         false},
                        {"down, 2 answers + 200: up",
                         kMiss + kAnswer + kAnswer + kOutstanding,
                         kDown,
                         answered(200),
                         kUp,
                         {kCancel, changed(kDown, kUp)},
                         0,
                         3,
                         false},
                        {"no jitter: exactly the interval",
                         kUpState,
                         kUp,
                         timer(987'654),
                         kUp,
                         {kSend, armNext(5'000)},
                         0,
                         1,
                         false},
                        {"sent: the configured timeout",
                         kUpState,
                         kUp,
                         sent(),
                         kUp,
                         {armTimeout(1'000)},
                         0,
                         1,
                         true},
                    });
}

TEST_CASE("probing disabled: always up, every event ignored", "[health]") {
  ProbeConfig config;
  config.interval_ms = 0;
  TrunkHealth health(config, 500);
  CHECK(health.state() == kUp);
  CHECK(health.start(1'000).empty());
  for (const HealthEvent& e :
       {sent(), answered(200), answered(408, 2, true), timedOut(), transport(true),
        transport(false), timer(7), timedOut(), timedOut(), timedOut()}) {
    CHECK(health.handle(e).empty());
    CHECK(health.state() == kUp);
  }
  CHECK(health.status().misses == 0);
  CHECK(health.status().changed_at_ms == 500);
}

TEST_CASE("start arms the first probe", "[health]") {
  const TrunkHealth health(ProbeConfig{}, 1'000);
  CHECK(health.state() == kUnknown);
  CHECK(health.status().changed_at_ms == 1'000);
  CHECK(strip(health.start(4'321)) == std::vector<Act>{armNext(4'321)});
}

TEST_CASE("health keeps the reason, RTT, times and totals", "[health]") {
  TrunkHealth health(ProbeConfig{}, 1'000);
  health.handle(sb::core::ProbeSent{10'000});
  auto actions = health.handle(sb::core::ProbeAnswered{200, false, 35, 10'035});
  REQUIRE(actions.size() == 2);
  CHECK(actions[1].reason == "answered 200");
  CHECK(health.status().changed_at_ms == 10'035);
  CHECK(health.status().last_rtt_ms == 35u);
  CHECK(health.status().last_status == 200);
  CHECK(health.status().last_probe_ms == 10'000);
  CHECK(health.status().last_failure.empty());

  health.handle(sb::core::ProbeSent{25'000});
  health.handle(sb::core::ProbeTimedOut{28'000});
  CHECK(health.status().last_failure == "no answer within 3000 ms");
  CHECK(health.status().last_failure_ms == 28'000);
  CHECK(health.status().last_rtt_ms == 35u);  // a timeout has no RTT

  health.handle(sb::core::ProbeSent{40'000});
  health.handle(sb::core::ProbeAnswered{408, true, 3'000, 43'000});
  CHECK(health.status().last_failure == "no answer (local 408)");
  CHECK(health.status().last_rtt_ms == 35u);  // nor does a local response

  health.handle(sb::core::ProbeSent{55'000});
  actions = health.handle(sb::core::TransportError{"TCP connection reset", 55'002, true});
  CHECK(health.state() == kDown);
  CHECK(health.status().changed_at_ms == 55'002);
  CHECK(health.status().last_failure == "transport error: TCP connection reset");
  REQUIRE(actions.size() == 2);
  CHECK(actions[1].kind == HealthActionKind::StateChanged);
  CHECK(actions[1].reason == "3 consecutive misses, last: transport error: TCP connection reset");

  health.handle(sb::core::ProbeSent{70'000});
  health.handle(sb::core::ProbeAnswered{503, false, 80, 70'080});
  health.handle(sb::core::ProbeSent{85'000});
  actions = health.handle(sb::core::ProbeAnswered{200, false, 20, 85'020});
  CHECK(health.state() == kUp);
  REQUIRE(actions.size() == 2);
  CHECK(actions[1].reason == "2 consecutive answers, last 200");
  CHECK(health.status().last_rtt_ms == 20u);
  CHECK(health.status().last_failure == "transport error: TCP connection reset");  // kept

  CHECK(health.status().probes_sent == 6);
  CHECK(health.status().answers == 3);
  CHECK(health.status().misses == 3);
}

TEST_CASE("an unaccepted answer names its status", "[health]") {
  ProbeConfig config;
  config.accepted_codes = {200};
  TrunkHealth health(config);
  health.handle(sent());
  health.handle(answered(404));
  CHECK(health.status().last_failure == "answered 404, not an accepted code");
  CHECK(health.status().last_status == 404);
  CHECK(health.status().last_rtt_ms == 12u);  // the trunk did answer
}

TEST_CASE("classifyProbeReply", "[health]") {
  ProbeConfig any;
  ProbeConfig only200;
  only200.accepted_codes = {200};
  struct Case {
    const ProbeConfig* config;
    int status;
    bool local;
    ProbeVerdict verdict;
  };
  const Case cases[] = {
      {&any, 200, false, ProbeVerdict::Alive},      {&any, 403, false, ProbeVerdict::Alive},
      {&any, 404, false, ProbeVerdict::Alive},      {&any, 405, false, ProbeVerdict::Alive},
      {&any, 408, false, ProbeVerdict::Alive},      {&any, 503, false, ProbeVerdict::Alive},
      {&any, 603, false, ProbeVerdict::Alive},      {&any, 408, true, ProbeVerdict::Miss},
      {&any, 503, true, ProbeVerdict::Miss},        {&any, 100, false, ProbeVerdict::Ignore},
      {&any, 183, false, ProbeVerdict::Ignore},     {&any, 0, false, ProbeVerdict::Miss},
      {&any, 700, false, ProbeVerdict::Miss},       {&only200, 200, false, ProbeVerdict::Alive},
      {&only200, 404, false, ProbeVerdict::Miss},   {&only200, 200, true, ProbeVerdict::Miss},
      {&only200, 100, false, ProbeVerdict::Ignore},
  };
  for (const Case& c : cases) {
    CAPTURE(c.status, c.local, c.config->accepted_codes.size());
    CHECK(sb::core::classifyProbeReply(*c.config, c.status, c.local) == c.verdict);
  }
}

TEST_CASE("probeConfigError", "[health]") {
  CHECK_FALSE(sb::core::probeConfigError(ProbeConfig{}));
  auto with = [](auto change) {
    ProbeConfig config;
    change(config);
    return sb::core::probeConfigError(config);
  };
  CHECK_FALSE(with([](ProbeConfig& c) { c.interval_ms = 0, c.timeout_ms = 0; }));  // disabled
  CHECK_FALSE(with([](ProbeConfig& c) { c.accepted_codes = {200, 404, 405}; }));
  CHECK(with([](ProbeConfig& c) { c.timeout_ms = 0; }) == "probe timeout must be above 0 ms");
  CHECK(with([](ProbeConfig& c) { c.timeout_ms = 12'000; }) ==
        "probe timeout 12000 ms must be shorter than the shortest interval 12000 ms");
  CHECK_FALSE(with([](ProbeConfig& c) { c.timeout_ms = 11'999; }));
  CHECK(with([](ProbeConfig& c) { c.jitter_percent = 51; }) == "probe jitter 51 % is above 50 %");
  CHECK(with([](ProbeConfig& c) { c.down_after = 0; }) == "probe down_after must be at least 1");
  CHECK(with([](ProbeConfig& c) { c.up_after = 0; }) == "probe up_after must be at least 1");
  CHECK(with([](ProbeConfig& c) {
          c.accepted_codes = {200, 180};
        }) == "accepted probe code 180 is not a final status (200-699)");
}

TEST_CASE("jitteredInterval stays within ±jitter and uses the whole range", "[health]") {
  CHECK(sb::core::jitteredInterval(15'000, 20, 0) == 12'000);
  CHECK(sb::core::jitteredInterval(15'000, 20, 6'000) == 18'000);
  CHECK(sb::core::jitteredInterval(15'000, 20, 6'001) == 12'000);  // wraps
  CHECK(sb::core::jitteredInterval(15'000, 20, 3'000) == 15'000);
  CHECK(sb::core::jitteredInterval(15'000, 0, 12'345) == 15'000);
  CHECK(sb::core::jitteredInterval(1, 100, 0) == 1);  // never 0
  std::uint32_t low = UINT32_MAX;
  std::uint32_t high = 0;
  std::uint64_t random = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 10'000; ++i) {
    random = random * 6364136223846793005ull + 1442695040888963407ull;  // an LCG
    const std::uint32_t ms = sb::core::jitteredInterval(15'000, 20, random);
    low = std::min(low, ms);
    high = std::max(high, ms);
  }
  CHECK(low >= 12'000);
  CHECK(low < 12'100);
  CHECK(high <= 18'000);
  CHECK(high > 17'900);
}

TEST_CASE("spreadFirstProbes: 350 trunks are not probed in one burst", "[health]") {
  const std::vector<std::uint32_t> intervals(350, 15'000);
  for (const std::uint64_t random : {0ull, 1ull, 349ull, 123'456'789ull}) {
    CAPTURE(random);
    std::vector<std::uint32_t> delays = sb::core::spreadFirstProbes(intervals, random);
    REQUIRE(delays.size() == 350);
    std::sort(delays.begin(), delays.end());
    CHECK(delays.front() == 0);
    CHECK(delays.back() < 15'000);
    for (std::size_t i = 1; i < delays.size(); ++i) {
      // 15000 / 350 = 42.86 ms between two first probes.
      CHECK(delays[i] - delays[i - 1] >= 42);
      CHECK(delays[i] - delays[i - 1] <= 43);
    }
  }
  // The random value rotates which trunk goes first.
  CHECK(sb::core::spreadFirstProbes(intervals, 0)[0] == 0);
  CHECK(sb::core::spreadFirstProbes(intervals, 1)[0] != 0);
}

TEST_CASE("spreadFirstProbes: own intervals, disabled trunks left out", "[health]") {
  const std::vector<std::uint32_t> intervals = {10'000, 0, 20'000, 10'000, 0};
  CHECK(sb::core::spreadFirstProbes(intervals, 0) ==
        std::vector<std::uint32_t>{0, 0, 6'666, 6'666, 0});
  CHECK(sb::core::spreadFirstProbes(intervals, 1) ==
        std::vector<std::uint32_t>{3'333, 0, 13'333, 0, 0});
  CHECK(sb::core::spreadFirstProbes(std::vector<std::uint32_t>{0, 0}, 5) ==
        std::vector<std::uint32_t>{0, 0});
  CHECK(sb::core::spreadFirstProbes({}, 5).empty());
}

TEST_CASE("reconfigure carries state over a table reload", "[health]") {
  SECTION("the same settings: nothing happens") {
    TrunkHealth health = run(ProbeConfig{}, kDownState);
    CHECK(health.reconfigure(ProbeConfig{}, 99, 100).empty());
    CHECK(health.state() == kDown);
    CHECK(health.status().consecutive_misses == 3);
  }
  SECTION("new accepted codes: state and counters stay, no timer touched") {
    TrunkHealth health = run(ProbeConfig{}, kUp2Misses);
    ProbeConfig config;
    config.accepted_codes = {200};
    CHECK(health.reconfigure(config, 99, 100).empty());
    CHECK(health.state() == kUp);
    CHECK(health.status().consecutive_misses == 2);
    CHECK(health.status().probes_sent == 3);
    CHECK(health.config().accepted_codes == std::vector<int>{200});
  }
  SECTION("a lower down threshold applies at once") {
    TrunkHealth health = run(ProbeConfig{}, kUp2Misses);
    ProbeConfig config;
    config.down_after = 2;
    CHECK(strip(health.reconfigure(config, 99, 100)) == std::vector<Act>{changed(kUp, kDown)});
    CHECK(health.status().changed_at_ms == 99);
  }
  SECTION("a lower up threshold applies at once") {
    TrunkHealth health = run(ProbeConfig{}, kDown1Answer);
    ProbeConfig config;
    config.up_after = 1;
    CHECK(strip(health.reconfigure(config, 99, 100)) == std::vector<Act>{changed(kDown, kUp)});
  }
  SECTION("a new interval re-arms the next probe") {
    TrunkHealth health = run(ProbeConfig{}, kDownState);
    ProbeConfig config;
    config.interval_ms = 5'000;
    config.timeout_ms = 1'000;
    CHECK(strip(health.reconfigure(config, 99, 777)) == std::vector<Act>{armNext(777)});
    CHECK(health.state() == kDown);
    CHECK(strip(health.handle(timer(0))) == std::vector<Act>{kSend, armNext(4'000)});
  }
  SECTION("probing disabled: up, the outstanding probe dropped") {
    TrunkHealth health = run(ProbeConfig{}, kDownState + kOutstanding);
    ProbeConfig config;
    config.interval_ms = 0;
    const HealthActions actions = health.reconfigure(config, 99, 100);
    CHECK(strip(actions) == std::vector<Act>{kCancel, changed(kDown, kUp)});
    CHECK(actions[1].reason == "probing disabled");
    CHECK(health.state() == kUp);
    CHECK_FALSE(health.status().probe_outstanding);
    CHECK(health.handle(timer()).empty());  // the stale next-probe timer
  }
  SECTION("probing enabled again: unknown, first probe armed") {
    ProbeConfig off;
    off.interval_ms = 0;
    TrunkHealth health(off, 0);
    const HealthActions actions = health.reconfigure(ProbeConfig{}, 99, 2'500);
    CHECK(strip(actions) == std::vector<Act>{changed(kUp, kUnknown), armNext(2'500)});
    CHECK(actions[0].reason == "probing enabled");
    CHECK(health.state() == kUnknown);
    CHECK(health.routable());
  }
}

TEST_CASE("a trunk that stops answering is down within misses x interval, then back", "[health]") {
  // The adapter's loop, simulated: timers at the times the actions ask for.
  TrunkHealth health(ProbeConfig{}, 0);
  std::int64_t now = 0;
  std::int64_t next_probe = 0;
  std::int64_t timeout_at = -1;
  std::uint64_t random = 42;
  bool answering = true;
  std::int64_t went_down = -1;
  std::int64_t went_up = -1;
  auto perform = [&](const HealthActions& actions) {
    for (const HealthAction& a : actions) {
      switch (a.kind) {
        case HealthActionKind::SendProbe: {
          const HealthActions after = health.handle(sb::core::ProbeSent{now});
          REQUIRE(after.size() == 1);
          timeout_at = now + after[0].ms;
          if (answering) {
            // The answer comes 20 ms later, before anything else happens.
            const HealthActions answer =
                health.handle(sb::core::ProbeAnswered{200, false, 20, now + 20});
            REQUIRE(answer.at(0).kind == HealthActionKind::CancelTimeout);
            timeout_at = -1;
            for (const HealthAction& b : answer) {
              if (b.kind == HealthActionKind::StateChanged && b.to == kUp) went_up = now + 20;
            }
          }
          break;
        }
        case HealthActionKind::ArmNextProbe:
          next_probe = now + a.ms;
          break;
        case HealthActionKind::StateChanged:
          if (a.to == kDown) went_down = now;
          break;
        case HealthActionKind::ArmTimeout:
        case HealthActionKind::CancelTimeout:
          break;
      }
    }
  };
  perform(health.start(0));
  next_probe = 0;
  const std::int64_t dies_at = 60'000;
  const std::int64_t revives_at = 200'000;
  while (now < 400'000) {
    if (timeout_at >= 0 && timeout_at <= next_probe) {
      now = timeout_at;
      timeout_at = -1;
      perform(health.handle(sb::core::ProbeTimedOut{now}));
    } else {
      now = next_probe;
      answering = now < dies_at || now >= revives_at;
      random = random * 6364136223846793005ull + 1442695040888963407ull;
      perform(health.handle(sb::core::TimerFired{now, random >> 11}));
    }
  }
  REQUIRE(went_down > dies_at);
  // Issue 5: down within misses × interval (with the jitter's longest interval), plus the
  // last probe's timeout.
  CHECK(went_down - dies_at <= 3 * 18'000 + 3'000);
  REQUIRE(went_up > revives_at);
  CHECK(went_up - revives_at <= 2 * 18'000 + 20);
  CHECK(health.state() == kUp);
}
