#include "wire/list_query.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace outpost::wire {
namespace {

namespace json = boost::json;

std::vector<std::string> Paths(const Status& st) {
  std::vector<std::string> out;
  for (const auto& e : st.details().at("errors").as_array()) {
    out.emplace_back(e.as_object().at("path").as_string());
  }
  return out;
}

TEST(ListQueryFromParams, AcceptsEveryFilter) {
  auto q = ListQueryFromParams({{"limit", "10"},
                                {"status", "running"},
                                {"agent", "shell"},
                                {"since", "2026-01-13T00:00:00Z"},
                                {"group", "01arz3ndektsv4rrffq69g5fav"},
                                {"tag", "team:a"},
                                {"tag", "x:y:z"}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->limit, 10);
  EXPECT_EQ(q->status, RunStatus::kRunning);
  EXPECT_EQ(q->agent, "shell");
  EXPECT_EQ(q->group_id, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  ASSERT_EQ(q->tags.size(), 2u);
  EXPECT_EQ(q->tags[1].second, "y:z");
  EXPECT_FALSE(q->tenant.has_value());  // core's to set
}

TEST(ListQueryFromParams, RejectsEachBadParameter) {
  auto q = ListQueryFromParams({{"limit", "0"},
                                {"status", "DONE"},
                                {"since", "now"},
                                {"tag", "novalue"},
                                {"colour", "red"}});
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(Paths(q.status()),
            (std::vector<std::string>{"colour", "limit", "since", "status", "tag"}));
  EXPECT_EQ(q.status().details().at("errors").as_array()[1].at("message"),
            "limit must be an integer from 1 to 100");
  EXPECT_FALSE(ListQueryFromParams({{"limit", "101"}}).ok());
  EXPECT_FALSE(ListQueryFromParams({{"limit", "5x"}}).ok());
  EXPECT_FALSE(ListQueryFromParams({{"tag", ":v"}}).ok());
}

TEST(ListQueryFromArgs, TheToolsArgumentsGiveTheSameQuery) {
  auto args = json::parse(R"({"limit":10,"status":"RUNNING","agent":"shell",
      "since":"2026-01-13T00:00:00Z","tags":{"team":"a","x":"y:z"}})");
  auto q = ListQueryFromArgs(args.as_object());
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  auto rest = ListQueryFromParams({{"limit", "10"},
                                   {"status", "RUNNING"},
                                   {"agent", "shell"},
                                   {"since", "2026-01-13T00:00:00Z"},
                                   {"tag", "team:a"},
                                   {"tag", "x:y:z"}});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(q->limit, rest->limit);
  EXPECT_EQ(q->status, rest->status);
  EXPECT_EQ(q->agent, rest->agent);
  EXPECT_EQ(q->since, rest->since);
  EXPECT_EQ(q->tags, rest->tags);
}

TEST(ListQueryFromArgs, RefusesWhatTheSchemaCannotJudgeWithTheRestMessages) {
  auto q = ListQueryFromArgs(json::parse(R"({"since":"yesterday","tags":{"":"v"}})").as_object());
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(Paths(q.status()), (std::vector<std::string>{"since", "tag"}));
  EXPECT_EQ(q.status().details().at("errors").as_array()[0].at("message"),
            "since must be an ISO 8601 time, e.g. 2026-01-13T00:00:00Z");
}

}  // namespace
}  // namespace outpost::wire
