// AuditLogConformance: the AuditLog contract (store/audit_log.h) as one value-parameterized
// suite for every backend, instantiated with a factory returning a fresh, empty log:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, AuditLogConformance,
//                            ::testing::Values(AuditLogFactory(&NewTempSqliteAuditLog)));
//
// Defines tests: include it from exactly one .cc per test binary.
#pragma once

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "store/audit_log.h"

namespace outpost {

using AuditLogFactory = std::function<std::unique_ptr<AuditLog>()>;
inline void PrintTo(const AuditLogFactory&, std::ostream* os) { *os << "AuditLogFactory"; }

class AuditLogConformance : public ::testing::TestWithParam<AuditLogFactory> {
 protected:
  void SetUp() override {
    log_ = GetParam()();
    ASSERT_NE(log_, nullptr);
  }

  // A record one second after the previous one (ids and times increase).
  AuditRecord Next(std::string tenant = "acme", std::string action = "run.dispatch",
                   std::string resource = "run:r1") {
    clock_.Advance(std::chrono::seconds(1));
    AuditRecord r;
    r.id = NewUlid(clock_.Now());
    r.at = clock_.Now();
    r.tenant = std::move(tenant);
    r.action = std::move(action);
    r.resource = std::move(resource);
    return r;
  }

  AuditRecord MustAppend(AuditRecord r) {
    Status st = log_->Append(r);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return r;
  }

  std::vector<std::string> Ids(AuditQuery q) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 50; ++pages) {
      auto page = log_->List(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const auto& r : page->records) ids.push_back(r.id);
      if (!page->next_cursor) break;
      q.cursor = page->next_cursor;
    }
    return ids;
  }

  static AuditQuery Of(std::optional<std::string> tenant) {
    AuditQuery q;
    q.tenant = std::move(tenant);
    return q;
  }

  SimulatedClock clock_;
  std::unique_ptr<AuditLog> log_;
};

TEST_P(AuditLogConformance, AppendThenListRoundTripsEveryField) {
  AuditRecord r = Next();
  r.key_id = "key-1";
  r.request_id = "req-1";
  r.client_address = "127.0.0.1:5555";
  r.outcome = "denied";
  r.error_code = "RATE_LIMIT_EXCEEDED";
  r.details = {{"quota", "concurrent_runs"}, {"limit", 3}};
  MustAppend(r);
  auto page = log_->List(Of("acme"));
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records.front(), r);
  EXPECT_FALSE(page->next_cursor.has_value());
}

TEST_P(AuditLogConformance, AnExistingIdIsConflict) {
  AuditRecord r = MustAppend(Next());
  r.action = "run.cancel";
  EXPECT_EQ(log_->Append(r).code(), Code::kConflict);
  auto page = log_->List(Of("acme"));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 1u);
  EXPECT_EQ(page->records.front().action, "run.dispatch");
}

TEST_P(AuditLogConformance, ListIsNewestFirstAndPagesWithTheCursor) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(MustAppend(Next()).id);
  AuditQuery q = Of("acme");
  q.limit = 3;
  auto first = log_->List(q);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->records.size(), 3u);
  EXPECT_EQ(first->records[0].id, ids[6]);
  ASSERT_TRUE(first->next_cursor.has_value());
  std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(Ids(q), newest_first);
  q.oldest_first = true;
  EXPECT_EQ(Ids(q), ids);
}

TEST_P(AuditLogConformance, ATenantSeesOnlyItsOwnRecordsAndTheExportSeesAll) {
  const std::string a1 = MustAppend(Next("a")).id;
  const std::string b1 = MustAppend(Next("b")).id;
  const std::string a2 = MustAppend(Next("a")).id;
  EXPECT_EQ(Ids(Of("a")), (std::vector<std::string>{a2, a1}));
  EXPECT_EQ(Ids(Of("b")), (std::vector<std::string>{b1}));
  EXPECT_TRUE(Ids(Of("c")).empty());
  AuditQuery all = Of(std::nullopt);
  all.oldest_first = true;
  all.limit = 2;
  EXPECT_EQ(Ids(all), (std::vector<std::string>{a1, b1, a2}));
}

TEST_P(AuditLogConformance, FiltersCombine) {
  const std::string d1 = MustAppend(Next("acme", "run.dispatch", "run:x")).id;
  MustAppend(Next("acme", "run.cancel", "run:x"));
  const WallTime since = clock_.Now() + Millis(500);
  const std::string d2 = MustAppend(Next("acme", "run.dispatch", "run:y")).id;
  const std::string c2 = MustAppend(Next("acme", "run.cancel", "run:x")).id;
  AuditQuery q = Of("acme");
  q.action = "run.dispatch";
  EXPECT_EQ(Ids(q), (std::vector<std::string>{d2, d1}));
  q.since = since;
  EXPECT_EQ(Ids(q), (std::vector<std::string>{d2}));
  q.action.reset();
  q.resource = "run:x";
  EXPECT_EQ(Ids(q), (std::vector<std::string>{c2}));
  q.limit = 1;  // paging through a filtered listing
  q.resource.reset();
  EXPECT_EQ(Ids(q), (std::vector<std::string>{c2, d2}));
}

TEST_P(AuditLogConformance, BadCursorOrLimitIsInvalidArgumentNamingIt) {
  AuditQuery q = Of("acme");
  q.cursor = "not-a-cursor";
  auto bad = log_->List(q);
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(boost::json::serialize(bad.status().details()).find("\"path\":\"cursor\""),
            std::string::npos);
  q.cursor.reset();
  q.limit = 0;
  EXPECT_EQ(log_->List(q).status().code(), Code::kInvalidArgument);
}

}  // namespace outpost
