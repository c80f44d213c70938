// A tiny blocking HTTP/1.1 client over POSIX sockets for the api tests: it writes raw bytes (so
// tests can pipeline or send malformed requests) and parses responses one at a time. Test-only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "http/http_types.h"

namespace outpost::http::testing {

struct RawResponse {
  int status = 0;
  Headers headers;
  std::string body;
  boost::json::value Json() const { return boost::json::parse(body); }
};

class RawClient {
 public:
  // Connects to "IP:PORT" (IPv4). connected() tells whether it worked.
  explicit RawClient(const std::string& host_port,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::size_t colon = host_port.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(host_port.c_str() + colon + 1)));
    inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one final response (1xx responses are skipped); nullopt on EOF, timeout or garbage.
  std::optional<RawResponse> Read() {
    while (true) {
      std::size_t end;
      while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
        if (!Fill()) return std::nullopt;
      }
      RawResponse r;
      std::string_view head(buf_.data(), end);
      std::size_t line_end = head.find("\r\n");
      std::string_view status_line = head.substr(0, line_end);
      if (status_line.size() < 12) return std::nullopt;
      r.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
      while (line_end != std::string_view::npos) {
        head.remove_prefix(line_end + 2);
        line_end = head.find("\r\n");
        std::string_view line = head.substr(0, line_end);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        r.headers.Add(std::string(line.substr(0, colon)), std::string(value));
      }
      buf_.erase(0, end + 4);
      if (r.status >= 100 && r.status < 200) continue;
      std::size_t length = std::stoul(r.headers.Get("Content-Length").value_or("0"));
      if (!head_request_) {
        while (buf_.size() < length) {
          if (!Fill()) return std::nullopt;
        }
        r.body = buf_.substr(0, length);
        buf_.erase(0, length);
      }
      return r;
    }
  }

  // Sends one request and reads its response.
  std::optional<RawResponse> Request(std::string_view method, std::string_view target,
                                     std::string_view extra_headers = "",
                                     std::string_view body = "") {
    std::string req = std::string(method) + " " + std::string(target) +
                      " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers);
    if (!body.empty() || method == "POST") {
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n";
    req += body;
    head_request_ = method == "HEAD";
    if (!Send(req)) return std::nullopt;
    auto r = Read();
    head_request_ = false;
    return r;
  }

  // For a streamed body: what is buffered plus everything until the server closes (or the
  // receive timeout passes).
  std::string ReadToClose() {
    while (Fill()) {
    }
    return std::exchange(buf_, {});
  }
  // For a streamed body: reads until the buffer holds `needle`; false on EOF or timeout.
  bool ReadUntil(std::string_view needle) {
    while (buf_.find(needle) == std::string::npos) {
      if (!Fill()) return false;
    }
    return true;
  }
  const std::string& buffered() const { return buf_; }

  // True when the server closed the connection (EOF or reset) within the receive timeout.
  bool PeerClosed() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  bool Fill() {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool head_request_ = false;
  std::string buf_;
};

}  // namespace outpost::http::testing
