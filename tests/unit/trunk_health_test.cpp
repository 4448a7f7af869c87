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
HealthEvent local(int status) { return answered(status, 2, true); }
HealthEvent timedOut(std::int64_t t = 3) { return sb::core::ProbeTimedOut{t}; }
// The outstanding probe's transport error (or its send failing) vs. a call's.
HealthEvent probeError(std::int64_t t = 3) {
  return sb::core::TransportError{"ICMP port unreachable", t, true};
}
HealthEvent callError(std::int64_t t = 3) {
  return sb::core::TransportError{"TCP connection reset", t, false};
}
// random 0 draws the shortest interval: 15000 - 20 % = 12000 ms.
HealthEvent timer(std::uint64_t random = 0, std::int64_t t = 4) {
  return sb::core::TimerFired{t, random};
}

// Actions as compact text: "send", "timeout(3000)", "cancel", "next(12000)", "up->down"
// (StateChanged; its reason text is checked in its own tests).
std::string render(const HealthActions& actions) {
  std::string out;
  for (const HealthAction& a : actions) {
    if (!out.empty()) out += ' ';
    switch (a.kind) {
      case HealthActionKind::SendProbe:
        out += "send";
        break;
      case HealthActionKind::ArmTimeout:
        out += "timeout(" + std::to_string(a.ms) + ")";
        break;
      case HealthActionKind::CancelTimeout:
        out += "cancel";
        break;
      case HealthActionKind::ArmNextProbe:
        out += "next(" + std::to_string(a.ms) + ")";
        break;
      case HealthActionKind::StateChanged:
        out += std::string(healthStateName(a.from)) + "->" + std::string(healthStateName(a.to));
        break;
    }
  }
  return out;
}

// The machine after the event: "up m0 a1" (consecutive misses, answers), " waiting" when a
// probe is still outstanding.
std::string renderState(const TrunkHealth& health) {
  const sb::core::HealthStatus& s = health.status();
  return std::string(healthStateName(s.state)) + " m" + std::to_string(s.consecutive_misses) +
         " a" + std::to_string(s.consecutive_answers) + (s.probe_outstanding ? " waiting" : "");
}

// Machines in each state, reached by real events from a fresh one.
using Prelude = std::vector<HealthEvent>;
Prelude operator+(Prelude a, const Prelude& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
const Prelude kFresh = {};                        // unknown m0 a0
const Prelude kWaiting = {sent()};                // + a probe outstanding
const Prelude kMiss = {sent(), timedOut()};       // one miss
const Prelude kAnswer = {sent(), answered(200)};  // one answer
const Prelude kUp1 = kAnswer;                     // up m0 a1
const Prelude kUnknown2Misses = kMiss + kMiss;    // unknown m2 a0
const Prelude kUp2Misses = kUp1 + kMiss + kMiss;  // up m2 a0
const Prelude kDown3 = kMiss + kMiss + kMiss;     // down m3 a0
const Prelude kDown1Answer = kDown3 + kAnswer;    // down m0 a1

TrunkHealth run(const ProbeConfig& config, const Prelude& prelude) {
  TrunkHealth health(config, 0);
  for (const HealthEvent& e : prelude) health.handle(e);
  return health;
}

// One transition: from the state `prelude` leads to, `event` gives `actions` and `after`.
struct Row {
  const char* before;  // the state the prelude must reach: "up m2 a0 waiting"
  Prelude prelude;
  HealthEvent event;
  const char* actions;
  const char* after;
};

void checkRows(const ProbeConfig& config, const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    TrunkHealth health = run(config, row.prelude);
    REQUIRE(renderState(health) == row.before);
    const HealthActions actions = health.handle(row.event);
    CAPTURE(row.before, row.event.index(), row.actions, row.after);
    CHECK(render(actions) == row.actions);
    CHECK(renderState(health) == row.after);
    CHECK(health.routable() == (health.state() != kDown));
  }
}

}  // namespace

// Each row: before, prelude that gets there, event, actions, after. SPEC §4 defaults:
// 15 s ±20 %, timeout 3 s, down after 3 misses, up after 2 answers, any reply but a local one.
TEST_CASE("health transitions with SPEC §4 defaults, one row per (state, event)", "[health]") {
  const std::vector<Row> rows = {
      // Unknown: routed as up; the first answer makes it Up, 3 misses Down.
      {"unknown m0 a0", kFresh, timer(0), "send next(12000)", "unknown m0 a0"},
      {"unknown m0 a0", kFresh, sent(), "timeout(3000)", "unknown m0 a0 waiting"},
      {"unknown m0 a0 waiting", kWaiting, answered(200), "cancel unknown->up", "up m0 a1"},
      // Many PBXs answer OPTIONS 403/404/405, and a 503 still comes from a live trunk.
      {"unknown m0 a0 waiting", kWaiting, answered(404), "cancel unknown->up", "up m0 a1"},
      {"unknown m0 a0 waiting", kWaiting, answered(503), "cancel unknown->up", "up m0 a1"},
      // A locally generated 408 (or 503) is never "alive".
      {"unknown m0 a0 waiting", kWaiting, local(408), "cancel", "unknown m1 a0"},
      {"unknown m0 a0 waiting", kWaiting, local(503), "cancel", "unknown m1 a0"},
      {"unknown m0 a0 waiting", kWaiting, answered(100), "", "unknown m0 a0 waiting"},
      {"unknown m0 a0 waiting", kWaiting, timedOut(), "", "unknown m1 a0"},
      // Transport errors: a miss at once. A call's error leaves the probe waiting.
      {"unknown m0 a0 waiting", kWaiting, probeError(), "cancel", "unknown m1 a0"},
      {"unknown m0 a0", kFresh, probeError(), "", "unknown m1 a0"},  // the send failed
      {"unknown m0 a0 waiting", kWaiting, callError(), "", "unknown m1 a0 waiting"},
      // The next probe is due and the last one has no result: a miss, one probe at a time.
      {"unknown m0 a0 waiting", kWaiting, timer(0), "cancel send next(12000)", "unknown m1 a0"},
      {"unknown m2 a0 waiting", kUnknown2Misses + kWaiting, timedOut(), "unknown->down",
       "down m3 a0"},
      {"unknown m2 a0", kUnknown2Misses, probeError(), "unknown->down", "down m3 a0"},
      {"unknown m2 a0", kUnknown2Misses, callError(), "unknown->down", "down m3 a0"},
      {"unknown m2 a0 waiting", kUnknown2Misses + kWaiting, answered(200), "cancel unknown->up",
       "up m0 a1"},
      // Stale: no probe outstanding (a late answer, a timer that raced with the answer).
      {"unknown m0 a0", kFresh, answered(200), "", "unknown m0 a0"},
      {"unknown m0 a0", kFresh, timedOut(), "", "unknown m0 a0"},

      // Up: down after 3 consecutive misses.
      {"up m0 a1", kUp1, timer(0), "send next(12000)", "up m0 a1"},
      {"up m0 a1", kUp1, sent(), "timeout(3000)", "up m0 a1 waiting"},
      {"up m0 a1 waiting", kUp1 + kWaiting, answered(200), "cancel", "up m0 a2"},
      {"up m0 a1 waiting", kUp1 + kWaiting, answered(405), "cancel", "up m0 a2"},
      {"up m0 a1 waiting", kUp1 + kWaiting, answered(183), "", "up m0 a1 waiting"},
      {"up m0 a1 waiting", kUp1 + kWaiting, timedOut(), "", "up m1 a0"},
      {"up m0 a1 waiting", kUp1 + kWaiting, local(408), "cancel", "up m1 a0"},
      {"up m0 a1 waiting", kUp1 + kWaiting, probeError(), "cancel", "up m1 a0"},
      {"up m0 a1 waiting", kUp1 + kWaiting, callError(), "", "up m1 a0 waiting"},
      {"up m0 a1 waiting", kUp1 + kWaiting, timer(0), "cancel send next(12000)", "up m1 a0"},
      {"up m2 a0 waiting", kUp2Misses + kWaiting, timedOut(), "up->down", "down m3 a0"},
      {"up m2 a0 waiting", kUp2Misses + kWaiting, local(408), "cancel up->down", "down m3 a0"},
      {"up m2 a0 waiting", kUp2Misses + kWaiting, probeError(), "cancel up->down", "down m3 a0"},
      {"up m2 a0 waiting", kUp2Misses + kWaiting, callError(), "up->down", "down m3 a0 waiting"},
      {"up m2 a0", kUp2Misses, probeError(), "up->down", "down m3 a0"},
      {"up m2 a0 waiting", kUp2Misses + kWaiting, timer(0), "cancel up->down send next(12000)",
       "down m3 a0"},
      {"up m2 a0 waiting", kUp2Misses + kWaiting, answered(404), "cancel", "up m0 a1"},
      {"up m0 a1", kUp1, answered(200), "", "up m0 a1"},
      {"up m0 a1", kUp1, timedOut(), "", "up m0 a1"},

      // Down: still probed; up after 2 consecutive answers.
      {"down m3 a0", kDown3, timer(0), "send next(12000)", "down m3 a0"},
      {"down m3 a0", kDown3, sent(), "timeout(3000)", "down m3 a0 waiting"},
      {"down m3 a0 waiting", kDown3 + kWaiting, answered(200), "cancel", "down m0 a1"},
      {"down m3 a0 waiting", kDown3 + kWaiting, answered(180), "", "down m3 a0 waiting"},
      {"down m3 a0 waiting", kDown3 + kWaiting, timedOut(), "", "down m4 a0"},
      {"down m3 a0 waiting", kDown3 + kWaiting, local(408), "cancel", "down m4 a0"},
      {"down m3 a0 waiting", kDown3 + kWaiting, probeError(), "cancel", "down m4 a0"},
      {"down m3 a0", kDown3, callError(), "", "down m4 a0"},
      {"down m3 a0 waiting", kDown3 + kWaiting, timer(0), "cancel send next(12000)", "down m4 a0"},
      {"down m0 a1 waiting", kDown1Answer + kWaiting, answered(200), "cancel down->up", "up m0 a2"},
      {"down m0 a1 waiting", kDown1Answer + kWaiting, answered(403), "cancel down->up", "up m0 a2"},
      {"down m0 a1 waiting", kDown1Answer + kWaiting, timedOut(), "", "down m1 a0"},
      {"down m0 a1 waiting", kDown1Answer + kWaiting, local(408), "cancel", "down m1 a0"},
      {"down m0 a1 waiting", kDown1Answer + kWaiting, probeError(), "cancel", "down m1 a0"},
      {"down m0 a1 waiting", kDown1Answer + kWaiting, callError(), "", "down m1 a0 waiting"},
      {"down m0 a1", kDown1Answer, answered(200), "", "down m0 a1"},
      {"down m3 a0", kDown3, timedOut(), "", "down m3 a0"},
  };
  checkRows(ProbeConfig{}, rows);
}

TEST_CASE("health transitions with accepted codes: other replies are misses", "[health]") {
  ProbeConfig config;
  config.accepted_codes = {200, 404};
  checkRows(
      config,
      {
          {"unknown m0 a0 waiting", kWaiting, answered(200), "cancel unknown->up", "up m0 a1"},
          {"unknown m0 a0 waiting", kWaiting, answered(404), "cancel unknown->up", "up m0 a1"},
          {"unknown m0 a0 waiting", kWaiting, answered(503), "cancel", "unknown m1 a0"},
          {"up m0 a1 waiting", kUp1 + kWaiting, answered(405), "cancel", "up m1 a0"},
          {"up m2 a0 waiting", kUp2Misses + kWaiting, answered(500), "cancel up->down",
           "down m3 a0"},
          {"down m0 a1 waiting", kDown1Answer + kWaiting, answered(403), "cancel", "down m1 a0"},
          {"down m0 a1 waiting", kDown1Answer + kWaiting, answered(404), "cancel down->up",
           "up m0 a2"},
      });

  // Listing 408 does not make a local 408 alive (SPEC §4); the trunk's own 408 is.
  ProbeConfig with408;
  with408.accepted_codes = {408};
  checkRows(with408, {
                         {"unknown m0 a0 waiting", kWaiting, local(408), "cancel", "unknown m1 a0"},
                         {"unknown m0 a0 waiting", kWaiting, answered(408), "cancel unknown->up",
                          "up m0 a1"},
                     });
}

TEST_CASE("health transitions with other thresholds", "[health]") {
  ProbeConfig config;
  config.down_after = 1;
  config.up_after = 3;
  config.interval_ms = 5'000;
  config.jitter_percent = 0;
  config.timeout_ms = 1'000;
  const Prelude down2answers = kMiss + kAnswer + kAnswer;
  checkRows(config, {
                        {"up m0 a1 waiting", kUp1 + kWaiting, timedOut(), "up->down", "down m1 a0"},
                        {"unknown m0 a0", kFresh, callError(), "unknown->down", "down m1 a0"},
                        {"down m0 a2 waiting", down2answers + kWaiting, answered(200),
                         "cancel down->up", "up m0 a3"},
                        // No jitter: exactly the interval, whatever the random value.
                        {"up m0 a1", kUp1, timer(987'654), "send next(5000)", "up m0 a1"},
                        {"up m0 a1", kUp1, sent(), "timeout(1000)", "up m0 a1 waiting"},
                    });
}

TEST_CASE("probing disabled: always up, every event ignored", "[health]") {
  ProbeConfig config;
  config.interval_ms = 0;
  TrunkHealth health(config, 500);
  CHECK(health.state() == kUp);
  CHECK(health.start(1'000).empty());
  for (const HealthEvent& e :
       {sent(), answered(200), answered(408, 2, true), timedOut(), probeError(), callError(),
        timer(7), timedOut(), timedOut(), timedOut()}) {
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
  CHECK(render(health.start(4'321)) == "next(4321)");
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
    TrunkHealth health = run(ProbeConfig{}, kDown3);
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
    CHECK(render(health.reconfigure(config, 99, 100)) == "up->down");
    CHECK(health.status().changed_at_ms == 99);
  }
  SECTION("a lower up threshold applies at once") {
    TrunkHealth health = run(ProbeConfig{}, kDown1Answer);
    ProbeConfig config;
    config.up_after = 1;
    CHECK(render(health.reconfigure(config, 99, 100)) == "down->up");
  }
  SECTION("a new interval re-arms the next probe") {
    TrunkHealth health = run(ProbeConfig{}, kDown3);
    ProbeConfig config;
    config.interval_ms = 5'000;
    config.timeout_ms = 1'000;
    CHECK(render(health.reconfigure(config, 99, 777)) == "next(777)");
    CHECK(health.state() == kDown);
    CHECK(render(health.handle(timer(0))) == "send next(4000)");
  }
  SECTION("probing disabled: up, the outstanding probe dropped") {
    TrunkHealth health = run(ProbeConfig{}, kDown3 + kWaiting);
    ProbeConfig config;
    config.interval_ms = 0;
    const HealthActions actions = health.reconfigure(config, 99, 100);
    CHECK(render(actions) == "cancel down->up");
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
    CHECK(render(actions) == "up->unknown next(2500)");
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

// SPEC §4: a trunk's own probe settings (routing tables) over the gateway-wide sip.probe.
TEST_CASE("resolveProbeConfig: the trunk's own settings over the gateway-wide ones", "[health]") {
  using sb::core::ProbeOverrides;
  using sb::core::resolveProbeConfig;
  ProbeConfig defaults;  // SPEC §4: 15 s ± 20 %, 3 s, 3 misses, 2 answers, any answer
  defaults.accepted_codes = {200};

  SECTION("no overrides: the defaults, unchanged") {
    std::string adjusted = "untouched";
    CHECK(resolveProbeConfig(defaults, ProbeOverrides{}, &adjusted) == defaults);
    CHECK(adjusted == "untouched");
  }
  SECTION("every field given replaces its default, the others stay") {
    ProbeOverrides trunk;
    trunk.interval_ms = 5'000;
    trunk.timeout_ms = 1'000;
    trunk.down_after = 5;
    const ProbeConfig c = resolveProbeConfig(defaults, trunk);
    CHECK(c.interval_ms == 5'000);
    CHECK(c.timeout_ms == 1'000);
    CHECK(c.down_after == 5);
    CHECK(c.jitter_percent == 20);
    CHECK(c.up_after == 2);
    CHECK(c.accepted_codes == std::vector<int>{200});
    trunk.jitter_percent = 0;
    trunk.up_after = 4;
    trunk.accepted_codes = std::vector<int>{200, 404, 405};
    const ProbeConfig d = resolveProbeConfig(defaults, trunk);
    CHECK(d.jitter_percent == 0);
    CHECK(d.up_after == 4);
    CHECK(d.accepted_codes == std::vector<int>{200, 404, 405});
    CHECK_FALSE(sb::core::probeConfigError(d));
  }
  SECTION("an empty accepted_codes list means any answer, whatever the gateway lists") {
    ProbeOverrides trunk;
    trunk.accepted_codes = std::vector<int>{};
    const ProbeConfig c = resolveProbeConfig(defaults, trunk);
    CHECK(c.accepted_codes.empty());
    CHECK(sb::core::classifyProbeReply(c, 404, false) == ProbeVerdict::Alive);
    CHECK(sb::core::classifyProbeReply(defaults, 404, false) == ProbeVerdict::Miss);
  }
  SECTION("enabled: false is never probed, whatever else it gives") {
    ProbeOverrides trunk;
    trunk.enabled = false;
    trunk.interval_ms = 5'000;
    const ProbeConfig c = resolveProbeConfig(defaults, trunk);
    CHECK_FALSE(c.enabled());
    TrunkHealth health(c, 7);
    CHECK(health.state() == kUp);
    CHECK(health.start(100).empty());
  }
  SECTION("enabled: true probes a trunk when probing is off gateway-wide") {
    ProbeConfig off = defaults;
    off.interval_ms = 0;
    ProbeOverrides trunk;
    CHECK_FALSE(resolveProbeConfig(off, trunk).enabled());
    trunk.enabled = true;
    CHECK(resolveProbeConfig(off, trunk).interval_ms == 15'000);  // SPEC §4's
    trunk.interval_ms = 2'000;
    const ProbeConfig c = resolveProbeConfig(off, trunk);
    CHECK(c.interval_ms == 2'000);
    CHECK(c.timeout_ms < 1'600);  // fitted under 2000 ms - 20 %
    // Its own interval alone switches it on too.
    ProbeOverrides interval_only;
    interval_only.interval_ms = 30'000;
    CHECK(resolveProbeConfig(off, interval_only).interval_ms == 30'000);
  }
  SECTION("a short interval of the trunk fits the gateway's timeout under it, and says so") {
    ProbeOverrides trunk;
    trunk.interval_ms = 2'000;  // shortest 1600 ms with the gateway's 20 % jitter
    std::string adjusted;
    const ProbeConfig c = resolveProbeConfig(defaults, trunk, &adjusted);
    CHECK(c.timeout_ms == 1'599);
    CHECK(adjusted ==
          "probe timeout 3000 ms lowered to 1599 ms to fit under the shortest interval 1600 ms");
    CHECK_FALSE(sb::core::probeConfigError(c));
    // With its own timeout that fits, nothing is adjusted.
    trunk.timeout_ms = 500;
    adjusted.clear();
    CHECK(resolveProbeConfig(defaults, trunk, &adjusted).timeout_ms == 500);
    CHECK(adjusted.empty());
  }
  SECTION("every result within the table limits is a valid config") {
    for (const std::uint32_t interval : {100u, 250u, 1'000u, 15'000u, 3'600'000u}) {
      for (const std::uint32_t jitter : {0u, 20u, 50u}) {
        for (const std::uint32_t timeout : {10u, 99u, 3'000u, 60'000u}) {
          ProbeOverrides trunk;
          trunk.interval_ms = interval;
          trunk.jitter_percent = jitter;
          trunk.timeout_ms = timeout;
          const ProbeConfig c = resolveProbeConfig(defaults, trunk);
          INFO(interval << " ms ± " << jitter << " %, timeout " << timeout);
          CHECK_FALSE(sb::core::probeConfigError(c));
        }
      }
    }
  }
}

TEST_CASE("a trunk whose own settings change on reload keeps its health", "[health]") {
  ProbeConfig defaults;
  TrunkHealth health(defaults, 1);
  health.handle(sent());
  health.handle(answered(200));
  REQUIRE(health.state() == kUp);
  sb::core::ProbeOverrides trunk;
  trunk.down_after = 1;
  const ProbeConfig tighter = sb::core::resolveProbeConfig(defaults, trunk);
  CHECK(health.reconfigure(tighter, 5, 10).empty());  // same interval: nothing re-armed
  CHECK(health.state() == kUp);
  health.handle(sent());
  const HealthActions actions = health.handle(timedOut());
  CHECK(health.state() == kDown);  // one miss is enough now
  CHECK(std::any_of(actions.begin(), actions.end(), [](const HealthAction& a) {
    return a.kind == HealthActionKind::StateChanged && a.to == kDown &&
           a.reason == "1 consecutive misses, last: no answer within 3000 ms";
  }));
}
