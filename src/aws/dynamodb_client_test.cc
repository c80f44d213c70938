// The DynamoDB client without dynalite: what goes on the wire (target, content type, SigV4
// headers), the error table, and retries against a fake HTTP server that throttles or fails
// before answering. Sleeps are simulated.
#include "aws/dynamodb_client.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <mutex>

#include "aws/http.h"
#include "common/json_util.h"
#include "testing/fake_http_server.h"

namespace outpost::aws {
namespace {

namespace json = boost::json;
using outpost::testing::FakeHttpServer;
using outpost::testing::FakeRequest;
using outpost::testing::FakeResponse;

std::string ErrorJson(const std::string& type, const std::string& message = "") {
  return ToJson(json::object{{"__type", "com.amazonaws.dynamodb.v20120810#" + type},
                             {"message", message.empty() ? "msg for " + type : message}});
}

class DynamoDbClientTest : public ::testing::Test {
 protected:
  // A fake server answering from a script (the last answer repeats).
  void Serve(std::vector<FakeResponse> script) {
    {
      std::lock_guard lock(mu_);
      script_ = std::move(script);
    }
    server_ = std::make_unique<FakeHttpServer>([this](const FakeRequest&) {
      std::lock_guard lock(mu_);
      FakeResponse r = script_[std::min(next_, script_.size() - 1)];
      ++next_;
      return r;
    });
    DynamoDbClientOptions o;
    o.region = "eu-west-1";
    o.endpoint = server_->endpoint();
    o.credentials = {"AKIDEXAMPLE", "secret", "session-token"};
    o.retry.base_delay = Millis(2000);
    o.retry.max_delay = Millis(20'000);
    clock_.set_advance_on_sleep(true);  // the client runs inline: a backoff moves the clock
    auto c = DynamoDbClient::Create(o, MakeHttpSender({}), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
  }

  SimulatedClock clock_;
  std::mutex mu_;
  std::vector<FakeResponse> script_;
  std::size_t next_ = 0;
  std::unique_ptr<FakeHttpServer> server_;
  std::unique_ptr<DynamoDbClient> client_;
};

TEST_F(DynamoDbClientTest, RequestsAreSignedJsonProtocolCalls) {
  Serve({{200, R"({"Item":{"id":{"S":"r1"},"n":{"N":"42"}}})", {}}});
  auto item = client_->GetItem("outpost-runs", {{"id", ddb::S("r1")}});
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  ASSERT_TRUE(item->has_value());
  EXPECT_EQ(ddb::GetS(**item, "id"), "r1");
  EXPECT_EQ(ddb::GetN(**item, "n"), 42);

  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  FakeRequest& r = reqs[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(r.headers["x-amz-target"], "DynamoDB_20120810.GetItem");
  EXPECT_EQ(r.headers["content-type"], "application/x-amz-json-1.0");
  EXPECT_EQ(r.headers["x-amz-date"], AmzDate(clock_.Now()));
  EXPECT_EQ(r.headers["x-amz-security-token"], "session-token");
  const std::string& auth = r.headers["authorization"];
  EXPECT_TRUE(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")) << auth;
  EXPECT_NE(auth.find("/eu-west-1/dynamodb/aws4_request"), std::string::npos) << auth;
  EXPECT_NE(auth.find("x-amz-target"), std::string::npos) << "the target is signed: " << auth;
  auto body = ParseJson(r.body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->at("TableName"), "outpost-runs");
  EXPECT_EQ(body->at("ConsistentRead"), true);
  EXPECT_EQ(body->at("Key"), (json::object{{"id", {{"S", "r1"}}}}));

  // The signature is the SigV4 signature of exactly this request.
  SignableRequest again{"POST",
                        "/",
                        {},
                        {{"Host", "127.0.0.1:" + std::to_string(server_->port())},
                         {"Content-Type", "application/x-amz-json-1.0"},
                         {"X-Amz-Target", "DynamoDB_20120810.GetItem"}},
                        r.body};
  auto sig = SignHeaders(again, {"AKIDEXAMPLE", "secret", "session-token"},
                         SigningOptions::ForService("eu-west-1", "dynamodb"), clock_.Now());
  ASSERT_TRUE(sig.ok());
  EXPECT_NE(auth.find("Signature=" + sig->signature), std::string::npos);
}

TEST_F(DynamoDbClientTest, ConditionsAndQueriesCarryTheirExpressions) {
  Serve({{200, "{}", {}},
         {200,
          R"({"Items":[{"id":{"S":"b"}},{"id":{"S":"a"}}],"LastEvaluatedKey":{"id":{"S":"a"}}})",
          {}}});
  Expression cond{"attribute_not_exists(#id)", {{"#id", "id"}}, {}};
  ASSERT_TRUE(client_->PutItem("t", {{"id", ddb::S("x")}}, cond).ok());
  QueryRequest q;
  q.table = "t";
  q.index = "by-kind";
  q.key_condition = {"#k = :k", {{"#k", "kind"}}, {{":k", ddb::S("run")}}};
  q.forward = false;
  q.limit = 2;
  q.start_key = json::object{{"id", ddb::S("c")}};
  auto page = client_->Query(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(ddb::GetS(page->items[0], "id"), "b");
  ASSERT_TRUE(page->last_key.has_value());

  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  auto put = ParseJson(reqs[0].body)->as_object();
  EXPECT_EQ(put.at("ConditionExpression"), "attribute_not_exists(#id)");
  EXPECT_EQ(put.at("ExpressionAttributeNames"), (json::object{{"#id", "id"}}));
  EXPECT_FALSE(put.contains("ExpressionAttributeValues")) << "DynamoDB rejects empty maps";
  auto query = ParseJson(reqs[1].body)->as_object();
  EXPECT_EQ(reqs[1].headers["x-amz-target"], "DynamoDB_20120810.Query");
  EXPECT_EQ(query.at("IndexName"), "by-kind");
  EXPECT_EQ(query.at("ScanIndexForward"), false);
  EXPECT_EQ(query.at("Limit"), 2);
  EXPECT_EQ(query.at("KeyConditionExpression"), "#k = :k");
  EXPECT_EQ(query.at("ExclusiveStartKey"), (json::object{{"id", {{"S", "c"}}}}));
}

TEST(DynamoDbErrors, EveryAnswerMapsToTheCodeTheCallerActsOn) {
  struct Case {
    int status;
    std::string type;
    Code want;
    std::string message = "";
  };
  for (const Case& c : std::vector<Case>{
           {400, "ConditionalCheckFailedException", Code::kConflict},
           {400, "TransactionConflictException", Code::kConflict},
           {400, "ResourceNotFoundException", Code::kFailedPrecondition},
           {400, "ResourceInUseException", Code::kConflict},
           {400, "ProvisionedThroughputExceededException", Code::kUnavailable},
           {400, "ThrottlingException", Code::kUnavailable},
           {400, "RequestLimitExceeded", Code::kUnavailable},
           {400, "LimitExceededException", Code::kUnavailable},
           {500, "InternalServerError", Code::kUnavailable},
           {503, "ServiceUnavailable", Code::kUnavailable},
           {502, "", Code::kUnavailable},
           {400, "UnrecognizedClientException", Code::kPermissionDenied},
           {400, "AccessDeniedException", Code::kPermissionDenied},
           {400, "InvalidSignatureException", Code::kPermissionDenied},
           {400, "ExpiredTokenException", Code::kPermissionDenied},
           {400, "MissingAuthenticationTokenException", Code::kPermissionDenied},
           {400, "ValidationException", Code::kInvalidArgument},
           {400, "ValidationException", Code::kPayloadTooLarge,
            "Item size has exceeded the maximum allowed size"},
           {400, "ItemCollectionSizeLimitExceededException", Code::kResourceExhausted},
           {400, "SerializationException", Code::kInternal},
           {400, "SomethingNew", Code::kInvalidArgument},
           {400, "", Code::kInvalidArgument},
       }) {
    net::HttpResponse r;
    r.status = c.status;
    if (!c.type.empty()) r.body = ErrorJson(c.type, c.message);
    Status st = MapDynamoDbError("DynamoDB PutItem t", r);
    EXPECT_EQ(st.code(), c.want) << c.status << " " << c.type;
    const std::string expected_prefix =
        "DynamoDB PutItem t: " + (c.type.empty() ? "HTTP " + std::to_string(c.status) : c.type);
    EXPECT_TRUE(st.message().starts_with(expected_prefix)) << st.message();
  }
}

TEST_F(DynamoDbClientTest, ThrottlingAnd5xxAreRetriedThenSucceed) {
  Serve({{400, ErrorJson("ProvisionedThroughputExceededException"), {}},
         {400, ErrorJson("ThrottlingException"), {}},
         {500, ErrorJson("InternalServerError"), {}},
         {503, "", {}},
         {200, R"({"Table":{"TableStatus":"ACTIVE"}})", {}}});
  auto info = client_->DescribeTable("t");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->status, "ACTIVE");
  EXPECT_EQ(server_->requests().size(), 5u);
  const std::vector<Millis> sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 4u);
  for (std::size_t i = 0; i < sleeps.size(); ++i) {
    const Millis cap = std::min(Millis(2000) * (1 << i), Millis(20'000));
    EXPECT_GE(sleeps[i], cap / 2) << i;  // equal jitter: at least half the backoff
    EXPECT_LE(sleeps[i], cap) << i;
  }
  // Each retry is signed afresh with the clock's time at that attempt.
  auto reqs = server_->requests();
  EXPECT_EQ(reqs.back().headers["x-amz-date"], AmzDate(clock_.Now()));
  EXPECT_NE(reqs.front().headers["x-amz-date"], reqs.back().headers["x-amz-date"]);
}

TEST_F(DynamoDbClientTest, PersistentThrottlingEndsUnavailable) {
  Serve({{400, ErrorJson("ProvisionedThroughputExceededException"), {}}});
  auto put = client_->PutItem("t", {{"id", ddb::S("x")}});
  EXPECT_EQ(put.code(), Code::kUnavailable);
  EXPECT_NE(put.message().find("gave up after 5 attempts"), std::string::npos) << put.message();
  EXPECT_NE(put.message().find("ProvisionedThroughputExceededException"), std::string::npos);
  EXPECT_EQ(server_->requests().size(), 5u);  // RetryPolicy{}.max_attempts
}

// The counts the benchmarks read: a call per operation however often it was retried, and the
// attempts besides.
TEST_F(DynamoDbClientTest, CallsAreCountedByOperationAndAttempts) {
  Serve({{503, "", {}}, {200, "{}", {}}});
  EXPECT_EQ(client_->Counts().total(), 0);
  ASSERT_TRUE(client_->PutItem("t", {{"id", ddb::S("x")}}).ok());
  ASSERT_TRUE(client_->PutItem("t", {{"id", ddb::S("y")}}).ok());
  ASSERT_TRUE(client_->GetItem("t", {{"id", ddb::S("x")}}).ok());
  const DynamoDbClient::CallCounts counts = client_->Counts();
  EXPECT_EQ(counts.calls, (std::map<std::string, std::int64_t>{{"GetItem", 1}, {"PutItem", 2}}));
  EXPECT_EQ(counts.total(), 3);
  EXPECT_EQ(counts.attempts, 4);  // the first PutItem was retried once
  EXPECT_EQ(server_->requests().size(), 4u);
}

TEST_F(DynamoDbClientTest, ClientErrorsAreNeverRetried) {
  Serve(
      {{400, ErrorJson("ConditionalCheckFailedException", "The conditional request failed"), {}}});
  Status put = client_->PutItem("t", {{"id", ddb::S("x")}},
                                {"attribute_not_exists(#id)", {{"#id", "id"}}, {}});
  EXPECT_EQ(put.code(), Code::kConflict);
  EXPECT_EQ(put.message(),
            "DynamoDB PutItem t: ConditionalCheckFailedException: The conditional request failed");
  EXPECT_EQ(server_->requests().size(), 1u);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(DynamoDbClientTest, MissingTableIsNotFoundForDescribeAndPreconditionElsewhere) {
  Serve({{400, ErrorJson("ResourceNotFoundException", "Requested resource not found"), {}}});
  EXPECT_EQ(client_->DescribeTable("gone").status().code(), Code::kNotFound);
  EXPECT_EQ(client_->GetItem("gone", {{"id", ddb::S("x")}}).status().code(),
            Code::kFailedPrecondition);
}

TEST_F(DynamoDbClientTest, UnreachableServerEndsUnavailable) {
  DynamoDbClientOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(outpost::testing::UnusedPort());
  o.credentials = {"AK", "SK", ""};
  clock_.set_advance_on_sleep(true);  // the client runs inline: a backoff moves the clock
  auto c = DynamoDbClient::Create(o, MakeHttpSender({}), clock_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->DescribeTable("t").status().code(), Code::kUnavailable);
}

TEST(DynamoDbClient, RejectsBadRegionsAndEndpoints) {
  SimulatedClock clock;
  auto sender = MakeHttpSender({});
  DynamoDbClientOptions bad_region;
  bad_region.region = "EU WEST";
  EXPECT_EQ(DynamoDbClient::Create(bad_region, sender, clock).status().code(),
            Code::kInvalidArgument);
  DynamoDbClientOptions with_path;
  with_path.endpoint = "http://127.0.0.1:8000/some/path";
  EXPECT_EQ(DynamoDbClient::Create(with_path, sender, clock).status().code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace outpost::aws
