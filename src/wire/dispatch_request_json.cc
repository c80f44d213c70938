#include "wire/dispatch_request_json.h"

#include <boost/json.hpp>
#include <climits>
#include <cmath>
#include <cstdint>
#include <set>

namespace outpost::wire {
namespace json = boost::json;
namespace {

using F = DispatchField;

const std::set<std::string, std::less<>> kKnownFields = {
    "agent", "task", "modelId", "repo", "branch", "context", "timeoutSeconds",
    "inactivityTimeoutSeconds", "maxCostUsd", "workspaceMode", "idempotencyKey", "tags",
    "resourceConstraints", "network", "additionalSecrets", "verify",
    // The original's fields, mapped or refused with what to use instead (core).
    "workspaceInitMode", "userId"};

// A double that is a whole number within int64 ("60.0", "1e2"). Checked before any cast: casting
// one outside the range (1e300, found by fuzz/dispatch_request_fuzzer) is undefined behaviour.
bool IsWholeInt64(double d) {
  return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d;
}

class Decoder {
 public:
  Decoder(const json::object& body, DispatchRequest& out) : body_(body), out_(out) {}

  void Fail(F field, int element, std::string path, std::string message) {
    out_.errors.push_back({field, element, {std::move(path), std::move(message)}});
  }

  // The field's value; null when absent or null.
  const json::value* Find(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
  }

  std::optional<std::string> String(F field, std::string_view key) {
    const json::value* v = Find(body_, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      Fail(field, 0, std::string(key), std::string(key) + " must be a string");
      return std::nullopt;
    }
    return std::string(v->get_string());
  }

  // An integer; one beyond int saturates (core's range check refuses it the same).
  std::optional<int> Int(const json::object& o, std::string_view key, F field, int element,
                         const std::string& path) {
    const json::value* v = Find(o, key);
    if (!v) return std::nullopt;
    std::int64_t n = 0;
    if (v->is_int64()) {
      n = v->get_int64();
    } else if (v->is_uint64()) {
      n = v->get_uint64() > INT64_MAX ? INT64_MAX : static_cast<std::int64_t>(v->get_uint64());
    } else if (v->is_double() && IsWholeInt64(v->get_double())) {
      n = static_cast<std::int64_t>(v->get_double());
    } else {
      Fail(field, element, path, path + " must be an integer");
      return std::nullopt;
    }
    return static_cast<int>(std::clamp<std::int64_t>(n, INT_MIN, INT_MAX));
  }

  // Any JSON number.
  std::optional<double> Number(std::string_view key, F field) {
    const json::value* v = Find(body_, key);
    if (!v) return std::nullopt;
    if (!v->is_number()) {
      Fail(field, 0, std::string(key), std::string(key) + " must be a number");
      return std::nullopt;
    }
    return v->to_number<double>();
  }

  // "agent": a name, "all", or a list of names.
  void Agent() {
    const json::value* v = Find(body_, "agent");
    if (!v || !v->is_array()) {
      out_.agent = String(F::kAgent, "agent");
      return;
    }
    auto& list = out_.agent_list.emplace();
    const json::array& arr = v->get_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (arr[i].is_string()) {
        list.emplace_back(std::string(arr[i].get_string()));
      } else {
        list.emplace_back(std::nullopt);
        Fail(F::kAgent, static_cast<int>(i) + 1, "agent[" + std::to_string(i) + "]",
             "agent names are strings");
      }
    }
  }

  void Tags() {
    const json::value* v = Find(body_, "tags");
    if (!v) return;
    if (!v->is_object()) {
      Fail(F::kTags, 0, "tags", "tags must be an object of string values");
      return;
    }
    auto& tags = out_.tags.emplace();
    int i = 0;
    for (const auto& kv : v->get_object()) {
      ++i;
      if (kv.value().is_string()) {
        tags.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
      } else {
        tags.emplace_back(std::string(kv.key()), std::nullopt);
        Fail(F::kTags, i, "tags." + std::string(kv.key()), "tag values must be strings");
      }
    }
  }

  void Resources() {
    const json::value* v = Find(body_, "resourceConstraints");
    if (!v) return;
    if (!v->is_object()) {
      Fail(F::kResourceConstraints, 0, "resourceConstraints",
           "resourceConstraints must be an object");
      return;
    }
    const json::object& rc = v->get_object();
    for (const auto& kv : rc) {
      std::string k(kv.key());
      if (k != "maxMemoryMb" && k != "maxCpuUnits" && k != "maxDiskGb") {
        Fail(F::kResourceConstraints, 0, "resourceConstraints." + k, "unknown field");
      }
    }
    out_.max_memory_mb =
        Int(rc, "maxMemoryMb", F::kResourceConstraints, 1, "resourceConstraints.maxMemoryMb");
    out_.max_cpu_units =
        Int(rc, "maxCpuUnits", F::kResourceConstraints, 2, "resourceConstraints.maxCpuUnits");
    out_.max_disk_gb =
        Int(rc, "maxDiskGb", F::kResourceConstraints, 3, "resourceConstraints.maxDiskGb");
  }

  void Secrets() {
    const json::value* v = Find(body_, "additionalSecrets");
    if (!v) return;
    if (!v->is_array()) {
      Fail(F::kAdditionalSecrets, 0, "additionalSecrets",
           "additionalSecrets must be an array of secret names");
      return;
    }
    auto& names = out_.additional_secrets.emplace();
    const json::array& arr = v->get_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (arr[i].is_string()) {
        names.emplace_back(std::string(arr[i].get_string()));
      } else {
        names.emplace_back(std::nullopt);
        Fail(F::kAdditionalSecrets, static_cast<int>(i) + 1,
             "additionalSecrets[" + std::to_string(i) + "]",
             "secret names match ^[A-Z][A-Z0-9_]*$ (at most 128 characters)");
      }
    }
  }

 private:
  const json::object& body_;
  DispatchRequest& out_;
};

}  // namespace

DispatchRequest DecodeDispatchRequest(const json::value& body,
                                      std::optional<std::string> idempotency_header) {
  DispatchRequest r;
  r.idempotency_header = std::move(idempotency_header);
  if (!body.is_object()) {
    r.errors.push_back({F::kBody, 0, {"", "the request body must be a JSON object"}});
    return r;
  }
  const json::object& o = body.get_object();
  Decoder d(o, r);
  for (const auto& kv : o) {
    if (!kKnownFields.contains(std::string_view(kv.key()))) {
      d.Fail(F::kUnknown, 0, std::string(kv.key()), "unknown field");
    }
  }
  d.Agent();
  r.task = d.String(F::kTask, "task");
  r.model_id = d.String(F::kModelId, "modelId");
  r.repo = d.String(F::kRepo, "repo");
  r.branch = d.String(F::kBranch, "branch");
  r.context = d.String(F::kContext, "context");
  r.timeout_seconds = d.Int(o, "timeoutSeconds", F::kTimeoutSeconds, 0, "timeoutSeconds");
  r.inactivity_timeout_seconds = d.Int(o, "inactivityTimeoutSeconds", F::kInactivityTimeoutSeconds,
                                       0, "inactivityTimeoutSeconds");
  r.max_cost_usd = d.Number("maxCostUsd", F::kMaxCostUsd);
  r.workspace_mode = d.String(F::kWorkspaceMode, "workspaceMode");
  r.network = d.String(F::kNetwork, "network");
  r.workspace_init_mode = d.String(F::kWorkspaceInitMode, "workspaceInitMode");
  r.user_id_given = o.contains("userId");
  r.verify = d.String(F::kVerify, "verify");
  r.idempotency_key = d.String(F::kIdempotencyKey, "idempotencyKey");
  d.Tags();
  d.Resources();
  d.Secrets();
  return r;
}

}  // namespace outpost::wire
