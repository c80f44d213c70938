#include "runner/netproxy/session.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

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

// Sends what the client is owed before the relay starts, then relays until the end.
void Bridge(int client, int upstream, const ProxyRequest& req, const std::string& rest,
            const SessionContext& ctx) {
  Deadline send_deadline = DeadlineIn(ctx.options.connect_timeout);
  if (req.tunnel) {
    std::string ok = "HTTP/1.1 200 Connection Established\r\n\r\n";
    if (!SendAll(client, ok, send_deadline, ctx.stop_fd).ok()) return;
  }
  if (!SendAll(upstream, req.forward_head + rest, send_deadline, ctx.stop_fd).ok()) return;
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
