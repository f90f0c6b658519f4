// Helpers for the HttpClient tests: blocking sends and a collector for
// many concurrent calls. Header-only (the test build compiles *_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "storage/http/http_client.h"

namespace freshet::testing {

inline std::unique_ptr<HttpClient> MakeClient(HttpClient::Options options = {}) {
  Result<std::unique_ptr<HttpClient>> c = HttpClient::Create(std::move(options));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

inline HttpRequest Request(std::string method, std::string target, std::string body = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

inline Result<HttpResponse> SendSync(HttpClient& client, const HttpEndpoint& endpoint, HttpRequest request) {
  auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
  std::future<Result<HttpResponse>> future = promise->get_future();
  client.Send(endpoint, std::move(request), [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
  return future.get();
}

// Collects the results of many calls; checks each callback runs once.
class Collector {
 public:
  explicit Collector(size_t n) : results_(n), calls_(n, 0) {}

  HttpCallback Callback(size_t i) {
    return [this, i](Result<HttpResponse> r) {
      std::lock_guard<std::mutex> lock(mu_);
      calls_[i]++;
      threads_.push_back(std::this_thread::get_id());
      results_[i].emplace(std::move(r));
      done_++;
      cv_.notify_all();
    };
  }
  // Waits (generously) for all n results.
  bool WaitAll(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done_ == results_.size(); });
  }
  // REQUIRES: WaitAll() returned true.
  const Result<HttpResponse>& result(size_t i) const { return *results_[i]; }
  int calls(size_t i) const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[i];
  }
  std::vector<std::thread::id> threads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Result<HttpResponse>>> results_;
  std::vector<int> calls_;
  std::vector<std::thread::id> threads_;
  size_t done_ = 0;
};

inline bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace freshet::testing
