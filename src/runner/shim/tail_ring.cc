#include "runner/shim/tail_ring.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace outpost::shim {
namespace {

Status PWriteAll(int fd, std::string_view data, std::int64_t offset) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal(std::string("pwrite: ") + std::strerror(errno));
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += n;
  }
  return Status::Ok();
}

}  // namespace

TailRing::~TailRing() {
  if (fd_ >= 0) ::close(fd_);
}

Status TailRing::Write(std::string_view data) {
  const std::int64_t start = written_;
  written_ += static_cast<std::int64_t>(data.size());
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) return Internal("open " + path_ + ": " + std::strerror(errno));
  }
  // Only the last `cap_` bytes of this chunk can survive it.
  std::int64_t pos = start;
  if (static_cast<std::int64_t>(data.size()) > cap_) {
    pos += static_cast<std::int64_t>(data.size()) - cap_;
    data = data.substr(data.size() - static_cast<std::size_t>(cap_));
  }
  while (!data.empty()) {
    const std::int64_t at = pos % cap_;
    const std::size_t n = std::min<std::size_t>(data.size(), static_cast<std::size_t>(cap_ - at));
    OUTPOST_RETURN_IF_ERROR(PWriteAll(fd_, data.substr(0, n), at));
    data.remove_prefix(n);
    pos += static_cast<std::int64_t>(n);
  }
  return Status::Ok();
}

Status TailRing::ReadLast(std::int64_t last, const std::function<void(std::string_view)>& fn,
                          std::size_t piece) const {
  std::int64_t left = std::min(kept(), last);
  if (left <= 0 || fd_ < 0) return Status::Ok();
  // Byte number k of the stream sits at k % cap_: start `left` bytes before the end.
  std::int64_t at = (written_ - left) % cap_;
  std::string buf(std::min<std::int64_t>(static_cast<std::int64_t>(piece), left), '\0');
  while (left > 0) {
    std::size_t n = static_cast<std::size_t>(
        std::min({left, cap_ - at, static_cast<std::int64_t>(buf.size())}));
    ssize_t got = ::pread(fd_, buf.data(), n, static_cast<off_t>(at));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      return Internal("read " + path_ + ": " + (got < 0 ? std::strerror(errno) : "short"));
    fn(std::string_view(buf.data(), static_cast<std::size_t>(got)));
    left -= got;
    at = (at + got) % cap_;
  }
  return Status::Ok();
}

void TailRing::Remove() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(path_.c_str());
}

}  // namespace outpost::shim
