// Why files are read on every call: credentials are resolved once when a client is built, and a
// rotated ~/.aws/credentials should be picked up by the next one without a restart.
#include "aws/credentials.h"

#include <cctype>
#include <optional>

#include "common/files.h"

namespace outpost::aws {
namespace {

std::string Get(const EnvMap& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Files {
  std::string credentials_path, config_path;
  IniFile credentials, config;
};

// A missing file is an empty one; only an unreadable existing file is an error.
Result<IniFile> LoadIni(const std::string& path) {
  if (path.empty() || !FileExists(path)) return IniFile{};
  auto text = ReadFile(path);
  if (!text.ok()) return FailedPrecondition("cannot read " + path + ": " + text.status().message());
  return ParseIni(*text);
}

Result<Files> LoadFiles(const EnvMap& env) {
  std::string home = Get(env, "HOME");
  Files f;
  f.credentials_path = Get(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (f.credentials_path.empty() && !home.empty()) f.credentials_path = home + "/.aws/credentials";
  f.config_path = Get(env, "AWS_CONFIG_FILE");
  if (f.config_path.empty() && !home.empty()) f.config_path = home + "/.aws/config";
  OUTPOST_ASSIGN_OR_RETURN(auto creds, LoadIni(f.credentials_path));
  OUTPOST_ASSIGN_OR_RETURN(auto config, LoadIni(f.config_path));
  f.credentials = std::move(creds);
  f.config = std::move(config);
  return f;
}

std::string ProfileName(const EnvMap& env) {
  std::string p = Get(env, "AWS_PROFILE");
  if (p.empty()) p = Get(env, "AWS_DEFAULT_PROFILE");
  return p.empty() ? "default" : p;
}

// The profile's section in the config file: "[profile x]", or "[default]" for the default.
const std::map<std::string, std::string>* ConfigSection(const IniFile& config,
                                                        const std::string& profile) {
  if (auto it = config.find("profile " + profile); it != config.end()) return &it->second;
  if (profile == "default") {
    if (auto it = config.find("default"); it != config.end()) return &it->second;
  }
  return nullptr;
}

std::optional<Credentials> FromSection(const std::map<std::string, std::string>& s) {
  auto key = s.find("aws_access_key_id");
  auto secret = s.find("aws_secret_access_key");
  if (key == s.end() && secret == s.end()) return std::nullopt;
  Credentials c;
  if (key != s.end()) c.access_key_id = key->second;
  if (secret != s.end()) c.secret_access_key = secret->second;
  if (auto t = s.find("aws_session_token"); t != s.end()) c.session_token = t->second;
  return c;
}

Status CheckComplete(const Credentials& c, const std::string& where) {
  if (c.access_key_id.empty()) return FailedPrecondition(where + " has no aws_access_key_id");
  if (c.secret_access_key.empty()) {
    return FailedPrecondition(where + " has no aws_secret_access_key");
  }
  return Status::Ok();
}

}  // namespace

IniFile ParseIni(std::string_view text) {
  IniFile out;
  std::string section;
  bool in_subsection = false;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(std::string_view(line).substr(1, line.size() - 2));
      out[section];
      in_subsection = false;
      continue;
    }
    if (indented && in_subsection) continue;
    std::size_t eq = line.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    std::string key = Lower(Trim(std::string_view(line).substr(0, eq)));
    std::string value = Trim(std::string_view(line).substr(eq + 1));
    in_subsection = value.empty();
    out[section][key] = value;
  }
  return out;
}

Result<Credentials> ResolveCredentials(const EnvMap& env) {
  std::string key = Get(env, "AWS_ACCESS_KEY_ID");
  std::string secret = Get(env, "AWS_SECRET_ACCESS_KEY");
  if (!key.empty() && !secret.empty())
    return Credentials{key, secret, Get(env, "AWS_SESSION_TOKEN")};
  if (!key.empty())
    return FailedPrecondition("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  if (!secret.empty())
    return FailedPrecondition("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");

  OUTPOST_ASSIGN_OR_RETURN(auto files, LoadFiles(env));
  std::string profile = ProfileName(env);
  if (auto it = files.credentials.find(profile); it != files.credentials.end()) {
    if (auto c = FromSection(it->second)) {
      OUTPOST_RETURN_IF_ERROR(
          CheckComplete(*c, "profile '" + profile + "' in " + files.credentials_path));
      return *c;
    }
  }
  const auto* section = ConfigSection(files.config, profile);
  if (section) {
    if (auto c = FromSection(*section)) {
      OUTPOST_RETURN_IF_ERROR(
          CheckComplete(*c, "profile '" + profile + "' in " + files.config_path));
      return *c;
    }
    for (const char* unsupported : {"sso_start_url", "sso_session", "credential_process",
                                    "role_arn", "web_identity_token_file"}) {
      if (section->contains(unsupported)) {
        return FailedPrecondition("AWS profile '" + profile + "' uses " + unsupported +
                                  ", which Outpost does not support; export "
                                  "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY instead");
      }
    }
  }
  bool known = section || files.credentials.contains(profile);
  return FailedPrecondition(
      "no AWS credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set and profile '" +
      profile + (known ? "' has no aws_access_key_id in " : "' is not defined in ") +
      (files.credentials_path.empty() ? "~/.aws/credentials (HOME is not set)"
                                      : files.credentials_path) +
      " or " + (files.config_path.empty() ? "~/.aws/config" : files.config_path));
}

Result<std::string> ResolveRegion(const EnvMap& env) {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (std::string r = Get(env, name); !r.empty()) return r;
  }
  OUTPOST_ASSIGN_OR_RETURN(auto files, LoadFiles(env));
  std::string profile = ProfileName(env);
  if (const auto* section = ConfigSection(files.config, profile)) {
    if (auto it = section->find("region"); it != section->end() && !it->second.empty()) {
      return it->second;
    }
  }
  return FailedPrecondition(
      "no AWS region: AWS_REGION and AWS_DEFAULT_REGION are not set and "
      "profile '" +
      profile + "' has no region in " +
      (files.config_path.empty() ? "~/.aws/config" : files.config_path));
}

}  // namespace outpost::aws
