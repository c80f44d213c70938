#include "runner/sandbox/disk_usage.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/files.h"
#include "runner/runner_test_util.h"

namespace outpost::sandbox {
namespace {

using testing::TempDir;

constexpr std::int64_t kMiB = 1 << 20;

void WriteBytes(const std::string& path, std::int64_t n) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  std::string chunk(64 * 1024, 'x');
  for (std::int64_t left = n; left > 0; left -= static_cast<std::int64_t>(chunk.size())) {
    ASSERT_TRUE(
        WriteAll(fd, std::string_view(chunk).substr(0, std::min<std::int64_t>(left, chunk.size())))
            .ok());
  }
  ::fsync(fd);
  ::close(fd);
}

TEST(DiskUsage, CountsAllocatedBytesOfTheWholeTree) {
  TempDir tmp;
  const std::int64_t empty = DiskUsage(tmp.path());
  ASSERT_TRUE(MakeDirs(tmp.path() + "/a/b/c").ok());
  WriteBytes(tmp.path() + "/one", 1 * kMiB);
  WriteBytes(tmp.path() + "/a/b/c/two", 2 * kMiB);
  const std::int64_t used = DiskUsage(tmp.path());
  EXPECT_GE(used - empty, 3 * kMiB);
  EXPECT_LT(used - empty, 3 * kMiB + 64 * 1024);  // + three small directories
}

TEST(DiskUsage, HardLinksCountOnceSymlinksAreNotFollowedSparseFilesCountWhatIsAllocated) {
  TempDir tmp;
  WriteBytes(tmp.path() + "/data", 2 * kMiB);
  const std::int64_t before = DiskUsage(tmp.path());
  ASSERT_EQ(::link((tmp.path() + "/data").c_str(), (tmp.path() + "/data2").c_str()), 0);
  ASSERT_EQ(::symlink("/usr", (tmp.path() + "/usr").c_str()), 0);
  int fd = ::open((tmp.path() + "/sparse").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 1024 * kMiB), 0);
  ::close(fd);
  const std::int64_t after = DiskUsage(tmp.path());
  EXPECT_GE(after, before);
  EXPECT_LT(after - before, 64 * 1024);
}

TEST(DiskUsage, MissingRootIsZeroAndAFileIsItsOwnSize) {
  TempDir tmp;
  EXPECT_EQ(DiskUsage(tmp.path() + "/nope"), 0);
  WriteBytes(tmp.path() + "/f", kMiB);
  EXPECT_GE(DiskUsage(tmp.path() + "/f"), kMiB);
  EXPECT_LT(DiskUsage(tmp.path() + "/f"), kMiB + 16 * 1024);
}

}  // namespace
}  // namespace outpost::sandbox
