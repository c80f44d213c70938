// Run <-> JSON. `RunToJson` gives the public API shape (camelCase, ARCHITECTURE §3); with
// `internal` it also carries the fields only the stores need (tenant, hash, owner, version).
// `RunFromJson` reads back what RunToJson(internal=true) wrote.
#pragma once

#include <boost/json/object.hpp>

#include "common/status.h"
#include "store/run.h"

namespace outpost {

boost::json::object RunToJson(const Run& run, bool internal = false);
Result<Run> RunFromJson(const boost::json::object& o);

}  // namespace outpost
