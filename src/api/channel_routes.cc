#include "api/channel_routes.h"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/json_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "http/envelope.h"
#include "http/media_type.h"

namespace outpost::api {
using http::Access;
using http::Error;
using http::Meta;
using http::PathParams;
using http::Request;
using http::Response;
using http::Router;
using http::Success;

namespace json = boost::json;
namespace {

constexpr int kMaxJsonDepth = 32;
constexpr std::size_t kMaxJsonValues = 1'000'000;

// The presented run token: Authorization: Bearer <token>, else X-Outpost-Run-Token.
std::string RunToken(const Request& req) {
  if (auto header = req.headers.Get("Authorization")) {
    std::string_view v = Trim(*header);
    if (v.size() > 7 && http::EqualsIgnoreCase(v.substr(0, 7), "bearer ")) {
      return std::string(Trim(v.substr(7)));
    }
  }
  if (auto header = req.headers.Get("X-Outpost-Run-Token")) return std::string(Trim(*header));
  return "";
}

// The version header, then (for a POST) the body as a JSON object; an error response otherwise.
struct Parsed {
  ChannelVersion version;
  json::object body;
  std::optional<Response> error;
};

Parsed Parse(const Request& req, const Meta& meta, bool with_body) {
  Parsed p;
  Result<ChannelVersion> v = ParseChannelVersion(req.headers.Get("Outpost-Channel-Version"));
  if (!v.ok()) {
    p.error = Error(v.status(), meta);
    return p;
  }
  p.version = *v;
  if (!with_body) return p;
  if (req.body.size() > kMaxChannelBodyBytes) {
    p.error =
        Error(Status(Code::kPayloadTooLarge, "a run-channel request body is at most " +
                                                 std::to_string(kMaxChannelBodyBytes) + " bytes")
                  .WithDetail("maxBodyBytes", kMaxChannelBodyBytes),
              meta);
    return p;
  }
  if (!http::IsJsonContentType(req.headers.Get("Content-Type").value_or(""))) {
    p.error = http::ErrorWithCode(415, http::kUnsupportedMediaType,
                                  "Content-Type must be application/json", meta);
    return p;
  }
  Result<json::value> parsed = ParseJsonBounded(req.body, kMaxJsonDepth, kMaxJsonValues);
  if (!parsed.ok() || !parsed->is_object()) {
    p.error = Error(
        Status::Invalid({{"", parsed.ok() ? "must be a JSON object" : parsed.status().message()}},
                        "Malformed JSON body"),
        meta);
    return p;
  }
  p.body = std::move(parsed->as_object());
  return p;
}

}  // namespace

void RegisterChannelRoutes(Router& router, RunChannel& channel, Clock& clock) {
  router.Add("POST", "/internal/v1/runs/{id}/events", Access::RunChannel(),
             [&channel, &clock](const Request& req, const PathParams& params) {
               const Meta meta{req.request_id, clock.Now()};
               Parsed p = Parse(req, meta, /*with_body=*/true);
               if (p.error) return *p.error;
               auto out =
                   channel.AppendEvents(RunId(params.at("id")), RunToken(req), p.version, p.body);
               if (!out.ok()) return Error(out.status(), meta);
               return Success(
                   200, json::object{{"lastSeq", out->last_seq}, {"stored", out->stored}}, meta);
             });
  router.Add("POST", "/internal/v1/runs/{id}/exit", Access::RunChannel(),
             [&channel, &clock](const Request& req, const PathParams& params) {
               const Meta meta{req.request_id, clock.Now()};
               Parsed p = Parse(req, meta, /*with_body=*/true);
               if (p.error) return *p.error;
               auto out =
                   channel.ReportExit(RunId(params.at("id")), RunToken(req), p.version, p.body);
               if (!out.ok()) return Error(out.status(), meta);
               return Success(200, json::object{{"stored", *out}}, meta);
             });
  router.Add("GET", "/internal/v1/runs/{id}/control", Access::RunChannel(),
             [&channel, &clock](const Request& req, const PathParams& params) {
               const Meta meta{req.request_id, clock.Now()};
               Parsed p = Parse(req, meta, /*with_body=*/false);
               if (p.error) return *p.error;
               auto c = channel.Control(RunId(params.at("id")), RunToken(req));
               if (!c.ok()) return Error(c.status(), meta);
               json::object data{{"status", ToString(c->status)},
                                 {"cancelRequested", c->cancel_requested}};
               if (c->cancel_reason) data["cancelReason"] = *c->cancel_reason;
               data["deadlineAt"] =
                   c->deadline_at ? json::value(FormatTime(*c->deadline_at)) : json::value(nullptr);
               return Success(200, std::move(data), meta);
             });
  // The bootstrap token is the credential here (header only, like the run token); the answer
  // holds the run's channel token: never cached, never logged.
  router.Add("POST", "/internal/v1/runs/{id}/bootstrap", Access::RunChannel(),
             [&channel, &clock](const Request& req, const PathParams& params) {
               const Meta meta{req.request_id, clock.Now()};
               Parsed p = Parse(req, meta, /*with_body=*/false);
               Response r = p.error ? *p.error : Response{};
               if (!p.error) {
                 auto token = channel.Bootstrap(RunId(params.at("id")), RunToken(req));
                 r = token.ok() ? Success(200, json::object{{"token", *token}}, meta)
                                : Error(token.status(), meta);
               }
               r.headers.Set("Cache-Control", "no-store");
               return r;
             });
  // An output as raw bytes (any Content-Type); bounded by the HTTP server's max_body_bytes first.
  router.Add("PUT", "/internal/v1/runs/{id}/outputs/{name}", Access::RunChannel(),
             [&channel, &clock](const Request& req, const PathParams& params) {
               const Meta meta{req.request_id, clock.Now()};
               Parsed p = Parse(req, meta, /*with_body=*/false);
               if (p.error) return *p.error;
               auto out = channel.PutOutput(RunId(params.at("id")), RunToken(req),
                                            params.at("name"), req.body);
               if (!out.ok()) return Error(out.status(), meta);
               return Success(200, json::object{{"stored", *out}}, meta);
             });
  // The run's spec holds its secrets: never cached, never logged (only its status is).
  router.Add("GET", "/internal/v1/runs/{id}/spec", Access::RunChannel(),
             [&channel, &clock](const Request& req, const PathParams& params) {
               const Meta meta{req.request_id, clock.Now()};
               Parsed p = Parse(req, meta, /*with_body=*/false);
               Response r = p.error ? *p.error : Response{};
               if (!p.error) {
                 auto spec = channel.Spec(RunId(params.at("id")), RunToken(req));
                 r = spec.ok() ? Success(200, RunSpecToJson(*spec), meta)
                               : Error(spec.status(), meta);
               }
               r.headers.Set("Cache-Control", "no-store");
               return r;
             });
}

}  // namespace outpost::api
