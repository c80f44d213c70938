#include "runner/netproxy/proxy.h"

#include "runner/netproxy/session.h"

namespace outpost::netproxy {
namespace {

constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

}  // namespace

Result<std::unique_ptr<EgressProxy>> EgressProxy::Start(const std::string& unix_socket_path,
                                                        Allowlist allowlist, BlockedFn on_blocked,
                                                        Options options) {
  if (options.clock == nullptr) options.clock = &RealClock::Instance();
  std::unique_ptr<EgressProxy> proxy(
      new EgressProxy(std::move(allowlist), std::move(on_blocked), options));
  UnixServerOptions server_options;
  server_options.mode = 0666;
  server_options.max_connections = options.max_connections;
  server_options.busy_reply = std::string(kBusy);
  auto server = UnixServer::Start(
      unix_socket_path,
      [p = proxy.get()](UniqueFd client, int stop_fd) {
        SessionContext ctx{p->allowlist_, p->options_, p->on_blocked_, *p->options_.clock, stop_fd};
        ServeConnection(std::move(client), ctx);
      },
      std::move(server_options));
  if (!server.ok()) return server.status();
  proxy->server_ = std::move(server).value();
  return proxy;
}

EgressProxy::EgressProxy(Allowlist allowlist, BlockedFn on_blocked, Options options)
    : allowlist_(std::move(allowlist)), on_blocked_(std::move(on_blocked)), options_(options) {}

EgressProxy::~EgressProxy() { Stop(); }

void EgressProxy::Stop() {
  if (server_) server_->Stop();
}

int EgressProxy::active_connections() const { return server_->active_connections(); }

}  // namespace outpost::netproxy
