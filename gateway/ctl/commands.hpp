// The command groups of switchboardctl; each group lives in its own file.
#pragma once

#include <vector>

#include "ctl/cli.hpp"

namespace sb::ctl {

// tables validate | publish | show (SPEC §5).
std::vector<Command> tablesCommands();

// route explain (issue 4: the decision chain for a Request-URI, caller, topic and time).
std::vector<Command> routeCommands();

// trunks list | show | drain | enable | disable, status: the running gateway's admin API.
std::vector<Command> adminCommands();

// report: the ministry's statistics from the call records (SPEC §6, issue 6).
std::vector<Command> reportCommands();

}  // namespace sb::ctl
