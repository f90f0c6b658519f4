// S3Store's behaviour against real S3-compatible servers on 127.0.0.1:
// - s3rver 3.7.1 (S3StoreTest): round trips, pagination with continuation
//   tokens, prefix isolation, ranged reads, missing keys and buckets,
//   multipart upload, Describe();
// - @20minutes/s3rver 5.0.0, which verifies SigV4 (S3StoreSigV4Test): the
//   right secret works for every operation, odd keys sign the way the
//   server canonicalises them, a wrong secret is a 403 without retries, a
//   session token is signed along, and no secret ever shows in a message;
// - a scripted HTTP server (S3StoreScriptedTest) for what neither server
//   does: 412 on If-None-Match, an <Error> inside a 200
//   CompleteMultipartUpload, 503 SlowDown with backoff, and responses lost
//   after the server applied a request that cannot simply be repeated.
// One server per suite (starting node takes about a second); every test
// uses its own key prefix.
#include "storage/s3/s3_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/md5.h"
#include "base/spool_file.h"
#include "storage/blocking_store.h"
#include "storage/http/test_http_server.h"
#include "storage/s3/retry_policy.h"
#include "storage/s3/s3_store_test_util.h"
#include "testing/s3_server.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

using s3test::Creds;
using s3test::CreateStore;
using s3test::Op;
using s3test::RandomBody;
using testing::S3Server;
using testing::S3ServerKind;

std::unique_ptr<S3Store> MustCreate(const std::string& endpoint, std::string_view uri,
                                    const std::function<void(S3Store::Options&)>& tweak = nullptr,
                                    sigv4::Credentials credentials = Creds()) {
  auto store = CreateStore(endpoint, uri, tweak, std::move(credentials));
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::vector<std::string> Keys(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> keys;
  for (const ObjectInfo& o : objects) keys.push_back(o.key);
  return keys;
}

// ---------------------------------------------------------------------------
// s3rver 3.7.1: behaviour.

class S3StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = S3Server::Start({.kind = S3ServerKind::kS3rver, .buckets = {"behave"}});
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "s3rver did not start"; }

  // A store on s3://behave/<test name>/<sub>.
  std::unique_ptr<S3Store> Store(const std::string& sub = "",
                                 const std::function<void(S3Store::Options&)>& tweak = nullptr) {
    std::string uri = "s3://behave/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    if (!sub.empty()) uri += "/" + sub;
    return MustCreate(server_->endpoint(), uri, tweak);
  }

  static S3Server* server_;
};
S3Server* S3StoreTest::server_ = nullptr;

TEST_F(S3StoreTest, PutGetHeadListDeleteRoundTrip) {
  auto store = Store();
  ASSERT_TRUE(store);
  const std::string binary = RandomBody(1, 70000);  // every byte value
  auto put = PutSync(*store, "dir/binary", binary);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->key, "dir/binary");
  EXPECT_EQ(put->size, binary.size());
  EXPECT_EQ(put->etag, Md5Hex(binary));
  ASSERT_TRUE(PutSync(*store, "dir/empty", "").ok());
  ASSERT_TRUE(PutSync(*store, "top", "first").ok());
  ASSERT_TRUE(PutSync(*store, "top", "second, longer").ok());  // overwrite

  auto got = GetSync(*store, "dir/binary");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->body == binary);
  EXPECT_EQ(got->info, (ObjectInfo{"dir/binary", binary.size(), Md5Hex(binary)}));
  auto empty = GetSync(*store, "dir/empty");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->body, "");
  EXPECT_EQ(empty->info.size, 0u);
  auto top = GetSync(*store, "top");
  ASSERT_TRUE(top.ok()) << top.status().ToString();
  EXPECT_EQ(top->body, "second, longer");

  auto head = HeadSync(*store, "top");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(*head, (ObjectInfo{"top", 14, Md5Hex("second, longer")}));

  auto all = ListAllSync(*store, "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Keys(*all), (std::vector<std::string>{"dir/binary", "dir/empty", "top"}));
  for (const ObjectInfo& o : *all) {
    if (o.key == "dir/binary") {
      EXPECT_EQ(o, (ObjectInfo{"dir/binary", binary.size(), Md5Hex(binary)}));
    }
    if (o.key == "top") {
      EXPECT_EQ(o.size, 14u);
    }
  }
  auto dir = ListAllSync(*store, "dir/");
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(Keys(*dir), (std::vector<std::string>{"dir/binary", "dir/empty"}));
  auto after = ListAllSync(*store, "", "dir/binary");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(Keys(*after), (std::vector<std::string>{"dir/empty", "top"}));
  auto rolled = ListPageSync(*store, {.delimiter = "/"});
  ASSERT_TRUE(rolled.ok()) << rolled.status().ToString();
  EXPECT_EQ(Keys(rolled->objects), (std::vector<std::string>{"top"}));
  EXPECT_EQ(rolled->common_prefixes, (std::vector<std::string>{"dir/"}));

  EXPECT_TRUE(DeleteSync(*store, "dir/binary").ok());
  EXPECT_TRUE(DeleteSync(*store, "dir/binary").ok());  // missing: still fine
  EXPECT_EQ(GetSync(*store, "dir/binary").status().code(), StatusCode::kNotFound);
  all = ListAllSync(*store, "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Keys(*all), (std::vector<std::string>{"dir/empty", "top"}));

  S3Stats stats = store->stats();
  EXPECT_EQ(s3test::Sum(stats, &S3OperationStats::retries), 0u) << s3test::FormatStats(stats);
  EXPECT_EQ(Op(stats, "PutObject").calls, 4u);
  EXPECT_EQ(Op(stats, "DeleteObject").calls, 2u);
  EXPECT_EQ(Op(stats, "DeleteObject").errors, 0u);
  EXPECT_EQ(Op(stats, "GetObject").errors, 1u);  // the NotFound
  EXPECT_GE(stats.bytes_uploaded, binary.size());
  EXPECT_GE(stats.bytes_downloaded, binary.size());
}

TEST_F(S3StoreTest, PaginatesWithContinuationTokens) {
  auto store = Store();
  ASSERT_TRUE(store);
  std::set<std::string> want;
  for (int i = 0; i < 25; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%02d", i);
    want.insert(key);
    ASSERT_TRUE(PutSync(*store, key, std::string(key) + "-body").ok());
  }
  ListRequest req{.max_keys = 2};
  std::vector<std::string> seen;
  int pages = 0;
  for (;;) {
    auto page = ListPageSync(*store, req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    EXPECT_LE(page->objects.size(), 2u);
    EXPECT_TRUE(page->common_prefixes.empty());
    for (const ObjectInfo& o : page->objects) {
      seen.push_back(o.key);
      EXPECT_EQ(o.size, o.key.size() + 5);
    }
    if (page->next_continuation_token.empty()) break;
    EXPECT_EQ(page->objects.size(), 2u) << "a page before the last one is full";
    ASSERT_LT(pages, 30) << "the listing does not end";
    req.continuation_token = page->next_continuation_token;
  }
  EXPECT_EQ(pages, 13);
  EXPECT_EQ(seen.size(), 25u) << "a key listed twice or lost";
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), want);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(Op(store->stats(), "ListObjectsV2").calls, 13u);

  // ListAllSync pages through the same way, from a start key.
  auto tail = ListAllSync(*store, "k1", "k14");
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(Keys(*tail), (std::vector<std::string>{"k15", "k16", "k17", "k18", "k19"}));
}

// Two stores whose s3:// prefixes share a bucket (and a leading string)
// see only their own keys; the bucket root sees both under their prefixes.
TEST_F(S3StoreTest, PrefixesIsolateStores) {
  auto a = Store("iso");
  auto b = Store("iso-b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(PutSync(*a, "k", "from a").ok());
  ASSERT_TRUE(PutSync(*a, "only-a", "a").ok());
  ASSERT_TRUE(PutSync(*b, "k", "from b").ok());

  auto la = ListAllSync(*a, "");
  auto lb = ListAllSync(*b, "");
  ASSERT_TRUE(la.ok() && lb.ok());
  EXPECT_EQ(Keys(*la), (std::vector<std::string>{"k", "only-a"}));
  EXPECT_EQ(Keys(*lb), (std::vector<std::string>{"k"}));
  EXPECT_EQ(GetSync(*a, "k")->body, "from a");
  EXPECT_EQ(GetSync(*b, "k")->body, "from b");
  EXPECT_EQ(GetSync(*b, "only-a").status().code(), StatusCode::kNotFound);
  auto la_prefix = ListAllSync(*a, "only");
  ASSERT_TRUE(la_prefix.ok());
  EXPECT_EQ(Keys(*la_prefix), (std::vector<std::string>{"only-a"}));

  auto root = MustCreate(server_->endpoint(), "s3://behave");
  ASSERT_TRUE(root);
  auto lr = ListAllSync(*root, "PrefixesIsolateStores/");
  ASSERT_TRUE(lr.ok()) << lr.status().ToString();
  std::vector<std::string> root_keys = Keys(*lr);
  std::sort(root_keys.begin(), root_keys.end());  // s3rver lists in directory order ("iso/" first)
  EXPECT_EQ(root_keys, (std::vector<std::string>{"PrefixesIsolateStores/iso-b/k", "PrefixesIsolateStores/iso/k",
                                                 "PrefixesIsolateStores/iso/only-a"}));
  auto via_root = GetSync(*root, "PrefixesIsolateStores/iso-b/k");
  ASSERT_TRUE(via_root.ok()) << via_root.status().ToString();
  EXPECT_EQ(via_root->body, "from b");

  ASSERT_TRUE(DeleteSync(*a, "k").ok());
  EXPECT_EQ(GetSync(*a, "k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(GetSync(*b, "k")->body, "from b");
}

TEST_F(S3StoreTest, RangedGets) {
  auto store = Store();
  ASSERT_TRUE(store);
  const std::string body = RandomBody(2, 100);
  ASSERT_TRUE(PutSync(*store, "obj", body).ok());
  struct Case {
    uint64_t offset, length;
    std::string want;
  };
  const std::vector<Case> cases = {
      {0, 100, body},
      {10, 20, body.substr(10, 20)},
      {99, 1, body.substr(99, 1)},
      {90, 50, body.substr(90)},  // runs past the end: truncated
      {0, 1000, body},
      {100, 10, ""},  // starts at the end: 416, an empty read
      {150, 10, ""},  // starts past the end
      {40, 0, ""},    // empty range: no request can say it, the size still comes
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("range " + std::to_string(c.offset) + "+" + std::to_string(c.length));
    auto got = GetSync(*store, GetRequest{"obj", ByteRange{c.offset, c.length}});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(got->body == c.want) << got->body.size() << " bytes";
    EXPECT_EQ(got->info.size, 100u) << "the whole object's size, even for a range";
    EXPECT_EQ(got->info.key, "obj");
  }
  EXPECT_EQ(GetSync(*store, GetRequest{"missing", ByteRange{0, 10}}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s3test::Sum(store->stats(), &S3OperationStats::retries), 0u);
}

TEST_F(S3StoreTest, MissingKeyIsNotFoundAndMissingBucketIsAConfigurationError) {
  auto store = Store();
  ASSERT_TRUE(store);
  auto get = GetSync(*store, "nope");
  EXPECT_EQ(get.status().code(), StatusCode::kNotFound) << get.status().ToString();
  EXPECT_NE(get.status().message().find("s3://behave/MissingKey"), std::string::npos) << get.status().ToString();
  EXPECT_NE(get.status().message().find("NoSuchKey"), std::string::npos) << get.status().ToString();
  EXPECT_EQ(HeadSync(*store, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(DeleteSync(*store, "nope").ok());

  auto nobucket = MustCreate(server_->endpoint(), "s3://no-such-bucket/p");
  ASSERT_TRUE(nobucket);
  std::vector<std::pair<std::string, Status>> results = {
      {"Get", GetSync(*nobucket, "k").status()},
      {"Put", PutSync(*nobucket, "k", "v").status()},
      {"List", ListPageSync(*nobucket, {}).status()},
      {"Delete", DeleteSync(*nobucket, "k")},
  };
  for (const auto& [op, st] : results) {
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << op << ": " << st.ToString();
    EXPECT_NE(st.message().find("no-such-bucket"), std::string::npos) << op << ": " << st.ToString();
    EXPECT_NE(st.message().find("NoSuchBucket"), std::string::npos) << op << ": " << st.ToString();
  }
  // A HEAD response has no body to say NoSuchBucket in: S3 (and s3rver)
  // answer a bare 404, which is all the store can go by.
  EXPECT_EQ(HeadSync(*nobucket, "k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s3test::Sum(nobucket->stats(), &S3OperationStats::retries), 0u) << "not retried";
}

// s3rver does not enforce S3's 5 MiB minimum part size, so 1 MiB parts
// keep the upload small; the store cuts 5.5 MiB into 6 parts.
TEST_F(S3StoreTest, MultipartUploadAboveTheThreshold) {
  auto store = Store("", [](S3Store::Options& o) {
    o.multipart_threshold = 1 << 20;
    o.multipart_part_size = 1 << 20;
    o.multipart_parallelism = 3;
  });
  ASSERT_TRUE(store);
  const std::string body = RandomBody(3, (11u << 20) / 2);
  auto put = PutSync(*store, "big", body);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->size, body.size());
  // At the threshold exactly: a plain PutObject.
  const std::string small = RandomBody(4, 1 << 20);
  ASSERT_TRUE(PutSync(*store, "at-threshold", small).ok());

  S3Stats stats = store->stats();
  EXPECT_EQ(Op(stats, "CreateMultipartUpload").calls, 1u) << s3test::FormatStats(stats);
  EXPECT_EQ(Op(stats, "UploadPart").calls, 6u);
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").calls, 1u);
  EXPECT_EQ(Op(stats, "AbortMultipartUpload").calls, 0u);
  EXPECT_EQ(Op(stats, "PutObject").calls, 1u);
  EXPECT_EQ(s3test::Sum(stats, &S3OperationStats::retries), 0u);
  EXPECT_EQ(s3test::Sum(stats, &S3OperationStats::errors), 0u);

  auto got = GetSync(*store, "big");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body.size(), body.size());
  EXPECT_TRUE(got->body == body) << "multipart object differs";
  // Across a part boundary.
  auto range = GetSync(*store, GetRequest{"big", ByteRange{(1u << 20) - 10, 20}});
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_TRUE(range->body == body.substr((1u << 20) - 10, 20));
  auto head = HeadSync(*store, "big");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, body.size());
  auto at = GetSync(*store, "at-threshold");
  ASSERT_TRUE(at.ok());
  EXPECT_TRUE(at->body == small);
}

// A spooled body above the threshold goes up part by part, each read from
// the file as it is sent; below it, as one PutObject.
TEST_F(S3StoreTest, MultipartUploadFromASpoolFile) {
  auto store = Store("", [](S3Store::Options& o) {
    o.multipart_threshold = 1 << 20;
    o.multipart_part_size = 1 << 20;
    o.multipart_parallelism = 2;
  });
  ASSERT_TRUE(store);
  testing::TempDir scratch("spool");
  auto spool = [&](const std::string& body) {
    auto w = SpoolWriter::Create(scratch.path());
    EXPECT_TRUE(w.ok() && (*w)->Append(body).ok());
    auto f = (*w)->Finish();
    EXPECT_TRUE(f.ok());
    return *f;
  };
  const std::string body = RandomBody(5, (7u << 20) / 2);
  PutRequest big{"spooled-big", "", false};
  big.body_file = spool(body);
  auto put = PutSync(*store, big);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->size, body.size());
  const std::string small = RandomBody(6, 1000);
  PutRequest little{"spooled-small", "", false};
  little.body_file = spool(small);
  ASSERT_TRUE(PutSync(*store, little).ok());

  S3Stats stats = store->stats();
  EXPECT_EQ(Op(stats, "UploadPart").calls, 4u) << s3test::FormatStats(stats);
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").calls, 1u);
  EXPECT_EQ(Op(stats, "PutObject").calls, 1u);
  auto got = GetSync(*store, "spooled-big");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->body == body) << "multipart object differs";
  got = GetSync(*store, "spooled-small");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->body == small);
}

TEST_F(S3StoreTest, DescribeNamesBucketPrefixEndpointAndAddressing) {
  auto store = MustCreate(server_->endpoint(), "s3://behave/some/prefix");
  ASSERT_TRUE(store);
  EXPECT_EQ(store->Describe(), "s3://behave/some/prefix (" + server_->endpoint() + ", path-style, us-east-1)");
  auto root = MustCreate(server_->endpoint(), "s3://behave");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->Describe(), "s3://behave (" + server_->endpoint() + ", path-style, us-east-1)");

  // Open() resolves the same from the config section.
  S3Options o;
  o.endpoint = server_->endpoint();
  o.region = "eu-west-3";
  o.addressing = "path";
  o.access_key_id = "AKIDEXAMPLE";
  o.secret_access_key = "not-shown";
  auto opened = S3Store::Open("s3://behave/x/", o, s3test::NoEnv());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->Describe(), "s3://behave/x (" + server_->endpoint() + ", path-style, eu-west-3)");
}

// ---------------------------------------------------------------------------
// @20minutes/s3rver 5.0.0: signatures.

class S3StoreSigV4Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = S3Server::Start({.kind = S3ServerKind::kS3rverSigV4, .buckets = {"signed"}});
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr) << "the SigV4 server did not start"; }

  std::string Uri() const {
    return "s3://signed/" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  std::unique_ptr<S3Store> Store(sigv4::Credentials creds = Creds(),
                                 const std::function<void(S3Store::Options&)>& tweak = nullptr) {
    return MustCreate(server_->endpoint(), Uri(), tweak, std::move(creds));
  }

  static S3Server* server_;
};
S3Server* S3StoreSigV4Test::server_ = nullptr;

TEST_F(S3StoreSigV4Test, RightSecretSignsEveryOperation) {
  auto store = Store();
  ASSERT_TRUE(store);
  const std::string body = RandomBody(5, 5000);
  auto put = PutSync(*store, "a/obj", body);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_TRUE(PutSync(*store, "a/other", "x").ok());
  auto got = GetSync(*store, "a/obj");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->body == body);
  auto range = GetSync(*store, GetRequest{"a/obj", ByteRange{100, 50}});
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_TRUE(range->body == body.substr(100, 50));
  auto head = HeadSync(*store, "a/obj");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, body.size());
  // "/signed?list-type=2&prefix=...": no slash after the bucket.
  auto list = ListAllSync(*store, "a/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(Keys(*list), (std::vector<std::string>{"a/obj", "a/other"}));
  auto paged = ListPageSync(*store, {.max_keys = 1});
  ASSERT_TRUE(paged.ok()) << paged.status().ToString();
  ASSERT_FALSE(paged->next_continuation_token.empty());
  auto page2 = ListPageSync(*store, {.continuation_token = paged->next_continuation_token, .max_keys = 1});
  ASSERT_TRUE(page2.ok()) << page2.status().ToString();
  EXPECT_EQ(Keys(page2->objects), (std::vector<std::string>{"a/other"}));
  EXPECT_TRUE(DeleteSync(*store, "a/other").ok());
  EXPECT_EQ(HeadSync(*store, "a/other").status().code(), StatusCode::kNotFound);

  S3Stats stats = store->stats();
  for (const auto& [name, op] : stats.operations) {
    EXPECT_EQ(op.by_status.count(403), 0u) << name << " got a 403\n" << s3test::FormatStats(stats);
    EXPECT_EQ(op.retries, 0u) << name;
  }
}

TEST_F(S3StoreSigV4Test, MultipartUploadIsSigned) {
  auto store = Store(Creds(), [](S3Store::Options& o) {
    o.multipart_threshold = 256 << 10;
    o.multipart_part_size = 256 << 10;
  });
  ASSERT_TRUE(store);
  const std::string body = RandomBody(6, 600 << 10);
  auto put = PutSync(*store, "mp", body);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(Op(store->stats(), "UploadPart").calls, 3u);
  auto got = GetSync(*store, "mp");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->body == body);
}

// Keys whose encoding differs between naive and S3 canonicalisation: a
// signature that verifies proves our canonical URI is the server's. Two
// bugs of @20minutes/s3rver 5.0.0 limit what can be checked (both verified
// against its source and by hand; s3rver 3.7.1 and S3 get them right):
// - it canonicalises query values with encodeURIComponent, which leaves
//   !'()* unencoded where SigV4 (and the AWS SDK's signer, see
//   sigv4_differential_test.cc) encodes them, so such a key can't be a
//   signed list prefix there;
// - its listing escapes XML's specials (& < > ') twice ("&amp;amp;"), so
//   such keys come back wrong from a listing.
TEST_F(S3StoreSigV4Test, OddKeysSignAsTheServerCanonicalisesThem) {
  auto store = Store();
  ASSERT_TRUE(store);
  struct Key {
    std::string key;
    bool lists_right = true;   // no & < > '
    bool signs_query = true;   // no ! ' ( ) *
  };
  const std::vector<Key> keys = {
      {"with space/file name.txt"},
      {"plus+sign"},
      {"equals=sign"},
      {"amp&ersand", false},
      {"tilde~under_score-dash.dot"},
      {"unicode/na\xc3\xafve-\xc3\x9f-\xe6\x97\xa5\xe6\x9c\xac"},  // naïve-ß-日本
      {"percent%41literal"},
      {"at@dollar$comma,semi;colon:bracket[]"},
      {"mixed (1) !*'", false, false},
  };
  std::vector<std::string> want;
  for (const auto& [key, lists_right, signs_query] : keys) {
    SCOPED_TRACE(key);
    if (lists_right) want.push_back(key);
    auto put = PutSync(*store, key, "body of " + key);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    auto got = GetSync(*store, key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->body, "body of " + key);
    auto head = HeadSync(*store, key);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    EXPECT_EQ(head->size, key.size() + 8);
    // The key as a list prefix goes into the signed query string.
    if (signs_query) {
      auto list = ListAllSync(*store, key);
      ASSERT_TRUE(list.ok()) << list.status().ToString();
      if (lists_right) {
        EXPECT_EQ(Keys(*list), std::vector<std::string>{key});
      }
    }
  }
  auto all = ListAllSync(*store, "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::sort(want.begin(), want.end());
  std::vector<std::string> listed;
  for (const ObjectInfo& o : *all)
    if (o.key.find('&') == std::string::npos) listed.push_back(o.key);
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, want);
  EXPECT_EQ(all->size(), keys.size());
  for (const Key& k : keys) EXPECT_TRUE(DeleteSync(*store, k.key).ok()) << k.key;
  EXPECT_EQ(Op(store->stats(), "PutObject").by_status.count(403), 0u);
}

TEST_F(S3StoreSigV4Test, WrongSecretIsPermissionDeniedWithoutRetries) {
  auto good = Store();
  ASSERT_TRUE(good);
  ASSERT_TRUE(PutSync(*good, "k", "v").ok());
  auto store = Store(Creds("S3RVER", "not-the-secret"), [](S3Store::Options& o) { o.retry.max_attempts = 5; });
  ASSERT_TRUE(store);
  std::vector<std::pair<std::string, Status>> results = {
      {"Get", GetSync(*store, "k").status()},
      {"Put", PutSync(*store, "k2", "v").status()},
      {"List", ListPageSync(*store, {}).status()},
      {"Delete", DeleteSync(*store, "k")},
  };
  for (const auto& [op, st] : results) {
    EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << op << ": " << st.ToString();
    EXPECT_NE(st.message().find("403"), std::string::npos) << op << ": " << st.ToString();
    EXPECT_NE(st.message().find("SignatureDoesNotMatch"), std::string::npos) << op << ": " << st.ToString();
    EXPECT_EQ(st.message().find("not-the-secret"), std::string::npos) << op << ": " << st.ToString();
  }
  EXPECT_EQ(HeadSync(*store, "k").status().code(), StatusCode::kPermissionDenied);
  S3Stats stats = store->stats();
  for (const auto& [name, op] : stats.operations) {
    EXPECT_EQ(op.attempts, op.calls) << name << ": a 403 is never retried\n" << s3test::FormatStats(stats);
    EXPECT_EQ(op.retries, 0u) << name;
    EXPECT_EQ(op.errors, op.calls) << name;
    EXPECT_EQ(op.by_status.at(403), op.calls) << name;
  }
  EXPECT_EQ(GetSync(*good, "k")->body, "v") << "the failed delete deleted nothing";
}

// The token goes out as x-amz-security-token, signed with the rest; the
// server accepts the request, so the signature covered it as it expects.
TEST_F(S3StoreSigV4Test, SessionTokenIsSignedAlong) {
  auto store = Store(Creds("S3RVER", "S3RVER", "FQoGZXIvYXdzEXAMPLE/token+with=odd/chars"));
  ASSERT_TRUE(store);
  ASSERT_TRUE(PutSync(*store, "t", "token").ok());
  auto got = GetSync(*store, "t");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "token");
  auto list = ListAllSync(*store, "");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(Keys(*list), std::vector<std::string>{"t"});
}

// A distinctive secret and token, planted through the config section, the
// environment and Create(), never appear in any error message or Describe(),
// whatever fails: a wrong signature, a missing bucket or key, an endpoint
// that refuses connections, an unusable option.
TEST_F(S3StoreSigV4Test, NoSecretInAnyMessage) {
  const std::string secret = "SeCrEt-d1st1nct1ve-9f8e7d6c5b4a";
  const std::string token = "ToKeN-d1st1nct1ve-0a1b2c3d4e5f";
  std::vector<std::string> texts;
  auto collect = [&](const Status& st) {
    EXPECT_FALSE(st.ok());
    texts.push_back(st.ToString());
  };
  auto exercise = [&](ObjectStore& store) {
    texts.push_back(store.Describe());
    collect(GetSync(store, "k").status());
    collect(GetSync(store, GetRequest{"k", ByteRange{1, 2}}).status());
    collect(HeadSync(store, "k").status());
    collect(PutSync(store, "k", "v").status());
    collect(PutSync(store, "k", "v", /*if_none_match=*/true).status());
    collect(ListPageSync(store, {.prefix = "p"}).status());
    collect(DeleteSync(store, "k"));
  };
  // Wrong secret (403) through the config section.
  S3Options o;
  o.endpoint = server_->endpoint();
  o.region = server_->region();
  o.addressing = "path";
  o.access_key_id = "S3RVER";
  o.secret_access_key = secret;
  o.session_token = token;
  o.max_attempts = 2;
  o.retry_base_delay = std::chrono::milliseconds(1);
  {
    auto store = S3Store::Open(Uri(), o, s3test::NoEnv());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    exercise(**store);
  }
  // The same from the environment, on a bucket that does not exist.
  {
    S3Options env_only = o;
    env_only.access_key_id.clear();
    env_only.secret_access_key.clear();
    env_only.session_token.clear();
    std::map<std::string, std::string> env = {
        {"AWS_ACCESS_KEY_ID", "S3RVER"}, {"AWS_SECRET_ACCESS_KEY", secret}, {"AWS_SESSION_TOKEN", token}};
    auto lookup = [env](std::string_view name) -> std::optional<std::string> {
      auto it = env.find(std::string(name));
      return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    auto store = S3Store::Open("s3://no-such-bucket/p", env_only, lookup);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    exercise(**store);
  }
  // An endpoint where nothing listens (a port just released).
  {
    uint16_t dead_port;
    {
      testing::TestHttpServer probe([](const testing::ServerRequest&) { return testing::ServerReply{}; });
      dead_port = probe.port();
    }
    auto store = MustCreate("http://127.0.0.1:" + std::to_string(dead_port), Uri(),
                            [](S3Store::Options& opts) {
                              opts.retry.max_attempts = 2;
                              opts.retry.base_delay = std::chrono::milliseconds(1);
                            },
                            Creds("S3RVER", secret, token));
    ASSERT_TRUE(store);
    exercise(*store);
  }
  // Options Open() refuses, with the secrets set.
  {
    S3Options bad = o;
    bad.addressing = "sideways";
    auto store = S3Store::Open(Uri(), bad, s3test::NoEnv());
    if (!store.ok()) texts.push_back(store.status().ToString());
    S3Options half = o;
    half.access_key_id.clear();  // a secret without a key id: an error naming the source
    auto store2 = S3Store::Open(Uri(), half, s3test::NoEnv());
    ASSERT_FALSE(store2.ok());
    texts.push_back(store2.status().ToString());
  }
  ASSERT_GE(texts.size(), 20u);
  for (const std::string& text : texts) {
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
    EXPECT_EQ(text.find(token), std::string::npos) << text;
    EXPECT_EQ(text.find("d1st1nct1ve"), std::string::npos) << text;
  }
}

// ---------------------------------------------------------------------------
// A scripted server, for answers neither s3rver gives.

class S3StoreScriptedTest : public ::testing::Test {
 protected:
  std::unique_ptr<S3Store> Store(const testing::TestHttpServer& server,
                                 const std::function<void(S3Store::Options&)>& tweak = nullptr) {
    return MustCreate("http://127.0.0.1:" + std::to_string(server.port()), "s3://bucket/p", tweak);
  }
};

std::string ErrorXml(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message +
         "</Message><RequestId>scripted</RequestId></Error>";
}

testing::ServerReply Reply(int status, std::string body = "", HttpHeaders headers = {}) {
  testing::ServerReply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

// S3's multipart ETag: MD5 of the parts' raw MD5s, "-<parts>".
std::string MultipartEtag(const std::vector<std::string>& parts) {
  std::string raws;
  for (const std::string& p : parts) {
    std::string hex = Md5Hex(p);
    for (size_t i = 0; i < 32; i += 2) raws.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return Md5Hex(raws) + "-" + std::to_string(parts.size());
}

bool Has(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

TEST_F(S3StoreScriptedTest, PreconditionFailedIsAlreadyExistsAndNotRetried) {
  testing::TestHttpServer server([](const testing::ServerRequest& req) {
    if (req.method == "PUT")
      return Reply(412, ErrorXml("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"));
    return Reply(500);
  });
  auto store = Store(server, [](S3Store::Options& o) { o.retry.max_attempts = 5; });
  ASSERT_TRUE(store);
  auto put = PutSync(*store, "dir/k", "body", /*if_none_match=*/true);
  EXPECT_EQ(put.status().code(), StatusCode::kAlreadyExists) << put.status().ToString();
  EXPECT_TRUE(Has(put.status().message(), "s3://bucket/p/dir/k")) << put.status().ToString();
  EXPECT_TRUE(Has(put.status().message(), "PreconditionFailed")) << put.status().ToString();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u) << "a 412 is final";
  EXPECT_EQ(requests[0].Header("if-none-match"), "*");
  EXPECT_EQ(requests[0].target, "/bucket/p/dir/k");
  S3Stats stats = store->stats();
  EXPECT_EQ(Op(stats, "PutObject").attempts, 1u);
  EXPECT_EQ(Op(stats, "PutObject").retries, 0u);
  EXPECT_EQ(Op(stats, "PutObject").errors, 1u);
  EXPECT_EQ(Op(stats, "HeadObject").calls, 0u) << "nothing to check: no attempt was in doubt";
}

// A scripted multipart upload server: the test decides each Complete and
// HEAD answer.
struct MultipartScript {
  std::mutex mu;
  std::map<int, std::string> parts;  // part number -> body
  int completes = 0, heads = 0, puts = 0;
  // Answers by the request's number of its kind (1, 2, ...).
  std::function<testing::ServerReply(int n)> complete = [](int) { return Reply(500); };
  std::function<testing::ServerReply(int n)> head = [](int) { return Reply(404, "", {{"Content-Length", "0"}}); };
  std::function<testing::ServerReply(int n, const testing::ServerRequest&)> put =
      [](int, const testing::ServerRequest&) { return Reply(500); };

  testing::ServerReply operator()(const testing::ServerRequest& req) {
    std::lock_guard lock(mu);
    const std::string& t = req.target;
    if (req.method == "POST" && Has(t, "?uploads"))
      return Reply(200, "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>p/k</Key>"
                        "<UploadId>upload-1</UploadId></InitiateMultipartUploadResult>");
    if (req.method == "PUT" && Has(t, "partNumber=")) {
      int n = std::stoi(t.substr(t.find("partNumber=") + 11));
      parts[n] = req.body;
      return Reply(200, "", {{"ETag", "\"" + Md5Hex(req.body) + "\""}});
    }
    if (req.method == "POST" && Has(t, "uploadId=")) return complete(++completes);
    if (req.method == "HEAD") return head(++heads);
    if (req.method == "PUT") return put(++puts, req);
    if (req.method == "DELETE") return Reply(204);
    return Reply(400, ErrorXml("Unexpected", req.method + " " + t));
  }
};

std::string CompleteXml(const std::string& etag) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult><Bucket>bucket</Bucket>"
         "<Key>p/k</Key><ETag>&quot;" + etag + "&quot;</ETag></CompleteMultipartUploadResult>";
}

std::unique_ptr<S3Store> MultipartStore(const testing::TestHttpServer& server) {
  return MustCreate("http://127.0.0.1:" + std::to_string(server.port()), "s3://bucket/p", [](S3Store::Options& o) {
    o.multipart_threshold = 1000;
    o.multipart_part_size = 1000;
    o.retry.max_attempts = 4;
  });
}

TEST_F(S3StoreScriptedTest, ErrorInsideA200CompleteIsRetried) {
  auto script = std::make_shared<MultipartScript>();
  script->complete = [](int n) {
    if (n == 1) return Reply(200, ErrorXml("InternalError", "We encountered an internal error. Please try again."));
    return Reply(200, CompleteXml("0123456789abcdef0123456789abcdef-2"));
  };
  testing::TestHttpServer server([script](const testing::ServerRequest& r) { return (*script)(r); });
  auto store = MultipartStore(server);
  ASSERT_TRUE(store);
  const std::string body = RandomBody(7, 1500);
  auto put = PutSync(*store, "k", body);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, "0123456789abcdef0123456789abcdef-2");
  EXPECT_EQ(put->size, 1500u);
  {
    std::lock_guard lock(script->mu);
    EXPECT_EQ(script->completes, 2);
    EXPECT_EQ(script->parts.size(), 2u);
    EXPECT_TRUE(script->parts[1] + script->parts[2] == body);
  }
  // The Complete body names both parts with their ETags, in order.
  std::string complete_body;
  for (const auto& r : server.requests())
    if (r.method == "POST" && Has(r.target, "uploadId=upload-1")) complete_body = r.body;
  size_t p1 = complete_body.find("<PartNumber>1</PartNumber>");
  size_t p2 = complete_body.find("<PartNumber>2</PartNumber>");
  EXPECT_TRUE(p1 != std::string::npos && p2 != std::string::npos && p1 < p2) << complete_body;
  EXPECT_TRUE(Has(complete_body, Md5Hex(body.substr(0, 1000)))) << complete_body;
  EXPECT_TRUE(Has(complete_body, Md5Hex(body.substr(1000)))) << complete_body;

  S3Stats stats = store->stats();
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").calls, 1u) << s3test::FormatStats(stats);
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").attempts, 2u);
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").retries, 1u);
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").errors, 0u);
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").by_status.at(200), 2u);
  EXPECT_EQ(Op(stats, "UploadPart").calls, 2u);
  EXPECT_EQ(Op(stats, "AbortMultipartUpload").calls, 0u);
}

TEST_F(S3StoreScriptedTest, SlowDownIsRetriedWithBackoff) {
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  testing::TestHttpServer server([&](const testing::ServerRequest&) {
    std::lock_guard lock(mu);
    arrivals.push_back(std::chrono::steady_clock::now());
    if (arrivals.size() <= 2) return Reply(503, ErrorXml("SlowDown", "Please reduce your request rate."));
    return Reply(200, "hello", {{"ETag", "\"" + Md5Hex("hello") + "\""}});
  });
  s3::RetryOptions retry;
  retry.max_attempts = 5;
  retry.base_delay = std::chrono::milliseconds(40);
  retry.max_delay = std::chrono::milliseconds(400);
  const uint64_t seed = 7;
  auto store = Store(server, [&](S3Store::Options& o) {
    o.retry = retry;
    o.jitter_seed = seed;
  });
  ASSERT_TRUE(store);
  auto got = GetSync(*store, "k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "hello");
  S3Stats stats = store->stats();
  EXPECT_EQ(Op(stats, "GetObject").attempts, 3u) << s3test::FormatStats(stats);
  EXPECT_EQ(Op(stats, "GetObject").retries, 2u);
  EXPECT_EQ(Op(stats, "GetObject").by_status.at(503), 2u);
  EXPECT_EQ(Op(stats, "GetObject").by_status.at(200), 1u);
  // The waits are the store's full-jitter draws (its PRNG seeded with
  // jitter_seed); timers never fire early, so each gap is at least that.
  std::mt19937_64 rng(seed);
  const auto wait2 = s3::BackoffDelay(retry, 2, rng());
  const auto wait3 = s3::BackoffDelay(retry, 3, rng());
  EXPECT_GT(wait2 + wait3, std::chrono::milliseconds(0)) << "pick a seed that waits at all";
  std::lock_guard lock(mu);
  ASSERT_EQ(arrivals.size(), 3u);
  EXPECT_GE(arrivals[1] - arrivals[0], wait2);
  EXPECT_GE(arrivals[2] - arrivals[1], wait3);
  std::cout << "backoff waits drawn: " << wait2.count() << " ms, " << wait3.count() << " ms\n";
}

TEST_F(S3StoreScriptedTest, PersistentSlowDownFailsAfterMaxAttempts) {
  testing::TestHttpServer server([](const testing::ServerRequest&) {
    return Reply(503, ErrorXml("SlowDown", "Please reduce your request rate."));
  });
  auto store = Store(server, [](S3Store::Options& o) { o.retry.max_attempts = 3; });
  ASSERT_TRUE(store);
  auto got = GetSync(*store, "k");
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
  EXPECT_TRUE(Has(got.status().message(), "after 3 attempts")) << got.status().ToString();
  EXPECT_TRUE(Has(got.status().message(), "SlowDown")) << got.status().ToString();
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(Op(store->stats(), "GetObject").retries, 2u);
}

// The Complete went through but its response was cut off: a repeat would
// find no upload (NoSuchUpload, or s3rver 3.7.1's 500). The store asks with
// a HEAD instead, and the object there is ours: done, without a repeat.
TEST_F(S3StoreScriptedTest, CompleteWhoseResponseWasLostIsConfirmedWithHead) {
  const std::string body = RandomBody(8, 1500);
  const std::string etag = MultipartEtag({body.substr(0, 1000), body.substr(1000)});
  auto script = std::make_shared<MultipartScript>();
  script->complete = [](int n) {
    testing::ServerReply r = Reply(200, CompleteXml("whatever-2"));
    if (n == 1) r.mode = testing::ServerReply::Mode::kHeaderThenClose;
    return r;
  };
  script->head = [&](int) { return Reply(200, "", {{"Content-Length", "1500"}, {"ETag", "\"" + etag + "\""}}); };
  testing::TestHttpServer server([script](const testing::ServerRequest& r) { return (*script)(r); });
  auto store = MultipartStore(server);
  ASSERT_TRUE(store);
  auto put = PutSync(*store, "k", body);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, etag);
  S3Stats stats = store->stats();
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").attempts, 1u) << s3test::FormatStats(stats);
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").errors, 0u);
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").confirmed, 1u);
  EXPECT_EQ(Op(stats, "HeadObject").calls, 1u);
  EXPECT_EQ(Op(stats, "AbortMultipartUpload").calls, 0u);
  std::lock_guard lock(script->mu);
  EXPECT_EQ(script->completes, 1);
}

// The same, but the HEAD finds no object (the Complete never got through):
// the store retries the Complete as usual.
TEST_F(S3StoreScriptedTest, CompleteNotAppliedAfterAllIsRetried) {
  auto script = std::make_shared<MultipartScript>();
  script->complete = [](int n) {
    testing::ServerReply r = Reply(200, CompleteXml("0123456789abcdef0123456789abcdef-2"));
    if (n == 1) r.mode = testing::ServerReply::Mode::kHalfBody;
    return r;
  };
  script->head = [](int) { return Reply(404, "", {{"Content-Length", "0"}}); };
  testing::TestHttpServer server([script](const testing::ServerRequest& r) { return (*script)(r); });
  auto store = MultipartStore(server);
  ASSERT_TRUE(store);
  auto put = PutSync(*store, "k", RandomBody(9, 1500));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, "0123456789abcdef0123456789abcdef-2");
  S3Stats stats = store->stats();
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").attempts, 2u) << s3test::FormatStats(stats);
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").retries, 1u);
  EXPECT_EQ(Op(stats, "CompleteMultipartUpload").confirmed, 0u);
  EXPECT_EQ(Op(stats, "HeadObject").calls, 1u);
  std::lock_guard lock(script->mu);
  EXPECT_EQ(script->completes, 2);
}

// A create-only Put whose response was lost, then 412 on the retry: the
// object that exists is ours (size and MD5), so the Put succeeded. With
// other bytes there, it is kAlreadyExists.
TEST_F(S3StoreScriptedTest, ConditionalPutWhoseResponseWasLostIsConfirmedWithHead) {
  for (bool ours : {true, false}) {
    SCOPED_TRACE(ours ? "the object is ours" : "someone else's object");
    const std::string body = "create me";
    auto script = std::make_shared<MultipartScript>();
    script->put = [](int n, const testing::ServerRequest&) {
      if (n == 1) {
        testing::ServerReply r = Reply(200, "cut");  // headers promise 3 bytes, none come
        r.mode = testing::ServerReply::Mode::kHeaderThenClose;
        return r;
      }
      return Reply(412, ErrorXml("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"));
    };
    script->head = [&](int) {
      return Reply(200, "", {{"Content-Length", std::to_string(body.size())},
                             {"ETag", "\"" + Md5Hex(ours ? body : "other bytes") + "\""}});
    };
    testing::TestHttpServer server([script](const testing::ServerRequest& r) { return (*script)(r); });
    auto store = Store(server);
    ASSERT_TRUE(store);
    auto put = PutSync(*store, "k", body, /*if_none_match=*/true);
    if (ours) {
      ASSERT_TRUE(put.ok()) << put.status().ToString();
      EXPECT_EQ(*put, (ObjectInfo{"k", body.size(), Md5Hex(body)}));
    } else {
      EXPECT_EQ(put.status().code(), StatusCode::kAlreadyExists) << put.status().ToString();
    }
    S3Stats stats = store->stats();
    // Attempt 1 lost; the HEAD before retrying finds the object (ours or
    // not: a HEAD cannot tell a lost create from a race), so ours ends
    // there; theirs goes on to the 412, checked again.
    EXPECT_EQ(Op(stats, "PutObject").confirmed, ours ? 1u : 0u);
    if (ours) {
      EXPECT_EQ(Op(stats, "PutObject").attempts, 1u) << s3test::FormatStats(stats);
      EXPECT_EQ(Op(stats, "HeadObject").calls, 1u);
    } else {
      EXPECT_EQ(Op(stats, "PutObject").attempts, 2u) << s3test::FormatStats(stats);
      EXPECT_EQ(Op(stats, "HeadObject").calls, 2u);
    }
  }
}

// An SSE-KMS or SSE-C bucket: S3 answers with an ETag that is not the
// body's MD5 and says why in x-amz-server-side-encryption*. Before, every
// PUT and whole-object GET failed its integrity check there.
struct EncryptingBucket {
  HttpHeaders sse;  // what each response carries
  bool etag_is_md5 = false;
  std::mutex mu;
  std::map<std::string, std::string> objects;
  testing::ServerReply operator()(const testing::ServerRequest& req) {
    std::lock_guard lock(mu);
    const std::string etag = "\"" + (etag_is_md5 ? Md5Hex(objects[req.target]) : Md5Hex("kms:" + req.target)) + "\"";
    HttpHeaders h = sse;
    if (req.method == "PUT" && Has(req.target, "partNumber=")) {
      h.emplace_back("ETag", "\"" + Md5Hex("kms-part:" + req.target) + "\"");
      return Reply(200, "", h);
    }
    if (req.method == "PUT") {
      objects[req.target] = req.body;
      h.emplace_back("ETag", etag_is_md5 ? "\"" + Md5Hex(req.body) + "\"" : etag);
      return Reply(200, "", h);
    }
    auto it = objects.find(req.target);
    if (it == objects.end()) return Reply(404, ErrorXml("NoSuchKey", "no"));
    h.emplace_back("ETag", etag);
    return Reply(200, it->second, h);
  }
};

TEST_F(S3StoreScriptedTest, EncryptedObjectsAreReadAndWrittenWithoutTheMd5Check) {
  for (const HttpHeaders& sse : {HttpHeaders{{"x-amz-server-side-encryption", "aws:kms"},
                                             {"x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:k"}},
                                 HttpHeaders{{"x-amz-server-side-encryption", "aws:kms:dsse"}},
                                 HttpHeaders{{"x-amz-server-side-encryption-customer-algorithm", "AES256"},
                                             {"x-amz-server-side-encryption-customer-key-MD5", "abc="}}}) {
    SCOPED_TRACE(sse.front().first + ": " + sse.front().second);
    EncryptingBucket bucket;
    bucket.sse = sse;
    testing::TestHttpServer server(std::ref(bucket));
    auto store = Store(server);
    ASSERT_TRUE(store);
    ASSERT_TRUE(PutSync(*store, "k", "secret ads").ok());
    auto got = GetSync(*store, "k");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->body, "secret ads");
    EXPECT_EQ(store->stats().unverified_etags, 2u);
    EXPECT_TRUE(server.requests().front().Header("content-md5") != "") << "S3 still checks what we send";
  }
}

TEST_F(S3StoreScriptedTest, SseS3KeepsTheMd5CheckAndAWrongEtagStillFails) {
  EncryptingBucket bucket;
  bucket.sse = {{"x-amz-server-side-encryption", "AES256"}};  // SSE-S3: the ETag is the MD5
  bucket.etag_is_md5 = true;
  testing::TestHttpServer server(std::ref(bucket));
  auto store = Store(server, [](S3Store::Options& o) { o.retry.max_attempts = 2; });
  ASSERT_TRUE(store);
  ASSERT_TRUE(PutSync(*store, "k", "ads").ok());
  ASSERT_TRUE(GetSync(*store, "k").ok());
  EXPECT_EQ(store->stats().unverified_etags, 0u);
  // Without any encryption header a non-MD5 ETag is damage, as before.
  EncryptingBucket plain;
  testing::TestHttpServer plain_server(std::ref(plain));
  auto plain_store = Store(plain_server, [](S3Store::Options& o) {
    o.retry.max_attempts = 2;
    o.retry.base_delay = std::chrono::milliseconds(1);
  });
  auto put = PutSync(*plain_store, "k", "ads");
  EXPECT_FALSE(put.ok());
  EXPECT_TRUE(Has(put.status().message(), "server stored ETag")) << put.status().ToString();
}

TEST_F(S3StoreScriptedTest, EncryptedMultipartPartsAreAccepted) {
  EncryptingBucket bucket;
  bucket.sse = {{"x-amz-server-side-encryption", "aws:kms"}};
  testing::TestHttpServer server([&bucket](const testing::ServerRequest& req) {
    if (req.method == "POST" && Has(req.target, "?uploads"))
      return Reply(200, "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>p/k</Key>"
                        "<UploadId>upload-1</UploadId></InitiateMultipartUploadResult>", bucket.sse);
    if (req.method == "POST" && Has(req.target, "uploadId=")) return Reply(200, CompleteXml("kms-etag-3"), bucket.sse);
    return bucket(req);
  });
  auto store = MultipartStore(server);
  ASSERT_TRUE(store);
  auto put = PutSync(*store, "k", RandomBody(3, 2500));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(store->stats().unverified_etags, 3u);  // three parts
}

// What freshet asks for: SSE-KMS on the requests that create objects only;
// an SSE-C key on every request on an object's bytes, multipart included,
// and never on a listing or a delete.
TEST_F(S3StoreScriptedTest, EncryptionIsAskedForOnTheRightRequests) {
  S3Options kms;
  kms.sse = "aws:kms";
  kms.sse_kms_key_id = "alias/ads";
  S3Options ssec;
  ssec.sse_customer_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  for (const S3Options& config : {kms, ssec}) {
    EncryptingBucket bucket;
    bucket.sse = {{"x-amz-server-side-encryption", "aws:kms"}};
    testing::TestHttpServer server([&bucket](const testing::ServerRequest& req) {
      if (req.method == "POST" && Has(req.target, "?uploads"))
        return Reply(200, "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>p/k</Key>"
                          "<UploadId>upload-1</UploadId></InitiateMultipartUploadResult>");
      if (req.method == "POST" && Has(req.target, "uploadId=")) return Reply(200, CompleteXml("kms-etag-3"));
      if (req.method == "GET" && Has(req.target, "list-type=2"))
        return Reply(200, "<ListBucketResult><Name>bucket</Name><Prefix>p/</Prefix><KeyCount>0</KeyCount>"
                          "<IsTruncated>false</IsTruncated></ListBucketResult>");
      if (req.method == "DELETE") return Reply(204);
      return bucket(req);
    });
    auto sse = s3::SseFromOptions(config);
    ASSERT_TRUE(sse.ok());
    auto store = Store(server, [&](S3Store::Options& o) {
      o.sse = *sse;
      o.multipart_threshold = 1000;
      o.multipart_part_size = 1000;
    });
    ASSERT_TRUE(store);
    ASSERT_TRUE(PutSync(*store, "small", "ads").ok());
    ASSERT_TRUE(PutSync(*store, "big", RandomBody(5, 2500)).ok());
    ASSERT_TRUE(GetSync(*store, "small").ok());
    ASSERT_TRUE(HeadSync(*store, "small").ok());
    ASSERT_TRUE(ListPageSync(*store, {.prefix = ""}).ok());
    ASSERT_TRUE(DeleteSync(*store, "small").ok());
    EXPECT_NE(store->Describe().find(config.sse.empty() ? ", SSE-C)" : ", sse aws:kms)"), std::string::npos)
        << store->Describe();
    for (const testing::ServerRequest& req : server.requests()) {
      const bool creates = (req.method == "PUT" && !Has(req.target, "partNumber=")) ||
                           (req.method == "POST" && Has(req.target, "?uploads"));
      const bool on_bytes = (req.method != "DELETE" && !Has(req.target, "list-type=2"));
      const std::string what = req.method + " " + req.target;
      if (config.sse_customer_key.empty()) {
        EXPECT_EQ(req.Header("x-amz-server-side-encryption"), creates ? "aws:kms" : "") << what;
        EXPECT_EQ(req.Header("x-amz-server-side-encryption-aws-kms-key-id"), creates ? "alias/ads" : "") << what;
        EXPECT_EQ(req.Header("x-amz-server-side-encryption-customer-key"), "") << what;
      } else {
        EXPECT_EQ(req.Header("x-amz-server-side-encryption"), "") << what;
        EXPECT_EQ(req.Header("x-amz-server-side-encryption-customer-algorithm"), on_bytes ? "AES256" : "") << what;
        EXPECT_EQ(req.Header("x-amz-server-side-encryption-customer-key"),
                  on_bytes ? config.sse_customer_key : "")
            << what;
        EXPECT_EQ(req.Header("x-amz-server-side-encryption-customer-key-md5"),
                  on_bytes ? "tP/LI3N87DFaSk0aoqYgzg==" : "")
            << what;
        // Signed along, like every x-amz-* header.
        if (on_bytes) {
          EXPECT_TRUE(Has(req.Header("authorization"), "x-amz-server-side-encryption-customer-key;")) << what;
        }
      }
    }
  }
}

// If-Match (the sink's CURRENT): sent quoted; a 412 (another ETag) or a
// 404 (gone) is kFailedPrecondition naming the object, never retried.
TEST_F(S3StoreScriptedTest, IfMatchSendsTheEtagAndMapsPreconditionFailures) {
  for (int status : {200, 412, 404}) {
    SCOPED_TRACE(status);
    testing::TestHttpServer server([status](const testing::ServerRequest& req) {
      if (req.method != "PUT") return Reply(500);
      if (status == 412)
        return Reply(412, ErrorXml("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"));
      if (status == 404) return Reply(404, ErrorXml("NoSuchKey", "The specified key does not exist."));
      return Reply(200, "", {{"ETag", "\"" + Md5Hex(req.body) + "\""}});
    });
    auto store = Store(server, [](S3Store::Options& o) { o.retry.max_attempts = 4; });
    ASSERT_TRUE(store);
    auto put = PutSync(*store, PutRequest{"CURRENT", "v2", false, "5f3b0c2a9d"});
    auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u) << "a precondition answer is final";
    EXPECT_EQ(requests[0].Header("if-match"), "\"5f3b0c2a9d\"");
    EXPECT_TRUE(Has(requests[0].Header("authorization"), "if-match;")) << "signed along";
    if (status == 200) {
      ASSERT_TRUE(put.ok()) << put.status().ToString();
      EXPECT_EQ(put->etag, Md5Hex("v2"));
    } else {
      EXPECT_EQ(put.status().code(), StatusCode::kFailedPrecondition) << put.status().ToString();
      EXPECT_TRUE(Has(put.status().message(), "PutObject s3://bucket/p/CURRENT")) << put.status().ToString();
      EXPECT_TRUE(Has(put.status().message(), "If-Match")) << put.status().ToString();
    }
  }
}

// An If-Match put whose response was lost: the HEAD before the retry finds
// our bytes (the swap went through), so it is not retried into a 412.
TEST_F(S3StoreScriptedTest, IfMatchWhoseResponseWasLostIsConfirmedWithHead) {
  const std::string body = "current v2";
  auto script = std::make_shared<MultipartScript>();
  script->put = [](int, const testing::ServerRequest&) {
    testing::ServerReply r = Reply(200, "cut");
    r.mode = testing::ServerReply::Mode::kHeaderThenClose;
    return r;
  };
  script->head = [&](int) {
    return Reply(200, "", {{"Content-Length", std::to_string(body.size())}, {"ETag", "\"" + Md5Hex(body) + "\""}});
  };
  testing::TestHttpServer server([script](const testing::ServerRequest& r) { return (*script)(r); });
  auto store = Store(server);
  ASSERT_TRUE(store);
  auto put = PutSync(*store, PutRequest{"CURRENT", body, false, Md5Hex("current v1")});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(Op(store->stats(), "PutObject").confirmed, 1u);
  EXPECT_EQ(Op(store->stats(), "PutObject").attempts, 1u);
}

// The header's promise: destroying the store completes every pending call
// with kCancelled — one waiting for a response, one waiting out a backoff.
TEST_F(S3StoreScriptedTest, DestroyingTheStoreCancelsPendingCalls) {
  testing::TestHttpServer server([](const testing::ServerRequest& req) {
    if (req.method == "GET") {
      testing::ServerReply r;
      r.mode = testing::ServerReply::Mode::kStall;
      return r;
    }
    return Reply(503, ErrorXml("SlowDown", "Please reduce your request rate."));
  });
  s3::RetryOptions retry;
  retry.base_delay = std::chrono::seconds(60);
  retry.max_delay = std::chrono::seconds(60);
  const uint64_t seed = 7;
  std::mt19937_64 rng(seed);
  ASSERT_GT(s3::BackoffDelay(retry, 2, rng()), std::chrono::seconds(5)) << "the Put must still be waiting";
  auto store = Store(server, [&](S3Store::Options& o) {
    o.retry = retry;
    o.jitter_seed = seed;
  });
  ASSERT_TRUE(store);
  std::promise<Status> get_done, put_done;
  store->Get(GetRequest{"k"}, [&](Result<GetResult> r) { get_done.set_value(r.status()); });
  store->Put(PutRequest{"k", "v"}, [&](Result<ObjectInfo> r) { put_done.set_value(r.status()); });
  ASSERT_TRUE(server.WaitForRequests(2));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Op(store->stats(), "PutObject").retries == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();  // the 503 is on its way back
  ASSERT_EQ(Op(store->stats(), "PutObject").retries, 1u);
  auto get_status = get_done.get_future();
  auto put_status = put_done.get_future();
  store.reset();
  ASSERT_EQ(get_status.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_EQ(put_status.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Status g = get_status.get(), p = put_status.get();
  EXPECT_EQ(g.code(), StatusCode::kCancelled) << g.ToString();
  EXPECT_EQ(p.code(), StatusCode::kCancelled) << p.ToString();
  EXPECT_EQ(server.requests().size(), 2u);
}

}  // namespace
}  // namespace freshet
