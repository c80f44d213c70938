#include "store/event_log.h"

namespace outpost {

std::size_t EventItemEnd(const std::vector<RunEvent>& events, std::size_t begin) {
  auto line = [&](std::size_t k) { return events[k].type.size() + events[k].json.size() + 2; };
  std::size_t i = begin, bytes = 0;
  while (i < events.size() && (i == begin || bytes + line(i) <= kMaxItemBytes)) bytes += line(i++);
  return i;
}

std::string EventItemBody(const std::vector<RunEvent>& events, std::size_t begin, std::size_t end) {
  std::string body;
  for (std::size_t i = begin; i < end; ++i) {
    body += events[i].type;
    body += '\t';
    body += events[i].json;
    body += '\n';
  }
  return body;
}

Status ParseEventItemBody(std::int64_t first, std::string_view body, std::string_view where,
                          std::vector<RunEvent>& out) {
  std::int64_t seq = first;
  while (!body.empty()) {
    const std::size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    const std::size_t tab = line.find('\t');
    if (nl == std::string_view::npos || tab == std::string_view::npos) {
      return Internal("corrupt event item in " + std::string(where));
    }
    body.remove_prefix(nl + 1);
    out.push_back({seq++, std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))});
  }
  return Status::Ok();
}

Status ValidateEventBatch(std::string_view run_id, const std::vector<RunEvent>& events) {
  if (run_id.empty()) return InvalidArgument("an event batch needs a run id");
  if (events.empty()) return InvalidArgument("an event batch needs at least one event");
  for (std::size_t i = 0; i < events.size(); ++i) {
    const RunEvent& e = events[i];
    const std::string at = "event " + std::to_string(i) + " (seq " + std::to_string(e.seq) + ")";
    if (e.seq < 1) return InvalidArgument(at + ": seq must be >= 1");
    if (i > 0 && e.seq != events[i - 1].seq + 1) {
      return InvalidArgument(at + ": seqs must be consecutive (after " +
                             std::to_string(events[i - 1].seq) + ")");
    }
    if (e.type.empty() || e.type.size() > kMaxEventTypeBytes ||
        e.type.find_first_of("\t\n") != std::string::npos) {
      return InvalidArgument(at + ": type must be non-empty, at most " +
                             std::to_string(kMaxEventTypeBytes) + " bytes, without tab or newline");
    }
    if (e.json.empty() || e.json.find('\n') != std::string::npos) {
      return InvalidArgument(at + ": json must be non-empty, without a newline");
    }
    if (e.json.size() > kMaxEventBytes) {
      return InvalidArgument(at + ": " + std::to_string(e.json.size()) +
                             " bytes, over the limit of " + std::to_string(kMaxEventBytes));
    }
    if (e.type == event::kEnd && i + 1 != events.size()) {
      return InvalidArgument(at + ": nothing may follow the end event");
    }
  }
  return Status::Ok();
}

}  // namespace outpost
