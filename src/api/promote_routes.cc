#include "api/promote_routes.h"

#include <boost/json.hpp>

#include "api/request_context.h"
#include "common/json_util.h"
#include "http/envelope.h"
#include "http/media_type.h"
#include "wire/run_json.h"

namespace outpost::api {
namespace json = boost::json;
using http::Access;
using http::Error;
using http::Meta;
using http::PathParams;
using http::Request;
using http::Response;
using http::Router;
using http::Success;
namespace {

// A refusal of the remote (git push, GitHub) is the request's content being refused, not a
// state of ours to wait for: 422, as GitHub answers its own.
constexpr std::string_view kUnprocessable = "UNPROCESSABLE_ENTITY";

Response PromoteError(const Status& st, const Meta& meta) {
  if (st.code() == Code::kFailedPrecondition) {
    if (const json::value* r = st.details().if_contains("remoteRefused");
        r != nullptr && r->is_bool() && r->get_bool()) {
      return http::ErrorWithCode(422, kUnprocessable, st.message(), meta, st.details());
    }
  }
  return Error(st, meta);
}

Response Handle(Promoter& promoter, Clock& clock, const Request& req, std::string run_id,
                bool id_in_body) {
  const Meta meta{req.request_id, clock.Now()};
  json::object body;
  if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    const std::string type = req.headers.Get("Content-Type").value_or("");
    if (!http::IsJsonContentType(type)) {
      return http::ErrorWithCode(415, http::kUnsupportedMediaType,
                                 "Content-Type must be application/json", meta,
                                 {{"contentType", type}});
    }
    Result<json::value> parsed = ParseJsonBounded(req.body, 8, 100);
    if (!parsed.ok()) {
      return Error(Status::Invalid({{"", parsed.status().message()}}, "Malformed JSON body"), meta);
    }
    if (!parsed->is_object()) return Error(Status::Invalid({{"", "must be a JSON object"}}), meta);
    body = std::move(parsed->as_object());
  }
  Result<PromoteRequest> request = PromoteRequestFromJson(body, id_in_body ? &run_id : nullptr);
  if (!request.ok()) return Error(request.status(), meta);
  Result<PromoteOutcome> out = promoter.Promote(run_id, *request, ContextOf(req));
  if (!out.ok()) return PromoteError(out.status(), meta);
  return Success(out->replayed ? 200 : 201, PromoteOutcomeToJson(*out), meta);
}

}  // namespace

Result<PromoteRequest> PromoteRequestFromJson(const json::object& body, std::string* run_id) {
  PromoteRequest r;
  std::vector<FieldError> errors;
  auto text = [&](std::string_view key, const json::value& v) -> std::optional<std::string> {
    if (v.is_null()) return std::nullopt;
    if (!v.is_string()) {
      errors.push_back({std::string(key), "must be a string"});
      return std::nullopt;
    }
    return std::string(v.get_string());
  };
  bool has_id = false;
  for (const auto& [key, value] : body) {
    if (key == "mode") {
      if (auto m = text(key, value)) r.mode = *m;
    } else if (key == "branch") {
      r.branch = text(key, value);
    } else if (key == "title") {
      r.title = text(key, value);
    } else if (key == "body") {
      r.body = text(key, value);
    } else if (key == "base") {
      r.base = text(key, value);
    } else if (key == "draft") {
      if (value.is_bool()) {
        r.draft = value.get_bool();
      } else if (!value.is_null()) {
        errors.push_back({"draft", "must be a boolean"});
      }
    } else if (key == "runId" && run_id != nullptr) {
      if (auto id = text(key, value)) {
        *run_id = *id;
        has_id = true;
      }
    } else if (key == "createPr" && run_id != nullptr) {
      // The original v2's {runId, createPr, prTitle}.
      if (value.is_bool()) {
        if (value.get_bool()) r.mode = "pr";
      } else {
        errors.push_back({"createPr", "must be a boolean"});
      }
    } else if (key == "prTitle" && run_id != nullptr) {
      r.title = text(key, value);
    } else {
      errors.push_back({std::string(key), "unknown field"});
    }
  }
  if (run_id != nullptr && !has_id && errors.empty()) {
    errors.push_back({"runId", "is required"});
  }
  if (!errors.empty()) return Status::Invalid(errors);
  return r;
}

json::object PromoteOutcomeToJson(const PromoteOutcome& outcome) {
  return {{"runId", outcome.run.id.str()},
          {"replayed", outcome.replayed},
          {"promotion", wire::PromotionToJson(outcome.run.promotion)}};
}

void RegisterPromoteRoutes(Router& router, Promoter& promoter, Clock& clock) {
  const Access access = Access::Scope(http::scope::kPromote);
  router.Add("POST", "/runs/{id}/promote", access,
             [&promoter, &clock](const Request& req, const PathParams& params) {
               return Handle(promoter, clock, req, params.at("id"), false);
             });
  router.Add("POST", "/promote", access,
             [&promoter, &clock](const Request& req, const PathParams&) {
               return Handle(promoter, clock, req, "", true);
             });
}

}  // namespace outpost::api
