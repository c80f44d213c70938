#include "agents/grok/url.h"

#include <gtest/gtest.h>

namespace outpost::agents::grok {
namespace {

TEST(Url, HttpsDefaultsToPort443AndKeepsThePath) {
  auto u = JoinUrl("https://api.x.ai/v1/", "/chat/completions");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_TRUE(u->tls());
  EXPECT_EQ(u->host, "api.x.ai");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/v1/chat/completions");
  EXPECT_EQ(u->HostHeader(), "api.x.ai");
  EXPECT_EQ(u->Authority(), "api.x.ai:443");
  EXPECT_EQ(u->ToString(), "https://api.x.ai/v1/chat/completions");
}

TEST(Url, HttpWithPortAndIpv6) {
  auto u = ParseUrl("http://[::1]:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->HostHeader(), "[::1]:8080");
}

TEST(Url, BadUrlsAreInvalidArgument) {
  for (const char* bad : {"ftp://x", "api.x.ai/v1", "http://:80", "http://h:0", "http://h:99999",
                          "http://h/p?q=1", "http://[::1"}) {
    auto u = ParseUrl(bad);
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_EQ(u.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(Proxy, HttpsUsesHttpsProxyAndHttpUsesHttpProxy) {
  EnvMap env{{"HTTPS_PROXY", "http://127.0.0.1:3128"}, {"http_proxy", "proxy.local:8080"}};
  auto https = ProxyFor(*ParseUrl("https://api.x.ai/v1"), env);
  ASSERT_TRUE(https.ok());
  ASSERT_TRUE(https->has_value());
  EXPECT_EQ((*https)->Authority(), "127.0.0.1:3128");
  auto http = ProxyFor(*ParseUrl("http://example.com/"), env);
  ASSERT_TRUE(http.ok() && http->has_value());
  EXPECT_EQ((*http)->Authority(), "proxy.local:8080");
}

TEST(Proxy, NoProxyExcludesHostsAndSuffixes) {
  EnvMap env{{"HTTPS_PROXY", "http://127.0.0.1:3128"},
             {"NO_PROXY", "localhost, .x.ai,10.0.0.1:443"}};
  EXPECT_FALSE(ProxyFor(*ParseUrl("https://api.x.ai/v1"), env)->has_value());
  EXPECT_FALSE(ProxyFor(*ParseUrl("https://localhost/"), env)->has_value());
  EXPECT_FALSE(ProxyFor(*ParseUrl("https://10.0.0.1/"), env)->has_value());
  EXPECT_TRUE(ProxyFor(*ParseUrl("https://notx.ai/"), env)->has_value());
  EXPECT_TRUE(NoProxyMatches("*", "anything"));
  EXPECT_FALSE(NoProxyMatches("", "anything"));
}

TEST(Proxy, HttpsProxyUrlIsRefused) {
  auto p = ProxyFor(*ParseUrl("https://api.x.ai/"), {{"HTTPS_PROXY", "https://p:443"}});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace outpost::agents::grok
