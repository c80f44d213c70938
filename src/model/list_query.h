// ListQuery: which runs a list asks for (GET /runs, the list_runs tool, RunStore::List). The
// adapters build it (wire/list_query.h: from a query string or tool arguments); core sets the
// tenant and passes it to the store.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "model/run.h"

namespace outpost {

struct ListQuery {
  int limit = 20;
  std::optional<std::string> cursor;
  std::optional<std::string> tenant;  // nullopt: every tenant
  std::optional<RunStatus> status;
  std::optional<std::string> agent;
  std::optional<std::string> repo;
  std::optional<std::string> group_id;
  std::optional<WallTime> since;                          // created_at >= since
  std::vector<std::pair<std::string, std::string>> tags;  // all must match
  std::optional<ArtifactsState> artifacts_state;          // Run::artifacts_state
};

}  // namespace outpost
