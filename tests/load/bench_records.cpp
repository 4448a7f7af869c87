// Call-record costs (issue 6; issue 7 sizes the gateway): what the SIP thread pays per call
// (encoding the JSON, pushing it into the writer's queue) and how many records per second
// the writer thread gets into a Redis Stream (pipelined XADD ... MAXLEN ~) on this machine.
// Starts its own redis-server on a free loopback port. Not part of the test command.
//
//   build/tests/load/sb_bench_records [records]      (default 200000)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "records/call_record.hpp"
#include "records/record_writer.hpp"
#include "support/redis_server.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double nsPer(Clock::duration d, std::size_t n) {
  return std::chrono::duration<double, std::nano>(d).count() / static_cast<double>(n);
}

sb::records::CallRecord typicalRecord(std::size_t i) {
  sb::records::CallRecord r;
  r.call_id = "a84b4c76e66710-" + std::to_string(i) + "@192.0.2.4";
  r.source = "10.20.30.40";
  r.origin = "carrier-cmcc";
  r.dialled = "12333320500";
  r.caller = sb::records::maskCaller("13912345678");
  r.region = 320500;
  r.routed = true;
  r.level = sb::core::Level::City;
  r.attempts = {{"js-suzhou", 200, sb::records::AttemptResult::Answered}};
  r.t_invite = 1795485600000;
  r.t_ring = r.t_invite + 800;
  r.t_answer = r.t_invite + 6500;
  r.t_end = r.t_answer + 185000;
  r.code = 200;
  r.result = sb::records::Result::Answered;
  r.end_reason = sb::records::EndReason::CallerBye;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  if (n == 0) return 2;

  // 1. Encoding (the SIP thread, once per call).
  sb::records::CallRecord rec = typicalRecord(1);
  std::size_t bytes = 0;
  auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    rec.t_end += 1;  // keep the loop honest
    bytes += sb::records::encode(rec, "gw-1-12345-abcdef").size();
  }
  auto encode_time = Clock::now() - t0;
  std::printf("encode: %.0f ns/record, %zu bytes/record\n", nsPer(encode_time, n), bytes / n);
  std::printf("per-call state: sizeof(CallRecord) %zu bytes (+ heap for strings over 15 chars)\n",
              sizeof(sb::records::CallRecord));

  // 2. Push (the SIP thread) and 3. the writer's throughput into a real Redis Stream.
  sb::test::RedisServer redis;
  sb::records::WriterConfig cfg;
  cfg.redis.host = "127.0.0.1";
  cfg.redis.port = redis.port();
  cfg.redis.prefix = "bench";
  cfg.queue_max = n;
  cfg.stream_maxlen = 100000;
  sb::records::RecordWriter writer(cfg);
  writer.start();
  std::vector<std::string> lines;
  lines.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    lines.push_back(sb::records::encode(typicalRecord(i), "gw-1"));
  t0 = Clock::now();
  for (auto& line : lines) writer.push(std::move(line));
  auto push_time = Clock::now() - t0;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (writer.stats().redis_written < n && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto drain_time = Clock::now() - t0;
  auto st = writer.stats();
  writer.stop();
  std::printf("push:   %.0f ns/record (SIP thread: mutex + deque, no I/O)\n", nsPer(push_time, n));
  std::printf(
      "writer: %llu records in the stream in %.2f s = %.0f records/s (batch %zu)\n",
      static_cast<unsigned long long>(st.redis_written),
      std::chrono::duration<double>(drain_time).count(),
      static_cast<double>(st.redis_written) / std::chrono::duration<double>(drain_time).count(),
      cfg.batch);
  std::printf("spilled %llu, dropped %llu\n", static_cast<unsigned long long>(st.spilled),
              static_cast<unsigned long long>(st.dropped));
  return st.redis_written == n ? 0 : 1;
}
