#include "tests/integration/sse_client.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE  // POLLRDHUP
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace outpost::testing {

SseClient::SseClient(const std::string& host_port, const std::string& path,
                     std::int64_t last_event_id, int rcvbuf) {
  const std::size_t colon = host_port.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(host_port.c_str() + colon + 1)));
  ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  std::string req =
      "GET " + path + " HTTP/1.1\r\nHost: " + host_port + "\r\nAccept: text/event-stream\r\n";
  if (last_event_id > 0) req += "Last-Event-ID: " + std::to_string(last_event_id) + "\r\n";
  req += "\r\n";
  if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd_);
    fd_ = -1;
  }
}

SseClient::~SseClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool SseClient::Fill(std::chrono::milliseconds timeout) {
  if (eof_ || fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char chunk[65536];
  ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buf_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

int SseClient::ReadHeader(std::chrono::milliseconds timeout) {
  std::size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(timeout)) return 0;
  }
  header_ = buf_.substr(0, end);
  buf_.erase(0, end + 4);
  return header_.size() > 12 ? std::atoi(header_.c_str() + 9) : 0;
}

bool SseClient::Read(const std::function<bool(const SseMessage&)>& on_event,
                     std::chrono::milliseconds idle) {
  if (header_.empty() && ReadHeader(idle) == 0) return false;
  for (;;) {
    std::size_t end;
    while ((end = buf_.find("\n\n")) != std::string::npos) {
      std::string block = buf_.substr(0, end);
      buf_.erase(0, end + 2);
      SseMessage m;
      bool has_data = false;
      for (std::size_t pos = 0; pos <= block.size();) {
        std::size_t nl = block.find('\n', pos);
        if (nl == std::string::npos) nl = block.size();
        std::string line = block.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.starts_with(":")) {
          ++comments_;
        } else if (line.starts_with("id: ")) {
          m.id = std::atoll(line.c_str() + 4);
        } else if (line.starts_with("event: ")) {
          m.event = line.substr(7);
        } else if (line.starts_with("data: ")) {
          m.data += (has_data ? "\n" : "") + line.substr(6);
          has_data = true;
        }
      }
      if (has_data && !on_event(m)) return false;
    }
    if (!Fill(idle)) return eof_;
  }
}

bool SseClient::ServerClosed() {
  if (fd_ < 0 || eof_) return true;
  pollfd p{fd_, POLLRDHUP, 0};  // the peer's FIN, even behind unread data
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace outpost::testing
