#include "cli/probe.h"

#include <fmt/format.h>

namespace outpost::cli {

ProbeResult Probe(const Endpoint& endpoint, const std::string& api_key, std::string_view method,
                  std::string_view target, std::string_view body, const RequestOptions& options,
                  const Clock& clock) {
  Headers headers;
  if (!api_key.empty()) headers.emplace_back("Authorization", "Bearer " + api_key);
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  RequestOptions once = options;
  once.retry_for = Millis(0);
  const MonoTime start = clock.Mono();
  Result<HttpResult> r = Request(endpoint, method, target, body, headers, once);
  ProbeResult p;
  p.ms = std::chrono::duration<double, std::milli>(clock.Mono() - start).count();
  if (!r.ok()) {
    p.error = r.status().message();
    return p;
  }
  p.answered = true;
  p.status = r->status;
  p.body = std::move(r->body);
  return p;
}

std::string Describe(const ProbeResult& p) {
  if (!p.answered) return "no answer: " + p.error;
  return fmt::format("HTTP {} in {:.0f} ms", p.status, p.ms);
}

}  // namespace outpost::cli
