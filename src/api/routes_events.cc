#include "api/routes_events.h"

#include <boost/json/array.hpp>

#include "api/request_context.h"
#include "api/sse_stream.h"
#include "common/ids.h"
#include "core/event_follower.h"
#include "core/run_service.h"
#include "http/envelope.h"
#include "http/event_resume.h"

namespace outpost::api {
using http::Error;
using http::Meta;
using http::ParseCount;
using http::PathParams;
using http::Request;
using http::Response;
using http::ResumeAfter;
using http::Success;

namespace json = boost::json;
namespace {

// The original's level rules for a log message (outpost-original-spec §1.4.3).
std::string_view LevelOf(const LogEntry& e) {
  std::string lower = e.message;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto has = [&](std::string_view s) { return lower.find(s) != std::string::npos; };
  if (has("[error]") || has("error:") || has("exception")) return "error";
  if (has("[warn]") || has("warning:")) return "warn";
  if (has("[debug]") || has("debug:")) return "debug";
  return "info";
}

}  // namespace

Response RunLogsRoute(RunService& service, const Clock& clock, const Request& req,
                      const PathParams& params) {
  const Meta meta{req.request_id, clock.Now()};
  std::vector<FieldError> errors;
  std::int64_t offset = 0, limit = 100;
  if (auto v = req.Query("offset")) {
    auto n = ParseCount(*v);
    if (!n) errors.push_back({"offset", "must be a non-negative integer"});
    offset = n.value_or(0);
  }
  if (auto v = req.Query("limit")) {
    auto n = ParseCount(*v);
    if (!n || *n < 1 || *n > 1000) errors.push_back({"limit", "must be an integer from 1 to 1000"});
    limit = n.value_or(100);
  }
  if (!errors.empty()) return Error(Status::Invalid(errors), meta);
  Result<LogPage> page =
      service.Logs(params.at("id"), offset, static_cast<int>(limit), ContextOf(req));
  if (!page.ok()) return Error(page.status(), meta);
  json::array entries;
  for (const LogEntry& e : page->entries) {
    entries.push_back(json::object{{"offset", e.offset},
                                   {"timestamp", e.timestamp},
                                   {"stream", e.stream},
                                   {"message", e.message}});
  }
  return Success(200,
                 json::object{{"runId", CanonicalUlid(params.at("id"))},
                              {"entries", std::move(entries)},
                              {"nextOffset", page->next_offset},
                              {"hasMore", page->has_more}},
                 meta);
}

Response RunEventsRoute(RunService& service, const Clock& clock, const Request& req,
                        const PathParams& params) {
  const Meta meta{req.request_id, clock.Now()};
  Result<std::int64_t> after = ResumeAfter(req);
  if (!after.ok()) return Error(after.status(), meta);
  Result<std::unique_ptr<EventFollower>> follower =
      service.Follow(params.at("id"), *after, ContextOf(req));
  if (!follower.ok()) return Error(follower.status(), meta);
  Response r;
  r.content_type = "text/event-stream; charset=utf-8";
  r.headers.Set("Cache-Control", "no-cache");
  r.headers.Set("X-Accel-Buffering", "no");  // proxies: do not buffer the stream
  r.stream = std::make_shared<SseStream>(std::move(*follower), clock,
                                         Millis(service.options().events_heartbeat_ms));
  return r;
}

void AddDispatchLogs(RunService& service, const Request& req, const std::string& run_id,
                     json::object& data) {
  if (req.Query("skipLogs") == "true") return;
  const std::int64_t offset = ParseCount(req.Query("logOffset").value_or("0")).value_or(0);
  const std::int64_t limit = ParseCount(req.Query("logLimit").value_or("100")).value_or(100);
  Result<LogPage> page = service.Logs(run_id, offset, static_cast<int>(limit), ContextOf(req));
  if (!page.ok()) return;  // the run itself was found: serve it without logs
  json::array logs;
  for (const LogEntry& e : page->entries) {
    logs.push_back(json::object{{"offset", e.offset},
                                {"timestamp", e.timestamp},
                                {"message", e.message},
                                {"level", LevelOf(e)},
                                {"stream", e.stream}});
  }
  data["logs"] = std::move(logs);
  data["logOffset"] = std::to_string(page->next_offset);
}

}  // namespace outpost::api
