// Quotas and rate limits through real `outpost serve` processes: a burst of dispatches against
// a concurrent-run limit on two replicas sharing one SQLite store (and on two replicas sharing
// one dynalite), the timeoutSeconds maximum, requests per minute with their headers, and a bad
// [quotas] key refusing the start.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <csignal>
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

// --- Spend limits (issue 18 item 11).

// The shell agent with aider's token lines parsed, at $10 per million tokens either way: each
// "Tokens: 10,000 sent, 1,000 received." it prints costs $0.11.
std::string SpendConfig(const std::string& root, const std::string& extra = "") {
  const std::string cfg = root + "/spend.toml";
  std::ofstream(cfg) << "[agents.shell]\nparser = \"aider-text\"\ncost_input_per_mtok = 10\n"
                        "cost_output_per_mtok = 10\n[limits]\nmax_cost_usd = 100\n"
                     << extra;
  return cfg;
}

TEST_F(QuotasTest, ARunWhoseCostCrossesMaxCostUsdIsStoppedAndEndsFailedBudgetExceeded) {
  ServerProcess& s = Start("a", {{"OUTPOST_CONFIG", SpendConfig(root_)}});
  // Above the operator's maximum: 400 naming the field and the ceiling, nothing stored.
  HttpResponse over = s.Post("/dispatch", R"({"agent":"shell","task":"true","maxCostUsd":100.5})");
  ASSERT_EQ(over.status, 400) << over.body;
  const json::value over_body = over.Json();
  const json::array& errors = over_body.at("error").at("details").at("errors").as_array();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("path"), "maxCostUsd");
  EXPECT_NE(std::string(errors[0].at("message").as_string()).find("at most $100"),
            std::string::npos);
  EXPECT_TRUE(s.Get("/runs").Json().at("data").at("items").as_array().empty());

  // A child in the background (killed with the tree), then $0.11 of tokens every 0.2 s for
  // 200 s: the fifth line ($0.55) crosses the $0.5 ceiling.
  const std::string pid_file = root_ + "/child.pid";
  const std::string task = "sleep 300 & echo $! > " + pid_file +
                           "; i=0; while [ $i -lt 1000 ]; do "
                           "echo 'Tokens: 10,000 sent, 1,000 received.'; i=$((i+1)); sleep 0.2; "
                           "done";
  const std::string id = s.Dispatch(json::serialize(json::object{
      {"agent", "shell"}, {"task", task}, {"maxCostUsd", 0.5}, {"timeoutSeconds", 300}}));
  ASSERT_FALSE(id.empty());
  const json::object run = s.WaitTerminal(id, std::chrono::seconds(60));
  // FAILED, like the other limits the system enforces (oom, disk_quota); CANCELLED is a caller's.
  EXPECT_EQ(Str(run, "status"), "FAILED") << json::serialize(run);
  EXPECT_EQ(Str(run, "reason"), "budget_exceeded") << json::serialize(run);
  EXPECT_NE(Str(run, "errorMessage").find("over its maxCostUsd of $0.5"), std::string::npos)
      << json::serialize(run);
  EXPECT_EQ(run.at("maxCostUsd").to_number<double>(), 0.5);
  const double cost = run.at("usage").at("costUsd").to_number<double>();
  EXPECT_GT(cost, 0.5);
  EXPECT_LT(cost, 20.0);  // stopped long before its 1000 lines ($110)
  EXPECT_EQ(run.at("usage").at("costSource"), "rates");
  // The process tree went with it, as for a cancel.
  std::ifstream in(pid_file);
  pid_t child = 0;
  ASSERT_TRUE(in >> child) << "the task wrote no child pid";
  errno = 0;
  EXPECT_EQ(::kill(child, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(QuotasTest, ATenantOverItsDailyBudgetGets429OnEveryReplicaUntilTheNextUtcDay) {
  const std::map<std::string, std::string> env = {
      {"OUTPOST_CONFIG", SpendConfig(root_)},
      {"OUTPOST_QUOTA_MAX_COST_USD_PER_DAY", "0.5"},
      {"OUTPOST_STORE", "sqlite://" + root_ + "/shared.db"}};
  ServerProcess& a = Start("a", env);
  ServerProcess& b = Start("b", env);
  // Under the budget: admitted. It spends $0.66 (six lines) and completes.
  const std::string id = a.Dispatch(json::serialize(json::object{
      {"agent", "shell"},
      {"task", "for i in 1 2 3 4 5 6; do echo 'Tokens: 10,000 sent, 1,000 received.'; done"}}));
  ASSERT_FALSE(id.empty());
  const json::object run = a.WaitTerminal(id);
  ASSERT_EQ(Str(run, "status"), "COMPLETED") << json::serialize(run);
  EXPECT_DOUBLE_EQ(run.at("usage").at("costUsd").to_number<double>(), 0.66);
  // Now over it, on either replica (the spend is the store's, not one process's).
  for (const ServerProcess* s : {&a, &b}) {
    HttpResponse r = s->Post("/dispatch", R"({"agent":"shell","task":"true"})");
    ASSERT_EQ(r.status, 429) << r.body;
    const json::value body = r.Json();
    EXPECT_EQ(body.at("error").at("code"), "RATE_LIMIT_EXCEEDED");
    const json::object& d = body.at("error").at("details").as_object();
    EXPECT_EQ(d.at("quota").as_string(), "cost_usd_per_day");
    EXPECT_DOUBLE_EQ(d.at("limit").to_number<double>(), 0.5);
    EXPECT_DOUBLE_EQ(d.at("current").to_number<double>(), 0.66);
    const long retry = std::stol(r.headers.at("retry-after"));
    EXPECT_EQ(retry, d.at("retryAfterSeconds").as_int64());
    const long now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const long rem = (now + retry) % 86400;  // the next UTC midnight, give or take rounding
    EXPECT_TRUE(rem <= 2 || rem >= 86398) << retry;
  }
  EXPECT_EQ(a.Get("/runs").Json().at("data").at("items").as_array().size(), 1u);
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
