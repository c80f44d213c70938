// Workspace images (audit F5): a sandboxed run's workspace and home live on an ext4 file system
// of their own — a sparse image file sized to the run's disk limit, loop-mounted — so the
// kernel's block and inode accounting is the quota. Nothing the agent does escapes it: a file
// deleted while open, a tree too deep to walk and a million empty files all use the image's
// blocks and inodes, and a write past the limit fails with ENOSPC.
//
// Images come from a pool in <data_dir>/images, so a run's start costs a rename and a mount
// (~30 ms), not a mkfs (~90 ms for 10 GiB, more under load):
//   free/<bytes>-<unique>.img  formatted, unused; claimed by renaming it to
//   busy/<run id>.img          mounted for that run (the shim); released after unmount to
//   dirty/<run id>.img         used, waiting to be wiped (truncated, reformatted) back to free/
// Every rename is atomic, so concurrent shims and the recycler never take the same image.
// Image files are sparse: one holds only what its run wrote, until it is wiped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outpost::sandbox {

// <data_dir>/images.
std::string ImagePoolDir(const std::string& data_dir);

// Whether this machine can loop-mount images: root, /dev/loop-control, mkfs.ext4 and mount(8),
// checked by formatting and mounting a small image under `scratch_dir`. kFailedPrecondition with
// the reason otherwise (the caller falls back to the polling watchdog).
Status CheckImagesUsable(const std::string& scratch_dir);

// Makes `path` (created 0600, or truncated: its old blocks are freed) an empty sparse ext4 file
// system of `bytes` (at least 1 MiB), without a journal or reserved blocks: all of it is the
// run's. kInternal with mkfs's message on failure.
Status FormatImage(const std::string& path, std::int64_t bytes);

// Loop-mounts `image` at `dir` (nosuid, nodev; the loop device is freed on unmount).
Status MountImage(const std::string& image, const std::string& dir);

// Unmounts `dir` (lazily when it is busy). Ok when nothing is mounted there.
Status Unmount(const std::string& dir);

// Whether a file system is mounted at exactly `dir` (its device differs from its parent's).
bool IsMountPoint(const std::string& dir);

class ImagePool {
 public:
  explicit ImagePool(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  struct Claimed {
    std::string path;    // busy/<run id>.img
    bool fresh = false;  // none of that size was free: formatted now
  };
  // A formatted image of exactly `bytes` for the run: a free one, else a new one.
  Result<Claimed> Claim(std::string_view run_id, std::int64_t bytes) const;
  // busy/<run id>.img -> dirty/ (call after unmounting it). Ok when there is none.
  Status Release(std::string_view run_id) const;
  // Wipes every dirty image back into free/ (one beyond `max_free` free images of its size is
  // deleted instead), then formats free images of `spare_bytes` until there are `spare`.
  // Returns how many images it formatted. Blocks ~0.1 s per image.
  int Recycle(std::int64_t spare_bytes, int spare, int max_free) const;
  // Free images of that size.
  int FreeCount(std::int64_t bytes) const;

 private:
  std::string dir_;
};

}  // namespace outpost::sandbox
