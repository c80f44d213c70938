// Writes the JSON-lines event stream described in agents/grok_events.h, one flushed line per
// event, so the supervisor sees progress as it happens.
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>

namespace outpost::agents::grok {

class EventWriter {
 public:
  explicit EventWriter(std::ostream& out) : out_(out) {}

  void Assistant(std::string_view text);
  void FileWritten(std::string_view path, std::uint64_t bytes);
  void FileRefused(std::string_view path, std::string_view reason);
  void Usage(std::int64_t input_tokens, std::int64_t output_tokens);
  void Error(std::string_view message);
  void Result(bool success, int files_applied);

 private:
  std::ostream& out_;
};

}  // namespace outpost::agents::grok
