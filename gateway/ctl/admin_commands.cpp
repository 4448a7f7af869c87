// switchboardctl trunks list|show|drain|enable|disable and status: the running gateway's
// admin API (issue 5 item 4), readable tables for people and --json for scripts. Changing
// commands send the bearer token from --token-file or SWITCHBOARD_ADMIN_TOKEN.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "ctl/commands.hpp"
#include "redis/json.hpp"

namespace sb::ctl {
namespace {

struct HttpReply {
  int status = 0;
  std::string body;
};

// One blocking HTTP/1.0 exchange with the admin listener, bounded by a 5 s timeout.
HttpReply httpCall(const std::string& admin, const std::string& method, const std::string& path,
                   const std::string& token) {
  std::string host = admin;
  std::string port = "8080";
  if (auto colon = admin.rfind(':'); colon != std::string::npos) {
    host = admin.substr(0, colon);
    port = admin.substr(colon + 1);
  }
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) {
    throw std::runtime_error("cannot resolve admin address " + admin);
  }
  int fd = socket(res->ai_family, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    freeaddrinfo(res);
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot reach the admin API at " + admin);
  }
  freeaddrinfo(res);
  std::string request = method + " " + path + " HTTP/1.0\r\nHost: " + admin + "\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  request += "Content-Length: 0\r\n\r\n";
  if (send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    close(fd);
    throw std::runtime_error("cannot send to the admin API at " + admin);
  }
  std::string response;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) response.append(buf, static_cast<std::size_t>(n));
  close(fd);
  HttpReply reply;
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) {
    throw std::runtime_error("no HTTP answer from the admin API at " + admin);
  }
  reply.status = std::atoi(response.c_str() + 9);
  auto body = response.find("\r\n\r\n");
  if (body != std::string::npos) reply.body = response.substr(body + 4);
  return reply;
}

std::string adminAddress(const Args& args) {
  if (auto a = args.get("admin")) return *a;
  if (const char* env = std::getenv("SWITCHBOARD_ADMIN")) return env;
  return "127.0.0.1:8080";
}

std::string token(const Args& args) {
  if (auto file = args.get("token-file")) {
    std::ifstream in(*file);
    std::string t;
    if (!in || !std::getline(in, t)) throw std::runtime_error("cannot read token file " + *file);
    return t;
  }
  if (const char* env = std::getenv("SWITCHBOARD_ADMIN_TOKEN")) return env;
  return {};
}

int fail(const HttpReply& r) {
  std::cerr << "admin API answered " << r.status << ": " << r.body;
  return kExitFailed;
}

using Json = redis::detail::JsonValue;

Json parse(const std::string& body) {
  std::string error;
  auto v = redis::detail::parseJson(body, error);
  if (!v) throw std::runtime_error("the admin API sent bad JSON: " + error);
  return *v;
}

std::string field(const Json& v, const char* key) {
  const Json* f = v.find(key);
  if (!f) return "-";
  switch (f->type) {
    case Json::Type::String:
    case Json::Type::Number:
      return f->text;
    case Json::Type::Bool:
      return f->boolean ? "yes" : "no";
    default:
      return "-";
  }
}

std::string ratio(const Json& t, const char* part) {
  const Json* w = t.find("last_15m");
  if (!w) return "-";
  const Json* offered = w->find("offered");
  const Json* p = w->find(part);
  double o = offered ? std::atof(offered->text.c_str()) : 0;
  if (!p || o == 0) return "-";
  char b[16];
  std::snprintf(b, sizeof b, "%.0f%%", 100.0 * std::atof(p->text.c_str()) / o);
  return b;
}

void printTrunkRow(const Json& t) {
  std::string cap = field(t, "capacity") == "0" ? "∞" : field(t, "capacity");
  std::printf("%-22s %-8s %-9s %-6s %5s/%-5s %6s %7s %7s  %s\n", field(t, "name").c_str(),
              field(t, "health").c_str(), field(t, "admin").c_str(), field(t, "open_now").c_str(),
              field(t, "active_calls").c_str(), cap.c_str(), field(t, "probe_rtt_ms").c_str(),
              ratio(t, "answered").c_str(), ratio(t, "answered_20s").c_str(),
              field(t, "display_name").c_str());
}

void printHeader() {
  std::printf("%-22s %-8s %-9s %-6s %11s %6s %7s %7s  %s\n", "TRUNK", "HEALTH", "ADMIN", "OPEN",
              "ACTIVE/CAP", "RTTms", "ANS15m", "≤20s", "NAME");
}

int list(const Args& args) {
  HttpReply r = httpCall(adminAddress(args), "GET", "/api/v1/trunks", "");
  if (r.status != 200) return fail(r);
  if (args.has("json")) {
    std::cout << r.body;
    return kExitOk;
  }
  Json doc = parse(r.body);
  printHeader();
  if (const Json* trunks = doc.find("trunks")) {
    for (const auto& t : trunks->items) printTrunkRow(t);
  }
  return kExitOk;
}

int show(const Args& args) {
  HttpReply r = httpCall(adminAddress(args), "GET", "/api/v1/trunks/" + args.positional[0], "");
  if (r.status != 200) return fail(r);
  if (args.has("json")) {
    std::cout << r.body;
    return kExitOk;
  }
  Json t = parse(r.body);
  for (const char* key : {"name", "display_name", "region", "province", "target", "health",
                          "health_reason", "probe_rtt_ms", "admin", "open_now", "active_calls",
                          "calls_elsewhere", "capacity", "cps"}) {
    std::printf("%-16s %s\n", key, field(t, key).c_str());
  }
  std::printf("%-16s %s answered, %s within 20 s (last 15 min)\n", "answer ratio",
              ratio(t, "answered").c_str(), ratio(t, "answered_20s").c_str());
  return kExitOk;
}

int change(const Args& args, const std::string& action) {
  std::string tk = token(args);
  if (tk.empty())
    throw UsageError("a token is needed: --token-file FILE or SWITCHBOARD_ADMIN_TOKEN");
  HttpReply r = httpCall(adminAddress(args), "POST",
                         "/api/v1/trunks/" + args.positional[0] + "/" + action, tk);
  if (r.status != 200) return fail(r);
  std::cout << (args.has("json") ? r.body : args.positional[0] + ": " + action + " done\n");
  return kExitOk;
}

int status(const Args& args) {
  HttpReply r = httpCall(adminAddress(args), "GET", "/api/v1/status", "");
  if (r.status != 200) return fail(r);
  if (args.has("json")) {
    std::cout << r.body;
    return kExitOk;
  }
  Json s = parse(r.body);
  for (const char* key : {"ready", "draining", "redis_up", "routing_table_version",
                          "calls_in_progress", "established_calls", "live_instances"}) {
    std::printf("%-24s %s\n", key, field(s, key).c_str());
  }
  return kExitOk;
}

OptionSpec adminOption() {
  return {"admin", "HOST:PORT",
          "the gateway's admin listener (default $SWITCHBOARD_ADMIN or 127.0.0.1:8080)", false};
}

}  // namespace

std::vector<Command> adminCommands() {
  std::vector<Command> commands;
  OptionSpec json{"json", "", "print the API's JSON", false};
  OptionSpec token_file{"token-file", "FILE",
                        "bearer token for changes (default $SWITCHBOARD_ADMIN_TOKEN)", false};
  commands.push_back(Command{{"trunks", "list"},
                             "",
                             "every trunk with its live state",
                             "Health (probes), admin state, open now, active calls against\n"
                             "capacity, probe RTT and the last 15 minutes' answer ratios.",
                             {adminOption(), json},
                             0,
                             0,
                             list});
  commands.push_back(Command{{"trunks", "show"},
                             "TRUNK",
                             "one trunk with its live state",
                             "",
                             {adminOption(), json},
                             1,
                             1,
                             show});
  for (const char* action : {"drain", "enable", "disable"}) {
    std::string a = action;
    commands.push_back(
        Command{{"trunks", a},
                "TRUNK",
                a == "drain"    ? "take no new calls on TRUNK; calls in progress finish"
                : a == "enable" ? "let TRUNK take calls again"
                                : "take no new calls on TRUNK",
                "Stored in Redis: every gateway instance applies it, and a restart keeps it.",
                {adminOption(), token_file, json},
                1,
                1,
                [a](const Args& args) { return change(args, a); }});
  }
  commands.push_back(Command{{"status"},
                             "",
                             "the gateway's state (ready, tables, calls)",
                             "",
                             {adminOption(), json},
                             0,
                             0,
                             status});
  return commands;
}

}  // namespace sb::ctl
