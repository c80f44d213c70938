// StreamGet: one GET whose body is handed over as it arrives (Server-Sent Events), for `outpost
// logs -f` and `dispatch --follow`. The exchange is net::StreamHttp (libcurl); this adds the
// endpoint and the CLI's wording of failures.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "client/http_client.h"

namespace outpost::client {

struct StreamOptions {
  Millis connect_timeout{5'000};
  // No byte for this long (the server sends a heartbeat every 15 s): the connection is
  // presumed dead. Checked about once a second.
  Millis idle_timeout{45'000};
};

struct StreamResult {
  int status = 0;
  std::string error_body;  // the body of a non-2xx answer (not passed to on_body)
};

// Sends GET `target` and calls `on_body` with each piece of a 2xx answer's body until the server
// closes the connection. kUnavailable when the server cannot be reached, resets the connection
// or stays silent for idle_timeout — after the body so far was delivered; kInternal for an
// answer that is not HTTP.
Result<StreamResult> StreamGet(const Endpoint& endpoint, std::string_view target,
                               const Headers& headers, const StreamOptions& options,
                               const std::function<void(std::string_view)>& on_body);

}  // namespace outpost::client
