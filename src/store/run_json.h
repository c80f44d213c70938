// Run <-> JSON. `RunToJson` gives the public API shape (camelCase, ARCHITECTURE §3); with
// `internal` it also carries the fields only the stores need (tenant, hash, owner, version).
// `RunFromJson` reads back what RunToJson(internal=true) wrote.
#pragma once

#include <boost/json/object.hpp>

#include "common/status.h"
#include "model/run.h"
#include "store/run_store.h"

namespace outpost {

boost::json::object RunToJson(const Run& run, bool internal = false);

// A replica record, as stored and as served by /health/fleet.
boost::json::object ReplicaToJson(const ReplicaInfo& replica);
Result<ReplicaInfo> ReplicaFromJson(const boost::json::object& o);
Result<Run> RunFromJson(const boost::json::object& o);

}  // namespace outpost
