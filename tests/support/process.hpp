// Runs a program to completion with a time limit, capturing its output. For tests of CLIs.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace sb::test {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal (timed_out tells whether we killed it)
  bool timed_out = false;
  std::string out;
  std::string err;
};

// argv[0] is the program path (no PATH search). `env` entries are added to (or replace in)
// the current environment; `unset_env` names are removed from it.
ProcessResult runProcess(const std::vector<std::string>& argv,
                         const std::vector<std::pair<std::string, std::string>>& env = {},
                         const std::vector<std::string>& unset_env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace sb::test
