// The command groups of switchboardctl; each group lives in its own file.
#pragma once

#include <vector>

#include "ctl/cli.hpp"

namespace sb::ctl {

// tables validate | publish | show (SPEC §5).
std::vector<Command> tablesCommands();

}  // namespace sb::ctl
