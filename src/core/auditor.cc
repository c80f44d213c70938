#include "core/auditor.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <charconv>

#include "common/ids.h"
#include "common/time_util.h"

namespace outpost {
namespace json = boost::json;
namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 100;
constexpr std::size_t kMaxFilter = 200;

// A validation error's field paths, without the messages (they may quote the input).
json::array FieldPaths(const Status& st) {
  json::array paths;
  const json::value* errors = st.details().if_contains("errors");
  if (!errors || !errors->is_array()) return paths;
  for (const json::value& e : errors->get_array()) {
    if (!e.is_object()) continue;
    if (const json::value* p = e.get_object().if_contains("path"); p && p->is_string()) {
      paths.push_back(*p);
    }
  }
  return paths;
}

// The ULID after `id` (Crockford base32, carrying from the last character).
std::string IncrementUlid(std::string id) {
  static constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  for (std::size_t i = id.size(); i-- > 0;) {
    const std::size_t digit = kAlphabet.find(id[i]);
    if (digit + 1 < kAlphabet.size()) {
      id[i] = kAlphabet[digit + 1];
      return id;
    }
    id[i] = kAlphabet[0];
  }
  return id;  // 2^130 records later
}

}  // namespace

std::string_view AuditOutcomeOf(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return audit_outcome::kSuccess;
    case Code::kUnauthenticated:
    case Code::kPermissionDenied:
    case Code::kResourceExhausted:
      return audit_outcome::kDenied;
    default:
      return audit_outcome::kError;
  }
}

void Auditor::Call(const RequestContext& ctx, std::string_view action, std::string resource,
                   const Status& outcome, json::object details) {
  AuditRecord r;
  r.tenant = ctx.tenant;
  r.key_id = ctx.key_id;
  r.action = std::string(action);
  r.resource = std::move(resource);
  r.request_id = ctx.request_id;
  r.client_address = ctx.client_address;
  r.outcome = std::string(AuditOutcomeOf(outcome));
  if (!outcome.ok()) {
    r.error_code = std::string(ErrorName(outcome.code()));
    if (outcome.code() == Code::kInvalidArgument) {
      if (json::array paths = FieldPaths(outcome); !paths.empty()) details["fields"] = paths;
    } else if (outcome.code() == Code::kResourceExhausted) {
      for (const auto& kv : outcome.details()) details[kv.key()] = kv.value();
    }
  }
  r.details = std::move(details);
  Append(std::move(r));
}

void Auditor::Transition(const Run& before, const Run& after, const RequestContext* ctx) {
  AuditRecord r;
  r.tenant = after.tenant;
  r.action = std::string(audit_action::kStatusChanged);
  r.resource = "run:" + after.id.str();
  if (ctx) {
    r.key_id = ctx->key_id;
    r.request_id = ctx->request_id;
    r.client_address = ctx->client_address;
  }
  r.details = {
      {"from", ToString(before.status)}, {"to", ToString(after.status)}, {"agent", after.agent}};
  if (after.reason) r.details["reason"] = *after.reason;
  Append(std::move(r));
}

std::string Auditor::NextId(WallTime at) {
  std::string id = NewUlid(at);
  std::lock_guard lock(id_mu_);
  if (id <= last_id_) id = IncrementUlid(last_id_);
  last_id_ = id;
  return id;
}

void Auditor::Append(AuditRecord r) {
  r.at = clock_.Now();
  r.id = NextId(r.at);
  Status st = log_.Append(r);
  failing_ = !st.ok();
  if (!st.ok()) {
    ++failures_;
    spdlog::error("audit: record {} {} ({}) not written: {}", r.action, r.resource, r.outcome,
                  st.ToString());
  }
}

Result<AuditPage> Auditor::List(const std::multimap<std::string, std::string>& params,
                                const RequestContext& ctx) {
  AuditQuery q;
  q.limit = kDefaultLimit;
  q.tenant = ctx.tenant;
  std::vector<FieldError> errors;
  for (const auto& [key, value] : params) {
    if (key == "limit") {
      int v = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || end != value.data() + value.size() || v < 1 || v > kMaxLimit) {
        errors.push_back({"limit", "must be an integer from 1 to 100"});
      }
      q.limit = v;
    } else if (key == "cursor") {
      q.cursor = value;
    } else if (key == "since") {
      q.since = ParseTime(value);
      if (!q.since) errors.push_back({"since", "must be an RFC 3339 time or YYYY-MM-DD"});
    } else if (key == "action" || key == "resource") {
      if (value.empty() || value.size() > kMaxFilter) {
        errors.push_back({key, "must be 1-200 characters"});
      }
      // "run:<id>": a run id in any case names the same run's records.
      (key == "action" ? q.action : q.resource) = key == "resource" && value.starts_with("run:")
                                                      ? "run:" + CanonicalUlid(value.substr(4))
                                                      : value;
    } else {
      errors.push_back({key, "unknown parameter (limit, cursor, since, action, resource)"});
    }
  }
  if (!errors.empty()) return Status::Invalid(errors, "Invalid audit query");
  return log_.List(q);
}

}  // namespace outpost
