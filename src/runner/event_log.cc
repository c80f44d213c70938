#include "runner/event_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "common/files.h"
#include "common/json_util.h"
#include "common/time_util.h"

// Readers rely on the fixed prefix `{"seq":N,"ts":"…","type":"T"` to find and order events
// without parsing every line: seeking to a seq is a binary search over byte offsets, and
// following a busy run costs a memchr per line.
namespace outpost {
namespace {

constexpr std::int64_t kLinearBytes = 64 * 1024;  // below this, Seek scans instead of bisecting
constexpr std::int64_t kRecoverWindow = 1 << 20;  // first look for the last good line here
constexpr std::size_t kMinRead = 64 * 1024;

Status Errno(std::string_view what) {
  return Internal(std::string(what) + ": " + std::strerror(errno));
}

// Up to `len` bytes at `offset` (fewer at the end of the file); nullopt on an I/O error.
std::optional<std::string> ReadAt(int fd, std::int64_t offset, std::size_t len) {
  std::string buf(len, '\0');
  std::size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, buf.data() + got, len - got, static_cast<off_t>(offset) + got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  buf.resize(got);
  return buf;
}

std::int64_t FileSize(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

// A whole line is a valid event when it is a JSON object with an integer seq and a string type
// that agree with its prefix.
std::optional<EventLine> ValidLine(std::string_view line) {
  std::optional<EventLine> prefix = ParseEventPrefix(line);
  if (!prefix) return std::nullopt;
  Result<boost::json::value> v = ParseJson(line, 64);
  if (!v.ok() || !v->is_object()) return std::nullopt;
  if (GetInt(v->as_object(), "seq") != prefix->seq) return std::nullopt;
  if (GetString(v->as_object(), "type") != prefix->type) return std::nullopt;
  return prefix;
}

Status Lock(int fd, Millis wait) {
  if (wait.count() == 0) {
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) return Errno("flock");
    }
    return Status::Ok();
  }
  // The wait is short and rare (the shim and the server never write at the same time), so a
  // few non-blocking attempts beat a helper thread with a blocking flock.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return Errno("flock");
    if (std::chrono::steady_clock::now() >= deadline) {
      return Unavailable("the event log is locked by another writer");
    }
    std::this_thread::sleep_for(Millis(5));
  }
  return Status::Ok();
}

}  // namespace

std::optional<EventLine> ParseEventPrefix(std::string_view line) {
  constexpr std::string_view kSeq = "{\"seq\":";
  constexpr std::string_view kType = ",\"type\":\"";
  if (!line.starts_with(kSeq)) return std::nullopt;
  EventLine e;
  const char* begin = line.data() + kSeq.size();
  auto [end, ec] = std::from_chars(begin, line.data() + line.size(), e.seq);
  if (ec != std::errc() || e.seq <= 0) return std::nullopt;
  std::string_view rest = line.substr(static_cast<std::size_t>(end - line.data()));
  // The ts between them is a fixed-format time without quotes inside.
  std::size_t t = rest.find(kType);
  if (t == std::string_view::npos || t > 64) return std::nullopt;
  rest.remove_prefix(t + kType.size());
  std::size_t q = rest.find('"');
  if (q == std::string_view::npos || q == 0) return std::nullopt;
  e.type = std::string(rest.substr(0, q));
  return e;
}

// ---- EventLogWriter ----

Result<std::unique_ptr<EventLogWriter>> EventLogWriter::Open(const std::string& path,
                                                             const Clock& clock, Millis lock_wait) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open " + path);
  std::unique_ptr<EventLogWriter> w(new EventLogWriter(fd, clock));
  OUTPOST_RETURN_IF_ERROR(Lock(fd, lock_wait));
  OUTPOST_RETURN_IF_ERROR(w->RecoverTail());
  return w;
}

EventLogWriter::~EventLogWriter() {
  if (fd_ >= 0) ::close(fd_);  // also releases the flock
}

// Finds the last whole, valid line, looking at a growing window at the end of the file, and cuts
// off what follows it: a torn line, or garbage a machine crash left in unwritten blocks.
Status EventLogWriter::RecoverTail() {
  const std::int64_t size = FileSize(fd_);
  if (size < 0) return Errno("fstat");
  std::int64_t keep = 0;
  for (std::int64_t window = std::min(size, kRecoverWindow);; window = std::min(size, window * 2)) {
    const std::int64_t start = size - window;
    std::optional<std::string> buf = ReadAt(fd_, start, static_cast<std::size_t>(window));
    if (!buf) return Errno("read");
    std::string_view text(*buf);
    std::size_t end = text.rfind('\n');
    bool found = false;
    while (end != std::string_view::npos && !found) {
      std::size_t prev = end == 0 ? std::string_view::npos : text.rfind('\n', end - 1);
      if (prev == std::string_view::npos && start > 0) break;  // the line starts before the window
      std::size_t line_start = prev == std::string_view::npos ? 0 : prev + 1;
      if (auto e = ValidLine(text.substr(line_start, end - line_start))) {
        keep = start + static_cast<std::int64_t>(end) + 1;
        last_seq_ = e->seq;
        last_type_ = e->type;
        found = true;
      }
      end = prev;
    }
    if (found || window == size) break;
  }
  if (keep < size && ::ftruncate(fd_, static_cast<off_t>(keep)) != 0) return Errno("ftruncate");
  size_ = keep;
  return Status::Ok();
}

Result<std::int64_t> EventLogWriter::Append(std::string_view type,
                                            const boost::json::object& fields) {
  const std::int64_t seq = last_seq_ + 1;
  std::string line;
  line.reserve(96);
  line += "{\"seq\":";
  line += std::to_string(seq);
  line += ",\"ts\":\"";
  line += FormatTime(clock_.Now());
  line += "\",\"type\":\"";
  line += type;
  line += '"';
  for (const auto& [key, value] : fields) {
    line += ',';
    line += boost::json::serialize(boost::json::string(key));
    line += ':';
    line += ToJson(value);  // plain decimals, as every document served
  }
  line += "}\n";
  if (Status st = WriteAll(fd_, line); !st.ok()) {
    // Whatever part of the line got out is cut off again: no torn line is left behind us.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) return Errno("ftruncate");
    return st;
  }
  size_ += static_cast<std::int64_t>(line.size());
  last_seq_ = seq;
  last_type_ = std::string(type);
  return seq;
}

Status EventLogWriter::Sync() {
  if (::fdatasync(fd_) != 0) return Errno("fdatasync");
  return Status::Ok();
}

// ---- EventLogReader ----

EventLogReader::EventLogReader(std::string path, std::int64_t after)
    : path_(std::move(path)), last_seq_(std::max<std::int64_t>(after, 0)) {}

EventLogReader::~EventLogReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool EventLogReader::OpenFile() {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return false;
  if (Status st = Seek(FileSize(fd_)); !st.ok()) {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

// Positions offset_ at or before the first line with seq > last_seq_ (Read skips the rest), by
// bisecting byte offsets: seqs grow with the offset.
Status EventLogReader::Seek(std::int64_t file_size) {
  std::int64_t lo = 0, hi = std::max<std::int64_t>(file_size, 0);
  while (last_seq_ > 0 && hi - lo > kLinearBytes) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    std::optional<std::string> buf = ReadAt(fd_, mid, kLinearBytes);
    if (!buf) return Errno("read " + path_);
    std::size_t nl = buf->find('\n');
    const std::int64_t line = mid + static_cast<std::int64_t>(nl) + 1;
    if (nl == std::string::npos || line >= hi) {
      hi = mid;
      continue;
    }
    std::optional<EventLine> e = ParseEventPrefix(std::string_view(*buf).substr(nl + 1));
    if (e && e->seq <= last_seq_) {
      lo = line;
    } else {
      hi = mid;
    }
  }
  offset_ = lo;
  return Status::Ok();
}

Status EventLogReader::Read(std::vector<EventLine>& out, std::size_t max_bytes) {
  if (ended_) return Status::Ok();
  if (fd_ < 0 && !OpenFile()) return Status::Ok();  // not written yet
  const std::int64_t size = FileSize(fd_);
  if (size < 0) return Errno("fstat " + path_);
  // Shorter than what we read: a writer cut off garbage after a crash. Find our place again.
  if (size < offset_) OUTPOST_RETURN_IF_ERROR(Seek(size));
  std::size_t want = std::max(max_bytes, kMinRead);
  const std::size_t before = out.size();
  while (offset_ < size) {
    const std::size_t len = std::min<std::size_t>(want, static_cast<std::size_t>(size - offset_));
    std::optional<std::string> buf = ReadAt(fd_, offset_, len);
    if (!buf) return Errno("read " + path_);
    std::string_view text(*buf);
    std::size_t start = 0;
    for (std::size_t nl; !ended_ && (nl = text.find('\n', start)) != std::string_view::npos;
         start = nl + 1) {
      std::string_view line = text.substr(start, nl - start);
      std::optional<EventLine> e = ParseEventPrefix(line);
      if (!e || e->seq <= last_seq_) continue;  // not an event, or one already returned
      e->json = std::string(line);
      last_seq_ = e->seq;
      ended_ = e->type == event::kEnd;
      out.push_back(std::move(*e));
    }
    offset_ += static_cast<std::int64_t>(start);
    // Nothing whole in the window yet more in the file: one line longer than the window.
    if (start == 0 && offset_ + static_cast<std::int64_t>(len) < size) {
      want *= 2;
      continue;
    }
    // Only lines returned before (a Seek that landed early): read on to a new one.
    if (out.size() == before && !ended_ && start > 0) continue;
    break;
  }
  return Status::Ok();
}

}  // namespace outpost
