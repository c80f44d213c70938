#include "workspace/github.h"

#include <boost/json.hpp>
#include <cctype>
#include <chrono>

#include "common/json_util.h"

namespace outpost::workspace {
namespace json = boost::json;
namespace {

// GitHub's error body: {"message": "...", "errors": [{"message": "..."} | {"code": "..."}]}.
std::string GitHubMessage(const std::string& body) {
  Result<json::value> v = ParseJson(body);
  if (!v.ok() || !v->is_object()) return body.substr(0, 300);
  const json::object& o = v->get_object();
  std::string msg = GetString(o, "message").value_or("");
  if (const auto* errors = o.if_contains("errors"); errors != nullptr && errors->is_array()) {
    for (const json::value& e : errors->get_array()) {
      if (!e.is_object()) continue;
      std::string one = GetString(e.get_object(), "message")
                            .value_or(GetString(e.get_object(), "code").value_or(""));
      if (!one.empty()) msg += (msg.empty() ? "" : ": ") + one;
    }
  }
  return msg.empty() ? body.substr(0, 300) : msg;
}

bool PathSegment(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<RepoPath> GitHubRepoOf(std::string_view url) {
  constexpr std::string_view kHttps = "https://";
  if (!url.starts_with(kHttps)) return std::nullopt;
  url.remove_prefix(kHttps.size());
  std::size_t slash = url.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view path = url.substr(slash + 1);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (path.ends_with(".git")) path.remove_suffix(4);
  std::size_t mid = path.find('/');
  if (mid == std::string_view::npos) return std::nullopt;
  std::string_view owner = path.substr(0, mid), repo = path.substr(mid + 1);
  if (!PathSegment(owner) || !PathSegment(repo)) return std::nullopt;
  return RepoPath{std::string(owner), std::string(repo)};
}

Result<PullRequest> OpenPullRequest(const net::HttpSender& send, const PullRequestSpec& spec) {
  Result<net::Url> url =
      net::ParseUrl(spec.api_url + "/repos/" + spec.owner + "/" + spec.repo + "/pulls");
  if (!url.ok()) return Internal("bad GitHub API URL: " + url.status().message());
  net::HttpRequest req;
  req.method = "POST";
  req.url = *url;
  req.headers = {{"Authorization", "Bearer " + spec.token},
                 {"Accept", "application/vnd.github+json"},
                 {"X-GitHub-Api-Version", "2022-11-28"},
                 {"Content-Type", "application/json"},
                 {"User-Agent", "outpost"}};
  req.body = json::serialize(json::object{{"title", spec.title},
                                          {"head", spec.head},
                                          {"base", spec.base},
                                          {"body", spec.body},
                                          {"draft", spec.draft}});
  Result<net::HttpResponse> resp = send(req);
  if (!resp.ok()) {
    return Unavailable("cannot reach the GitHub API at " + spec.api_url + ": " +
                       resp.status().message());
  }
  if (resp->status == 201) {
    Result<json::value> v = ParseJson(resp->body);
    if (v.ok() && v->is_object()) {
      const json::object& o = v->get_object();
      PullRequest pr{GetInt(o, "number").value_or(0), GetString(o, "html_url").value_or("")};
      if (pr.number > 0 && !pr.url.empty()) return pr;
    }
    return Unavailable("the GitHub API answered 201 without a pull request's number and html_url");
  }
  const std::string what = "GitHub refused the pull request (HTTP " + std::to_string(resp->status) +
                           "): " + GitHubMessage(resp->body);
  if (resp->status >= 500 || resp->status == 429) return Unavailable(what);
  Status st = FailedPrecondition(what);
  st.WithDetail("remoteRefused", true);
  st.WithDetail("httpStatus", resp->status);
  return st;
}

Result<PullRequest> OpenPullRequest(const PullRequestSpec& spec) {
  net::TransportOptions options;
  options.timeout = std::chrono::seconds(60);
  options.connect_timeout = std::chrono::seconds(10);
  options.max_response_body = 4 << 20;
  return OpenPullRequest(
      [&options](const net::HttpRequest& r) { return net::SendHttp(r, options); }, spec);
}

}  // namespace outpost::workspace
