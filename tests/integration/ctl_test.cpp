// switchboardctl run as a program: exit codes (0 ok, 1 failed, 2 usage) and what it prints.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

namespace {

using sb::test::ProcessResult;
using sb::test::RedisServer;

constexpr const char* kPasswordEnv = "SWITCHBOARD_REDIS_PASSWORD";

ProcessResult ctl(std::vector<std::string> args,
                  const std::vector<std::pair<std::string, std::string>>& env = {}) {
  args.insert(args.begin(), sb::test::ctlPath());
  // The tests' own environment must not leak a password into the runs that expect none.
  const std::vector<std::string> unset =
      env.empty() ? std::vector<std::string>{kPasswordEnv} : std::vector<std::string>{};
  ProcessResult r = sb::test::runProcess(args, env, unset, std::chrono::seconds(30));
  REQUIRE_FALSE(r.timed_out);
  return r;
}

}  // namespace

TEST_CASE("switchboardctl usage and help", "[ctl]") {
  const ProcessResult none = ctl({});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("tables validate"));

  const ProcessResult help = ctl({"--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("tables publish DIR"));
  CHECK_THAT(help.out, Catch::Contains("tables show"));

  const ProcessResult group = ctl({"tables", "--help"});
  CHECK(group.exit_code == 0);
  CHECK_THAT(group.out, Catch::Contains("tables validate DIR"));

  for (const char* command : {"validate", "publish", "show"}) {
    const ProcessResult r = ctl({"tables", command, "--help"});
    INFO(command);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::StartsWith(std::string("usage: switchboardctl tables ") + command));
  }
  const ProcessResult publish_help = ctl({"tables", "publish", "--help"});
  CHECK_THAT(publish_help.out, Catch::Contains("--redis HOST:PORT"));
  CHECK_THAT(publish_help.out, Catch::Contains("--prefix PREFIX"));

  struct Bad {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Bad> bad{
      {{"tables"}, "'tables' needs a command"},
      {{"tables", "frobnicate"}, "unknown command 'tables frobnicate'"},
      {{"nosuch"}, "unknown command 'nosuch'"},
      {{"trunks"}, "'trunks' needs a command"},
      {{"tables", "validate"}, "missing argument DIR"},
      {{"tables", "validate", "a", "b"}, "unexpected argument 'b'"},
      {{"tables", "validate", sb::test::exampleDir(), "--redis", "x:1"},
       "unknown option '--redis'"},
      {{"tables", "validate", "/nonexistent/dir"}, "is not a directory"},
      {{"tables", "publish", sb::test::exampleDir()}, "missing option '--redis HOST:PORT'"},
      {{"tables", "publish", sb::test::exampleDir(), "--redis"}, "needs a value"},
      {{"tables", "publish", sb::test::exampleDir(), "--redis", "host:99999"}, "port"},
      {{"tables", "show", "--redis", "127.0.0.1:1", "--version", "two"},
       "--version must be a positive integer"},
      {{"tables", "show", "--redis", "127.0.0.1:1", "--redis", "127.0.0.1:2"}, "given twice"},
  };
  for (const Bad& b : bad) {
    const ProcessResult r = ctl(b.args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(b.message));
  }
}

TEST_CASE("switchboardctl tables validate", "[ctl]") {
  const ProcessResult ok = ctl({"tables", "validate", sb::test::exampleDir()});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out ==
        "ok: 9 trunks, 10 routes, 6 area codes, 56 regions, 5 caller prefixes, 173 topics\n");

  const std::string dir = sb::test::fixtureDir("bad-items");
  const ProcessResult bad = ctl({"tables", "validate", dir});
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.empty());
  CHECK_THAT(bad.err, Catch::Contains(dir + "/trunks.yaml:7: unknown key 'capcity' in trunk"));
  CHECK_THAT(bad.err, Catch::Contains(dir + "/area-codes.yaml:2: area code 512 has no leading 0"));
  CHECK_THAT(bad.err, Catch::EndsWith("invalid: 7 errors\n"));

  const std::string semantic = sb::test::fixtureDir("semantic");
  const ProcessResult sem = ctl({"tables", "validate", semantic});
  CHECK(sem.exit_code == 1);
  CHECK_THAT(sem.err, Catch::Contains(semantic + "/routes.yaml:4: duplicate route key '320000'"));

  const ProcessResult syntax = ctl({"tables", "validate", sb::test::fixtureDir("syntax-error")});
  CHECK(syntax.exit_code == 1);
  CHECK_THAT(syntax.err, Catch::Contains("/syntax-error/trunks.yaml:6: YAML syntax error"));
}

TEST_CASE("switchboardctl tables publish and show", "[ctl]") {
  RedisServer server;
  const std::string redis = server.address();

  const ProcessResult empty = ctl({"tables", "show", "--redis", redis});
  CHECK(empty.exit_code == 1);
  CHECK_THAT(empty.err, Catch::Contains("no tables published"));

  const ProcessResult first = ctl({"tables", "publish", sb::test::exampleDir(), "--redis", redis});
  INFO(first.err);
  CHECK(first.exit_code == 0);
  CHECK(first.out == "published version 1\n");
  CHECK(server.command({"GET", "sb:tables:current"}) == "1");

  // An invalid set is refused and nothing changes in Redis.
  const ProcessResult refused =
      ctl({"tables", "publish", sb::test::fixtureDir("semantic"), "--redis", redis});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("duplicate route key"));
  CHECK_THAT(refused.err, Catch::Contains("not published"));
  CHECK(server.command({"GET", "sb:tables:current"}) == "1");
  CHECK(server.command({"GET", "sb:tables:seq"}) == "1");

  const ProcessResult second =
      ctl({"tables", "publish", sb::test::exampleDir(), "--redis=" + redis});
  CHECK(second.exit_code == 0);
  CHECK(second.out == "published version 2\n");

  const ProcessResult show = ctl({"tables", "show", "--redis", redis});
  INFO(show.err);
  CHECK(show.exit_code == 0);
  CHECK_THAT(show.out, Catch::StartsWith("version: 2 (current)\n"));
  CHECK_THAT(show.out, Catch::Contains("meta.source: " + sb::test::exampleDir()));
  CHECK_THAT(show.out, Catch::Contains("meta.published_at: "));
  CHECK_THAT(
      show.out,
      Catch::Contains("trunks=9 routes=10 area_codes=6 regions=56 caller_prefixes=5 topics=173"));
  CHECK_THAT(show.out, Catch::Contains("versions in redis: 1 2"));

  const ProcessResult old = ctl({"tables", "show", "--redis", redis, "--version", "1"});
  CHECK(old.exit_code == 0);
  CHECK_THAT(old.out, Catch::StartsWith("version: 1\ncurrent: 2\n"));
  const ProcessResult gone = ctl({"tables", "show", "--redis", redis, "--version", "9"});
  CHECK(gone.exit_code == 1);
  CHECK_THAT(gone.err, Catch::Contains("version 9 does not exist"));

  // Another prefix is another table set.
  const ProcessResult other =
      ctl({"tables", "publish", sb::test::exampleDir(), "--redis", redis, "--prefix", "lab"});
  CHECK(other.out == "published version 1\n");
  CHECK(server.command({"GET", "lab:tables:current"}) == "1");

  server.stop();
  const ProcessResult down = ctl({"tables", "publish", sb::test::exampleDir(), "--redis", redis});
  CHECK(down.exit_code == 1);
  CHECK_THAT(down.err, Catch::Contains("publish failed"));
  const ProcessResult show_down = ctl({"tables", "show", "--redis", redis});
  CHECK(show_down.exit_code == 1);
}

TEST_CASE("switchboardctl takes the Redis password from the environment", "[ctl]") {
  RedisServer server("pa55 word");
  const std::vector<std::string> args{"tables", "publish", sb::test::exampleDir(), "--redis",
                                      server.address()};
  const ProcessResult without = ctl(args);
  CHECK(without.exit_code == 1);
  CHECK_THAT(without.err, Catch::Contains("NOAUTH"));

  const ProcessResult wrong = ctl(args, {{kPasswordEnv, "nope"}});
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.err, !Catch::Contains("nope"));

  const ProcessResult right = ctl(args, {{kPasswordEnv, "pa55 word"}});
  INFO(right.err);
  CHECK(right.exit_code == 0);
  CHECK(right.out == "published version 1\n");
  CHECK_THAT(right.out + right.err, !Catch::Contains("pa55"));
}
