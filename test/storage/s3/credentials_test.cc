// The credentials chain without the network: config keys, environment,
// shared credentials file, and the IMDS step disabled or refused (the IMDS
// protocol itself is imds_test.cc). Every error message and Describe()
// output is checked for the planted secret strings.
#include "storage/s3/credentials.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "testing/temp_dir.h"
#include "storage/s3/planted_secrets.h"

namespace freshet::s3 {
namespace {

void ExpectNoSecrets(const std::string& text) { ExpectNoPlantedSecrets(text); }

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// Runs Get() on a provider that completes inline (static sources).
Result<sigv4::Credentials> GetNow(CredentialsProvider& p) {
  std::optional<Result<sigv4::Credentials>> got;
  p.Get([&](Result<sigv4::Credentials> r) { got.emplace(std::move(r)); });
  if (!got) return Status::Internal("Get did not complete inline");
  return std::move(*got);
}

// A chain that must fail; checks the message for secrets and returns it.
Status ChainError(const S3Options& options, const EnvLookup& env) {
  Result<std::shared_ptr<CredentialsProvider>> chain = MakeCredentialsChain(options, env, nullptr);
  if (chain.ok()) {
    ADD_FAILURE() << "chain built from " << (*chain)->Describe();
    return Status::Internal("unexpected success");
  }
  ExpectNoSecrets(chain.status().message());
  return chain.status();
}

const std::string kSecret = "wJalrXUtnFEMI/K7MDENG+" + std::string(kSecretMark);
const std::string kToken = "FwoGZXIvYXdzE" + std::string(kTokenMark);

// ---------------------------------------------------------------- environment

TEST(ProcessEnvironmentTest, ReadsGetenv) {
  ASSERT_EQ(setenv("FRESHET_CREDENTIALS_TEST_VAR", "v a l", 1), 0);
  EnvLookup env = ProcessEnvironment();
  EXPECT_EQ(env("FRESHET_CREDENTIALS_TEST_VAR"), std::optional<std::string>("v a l"));
  ASSERT_EQ(unsetenv("FRESHET_CREDENTIALS_TEST_VAR"), 0);
  EXPECT_EQ(env("FRESHET_CREDENTIALS_TEST_VAR"), std::nullopt);
  ASSERT_EQ(setenv("FRESHET_CREDENTIALS_TEST_VAR", "", 1), 0);
  EXPECT_EQ(env("FRESHET_CREDENTIALS_TEST_VAR"), std::optional<std::string>(""));
  unsetenv("FRESHET_CREDENTIALS_TEST_VAR");
}

// ------------------------------------------------------ shared credentials file

TEST(SharedCredentialsTest, DefaultAndNamedProfiles) {
  const std::string text = "[default]\n"
                           "aws_access_key_id = AKIADEFAULT\n"
                           "aws_secret_access_key = " + kSecret + "-default\n"
                           "\n"
                           "[prod]\n"
                           "aws_access_key_id=AKIAPROD\n"
                           "aws_secret_access_key=" + kSecret + "-prod\n"
                           "aws_session_token=" + kToken + "\n";
  Result<sigv4::Credentials> d = ParseSharedCredentials(text, "default", "/h/.aws/credentials");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->access_key_id, "AKIADEFAULT");
  EXPECT_EQ(d->secret_access_key, kSecret + "-default");
  EXPECT_EQ(d->session_token, "");
  Result<sigv4::Credentials> p = ParseSharedCredentials(text, "prod", "/h/.aws/credentials");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->access_key_id, "AKIAPROD");
  EXPECT_EQ(p->secret_access_key, kSecret + "-prod");
  EXPECT_EQ(p->session_token, kToken);
}

TEST(SharedCredentialsTest, WhitespaceCommentsAndLineEnds) {
  const std::string text = "\xEF\xBB\xBF# written by aws configure\r\n"
                           "; another comment\r\n"
                           "  [ dev ]  \r\n"
                           "\taws_access_key_id\t=\tAKIADEV  \r\n"
                           "   # indented comment\r\n"
                           "AWS_Secret_Access_Key   =    " + kSecret + "\r\n"
                           "aws_session_token: " + kToken + "\r\n"
                           "region = eu-west-1\r\n"
                           "s3 =\r\n"
                           "    addressing_style = path\r\n"
                           "    max_concurrent_requests = 20\r\n"
                           "[other]\n"
                           "aws_access_key_id = AKIAOTHER";  // no final newline
  Result<sigv4::Credentials> c = ParseSharedCredentials(text, "dev", "creds");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIADEV");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(c->session_token, kToken);  // "key: value" is configparser's other form
}

TEST(SharedCredentialsTest, ValuesKeepInnerCharacters) {
  // '=' and '#' inside a value are part of it (no inline comments, as in
  // botocore).
  Result<sigv4::Credentials> c =
      ParseSharedCredentials("[default]\naws_access_key_id = AK=IA\naws_secret_access_key = a/b+c=d#e;f:g\n",
                             "default", "f");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AK=IA");
  EXPECT_EQ(c->secret_access_key, "a/b+c=d#e;f:g");
}

TEST(SharedCredentialsTest, LaterValuesAndSectionsMerge) {
  Result<sigv4::Credentials> c = ParseSharedCredentials(
      "[p]\naws_access_key_id = OLD\n[q]\naws_access_key_id = Q\n[p]\naws_access_key_id = NEW\n"
      "aws_secret_access_key = s\n",
      "p", "f");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "NEW");
}

TEST(SharedCredentialsTest, ProfilePrefixIsLiteralInTheCredentialsFile) {
  // "[profile x]" is the config file's spelling; in the credentials file
  // the section name is the profile name as written.
  Result<sigv4::Credentials> c = ParseSharedCredentials(
      "[profile prod]\naws_access_key_id = A\naws_secret_access_key = S\n", "prod", "f");
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
}

TEST(SharedCredentialsTest, MissingProfileIsNotFound) {
  Result<sigv4::Credentials> c =
      ParseSharedCredentials("[default]\naws_access_key_id = A\naws_secret_access_key = " + kSecret + "\n", "prod",
                             "/home/u/.aws/credentials");
  ASSERT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("/home/u/.aws/credentials"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("[prod]"), std::string::npos) << c.status().message();
  ExpectNoSecrets(c.status().message());
  EXPECT_EQ(ParseSharedCredentials("", "default", "f").status().code(), StatusCode::kNotFound);
}

TEST(SharedCredentialsTest, MalformedLinesNameFileAndLineNotContent) {
  struct Case {
    std::string text;
    std::string where;
  };
  const std::vector<Case> cases = {
      {"[default]\naws_access_key_id = A\n" + kSecret + "\n", "creds:3:"},           // a pasted secret, no '='
      {"# c\n[default\naws_secret_access_key = " + kSecret + "\n", "creds:2:"},      // unclosed section
      {"aws_secret_access_key = " + kSecret + "\n[default]\n", "creds:1:"},          // key before any section
      {"[default]\n = " + kSecret + "\n", "creds:2:"},                               // no key name
      {"[]\n", "creds:1:"},                                                         // empty section name
      {"[other]\nthis line is " + kSecret + " with no equals\n[default]\n", "creds:2:"},  // in another profile too
  };
  for (const Case& c : cases) {
    Result<sigv4::Credentials> r = ParseSharedCredentials(c.text, "default", "creds");
    ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_TRUE(r.status().message().starts_with(c.where)) << r.status().message();
    ExpectNoSecrets(r.status().message());
  }
}

TEST(SharedCredentialsTest, HalfSetProfileNamesTheMissingKey) {
  Result<sigv4::Credentials> r =
      ParseSharedCredentials("[default]\n\n[prod]\naws_secret_access_key = " + kSecret + "\naws_session_token = " +
                                 kToken + "\n",
                             "prod", "/c");
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.status().message().starts_with("/c:3: profile [prod]")) << r.status().message();
  EXPECT_NE(r.status().message().find("no aws_access_key_id"), std::string::npos) << r.status().message();
  ExpectNoSecrets(r.status().message());

  r = ParseSharedCredentials("[prod]\naws_access_key_id = AKIA\n", "prod", "/c");
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("no aws_secret_access_key"), std::string::npos) << r.status().message();

  r = ParseSharedCredentials("[prod]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n",
                             "prod", "/c");
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("not supported"), std::string::npos) << r.status().message();

  // An empty value is no value.
  r = ParseSharedCredentials("[prod]\naws_access_key_id = AKIA\naws_secret_access_key =\n", "prod", "/c");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

// ------------------------------------------------------------------- the chain

S3Options ConfigKeys() {
  S3Options o;
  o.access_key_id = "AKIACONFIG";
  o.secret_access_key = kSecret + "-config";
  o.session_token = kToken + "-config";
  return o;
}

std::map<std::string, std::string> EnvKeys() {
  return {{"AWS_ACCESS_KEY_ID", "AKIAENV"},
          {"AWS_SECRET_ACCESS_KEY", kSecret + "-env"},
          {"AWS_SESSION_TOKEN", kToken + "-env"},
          {"AWS_EC2_METADATA_DISABLED", "true"}};
}

TEST(CredentialsChainTest, ConfigKeysComeFirst) {
  Result<std::shared_ptr<CredentialsProvider>> chain = MakeCredentialsChain(ConfigKeys(), MapEnv(EnvKeys()), nullptr);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_EQ((*chain)->Describe(), "config file");
  Result<sigv4::Credentials> c = GetNow(**chain);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIACONFIG");
  EXPECT_EQ(c->secret_access_key, kSecret + "-config");
  EXPECT_EQ(c->session_token, kToken + "-config");
}

TEST(CredentialsChainTest, HalfSetConfigIsAnError) {
  S3Options o;
  o.access_key_id = "AKIACONFIG";
  Status st = ChainError(o, MapEnv(EnvKeys()));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "config file: s3.access_key_id is set but s3.secret_access_key is not");

  o = S3Options();
  o.secret_access_key = kSecret;
  st = ChainError(o, MapEnv(EnvKeys()));
  EXPECT_EQ(st.message(), "config file: s3.secret_access_key is set but s3.access_key_id is not");

  o = S3Options();
  o.session_token = kToken;
  st = ChainError(o, MapEnv(EnvKeys()));
  EXPECT_EQ(st.message(), "config file: s3.session_token is set but s3.access_key_id is not");
}

TEST(CredentialsChainTest, EnvironmentSecond) {
  Result<std::shared_ptr<CredentialsProvider>> chain = MakeCredentialsChain(S3Options(), MapEnv(EnvKeys()), nullptr);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_EQ((*chain)->Describe(), "environment");
  Result<sigv4::Credentials> c = GetNow(**chain);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->secret_access_key, kSecret + "-env");
  EXPECT_EQ(c->session_token, kToken + "-env");

  auto env = EnvKeys();
  env.erase("AWS_SESSION_TOKEN");
  chain = MakeCredentialsChain(S3Options(), MapEnv(env), nullptr);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(GetNow(**chain)->session_token, "");
}

TEST(CredentialsChainTest, HalfSetEnvironmentIsAnError) {
  auto env = EnvKeys();
  env.erase("AWS_SECRET_ACCESS_KEY");
  Status st = ChainError(S3Options(), MapEnv(env));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");

  env = EnvKeys();
  env.erase("AWS_ACCESS_KEY_ID");
  st = ChainError(S3Options(), MapEnv(env));
  EXPECT_EQ(st.message(), "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");

  // Empty counts as unset.
  env = EnvKeys();
  env["AWS_SECRET_ACCESS_KEY"] = "";
  st = ChainError(S3Options(), MapEnv(env));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

class SharedFileChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(std::system(("mkdir -p '" + home_.Join(".aws") + "'").c_str()), 0);
    WriteFile(home_.Join(".aws/credentials"),
              "[default]\naws_access_key_id = AKIAHOME\naws_secret_access_key = " + kSecret + "-home\n"
              "[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = " + kSecret + "-prod\n"
              "aws_session_token = " + kToken + "-prod\n");
    WriteFile(dir_.Join("explicit"),
              "[default]\naws_access_key_id = AKIAEXPLICIT\naws_secret_access_key = " + kSecret + "-explicit\n");
  }

  std::map<std::string, std::string> Env() const {
    return {{"HOME", home_.path()}, {"AWS_EC2_METADATA_DISABLED", "true"}};
  }

  Result<sigv4::Credentials> Chain(const S3Options& o, const std::map<std::string, std::string>& env,
                                   std::string* describe) {
    Result<std::shared_ptr<CredentialsProvider>> chain = MakeCredentialsChain(o, MapEnv(env), nullptr);
    if (!chain.ok()) return chain.status();
    *describe = (*chain)->Describe();
    ExpectNoSecrets(*describe);
    return GetNow(**chain);
  }

  testing::TempDir home_{"creds-home"};
  testing::TempDir dir_{"creds-dir"};
};

TEST_F(SharedFileChainTest, HomeDefaultProfile) {
  std::string describe;
  Result<sigv4::Credentials> c = Chain(S3Options(), Env(), &describe);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAHOME");
  EXPECT_EQ(describe, "shared credentials file " + home_.Join(".aws/credentials") + " [default]");
}

TEST_F(SharedFileChainTest, ProfileFromOptionsThenAwsProfile) {
  auto env = Env();
  env["AWS_PROFILE"] = "nonexistent";
  S3Options o;
  o.profile = "prod";
  std::string describe;
  Result<sigv4::Credentials> c = Chain(o, env, &describe);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAPROD");
  EXPECT_EQ(c->session_token, kToken + "-prod");
  EXPECT_EQ(describe, "shared credentials file " + home_.Join(".aws/credentials") + " [prod]");

  env["AWS_PROFILE"] = "prod";
  c = Chain(S3Options(), env, &describe);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAPROD");
}

TEST_F(SharedFileChainTest, ExplicitFileWins) {
  auto env = Env();
  env["AWS_SHARED_CREDENTIALS_FILE"] = dir_.Join("explicit");
  std::string describe;
  Result<sigv4::Credentials> c = Chain(S3Options(), env, &describe);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAEXPLICIT");
  EXPECT_EQ(describe, "shared credentials file " + dir_.Join("explicit") + " [default]");
}

TEST_F(SharedFileChainTest, EnvironmentBeatsTheFile) {
  auto env = Env();
  env["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  env["AWS_SECRET_ACCESS_KEY"] = kSecret;
  std::string describe;
  Result<sigv4::Credentials> c = Chain(S3Options(), env, &describe);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(describe, "environment");
}

TEST_F(SharedFileChainTest, NamedProfileMissingIsAnError) {
  auto env = Env();
  env["AWS_PROFILE"] = "staging";
  Status st = ChainError(S3Options(), MapEnv(env));
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("[staging]"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(home_.Join(".aws/credentials")), std::string::npos) << st.message();

  // Named, but no file at all.
  env["AWS_SHARED_CREDENTIALS_FILE"] = dir_.Join("absent");
  st = ChainError(S3Options(), MapEnv(env));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("does not exist"), std::string::npos) << st.message();
}

TEST_F(SharedFileChainTest, MalformedFileIsAnError) {
  WriteFile(home_.Join(".aws/credentials"), "[default]\naws_access_key_id = A\n" + kSecret + "\n");
  Status st = ChainError(S3Options(), MapEnv(Env()));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(st.message().starts_with(home_.Join(".aws/credentials") + ":3:")) << st.message();
}

TEST_F(SharedFileChainTest, HalfSetProfileIsAnError) {
  WriteFile(home_.Join(".aws/credentials"), "[default]\naws_access_key_id = A\n");
  Status st = ChainError(S3Options(), MapEnv(Env()));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("no aws_secret_access_key"), std::string::npos) << st.message();
}

TEST_F(SharedFileChainTest, UnreadableFileIsAnError) {
  auto env = Env();
  env["AWS_SHARED_CREDENTIALS_FILE"] = dir_.path();  // a directory
  Result<std::shared_ptr<CredentialsProvider>> chain = MakeCredentialsChain(S3Options(), MapEnv(env), nullptr);
  ASSERT_FALSE(chain.ok());
  EXPECT_NE(chain.status().message().find(dir_.path()), std::string::npos) << chain.status().message();
}

TEST_F(SharedFileChainTest, NoDefaultProfileFallsThroughToInstanceMetadata) {
  WriteFile(home_.Join(".aws/credentials"), "[prod]\naws_access_key_id = A\naws_secret_access_key = S\n");
  Status st = ChainError(S3Options(), MapEnv(Env()));
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(),
            "no AWS credentials: not in config, environment or shared credentials file, and instance metadata is "
            "disabled (AWS_EC2_METADATA_DISABLED=true)");
}

TEST(CredentialsChainTest, HomeUnsetSkipsTheSharedFile) {
  Status st = ChainError(S3Options(), MapEnv({{"AWS_EC2_METADATA_DISABLED", "TRUE"}}));
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("AWS_EC2_METADATA_DISABLED"), std::string::npos) << st.message();
  // A profile asked for with nowhere to look is an error of its own.
  S3Options o;
  o.profile = "prod";
  st = ChainError(o, MapEnv({{"AWS_EC2_METADATA_DISABLED", "true"}}));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("[prod]"), std::string::npos) << st.message();
}

TEST(CredentialsChainTest, NoFileAndNoHttpClient) {
  testing::TempDir home("creds-empty-home");
  // Instance metadata enabled, but there is no client to ask with.
  Status st = ChainError(S3Options(), MapEnv({{"HOME", home.path()}}));
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("http://169.254.169.254"), std::string::npos) << st.message();
}

TEST(CredentialsChainTest, MetadataEndpointMustBeAUrl) {
  Status st = ChainError(S3Options(), MapEnv({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "ftp://x"}}));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("AWS_EC2_METADATA_SERVICE_ENDPOINT"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace freshet::s3
