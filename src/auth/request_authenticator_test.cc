// The authentication step of the request pipeline: a real Router and HandleRequest (no
// sockets), stand-in routes for every kind of access — /metrics among them, whose real route
// another component registers — over a real SQLite AuthStore.
#include "auth/request_authenticator.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/admin_service.h"
#include "auth/api_key.h"
#include "auth/testing/counting_auth_store.h"
#include "http/router.h"

namespace outpost::auth {
namespace {

namespace json = boost::json;
using http::Access;

constexpr const char* kMetricsToken = "metrics-token-0123456789";

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto echo = [](const http::Request& req, const http::PathParams&) {
      http::Response r;
      json::array scopes;
      for (const auto& s : req.identity.scopes) scopes.emplace_back(s);
      r.body = json::serialize(json::object{{"tenant", req.identity.tenant},
                                            {"keyId", req.identity.key_id},
                                            {"scopes", std::move(scopes)}});
      return r;
    };
    router_.Add("GET", "/health", Access::Public(), echo);
    router_.Add("GET", "/health/fleet", Access::Optional(), echo);
    router_.Add("GET", "/runs", Access::Scope(http::scope::kList), echo);
    router_.Add("POST", "/dispatch", Access::Scope(http::scope::kDispatch), echo);
    router_.Add("POST", "/mcp", Access::AnyKey(), echo);
    router_.Add("GET", "/metrics", Access::Metrics(), echo);  // stand-in for ops' route
    router_.Add("GET", "/unclassified", echo);                // registered without a rule
    router_.Add("GET", "/internal/v1/runs/{id}/control", Access::RunChannel(), echo);
    router_.SetAuthenticator(&authenticator_);
  }

  // A tenant with one key of `scopes`.
  CreatedKey NewKey(std::vector<std::string> scopes, std::string tenant_name = "acme") {
    auto tenants = admin_.ListTenants();
    std::string id;
    for (const Tenant& t : *tenants) {
      if (t.name == tenant_name) id = t.id;
    }
    if (id.empty()) id = admin_.CreateTenant(tenant_name)->id;
    auto k = admin_.CreateKey({id, std::move(scopes), "", std::nullopt});
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return *k;
  }

  http::Response Call(const std::string& method, const std::string& target,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = method;
    req.target = target;
    req.request_id = "req-1";
    req.client_address = "127.0.0.1:5555";
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    return http::HandleRequest(router_, req, clock_);
  }
  http::Response WithKey(const std::string& method, const std::string& target,
                         const std::string& key) {
    return Call(method, target, {{"Authorization", "Bearer " + key}});
  }
  static json::object Body(const http::Response& r) { return json::parse(r.body).as_object(); }
  static json::value ErrorOf(const http::Response& r) { return Body(r).at("error"); }

  SimulatedClock clock_;
  testing::CountingAuthStore store_;
  AdminService admin_{store_, clock_};
  KeyVerifier verifier_{store_, clock_};
  RequestAuthenticator authenticator_{verifier_, {/*allow_open=*/true, kMetricsToken}};
  http::Router router_;
};

TEST_F(PipelineTest, OpenModeActsAsTheDefaultTenantWithEveryScope) {
  http::Response r = Call("GET", "/runs");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r).at("tenant"), "default");
  EXPECT_EQ(Body(r).at("scopes").as_array().size(), 6u);
  EXPECT_EQ(Call("GET", "/metrics").status, 200);
  EXPECT_EQ(Call("GET", "/unclassified").status, 200);
  // A garbage key changes nothing while the server is open.
  EXPECT_EQ(WithKey("GET", "/runs", "otp_nonsense").status, 200);
}

TEST_F(PipelineTest, OnceAKeyExistsEveryNonPublicRouteNeedsOne) {
  NewKey({"list"});
  clock_.Advance(Millis(1000));  // past the open-mode recheck
  const json::value expected = json::parse(
      R"({"code":"AUTHENTICATION_ERROR","message":"missing or invalid API key","details":{}})");
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/runs"},
                                                        {"POST", "/dispatch"},
                                                        {"POST", "/mcp"},
                                                        {"GET", "/metrics"},
                                                        {"GET", "/unclassified"}}) {
    http::Response r = Call(method, path);
    EXPECT_EQ(r.status, 401) << method << " " << path;
    EXPECT_EQ(ErrorOf(r), expected) << r.body;
    EXPECT_EQ(r.headers.Get("WWW-Authenticate"), "Bearer realm=\"outpost\"");
  }
  EXPECT_EQ(Call("GET", "/health").status, 200);
}

// The run channel (/internal/v1) checks its run's own token (core/run_channel.h): the API-key
// authenticator passes it on without a key, and a valid key grants nothing there.
TEST_F(PipelineTest, TheRunChannelIsLeftToItsOwnTokenAndAKeyGrantsNothingThere) {
  CreatedKey admin = NewKey({"admin"});
  clock_.Advance(Millis(1000));  // past the open-mode recheck
  const std::string path = "/internal/v1/runs/01KB4TVWHVG2W0AJ1ZCTNHFKX5/control";
  http::Response none = Call("GET", path);
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(Body(none).at("tenant"), "");  // anonymous: no tenant, no scope
  EXPECT_TRUE(Body(none).at("scopes").as_array().empty());
  http::Response keyed = WithKey("GET", path, admin.key);
  ASSERT_EQ(keyed.status, 200) << keyed.body;
  EXPECT_EQ(Body(keyed).at("keyId"), "");
  EXPECT_TRUE(Body(keyed).at("scopes").as_array().empty());
}

TEST_F(PipelineTest, EveryKindOfBadKeyGetsTheSameAnswer) {
  CreatedKey good = NewKey({"list"});
  CreatedKey revoked = NewKey({"list"});
  ASSERT_TRUE(admin_.RevokeKey(revoked.record.key_id).ok());
  auto expiring =
      admin_.CreateKey({good.record.tenant, std::nullopt, "", clock_.Now() + Millis(10)});
  CreatedKey suspended = NewKey({"list"}, "suspended-co");
  ASSERT_TRUE(admin_.SuspendTenant(suspended.record.tenant).ok());
  clock_.Advance(Millis(1000));
  ASSERT_EQ(WithKey("GET", "/runs", good.key).status, 200);

  const json::value reference = ErrorOf(Call("GET", "/runs"));  // no key at all
  for (const std::string& bad : {std::string("otp_short"), GenerateApiKey(), revoked.key,
                                 expiring->key, suspended.key, good.key + "0"}) {
    http::Response r = WithKey("GET", "/runs", bad);
    EXPECT_EQ(r.status, 401) << bad;
    EXPECT_EQ(ErrorOf(r), reference) << bad;
  }
}

TEST_F(PipelineTest, BearerAndXApiKeyBothWork) {
  CreatedKey k = NewKey({"list"});
  http::Response bearer = WithKey("GET", "/runs", k.key);
  ASSERT_EQ(bearer.status, 200);
  EXPECT_EQ(Body(bearer).at("tenant"), json::value(k.record.tenant));
  EXPECT_EQ(Body(bearer).at("keyId"), json::value(k.record.key_id));
  EXPECT_EQ(Call("GET", "/runs", {{"X-API-Key", k.key}}).status, 200);
  EXPECT_EQ(Call("GET", "/runs", {{"Authorization", "bearer  " + k.key + " "}}).status, 200);
  EXPECT_EQ(Call("GET", "/runs", {{"Authorization", "Basic " + k.key}}).status, 401);
}

TEST_F(PipelineTest, AMissingScopeIs403NamingIt) {
  CreatedKey k = NewKey({"list"});
  http::Response r = WithKey("POST", "/dispatch", k.key);
  ASSERT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(ErrorOf(r).at("code"), "AUTHORIZATION_ERROR");
  EXPECT_EQ(ErrorOf(r).at("details").at("requiredScope"), "dispatch");
  // A route registered without a rule needs admin.
  http::Response unclassified = WithKey("GET", "/unclassified", k.key);
  ASSERT_EQ(unclassified.status, 403);
  EXPECT_EQ(ErrorOf(unclassified).at("details").at("requiredScope"), "admin");
  // /mcp only needs a key; its tools check their own scopes.
  EXPECT_EQ(WithKey("POST", "/mcp", k.key).status, 200);
}

TEST_F(PipelineTest, AdminHoldsEveryScope) {
  CreatedKey admin = NewKey({"admin"});
  EXPECT_EQ(WithKey("POST", "/dispatch", admin.key).status, 200);
  EXPECT_EQ(WithKey("GET", "/runs", admin.key).status, 200);
  EXPECT_EQ(WithKey("GET", "/unclassified", admin.key).status, 200);
}

TEST_F(PipelineTest, MetricsTakeAnAdminKeyOrTheMetricsTokenOnly) {
  CreatedKey admin = NewKey({"admin"});
  CreatedKey lister = NewKey({"list", "status", "dispatch", "cancel"});
  EXPECT_EQ(WithKey("GET", "/metrics", admin.key).status, 200);
  http::Response no_admin = WithKey("GET", "/metrics", lister.key);
  ASSERT_EQ(no_admin.status, 403);
  EXPECT_EQ(ErrorOf(no_admin).at("details").at("requiredScope"), "admin");
  EXPECT_EQ(WithKey("GET", "/metrics", kMetricsToken).status, 200);
  EXPECT_EQ(Call("GET", "/metrics", {{"X-API-Key", kMetricsToken}}).status, 200);
  EXPECT_EQ(WithKey("GET", "/metrics", std::string(kMetricsToken) + "x").status, 401);
  // The token is for /metrics only.
  EXPECT_EQ(WithKey("GET", "/runs", kMetricsToken).status, 401);
  EXPECT_EQ(WithKey("GET", "/unclassified", kMetricsToken).status, 401);
}

TEST_F(PipelineTest, AnOptionalRouteIsAnonymousWithoutAValidKey) {
  CreatedKey k = NewKey({"status"});
  clock_.Advance(Millis(1000));
  http::Response anonymous = Call("GET", "/health/fleet");
  ASSERT_EQ(anonymous.status, 200);
  EXPECT_EQ(Body(anonymous).at("tenant"), "");
  http::Response bad = WithKey("GET", "/health/fleet", GenerateApiKey());
  ASSERT_EQ(bad.status, 200);
  EXPECT_EQ(Body(bad).at("tenant"), "");
  http::Response good = WithKey("GET", "/health/fleet", k.key);
  EXPECT_EQ(Body(good).at("tenant"), json::value(k.record.tenant));
}

TEST_F(PipelineTest, WithoutOpenModeAStoreWithoutKeysRefusesEverything) {
  RequestAuthenticator closed(verifier_, {/*allow_open=*/false, ""});
  router_.SetAuthenticator(&closed);
  EXPECT_EQ(Call("GET", "/runs").status, 401);
  EXPECT_EQ(Call("GET", "/health").status, 200);
  EXPECT_EQ(Call("GET", "/health/fleet").status, 200);
}

TEST_F(PipelineTest, AKeyStoreOutageIs503NotAnOpenDoor) {
  CreatedKey k = NewKey({"list"});
  clock_.Advance(Millis(1000));
  ASSERT_EQ(WithKey("GET", "/runs", k.key).status, 200);
  store_.fail = true;
  clock_.Advance(Millis(5000));  // the cached verdict is gone
  http::Response r = WithKey("GET", "/runs", k.key);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(ErrorOf(r).at("code"), "SERVICE_UNAVAILABLE");
  EXPECT_EQ(Call("GET", "/runs").status, 401);  // keys are known to exist: no key, no entry
  EXPECT_EQ(Call("GET", "/health").status, 200);
}

TEST(PresentedCredential, BearerFirstThenXApiKey) {
  http::Request req;
  req.headers.Add("X-API-Key", "from-header");
  EXPECT_EQ(PresentedCredential(req), "from-header");
  req.headers.Add("Authorization", "Bearer from-bearer");
  EXPECT_EQ(PresentedCredential(req), "from-bearer");
  http::Request none;
  EXPECT_EQ(PresentedCredential(none), "");
}

}  // namespace
}  // namespace outpost::auth
