// A small JSON Schema (2020-12) validator for the subset the MCP tool schemas use: type (one or a
// list, "integer" = a number without fraction), enum, const, minimum/maximum,
// minLength/maxLength (code points), pattern (ECMAScript), properties, required,
// additionalProperties (bool or schema), propertyNames, maxProperties, items, minItems, maxItems,
// uniqueItems, oneOf. Anything else in a schema is ignored (descriptions, defaults, formats).
//
// The tools whose arguments are not a REST body (get_run, list_runs, …) are validated with their
// own inputSchema, so what a client reads and what the server checks cannot disagree; dispatch
// goes through the REST validator, and a test checks its schema against it.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace outpost::mcp {

// Every way `value` fails `schema`, as field errors: path "a.b" / "a[2]" ("" for the root).
std::vector<FieldError> ValidateSchema(const boost::json::value& schema,
                                       const boost::json::value& value);

}  // namespace outpost::mcp
