// The Asio-free parts of http_client.h: endpoints, URLs, header lookup.
#include <arpa/inet.h>

#include <cctype>
#include <charconv>

#include "storage/http/http_client.h"
#include "base/ascii.h"

namespace freshet {
namespace {

bool IsIpv6Literal(std::string_view host) { return host.find(':') != std::string_view::npos; }

// A DNS name or IPv4 literal: letters, digits, '-', '.', '_' (underscores
// appear in real bucket host names).
bool IsRegName(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

bool IsValidIpv6(std::string_view host) {
  std::string h(host.substr(0, host.find('%')));  // zone ids ("%25eth0") not checked
  in6_addr addr;
  return inet_pton(AF_INET6, h.c_str(), &addr) == 1;
}

Status BadUrl(std::string_view url, std::string_view problem) {
  std::string m = "bad URL \"";
  m += url;
  m += "\": ";
  m += problem;
  return Status::InvalidArgument(std::move(m));
}

}  // namespace

std::string HttpEndpoint::HostHeader() const {
  std::string h = IsIpv6Literal(host) ? "[" + host + "]" : host;
  uint16_t default_port = tls ? 443 : 80;
  if (EffectivePort() != default_port) {
    h += ':';
    h += std::to_string(EffectivePort());
  }
  return h;
}

std::string HttpEndpoint::ToString() const {
  return (tls ? "https://" : "http://") + HostHeader();
}

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return BadUrl(url, "contains whitespace or control characters");
    }
  }
  HttpUrl out;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return BadUrl(url, "no scheme (want http:// or https://)");
  std::string_view scheme = url.substr(0, scheme_end);
  if (EqualsIgnoreCase(scheme, "http")) {
    out.endpoint.tls = false;
  } else if (EqualsIgnoreCase(scheme, "https")) {
    out.endpoint.tls = true;
  } else {
    return BadUrl(url, "unsupported scheme (want http or https)");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    // Credentials in a URL would end up in logs; freshet never uses them.
    return BadUrl(url, "user info in URLs is not supported");
  }

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl(url, "unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUrl(url, "unexpected characters after IPv6 literal");
      has_port = true;
      port_text = after.substr(1);
    }
    if (!IsValidIpv6(host)) return BadUrl(url, "invalid IPv6 literal");
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (host.empty()) return BadUrl(url, "empty host");
    if (!IsRegName(host)) return BadUrl(url, "invalid characters in host");
  }
  if (host.empty()) return BadUrl(url, "empty host");
  if (has_port) {
    if (port_text.empty()) return BadUrl(url, "empty port");
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return BadUrl(url, "port must be a number in 1..65535");
    }
    out.endpoint.port = static_cast<uint16_t>(value);
  }
  out.endpoint.host = std::string(host);

  // The fragment is never sent to a server.
  tail = tail.substr(0, tail.find('#'));
  if (tail.empty()) {
    out.target = "/";
  } else if (tail.front() == '?') {
    out.target = "/" + std::string(tail);
  } else {
    out.target = std::string(tail);
  }
  return out;
}

}  // namespace freshet
