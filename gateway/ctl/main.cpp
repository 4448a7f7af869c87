// switchboardctl: the operators' tool (SPEC §2, §5). Each command group registers its
// commands here; the framework in cli.cpp parses, dispatches and prints help.
#include <exception>
#include <iostream>

#include "ctl/cli.hpp"
#include "ctl/commands.hpp"

int main(int argc, char** argv) {
  std::vector<sb::ctl::Command> commands;
  for (auto group : {sb::ctl::tablesCommands(), sb::ctl::routeCommands(), sb::ctl::adminCommands(),
                     sb::ctl::reportCommands()}) {
    commands.insert(commands.end(), group.begin(), group.end());
  }
  try {
    return sb::ctl::runCli(commands, argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "switchboardctl: error: " << e.what() << "\n";
    return sb::ctl::kExitFailed;
  }
}
