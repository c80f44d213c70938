#include "runner/netproxy/session.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
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

// Plain HTTP (audit F13): a connection is pinned to the host of its first request. The client
// side is parsed request by request (head, then its Content-Length body); each later request
// must name the same host:port — it is rewritten like the first and forwarded, so keep-alive
// clients keep working — and anything else (another host, CONNECT, origin-form, chunked, an
// unparsable head) ends forwarding: the origin gets a half-close and never sees those bytes,
// and the attempt is reported. Each side's EOF is passed on as a half-close, and the session
// ends when both sides are done (a client reads our FIN, not a reset from unread bytes).
class PinnedForward {
 public:
  PinnedForward(const ProxyRequest& first, const SessionContext& ctx)
      : dest_(first.dest), ctx_(ctx), body_left_(first.body_length) {}

  // Consumes client bytes; returns what to send upstream. Sets refused() when forwarding ends.
  std::string Feed(std::string_view in) {
    std::string out;
    while (!in.empty() && !refused_) {
      if (body_left_ > 0) {
        const std::size_t n = std::min(body_left_, in.size());
        out.append(in.substr(0, n));
        body_left_ -= n;
        in.remove_prefix(n);
        continue;
      }
      head_.append(in);
      in = {};
      const std::size_t end = FindHeadEnd(head_);
      if (end == std::string::npos) {
        if (head_.size() > ctx_.options.max_header_bytes) Refuse("request head too large");
        break;
      }
      std::string rest = head_.substr(end);
      auto parsed = ParseRequestHead(std::string_view(head_).substr(0, end));
      auto req = parsed.ok() ? ClassifyRequest(*parsed) : Result<ProxyRequest>(parsed.status());
      head_.clear();
      if (!req.ok()) {
        Refuse(req.status().message());
        break;
      }
      if (req->tunnel || !SameDestination(req->dest)) {
        Refuse("another destination on a connection to " + dest_.ToString(), &req->dest);
        break;
      }
      out += req->forward_head;
      body_left_ = req->body_length;
      out += Feed(rest);
    }
    return out;
  }
  bool refused() const { return refused_; }

 private:
  bool SameDestination(const HostPort& d) const {
    if (d.port != dest_.port || d.host.size() != dest_.host.size()) return false;
    for (std::size_t i = 0; i < d.host.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(d.host[i])) !=
          std::tolower(static_cast<unsigned char>(dest_.host[i]))) {
        return false;
      }
    }
    return true;
  }
  void Refuse(const std::string& reason, const HostPort* to = nullptr) {
    refused_ = true;
    const HostPort& where = to != nullptr ? *to : dest_;
    if (ctx_.on_blocked) {
      ctx_.on_blocked(BlockedAttempt{where.host, where.port, ctx_.clock.Now(), reason});
    }
  }

  const HostPort dest_;
  const SessionContext& ctx_;
  std::size_t body_left_;
  std::string head_;  // a later request's head, until it is whole
  bool refused_ = false;
};

void BridgeOneRequest(int client, int upstream, const ProxyRequest& req, std::string_view rest,
                      const SessionContext& ctx) {
  PinnedForward pinned(req, ctx);
  bool client_open = true;
  bool upstream_open = true;
  auto stop_forwarding = [&] {
    client_open = false;  // later client bytes are read and dropped below, never forwarded
    ::shutdown(upstream, SHUT_WR);
  };
  std::string first = req.forward_head + pinned.Feed(rest);
  if (!SendAll(upstream, first, DeadlineIn(ctx.options.connect_timeout), ctx.stop_fd).ok()) return;
  if (pinned.refused()) stop_forwarding();
  bool client_eof = false;
  char buf[16384];
  while (!client_eof || upstream_open) {
    pollfd fds[3] = {{upstream_open ? upstream : -1, POLLIN, 0},
                     {client_eof ? -1 : client, POLLIN, 0},
                     {ctx.stop_fd, POLLIN, 0}};
    int ready = ::poll(fds, 3, static_cast<int>(ctx.options.idle_timeout.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || (fds[2].revents & POLLIN)) return;  // idle, error or stopping
    if (upstream_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::recv(upstream, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) return;
      if (n == 0) {
        upstream_open = false;
        ::shutdown(client, SHUT_WR);
      } else if (!SendAll(client, std::string_view(buf, static_cast<std::size_t>(n)),
                          DeadlineIn(ctx.options.idle_timeout), ctx.stop_fd)
                      .ok()) {
        return;
      }
    }
    if (!client_eof && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) return;
      if (n == 0) {
        client_eof = true;
        if (client_open) stop_forwarding();
        continue;
      }
      if (!client_open || !upstream_open) continue;  // dropped
      std::string out = pinned.Feed(std::string_view(buf, static_cast<std::size_t>(n)));
      if (!out.empty() &&
          !SendAll(upstream, out, DeadlineIn(ctx.options.idle_timeout), ctx.stop_fd).ok()) {
        return;
      }
      if (pinned.refused()) stop_forwarding();
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
