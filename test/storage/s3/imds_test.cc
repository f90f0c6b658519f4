// The IMDSv2 credentials provider against a small fake metadata server on
// 127.0.0.1 (blocking sockets, a thread per connection), through the real
// HttpClient. Expiry is driven by a manual clock; nothing sleeps to
// synchronise (waits are on futures, with generous deadlines).
#include "storage/s3/imds_credentials.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "storage/s3/credentials.h"
#include "storage/s3/planted_secrets.h"

namespace freshet::s3 {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kRolesPath = "/latest/meta-data/iam/security-credentials/";

void ExpectNoImdsSecrets(const std::string& text) {
  ExpectNoPlantedSecrets(text);
  EXPECT_EQ(text.find("imds-session-token"), std::string::npos) << text;
}

// A fake EC2 metadata service: PUT /latest/api/token hands out a session
// token (TTL header required); GETs without that token get 401, as IMDSv2
// does; the role list and the credentials document come from Set*().
class FakeImds {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // lowercase names
  };

  FakeImds() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0) {
      ADD_FAILURE() << "fake IMDS: bind/listen failed";
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~FakeImds() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      gate_open_ = true;
    }
    gate_cv_.notify_all();
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(conn_threads_);
    }
    for (auto& t : threads) t.join();
    for (int fd : conn_fds_) ::close(fd);  // only now: no thread uses them
  }

  uint16_t port() const { return port_; }
  HttpEndpoint endpoint() const { return HttpEndpoint{false, "127.0.0.1", port_}; }

  void SetRole(std::string role) {
    std::lock_guard lock(mu_);
    role_ = std::move(role);
  }
  // The credentials document, served as is.
  void SetCredentialsJson(std::string json) {
    std::lock_guard lock(mu_);
    credentials_json_ = std::move(json);
  }
  void SetCredentials(const std::string& id, TimePoint expiration) {
    SetCredentialsJson(R"({"Code":"Success","LastUpdated":"2026-11-22T10:00:00Z","Type":"AWS-HMAC",)"
                       R"("AccessKeyId":")" + id + R"(","SecretAccessKey":"secret-)" + std::string(kSecretMark) + "-" +
                       id + R"(","Token":"token-)" + std::string(kTokenMark) + "-" + id + R"(","Expiration":")" +
                       FormatRfc3339(expiration) + R"("})");
  }
  // Status for every request to `path_prefix` (0 = normal service).
  void FailWith(std::string path_prefix, int status) {
    std::lock_guard lock(mu_);
    fail_prefix_ = std::move(path_prefix);
    fail_status_ = status;
  }
  // Requests for the credentials document wait until OpenGate().
  void CloseGate() {
    std::lock_guard lock(mu_);
    gate_open_ = false;
  }
  void OpenGate() {
    {
      std::lock_guard lock(mu_);
      gate_open_ = true;
    }
    gate_cv_.notify_all();
  }
  // Read requests, never answer (until destruction).
  void Stall() {
    std::lock_guard lock(mu_);
    stall_ = true;
  }
  // Blocks until `n` requests for the credentials document are waiting at
  // the gate (deadline: 10 s).
  bool WaitGated(int n) {
    std::unique_lock lock(mu_);
    return gate_cv_.wait_for(lock, seconds(10), [&] { return gated_ >= n; });
  }

  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int Count(std::string_view method, std::string_view target) const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const Request& r : requests_) n += r.method == method && r.target == target;
    return n;
  }
  int unauthorized() const {
    std::lock_guard lock(mu_);
    return unauthorized_;
  }

 private:
  void AcceptLoop() {
    while (true) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard lock(mu_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      conn_fds_.push_back(fd);
      conn_threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  // One keep-alive connection: requests in order until EOF.
  void Serve(int fd) {
    std::string buf;
    while (true) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        char chunk[4096];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return;
        buf.append(chunk, static_cast<size_t>(n));
      }
      Request req;
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      size_t line_end = head.find("\r\n");
      std::string first = head.substr(0, line_end);
      size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
      req.method = first.substr(0, sp1);
      req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t content_length = 0;
      for (size_t pos = line_end; pos != std::string::npos && pos < head.size();) {
        size_t next = head.find("\r\n", pos + 2);
        std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          std::string value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(' '));
          if (name == "content-length") content_length = std::stoul(value);
          req.headers[name] = value;
        }
        pos = next;
      }
      while (buf.size() < content_length) {
        char chunk[4096];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return;
        buf.append(chunk, static_cast<size_t>(n));
      }
      buf.erase(0, content_length);
      auto [status, body] = Answer(req);
      if (status == 0) return;  // stalled until shutdown
      std::string reason = status == 200   ? "OK"
                           : status == 401 ? "Unauthorized"
                           : status == 404 ? "Not Found"
                                           : "Error";
      std::string resp = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\n\r\n" + body;
      if (::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(resp.size())) return;
    }
  }

  std::pair<int, std::string> Answer(const Request& req) {
    std::unique_lock lock(mu_);
    requests_.push_back(req);
    if (stall_) {
      gate_cv_.wait(lock, [&] { return stopping_; });
      return {0, ""};
    }
    if (!fail_prefix_.empty() && req.target.starts_with(fail_prefix_)) return {fail_status_, "failure"};
    if (req.method == "PUT" && req.target == "/latest/api/token") {
      auto ttl = req.headers.find("x-aws-ec2-metadata-token-ttl-seconds");
      if (ttl == req.headers.end()) return {400, "missing TTL"};
      return {200, std::string(kToken)};
    }
    auto token = req.headers.find("x-aws-ec2-metadata-token");
    if (token == req.headers.end() || token->second != kToken) {
      ++unauthorized_;
      return {401, ""};
    }
    if (req.method != "GET") return {405, ""};
    if (req.target == kRolesPath) {
      if (role_.empty()) return {404, ""};
      return {200, role_ + "\n"};
    }
    if (req.target.starts_with(kRolesPath)) {
      ++gated_;
      gate_cv_.notify_all();
      gate_cv_.wait(lock, [&] { return gate_open_; });
      --gated_;
      if (req.target != std::string(kRolesPath) + escaped_role()) return {404, ""};
      return {200, credentials_json_};
    }
    return {404, ""};
  }

  // REQUIRES: mu_ held.
  std::string escaped_role() const {
    std::string out;
    for (char c : role_) {
      if (c == '+') {
        out += "%2B";
      } else {
        out += c;
      }
    }
    return out;
  }

  static constexpr std::string_view kToken = "imds-session-token==";

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::condition_variable gate_cv_;
  bool stopping_ = false;
  bool stall_ = false;
  bool gate_open_ = true;
  int gated_ = 0;
  std::string role_ = "web-role";
  std::string credentials_json_;
  std::string fail_prefix_;
  int fail_status_ = 0;
  int unauthorized_ = 0;
  std::vector<Request> requests_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> conn_threads_;
};

// 2026-11-22T12:00:00Z
const TimePoint kStart = FromUnixMillis(1'795'348'800'000);

class ImdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpClient::Options o;
    o.connect_timeout = milliseconds(2000);
    Result<std::unique_ptr<HttpClient>> http = HttpClient::Create(o);
    ASSERT_TRUE(http.ok()) << http.status().ToString();
    http_ = std::move(http).value();
    server_.SetCredentials("AKIAFIRST", kStart + std::chrono::hours(6));
  }

  ImdsOptions Options() {
    ImdsOptions o;
    o.endpoint = server_.endpoint();
    o.now = [this] { return clock_.Now(); };
    return o;
  }

  std::shared_ptr<CredentialsProvider> Provider() { return MakeImdsCredentials(http_.get(), Options()); }

  static Result<sigv4::Credentials> Get(CredentialsProvider& p) {
    auto promise = std::make_shared<std::promise<Result<sigv4::Credentials>>>();
    std::future<Result<sigv4::Credentials>> f = promise->get_future();
    p.Get([promise](Result<sigv4::Credentials> r) { promise->set_value(std::move(r)); });
    if (f.wait_for(seconds(20)) != std::future_status::ready) return Status::Internal("Get did not complete in 20 s");
    Result<sigv4::Credentials> r = f.get();
    if (!r.ok()) ExpectNoImdsSecrets(r.status().message());
    ExpectNoImdsSecrets(p.Describe());
    return r;
  }

  FakeImds server_;
  ManualClock clock_{kStart};
  std::unique_ptr<HttpClient> http_;
};

TEST_F(ImdsTest, TokenThenRoleThenCredentials) {
  auto p = Provider();
  EXPECT_EQ(p->Describe(), "instance metadata (" + server_.endpoint().ToString() + ")");
  Result<sigv4::Credentials> c = Get(*p);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAFIRST");
  EXPECT_EQ(c->secret_access_key, "secret-" + std::string(kSecretMark) + "-AKIAFIRST");
  EXPECT_EQ(c->session_token, "token-" + std::string(kTokenMark) + "-AKIAFIRST");
  EXPECT_EQ(p->Describe(), "instance metadata role web-role (" + server_.endpoint().ToString() + ")");

  std::vector<FakeImds::Request> reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].target, "/latest/api/token");
  EXPECT_EQ(reqs[0].headers["x-aws-ec2-metadata-token-ttl-seconds"], "21600");
  EXPECT_EQ(reqs[1].method, "GET");
  EXPECT_EQ(reqs[1].target, kRolesPath);
  EXPECT_EQ(reqs[2].target, std::string(kRolesPath) + "web-role");
  EXPECT_EQ(server_.unauthorized(), 0);
}

TEST_F(ImdsTest, FakeServerRejectsGetsWithoutTheToken) {
  // The fake enforces the IMDSv2 rule the provider depends on.
  HttpRequest r;
  r.target = std::string(kRolesPath);
  std::promise<Result<HttpResponse>> done;
  http_->Send(server_.endpoint(), r, [&](Result<HttpResponse> resp) { done.set_value(std::move(resp)); });
  std::future<Result<HttpResponse>> f = done.get_future();
  ASSERT_EQ(f.wait_for(seconds(20)), std::future_status::ready);
  Result<HttpResponse> resp = f.get();
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 401);
  EXPECT_EQ(server_.unauthorized(), 1);
}

TEST_F(ImdsTest, CachedCredentialsNeedNoRequests) {
  auto p = Provider();
  ASSERT_TRUE(Get(*p).ok());
  const size_t after_first = server_.requests().size();
  clock_.Advance(std::chrono::hours(5));  // 1 h left: still outside the 5 min window
  for (int i = 0; i < 10; ++i) {
    Result<sigv4::Credentials> c = Get(*p);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->access_key_id, "AKIAFIRST");
  }
  EXPECT_EQ(server_.requests().size(), after_first);
}

TEST_F(ImdsTest, RefreshesWithinFiveMinutesOfExpiry) {
  auto p = Provider();
  ASSERT_TRUE(Get(*p).ok());
  server_.SetCredentials("AKIASECOND", kStart + std::chrono::hours(12));
  clock_.Set(kStart + std::chrono::hours(6) - std::chrono::minutes(6));
  EXPECT_EQ(Get(*p)->access_key_id, "AKIAFIRST");  // 6 min left: cached
  EXPECT_EQ(server_.Count("PUT", "/latest/api/token"), 1);

  clock_.Set(kStart + std::chrono::hours(6) - std::chrono::minutes(4));
  Result<sigv4::Credentials> c = Get(*p);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIASECOND");
  EXPECT_EQ(server_.Count("PUT", "/latest/api/token"), 2);
  EXPECT_EQ(server_.Count("GET", std::string(kRolesPath) + "web-role"), 2);

  // The new credentials are cached in turn.
  EXPECT_EQ(Get(*p)->access_key_id, "AKIASECOND");
  EXPECT_EQ(server_.requests().size(), 6u);
}

TEST_F(ImdsTest, FailedRefreshKeepsValidCachedCredentials) {
  auto p = Provider();
  ASSERT_TRUE(Get(*p).ok());
  server_.FailWith("/latest/api/token", 500);
  clock_.Set(kStart + std::chrono::hours(6) - std::chrono::minutes(4));
  Result<sigv4::Credentials> c = Get(*p);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAFIRST");
  EXPECT_EQ(server_.Count("PUT", "/latest/api/token"), 2);

  // Not asked again for retry_interval (30 s)...
  clock_.Advance(seconds(10));
  EXPECT_EQ(Get(*p)->access_key_id, "AKIAFIRST");
  EXPECT_EQ(server_.Count("PUT", "/latest/api/token"), 2);
  // ...then asked again, and the answer taken once the service is back.
  clock_.Advance(seconds(30));
  EXPECT_EQ(Get(*p)->access_key_id, "AKIAFIRST");
  EXPECT_EQ(server_.Count("PUT", "/latest/api/token"), 3);
  server_.FailWith("", 0);
  server_.SetCredentials("AKIASECOND", kStart + std::chrono::hours(12));
  clock_.Advance(seconds(31));
  EXPECT_EQ(Get(*p)->access_key_id, "AKIASECOND");
}

TEST_F(ImdsTest, FailedRefreshAfterExpiryIsPermissionDenied) {
  auto p = Provider();
  ASSERT_TRUE(Get(*p).ok());
  server_.FailWith(std::string(kRolesPath), 500);
  clock_.Set(kStart + std::chrono::hours(6));  // expired
  Result<sigv4::Credentials> c = Get(*p);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(c.status().message(),
            "no AWS credentials: not in config, environment or shared credentials file, and instance metadata at " +
                server_.endpoint().ToString() + " failed: role request: HTTP 500");
}

TEST_F(ImdsTest, FailureWithNothingCachedIsPermissionDenied) {
  server_.FailWith("/latest/api/token", 403);  // IMDSv2 disabled or hop limit
  auto p = Provider();
  Result<sigv4::Credentials> c = Get(*p);
  ASSERT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("instance metadata at " + server_.endpoint().ToString() +
                                      " failed: token request: HTTP 403"),
            std::string::npos)
      << c.status().message();
  // No cache, so the next Get asks again at once.
  server_.FailWith("", 0);
  EXPECT_TRUE(Get(*p).ok());
}

TEST_F(ImdsTest, NoRoleAttached) {
  server_.SetRole("");
  auto p = Provider();
  Result<sigv4::Credentials> c = Get(*p);
  ASSERT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("no IAM role attached"), std::string::npos) << c.status().message();
}

TEST_F(ImdsTest, RoleNameIsEscapedInThePath) {
  server_.SetRole("app+web");
  auto p = Provider();
  Result<sigv4::Credentials> c = Get(*p);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(server_.Count("GET", std::string(kRolesPath) + "app%2Bweb"), 1);
  EXPECT_EQ(p->Describe(), "instance metadata role app+web (" + server_.endpoint().ToString() + ")");
}

TEST_F(ImdsTest, BadCredentialsDocuments) {
  const std::string secret = "\"SecretAccessKey\":\"s-" + std::string(kSecretMark) + "\"";
  const std::string token = "\"Token\":\"t-" + std::string(kTokenMark) + "\"";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json " + std::string(kSecretMark), "not a JSON object"},
      {R"({"Code":"AssumeRoleUnauthorizedAccess","AccessKeyId":"A",)" + secret + "," + token +
           R"(,"Expiration":"2026-11-22T18:00:00Z"})",
       "Code is 'AssumeRoleUnauthorizedAccess'"},
      {R"({"Code":"Success",)" + secret + "," + token + R"(,"Expiration":"2026-11-22T18:00:00Z"})", "no AccessKeyId"},
      {R"({"Code":"Success","AccessKeyId":"A",)" + token + R"(,"Expiration":"2026-11-22T18:00:00Z"})",
       "no SecretAccessKey"},
      {R"({"Code":"Success","AccessKeyId":"A",)" + secret + R"(,"Expiration":"2026-11-22T18:00:00Z"})", "no Token"},
      {R"({"Code":"Success","AccessKeyId":"A",)" + secret + "," + token + "}", "no Expiration"},
      {R"({"Code":"Success","AccessKeyId":"A",)" + secret + "," + token + R"(,"Expiration":"tomorrow"})",
       "not an RFC 3339 time"},
      {R"({"Code":"Success","AccessKeyId":"A",)" + secret + "," + token + R"(,"Expiration":"2026-11-22T11:00:00Z"})",
       "already expired"},
  };
  for (const auto& [json, why] : cases) {
    server_.SetCredentialsJson(json);
    auto p = Provider();
    Result<sigv4::Credentials> c = Get(*p);
    ASSERT_EQ(c.status().code(), StatusCode::kPermissionDenied) << json;
    EXPECT_NE(c.status().message().find("failed: credentials for role web-role: "), std::string::npos)
        << c.status().message();
    EXPECT_NE(c.status().message().find(why), std::string::npos) << c.status().message();
  }
}

TEST_F(ImdsTest, ConcurrentGetsShareOneRefresh) {
  auto p = Provider();
  server_.CloseGate();
  constexpr int kCallers = 8;
  std::vector<std::future<Result<sigv4::Credentials>>> results;
  std::vector<std::shared_ptr<std::promise<Result<sigv4::Credentials>>>> promises;
  for (int i = 0; i < kCallers; ++i) {
    auto promise = std::make_shared<std::promise<Result<sigv4::Credentials>>>();
    results.push_back(promise->get_future());
    p->Get([promise](Result<sigv4::Credentials> r) { promise->set_value(std::move(r)); });
  }
  ASSERT_TRUE(server_.WaitGated(1));
  for (auto& f : results) EXPECT_EQ(f.wait_for(milliseconds(0)), std::future_status::timeout);
  // Callers arriving now join the same refresh.
  auto late = std::make_shared<std::promise<Result<sigv4::Credentials>>>();
  results.push_back(late->get_future());
  p->Get([late](Result<sigv4::Credentials> r) { late->set_value(std::move(r)); });
  server_.OpenGate();
  for (auto& f : results) {
    ASSERT_EQ(f.wait_for(seconds(20)), std::future_status::ready);
    Result<sigv4::Credentials> c = f.get();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->access_key_id, "AKIAFIRST");
  }
  EXPECT_EQ(server_.Count("PUT", "/latest/api/token"), 1);
  EXPECT_EQ(server_.requests().size(), 3u);
}

TEST_F(ImdsTest, ServerDownFailsFast) {
  // A port nobody listens on: take one from the kernel, then close it.
  uint16_t port;
  {
    FakeImds gone;
    port = gone.port();
  }
  ImdsOptions o = Options();
  o.endpoint = HttpEndpoint{false, "127.0.0.1", port};
  auto p = MakeImdsCredentials(http_.get(), o);
  auto start = std::chrono::steady_clock::now();
  Result<sigv4::Credentials> c = Get(*p);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
  ASSERT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("instance metadata at http://127.0.0.1:" + std::to_string(port) +
                                      " failed: token request: "),
            std::string::npos)
      << c.status().message();
}

TEST_F(ImdsTest, SilentServerIsBoundedByTheRefreshTimeout) {
  // 169.254.169.254 off EC2 does not refuse; it never answers. The refresh
  // deadline bounds that even when the per-request timeout is long.
  server_.Stall();
  ImdsOptions o = Options();
  o.request_timeout = seconds(30);
  o.refresh_timeout = milliseconds(300);
  auto p = MakeImdsCredentials(http_.get(), o);
  auto start = std::chrono::steady_clock::now();
  Result<sigv4::Credentials> c = Get(*p);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
  ASSERT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("failed: no answer within 300ms"), std::string::npos) << c.status().message();
}

TEST_F(ImdsTest, PerRequestTimeout) {
  server_.Stall();
  ImdsOptions o = Options();
  o.request_timeout = milliseconds(200);
  o.refresh_timeout = seconds(30);
  auto p = MakeImdsCredentials(http_.get(), o);
  Result<sigv4::Credentials> c = Get(*p);
  ASSERT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("token request: DeadlineExceeded"), std::string::npos) << c.status().message();
}

TEST_F(ImdsTest, ChainUsesTheEndpointVariable) {
  S3Options none;
  std::map<std::string, std::string> vars = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server_.endpoint().ToString()}};
  EnvLookup env = [&vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  // The chain's provider runs on the system clock.
  server_.SetCredentials("AKIAFIRST", SystemClock::Instance()->Now() + std::chrono::hours(6));
  Result<std::shared_ptr<CredentialsProvider>> chain = MakeCredentialsChain(none, env, http_.get());
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  Result<sigv4::Credentials> c = Get(**chain);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAFIRST");
  EXPECT_EQ((*chain)->Describe(), "instance metadata role web-role (" + server_.endpoint().ToString() + ")");

  // AWS_EC2_METADATA_DISABLED=true: no request at all.
  const size_t before = server_.requests().size();
  vars["AWS_EC2_METADATA_DISABLED"] = "true";
  chain = MakeCredentialsChain(none, env, http_.get());
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(server_.requests().size(), before);
  // Anything else leaves it on.
  vars["AWS_EC2_METADATA_DISABLED"] = "false";
  chain = MakeCredentialsChain(none, env, http_.get());
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
}

}  // namespace
}  // namespace freshet::s3
