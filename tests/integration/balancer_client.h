// What a client does through the load balancer (tests/integration/balancer_fixture.h), shared by
// balancer_test and bench/balancer_bench: dispatch and read runs, follow a run's events over SSE
// with reconnects (Last-Event-ID), fetch its output.log artifact. No gtest: callers assert.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tests/integration/sse_client.h"

namespace outpost::testing {

// {"agent":"shell","task":TASK,"timeoutSeconds":TIMEOUT}
std::string ShellBody(const std::string& task, int timeout = 300);
// A shell task printing line-1 .. line-N, one echo each, `pause` seconds (sleep's argument)
// apart; ExpectedLines(n) is its stdout.
std::string NumberedLines(int n, const std::string& pause);
std::string ExpectedLines(int n);

struct Dispatched {
  std::string id;       // "" when the dispatch failed
  std::string backend;  // the replica that took it (X-Outpost-Backend)
  std::string answer;   // status and body when it failed
};
Dispatched DispatchVia(const std::string& address, const std::string& body);
// GET /runs/{id}'s data ({} when there is none).
boost::json::object RunVia(const std::string& address, const std::string& id);
// Polls RunVia until the status is terminal or `timeout` passes; the last answer.
boost::json::object WaitTerminalVia(const std::string& address, const std::string& id,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(120));

// What one follower saw of a run's stream, across its connections.
struct Followed {
  std::vector<SseMessage> events;
  std::vector<std::string> backends;  // of each connection that answered 200, in order
  std::vector<std::string> failures;  // connections refused ("STATUS BACKEND") or without events
  bool ended = false;                 // `end` seen
  // The stdout `output` events' data, concatenated.
  std::string Stdout() const;
  // "" when every event came once, in order (ids 1, 2, 3 ...) and `end` last; else what is wrong.
  std::string Problem() const;
};
// Follows GET /runs/{id}/events through `address` until `end`: closes the connection after every
// `reconnect_every` events and resumes with Last-Event-ID, and resumes the same way a connection
// that dropped (its replica died). A connection refused, or one that ends before `end` without a
// new event, is a failure, retried after 100 ms; it gives up after 50 failures or `timeout`.
// `on_event` sees each event as it arrives (the last one of f.events).
Followed Follow(const std::string& address, const std::string& id, int reconnect_every,
                std::chrono::milliseconds timeout = std::chrono::seconds(120),
                const std::function<void(const Followed&)>& on_event = nullptr);

// The run's output.log artifact: through `address`, GET /runs/{id}/artifacts once they are
// stored (up to 60 s), then its URL (s3rver's presigned one). `error` says what failed.
struct FetchedLog {
  std::string body, error;
};
FetchedLog OutputLogVia(const std::string& address, const std::string& id);

}  // namespace outpost::testing
