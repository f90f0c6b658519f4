// The freshet subcommands. Each Register* adds one subcommand to the CLI11
// app; when it is chosen, its callback stores the process exit code in
// *exit_code. Exit codes: see actors/pipeline.h (0 ok, 1 fatal, 2 usage or
// config error, 3 batch failed, 4 drain timeout).
#pragma once

namespace CLI {
class App;
}

namespace freshet {

void RegisterRunCommand(CLI::App& app, int* exit_code);
void RegisterCheckConfigCommand(CLI::App& app, int* exit_code);
void RegisterGenCommand(CLI::App& app, int* exit_code);
void RegisterQueryCommand(CLI::App& app, int* exit_code);
void RegisterInspectCommand(CLI::App& app, int* exit_code);
void RegisterVerifyCommand(CLI::App& app, int* exit_code);

}  // namespace freshet
