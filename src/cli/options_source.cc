#include "cli/options_source.h"

#include <cstdlib>

#include "config/config_loader.h"
#include "config/validate_options.h"

namespace freshet {

Result<Options> LoadOptionsForCommand(const std::string& config_path, const std::string& trigger_override) {
  Options options;
  if (!config_path.empty()) {
    FRESHET_ASSIGN_OR_RETURN(options, LoadOptionsFromFile(config_path));
  } else {
    options.schema = DefaultAdsSchema();
  }
  FRESHET_RETURN_IF_ERROR(ApplyEnvOverrides(&options, [](const char* name) { return std::getenv(name); }));
  if (!trigger_override.empty()) {
    if (trigger_override == "interval") options.pipeline.trigger = TriggerMode::kInterval;
    else if (trigger_override == "continuous") options.pipeline.trigger = TriggerMode::kContinuous;
    else if (trigger_override == "once") options.pipeline.trigger = TriggerMode::kOnce;
    else if (trigger_override == "available_now") options.pipeline.trigger = TriggerMode::kAvailableNow;
    else
      return Status::InvalidArgument("--trigger: \"" + trigger_override +
                                     "\" is not one of interval, continuous, once, available_now");
  }
  FRESHET_RETURN_IF_ERROR(ValidateOptions(options));
  return options;
}

}  // namespace freshet
