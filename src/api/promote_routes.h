// POST /runs/{id}/promote and the original v2's POST /promote {runId, …}: a run's changes
// pushed to a branch and, with mode "pr", a pull request (core/promoter.h). Scope `promote`.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "core/promoter.h"
#include "http/router.h"

namespace outpost::api {

// The request body {mode?, branch?, title?, body?, base?, draft?} — and runId when
// `run_id` is not null (POST /promote; the MCP tool) — into a PromoteRequest. Unknown fields and
// wrong types are kInvalidArgument listing every bad field.
Result<PromoteRequest> PromoteRequestFromJson(const boost::json::object& body, std::string* run_id);

// {runId, replayed, promotion{branch, base, commit, prUrl, prNumber, at, by}}.
boost::json::object PromoteOutcomeToJson(const PromoteOutcome& outcome);

// 201 for a new promotion, 200 for a replay; a remote's refusal (details.remoteRefused) is
// 422 UNPROCESSABLE_ENTITY with git's or GitHub's message, other errors as the envelope maps them.
void RegisterPromoteRoutes(http::Router& router, Promoter& promoter, Clock& clock);

}  // namespace outpost::api
