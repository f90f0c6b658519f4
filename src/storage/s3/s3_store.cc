#include "storage/s3/s3_store.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/md5.h"
#include "storage/object_key.h"
#include "storage/s3/s3_xml.h"
#include "storage/s3/sigv4.h"

namespace freshet {

// One logical S3 request: what to send, how to judge the answer, whom to
// tell. Attempts re-sign and resend the same request.
struct S3Store::Call {
  std::string op;        // "GetObject" (stats, messages)
  std::string method;
  std::string full_key;  // "" addresses the bucket
  std::vector<std::pair<std::string, std::string>> query;
  HttpHeaders headers;   // extra headers, lowercase names; all are signed
  std::shared_ptr<const std::string> body;
  std::string payload_hash;
  // A 2xx response: OK finishes the call; a retryable status retries it
  // (set integrity_failure when the bytes were wrong, so that running out
  // of attempts reports kDataLoss); anything else ends it.
  std::function<Status(HttpResponse&)> accept;
  // A non-2xx response, before the generic mapping: a value ends the call
  // with that status (OK included).
  std::function<std::optional<Status>(const HttpResponse&, const s3::S3Error&)> on_error;
  std::function<void(Status)> finish;
  // For requests that are not safely repeatable (see the header): asks
  // whether the request took effect after all; `done(true)` ends the call
  // successfully. Consulted only once maybe_applied is set.
  std::function<void(std::function<void(bool)>)> check_applied;

  uint32_t attempt = 0;
  bool integrity_failure = false;
  // An attempt ended without a whole response (reset, truncated body,
  // timeout): the server may have applied it.
  bool maybe_applied = false;
};

// One multipart upload: parts go up `multipart_parallelism` at a time.
struct S3Store::Multipart {
  std::string key;
  std::string full_key;
  bool if_none_match = false;
  std::optional<std::string> if_match;
  std::shared_ptr<const std::string> body;  // or:
  std::shared_ptr<const SpoolFile> file;    // parts are read from it as they go up
  uint64_t size = 0;
  StoreCallback<ObjectInfo> done;
  std::string upload_id;

  std::mutex mu;
  uint32_t parts_total = 0;
  uint32_t next_part = 0;  // 0-based index of the next part to start
  uint32_t in_flight = 0;
  uint32_t parts_done = 0;
  std::vector<std::string> etags;
  std::vector<std::string> part_md5;  // hex, of the bytes we sent
  Status failure;
  bool aborting = false;
};

namespace {

constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

// The 16 raw bytes of a 32-digit lowercase hex MD5.
std::string Md5Raw(std::string_view hex) {
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string raw(16, '\0');
  for (size_t i = 0; i < 16; ++i) raw[i] = static_cast<char>(nib(hex[2 * i]) * 16 + nib(hex[2 * i + 1]));
  return raw;
}

// Content-MD5 wants the base64 of the 16 raw bytes; Md5Hex gives hex.
// From the hex digest, so that a body is hashed once.
std::string Md5HexToBase64(const std::string& hex) {
  std::string raw = Md5Raw(hex);
  return Base64(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}
std::string Md5Base64(std::string_view data) { return Md5HexToBase64(Md5Hex(data)); }

bool ParseU64(std::string_view s, uint64_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// "bytes 0-99/1234" -> first, last, total. "bytes */1234" -> total only.
struct ContentRange {
  bool has_range = false;
  uint64_t first = 0, last = 0, total = 0;
};
std::optional<ContentRange> ParseContentRange(std::string_view v) {
  if (!v.starts_with("bytes ")) return std::nullopt;
  v.remove_prefix(6);
  size_t slash = v.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  ContentRange r;
  if (!ParseU64(v.substr(slash + 1), &r.total)) return std::nullopt;
  std::string_view range = v.substr(0, slash);
  if (range == "*") return r;
  size_t dash = range.find('-');
  if (dash == std::string_view::npos || !ParseU64(range.substr(0, dash), &r.first) ||
      !ParseU64(range.substr(dash + 1), &r.last) || r.last < r.first)
    return std::nullopt;
  r.has_range = true;
  return r;
}

bool IsPlainMd5(std::string_view etag) {
  if (etag.size() != 32) return false;
  return std::all_of(etag.begin(), etag.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Under SSE-KMS (aws:kms, aws:kms:dsse) and SSE-C, S3's ETag is not the MD5
// of the object's bytes even for a single-part upload, so it cannot check
// a body; SSE-S3 (AES256) keeps the MD5. The response says which applies.
bool SseHidesMd5(const HttpResponse& resp) {
  if (resp.Header("x-amz-server-side-encryption-customer-algorithm")) return true;
  std::optional<std::string_view> sse = resp.Header("x-amz-server-side-encryption");
  return sse && Lower(*sse).starts_with("aws:kms");
}

// The status for a non-2xx response S3 will not get better by repeating.
Status MapHttpError(const std::string& what, int status, const s3::S3Error& err) {
  std::string msg = what + ": HTTP " + std::to_string(status);
  if (!err.code.empty()) msg += " " + err.code;
  if (!err.message.empty()) msg += ": " + err.message;
  if (!err.request_id.empty()) msg += " (request id " + err.request_id + ")";
  if (err.code == "NoSuchBucket") return Status::FailedPrecondition(msg);
  if (status == 404) return Status::NotFound(msg);
  if (status == 401 || status == 403) return Status::PermissionDenied(msg);
  if (status == 301 || status == 307 || err.code == "PermanentRedirect" || err.code == "AuthorizationHeaderMalformed")
    return Status::FailedPrecondition(msg + " (is s3.region / the endpoint right for this bucket?)");
  if (status == 400 || status == 405 || status == 411 || status == 413 || status == 414)
    return Status::InvalidArgument(msg);
  if (status >= 500 || status == 429) return Status::Unavailable(msg);
  return Status::FailedPrecondition(msg);
}

}  // namespace

Result<std::unique_ptr<S3Store>> S3Store::Open(std::string_view uri, const S3Options& config,
                                               const s3::EnvLookup& env, IoLoop* loop) {
  FRESHET_ASSIGN_OR_RETURN(s3::S3Location location, s3::ParseS3Uri(uri));
  Result<s3::ResolvedEndpoint> endpoint = s3::ResolveEndpoint(config, env, location.bucket);
  if (!endpoint.ok()) return endpoint.status().WithContext("store URI '" + std::string(uri) + "'");
  Options o;
  o.location = std::move(location);
  o.endpoint = std::move(endpoint).value();
  o.http.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.connect_timeout);
  o.http.request_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.request_timeout);
  o.http.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.idle_timeout);
  o.http.max_connections_per_endpoint = config.max_connections;
  o.http.verify_tls = config.verify_tls;
  o.http.ca_file = config.ca_file;
  o.retry.max_attempts = config.max_attempts;
  o.retry.base_delay = std::chrono::duration_cast<std::chrono::milliseconds>(config.retry_base_delay);
  o.retry.max_delay = std::chrono::duration_cast<std::chrono::milliseconds>(config.retry_max_delay);
  o.multipart_threshold = config.multipart_threshold;
  o.multipart_part_size = config.multipart_part_size;
  Result<s3::Sse> sse = s3::SseFromOptions(config);
  if (!sse.ok()) return sse.status().WithContext("store URI '" + std::string(uri) + "'");
  o.sse = std::move(sse).value();

  Result<std::unique_ptr<HttpClient>> http = HttpClient::Create(o.http, loop);
  if (!http.ok()) return http.status().WithContext("store URI '" + std::string(uri) + "'");
  Result<std::shared_ptr<s3::CredentialsProvider>> creds = s3::MakeCredentialsChain(config, env, http->get());
  if (!creds.ok()) return creds.status().WithContext("store URI '" + std::string(uri) + "'");
  std::unique_ptr<S3Store> store(new S3Store(std::move(o), std::move(http).value()));
  store->credentials_ = std::move(creds).value();
  return store;
}

Result<std::unique_ptr<S3Store>> S3Store::Create(Options options,
                                                 std::shared_ptr<s3::CredentialsProvider> credentials,
                                                 IoLoop* loop) {
  if (credentials == nullptr) return Status::InvalidArgument("S3Store::Create needs a credentials provider");
  if (options.multipart_part_size == 0 || options.multipart_parallelism == 0)
    return Status::InvalidArgument("S3Store: multipart part size and parallelism must be positive");
  FRESHET_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> http, HttpClient::Create(options.http, loop));
  std::unique_ptr<S3Store> store(new S3Store(std::move(options), std::move(http)));
  store->credentials_ = std::move(credentials);
  return store;
}

S3Store::S3Store(Options options, std::unique_ptr<HttpClient> http)
    : options_(std::move(options)), http_(std::move(http)), client_(http_.get()), budget_(options_.retry) {
  uint64_t seed = options_.jitter_seed;
  if (seed == 0) seed = std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32);
  rng_.seed(seed);
  if (!options_.now) options_.now = [] { return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()); };
}

S3Store::~S3Store() {
  closing_ = true;
  // Cancels in-flight requests (their calls finish with kCancelled), drops
  // backoff timers and returns after the last callback, so nothing below
  // races with one. A callback already past its closing_ check meanwhile uses
  // client_ (still valid; reset() has cleared http_), which refuses it.
  http_.reset();
  std::set<std::shared_ptr<Call>> waiting;
  {
    std::lock_guard lock(waiting_mu_);
    waiting.swap(waiting_);
  }
  for (const auto& call : waiting) Finish(call, Status::Cancelled(call->op + " " + UriOf(call->full_key) + ": store closed"));
  credentials_.reset();
}

std::string S3Store::UriOf(std::string_view full_key) const {
  return "s3://" + options_.location.bucket + "/" + std::string(full_key);
}

std::string S3Store::Describe() const {
  std::string prefix = options_.location.prefix;
  if (!prefix.empty()) prefix.pop_back();
  const s3::Sse& sse = options_.sse;
  std::string encryption = sse.customer() ? ", SSE-C" : sse.mode.empty() ? "" : ", sse " + sse.mode;
  return "s3://" + options_.location.bucket + (prefix.empty() ? "" : "/" + prefix) + " (" +
         options_.endpoint.base.ToString() + options_.endpoint.base_path + ", " +
         (options_.endpoint.virtual_hosted ? "virtual-hosted" : "path-style") + ", " + options_.endpoint.region +
         encryption + ")";
}

S3OperationStats& S3Store::OpStats(const std::string& op) { return stats_.operations[op]; }

S3Stats S3Store::stats() const {
  std::lock_guard lock(stats_mu_);
  S3Stats s = stats_;
  if (http_) s.http = http_->stats();
  return s;
}

// ---------------------------------------------------------------------------
// The attempt loop.

void S3Store::Start(std::shared_ptr<Call> call) {
  {
    std::lock_guard lock(stats_mu_);
    OpStats(call->op).calls++;
  }
  if (call->payload_hash.empty())
    call->payload_hash = call->body ? sigv4::Sha256Hex(*call->body) : std::string(kEmptySha256);
  if (closing_) return Finish(call, Status::Cancelled(call->op + " " + UriOf(call->full_key) + ": store closed"));
  Attempt(std::move(call));
}

void S3Store::Attempt(std::shared_ptr<Call> call) {
  call->attempt++;
  credentials_->Get([this, call](Result<sigv4::Credentials> creds) { OnCredentials(call, std::move(creds)); });
}

void S3Store::OnCredentials(std::shared_ptr<Call> call, Result<sigv4::Credentials> creds) {
  if (!creds.ok()) return Finish(call, creds.status().WithContext(call->op + " " + UriOf(call->full_key)));
  if (closing_)
    return Finish(call, Status::Cancelled(call->op + " " + UriOf(call->full_key) + ": store closed"));
  s3::Addressed where = s3::Address(options_.endpoint, options_.location.bucket, call->full_key);

  sigv4::SignableRequest signable;
  signable.method = call->method;
  signable.path = where.path;
  signable.query = call->query;
  signable.headers.emplace_back("host", where.endpoint.HostHeader());
  for (const auto& h : call->headers) signable.headers.push_back(h);
  signable.payload_hash = call->payload_hash;
  sigv4::SigningParams params;
  params.region = options_.endpoint.region;
  params.service = "s3";
  params.time = options_.now();
  sigv4::HeaderSignature sig = sigv4::SignHeaders(signable, *creds, params);

  HttpRequest req;
  req.method = call->method;
  req.target = sigv4::EncodePath(where.path);
  if (!call->query.empty()) req.target += "?" + sigv4::CanonicalQuery(call->query);
  req.headers = std::move(signable.headers);
  for (auto& h : sig.headers_to_add) req.headers.push_back(std::move(h));
  if (call->body) req.body = *call->body;
  {
    std::lock_guard lock(stats_mu_);
    OpStats(call->op).attempts++;
  }
  client_->Send(where.endpoint, std::move(req),
              [this, call](Result<HttpResponse> response) { OnResponse(call, std::move(response)); });
}

void S3Store::OnResponse(std::shared_ptr<Call> call, Result<HttpResponse> response) {
  const std::string what = call->op + " " + UriOf(call->full_key);
  Status st;
  bool after_timeout = false;
  if (!response.ok()) {
    {
      std::lock_guard lock(stats_mu_);
      OpStats(call->op).by_status[0]++;
    }
    st = response.status().WithContext(what);
    after_timeout = st.code() == StatusCode::kDeadlineExceeded;
    if (st.code() != StatusCode::kCancelled) call->maybe_applied = true;
  } else {
    HttpResponse& resp = *response;
    {
      std::lock_guard lock(stats_mu_);
      OpStats(call->op).by_status[resp.status]++;
    }
    if (resp.status >= 200 && resp.status < 300) {
      size_t down = resp.body.size();
      st = call->accept(resp);
      if (st.ok()) {
        budget_.OnSuccess();
        std::lock_guard lock(stats_mu_);
        stats_.bytes_downloaded += down;
        if (call->body) stats_.bytes_uploaded += call->body->size();
      } else {
        st = st.WithContext(what);
      }
    } else {
      s3::S3Error err = s3::ParseError(resp.body).value_or(s3::S3Error{});
      if (call->on_error) {
        if (std::optional<Status> decided = call->on_error(resp, err)) {
          if (decided->ok()) return Finish(call, *decided);
          return AfterFailure(call, *decided, false, /*final=*/true);
        }
      }
      st = MapHttpError(what, resp.status, err);
      if (s3::IsRetryableResponse(resp.status, err.code)) {
        after_timeout = err.code == "RequestTimeout";
        if (!st.retryable()) st = Status::Unavailable(st.message());
      } else if (st.retryable()) {
        st = Status::FailedPrecondition(st.message());  // e.g. 501: repeating will not help
      }
    }
  }
  if (st.ok()) return Finish(call, st);
  AfterFailure(std::move(call), std::move(st), after_timeout, /*final=*/false);
}

// A failed attempt of a request that is not safely repeatable, after one
// that may have been applied: a repeat may fail (412, NoSuchUpload) or even
// succeed for the wrong reason, so ask whether the earlier one took effect
// before retrying or giving up.
void S3Store::AfterFailure(std::shared_ptr<Call> call, Status st, bool after_timeout, bool final) {
  if (call->check_applied && call->maybe_applied && !closing_ && st.code() != StatusCode::kCancelled) {
    auto check = call->check_applied;
    return check([this, call, st = std::move(st), after_timeout, final](bool applied) mutable {
      if (applied) {
        {
          std::lock_guard lock(stats_mu_);
          OpStats(call->op).confirmed++;
        }
        return Finish(call, Status::Ok());
      }
      RetryOrFinish(std::move(call), std::move(st), after_timeout, final);
    });
  }
  RetryOrFinish(std::move(call), std::move(st), after_timeout, final);
}

void S3Store::RetryOrFinish(std::shared_ptr<Call> call, Status st, bool after_timeout, bool final) {
  if (final || !st.retryable() || closing_) return Finish(call, st);
  if (call->attempt >= options_.retry.max_attempts) {
    return Finish(call, Status(st.code(), st.message() + " (after " + std::to_string(call->attempt) + " attempts)"));
  }
  if (!budget_.TryAcquire(after_timeout)) {
    {
      std::lock_guard lock(stats_mu_);
      stats_.retry_budget_exhausted++;
    }
    return Finish(call, Status(st.code(), st.message() + " (not retried: retry budget exhausted)"));
  }
  uint64_t draw;
  {
    std::lock_guard lock(rng_mu_);
    draw = rng_();
  }
  std::chrono::milliseconds delay = s3::BackoffDelay(options_.retry, call->attempt + 1, draw);
  {
    std::lock_guard lock(waiting_mu_);
    waiting_.insert(call);
  }
  {
    std::lock_guard lock(stats_mu_);
    OpStats(call->op).retries++;
  }
  client_->RunAfter(delay, [this, call] {
    {
      std::lock_guard lock(waiting_mu_);
      if (waiting_.erase(call) == 0) return;  // the destructor took it
    }
    if (closing_) return Finish(call, Status::Cancelled(call->op + " " + UriOf(call->full_key) + ": store closed"));
    Attempt(call);
  });
}

void S3Store::Finish(std::shared_ptr<Call> call, Status status) {
  if (!status.ok()) {
    if (call->integrity_failure && status.retryable()) status = Status::DataLoss(status.message());
    std::lock_guard lock(stats_mu_);
    OpStats(call->op).errors++;
  }
  auto finish = std::move(call->finish);
  call->finish = nullptr;
  if (finish) finish(std::move(status));
}

// ---------------------------------------------------------------------------
// Operations.

void S3Store::List(ListRequest req, StoreCallback<ListPage> done) {
  if (req.max_keys == 0 || req.max_keys > 1000)
    return done(Status::InvalidArgument("S3 list: max_keys must be 1..1000, got " + std::to_string(req.max_keys)));
  auto call = std::make_shared<Call>();
  call->op = "ListObjectsV2";
  call->method = "GET";
  const std::string& prefix = options_.location.prefix;
  call->query = {{"list-type", "2"}, {"max-keys", std::to_string(req.max_keys)}};
  if (!prefix.empty() || !req.prefix.empty()) call->query.emplace_back("prefix", prefix + req.prefix);
  if (!req.delimiter.empty()) call->query.emplace_back("delimiter", req.delimiter);
  if (!req.start_after.empty()) call->query.emplace_back("start-after", prefix + req.start_after);
  if (!req.continuation_token.empty()) call->query.emplace_back("continuation-token", req.continuation_token);
  auto page = std::make_shared<ListPage>();
  call->accept = [call_raw = call.get(), page, prefix](HttpResponse& resp) -> Status {
    Result<s3::ListObjectsV2Page> parsed = s3::ParseListObjectsV2(resp.body);
    if (!parsed.ok()) {
      call_raw->integrity_failure = true;
      return Status::Unavailable(parsed.status().message());
    }
    ListPage out;
    for (ObjectInfo& o : parsed->objects) {
      if (!o.key.starts_with(prefix)) return Status::DataLoss("listing returned key '" + o.key + "' outside the prefix");
      o.key.erase(0, prefix.size());
      out.objects.push_back(std::move(o));
    }
    for (std::string& p : parsed->common_prefixes) {
      if (!p.starts_with(prefix)) return Status::DataLoss("listing returned prefix '" + p + "' outside the prefix");
      out.common_prefixes.push_back(p.substr(prefix.size()));
    }
    if (parsed->is_truncated) {
      if (parsed->next_continuation_token.empty())
        return Status::DataLoss("listing is truncated but has no NextContinuationToken");
      out.next_continuation_token = std::move(parsed->next_continuation_token);
    }
    *page = std::move(out);
    return Status::Ok();
  };
  call->finish = [page, done = std::move(done)](Status st) {
    if (!st.ok()) return done(st);
    done(std::move(*page));
  };
  Start(std::move(call));
}

void S3Store::Get(GetRequest req, StoreCallback<GetResult> done) {
  if (Status st = ValidateObjectKey(req.key); !st.ok()) return done(st);
  if (req.range && req.range->length == 0) {
    // S3 cannot express an empty range; the answer is the object's size.
    std::string key = req.key;
    return Head(std::move(key), [done = std::move(done)](Result<ObjectInfo> info) {
      if (!info.ok()) return done(info.status());
      done(GetResult{std::move(info).value(), ""});
    });
  }
  auto call = std::make_shared<Call>();
  call->op = "GetObject";
  call->method = "GET";
  call->full_key = FullKey(req.key);
  std::optional<ByteRange> range = req.range;
  if (range) {
    uint64_t last = range->offset + range->length - 1;
    if (last < range->offset) last = UINT64_MAX - 1;  // overflow: to the end
    call->headers.emplace_back("range", "bytes=" + std::to_string(range->offset) + "-" + std::to_string(last));
  }
  s3::AddCustomerKeyHeaders(options_.sse, &call->headers);
  auto result = std::make_shared<GetResult>();
  result->info.key = req.key;
  call->accept = [this, call_raw = call.get(), result, range](HttpResponse& resp) -> Status {
    std::string etag = s3::UnquoteEtag(resp.Header("etag").value_or(""));
    result->info.etag = etag;
    if (range && resp.status == 206) {
      std::optional<ContentRange> cr = ParseContentRange(resp.Header("content-range").value_or(""));
      if (!cr || !cr->has_range) return Status::DataLoss("206 response without a usable Content-Range");
      uint64_t want_last = std::min(range->offset + range->length, cr->total) - 1;
      if (cr->first != range->offset || cr->last != want_last) {
        call_raw->integrity_failure = true;
        return Status::Unavailable("Content-Range " + std::to_string(cr->first) + "-" + std::to_string(cr->last) +
                                   " does not match the requested range");
      }
      if (resp.body.size() != cr->last - cr->first + 1) {
        call_raw->integrity_failure = true;
        return Status::Unavailable("got " + std::to_string(resp.body.size()) + " bytes for a " +
                                   std::to_string(cr->last - cr->first + 1) + "-byte range");
      }
      result->info.size = cr->total;
      result->body = std::move(resp.body);
      return Status::Ok();
    }
    // A whole object (or a server that ignored the Range header): check the
    // bytes against the ETag when it is their MD5 (not multipart, not
    // SSE-KMS or SSE-C: then only the length and TLS vouch for them).
    if (IsPlainMd5(etag)) {
      if (SseHidesMd5(resp)) {
        CountUnverifiedEtag();
      } else if (Lower(etag) != Md5Hex(resp.body)) {
        call_raw->integrity_failure = true;
        return Status::Unavailable("body MD5 does not match ETag " + etag);
      }
    }
    result->info.size = resp.body.size();
    if (range) {
      uint64_t off = std::min<uint64_t>(range->offset, resp.body.size());
      uint64_t len = std::min<uint64_t>(range->length, resp.body.size() - off);
      result->body = resp.body.substr(off, len);
    } else {
      result->body = std::move(resp.body);
    }
    return Status::Ok();
  };
  bool ranged = range.has_value();
  auto need_head = std::make_shared<bool>(false);
  call->on_error = [ranged, result, need_head](const HttpResponse& resp, const s3::S3Error&) -> std::optional<Status> {
    if (ranged && resp.status == 416) {
      // The range starts at or past the end: an empty read, as the
      // interface promises. S3 says the size in "bytes */<size>".
      std::optional<ContentRange> cr = ParseContentRange(resp.Header("content-range").value_or(""));
      if (cr) {
        result->info.size = cr->total;
      } else {
        *need_head = true;  // no size given: ask for it
      }
      return Status::Ok();
    }
    return std::nullopt;
  };
  std::string key = req.key;
  call->finish = [this, result, need_head, key, done = std::move(done)](Status st) mutable {
    if (!st.ok()) return done(st);
    if (*need_head) {
      return Head(key, [done = std::move(done)](Result<ObjectInfo> info) {
        if (!info.ok()) return done(info.status());
        done(GetResult{std::move(info).value(), ""});
      });
    }
    done(std::move(*result));
  };
  Start(std::move(call));
}

void S3Store::Head(std::string key, StoreCallback<ObjectInfo> done) {
  if (Status st = ValidateObjectKey(key); !st.ok()) return done(st);
  auto call = std::make_shared<Call>();
  call->op = "HeadObject";
  call->method = "HEAD";
  call->full_key = FullKey(key);
  s3::AddCustomerKeyHeaders(options_.sse, &call->headers);
  auto info = std::make_shared<ObjectInfo>();
  info->key = key;
  call->accept = [info](HttpResponse& resp) -> Status {
    uint64_t size = 0;
    if (!ParseU64(resp.Header("content-length").value_or(""), &size))
      return Status::Unavailable("HEAD response without a Content-Length");
    info->size = size;
    info->etag = s3::UnquoteEtag(resp.Header("etag").value_or(""));
    return Status::Ok();
  };
  call->finish = [info, done = std::move(done)](Status st) {
    if (!st.ok()) return done(st);
    done(std::move(*info));
  };
  Start(std::move(call));
}

void S3Store::Put(PutRequest req, StoreCallback<ObjectInfo> done) {
  if (Status st = ValidateObjectKey(req.key); !st.ok()) return done(st);
  if (req.body_size() > options_.multipart_threshold) return PutMultipart(std::move(req), std::move(done));
  if (req.body_file) {
    // At most multipart_threshold bytes, read once on the event loop.
    Result<std::string> body = req.body_file->ReadAll();
    if (!body.ok()) return done(body.status());
    req.body = std::move(body).value();
    req.body_file.reset();
  }
  auto call = std::make_shared<Call>();
  call->op = "PutObject";
  call->method = "PUT";
  call->full_key = FullKey(req.key);
  auto body = std::make_shared<const std::string>(std::move(req.body));
  const std::string md5 = Md5Hex(*body);
  call->headers.emplace_back("content-md5", Md5HexToBase64(md5));
  if (req.if_none_match) call->headers.emplace_back("if-none-match", "*");
  if (req.if_match) call->headers.emplace_back("if-match", "\"" + *req.if_match + "\"");
  s3::AddCreateHeaders(options_.sse, &call->headers);
  call->body = body;
  auto info = std::make_shared<ObjectInfo>(ObjectInfo{req.key, body->size(), md5});
  // S3 checked the body against Content-MD5 before storing it; the ETag
  // tells us again unless encryption made it something else.
  call->accept = [this, call_raw = call.get(), info](HttpResponse& resp) -> Status {
    std::string etag = s3::UnquoteEtag(resp.Header("etag").value_or(""));
    if (IsPlainMd5(etag)) {
      if (SseHidesMd5(resp)) {
        CountUnverifiedEtag();
      } else if (Lower(etag) != info->etag) {
        call_raw->integrity_failure = true;
        return Status::Unavailable("server stored ETag " + etag + " for a body with MD5 " + info->etag);
      }
    }
    if (!etag.empty()) info->etag = etag;
    return Status::Ok();
  };
  const std::optional<std::string> if_match = req.if_match;
  call->on_error = [if_match](const HttpResponse& resp, const s3::S3Error& err) -> std::optional<Status> {
    if (if_match && (resp.status == 412 || resp.status == 404)) {
      return Status::FailedPrecondition(
          (resp.status == 404 ? std::string("object is absent") : "object has another ETag") + ", not " + *if_match +
          " (If-Match): " + err.code);
    }
    if (resp.status == 412) return Status::AlreadyExists("object exists (If-None-Match: *): " + err.code);
    return std::nullopt;
  };
  if (req.if_none_match || req.if_match) {
    // A repeat of a conditional Put that went through gets 412: was the
    // object that is there now ours?
    call->check_applied = [this, info](std::function<void(bool)> done) {
      Head(info->key, [info, done = std::move(done)](Result<ObjectInfo> now) {
        done(now.ok() && now->size == info->size && Lower(now->etag) == info->etag);
      });
    };
  }
  std::string uri = UriOf(call->full_key);
  call->finish = [info, uri, done = std::move(done)](Status st) {
    if (!st.ok()) {
      if (st.code() == StatusCode::kAlreadyExists) return done(Status::AlreadyExists("PutObject " + uri + ": " + st.message()));
      if (st.code() == StatusCode::kFailedPrecondition && !st.message().starts_with("PutObject")) {
        return done(Status::FailedPrecondition("PutObject " + uri + ": " + st.message()));
      }
      return done(st);
    }
    done(std::move(*info));
  };
  Start(std::move(call));
}

void S3Store::Delete(std::string key, StoreCallback<Unit> done) {
  if (Status st = ValidateObjectKey(key); !st.ok()) return done(st);
  auto call = std::make_shared<Call>();
  call->op = "DeleteObject";
  call->method = "DELETE";
  call->full_key = FullKey(key);
  call->accept = [](HttpResponse&) { return Status::Ok(); };
  call->on_error = [](const HttpResponse& resp, const s3::S3Error& err) -> std::optional<Status> {
    if (resp.status == 404 && err.code != "NoSuchBucket") return Status::Ok();  // deleting a missing key succeeds
    return std::nullopt;
  };
  call->finish = [done = std::move(done)](Status st) {
    if (!st.ok()) return done(st);
    done(Unit{});
  };
  Start(std::move(call));
}

// ---------------------------------------------------------------------------
// Multipart upload: create, parts in parallel, complete; abort on failure.

void S3Store::PutMultipart(PutRequest req, StoreCallback<ObjectInfo> done) {
  auto mp = std::make_shared<Multipart>();
  mp->key = req.key;
  mp->full_key = FullKey(req.key);
  mp->if_none_match = req.if_none_match;
  mp->if_match = req.if_match;
  mp->size = req.body_size();
  if (req.body_file) {
    mp->file = std::move(req.body_file);
  } else {
    mp->body = std::make_shared<const std::string>(std::move(req.body));
  }
  mp->done = std::move(done);
  const uint64_t part = options_.multipart_part_size;
  mp->parts_total = static_cast<uint32_t>((mp->size + part - 1) / part);
  if (mp->parts_total > 10000) {
    return mp->done(Status::InvalidArgument("PutObject " + UriOf(mp->full_key) + ": " + std::to_string(mp->size) +
                                            " bytes need more than 10000 parts of " + std::to_string(part) +
                                            "; raise s3.multipart_part_size"));
  }
  mp->etags.resize(mp->parts_total);
  mp->part_md5.resize(mp->parts_total);

  auto call = std::make_shared<Call>();
  call->op = "CreateMultipartUpload";
  call->method = "POST";
  call->full_key = mp->full_key;
  call->query = {{"uploads", ""}};
  s3::AddCreateHeaders(options_.sse, &call->headers);
  call->accept = [mp](HttpResponse& resp) -> Status {
    Result<std::string> id = s3::ParseInitiateMultipartUpload(resp.body);
    if (!id.ok()) return Status::Unavailable(id.status().message());
    mp->upload_id = std::move(id).value();
    return Status::Ok();
  };
  call->finish = [this, mp](Status st) {
    if (!st.ok()) return mp->done(st);
    NextParts(mp);
  };
  Start(std::move(call));
}

void S3Store::NextParts(std::shared_ptr<Multipart> mp) {
  std::vector<std::shared_ptr<Call>> to_start;
  {
    std::lock_guard lock(mp->mu);
    while (mp->failure.ok() && mp->in_flight < options_.multipart_parallelism && mp->next_part < mp->parts_total) {
      uint32_t index = mp->next_part++;
      mp->in_flight++;
      const uint64_t part = options_.multipart_part_size;
      uint64_t offset = uint64_t{index} * part;
      std::shared_ptr<const std::string> body;
      if (mp->file) {
        // One part (multipart_part_size) read on the event loop, from the
        // page cache as a rule: the spool was written moments ago.
        Result<std::string> read = mp->file->Read(offset, std::min(part, mp->size - offset));
        if (!read.ok()) {
          mp->failure = read.status();
          mp->in_flight--;
          break;
        }
        body = std::make_shared<const std::string>(std::move(read).value());
      } else {
        body = std::make_shared<const std::string>(mp->body->substr(offset, part));
      }
      auto call = std::make_shared<Call>();
      call->op = "UploadPart";
      call->method = "PUT";
      call->full_key = mp->full_key;
      call->query = {{"partNumber", std::to_string(index + 1)}, {"uploadId", mp->upload_id}};
      std::string md5 = Md5Hex(*body);
      call->headers.emplace_back("content-md5", Md5HexToBase64(md5));
      s3::AddCustomerKeyHeaders(options_.sse, &call->headers);
      mp->part_md5[index] = md5;
      call->body = std::move(body);
      call->accept = [this, call_raw = call.get(), mp, index, md5](HttpResponse& resp) -> Status {
        std::string etag = s3::UnquoteEtag(resp.Header("etag").value_or(""));
        if (etag.empty()) return Status::Unavailable("UploadPart response without an ETag");
        if (IsPlainMd5(etag)) {
          if (SseHidesMd5(resp)) {
            CountUnverifiedEtag();
          } else if (Lower(etag) != md5) {
            call_raw->integrity_failure = true;
            return Status::Unavailable("part " + std::to_string(index + 1) + " stored with ETag " + etag +
                                       ", body MD5 " + md5);
          }
        }
        std::lock_guard lock(mp->mu);
        mp->etags[index] = etag;
        return Status::Ok();
      };
      call->finish = [this, mp](Status st) {
        bool complete = false, abort = false;
        {
          std::lock_guard lock(mp->mu);
          mp->in_flight--;
          if (st.ok()) {
            mp->parts_done++;
          } else if (mp->failure.ok()) {
            mp->failure = st;
          }
          if (!mp->failure.ok()) {
            abort = mp->in_flight == 0 && !mp->aborting;
            if (abort) mp->aborting = true;
          } else {
            complete = mp->parts_done == mp->parts_total;
          }
        }
        if (abort) return AbortMultipart(mp, mp->failure);
        if (complete) return CompleteMultipart(mp);
        NextParts(mp);
      };
      to_start.push_back(std::move(call));
    }
  }
  bool abort = false;
  {
    std::lock_guard lock(mp->mu);
    // A part that could not be read from its spool fails the upload, once
    // the parts already up have finished (their finish aborts it then).
    abort = to_start.empty() && !mp->failure.ok() && mp->in_flight == 0 && !mp->aborting;
    if (abort) mp->aborting = true;
  }
  if (abort) return AbortMultipart(mp, mp->failure);
  for (auto& call : to_start) Start(std::move(call));
}

void S3Store::CompleteMultipart(std::shared_ptr<Multipart> mp) {
  std::vector<std::pair<int, std::string>> parts;
  for (uint32_t i = 0; i < mp->parts_total; ++i) parts.emplace_back(static_cast<int>(i + 1), mp->etags[i]);
  auto call = std::make_shared<Call>();
  call->op = "CompleteMultipartUpload";
  call->method = "POST";
  call->full_key = mp->full_key;
  call->query = {{"uploadId", mp->upload_id}};
  call->body = std::make_shared<const std::string>(s3::BuildCompleteMultipartUpload(parts));
  call->headers.emplace_back("content-md5", Md5Base64(*call->body));
  call->headers.emplace_back("content-type", "application/xml");
  if (mp->if_none_match) call->headers.emplace_back("if-none-match", "*");
  if (mp->if_match) call->headers.emplace_back("if-match", "\"" + *mp->if_match + "\"");
  s3::AddCustomerKeyHeaders(options_.sse, &call->headers);
  auto info = std::make_shared<ObjectInfo>(ObjectInfo{mp->key, mp->size, ""});
  call->accept = [info](HttpResponse& resp) -> Status {
    // S3 may answer 200 and then report an error in the body (it sends
    // headers early to keep the connection alive).
    Result<s3::CompleteMultipartResult> r = s3::ParseCompleteMultipartUpload(resp.body);
    if (!r.ok()) return Status::Unavailable(r.status().message());
    if (r->error) {
      std::string msg = "error inside a 200 response: " + r->error->code + ": " + r->error->message;
      if (s3::IsRetryableResponse(200, r->error->code)) return Status::Unavailable(msg);
      return Status::FailedPrecondition(msg);
    }
    info->etag = r->etag;
    return Status::Ok();
  };
  call->on_error = [mp](const HttpResponse& resp, const s3::S3Error& err) -> std::optional<Status> {
    if (mp->if_match && resp.status == 412) {
      return Status::FailedPrecondition("object has another ETag, not " + *mp->if_match + " (If-Match): " + err.code);
    }
    if (resp.status == 412) return Status::AlreadyExists("object exists (If-None-Match: *): " + err.code);
    return std::nullopt;
  };
  // A repeat of a Complete that went through finds no upload (NoSuchUpload
  // on most servers, a 500 on s3rver 3.7.1; S3 itself answers 200 again):
  // is the object there with our bytes? S3 and most servers give it the
  // MD5 of the part MD5s plus "-<parts>"; s3rver 3.7.1 the whole body's MD5.
  call->check_applied = [this, mp, info](std::function<void(bool)> done) {
    Head(mp->key, [mp, info, done = std::move(done)](Result<ObjectInfo> now) {
      if (!now.ok() || now->size != mp->size) return done(false);
      std::string etag = Lower(now->etag);
      std::string md5s;
      for (const std::string& m : mp->part_md5) md5s += Md5Raw(m);
      bool ours = etag == Md5Hex(md5s) + "-" + std::to_string(mp->parts_total);
      if (!ours && IsPlainMd5(etag)) {
        Result<std::string> whole = mp->file ? Md5HexOfFd(mp->file->fd()) : Md5Hex(*mp->body);
        ours = whole.ok() && etag == *whole;
      }
      if (ours) info->etag = now->etag;
      done(ours);
    });
  };
  call->finish = [this, mp, info](Status st) {
    if (!st.ok()) return AbortMultipart(mp, st);
    mp->done(std::move(*info));
  };
  Start(std::move(call));
}

void S3Store::AbortMultipart(std::shared_ptr<Multipart> mp, Status why) {
  auto call = std::make_shared<Call>();
  call->op = "AbortMultipartUpload";
  call->method = "DELETE";
  call->full_key = mp->full_key;
  call->query = {{"uploadId", mp->upload_id}};
  call->accept = [](HttpResponse&) { return Status::Ok(); };
  call->on_error = [](const HttpResponse& resp, const s3::S3Error&) -> std::optional<Status> {
    if (resp.status == 404) return Status::Ok();  // already gone
    return std::nullopt;
  };
  call->finish = [mp, why](Status st) {
    if (!st.ok()) {
      // The upload's parts stay billed until a lifecycle rule removes them:
      // say so next to the original failure.
      return mp->done(Status(why.code(), why.message() + "; aborting upload " + mp->upload_id + " also failed: " +
                                             st.message()));
    }
    mp->done(why);
  };
  Start(std::move(call));
}

}  // namespace freshet
