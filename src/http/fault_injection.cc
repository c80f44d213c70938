#include "http/fault_injection.h"

#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

#include "common/json_util.h"
#include "http/envelope.h"
#include "http/media_type.h"

namespace outpost::http {
namespace json = boost::json;
namespace {

constexpr std::string_view kFaultsRoute = "/admin/faults";
constexpr std::size_t kMaxRoutes = 64;
constexpr std::size_t kMaxRouteLength = 256;

void ParseRoutes(const json::value& v, FaultConfig& c, std::vector<FieldError>& errors) {
  if (!v.is_array()) {
    errors.push_back({"routes", "must be an array of route patterns"});
    return;
  }
  if (v.as_array().size() > kMaxRoutes) {
    errors.push_back({"routes", "at most 64 routes"});
    return;
  }
  for (std::size_t i = 0; i < v.as_array().size(); ++i) {
    const json::value& r = v.as_array()[i];
    const std::string path = "routes[" + std::to_string(i) + "]";
    if (!r.is_string()) {
      errors.push_back({path, "must be a string"});
    } else if (r.as_string().empty() || r.as_string().size() > kMaxRouteLength ||
               (r.as_string()[0] != '/' && r.as_string() != kUnmatchedRoute)) {
      errors.push_back({path,
                        "must be a route pattern such as \"/runs/{id}\" (at most 256 "
                        "characters) or \"unmatched\""});
    } else {
      c.routes.emplace_back(r.as_string());
    }
  }
}

std::optional<std::int64_t> Integer(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= INT64_MAX) return std::int64_t(v.as_uint64());
  return std::nullopt;
}

}  // namespace

Result<FaultConfig> ParseFaultConfig(const json::value& body) {
  if (!body.is_object()) return Status::Invalid({{"", "must be a JSON object"}});
  FaultConfig c;
  std::vector<FieldError> errors;
  for (const auto& [key, v] : body.as_object()) {
    if (key == "errorRate") {
      if (!v.is_number() || std::isnan(v.to_number<double>()) || v.to_number<double>() < 0 ||
          v.to_number<double>() > 1) {
        errors.push_back({"errorRate", "must be a number from 0 to 1"});
      } else {
        c.error_rate = v.to_number<double>();
      }
    } else if (key == "statusCode") {
      auto n = Integer(v);
      if (!n || *n < 500 || *n > 599) {
        errors.push_back({"statusCode", "must be an integer from 500 to 599"});
      } else {
        c.status_code = int(*n);
      }
    } else if (key == "latencyMs") {
      auto n = Integer(v);
      if (!n || *n < 0 || *n > 60000) {
        errors.push_back({"latencyMs", "must be an integer from 0 to 60000"});
      } else {
        c.latency_ms = int(*n);
      }
    } else if (key == "routes") {
      ParseRoutes(v, c, errors);
    } else if (key == "unresponsive") {
      if (!v.is_bool()) {
        errors.push_back({"unresponsive", "must be true or false"});
      } else {
        c.unresponsive = v.as_bool();
      }
    } else {
      errors.push_back({std::string(key), "unknown field"});
    }
  }
  if (!errors.empty()) return Status::Invalid(errors);
  return c;
}

json::object FaultConfigToJson(const FaultConfig& c) {
  json::array routes;
  for (const std::string& r : c.routes) routes.emplace_back(r);
  return {{"active", c.Active()},        {"errorRate", c.error_rate},
          {"statusCode", c.status_code}, {"latencyMs", c.latency_ms},
          {"routes", std::move(routes)}, {"unresponsive", c.unresponsive}};
}

FaultSwitch::FaultSwitch(const Clock& clock) : clock_(clock) {}

void FaultSwitch::Set(FaultConfig config) {
  std::lock_guard lock(mu_);
  config_ = std::move(config);
  matched_ = 0;
  active_ = config_.Active();
}

FaultConfig FaultSwitch::Get() const {
  std::lock_guard lock(mu_);
  return config_;
}

std::optional<Response> FaultSwitch::Before(const Request& req, std::string_view route) {
  if (!active_.load(std::memory_order_relaxed) || route == kFaultsRoute) return std::nullopt;
  int latency = 0, status = 0;
  bool drop = false, fail = false;
  {
    std::lock_guard lock(mu_);
    if (!config_.routes.empty() &&
        std::find(config_.routes.begin(), config_.routes.end(), route) == config_.routes.end()) {
      return std::nullopt;
    }
    // Exactly error_rate of the matching requests, spread evenly: request n fails when
    // floor((n+1)*rate) passes an integer.
    const std::uint64_t n = matched_++;
    fail =
        std::floor(double(n + 1) * config_.error_rate) > std::floor(double(n) * config_.error_rate);
    latency = config_.latency_ms;
    status = config_.status_code;
    drop = config_.unresponsive;
  }
  if (latency > 0) clock_.SleepFor(Millis(latency));
  if (!drop && !fail) return std::nullopt;
  hits_.fetch_add(1);
  Response r;
  if (drop) {
    r.drop_connection = true;
    return r;
  }
  return ErrorWithCode(status, status == 503 ? "SERVICE_UNAVAILABLE" : "INTERNAL_ERROR",
                       "injected fault (fault injection is enabled on this server)",
                       Meta{req.request_id, std::chrono::system_clock::now()},
                       {{"injected", true}});
}

std::shared_ptr<FaultSwitch> EnableFaultInjection(Router& router, const Clock& clock) {
  auto faults = std::make_shared<FaultSwitch>(clock);
  spdlog::warn(
      "FAULT INJECTION ENABLED (--enable-fault-injection): PUT /admin/faults makes this server "
      "fail on purpose; never use this in production");
  auto meta = [&clock](const Request& req) { return Meta{req.request_id, clock.Now()}; };
  auto state = [faults] {
    json::object o = FaultConfigToJson(faults->Get());
    o["hits"] = faults->hits();
    return o;
  };
  router.Add("GET", kFaultsRoute, [meta, state](const Request& req, const PathParams&) {
    return Success(200, state(), meta(req));
  });
  router.Add("PUT", kFaultsRoute, [faults, meta, state](const Request& req, const PathParams&) {
    if (!IsJsonContentType(req.headers.Get("Content-Type").value_or(""))) {
      return ErrorWithCode(415, kUnsupportedMediaType, "Content-Type must be application/json",
                           meta(req));
    }
    Result<json::value> body = ParseJsonBounded(req.body, /*max_depth=*/8, /*max_values=*/1000);
    if (!body.ok()) {
      return Error(Status::Invalid({{"", body.status().message()}}, "Malformed JSON body"),
                   meta(req));
    }
    Result<FaultConfig> config = ParseFaultConfig(*body);
    if (!config.ok()) return Error(config.status(), meta(req));
    spdlog::warn("FAULT INJECTION set by {} ({}): {}", req.client_address, req.request_id,
                 json::serialize(FaultConfigToJson(*config)));
    faults->Set(std::move(*config));
    return Success(200, state(), meta(req));
  });
  router.Add("DELETE", kFaultsRoute, [faults, meta, state](const Request& req, const PathParams&) {
    spdlog::warn("FAULT INJECTION cleared by {} ({})", req.client_address, req.request_id);
    faults->Set({});
    return Success(200, state(), meta(req));
  });
  router.AddHook(faults);
  return faults;
}

}  // namespace outpost::http
