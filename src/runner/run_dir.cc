#include "runner/run_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include "common/files.h"
#include "common/json_util.h"
#include "common/time_util.h"

// Every file is one JSON object with snake_case keys; times are RFC 3339 strings (ms
// precision) so that an operator can read a run directory with `cat`. Readers tolerate
// unknown keys (a newer shim may add some) but reject a file missing a required key.
namespace outpost {
namespace {

namespace json = boost::json;

Result<json::object> ReadObject(const std::string& path) {
  Result<std::string> text = ReadRunFile(path);
  if (!text.ok()) return text.status();
  Result<json::value> v = ParseJson(*text);
  if (!v.ok()) return Internal(path + ": " + v.status().message());
  if (!v->is_object()) return Internal(path + ": not a JSON object");
  return std::move(v->as_object());
}

// Only the exit record must survive a machine crash: after a reboot every shim is gone and a
// run without a record is failed (supervisor_lost) whatever its other files say.
Status WriteObject(const std::string& path, const json::object& o, bool durable = false) {
  return WriteFileAtomic(path, ToJson(o) + "\n", 0600, durable);
}

std::optional<WallTime> GetTime(const json::object& o, std::string_view key) {
  std::optional<std::string> s = GetString(o, key);
  if (!s) return std::nullopt;
  return ParseTime(*s);
}

std::optional<int> GetInt32(const json::object& o, std::string_view key) {
  std::optional<std::int64_t> v = GetInt(o, key);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

json::array ToArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

Status Missing(const std::string& path, std::string_view key) {
  return Internal(path + ": missing or malformed \"" + std::string(key) + "\"");
}

json::object SandboxToJson(const SandboxSpec& s) {
  json::object o{{"enabled", s.enabled},
                 {"uid", s.uid},
                 {"gid", s.gid},
                 {"home", s.home},
                 {"ro_binds", ToArray(s.ro_binds)},
                 {"network", s.network},
                 {"allow", ToArray(s.allow)},
                 {"outpost_exe", s.outpost_exe},
                 {"disable_userns", s.disable_userns},
                 {"pids_max", s.pids_max},
                 {"cgroup_name", s.cgroup_name}};
  if (s.memory_bytes) o["memory_bytes"] = *s.memory_bytes;
  if (s.cpu_millicores) o["cpu_millicores"] = *s.cpu_millicores;
  if (s.disk_bytes) o["disk_bytes"] = *s.disk_bytes;
  if (!s.image_pool.empty()) o["image_pool"] = s.image_pool;
  return o;
}

std::vector<std::string> StringArray(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return out;
  for (const auto& e : v->as_array()) {
    if (e.is_string()) out.emplace_back(e.as_string());
  }
  return out;
}

// Absent (a spec from before sandboxing existed) reads as a disabled sandbox.
SandboxSpec SandboxFromJson(const json::object& spec) {
  SandboxSpec s;
  const json::value* v = spec.if_contains("sandbox");
  if (v == nullptr || !v->is_object()) return s;
  const json::object& o = v->as_object();
  s.enabled = GetBool(o, "enabled").value_or(false);
  s.uid = GetInt32(o, "uid").value_or(0);
  s.gid = GetInt32(o, "gid").value_or(0);
  s.home = GetString(o, "home").value_or("");
  s.ro_binds = StringArray(o, "ro_binds");
  s.network = GetString(o, "network").value_or(s.network);
  s.allow = StringArray(o, "allow");
  s.outpost_exe = GetString(o, "outpost_exe").value_or("");
  s.disable_userns = GetBool(o, "disable_userns").value_or(false);
  s.memory_bytes = GetInt(o, "memory_bytes");
  s.pids_max = GetInt32(o, "pids_max").value_or(s.pids_max);
  s.cpu_millicores = GetInt32(o, "cpu_millicores");
  s.disk_bytes = GetInt(o, "disk_bytes");
  s.image_pool = GetString(o, "image_pool").value_or("");
  s.cgroup_name = GetString(o, "cgroup_name").value_or("");
  return s;
}

json::object ContainerToJson(const ContainerSpec& c) {
  return json::object{{"enabled", c.enabled},        {"agent_uid", c.agent_uid},
                      {"agent_gid", c.agent_gid},    {"home", c.home},
                      {"network", c.network},        {"proxy_socket", c.proxy_socket},
                      {"outpost_exe", c.outpost_exe}};
}

// Absent (a spec of a runner without containers) reads as container mode off.
ContainerSpec ContainerFromJson(const json::object& spec) {
  ContainerSpec c;
  const json::value* v = spec.if_contains("container");
  if (v == nullptr || !v->is_object()) return c;
  const json::object& o = v->as_object();
  c.enabled = GetBool(o, "enabled").value_or(false);
  c.agent_uid = GetInt32(o, "agent_uid").value_or(0);
  c.agent_gid = GetInt32(o, "agent_gid").value_or(0);
  c.home = GetString(o, "home").value_or("");
  c.network = GetString(o, "network").value_or(c.network);
  c.proxy_socket = GetString(o, "proxy_socket").value_or("");
  c.outpost_exe = GetString(o, "outpost_exe").value_or("");
  return c;
}

// Whether `value` holds any of the run's secret values.
bool HoldsSecret(std::string_view value, const std::vector<std::string>& secrets) {
  return std::any_of(secrets.begin(), secrets.end(), [value](const std::string& s) {
    return !s.empty() && value.find(s) != std::string_view::npos;
  });
}

json::object StringMap(const std::map<std::string, std::string>& m,
                       const std::vector<std::string>& secrets, bool secret) {
  json::object o;
  for (const auto& [k, v] : m) {
    if (HoldsSecret(v, secrets) == secret) o[k] = v;
  }
  return o;
}

void ReadStringMap(const json::object& o, std::string_view key,
                   std::map<std::string, std::string>& out) {
  if (const json::value* m = o.if_contains(key); m != nullptr && m->is_object()) {
    for (const auto& [k, v] : m->as_object()) {
      if (v.is_string()) out[std::string(k)] = std::string(v.as_string());
    }
  }
}

}  // namespace

std::string SecretsToJson(const LaunchSpec& spec) {
  json::object o{{"env", StringMap(spec.env, spec.redact, /*secret=*/true)},
                 {"home_files", StringMap(spec.home_files, spec.redact, /*secret=*/true)},
                 {"redact", ToArray(spec.redact)}};
  if (spec.git_token) o["git_token"] = *spec.git_token;
  return ToJson(o);
}

Status MergeSecrets(std::string_view text, LaunchSpec& spec) {
  Result<json::value> v = ParseJson(std::string(text));
  if (!v.ok()) return Internal("the run's secrets: " + v.status().message());
  if (!v->is_object()) return Internal("the run's secrets: not a JSON object");
  const json::object& o = v->as_object();
  ReadStringMap(o, "env", spec.env);
  ReadStringMap(o, "home_files", spec.home_files);
  if (const json::value* r = o.if_contains("redact"); r != nullptr && r->is_array()) {
    for (const auto& s : r->as_array()) {
      if (s.is_string()) spec.redact.emplace_back(s.as_string());
    }
  }
  if (std::optional<std::string> t = GetString(o, "git_token")) spec.git_token = *t;
  return Status::Ok();
}

Result<std::string> ReadRunFile(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("no such file: " + path);
    if (errno == ELOOP) return Internal(path + ": a symbolic link, not read");
    return Internal(path + ": " + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Internal(path + ": not a regular file, not read");
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Internal(path + ": larger than " + std::to_string(max_bytes) + " bytes, not read");
  }
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  // One byte more than the cap: a file that grew since fstat is refused too.
  out.resize(max_bytes + 1 < out.size() + 4096 ? max_bytes + 1 : out.size() + 4096);
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status err = Internal(path + ": read: " + std::strerror(errno));
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got > max_bytes) {
    return Internal(path + ": larger than " + std::to_string(max_bytes) + " bytes, not read");
  }
  out.resize(got);
  return out;
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Without the secret part (SecretsToJson): no git_token, no redact, no entry holding a secret.
Status RunDir::WriteSpec(const LaunchSpec& spec) const {
  json::object env = StringMap(spec.env, spec.redact, /*secret=*/false);
  json::object o{{"run_id", spec.run_id},
                 {"argv", ToArray(spec.argv)},
                 {"env", std::move(env)},
                 {"workspace", spec.workspace},
                 {"timeout_seconds", spec.timeout_seconds},
                 {"grace_seconds", spec.grace_seconds},
                 {"notify_socket", spec.notify_socket},
                 {"sandbox", SandboxToJson(spec.sandbox)}};
  o["max_output_bytes"] = spec.max_output_bytes;
  o["parser"] = spec.parser;
  o["collect_timeout_seconds"] = spec.collect_timeout_seconds;
  o["collect_max_bytes"] = spec.collect_max_bytes;
  if (json::object files = StringMap(spec.home_files, spec.redact, /*secret=*/false);
      !files.empty()) {
    o["home_files"] = std::move(files);
  }
  if (spec.inactivity_timeout_seconds) {
    o["inactivity_timeout_seconds"] = *spec.inactivity_timeout_seconds;
  }
  if (spec.repo_url) o["repo_url"] = *spec.repo_url;
  if (spec.branch) o["branch"] = *spec.branch;
  if (spec.pin) o["pin"] = *spec.pin;
  if (!spec.repo_cache_dir.empty()) o["repo_cache_dir"] = spec.repo_cache_dir;
  if (spec.git_token_url) o["git_token_url"] = *spec.git_token_url;
  if (!spec.local_repo_roots.empty()) o["local_repo_roots"] = ToArray(spec.local_repo_roots);
  if (!spec.data_dir.empty()) o["data_dir"] = spec.data_dir;
  if (!spec.git_allow_private_hosts.empty()) {
    o["git_allow_private_hosts"] = ToArray(spec.git_allow_private_hosts);
  }
  if (!spec.git_ssh_known_hosts.empty()) o["git_ssh_known_hosts"] = spec.git_ssh_known_hosts;
  if (!spec.context_level.empty()) o["context_level"] = spec.context_level;
  if (spec.task_arg_index) o["task_arg_index"] = *spec.task_arg_index;
  if (spec.container.enabled) o["container"] = ContainerToJson(spec.container);
  if (spec.verify) o["verify"] = *spec.verify;
  return WriteObject(File("spec.json"), o);
}

Result<LaunchSpec> RunDir::ReadSpec() const {
  const std::string path = File("spec.json");
  Result<json::object> r = ReadObject(path);
  if (!r.ok()) return r.status();
  const json::object& o = *r;
  LaunchSpec spec;
  std::optional<std::string> run_id = GetString(o, "run_id");
  if (!run_id) return Missing(path, "run_id");
  spec.run_id = *run_id;
  const json::value* argv = o.if_contains("argv");
  if (argv == nullptr || !argv->is_array()) return Missing(path, "argv");
  for (const auto& a : argv->as_array()) {
    if (!a.is_string()) return Missing(path, "argv");
    spec.argv.emplace_back(a.as_string());
  }
  ReadStringMap(o, "env", spec.env);
  spec.workspace = GetString(o, "workspace").value_or("");
  spec.timeout_seconds = GetInt32(o, "timeout_seconds").value_or(spec.timeout_seconds);
  spec.inactivity_timeout_seconds = GetInt32(o, "inactivity_timeout_seconds");
  spec.grace_seconds = GetInt32(o, "grace_seconds").value_or(spec.grace_seconds);
  spec.repo_url = GetString(o, "repo_url");
  spec.branch = GetString(o, "branch");
  spec.pin = GetString(o, "pin");
  spec.repo_cache_dir = GetString(o, "repo_cache_dir").value_or("");
  spec.git_token = GetString(o, "git_token");  // an older server's spec.json
  spec.git_token_url = GetString(o, "git_token_url");
  spec.context_level = GetString(o, "context_level").value_or("");
  spec.task_arg_index = GetInt32(o, "task_arg_index");
  spec.notify_socket = GetString(o, "notify_socket").value_or("");
  spec.sandbox = SandboxFromJson(o);
  spec.container = ContainerFromJson(o);
  spec.max_output_bytes = GetInt(o, "max_output_bytes").value_or(spec.max_output_bytes);
  spec.parser = GetString(o, "parser").value_or(spec.parser);
  spec.collect_timeout_seconds =
      GetInt32(o, "collect_timeout_seconds").value_or(spec.collect_timeout_seconds);
  spec.collect_max_bytes = GetInt(o, "collect_max_bytes").value_or(spec.collect_max_bytes);
  ReadStringMap(o, "home_files", spec.home_files);
  if (const json::value* l = o.if_contains("local_repo_roots"); l != nullptr && l->is_array()) {
    for (const json::value& v : l->as_array()) {
      if (v.is_string()) spec.local_repo_roots.emplace_back(v.as_string());
    }
  }
  spec.data_dir = GetString(o, "data_dir").value_or("");
  spec.verify = GetString(o, "verify");
  spec.git_ssh_known_hosts = GetString(o, "git_ssh_known_hosts").value_or("");
  if (const json::value* h = o.if_contains("git_allow_private_hosts");
      h != nullptr && h->is_array()) {
    for (const json::value& v : h->as_array()) {
      if (v.is_string()) spec.git_allow_private_hosts.emplace_back(v.as_string());
    }
  }
  // spec.json of an older server held the secrets; they are read as they were.
  if (const json::value* r = o.if_contains("redact"); r != nullptr && r->is_array()) {
    for (const auto& v : r->as_array()) {
      if (v.is_string()) spec.redact.emplace_back(v.as_string());
    }
  }
  return spec;
}

Status RunDir::WriteShimInfo(const ShimInfo& info) const {
  return WriteObject(File("shim.json"), {{"pid", info.pid}, {"start_time", info.start_time}});
}

Result<ShimInfo> RunDir::ReadShimInfo() const {
  const std::string path = File("shim.json");
  Result<json::object> r = ReadObject(path);
  if (!r.ok()) return r.status();
  std::optional<std::int64_t> pid = GetInt(*r, "pid");
  std::optional<std::int64_t> start = GetInt(*r, "start_time");
  if (!pid || *pid <= 0) return Missing(path, "pid");
  if (!start || *start < 0) return Missing(path, "start_time");
  return ShimInfo{static_cast<int>(*pid), static_cast<std::uint64_t>(*start)};
}

Status RunDir::WriteStarted(WallTime at, int agent_pid) const {
  return WriteObject(File("started.json"), {{"started_at", FormatTime(at)}, {"pid", agent_pid}});
}

std::optional<WallTime> RunDir::ReadStarted() const {
  Result<json::object> r = ReadObject(File("started.json"));
  if (!r.ok()) return std::nullopt;
  return GetTime(*r, "started_at");
}

std::optional<int> RunDir::ReadStartedPid() const {
  Result<json::object> r = ReadObject(File("started.json"));
  if (!r.ok()) return std::nullopt;
  return GetInt32(*r, "pid");
}

Status RunDir::WriteCancel(const CancelRequest& req) const {
  return WriteObject(File("cancel.json"),
                     {{"reason", req.reason}, {"requested_at", FormatTime(req.requested_at)}});
}

std::optional<CancelRequest> RunDir::ReadCancel() const {
  Result<json::object> r = ReadObject(File("cancel.json"));
  if (!r.ok()) return std::nullopt;
  CancelRequest req;
  req.reason = GetString(*r, "reason").value_or("");
  req.requested_at = GetTime(*r, "requested_at").value_or(WallTime{});
  return req;
}

Status RunDir::WriteExit(const ExitRecord& rec) const {
  const json::object o = ExitRecordToJson(rec);
  const std::string text = ToJson(o) + "\n";
  const std::string reserve = File("exit.json.reserve");
  int fd = ::open(reserve.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || static_cast<std::int64_t>(text.size()) > kExitReserveBytes) {
    if (fd >= 0) ::close(fd);
    Status st = WriteFileAtomic(File("exit.json"), text, 0600, /*durable=*/true);
    if (st.ok()) ::unlink(reserve.c_str());
    return st;
  }
  // In place: the blocks are allocated already, so none of this needs free space.
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  Status st = Status::Ok();
  if (done != text.size()) {
    st = Internal(reserve + ": write: " + std::strerror(errno));
  } else if (::ftruncate(fd, static_cast<off_t>(text.size())) != 0 || ::fsync(fd) != 0) {
    st = Internal(reserve + ": truncate/fsync: " + std::strerror(errno));
  }
  ::close(fd);
  if (!st.ok()) return st;
  if (::rename(reserve.c_str(), File("exit.json").c_str()) != 0) {
    return Internal(reserve + ": rename to exit.json: " + std::strerror(errno));
  }
  int dfd = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Status RunDir::ReserveExit() const {
  const std::string reserve = File("exit.json.reserve");
  int fd = ::open(reserve.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal(reserve + ": open: " + std::strerror(errno));
  // fallocate, not posix_fallocate: glibc's fallback writes zeros, which a nearly full disk
  // may accept only in part without saying so in a way we could undo.
  int rc;
  do {
    rc = ::fallocate(fd, 0, 0, kExitReserveBytes);
  } while (rc != 0 && errno == EINTR);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    ::unlink(reserve.c_str());
    return Internal(reserve + ": fallocate: " + std::strerror(err));
  }
  return Status::Ok();
}

Result<ExitRecord> RunDir::ReadExit() const {
  const std::string path = File("exit.json");
  Result<json::object> r = ReadObject(path);
  if (!r.ok()) return r.status();
  Result<ExitRecord> rec = ExitRecordFromJson(*r, path);
  if (!rec.ok()) return Internal(rec.status().message());  // a bad file is the runner's fault
  return rec;
}

Status RunDir::WriteProgress(const RunProgress& p) const {
  json::object o{{"turns", p.turns}, {"collecting", p.collecting}};
  if (p.has_usage) {
    o["input_tokens"] = p.usage.input;
    o["output_tokens"] = p.usage.output;
  }
  if (p.cost_usd) o["cost_usd"] = *p.cost_usd;
  return WriteObject(File("progress.json"), o);
}

std::optional<RunProgress> RunDir::ReadProgress() const {
  Result<json::object> r = ReadObject(File("progress.json"));
  if (!r.ok()) return std::nullopt;
  RunProgress p;
  p.turns = GetInt32(*r, "turns").value_or(0);
  p.collecting = GetBool(*r, "collecting").value_or(false);
  // Written by a shim that knows usage (an older one's file has none).
  std::optional<std::int64_t> in = GetInt(*r, "input_tokens");
  std::optional<std::int64_t> out = GetInt(*r, "output_tokens");
  if (in || out) {
    p.has_usage = true;
    p.usage = {in.value_or(0), out.value_or(0)};
  }
  if (const json::value* c = r->if_contains("cost_usd"); c != nullptr && c->is_number()) {
    p.cost_usd = c->to_number<double>();
  }
  return p;
}

}  // namespace outpost
