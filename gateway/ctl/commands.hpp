// The command groups of switchboardctl; each group lives in its own file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ctl/cli.hpp"

namespace sb::ctl {

// tables validate | publish | show (SPEC §5).
std::vector<Command> tablesCommands();

// route explain (issue 4: the decision chain for a Request-URI, caller, topic and time).
std::vector<Command> routeCommands();

// The user part of a Request-URI as the daemon routes on it ("sip:12333320500@gw" ->
// "12333320500"); a bare number is returned as given.
std::string uriUser(std::string_view uri);

}  // namespace sb::ctl
