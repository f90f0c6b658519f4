// ParseHttpUrl, HttpEndpoint and HttpResponse::Header: pure functions.
#include <gtest/gtest.h>

#include "storage/http/http_client.h"

namespace freshet {
namespace {

struct GoodUrl {
  const char* url;
  bool tls;
  const char* host;
  uint16_t port;
  const char* target;
  const char* host_header;
};

TEST(ParseHttpUrlTest, AcceptsWellFormedUrls) {
  const GoodUrl cases[] = {
      {"http://example.com", false, "example.com", 0, "/", "example.com"},
      {"http://example.com/", false, "example.com", 0, "/", "example.com"},
      {"https://s3.eu-west-1.amazonaws.com/bucket/key", true, "s3.eu-west-1.amazonaws.com", 0, "/bucket/key",
       "s3.eu-west-1.amazonaws.com"},
      {"http://127.0.0.1:9000/b?list-type=2&prefix=a%2Fb", false, "127.0.0.1", 9000, "/b?list-type=2&prefix=a%2Fb",
       "127.0.0.1:9000"},
      {"HTTPS://Host.Example:8443", true, "Host.Example", 8443, "/", "Host.Example:8443"},
      {"http://[::1]:8080/x", false, "::1", 8080, "/x", "[::1]:8080"},
      {"https://[2001:db8::1]/", true, "2001:db8::1", 0, "/", "[2001:db8::1]"},
      {"http://[::ffff:127.0.0.1]", false, "::ffff:127.0.0.1", 0, "/", "[::ffff:127.0.0.1]"},
      {"http://host?x=1", false, "host", 0, "/?x=1", "host"},
      {"http://host/path#fragment", false, "host", 0, "/path", "host"},
      {"http://host:80/", false, "host", 80, "/", "host"},         // default port stays implicit in Host
      {"https://host:443/", true, "host", 443, "/", "host"},
      {"https://host:80/", true, "host", 80, "/", "host:80"},
      {"http://my_bucket.localhost:65535", false, "my_bucket.localhost", 65535, "/", "my_bucket.localhost:65535"},
      {"http://h/a//b/../c", false, "h", 0, "/a//b/../c", "h"},  // no normalisation
  };
  for (const GoodUrl& c : cases) {
    SCOPED_TRACE(c.url);
    Result<HttpUrl> r = ParseHttpUrl(c.url);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->endpoint.tls, c.tls);
    EXPECT_EQ(r->endpoint.host, c.host);
    EXPECT_EQ(r->endpoint.port, c.port);
    EXPECT_EQ(r->target, c.target);
    EXPECT_EQ(r->endpoint.HostHeader(), c.host_header);
  }
}

TEST(ParseHttpUrlTest, RejectsMalformedUrls) {
  const char* cases[] = {
      "",
      "example.com",
      "ftp://example.com/",
      "http//example.com",
      "http://",
      "http:///path",
      "http://:80/",
      "http://host:/",
      "http://host:0/",
      "http://host:65536/",
      "http://host:80x/",
      "http://host:-1/",
      "http://user:secret@host/",
      "http://[::1/",
      "http://[::1]x/",
      "http://[not-an-ip]/",
      "http://[]/",
      "http://ho st/",
      "http://host/pa th",
      "http://host/\r\n",
      "http://host%41/",
      "http://::1/",
  };
  for (const char* url : cases) {
    SCOPED_TRACE(url);
    Result<HttpUrl> r = ParseHttpUrl(url);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(ParseHttpUrlTest, ErrorNamesTheUrlButNotUserInfo) {
  Result<HttpUrl> r = ParseHttpUrl("http://host:99999/");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("http://host:99999/"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("port"), std::string::npos) << r.status().message();
}

TEST(HttpEndpointTest, ToStringAndPorts) {
  HttpEndpoint plain{false, "example.com", 0};
  EXPECT_EQ(plain.EffectivePort(), 80);
  EXPECT_EQ(plain.ToString(), "http://example.com");
  HttpEndpoint tls{true, "example.com", 0};
  EXPECT_EQ(tls.EffectivePort(), 443);
  EXPECT_EQ(tls.ToString(), "https://example.com");
  HttpEndpoint odd{false, "127.0.0.1", 9000};
  EXPECT_EQ(odd.ToString(), "http://127.0.0.1:9000");
  HttpEndpoint v6{true, "::1", 8443};
  EXPECT_EQ(v6.HostHeader(), "[::1]:8443");
  EXPECT_EQ(v6.ToString(), "https://[::1]:8443");
}

TEST(HttpResponseTest, HeaderLookupIsCaseInsensitiveAndFirstWins) {
  HttpResponse r;
  r.headers = {{"Content-Type", "text/plain"}, {"ETag", "\"a\""}, {"etag", "\"b\""}};
  ASSERT_TRUE(r.Header("etag").has_value());
  EXPECT_EQ(*r.Header("etag"), "\"a\"");
  EXPECT_EQ(*r.Header("CONTENT-TYPE"), "text/plain");
  EXPECT_FALSE(r.Header("Content-Length").has_value());
  EXPECT_FALSE(r.Header("ETa").has_value());
}

}  // namespace
}  // namespace freshet
