// EventChunkStore: where an event log keeps the large payloads of its items (issue 19: one
// DynamoDB partition takes ~1 MB/s of writes, a run's output can come far faster), as objects
// named by the log. The store component may not reach the artifact store (scripts/deps.rules),
// so this is the little it needs of one; app/stores.cc adapts the ArtifactStore to it.
//
// Contract: keys are '/'-separated segments of [A-Za-z0-9._-] (the artifact store's keys).
// Put replaces the object whole; Get of a missing key is kNotFound; DeleteUnder deletes every
// object whose key starts with `prefix` (Ok when there is none). Errors besides: kUnavailable,
// kInternal. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outpost {

class EventChunkStore {
 public:
  virtual ~EventChunkStore() = default;
  virtual Status Put(std::string_view key, std::string_view bytes) = 0;
  virtual Result<std::string> Get(std::string_view key) = 0;
  virtual Status DeleteUnder(std::string_view prefix) = 0;
};

// Objects in memory, for tests and tools (one process only: not shared by replicas).
class MemoryEventChunkStore final : public EventChunkStore {
 public:
  Status Put(std::string_view key, std::string_view bytes) override;
  Result<std::string> Get(std::string_view key) override;
  Status DeleteUnder(std::string_view prefix) override;

  // What is stored now (a copy), for tests to inspect or tamper with through Put.
  std::map<std::string, std::string> Objects() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> objects_;  // guarded by mu_
};

}  // namespace outpost
