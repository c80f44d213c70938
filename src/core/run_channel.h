// RunChannel: the control plane's side of the run channel (ARCHITECTURE.md §8) — what a run's
// supervisor that runs far from the control plane (a container's `outpost task`) reports to ANY
// replica: its events (stored in the shared EventLog), its exit record (stored on the run
// record; the replica holding the run's lease ends the run with it, core/supervisor.cc), and
// what it asks (GET …/control: a cancel, the deadline). api/channel_routes.h is its HTTP face.
//
// Authentication: a random per-attempt token "<runId>.<43 base64url chars>" (256 random bits)
// that core issues when it starts a run attempt (IssueChannelToken, handed to the runner in
// RunSpec::channel). The run record keeps only its SHA-256 and the attempt number; a new
// attempt's token replaces the last one's. Every method checks the presented token first:
//   missing / malformed / not the run's current one (forged, stale) -> kUnauthenticated (401);
//   the current token of ANOTHER run                                 -> kPermissionDenied (403).
// Then the body (kInvalidArgument, 400), then the run's state: a run that ended refuses new
// events and a new exit (kConflict, 409, details.currentStatus) but acknowledges an identical
// resend of what it stored, at any time. A refusal stores nothing and leaves the run as it was.
// A throttled store (kUnavailable) is kResourceExhausted with details.retryAfterSeconds (429).
//
// Versions: the supervisor sends "Outpost-Channel-Version: 1.<minor>" (absent: 1.0). Any 1.x is
// served; fields of a newer minor than kChannelMinor that this server does not know are ignored
// (top-level body fields, exit fields; events are stored as sent); a body of this minor or older
// with an unknown field is refused. 2.x and malformed versions: kInvalidArgument naming the range.
//
// Thread-safe (the stores are).
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "artifacts/artifact_store.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "core/run_writer.h"
#include "model/run.h"
#include "runner/runner.h"
#include "store/event_log.h"
#include "store/run_store.h"

namespace outpost {

// The channel protocol's version this server speaks: 1.kChannelMinor (and every older 1.x).
inline constexpr int kChannelMajor = 1;
// 1.1: the exit record's `changes` (ExitRecord::changes), POST …/bootstrap, PUT …/outputs/{name}.
inline constexpr int kChannelMinor = 1;
// Bounds of one request: its body (the HTTP server's max_body_bytes applies first) and the
// events of one batch. Over them: kPayloadTooLarge (413).
inline constexpr std::size_t kMaxChannelBodyBytes = 4 << 20;
inline constexpr std::size_t kMaxChannelBatchEvents = 1000;
// Retry-After of a throttled store.
inline constexpr int kChannelRetryAfterSeconds = 1;

struct ChannelVersion {
  int major = kChannelMajor;
  int minor = 0;
};
// The Outpost-Channel-Version header's value (nullopt: absent = 1.0). kInvalidArgument for a
// malformed one or a major other than 1, naming the supported range.
Result<ChannelVersion> ParseChannelVersion(const std::optional<std::string>& header);

// A new attempt of `id`: a fresh token, whose SHA-256 (and the attempt's number) replaces the
// last attempt's on the run record. Returns the token (for RunSpec::channel only: never logged
// or stored). Errors: the store's, kInternal when no random bytes.
Result<std::string> IssueChannelToken(RunWriter& writer, const RunId& id);
// The tokens of a new attempt: its channel token, and a one-use bootstrap token that a task far
// away exchanges for a fresh channel token (RunChannel::Bootstrap). Both hashes (and the
// attempt's number) replace the last attempt's on the run record in one write.
struct ChannelTokens {
  std::string token;
  std::string bootstrap;
};
Result<ChannelTokens> IssueChannelTokens(RunWriter& writer, const RunId& id);
// The SHA-256 (hex) the record keeps of a token.
std::string ChannelTokenHash(std::string_view token);

// What GET …/control tells the supervisor.
struct ChannelControl {
  RunStatus status = RunStatus::kRunning;
  bool cancel_requested = false;
  std::optional<std::string> cancel_reason;
  std::optional<WallTime> deadline_at;  // started_at + timeoutSeconds
};

// What POST …/events did.
struct ChannelAppend {
  std::int64_t last_seq = 0;
  int stored = 0;
};

class RunChannel {
 public:
  // Told (on the request's thread) of runs whose events grew; engineer B's EventHub wakes its
  // followers with it. Must be quick.
  using Notify = std::function<void(const RunId&)>;
  // The RunSpec of a run (the app wires Supervisor::SpecFor): what GET …/spec serves. Called on
  // the request's thread; may read secrets. Without one, Spec is kFailedPrecondition.
  using SpecSource = std::function<Result<RunSpec>(const Run&)>;

  // `store` and `events` must outlive this.
  RunChannel(RunStore& store, EventLog& events, Notify notify = {}, SpecSource spec = {});

  // `body`: {"events":[{"seq":N,"ts":"…","type":"…",…fields}, …]} with consecutive seqs. Each
  // event is kept as compact JSON with seq, ts, type first and its other fields as sent. Types:
  // event::k* but `end`; a `status` only with status RUNNING (the control plane writes
  // the terminal ones). A resend of stored seqs is acknowledged when identical (kConflict with
  // details.seq otherwise); a gap is kFailedPrecondition (409) with details.nextSeq.
  Result<ChannelAppend> AppendEvents(const RunId& id, std::string_view token, ChannelVersion v,
                                     const boost::json::object& body);
  // `body`: the exit record (runner/runner.h ExitRecordToJson's fields). Stored once; an
  // identical resend is Ok (false: nothing new), a different one kConflict.
  Result<bool> ReportExit(const RunId& id, std::string_view token, ChannelVersion v,
                          const boost::json::object& body);
  Result<ChannelControl> Control(const RunId& id, std::string_view token);
  // What the supervisor runs (GET …/spec; a container's `outpost task` fetches it at its start):
  // the run's RunSpec with its secret values (env, redact, the git token) and without
  // `channel` (the caller holds its token). Only with the run's current token, and only while
  // the run is RUNNING (else kConflict with details.currentStatus). A secret: never logged.
  Result<RunSpec> Spec(const RunId& id, std::string_view token);

  // POST …/bootstrap: exchanges the attempt's one-use bootstrap token (IssueChannelTokens) for
  // a fresh channel token, whose hash replaces the record's in the same conditional write that
  // clears the bootstrap hash — so the token issued at launch stops working, a second exchange
  // is refused (kUnauthenticated) and nothing read from the store suffices to get a token. Only
  // while the run is not terminal (else kConflict with details.currentStatus).
  Result<std::string> Bootstrap(const RunId& id, std::string_view bootstrap_token);

  // Where outputs that a supervisor delivers over the channel go (PutOutput): the ArtifactStore
  // under the keys the end-of-run upload uses (core/artifact_uploader.h), and each one's bound
  // (the output cap). Without a store, PutOutput is kFailedPrecondition. Set before serving.
  void SetOutputs(artifacts::ArtifactStore* store, std::int64_t max_output_bytes) {
    outputs_ = store;
    max_output_bytes_ = max_output_bytes;
  }
  // The artifact name of an output (`name` of PUT …/outputs/{name}): stdout -> output.log,
  // stderr -> stderr.log, context -> context.md, diff -> diff.patch, bundle -> changes.bundle;
  // nullopt for any other name.
  struct OutputName {
    std::string artifact;
    std::string content_type;
  };
  static std::optional<OutputName> OutputArtifact(std::string_view name);
  // PUT …/outputs/{name}: stores `content` whole (kInvalidArgument for an unknown name,
  // kPayloadTooLarge over the output cap). A resend replaces it while the run is not terminal;
  // after the run ended only an identical resend is acknowledged (false: nothing new), anything
  // else is kConflict. True when stored.
  Result<bool> PutOutput(const RunId& id, std::string_view token, std::string_view name,
                         std::string_view content);

 private:
  // The run, when `token` is its current one (else the refusal described above).
  Result<Run> Authorize(const RunId& id, std::string_view token);

  RunStore& store_;
  EventLog& events_;
  RunWriter writer_;
  Notify notify_;
  SpecSource spec_;
  artifacts::ArtifactStore* outputs_ = nullptr;
  std::int64_t max_output_bytes_ = std::int64_t{100} << 20;
};

}  // namespace outpost
