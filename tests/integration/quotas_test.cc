// Quotas and rate limits through real `outpost serve` processes: a burst of dispatches against
// a concurrent-run limit on two replicas sharing one SQLite store (and on two replicas sharing
// one dynalite), the timeoutSeconds maximum, requests per minute with their headers, and a bad
// [quotas] key refusing the start.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <latch>
#include <thread>

#include "aws/dynalite_fixture.h"
#include "tests/integration/server_fixture.h"

namespace outpost::testing {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

std::string Sleeper(int timeout = 120) {
  return json::serialize(
      json::object{{"agent", "shell"}, {"task", "sleep 60"}, {"timeoutSeconds", timeout}});
}

HttpResponse PostJson(const ServerProcess& s, const std::string& path, const std::string& body) {
  return s.Post(path, body);
}

// Dispatches `n` at once, alternating between `servers`; the responses in order.
std::vector<HttpResponse> Burst(const std::vector<const ServerProcess*>& servers, int n) {
  std::vector<HttpResponse> out(static_cast<std::size_t>(n));
  std::latch start(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      out[static_cast<std::size_t>(i)] =
          PostJson(*servers[static_cast<std::size_t>(i) % servers.size()], "/dispatch", Sleeper());
    });
  }
  for (auto& t : threads) t.join();
  return out;
}

// The 429 of a quota, as the contract has it.
void ExpectQuota429(const HttpResponse& r, std::string_view quota, int limit) {
  ASSERT_EQ(r.status, 429) << r.body;
  ASSERT_TRUE(r.headers.count("retry-after")) << r.body;
  const json::value body = r.Json();
  EXPECT_EQ(body.at("success"), false);
  EXPECT_EQ(body.at("error").at("code"), "RATE_LIMIT_EXCEEDED");
  const json::object& d = body.at("error").at("details").as_object();
  EXPECT_EQ(d.at("quota").as_string(), quota);
  EXPECT_EQ(d.at("limit").as_int64(), limit);
  EXPECT_GE(d.at("current").as_int64(), quota == "requests_per_minute" ? 0 : limit);
  EXPECT_EQ(r.headers.at("retry-after"), std::to_string(d.at("retryAfterSeconds").as_int64()));
  EXPECT_FALSE(body.at("meta").at("requestId").as_string().empty());
}

int CountStatus(const std::vector<HttpResponse>& rs, int status) {
  return static_cast<int>(std::count_if(rs.begin(), rs.end(),
                                        [&](const HttpResponse& r) { return r.status == status; }));
}

class QuotasTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = MakeTempDir(); }
  void TearDown() override {
    for (auto& s : servers_) s.reset();
    for (const auto& d : dirs_) KillRunsUnder(d);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  ServerProcess& Start(const std::string& name, std::map<std::string, std::string> env,
                       std::vector<std::string> args = {}) {
    const std::string dir = root_ + "/" + name;
    fs::create_directories(dir);
    dirs_.push_back(dir);
    env.emplace("OUTPOST_REPLICA_ID", name);
    env.emplace("OUTPOST_CANCEL_GRACE_SECONDS", "1");
    args.insert(args.end(), {"--runner", "process"});
    servers_.push_back(ServerProcess::Start(dir, env, args));
    return *servers_.back();
  }

  std::string root_;
  std::vector<std::string> dirs_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

TEST_F(QuotasTest, ABurstOnTwoReplicasSharingAStoreCreatesExactlyTheConcurrentLimit) {
  const std::map<std::string, std::string> env = {
      {"OUTPOST_QUOTA_MAX_CONCURRENT_RUNS", "3"},
      {"OUTPOST_STORE", "sqlite://" + root_ + "/shared.db"}};
  ServerProcess& a = Start("a", env);
  ServerProcess& b = Start("b", env);
  std::vector<HttpResponse> rs = Burst({&a, &b}, 10);
  EXPECT_EQ(CountStatus(rs, 201), 3);
  EXPECT_EQ(CountStatus(rs, 429), 7);
  std::vector<std::string> ids;
  std::vector<ServerProcess*> accepted_by;  // Burst sends request i to server i % 2
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const HttpResponse& r = rs[i];
    if (r.status == 201) {
      ids.push_back(Str(r.Json().at("data").as_object(), "runId"));
      accepted_by.push_back(i % 2 == 0 ? &a : &b);
    } else {
      ExpectQuota429(r, "concurrent_runs", 3);
      EXPECT_EQ(r.headers.at("retry-after"), "10");
    }
  }
  HttpResponse list = a.Get("/runs?limit=100");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.Json().at("data").at("items").as_array().size(), 3u);

  // Ending a run (here: cancelling it) frees its room. The cancel goes to the replica that
  // does not supervise the run: the store carries it to the one that does.
  ServerProcess& other = accepted_by[0] == &a ? b : a;
  ASSERT_EQ(other.Post("/runs/" + ids[0] + "/cancel", "{}").status / 100, 2);
  ASSERT_TRUE(WaitFor([&] { return Str(a.Run(ids[0]), "status") == "CANCELLED"; },
                      std::chrono::seconds(30)));
  HttpResponse again = b.Post("/dispatch", Sleeper());
  EXPECT_EQ(again.status, 201) << again.body;
  ExpectQuota429(a.Post("/dispatch", Sleeper()), "concurrent_runs", 3);
  for (const std::string& id : ids) {
    a.Post("/runs/" + id + "/cancel", "{}");
    b.Post("/runs/" + id + "/cancel", "{}");
  }
}

TEST_F(QuotasTest, ATimeoutAboveTheMaximumIsRefusedNamingTheLimitAndNothingIsStored) {
  ServerProcess& s = Start("a", {{"OUTPOST_QUOTA_MAX_TIMEOUT_SECONDS", "120"}});
  HttpResponse r = s.Post("/dispatch", Sleeper(121));
  ASSERT_EQ(r.status, 400) << r.body;
  const json::value body = r.Json();
  EXPECT_EQ(body.at("error").at("code"), "VALIDATION_ERROR");
  const json::array& errors = body.at("error").at("details").at("errors").as_array();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("path"), "timeoutSeconds");
  EXPECT_NE(std::string(errors[0].at("message").as_string()).find("at most 120"),
            std::string::npos);
  EXPECT_EQ(body.at("error").at("details").at("limit").as_int64(), 120);
  EXPECT_TRUE(s.Get("/runs").Json().at("data").at("items").as_array().empty());
  // Without timeoutSeconds the default (600) is lowered to the maximum.
  HttpResponse ok = s.Post("/dispatch", R"({"agent":"shell","task":"true"})");
  ASSERT_EQ(ok.status, 201) << ok.body;
  const std::string id = Str(ok.Json().at("data").as_object(), "runId");
  EXPECT_EQ(s.Run(id).at("timeoutSeconds").as_int64(), 120);
}

TEST_F(QuotasTest, RequestsPerMinuteAreLimitedWithHeadersExceptHealthProbes) {
  ServerProcess& s = Start("a", {{"OUTPOST_QUOTA_REQUESTS_PER_MINUTE", "3"}});
  for (int i = 0; i < 5; ++i) {  // probes are never limited nor counted
    HttpResponse h = s.Get("/health");
    EXPECT_EQ(h.status, 200);
    EXPECT_FALSE(h.headers.count("x-ratelimit-limit"));
  }
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = s.Get("/runs");
    ASSERT_EQ(r.status, 200) << i << " " << r.body;
    EXPECT_EQ(r.headers.at("x-ratelimit-limit"), "3");
    EXPECT_EQ(r.headers.at("x-ratelimit-remaining"), std::to_string(2 - i));
    EXPECT_TRUE(r.headers.count("x-ratelimit-reset"));
  }
  // A 4th within 20 s (one request back every 20 s at 3 per minute) is refused.
  HttpResponse refused = s.Post("/dispatch", Sleeper());
  ExpectQuota429(refused, "requests_per_minute", 3);
  const int retry = std::stoi(refused.headers.at("retry-after"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 20);
  EXPECT_EQ(refused.headers.at("x-ratelimit-remaining"), "0");
  const long reset = std::stol(refused.headers.at("x-ratelimit-reset"));
  const long now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_GT(reset, now);
  EXPECT_LE(reset, now + 61);
  EXPECT_TRUE(s.Get("/runs").Json().at("success") == false);
  EXPECT_EQ(s.Get("/health/live").status, 200);
}

TEST_F(QuotasTest, ABadQuotaKeyInTheConfigStopsTheStartNamingIt) {
  const std::string cfg = root_ + "/outpost.toml";
  std::ofstream(cfg) << "[quotas.tenants.acme]\nmax_concurent_runs = 3\n";
  EXPECT_THROW(Start("a", {{"OUTPOST_CONFIG", cfg}}), std::runtime_error);
  std::ofstream(cfg) << "[quotas.tenants.default]\nmax_concurrent_runs = 1\n";
  ServerProcess& s = Start("b", {{"OUTPOST_CONFIG", cfg}});
  ASSERT_EQ(s.Post("/dispatch", Sleeper()).status, 201);
  ExpectQuota429(s.Post("/dispatch", Sleeper()), "concurrent_runs", 1);
}

TEST_F(QuotasTest, OnDynamoDbTwoReplicasBurstingCreateExactlyTheLimit) {
  static aws::testing::Dynalite dynalite;
  ASSERT_TRUE(dynalite.ok()) << dynalite.error();
  const std::map<std::string, std::string> env = {
      {"AWS_ACCESS_KEY_ID", aws::testing::Dynalite::kAccessKey},
      {"AWS_SECRET_ACCESS_KEY", aws::testing::Dynalite::kSecretKey},
      {"OUTPOST_QUOTA_MAX_CONCURRENT_RUNS", "2"},
      {"OUTPOST_QUOTA_MAX_RUNS_PER_DAY", "3"}};
  const std::vector<std::string> args = {"--store",
                                         "dynamodb://quota" + std::to_string(::getpid()) +
                                             "?region=us-east-1&endpoint=" + dynalite.endpoint(),
                                         "--create-tables"};
  ServerProcess& a = Start("a", env, args);
  ServerProcess& b = Start("b", env, args);
  std::vector<HttpResponse> rs = Burst({&a, &b}, 8);
  EXPECT_EQ(CountStatus(rs, 201), 2);
  EXPECT_EQ(CountStatus(rs, 429), 6);
  std::vector<std::string> ids;
  for (const HttpResponse& r : rs) {
    if (r.status == 201) ids.push_back(Str(r.Json().at("data").as_object(), "runId"));
    if (r.status == 429) ExpectQuota429(r, "concurrent_runs", 2);
  }
  ASSERT_EQ(ids.size(), 2u);
  auto cancel = [&](const std::string& id) {
    ASSERT_EQ(a.Post("/runs/" + id + "/cancel", "{}").status / 100, 2);
    ASSERT_EQ(b.Post("/runs/" + id + "/cancel", "{}").status / 100, 2);  // its replica's shim
    ASSERT_TRUE(
        WaitFor([&] { return Str(b.Run(id), "status") == "CANCELLED"; }, std::chrono::seconds(30)));
  };
  cancel(ids[0]);  // its slot is freed right after the terminal write
  HttpResponse third;
  ASSERT_TRUE(WaitFor(
      [&] {
        third = b.Post("/dispatch", Sleeper());
        return third.status == 201;
      },
      std::chrono::seconds(10)))
      << third.body;
  cancel(ids[1]);
  // Room for a concurrent run again (once the slot is freed), but that was the day's third.
  HttpResponse day;
  ASSERT_TRUE(WaitFor(
      [&] {
        day = a.Post("/dispatch", Sleeper());
        return day.status != 429 || day.body.find("runs_per_day") != std::string::npos;
      },
      std::chrono::seconds(10)))
      << day.body;
  ExpectQuota429(day, "runs_per_day", 3);
  cancel(Str(third.Json().at("data").as_object(), "runId"));
}

}  // namespace
}  // namespace outpost::testing
