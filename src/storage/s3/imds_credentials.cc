#include "storage/s3/imds_credentials.h"

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "base/clock.h"

namespace freshet::s3 {
namespace {

constexpr std::string_view kTokenPath = "/latest/api/token";
constexpr std::string_view kRolesPath = "/latest/meta-data/iam/security-credentials/";

std::string_view TrimSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

// Role names are [A-Za-z0-9+=,.@_-]; anything else is escaped all the same.
std::string EscapePathSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string HttpFailure(std::string_view step, const Result<HttpResponse>& r) {
  if (!r.ok()) return std::string(step) + ": " + r.status().ToString();
  return std::string(step) + ": HTTP " + std::to_string(r->status);
}

struct Fetched {
  sigv4::Credentials credentials;
  TimePoint expiration;
  std::string role;
};

// The credentials document; errors name the field, never a value.
Result<Fetched> ParseCredentialsDocument(std::string_view body, const std::string& role, TimePoint now) {
  const std::string what = "credentials for role " + role;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return Status::DataLoss(what + ": not a JSON object");
  auto field = [&](const char* name) -> std::optional<std::string> {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
  };
  if (std::optional<std::string> code = field("Code"); code && *code != "Success") {
    return Status::DataLoss(what + ": Code is '" + *code + "'");
  }
  Fetched f;
  f.role = role;
  std::optional<std::string> id = field("AccessKeyId");
  std::optional<std::string> secret = field("SecretAccessKey");
  std::optional<std::string> token = field("Token");
  std::optional<std::string> expiration = field("Expiration");
  if (!id || id->empty()) return Status::DataLoss(what + ": no AccessKeyId");
  if (!secret || secret->empty()) return Status::DataLoss(what + ": no SecretAccessKey");
  if (!token || token->empty()) return Status::DataLoss(what + ": no Token");
  if (!expiration) return Status::DataLoss(what + ": no Expiration");
  Result<TimePoint> exp = ParseRfc3339(*expiration);
  if (!exp.ok()) return Status::DataLoss(what + ": Expiration '" + *expiration + "' is not an RFC 3339 time");
  if (*exp <= now) return Status::DataLoss(what + ": already expired at " + *expiration);
  f.credentials = sigv4::Credentials{std::move(*id), std::move(*secret), std::move(*token)};
  f.expiration = *exp;
  return f;
}

class ImdsCredentials final : public CredentialsProvider, public std::enable_shared_from_this<ImdsCredentials> {
 public:
  ImdsCredentials(HttpClient* http, ImdsOptions options) : http_(http), options_(std::move(options)) {}

  void Get(std::function<void(Result<sigv4::Credentials>)> done) override {
    const TimePoint now = options_.now();
    uint64_t generation;
    {
      std::unique_lock lock(mu_);
      if (cached_ && ServeCachedLocked(now)) {
        sigv4::Credentials creds = cached_->credentials;
        lock.unlock();
        done(std::move(creds));
        return;
      }
      waiters_.push_back(std::move(done));
      if (refreshing_) return;  // joins the refresh in flight
      refreshing_ = true;
      generation = ++generation_;
    }
    StartRefresh(generation);
  }

  std::string Describe() const override {
    std::lock_guard lock(mu_);
    if (cached_) return "instance metadata role " + cached_->role + " (" + options_.endpoint.ToString() + ")";
    return "instance metadata (" + options_.endpoint.ToString() + ")";
  }

 private:
  // REQUIRES: mu_ held, cached_ set.
  bool ServeCachedLocked(TimePoint now) const {
    if (now >= cached_->expiration) return false;
    if (now + options_.refresh_before_expiry < cached_->expiration) return true;
    // In the refresh window: refresh, unless a refresh ended lately (it
    // failed, or S3 handed out credentials that expire soon anyway).
    return last_refresh_ && now < *last_refresh_ + options_.retry_interval;
  }

  HttpRequest Request(std::string method, std::string target, HttpHeaders headers) const {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.timeout = options_.request_timeout;
    return r;
  }

  // True if `generation` is still the refresh in flight (a deadline or a
  // newer refresh makes late answers moot).
  bool Current(uint64_t generation) const {
    std::lock_guard lock(mu_);
    return refreshing_ && generation == generation_;
  }

  void StartRefresh(uint64_t generation) {
    std::weak_ptr<ImdsCredentials> weak = weak_from_this();
    http_->RunAfter(options_.refresh_timeout, [weak, generation] {
      if (auto self = weak.lock()) {
        self->Finish(generation, Status::DeadlineExceeded(
                                     "no answer within " + FormatDuration(self->options_.refresh_timeout)));
      }
    });
    http_->Send(options_.endpoint,
                Request("PUT", std::string(kTokenPath),
                        {{"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(options_.token_ttl.count())}}),
                [self = shared_from_this(), generation](Result<HttpResponse> r) {
                  self->OnToken(generation, std::move(r));
                });
  }

  void OnToken(uint64_t generation, Result<HttpResponse> r) {
    if (!Current(generation)) return;
    if (!r.ok() || r->status != 200) return Finish(generation, Status::Unavailable(HttpFailure("token request", r)));
    std::string token(TrimSpace(r->body));
    if (token.empty()) return Finish(generation, Status::Unavailable("token request: empty token"));
    http_->Send(options_.endpoint, Request("GET", std::string(kRolesPath), {{"X-aws-ec2-metadata-token", token}}),
                [self = shared_from_this(), generation, token](Result<HttpResponse> r) {
                  self->OnRole(generation, token, std::move(r));
                });
  }

  void OnRole(uint64_t generation, std::string token, Result<HttpResponse> r) {
    if (!Current(generation)) return;
    if (r.ok() && r->status == 404) {
      return Finish(generation, Status::NotFound("no IAM role attached to the instance (HTTP 404)"));
    }
    if (!r.ok() || r->status != 200) return Finish(generation, Status::Unavailable(HttpFailure("role request", r)));
    std::string_view body = r->body;
    std::string role(TrimSpace(body.substr(0, body.find('\n'))));
    if (role.empty()) return Finish(generation, Status::NotFound("no IAM role attached to the instance"));
    http_->Send(options_.endpoint,
                Request("GET", std::string(kRolesPath) + EscapePathSegment(role),
                        {{"X-aws-ec2-metadata-token", std::move(token)}}),
                [self = shared_from_this(), generation, role](Result<HttpResponse> r) {
                  self->OnCredentials(generation, role, std::move(r));
                });
  }

  void OnCredentials(uint64_t generation, std::string role, Result<HttpResponse> r) {
    if (!Current(generation)) return;
    if (!r.ok() || r->status != 200) {
      return Finish(generation, Status::Unavailable(HttpFailure("credentials request for role " + role, r)));
    }
    Finish(generation, ParseCredentialsDocument(r->body, role, options_.now()));
  }

  void Finish(uint64_t generation, Result<Fetched> outcome) {
    const TimePoint now = options_.now();
    std::vector<std::function<void(Result<sigv4::Credentials>)>> waiters;
    std::optional<Result<sigv4::Credentials>> result;
    {
      std::lock_guard lock(mu_);
      if (!refreshing_ || generation != generation_) return;  // already finished (deadline)
      refreshing_ = false;
      last_refresh_ = now;
      if (outcome.ok()) {
        cached_ = std::move(outcome).value();
        result.emplace(cached_->credentials);
      } else if (cached_ && now < cached_->expiration) {
        spdlog::warn("S3 credentials: refreshing from instance metadata at {} failed ({}); still using role {}'s "
                     "credentials, which expire at {}",
                     options_.endpoint.ToString(), outcome.status().ToString(), cached_->role,
                     FormatRfc3339(cached_->expiration));
        result.emplace(cached_->credentials);
      } else {
        result.emplace(Status::PermissionDenied(
            "no AWS credentials: not in config, environment or shared credentials file, and instance metadata at " +
            options_.endpoint.ToString() + " failed: " + outcome.status().message()));
      }
      waiters.swap(waiters_);
    }
    for (auto& w : waiters) w(*result);
  }

  HttpClient* const http_;
  const ImdsOptions options_;

  mutable std::mutex mu_;
  // Guarded by mu_.
  std::optional<Fetched> cached_;
  bool refreshing_ = false;
  uint64_t generation_ = 0;                 // of the refresh in flight, or the last one
  std::optional<TimePoint> last_refresh_;   // when the last refresh ended
  std::vector<std::function<void(Result<sigv4::Credentials>)>> waiters_;
};

}  // namespace

std::shared_ptr<CredentialsProvider> MakeImdsCredentials(HttpClient* http, ImdsOptions options) {
  if (!options.now) options.now = [] { return SystemClock::Instance()->Now(); };
  return std::make_shared<ImdsCredentials>(http, std::move(options));
}

}  // namespace freshet::s3
