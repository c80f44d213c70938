// One timed HTTP exchange with the API, for `outpost validate` and `outpost monitor`: what came
// back (or why nothing did) and how long it took. Never retried: a probe reports what a client
// would have met.
#pragma once

#include <string>
#include <string_view>

#include "client/http_client.h"
#include "common/clock.h"

namespace outpost::cli {

// The Outpost REST client (client/) under the names the commands use.
using client::Endpoint;
using client::Headers;
using client::HttpResult;
using client::Request;
using client::RequestOptions;

struct ProbeResult {
  bool answered = false;  // an HTTP answer came back (of any status)
  int status = 0;         // its status
  double ms = 0;          // time taken (per `clock`)
  std::string body;
  std::string error;  // !answered: why ("cannot reach …: Connection refused", a timeout)
};

ProbeResult Probe(const Endpoint& endpoint, const std::string& api_key, std::string_view method,
                  std::string_view target, std::string_view body, const RequestOptions& options,
                  const Clock& clock);

// "ok 200 3 ms" / "HTTP 503 12 ms" / "no answer: …", for observed values.
std::string Describe(const ProbeResult& p);

}  // namespace outpost::cli
