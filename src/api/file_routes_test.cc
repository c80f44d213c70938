// The /files route through HandleRequest (no sockets), with a simulated clock for expiry.
#include "api/file_routes.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json/parse.hpp>
#include <filesystem>

#include "artifacts/local/local_artifact_store.h"
#include "common/crypto.h"
#include "testing/temp_dir.h"

namespace outpost::api {
using http::HandleRequest;
using http::Request;
using http::Response;
using http::Router;

namespace {

namespace json = boost::json;
using std::chrono::seconds;

class FileRouteTest : public ::testing::Test {
 protected:
  void SetUp() override { Open({}); }

  void Open(FileRouteOptions options) {
    auto store = artifacts::LocalArtifactStore::Open(
        dir_.path(), signer_, [] { return "http://unused"; }, {.durable = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    router_ = Router();
    RegisterFileRoutes(router_, *store_, clock_, options);
    ASSERT_TRUE(
        store_->Put("dispatches/r1/output.log", kContent, "text/plain; charset=utf-8").ok());
  }

  // A URL signed now for an hour.
  std::string Signed(const std::string& key) {
    return signer_.SignedTarget(key, clock_.Now() + seconds(3600));
  }

  Response Send(const std::string& target, std::map<std::string, std::string> headers = {},
                std::string method = "GET") {
    Request req;
    req.method = std::move(method);
    req.target = target;
    req.request_id = "req-1";
    for (auto& [k, v] : headers) req.headers.Set(k, v);
    return HandleRequest(router_, req, clock_);
  }

  static std::string ReasonOf(const Response& r) {
    json::value v = json::parse(r.body);
    return std::string(v.at("error").at("details").at("reason").as_string());
  }

  static constexpr char kContent[] = "0123456789abcdefghij";  // 20 bytes
  outpost::testing::TempDir dir_{"outpost-files"};
  artifacts::UrlSigner signer_{std::string(32, 'k')};
  SimulatedClock clock_;
  std::unique_ptr<artifacts::LocalArtifactStore> store_;
  Router router_;
};

TEST_F(FileRouteTest, ServesTheWholeObjectWithItsMetadata) {
  Response r = Send(Signed("dispatches/r1/output.log"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kContent);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.headers.Get("ETag"), "\"" + Sha256Hex(kContent) + "\"");
  EXPECT_EQ(r.headers.Get("Accept-Ranges"), "bytes");
  EXPECT_EQ(r.headers.Get("X-Content-Type-Options"), "nosniff");
  EXPECT_TRUE(r.headers.Get("Last-Modified").value_or("").ends_with(" GMT"));
  EXPECT_FALSE(r.headers.Has("Content-Range"));
  EXPECT_EQ(r.headers.Get("X-Request-ID"), "req-1");
}

TEST_F(FileRouteTest, HeadIsVerifiedAndAnsweredLikeGet) {
  Response r = Send(Signed("dispatches/r1/output.log"), {}, "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("Accept-Ranges"), "bytes");
}

TEST_F(FileRouteTest, SingleRangesAreServedPartially) {
  const std::string url = Signed("dispatches/r1/output.log");
  struct Case {
    const char* range;
    const char* body;
    const char* content_range;
  };
  for (const Case& c :
       {Case{"bytes=0-4", "01234", "bytes 0-4/20"}, Case{"bytes=15-", "fghij", "bytes 15-19/20"},
        Case{"bytes=-3", "hij", "bytes 17-19/20"}, Case{"bytes=18-500", "ij", "bytes 18-19/20"}}) {
    Response r = Send(url, {{"Range", c.range}});
    EXPECT_EQ(r.status, 206) << c.range;
    EXPECT_EQ(r.body, c.body) << c.range;
    EXPECT_EQ(r.headers.Get("Content-Range"), c.content_range) << c.range;
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  }
}

TEST_F(FileRouteTest, UnsatisfiableRangeIs416WithTheSize) {
  Response r = Send(Signed("dispatches/r1/output.log"), {{"Range", "bytes=20-"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.headers.Get("Content-Range"), "bytes */20");
  EXPECT_EQ(json::parse(r.body).at("error").at("code").as_string(), "RANGE_NOT_SATISFIABLE");
}

TEST_F(FileRouteTest, MultiRangeAndStaleIfRangeGetTheWholeObject) {
  const std::string url = Signed("dispatches/r1/output.log");
  Response multi = Send(url, {{"Range", "bytes=0-1,5-6"}});
  EXPECT_EQ(multi.status, 200);
  EXPECT_EQ(multi.body, kContent);
  Response stale = Send(url, {{"Range", "bytes=0-1"}, {"If-Range", "\"old-etag\""}});
  EXPECT_EQ(stale.status, 200);
  const std::string etag = "\"" + Sha256Hex(kContent) + "\"";
  Response fresh = Send(url, {{"Range", "bytes=0-1"}, {"If-Range", etag}});
  EXPECT_EQ(fresh.status, 206);
  EXPECT_EQ(fresh.body, "01");
}

TEST_F(FileRouteTest, ExpiredUrlIs403AfterTheLastSecond) {
  const std::string url = Signed("dispatches/r1/output.log");
  clock_.Advance(seconds(3600));
  EXPECT_EQ(Send(url).status, 200);
  clock_.Advance(seconds(1));
  Response r = Send(url);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body).at("error").at("code").as_string(), "AUTHORIZATION_ERROR");
  EXPECT_EQ(ReasonOf(r), "expired");
  EXPECT_EQ(r.body.find(kContent), std::string::npos);
}

TEST_F(FileRouteTest, TamperedRetargetedOrUnsignedUrlsAre403) {
  ASSERT_TRUE(store_->Put("dispatches/r2/output.log", "other run", "text/plain").ok());
  std::string url = Signed("dispatches/r1/output.log");
  std::string query = url.substr(url.find('?'));
  Response retargeted = Send("/files/dispatches/r2/output.log" + query);
  EXPECT_EQ(retargeted.status, 403);
  EXPECT_EQ(ReasonOf(retargeted), "bad_signature");

  std::string extended = url;
  extended.replace(extended.find("expires=") + 8, 10, "1999999999");
  EXPECT_EQ(ReasonOf(Send(extended)), "bad_signature");

  std::string flipped = url;
  char& last = flipped.back();
  last = last == '0' ? '1' : '0';
  EXPECT_EQ(Send(flipped).status, 403);

  Response unsigned_ = Send("/files/dispatches/r1/output.log");
  EXPECT_EQ(unsigned_.status, 403);
  EXPECT_EQ(ReasonOf(unsigned_), "missing_parameters");
}

TEST_F(FileRouteTest, SignedUrlOfAMissingObjectIs404) {
  EXPECT_EQ(Send(Signed("dispatches/r9/output.log")).status, 404);
}

TEST_F(FileRouteTest, TraversalIsRefusedBeforeAnythingIsRead) {
  // Even signed, a path with ".." never reaches the route.
  for (const std::string key : {"../artifact-url.key", "%2e%2e/%2e%2e/etc/passwd",
                                "dispatches/..%2f..%2fx", "dispatches/r1/../r1/output.log"}) {
    Response r = Send(signer_.SignedTarget(key, clock_.Now() + seconds(60)));
    EXPECT_EQ(r.status, 400) << key << " " << r.body;
  }
}

TEST_F(FileRouteTest, OtherMethodsAre405) {
  EXPECT_EQ(Send(Signed("dispatches/r1/output.log"), {}, "DELETE").status, 405);
  EXPECT_EQ(Send(Signed("dispatches/r1/output.log"), {}, "PUT").status, 405);
}

TEST_F(FileRouteTest, AnswerLargerThanTheLimitIs413ButRangesWithinItWork) {
  Open({.max_body_bytes = 10});
  const std::string url = Signed("dispatches/r1/output.log");
  Response whole = Send(url);
  EXPECT_EQ(whole.status, 413);
  Response part = Send(url, {{"Range", "bytes=10-19"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "abcdefghij");
}

}  // namespace
}  // namespace outpost::api
