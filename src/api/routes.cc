#include "api/routes.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <memory>

#include "api/request_context.h"
#include "api/routes_events.h"
#include "common/json_util.h"
#include "common/time_util.h"
#include "core/run_service.h"
#include "http/envelope.h"
#include "http/media_type.h"
#include "wire/dispatch_request_json.h"
#include "wire/health_json.h"
#include "wire/list_query.h"
#include "wire/run_json.h"

namespace outpost::api {
using http::Access;
using http::Error;
using http::ErrorWithCode;
using http::IsJsonContentType;
using http::JsonResponse;
using http::kUnsupportedMediaType;
using http::Meta;
using http::Pagination;
using http::PathParams;
using http::Request;
using http::Response;
using http::Router;
using http::Success;
using http::SuccessPage;
namespace scope = http::scope;

namespace json = boost::json;
namespace {

// Deep and wide enough for any dispatch body; shallow and narrow enough that a hostile one
// (within the body size limit) cannot hurt.
constexpr int kMaxJsonDepth = 32;
constexpr std::size_t kMaxJsonValues = 10'000;

class Routes {
 public:
  Routes(RunService& service, Clock& clock) : service_(service), clock_(clock) {}

  // Every handler shares ownership of `self`, so it lives as long as the router's handlers.
  static void Register(Router& router, const std::shared_ptr<Routes>& self) {
    auto bind = [&self](Response (Routes::*method)(const Request&, const PathParams&)) {
      return [self, method](const Request& req, const PathParams& params) {
        return ((*self).*method)(req, params);
      };
    };
    // Who may call what (ARCHITECTURE §3; README "Authentication and tenants"): the access
    // rule is part of each route.
    const Access status = Access::Scope(scope::kStatus), cancel = Access::Scope(scope::kCancel);
    router.Add("GET", "/", Access::Public(), bind(&Routes::Banner));
    router.Add("POST", "/dispatch", Access::Scope(scope::kDispatch), bind(&Routes::Dispatch));
    router.Add("GET", "/dispatch/{id}", status, bind(&Routes::GetDispatch));
    router.Add("DELETE", "/dispatch/{id}", cancel, bind(&Routes::Cancel));
    router.Add("GET", "/runs", Access::Scope(scope::kList), bind(&Routes::List));
    router.Add("GET", "/runs/{id}", status, bind(&Routes::GetRun));
    router.Add("POST", "/runs/{id}/cancel", cancel, bind(&Routes::Cancel));
    router.Add("GET", "/runs/{id}/logs", status, [self](const Request& req, const PathParams& p) {
      return RunLogsRoute(self->service_, self->clock_, req, p);
    });
    router.Add("GET", "/runs/{id}/events", status, [self](const Request& req, const PathParams& p) {
      return RunEventsRoute(self->service_, self->clock_, req, p);
    });
    // Probes answer without credentials; a key on /health/fleet narrows its per-run counts to
    // the key's tenant (anonymous callers get capacity only).
    router.Add("GET", "/health", Access::Public(), bind(&Routes::Health));
    router.Add("GET", "/health/live", Access::Public(), bind(&Routes::Live));
    router.Add("GET", "/health/ready", Access::Public(), bind(&Routes::Ready));
    router.Add("GET", "/health/fleet", Access::Optional(), bind(&Routes::Fleet));
  }

 private:
  Meta MetaOf(const Request& req) const { return {req.request_id, clock_.Now()}; }

  // Parses a JSON object body. An Error response when it is not one; nullopt (and no error)
  // for an empty body when `optional`.
  struct Body {
    std::optional<json::object> object;
    std::optional<Response> error;
  };
  Body ParseObjectBody(const Request& req, bool optional) const;

  Response Banner(const Request& req, const PathParams&);
  Response Dispatch(const Request& req, const PathParams&);
  Response GetRun(const Request& req, const PathParams& params);
  Response GetDispatch(const Request& req, const PathParams& params);
  Response List(const Request& req, const PathParams&);
  Response Cancel(const Request& req, const PathParams& params);
  Response Health(const Request&, const PathParams&) {
    HealthReport h = service_.Health();
    return JsonResponse(h.failing ? 503 : 200, wire::HealthToJson(h));
  }
  Response Ready(const Request&, const PathParams&) {
    ReadyReport r = service_.Ready();
    return JsonResponse(r.ready ? 200 : 503, wire::ReadyToJson(r));
  }
  Response Fleet(const Request& req, const PathParams&) {
    FleetReport f = service_.Fleet(ContextOf(req));
    return JsonResponse(f.failing() ? 503 : 200, wire::FleetToJson(f));
  }
  Response Live(const Request&, const PathParams&) {
    return JsonResponse(200, json::object{{"status", "ok"}});
  }

  RunService& service_;
  Clock& clock_;
};

Routes::Body Routes::ParseObjectBody(const Request& req, bool optional) const {
  Body out;
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (!optional) {
      out.error = Error(Status::Invalid({{"", "a JSON object is required"}}), MetaOf(req));
    }
    return out;
  }
  std::string content_type = req.headers.Get("Content-Type").value_or("");
  if (!IsJsonContentType(content_type)) {
    out.error = ErrorWithCode(415, kUnsupportedMediaType, "Content-Type must be application/json",
                              MetaOf(req), {{"contentType", content_type}});
    return out;
  }
  Result<json::value> parsed = ParseJsonBounded(req.body, kMaxJsonDepth, kMaxJsonValues);
  if (!parsed.ok()) {
    out.error = Error(Status::Invalid({{"", parsed.status().message()}}, "Malformed JSON body"),
                      MetaOf(req));
  } else if (!parsed->is_object()) {
    out.error = Error(Status::Invalid({{"", "must be a JSON object"}}), MetaOf(req));
  } else {
    out.object = std::move(parsed->as_object());
  }
  return out;
}

// The JSON banner. A browser's GET / gets the dashboard instead, from web/ (RegisterWebRoutes
// puts it in front of this route): one URL, two representations, hence Vary: Accept.
Response Routes::Banner(const Request&, const PathParams&) {
  Response r = JsonResponse(200, json::object{{"service", "outpost-control-plane"},
                                              {"version", OUTPOST_VERSION},
                                              {"status", "operational"}});
  r.headers.Set("Vary", "Accept");
  return r;
}

Response Routes::Dispatch(const Request& req, const PathParams&) {
  Body body = ParseObjectBody(req, /*optional=*/false);
  if (body.error) return std::move(*body.error);
  Result<DispatchOutcome> out =
      service_.Dispatch(wire::DecodeDispatchRequest(json::value(std::move(*body.object)),
                                                    req.headers.Get("Idempotency-Key")),
                        ContextOf(req));
  if (!out.ok()) return Error(out.status(), MetaOf(req));
  Response r = Success(
      out->created ? 201 : 200,
      wire::DispatchResultToJson(out->run, out->created, out->group_id, out->group), MetaOf(req));
  // A fan-out (one run per agent) is found by its group.
  r.headers.Set("Location",
                out->group_id ? "/runs?group=" + *out->group_id : "/runs/" + out->run.id.str());
  return r;
}

Response Routes::GetRun(const Request& req, const PathParams& params) {
  Result<Run> run = service_.Get(params.at("id"), ContextOf(req));
  if (!run.ok()) return Error(run.status(), MetaOf(req));
  return Success(200, wire::RunToJson(*run), MetaOf(req));
}

// The original's GET /dispatch/{id} query: logOffset (the logOffset of an earlier answer),
// logLimit 1-1000, skipLogs true|false — where "false" means false (the original read any
// non-empty string as true).
Response Routes::GetDispatch(const Request& req, const PathParams& params) {
  std::vector<FieldError> errors;
  if (auto limit = req.Query("logLimit")) {
    int v = 0;
    auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), v);
    if (ec != std::errc() || end != limit->data() + limit->size() || v < 1 || v > 1000) {
      errors.push_back({"logLimit", "must be an integer from 1 to 1000"});
    }
  }
  if (auto skip = req.Query("skipLogs"); skip && *skip != "true" && *skip != "false") {
    errors.push_back({"skipLogs", "must be true or false"});
  }
  if (auto offset = req.Query("logOffset");
      offset && (offset->empty() || offset->find_first_not_of("0123456789") != std::string::npos ||
                 offset->size() > 15)) {
    errors.push_back({"logOffset", "must be the logOffset of an earlier answer (a number)"});
  }
  if (!errors.empty()) return Error(Status::Invalid(errors), MetaOf(req));
  Result<Run> run = service_.Get(params.at("id"), ContextOf(req));
  if (!run.ok()) return Error(run.status(), MetaOf(req));
  json::object data = wire::RunToJson(*run);
  AddDispatchLogs(service_, req, run->id.str(), data);
  return Success(200, std::move(data), MetaOf(req));
}

Response Routes::List(const Request& req, const PathParams&) {
  Result<ListQuery> query = wire::ListQueryFromParams(req.query);
  if (!query.ok()) return Error(query.status(), MetaOf(req));
  Result<RunPage> page = service_.List(std::move(*query), ContextOf(req));
  if (!page.ok()) return Error(page.status(), MetaOf(req));
  json::array items;
  for (const Run& run : page->runs) items.push_back(wire::RunToJson(run));
  const bool has_more = page->next_cursor.has_value();
  json::value cursor = nullptr;
  if (page->next_cursor) cursor = *page->next_cursor;
  Pagination pagination{page->next_cursor, has_more, 20};
  if (auto limit = req.Query("limit")) {  // List accepted it, so it is a valid number
    std::from_chars(limit->data(), limit->data() + limit->size(), pagination.limit);
  }
  json::object data{{"items", std::move(items)}, {"nextCursor", cursor}, {"hasMore", has_more}};
  return SuccessPage(std::move(data), pagination, MetaOf(req));
}

Response Routes::Cancel(const Request& req, const PathParams& params) {
  Body body = ParseObjectBody(req, /*optional=*/true);
  if (body.error) return std::move(*body.error);
  std::optional<std::string> reason;
  if (body.object) {
    std::vector<FieldError> errors;
    for (const auto& [key, value] : *body.object) {
      if (key != "reason") {
        errors.push_back({std::string(key), "unknown field"});
      } else if (!value.is_string() && !value.is_null()) {
        errors.push_back({"reason", "must be a string"});
      } else if (value.is_string()) {  // its length is the service's to judge
        reason = std::string(value.get_string());
      }
    }
    if (!errors.empty()) return Error(Status::Invalid(errors), MetaOf(req));
  }
  Result<CancelOutcome> out = service_.Cancel(params.at("id"), reason, ContextOf(req));
  if (!out.ok()) return Error(out.status(), MetaOf(req));
  json::object data = wire::RunToJson(out->run);
  data["cancelRequested"] = true;
  return Success(out->in_progress ? 202 : 200, std::move(data), MetaOf(req));
}

}  // namespace

void RegisterRoutes(Router& router, RunService& service, Clock& clock) {
  Routes::Register(router, std::make_shared<Routes>(service, clock));
}

}  // namespace outpost::api
