#include "runner/sandbox/disk_image.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "common/files.h"
#include "testing/temp_dir.h"

namespace outpost::sandbox {
namespace {

constexpr std::int64_t kBytes = 8 << 20;

class ImagePoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Root and loop devices are this suite's premise: without them it fails, naming why.
    ASSERT_TRUE(CheckImagesUsable(tmp_.path() + "/probe").ok())
        << CheckImagesUsable(tmp_.path() + "/probe").message();
    ASSERT_TRUE(MakeDirs(mnt_, 0700).ok());
  }
  void TearDown() override { (void)Unmount(mnt_); }

  testing::TempDir tmp_{"outpost-images"};
  ImagePool pool_{tmp_.path() + "/images"};
  std::string mnt_ = tmp_.path() + "/mnt";
};

TEST_F(ImagePoolTest, AClaimTakesAFreeImageAndARecycledImageIsWiped) {
  EXPECT_EQ(pool_.Recycle(kBytes, 2, 4), 2);  // two spares formatted
  EXPECT_EQ(pool_.FreeCount(kBytes), 2);
  auto a = pool_.Claim("run-a", kBytes);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_FALSE(a->fresh);
  EXPECT_EQ(a->path, tmp_.path() + "/images/busy/run-a.img");
  EXPECT_EQ(pool_.FreeCount(kBytes), 1);
  auto other = pool_.Claim("run-b", kBytes * 2);  // no free image of that size: made now
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->fresh);

  ASSERT_TRUE(MountImage(a->path, mnt_).ok());
  EXPECT_TRUE(IsMountPoint(mnt_));
  ASSERT_TRUE(WriteFileAtomic(mnt_ + "/left-behind", "x").ok());
  ASSERT_TRUE(Unmount(mnt_).ok());
  EXPECT_FALSE(IsMountPoint(mnt_));
  ASSERT_TRUE(pool_.Release("run-a").ok());
  EXPECT_TRUE(std::filesystem::exists(tmp_.path() + "/images/dirty/run-a.img"));
  EXPECT_EQ(pool_.Recycle(kBytes, 2, 4), 1);  // the dirty one wiped: two free again
  EXPECT_EQ(pool_.FreeCount(kBytes), 2);
  for (const char* run : {"run-c", "run-d"}) {
    auto c = pool_.Claim(run, kBytes);
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->fresh);
    ASSERT_TRUE(MountImage(c->path, mnt_).ok());
    EXPECT_FALSE(std::filesystem::exists(mnt_ + "/left-behind"));
    ASSERT_TRUE(Unmount(mnt_).ok());
  }
}

// What the agent meets at its limit: ENOSPC, and the space of a file deleted while open still
// counts (the audit's F5 bypass of a tree walk).
TEST_F(ImagePoolTest, AFileDeletedWhileOpenStillFillsTheFileSystem) {
  auto a = pool_.Claim("run-a", kBytes);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(MountImage(a->path, mnt_).ok());
  int fd = ::open((mnt_ + "/f").c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ::unlink((mnt_ + "/f").c_str());
  std::string block(1 << 20, 'x');
  std::int64_t written = 0;
  int err = 0;
  for (int i = 0; i < 16; ++i) {
    ssize_t n = ::write(fd, block.data(), block.size());
    if (n < 0) {
      err = errno;
      break;
    }
    written += n;
  }
  EXPECT_EQ(err, ENOSPC);
  EXPECT_LE(written, kBytes);
  struct statvfs fs;
  ASSERT_EQ(::statvfs(mnt_.c_str(), &fs), 0);
  EXPECT_LT(static_cast<std::int64_t>(fs.f_bavail * fs.f_frsize), 1 << 20);
  ::close(fd);
}

}  // namespace
}  // namespace outpost::sandbox
