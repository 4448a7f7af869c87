// gateway.yaml parsing: defaults, strictness (unknown keys are errors with file:line),
// value ranges and listen-address forms.
#include <catch2/catch.hpp>

#include "config/config.hpp"

using sb::config::loadConfigText;
using sb::config::parseListen;
using sb::config::Transport;

TEST_CASE("a minimal gateway.yaml gets every default") {
  auto r = loadConfigText("sip:\n  listen: [\"udp:127.0.0.1:5060\"]\n", "gw.yaml");
  REQUIRE(r.errors.empty());
  REQUIRE(r.config);
  CHECK(r.config->sip.listen.size() == 1);
  CHECK(r.config->sip.failover_timeout_ms == 2000);
  CHECK(r.config->sip.server_name == "Switchboard");
  CHECK(r.config->redis.port == 6379);
  CHECK(r.config->redis.prefix == "sb");
  CHECK(r.config->metrics.port == 0);
}

TEST_CASE("unknown keys and bad values are errors naming file and line") {
  auto r = loadConfigText(
      "sip:\n"
      "  listen: [\"udp:127.0.0.1:5060\"]\n"
      "  failover_timeout: 5\n"
      "  retry_after_s: -1\n"
      "redis:\n"
      "  address: nowhere\n",
      "gw.yaml");
  CHECK_FALSE(r.config);
  REQUIRE(r.errors.size() == 3);
  CHECK(r.errors[0] == "gw.yaml:3: unknown key 'failover_timeout' in sip");
  CHECK(r.errors[1].rfind("gw.yaml:4: sip.retry_after_s must be an integer", 0) == 0);
  CHECK(r.errors[2] == "gw.yaml:6: redis.address must be HOST:PORT");
}

TEST_CASE("a YAML syntax error carries its line") {
  auto r = loadConfigText("sip:\n  listen: [\"udp:127.0.0.1:5060\"\n", "gw.yaml");
  CHECK_FALSE(r.config);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].rfind("gw.yaml:", 0) == 0);
}

TEST_CASE("listen is required") {
  auto r = loadConfigText("log:\n  level: info\n", "gw.yaml");
  CHECK_FALSE(r.config);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].find("sip.listen is required") != std::string::npos);
}

TEST_CASE("listen address forms") {
  struct Row {
    const char* text;
    bool ok;
    Transport transport;
    const char* host;
    int port;
  };
  const Row rows[] = {
      {"udp:127.0.0.1:5060", true, Transport::Udp, "127.0.0.1", 5060},
      {"tcp:127.0.0.1:5070", true, Transport::Tcp, "127.0.0.1", 5070},
      {"udp:[::1]:5060", true, Transport::Udp, "::1", 5060},
      {"sctp:127.0.0.1:5060", false, Transport::Udp, "", 0},
      {"udp:127.0.0.1", false, Transport::Udp, "", 0},
      {"udp:127.0.0.1:99999", false, Transport::Udp, "", 0},
      {"udp::5060", false, Transport::Udp, "", 0},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto l = parseListen(row.text);
    REQUIRE(l.has_value() == row.ok);
    if (row.ok) {
      CHECK(l->transport == row.transport);
      CHECK(l->host == row.host);
      CHECK(l->port == row.port);
    }
  }
}

TEST_CASE("log level must be known") {
  auto r = loadConfigText("sip:\n  listen: [\"udp:127.0.0.1:5060\"]\nlog:\n  level: chatty\n",
                          "gw.yaml");
  CHECK_FALSE(r.config);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].rfind("gw.yaml:4:", 0) == 0);
}

TEST_CASE("sip.workers: private ports must fit and must not be listen ports") {
  auto ok = loadConfigText(
      "sip:\n  listen: [\"udp:127.0.0.1:5060\", \"tcp:127.0.0.1:5060\"]\n"
      "  workers: 4\n  worker_port_offset: 100\n",
      "gw.yaml");
  REQUIRE(ok.errors.empty());
  CHECK(ok.config->sip.workers == 4);
  CHECK(ok.config->sip.worker_port_offset == 100);
  CHECK(ok.config->sip.worker_index == -1);

  auto defaults = loadConfigText("sip:\n  listen: [\"udp:127.0.0.1:5060\"]\n", "gw.yaml");
  REQUIRE(defaults.config);
  CHECK(defaults.config->sip.workers == 1);

  auto per_core =
      loadConfigText("sip:\n  listen: [\"udp:127.0.0.1:5060\"]\n  workers: 0\n", "gw.yaml");
  REQUIRE(per_core.config);
  CHECK(per_core.config->sip.workers >= 1);

  auto clash = loadConfigText(
      "sip:\n  listen: [\"udp:127.0.0.1:5060\", \"udp:127.0.0.1:5062\"]\n"
      "  workers: 3\n  worker_port_offset: 1\n",
      "gw.yaml");
  CHECK_FALSE(clash.config);
  REQUIRE(clash.errors.size() == 1);
  CHECK(clash.errors[0] ==
        "gw.yaml:4: sip.worker_port_offset: worker port 5062 is also a listen port");

  auto beyond = loadConfigText(
      "sip:\n  listen: [\"udp:127.0.0.1:65500\"]\n  workers: 2\n  worker_port_offset: 100\n",
      "gw.yaml");
  CHECK_FALSE(beyond.config);
  REQUIRE(beyond.errors.size() == 1);
  CHECK(beyond.errors[0].rfind("gw.yaml:3: sip.workers: the private ports of listen port 65500 "
                               "(65600-65601)",
                               0) == 0);

  auto too_many =
      loadConfigText("sip:\n  listen: [\"udp:127.0.0.1:5060\"]\n  workers: 65\n", "gw.yaml");
  CHECK_FALSE(too_many.config);
}
