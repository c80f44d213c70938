#include "core/run_writer.h"

#include "core/auditor.h"

namespace outpost {

Result<Run> RunWriter::Update(const RunId& id, const Mutate& mutate, const RequestContext* ctx) {
  Status last = Status::Ok();
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto cur = store_.Get(id);
    if (!cur.ok()) return cur.status();
    Run next = *cur;
    if (Status st = mutate(next); !st.ok()) return st;
    auto stored = store_.Update(next);
    if (stored.ok()) {
      if (auditor_ && stored->status != cur->status) auditor_->Transition(*cur, *stored, ctx);
      return stored;
    }
    const Code code = stored.status().code();
    if (code != Code::kConflict && code != Code::kUnavailable) return stored.status();
    last = stored.status();
  }
  return Unavailable("run " + id.str() + ": gave up updating after " +
                     std::to_string(kMaxAttempts) + " conflicting writes (" + last.message() + ")");
}

}  // namespace outpost
