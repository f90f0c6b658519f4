// Where a command's Options come from: the config file when given, else the
// embedded default (Options{} with the ads schema); then FRESHET_*
// environment overrides, command-line overrides, and validation.
#pragma once

#include <string>

#include "config/options.h"
#include "freshet/status.h"

namespace freshet {

// `trigger_override`: "" or a pipeline.trigger spelling.
Result<Options> LoadOptionsForCommand(const std::string& config_path, const std::string& trigger_override);

}  // namespace freshet
