// The records: section of gateway.yaml: defaults, every key, strictness with file:line.
#include <catch2/catch.hpp>

#include "config/config.hpp"

using sb::config::loadConfigText;

namespace {
const char* kListen = "sip:\n  listen: [\"udp:127.0.0.1:5060\"]\n";
}

TEST_CASE("records: defaults") {
  auto r = loadConfigText(kListen, "gw.yaml");
  REQUIRE(r.config);
  const auto& rc = r.config->records;
  CHECK(rc.stream);
  CHECK(rc.stream_maxlen == 1000000);
  CHECK(rc.queue_max == 100000);
  CHECK(rc.batch == 256);
  CHECK(rc.file.empty());
  CHECK(rc.spill_file.empty());
  CHECK(rc.file_max_bytes == 100u << 20);
  CHECK(rc.file_keep == 5);
  CHECK(rc.flush_timeout_ms == 2000);
}

TEST_CASE("records: every key is read") {
  auto r = loadConfigText(std::string(kListen) +
                              "records:\n"
                              "  stream: false\n"
                              "  stream_maxlen: 5000\n"
                              "  queue_max: 10\n"
                              "  batch: 32\n"
                              "  file: /var/log/sb/records.jsonl\n"
                              "  spill_file: /var/lib/sb/spill.jsonl\n"
                              "  file_max_bytes: 65536\n"
                              "  file_keep: 0\n"
                              "  flush_timeout_ms: 500\n",
                          "gw.yaml");
  REQUIRE(r.errors.empty());
  const auto& rc = r.config->records;
  CHECK_FALSE(rc.stream);
  CHECK(rc.stream_maxlen == 5000);
  CHECK(rc.queue_max == 10);
  CHECK(rc.batch == 32);
  CHECK(rc.file == "/var/log/sb/records.jsonl");
  CHECK(rc.spill_file == "/var/lib/sb/spill.jsonl");
  CHECK(rc.file_max_bytes == 65536);
  CHECK(rc.file_keep == 0);
  CHECK(rc.flush_timeout_ms == 500);
}

TEST_CASE("records: unknown keys and bad values name file and line") {
  auto r = loadConfigText(std::string(kListen) +
                              "records:\n"
                              "  queue: 5\n"
                              "  queue_max: 0\n"
                              "  stream: yes\n"
                              "  file_max_bytes: 10\n",
                          "gw.yaml");
  CHECK_FALSE(r.config);
  REQUIRE(r.errors.size() == 4);
  CHECK(r.errors[0] == "gw.yaml:4: unknown key 'queue' in records");
  CHECK(r.errors[1].rfind("gw.yaml:5: records.queue_max must be an integer in [1, ", 0) == 0);
  CHECK(r.errors[2] == "gw.yaml:6: records.stream must be true or false");
  CHECK(r.errors[3].rfind("gw.yaml:7: records.file_max_bytes must be an integer", 0) == 0);
}

TEST_CASE("records: no stream and no file is refused") {
  auto r = loadConfigText(std::string(kListen) + "records:\n  stream: false\n", "gw.yaml");
  CHECK_FALSE(r.config);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] ==
        "gw.yaml:4: records.stream: false needs records.file (else every record is lost)");
}
