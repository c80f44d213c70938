#include "agents/grok/chat_client.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

namespace outpost::agents::grok {
namespace json = boost::json;

namespace {

std::string ApiErrorText(const std::string& body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const json::value* err = v.as_object().if_contains("error");
    if (err && err->is_string()) return std::string(err->as_string());
    if (err && err->is_object()) {
      if (auto* m = err->as_object().if_contains("message"); m && m->is_string()) {
        return std::string(m->as_string());
      }
    }
  }
  return body.substr(0, 300);
}

bool Retryable(Code code) { return code == Code::kUnavailable || code == Code::kResourceExhausted; }

std::int64_t IntField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return 0;
}

}  // namespace

Status MapHttpStatus(int status, const std::string& body) {
  std::string what = "HTTP " + std::to_string(status) + ": " + ApiErrorText(body);
  if (status == 401) return {Code::kUnauthenticated, "API key rejected (" + what + ")"};
  if (status == 403) return {Code::kPermissionDenied, "access denied (" + what + ")"};
  if (status == 429) return {Code::kResourceExhausted, "rate limited (" + what + ")"};
  if (status >= 500) return Unavailable("server error (" + what + ")");
  return InvalidArgument("request rejected (" + what + ")");
}

Result<ChatReply> ParseChatResponse(const std::string& body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object())
    return Internal("response is not a JSON object: " + body.substr(0, 200));
  const json::object& o = v.as_object();
  ChatReply reply;
  const json::value* choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->as_array().empty() ||
      !choices->as_array()[0].is_object()) {
    return Internal("response has no choices");
  }
  const json::value* message = choices->as_array()[0].as_object().if_contains("message");
  if (message && message->is_object()) {
    const json::value* content = message->as_object().if_contains("content");
    if (content && content->is_string()) reply.content = std::string(content->as_string());
  }
  if (const json::value* usage = o.if_contains("usage"); usage && usage->is_object()) {
    reply.input_tokens = IntField(usage->as_object(), "prompt_tokens");
    reply.output_tokens = IntField(usage->as_object(), "completion_tokens");
  }
  return reply;
}

ChatClient::ChatClient(ChatOptions options, HttpSender sender, Sleeper sleep)
    : options_(std::move(options)), sender_(std::move(sender)), sleep_(std::move(sleep)) {}

std::chrono::milliseconds ChatClient::Delay(int attempt, const std::string& retry_after) const {
  unsigned seconds = 0;
  auto [end, ec] =
      std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), seconds);
  std::chrono::milliseconds d = options_.backoff * (1 << std::min(attempt, 10));
  if (ec == std::errc() && end == retry_after.data() + retry_after.size() && !retry_after.empty()) {
    d = std::chrono::seconds(seconds);
  }
  return std::min(d, options_.max_backoff);
}

Result<ChatReply> ChatClient::Complete(const Url& url, const std::vector<ChatMessage>& messages) {
  json::array msgs;
  for (const auto& m : messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
  json::object payload{{"model", options_.model},
                       {"messages", std::move(msgs)},
                       {"max_tokens", options_.max_tokens},
                       {"temperature", options_.temperature},
                       {"stream", false}};
  HttpRequest request{"POST",
                      url,
                      {{"Authorization", "Bearer " + options_.api_key},
                       {"Content-Type", "application/json"},
                       {"Accept", "application/json"}},
                      json::serialize(payload)};
  Status last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    std::string retry_after;
    auto response = sender_(request);
    if (!response.ok()) {
      last = response.status();
    } else if (response->status / 100 == 2) {
      return ParseChatResponse(response->body);
    } else {
      last = MapHttpStatus(response->status, response->body);
      retry_after = response->retry_after;
    }
    if (!Retryable(last.code()) || attempt + 1 == options_.max_attempts) break;
    sleep_(Delay(attempt, retry_after));
  }
  return last;
}

}  // namespace outpost::agents::grok
