// ApiClient: the Outpost REST API (ARCHITECTURE §3) as typed calls over http_client.
//
// Success envelopes are unwrapped to their `data`; error envelopes become a Status whose code
// follows the HTTP status (400 kInvalidArgument, 404 kNotFound, 409 kConflict, 5xx kInternal or
// kUnavailable, ...) and whose details carry what the server said:
//   {"httpStatus": 400, "errorCode": "VALIDATION_ERROR", "details": {"errors": [...]}}.
// Failing to reach the server is kUnavailable (from Request()).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "common/status.h"

namespace outpost::client {

// Unwraps `{"success":true,"data":…}` to data. Error envelopes (and non-2xx answers without
// one) become the Status described above; a 2xx answer that is not an envelope is kInternal.
Result<boost::json::value> UnwrapEnvelope(const HttpResult& response);

// The Status for a non-2xx answer; `body` may be anything the server sent.
Status StatusFromHttpError(int http_status, std::string_view body);

struct ListRunsQuery {
  std::optional<int> limit;
  std::string status, agent, cursor;
  std::string repo, group, since;  // since: RFC 3339
  std::vector<std::string> tags;   // "key:value" each
};

// A /health or /health/fleet answer: top-level JSON, no envelope; 503 when unhealthy.
struct HealthReply {
  int http_status = 0;
  boost::json::value body;
};

class ApiClient {
 public:
  // `api_key` empty: no Authorization header. `base` sets timeouts (and the clock for tests).
  ApiClient(Endpoint endpoint, std::string api_key, RequestOptions base = {});

  const Endpoint& endpoint() const { return endpoint_; }

  // POST /dispatch -> data {runId, status, …}. Never retried: a lost answer could hide a run.
  Result<boost::json::value> Dispatch(const boost::json::object& body);
  // GET /runs/{id} -> the run. `retry` overrides the retry settings of the base options (used by
  // --wait to ride out a server restart).
  Result<boost::json::value> GetRun(std::string_view run_id, const RequestOptions* retry = nullptr);
  // GET /runs?… -> data {items, nextCursor, hasMore}.
  Result<boost::json::value> ListRuns(const ListRunsQuery& query);
  // GET `target` (a path with its query) -> the envelope's data.
  Result<boost::json::value> Get(const std::string& target);
  // POST /runs/{id}/cancel -> the run.
  Result<boost::json::value> Cancel(std::string_view run_id, const std::string& reason);
  // POST /runs/{id}/promote with `body` {mode, branch, title, body, base, draft} -> data
  // {runId, replayed, promotion}. Like Dispatch, not retried after it was sent.
  Result<boost::json::value> Promote(std::string_view run_id, const boost::json::object& body);
  // GET /groups/{id} -> data {groupId, count, runs[]}.
  Result<boost::json::value> Group(std::string_view group_id);
  // GET /health or /health/fleet. Any answer with a JSON body is a reply (also 503);
  // unreachable or a non-JSON body is an error.
  Result<HealthReply> Health(bool fleet);

 private:
  Result<HttpResult> Call(std::string_view method, const std::string& target, std::string_view body,
                          const RequestOptions& options);

  Endpoint endpoint_;
  std::string api_key_;
  RequestOptions base_;
};

}  // namespace outpost::client
