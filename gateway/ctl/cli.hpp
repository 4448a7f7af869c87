// switchboardctl's command framework: a command is a path of words ("tables publish"), the
// options it accepts and a function. Adding a command = one more entry in main.cpp's list.
// Exit codes: 0 success, 1 the operation failed (invalid tables, Redis error), 2 usage error.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sb::ctl {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Thrown by commands and by argument parsing; main prints it with the command's usage.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;        // "redis" for --redis
  std::string value_name;  // "HOST:PORT"; empty for a flag without a value
  std::string description;
  bool required = false;
  bool repeatable = false;  // may be given several times (--file A --file B)
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // flags map to ""; a repeated option: its last
  std::vector<std::pair<std::string, std::string>> given;  // every option, in order

  bool has(const std::string& name) const { return options.count(name) != 0; }
  std::optional<std::string> get(const std::string& name) const;
  // Every value of a repeatable option, in the order given.
  std::vector<std::string> all(const std::string& name) const;
};

struct Command {
  std::vector<std::string> path;  // {"tables", "validate"}
  std::string arguments;          // "DIR"
  std::string summary;            // one line for the command list
  std::string details;            // paragraphs for --help
  std::vector<OptionSpec> options;
  std::size_t min_positional = 0;
  std::size_t max_positional = 0;
  std::function<int(const Args&)> run;
};

// Dispatches argv to the command whose path it starts with; handles --help at every level.
int runCli(const std::vector<Command>& commands, int argc, char** argv);

}  // namespace sb::ctl
