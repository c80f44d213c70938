// SseParser: the client side of Server-Sent Events (the WHATWG "event stream" format), fed with
// the bytes of a response body as they arrive, in chunks cut anywhere.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace outpost::cli {

struct SseEvent {
  std::string id;     // "" when the event had no id field
  std::string event;  // "message" when the event had no event field
  std::string data;   // the data lines joined with "\n"
};

class SseParser {
 public:
  // Appends every event completed by `bytes` to `out`. Lines end with "\n", "\r\n" or "\r";
  // comments (":…") and unknown fields are skipped; an event is dispatched at an empty line
  // when it has data.
  void Feed(std::string_view bytes, std::vector<SseEvent>& out);

 private:
  void Line(std::string_view line, std::vector<SseEvent>& out);

  std::string line_;       // an unfinished line
  bool after_cr_ = false;  // the last byte was "\r": a following "\n" belongs to it
  SseEvent current_;
  bool has_data_ = false;
};

}  // namespace outpost::cli
