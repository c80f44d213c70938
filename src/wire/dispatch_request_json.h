// The dispatch body's JSON, decoded into a DispatchRequest (model/dispatch_request.h): one codec
// for POST /dispatch and the MCP dispatch tool. It judges only the JSON: unknown fields and
// values of the wrong type are listed in DispatchRequest::errors (core lists them with the value
// errors it finds, every bad field together).
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "model/dispatch_request.h"

namespace outpost::wire {

// Never fails: a body that is not a JSON object gives a request whose one error (path "")
// says so. `idempotency_header` is the Idempotency-Key header, if any.
DispatchRequest DecodeDispatchRequest(const boost::json::value& body,
                                      std::optional<std::string> idempotency_header = {});

}  // namespace outpost::wire
