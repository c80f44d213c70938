// The s3:// backend: the shared ArtifactStore conformance suite against a real s3rver (started
// once for the binary; every store gets a fresh prefix), then URL parsing and what is particular
// to S3 (missing bucket, wrong credentials, prefixes, retries through the store).
#include "artifacts/s3/s3_artifact_store.h"

#include <gtest/gtest.h>

#include <atomic>

#include "artifacts/artifact_store_conformance.h"
#include "aws/http.h"
#include "aws/s3rver_fixture.h"

namespace outpost::artifacts {
namespace {

using aws::testing::S3rver;
constexpr const char* kBucket = "outpost-conformance";

// One s3rver for the whole binary, started on first use, stopped after the last test.
S3rver* Server() {
  static S3rver* server = [] {
    auto* s = new S3rver();
    if (s->ok()) {
      aws::S3ClientOptions o;
      o.endpoint = s->endpoint();
      o.path_style = true;
      o.credentials = {S3rver::kAccessKey, S3rver::kSecretKey, ""};
      auto c = aws::S3Client::Create(o, aws::MakeHttpSender({}), RealClock::Instance());
      if (c.ok()) (void)(*c)->CreateBucket(kBucket);
    }
    return s;
  }();
  return server;
}
class StopServer : public ::testing::Environment {
 public:
  void TearDown() override { delete Server(); }
};
[[maybe_unused]] ::testing::Environment* const kStopServer =
    ::testing::AddGlobalTestEnvironment(new StopServer);

aws::EnvMap S3rverEnv(const std::string& access_key = S3rver::kAccessKey) {
  return {{"AWS_ACCESS_KEY_ID", access_key},
          {"AWS_SECRET_ACCESS_KEY", S3rver::kSecretKey},
          {"HOME", "/nonexistent"}};
}

std::string UrlFor(const std::string& bucket, const std::string& prefix) {
  return "s3://" + bucket + "/" + prefix + "?region=us-east-1&endpoint=" + Server()->endpoint() +
         "&pathStyle=true";
}

// s3rver, unlike S3, writes an object's bytes in place and its metadata in a second file, so
// concurrent PUTs of one key can be read torn and leave bytes and sha256 from different writers.
// That conformance case tests the server, not this backend: it is skipped (and reported so)
// here. GTEST_SKIP in a helper called from the fixture's SetUp marks the test skipped, and
// gtest then does not run its body.
void SkipWhatS3rverCannotDo() {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  if (test && std::string(test->name()).starts_with("ConcurrentPutsOfOneKeyLeaveOneWholeVersion")) {
    GTEST_SKIP() << "s3rver's PUT is not atomic (S3's is); concurrent PUTs cannot be checked here";
  }
}

ArtifactStoreUnderTest NewS3Store() {
  SkipWhatS3rverCannotDo();
  static std::atomic<int> counter{0};
  std::string prefix = "store-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  auto store = OpenS3ArtifactStore(UrlFor(kBucket, prefix), S3rverEnv(), RealClock::Instance());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return {store.ok() ? std::move(store).value() : nullptr, nullptr};
}

std::vector<ArtifactBackend> Backends() {
  if (!Server()->ok()) return {};
  return {ArtifactBackend{"s3", &NewS3Store}};
}

INSTANTIATE_TEST_SUITE_P(S3, ArtifactStoreConformance, ::testing::ValuesIn(Backends()),
                         ArtifactBackendName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ArtifactStoreConformance);

TEST(S3Conformance, S3rverIsRunning) { ASSERT_TRUE(Server()->ok()) << Server()->error(); }

// ---- URL parsing ----------------------------------------------------------------------------

TEST(S3Url, FullUrl) {
  auto l = ParseS3Url(
      "s3://my-bucket/runs/outpost/?region=eu-west-1&endpoint=http%3A%2F%2F"
      "127.0.0.1%3A4568&pathStyle=true",
      {});
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(l->bucket, "my-bucket");
  EXPECT_EQ(l->prefix, "runs/outpost/");
  EXPECT_EQ(l->region, "eu-west-1");
  EXPECT_EQ(l->endpoint, "http://127.0.0.1:4568");
  EXPECT_TRUE(l->path_style);
  EXPECT_EQ(l->ToUrl(),
            "s3://my-bucket/runs/outpost?region=eu-west-1&endpoint=http://127.0.0.1:4568"
            "&pathStyle=true");
}

TEST(S3Url, DefaultsComeFromTheEnvironment) {
  auto aws = ParseS3Url("s3://bucket", {{"AWS_REGION", "ap-south-1"}, {"HOME", "/nonexistent"}});
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(aws->prefix, "");
  EXPECT_EQ(aws->region, "ap-south-1");
  EXPECT_FALSE(aws->path_style);
  auto custom = ParseS3Url("s3://bucket?endpoint=http://minio:9000", {{"HOME", "/nonexistent"}});
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(custom->region, "us-east-1");
  EXPECT_TRUE(custom->path_style);
  auto no_region = ParseS3Url("s3://bucket/p", {{"HOME", "/nonexistent"}});
  EXPECT_EQ(no_region.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(no_region.status().message().find("region"), std::string::npos);
}

TEST(S3Url, BadUrlsSayWhatIsWrong) {
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {"file:///tmp", "expected s3://"},
           {"s3://", "no bucket"},
           {"s3://ab?region=r", "3 to 63"},
           {"s3://Upper?region=r", "a-z 0-9"},
           {"s3://-bucket?region=r", "start and end"},
           {"s3://a..b?region=r", "'..'"},
           {"s3://192.168.0.1?region=r", "IP address"},
           {"s3://AKID:secret@bucket?region=r", "credentials do not belong"},
           {"s3://bucket/a/../b?region=r", "bad prefix"},
           {"s3://bucket/a b?region=r", "bad prefix"},
           {"s3://bucket?region=r&regoin=x", "unknown parameter 'regoin'"},
           {"s3://bucket?region=r&region=s", "repeated"},
           {"s3://bucket?region=", "empty"},
           {"s3://bucket?region=r&pathStyle=yes", "pathStyle must be true or false"},
           {"s3://bucket?region=r&endpoint=minio:9000", "endpoint must be"},
       }) {
    auto l = ParseS3Url(c.url, {{"HOME", "/nonexistent"}});
    EXPECT_EQ(l.status().code(), Code::kInvalidArgument) << c.url;
    EXPECT_NE(l.status().message().find(c.says), std::string::npos)
        << c.url << ": " << l.status().message();
  }
}

TEST(S3Open, MissingCredentialsAreNamed) {
  auto store = OpenS3ArtifactStore("s3://bucket?region=us-east-1", {{"HOME", "/nonexistent"}},
                                   RealClock::Instance());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(S3Open, DescribeShowsNoSecret) {
  auto store = OpenS3ArtifactStore("s3://bucket/pre?region=us-east-1",
                                   {{"AWS_ACCESS_KEY_ID", "AKID"},
                                    {"AWS_SECRET_ACCESS_KEY", "TOPSECRET"},
                                    {"AWS_SESSION_TOKEN", "TOKEN"}},
                                   RealClock::Instance());
  ASSERT_TRUE(store.ok());
  std::string d = (*store)->Describe();
  EXPECT_EQ(d, "s3://bucket/pre?region=us-east-1&pathStyle=false");
  EXPECT_EQ(d.find("TOPSECRET"), std::string::npos);
  EXPECT_EQ(d.find("AKID"), std::string::npos);
}

// Throttling answered by the store's own retries (scripted sender, simulated sleeps).
TEST(S3Open, ThrottledPutsAreRetriedInsideTheStore) {
  std::vector<std::string> methods;
  int puts = 0;
  S3ArtifactStoreOptions o;
  o.sender = [&](const net::HttpRequest& r) -> Result<net::HttpResponse> {
    methods.push_back(r.method);
    net::HttpResponse res;
    res.status = ++puts <= 2 ? 503 : 200;
    if (res.status == 503) res.body = "<Error><Code>SlowDown</Code></Error>";
    return res;
  };
  SimulatedClock clock;
  clock.set_advance_on_sleep(true);  // the retries run inline: each backoff moves the clock
  auto store = OpenS3ArtifactStore("s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:9",
                                   S3rverEnv(), clock, o);
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->Put("a/b.txt", "x", "text/plain").ok());
  EXPECT_EQ(methods.size(), 3u);
  const std::vector<Millis> sleeps = clock.sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  // RetryPolicy's defaults: equal jitter over 100 ms, then 200 ms.
  EXPECT_GE(sleeps[0], Millis(50));
  EXPECT_LE(sleeps[0], Millis(100));
  EXPECT_GE(sleeps[1], Millis(100));
  EXPECT_LE(sleeps[1], Millis(200));
}

// ---- Against s3rver ---------------------------------------------------------------------------

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(Server()->ok()) << Server()->error(); }
};

TEST_F(S3StoreTest, MissingBucketIsFailedPreconditionEverywhere) {
  auto store =
      OpenS3ArtifactStore(UrlFor("no-such-bucket", "p"), S3rverEnv(), RealClock::Instance());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Put("k", "v", "text/plain").code(), Code::kFailedPrecondition);
  EXPECT_EQ((*store)->Get("k").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ((*store)->Head("k").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ((*store)->List("").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ((*store)->Delete("k").code(), Code::kFailedPrecondition);
}

TEST_F(S3StoreTest, WrongAccessKeyIsPermissionDenied) {
  auto store =
      OpenS3ArtifactStore(UrlFor(kBucket, "p"), S3rverEnv("AKIAWRONG"), RealClock::Instance());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Put("k", "v", "text/plain").code(), Code::kPermissionDenied);
  EXPECT_EQ((*store)->Get("k").status().code(), Code::kPermissionDenied);
  EXPECT_EQ((*store)->List("").status().code(), Code::kPermissionDenied);
}

TEST_F(S3StoreTest, ObjectsLiveUnderThePrefixAndStoresDoNotSeeEachOther) {
  auto a = OpenS3ArtifactStore(UrlFor(kBucket, "iso/a"), S3rverEnv(), RealClock::Instance());
  auto b = OpenS3ArtifactStore(UrlFor(kBucket, "iso/b"), S3rverEnv(), RealClock::Instance());
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Put("dispatches/r1/output.log", "A", "text/plain").ok());
  EXPECT_EQ((*b)->Get("dispatches/r1/output.log").status().code(), Code::kNotFound);
  EXPECT_TRUE((*b)->List("").value().empty());
  auto listed = (*a)->List("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().key, "dispatches/r1/output.log");
  // In the bucket the object carries the prefix.
  aws::S3ClientOptions o;
  o.endpoint = Server()->endpoint();
  o.path_style = true;
  o.credentials = {S3rver::kAccessKey, S3rver::kSecretKey, ""};
  auto client = aws::S3Client::Create(o, aws::MakeHttpSender({}), RealClock::Instance());
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->GetObject(kBucket, "iso/a/dispatches/r1/output.log").value(), "A");
  auto url = (*a)->PresignGet("dispatches/r1/output.log", std::chrono::seconds(60),
                              std::chrono::system_clock::now());
  ASSERT_TRUE(url.ok());
  EXPECT_NE(url->find("/outpost-conformance/iso/a/dispatches/r1/output.log?"), std::string::npos)
      << *url;
}

TEST_F(S3StoreTest, BadListPrefixIsInvalid) {
  auto store = OpenS3ArtifactStore(UrlFor(kBucket, "p"), S3rverEnv(), RealClock::Instance());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->List("../other").status().code(), Code::kInvalidArgument);
  EXPECT_EQ((*store)->List("/abs").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace outpost::artifacts
