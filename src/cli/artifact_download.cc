#include "cli/artifact_download.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/crypto.h"
#include "common/files.h"
#include "net/http_transport.h"

namespace outpost::cli {
namespace {

// Slack over the recorded size before the transport gives up reading: a body a little too long
// is read whole and reported as a size mismatch; a runaway one is cut off as a failed fetch.
constexpr std::size_t kBodySlack = 64 * 1024;

// net::ParseUrl refuses queries (its callers build paths themselves), but a presigned URL is all
// query: parse scheme://authority/path and send "?query" verbatim — it is already encoded, and
// re-encoding it would break the signature. A fragment is never sent.
Result<net::Url> ParseDownloadUrl(std::string_view text) {
  text = text.substr(0, text.find('#'));
  const std::size_t q = text.find('?');
  auto url = net::ParseUrl(text.substr(0, q));
  if (!url.ok()) return url.status();
  if (url->path.empty()) url->path = "/";
  if (q != std::string_view::npos) url->path += std::string(text.substr(q));
  return url;
}

Result<net::HttpResponse> Fetch(const std::string& url_text, std::size_t max_body,
                                const DownloadOptions& options) {
  auto url = ParseDownloadUrl(url_text);
  if (!url.ok()) return url.status();
  auto proxy = net::ProxyFor(*url, options.env);
  if (!proxy.ok()) return proxy.status();
  net::HttpRequest request;
  request.method = "GET";
  request.url = std::move(*url);
  net::TransportOptions transport;
  transport.proxy = std::move(*proxy);
  transport.timeout = options.timeout;
  transport.max_response_body = max_body;
  return net::SendHttp(request, transport);
}

DownloadOutcome Verified(const ArtifactEntry& entry, const std::string& body) {
  DownloadOutcome out;
  out.bytes = static_cast<std::int64_t>(body.size());
  if (out.bytes != entry.size_bytes) {
    out.verdict = DownloadVerdict::kSizeMismatch;
    out.detail =
        "got " + std::to_string(out.bytes) + " bytes, expected " + std::to_string(entry.size_bytes);
  } else if (Sha256Hex(body) != entry.sha256) {
    out.verdict = DownloadVerdict::kSha256Mismatch;
    out.detail = "expected sha256 " + entry.sha256;
  }
  return out;
}

DownloadOutcome Failure(DownloadVerdict verdict, std::string detail, std::int64_t bytes = 0) {
  return {verdict, bytes, std::move(detail)};
}

}  // namespace

std::string_view VerdictText(DownloadVerdict verdict) {
  switch (verdict) {
    case DownloadVerdict::kOk:
      return "ok";
    case DownloadVerdict::kUnsafeName:
      return "REFUSED";
    case DownloadVerdict::kUnverifiable:
      return "UNVERIFIABLE";
    case DownloadVerdict::kFetchFailed:
      return "FAILED";
    case DownloadVerdict::kSizeMismatch:
      return "SIZE MISMATCH";
    case DownloadVerdict::kSha256Mismatch:
      return "SHA256 MISMATCH";
    case DownloadVerdict::kWriteFailed:
      return "WRITE FAILED";
  }
  return "?";
}

std::string_view VerdictCode(DownloadVerdict verdict) {
  switch (verdict) {
    case DownloadVerdict::kOk:
      return "ok";
    case DownloadVerdict::kUnsafeName:
      return "unsafe_name";
    case DownloadVerdict::kUnverifiable:
      return "unverifiable";
    case DownloadVerdict::kFetchFailed:
      return "fetch_failed";
    case DownloadVerdict::kSizeMismatch:
      return "size_mismatch";
    case DownloadVerdict::kSha256Mismatch:
      return "sha256_mismatch";
    case DownloadVerdict::kWriteFailed:
      return "write_failed";
  }
  return "?";
}

bool IsSafeArtifactName(std::string_view name) {
  return !name.empty() && name.front() != '.' && name.find_first_of("/\\") == name.npos &&
         name.find('\0') == name.npos && name.find("..") == name.npos;
}

DownloadOutcome DownloadArtifact(const ArtifactEntry& entry, const std::string& dir,
                                 const DownloadOptions& options) {
  if (!IsSafeArtifactName(entry.name)) {
    return Failure(DownloadVerdict::kUnsafeName, "unsafe name, not written");
  }
  const std::string path = dir + "/" + entry.name;
  DownloadOutcome out;
  if (entry.size_bytes < 0 || entry.sha256.empty()) {
    out = Failure(DownloadVerdict::kUnverifiable, "the server listed no size or sha256");
  } else if (auto got =
                 Fetch(entry.url, static_cast<std::size_t>(entry.size_bytes) + kBodySlack, options);
             !got.ok()) {
    out = Failure(DownloadVerdict::kFetchFailed, got.status().message());
  } else if (got->status != 200) {
    out = Failure(DownloadVerdict::kFetchFailed, "HTTP " + std::to_string(got->status));
  } else if (out = Verified(entry, got->body); out.ok()) {
    Status written = WriteFileAtomic(path, got->body);
    if (written.ok()) return out;
    out = Failure(DownloadVerdict::kWriteFailed, written.message(), out.bytes);
  }
  // Whatever was there under this name is not this run's verified artifact.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    const int err = errno;
    out.detail += "; could not remove the old " + path + ": " + std::strerror(err);
  }
  return out;
}

}  // namespace outpost::cli
