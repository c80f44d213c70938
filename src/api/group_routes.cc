#include "api/group_routes.h"

#include <algorithm>
#include <boost/json.hpp>

#include "api/request_context.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "http/envelope.h"
#include "wire/run_json.h"

namespace outpost::api {
namespace json = boost::json;
using http::Access;
using http::Error;
using http::Meta;
using http::PathParams;
using http::Request;
using http::Router;
using http::Success;
namespace {

// The largest fan-out is one run per configured agent: far below one page of 100.
constexpr int kMaxGroupRuns = 100;

json::object Row(const Run& r) {
  std::int64_t ins = 0, del = 0;
  std::size_t files = 0;
  if (r.changes) {
    files = r.changes->files_changed.size();
    for (const FileChangeStat& f : r.changes->diff_stat) {
      ins += f.insertions.value_or(0);
      del += f.deletions.value_or(0);
    }
  }
  json::object row{{"runId", r.id.str()},
                   {"agent", r.agent},
                   {"modelId", r.model_id},
                   {"repo", r.repo ? json::value(*r.repo) : json::value(nullptr)},
                   {"status", ToString(r.status)},
                   {"reason", r.reason ? json::value(*r.reason) : json::value(nullptr)},
                   {"changes", r.changes ? json::value(r.changes->kind) : json::value(nullptr)},
                   {"filesChanged", files},
                   {"insertions", ins},
                   {"deletions", del},
                   {"promotion", wire::PromotionToJson(r.promotion)},
                   {"verify", r.verify ? json::value(*r.verify) : json::value(nullptr)},
                   {"verification", wire::VerificationToJson(r.verification)}};
  row["durationMs"] = r.started_at && r.ended_at
                          ? json::value(ToMillis(*r.ended_at) - ToMillis(*r.started_at))
                          : json::value(nullptr);
  row["usage"] = r.usage ? json::value(json::object{{"inputTokens", r.usage->input_tokens},
                                                    {"outputTokens", r.usage->output_tokens},
                                                    {"costUsd", r.usage->cost_usd}})
                         : json::value(nullptr);
  return row;
}

}  // namespace

void RegisterGroupRoutes(Router& router, RunService& service, Clock& clock) {
  router.Add(
      "GET", "/groups/{id}", Access::Scope(http::scope::kList),
      [&service, &clock](const Request& req, const PathParams& params) {
        const Meta meta{req.request_id, clock.Now()};
        ListQuery query;
        query.limit = kMaxGroupRuns;
        const std::string& raw = params.at("id");
        if (!IsUlid(raw)) return Error(NotFound("Group not found: " + raw), meta);
        const std::string group = CanonicalUlid(raw);
        query.group_id = group;
        Result<RunPage> page = service.List(std::move(query), ContextOf(req));
        if (!page.ok()) return Error(page.status(), meta);
        if (page->runs.empty()) {
          return Error(NotFound("Group not found: " + raw), meta);
        }
        std::vector<Run> runs = std::move(page->runs);
        std::sort(runs.begin(), runs.end(),
                  [](const Run& a, const Run& b) { return a.id.str() < b.id.str(); });
        json::array rows;
        for (const Run& r : runs) rows.push_back(Row(r));
        return Success(
            200,
            json::object{{"groupId", group}, {"count", rows.size()}, {"runs", std::move(rows)}},
            meta);
      });
}

}  // namespace outpost::api
