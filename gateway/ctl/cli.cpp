#include "ctl/cli.hpp"

#include <algorithm>
#include <iostream>

namespace sb::ctl {
namespace {

constexpr const char* kProgram = "switchboardctl";

std::string join(const std::vector<std::string>& words, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count && i < words.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += words[i];
  }
  return out;
}

std::string synopsis(const Command& command) {
  std::string out = std::string(kProgram) + " " + join(command.path, command.path.size());
  if (!command.arguments.empty()) out += " " + command.arguments;
  for (const OptionSpec& option : command.options) {
    std::string text = "--" + option.name;
    if (!option.value_name.empty()) text += " " + option.value_name;
    out += option.required ? " " + text : " [" + text + "]";
    if (option.repeatable) out += "...";
  }
  return out;
}

void printCommandHelp(std::ostream& out, const Command& command) {
  out << "usage: " << synopsis(command) << "\n\n" << command.summary << "\n";
  if (!command.details.empty()) out << "\n" << command.details << "\n";
  if (!command.options.empty()) {
    out << "\noptions:\n";
    for (const OptionSpec& option : command.options) {
      std::string left = "--" + option.name;
      if (!option.value_name.empty()) left += " " + option.value_name;
      out << "  " << left;
      out << std::string(left.size() < 22 ? 22 - left.size() : 1, ' ') << option.description
          << "\n";
    }
  }
  out << "  --help                show this help\n";
}

// Lists the commands under `prefix` (every command when it is empty).
void printCommandList(std::ostream& out, const std::vector<Command>& commands,
                      const std::vector<std::string>& prefix) {
  out << "usage: " << kProgram << (prefix.empty() ? "" : " " + join(prefix, prefix.size()))
      << " COMMAND ... [--help]\n\ncommands:\n";
  for (const Command& command : commands) {
    if (!std::equal(prefix.begin(), prefix.end(), command.path.begin(),
                    command.path.begin() + static_cast<std::ptrdiff_t>(
                                               std::min(prefix.size(), command.path.size())))) {
      continue;
    }
    std::string left = join(command.path, command.path.size());
    if (!command.arguments.empty()) left += " " + command.arguments;
    out << "  " << left << std::string(left.size() < 30 ? 30 - left.size() : 1, ' ')
        << command.summary << "\n";
  }
  out << "\nRun '" << kProgram << " COMMAND --help' for a command's options.\n"
      << "Redis password: environment variable SWITCHBOARD_REDIS_PASSWORD.\n";
}

bool isHelp(const std::string& arg) { return arg == "--help" || arg == "-h"; }

Args parseArgs(const Command& command, const std::vector<std::string>& args) {
  Args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      out.positional.insert(out.positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i + 1),
                            args.end());
      break;
    }
    if (!arg.starts_with("--") || arg.size() == 2) {
      if (arg.starts_with("-") && arg.size() > 1) throw UsageError("unknown option '" + arg + "'");
      out.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const auto spec = std::find_if(command.options.begin(), command.options.end(),
                                   [&](const OptionSpec& o) { return o.name == name; });
    if (spec == command.options.end()) throw UsageError("unknown option '--" + name + "'");
    if (out.has(name) && !spec->repeatable) {
      throw UsageError("option '--" + name + "' given twice");
    }
    if (spec->value_name.empty()) {
      if (value) throw UsageError("option '--" + name + "' takes no value");
      out.options[name] = "";
      out.given.emplace_back(name, "");
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        throw UsageError("option '--" + name + "' needs a value " + spec->value_name);
      }
      value = args[++i];
    }
    if (value->empty()) throw UsageError("option '--" + name + "' needs a non-empty value");
    out.options[name] = *value;
    out.given.emplace_back(name, *value);
  }
  for (const OptionSpec& option : command.options) {
    if (option.required && !out.has(option.name)) {
      throw UsageError("missing option '--" + option.name + " " + option.value_name + "'");
    }
  }
  if (out.positional.size() < command.min_positional) {
    throw UsageError("missing argument " + command.arguments);
  }
  if (out.positional.size() > command.max_positional) {
    throw UsageError("unexpected argument '" + out.positional[command.max_positional] + "'");
  }
  return out;
}

}  // namespace

std::optional<std::string> Args::get(const std::string& name) const {
  const auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> values;
  for (const auto& [option, value] : given) {
    if (option == name) values.push_back(value);
  }
  return values;
}

int runCli(const std::vector<Command>& commands, int argc, char** argv) {
  const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  if (args.empty() || isHelp(args[0]) || args[0] == "help") {
    printCommandList(args.empty() ? std::cerr : std::cout, commands, {});
    return args.empty() ? kExitUsage : kExitOk;
  }
  // The longest command path that the arguments start with.
  const Command* match = nullptr;
  for (const Command& command : commands) {
    if (command.path.size() <= args.size() &&
        std::equal(command.path.begin(), command.path.end(), args.begin()) &&
        (match == nullptr || command.path.size() > match->path.size())) {
      match = &command;
    }
  }
  if (match == nullptr) {
    // A known group ("tables") without a command, or with --help: list its commands.
    std::vector<std::string> group;
    for (const std::string& arg : args) {
      if (isHelp(arg)) break;
      std::vector<std::string> longer = group;
      longer.push_back(arg);
      const bool known = std::any_of(commands.begin(), commands.end(), [&](const Command& c) {
        return c.path.size() > longer.size() &&
               std::equal(longer.begin(), longer.end(), c.path.begin());
      });
      if (!known) break;
      group = std::move(longer);
    }
    const bool help = std::any_of(args.begin(), args.end(), isHelp);
    if (help && group.size() + 1 == args.size()) {
      printCommandList(std::cout, commands, group);
      return kExitOk;
    }
    if (!group.empty() && group.size() == args.size()) {
      std::cerr << kProgram << ": '" << join(group, group.size()) << "' needs a command\n";
    } else {
      std::cerr << kProgram << ": unknown command '" << join(args, group.size() + 1) << "'\n";
    }
    printCommandList(std::cerr, commands, group);
    return kExitUsage;
  }
  const std::vector<std::string> rest(
      args.begin() + static_cast<std::ptrdiff_t>(match->path.size()), args.end());
  if (std::any_of(rest.begin(), rest.end(), isHelp)) {
    printCommandHelp(std::cout, *match);
    return kExitOk;
  }
  try {
    const Args parsed = parseArgs(*match, rest);
    return match->run(parsed);
  } catch (const UsageError& e) {
    std::cerr << kProgram << ": " << e.what() << "\nusage: " << synopsis(*match) << "\n"
              << "Run '" << kProgram << " " << join(match->path, match->path.size())
              << " --help' for details.\n";
    return kExitUsage;
  }
}

}  // namespace sb::ctl
