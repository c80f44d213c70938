#include "common/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace outpost {
namespace {

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::int64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  std::int64_t size() const override { return size_; }
  Result<std::string> ReadAt(std::int64_t offset, std::size_t max) override {
    if (offset < 0) return InvalidArgument("negative offset");
    if (offset >= size_) return std::string();
    const auto len = static_cast<std::size_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(max), size_ - offset));
    std::string buf(len, '\0');
    std::size_t got = 0;
    while (got < len) {
      ssize_t n = ::pread(fd_, buf.data() + got, len - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Internal("read " + path_ + ": " + std::strerror(errno));
      if (n == 0) return FailedPrecondition(path_ + " shrank while it was being read");
      got += static_cast<std::size_t>(n);
    }
    return buf;
  }

 private:
  const int fd_;
  const std::int64_t size_;
  const std::string path_;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string content) : content_(std::move(content)) {}
  std::int64_t size() const override { return static_cast<std::int64_t>(content_.size()); }
  Result<std::string> ReadAt(std::int64_t offset, std::size_t max) override {
    if (offset < 0) return InvalidArgument("negative offset");
    if (offset >= size()) return std::string();
    return content_.substr(static_cast<std::size_t>(offset), max);
  }

 private:
  const std::string content_;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound("no such file: " + path);
    return Internal("open " + path + ": " + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Internal("fstat " + path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(path + " is not a regular file");
  }
  return std::unique_ptr<ByteSource>(
      std::make_unique<FileSource>(fd, static_cast<std::int64_t>(st.st_size), path));
}

std::unique_ptr<ByteSource> StringSource(std::string content) {
  return std::make_unique<MemorySource>(std::move(content));
}

Result<std::string> ReadAll(ByteSource& source) {
  std::string all;
  while (static_cast<std::int64_t>(all.size()) < source.size()) {
    auto chunk = source.ReadAt(static_cast<std::int64_t>(all.size()), 1 << 20);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    all += *chunk;
  }
  return all;
}

}  // namespace outpost
