// The JSON of the health reports (model/health.h): the bodies of GET /health, /health/ready and
// /health/fleet, which the MCP health and fleet_status tools return too.
#pragma once

#include <boost/json/object.hpp>

#include "model/health.h"

namespace outpost::wire {

boost::json::object HealthToJson(const HealthReport& report);
boost::json::object ReadyToJson(const ReadyReport& report);
boost::json::object FleetToJson(const FleetReport& report);

}  // namespace outpost::wire
