#include "testing/headless_chromium.h"

#include <filesystem>

#include "testing/background_process.h"
#include "testing/temp_dir.h"

namespace freshet::testing {
namespace {

ChromiumResult RunChromium(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  ChromiumResult result;
  std::string bin = ChromiumBinary();
  if (bin.empty()) {
    result.error = "chromium is not installed: run scripts/install-deps.sh test (Debian package chromium)";
    return result;
  }
  TempDir profile("chromium-profile");
  ProcessOptions options;
  options.argv = {bin,
                  "--headless",
                  "--no-sandbox",  // tests run as root
                  "--disable-gpu",
                  "--disable-quic",
                  "--no-first-run",
                  "--disable-background-networking",
                  "--disable-component-update",
                  "--disable-sync",
                  "--disable-dev-shm-usage",
                  "--user-data-dir=" + profile.path()};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(std::move(options), timeout);
  if (!r.Ok()) {
    result.error = "chromium: " + r.Describe();
    return result;
  }
  result.output = std::move(r.out);
  return result;
}

}  // namespace

std::string ChromiumBinary() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::filesystem::exists(path)) return path;
  }
  return "";
}

ChromiumResult ChromiumDumpDom(const std::string& url, std::chrono::milliseconds virtual_time_budget,
                               std::chrono::milliseconds timeout) {
  ChromiumResult r = RunChromium(
      {"--virtual-time-budget=" + std::to_string(virtual_time_budget.count()), "--dump-dom", url}, timeout);
  if (r.ok() && r.output.find("<html") == std::string::npos) r.error = "chromium printed no DOM for " + url;
  return r;
}

ChromiumResult ChromiumScreenshot(const std::string& url, const std::string& png_path, int width, int height,
                                  std::chrono::milliseconds timeout) {
  std::filesystem::remove(png_path);
  ChromiumResult r = RunChromium({"--hide-scrollbars", "--virtual-time-budget=5000",
                                  "--window-size=" + std::to_string(width) + "," + std::to_string(height),
                                  "--screenshot=" + png_path, url},
                                 timeout);
  if (r.ok() && !std::filesystem::exists(png_path)) r.error = "chromium wrote no screenshot to " + png_path;
  return r;
}

}  // namespace freshet::testing
