// query / inspect / verify are registered by the reader commands; until they
// land the subcommands say so instead of pretending to work.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace freshet {
namespace {
void Missing(CLI::App& app, const char* name, int* exit_code) {
  auto* cmd = app.add_subcommand(name, std::string(name) + " (not built yet)");
  cmd->allow_extras();
  cmd->callback([=] {
    std::cerr << "freshet " << name << ": not available in this build yet\n";
    *exit_code = 2;
  });
}
}  // namespace
void RegisterQueryCommand(CLI::App& app, int* exit_code) { Missing(app, "query", exit_code); }
void RegisterInspectCommand(CLI::App& app, int* exit_code) { Missing(app, "inspect", exit_code); }
void RegisterVerifyCommand(CLI::App& app, int* exit_code) { Missing(app, "verify", exit_code); }
}  // namespace freshet
