// List parameters into a ListQuery (model/list_query.h), one parser for GET /runs and the MCP
// list_runs tool. kInvalidArgument lists every bad parameter.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <string>

#include "common/status.h"
#include "model/list_query.h"

namespace outpost::wire {

// As they come in a query string: limit, cursor, status, agent, repo, since, tag=k:v (repeated),
// group. Unknown parameters are refused.
Result<ListQuery> ListQueryFromParams(const std::multimap<std::string, std::string>& params);

// The list_runs tool's arguments (already checked against its input schema): the same
// parameters, with limit an integer and tags an object {key: value}.
Result<ListQuery> ListQueryFromArgs(const boost::json::object& args);

}  // namespace outpost::wire
