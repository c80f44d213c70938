// RunArtifacts: the artifacts of one run as a client sees them — each stored object with a URL
// that expires (`GET /runs/{id}/artifacts?expiresIn=N`, the MCP `get_artifacts` tool, the CLI).
// The run is loaded through RunService, so tenancy and "not found" behave as for GET /runs/{id}.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string_view>

#include "artifacts/artifact_store.h"
#include "common/clock.h"
#include "core/run_service.h"

namespace outpost {

inline constexpr int kMinArtifactExpiry = 60;
inline constexpr int kMaxArtifactExpiry = 86'400;
inline constexpr int kDefaultArtifactExpiry = 3'600;

class RunArtifacts {
 public:
  RunArtifacts(RunService& runs, artifacts::ArtifactStore& store, Clock& clock)
      : runs_(runs), store_(store), clock_(clock) {}

  // Parses ?expiresIn (nullopt: the default). kInvalidArgument naming "expiresIn" when it is
  // not an integer in [60, 86400].
  static Result<int> ParseExpiresIn(const std::optional<std::string>& text);

  // {runId, status, artifactsStatus, missing[], artifacts[{name, type, url, expiresAt,
  // sizeBytes, contentType, sha256}]}. While the run is active or its upload is pending the
  // list is empty and artifactsStatus says why ("running" | "pending").
  Result<boost::json::object> List(std::string_view run_id, int expires_in_seconds,
                                   const RequestContext& ctx);

  // The first `max_bytes` of an ended run's diff.patch (cut at its last line end within them;
  // the MCP get_diff tool). Empty for a run that changed nothing. kFailedPrecondition (409):
  // the run is active, or has no repository; kUnavailable: its artifacts are still being
  // uploaded (artifacts pending); kNotFound: the run (as Get), or its diff was not kept.
  struct Diff {
    std::string text;
    std::int64_t size_bytes = 0;  // the whole diff's
    bool truncated = false;
  };
  Result<Diff> ReadDiff(std::string_view run_id, std::size_t max_bytes, const RequestContext& ctx);

 private:
  RunService& runs_;
  artifacts::ArtifactStore& store_;
  Clock& clock_;
};

}  // namespace outpost
