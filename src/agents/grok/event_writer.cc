#include "agents/grok/event_writer.h"

#include <boost/json.hpp>

#include "agents/grok_events.h"

namespace outpost::agents::grok {
namespace json = boost::json;
namespace ev = grok_events;

namespace {
void Emit(std::ostream& out, const json::object& o) {
  out << json::serialize(o) << '\n' << std::flush;
}
}  // namespace

void EventWriter::Assistant(std::string_view text) {
  Emit(out_, {{"type", ev::kAssistant}, {"text", text}});
}

void EventWriter::FileWritten(std::string_view path, std::uint64_t bytes) {
  Emit(out_, {{"type", ev::kFileWritten}, {"path", path}, {"bytes", bytes}});
}

void EventWriter::FileRefused(std::string_view path, std::string_view reason) {
  Emit(out_, {{"type", ev::kFileRefused}, {"path", path}, {"reason", reason}});
}

void EventWriter::Usage(std::int64_t input_tokens, std::int64_t output_tokens) {
  Emit(out_,
       {{"type", ev::kUsage}, {"input_tokens", input_tokens}, {"output_tokens", output_tokens}});
}

void EventWriter::Error(std::string_view message) {
  Emit(out_, {{"type", ev::kError}, {"message", message}});
}

void EventWriter::Result(bool success, int files_applied) {
  Emit(out_, {{"type", ev::kResult},
              {"status", success ? ev::kStatusSuccess : ev::kStatusError},
              {"files_applied", files_applied}});
}

}  // namespace outpost::agents::grok
