// Live admission: admin states, capacity with acquire/release that cannot drift, calls per
// second, the cluster-wide "calls elsewhere", reloads, and the DecideInput::trunk_state
// vector with its order of precedence. SPEC §4; issue 5 items 2-3.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "core/admission.hpp"

using sb::core::AdminState;
using sb::core::Admission;
using sb::core::AdmitResult;
using sb::core::CallId;
using sb::core::HealthState;
using sb::core::SkipReason;
using sb::core::Trunk;

namespace {

Trunk trunk(std::string name, std::uint32_t capacity = 0, std::uint32_t cps = 0) {
  Trunk t;
  t.name = std::move(name);
  t.capacity = capacity;
  t.cps = cps;
  return t;
}

// Three trunks: 0 js-suzhou (capacity 5), 1 js-nanjing (unlimited, 2 calls/s),
// 2 js-province (capacity 2, 10 calls/s).
std::vector<Trunk> sampleTrunks() {
  return {trunk("js-suzhou", 5), trunk("js-nanjing", 0, 2), trunk("js-province", 2, 10)};
}

Admission sampleAdmission(std::int64_t now_ms = 0) {
  Admission admission;
  const std::vector<Trunk> trunks = sampleTrunks();
  admission.applyTrunks(trunks, now_ms);
  return admission;
}

}  // namespace

TEST_CASE("capacity 5: five calls, the sixth refused, release, one more", "[admission]") {
  Admission a = sampleAdmission();
  for (CallId call = 1; call <= 5; ++call) {
    CAPTURE(call);
    CHECK(a.acquire(0, call, 0) == AdmitResult::Admitted);
  }
  CHECK(a.activeCalls(0) == 5);
  CHECK(a.check(0, 0) == AdmitResult::Full);
  CHECK(a.acquire(0, 6, 0) == AdmitResult::Full);
  CHECK(a.activeCalls(0) == 5);
  CHECK(a.release(3));
  CHECK(a.activeCalls(0) == 4);
  CHECK(a.acquire(0, 6, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 7, 0) == AdmitResult::Full);
  CHECK(a.trunk(0)->admitted == 6);
  CHECK(a.trunk(0)->refused_full == 2);
  for (CallId call : {1, 2, 4, 5, 6}) CHECK(a.release(call));
  CHECK(a.activeCalls(0) == 0);  // the gauge is back to 0
  CHECK(a.activeCallsTotal() == 0);
}

TEST_CASE("release never drifts: twice or unknown is a counted no-op", "[admission]") {
  Admission a = sampleAdmission();
  CHECK(a.acquire(0, 10, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 10, 0) == AdmitResult::AlreadyHeld);  // one trunk per call leg
  CHECK(a.acquire(1, 10, 0) == AdmitResult::AlreadyHeld);
  CHECK(a.activeCalls(0) == 1);
  CHECK(a.release(10));
  CHECK_FALSE(a.release(10));  // BYE and a timeout both ending the call
  CHECK_FALSE(a.release(999));
  CHECK(a.activeCalls(0) == 0);
  CHECK(a.unknownReleases() == 2);
  // Failover: release the first trunk, then take the next.
  CHECK(a.acquire(0, 11, 0) == AdmitResult::Admitted);
  CHECK(a.release(11));
  CHECK(a.acquire(2, 11, 0) == AdmitResult::Admitted);
  CHECK(a.trunkOf(11) == 2u);
  CHECK(a.activeCalls(0) == 0);
  CHECK(a.activeCalls(2) == 1);
  CHECK(a.acquire(7, 12, 0) == AdmitResult::UnknownTrunk);
  CHECK(a.check(7, 0) == AdmitResult::UnknownTrunk);
  CHECK_FALSE(a.trunkOf(12));
}

TEST_CASE("calls per second through the token bucket", "[admission]") {
  Admission a = sampleAdmission(1'000);
  // js-nanjing: 2 calls/s, burst 2, unlimited capacity.
  CHECK(a.acquire(1, 1, 1'000) == AdmitResult::Admitted);
  CHECK(a.acquire(1, 2, 1'000) == AdmitResult::Admitted);
  CHECK(a.check(1, 1'000) == AdmitResult::RateLimited);
  CHECK(a.acquire(1, 3, 1'000) == AdmitResult::RateLimited);
  CHECK(a.acquire(1, 3, 1'499) == AdmitResult::RateLimited);
  CHECK(a.acquire(1, 3, 1'500) == AdmitResult::Admitted);  // one token per 500 ms
  CHECK(a.acquire(1, 4, 1'500) == AdmitResult::RateLimited);
  CHECK(a.trunk(1)->refused_rate == 3);
  // check() looks without spending: many checks, still one call admitted.
  for (int i = 0; i < 10; ++i) CHECK(a.check(1, 2'000) == AdmitResult::Admitted);
  CHECK(a.acquire(1, 4, 2'000) == AdmitResult::Admitted);
  CHECK(a.acquire(1, 5, 2'000) == AdmitResult::RateLimited);
  // The rate limits new calls only: ending calls does not give tokens back.
  CHECK(a.release(1));
  CHECK(a.acquire(1, 5, 2'000) == AdmitResult::RateLimited);
  CHECK(a.activeCalls(1) == 3);
}

TEST_CASE("calls per second are shared by the live instances (cluster-wide cps)", "[admission]") {
  // js-province: 10 calls/s across the cluster. Two instances: 5 a second each, so the two
  // together never exceed 10; back to one instance: 10 again.
  Admission a = sampleAdmission(0);
  CHECK(a.instances() == 1);
  a.setInstances(2, 1'000);
  CHECK(a.instances() == 2);
  int admitted = 0;
  for (CallId call = 1; call <= 20; ++call) {
    if (a.acquire(2, call, 1'000) == AdmitResult::Admitted) {
      ++admitted;
      CHECK(a.release(call));  // capacity 2 must not be what limits here
    }
  }
  CHECK(admitted == 5);
  CHECK(a.acquire(2, 100, 1'199) == AdmitResult::RateLimited);
  CHECK(a.acquire(2, 100, 1'200) == AdmitResult::Admitted);  // one token per 200 ms
  CHECK(a.release(100));
  // A rate below one call per instance still lets one call through at once, then
  // cps / instances a second: js-nanjing's 2 calls/s over 4 instances is one per 2 s.
  a.setInstances(4, 5'000);
  CHECK(a.acquire(1, 200, 5'000) == AdmitResult::Admitted);
  CHECK(a.acquire(1, 201, 6'999) == AdmitResult::RateLimited);
  CHECK(a.acquire(1, 201, 7'000) == AdmitResult::Admitted);
  // Zero instances (no heartbeat seen) counts as this one alone.
  a.setInstances(0, 10'000);
  CHECK(a.instances() == 1);
  int alone = 0;
  for (CallId call = 300; call < 320; ++call) {
    if (a.acquire(2, call, 10'000) == AdmitResult::Admitted) {
      ++alone;
      CHECK(a.release(call));
    }
  }
  CHECK(alone == 10);
  // A reload keeps the shared rate.
  a.setInstances(2, 20'000);
  const std::vector<Trunk> trunks = sampleTrunks();
  a.applyTrunks(trunks, 20'000);
  int after_reload = 0;
  for (CallId call = 400; call < 420; ++call) {
    if (a.acquire(2, call, 20'000) == AdmitResult::Admitted) {
      ++after_reload;
      CHECK(a.release(call));
    }
  }
  CHECK(after_reload == 5);
}

TEST_CASE("capacity and rate together: capacity is checked first, no token spent on a full trunk",
          "[admission]") {
  Admission a = sampleAdmission();
  // js-province: capacity 2, 10 calls/s.
  CHECK(a.acquire(2, 1, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(2, 2, 0) == AdmitResult::Admitted);
  for (CallId call = 3; call < 20; ++call) CHECK(a.acquire(2, call, 0) == AdmitResult::Full);
  CHECK(a.release(1));
  // 8 tokens left of the burst of 10.
  CHECK(a.acquire(2, 3, 0) == AdmitResult::Admitted);
  CHECK(a.trunk(2)->refused_rate == 0);
}

TEST_CASE("draining and disabled take no new calls; calls in progress finish", "[admission]") {
  Admission a = sampleAdmission();
  CHECK(a.acquire(0, 1, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 2, 0) == AdmitResult::Admitted);
  CHECK(a.setAdminState("js-suzhou", AdminState::Draining));
  CHECK(a.adminState("js-suzhou") == AdminState::Draining);
  CHECK(a.check(0, 0) == AdmitResult::Draining);
  CHECK(a.acquire(0, 3, 0) == AdmitResult::Draining);
  CHECK(a.activeCalls(0) == 2);  // in progress, untouched
  CHECK(a.release(1));           // BYE
  CHECK(a.release(2));
  CHECK(a.activeCalls(0) == 0);  // drained
  CHECK(a.trunk(0)->refused_draining == 1);

  CHECK(a.setAdminState("js-suzhou", AdminState::Disabled));
  CHECK(a.acquire(0, 4, 0) == AdmitResult::Disabled);
  CHECK(a.trunk(0)->refused_disabled == 1);
  CHECK(a.setAdminState("js-suzhou", AdminState::Enabled));
  CHECK(a.acquire(0, 4, 0) == AdmitResult::Admitted);
}

TEST_CASE("calls elsewhere count against the capacity (cluster-wide view)", "[admission]") {
  Admission a = sampleAdmission();
  CHECK(a.setCallsElsewhere("js-suzhou", 3));
  CHECK(a.acquire(0, 1, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 2, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 3, 0) == AdmitResult::Full);  // 2 here + 3 elsewhere = 5
  CHECK(a.setCallsElsewhere("js-suzhou", 7));      // over the capacity (stale leases)
  CHECK(a.check(0, 0) == AdmitResult::Full);
  CHECK(a.release(1));
  CHECK(a.check(0, 0) == AdmitResult::Full);
  CHECK(a.setCallsElsewhere("js-suzhou", 0));  // the other instance crashed, leases expired
  CHECK(a.acquire(0, 3, 0) == AdmitResult::Admitted);
  CHECK(a.trunk("js-suzhou")->elsewhere == 0);
  // Unlimited capacity ignores it.
  CHECK(a.setCallsElsewhere("js-nanjing", 1'000));
  CHECK(a.check(1, 0) == AdmitResult::Admitted);
  CHECK_FALSE(a.setCallsElsewhere("no-such-trunk", 1));
  CHECK(a.trunk("no-such-trunk") == nullptr);

  CHECK_FALSE(sb::core::capacityFull(0, 100, 100));
  CHECK_FALSE(sb::core::capacityFull(5, 2, 2));
  CHECK(sb::core::capacityFull(5, 2, 3));
  CHECK(sb::core::capacityFull(5, 0, 5));
  CHECK(sb::core::capacityFull(1, UINT32_MAX, UINT32_MAX));  // no wrap
}

TEST_CASE("liveSkipReason: Disabled > Draining > Down > Full", "[admission]") {
  using sb::core::liveSkipReason;
  constexpr auto kEn = AdminState::Enabled;
  constexpr auto kDr = AdminState::Draining;
  constexpr auto kDi = AdminState::Disabled;
  constexpr auto kUnknown = HealthState::Unknown;
  constexpr auto kUp = HealthState::Up;
  constexpr auto kDown = HealthState::Down;
  struct Case {
    AdminState admin;
    HealthState health;
    bool full;
    SkipReason skip;
  };
  const Case cases[] = {
      {kEn, kUp, false, SkipReason::None},         {kEn, kUnknown, false, SkipReason::None},
      {kEn, kUp, true, SkipReason::Full},          {kEn, kUnknown, true, SkipReason::Full},
      {kEn, kDown, false, SkipReason::Down},       {kEn, kDown, true, SkipReason::Down},
      {kDr, kUp, false, SkipReason::Draining},     {kDr, kDown, true, SkipReason::Draining},
      {kDr, kUnknown, true, SkipReason::Draining}, {kDi, kUp, false, SkipReason::Disabled},
      {kDi, kDown, true, SkipReason::Disabled},    {kDi, kUnknown, false, SkipReason::Disabled},
  };
  for (const Case& c : cases) {
    CAPTURE(adminStateName(c.admin), healthStateName(c.health), c.full);
    CHECK(liveSkipReason(c.admin, c.health, c.full) == c.skip);
  }
}

TEST_CASE("fillTrunkState fills DecideInput::trunk_state by TrunkIndex", "[admission]") {
  Admission a = sampleAdmission();
  std::vector<SkipReason> out;
  const std::vector<HealthState> all_up(3, HealthState::Up);
  a.fillTrunkState(all_up, 0, out);
  CHECK(out == std::vector<SkipReason>(3, SkipReason::None));

  // js-suzhou down, js-nanjing draining, js-province full.
  const std::vector<HealthState> health = {HealthState::Down, HealthState::Up,
                                           HealthState::Unknown};
  a.setAdminState("js-nanjing", AdminState::Draining);
  CHECK(a.acquire(2, 1, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(2, 2, 0) == AdmitResult::Admitted);
  a.fillTrunkState(health, 0, out);
  CHECK(out == std::vector<SkipReason>{SkipReason::Down, SkipReason::Draining, SkipReason::Full});
  for (sb::core::TrunkIndex i = 0; i < 3; ++i) CHECK(a.skipReason(i, health[i], 0) == out[i]);

  // The operator's state outranks health and capacity.
  a.setAdminState("js-suzhou", AdminState::Disabled);
  a.setAdminState("js-province", AdminState::Draining);
  a.fillTrunkState(health, 0, out);
  CHECK(out ==
        std::vector<SkipReason>{SkipReason::Disabled, SkipReason::Draining, SkipReason::Draining});

  // A short (or empty) health span: the missing trunks are Unknown, routed as up.
  a.setAdminState("js-suzhou", AdminState::Enabled);
  a.setAdminState("js-nanjing", AdminState::Enabled);
  a.setAdminState("js-province", AdminState::Enabled);
  a.fillTrunkState({}, 0, out);
  CHECK(out == std::vector<SkipReason>{SkipReason::None, SkipReason::None, SkipReason::Full});

  // Out of calls per second shows as Full.
  CHECK(a.acquire(1, 3, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(1, 4, 0) == AdmitResult::Admitted);
  a.fillTrunkState({}, 0, out);
  CHECK(out[1] == SkipReason::Full);
  a.fillTrunkState({}, 500, out);  // a token back
  CHECK(out[1] == SkipReason::None);
  CHECK(a.skipReason(3, HealthState::Down, 0) == SkipReason::None);  // outside the table
}

TEST_CASE("skipReasonOf maps refusals onto DecideInput::trunk_state", "[admission]") {
  using sb::core::skipReasonOf;
  CHECK(skipReasonOf(AdmitResult::Admitted) == SkipReason::None);
  CHECK(skipReasonOf(AdmitResult::Disabled) == SkipReason::Disabled);
  CHECK(skipReasonOf(AdmitResult::Draining) == SkipReason::Draining);
  CHECK(skipReasonOf(AdmitResult::Full) == SkipReason::Full);
  CHECK(skipReasonOf(AdmitResult::RateLimited) == SkipReason::Full);
  CHECK(skipReasonOf(AdmitResult::UnknownTrunk) == SkipReason::None);
  CHECK(skipReasonOf(AdmitResult::AlreadyHeld) == SkipReason::None);
  CHECK(sb::core::admitResultName(AdmitResult::RateLimited) == "rate_limited");
}

TEST_CASE("admin state names", "[admission]") {
  for (const AdminState s : {AdminState::Enabled, AdminState::Draining, AdminState::Disabled}) {
    CHECK(sb::core::parseAdminState(sb::core::adminStateName(s)) == s);
  }
  CHECK(sb::core::adminStateName(AdminState::Draining) == "draining");
  CHECK_FALSE(sb::core::parseAdminState("Draining"));
  CHECK_FALSE(sb::core::parseAdminState(""));
}

TEST_CASE("a table reload carries admission state over by trunk name", "[admission]") {
  Admission a = sampleAdmission(0);
  CHECK(a.acquire(0, 1, 0) == AdmitResult::Admitted);  // js-suzhou
  CHECK(a.acquire(0, 2, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(1, 3, 0) == AdmitResult::Admitted);  // js-nanjing: 1 token of 2 left
  CHECK(a.acquire(2, 4, 0) == AdmitResult::Admitted);  // js-province
  a.setAdminState("js-nanjing", AdminState::Draining);
  a.setAdminState("js-future", AdminState::Disabled);  // not in any table yet
  a.setCallsElsewhere("js-suzhou", 2);

  // New table: js-province gone, js-suzhou's capacity now 3, order changed, js-future added.
  std::vector<Trunk> next = {trunk("js-future"), trunk("js-nanjing", 0, 2), trunk("js-suzhou", 3)};
  a.applyTrunks(next, 100);
  REQUIRE(a.trunkCount() == 3);
  CHECK(a.trunk(0)->name == "js-future");
  CHECK(a.trunk(0)->admin == AdminState::Disabled);  // remembered
  CHECK(a.trunk(1)->admin == AdminState::Draining);
  CHECK(a.trunk(2)->active == 2);
  CHECK(a.trunk(2)->elsewhere == 2);
  CHECK(a.trunk(2)->capacity == 3);
  CHECK(a.check(2, 100) == AdmitResult::Full);  // 2 + 2 >= 3
  CHECK(a.trunkOf(1) == 2u);                    // the call follows its trunk's new index
  CHECK_FALSE(a.trunkOf(4));                    // js-province left the table
  CHECK(a.activeCallsTotal() == 4);

  // js-nanjing's bucket carried over (same cps): a reload is no way round the rate.
  a.setAdminState("js-nanjing", AdminState::Enabled);
  CHECK(a.acquire(1, 5, 100) == AdmitResult::Admitted);
  CHECK(a.acquire(1, 6, 100) == AdmitResult::RateLimited);

  // The gone trunk's call still releases, and only then is the trunk forgotten.
  REQUIRE(a.trunk("js-province") != nullptr);
  CHECK(a.trunk("js-province")->active == 1);
  CHECK_FALSE(a.trunk("js-province")->in_table);
  CHECK(a.release(4));
  CHECK(a.trunk("js-province") == nullptr);
  CHECK(a.unknownReleases() == 0);

  // Back with the same name: a fresh record (capacity 2 again, nothing held).
  std::vector<Trunk> again = sampleTrunks();
  a.applyTrunks(again, 200);
  CHECK(a.trunk(2)->name == "js-province");
  CHECK(a.trunk(2)->active == 0);
  CHECK(a.trunk(0)->name == "js-suzhou");
  CHECK(a.trunk(0)->active == 2);
  CHECK(a.trunk(0)->capacity == 5);
  // js-future left the table but stays Disabled (the operator's word is kept).
  CHECK(a.adminState("js-future") == AdminState::Disabled);
  for (CallId call : {1, 2, 3, 5}) CHECK(a.release(call));
  CHECK(a.activeCallsTotal() == 0);
}

TEST_CASE("a new calls-per-second limit gets a fresh bucket", "[admission]") {
  Admission a;
  std::vector<Trunk> one = {trunk("t", 0, 1)};
  a.applyTrunks(one, 0);
  CHECK(a.acquire(0, 1, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 2, 0) == AdmitResult::RateLimited);
  one[0].cps = 3;
  a.applyTrunks(one, 10);
  CHECK(a.acquire(0, 2, 10) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 3, 10) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 4, 10) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 5, 10) == AdmitResult::RateLimited);
  one[0].cps = 0;  // unlimited
  a.applyTrunks(one, 20);
  for (CallId call = 5; call < 100; ++call) CHECK(a.acquire(0, call, 20) == AdmitResult::Admitted);
}

TEST_CASE("callsHeldSince: the maximum call duration safety net", "[admission]") {
  Admission a = sampleAdmission();
  CHECK(a.acquire(1, 30, 0) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 10, 1'000) == AdmitResult::Admitted);
  CHECK(a.acquire(0, 20, 5'000) == AdmitResult::Admitted);
  CHECK(a.callsHeldSince(0).empty());
  CHECK(a.callsHeldSince(1'001) == std::vector<CallId>{10, 30});
  CHECK(a.callsHeldSince(10'000) == std::vector<CallId>{10, 20, 30});
  for (CallId call : a.callsHeldSince(10'000)) CHECK(a.release(call));
  CHECK(a.activeCallsTotal() == 0);
  CHECK(a.activeCalls(0) == 0);
}

TEST_CASE("unknown names and an empty table", "[admission]") {
  Admission a;
  CHECK(a.trunkCount() == 0);
  CHECK(a.acquire(0, 1, 0) == AdmitResult::UnknownTrunk);
  CHECK_FALSE(a.setAdminState("nobody", AdminState::Enabled));
  CHECK(a.trunk("nobody") == nullptr);  // Enabled is not remembered
  CHECK(a.adminState("nobody") == AdminState::Enabled);
  std::vector<SkipReason> out = {SkipReason::Down};
  a.fillTrunkState({}, 0, out);
  CHECK(out.empty());
  CHECK(a.trunk(0) == nullptr);
  CHECK(a.activeCalls(0) == 0);
}
