#include "core/run_artifacts.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <charconv>

#include "common/time_util.h"
#include "core/artifact_uploader.h"

namespace outpost {
namespace json = boost::json;

Result<int> RunArtifacts::ParseExpiresIn(const std::optional<std::string>& text) {
  if (!text) return kDefaultArtifactExpiry;
  int v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size() ||
      v < kMinArtifactExpiry || v > kMaxArtifactExpiry) {
    return Status::Invalid(
        {{"expiresIn", "must be an integer number of seconds from 60 to 86400"}});
  }
  return v;
}

Result<json::object> RunArtifacts::List(std::string_view run_id, int expires_in_seconds,
                                        const RequestContext& ctx) {
  Result<Run> run = runs_.Get(run_id, ctx);
  if (!run.ok()) return run.status();
  json::object out{{"runId", run->id.str()}, {"status", ToString(run->status)}};
  json::array list;
  if (!IsTerminal(run->status)) {
    out["artifactsStatus"] = "running";
  } else {
    out["artifactsStatus"] = run->artifacts_state == ArtifactsState::kNone
                                 ? std::string_view("pending")
                                 : ToString(run->artifacts_state);
  }
  const WallTime now = clock_.Now();
  const WallTime expires_at = now + std::chrono::seconds(expires_in_seconds);
  for (const ArtifactRef& a : run->artifacts) {
    auto url = store_.PresignGet(ArtifactUploader::Key(run->id, a.name),
                                 std::chrono::seconds(expires_in_seconds), now);
    if (!url.ok()) return url.status();
    list.push_back(json::object{{"name", a.name},
                                {"type", a.type},
                                {"url", *url},
                                {"expiresAt", FormatTime(expires_at)},
                                {"sizeBytes", a.size_bytes},
                                {"contentType", a.content_type},
                                {"sha256", a.sha256}});
  }
  json::array missing;
  for (const auto& m : run->artifacts_missing) missing.emplace_back(m);
  out["missing"] = std::move(missing);
  out["artifacts"] = std::move(list);
  return out;
}

Result<RunArtifacts::Diff> RunArtifacts::ReadDiff(std::string_view run_id, std::size_t max_bytes,
                                                  const RequestContext& ctx) {
  Result<Run> run = runs_.Get(run_id, ctx);
  if (!run.ok()) return run.status();
  if (!IsTerminal(run->status)) {
    return FailedPrecondition("run " + run->id.str() + " is " + std::string(ToString(run->status)) +
                              ": its diff is there once it has ended");
  }
  if (!run->repo) return FailedPrecondition("run " + run->id.str() + " has no repository");
  const auto it = std::find_if(run->artifacts.begin(), run->artifacts.end(),
                               [](const ArtifactRef& a) { return a.name == "diff.patch"; });
  if (it == run->artifacts.end()) {
    if (run->artifacts_state == ArtifactsState::kNone ||
        run->artifacts_state == ArtifactsState::kPending) {
      return Unavailable("the artifacts of run " + run->id.str() +
                         " are still being uploaded; ask again in a few seconds");
    }
    if (!run->changes || run->changes->kind == "none") return Diff{};  // nothing changed
    return NotFound("run " + run->id.str() + " kept no diff.patch (its artifacts: " +
                    std::string(ToString(run->artifacts_state)) + ")");
  }
  Result<std::string> text = store_.Get(ArtifactUploader::Key(run->id, it->name));
  if (!text.ok()) return text.status();
  Diff d;
  d.size_bytes = static_cast<std::int64_t>(text->size());
  if (text->size() > max_bytes) {
    const std::size_t cut = text->rfind('\n', max_bytes - 1);
    text->resize(cut == std::string::npos ? max_bytes : cut + 1);
    d.truncated = true;
  }
  d.text = std::move(*text);
  return d;
}

}  // namespace outpost
