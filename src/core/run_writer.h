// RunWriter: the one way core changes a stored run. Update reads the latest copy, applies a
// transition (model/run_state.h) through `mutate`, and stores it with the store's conditional
// Update; when another writer won meanwhile (kConflict) or the store was busy (kUnavailable) it
// reads again and re-applies, at most kMaxAttempts times. A won write that changes the run's
// status is audited here (Auditor::Transition), so no caller audits transitions itself.
//
// Thread-safety: Update may be called from any thread (the store is thread-safe).
#pragma once

#include <functional>

#include "common/status.h"
#include "model/request_context.h"
#include "model/run.h"
#include "store/run_store.h"

namespace outpost {

class Auditor;

class RunWriter {
 public:
  static constexpr int kMaxAttempts = 20;
  // Applies a transition to the latest copy. Ok: store it. Anything else: store nothing, and
  // Update returns that status as is (a refused transition, or "nothing to change").
  using Mutate = std::function<Status(Run&)>;

  explicit RunWriter(RunStore& store, Auditor* auditor = nullptr)
      : store_(store), auditor_(auditor) {}
  // Where status transitions are recorded (may stay null). Set before the first Update.
  void SetAuditor(Auditor* auditor) { auditor_ = auditor; }

  // The run as stored by this write. Errors: mutate's own, the store's read error (kNotFound),
  // a store update error other than kConflict/kUnavailable, or kUnavailable after kMaxAttempts
  // lost races. `ctx`: the request that made the change (audited with it), null for the
  // system's own.
  Result<Run> Update(const RunId& id, const Mutate& mutate, const RequestContext* ctx = nullptr);

 private:
  RunStore& store_;
  Auditor* auditor_;
};

}  // namespace outpost
