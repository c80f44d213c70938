// DirWatcher: tells subscribers, without polling, that a file in a run directory changed — how
// followers of a run's event stream learn that events.jsonl grew (inotify(7)).
//
// One inotify instance and one thread serve every subscription; a directory watched by several
// subscribers is watched once. A wake-up is a hint, not a message: it may be spurious, and a
// burst of writes is reported as few wake-ups (the kernel merges identical events), so a
// subscriber re-reads the file itself and must not count wake-ups.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace outpost {

class DirWatcher {
 public:
  using Callback = std::function<void()>;

  // Ends its subscription when destroyed: after the destructor returns the callback is never
  // called again. Must not outlive the watcher.
  class Subscription {
   public:
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    friend class DirWatcher;
    Subscription(DirWatcher& w, int wd, std::uint64_t id) : watcher_(w), wd_(wd), id_(id) {}
    DirWatcher& watcher_;
    int wd_;
    std::uint64_t id_;
  };

  // Starts the watcher's thread. kInternal when inotify is unavailable.
  static Result<std::unique_ptr<DirWatcher>> Create();
  ~DirWatcher();  // stops the thread; every Subscription must be gone by then
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // Calls `cb` on the watcher's thread whenever the file `name` in `dir` is created, written,
  // closed after writing or moved there, and when `dir` itself goes away. The callback runs
  // with the watcher's lock held: it must be quick and must not (un)subscribe. Thread-safe.
  // kNotFound when `dir` does not exist; kResourceExhausted when the inotify watch limit is hit.
  Result<std::unique_ptr<Subscription>> Subscribe(const std::string& dir, std::string name,
                                                  Callback cb);

 private:
  struct Subscriber {
    std::uint64_t id;
    std::string name;
    Callback cb;
  };
  DirWatcher(int inotify_fd, int stop_fd);
  void Loop();
  void Dispatch(const char* buf, std::size_t len);
  void Unsubscribe(int wd, std::uint64_t id);

  const int fd_;       // inotify
  const int stop_fd_;  // eventfd
  std::mutex mu_;
  std::map<int, std::vector<Subscriber>> subs_;  // by watch descriptor; guarded by mu_
  std::uint64_t next_id_ = 1;                    // guarded by mu_
  std::thread thread_;
};

}  // namespace outpost
