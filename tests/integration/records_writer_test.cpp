// RecordWriter against a real redis-server (docs/call-records.md): XADD with MAXLEN,
// pipelined batches, the JSON-lines file and its rotation, Redis stopped mid-run (queue,
// then spill, nothing lost), the stop-time flush and spill, and the counters. Every wait is
// bounded (waitUntil polls).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "helpers.hpp"
#include "records/record_writer.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace std::chrono_literals;
using sb::records::RecordWriter;
using sb::records::WriterConfig;
using sb::test::RedisServer;
using sb::test::waitUntil;

WriterConfig configFor(const RedisServer& redis) {
  WriterConfig c;
  c.redis.host = "127.0.0.1";
  c.redis.port = redis.port();
  c.redis.prefix = "t";
  c.reconnect = 50ms;
  c.flush_timeout = 2000ms;
  return c;
}

std::string record(int n) { return "{\"v\":1,\"call_id\":\"c" + std::to_string(n) + "\"}"; }

std::vector<std::string> lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> streamRecords(const RedisServer& redis, const std::string& key) {
  // XRANGE answers id, [field, value] per entry; the test helper flattens arrays by lines.
  std::vector<std::string> out;
  std::istringstream in(redis.command({"XRANGE", key, "-", "+"}));
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("{")) out.push_back(line);
  }
  return out;
}

std::size_t xlen(const RedisServer& redis, const std::string& key) {
  return std::stoul(redis.command({"XLEN", key}));
}

}  // namespace

TEST_CASE("records reach the stream in order, pipelined, with field rec", "[records]") {
  RedisServer redis;
  WriterConfig c = configFor(redis);
  c.batch = 64;
  RecordWriter writer(c);
  writer.start();
  for (int i = 0; i < 1000; ++i) writer.push(record(i));
  REQUIRE(waitUntil([&] { return writer.stats().redis_written == 1000; }));
  CHECK(xlen(redis, "t:records") == 1000);
  auto recs = streamRecords(redis, "t:records");
  REQUIRE(recs.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(recs[static_cast<std::size_t>(i)] == record(i));
  // The entry's only field is `rec`.
  std::string first = redis.command({"XRANGE", "t:records", "-", "+", "COUNT", "1"});
  CHECK(first.find("\nrec\n") != std::string::npos);
  auto s = writer.stats();
  CHECK(s.queue_depth == 0);
  CHECK(s.spilled == 0);
  CHECK(s.dropped == 0);
  CHECK(s.redis_up);
}

TEST_CASE("the stream is trimmed to about stream_maxlen", "[records]") {
  RedisServer redis;
  WriterConfig c = configFor(redis);
  c.stream_maxlen = 200;
  RecordWriter writer(c);
  writer.start();
  for (int i = 0; i < 3000; ++i) writer.push(record(i));
  REQUIRE(waitUntil([&] { return writer.stats().redis_written == 3000; }));
  std::size_t len = xlen(redis, "t:records");
  CHECK(len >= 200);
  CHECK(len < 600);  // MAXLEN ~ trims whole nodes (100 entries each by default)
  // The newest record survives trimming.
  CHECK(streamRecords(redis, "t:records").back() == record(2999));
}

TEST_CASE("the JSON-lines file rotates by size and keeps file_keep old files", "[records]") {
  sb::test::TempTableDir dir;
  WriterConfig c;
  c.redis_enabled = false;
  c.file = dir.file("records.jsonl");
  c.file_max_bytes = 400;
  c.file_keep = 2;
  RecordWriter writer(c);
  writer.start();
  for (int i = 0; i < 100; ++i) writer.push(record(i));
  REQUIRE(waitUntil([&] { return writer.stats().file_written == 100; }));
  writer.stop();
  namespace fs = std::filesystem;
  REQUIRE(fs::exists(c.file));
  REQUIRE(fs::exists(c.file + ".1"));
  REQUIRE(fs::exists(c.file + ".2"));
  CHECK_FALSE(fs::exists(c.file + ".3"));
  for (const std::string& f : {c.file, c.file + ".1", c.file + ".2"})
    CHECK(fs::file_size(f) <= 400);
  // Oldest first: .2, .1, then the current file hold the newest records without a gap.
  std::vector<std::string> all;
  for (const std::string& f : {c.file + ".2", c.file + ".1", c.file}) {
    for (auto& l : lines(f)) all.push_back(l);
  }
  REQUIRE(!all.empty());
  CHECK(all.back() == record(99));
  int first = 100 - static_cast<int>(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i] == record(first + static_cast<int>(i)));
  CHECK(writer.stats().dropped == 0);
}

TEST_CASE("Redis stopped: records queue up to queue_max, spill beyond, nothing lost", "[records]") {
  RedisServer redis;
  sb::test::TempTableDir dir;
  WriterConfig c = configFor(redis);
  c.queue_max = 50;
  c.spill_file = dir.file("spill.jsonl");
  RecordWriter writer(c);
  writer.start();
  for (int i = 0; i < 10; ++i) writer.push(record(i));
  REQUIRE(waitUntil([&] { return writer.stats().redis_written == 10; }));

  redis.stop();
  for (int i = 10; i < 210; ++i) writer.push(record(i));
  REQUIRE(waitUntil([&] { return writer.stats().spilled == 150; }));
  auto s = writer.stats();
  CHECK(s.queue_depth == 50);
  CHECK(s.dropped == 0);
  CHECK(s.file_written == 150);
  CHECK(waitUntil([&] { return !writer.stats().redis_up; }));

  // Redis back (empty: the test server keeps no data): the queue drains into the stream.
  redis.start();
  REQUIRE(waitUntil([&] { return writer.stats().redis_written == 60; }));
  CHECK(writer.stats().queue_depth == 0);
  std::set<std::string> seen;
  for (auto& r : streamRecords(redis, "t:records")) seen.insert(r);
  for (auto& l : lines(c.spill_file)) seen.insert(l);
  // Every record pushed during the outage is in exactly one place.
  CHECK(seen.size() == 200);
  for (int i = 10; i < 210; ++i) CHECK(seen.count(record(i)) == 1);
  writer.stop();
  s = writer.stats();
  CHECK(s.redis_written == 60);
  CHECK(s.spilled == 150);
  CHECK(s.dropped == 0);
}

TEST_CASE("stop with Redis unreachable spills the queue to the file", "[records]") {
  RedisServer redis;
  sb::test::TempTableDir dir;
  WriterConfig c = configFor(redis);
  c.spill_file = dir.file("spill.jsonl");
  c.flush_timeout = 300ms;
  redis.stop();
  RecordWriter writer(c);
  writer.start();
  for (int i = 0; i < 30; ++i) writer.push(record(i));
  REQUIRE(waitUntil([&] { return writer.stats().queue_depth == 30; }));
  writer.stop();
  auto s = writer.stats();
  CHECK(s.spilled == 30);
  CHECK(s.dropped == 0);
  CHECK(s.redis_written == 0);
  CHECK(lines(c.spill_file).size() == 30);
  // After stop nothing is accepted, and that is counted.
  writer.push(record(99));
  CHECK(writer.stats().dropped == 1);
}

TEST_CASE("stop with Redis up flushes the queue to the stream", "[records]") {
  RedisServer redis;
  WriterConfig c = configFor(redis);
  RecordWriter writer(c);
  writer.start();
  for (int i = 0; i < 500; ++i) writer.push(record(i));
  writer.stop();
  CHECK(writer.stats().redis_written == 500);
  CHECK(xlen(redis, "t:records") == 500);
}

TEST_CASE("queue full and no file: records are dropped and counted", "[records]") {
  RedisServer redis;
  WriterConfig c = configFor(redis);
  c.queue_max = 5;
  c.flush_timeout = 200ms;
  redis.stop();
  RecordWriter writer(c);
  writer.start();
  for (int i = 0; i < 12; ++i) writer.push(record(i));
  CHECK(writer.stats().dropped == 7);
  writer.stop();
  CHECK(writer.stats().dropped == 12);
}

TEST_CASE("with records.file every record is in the file and the stream", "[records]") {
  RedisServer redis;
  sb::test::TempTableDir dir;
  WriterConfig c = configFor(redis);
  c.file = dir.file("all.jsonl");
  c.queue_max = 20;
  RecordWriter writer(c);
  writer.start();
  for (int i = 0; i < 100; ++i) writer.push(record(i));
  REQUIRE(waitUntil([&] {
    auto s = writer.stats();
    return s.file_written == 100 && s.redis_written + s.spilled == 100;
  }));
  writer.stop();
  CHECK(lines(c.file).size() == 100);
  auto s = writer.stats();
  CHECK(s.dropped == 0);
  CHECK(xlen(redis, "t:records") == s.redis_written);
}

TEST_CASE("a stream key of the wrong type keeps records queued, then spilled", "[records]") {
  RedisServer redis;
  sb::test::TempTableDir dir;
  redis.command({"SET", "t:records", "not a stream"});
  WriterConfig c = configFor(redis);
  c.spill_file = dir.file("spill.jsonl");
  c.flush_timeout = 200ms;
  RecordWriter writer(c);
  writer.start();
  for (int i = 0; i < 10; ++i) writer.push(record(i));
  // Let it try (and fail with WRONGTYPE) a few times before stopping.
  std::this_thread::sleep_for(300ms);
  CHECK(writer.stats().queue_depth == 10);
  writer.stop();
  auto s = writer.stats();
  CHECK(s.redis_written == 0);
  CHECK(s.spilled == 10);
  CHECK(lines(c.spill_file).size() == 10);
}
