// `freshet check-config FILE`: load, apply environment overrides, validate,
// and print every effective value. Exit 0 when valid, 2 otherwise.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/options_source.h"
#include "config/describe_options.h"

namespace freshet {

void RegisterCheckConfigCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("check-config", "Validate a config file and print the effective settings");
  auto path = std::make_shared<std::string>();
  cmd->add_option("file", *path, "Config file")->required();
  cmd->callback([=] {
    auto options = LoadOptionsForCommand(*path, "");
    if (!options.ok()) {
      std::cerr << "freshet check-config: " << options.status().message() << "\n";
      *exit_code = 2;
      return;
    }
    std::cout << DescribeOptions(*options);
    std::cout << *path << ": OK\n";
    *exit_code = 0;
  });
}

}  // namespace freshet
