// The public JSON of a run (ARCHITECTURE §3, camelCase): what GET /runs/{id}, GET /runs, the MCP
// tools and summary.json show. Write-only: nothing parses it back, and it is not what the stores
// persist (store/run_doc.h is their private format), so a field here can change without a
// database migration.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/run.h"

namespace outpost::wire {

// The run object. It never carries the fields only the stores need (tenant, request hash,
// owner, key id, quota slot, version) nor the artifact list (GET /runs/{id}/artifacts has it).
boost::json::object RunToJson(const Run& run);

// A run's `promotion` {branch, base, commit, prUrl, prNumber, at, by} (null when none; base,
// prUrl and prNumber null until a pull request was opened).
boost::json::value PromotionToJson(const std::optional<Promotion>& promotion);
// A run's `verification` {exitCode, passed, tail, timedOut}; null when its verify did not run.
boost::json::value VerificationToJson(const std::optional<Verification>& verification);

// The data of a dispatch answer (POST /dispatch and the MCP dispatch tool). `created` false: the
// idempotency key matched an earlier dispatch ("idempotent": true). A single run gives
// {runId, dispatchId, status, agent, modelId, createdAt, idempotent}; a fan-out (`group_id` set)
// gives {groupId, runs[{runId, agent, modelId, status}], runIds, idempotent} over `group`.
boost::json::object DispatchResultToJson(const Run& run, bool created,
                                         const std::optional<std::string>& group_id = std::nullopt,
                                         const std::vector<Run>& group = {});

}  // namespace outpost::wire
