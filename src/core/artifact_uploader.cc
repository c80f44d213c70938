#include "core/artifact_uploader.h"

#include <algorithm>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/json_util.h"
#include "common/log.h"
#include "wire/run_json.h"

namespace outpost {
namespace {

struct Source {
  std::string name;
  std::string type;
  std::string content_type;
  bool required;  // stored (empty if need be) even when the run left no such file
  RunOutput from = RunOutput::kStdout;  // what of the run it is
};

// In upload order; summary.json is built from the record, not a file.
const Source kSources[] = {
    {"output.log", "output", "text/plain; charset=utf-8", true, RunOutput::kStdout},
    {"stderr.log", "logs", "text/plain; charset=utf-8", false, RunOutput::kStderr},
    {"events.jsonl", "logs", "application/x-ndjson", false, RunOutput::kEvents},
    {"context.md", "metadata", "text/markdown; charset=utf-8", false, RunOutput::kContext},
    {"diff.patch", "patch", "text/x-diff; charset=utf-8", false, RunOutput::kDiff},
    {"changes.bundle", "bundle", "application/x-git-bundle", false, RunOutput::kBundle},
};

// sha256 and size of an output, streamed.
Result<std::pair<std::string, std::int64_t>> Digest(ByteSource& source) {
  Sha256 h;
  std::int64_t size = 0;
  while (size < source.size()) {
    auto chunk = source.ReadAt(size, 1 << 16);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    h.Update(*chunk);
    size += static_cast<std::int64_t>(chunk->size());
  }
  return std::make_pair(h.HexDigest(), size);
}

}  // namespace

ArtifactUploader::ArtifactUploader(RunStore& store, artifacts::ArtifactStore& artifacts,
                                   RunOutputs& outputs, Clock& clock,
                                   ArtifactUploaderOptions options)
    : store_(store),
      artifacts_(artifacts),
      outputs_(outputs),
      clock_(clock),
      options_(options),
      // No period: the worker drains the queue at start and whenever Enqueue wakes it.
      worker_("artifact-upload", clock, Millis::max(), [this] { Drain(); }) {}

ArtifactUploader::~ArtifactUploader() { Stop(); }

void ArtifactUploader::Start() { worker_.Start(); }

void ArtifactUploader::Stop() { worker_.Stop(); }

void ArtifactUploader::Enqueue(const RunId& id) {
  {
    std::lock_guard lock(mu_);
    if (!queued_.insert(id.str()).second) return;
    queue_.push_back(id);
  }
  worker_.Wake();
}

Result<int> ArtifactUploader::Recover() {
  int n = 0;
  ListQuery q;
  q.limit = 200;
  q.artifacts_state = ArtifactsState::kPending;
  for (;;) {
    auto page = store_.List(q);
    if (!page.ok()) return page.status();
    // List is newest first; within a page the older runs are queued first.
    for (auto it = page->runs.rbegin(); it != page->runs.rend(); ++it) {
      Enqueue(it->id);
      ++n;
    }
    if (!page->next_cursor) break;
    q.cursor = page->next_cursor;
  }
  if (n > 0) spdlog::info("artifacts: {} finished run(s) still to upload", n);
  return n;
}

ArtifactUploader::Stats ArtifactUploader::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.queued = queue_.size();
  return s;
}

std::string ArtifactUploader::Key(const RunId& id, std::string_view name) {
  return "dispatches/" + id.str() + "/" + std::string(name);
}

void ArtifactUploader::Drain() {
  while (!worker_.stopping()) {
    RunId id;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) return;
      id = queue_.front();
      queue_.pop_front();
      queued_.erase(id.str());
    }
    if (Status st = UploadRun(id); !st.ok()) {
      spdlog::error("artifacts of run {}: {}", id.str(), st.ToString());
    }
  }
}

Result<std::string> ArtifactUploader::FromEventLog(const RunId& id, bool stdout_only) {
  std::string out;
  for (std::int64_t after = 0;;) {
    Result<EventBatch> batch = events_->Read(id.str(), after, 1000, 1 << 20);
    if (!batch.ok()) return batch.status();
    if (batch->events.empty()) return out;
    for (const RunEvent& e : batch->events) {
      after = e.seq;
      if (!stdout_only) {
        out += e.json;
        out += '\n';
        continue;
      }
      if (e.type != event::kOutput) continue;
      Result<boost::json::value> v = ParseJson(e.json, 8);
      if (!v.ok() || !v->is_object()) continue;
      const boost::json::object& o = v->as_object();
      if (GetString(o, "stream") != "stdout") continue;
      std::string data = GetString(o, "data").value_or("");
      if (GetString(o, "encoding") == "base64") data = Base64Decode(data).value_or("");
      out += data;
    }
    if (batch->ended) return out;
  }
}

Status ArtifactUploader::PutWithRetry(const std::string& key, const std::function<Status()>& put) {
  Millis backoff = options_.first_backoff;
  Status last = Status::Ok();
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    last = put();
    if (last.ok()) return last;
    {
      std::lock_guard lock(mu_);
      ++stats_.object_failures;
    }
    // A bad key or missing bucket will not get better by waiting.
    if (last.code() == Code::kInvalidArgument || last.code() == Code::kFailedPrecondition) break;
    if (attempt < options_.max_attempts) {
      spdlog::warn("artifact {}: {} (attempt {}/{}, retrying in {} ms)", key, last.ToString(),
                   attempt, options_.max_attempts, backoff.count());
      clock_.SleepFor(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
  }
  return last;
}

Status ArtifactUploader::UploadRun(const RunId& id) {
  auto cur = store_.Get(id);
  if (!cur.ok()) return cur.status();
  if (cur->artifacts_state != ArtifactsState::kPending) return Status::Ok();
  const Run run = *cur;

  std::vector<ArtifactRef> stored;
  std::vector<std::string> missing;
  auto record = [&](const Source& src, const Status& st, const std::string& sha256,
                    std::int64_t size) {
    if (!st.ok()) {
      spdlog::error("run {}: artifact {} not stored: {}", id.str(), src.name, st.ToString());
      missing.push_back(src.name);
      return;
    }
    stored.push_back({src.name, src.type, src.content_type, size, sha256});
  };
  // From an output of the run, streamed.
  auto put_output = [&](const Source& src, ByteSource& source) {
    const std::string key = Key(id, src.name);
    auto digest = Digest(source);
    Status st =
        digest.ok()
            ? PutWithRetry(key, [&] { return artifacts_.PutSource(key, source, src.content_type); })
            : digest.status();
    record(src, st, digest.ok() ? digest->first : "", digest.ok() ? digest->second : 0);
  };
  // From memory (summary.json, the empty output of a run that never ran).
  auto put_content = [&](const Source& src, const std::string& content) {
    const std::string key = Key(id, src.name);
    Status st = PutWithRetry(key, [&] { return artifacts_.Put(key, content, src.content_type); });
    record(src, st, Sha256Hex(content), static_cast<std::int64_t>(content.size()));
  };

  for (const Source& src : kSources) {
    // From the event log: the events (with their terminal status and end, which the runner's
    // journal lacks), and the stdout of a run whose runner output is not here.
    if (events_ && src.from == RunOutput::kEvents) {
      Result<std::string> text = FromEventLog(id, false);
      if (!text.ok()) {
        record(src, text.status(), "", 0);
      } else if (!text->empty()) {
        put_content(src, *text);
      }
      continue;
    }
    if (run.channel_outputs) {
      // Delivered over the run channel (RunChannel::PutOutput) under this very key: recorded as
      // stored, never fetched from the runner (which has none of it).
      Result<artifacts::ObjectInfo> have = artifacts_.Head(Key(id, src.name));
      if (have.ok()) {
        stored.push_back({src.name, src.type, src.content_type, have->size_bytes, have->sha256});
        continue;
      }
      if (have.status().code() != Code::kNotFound) {
        record(src, have.status(), "", 0);
        continue;
      }
      if (events_ && src.from == RunOutput::kStdout) {
        // Not delivered (over the bound, say): what the event log has of it.
        Result<std::string> text = FromEventLog(id, true);
        if (!text.ok()) {
          record(src, text.status(), "", 0);
        } else {
          put_content(src, *text);
        }
      } else if (src.required) {
        put_content(src, "");
      }
      continue;
    }
    auto output = outputs_.OpenOutput(id, src.from);
    if (events_ && src.from == RunOutput::kStdout && !output.ok() &&
        output.status().code() == Code::kNotFound) {
      Result<std::string> text = FromEventLog(id, true);
      if (!text.ok()) {
        record(src, text.status(), "", 0);  // never an empty output.log marked stored
      } else {
        put_content(src, *text);
      }
      continue;
    }
    if (output.ok() && (*output)->size() > 0) {
      put_output(src, **output);
    } else if (!output.ok() && output.status().code() == Code::kInternal) {
      record(src, output.status(), "", 0);  // there, but unreadable
    } else if (src.required) {
      put_content(src, "");
    }
  }
  // Last, so that it states how the others went: never "pending" about its own upload.
  Run summary = run;
  if (options_.shown_task) summary.task = options_.shown_task(run);
  summary.artifacts = stored;
  summary.artifacts_missing = missing;
  summary.artifacts_state = missing.empty() ? ArtifactsState::kStored : ArtifactsState::kPartial;
  put_content({"summary.json", "metadata", "application/json", true},
              ToJson(wire::RunToJson(summary)) + "\n");

  {
    std::lock_guard lock(mu_);
    stats_.objects_stored += static_cast<std::int64_t>(stored.size());
    ++(missing.empty() ? stats_.runs_stored : stats_.runs_partial);
  }
  bool recorded_already = false;  // by another replica's uploader, say
  auto recorded = writer_.Update(id, [&](Run& r) {
    recorded_already = r.artifacts_state != ArtifactsState::kPending;
    if (recorded_already) return FailedPrecondition("artifacts already recorded");
    r.artifacts = stored;
    r.artifacts_missing = missing;
    r.artifacts_state = missing.empty() ? ArtifactsState::kStored : ArtifactsState::kPartial;
    return Status::Ok();
  });
  if (recorded.ok() || recorded_already) return Status::Ok();
  return recorded.status();
}

}  // namespace outpost
