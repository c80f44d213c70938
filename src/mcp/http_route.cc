#include "mcp/http_route.h"

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "api/request_context.h"
#include "common/ids.h"
#include "common/json_util.h"
#include "http/media_type.h"
#include "mcp/protocol.h"

namespace outpost::mcp {
namespace json = boost::json;
namespace {

constexpr Millis kWaitPoll{250};

// A waiting get_run that notifications/cancelled can end.
struct CancelToken {
  std::mutex mu;
  bool cancelled = false;      // guarded by mu
  std::function<void()> wake;  // guarded by mu
  void Cancel() {
    std::function<void()> w;
    {
      std::lock_guard lock(mu);
      cancelled = true;
      w = wake;
    }
    if (w) w();
  }
  bool IsCancelled() {
    std::lock_guard lock(mu);
    return cancelled;
  }
};

// In-flight waits by "session|request id". A cancellation can overtake its call (the client
// sends both at once, on two connections), so one for no known wait is remembered for a while
// and ends that wait as soon as it registers.
class CancelRegistry {
 public:
  explicit CancelRegistry(const Clock& clock) : clock_(clock) {}

  void Add(const std::string& key, const std::shared_ptr<CancelToken>& t) {
    std::lock_guard lock(mu_);
    if (early_.erase(key)) t->Cancel();
    tokens_[key] = t;
  }
  void Remove(const std::string& key, const CancelToken* t) {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(key);
    if (it != tokens_.end() && (it->second.expired() || it->second.lock().get() == t)) {
      tokens_.erase(it);
    }
  }
  void Cancel(const std::string& key) {
    std::shared_ptr<CancelToken> t;
    {
      std::lock_guard lock(mu_);
      if (auto it = tokens_.find(key); it != tokens_.end()) t = it->second.lock();
      if (!t) Remember(key);
    }
    if (t) t->Cancel();
  }

 private:
  static constexpr std::size_t kMaxEarly = 1024;
  static constexpr std::chrono::seconds kEarlyTtl{60};

  void Remember(const std::string& key) {
    const MonoTime now = clock_.Mono();
    std::erase_if(early_, [&](const auto& kv) { return now - kv.second > kEarlyTtl; });
    if (early_.size() < kMaxEarly) early_[key] = now;
  }

  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::weak_ptr<CancelToken>> tokens_;  // guarded by mu_
  std::map<std::string, MonoTime> early_;  // guarded by mu_: cancelled before they arrived
};

std::string Frame(const json::object& reply, bool sse) {
  return sse ? "event: message\ndata: " + ToJson(reply) + "\n\n" : ToJson(reply);
}

class WaitStream : public http::BodyStream {
 public:
  WaitStream(ServiceTools& tools, const Clock& clock, GetRunWait wait, json::value id, bool sse,
             std::shared_ptr<CancelToken> token, std::shared_ptr<CancelRegistry> registry,
             std::string key)
      : tools_(tools),
        clock_(clock),
        wait_(std::move(wait)),
        id_(std::move(id)),
        sse_(sse),
        token_(std::move(token)),
        registry_(std::move(registry)),
        key_(std::move(key)) {}
  ~WaitStream() override { registry_->Remove(key_, token_.get()); }

  void Start(std::function<void()> wake) override {
    std::lock_guard lock(token_->mu);
    token_->wake = std::move(wake);
  }
  State Pull(std::string& out, std::size_t) override {
    if (token_->IsCancelled()) return State::kEnd;  // cancelled: no answer
    auto result = tools_.Resume(wait_, clock_.Mono() >= wait_.deadline);
    if (!result) return State::kWait;
    out += Frame(Reply(id_, std::move(*result)), sse_);
    return State::kEnd;
  }
  Millis WaitLimit() const override {
    auto left = std::chrono::duration_cast<Millis>(wait_.deadline - clock_.Mono());
    return std::clamp(left, Millis(1), kWaitPoll);
  }

 private:
  ServiceTools& tools_;
  const Clock& clock_;
  GetRunWait wait_;
  json::value id_;
  bool sse_;
  std::shared_ptr<CancelToken> token_;
  std::shared_ptr<CancelRegistry> registry_;
  std::string key_;
};

class McpHttp {
 public:
  McpHttp(ServiceTools& tools, const Clock& clock, std::shared_ptr<const http::AllowedHosts> hosts)
      : tools_(tools), clock_(clock), hosts_(std::move(hosts)) {}

  http::Response Post(const http::Request& req) {
    // Never "the Origin equals the Host": under DNS rebinding both name the attacker's site.
    if (auto origin = req.headers.Get("Origin"); origin && !hosts_->OriginAllowed(*origin)) {
      return Plain(403, ErrorReply(nullptr, kInvalidRequest, "Forbidden origin " + *origin));
    }
    if (auto v = req.headers.Get("MCP-Protocol-Version"); v && !IsSupportedVersion(*v)) {
      return Plain(400, ErrorReply(nullptr, kInvalidRequest,
                                   "Unsupported MCP-Protocol-Version " + *v +
                                       " (supported: " + SupportedVersionsText() + ")"));
    }
    if (!http::IsJsonContentType(req.headers.Get("Content-Type").value_or(""))) {
      return Plain(415,
                   ErrorReply(nullptr, kInvalidRequest, "Content-Type must be application/json"));
    }
    Parsed parsed = ParseMessage(req.body);
    if (!parsed.message) return Plain(400, parsed.error_reply);
    const Message& m = *parsed.message;
    const std::string session = req.headers.Get("Mcp-Session-Id").value_or("");
    if (m.kind != Message::Kind::kRequest) {
      if (auto id = CancelledRequestId(m)) registry_->Cancel(session + "|" + json::serialize(*id));
      http::Response r;
      r.status = 202;
      return r;
    }
    const bool sse = WantsSse(req.headers.Get("Accept"));
    const json::object tools_list = m.method == "tools/list" ? tools_.ToolsList() : json::object{};
    Step step = HandleRequest(m, m.method == "tools/list" ? &tools_list : nullptr);
    if (step.reply) {
      http::Response r = Answer(*step.reply, sse);
      if (m.method == "initialize" && step.reply->contains("result")) {
        r.headers.Set("Mcp-Session-Id", NewUlid(clock_.Now()));
      }
      return r;
    }
    ServiceTools::Outcome out = tools_.Call(*step.call, api::ContextOf(req));
    if (!out.wait) return Answer(Reply(m.id, std::move(out.result)), sse);
    return Waiting(std::move(*out.wait), m.id, session, sse);
  }

 private:
  // SSE only for a client that accepts it and not JSON (every conforming client accepts both).
  static bool WantsSse(const std::optional<std::string>& accept) {
    if (!accept) return false;
    return accept->find("text/event-stream") != std::string::npos &&
           accept->find("application/json") == std::string::npos &&
           accept->find("*/*") == std::string::npos;
  }

  static http::Response Plain(int status, const json::object& body) {
    http::Response r;
    r.status = status;
    r.body = ToJson(body);
    return r;
  }

  static http::Response Answer(const json::object& reply, bool sse) {
    http::Response r;
    r.body = Frame(reply, sse);
    if (sse) r.content_type = "text/event-stream";
    return r;
  }

  http::Response Waiting(GetRunWait wait, const json::value& id, const std::string& session,
                         bool sse) {
    auto token = std::make_shared<CancelToken>();
    const std::string key = session + "|" + json::serialize(id);
    registry_->Add(key, token);
    http::Response r;
    r.content_type = sse ? "text/event-stream" : "application/json";
    r.headers.Set("Cache-Control", "no-cache");
    r.stream = std::make_shared<WaitStream>(tools_, clock_, std::move(wait), id, sse,
                                            std::move(token), registry_, key);
    return r;
  }

  ServiceTools& tools_;
  const Clock& clock_;
  std::shared_ptr<const http::AllowedHosts> hosts_;
  std::shared_ptr<CancelRegistry> registry_ = std::make_shared<CancelRegistry>(clock_);
};

}  // namespace

void RegisterMcpRoute(http::Router& router, ServiceTools& tools, const Clock& clock,
                      std::shared_ptr<const http::AllowedHosts> hosts) {
  auto mcp = std::make_shared<McpHttp>(tools, clock, std::move(hosts));
  // Any valid key (or open mode) reaches the endpoint; each tool then needs its own scope.
  router.Add("POST", "/mcp", http::Access::AnyKey(),
             [mcp](const http::Request& req, const http::PathParams&) { return mcp->Post(req); });
}

}  // namespace outpost::mcp
