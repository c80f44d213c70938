#include "core/run_channel.h"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <utility>
#include <vector>

#include "common/crypto.h"
#include "common/encoding.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/time_util.h"
#include "model/run_event.h"
#include "runner/runner.h"

namespace outpost {
namespace {

namespace json = boost::json;

constexpr std::size_t kTokenRandomBytes = 32;  // 256 bits
constexpr std::size_t kTokenSecretChars = 43;  // their unpadded base64url

// The event types a supervisor may send (model/run_event.h): all but `end`, which only the
// control plane writes (a terminal `status` is refused separately).
constexpr std::array kSupervisorTypes = {
    event::kStatus,     event::kPhase, event::kOutput, event::kAgentMessage, event::kToolCall,
    event::kToolResult, event::kUsage, event::kError,  event::kTruncated,    event::kArtifact,
};

// The fields of an exit record this server knows (runner/runner.h ExitRecordToJson).
constexpr std::array<std::string_view, 17> kExitFields = {
    "outcome",
    "ended_at",
    "message",
    "leftover_processes_killed",
    "stdout_bytes",
    "stderr_bytes",
    "stdout_dropped_bytes",
    "stderr_dropped_bytes",
    "exit_code",
    "signal",
    "started_at",
    "cancel_reason",
    "cgroup_version",
    "peak_memory_bytes",
    "agent_result",
    "agent_turns",
    "changes",  // 1.1
};

std::string Base64Url(std::string_view bytes) {
  std::string s = Base64Encode(bytes);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// The one 401 of every bad token (which reason goes to the log only).
Status BadToken(const RunId& id, std::string_view why) {
  spdlog::info("run channel: 401 for run {}: {}", id.str(), why);
  return Status(Code::kUnauthenticated, "missing or invalid run token");
}

// A store that pushes back: the supervisor retries later (its journal keeps the events).
Status Pushback(const Status& st) {
  if (st.code() != Code::kUnavailable) return st;
  return Status(Code::kResourceExhausted,
                "the store is busy; retry in " + std::to_string(kChannelRetryAfterSeconds) + " s")
      .WithDetail("retryAfterSeconds", kChannelRetryAfterSeconds);
}

Status Ended(const Run& run, std::string_view what) {
  return Conflict("run " + run.id.str() + " has ended (" + std::string(ToString(run.status)) +
                  "): " + std::string(what))
      .WithDetail("currentStatus", json::value(std::string(ToString(run.status))));
}

// Top-level fields other than `known`: refused for a client of this minor or older, ignored for
// a newer one (fields it added that this server does not know).
Status UnknownFields(const json::object& body, ChannelVersion v,
                     const std::vector<std::string_view>& known, std::string_view prefix) {
  if (v.minor > kChannelMinor) return Status::Ok();
  std::vector<FieldError> errors;
  for (const auto& kv : body) {
    if (std::find(known.begin(), known.end(), kv.key()) == known.end()) {
      errors.push_back({std::string(prefix) + std::string(kv.key()), "unknown field"});
    }
  }
  return errors.empty() ? Status::Ok() : Status::Invalid(errors);
}

// One event as sent -> as kept: seq, ts, type first, then its other fields in their order.
std::optional<RunEvent> ReadEvent(const json::value& v, const std::string& path,
                                  std::vector<FieldError>& errors) {
  if (!v.is_object()) {
    errors.push_back({path, "must be a JSON object"});
    return std::nullopt;
  }
  const json::object& o = v.as_object();
  const std::size_t before = errors.size();
  std::optional<std::int64_t> seq = GetInt(o, "seq");
  if (!seq || *seq < 1) errors.push_back({path + ".seq", "must be an integer >= 1"});
  std::optional<std::string> ts = GetString(o, "ts");
  if (!ts || !ParseTime(*ts)) errors.push_back({path + ".ts", "must be an RFC 3339 time"});
  std::optional<std::string> type = GetString(o, "type");
  if (!type || std::find(kSupervisorTypes.begin(), kSupervisorTypes.end(), *type) ==
                   kSupervisorTypes.end()) {
    errors.push_back({path + ".type", type && *type == event::kEnd
                                          ? "`end` is written by the control plane only"
                                          : "must be one of the event types a supervisor sends "
                                            "(status, phase, output, agent_message, tool_call, "
                                            "tool_result, usage, error, truncated, artifact)"});
  } else if (*type == event::kStatus) {
    std::optional<std::string> s = GetString(o, "status");
    std::optional<RunStatus> status = s ? ParseRunStatus(*s) : std::nullopt;
    if (status != RunStatus::kRunning) {
      errors.push_back({path + ".status",
                        "a supervisor reports RUNNING only: the terminal status is the control "
                        "plane's (report the exit instead)"});
    }
  }
  if (errors.size() != before) return std::nullopt;
  json::object kept;
  kept.reserve(o.size());
  kept["seq"] = *seq;
  kept["ts"] = *ts;
  kept["type"] = *type;
  for (const auto& kv : o) {
    if (kv.key() != "seq" && kv.key() != "ts" && kv.key() != "type") kept[kv.key()] = kv.value();
  }
  return RunEvent{*seq, *type, ToJson(kept)};
}

}  // namespace

Result<ChannelVersion> ParseChannelVersion(const std::optional<std::string>& header) {
  if (!header) return ChannelVersion{kChannelMajor, 0};
  const std::string supported = "supported: " + std::to_string(kChannelMajor) + ".x (this server " +
                                std::to_string(kChannelMajor) + "." +
                                std::to_string(kChannelMinor) + ")";
  auto bad = [&](std::string why) {
    return Status::Invalid({{"Outpost-Channel-Version", std::move(why)}},
                           "unsupported Outpost-Channel-Version \"" + *header + "\"; " + supported)
        .WithDetail("supported", json::value(std::to_string(kChannelMajor) + ".x"));
  };
  const std::string& h = *header;
  const std::size_t dot = h.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == h.size() || h.size() > 16) {
    return bad("must be MAJOR.MINOR, e.g. 1.0");
  }
  ChannelVersion v;
  auto num = [](std::string_view s, int& out) {
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  if (!num(std::string_view(h).substr(0, dot), v.major) ||
      !num(std::string_view(h).substr(dot + 1), v.minor)) {
    return bad("must be MAJOR.MINOR, e.g. 1.0");
  }
  if (v.major != kChannelMajor) return bad("major version " + std::to_string(v.major));
  return v;
}

std::string ChannelTokenHash(std::string_view token) { return Sha256Hex(token); }

Result<std::string> IssueChannelToken(RunWriter& writer, const RunId& id) {
  Result<std::string> random = RandomBytes(kTokenRandomBytes);
  if (!random.ok()) return random.status();
  std::string token = id.str() + "." + Base64Url(*random);
  const std::string hash = ChannelTokenHash(token);
  auto stored = writer.Update(id, [&](Run& r) {
    r.channel_token_sha256 = hash;
    ++r.channel_attempt;
    return Status::Ok();
  });
  if (!stored.ok()) return stored.status();
  return token;
}

Result<ChannelTokens> IssueChannelTokens(RunWriter& writer, const RunId& id) {
  Result<std::string> random = RandomBytes(kTokenRandomBytes);
  if (!random.ok()) return random.status();
  Result<std::string> random2 = RandomBytes(kTokenRandomBytes);
  if (!random2.ok()) return random2.status();
  ChannelTokens t{id.str() + "." + Base64Url(*random), id.str() + "." + Base64Url(*random2)};
  const std::string hash = ChannelTokenHash(t.token);
  const std::string bootstrap_hash = ChannelTokenHash(t.bootstrap);
  auto stored = writer.Update(id, [&](Run& r) {
    r.channel_token_sha256 = hash;
    r.channel_bootstrap_sha256 = bootstrap_hash;
    ++r.channel_attempt;
    return Status::Ok();
  });
  if (!stored.ok()) return stored.status();
  return t;
}

RunChannel::RunChannel(RunStore& store, EventLog& events, Notify notify, SpecSource spec)
    : store_(store),
      events_(events),
      writer_(store),
      notify_(std::move(notify)),
      spec_(std::move(spec)) {}

Result<Run> RunChannel::Authorize(const RunId& id, std::string_view token) {
  if (token.empty()) return BadToken(id, "no token presented");
  const std::size_t dot = token.rfind('.');
  const std::string_view secret = dot == std::string_view::npos ? "" : token.substr(dot + 1);
  if (dot == std::string_view::npos || secret.size() != kTokenSecretChars ||
      !std::all_of(secret.begin(), secret.end(), IsBase64UrlChar)) {
    return BadToken(id, "a malformed token");
  }
  const std::string hash = ChannelTokenHash(token);
  const RunId owner{std::string(token.substr(0, dot))};
  if (owner != id) {
    // Another run's token: 403 only when it is that run's current token (a forged one is 401).
    if (IsUlid(owner.str())) {
      Result<Run> other = store_.Get(owner);
      if (!other.ok() && other.status().code() == Code::kUnavailable) {
        return Pushback(other.status());
      }
      if (other.ok() && !other->channel_token_sha256.empty() &&
          ConstantTimeEquals(hash, other->channel_token_sha256)) {
        spdlog::warn("run channel: 403 for run {}: a token of run {}", id.str(), owner.str());
        return Status(Code::kPermissionDenied, "this token belongs to another run");
      }
    }
    return BadToken(id, "a token that is not this run's");
  }
  Result<Run> run = store_.Get(id);
  if (!run.ok()) {
    if (run.status().code() == Code::kNotFound) return BadToken(id, "no such run");
    return Pushback(run.status());
  }
  if (run->channel_token_sha256.empty() || !ConstantTimeEquals(hash, run->channel_token_sha256)) {
    return BadToken(id, "not the token of the run's current attempt (forged or stale)");
  }
  return run;
}

Result<ChannelAppend> RunChannel::AppendEvents(const RunId& id, std::string_view token,
                                               ChannelVersion v, const json::object& body) {
  Result<Run> run = Authorize(id, token);
  if (!run.ok()) return run.status();
  if (Status st = UnknownFields(body, v, {"events"}, ""); !st.ok()) return st;
  const json::value* list = body.if_contains("events");
  if (list == nullptr || !list->is_array() || list->as_array().empty()) {
    return Status::Invalid({{"events", "must be a non-empty array of events"}});
  }
  const json::array& items = list->as_array();
  if (items.size() > kMaxChannelBatchEvents) {
    return Status(Code::kPayloadTooLarge,
                  "a batch holds at most " + std::to_string(kMaxChannelBatchEvents) + " events")
        .WithDetail("maxEvents", kMaxChannelBatchEvents);
  }
  std::vector<RunEvent> batch;
  batch.reserve(items.size());
  std::vector<FieldError> errors;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (auto e = ReadEvent(items[i], "events[" + std::to_string(i) + "]", errors)) {
      batch.push_back(std::move(*e));
    }
  }
  if (!errors.empty()) return Status::Invalid(errors);
  if (Status st = ValidateEventBatch(id.str(), batch); !st.ok()) {
    return Status::Invalid({{"events", st.message()}}, st.message());
  }
  if (IsTerminal(run->status)) {
    // Only an identical resend of stored events is still acknowledged (Append checks identity).
    Result<EventLogTail> tail = events_.Tail(id.str());
    if (!tail.ok()) return Pushback(tail.status());
    if (batch.back().seq > tail->last_seq) return Ended(*run, "no new events are accepted");
  }
  Result<EventAppend> appended = events_.Append(id.str(), batch);
  if (!appended.ok()) return Pushback(appended.status());
  if (appended->stored > 0 && notify_) notify_(id);
  return ChannelAppend{appended->last_seq, appended->stored};
}

Result<bool> RunChannel::ReportExit(const RunId& id, std::string_view token, ChannelVersion v,
                                    const json::object& body) {
  Result<Run> run = Authorize(id, token);
  if (!run.ok()) return run.status();
  if (Status st = UnknownFields(body, v, {kExitFields.begin(), kExitFields.end()}, ""); !st.ok()) {
    return st;
  }
  // The known fields' types (the shared parser reads a mistyped one as absent).
  std::vector<FieldError> mistyped;
  for (const auto& kv : body) {
    const std::string_view k = kv.key();
    const json::value& val = kv.value();
    const bool text = k == "outcome" || k == "ended_at" || k == "started_at" || k == "message" ||
                      k == "cancel_reason" || k == "cgroup_version";
    if (text && !val.is_string()) mistyped.push_back({std::string(k), "must be a string"});
    if ((k == "agent_result" || k == "changes") && !val.is_object()) {
      mistyped.push_back({std::string(k), "must be an object"});
    }
    const bool number = !text && k != "agent_result" && k != "changes" &&
                        std::find(kExitFields.begin(), kExitFields.end(), k) != kExitFields.end();
    if (number && !val.is_int64() && !val.is_uint64()) {
      mistyped.push_back({std::string(k), "must be an integer"});
    }
  }
  if (!mistyped.empty()) return Status::Invalid(mistyped);
  Result<ExitRecord> rec = ExitRecordFromJson(body, "exit record");
  if (!rec.ok()) return Status::Invalid({{"", rec.status().message()}}, rec.status().message());
  if (rec->outcome == ExitOutcome::kNone) {
    return Status::Invalid({{"outcome", "must be an outcome, not empty"}});
  }
  const std::string canonical = ToJson(ExitRecordToJson(*rec));
  auto judge = [&](const Run& r) -> Result<bool> {  // true: store it; false: identical resend
    if (r.channel_exit) {
      if (*r.channel_exit == canonical) return false;
      return Conflict("run " + r.id.str() + " already has a different exit record");
    }
    if (IsTerminal(r.status)) return Ended(r, "no exit record is accepted");
    return true;
  };
  Result<bool> verdict = judge(*run);
  if (!verdict.ok() || !*verdict) return verdict;
  const std::string token_hash = run->channel_token_sha256;
  bool identical = false;
  auto stored = writer_.Update(id, [&](Run& r) {
    if (r.channel_token_sha256 != token_hash) {
      return Status(Code::kUnauthenticated, "missing or invalid run token");  // a new attempt
    }
    Result<bool> again = judge(r);
    if (!again.ok()) return again.status();
    if (!*again) {
      identical = true;
      return FailedPrecondition("identical");
    }
    r.channel_exit = canonical;
    return Status::Ok();
  });
  if (identical) return false;
  if (!stored.ok()) return Pushback(stored.status());
  spdlog::info("run {}: exit reported over the run channel ({})", id.str(), ToString(rec->outcome));
  return true;
}

Result<ChannelControl> RunChannel::Control(const RunId& id, std::string_view token) {
  Result<Run> run = Authorize(id, token);
  if (!run.ok()) return run.status();
  ChannelControl c;
  c.status = run->status;
  c.cancel_requested = run->cancel_requested_at.has_value();
  c.cancel_reason = run->cancel_reason;
  if (run->started_at)
    c.deadline_at = *run->started_at + std::chrono::seconds(run->timeout_seconds);
  return c;
}

Result<RunSpec> RunChannel::Spec(const RunId& id, std::string_view token) {
  Result<Run> run = Authorize(id, token);
  if (!run.ok()) return run.status();
  if (run->status != RunStatus::kRunning) {
    return Conflict("run " + id.str() + " is " + std::string(ToString(run->status)) +
                    ": its spec is served while it is RUNNING only")
        .WithDetail("currentStatus", json::value(std::string(ToString(run->status))));
  }
  if (!spec_) return FailedPrecondition("this server serves no run specs");
  Result<RunSpec> spec = spec_(*run);
  if (!spec.ok()) return spec.status();
  spec->channel.reset();  // the caller has its token; it is not echoed
  return spec;
}

Result<std::string> RunChannel::Bootstrap(const RunId& id, std::string_view bootstrap_token) {
  const std::string_view t = bootstrap_token;
  const std::size_t dot = t.rfind('.');
  const std::string_view secret = dot == std::string_view::npos ? "" : t.substr(dot + 1);
  if (t.empty() || dot == std::string_view::npos || secret.size() != kTokenSecretChars ||
      !std::all_of(secret.begin(), secret.end(), IsBase64UrlChar) ||
      RunId(std::string(t.substr(0, dot))) != id) {
    return BadToken(id, "a missing or malformed bootstrap token");
  }
  const std::string hash = ChannelTokenHash(t);
  Result<std::string> random = RandomBytes(kTokenRandomBytes);
  if (!random.ok()) return random.status();
  std::string token = id.str() + "." + Base64Url(*random);
  const std::string token_hash = ChannelTokenHash(token);
  Status refused = Status::Ok();
  auto stored = writer_.Update(id, [&](Run& r) {
    if (r.channel_bootstrap_sha256.empty() ||
        !ConstantTimeEquals(hash, r.channel_bootstrap_sha256)) {
      refused = BadToken(id, "not the run's unused bootstrap token (used, forged or stale)");
      return refused;
    }
    if (IsTerminal(r.status)) {
      refused = Ended(r, "no bootstrap");
      return refused;
    }
    r.channel_token_sha256 = token_hash;
    r.channel_bootstrap_sha256.clear();
    return Status::Ok();
  });
  if (!refused.ok()) return refused;
  if (!stored.ok()) {
    if (stored.status().code() == Code::kNotFound) return BadToken(id, "no such run");
    return Pushback(stored.status());
  }
  spdlog::info("run {}: bootstrap token exchanged for the run channel's token", id.str());
  return token;
}

std::optional<RunChannel::OutputName> RunChannel::OutputArtifact(std::string_view name) {
  static constexpr std::array<std::array<std::string_view, 3>, 5> kNames = {{
      {"stdout", "output.log", "text/plain; charset=utf-8"},
      {"stderr", "stderr.log", "text/plain; charset=utf-8"},
      {"context", "context.md", "text/markdown; charset=utf-8"},
      {"diff", "diff.patch", "text/x-diff; charset=utf-8"},
      {"bundle", "changes.bundle", "application/x-git-bundle"},
  }};
  for (const auto& n : kNames) {
    if (n[0] == name) return OutputName{std::string(n[1]), std::string(n[2])};
  }
  return std::nullopt;
}

Result<bool> RunChannel::PutOutput(const RunId& id, std::string_view token, std::string_view name,
                                   std::string_view content) {
  Result<Run> run = Authorize(id, token);
  if (!run.ok()) return run.status();
  std::optional<OutputName> out = OutputArtifact(name);
  if (!out) {
    return Status::Invalid({{"name", "must be one of stdout, stderr, context, diff, bundle"}});
  }
  if (static_cast<std::int64_t>(content.size()) > max_output_bytes_) {
    return Status(Code::kPayloadTooLarge, "an output is at most " +
                                              std::to_string(max_output_bytes_) +
                                              " bytes (the output cap)")
        .WithDetail("maxBytes", max_output_bytes_);
  }
  if (outputs_ == nullptr) return FailedPrecondition("this server stores no channel outputs");
  const std::string key = "dispatches/" + id.str() + "/" + out->artifact;
  Result<artifacts::ObjectInfo> have = outputs_->Head(key);
  if (!have.ok() && have.status().code() != Code::kNotFound) return Pushback(have.status());
  if (have.ok() && have->sha256 == Sha256Hex(content) &&
      have->size_bytes == static_cast<std::int64_t>(content.size())) {
    return false;  // an identical resend, at any time
  }
  if (IsTerminal(run->status)) return Ended(*run, "no new outputs are accepted");
  if (Status st = outputs_->Put(key, content, out->content_type); !st.ok()) return Pushback(st);
  return true;
}

}  // namespace outpost
