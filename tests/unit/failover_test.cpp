// Failover decisions. SPEC §4, RFC 3261 §16.7.
#include <vector>

#include <catch2/catch.hpp>

#include "core/failover.hpp"

using sb::core::AttemptOutcome;
using sb::core::AttemptResult;
using sb::core::chooseExhaustedResponse;
using sb::core::Exhausted;

TEST_CASE("classifyFinal: 2xx answers, 408 and 5xx fail over, the rest is final", "[failover]") {
  struct Case {
    int status;
    AttemptOutcome outcome;
  };
  const Case cases[] = {
      {200, AttemptOutcome::Answered}, {202, AttemptOutcome::Answered},
      {299, AttemptOutcome::Answered}, {300, AttemptOutcome::Final},
      {302, AttemptOutcome::Final},    {380, AttemptOutcome::Final},
      {400, AttemptOutcome::Final},    {403, AttemptOutcome::Final},
      {404, AttemptOutcome::Final},    {407, AttemptOutcome::Final},
      {408, AttemptOutcome::TryNext},  {480, AttemptOutcome::Final},
      {484, AttemptOutcome::Final},    {486, AttemptOutcome::Final},
      {487, AttemptOutcome::Final},    {499, AttemptOutcome::Final},
      {500, AttemptOutcome::TryNext},  {502, AttemptOutcome::TryNext},
      {503, AttemptOutcome::TryNext},  {504, AttemptOutcome::TryNext},
      {513, AttemptOutcome::TryNext},  {599, AttemptOutcome::TryNext},
      {600, AttemptOutcome::Final},    {603, AttemptOutcome::Final},
      {604, AttemptOutcome::Final},    {606, AttemptOutcome::Final},
  };
  for (const Case& c : cases) {
    CAPTURE(c.status);
    CHECK(sb::core::classifyFinal(c.status) == c.outcome);
  }
}

TEST_CASE("chooseExhaustedResponse", "[failover]") {
  struct Case {
    const char* name;
    std::vector<AttemptResult> attempts;
    int status;
    bool use_trunk_response;
    std::size_t index;
    bool retry_after;
  };
  const std::vector<Case> cases = {
      {"no attempt at all", {}, 503, false, 0, true},
      {"failover timer", {{408, true}}, 503, false, 0, true},
      {"transport error", {{503, true}}, 503, false, 0, true},
      {"trunk said 503", {{503, false}}, 503, false, 0, true},
      {"trunk said 408", {{408, false}}, 503, false, 0, true},
      {"all down or full",
       {{408, true}, {503, false}, {408, false}, {503, true}},
       503,
       false,
       0,
       true},
      {"a local 500 is not a trunk's fault report", {{500, true}}, 503, false, 0, true},
      {"one real 5xx", {{500, false}}, 500, true, 0, false},
      {"real 5xx after timeouts", {{408, true}, {502, false}}, 502, true, 1, false},
      {"lowest 5xx wins", {{504, false}, {502, false}, {500, false}}, 500, true, 2, false},
      {"503 never beats another 5xx", {{503, false}, {504, false}}, 504, true, 1, false},
      {"503 never beats another 5xx (after)", {{580, false}, {503, false}}, 580, true, 0, false},
      {"tie keeps the first", {{502, false}, {502, false}}, 502, true, 0, false},
      {"mixed",
       {{408, true}, {502, false}, {500, false}, {503, false}, {503, true}},
       500,
       true,
       2,
       false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const Exhausted result = chooseExhaustedResponse(c.attempts);
    CHECK(result.status == c.status);
    CHECK(result.use_trunk_response == c.use_trunk_response);
    if (c.use_trunk_response) CHECK(result.index == c.index);
    CHECK(result.retry_after == c.retry_after);
  }
}
