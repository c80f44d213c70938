#include "cli/cli_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace outpost::cli {

Result<std::string> CliConfigPath() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/outpost/config.toml";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return std::string(home) + "/.config/outpost/config.toml";
  return FailedPrecondition("neither XDG_CONFIG_HOME nor HOME is set: no place for config.toml");
}

Status CheckContextName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return InvalidArgument("context names are 1 to 64 characters");
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return InvalidArgument("context name '" + name + "': only letters, digits, '.', '_', '-'");
    }
  }
  return Status::Ok();
}

Result<CliConfig> LoadCliConfig(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return CliConfig{};
    return Unavailable(path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return Status(Code::kPermissionDenied,
                  path + " may be read by others (it holds API keys): chmod 600 " + path);
  }
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(path + ":" + std::to_string(e.source().begin.line) + ": " +
                           std::string(e.description()));
  }
  CliConfig config;
  const auto bad = [&](const std::string& what) { return InvalidArgument(path + ": " + what); };
  for (const auto& [key, node] : root) {
    if (key == "current-context") {
      if (!node.is_string()) return bad("current-context must be a string");
      config.current = node.as_string()->get();
    } else if (key == "contexts") {
      if (!node.is_table()) return bad("contexts must be a table of [contexts.NAME]");
      for (const auto& [name, ctx] : *node.as_table()) {
        const std::string n(name.str());
        if (!ctx.is_table()) return bad("contexts." + n + " must be a table");
        CliContext c;
        for (const auto& [field, value] : *ctx.as_table()) {
          if (!value.is_string())
            return bad("contexts." + n + "." + std::string(field.str()) + " must be a string");
          if (field == "endpoint") {
            c.endpoint = value.as_string()->get();
          } else if (field == "api_key") {
            c.api_key = value.as_string()->get();
          } else {
            return bad("contexts." + n + "." + std::string(field.str()) +
                       ": unknown key (endpoint, api_key)");
          }
        }
        if (c.endpoint.empty()) return bad("contexts." + n + ".endpoint is required");
        config.contexts[n] = std::move(c);
      }
    } else {
      return bad(std::string(key.str()) + ": unknown key (current-context, contexts)");
    }
  }
  return config;
}

Status SaveCliConfig(const std::string& path, const CliConfig& config) {
  const std::string dir = path.substr(0, path.rfind('/'));
  // Parents as the user's umask has them; the outpost directory itself 0700.
  for (std::size_t slash = dir.find('/', 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1)) {
    ::mkdir(dir.substr(0, slash).c_str(), 0755);
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Unavailable(dir + ": " + std::strerror(errno));
  }
  if (::chmod(dir.c_str(), 0700) != 0) return Unavailable(dir + ": " + std::strerror(errno));
  toml::table root;
  if (!config.current.empty()) root.insert("current-context", config.current);
  toml::table contexts;
  for (const auto& [name, c] : config.contexts) {
    toml::table t;
    t.insert("endpoint", c.endpoint);
    if (!c.api_key.empty()) t.insert("api_key", c.api_key);
    contexts.insert(name, std::move(t));
  }
  root.insert("contexts", std::move(contexts));
  std::ostringstream text;
  text << "# outpost CLI contexts (outpost login / outpost context). Holds API keys: keep 0600.\n"
       << root << "\n";
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Unavailable(tmp + ": " + std::strerror(errno));
  const std::string data = text.str();
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
            ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Unavailable(path + ": " + std::strerror(ok ? errno : err));
  }
  return Status::Ok();
}

}  // namespace outpost::cli
