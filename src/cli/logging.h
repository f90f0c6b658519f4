// Process-wide logging set-up for the CLI: spdlog to stderr, text or JSON
// lines, level from config with FRESHET_LOG_LEVEL taking precedence.
#pragma once

#include "config/options.h"
#include "freshet/status.h"

namespace freshet {

Status SetUpLogging(const LogOptions& log);

}  // namespace freshet
