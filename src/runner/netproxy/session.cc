#include "runner/netproxy/session.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "runner/netproxy/http_head.h"
#include "runner/netproxy/relay.h"
#include "runner/netproxy/upstream.h"

namespace outpost::netproxy {
namespace {

// The request head and any bytes the client sent after it (a TLS ClientHello, a POST body).
struct Head {
  std::string head;
  std::string rest;
};

// Reads until the blank line ending the head. kInvalidArgument when it exceeds the limit,
// kUnavailable when the client went away, stalled past header_timeout, or we are stopping.
Result<Head> ReadHead(int fd, const SessionContext& ctx) {
  std::string buf;
  Deadline deadline = DeadlineIn(ctx.options.header_timeout);
  char chunk[4096];
  for (;;) {
    std::size_t end = FindHeadEnd(buf);
    if (end != std::string::npos && end <= ctx.options.max_header_bytes) {
      return Head{buf.substr(0, end), buf.substr(end)};
    }
    if (end != std::string::npos || buf.size() > ctx.options.max_header_bytes) {
      return InvalidArgument("request head larger than " +
                             std::to_string(ctx.options.max_header_bytes) + " bytes");
    }
    Wait w = WaitFor(fd, POLLIN, deadline, ctx.stop_fd);
    if (w != Wait::kReady) return Unavailable("no request head");
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n == 0) return Unavailable("client closed");
    if (n < 0 && errno != EAGAIN && errno != EINTR) return Unavailable("client read failed");
    if (n > 0) buf.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

// Best effort: the client may already be gone.
void Reply(int fd, const SessionContext& ctx, int status, const std::string& body) {
  std::string response = SimpleResponse(status, ReasonPhrase(status), body + "\n");
  (void)SendAll(fd, response, DeadlineIn(std::chrono::seconds(5)), ctx.stop_fd);
}

void Refuse(int fd, const SessionContext& ctx, const HostPort& dest, const std::string& reason) {
  if (ctx.on_blocked) ctx.on_blocked(BlockedAttempt{dest.host, dest.port, ctx.clock.Now(), reason});
  Reply(fd, ctx, 403,
        "outpost: egress to " + dest.ToString() + " is blocked by the run's network allowlist (" +
            reason + ")");
}

Result<UniqueFd> Connect(const HostPort& dest, const SessionContext& ctx) {
  UpstreamOptions up;
  up.allow_resolved_loopback = ctx.options.allow_resolved_loopback;
  up.deadline = DeadlineIn(ctx.options.connect_timeout);
  up.stop_fd = ctx.stop_fd;
  return ConnectUpstream(dest, up);
}

// Plain HTTP (audit F13): the origin gets this one request and its body, nothing the client
// sends after it (a pipelined request with another Host would reach the allowed host's address
// as if it were another host). Later client bytes are discarded, its EOF is passed on as a
// half-close, and the origin's answer is relayed until it closes.
void BridgeOneRequest(int client, int upstream, const ProxyRequest& req, std::string_view rest,
                      const SessionContext& ctx) {
  std::size_t body_left = req.body_length;
  const std::size_t now = std::min(body_left, rest.size());
  body_left -= now;
  Deadline send_deadline = DeadlineIn(ctx.options.connect_timeout);
  if (!SendAll(upstream, req.forward_head + std::string(rest.substr(0, now)), send_deadline,
               ctx.stop_fd)
           .ok()) {
    return;
  }
  bool client_open = true;
  char buf[16384];
  for (;;) {
    pollfd fds[3] = {{upstream, POLLIN, 0}, {client, POLLIN, 0}, {ctx.stop_fd, POLLIN, 0}};
    const int timeout = static_cast<int>(ctx.options.idle_timeout.count());
    fds[1].fd = client_open ? client : -1;
    int ready = ::poll(fds, 3, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || (fds[2].revents & POLLIN)) return;  // idle, error or stopping
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(upstream, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        ::shutdown(client, SHUT_WR);
        return;
      }
      if (!SendAll(client, std::string_view(buf, static_cast<std::size_t>(n)),
                   DeadlineIn(ctx.options.idle_timeout), ctx.stop_fd)
               .ok()) {
        return;
      }
    }
    if (client_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        client_open = false;
        ::shutdown(upstream, SHUT_WR);
        continue;
      }
      const std::size_t body = std::min(body_left, static_cast<std::size_t>(n));
      body_left -= body;
      if (body > 0 && !SendAll(upstream, std::string_view(buf, body),
                               DeadlineIn(ctx.options.idle_timeout), ctx.stop_fd)
                           .ok()) {
        return;
      }
    }
  }
}

// Sends what the client is owed before the relay starts, then relays until the end.
void Bridge(int client, int upstream, const ProxyRequest& req, const std::string& rest,
            const SessionContext& ctx) {
  if (!req.tunnel) return BridgeOneRequest(client, upstream, req, rest, ctx);
  Deadline send_deadline = DeadlineIn(ctx.options.connect_timeout);
  std::string ok = "HTTP/1.1 200 Connection Established\r\n\r\n";
  if (!SendAll(client, ok, send_deadline, ctx.stop_fd).ok()) return;
  if (!SendAll(upstream, rest, send_deadline, ctx.stop_fd).ok()) return;
  Relay(client, upstream, RelayOptions{ctx.options.idle_timeout, ctx.stop_fd});
}

void Serve(int client, const SessionContext& ctx) {
  auto head = ReadHead(client, ctx);
  if (!head.ok()) {
    if (head.status().code() == Code::kInvalidArgument) {
      Reply(client, ctx, 400, "outpost proxy: " + head.status().message());
    }
    return;
  }
  auto parsed = ParseRequestHead(head->head);
  auto req = parsed.ok() ? ClassifyRequest(*parsed) : Result<ProxyRequest>(parsed.status());
  if (!req.ok()) return Reply(client, ctx, 400, "outpost proxy: " + req.status().message());
  // The allowlist is checked before any DNS lookup: a refused name is never even resolved.
  if (!ctx.allowlist.Allows(req->dest.host, req->dest.port)) {
    return Refuse(client, ctx, req->dest, "not in allowlist");
  }
  auto upstream = Connect(req->dest, ctx);
  if (!upstream.ok() && upstream.status().code() == Code::kPermissionDenied) {
    return Refuse(client, ctx, req->dest, upstream.status().message());
  }
  if (!upstream.ok()) {
    return Reply(client, ctx, HttpStatusFor(upstream.status().code()),
                 "outpost proxy: " + upstream.status().message());
  }
  Bridge(client, upstream->get(), *req, head->rest, ctx);
}

}  // namespace

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
      return 400;
    case Code::kPermissionDenied:
      return 403;
    case Code::kUnavailable:
      return 502;
    case Code::kResourceExhausted:
      return 503;
    default:
      return 500;
  }
}

void ServeConnection(UniqueFd client, const SessionContext& ctx) {
  if (!SetNonBlocking(client.get()).ok()) return;
  Serve(client.get(), ctx);
}

}  // namespace outpost::netproxy
