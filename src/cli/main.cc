// freshet: one binary, subcommands. `freshet --help` lists them.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"freshet: keeps a search/ads delta index fresh from time-partitioned object storage"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "freshet " FRESHET_VERSION);
  int exit_code = 0;
  freshet::RegisterRunCommand(app, &exit_code);
  freshet::RegisterCheckConfigCommand(app, &exit_code);
  freshet::RegisterGenCommand(app, &exit_code);
  freshet::RegisterQueryCommand(app, &exit_code);
  freshet::RegisterInspectCommand(app, &exit_code);
  freshet::RegisterVerifyCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
