// The CLI's own settings: named contexts (an endpoint and its API key), kept in
// $XDG_CONFIG_HOME/outpost/config.toml (default ~/.config/outpost/config.toml), written by
// `outpost login` and `outpost context use|delete`:
//
//   current-context = "prod"
//   [contexts.prod]
//   endpoint = "https://outpost.example.com"
//   api_key = "otp_…"
//
// The file holds keys: it is written 0600 (through a temporary file and a rename, so a reader
// never sees half of it) in a 0700 directory. A file others may read is refused on load.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace outpost::cli {

struct CliContext {
  std::string endpoint;
  std::string api_key;  // "" = none
  bool operator==(const CliContext&) const = default;
};

struct CliConfig {
  std::string current;  // "" = none chosen
  std::map<std::string, CliContext> contexts;
};

// $XDG_CONFIG_HOME/outpost/config.toml, else $HOME/.config/outpost/config.toml;
// kFailedPrecondition when neither variable is set.
Result<std::string> CliConfigPath();

// A missing file is an empty config. kInvalidArgument naming the file and line for bad TOML or
// a bad field; kPermissionDenied for a file group or others may read (it holds keys).
Result<CliConfig> LoadCliConfig(const std::string& path);
Status SaveCliConfig(const std::string& path, const CliConfig& config);

// Context names: 1-64 of [A-Za-z0-9._-].
Status CheckContextName(const std::string& name);

}  // namespace outpost::cli
