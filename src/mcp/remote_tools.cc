#include "mcp/remote_tools.h"

#include <algorithm>
#include <boost/json.hpp>

#include "client/api_client.h"
#include "common/json_util.h"
#include "mcp/tool_result.h"
#include "mcp/tools.h"

namespace outpost::mcp {
namespace json = boost::json;
namespace {

const Status kNoAnswer = Unavailable("no JSON-RPC answer");

// A tool error result for a failure to ask the server.
json::object LocalError(const json::value& id, const Status& st) {
  return Reply(id, ToolError(st));
}

}  // namespace

std::optional<json::object> ReplyFromBody(std::string_view body, std::string_view content_type) {
  if (content_type.find("text/event-stream") == std::string_view::npos) {
    auto v = ParseJson(body, 64);
    // A JSON-RPC message; anything else (the REST error envelope of a 429, say) is not one.
    if (v.ok() && v->is_object() && v->get_object().contains("jsonrpc")) return v->get_object();
    return std::nullopt;
  }
  std::optional<json::object> last;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    if (line.starts_with("data:")) {
      line.remove_prefix(5);
      if (line.starts_with(" ")) line.remove_prefix(1);
      auto v = ParseJson(line, 64);
      if (v.ok() && v->is_object()) last = v->get_object();
    }
    pos = end + 1;
  }
  return last;
}

RemoteTools::RemoteTools(RemoteOptions options) : opts_(std::move(options)) {
  if (!opts_.clock) opts_.clock = &RealClock::Instance();
  if (!opts_.sleep) opts_.sleep = SleepOn(*opts_.clock);
}

RemoteTools::~RemoteTools() {
  if (connect_thread_.joinable()) connect_thread_.join();
}

void RemoteTools::Connect() {
  if (!opts_.endpoint) return;
  {
    std::lock_guard lock(connect_mu_);
    if (connect_started_) return;
    connect_started_ = true;
  }
  connect_thread_ = std::thread([this] {
    EnsureSession();
    std::optional<json::object> list;
    bool answered = false;
    {
      std::lock_guard lock(mu_);
      answered = initialized_;
    }
    if (answered) {
      json::object request{{"jsonrpc", "2.0"},
                           {"id", "outpost-stdio-tools"},
                           {"method", "tools/list"},
                           {"params", json::object{}}};
      Exchange ex = Post(request, opts_.request_timeout, Millis(0));
      if (ex.reply) {
        if (auto* result = ex.reply->if_contains("result"); result && result->is_object()) {
          list = result->get_object();
        }
      }
    } else if (opts_.log) {
      opts_.log("outpost mcp: the Outpost server at " + opts_.endpoint->ToString() +
                " does not answer; every tool call will say so until it does");
    }
    std::lock_guard lock(connect_mu_);
    tools_list_ = std::move(list);
    connect_done_ = true;
    connect_cv_.notify_all();
  });
}

std::optional<json::object> RemoteTools::ToolsList(Millis wait) {
  std::unique_lock lock(connect_mu_);
  if (!connect_started_) return std::nullopt;
  connect_cv_.wait_for(lock, wait, [this] { return connect_done_; });
  return tools_list_;
}

client::Headers RemoteTools::HeadersFor() const {
  client::Headers h{{"Accept", "application/json, text/event-stream"},
                    {"Content-Type", "application/json"},
                    {"MCP-Protocol-Version", version_}};
  if (!session_id_.empty()) h.emplace_back("Mcp-Session-Id", session_id_);
  if (!opts_.api_key.empty()) h.emplace_back("Authorization", "Bearer " + opts_.api_key);
  return h;
}

RemoteTools::Exchange RemoteTools::Post(const json::object& message, Millis timeout,
                                        Millis connect_retry_for) {
  client::RequestOptions ro;
  ro.connect_timeout = opts_.connect_timeout;
  ro.read_timeout = timeout;
  ro.clock = opts_.clock;
  ro.sleep = opts_.sleep;
  // The client's own retry covers only connections that sent nothing.
  ro.retry_for = connect_retry_for;
  ro.retry_backoff = opts_.first_backoff;
  Result<client::HttpResult> r =
      client::Request(*opts_.endpoint, "POST", "/mcp", json::serialize(message), HeadersFor(), ro);
  Exchange ex;
  if (!r.ok()) {
    ex.unreachable = r.status().code() == Code::kUnavailable;
    ex.error = ex.unreachable
                   ? Unavailable("the Outpost server does not answer: " + r.status().message() +
                                 " (is outpost serve running there?)")
                   : r.status();
    ex.retryable = ex.unreachable;
    return ex;
  }
  if (r->status >= 500) {
    ex.error = Unavailable("the server answered HTTP " + std::to_string(r->status));
    ex.retryable = true;
    return ex;
  }
  ex.reply = ReplyFromBody(r->body, r->content_type);
  if (!ex.reply) {
    if (r->status == 202) return ex;  // a notification was accepted
    ex.error = r->status == 404 ? NotFound("the server has no /mcp (is " +
                                           opts_.endpoint->ToString() + " an outpost serve?)")
               // The REST error envelope of a refusal before the MCP layer (429 of the rate
               // limit, 401/403 of authentication): its code, message and details.
               : r->status >= 400 ? client::StatusFromHttpError(r->status, r->body)
                                  : Status(Code::kInternal, "the server answered HTTP " +
                                                                std::to_string(r->status) + ": " +
                                                                r->body.substr(0, 300));
  }
  return ex;
}

void RemoteTools::EnsureSession() {
  std::lock_guard lock(mu_);
  if (initialized_) return;
  json::object init = Reply(json::value("outpost-stdio-init"), nullptr);
  init.erase("result");
  init["method"] = "initialize";
  init["params"] = json::object{
      {"protocolVersion", kLatestProtocolVersion},
      {"capabilities", json::object{}},
      {"clientInfo", json::object{{"name", "outpost-mcp-stdio"}, {"version", OUTPOST_VERSION}}}};
  client::RequestOptions ro;
  ro.connect_timeout = opts_.connect_timeout;
  ro.read_timeout = opts_.request_timeout;
  ro.clock = opts_.clock;
  auto r =
      client::Request(*opts_.endpoint, "POST", "/mcp", json::serialize(init), HeadersFor(), ro);
  if (!r.ok() || r->status != 200) return;  // the call itself will report and retry
  session_id_ = r->mcp_session_id;
  if (auto reply = ReplyFromBody(r->body, r->content_type)) {
    if (auto* res = reply->if_contains("result"); res && res->is_object()) {
      if (auto v = GetString(res->get_object(), "protocolVersion"); v && IsSupportedVersion(*v)) {
        version_ = *v;
      }
    }
  }
  initialized_ = true;
  json::object note{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}};
  (void)client::Request(*opts_.endpoint, "POST", "/mcp", json::serialize(note), HeadersFor(), ro);
}

json::object RemoteTools::Call(const json::value& id, const ToolCall& call) {
  if (!opts_.endpoint) return LocalError(id, FailedPrecondition(opts_.unconfigured_help));
  const MonoTime start = opts_.clock->Mono();  // the budgets count asking for a session too
  EnsureSession();
  // The id is forgotten when the call ends, however it ends.
  std::shared_ptr<void> forget(nullptr, [&](void*) { WasCancelled(id, /*forget=*/true); });
  if (WasCancelled(id, false)) return LocalError(id, FailedPrecondition("cancelled by the client"));
  json::object request{
      {"jsonrpc", "2.0"},
      {"id", id},
      {"method", "tools/call"},
      {"params", json::object{{"name", call.name}, {"arguments", call.arguments}}}};
  Millis timeout = opts_.request_timeout;
  if (auto* w = call.arguments.if_contains("waitSeconds"); w && w->is_int64()) {
    timeout += std::chrono::seconds(std::clamp<std::int64_t>(w->get_int64(), 0, kMaxWaitSeconds));
  }
  // Without an idempotencyKey a repeated dispatch could start a second run: only a connection
  // that sent nothing is tried again.
  if (call.name == "dispatch" && !call.arguments.contains("idempotencyKey")) {
    Exchange ex = Post(request, timeout, std::min(opts_.retry_for, opts_.unreachable_retry_for));
    if (ex.reply) return std::move(*ex.reply);
    return LocalError(id, ex.error.ok() ? kNoAnswer : ex.error);
  }
  Millis backoff = opts_.first_backoff;
  for (int attempt = 1;; ++attempt) {
    Exchange ex = Post(request, timeout, Millis(0));
    bool retry = ex.retryable;
    if (ex.reply) {
      auto* result = ex.reply->if_contains("result");
      auto http =
          result && result->is_object() ? ToolErrorHttpStatus(result->get_object()) : std::nullopt;
      if (!http || *http < 500) return std::move(*ex.reply);
      retry = true;
      ex.error = Unavailable("the server answered with a " + std::to_string(*http) + " error");
    }
    const Millis budget =
        ex.unreachable ? std::min(opts_.retry_for, opts_.unreachable_retry_for) : opts_.retry_for;
    if (!retry || opts_.clock->Mono() - start + backoff > budget) {
      if (ex.reply) return std::move(*ex.reply);
      return LocalError(id, ex.error.ok() ? kNoAnswer : ex.error);
    }
    if (opts_.log) {
      opts_.log("outpost mcp: " + ex.error.message() + "; retry " + std::to_string(attempt) +
                " in " + std::to_string(backoff.count()) + " ms");
    }
    opts_.sleep(backoff);
    backoff = std::min(backoff * 2, opts_.max_backoff);
  }
}

bool RemoteTools::WasCancelled(const json::value& id, bool forget) {
  std::lock_guard lock(cancel_mu_);
  const std::string key = json::serialize(id);
  const bool cancelled = cancelled_.count(key) > 0;
  if (forget) cancelled_.erase(key);
  return cancelled;
}

void RemoteTools::Cancel(const json::value& id) {
  if (!opts_.endpoint) return;
  {
    std::lock_guard lock(cancel_mu_);
    cancelled_.insert(json::serialize(id));
  }
  json::object note{
      {"jsonrpc", "2.0"},
      {"method", "notifications/cancelled"},
      {"params", json::object{{"requestId", id}, {"reason", "cancelled by the client"}}}};
  (void)Post(note, opts_.request_timeout, Millis(0));
}

}  // namespace outpost::mcp
