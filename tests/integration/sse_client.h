// A blocking Server-Sent Events client for tests and benchmarks: one GET on a fresh connection,
// events parsed as the server sends them. Written from the wire format, independent of the
// server's and the CLI's code.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace outpost::testing {

struct SseMessage {
  std::int64_t id = 0;  // 0: no id field
  std::string event;
  std::string data;  // for Outpost: the stored JSON line
};

class SseClient {
 public:
  // Connects to HOST:PORT and sends `GET path`, with Last-Event-ID when last_event_id > 0.
  // rcvbuf > 0 shrinks the socket's receive buffer first (a client that reads slowly).
  SseClient(const std::string& host_port, const std::string& path, std::int64_t last_event_id = 0,
            int rcvbuf = 0);
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Reads until the response header is in; returns the HTTP status (0 on failure).
  int ReadHeader(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  const std::string& header() const { return header_; }
  // Reads events and hands each to `on_event` until the server closes the connection (returns
  // true), `on_event` returns false, or nothing arrives for `idle` (both return false).
  bool Read(const std::function<bool(const SseMessage&)>& on_event,
            std::chrono::milliseconds idle = std::chrono::seconds(30));
  // Whether the server has closed the connection (without reading what is pending).
  bool ServerClosed();
  // Comment lines (": heartbeat") seen so far.
  int comments() const { return comments_; }

 private:
  bool Fill(std::chrono::milliseconds timeout);

  int fd_ = -1;
  std::string buf_;
  std::string header_;
  int comments_ = 0;
  bool eof_ = false;
};

}  // namespace outpost::testing
