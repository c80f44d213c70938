#include "config/options.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <regex>
#include <set>

#include "common/ids.h"
#include "config/agent_network.h"
#include "config/env_reader.h"
#include "config/quota_config.h"

namespace outpost {
namespace {

// "a/b.json": no leading '/', no empty, "." or ".." segment, at most 256 bytes.
bool IsPlainRelativePath(std::string_view p) {
  if (p.empty() || p.size() > 256 || p.front() == '/' || p.back() == '/') return false;
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view seg = p.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

// Integer settings with their allowed ranges; shared by the file and the environment.
struct IntKey {
  std::string_view key;
  int Options::*field;
  int min, max;
};

constexpr IntKey kIntKeys[] = {
    {"max_concurrent_runs", &Options::max_concurrent_runs, 1, 10000},
    {"cancel_grace_seconds", &Options::cancel_grace_seconds, 0, 3600},
    {"default_timeout_seconds", &Options::default_timeout_seconds, 1, 86400},
    {"max_body_bytes", &Options::max_body_bytes, 1024, 64 << 20},
    {"shutdown_grace_seconds", &Options::shutdown_grace_seconds, 0, 600},
    {"drain_seconds", &Options::drain_seconds, 0, 600},
    {"events_heartbeat_ms", &Options::events_heartbeat_ms, 50, 3'600'000},
    {"retention_days", &Options::retention_days, 0, 36500},
    {"lease_seconds", &Options::lease_seconds, 3, 3600},
    {"min_free_disk_mb", &Options::min_free_disk_mb, 0, 1 << 30},
    // Hostile-input limits. A field or target over max_header_bytes meets that limit first.
    {"max_header_bytes", &Options::max_header_bytes, 1024, 1 << 20},
    {"max_header_fields", &Options::max_header_fields, 8, 10'000},
    {"max_header_line_bytes", &Options::max_header_line_bytes, 256, 1 << 20},
    {"max_target_bytes", &Options::max_target_bytes, 256, 1 << 20},
    {"header_timeout_ms", &Options::header_timeout_ms, 100, 600'000},
    {"body_timeout_ms", &Options::body_timeout_ms, 100, 3'600'000},
    {"body_min_bytes_per_second", &Options::body_min_bytes_per_second, 0, 1 << 30},
    {"idle_timeout_ms", &Options::idle_timeout_ms, 100, 3'600'000},
    {"write_timeout_ms", &Options::write_timeout_ms, 100, 3'600'000},
    {"max_connections", &Options::max_connections, 1, 1'000'000},
    {"handler_threads", &Options::handler_threads, 0, 1024},
};

struct StringKey {
  std::string_view key;
  std::string Options::*field;
};

constexpr StringKey kStringKeys[] = {
    {"listen", &Options::listen},
    {"data_dir", &Options::data_dir},
    {"store", &Options::store},
    {"log_level", &Options::log_level},
    {"log_format", &Options::log_format},
    {"replica_id", &Options::replica_id},
    {"secrets_dir", &Options::secrets_dir},
    {"artifacts", &Options::artifacts_url},
    {"public_url", &Options::public_url},
};

Status Bad(std::string_view key, std::string_view why) {
  return InvalidArgument("config: " + std::string(key) + ": " + std::string(why));
}

// Audit F6: no default above its ceiling, the agents' defaults included.
Status CheckRunLimits(const Options& o) {
  const RunLimitOptions& l = o.run_limits;
  struct Row {
    std::string key;
    int value;
    int ceiling;
    std::string_view ceiling_key;
  };
  std::vector<Row> rows = {
      {"limits.default_memory_mb", l.default_memory_mb, l.ceiling_memory_mb, "ceiling_memory_mb"},
      {"limits.default_cpu_units", l.default_cpu_units, l.ceiling_cpu_units, "ceiling_cpu_units"},
      {"limits.default_disk_gb", l.default_disk_gb, l.ceiling_disk_gb, "ceiling_disk_gb"},
  };
  for (const auto& [name, a] : o.agents) {
    const std::string p = "agents." + name + ".";
    if (a.max_memory_mb)
      rows.push_back(
          {p + "max_memory_mb", *a.max_memory_mb, l.ceiling_memory_mb, "ceiling_memory_mb"});
    if (a.max_cpu_units)
      rows.push_back(
          {p + "max_cpu_units", *a.max_cpu_units, l.ceiling_cpu_units, "ceiling_cpu_units"});
    if (a.max_disk_gb)
      rows.push_back({p + "max_disk_gb", *a.max_disk_gb, l.ceiling_disk_gb, "ceiling_disk_gb"});
  }
  for (const Row& r : rows) {
    if (r.value > r.ceiling) {
      return Bad(r.key, std::to_string(r.value) + " is above [limits] " +
                            std::string(r.ceiling_key) + " = " + std::to_string(r.ceiling));
    }
  }
  return Status::Ok();
}

// [runner] kind, [server] runner, OUTPOST_RUNNER.
Status SetRunner(const std::string& name, Options& o, const std::string& key) {
  Result<RunnerKind> kind = ParseRunnerName(name, key);
  if (!kind.ok()) return InvalidArgument("config: " + kind.status().message());
  o.runner = *kind;
  return Status::Ok();
}

Result<int> IntIn(const toml::node& v, const std::string& key, int min, int max);

// [runner.docker].
Status ApplyDocker(const toml::table& t, Options& opts) {
  static const std::regex kImagePart(R"(^[a-z0-9][a-z0-9._/:-]*$)");
  static const std::regex kTag(R"(^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$)");
  for (const auto& [k, v] : t) {
    const std::string key(k.str()), full = "runner.docker." + key;
    if (key == "unreachable_grace_seconds") {
      auto n = IntIn(v, full, 10, 86400);
      if (!n.ok()) return n.status();
      opts.docker.unreachable_grace_seconds = *n;
      continue;
    }
    if (key == "remote") {
      if (!v.is_boolean()) return Bad(full, "must be true or false");
      opts.docker.remote = v.as_boolean()->get();
      continue;
    }
    if (!v.is_string()) return Bad(full, "must be a string");
    const std::string value = v.as_string()->get();
    if (key == "host") {
      if (!value.empty() && !value.starts_with("unix:///") && !value.starts_with("tcp://")) {
        return Bad(full, "\"" + value + "\" must be unix:///path or tcp://host:port");
      }
      opts.docker.host = value;
    } else if (key == "image_prefix") {
      if (!std::regex_match(value, kImagePart) || value.find(':') != std::string::npos) {
        return Bad(full, "\"" + value + "\" must be an image name prefix ([a-z0-9._/-])");
      }
      opts.docker.image_prefix = value;
    } else if (key == "image_tag") {
      if (!value.empty() && !std::regex_match(value, kTag)) {
        return Bad(full, "\"" + value + "\" must be an image tag ([A-Za-z0-9_.-], at most 128)");
      }
      opts.docker.image_tag = value;
    } else {
      return Bad(full, "unknown key");
    }
  }
  return Status::Ok();
}

// [runner.ecs].
Status ApplyEcs(const toml::table& t, Options& opts) {
  static const std::regex kRegion(R"(^[a-z]{2}(-[a-z]+)+-[0-9]+$)");
  static const std::regex kName(R"(^[A-Za-z0-9][A-Za-z0-9_./:-]{0,254}$)");
  static const std::regex kSubnet(R"(^subnet-[0-9a-f]{8,17}$)");
  static const std::regex kGroup(R"(^sg-[0-9a-f]{8,17}$)");
  static const std::regex kFamilyPart(R"(^[A-Za-z0-9_-]{0,200}$)");  // family: [A-Za-z0-9_-]
  EcsOptions& e = opts.ecs;
  for (const auto& [k, v] : t) {
    const std::string key(k.str()), full = "runner.ecs." + key;
    if (key == "describe_interval_seconds" || key == "start_timeout_seconds" ||
        key == "lost_grace_seconds") {
      auto n =
          key == "describe_interval_seconds" ? IntIn(v, full, 1, 300) : IntIn(v, full, 30, 86400);
      if (!n.ok()) return n.status();
      (key == "describe_interval_seconds" ? e.describe_interval_seconds
       : key == "start_timeout_seconds"   ? e.start_timeout_seconds
                                          : e.lost_grace_seconds) = *n;
      continue;
    }
    if (key == "assign_public_ip") {
      if (!v.is_boolean()) return Bad(full, "must be true or false");
      e.assign_public_ip = v.as_boolean()->get();
      continue;
    }
    if (key == "subnets" || key == "security_groups") {
      if (!v.is_array()) return Bad(full, "must be a list of strings");
      std::vector<std::string> out;
      for (const auto& item : *v.as_array()) {
        if (!item.is_string()) return Bad(full, "must be a list of strings");
        const std::string s = item.as_string()->get();
        if (!std::regex_match(s, key == "subnets" ? kSubnet : kGroup)) {
          return Bad(full, "\"" + s + "\" is not a " +
                               (key == "subnets" ? "subnet id (subnet-0123abcd…)"
                                                 : "security group id (sg-0123abcd…)"));
        }
        out.push_back(s);
      }
      if (out.size() > (key == "subnets" ? 16u : 5u)) {
        return Bad(full, key == "subnets" ? "at most 16 subnets" : "at most 5 security groups");
      }
      (key == "subnets" ? e.subnets : e.security_groups) = std::move(out);
      continue;
    }
    if (!v.is_string()) return Bad(full, "must be a string");
    const std::string value = v.as_string()->get();
    if (key == "region") {
      if (!value.empty() && !std::regex_match(value, kRegion)) {
        return Bad(full, "\"" + value + "\" is not an AWS region (us-east-1)");
      }
      e.region = value;
    } else if (key == "cluster" || key == "capacity_provider") {
      if (!value.empty() && !std::regex_match(value, kName)) {
        return Bad(full, "\"" + value + "\" must be a name or ARN ([A-Za-z0-9_./:-])");
      }
      (key == "cluster" ? e.cluster : e.capacity_provider) = value;
    } else if (key == "task_definition_prefix" || key == "env") {
      if (!std::regex_match(value, kFamilyPart)) {
        return Bad(full, "\"" + value + "\" may hold letters, digits, - and _ only");
      }
      (key == "env" ? e.env : e.task_definition_prefix) = value;
    } else if (key == "endpoint") {
      if (!value.empty() &&
          ((!value.starts_with("http://") && !value.starts_with("https://")) ||
           value.find_first_of("?# ") != std::string::npos || value.back() == '/')) {
        return Bad(full, "\"" + value + "\" must be http(s)://host[:port]");
      }
      e.endpoint = value;
    } else {
      return Bad(full, "unknown key");
    }
  }
  return Status::Ok();
}

// [runner]: kind, and the [runner.docker] and [runner.ecs] tables.
Status ApplyRunner(const toml::table& t, Options& opts) {
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "kind") {
      if (!v.is_string()) return Bad("runner.kind", "must be a string");
      OUTPOST_RETURN_IF_ERROR(SetRunner(v.as_string()->get(), opts, "runner.kind"));
    } else if (key == "docker") {
      if (!v.is_table()) return Bad("runner.docker", "must be a table");
      OUTPOST_RETURN_IF_ERROR(ApplyDocker(*v.as_table(), opts));
    } else if (key == "ecs") {
      if (!v.is_table()) return Bad("runner.ecs", "must be a table");
      OUTPOST_RETURN_IF_ERROR(ApplyEcs(*v.as_table(), opts));
    } else if (key == "channel_url") {
      if (!v.is_string()) return Bad("runner.channel_url", "must be a string");
      const std::string url = v.as_string()->get();
      if ((!url.starts_with("http://") && !url.starts_with("https://")) ||
          url.find_first_of("?# ") != std::string::npos || url.back() == '/') {
        return Bad("runner.channel_url",
                   "\"" + url + "\" must be http(s)://host[:port][/path] without a trailing '/'");
      }
      opts.channel_url = url;
    } else {
      return Bad("runner." + key, "unknown key");
    }
  }
  return Status::Ok();
}

Status CheckSecrets(const SecretsOptions& s);

Status CheckValues(const Options& o) {
  if (!o.public_url.empty() &&
      ((!o.public_url.starts_with("http://") && !o.public_url.starts_with("https://")) ||
       o.public_url.find_first_of("?# ") != std::string::npos || o.public_url.back() == '/')) {
    return Bad("public_url", "must be http(s)://host[:port][/path] without a trailing '/'");
  }
  if (o.sandbox.uid_min < 1000 || o.sandbox.uid_max < o.sandbox.uid_min ||
      o.sandbox.uid_max > 2'000'000'000) {
    return Bad("sandbox.uid_min/uid_max", "must be a range of unprivileged ids (>= 1000)");
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
  if (!kLevels.count(o.log_level))
    return Bad("log_level", "must be one of trace|debug|info|warn|error|off");
  if (o.log_format != "text" && o.log_format != "json") {
    return Bad("log_format", "must be text or json");
  }
  OUTPOST_RETURN_IF_ERROR(CheckSecrets(o.secrets));
  if (o.listen.find(':') == std::string::npos) return Bad("listen", "must be HOST:PORT");
  if (o.data_dir.empty()) return Bad("data_dir", "must not be empty");
  if (o.default_max_cost_usd && o.max_cost_usd && *o.default_max_cost_usd > *o.max_cost_usd) {
    return Bad("limits.default_max_cost_usd", "must not be above limits.max_cost_usd");
  }
  for (const auto& [name, a] : o.agents) {
    if (a.network == "host" && !o.sandbox.allow_host_network) {
      return Bad("agents." + name + ".network", "'host' needs [sandbox] allow_host_network = true");
    }
  }
  static const std::regex kHost(
      R"(^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)(:[0-9]{1,5})?$)");
  for (const std::string& h : o.allowed_hosts) {
    if (!std::regex_match(h, kHost)) {
      return Bad("allowed_hosts", "\"" + h +
                                      "\" must be a host name or address, optionally with :port "
                                      "(no scheme, path or wildcard)");
    }
  }
  OUTPOST_RETURN_IF_ERROR(CheckRunLimits(o));
  // One local runner per server: the process runner or the sandbox, not both.
  for (const auto& [name, a] : o.agents) {
    const RunnerKind kind = a.runner.value_or(o.runner);
    for (const auto& [other, b] : o.agents) {
      const RunnerKind k2 = b.runner.value_or(o.runner);
      if (a.enabled && b.enabled && kind == RunnerKind::kProcess && k2 == RunnerKind::kSandbox) {
        return Bad("agents." + (a.runner ? name : other) + ".runner",
                   "the process and the sandbox runner cannot both be used on one server (agents " +
                       name + " and " + other + ")");
      }
    }
  }
  if (o.UsesRunner(RunnerKind::kEcs)) {
    // The original refused each dispatch with "No subnets configured for ECS workers"; here the
    // server does not start.
    if (o.ecs.subnets.empty()) {
      return Bad("runner.ecs.subnets",
                 "no subnets configured for ECS workers: the ecs runner "
                 "needs at least one (awsvpcConfiguration)");
    }
    if (o.ecs.cluster.empty()) return Bad("runner.ecs.cluster", "the ecs runner needs a cluster");
  }
  if (!o.metrics_token.empty() && (o.metrics_token.size() < 16 || o.metrics_token.size() > 256 ||
                                   !std::all_of(o.metrics_token.begin(), o.metrics_token.end(),
                                                [](char c) { return c > 0x20 && c < 0x7f; }))) {
    return Bad("auth.metrics_token", "must be 16-256 printable characters without spaces");
  }
  return Status::Ok();
}

// [secrets] (SecretsOptions).
Status ApplySecrets(const toml::table& t, Options& opts) {
  for (const auto& [k, v] : t) {
    const std::string key(k.str()), full = "secrets." + key;
    if (key == "cache_ttl_seconds") {
      if (!v.is_integer() || v.as_integer()->get() < 0 || v.as_integer()->get() > 86400) {
        return Bad(full, "must be an integer from 0 to 86400");
      }
      opts.secrets.cache_ttl_seconds = static_cast<int>(v.as_integer()->get());
      continue;
    }
    std::string* field = key == "backend"    ? &opts.secrets.backend
                         : key == "region"   ? &opts.secrets.region
                         : key == "endpoint" ? &opts.secrets.endpoint
                         : key == "prefix"   ? &opts.secrets.prefix
                                             : nullptr;
    if (!field) return Bad(full, "unknown key");
    if (!v.is_string()) return Bad(full, "must be a string");
    *field = v.as_string()->get();
  }
  return Status::Ok();
}

Status CheckSecrets(const SecretsOptions& s) {
  if (s.backend != "local" && s.backend != "aws-secretsmanager") {
    return Bad("secrets.backend", "must be local or aws-secretsmanager");
  }
  static const std::regex kRegion(R"(^[a-z]{2}(-[a-z]+)+-[0-9]+$)");
  if (!s.region.empty() && !std::regex_match(s.region, kRegion)) {
    return Bad("secrets.region", "\"" + s.region + "\" is not an AWS region (e.g. us-east-1)");
  }
  static const std::regex kEndpoint(R"(^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$)");
  if (!s.endpoint.empty() && !std::regex_match(s.endpoint, kEndpoint)) {
    return Bad("secrets.endpoint", "must be http(s)://host[:port] without a path");
  }
  // The characters of a Secrets Manager name, whose limit is 512 with the NAME added.
  static const std::regex kPrefix(R"(^[A-Za-z0-9/_+=.@-]{0,256}$)");
  if (!std::regex_match(s.prefix, kPrefix)) {
    return Bad("secrets.prefix", "must be at most 256 of A-Z a-z 0-9 / _ + = . @ -");
  }
  if (s.backend == "local" && (!s.region.empty() || !s.endpoint.empty() || !s.prefix.empty())) {
    return Bad("secrets.backend",
               "region, endpoint and prefix are for backend = \"aws-secretsmanager\"");
  }
  return Status::Ok();
}

// [auth] (auth/request_authenticator.h).
Status ApplyAuth(const toml::table& t, Options& opts) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (key == "insecure") {
      if (!v.is_boolean()) return Bad("auth." + key, "must be a boolean");
      opts.insecure = v.as_boolean()->get();
    } else if (key == "metrics_token") {
      if (!v.is_string()) return Bad("auth." + key, "must be a string");
      opts.metrics_token = v.as_string()->get();
    } else {
      return Bad("auth." + key, "unknown key");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> Strings(const toml::node& v, const std::string& key,
                                         bool allow_empty) {
  const auto* arr = v.as_array();
  if (!arr || (!allow_empty && arr->empty())) return Bad(key, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : *arr) {
    if (!e.is_string()) return Bad(key, "must be an array of strings");
    out.push_back(e.as_string()->get());
  }
  return out;
}

Result<int> IntIn(const toml::node& v, const std::string& key, int min, int max) {
  if (!v.is_integer() || v.as_integer()->get() < min || v.as_integer()->get() > max) {
    return Bad(key,
               "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int>(v.as_integer()->get());
}

// A DNS name as git and the credential scope spell it: lower case, dot-separated labels.
bool IsHostName(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.back() == '.' ||
      h.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

bool IsSecretName(std::string_view s) {
  return !s.empty() && s.size() <= 128 && s.front() >= 'A' && s.front() <= 'Z' &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
         });
}

// An allow_private_hosts entry: "host", "host:port", "[v6]" or "[v6]:port" (lower case).
bool IsHostEntry(std::string_view e) {
  std::string_view host = e, port;
  if (e.starts_with('[')) {
    std::size_t close = e.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    host = e.substr(1, close - 1);
    std::string_view rest = e.substr(close + 1);
    if (!rest.empty() && (rest.size() < 2 || rest.front() != ':')) return false;
    if (!rest.empty()) port = rest.substr(1);
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9') || c == ':' || c == '.';
        })) {
      return false;
    }
  } else if (std::size_t colon = e.find(':'); colon != std::string_view::npos) {
    host = e.substr(0, colon);
    port = e.substr(colon + 1);
    if (port.empty()) return false;
    if (!IsHostName(host)) return false;
  } else if (!IsHostName(host)) {
    return false;
  }
  if (port.empty()) return true;
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const int n = std::stoi(std::string(port));
  return n >= 1 && n <= 65535;
}

Status SetPrivateHosts(const std::vector<std::string>& entries, const std::string& where,
                       Options& opts) {
  for (const std::string& e : entries) {
    if (!IsHostEntry(e)) {
      return InvalidArgument(where + ": \"" + e +
                             "\" must be a lower-case host or address, optionally with :port "
                             "(\"git.internal\", \"10.0.0.5:8443\", \"[fd00::1]:443\")");
    }
  }
  opts.git_allow_private_hosts = entries;
  return Status::Ok();
}

// [git] ssh_known_hosts: "" or an absolute path.
Status CheckKnownHosts(const std::string& path, const std::string& where) {
  if (!path.empty() && !path.starts_with('/')) {
    return InvalidArgument(where + ": \"" + path +
                           "\" must be an absolute path (a known_hosts file), or empty");
  }
  return Status::Ok();
}

// [git] github_api_url: https://, or http:// to a loopback host (a test's stand-in); no query.
Status CheckGithubApiUrl(std::string& url, const std::string& where) {
  while (url.ends_with('/')) url.pop_back();
  static const std::regex kHttps(
      R"(^https://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/\-]*)?$)");
  static const std::regex kLoopback(
      R"(^http://(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|localhost|\[::1\])(:[0-9]{1,5})?(/[A-Za-z0-9._~/\-]*)?$)");
  if (std::regex_match(url, kHttps) || std::regex_match(url, kLoopback)) return Status::Ok();
  return InvalidArgument(where + ": \"" + url +
                         "\" must be an https:// URL (http:// only to a loopback address)");
}

// [git] push_ca_file: "" or an absolute path.
Status CheckCaFile(const std::string& path, const std::string& where) {
  if (!path.empty() && !path.starts_with('/')) {
    return InvalidArgument(where + ": \"" + path +
                           "\" must be an absolute path (a PEM file), or empty");
  }
  return Status::Ok();
}

// `[git.hosts]` or `[git.tenants."T".hosts]`: "<host>" = { token_secret, shared }, into
// `hosts` (and `shared`, when given: only the operator's hosts may be shared).
Status ApplyGitHosts(const toml::node& v, const std::string& where,
                     std::map<std::string, std::string>& hosts, std::set<std::string>* shared) {
  const std::string fields = shared ? "{ token_secret, shared }" : "{ token_secret }";
  if (!v.is_table()) return Bad(where, "must be a table of \"<host>\" = " + fields);
  for (const auto& [hk, hv] : *v.as_table()) {
    const std::string host(hk.str()), path = where + ".\"" + host + "\"";
    if (!IsHostName(host)) {
      return Bad(path,
                 "must be a lower-case host name (\"ghe.example.com\"), without scheme or port");
    }
    if (!hv.is_table()) return Bad(path, "must be a table with token_secret");
    std::optional<std::string> secret;
    bool share = false;
    for (const auto& [fk, fv] : *hv.as_table()) {
      if (fk.str() == "shared" && shared != nullptr) {
        if (!fv.is_boolean()) return Bad(path + ".shared", "must be true or false");
        share = fv.as_boolean()->get();
        continue;
      }
      if (fk.str() != "token_secret") return Bad(path + "." + std::string(fk.str()), "unknown key");
      if (!fv.is_string() || !IsSecretName(fv.as_string()->get())) {
        return Bad(path + ".token_secret", "must be a secret name ([A-Z][A-Z0-9_]*)");
      }
      secret = fv.as_string()->get();
    }
    if (!secret) return Bad(path + ".token_secret", "is required");
    hosts[host] = *secret;
    if (shared != nullptr) {
      if (share) {
        shared->insert(host);
      } else {
        shared->erase(host);
      }
    }
  }
  return Status::Ok();
}

// [git]: hosts."<host>".{token_secret, shared} and tenants."<tenant>".hosts."<host>"
// .token_secret (workspace::TokenFor, audit F1/F9); allow_private_hosts (audit F10).
Status ApplyGit(const toml::table& t, Options& opts) {
  std::map<std::string, std::string> hosts = opts.git_hosts;  // all or nothing
  std::set<std::string> shared = opts.git_shared_hosts;
  auto tenants = opts.git_tenant_hosts;
  std::string known_hosts = opts.git_ssh_known_hosts;
  std::string github_api = opts.github_api_url, push_ca = opts.git_push_ca_file;
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (key == "allow_private_hosts") {
      std::vector<std::string> entries;
      const toml::array* a = v.as_array();
      if (a == nullptr) return Bad("git.allow_private_hosts", "must be an array of strings");
      for (const toml::node& n : *a) {
        if (!n.is_string()) return Bad("git.allow_private_hosts", "must be an array of strings");
        entries.push_back(n.as_string()->get());
      }
      OUTPOST_RETURN_IF_ERROR(SetPrivateHosts(entries, "git.allow_private_hosts", opts));
    } else if (key == "ssh_known_hosts") {
      if (!v.is_string()) return Bad("git.ssh_known_hosts", "must be a string (a file path)");
      known_hosts = v.as_string()->get();
      OUTPOST_RETURN_IF_ERROR(CheckKnownHosts(known_hosts, "git.ssh_known_hosts"));
    } else if (key == "github_api_url") {
      if (!v.is_string()) return Bad("git.github_api_url", "must be a string (a URL)");
      github_api = v.as_string()->get();
      OUTPOST_RETURN_IF_ERROR(CheckGithubApiUrl(github_api, "git.github_api_url"));
    } else if (key == "push_ca_file") {
      if (!v.is_string()) return Bad("git.push_ca_file", "must be a string (a file path)");
      push_ca = v.as_string()->get();
      OUTPOST_RETURN_IF_ERROR(CheckCaFile(push_ca, "git.push_ca_file"));
    } else if (key == "hosts") {
      OUTPOST_RETURN_IF_ERROR(ApplyGitHosts(v, "git.hosts", hosts, &shared));
    } else if (key == "tenants") {
      if (!v.is_table())
        return Bad("git.tenants", "must be a table of \"<tenant id>\" = { hosts }");
      for (const auto& [tk, tv] : *v.as_table()) {
        const std::string tenant(tk.str()), path = "git.tenants.\"" + tenant + "\"";
        if (!IsUlid(tenant) && tenant != "default") {
          return Bad(path,
                     "must be a tenant id (the ULID `outpost admin tenant create` prints) "
                     "or \"default\"");
        }
        if (!tv.is_table()) return Bad(path, "must be a table with hosts");
        for (const auto& [fk, fv] : *tv.as_table()) {
          if (fk.str() != "hosts") return Bad(path + "." + std::string(fk.str()), "unknown key");
          OUTPOST_RETURN_IF_ERROR(ApplyGitHosts(fv, path + ".hosts", tenants[tenant], nullptr));
        }
      }
    } else {
      return Bad("git." + key, "unknown key");
    }
  }
  opts.git_hosts = std::move(hosts);
  opts.git_shared_hosts = std::move(shared);
  opts.git_tenant_hosts = std::move(tenants);
  opts.git_ssh_known_hosts = std::move(known_hosts);
  opts.github_api_url = std::move(github_api);
  opts.git_push_ca_file = std::move(push_ca);
  return Status::Ok();
}

Status ApplySandbox(const toml::table& t, Options& opts) {
  auto& sb = opts.sandbox;
  for (const auto& [k, v] : t) {
    std::string key(k.str()), path = "sandbox." + key;
    if (key == "uid_min" || key == "uid_max" || key == "pids_max") {
      auto n = IntIn(v, path, key == "pids_max" ? 16 : 1000,
                     key == "pids_max" ? 1'000'000 : 2'000'000'000);
      if (!n.ok()) return n.status();
      (key == "uid_min" ? sb.uid_min : key == "uid_max" ? sb.uid_max : sb.pids_max) = *n;
    } else if (key == "ro_binds" || key == "network_allow") {
      auto list = Strings(v, path, true);
      if (!list.ok()) return list.status();
      (key == "ro_binds" ? sb.ro_binds : sb.network_allow) = std::move(*list);
    } else if (key == "workspace_images") {
      if (!v.is_boolean()) return Bad(path, "must be a boolean");
      sb.workspace_images = v.as_boolean()->get();
    } else if (key == "allow_host_network") {
      if (!v.is_boolean()) return Bad(path, "must be a boolean");
      sb.allow_host_network = v.as_boolean()->get();
    } else if (key == "uid_lock_dir") {
      if (!v.is_string() || v.as_string()->get().empty() || v.as_string()->get().front() != '/') {
        return Bad(path, "must be an absolute directory path");
      }
      sb.uid_lock_dir = v.as_string()->get();
    } else {
      return Bad(path, "unknown key");
    }
  }
  return Status::Ok();
}

Status ApplyAgent(std::string_view name, const toml::table& t, Options& opts) {
  AgentOptions a;
  if (auto it = opts.agents.find(std::string(name)); it != opts.agents.end()) a = it->second;
  a.name = std::string(name);
  std::string prefix = "agents." + a.name + ".";
  bool explicit_allow = false, new_base_url = false;
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (key == "network") {
      static const std::set<std::string> kPolicies = {"none", "allowlist", "host"};
      if (!v.is_string() || !kPolicies.count(v.as_string()->get())) {
        return Bad(prefix + key, "must be one of none | allowlist | host");
      }
      a.network = v.as_string()->get();
    } else if (key == "base_url") {
      if (!v.is_string()) return Bad(prefix + key, "must be a string");
      if (auto url = config::ParseBaseUrl(v.as_string()->get()); !url.ok()) {
        return Bad(prefix + key, url.status().message());
      }
      a.base_url = v.as_string()->get();
      new_base_url = true;
    } else if (key == "enabled") {
      if (!v.is_boolean()) return Bad(prefix + key, "must be a boolean");
      a.enabled = v.as_boolean()->get();
    } else if (key == "max_concurrent") {
      if (!v.is_integer() || v.as_integer()->get() < 1 || v.as_integer()->get() > 10000) {
        return Bad(prefix + key, "must be an integer from 1 to 10000");
      }
      a.max_concurrent = static_cast<int>(v.as_integer()->get());
    } else if (key == "command" || key == "models") {
      const auto* arr = v.as_array();
      if (!arr || arr->empty()) return Bad(prefix + key, "must be a non-empty array of strings");
      std::vector<std::string> out;
      for (const auto& e : *arr) {
        if (!e.is_string()) return Bad(prefix + key, "must be a non-empty array of strings");
        out.push_back(e.as_string()->get());
      }
      (key == "command" ? a.command : a.models) = std::move(out);
    } else if (key == "install_dirs" || key == "network_allow") {
      auto list = Strings(v, prefix + key, true);
      if (!list.ok()) return list.status();
      (key == "install_dirs" ? a.install_dirs : a.network_allow) = std::move(*list);
      explicit_allow |= key == "network_allow";
    } else if (key == "max_memory_mb" || key == "max_cpu_units" || key == "max_disk_gb") {
      auto n = key == "max_memory_mb"   ? IntIn(v, prefix + key, 32, 262144)
               : key == "max_cpu_units" ? IntIn(v, prefix + key, 64, 65536)
                                        : IntIn(v, prefix + key, 1, 2048);
      if (!n.ok()) return n.status();
      (key == "max_memory_mb"   ? a.max_memory_mb
       : key == "max_cpu_units" ? a.max_cpu_units
                                : a.max_disk_gb) = *n;
    } else if (key == "parser") {
      static const std::set<std::string> kParsers = {
          "claude-stream-json", "codex-json", "gemini-stream-json", "aider-text", "grok", "plain"};
      if (!v.is_string() || !kParsers.count(v.as_string()->get())) {
        return Bad(prefix + key,
                   "must be one of claude-stream-json | codex-json | "
                   "gemini-stream-json | aider-text | grok | plain");
      }
      a.parser = v.as_string()->get();
    } else if (key == "required_secrets") {
      auto list = Strings(v, prefix + key, true);
      if (!list.ok()) return list.status();
      a.required_secrets = std::move(*list);
    } else if (key == "cost_input_per_mtok" || key == "cost_output_per_mtok") {
      if (!v.is_number() || v.value<double>().value_or(-1) < 0) {
        return Bad(prefix + key, "must be a non-negative number (USD per million tokens)");
      }
      (key == "cost_input_per_mtok" ? a.cost_input_per_mtok : a.cost_output_per_mtok) =
          *v.value<double>();
    } else if (key == "env") {
      const auto* tbl = v.as_table();
      if (!tbl) return Bad(prefix + key, "must be a table of strings");
      for (const auto& [ek, ev] : *tbl) {
        if (!ev.is_string())
          return Bad(prefix + key + "." + std::string(ek.str()), "must be a string");
        a.env[std::string(ek.str())] = ev.as_string()->get();
      }
    } else if (key == "runner") {
      if (!v.is_string()) return Bad(prefix + key, "must be a string");
      Result<RunnerKind> kind = ParseRunnerName(v.as_string()->get(), prefix + key);
      if (!kind.ok()) return InvalidArgument("config: " + kind.status().message());
      a.runner = *kind;
    } else if (key == "image") {
      static const std::regex kImage(R"(^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$)");
      if (!v.is_string() || !std::regex_match(v.as_string()->get(), kImage)) {
        return Bad(prefix + key, "must be an image name (\"outpost-claude\", \"name:tag\")");
      }
      a.image = v.as_string()->get();
    } else if (key == "home_files") {
      const auto* tbl = v.as_table();
      if (!tbl) return Bad(prefix + key, "must be a table of path = \"content\"");
      for (const auto& [fk, fv] : *tbl) {
        const std::string path(fk.str());
        const std::string field = prefix + key + "." + path;
        if (!fv.is_string()) return Bad(field, "must be a string (the file's content)");
        if (!IsPlainRelativePath(path)) {
          return Bad(field, "must be a relative path below the agent's home, without '..'");
        }
        if (fv.as_string()->get().size() > 64 * 1024) return Bad(field, "is longer than 64 KiB");
        a.home_files[path] = fv.as_string()->get();
      }
    } else {
      return Bad(prefix + key, "unknown key");
    }
  }
  if (a.command.empty()) return Bad(prefix + "command", "is required for a new agent");
  if (a.models.empty()) return Bad(prefix + "models", "is required for a new agent");
  // After every other key of the table: the parser, command and env it adjusts are final.
  if (new_base_url) {
    if (Status st = config::ApplyBaseUrl(a, explicit_allow); !st.ok()) {
      return Bad(prefix + "base_url", st.message());
    }
  }
  opts.agents[a.name] = std::move(a);
  return Status::Ok();
}

// Output below 64 KiB would not even hold an agent's result; above 1 TiB is no limit.
constexpr std::int64_t kMinOutputBytes = 64 << 10;
constexpr std::int64_t kMaxOutputBytes = std::int64_t{1} << 40;
constexpr std::int64_t kMinCollectBytes = 1 << 20;

// [limits] default_* / ceiling_* with their ranges (the dispatch's own ranges).
struct RunLimitKey {
  std::string_view key;
  int RunLimitOptions::*field;
  int min, max;
};

constexpr RunLimitKey kRunLimitKeys[] = {
    {"default_memory_mb", &RunLimitOptions::default_memory_mb, 32, 262144},
    {"default_cpu_units", &RunLimitOptions::default_cpu_units, 64, 65536},
    {"default_disk_gb", &RunLimitOptions::default_disk_gb, 1, 2048},
    {"ceiling_memory_mb", &RunLimitOptions::ceiling_memory_mb, 32, 262144},
    {"ceiling_cpu_units", &RunLimitOptions::ceiling_cpu_units, 64, 65536},
    {"ceiling_disk_gb", &RunLimitOptions::ceiling_disk_gb, 1, 2048},
};

// A cost in USD: a positive number (an integer is accepted), at most this much.
constexpr double kMaxCostUsdLimit = 1'000'000;

Status ApplyLimits(const toml::table& t, Options& opts) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    const auto* rl = std::find_if(std::begin(kRunLimitKeys), std::end(kRunLimitKeys),
                                  [&](const RunLimitKey& r) { return r.key == key; });
    if (rl != std::end(kRunLimitKeys)) {
      auto n = IntIn(v, "limits." + key, rl->min, rl->max);
      if (!n.ok()) return n.status();
      opts.run_limits.*rl->field = *n;
      continue;
    }
    if (key == "collect_timeout_seconds") {
      auto n = IntIn(v, "limits." + key, 1, 86400);
      if (!n.ok()) return n.status();
      opts.collect_timeout_seconds = *n;
      continue;
    }
    if (key == "collect_max_bytes") {
      if (!v.is_integer() || v.as_integer()->get() < kMinCollectBytes ||
          v.as_integer()->get() > kMaxOutputBytes) {
        return Bad("limits." + key, "must be an integer from 1048576 to 1099511627776");
      }
      opts.collect_max_bytes = v.as_integer()->get();
      continue;
    }
    if (key == "default_max_cost_usd" || key == "max_cost_usd") {
      const std::optional<double> usd = v.value<double>();
      if (!usd || !(*usd > 0) || *usd > kMaxCostUsdLimit) {
        return Bad("limits." + key, "must be a number of USD above 0 and at most 1000000");
      }
      (key == "max_cost_usd" ? opts.max_cost_usd : opts.default_max_cost_usd) = *usd;
      continue;
    }
    if (key != "max_output_bytes") return Bad("limits." + key, "unknown key");
    if (!v.is_integer() || v.as_integer()->get() < kMinOutputBytes ||
        v.as_integer()->get() > kMaxOutputBytes) {
      return Bad("limits." + key, "must be an integer from 65536 to 1099511627776");
    }
    opts.max_output_bytes = v.as_integer()->get();
  }
  return Status::Ok();
}

Status ApplyServer(const toml::table& t, Options& opts) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    bool known = false;
    for (const auto& sk : kStringKeys) {
      if (sk.key != key) continue;
      if (!v.is_string()) return Bad("server." + key, "must be a string");
      opts.*sk.field = v.as_string()->get();
      known = true;
    }
    for (const auto& ik : kIntKeys) {
      if (ik.key != key) continue;
      if (!v.is_integer() || v.as_integer()->get() < ik.min || v.as_integer()->get() > ik.max) {
        return Bad("server." + key, "must be an integer from " + std::to_string(ik.min) + " to " +
                                        std::to_string(ik.max));
      }
      opts.*ik.field = static_cast<int>(v.as_integer()->get());
      known = true;
    }
    if (key == "runner") {
      if (!v.is_string()) return Bad("server." + key, "must be a string");
      OUTPOST_RETURN_IF_ERROR(SetRunner(v.as_string()->get(), opts, "server.runner"));
      known = true;
    }
    if (key == "allow_local_repos") {
      if (!v.is_boolean()) return Bad("server." + key, "must be a boolean");
      opts.allow_local_repos = v.as_boolean()->get();
      known = true;
    }
    if (key == "local_repo_roots") {
      auto list = Strings(v, "server." + key, true);
      if (!list.ok()) return list.status();
      for (const std::string& r : *list) {
        if (!r.starts_with('/')) return Bad("server." + key, "\"" + r + "\" must be absolute");
      }
      opts.local_repo_roots = std::move(*list);
      known = true;
    }
    if (key == "allowed_hosts") {
      auto list = Strings(v, "server." + key, true);
      if (!list.ok()) return list.status();
      opts.allowed_hosts = std::move(*list);
      known = true;
    }
    if (key == "create_tables") {
      if (!v.is_boolean()) return Bad("server." + key, "must be a boolean");
      opts.create_tables = v.as_boolean()->get();
      known = true;
    }
    if (!known) return Bad("server." + key, "unknown key");
  }
  return Status::Ok();
}

// The coding agents as ARCHITECTURE §6 runs them headless. Models: the runbook's default first,
// then the original's registry (outpost-original-spec §3.1). Rates: the provider's list price
// (USD per million input / output tokens) of the default model, as README "Usage and cost"
// cites them; the original's rates (§5.7: opus at 15/75) were out of date.
// `make run` (scripts/install-deps.sh run) installs the pinned claude, codex and gemini
// (deploy/agents) here: under /usr, which every sandbox binds read-only, so no install_dirs are
// needed. First on these agents' PATH; a CLI installed on the usual PATH is found too.
constexpr char kInstalledAgentsPath[] =
    "/usr/local/lib/outpost/agents/node_modules/.bin:/usr/local/bin:/usr/bin:/bin";

std::vector<AgentOptions> DefaultCodingAgents() {
  auto make = [](std::string name, std::vector<std::string> command,
                 std::vector<std::string> models, std::string parser, std::string secret,
                 std::string host, double in, double out) {
    AgentOptions a;
    a.name = std::move(name);
    a.command = std::move(command);
    a.models = std::move(models);
    a.parser = std::move(parser);
    a.required_secrets = {std::move(secret)};
    a.network_allow = {std::move(host)};
    a.cost_input_per_mtok = in;
    a.cost_output_per_mtok = out;
    return a;
  };
  std::vector<AgentOptions> out;
  // --dangerously-skip-permissions: the sandbox is the boundary (IS_SANDBOX=1 lets it run as
  // root too); without a permission flag claude refuses writes yet reports success.
  out.push_back(
      make("claude",
           {"claude", "-p", "{task}", "--output-format", "stream-json", "--verbose", "--model",
            "{model}", "--dangerously-skip-permissions"},
           {"claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20250801"},
           "claude-stream-json", "ANTHROPIC_API_KEY", "api.anthropic.com:443", 5, 25));
  // CLAUDE_CODE_MAX_RETRIES: claude retries even a 401 ten times with backoff (minutes of a
  // run spent failing); two retries still ride out a transient 529/5xx.
  out.back().env = {
      {"PATH", kInstalledAgentsPath},   {"IS_SANDBOX", "1"},
      {"CLAUDE_CODE_MAX_RETRIES", "2"}, {"DISABLE_AUTOUPDATER", "1"},
      {"DISABLE_TELEMETRY", "1"},       {"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"}};
  out.push_back(make("codex",
                     {"codex", "exec", "--json", "--skip-git-repo-check", "-m", "{model}",
                      "--dangerously-bypass-approvals-and-sandbox", "{task}"},
                     {"gpt-5.2-codex", "gpt-5.1-codex-max", "gpt-4o-codex"}, "codex-json",
                     "OPENAI_API_KEY", "api.openai.com:443", 1.75, 14));
  out.back().env = {{"PATH", kInstalledAgentsPath}};
  out.push_back(make("gemini",
                     {"gemini", "-p", "{task}", "-o", "stream-json", "--skip-trust",
                      "--approval-mode", "yolo", "-m", "{model}"},
                     {"gemini-3-pro-preview", "gemini-3-flash-preview", "gemini-3-flash"},
                     "gemini-stream-json", "GEMINI_API_KEY",
                     "generativelanguage.googleapis.com:443", 2, 12));
  out.back().env = {{"PATH", kInstalledAgentsPath}, {"GEMINI_CLI_TRUST_WORKSPACE", "true"}};
  // gemini takes its auth type only from a settings file (no flag, no variable): API-key auth,
  // and nothing sent home.
  out.back().home_files = {
      {".gemini/settings.json",
       R"({"security":{"auth":{"selectedType":"gemini-api-key"}},)"
       R"("telemetry":{"enabled":false},"privacy":{"usageStatisticsEnabled":false}})"}};
  out.push_back(make("aider",
                     {"aider", "--message", "{task}", "--yes-always", "--no-auto-commits",
                      "--no-check-update", "--model", "{model}"},
                     {"deepseek/deepseek-coder", "deepseek/deepseek-chat"}, "aider-text",
                     "DEEPSEEK_API_KEY", "api.deepseek.com:443", 0.27, 1.10));
  out.back().max_concurrent = 3;
  // Built in: "{outpost}" is this binary (AgentRegistry::CommandFor).
  out.push_back(make("grok", {"{outpost}", "grok-agent", "--model", "{model}", "--", "{task}"},
                     {"grok-4.1", "grok-4-1-fast-reasoning", "grok-4-fast-reasoning"}, "grok",
                     "XAI_API_KEY", "api.x.ai:443", 3, 15));
  return out;
}

}  // namespace

Result<RunnerKind> ParseRunnerName(const std::string& name, const std::string& key) {
  std::optional<RunnerKind> kind = ParseRunnerKind(name);
  if (!kind) {
    return InvalidArgument(key + ": unknown runner '" + name +
                           "' (sandbox | process | docker | ecs)");
  }
  return *kind;
}

RunnerKind Options::RunnerFor(const std::string& agent) const {
  auto it = agents.find(agent);
  return it != agents.end() && it->second.runner ? *it->second.runner : runner;
}

bool Options::UsesRunner(RunnerKind kind) const {
  if (runner == kind) return true;
  for (const auto& [name, a] : agents) {
    if (a.enabled && a.runner == kind) return true;
  }
  return false;
}

std::string Options::ImageFor(const std::string& agent) const {
  auto it = agents.find(agent);
  return it != agents.end() && !it->second.image.empty() ? it->second.image
                                                         : docker.ImageFor(agent);
}

std::string Options::StoreUrl() const {
  return store.empty() ? "sqlite://" + data_dir + "/outpost.db" : store;
}

std::string Options::ArtifactsUrl() const {
  return artifacts_url.empty() ? data_dir + "/artifacts" : artifacts_url;
}

Options DefaultOptions() {
  Options o;
  AgentOptions shell;
  shell.name = "shell";
  shell.command = {"/bin/sh", "-c", "{task}"};
  shell.models = {"shell"};
  shell.max_concurrent = 16;
  o.agents["shell"] = shell;
  for (AgentOptions& a : DefaultCodingAgents()) o.agents[a.name] = std::move(a);
  return o;
}

Status ApplyConfigFile(const std::string& path, Options& opts) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    return InvalidArgument("config: " + path + ":" + std::to_string(src.begin.line) + ":" +
                           std::to_string(src.begin.column) + ": " + std::string(e.description()));
  }
  for (const auto& [k, v] : root) {
    std::string key(k.str());
    if (key == "server") {
      if (!v.is_table()) return Bad(key, "must be a table");
      OUTPOST_RETURN_IF_ERROR(ApplyServer(*v.as_table(), opts));
    } else if (key == "sandbox") {
      if (!v.is_table()) return Bad(key, "must be a table");
      OUTPOST_RETURN_IF_ERROR(ApplySandbox(*v.as_table(), opts));
    } else if (key == "runner") {
      if (!v.is_table()) return Bad(key, "must be a table");
      OUTPOST_RETURN_IF_ERROR(ApplyRunner(*v.as_table(), opts));
    } else if (key == "git") {
      if (!v.is_table()) return Bad(key, "must be a table");
      OUTPOST_RETURN_IF_ERROR(ApplyGit(*v.as_table(), opts));
    } else if (key == "limits") {
      if (!v.is_table()) return Bad(key, "must be a table");
      OUTPOST_RETURN_IF_ERROR(ApplyLimits(*v.as_table(), opts));
    } else if (key == "auth") {
      if (!v.is_table()) return Bad(key, "must be a table");
      OUTPOST_RETURN_IF_ERROR(ApplyAuth(*v.as_table(), opts));
    } else if (key == "secrets") {
      if (!v.is_table()) return Bad(key, "must be a table");
      OUTPOST_RETURN_IF_ERROR(ApplySecrets(*v.as_table(), opts));
    } else if (key == "quotas" || key == "audit") {
      if (!v.is_table()) return Bad(key, "must be a table");
      OUTPOST_RETURN_IF_ERROR(key == "quotas" ? config::ApplyQuotas(*v.as_table(), opts.quotas)
                                              : config::ApplyAudit(*v.as_table(), opts.audit));
    } else if (key == "agents") {
      if (!v.is_table()) return Bad(key, "must be a table");
      for (const auto& [name, agent] : *v.as_table()) {
        if (!agent.is_table()) return Bad("agents." + std::string(name.str()), "must be a table");
        OUTPOST_RETURN_IF_ERROR(ApplyAgent(name.str(), *agent.as_table(), opts));
      }
    } else {
      return Bad(key, "unknown key");
    }
  }
  return CheckValues(opts);
}

namespace {

std::string ConfigFileFrom(const EnvReader& env) {
  auto it = env.find("OUTPOST_CONFIG");
  return it == env.end() ? "" : it->second;
}

Status ApplyEnvironmentFrom(const EnvReader& env, Options& opts);

// A list variable ("a, b" or "/x:/y"): its items, blanks around them dropped, empty ones skipped.
std::vector<std::string> SplitList(std::string_view value, char sep) {
  std::vector<std::string> out;
  while (!value.empty()) {
    std::string_view item = value.substr(0, value.find(sep));
    value.remove_prefix(std::min(value.size(), item.size() + 1));
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

}  // namespace

Status ApplyEnvironment(const std::map<std::string, std::string>& env, Options& opts) {
  return ApplyEnvironmentFrom(EnvReader(env), opts);
}

std::string ConfigFileFromEnvironment(const std::map<std::string, std::string>& env) {
  return ConfigFileFrom(EnvReader(env));
}

std::set<std::string> EnvironmentVariablesRead() {
  std::set<std::string> names;
  const EnvReader::Map empty;
  const EnvReader env(empty, &names);
  Options opts = DefaultOptions();
  (void)ConfigFileFrom(env);
  (void)ApplyEnvironmentFrom(env, opts);  // nothing is set: every lookup, no branch taken
  return names;
}

namespace {

Status ApplyEnvironmentFrom(const EnvReader& env, Options& opts) {
  auto upper = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return "OUTPOST_" + out;
  };
  for (const auto& sk : kStringKeys) {
    if (auto it = env.find(upper(sk.key)); it != env.end()) opts.*sk.field = it->second;
  }
  if (auto it = env.find("OUTPOST_RUNNER"); it != env.end()) {
    Result<RunnerKind> kind = ParseRunnerName(it->second, "OUTPOST_RUNNER");
    if (!kind.ok()) return kind.status();
    opts.runner = *kind;
  }
  for (const auto& ik : kIntKeys) {
    auto it = env.find(upper(ik.key));
    if (it == env.end()) continue;
    int value = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || p != s.data() + s.size() || value < ik.min || value > ik.max) {
      return InvalidArgument(it->first + ": must be an integer from " + std::to_string(ik.min) +
                             " to " + std::to_string(ik.max));
    }
    opts.*ik.field = value;
  }
  if (auto it = env.find("OUTPOST_MAX_OUTPUT_BYTES"); it != env.end()) {
    std::int64_t value = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || p != s.data() + s.size() || value < kMinOutputBytes ||
        value > kMaxOutputBytes) {
      return InvalidArgument(
          "OUTPOST_MAX_OUTPUT_BYTES: must be an integer from 65536 to 1099511627776");
    }
    opts.max_output_bytes = value;
  }
  for (const auto& rl : kRunLimitKeys) {  // OUTPOST_DEFAULT_MEMORY_MB, OUTPOST_CEILING_DISK_GB, ...
    auto it = env.find(upper(rl.key));
    if (it == env.end()) continue;
    int value = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || p != s.data() + s.size() || value < rl.min || value > rl.max) {
      return InvalidArgument(it->first + ": must be an integer from " + std::to_string(rl.min) +
                             " to " + std::to_string(rl.max));
    }
    opts.run_limits.*rl.field = value;
  }
  if (auto it = env.find("OUTPOST_COLLECT_TIMEOUT_SECONDS"); it != env.end()) {
    int value = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || p != s.data() + s.size() || value < 1 || value > 86400) {
      return InvalidArgument("OUTPOST_COLLECT_TIMEOUT_SECONDS: must be an integer from 1 to 86400");
    }
    opts.collect_timeout_seconds = value;
  }
  if (auto it = env.find("OUTPOST_COLLECT_MAX_BYTES"); it != env.end()) {
    std::int64_t value = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || p != s.data() + s.size() || value < kMinCollectBytes ||
        value > kMaxOutputBytes) {
      return InvalidArgument(
          "OUTPOST_COLLECT_MAX_BYTES: must be an integer from 1048576 to 1099511627776");
    }
    opts.collect_max_bytes = value;
  }
  if (auto it = env.find("OUTPOST_WORKSPACE_IMAGES"); it != env.end()) {
    if (it->second != "1" && it->second != "0" && it->second != "true" && it->second != "false") {
      return InvalidArgument("OUTPOST_WORKSPACE_IMAGES: must be 1, 0, true or false");
    }
    opts.sandbox.workspace_images = it->second == "1" || it->second == "true";
  }
  for (auto [name, field] :
       {std::pair{"OUTPOST_DEFAULT_MAX_COST_USD", &Options::default_max_cost_usd},
        std::pair{"OUTPOST_MAX_COST_USD", &Options::max_cost_usd}}) {
    auto it = env.find(name);
    if (it == env.end()) continue;
    double usd = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), usd);
    if (ec != std::errc() || p != s.data() + s.size() || !(usd > 0) || usd > kMaxCostUsdLimit) {
      return InvalidArgument(it->first + ": must be a number of USD above 0 and at most 1000000");
    }
    opts.*field = usd;
  }
  if (auto it = env.find("OUTPOST_ALLOW_LOCAL_REPOS"); it != env.end()) {
    if (it->second != "1" && it->second != "0" && it->second != "true" && it->second != "false") {
      return InvalidArgument("OUTPOST_ALLOW_LOCAL_REPOS: must be 1, 0, true or false");
    }
    opts.allow_local_repos = it->second == "1" || it->second == "true";
  }
  if (auto it = env.find("OUTPOST_ENABLE_FAULT_INJECTION"); it != env.end()) {
    if (it->second != "1" && it->second != "0" && it->second != "true" && it->second != "false") {
      return InvalidArgument("OUTPOST_ENABLE_FAULT_INJECTION: must be 1, 0, true or false");
    }
    opts.enable_fault_injection = it->second == "1" || it->second == "true";
  }
  if (auto it = env.find("OUTPOST_CREATE_TABLES"); it != env.end()) {
    if (it->second != "1" && it->second != "0" && it->second != "true" && it->second != "false") {
      return InvalidArgument("OUTPOST_CREATE_TABLES: must be 1, 0, true or false");
    }
    opts.create_tables = it->second == "1" || it->second == "true";
  }
  if (auto it = env.find("OUTPOST_INSECURE"); it != env.end()) {
    if (it->second != "1" && it->second != "0" && it->second != "true" && it->second != "false") {
      return InvalidArgument("OUTPOST_INSECURE: must be 1, 0, true or false");
    }
    opts.insecure = it->second == "1" || it->second == "true";
  }
  if (auto it = env.find("OUTPOST_ALLOWED_HOSTS"); it != env.end()) {
    opts.allowed_hosts = SplitList(it->second, ',');
  }
  if (auto it = env.find("OUTPOST_LOCAL_REPO_ROOTS"); it != env.end()) {
    std::vector<std::string> roots = SplitList(it->second, ':');
    for (const std::string& root : roots) {
      if (!root.starts_with('/')) {
        return InvalidArgument("OUTPOST_LOCAL_REPO_ROOTS: \"" + root +
                               "\" must be absolute (roots are separated by ':')");
      }
    }
    opts.local_repo_roots = std::move(roots);
  }
  if (auto it = env.find("OUTPOST_GIT_ALLOW_PRIVATE_HOSTS"); it != env.end()) {
    OUTPOST_RETURN_IF_ERROR(
        SetPrivateHosts(SplitList(it->second, ','), "OUTPOST_GIT_ALLOW_PRIVATE_HOSTS", opts));
  }
  if (auto it = env.find("OUTPOST_GIT_SSH_KNOWN_HOSTS"); it != env.end()) {
    OUTPOST_RETURN_IF_ERROR(CheckKnownHosts(it->second, "OUTPOST_GIT_SSH_KNOWN_HOSTS"));
    opts.git_ssh_known_hosts = it->second;
  }
  if (auto it = env.find("OUTPOST_GITHUB_API_URL"); it != env.end()) {
    std::string url = it->second;
    OUTPOST_RETURN_IF_ERROR(CheckGithubApiUrl(url, "OUTPOST_GITHUB_API_URL"));
    opts.github_api_url = std::move(url);
  }
  if (auto it = env.find("OUTPOST_GIT_PUSH_CA_FILE"); it != env.end()) {
    OUTPOST_RETURN_IF_ERROR(CheckCaFile(it->second, "OUTPOST_GIT_PUSH_CA_FILE"));
    opts.git_push_ca_file = it->second;
  }
  if (auto it = env.find("OUTPOST_METRICS_TOKEN"); it != env.end()) {
    opts.metrics_token = it->second;
  }
  // [runner.ecs] from the environment (deploy/cdk's control-plane task sets these): each checked
  // as its key is (ApplyEcs), the error naming the variable.
  {
    toml::table ecs;
    std::map<std::string, std::string> names;  // key -> variable
    for (const char* key :
         {"cluster", "endpoint", "task_definition_prefix", "env", "region", "capacity_provider"}) {
      std::string name = upper("ecs_" + std::string(key));
      if (auto it = env.find(name); it != env.end()) {
        ecs.insert(key, it->second);
        names[key] = name;
      }
    }
    for (const char* key : {"subnets", "security_groups"}) {
      std::string name = upper("ecs_" + std::string(key));
      if (auto it = env.find(name); it != env.end()) {
        toml::array items;
        for (const std::string& item : SplitList(it->second, ',')) items.push_back(item);
        ecs.insert(key, std::move(items));
        names[key] = name;
      }
    }
    if (auto it = env.find("OUTPOST_ECS_ASSIGN_PUBLIC_IP"); it != env.end()) {
      const std::string& v = it->second;
      if (v != "ENABLED" && v != "DISABLED" && v != "true" && v != "false" && v != "1" &&
          v != "0") {
        return InvalidArgument(
            "OUTPOST_ECS_ASSIGN_PUBLIC_IP: must be ENABLED, DISABLED, true, false, 1 or 0");
      }
      ecs.insert("assign_public_ip", v == "ENABLED" || v == "true" || v == "1");
    }
    if (Status st = ApplyEcs(ecs, opts); !st.ok()) {
      std::string message = st.message();
      for (const auto& [key, name] : names) {
        const std::string from = "config: runner.ecs." + key + ":";
        if (message.starts_with(from)) message = name + ":" + message.substr(from.size());
      }
      return InvalidArgument(message);
    }
  }
  for (auto [name, field] : {std::pair{"OUTPOST_SECRETS_BACKEND", &SecretsOptions::backend},
                             std::pair{"OUTPOST_SECRETS_REGION", &SecretsOptions::region},
                             std::pair{"OUTPOST_SECRETS_ENDPOINT", &SecretsOptions::endpoint},
                             std::pair{"OUTPOST_SECRETS_PREFIX", &SecretsOptions::prefix}}) {
    if (auto it = env.find(name); it != env.end()) opts.secrets.*field = it->second;
  }
  if (auto it = env.find("OUTPOST_SECRETS_CACHE_TTL_SECONDS"); it != env.end()) {
    int value = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || p != s.data() + s.size() || value < 0 || value > 86400) {
      return InvalidArgument(
          "OUTPOST_SECRETS_CACHE_TTL_SECONDS: must be an integer from 0 to 86400");
    }
    opts.secrets.cache_ttl_seconds = value;
  }
  OUTPOST_RETURN_IF_ERROR(config::ApplyQuotaEnvironment(env, opts.quotas, opts.audit));
  return CheckValues(opts);
}

}  // namespace

}  // namespace outpost
