#include "core/log_lines.h"

#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/json_util.h"

namespace outpost {
namespace json = boost::json;

Result<LogPage> LogLines::Page(std::int64_t offset, int limit) {
  LogPage page;
  while (next_ < offset) {
    if (ready_.empty()) {
      Result<bool> more = Fill();
      if (!more.ok()) return more.status();
      if (!*more) break;
      continue;
    }
    ready_.pop_front();
    ++next_;
  }
  if (next_ < offset) {  // past the end of what exists (yet)
    page.next_offset = offset;
    return page;
  }
  while (static_cast<int>(page.entries.size()) < limit) {
    if (ready_.empty()) {
      Result<bool> more = Fill();
      if (!more.ok()) return more.status();
      if (!*more) break;
      continue;
    }
    page.entries.push_back(std::move(ready_.front()));
    ready_.pop_front();
    ++next_;
  }
  while (ready_.empty()) {
    Result<bool> more = Fill();
    if (!more.ok()) return more.status();
    if (!*more) break;
  }
  page.has_more = !ready_.empty();
  page.next_offset = next_;
  return page;
}

Result<bool> LogLines::Fill() {
  Result<EventBatch> batch = log_.Read(id_.str(), last_seq_, 1000, 256 * 1024);
  if (!batch.ok()) return batch.status();
  for (const RunEvent& e : batch->events) {
    last_seq_ = e.seq;
    Consume(e);
  }
  return !batch->events.empty();
}

void LogLines::Consume(const RunEvent& e) {
  if (e.type == event::kEnd) {
    Complete(out_, "stdout");
    Complete(err_, "stderr");
    return;
  }
  if (e.type != event::kOutput && e.type != event::kTruncated) return;
  Result<json::value> v = ParseJson(e.json, 8);
  if (!v.ok() || !v->is_object()) return;
  const json::object& o = v->as_object();
  const std::string stream = GetString(o, "stream").value_or("");
  if (stream != "stdout" && stream != "stderr") return;
  Partial& p = stream == "stdout" ? out_ : err_;
  const std::string ts = GetString(o, "ts").value_or("");
  if (e.type == event::kTruncated) {
    Complete(p, stream);
    if (auto dropped = GetInt(o, "droppedBytes"); dropped && *dropped > 0) {
      Emit("outpost", ts,
           "[" + std::to_string(*dropped) + " bytes of " + stream +
               " dropped: output over the run's limit]");
    }
    return;
  }
  std::string data = GetString(o, "data").value_or("");
  if (GetString(o, "encoding") == "base64") data = Base64Decode(data).value_or("");
  std::string_view rest(data);
  while (!rest.empty()) {
    if (p.text.empty()) p.timestamp = ts;
    std::size_t nl = rest.find('\n');
    std::size_t room = kMaxLogLine - p.text.size();
    if (nl == std::string_view::npos || nl > room) {
      std::size_t take = std::min(rest.size(), room);
      p.text.append(rest.substr(0, take));
      rest.remove_prefix(take);
      if (p.text.size() >= kMaxLogLine) Complete(p, stream);
      continue;
    }
    p.text.append(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
    if (!p.text.empty() && p.text.back() == '\r') p.text.pop_back();
    Emit(stream, p.timestamp, ToValidUtf8(p.text));
    p.text.clear();
  }
}

void LogLines::Complete(Partial& p, const std::string& stream) {
  if (p.text.empty()) return;
  Emit(stream, p.timestamp, ToValidUtf8(p.text));
  p.text.clear();
}

void LogLines::Emit(std::string stream, std::string timestamp, std::string message) {
  ready_.push_back({numbered_++, std::move(timestamp), std::move(stream), std::move(message)});
}

}  // namespace outpost
