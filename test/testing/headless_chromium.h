// Debian's Chromium, headless, for tests that must see a page as a browser
// draws it (scripts run, SVG built): the DOM after load, or a screenshot.
// Every run gets a fresh --user-data-dir and the flags that keep Chromium
// off the network (this machine's network is closed; without them it tries
// Google's hosts at every start). Loopback pages only.
//
//   ChromiumResult r = ChromiumDumpDom("http://127.0.0.1:9464/");
//   ASSERT_TRUE(r.ok()) << r.error;
//   EXPECT_NE(r.output.find("data-rendered=\"true\""), std::string::npos);
#pragma once

#include <chrono>
#include <string>

namespace freshet::testing {

// "/usr/bin/chromium" when installed, else "" (scripts/install-deps.sh test installs it).
std::string ChromiumBinary();

struct ChromiumResult {
  std::string output;  // the serialized DOM (dump), or "" (screenshot)
  std::string error;   // "" on success; else how it failed, with the tail of stderr
  bool ok() const { return error.empty(); }
};

// `--dump-dom` after the page's scripts ran, `virtual_time_budget` of
// virtual time given to timers and fetches.
ChromiumResult ChromiumDumpDom(const std::string& url,
                               std::chrono::milliseconds virtual_time_budget = std::chrono::seconds(5),
                               std::chrono::milliseconds timeout = std::chrono::seconds(90));

// `--screenshot=<png_path> --window-size=<width>,<height>`.
ChromiumResult ChromiumScreenshot(const std::string& url, const std::string& png_path, int width = 1280,
                                  int height = 900, std::chrono::milliseconds timeout = std::chrono::seconds(90));

}  // namespace freshet::testing
