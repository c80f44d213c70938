// SecretsManagerClient without AWS: the answers of the API reference (GetSecretValue's "Response
// Syntax" and example, the errors it lists and the common ones: AccessDeniedException,
// ThrottlingException) parsed and mapped, retries on a scripted loopback server with simulated
// sleeps. The request itself is compared with the AWS SDK's in secretsmanager_sdk_test.cc.
#include "aws/secretsmanager_client.h"

#include <gtest/gtest.h>

#include <mutex>

#include "aws/http.h"
#include "common/json_util.h"
#include "testing/fake_http_server.h"
#include "testing/status_matchers.h"

namespace outpost::aws {
namespace {

using outpost::testing::FakeHttpServer;
using outpost::testing::FakeRequest;
using outpost::testing::FakeResponse;
using outpost::testing::StatusIs;
using ::testing::HasSubstr;

// The API reference's example answer (GetSecretValue, "Example": a JSON secret string).
constexpr char kDocumentedAnswer[] = R"({
  "ARN": "arn:aws:secretsmanager:us-west-2:123456789012:secret:MyTestDatabaseSecret-a1b2c3",
  "CreatedDate": 1.523477145713E9,
  "Name": "MyTestDatabaseSecret",
  "SecretString": "{\n  \"username\":\"david\",\n  \"password\":\"EXAMPLE-PASSWORD\"\n}\n",
  "VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1",
  "VersionStages": ["AWSPREVIOUS"]
})";

std::string Error(std::string_view type, std::string_view message) {
  return ToJson(boost::json::object{{"__type", type}, {"Message", message}});
}

TEST(SecretsManagerParse, TheDocumentedAnswer) {
  auto v = ParseGetSecretValue(kDocumentedAnswer);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->arn,
            "arn:aws:secretsmanager:us-west-2:123456789012:secret:MyTestDatabaseSecret-a1b2c3");
  EXPECT_EQ(v->name, "MyTestDatabaseSecret");
  EXPECT_EQ(v->version_id, "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1");
  EXPECT_EQ(v->version_stages, std::vector<std::string>{"AWSPREVIOUS"});
  ASSERT_TRUE(v->secret_string);
  EXPECT_EQ(*v->secret_string,
            "{\n  \"username\":\"david\",\n  \"password\":\"EXAMPLE-PASSWORD\"\n}\n");
  EXPECT_FALSE(v->secret_binary);
}

TEST(SecretsManagerParse, SecretBinaryIsDecoded) {
  auto v = ParseGetSecretValue(R"({"Name":"b","SecretBinary":"AAECA/8=","VersionStages":[]})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_TRUE(v->secret_binary);
  EXPECT_EQ(*v->secret_binary, std::string("\x00\x01\x02\x03\xff", 5));
}

TEST(SecretsManagerParse, MalformedAnswersAreInternalAndNeverQuoteTheValue) {
  for (std::string_view body : {
           std::string_view("not json"),
           std::string_view("[]"),
           std::string_view(R"({"Name":"x"})"),                                     // no value
           std::string_view(R"({"SecretString":"s3cr3t","SecretBinary":"AA=="})"),  // both
           std::string_view(R"({"SecretString":42})"),
           std::string_view(R"({"SecretBinary":"not base64!"})"),
       }) {
    auto v = ParseGetSecretValue(body);
    EXPECT_THAT(v, StatusIs(Code::kInternal)) << body;
    EXPECT_EQ(v.status().message().find("s3cr3t"), std::string::npos);
  }
}

TEST(SecretsManagerErrors, EveryDocumentedErrorMapsToTheCodeTheCallerActsOn) {
  struct Case {
    int status;
    std::string type;
    Code want;
  };
  for (const Case& c : std::vector<Case>{
           {400, "ResourceNotFoundException", Code::kNotFound},
           {400, "com.amazonaws.secretsmanager#ResourceNotFoundException", Code::kNotFound},
           {400, "AccessDeniedException", Code::kPermissionDenied},
           {400, "UnrecognizedClientException", Code::kPermissionDenied},
           {400, "ExpiredTokenException", Code::kPermissionDenied},
           {400, "DecryptionFailure", Code::kPermissionDenied},
           {400, "InvalidRequestException", Code::kFailedPrecondition},
           {400, "InvalidParameterException", Code::kInvalidArgument},
           {400, "ThrottlingException", Code::kUnavailable},
           {500, "InternalServiceError", Code::kUnavailable},
           {503, "", Code::kUnavailable},
           {429, "", Code::kUnavailable},
           {400, "SomethingNew", Code::kInvalidArgument},
           {400, "", Code::kInvalidArgument},
       }) {
    net::HttpResponse r;
    r.status = c.status;
    if (!c.type.empty()) r.body = Error(c.type, "the message for " + c.type);
    Status st = MapSecretsManagerError("Secrets Manager GetSecretValue x", r);
    EXPECT_EQ(st.code(), c.want) << c.status << " " << c.type;
    const std::string shown = c.type.substr(c.type.find('#') + 1);
    EXPECT_THAT(st.message(), HasSubstr("Secrets Manager GetSecretValue x: " +
                                        (c.type.empty() ? "HTTP " + std::to_string(c.status)
                                                        : shown + ": the message for " + c.type)));
  }
  // The type only in the x-amzn-ErrorType header (some front ends answer so).
  net::HttpResponse r;
  r.status = 400;
  r.headers = {{"X-Amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/"}};
  EXPECT_THAT(MapSecretsManagerError("w", r), StatusIs(Code::kNotFound, HasSubstr("w: Resource")));
}

// A client on a loopback server answering from a script (the last answer repeats); the
// client's backoffs advance the simulated clock.
class SecretsManagerRetryTest : public ::testing::Test {
 protected:
  SecretsManagerRetryTest() { clock_.set_advance_on_sleep(true); }
  void Serve(std::vector<FakeResponse> script) {
    script_ = std::move(script);
    server_ = std::make_unique<FakeHttpServer>([this](const FakeRequest&) {
      std::lock_guard lock(mu_);
      FakeResponse r = script_[std::min(next_, script_.size() - 1)];
      ++next_;
      return r;
    });
    SecretsManagerClientOptions o;
    o.region = "us-east-1";
    o.endpoint = server_->endpoint();
    o.credentials = {"AK", "SK", "TOKEN"};
    o.retry.base_delay = Millis(2000);  // simulated: long enough to change the signing second
    auto c = SecretsManagerClient::Create(o, MakeHttpSender({}), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
  }

  SimulatedClock clock_;
  std::mutex mu_;
  std::vector<FakeResponse> script_;
  std::size_t next_ = 0;
  std::unique_ptr<FakeHttpServer> server_;
  std::unique_ptr<SecretsManagerClient> client_;
};

TEST_F(SecretsManagerRetryTest, SendsTheJson11RequestAndReadsTheAnswer) {
  Serve({{200, kDocumentedAnswer, {{"Content-Type", "application/x-amz-json-1.1"}}}});
  auto v = client_->GetSecretValue({"outpost/prod/ANTHROPIC_API_KEY", "", "AWSCURRENT"});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->name, "MyTestDatabaseSecret");
  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/");
  EXPECT_EQ(reqs[0].headers["x-amz-target"], "secretsmanager.GetSecretValue");
  EXPECT_EQ(reqs[0].headers["content-type"], "application/x-amz-json-1.1");
  EXPECT_EQ(reqs[0].headers["x-amz-security-token"], "TOKEN");
  EXPECT_THAT(reqs[0].headers["authorization"],
              HasSubstr("/us-east-1/secretsmanager/aws4_request"));
  EXPECT_EQ(reqs[0].body,
            R"({"SecretId":"outpost/prod/ANTHROPIC_API_KEY","VersionStage":"AWSCURRENT"})");
}

TEST_F(SecretsManagerRetryTest, ThrottlingAndInternalErrorsAreRetriedThenSucceed) {
  Serve({{400, Error("ThrottlingException", "Rate exceeded"), {}},
         {500, Error("InternalServiceError", "oops"), {}},
         {200, R"({"Name":"n","SecretString":"v"})", {}}});
  auto v = client_->GetSecretValue({"n", "", ""});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v->secret_string, "v");
  EXPECT_EQ(server_->requests().size(), 3u);
  EXPECT_EQ(client_->attempts(), 3);
  EXPECT_EQ(clock_.sleeps().size(), 2u);
  auto reqs = server_->requests();  // each attempt signed afresh
  EXPECT_NE(reqs.front().headers["x-amz-date"], reqs.back().headers["x-amz-date"]);
}

TEST_F(SecretsManagerRetryTest, PersistentThrottlingEndsUnavailableNamingIt) {
  Serve({{400, Error("ThrottlingException", "Rate exceeded"), {}}});
  auto v = client_->GetSecretValue({"n", "", ""});
  EXPECT_THAT(v, StatusIs(Code::kUnavailable, HasSubstr("ThrottlingException: Rate exceeded")));
  EXPECT_EQ(server_->requests().size(), 5u);  // RetryPolicy{}.max_attempts
}

TEST_F(SecretsManagerRetryTest, ClientErrorsAreNeverRetried) {
  for (const auto& [type, code] : std::vector<std::pair<std::string, Code>>{
           {"ResourceNotFoundException", Code::kNotFound},
           {"AccessDeniedException", Code::kPermissionDenied},
           {"DecryptionFailure", Code::kPermissionDenied},
           {"InvalidRequestException", Code::kFailedPrecondition}}) {
    Serve({{400, Error(type, "msg"), {}}});
    auto v = client_->GetSecretValue({"outpost/x", "", ""});
    EXPECT_THAT(v, StatusIs(code, HasSubstr("GetSecretValue outpost/x: " + type + ": msg")));
    EXPECT_EQ(server_->requests().size(), 1u) << type;
  }
}

TEST(SecretsManagerCreate, RefusesBadRegionsAndEndpoints) {
  auto sender = [](const net::HttpRequest&) -> Result<net::HttpResponse> {
    return Internal("unused");
  };
  SecretsManagerClientOptions o;
  o.region = "US East";
  EXPECT_THAT(SecretsManagerClient::Create(o, sender, RealClock::Instance()),
              StatusIs(Code::kInvalidArgument, HasSubstr("bad region")));
  o.region = "us-east-1";
  o.endpoint = "http://127.0.0.1:1/path";
  EXPECT_THAT(SecretsManagerClient::Create(o, sender, RealClock::Instance()),
              StatusIs(Code::kInvalidArgument, HasSubstr("must not have a path")));
  o.endpoint = "ftp://x";
  EXPECT_THAT(SecretsManagerClient::Create(o, sender, RealClock::Instance()),
              StatusIs(Code::kInvalidArgument));
}

}  // namespace
}  // namespace outpost::aws
