// Plain HTTP request and response values, independent of the transport (no Beast types), so that
// routes, the router and the envelope can be built and tested without sockets.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/access.h"

namespace outpost::http {

// HTTP header fields in arrival order. Names compare case-insensitively (RFC 9110 §5.1).
class Headers {
 public:
  // The first value of `name`, or nullopt when absent.
  std::optional<std::string> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  // Replaces every field named `name` by one with `value`.
  void Set(std::string_view name, std::string value);
  // Appends a field (for repeated headers).
  void Add(std::string_view name, std::string value);
  void Remove(std::string_view name);

  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

using QueryParams = std::multimap<std::string, std::string>;

struct Request {
  std::string method;  // upper case, as sent: "GET", "POST", ...
  std::string target;  // the raw request target, "/runs?limit=5"
  std::string path;    // percent-decoded, normalised path (set by HandleRequest)
  QueryParams query;   // decoded query parameters (set by HandleRequest)
  Headers headers;
  std::string body;
  std::string client_address;  // "IP:PORT" of the peer
  std::string request_id;      // the X-Request-ID this request is answered with
  Identity identity;           // the caller (set by HandleRequest before the handler runs)

  // The first value of query parameter `name`, or nullopt.
  std::optional<std::string> Query(std::string_view name) const;
};

// A response body produced over time (Server-Sent Events). The server pulls from it on its io
// thread, one write at a time: a client that reads slowly only slows its own stream, and memory
// per stream stays at one chunk. It must never block.
class BodyStream {
 public:
  enum class State {
    kMore,  // pull again now
    kWait,  // nothing now: pull again after a wake, or after WaitLimit() at the latest
    kEnd,   // complete (the last bytes may be in `out`)
  };
  virtual ~BodyStream() = default;
  // Called once, before the first Pull, with the function that makes the server pull again.
  // `wake` may be called from any thread, any number of times, while the stream exists.
  virtual void Start(std::function<void()> wake) = 0;
  // Appends what is ready now to `out`, about `max_bytes` at most.
  virtual State Pull(std::string& out, std::size_t max_bytes) = 0;
  virtual std::chrono::milliseconds WaitLimit() const = 0;
};

struct Response {
  int status = 200;
  Headers headers;  // besides Content-Type, which is `content_type`
  std::string body;
  std::string content_type = "application/json";
  // When set, the body (`body` is ignored): sent as it is produced, without Content-Length, on
  // a connection that closes at its end. A server shutdown ends it early.
  std::shared_ptr<BodyStream> stream;
  // Fault injection only (http/fault_injection.h): close the connection without answering.
  bool drop_connection = false;
};

}  // namespace outpost::http
