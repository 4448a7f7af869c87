// ClusterState against a real redis-server: admin states seen by every instance, calls summed
// across instances, a crashed instance's lease running out, a Redis outage. Every wait is
// bounded (waitUntil) and polls rather than sleeps.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <mutex>
#include <optional>

#include "helpers.hpp"
#include "redis/cluster_state.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace std::chrono_literals;
using sb::core::AdminState;
using sb::redis::ClusterState;
using sb::redis::RedisAddress;
using sb::test::RedisServer;
using sb::test::waitUntil;
using Calls = std::unordered_map<std::string, std::uint32_t>;

constexpr int kInterval = 50;
constexpr int kLease = 1000;

// Everything one ClusterState reported, safe to read from the test thread.
class Recorder {
 public:
  ClusterState::Callbacks callbacks() {
    ClusterState::Callbacks c;
    c.on_update = [this](const ClusterState::Update& update) {
      std::lock_guard lock(mutex_);
      last_ = update;
      ++updates_;
    };
    c.on_redis_state = [this](bool up) {
      std::lock_guard lock(mutex_);
      states_.push_back(up);
    };
    return c;
  }

  std::optional<ClusterState::Update> last() const {
    std::lock_guard lock(mutex_);
    return last_;
  }
  std::size_t updates() const {
    std::lock_guard lock(mutex_);
    return updates_;
  }
  std::vector<bool> states() const {
    std::lock_guard lock(mutex_);
    return states_;
  }
  bool up() const {
    const std::vector<bool> s = states();
    return !s.empty() && s.back();
  }

  // Waits until the last update satisfies `pred`.
  bool waitFor(const std::function<bool(const ClusterState::Update&)>& pred,
               std::chrono::milliseconds timeout = 5s) const {
    return waitUntil(
        [&] {
          const auto update = last();
          return update && pred(*update);
        },
        timeout);
  }

 private:
  mutable std::mutex mutex_;
  std::optional<ClusterState::Update> last_;
  std::size_t updates_ = 0;
  std::vector<bool> states_;
};

RedisAddress addressOf(const RedisServer& server) {
  return sb::redis::parseRedisAddress(server.address());
}

std::optional<AdminState> adminOf(const ClusterState::Update& u, const std::string& trunk) {
  const auto it = u.admin.find(trunk);
  if (it == u.admin.end()) return std::nullopt;
  return it->second;
}

std::uint32_t elsewhereOf(const ClusterState::Update& u, const std::string& trunk) {
  const auto it = u.calls_elsewhere.find(trunk);
  return it == u.calls_elsewhere.end() ? 0 : it->second;
}

std::chrono::milliseconds timed(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

}  // namespace

TEST_CASE("instance ids are unique and never contain the field separator", "[cluster]") {
  const std::string a = sb::redis::makeInstanceId();
  const std::string b = sb::redis::makeInstanceId();
  CHECK(a != b);
  CHECK(a.find('|') == std::string::npos);
  CHECK(a.find(std::to_string(getpid())) != std::string::npos);
  CHECK_THROWS_AS(ClusterState({}, "a|b", {}), std::invalid_argument);
  CHECK_THROWS_AS(ClusterState({}, "", {}), std::invalid_argument);
  CHECK_THROWS_AS(ClusterState({}, "x", {}, 100, 200), std::invalid_argument);
}

TEST_CASE("an admin state set by one client is seen by every instance", "[cluster]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  Recorder ra;
  Recorder rb;
  ClusterState a(addr, "gw-a", ra.callbacks(), kInterval, kLease);
  ClusterState b(addr, "gw-b", rb.callbacks(), kInterval, kLease);
  a.start();
  b.start();

  // First contact: an update with nothing set, both instances live.
  REQUIRE(ra.waitFor([](const auto& u) { return u.admin.empty() && u.live_instances == 2; }));
  REQUIRE(rb.waitFor([](const auto& u) { return u.admin.empty() && u.live_instances == 2; }));
  CHECK(ra.states() == std::vector<bool>{true});

  std::string error;
  REQUIRE(ClusterState::setAdminState(addr, "js-suzhou", AdminState::Draining, error));
  REQUIRE(ClusterState::setAdminState(addr, "zj-hangzhou", AdminState::Disabled, error));
  CHECK(server.command({"HGET", "sb:trunks:admin", "js-suzhou"}) == "draining");
  const auto both = [](const ClusterState::Update& u) {
    return adminOf(u, "js-suzhou") == AdminState::Draining &&
           adminOf(u, "zj-hangzhou") == AdminState::Disabled;
  };
  // Within a few intervals (generous for a loaded CI machine).
  CHECK(ra.waitFor(both, 2s));
  CHECK(rb.waitFor(both, 2s));

  const auto read = ClusterState::readAdminStates(addr, error);
  REQUIRE(read);
  CHECK(read->size() == 2);
  CHECK(read->at("zj-hangzhou") == AdminState::Disabled);

  // Enabled removes the field (absent = enabled); a hand-written typo reads as enabled.
  REQUIRE(ClusterState::setAdminState(addr, "js-suzhou", AdminState::Enabled, error));
  CHECK(server.command({"HEXISTS", "sb:trunks:admin", "js-suzhou"}) == "0");
  server.command({"HSET", "sb:trunks:admin", "sd-jinan", "drained"});
  const auto enabled_again = [](const ClusterState::Update& u) {
    return !adminOf(u, "js-suzhou") && adminOf(u, "zj-hangzhou") == AdminState::Disabled &&
           u.admin.size() == 1;
  };
  CHECK(ra.waitFor(enabled_again, 2s));
  CHECK(rb.waitFor(enabled_again, 2s));
  const auto reread = ClusterState::readAdminStates(addr, error);
  REQUIRE(reread);
  CHECK(reread->size() == 1);

  // Nothing changes: no more updates (delivered only on change).
  const std::size_t count = ra.updates();
  std::this_thread::sleep_for(std::chrono::milliseconds(5 * kInterval));
  CHECK(ra.updates() == count);
}

TEST_CASE("admin states survive in Redis with no instance running, under a custom prefix",
          "[cluster]") {
  RedisServer server;
  RedisAddress addr = addressOf(server);
  addr.prefix = "gw*1";  // glob characters in the prefix are literal in the SCAN pattern
  std::string error;
  REQUIRE(ClusterState::setAdminState(addr, "js-suzhou", AdminState::Disabled, error));
  CHECK(server.command({"HGET", "gw*1:trunks:admin", "js-suzhou"}) == "disabled");
  server.command({"SET", "gw-1:instances:impostor", "1"});  // matches an unescaped pattern

  Recorder r;
  ClusterState a(addr, "gw-a", r.callbacks(), kInterval, kLease);
  a.start();
  REQUIRE(r.waitFor([](const auto& u) {
    return adminOf(u, "js-suzhou") == AdminState::Disabled && u.live_instances == 1;
  }));
  a.stop();
  // A graceful stop removes the heartbeat at once.
  CHECK(server.command({"EXISTS", "gw*1:instances:gw-a"}) == "0");
}

TEST_CASE("two instances see each other's calls as calls elsewhere", "[cluster]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  Recorder ra;
  Recorder rb;
  ClusterState a(addr, "gw-a", ra.callbacks(), kInterval, kLease);
  ClusterState b(addr, "gw-b", rb.callbacks(), kInterval, kLease);
  a.setLocalCalls({{"js-suzhou", 3}, {"zj-hangzhou", 1}, {"sd-jinan", 0}});
  b.setLocalCalls({{"js-suzhou", 2}});
  a.start();
  b.start();

  CHECK(ra.waitFor([](const auto& u) {
    return u.live_instances == 2 && u.calls_elsewhere == Calls{{"js-suzhou", 2}};
  }));
  CHECK(rb.waitFor([](const auto& u) {
    return u.live_instances == 2 &&
           u.calls_elsewhere == Calls{{"js-suzhou", 3}, {"zj-hangzhou", 1}};
  }));
  // Zero counts are not stored.
  CHECK(server.command({"HEXISTS", "sb:trunks:inuse", "sd-jinan|gw-a"}) == "0");
  CHECK(server.command({"HGET", "sb:trunks:inuse", "js-suzhou|gw-a"}) == "3");

  // A third instance: elsewhere is the sum of the other two.
  Recorder rc;
  ClusterState c(addr, "gw-c", rc.callbacks(), kInterval, kLease);
  c.setLocalCalls({{"js-suzhou", 4}});
  c.start();
  CHECK(rc.waitFor([](const auto& u) {
    return u.live_instances == 3 && elsewhereOf(u, "js-suzhou") == 5 &&
           elsewhereOf(u, "zj-hangzhou") == 1;
  }));
  CHECK(ra.waitFor([](const auto& u) { return elsewhereOf(u, "js-suzhou") == 6; }));

  // Latest wins; a trunk that drops to zero (or out of the map) loses its field.
  a.setLocalCalls({{"js-suzhou", 1}});
  CHECK(rb.waitFor([](const auto& u) { return u.calls_elsewhere == Calls{{"js-suzhou", 5}}; }));
  CHECK(waitUntil([&] {
    return server.command({"HEXISTS", "sb:trunks:inuse", "zj-hangzhou|gw-a"}) == "0";
  }));

  // A graceful stop takes the instance out at once: heartbeat and fields deleted.
  c.stop();
  CHECK(server.command({"EXISTS", "sb:instances:gw-c"}) == "0");
  CHECK(server.command({"HEXISTS", "sb:trunks:inuse", "js-suzhou|gw-c"}) == "0");
  CHECK(ra.waitFor([](const auto& u) {
    return u.live_instances == 2 && u.calls_elsewhere == Calls{{"js-suzhou", 2}};
  }));
}

TEST_CASE("a crashed instance stops counting when its lease expires", "[cluster]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  Recorder ra;
  Recorder rb;
  ClusterState a(addr, "gw-a", ra.callbacks(), kInterval, kLease);
  ClusterState b(addr, "gw-b", rb.callbacks(), kInterval, kLease);
  a.setLocalCalls({{"js-suzhou", 5}});
  a.start();
  b.start();
  REQUIRE(rb.waitFor([](const auto& u) { return elsewhereOf(u, "js-suzhou") == 5; }));

  // kill -9: the thread ends, its heartbeat and fields stay in Redis.
  a.abandon();
  const auto crashed = std::chrono::steady_clock::now();
  CHECK(server.command({"EXISTS", "sb:instances:gw-a"}) == "1");
  CHECK(server.command({"HGET", "sb:trunks:inuse", "js-suzhou|gw-a"}) == "5");

  REQUIRE(rb.waitFor(
      [](const auto& u) { return u.calls_elsewhere.empty() && u.live_instances == 1; }, 5s));
  const auto released = std::chrono::steady_clock::now() - crashed;
  // Counted until about the lease (not dropped at once), released soon after it.
  CHECK(released >= std::chrono::milliseconds(kLease / 2));
  CHECK(released <= std::chrono::milliseconds(kLease + 1000));
  // The live instance cleaned up the dead one's field.
  CHECK(waitUntil([&] {
    return server.command({"HEXISTS", "sb:trunks:inuse", "js-suzhou|gw-a"}) == "0";
  }));
}

TEST_CASE("a Redis outage is reported and updates resume after it", "[cluster]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  Recorder ra;
  Recorder rb;
  ClusterState a(addr, "gw-a", ra.callbacks(), kInterval, kLease);
  ClusterState b(addr, "gw-b", rb.callbacks(), kInterval, kLease);
  a.setLocalCalls({{"js-suzhou", 2}});
  a.start();
  b.start();
  REQUIRE(rb.waitFor([](const auto& u) { return elsewhereOf(u, "js-suzhou") == 2; }));
  // b can see a's counts a moment before a's thread reports Redis up.
  REQUIRE(waitUntil([&] { return ra.up(); }));

  server.stop();
  CHECK(waitUntil([&] { return !ra.up(); }));
  CHECK(waitUntil([&] { return !rb.up(); }));
  CHECK(ra.states() == std::vector<bool>{true, false});
  // No updates while down: the adapter keeps the last known state.
  const std::size_t count = rb.updates();
  std::this_thread::sleep_for(300ms);
  CHECK(rb.updates() == count);
  CHECK(elsewhereOf(*rb.last(), "js-suzhou") == 2);
  // stop() stays prompt while Redis is away.
  Recorder rc;
  ClusterState c(addr, "gw-c", rc.callbacks(), kInterval, kLease);
  c.start();
  CHECK(waitUntil([&] { return !rc.states().empty(); }));
  CHECK(rc.states() == std::vector<bool>{false});
  CHECK(timed([&] { c.stop(); }) < 500ms);

  // Redis comes back empty (no persistence): both reconnect, write everything again.
  server.start();
  CHECK(waitUntil([&] { return ra.up() && rb.up(); }));
  CHECK(ra.states() == std::vector<bool>{true, false, true});
  std::string error;
  REQUIRE(ClusterState::setAdminState(addr, "js-suzhou", AdminState::Draining, error));
  a.setLocalCalls({{"js-suzhou", 4}});
  CHECK(rb.waitFor([](const auto& u) {
    return adminOf(u, "js-suzhou") == AdminState::Draining && elsewhereOf(u, "js-suzhou") == 4 &&
           u.live_instances == 2;
  }));
  CHECK(server.command({"HGET", "sb:trunks:inuse", "js-suzhou|gw-a"}) == "4");

  CHECK(timed([&] { a.stop(); }) < 500ms);
  CHECK(timed([&] { b.stop(); }) < 500ms);
}

TEST_CASE("the admin functions report an unreachable Redis", "[cluster]") {
  RedisAddress addr;
  addr.port = sb::test::freePort();
  std::string error;
  CHECK_FALSE(ClusterState::setAdminState(addr, "js-suzhou", AdminState::Disabled, error));
  CHECK_FALSE(error.empty());
  error.clear();
  CHECK_FALSE(ClusterState::readAdminStates(addr, error));
  CHECK_FALSE(error.empty());
  CHECK_FALSE(ClusterState::setAdminState(addr, "", AdminState::Disabled, error));
}
