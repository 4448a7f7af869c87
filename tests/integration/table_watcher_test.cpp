// TableWatcher against a real redis-server: announcements, polling, outages, bad versions.
// Every wait is bounded (waitUntil, 5 s by default) and polls rather than sleeps.
#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>

#include "core/routing_table.hpp"
#include "helpers.hpp"
#include "redis/table_store.hpp"
#include "support/redis_server.hpp"
#include "tables/yaml_tables.hpp"

namespace {

using namespace std::chrono_literals;
using sb::redis::RedisAddress;
using sb::redis::TableWatcher;
using sb::test::RedisServer;
using sb::test::waitUntil;

sb::core::TableSpec exampleSpec() {
  sb::tables::LoadResult loaded = sb::tables::loadTableDir(sb::test::exampleDir());
  REQUIRE(loaded.errors.empty());
  return loaded.spec;
}

// Everything the watcher reported, in order, safe to read from the test thread.
class Recorder {
 public:
  TableWatcher::Callbacks callbacks() {
    TableWatcher::Callbacks c;
    c.on_table = [this](std::shared_ptr<const sb::core::RoutingTable> table) {
      std::lock_guard lock(mutex_);
      tables_.push_back(std::move(table));
    };
    c.on_table_error = [this](std::uint64_t version, const std::vector<std::string>& errors) {
      std::lock_guard lock(mutex_);
      errors_.emplace_back(version, errors);
    };
    c.on_redis_state = [this](bool up) {
      std::lock_guard lock(mutex_);
      states_.push_back(up);
    };
    return c;
  }

  std::vector<std::uint64_t> versions() const {
    std::lock_guard lock(mutex_);
    std::vector<std::uint64_t> out;
    for (const auto& t : tables_) out.push_back(t->version());
    return out;
  }
  std::shared_ptr<const sb::core::RoutingTable> last() const {
    std::lock_guard lock(mutex_);
    return tables_.empty() ? nullptr : tables_.back();
  }
  std::vector<bool> states() const {
    std::lock_guard lock(mutex_);
    return states_;
  }
  std::vector<std::pair<std::uint64_t, std::vector<std::string>>> errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  std::size_t tableCount() const { return versions().size(); }
  std::size_t errorCount() const { return errors().size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<const sb::core::RoutingTable>> tables_;
  std::vector<std::pair<std::uint64_t, std::vector<std::string>>> errors_;
  std::vector<bool> states_;
};

RedisAddress addressOf(const RedisServer& server) {
  return sb::redis::parseRedisAddress(server.address());
}

std::uint32_t capacityOf(const sb::core::RoutingTable& table, const std::string& trunk) {
  const sb::core::Trunk* t = table.findTrunk(trunk);
  return t == nullptr ? 0 : t->capacity;
}

}  // namespace

TEST_CASE("the watcher loads the current version, then each announced one", "[watcher]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  sb::core::TableSpec spec = exampleSpec();
  REQUIRE(sb::redis::publishTables(addr, spec, "v1").ok);

  Recorder rec;
  // A long poll interval: version 2 can only arrive through the announcement.
  TableWatcher watcher(addr, rec.callbacks(), 60000, 100);
  watcher.start();
  REQUIRE(waitUntil([&] { return rec.tableCount() == 1; }));
  CHECK(rec.versions() == std::vector<std::uint64_t>{1});
  CHECK(rec.states() == std::vector<bool>{true});
  const auto first = rec.last();
  CHECK(first->trunks().size() == 9);
  CHECK(first->lookup(320500).route != nullptr);

  spec.trunks[1].capacity = 55;  // js-suzhou
  REQUIRE(sb::redis::publishTables(addr, spec, "v2").ok);
  REQUIRE(waitUntil([&] { return rec.tableCount() == 2; }));
  CHECK(rec.versions() == std::vector<std::uint64_t>{1, 2});
  CHECK(capacityOf(*rec.last(), "js-suzhou") == 55);
  CHECK(capacityOf(*first, "js-suzhou") == 100);  // the old snapshot is untouched

  // Asking again delivers nothing new: a version is never delivered twice.
  watcher.reloadNow();
  server.command({"PUBLISH", "sb:tables:announce", "2"});
  std::this_thread::sleep_for(300ms);
  CHECK(rec.versions() == std::vector<std::uint64_t>{1, 2});
  CHECK(rec.errorCount() == 0);
}

TEST_CASE("the watcher's periodic check catches a switch nobody announced", "[watcher]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  sb::core::TableSpec spec = exampleSpec();
  REQUIRE(sb::redis::publishTables(addr, spec, "v1").ok);
  REQUIRE(sb::redis::publishTables(addr, spec, "v2").ok);
  server.command({"SET", "sb:tables:current", "1"});

  Recorder rec;
  TableWatcher watcher(addr, rec.callbacks(), 200, 100);
  watcher.start();
  REQUIRE(waitUntil([&] { return rec.tableCount() == 1; }));
  CHECK(rec.versions() == std::vector<std::uint64_t>{1});
  // An operator rolls forward by hand, without PUBLISH: seen at the next poll.
  server.command({"SET", "sb:tables:current", "2"});
  REQUIRE(waitUntil([&] { return rec.tableCount() == 2; }, 2s));
  CHECK(rec.versions() == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("the watcher rides out a Redis outage and picks up what comes after", "[watcher]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  sb::core::TableSpec spec = exampleSpec();
  REQUIRE(sb::redis::publishTables(addr, spec, "v1").ok);

  Recorder rec;
  TableWatcher watcher(addr, rec.callbacks(), 500, 100);
  watcher.start();
  REQUIRE(waitUntil([&] { return rec.tableCount() == 1; }));
  REQUIRE(rec.states() == std::vector<bool>{true});

  server.stop();
  REQUIRE(waitUntil([&] { return rec.states().size() == 2; }));
  CHECK(rec.states() == std::vector<bool>{true, false});
  // Down for a while: no table comes or goes, and "down" is reported once.
  std::this_thread::sleep_for(600ms);
  CHECK(rec.versions() == std::vector<std::uint64_t>{1});
  CHECK(rec.states() == std::vector<bool>{true, false});
  CHECK(rec.errorCount() == 0);

  // Back, but empty (no persistence): the watcher keeps its table until one is published.
  server.start();
  REQUIRE(waitUntil([&] { return rec.states().size() == 3; }));
  CHECK(rec.states() == std::vector<bool>{true, false, true});
  CHECK(rec.versions() == std::vector<std::uint64_t>{1});

  // The counter restarted with Redis's data, so this is version 1 again, but a different
  // publication: it must be taken.
  spec.trunks[0].capacity = 77;
  const auto republished = sb::redis::publishTables(addr, spec, "after");
  REQUIRE(republished.ok);
  REQUIRE(waitUntil([&] { return rec.tableCount() == 2; }));
  CHECK(capacityOf(*rec.last(), "js-province") == 77);
  CHECK(rec.errorCount() == 0);
}

TEST_CASE("the watcher reports Redis down at start and loads once it is up", "[watcher]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  REQUIRE(sb::redis::publishTables(addr, exampleSpec(), "v1").ok);
  server.stop();

  Recorder rec;
  TableWatcher watcher(addr, rec.callbacks(), 500, 100);
  watcher.start();
  REQUIRE(waitUntil([&] { return !rec.states().empty(); }));
  CHECK(rec.states() == std::vector<bool>{false});
  server.start();
  REQUIRE(sb::redis::publishTables(addr, exampleSpec(), "v1 again").ok);
  REQUIRE(waitUntil([&] { return rec.tableCount() == 1; }));
  CHECK(rec.states() == std::vector<bool>{false, true});
}

TEST_CASE("a bad version is reported once and the last good table stays", "[watcher]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  const sb::core::TableSpec spec = exampleSpec();
  REQUIRE(sb::redis::publishTables(addr, spec, "good").ok);

  Recorder rec;
  TableWatcher watcher(addr, rec.callbacks(), 200, 100);
  watcher.start();
  REQUIRE(waitUntil([&] { return rec.tableCount() == 1; }));

  SECTION("data that does not decode") {
    server.command({"HSET", "sb:tables:v50:meta", "publication", "hand-made"});
    server.command({"HSET", "sb:tables:v50:trunks", "js-suzhou", "{broken"});
    server.command({"SET", "sb:tables:current", "50"});
    server.command({"PUBLISH", "sb:tables:announce", "50"});
    REQUIRE(waitUntil([&] { return rec.errorCount() == 1; }));
    const auto errors = rec.errors();
    CHECK(errors[0].first == 50);
    REQUIRE_FALSE(errors[0].second.empty());
    CHECK_THAT(errors[0].second[0], Catch::StartsWith("redis:sb:tables:v50:trunks: "));
  }
  SECTION("data that decodes but does not build") {
    server.command({"HSET", "sb:tables:v51:meta", "publication", "hand-made"});
    server.command(
        {"HSET", "sb:tables:v51:routes", "default", R"([[{"trunk": "nobody", "weight": 1}]])"});
    server.command({"SET", "sb:tables:current", "51"});
    server.command({"PUBLISH", "sb:tables:announce", "51"});
    REQUIRE(waitUntil([&] { return rec.errorCount() == 1; }));
    const auto errors = rec.errors();
    CHECK(errors[0].first == 51);
    bool names_trunk = false;
    for (const std::string& e : errors[0].second) {
      names_trunk = names_trunk || e.find("unknown trunk 'nobody'") != std::string::npos;
    }
    CHECK(names_trunk);
  }
  SECTION("a current of the wrong type") {
    server.command({"DEL", "sb:tables:current"});
    server.command({"HSET", "sb:tables:current", "version", "1"});
    REQUIRE(waitUntil([&] { return rec.errorCount() == 1; }));
    CHECK(rec.errors()[0].second.at(0) ==
          "redis:sb:tables:current: not a string holding a version number");
    server.command({"DEL", "sb:tables:current"});  // so the publisher below can switch it
  }
  SECTION("a current that is not a number") {
    server.command({"SET", "sb:tables:current", "latest"});
    REQUIRE(waitUntil([&] { return rec.errorCount() == 1; }));
    CHECK_THAT(rec.errors()[0].second.at(0), Catch::Contains("not a version number"));
  }

  // Several polls later: reported once, nothing delivered, Redis still "up".
  std::this_thread::sleep_for(500ms);
  CHECK(rec.errorCount() == 1);
  CHECK(rec.versions() == std::vector<std::uint64_t>{1});
  CHECK(rec.states() == std::vector<bool>{true});

  // The next good publication is taken.
  const auto next = sb::redis::publishTables(addr, spec, "fixed");
  REQUIRE(next.ok);
  REQUIRE(waitUntil([&] { return rec.tableCount() == 2; }));
  CHECK(rec.versions().back() == next.version);
}

TEST_CASE("stop() is prompt and the watcher can be stopped before it connects", "[watcher]") {
  RedisServer server;
  Recorder rec;
  {
    TableWatcher watcher(addressOf(server), rec.callbacks(), 60000, 100);
    watcher.start();
    REQUIRE(waitUntil([&] { return !rec.states().empty(); }));
    std::this_thread::sleep_for(50ms);  // let it settle into waiting on the subscriber
    const auto start = std::chrono::steady_clock::now();
    watcher.stop();
    CHECK(std::chrono::steady_clock::now() - start < 300ms);
    watcher.stop();  // idempotent
  }
  {
    RedisAddress nowhere;
    nowhere.port = sb::test::freePort();
    TableWatcher watcher(nowhere, rec.callbacks(), 60000, 10000);
    watcher.start();
    std::this_thread::sleep_for(50ms);  // in its reconnect backoff
    const auto start = std::chrono::steady_clock::now();
    watcher.stop();
    CHECK(std::chrono::steady_clock::now() - start < 300ms);
  }
  {
    TableWatcher never_started(addressOf(server), rec.callbacks());
  }                              // destroying an idle watcher is fine too
  CHECK(rec.tableCount() == 0);  // nothing was published
}
