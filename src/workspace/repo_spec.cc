#include "workspace/repo_spec.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "common/crypto.h"

// The original built `github.com/<operator>/<repo>` from `owner/repo` and lost the owner (its
// "namespace bug"); here the owner is part of the URL, always.
namespace outpost::workspace {
namespace {

const char kShapes[] = "repo must be owner/repo or a git URL (https://, ssh://, git@host:path)";
const char kShapesLocal[] =
    "repo must be owner/repo, a git URL (https://, ssh://, git@host:path) or an absolute path";

std::string NameOf(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::size_t slash = path.find_last_of("/:");
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (name.ends_with(".git")) name.remove_suffix(4);
  return std::string(name);
}

bool HasDotDotComponent(std::string_view path) {
  std::size_t pos = 0;
  while ((pos = path.find("..", pos)) != std::string_view::npos) {
    bool starts = pos == 0 || path[pos - 1] == '/';
    bool ends = pos + 2 == path.size() || path[pos + 2] == '/';
    if (starts && ends) return true;
    pos += 2;
  }
  return false;
}

}  // namespace

Result<RepoSpec> ParseRepoSpec(std::string_view repo, bool allow_local) {
  static const std::regex kOwnerRepo(
      R"(^[A-Za-z0-9_][A-Za-z0-9_.-]*/[A-Za-z0-9_][A-Za-z0-9_.-]*$)");
  static const std::regex kUrl(R"(^(https?|ssh|git)://[A-Za-z0-9_.@:\[\]%+~-]+(/[^\s]*)?$)");
  static const std::regex kScp(R"(^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:[^\s/-][^\s]*$)");
  static const std::regex kLocal(R"(^(file://)?/[^\s]*$)");
  const std::string s(repo);
  const char* shapes = allow_local ? kShapesLocal : kShapes;
  if (std::regex_match(s, kOwnerRepo)) {
    if (s.find("..") != std::string::npos) return InvalidArgument(shapes);
    std::string path = s.ends_with(".git") ? s.substr(0, s.size() - 4) : s;
    return RepoSpec{"https://github.com/" + path + ".git", NameOf(path), false};
  }
  if (std::regex_match(s, kUrl) || std::regex_match(s, kScp)) {
    return RepoSpec{s, NameOf(s), false};
  }
  if (std::regex_match(s, kLocal)) {
    if (!allow_local) {
      return InvalidArgument(
          "local repositories are not allowed on this server (the operator enables them with "
          "--allow-local-repos); " +
          std::string(kShapes));
    }
    std::string path = s.starts_with("file://") ? s.substr(7) : s;
    if (HasDotDotComponent(path)) return InvalidArgument("repo path must not contain '..'");
    return RepoSpec{path, NameOf(path), true};
  }
  return InvalidArgument(shapes);
}

std::optional<std::string> CredentialHost(std::string_view url) {
  constexpr std::string_view kHttps = "https://";
  if (url.size() < kHttps.size()) return std::nullopt;
  for (std::size_t i = 0; i < kHttps.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(url[i])) != kHttps[i]) return std::nullopt;
  }
  std::string_view authority = url.substr(kHttps.size());
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (authority.ends_with(":443")) authority.remove_suffix(4);
  std::string host;
  for (char c : authority) {
    auto u = static_cast<unsigned char>(c);
    // Only what a DNS name is made of: no port, no brackets, no percent-encoding.
    if (!std::isalnum(u) && c != '.' && c != '-') return std::nullopt;
    host += static_cast<char>(std::tolower(u));
  }
  if (host.empty()) return std::nullopt;
  return host;
}

std::optional<TokenRef> TokenFor(std::string_view url,
                                 const std::map<std::string, std::string>& hosts) {
  std::optional<std::string> host = CredentialHost(url);
  if (!host) return std::nullopt;
  auto it = hosts.find(*host);
  if (it == hosts.end()) return std::nullopt;
  return TokenRef{"https://" + *host, it->second};
}

std::optional<TokenRef> TokenFor(std::string_view url, std::string_view tenant,
                                 const GitTokens& tokens) {
  std::optional<std::string> host = CredentialHost(url);
  if (!host) return std::nullopt;
  if (auto t = tokens.tenants.find(std::string(tenant)); t != tokens.tenants.end()) {
    if (auto it = t->second.find(*host); it != t->second.end()) {
      return TokenRef{"https://" + *host, it->second};
    }
  }
  if (tenant != kOperatorTenant && !tokens.shared.contains(*host)) return std::nullopt;
  return TokenFor(url, tokens.hosts);
}

std::set<std::string> GitTokenSecrets(const GitTokens& tokens) {
  std::set<std::string> names;
  for (const auto& [host, secret] : tokens.hosts) names.insert(secret);
  for (const auto& [tenant, hosts] : tokens.tenants) {
    for (const auto& [host, secret] : hosts) names.insert(secret);
  }
  return names;
}

std::string TenantCacheRoot(const std::string& repos_root, std::string_view tenant) {
  // Tenant ids are ULIDs (or "default"); anything else is hashed rather than trusted as a
  // path component.
  const bool plain = !tenant.empty() && tenant.size() <= 64 &&
                     std::all_of(tenant.begin(), tenant.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                     });
  return repos_root + "/" + (plain ? std::string(tenant) : "t-" + Sha256Hex(tenant));
}

namespace {

std::optional<std::string> RealPath(const std::string& p) {
  char* r = ::realpath(p.c_str(), nullptr);
  if (r == nullptr) return std::nullopt;
  std::string out(r);
  std::free(r);
  return out;
}

bool Under(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.starts_with(dir) && path[dir.size()] == '/');
}

}  // namespace

Result<std::string> ResolveLocalRepo(const std::string& path, const std::vector<std::string>& roots,
                                     const std::string& data_dir) {
  const Status refused = InvalidArgument(
      "repo path is not in a local repository root of this server (the operator lists them in "
      "[server] local_repo_roots)");
  std::string given = path.starts_with("file://") ? path.substr(7) : path;
  std::optional<std::string> real = RealPath(given);
  if (!real) return refused;
  // The data dir as it is now, or lexically when it does not exist yet ("": none to exclude).
  if (!data_dir.empty()) {
    std::string data = RealPath(data_dir).value_or(
        std::filesystem::absolute(data_dir).lexically_normal().string());
    while (data.size() > 1 && data.back() == '/') data.pop_back();
    if (Under(*real, data)) return refused;
  }
  for (const std::string& root : roots) {
    std::optional<std::string> r = RealPath(root);
    if (r && Under(*real, *r)) return *real;
  }
  return refused;
}

std::string WithoutCredentials(std::string_view url) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  std::size_t host = scheme + 3;
  std::size_t end = url.find('/', host);
  std::size_t at = url.rfind('@', end == std::string_view::npos ? url.size() : end);
  if (at == std::string_view::npos || at < host) return std::string(url);
  // ssh://git@host/... keeps its user name (it is not a secret); a password never stays.
  std::string_view userinfo = url.substr(host, at - host);
  std::string out(url.substr(0, host));
  if (url.starts_with("ssh://") && userinfo.find(':') == std::string_view::npos) {
    out += userinfo;
    out += '@';
  }
  out += url.substr(at + 1);
  return out;
}

}  // namespace outpost::workspace
