#include "http/host_guard.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace outpost::http {
namespace {

std::shared_ptr<AllowedHosts> Hosts(const std::vector<std::string>& extra = {},
                                    const std::string& public_url = "") {
  auto hosts = AllowedHosts::Make(extra, public_url);
  EXPECT_TRUE(hosts.ok()) << hosts.status().message();
  (*hosts)->SetBound("127.0.0.1", 8080);
  return *hosts;
}

TEST(AllowedHosts, F4_LoopbackNamesWithTheListeningPortOnly) {
  auto hosts = Hosts();
  for (const char* ok : {"127.0.0.1:8080", "localhost:8080", "LocalHost:8080", "[::1]:8080"}) {
    EXPECT_TRUE(hosts->HostAllowed(ok)) << ok;
  }
  for (const char* bad : {"evil.example:8080", "evil.example", "localhost:9090", "127.0.0.1",
                          "localhost.:8080", "127.0.0.1.evil.example:8080", "", "localhost:8080/x",
                          "user@localhost:8080", "localhost:08080x", "[::1]", "0.0.0.0:8080"}) {
    EXPECT_FALSE(hosts->HostAllowed(bad)) << bad;
  }
  EXPECT_TRUE(hosts->OriginAllowed("http://localhost:8080"));
  EXPECT_TRUE(hosts->OriginAllowed("http://127.0.0.1:8080"));
  EXPECT_TRUE(hosts->OriginAllowed("http://localhost:6274"));  // a local page (MCP inspector)
  for (const char* bad : {"http://evil.example:8080", "null", "https://localhost:8080x", "file://",
                          "http://localhost:8080/x", "http://localhost.evil:8080",
                          "http://127.0.0.1.evil.example:8080"}) {
    EXPECT_FALSE(hosts->OriginAllowed(bad)) << bad;
  }
}

TEST(AllowedHosts, F4_PublicUrlAndAllowedHostsAreNamesToo) {
  auto hosts = Hosts({"outpost.internal", "10.0.0.5:9000", "[fd00::5]:9000"},
                     "https://outpost.example.com/base");
  EXPECT_TRUE(hosts->HostAllowed("outpost.example.com"));  // a proxy's Host without a port
  EXPECT_TRUE(hosts->HostAllowed("outpost.example.com:443"));
  EXPECT_FALSE(hosts->HostAllowed("outpost.example.com:8443"));
  EXPECT_TRUE(hosts->OriginAllowed("https://outpost.example.com"));
  EXPECT_FALSE(hosts->OriginAllowed("http://outpost.example.com"));  // another origin (port 80)
  EXPECT_TRUE(hosts->HostAllowed("outpost.internal:1234"));          // no port given: any port
  EXPECT_TRUE(hosts->OriginAllowed("http://outpost.internal:1234"));
  EXPECT_TRUE(hosts->HostAllowed("10.0.0.5:9000"));
  EXPECT_FALSE(hosts->HostAllowed("10.0.0.5:9001"));
  EXPECT_TRUE(hosts->HostAllowed("[fd00::5]:9000"));
  EXPECT_FALSE(hosts->HostAllowed("sub.outpost.internal:1234"));
}

TEST(AllowedHosts, F4_BadEntriesAreRefusedByName) {
  for (const char* bad : {"http://x.example", "x.example/path", "*.example.com", "", "x:0",
                          "x:65536", "a b", "[zz::1]:80"}) {
    auto hosts = AllowedHosts::Make({bad}, "");
    ASSERT_FALSE(hosts.ok()) << bad;
    EXPECT_EQ(hosts.status().code(), Code::kInvalidArgument);
    EXPECT_NE(hosts.status().message().find("allowed_hosts"), std::string::npos);
  }
}

class SameOriginTest : public ::testing::Test {
 protected:
  SameOriginTest() {
    router_.Use(SameOriginMiddleware(Hosts(), clock_));
    auto ok = [](const Request&, const PathParams&) { return Response{}; };
    router_.Add("POST", "/dispatch", Access::AnyKey(), ok);
    router_.Add("GET", "/runs", Access::AnyKey(), ok);
  }
  // The router has no authenticator: every request acts in open mode.
  Response Call(std::string method, std::string target,
                std::vector<std::pair<std::string, std::string>> headers) {
    Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    return HandleRequest(router_, req, clock_);
  }

  SimulatedClock clock_;
  Router router_;
};

TEST_F(SameOriginTest, F4_OpenModeRefusesAForeignHostWith421) {
  Response r = Call("GET", "/runs", {{"Host", "rebind.attacker:8080"}});
  EXPECT_EQ(r.status, 421);
  EXPECT_NE(r.body.find("\"MISDIRECTED_REQUEST\""), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/runs", {}).status, 421);  // no Host at all
  EXPECT_EQ(Call("GET", "/runs", {{"Host", "localhost:8080"}}).status, 200);
}

TEST_F(SameOriginTest, F4_OpenModeRefusesAnotherSitesOriginWith403) {
  Response r =
      Call("GET", "/runs", {{"Host", "127.0.0.1:8080"}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("\"FORBIDDEN_ORIGIN\""), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/runs", {{"Host", "127.0.0.1:8080"}, {"Origin", "http://127.0.0.1:8080"}})
                .status,
            200);
}

TEST_F(SameOriginTest, F4_OpenModePostMustBeJson) {
  for (const char* type :
       {"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
    std::vector<std::pair<std::string, std::string>> h{{"Host", "127.0.0.1:8080"}};
    if (*type) h.emplace_back("Content-Type", type);
    Response r = Call("POST", "/dispatch", h);
    EXPECT_EQ(r.status, 415) << type;
    EXPECT_NE(r.body.find("UNSUPPORTED_MEDIA_TYPE"), std::string::npos) << r.body;
  }
  EXPECT_EQ(Call("POST", "/dispatch",
                 {{"Host", "127.0.0.1:8080"}, {"Content-Type", "application/json; charset=utf-8"}})
                .status,
            200);
}

}  // namespace
}  // namespace outpost::http
