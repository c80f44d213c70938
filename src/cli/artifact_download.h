// Fetching one run artifact into a local directory, verified: the download half of
// `outpost artifacts ID --download DIR`.
//
// The URL is the one GET /runs/{id}/artifacts handed out: the local backend's signed
// http://host:port/files/…?expires=…&signature=… or an S3 presigned http(s) URL. It is fetched
// with net::SendHttp (TLS verified against the system CAs, proxies from the environment), with
// no Authorization header: the URL carries its own signature, and a bearer token would both leak
// the API key to S3 and break its presigned request.
//
// Contract on DIR: after DownloadArtifact returns, DIR/<name> either holds exactly the bytes the
// server recorded (size and sha256 checked before anything is written, then temp file + rename)
// or does not exist — a stale file of that name from an earlier download is removed when this
// one fails, so nothing under DIR can be mistaken for this run's verified artifact. Nothing is
// ever written outside DIR: names come from the server and are not trusted (IsSafeArtifactName).
//
// The body is held in memory (SendHttp reads whole responses), bounded by the recorded size.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/url.h"

namespace outpost::cli {

struct ArtifactEntry {
  std::string name;
  std::string url;
  std::string sha256;            // lowercase hex, as the server recorded it
  std::int64_t size_bytes = -1;  // -1: the server gave none
};

enum class DownloadVerdict {
  kOk,
  kUnsafeName,      // refused before fetching: the name could escape DIR
  kUnverifiable,    // the server listed no sha256/size to check against
  kFetchFailed,     // no answer, or not 200
  kSizeMismatch,    // the body's length is not sizeBytes
  kSha256Mismatch,  // the body's digest is not sha256
  kWriteFailed,     // the verified bytes could not be stored under DIR
};

struct DownloadOutcome {
  DownloadVerdict verdict = DownloadVerdict::kOk;
  std::int64_t bytes = 0;  // bytes received
  std::string detail;      // why, for failures ("HTTP 403", "cannot reach …", "got 12 bytes")
  bool ok() const { return verdict == DownloadVerdict::kOk; }
};

// "ok", "SHA256 MISMATCH", "SIZE MISMATCH", "FAILED", "REFUSED", "UNVERIFIABLE", "WRITE FAILED".
std::string_view VerdictText(DownloadVerdict verdict);
// The same as a JSON-friendly token: "ok", "sha256_mismatch", … (for --json).
std::string_view VerdictCode(DownloadVerdict verdict);

// A single path component that is not hidden: non-empty, no '/', '\\' or NUL, no "..", no
// leading '.'.
bool IsSafeArtifactName(std::string_view name);

struct DownloadOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};  // the whole exchange
  net::EnvMap env;  // HTTPS_PROXY/HTTP_PROXY/NO_PROXY are read from here (empty: no proxy)
};

// Fetches `entry` into `dir`/<name> (dir must exist). Never throws; every failure is a verdict.
DownloadOutcome DownloadArtifact(const ArtifactEntry& entry, const std::string& dir,
                                 const DownloadOptions& options);

}  // namespace outpost::cli
