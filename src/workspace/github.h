// Opening a pull request through the GitHub REST API (`POST /repos/{owner}/{repo}/pulls`,
// API version 2022-11-28) — promote's second half, after the branch is pushed. GitHub
// Enterprise Server has the same endpoint under https://HOST/api/v3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "net/http_transport.h"

namespace outpost::workspace {

// GitHub's limit on a pull request's title, in characters.
inline constexpr std::size_t kMaxPullTitle = 256;
// GitHub's limit on a pull request's body, in characters.
inline constexpr std::size_t kMaxPullBody = 65536;

struct PullRequestSpec {
  std::string api_url;  // "https://api.github.com" ([git] github_api_url), no trailing '/'
  std::string owner, repo;
  std::string token;  // the tenant's token for the repository's host (Authorization: Bearer)
  std::string title, head, base, body;
  bool draft = false;
};

struct PullRequest {
  std::int64_t number = 0;
  std::string url;  // html_url
};

// "owner" and "repo" of an https URL "https://HOST/OWNER/REPO(.git)"; nullopt for any other
// shape (a repository a pull request cannot be opened for).
struct RepoPath {
  std::string owner, repo;
};
std::optional<RepoPath> GitHubRepoOf(std::string_view url);

// Sends the request with `send` (net::SendHttp in production). 201: the pull request. GitHub's
// refusals — 422 (validation: "A pull request already exists for …", no commits between base
// and head), 403 (no permission, rate limit), 404 (no such repository, or a token that may not
// see it), 401 — are kFailedPrecondition with details.remoteRefused = true, details.httpStatus
// and GitHub's message (with its errors[].message); 5xx and transport failures kUnavailable.
// The token is sent only in the Authorization header, never in a message.
Result<PullRequest> OpenPullRequest(const net::HttpSender& send, const PullRequestSpec& spec);
// The same through net::SendHttp (60 s for the whole exchange).
Result<PullRequest> OpenPullRequest(const PullRequestSpec& spec);

}  // namespace outpost::workspace
