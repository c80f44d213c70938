// DispatchRequest: a dispatch as the client sent it (POST /dispatch, the dispatch tool), field by
// field, before any value is judged. The adapters decode it (wire/dispatch_request_json.h: JSON
// types, unknown fields); core validates the values once (core/dispatch_request.h: ranges,
// lengths, enums, agents, models, secrets, repo policy) and makes Runs of it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace outpost {

// The fields of a dispatch in the order their errors are listed in details.errors[]; an error's
// place is (field, element), element 0 for the field itself and i+1 for its element i (a tag, a
// secret, an agent of a list; for resourceConstraints 1 maxMemoryMb, 2 maxCpuUnits, 3 maxDiskGb).
enum class DispatchField {
  kBody,  // the whole body (not a JSON object): reported alone
  kUnknown,
  kAgent,
  kTask,
  kModelId,
  kRepo,
  kBranch,
  kContext,
  kTimeoutSeconds,
  kInactivityTimeoutSeconds,
  kMaxCostUsd,
  kWorkspaceMode,
  kNetwork,
  kWorkspaceInitMode,
  kUserId,
  kIdempotencyKey,
  kTags,
  kResourceConstraints,
  kAdditionalSecrets,
  kVerify,
  kAgentSecrets,  // the agent's own required secrets, judged last
};

struct DispatchFieldError {
  DispatchField field;
  int element = 0;
  FieldError error;
};

struct DispatchRequest {
  // "agent": a name, or "all" (a fan-out to every available coding agent)...
  std::optional<std::string> agent;
  // ...or a list of names (a fan-out). nullopt entries were not strings (in `errors`).
  std::optional<std::vector<std::optional<std::string>>> agent_list;
  // nullopt: absent, null, or of the wrong JSON type (then in `errors`).
  std::optional<std::string> task;
  std::optional<std::string> model_id;
  std::optional<std::string> repo;
  std::optional<std::string> branch;
  std::optional<std::string> context;
  std::optional<int> timeout_seconds;  // out-of-int values saturate (still out of range)
  std::optional<int> inactivity_timeout_seconds;
  std::optional<double> max_cost_usd;  // any JSON number (core judges the range)
  std::optional<std::string> workspace_mode;
  std::optional<std::string> network;
  std::optional<std::string> idempotency_key;
  // The Idempotency-Key header (REST only).
  std::optional<std::string> idempotency_header;
  // Tags in the body's order; a nullopt value was not a string (in `errors`).
  std::optional<std::vector<std::pair<std::string, std::optional<std::string>>>> tags;
  std::optional<int> max_memory_mb;  // resourceConstraints
  std::optional<int> max_cpu_units;
  std::optional<int> max_disk_gb;
  // additionalSecrets in order; nullopt entries were not strings (in `errors`).
  std::optional<std::vector<std::optional<std::string>>> additional_secrets;
  // The original's fields (outpost-original-spec): workspaceInitMode, and whether userId was
  // given at all (it is refused).
  std::optional<std::string> workspace_init_mode;
  bool user_id_given = false;
  // The check command run after the agent in its sandbox (model/run.h Verification).
  std::optional<std::string> verify;

  // What the decoder refused: unknown fields and values of the wrong JSON type. Core lists them
  // with its own errors, each in its field's place.
  std::vector<DispatchFieldError> errors;

  bool HasError(DispatchField field) const {
    for (const auto& e : errors) {
      if (e.field == field) return true;
    }
    return false;
  }
};

}  // namespace outpost
