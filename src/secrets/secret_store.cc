#include "secrets/secret_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace outpost {
namespace {

constexpr std::string_view kEnvPrefix = kSecretEnvPrefix;
constexpr std::size_t kMaxValueBytes = 32 * 1024;  // the original's limit for a secret value

}  // namespace

bool ValidSecretName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] < 'A' || name[0] > 'Z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

EnvSecretStore::EnvSecretStore(const std::map<std::string, std::string>& env) {
  for (const auto& [k, v] : env) {
    if (!k.starts_with(kEnvPrefix)) continue;
    std::string name = k.substr(kEnvPrefix.size());
    if (ValidSecretName(name) && !v.empty()) values_[name] = v;
  }
}

Result<std::string> EnvSecretStore::Get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return NotFound("secret " + std::string(name) + " is not set");
  return it->second;
}

std::vector<std::string> EnvSecretStore::Names() const {
  std::vector<std::string> out;
  for (const auto& [k, _] : values_) out.push_back(k);
  return out;
}

// O_NOFOLLOW + fstat on the open file: the checks apply to what is actually read.
Result<std::string> DirSecretStore::Get(std::string_view name) const {
  if (!ValidSecretName(name)) return NotFound("invalid secret name");
  std::string path = dir_ + "/" + std::string(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFound("no secret file " + path);
    if (errno == ELOOP)
      return Status(Code::kPermissionDenied, "secret file " + path + " is a symlink");
    return Unavailable("cannot open secret file " + path + ": " + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(Code::kPermissionDenied, "secret file " + path + " is not a regular file");
  }
  if ((st.st_mode & 07777) != 0600 || st.st_uid != ::geteuid()) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status(Code::kPermissionDenied, "secret file " + path +
                                               " must be mode 0600 and owned by uid " +
                                               std::to_string(::geteuid()) + " (it is mode " +
                                               mode + ", uid " + std::to_string(st.st_uid) + ")");
  }
  std::string value;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && value.size() <= kMaxValueBytes) {
    value.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (n < 0) return Unavailable("cannot read secret file " + path);
  if (value.size() > kMaxValueBytes)
    return InvalidArgument("secret file " + path + " is over 32 KiB");
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  if (value.empty()) return NotFound("secret file " + path + " is empty");
  return value;
}

std::vector<std::string> DirSecretStore::Names() const {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (ValidSecretName(e->d_name)) out.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> ChainSecretStore::Get(std::string_view name) const {
  for (const auto& s : stores_) {
    auto v = s->Get(name);
    if (v.ok() || v.status().code() != Code::kNotFound) return v;
  }
  return NotFound("secret " + std::string(name) + " is not configured");
}

std::vector<std::string> ChainSecretStore::Names() const {
  std::set<std::string> all;
  for (const auto& s : stores_) {
    for (auto& n : s->Names()) all.insert(std::move(n));
  }
  return {all.begin(), all.end()};
}

std::unique_ptr<SecretStore> MakeSecretStore(const std::map<std::string, std::string>& env,
                                             const std::string& dir) {
  std::vector<std::unique_ptr<SecretStore>> stores;
  stores.push_back(std::make_unique<EnvSecretStore>(env));
  if (!dir.empty()) stores.push_back(std::make_unique<DirSecretStore>(dir));
  return std::make_unique<ChainSecretStore>(std::move(stores));
}

}  // namespace outpost
