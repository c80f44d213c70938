// Local artifact URLs end to end: a real `outpost serve`, objects put into its data dir through
// the store API in-process (with the server's own key file), fetched over HTTP as a client
// would: whole, by range, HEAD, and refused when expired, tampered, re-targeted or climbing out
// of the artifacts root.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <filesystem>

#include "artifacts/local/local_artifact_store.h"
#include "common/crypto.h"
#include "tests/integration/server_fixture.h"
#include "tests/integration/server_test.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;
using artifacts::LocalArtifactStore;
using artifacts::UrlSigner;
using std::chrono::seconds;

constexpr char kKey[] = "dispatches/01RUNA/output.log";
constexpr char kContent[] = "line 1\nline 2\nline 3\n";  // 21 bytes

std::string ErrorCode(const HttpResponse& r) {
  json::value v = r.Json();
  boost::system::error_code ec;
  const json::value* code = v.find_pointer("/error/code", ec);
  return code && code->is_string() ? std::string(code->as_string()) : "";
}

std::string ErrorReason(const HttpResponse& r) {
  json::value v = r.Json();
  boost::system::error_code ec;
  const json::value* reason = v.find_pointer("/error/details/reason", ec);
  return reason && reason->is_string() ? std::string(reason->as_string()) : "";
}

class ArtifactUrlsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    StartServer();
  }

  // (Re)starts the server and opens the same store it serves, with its key.
  void StartServer() {
    server_.reset();
    server_ = ServerProcess::Start(dir_, {}, {"--runner", "process"});
    auto signer = UrlSigner::LoadOrCreate(dir_);
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();
    signer_ = std::make_unique<UrlSigner>(*signer);
    const std::string base = "http://" + server_->address();
    auto store = LocalArtifactStore::Open(dir_ + "/artifacts", *signer_, [base] { return base; });
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  // The path and query of a URL PresignGet made (what a client would request).
  std::string Presigned(const std::string& key, seconds expires = seconds(600)) {
    auto url = store_->PresignGet(key, expires, std::chrono::system_clock::now());
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    const std::string prefix = "http://" + server_->address();
    EXPECT_TRUE(url.ok() && url->starts_with(prefix)) << (url.ok() ? *url : "");
    return url.ok() ? url->substr(prefix.size()) : "";
  }

  HttpResponse Get(const std::string& target, std::map<std::string, std::string> headers = {}) {
    return Http(server_->address(), "GET", target, "", headers);
  }

  std::unique_ptr<UrlSigner> signer_;
  std::unique_ptr<LocalArtifactStore> store_;
};

TEST_F(ArtifactUrlsTest, KeyFileIsCreatedOnFirstStartWithMode0600) {
  struct stat st;
  ASSERT_EQ(::stat(UrlSigner::KeyFilePath(dir_).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 32);
}

TEST_F(ArtifactUrlsTest, PresignedUrlServesTheObjectWithItsHeaders) {
  ASSERT_TRUE(store_->Put(kKey, kContent, "text/plain; charset=utf-8").ok());
  HttpResponse r = Get(Presigned(kKey));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kContent);
  EXPECT_EQ(r.headers["content-type"], "text/plain; charset=utf-8");
  EXPECT_EQ(r.headers["content-length"], "21");
  EXPECT_EQ(r.headers["etag"], "\"" + Sha256Hex(kContent) + "\"");
  EXPECT_EQ(r.headers["accept-ranges"], "bytes");
  EXPECT_EQ(r.headers["x-content-type-options"], "nosniff");
}

TEST_F(ArtifactUrlsTest, HeadGivesTheLengthWithoutTheBody) {
  ASSERT_TRUE(store_->Put(kKey, kContent, "text/plain").ok());
  HttpResponse r = Http(server_->address(), "HEAD", Presigned(kKey));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], "21");
  EXPECT_EQ(r.body, "");
}

TEST_F(ArtifactUrlsTest, RangeRequests) {
  ASSERT_TRUE(store_->Put(kKey, kContent, "text/plain").ok());
  const std::string url = Presigned(kKey);
  HttpResponse first = Get(url, {{"Range", "bytes=0-5"}});
  EXPECT_EQ(first.status, 206);
  EXPECT_EQ(first.body, "line 1");
  EXPECT_EQ(first.headers["content-range"], "bytes 0-5/21");
  EXPECT_EQ(first.headers["content-length"], "6");

  HttpResponse tail = Get(url, {{"Range", "bytes=-7"}});
  EXPECT_EQ(tail.status, 206);
  EXPECT_EQ(tail.body, "line 3\n");
  EXPECT_EQ(tail.headers["content-range"], "bytes 14-20/21");

  HttpResponse open = Get(url, {{"Range", "bytes=14-"}});
  EXPECT_EQ(open.status, 206);
  EXPECT_EQ(open.body, "line 3\n");

  HttpResponse past = Get(url, {{"Range", "bytes=21-"}});
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.headers["content-range"], "bytes */21");
  EXPECT_EQ(ErrorCode(past), "RANGE_NOT_SATISFIABLE");
}

TEST_F(ArtifactUrlsTest, ExpiredUrlIs403) {
  ASSERT_TRUE(store_->Put(kKey, kContent, "text/plain").ok());
  // Signed with the server's key for a moment already past: no sleeping.
  const std::string url =
      signer_->SignedTarget(kKey, std::chrono::system_clock::now() - seconds(5));
  HttpResponse r = Get(url);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ErrorCode(r), "AUTHORIZATION_ERROR");
  EXPECT_EQ(ErrorReason(r), "expired");
  EXPECT_EQ(r.body.find("line 1"), std::string::npos);
}

TEST_F(ArtifactUrlsTest, TamperedOrRetargetedUrlIs403) {
  ASSERT_TRUE(store_->Put(kKey, kContent, "text/plain").ok());
  ASSERT_TRUE(store_->Put("dispatches/01RUNB/output.log", "run B's output", "text/plain").ok());
  const std::string url = Presigned(kKey);
  const std::string query = url.substr(url.find('?'));

  HttpResponse retargeted = Get("/files/dispatches/01RUNB/output.log" + query);
  EXPECT_EQ(retargeted.status, 403);
  EXPECT_EQ(ErrorReason(retargeted), "bad_signature");
  EXPECT_EQ(retargeted.body.find("run B"), std::string::npos);

  std::string extended = url;
  const std::size_t at = extended.find("expires=") + 8;
  extended.replace(at, extended.find('&', at) - at, "4102444800");  // 2100-01-01
  HttpResponse later = Get(extended);
  EXPECT_EQ(later.status, 403);
  EXPECT_EQ(ErrorReason(later), "bad_signature");

  UrlSigner stranger(std::string(32, 'x'));
  HttpResponse forged =
      Get(stranger.SignedTarget(kKey, std::chrono::system_clock::now() + seconds(60)));
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(ErrorReason(forged), "bad_signature");

  HttpResponse bare = Get("/files/" + std::string(kKey));
  EXPECT_EQ(bare.status, 403);
  EXPECT_EQ(ErrorReason(bare), "missing_parameters");
}

TEST_F(ArtifactUrlsTest, TraversalOutOfTheRootIsRefusedAndReadsNothing) {
  const std::string key_bytes = ReadAll(UrlSigner::KeyFilePath(dir_));
  ASSERT_EQ(key_bytes.size(), 32u);
  const auto later = std::chrono::system_clock::now() + seconds(60);
  // Even correctly signed for the climbing path (as a leaked key could do).
  for (const std::string& target :
       {signer_->SignedTarget("../artifact-url.key", later),
        signer_->SignedTarget("%2e%2e/artifact-url.key", later),
        signer_->SignedTarget("%2E%2E/%2E%2E/etc/passwd", later),
        signer_->SignedTarget("a/..%2F..%2Fartifact-url.key", later),
        std::string("/files/../artifact-url.key"), std::string("/files/./x")}) {
    HttpResponse r = Get(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(r.body.find(key_bytes), std::string::npos);
    EXPECT_EQ(r.body.find("root:"), std::string::npos);
  }
  // The sidecar tree is no object either ('@' cannot be in a key).
  ASSERT_TRUE(store_->Put(kKey, kContent, "text/plain").ok());
  HttpResponse meta = Get(signer_->SignedTarget("@meta/" + std::string(kKey), later));
  EXPECT_EQ(meta.status, 400);
  EXPECT_EQ(meta.body.find("sha256"), std::string::npos);
}

TEST_F(ArtifactUrlsTest, UrlsStayValidAcrossARestart) {
  ASSERT_TRUE(store_->Put(kKey, kContent, "text/plain").ok());
  const std::string url =
      signer_->SignedTarget(kKey, std::chrono::system_clock::now() + seconds(600));
  StartServer();  // same data dir: the key file is reused
  HttpResponse r = Get(url);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kContent);
}

TEST_F(ArtifactUrlsTest, ServerRefusesALooseKeyFile) {
  server_.reset();
  ASSERT_EQ(::chmod(UrlSigner::KeyFilePath(dir_).c_str(), 0644), 0);
  EXPECT_THROW(ServerProcess::Start(dir_, {}, {"--runner", "process"}), std::runtime_error);
}

}  // namespace
}  // namespace outpost::testing
