// The REST routes of ARCHITECTURE §3: each parses the request, calls one RunService method and
// formats the result in the envelope. No logic of their own beyond HTTP concerns (content types,
// JSON syntax, query syntax of the compatibility aliases, status codes).
#pragma once

#include "common/clock.h"
#include "http/router.h"

namespace outpost {
class RunService;
}

namespace outpost::api {

// Registers every route on `router`. `service` and `clock` must outlive the router.
void RegisterRoutes(http::Router& router, RunService& service, Clock& clock);

}  // namespace outpost::api
