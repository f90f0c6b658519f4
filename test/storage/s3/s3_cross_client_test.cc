// Cross-check with independent S3 clients: what S3Store writes, the AWS
// SDK for JavaScript v3 (test/tools/s3_cross_client.js) and s3cmd (Debian)
// read back intact, and what they write, S3Store reads — binary and empty
// bodies, a multipart object, keys with spaces, unicode, + = ~. Against
// s3rver 3.7.1 and the SigV4-verifying @20minutes/s3rver 5.0.0 (every
// request of all three clients is then signed and checked).
//
// Both independent clients list as "GET /bucket/?...", with the slash the
// SigV4 server wrongly rejects (403; see testing/s3_server.h). There the
// SDK gets a middleware that drops it before signing (as S3Store sends it),
// and s3cmd fetches the objects by name instead of by listing.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/md5.h"
#include "storage/blocking_store.h"
#include "storage/s3/s3_store.h"
#include "storage/s3/s3_store_test_util.h"
#include "testing/background_process.h"
#include "testing/s3_server.h"
#include "testing/temp_dir.h"
#include "testing/files.h"

namespace freshet {
namespace {

using s3test::RandomBody;
using testing::S3Server;
using testing::S3ServerKind;

constexpr char kBucket[] = "cross";

// The objects each direction writes: relative key -> body. Basenames are
// unique (s3cmd's get by name flattens directories).
std::map<std::string, std::string> Objects(const std::string& tag, bool multipart) {
  std::map<std::string, std::string> o = {
      {"binary-" + tag + ".bin", RandomBody(11, 100000)},
      {"empty-" + tag, ""},
      {"dir/with space " + tag + ".bin", RandomBody(12, 3000)},
      {"unicode/na\xc3\xafve-\xc3\x9f-\xe6\x97\xa5\xe6\x9c\xac-" + tag + ".bin", RandomBody(13, 777)},  // naïve-ß-日本
      {"odd/plus+equals=tilde~" + tag + ".bin", RandomBody(14, 4096)},
  };
  if (multipart) o["multipart-" + tag + ".bin"] = RandomBody(15, (5u << 20) / 2);  // 2.5 MiB: 5 parts of 512 KiB
  return o;
}

using testing::ReadFile;

void WriteFile(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << data;
}

std::string Basename(const std::string& key) { return key.substr(key.rfind('/') + 1); }

class S3CrossClientTest : public ::testing::TestWithParam<S3ServerKind> {
 protected:
  static void TearDownTestSuite() { servers_.clear(); }

  void SetUp() override {
    auto& server = servers_[GetParam()];
    if (!server) {
      auto started = S3Server::Start({.kind = GetParam(), .buckets = {kBucket}});
      ASSERT_TRUE(started.ok()) << started.status().ToString();
      server = std::move(started).value();
    }
    server_ = server.get();
    // "<test>/": this test's corner of the bucket.
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    prefix_ = name.substr(0, name.find('/')) + "/";
  }

  std::unique_ptr<S3Store> Store() {
    auto store = s3test::CreateStore(server_->endpoint(), std::string("s3://") + kBucket + "/" + prefix_,
                                     [](S3Store::Options& o) {
                                       o.multipart_threshold = 1 << 20;
                                       o.multipart_part_size = 512 << 10;
                                     });
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Runs a plan through test/tools/s3_cross_client.js; the results array.
  rapidjson::Document Sdk(const std::vector<std::map<std::string, std::string>>& ops) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    for (const auto& [k, v] : std::map<std::string, std::string>{{"endpoint", server_->endpoint()},
                                                                 {"region", server_->region()},
                                                                 {"access_key_id", server_->access_key()},
                                                                 {"secret_access_key", server_->secret_key()},
                                                                 {"bucket", kBucket}}) {
      w.Key(k.c_str());
      w.String(v.c_str());
    }
    w.Key("bucket_path_without_slash");
    w.Bool(Verifies());
    w.Key("ops");
    w.StartArray();
    for (const auto& op : ops) {
      w.StartObject();
      for (const auto& [k, v] : op) {
        w.Key(k.c_str());
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    WriteFile(dir_.Join("plan.json"), buf.GetString());
    auto tools = testing::NodeToolsDir();
    auto node = testing::NodeBinary();
    rapidjson::Document results;
    EXPECT_TRUE(tools.ok() && node.ok());
    if (!tools.ok() || !node.ok()) return results;
    testing::CommandResult r =
        testing::RunCommand({.argv = {*node, *tools + "/s3_cross_client.js", dir_.Join("plan.json"),
                                      dir_.Join("results.json")}},
                            std::chrono::seconds(60));
    EXPECT_TRUE(r.Ok()) << r.Describe();
    results.Parse(ReadFile(dir_.Join("results.json")).c_str());
    EXPECT_FALSE(results.HasParseError());
    EXPECT_TRUE(results.IsObject() && results.HasMember("results"));
    return results;
  }

  // Runs s3cmd with a configuration for this server; stdout.
  std::string S3cmd(std::vector<std::string> args) {
    std::string s3cmd = testing::FindInPath("s3cmd");
    EXPECT_FALSE(s3cmd.empty()) << "s3cmd is not installed (scripts/install-deps.sh test installs it)";
    if (s3cmd.empty()) return "";
    const std::string host = "127.0.0.1:" + std::to_string(server_->port());
    WriteFile(dir_.Join("s3cfg"), "[default]\naccess_key = " + server_->access_key() +
                                      "\nsecret_key = " + server_->secret_key() + "\nhost_base = " + host +
                                      "\nhost_bucket = " + host +
                                      "\nuse_https = False\nsignature_v2 = False\nbucket_location = " +
                                      server_->region() + "\n");
    std::vector<std::string> argv = {s3cmd, "-c", dir_.Join("s3cfg"), "--no-progress"};
    argv.insert(argv.end(), args.begin(), args.end());
    // UTF-8 file and key names whatever the machine's locale; no ~/.s3cfg.
    testing::CommandResult r = testing::RunCommand(
        {.argv = argv, .env = {{"LANG", "C.UTF-8"}, {"LC_ALL", "C.UTF-8"}, {"HOME", dir_.path()}}},
        std::chrono::seconds(60));
    EXPECT_TRUE(r.Ok()) << "s3cmd " << args[0] << ": " << r.Describe() << "\n" << r.out;
    return r.out;
  }

  bool Verifies() const { return GetParam() == S3ServerKind::kS3rverSigV4; }

  static std::map<S3ServerKind, std::unique_ptr<S3Server>> servers_;
  S3Server* server_ = nullptr;
  std::string prefix_;
  testing::TempDir dir_{"s3cross"};
};
std::map<S3ServerKind, std::unique_ptr<S3Server>> S3CrossClientTest::servers_;

TEST_P(S3CrossClientTest, SdkReadsWhatFreshetWrote) {
  auto store = Store();
  ASSERT_TRUE(store);
  const auto objects = Objects("f2sdk", true);
  std::map<std::string, std::string> etags;
  for (const auto& [key, body] : objects) {
    auto put = PutSync(*store, key, body);
    ASSERT_TRUE(put.ok()) << key << ": " << put.status().ToString();
    etags[key] = put->etag;
  }
  EXPECT_EQ(s3test::Op(store->stats(), "UploadPart").calls, 5u) << "the multipart object went up in parts";

  std::vector<std::map<std::string, std::string>> ops = {{{"op", "list"}, {"prefix", prefix_}}};
  int n = 0;
  for (const auto& [key, body] : objects) {
    ops.push_back({{"op", "get"}, {"key", prefix_ + key}, {"file", dir_.Join("get" + std::to_string(n++))}});
    ops.push_back({{"op", "head"}, {"key", prefix_ + key}});
  }
  rapidjson::Document doc = Sdk(ops);
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("results"));
  const auto& results = doc["results"];
  ASSERT_EQ(results.Size(), ops.size());
  for (const auto& r : results.GetArray())
    EXPECT_TRUE(r["ok"].GetBool()) << r["op"].GetString() << " " << (r.HasMember("key") ? r["key"].GetString() : "")
                                   << ": " << (r.HasMember("error") ? r["error"].GetString() : "");

  std::map<std::string, uint64_t> listed;
  for (const auto& k : results[0]["keys"].GetArray()) listed[k["key"].GetString()] = k["size"].GetUint64();
  std::map<std::string, uint64_t> want;
  for (const auto& [key, body] : objects) want[prefix_ + key] = body.size();
  EXPECT_EQ(listed, want);

  n = 0;
  size_t i = 1;
  for (const auto& [key, body] : objects) {
    EXPECT_TRUE(ReadFile(dir_.Join("get" + std::to_string(n++))) == body) << key << ": bytes differ";
    EXPECT_EQ(results[i]["size"].GetUint64(), body.size()) << key;
    EXPECT_EQ(std::string(results[i]["etag"].GetString()), etags[key]) << key;
    EXPECT_EQ(results[i + 1]["size"].GetUint64(), body.size()) << key;
    i += 2;
  }
}

TEST_P(S3CrossClientTest, FreshetReadsWhatSdkWrote) {
  const auto objects = Objects("sdk2f", false);
  std::vector<std::map<std::string, std::string>> ops;
  int n = 0;
  for (const auto& [key, body] : objects) {
    std::string file = dir_.Join("put" + std::to_string(n++));
    WriteFile(file, body);
    ops.push_back({{"op", "put"}, {"key", prefix_ + key}, {"file", file}});
  }
  rapidjson::Document doc = Sdk(ops);
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("results"));
  std::map<std::string, std::string> sdk_etags;
  for (const auto& r : doc["results"].GetArray()) {
    ASSERT_TRUE(r["ok"].GetBool()) << r["key"].GetString() << ": " << r["error"].GetString();
    sdk_etags[std::string(r["key"].GetString()).substr(prefix_.size())] = r["etag"].GetString();
  }

  auto store = Store();
  ASSERT_TRUE(store);
  auto listed = ListAllSync(*store, "");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::map<std::string, uint64_t> got, want;
  for (const ObjectInfo& o : *listed) got[o.key] = o.size;
  for (const auto& [key, body] : objects) want[key] = body.size();
  EXPECT_EQ(got, want);
  for (const auto& [key, body] : objects) {
    auto read = GetSync(*store, key);
    ASSERT_TRUE(read.ok()) << key << ": " << read.status().ToString();
    EXPECT_TRUE(read->body == body) << key << ": bytes differ";
    EXPECT_EQ(read->info.etag, sdk_etags[key]) << key;
    EXPECT_EQ(read->info.etag, Md5Hex(body)) << key;
    auto head = HeadSync(*store, key);
    ASSERT_TRUE(head.ok()) << key << ": " << head.status().ToString();
    EXPECT_EQ(head->size, body.size());
  }
}

TEST_P(S3CrossClientTest, S3cmdReadsWhatFreshetWrote) {
  auto store = Store();
  ASSERT_TRUE(store);
  const auto objects = Objects("f2cmd", true);
  for (const auto& [key, body] : objects) ASSERT_TRUE(PutSync(*store, key, body).ok()) << key;

  const std::string base = std::string("s3://") + kBucket + "/" + prefix_;
  const std::string down = dir_.Join("down/");
  std::filesystem::create_directories(down);
  if (!Verifies()) {
    // Listing and fetching everything under the prefix.
    // "2026-11-22 18:49       100000  s3://cross/p/key with spaces"
    std::string ls = S3cmd({"ls", "--recursive", base});
    std::map<std::string, uint64_t> listed, want;
    std::istringstream lines(ls);
    for (std::string line; std::getline(lines, line);) {
      size_t at = line.find(base);
      if (at == std::string::npos) continue;
      size_t size_end = line.find_last_not_of(' ', at - 1);
      size_t size_start = line.find_last_of(' ', size_end) + 1;
      listed[line.substr(at + base.size())] = std::stoull(line.substr(size_start, size_end + 1 - size_start));
    }
    for (const auto& [key, body] : objects) want[key] = body.size();
    EXPECT_EQ(listed, want) << ls;
    S3cmd({"get", "--recursive", base, down});
    for (const auto& [key, body] : objects) EXPECT_TRUE(ReadFile(down + key) == body) << key << ": bytes differ";
  } else {
    std::vector<std::string> args = {"get"};
    for (const auto& [key, body] : objects) args.push_back(base + key);
    args.push_back(down);
    S3cmd(args);
    for (const auto& [key, body] : objects)
      EXPECT_TRUE(ReadFile(down + Basename(key)) == body) << key << ": bytes differ";
  }
}

TEST_P(S3CrossClientTest, FreshetReadsWhatS3cmdWrote) {
  const auto objects = Objects("cmd2f", false);
  const std::string up = dir_.Join("up/");
  for (const auto& [key, body] : objects) WriteFile(up + key, body);
  S3cmd({"put", "--recursive", up, std::string("s3://") + kBucket + "/" + prefix_});

  auto store = Store();
  ASSERT_TRUE(store);
  auto listed = ListAllSync(*store, "");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::map<std::string, uint64_t> got, want;
  for (const ObjectInfo& o : *listed) got[o.key] = o.size;
  for (const auto& [key, body] : objects) want[key] = body.size();
  EXPECT_EQ(got, want);
  for (const auto& [key, body] : objects) {
    auto read = GetSync(*store, key);
    ASSERT_TRUE(read.ok()) << key << ": " << read.status().ToString();
    EXPECT_TRUE(read->body == body) << key << ": bytes differ";
    EXPECT_EQ(read->info.etag, Md5Hex(body)) << key;
  }
}

INSTANTIATE_TEST_SUITE_P(Servers, S3CrossClientTest,
                         ::testing::Values(S3ServerKind::kS3rver, S3ServerKind::kS3rverSigV4),
                         [](const auto& info) {
                           return info.param == S3ServerKind::kS3rver ? "S3rver" : "S3rverSigV4";
                         });

}  // namespace
}  // namespace freshet
