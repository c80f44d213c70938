// [quotas] and [audit] of outpost.toml and their environment variables (config/quota_options.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "config/options.h"

namespace outpost {
namespace {

Status ApplyText(const std::string& toml, Options& o) {
  char path[] = "/tmp/outpost-quota-config-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << toml;
  Status st = ApplyConfigFile(path, o);
  std::remove(path);
  return st;
}

TEST(QuotaConfig, NothingConfiguredIsUnlimited) {
  Options o = DefaultOptions();
  EXPECT_FALSE(o.quotas.defaults.max_concurrent_runs.has_value());
  EXPECT_TRUE(o.quotas.tenants.empty());
  EXPECT_EQ(o.audit.retention_days, 365);
}

TEST(QuotaConfig, EveryLevelIsRead) {
  Options o = DefaultOptions();
  ASSERT_TRUE(ApplyText(R"(
[quotas]
max_concurrent_runs = 10
max_runs_per_day = 500
max_timeout_seconds = 3600
requests_per_minute = 600
[quotas.tenants.acme]
max_concurrent_runs = 50
[quotas.keys."01J0ABCDEF"]
requests_per_minute = 0
[audit]
retention_days = 30
)",
                        o)
                  .ok());
  EXPECT_EQ(o.quotas.defaults.max_concurrent_runs, 10);
  EXPECT_EQ(o.quotas.defaults.max_runs_per_day, 500);
  EXPECT_EQ(o.quotas.defaults.max_timeout_seconds, 3600);
  EXPECT_EQ(o.quotas.defaults.requests_per_minute, 600);
  EXPECT_EQ(o.quotas.tenants.at("acme").max_concurrent_runs, 50);
  EXPECT_FALSE(o.quotas.tenants.at("acme").max_runs_per_day.has_value());
  EXPECT_EQ(o.quotas.keys.at("01J0ABCDEF").requests_per_minute, 0);  // set: unlimited
  EXPECT_EQ(o.audit.retention_days, 30);
}

TEST(QuotaConfig, BadKeysAndValuesAreRefusedNamingTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"[quotas]\nmax_concurrent_run = 3\n", "quotas.max_concurrent_run: unknown key"},
      {"[quotas]\nmax_concurrent_runs = -1\n", "quotas.max_concurrent_runs: must be an integer"},
      {"[quotas]\nmax_timeout_seconds = 86401\n", "quotas.max_timeout_seconds: must be"},
      {"[quotas]\nrequests_per_minute = \"60\"\n", "quotas.requests_per_minute: must be"},
      {"[quotas.tenants.acme]\nmax_runs_per_day = 1.5\n",
       "quotas.tenants.acme.max_runs_per_day: must be"},
      {"[quotas.tenants.acme]\nfoo = 1\n", "quotas.tenants.acme.foo: unknown key"},
      {"[quotas.keys.\"a b\"]\nrequests_per_minute = 1\n", "quotas.keys.a b: names are"},
      {"[quotas]\ntenants = 3\n", "quotas.tenants: must be a table"},
      {"[quotas.tenants]\nacme = 3\n", "quotas.tenants.acme: must be a table"},
      {"quotas = 3\n", "config: quotas: must be a table"},
      {"[audit]\nretention_days = -2\n", "audit.retention_days: must be"},
      {"[audit]\nkeep = 1\n", "audit.keep: unknown key"},
  };
  for (const auto& [toml, want] : cases) {
    Options o = DefaultOptions();
    Status st = ApplyText(toml, o);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << toml;
    EXPECT_NE(st.message().find(want), std::string::npos) << toml << " -> " << st.message();
    EXPECT_FALSE(o.quotas.defaults.max_concurrent_runs.has_value()) << toml;
  }
}

TEST(QuotaConfig, EnvironmentSetsTheDefaultsAndIsValidated) {
  Options o = DefaultOptions();
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_QUOTA_MAX_CONCURRENT_RUNS", "4"},
                                {"OUTPOST_QUOTA_MAX_RUNS_PER_DAY", "40"},
                                {"OUTPOST_QUOTA_MAX_TIMEOUT_SECONDS", "120"},
                                {"OUTPOST_QUOTA_REQUESTS_PER_MINUTE", "30"},
                                {"OUTPOST_AUDIT_RETENTION_DAYS", "7"}},
                               o)
                  .ok());
  EXPECT_EQ(o.quotas.defaults.max_concurrent_runs, 4);
  EXPECT_EQ(o.quotas.defaults.max_runs_per_day, 40);
  EXPECT_EQ(o.quotas.defaults.max_timeout_seconds, 120);
  EXPECT_EQ(o.quotas.defaults.requests_per_minute, 30);
  EXPECT_EQ(o.audit.retention_days, 7);
  for (const char* bad : {"x", "-1", "10001", "3 "}) {
    Options p = DefaultOptions();
    Status st = ApplyEnvironment({{"OUTPOST_QUOTA_MAX_CONCURRENT_RUNS", bad}}, p);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("OUTPOST_QUOTA_MAX_CONCURRENT_RUNS"), std::string::npos);
  }
}

// Issue 18 item 11: the per-run ceilings ([limits]) and the tenant's daily budget ([quotas]).
TEST(QuotaConfig, SpendLimitsAreReadAndValidatedNamingTheKey) {
  Options o = DefaultOptions();
  EXPECT_FALSE(o.max_cost_usd.has_value());
  EXPECT_FALSE(o.default_max_cost_usd.has_value());
  ASSERT_TRUE(ApplyText(R"(
[limits]
default_max_cost_usd = 2.5
max_cost_usd = 10
[quotas]
max_cost_usd_per_day = 50.0
[quotas.tenants.acme]
max_cost_usd_per_day = 0
)",
                        o)
                  .ok());
  EXPECT_EQ(o.default_max_cost_usd, 2.5);
  EXPECT_EQ(o.max_cost_usd, 10);
  EXPECT_EQ(o.quotas.defaults.max_cost_usd_per_day, 50.0);
  EXPECT_EQ(o.quotas.tenants.at("acme").max_cost_usd_per_day, 0);  // set: unlimited

  const std::pair<const char*, const char*> cases[] = {
      {"[limits]\nmax_cost_usd = 0\n", "limits.max_cost_usd: must be a number of USD above 0"},
      {"[limits]\ndefault_max_cost_usd = \"5\"\n", "limits.default_max_cost_usd: must be"},
      {"[limits]\nmax_cost_usd = 1000001\n", "limits.max_cost_usd: must be"},
      {"[limits]\ndefault_max_cost_usd = 6\nmax_cost_usd = 5\n",
       "limits.default_max_cost_usd: must not be above limits.max_cost_usd"},
      {"[quotas]\nmax_cost_usd_per_day = -1\n", "quotas.max_cost_usd_per_day: must be"},
      {"[quotas.keys.K1]\nmax_cost_usd_per_day = 5\n",
       "quotas.keys.K1.max_cost_usd_per_day: a daily budget is the tenant's"},
  };
  for (const auto& [toml, want] : cases) {
    Options p = DefaultOptions();
    Status st = ApplyText(toml, p);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << toml;
    EXPECT_NE(st.message().find(want), std::string::npos) << toml << " -> " << st.message();
  }

  Options e = DefaultOptions();
  ASSERT_TRUE(ApplyEnvironment({{"OUTPOST_DEFAULT_MAX_COST_USD", "1"},
                                {"OUTPOST_MAX_COST_USD", "20.5"},
                                {"OUTPOST_QUOTA_MAX_COST_USD_PER_DAY", "100"}},
                               e)
                  .ok());
  EXPECT_EQ(e.default_max_cost_usd, 1);
  EXPECT_EQ(e.max_cost_usd, 20.5);
  EXPECT_EQ(e.quotas.defaults.max_cost_usd_per_day, 100);
  for (const auto& [name, bad] : std::vector<std::pair<std::string, std::string>>{
           {"OUTPOST_MAX_COST_USD", "0"},
           {"OUTPOST_DEFAULT_MAX_COST_USD", "x"},
           {"OUTPOST_QUOTA_MAX_COST_USD_PER_DAY", "-3"}}) {
    Options p = DefaultOptions();
    Status st = ApplyEnvironment({{name, bad}}, p);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << name << "=" << bad;
    EXPECT_NE(st.message().find(name), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace outpost
