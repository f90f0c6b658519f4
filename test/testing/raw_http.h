// A tiny blocking HTTP/1.1 client over a plain socket, for tests that must
// see exactly what a server or proxy sent — including how a response went
// wrong (no response at all, a body cut short) — without our production
// client's retries in between. One request per connection
// ("Connection: close"); 127.0.0.1 only.
//
//   RawHttpResponse r = RawHttp(port, {.method = "PUT", .target = "/bucket/key", .body = "x"});
//   if (r.outcome == RawHttpOutcome::kComplete && r.status == 200) ...
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace freshet::testing {

struct RawHttpRequest {
  std::string method = "GET";
  std::string target = "/";  // sent as is: the caller encodes it
  // Sent in order. "Host: 127.0.0.1:<port>" is added unless present;
  // "Content-Length" unless present (for a body, or PUT/POST);
  // "Connection: close" always.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

enum class RawHttpOutcome {
  kComplete,       // a whole response arrived
  kConnectFailed,  // nothing listening, or the connect failed
  kNoResponse,     // the connection ended (FIN or reset) before a complete status line and headers
  kTruncated,      // headers arrived, then the connection ended before the whole body
  kTimeout,        // the deadline passed first (whatever had arrived is kept)
  kMalformed,      // bytes that are not an HTTP/1.x response
};
std::string_view RawHttpOutcomeName(RawHttpOutcome outcome);

struct RawHttpResponse {
  RawHttpOutcome outcome = RawHttpOutcome::kConnectFailed;
  int status = 0;  // when headers arrived
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;   // the decoded body, or as much of it as arrived
  std::string error;  // what went wrong, for messages; "" when complete

  bool ok() const { return outcome == RawHttpOutcome::kComplete; }
  // The first header of that name (case-insensitive).
  std::optional<std::string> Header(std::string_view name) const;
  // "200 OK, 16 body bytes" / "truncated: 8 of 16 body bytes".
  std::string Describe() const;
};

// Sends `request` to 127.0.0.1:`port` and reads the response until the
// server closes the connection or the body is complete (Content-Length or
// chunked). `timeout` bounds the whole exchange.
RawHttpResponse RawHttp(uint16_t port, const RawHttpRequest& request,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace freshet::testing
