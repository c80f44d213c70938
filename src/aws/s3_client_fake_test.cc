// The S3 client's error paths without s3rver: a fake HTTP server that throttles or fails before
// answering (retries, error mapping, virtual-hosted requests through a proxy), and a scripted
// sender for the multipart failure paths. Sleeps are simulated.
#include <gtest/gtest.h>

#include <mutex>

#include "aws/http.h"
#include "aws/s3_client.h"
#include "aws/s3_errors.h"
#include "testing/fake_http_server.h"

namespace outpost::aws {
namespace {

using outpost::testing::FakeHttpServer;
using outpost::testing::FakeRequest;
using outpost::testing::FakeResponse;

// The client runs inline: each retry's backoff moves the simulated clock (clock.sleeps()).
struct FakeSleeper {
  FakeSleeper() { clock.set_advance_on_sleep(true); }
  SimulatedClock clock;
};

std::string ErrorXml(const std::string& code) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code +
         "</Code><Message>msg for " + code + "</Message></Error>";
}

// An S3 client on a fake server answering from a script (the last answer repeats).
class S3RetryTest : public ::testing::Test {
 protected:
  void Serve(std::vector<FakeResponse> script) {
    {
      std::lock_guard lock(mu_);
      script_ = std::move(script);
      next_ = 0;
    }
    server_ = std::make_unique<FakeHttpServer>([this](const FakeRequest&) {
      std::lock_guard lock(mu_);
      FakeResponse r = script_[std::min(next_, script_.size() - 1)];
      ++next_;
      return r;
    });
    client_ = MakeClient(server_->endpoint());
  }
  std::unique_ptr<S3Client> MakeClient(const std::string& endpoint) {
    S3ClientOptions o;
    o.endpoint = endpoint;
    o.path_style = true;
    o.credentials = {"AK", "SK", ""};
    o.retry.base_delay = Millis(2000);  // simulated: long enough to change the signing second
    o.retry.max_delay = Millis(20'000);
    auto c = S3Client::Create(o, MakeHttpSender({}), sleeper_.clock);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(*c);
  }

  FakeSleeper sleeper_;
  std::mutex mu_;
  std::vector<FakeResponse> script_;
  std::size_t next_ = 0;
  std::unique_ptr<FakeHttpServer> server_;
  std::unique_ptr<S3Client> client_;
};

TEST(S3Errors, EveryAnswerMapsToTheCodeTheCallerActsOn) {
  struct Case {
    int status;
    std::string code;
    Code want;
  };
  for (const Case& c : std::vector<Case>{
           {404, "NoSuchKey", Code::kNotFound},
           {404, "NoSuchUpload", Code::kNotFound},
           {404, "", Code::kNotFound},  // HEAD: no body
           {404, "NoSuchBucket", Code::kFailedPrecondition},
           {301, "PermanentRedirect", Code::kFailedPrecondition},
           {403, "AccessDenied", Code::kPermissionDenied},
           {403, "InvalidAccessKeyId", Code::kPermissionDenied},
           {403, "SignatureDoesNotMatch", Code::kPermissionDenied},
           {400, "ExpiredToken", Code::kPermissionDenied},
           {403, "", Code::kPermissionDenied},
           {403, "RequestTimeTooSkewed", Code::kFailedPrecondition},
           {503, "SlowDown", Code::kUnavailable},
           {500, "InternalError", Code::kUnavailable},
           {502, "", Code::kUnavailable},
           {429, "", Code::kUnavailable},
           {400, "RequestTimeout", Code::kUnavailable},
           {400, "Throttling", Code::kUnavailable},
           {400, "EntityTooLarge", Code::kPayloadTooLarge},
           {409, "BucketAlreadyExists", Code::kConflict},
           {412, "PreconditionFailed", Code::kFailedPrecondition},
           {400, "InvalidArgument", Code::kInvalidArgument},
           {400, "", Code::kInvalidArgument},
       }) {
    net::HttpResponse r;
    r.status = c.status;
    if (!c.code.empty()) r.body = ErrorXml(c.code);
    Status st = MapS3Error("S3 GetObject s3://b/k", r);
    EXPECT_EQ(st.code(), c.want) << c.status << " " << c.code;
    EXPECT_NE(st.message().find("S3 GetObject s3://b/k: HTTP " + std::to_string(c.status)),
              std::string::npos)
        << st.message();
  }
}

TEST_F(S3RetryTest, SlowDownAnd5xxAreRetriedThenSucceed) {
  Serve({{503, ErrorXml("SlowDown"), {}},
         {500, ErrorXml("InternalError"), {}},
         {400, ErrorXml("RequestLimitExceeded"), {}},
         {429, "", {}},
         {200, "payload", {}}});
  auto got = client_->GetObject("bucket", "k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "payload");
  EXPECT_EQ(server_->requests().size(), 5u);
  EXPECT_EQ(sleeper_.clock.sleeps().size(), 4u);
  // Each retry is signed afresh with the clock's time at that attempt.
  auto reqs = server_->requests();
  EXPECT_EQ(reqs.back().headers["x-amz-date"], AmzDate(sleeper_.clock.Now()));
  EXPECT_NE(reqs.front().headers["x-amz-date"], reqs.back().headers["x-amz-date"]);
}

TEST_F(S3RetryTest, PersistentThrottlingEndsUnavailable) {
  Serve({{503, ErrorXml("SlowDown"), {}}});
  auto got = client_->GetObject("bucket", "k");
  EXPECT_EQ(got.status().code(), Code::kUnavailable);
  EXPECT_NE(got.status().message().find("SlowDown"), std::string::npos);
  EXPECT_EQ(server_->requests().size(), 5u);  // RetryPolicy{}.max_attempts
}

TEST_F(S3RetryTest, ClientErrorsAreNeverRetried) {
  struct Expect {
    int status;
    std::string code;
    Code want;
  };
  for (const Expect& e :
       std::vector<Expect>{{403, "AccessDenied", Code::kPermissionDenied},
                           {403, "InvalidAccessKeyId", Code::kPermissionDenied},
                           {403, "SignatureDoesNotMatch", Code::kPermissionDenied},
                           {404, "NoSuchBucket", Code::kFailedPrecondition},
                           {404, "NoSuchKey", Code::kNotFound},
                           {400, "InvalidArgument", Code::kInvalidArgument}}) {
    Serve({{e.status, ErrorXml(e.code), {}}, {200, "late", {}}});
    auto got = client_->GetObject("bucket", "k");
    EXPECT_EQ(got.status().code(), e.want) << e.code;
    EXPECT_NE(got.status().message().find(e.code), std::string::npos) << got.status().message();
    EXPECT_EQ(server_->requests().size(), 1u) << e.code;
  }
  EXPECT_TRUE(sleeper_.clock.sleeps().empty());
}

TEST_F(S3RetryTest, NetworkFailuresAreRetriedThenUnavailable) {
  auto client = MakeClient("http://127.0.0.1:" + std::to_string(outpost::testing::UnusedPort()));
  auto got = client->GetObject("bucket", "k");
  EXPECT_EQ(got.status().code(), Code::kUnavailable);
  EXPECT_NE(got.status().message().find("gave up after 5 attempts"), std::string::npos)
      << got.status().message();
  EXPECT_EQ(sleeper_.clock.sleeps().size(), 4u);
}

TEST_F(S3RetryTest, VirtualHostedRequestsNameTheBucketInTheHost) {
  // Through an http proxy (the fake server) no DNS is needed for bucket.s3.example.com.
  Serve({{200, "v", {}}});
  S3ClientOptions o;
  o.region = "eu-west-1";
  o.endpoint = "http://s3.example.com";
  o.credentials = {"AK", "SK", ""};
  auto client =
      S3Client::Create(o, MakeHttpSender({{"HTTP_PROXY", server_->endpoint()}}), sleeper_.clock);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->GetObject("my-bucket", "a b/c").ok());
  auto req = server_->requests().at(0);
  EXPECT_EQ(req.target, "http://my-bucket.s3.example.com/a%20b/c");
  EXPECT_EQ(req.headers["host"], "my-bucket.s3.example.com");
  EXPECT_NE(req.headers["authorization"].find("/eu-west-1/s3/aws4_request"), std::string::npos);
  EXPECT_EQ(req.headers["x-amz-content-sha256"], Sha256Hex(""));
}

TEST_F(S3RetryTest, CreateBucketAcceptsABucketAlreadyOwned) {
  Serve({{409, ErrorXml("BucketAlreadyOwnedByYou"), {}}});
  EXPECT_TRUE(client_->CreateBucket("mine").ok());
  Serve({{409, ErrorXml("BucketAlreadyExists"), {}}});
  EXPECT_EQ(client_->CreateBucket("theirs").code(), Code::kConflict);
}

TEST(S3ClientOptions, UnusableSettingsAreRejected) {
  SimulatedClock clock;
  auto sender = MakeHttpSender({});
  S3ClientOptions o;
  o.endpoint = "http://127.0.0.1:9000/prefix";
  EXPECT_EQ(S3Client::Create(o, sender, clock).status().code(), Code::kInvalidArgument);
  o.endpoint = "ftp://x";
  EXPECT_EQ(S3Client::Create(o, sender, clock).status().code(), Code::kInvalidArgument);
  o.endpoint = "";
  o.region = "US East";
  EXPECT_EQ(S3Client::Create(o, sender, clock).status().code(), Code::kInvalidArgument);
}

// The multipart paths through a scripted sender (no sockets: parts are 5 MiB).
struct Scripted {
  std::vector<net::HttpRequest> seen;
  std::function<net::HttpResponse(const net::HttpRequest&, int n)> answer;
  net::HttpSender sender() {
    return [this](const net::HttpRequest& r) -> Result<net::HttpResponse> {
      seen.push_back(r);
      return answer(r, static_cast<int>(seen.size()));
    };
  }
  int Count(std::string_view method, std::string_view query_part) const {
    int n = 0;
    for (const auto& r : seen) {
      if (r.method == method && r.url.path.find(query_part) != std::string::npos) ++n;
    }
    return n;
  }
};

std::unique_ptr<S3Client> ScriptedClient(Scripted& s, FakeSleeper& sleeper) {
  S3ClientOptions o;
  o.endpoint = "http://127.0.0.1:9";
  o.path_style = true;
  o.credentials = {"AK", "SK", ""};
  o.multipart_threshold = 5 * 1024 * 1024;
  o.part_size = 5 * 1024 * 1024;
  return S3Client::Create(o, s.sender(), sleeper.clock).value();
}

net::HttpResponse Answer(int status, std::string body = "",
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

TEST(S3Multipart, FailedPartAbortsTheUpload) {
  Scripted s;
  s.answer = [](const net::HttpRequest& r, int) {
    if (r.method == "POST") {
      return Answer(200,
                    "<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
                    "</InitiateMultipartUploadResult>");
    }
    if (r.method == "PUT") {
      bool second = r.url.path.find("partNumber=2") != std::string::npos;
      return second ? Answer(403, ErrorXml("AccessDenied")) : Answer(200, "", {{"ETag", "\"e1\""}});
    }
    return Answer(204);
  };
  FakeSleeper sleeper;
  auto client = ScriptedClient(s, sleeper);
  Status st = client->PutObject("b", "big", std::string(11 * 1024 * 1024, 'x'));
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(s.Count("DELETE", "uploadId=U1"), 1);
  EXPECT_EQ(s.Count("POST", "uploadId=U1"), 0);  // never completed
}

TEST(S3Multipart, CompletionErrorInsideA200IsRetriedAndPartsAreListedInOrder) {
  Scripted s;
  int completes = 0;
  s.answer = [&](const net::HttpRequest& r, int) {
    if (r.method == "POST" && r.url.path.find("uploads") != std::string::npos) {
      return Answer(200,
                    "<InitiateMultipartUploadResult><UploadId>U2</UploadId>"
                    "</InitiateMultipartUploadResult>");
    }
    if (r.method == "PUT") {
      std::string n = r.url.path.substr(r.url.path.find("partNumber=") + 11, 1);
      return Answer(200, "", {{"ETag", "\"etag-" + n + "\""}});
    }
    if (r.method == "POST") {
      return ++completes == 1 ? Answer(200, ErrorXml("InternalError"))
                              : Answer(200, "<CompleteMultipartUploadResult/>");
    }
    return Answer(500);
  };
  FakeSleeper sleeper;
  auto client = ScriptedClient(s, sleeper);
  std::string content(12 * 1024 * 1024, 'y');
  ASSERT_TRUE(client->PutObject("b", "big", content).ok());
  EXPECT_EQ(s.Count("PUT", "uploadId=U2"), 3);  // 5 + 5 + 2 MiB
  EXPECT_EQ(completes, 2);
  EXPECT_EQ(s.Count("DELETE", ""), 0);
  const net::HttpRequest& complete = s.seen.back();
  EXPECT_NE(complete.body.find("<Part><PartNumber>1</PartNumber><ETag>&quot;etag-1&quot;</ETag>"
                               "</Part><Part><PartNumber>2</PartNumber>"),
            std::string::npos)
      << complete.body;
  // The metadata that Head returns is set when the upload is created.
  const net::HttpRequest& create = s.seen.front();
  bool has_sha = false;
  for (const auto& [k, v] : create.headers)
    has_sha |= k == "x-amz-meta-sha256" && v == Sha256Hex(content);
  EXPECT_TRUE(has_sha);
}

}  // namespace
}  // namespace outpost::aws
