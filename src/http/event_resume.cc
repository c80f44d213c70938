#include "http/event_resume.h"

#include <charconv>

namespace outpost::http {

std::optional<std::int64_t> ParseCount(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty() || s.front() == '-' || s.front() == '+') return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<std::int64_t> ResumeAfter(const Request& req) {
  std::int64_t after = 0;
  if (auto v = req.Query("after")) {
    auto n = ParseCount(*v);
    if (!n) return Status::Invalid({{"after", "must be a non-negative integer"}});
    after = *n;
  }
  if (auto v = req.headers.Get("Last-Event-ID"); v && !v->empty()) {
    auto n = ParseCount(*v);
    if (!n) return Status::Invalid({{"Last-Event-ID", "must be an event id (a sequence number)"}});
    after = *n;
  }
  return after;
}

}  // namespace outpost::http
