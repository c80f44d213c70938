// An OpenAI-compatible chat-completions client (POST {base}/chat/completions, stream:false).
//
// Maps the HTTP outcome to a Status in one place (MapHttpStatus): 401 kUnauthenticated,
// 403 kPermissionDenied, 429 kResourceExhausted, 5xx kUnavailable, other 4xx kInvalidArgument;
// every message names the HTTP status and the API's own error text. 429, 5xx and transport
// failures are retried with exponential backoff (Retry-After honoured, capped); the sleep is
// injected so tests do not wait.
//
// Thread-safety: none needed; one client per agent run.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agents/grok/http_transport.h"
#include "common/status.h"

namespace outpost::agents::grok {

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

struct ChatOptions {
  std::string base_url = "https://api.x.ai/v1";
  std::string api_key;
  std::string model;
  int max_tokens = 8192;
  double temperature = 0.7;
  int max_attempts = 4;  // 1 + retries
  std::chrono::milliseconds backoff{1000};
  std::chrono::milliseconds max_backoff{30000};
};

struct ChatReply {
  std::string content;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
};

using Sleeper = std::function<void(std::chrono::milliseconds)>;

// The Status for a non-2xx response; `body` may carry {"error":{"message":...}} or {"error":"..."}.
Status MapHttpStatus(int status, const std::string& body);

// Parses a chat-completions response: choices[0].message.content and usage.
Result<ChatReply> ParseChatResponse(const std::string& body);

class ChatClient {
 public:
  ChatClient(ChatOptions options, HttpSender sender, Sleeper sleep);
  // `url` is validated by the caller (JoinUrl(base_url, "chat/completions")).
  Result<ChatReply> Complete(const Url& url, const std::vector<ChatMessage>& messages);

 private:
  std::chrono::milliseconds Delay(int attempt, const std::string& retry_after) const;

  ChatOptions options_;
  HttpSender sender_;
  Sleeper sleep_;
};

}  // namespace outpost::agents::grok
