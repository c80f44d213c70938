// libFuzzer: the SSE resume point and the CLI's SSE stream parser.
//
// Input: "<Last-Event-ID>\n<raw ?after= value>\n<stream bytes>". The first two go through
// ParseTarget and ResumeAfter (http/event_resume.h) as a request would bring them; the stream is
// fed to cli::SseParser once whole and once in chunks cut at input-chosen places, and both must
// give the same events (a parser must not depend on where reads split the body).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cli/sse.h"
#include "http/event_resume.h"
#include "http/router.h"

namespace {

using outpost::cli::SseEvent;
using outpost::cli::SseParser;

std::string_view NextLine(std::string_view& in) {
  const std::size_t nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  return line;
}

void CheckResume(std::string_view last_event_id, std::string_view raw_after) {
  outpost::http::Request req;
  req.target = "/runs/x/events?after=" + std::string(raw_after);
  if (!outpost::http::ParseTarget(req.target, &req.path, &req.query).ok()) return;
  if (!last_event_id.empty()) req.headers.Add("Last-Event-ID", std::string(last_event_id));
  auto after = outpost::http::ResumeAfter(req);
  if (after.ok() && *after < 0) std::abort();  // a resume point is never negative
}

bool Same(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].event != b[i].event || a[i].data != b[i].data) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view last_event_id = NextLine(in);
  const std::string_view raw_after = NextLine(in);
  CheckResume(last_event_id, raw_after);

  std::vector<SseEvent> whole, chunked;
  SseParser().Feed(in, whole);
  SseParser parser;
  // Chunk lengths 1..16 from the stream's own bytes: deterministic, and cuts land everywhere
  // ("\r" | "\n", inside "data:", between events).
  for (std::size_t pos = 0, i = 0; pos < in.size(); ++i) {
    const std::size_t n = 1 + static_cast<unsigned char>(in[i % in.size()]) % 16;
    parser.Feed(in.substr(pos, n), chunked);
    pos += n;
  }
  if (!Same(whole, chunked)) std::abort();
  return 0;
}
