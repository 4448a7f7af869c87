// switchboardctl route explain: the routing decision for a Request-URI (and optionally a
// caller, a topic and a time), stage by stage, from a table directory or the tables
// published in Redis, computed by core::decide() - the daemon's own code (issue 4, item 6).
#include <charconv>
#include <chrono>
#include <iostream>
#include <string_view>

#include "core/china_time.hpp"
#include "core/decide.hpp"
#include "core/dialled.hpp"
#include "core/explain.hpp"
#include "ctl/commands.hpp"
#include "ctl/common.hpp"

namespace sb::ctl {

namespace {

int explain(const Args& args) {
  const bool from_redis = args.has("redis");
  if (from_redis == args.has("tables")) {
    throw UsageError("give the tables with exactly one of --tables DIR and --redis HOST:PORT");
  }
  if (args.has("prefix") && !from_redis) throw UsageError("--prefix goes with --redis");

  core::DecideInput input;
  const std::string user = core::userOfUri(args.positional[0]);
  const std::string caller = args.get("caller").value_or("");
  const std::string topic = args.get("topic").value_or("");
  input.dialled = user;
  input.caller = caller;
  input.topic = topic;
  if (const auto text = args.get("time")) {
    const std::optional<std::int64_t> when = core::parseTimeText(*text);
    if (!when) {
      throw UsageError(
          "--time must be Unix seconds or ISO 8601 such as 2026-09-28T09:00 "
          "(China Standard Time unless it ends in Z or an offset like +08:00)");
    }
    input.now_unix = *when;
  } else {
    // The CLI reads the clock; the core never does.
    input.now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  }
  if (const auto text = args.get("seed")) {
    const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), input.random);
    if (ec != std::errc() || ptr != text->data() + text->size()) {
      throw UsageError("--seed must be a non-negative integer");
    }
  }

  std::shared_ptr<const core::RoutingTable> table;
  if (from_redis) {
    table = loadFromRedis(redisAddress(args));
  } else {
    const std::optional<core::TableSpec> spec = loadValidDir(*args.get("tables"));
    if (spec) table = core::buildTable(*spec, 0).table;
  }
  if (!table) return kExitFailed;

  const core::Decision decision = core::decide(*table, input);
  if (args.has("json")) {
    std::cout << core::explainJson(*table, input, decision) << "\n";
  } else {
    std::cout << core::explainText(*table, input, decision);
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> routeCommands() {
  std::vector<Command> commands;
  OptionSpec redis = redisOption(false);
  redis.description = "read the tables published in this Redis";
  commands.push_back(
      Command{{"route", "explain"},
              "URI",
              "show how a call to URI would be routed, stage by stage",
              "URI is a Request-URI (sip:12333320500@gw, tel:123330512) or just its user part\n"
              "(12333320500, 12333). The decision is the daemon's own: the parsed number, the\n"
              "region and where it came from (dialled code, area code, caller's mobile prefix or\n"
              "area code), the topic, the route key and level, the candidate trunks in order with\n"
              "why any is skipped (closed: outside its opening hours), and the answer.\n"
              "Inside a group of several trunks the order is drawn per call by weight; --seed\n"
              "picks one draw. Exit status 0 whenever the decision is explained (also when the\n"
              "call would be rejected: see 'answer'), 1 when the tables cannot be loaded.",
              {{"caller", "NUMBER", "caller's number (P-Asserted-Identity or From user)", false},
               {"topic", "CODE", "X-12333-Topic value, e.g. 0202", false},
               {"time", "WHEN",
                "ISO 8601 (CST unless an offset is given) or Unix seconds; default: now", false},
               {"tables", "DIR", "read the tables from this directory", false},
               redis,
               prefixOption(),
               {"seed", "N", "random seed of the weighted order (default 0)", false},
               {"json", "", "print JSON (as the admin API serves it)", false}},
              1,
              1,
              explain});
  return commands;
}

}  // namespace sb::ctl
