// A small scriptable HTTP/1.1 server (plain or TLS) on 127.0.0.1, port 0,
// for the HttpClient tests. Header-only: the test build compiles only
// *_test.cc files.
//
// One thread accepts; each connection gets a thread that reads requests
// with Beast's synchronous parser and answers each as the handler scripts
// it: status, headers, body, chunked, a delay, a stall, or a fault (close
// without answering, close after the header, half the body, a reset).
// Replies are written as raw bytes so faults are exact.
//
// Stop() (and the destructor) unblocks everything: it shuts down the
// listening socket and every connection's socket and wakes delayed or
// stalled replies, then joins all threads.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "storage/http/http_client.h"

namespace freshet::testing {

struct ServerRequest {
  std::string method;
  std::string target;
  HttpHeaders headers;
  std::string body;
  uint64_t connection = 0;  // 1-based, in accept order
  uint64_t index_on_connection = 0;  // 1-based

  std::string Header(std::string_view name) const {
    HttpResponse r;
    r.headers = headers;
    auto v = r.Header(name);
    return v ? std::string(*v) : std::string();
  }
};

struct ServerReply {
  enum class Mode {
    kNormal,                // Content-Length framing
    kChunked,               // Transfer-Encoding: chunked, 7-byte chunks
    kUnterminatedChunks,    // chunks without the last chunk, then close
    kNoLength,              // no Content-Length: body ends at EOF (close)
    kHalfBody,              // Content-Length, half the body, then close
    kResetMidBody,          // Content-Length, half the body, then RST
    kHeaderThenClose,       // the header only, then close
    kCloseWithoutResponse,  // read the request, close without a byte
    kStall,                 // never answer (until the client or Stop closes)
  };
  int status = 200;
  HttpHeaders headers;
  std::string body;
  Mode mode = Mode::kNormal;
  std::chrono::milliseconds delay{0};  // before answering
  bool connection_close = false;       // "Connection: close", then close
  bool close_after = false;            // close after answering, without saying so
  bool http10 = false;                 // answer as HTTP/1.0 (no keep-alive)
};

using ServerHandler = std::function<ServerReply(const ServerRequest&)>;

class TestHttpServer {
 public:
  struct Options {
    // TLS with this certificate and key (PEM) when set; plain HTTP otherwise.
    std::string cert_pem;
    std::string key_pem;
    // Accept connections but never read or write on them (a TLS client's
    // handshake stalls; a plain client's request goes unanswered).
    bool silent = false;
  };

  TestHttpServer(Options options, ServerHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        ssl_ctx_(boost::asio::ssl::context::tls_server),
        acceptor_(ioc_, boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0)) {
    if (tls()) {
      ssl_ctx_.use_certificate_chain(boost::asio::buffer(options_.cert_pem));
      ssl_ctx_.use_private_key(boost::asio::buffer(options_.key_pem), boost::asio::ssl::context::pem);
    }
    port_ = acceptor_.local_endpoint().port();
    listen_fd_ = acceptor_.native_handle();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  explicit TestHttpServer(ServerHandler handler) : TestHttpServer(Options{}, std::move(handler)) {}
  ~TestHttpServer() { Stop(); }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  bool tls() const { return !options_.cert_pem.empty(); }
  uint16_t port() const { return port_; }
  HttpEndpoint endpoint() const { return HttpEndpoint{tls(), "127.0.0.1", port_}; }

  uint64_t connections_accepted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }
  int open_connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_;
  }
  int max_open_connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_open_;
  }
  std::vector<ServerRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  // Blocks until exactly `n` connections are open (the server has seen the
  // others close) or `timeout` passes; returns whether it happened.
  bool WaitForOpenConnections(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return open_ == n; });
  }
  // Blocks until at least `n` requests have arrived.
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      // Linux wakes a blocked accept() on a shut-down listening socket.
      ::shutdown(listen_fd_, SHUT_RDWR);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  using tcp = boost::asio::ip::tcp;
  using error_code = boost::system::error_code;

  void AcceptLoop() {
    for (;;) {
      tcp::socket socket(ioc_);
      error_code ec;
      acceptor_.accept(socket, ec);
      std::lock_guard<std::mutex> lock(mu_);
      if (ec || stopping_) return;
      uint64_t number = ++accepted_;
      open_++;
      max_open_ = std::max(max_open_, open_);
      fds_.insert(socket.native_handle());
      threads_.emplace_back([this, s = std::move(socket), number]() mutable { Serve(std::move(s), number); });
      cv_.notify_all();
    }
  }

  void Serve(tcp::socket socket, uint64_t number) {
    int fd = socket.native_handle();
    bool reset = false;
    if (options_.silent) {
      WaitUntilStopped(std::chrono::hours(1));
    } else if (tls()) {
      boost::asio::ssl::stream<tcp::socket&> stream(socket, ssl_ctx_);
      error_code ec;
      stream.handshake(boost::asio::ssl::stream_base::server, ec);
      if (!ec) reset = ServeRequests(stream, number);
    } else {
      reset = ServeRequests(socket, number);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      fds_.erase(fd);
      error_code ignored;
      if (reset) socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
      open_--;
    }
    cv_.notify_all();
  }

  // Returns true when the connection should end with a reset.
  template <class Stream>
  bool ServeRequests(Stream& stream, uint64_t number) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (uint64_t index = 1;; ++index) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(uint64_t{1} << 32);
      error_code ec;
      http::read(stream, buffer, parser, ec);
      if (ec) return false;
      ServerRequest req;
      auto& msg = parser.get();
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      req.body = msg.body();
      req.connection = number;
      req.index_on_connection = index;
      ServerReply reply = handler_(req);
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      cv_.notify_all();
      if (reply.delay.count() > 0 && WaitUntilStopped(reply.delay)) return false;
      using Mode = ServerReply::Mode;
      if (reply.mode == Mode::kStall) {
        WaitUntilStopped(std::chrono::hours(1));
        return false;
      }
      if (reply.mode == Mode::kCloseWithoutResponse) return false;

      bool head = req.method == "HEAD";
      std::string out = reply.http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
      out += std::to_string(reply.status) + " " + Reason(reply.status) + "\r\n";
      bool has_length = false;
      for (const auto& [k, v] : reply.headers) {
        out += k + ": " + v + "\r\n";
        if (k == "Content-Length") has_length = true;
      }
      bool chunked = reply.mode == Mode::kChunked || reply.mode == Mode::kUnterminatedChunks;
      if (chunked) {
        out += "Transfer-Encoding: chunked\r\n";
      } else if (reply.mode != Mode::kNoLength && !has_length) {
        out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
      }
      if (reply.connection_close) out += "Connection: close\r\n";
      out += "\r\n";
      const std::string& body = reply.body;
      if (!head) {
        switch (reply.mode) {
          case Mode::kChunked:
          case Mode::kUnterminatedChunks:
            for (size_t i = 0; i < body.size(); i += 7) {
              std::string piece = body.substr(i, 7);
              char size[16];
              std::snprintf(size, sizeof size, "%zx", piece.size());
              out += std::string(size) + "\r\n" + piece + "\r\n";
            }
            if (reply.mode == Mode::kChunked) out += "0\r\n\r\n";
            break;
          case Mode::kHalfBody:
          case Mode::kResetMidBody:
            out += body.substr(0, body.size() / 2);
            break;
          case Mode::kHeaderThenClose:
            break;
          default:
            out += body;
        }
      }
      boost::asio::write(stream, boost::asio::buffer(out), ec);
      if (ec) return false;
      if (reply.mode == Mode::kResetMidBody) return true;
      if (reply.mode != Mode::kNormal && reply.mode != Mode::kChunked) return false;
      if (reply.connection_close || reply.close_after) return false;
    }
  }

  // Returns true if stopping.
  bool WaitUntilStopped(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, d, [&] { return stopping_; });
  }

  static std::string Reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 204: return "No Content";
      case 404: return "Not Found";
      case 500: return "Internal Server Error";
      case 503: return "Service Unavailable";
      default: return "Status";
    }
  }

  const Options options_;
  const ServerHandler handler_;
  boost::asio::io_context ioc_;  // sockets only: all I/O here is synchronous
  boost::asio::ssl::context ssl_ctx_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t accepted_ = 0;
  int open_ = 0;
  int max_open_ = 0;
  std::set<int> fds_;  // open connections, for Stop() to shut down
  std::vector<std::thread> threads_;
  std::vector<ServerRequest> requests_;
};

}  // namespace freshet::testing
