// The routes of a run's output (ARCHITECTURE §3), registered by RegisterRoutes:
//   GET /runs/{id}/logs?offset=&limit=   data {entries[{offset, timestamp, stream, message}],
//                                        nextOffset, hasMore}; offset >= 0 (default 0), limit
//                                        1-1000 (default 100)
//   GET /runs/{id}/events?after=N        Server-Sent Events (api/sse_stream.h), from after N or
//                                        the Last-Event-ID header (which wins: it is what a
//                                        reconnecting EventSource sends, with the old URL)
// and the `logs[]` / `logOffset` of the alias GET /dispatch/{id} (the original's shape).
#pragma once

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "http/router.h"

namespace outpost {
class RunService;
}

namespace outpost::api {

http::Response RunLogsRoute(RunService& service, const Clock& clock, const http::Request& req,
                            const http::PathParams& params);
http::Response RunEventsRoute(RunService& service, const Clock& clock, const http::Request& req,
                              const http::PathParams& params);

// For GET /dispatch/{id}: adds `logs` [{offset, timestamp, message, level, stream}] and
// `logOffset` (the next offset, a string as the original's token) to `data`, from the query's
// logOffset (default "0") and logLimit (default 100), already validated. Unless skipLogs=true.
void AddDispatchLogs(RunService& service, const http::Request& req, const std::string& run_id,
                     boost::json::object& data);

}  // namespace outpost::api
