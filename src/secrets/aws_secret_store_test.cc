// AwsSecretStore against a loopback stand-in for Secrets Manager (FakeHttpServer answering
// GetSecretValue with the API reference's shapes: values, ResourceNotFoundException,
// AccessDeniedException, DecryptionFailure, ThrottlingException) on a simulated clock: the
// cache's hits, misses and TTL expiry, rotation, error mapping, and that values appear in no
// log line and no error.
#include "secrets/aws_secret_store.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <sstream>

#include "aws/http.h"
#include "common/json_util.h"
#include "testing/fake_http_server.h"
#include "testing/status_matchers.h"

namespace outpost {
namespace {

using outpost::testing::FakeHttpServer;
using outpost::testing::FakeRequest;
using outpost::testing::FakeResponse;
using outpost::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kValue[] = "sk-ant-api03-THE-VALUE";

// Secret id -> the answer: a value, or an error type.
class FakeSecretsManager {
 public:
  FakeSecretsManager() : server_([this](const FakeRequest& r) { return Answer(r); }) {}
  void SetValue(const std::string& id, const std::string& value) {
    std::lock_guard lock(mu_);
    values_[id] = value;
    errors_.erase(id);
  }
  void SetError(const std::string& id, const std::string& type) {
    std::lock_guard lock(mu_);
    errors_[id] = type;
  }
  int calls(const std::string& id) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(id);
    return it == calls_.end() ? 0 : it->second;
  }
  std::string endpoint() const { return server_.endpoint(); }

 private:
  FakeResponse Answer(const FakeRequest& r) {
    auto doc = ParseJson(r.body);
    if (r.headers.count("x-amz-target") == 0 ||
        r.headers.at("x-amz-target") != "secretsmanager.GetSecretValue" || !doc.ok() ||
        !doc->is_object() || !GetString(doc->get_object(), "SecretId")) {
      return {400, R"({"__type":"SerializationException"})", {}};
    }
    const std::string id = *GetString(doc->get_object(), "SecretId");
    std::lock_guard lock(mu_);
    ++calls_[id];
    if (auto e = errors_.find(id); e != errors_.end()) {
      int status = e->second == "InternalServiceError" ? 500 : 400;
      return {status,
              ToJson(boost::json::object{{"__type", e->second}, {"Message", "msg " + e->second}}),
              {}};
    }
    auto v = values_.find(id);
    if (v == values_.end()) {
      return {
          400,
          R"({"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."})",
          {}};
    }
    return {200,
            ToJson(boost::json::object{{"ARN", "arn:aws:secretsmanager:us-east-1:1:secret:" + id},
                                       {"Name", id},
                                       {"SecretString", v->second},
                                       {"VersionId", "v"},
                                       {"VersionStages", boost::json::array{"AWSCURRENT"}},
                                       {"CreatedDate", 1.523477145713E9}}),
            {{"Content-Type", "application/x-amz-json-1.1"}}};
  }

  mutable std::mutex mu_;
  std::map<std::string, std::string> values_, errors_;
  std::map<std::string, int> calls_;
  FakeHttpServer server_;
};

class AwsSecretStoreTest : public ::testing::Test {
 protected:
  AwsSecretStoreTest() {
    clock_.set_advance_on_sleep(true);
    // Every log line of the test, at every level: values must not be among them.
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(logger);
  }
  ~AwsSecretStoreTest() override { spdlog::set_default_logger(previous_); }

  std::unique_ptr<AwsSecretStore> Store(std::chrono::seconds ttl = std::chrono::seconds(300)) {
    aws::SecretsManagerClientOptions o;
    o.region = "us-east-1";
    o.endpoint = fake_.endpoint();
    o.credentials = {"AK", "SK", ""};
    auto client = aws::SecretsManagerClient::Create(o, aws::MakeHttpSender({}), clock_);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return std::make_unique<AwsSecretStore>(std::move(*client),
                                            AwsSecretStoreOptions{"outpost/prod/", ttl}, clock_);
  }

  SimulatedClock clock_;
  FakeSecretsManager fake_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(AwsSecretStoreTest, ReadsPrefixedSecretsAndCachesThemForTheTtl) {
  fake_.SetValue("outpost/prod/ANTHROPIC_API_KEY", kValue);
  auto store = Store(std::chrono::seconds(300));
  EXPECT_EQ(*store->Get("ANTHROPIC_API_KEY"), kValue);
  EXPECT_EQ(*store->Get("ANTHROPIC_API_KEY"), kValue);
  EXPECT_TRUE(store->Has("ANTHROPIC_API_KEY"));
  EXPECT_EQ(fake_.calls("outpost/prod/ANTHROPIC_API_KEY"), 1);
  EXPECT_EQ(store->stats().misses, 1);
  EXPECT_EQ(store->stats().hits, 2);
  EXPECT_EQ(store->Names(), std::vector<std::string>{"ANTHROPIC_API_KEY"});

  // Rotated in Secrets Manager: the cached value holds until the TTL has passed.
  fake_.SetValue("outpost/prod/ANTHROPIC_API_KEY", "rotated-value");
  clock_.Advance(std::chrono::seconds(299));
  EXPECT_EQ(*store->Get("ANTHROPIC_API_KEY"), kValue);
  EXPECT_EQ(fake_.calls("outpost/prod/ANTHROPIC_API_KEY"), 1);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(*store->Get("ANTHROPIC_API_KEY"), "rotated-value");
  EXPECT_EQ(fake_.calls("outpost/prod/ANTHROPIC_API_KEY"), 2);
  EXPECT_EQ(store->stats().misses, 2);
}

TEST_F(AwsSecretStoreTest, ATtlOfZeroAsksEveryTime) {
  fake_.SetValue("outpost/prod/OPENAI_API_KEY", kValue);
  auto store = Store(std::chrono::seconds(0));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*store->Get("OPENAI_API_KEY"), kValue);
  EXPECT_EQ(fake_.calls("outpost/prod/OPENAI_API_KEY"), 3);
  EXPECT_EQ(store->stats().hits, 0);
}

TEST_F(AwsSecretStoreTest, NotFoundIsCachedForTheTtlToo) {
  auto store = Store(std::chrono::seconds(60));
  EXPECT_THAT(store->Get("XAI_API_KEY"),
              StatusIs(Code::kNotFound, HasSubstr("ResourceNotFoundException")));
  EXPECT_FALSE(store->Has("XAI_API_KEY"));
  EXPECT_EQ(fake_.calls("outpost/prod/XAI_API_KEY"), 1);
  // Created meanwhile: found once the negative answer has expired.
  fake_.SetValue("outpost/prod/XAI_API_KEY", kValue);
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(*store->Get("XAI_API_KEY"), kValue);
  EXPECT_EQ(fake_.calls("outpost/prod/XAI_API_KEY"), 2);
  EXPECT_TRUE(store->Names() == std::vector<std::string>{"XAI_API_KEY"});
}

TEST_F(AwsSecretStoreTest, ErrorsMapToTheStoreContractAndAreNotCached) {
  auto store = Store();
  fake_.SetError("outpost/prod/A", "AccessDeniedException");
  fake_.SetError("outpost/prod/B", "DecryptionFailure");
  fake_.SetError("outpost/prod/C", "InvalidRequestException");
  fake_.SetError("outpost/prod/D", "ThrottlingException");
  EXPECT_THAT(store->Get("A"), StatusIs(Code::kPermissionDenied, HasSubstr("AccessDenied")));
  EXPECT_THAT(store->Get("A"), StatusIs(Code::kPermissionDenied));
  EXPECT_EQ(fake_.calls("outpost/prod/A"), 2);  // not cached
  EXPECT_THAT(store->Get("B"), StatusIs(Code::kPermissionDenied, HasSubstr("DecryptionFailure")));
  EXPECT_THAT(store->Get("C"), StatusIs(Code::kFailedPrecondition));
  // Throttled on every attempt: retried with backoff (simulated), then unavailable.
  EXPECT_THAT(store->Get("D"), StatusIs(Code::kUnavailable, HasSubstr("ThrottlingException")));
  EXPECT_EQ(fake_.calls("outpost/prod/D"), 5);
  EXPECT_TRUE(store->Names().empty());
  // Recovered: the next Get asks again and succeeds.
  fake_.SetValue("outpost/prod/D", kValue);
  EXPECT_EQ(*store->Get("D"), kValue);
}

TEST_F(AwsSecretStoreTest, InvalidNamesAreRefusedWithoutARequest) {
  auto store = Store();
  for (const char* bad : {"", "lower", "../X", "A/B", "A B"}) {
    EXPECT_THAT(store->Get(bad), StatusIs(Code::kNotFound)) << bad;
  }
  EXPECT_EQ(store->stats().misses, 0);
}

TEST_F(AwsSecretStoreTest, ValuesAppearInNoLogLineAndNoError) {
  fake_.SetValue("outpost/prod/GITHUB_TOKEN", kValue);
  fake_.SetError("outpost/prod/DEEPSEEK_API_KEY", "DecryptionFailure");
  auto store = Store();
  std::string statuses;
  for (const char* name : {"GITHUB_TOKEN", "DEEPSEEK_API_KEY", "GEMINI_API_KEY"}) {
    auto v = store->Get(name);
    if (!v.ok()) statuses += v.status().ToString() + "\n";
  }
  spdlog::default_logger()->flush();
  EXPECT_EQ(statuses.find(kValue), std::string::npos) << statuses;
  EXPECT_EQ(log_.str().find(kValue), std::string::npos) << log_.str();
  EXPECT_NE(statuses.find("DEEPSEEK_API_KEY"), std::string::npos) << statuses;
}

TEST_F(AwsSecretStoreTest, BehindTheEnvironmentInTheServersChain) {
  fake_.SetValue("outpost/prod/ANTHROPIC_API_KEY", "from-aws");
  fake_.SetValue("outpost/prod/OPENAI_API_KEY", "from-aws-too");
  std::vector<std::unique_ptr<SecretStore>> stores;
  stores.push_back(std::make_unique<EnvSecretStore>(
      std::map<std::string, std::string>{{"OUTPOST_SECRET_ANTHROPIC_API_KEY", "from-env"}}));
  stores.push_back(Store());
  ChainSecretStore chain(std::move(stores));
  EXPECT_EQ(*chain.Get("ANTHROPIC_API_KEY"), "from-env");
  EXPECT_EQ(*chain.Get("OPENAI_API_KEY"), "from-aws-too");
  EXPECT_EQ(fake_.calls("outpost/prod/ANTHROPIC_API_KEY"), 0);
}

TEST(OpenAwsSecretStore, NamesWhatIsMissing) {
  SimulatedClock clock;
  aws::EnvMap no_region = {{"AWS_ACCESS_KEY_ID", "AK"},
                           {"AWS_SECRET_ACCESS_KEY", "SK"},
                           {"HOME", "/nonexistent"},
                           {"AWS_CONFIG_FILE", "/nonexistent/config"}};
  EXPECT_THAT(OpenAwsSecretStore({}, no_region, clock),
              StatusIs(Code::kFailedPrecondition, HasSubstr("[secrets] region")));
  aws::EnvMap no_credentials = {{"AWS_REGION", "us-east-1"},
                                {"HOME", "/nonexistent"},
                                {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"},
                                {"AWS_CONFIG_FILE", "/nonexistent/config"}};
  EXPECT_THAT(OpenAwsSecretStore({}, no_credentials, clock),
              StatusIs(Code::kFailedPrecondition, HasSubstr("secrets: ")));
  AwsSecretStoreConfig config;
  config.region = "eu-west-1";
  config.prefix = "p/";
  auto store = OpenAwsSecretStore(config, no_region, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->client().options().region, "eu-west-1");
}

}  // namespace
}  // namespace outpost
