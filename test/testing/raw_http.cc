#include "testing/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <strings.h>

namespace freshet::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Milliseconds left until `deadline`, at least 0, for poll().
int MillisLeft(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

// Where the body stands, given the bytes after the headers.
enum class BodyState { kIncomplete, kComplete, kMalformed };

// Decodes a chunked body from `raw` into `out`. kIncomplete when more bytes
// are needed (out then holds the whole chunks decoded so far).
BodyState DecodeChunked(std::string_view raw, std::string* out) {
  out->clear();
  size_t pos = 0;
  for (;;) {
    size_t eol = raw.find("\r\n", pos);
    if (eol == std::string_view::npos) return BodyState::kIncomplete;
    std::string_view size_line = raw.substr(pos, eol - pos);
    size_line = size_line.substr(0, size_line.find(';'));  // chunk extensions
    if (size_line.empty()) return BodyState::kMalformed;
    size_t size = 0;
    auto [end, ec] = std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
    if (ec != std::errc() || end != size_line.data() + size_line.size()) return BodyState::kMalformed;
    pos = eol + 2;
    if (size == 0) {
      // Trailers, then an empty line.
      for (;;) {
        size_t end = raw.find("\r\n", pos);
        if (end == std::string_view::npos) return BodyState::kIncomplete;
        if (end == pos) return BodyState::kComplete;
        pos = end + 2;
      }
    }
    if (raw.size() - pos < size + 2) {
      out->append(raw.substr(pos, std::min(size, raw.size() - pos)));
      return BodyState::kIncomplete;
    }
    out->append(raw.substr(pos, size));
    if (raw.substr(pos + size, 2) != "\r\n") return BodyState::kMalformed;
    pos += size + 2;
  }
}

struct Parsed {
  bool headers_done = false;
  size_t body_start = 0;
  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool no_body = false;  // HEAD, 1xx, 204, 304
};

// Parses the status line and headers once they are all in `raw`. Returns
// false for malformed bytes.
bool ParseHead(std::string_view raw, bool head_request, RawHttpResponse* r, Parsed* p) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string_view::npos) return true;  // not yet
  std::string_view head = raw.substr(0, end);
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') return false;
  std::string_view code = status_line.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  r->status = std::stoi(std::string(code));
  r->reason = status_line.size() > 13 ? std::string(status_line.substr(13)) : "";
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t next = rest.find("\r\n");
    std::string_view line = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    r->headers.emplace_back(Trim(line.substr(0, colon)), Trim(line.substr(colon + 1)));
  }
  p->headers_done = true;
  p->body_start = end + 4;
  p->no_body = head_request || (r->status >= 100 && r->status < 200) || r->status == 204 || r->status == 304;
  if (auto te = r->Header("Transfer-Encoding"); te && te->find("chunked") != std::string::npos) {
    p->chunked = true;
  } else if (auto cl = r->Header("Content-Length")) {
    uint64_t length = 0;
    auto [end_ptr, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), length);
    if (ec != std::errc() || end_ptr != cl->data() + cl->size()) return false;
    p->content_length = length;
  }
  return true;
}

BodyState CheckBody(std::string_view raw, const Parsed& p, RawHttpResponse* r) {
  std::string_view body = raw.substr(p.body_start);
  if (p.no_body) {
    r->body.clear();
    return BodyState::kComplete;
  }
  if (p.chunked) return DecodeChunked(body, &r->body);
  if (p.content_length) {
    r->body.assign(body.substr(0, std::min<uint64_t>(body.size(), *p.content_length)));
    return body.size() >= *p.content_length ? BodyState::kComplete : BodyState::kIncomplete;
  }
  r->body.assign(body);
  return BodyState::kIncomplete;  // until the server closes
}

}  // namespace

std::string_view RawHttpOutcomeName(RawHttpOutcome outcome) {
  switch (outcome) {
    case RawHttpOutcome::kComplete: return "complete";
    case RawHttpOutcome::kConnectFailed: return "connect failed";
    case RawHttpOutcome::kNoResponse: return "no response";
    case RawHttpOutcome::kTruncated: return "truncated";
    case RawHttpOutcome::kTimeout: return "timeout";
    case RawHttpOutcome::kMalformed: return "malformed";
  }
  return "?";
}

std::optional<std::string> RawHttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return std::nullopt;
}

std::string RawHttpResponse::Describe() const {
  std::string s = std::string(RawHttpOutcomeName(outcome));
  if (status) s += ", " + std::to_string(status) + " " + reason;
  s += ", " + std::to_string(body.size()) + " body bytes";
  if (auto cl = Header("Content-Length"); cl && outcome != RawHttpOutcome::kComplete) s += " of " + *cl;
  if (!error.empty()) s += " (" + error + ")";
  return s;
}

RawHttpResponse RawHttp(uint16_t port, const RawHttpRequest& request, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  RawHttpResponse r;
  Socket sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.fd() < 0) {
    r.error = std::string("socket: ") + std::strerror(errno);
    return r;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(sock.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    r.error = std::string("connect: ") + std::strerror(errno);
    return r;
  }

  std::string wire = request.method + " " + request.target + " HTTP/1.1\r\n";
  bool has_host = false, has_length = false;
  for (const auto& [k, v] : request.headers) {
    has_host |= IEquals(k, "Host");
    has_length |= IEquals(k, "Content-Length");
    wire += k + ": " + v + "\r\n";
  }
  if (!has_host) wire += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  if (!has_length && (!request.body.empty() || request.method == "PUT" || request.method == "POST")) {
    wire += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  wire += "Connection: close\r\n\r\n";
  wire += request.body;

  // Send. A server may answer (or drop us) before reading the whole body:
  // a failed send is not the end, the read below tells what happened.
  size_t sent = 0;
  while (sent < wire.size()) {
    pollfd pfd{sock.fd(), POLLOUT, 0};
    int n = ::poll(&pfd, 1, MillisLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      r.outcome = RawHttpOutcome::kTimeout;
      r.error = "timed out sending the request";
      return r;
    }
    ssize_t w = ::send(sock.fd(), wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      r.error = std::string("send: ") + std::strerror(errno);
      break;
    }
    sent += static_cast<size_t>(w);
  }

  std::string raw;
  Parsed p;
  const bool head_request = request.method == "HEAD";
  char buf[16384];
  for (;;) {
    pollfd pfd{sock.fd(), POLLIN, 0};
    int n = ::poll(&pfd, 1, MillisLeft(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      r.outcome = RawHttpOutcome::kTimeout;
      r.error = "timed out after " + std::to_string(raw.size()) + " response bytes";
      return r;
    }
    ssize_t got = ::recv(sock.fd(), buf, sizeof buf, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    bool ended = got <= 0;
    if (got < 0) r.error = std::string("recv: ") + std::strerror(errno);
    if (got > 0) raw.append(buf, static_cast<size_t>(got));

    if (!p.headers_done && !ParseHead(raw, head_request, &r, &p)) {
      r.outcome = RawHttpOutcome::kMalformed;
      r.error = "not an HTTP/1.x response";
      return r;
    }
    if (!p.headers_done) {
      if (ended) {
        r.outcome = RawHttpOutcome::kNoResponse;
        if (r.error.empty()) r.error = "closed after " + std::to_string(raw.size()) + " bytes";
        return r;
      }
      continue;
    }
    BodyState body = CheckBody(raw, p, &r);
    if (body == BodyState::kMalformed) {
      r.outcome = RawHttpOutcome::kMalformed;
      r.error = "bad chunked encoding";
      return r;
    }
    if (body == BodyState::kComplete) {
      r.outcome = RawHttpOutcome::kComplete;
      r.error.clear();
      return r;
    }
    if (ended) {
      // Without a length, the end of the connection ends the body.
      bool delimited_by_close = !p.chunked && !p.content_length && got == 0;
      r.outcome = delimited_by_close ? RawHttpOutcome::kComplete : RawHttpOutcome::kTruncated;
      if (delimited_by_close) r.error.clear();
      else if (r.error.empty()) r.error = "closed before the end of the body";
      return r;
    }
  }
}

}  // namespace freshet::testing
