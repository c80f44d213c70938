// RemoteTools: how the stdio server (`outpost mcp`) runs a tool — it forwards the tools/call to
// `POST /mcp` of a running `outpost serve`.
//
// Why forward to /mcp rather than map onto the REST routes: the server already turns every
// tool into one RunService call and formats its result (service_tools.h); forwarding the
// JSON-RPC call unchanged means the stdio server has no tool logic at all — no second
// formatting, no second error mapping, no second waiting loop — and both transports answer
// byte for byte alike. The catalog (tools.h) is compiled into both, so tools/list works, and
// explains itself, even before a server is configured.
//
// Retries: 5xx answers — HTTP 5xx, or a tool error whose httpStatus is 5xx (e.g.
// SERVICE_UNAVAILABLE) — are retried with exponential backoff for `retry_for`; not reaching the
// server at all (nothing was sent) only for `unreachable_retry_for` (4 s: a server that is not
// there is reported while the model still waits, not after half a minute); 4xx never. dispatch
// is retried on a 5xx only with an idempotencyKey (a lost answer could otherwise hide a run; a
// refused connection is always safe).
//
// Connect (the stdio server calls it when the client initializes): asks the server once, in the
// background, whether it answers — logging at once when it does not — and fetches its
// tools/list (its dispatch schema names the server's own agents and models), which ToolsList
// then serves.
//
// Thread-safe: calls may run concurrently (one per in-flight request).
#pragma once

#include <boost/json/object.hpp>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "client/http_client.h"
#include "common/clock.h"
#include "mcp/protocol.h"

namespace outpost::mcp {

struct RemoteOptions {
  std::optional<client::Endpoint> endpoint;  // nullopt: none configured
  std::string api_key;                       // sent as Authorization: Bearer
  std::string unconfigured_help;             // the tool error text when no endpoint is configured
  Millis retry_for{30'000};
  Millis first_backoff{250};
  Millis max_backoff{4'000};
  Millis unreachable_retry_for{4'000};  // nothing reached the server: retried this long
  Millis connect_timeout{2'000};
  Millis request_timeout{30'000};               // plus waitSeconds for get_run
  const Clock* clock = nullptr;                 // RealClock when null
  std::function<void(Millis)> sleep;            // sleeps on `clock` when empty
  std::function<void(const std::string&)> log;  // progress notes (stderr), may be empty
};

class RemoteTools {
 public:
  explicit RemoteTools(RemoteOptions options);
  ~RemoteTools();
  RemoteTools(RemoteTools&&) = delete;

  // Starts asking the server (initialize, then tools/list) on a thread of its own; once per
  // RemoteTools (later calls do nothing). Without an endpoint: nothing.
  void Connect();
  // The server's tools/list result, once Connect got it: waits up to `wait` for Connect to
  // finish. nullopt when Connect was not called, failed, or is still asking.
  std::optional<boost::json::object> ToolsList(Millis wait);

  // The JSON-RPC reply to a tools/call with `id`: the server's reply as it came, or a tool
  // error result when the server could not be asked (not configured, unreachable, refused).
  boost::json::object Call(const boost::json::value& id, const ToolCall& call);

  // Forwards notifications/cancelled for the call with `id` (best effort, not retried).
  void Cancel(const boost::json::value& id);

 private:
  struct Exchange {
    std::optional<boost::json::object> reply;  // the JSON-RPC reply
    Status error;                              // why there is none
    bool retryable = false;
    bool unreachable = false;  // nothing reached the server (the connection failed)
  };
  Exchange Post(const boost::json::object& message, Millis timeout, Millis connect_retry_for);
  // Initializes a session once (its Mcp-Session-Id scopes cancellation); kept on failure: the
  // calls then go without one.
  void EnsureSession();
  client::Headers HeadersFor() const;
  // True when Cancel(id) came; `forget` drops the mark (the call ended).
  bool WasCancelled(const boost::json::value& id, bool forget);

  RemoteOptions opts_;
  std::mutex mu_;
  bool initialized_ = false;  // guarded by mu_
  std::string session_id_;    // guarded by mu_ (written once under it, before any call reads it)
  std::string version_ = std::string(kLatestProtocolVersion);
  std::mutex cancel_mu_;
  std::set<std::string> cancelled_;  // guarded by cancel_mu_: serialized ids of calls cancelled
  std::mutex connect_mu_;
  std::condition_variable connect_cv_;
  bool connect_started_ = false;                   // guarded by connect_mu_
  bool connect_done_ = false;                      // guarded by connect_mu_
  std::optional<boost::json::object> tools_list_;  // guarded by connect_mu_
  std::thread connect_thread_;
};

// Reads the JSON-RPC message out of a /mcp answer body: JSON, or the last `data:` of an SSE
// stream. nullopt when there is none.
std::optional<boost::json::object> ReplyFromBody(std::string_view body,
                                                 std::string_view content_type);

}  // namespace outpost::mcp
