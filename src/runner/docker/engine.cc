// The Docker Engine API over net/http_transport: one exchange per call, JSON bodies with
// Boost.JSON. Why not the `docker` CLI: a CLI per call is a fork+exec, parses our own output
// back, and its version drifts with the host; the API is versioned (/v1.41) and answers
// structured errors we can map.
//
// The unix socket case: the transport connects to the socket and the URL's host ("docker") is
// only the Host header, which dockerd ignores. Connections are kept alive by the transport's
// pool as for any other origin.
#include "runner/docker/engine.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "common/files.h"
#include "common/json_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "net/http_transport.h"

namespace outpost::docker {
namespace json = boost::json;
namespace {

constexpr std::string_view kUnixScheme = "unix://";
constexpr std::string_view kTcpScheme = "tcp://";
constexpr const char* kDefaultHost = "unix:///var/run/docker.sock";

// RFC 3986 unreserved characters stay; everything else is %XX. `keep` adds characters that may
// stay as they are (an image reference keeps its '/' and ':' in a path).
std::string Escape(std::string_view s, std::string_view keep = "") {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || keep.find(static_cast<char>(c)) != keep.npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string Get(const std::map<std::string, std::string>& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? "" : it->second;
}

// "tcp://host:port" -> host, port; kInvalidArgument naming the value otherwise.
Status ParseTcp(const std::string& value, std::string& host, int& port) {
  std::string_view rest = std::string_view(value).substr(kTcpScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  auto bad = [&](const std::string& why) {
    return InvalidArgument("docker host '" + value + "': " + why + " (expected tcp://host:port)");
  };
  if (rest.empty()) return bad("no host");
  if (rest.find_first_of("/?#@") != std::string_view::npos) return bad("unexpected path or user");
  std::string_view port_text;
  if (rest.front() == '[') {  // [IPv6]:port
    auto close = rest.find(']');
    if (close == std::string_view::npos) return bad("unclosed '['");
    host = std::string(rest.substr(1, close - 1));
    if (close + 1 >= rest.size() || rest[close + 1] != ':') return bad("no port");
    port_text = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
  }
  if (host.empty()) return bad("no host");
  port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || port > 65535) return bad("bad port");
    port = port * 10 + (c - '0');
  }
  if (port_text.empty() || port < 1 || port > 65535) return bad("bad port");
  return Status::Ok();
}

// The Engine's own message from an error answer ({"message": "..."}), else the body itself.
std::string EngineMessage(const net::HttpResponse& r) {
  if (auto doc = ParseJson(r.body); doc.ok() && doc->is_object()) {
    if (auto m = GetString(doc->as_object(), "message")) return *m;
  }
  std::string body(Trim(r.body));
  if (body.size() > 512) body = body.substr(0, 512) + "...";
  return body.empty() ? "HTTP " + std::to_string(r.status) : body;
}

// The one mapping of Engine HTTP statuses to codes (engine.h).
Status FromHttp(const std::string& call, const net::HttpResponse& r) {
  std::string m = "docker " + call + ": " + EngineMessage(r);
  switch (r.status) {
    case 400:
      return InvalidArgument(std::move(m));
    case 401:
    case 403:
      return Status(Code::kPermissionDenied, std::move(m));
    case 404:
      return NotFound(std::move(m));
    case 409:
      return Conflict(std::move(m));
    case 500:
    case 502:
    case 503:
    case 504:
      return Unavailable(std::move(m));
    default:
      return Internal(m + " (HTTP " + std::to_string(r.status) + ")");
  }
}

// A transport failure is the daemon being unreachable (or too slow) for the caller: it may
// retry. (A TLS failure is a misconfiguration more often than not, but the caller's remedy is the
// same: the daemon is not usable now; the message says why.) Only an endpoint the transport
// refuses outright (a certificate without its key) stays kInvalidArgument: retrying cannot help.
Status FromTransport(const std::string& call, const Status& s) {
  if (s.code() == Code::kInvalidArgument)
    return InvalidArgument("docker " + call + ": " + s.message());
  return Unavailable("docker " + call + ": " + s.message());
}

std::map<std::string, std::string> Labels(const json::object& o, std::string_view key) {
  std::map<std::string, std::string> out;
  if (auto it = o.find(key); it != o.end() && it->value().is_object()) {
    for (const auto& [k, v] : it->value().as_object()) {
      if (v.is_string()) out[std::string(k)] = std::string(v.as_string());
    }
  }
  return out;
}

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// Docker's "zero" time ("0001-01-01T00:00:00Z") is "never".
std::optional<WallTime> EngineTime(const json::object& o, std::string_view key) {
  auto s = GetString(o, key);
  if (!s || s->empty() || s->starts_with("0001-")) return std::nullopt;
  return ParseTime(*s);
}

json::object CreateBody(const ContainerSpec& spec) {
  json::object config;
  config["Image"] = spec.image;
  if (!spec.entrypoint.empty()) config["Entrypoint"] = Strings(spec.entrypoint);
  if (!spec.cmd.empty()) config["Cmd"] = Strings(spec.cmd);
  config["Env"] = Strings(spec.env);
  if (!spec.user.empty()) config["User"] = spec.user;
  if (!spec.working_dir.empty()) config["WorkingDir"] = spec.working_dir;
  json::object labels;
  for (const auto& [k, v] : spec.labels) labels[k] = v;
  config["Labels"] = std::move(labels);

  json::object host;
  // Mounts rather than Binds ("src:dst:ro"): a path may hold ':' or ',', and a missing source
  // is an error instead of a directory dockerd creates as root.
  json::array mounts;
  for (const auto& b : spec.binds) {
    mounts.push_back(json::object{
        {"Type", "bind"}, {"Source", b.source}, {"Target", b.target}, {"ReadOnly", b.read_only}});
  }
  host["Mounts"] = std::move(mounts);
  json::object tmpfs;
  for (const auto& [path, options] : spec.tmpfs) tmpfs[path] = options;
  host["Tmpfs"] = std::move(tmpfs);
  host["NetworkMode"] = spec.network_mode;
  host["ReadonlyRootfs"] = spec.read_only_rootfs;
  json::array security;
  if (spec.no_new_privileges) security.emplace_back("no-new-privileges");
  host["SecurityOpt"] = std::move(security);
  host["CapDrop"] = Strings(spec.cap_drop);
  host["CapAdd"] = Strings(spec.cap_add);
  if (spec.memory_bytes) {
    host["Memory"] = *spec.memory_bytes;
    host["MemorySwap"] = *spec.memory_bytes;  // no swap beyond the memory limit
  }
  if (spec.nano_cpus) host["NanoCpus"] = *spec.nano_cpus;
  if (spec.pids_limit) host["PidsLimit"] = *spec.pids_limit;
  if (spec.storage_bytes) {
    host["StorageOpt"] = json::object{{"size", std::to_string(*spec.storage_bytes)}};
  }
  host["Init"] = spec.init;
  config["HostConfig"] = std::move(host);
  return config;
}

}  // namespace

Result<EngineEndpoint> EngineEndpoint::Resolve(const std::string& configured,
                                               const std::map<std::string, std::string>& env) {
  EngineEndpoint e;
  std::string source = "[runner.docker] host";
  e.host = configured;
  if (e.host.empty()) {
    e.host = Get(env, "DOCKER_HOST");
    source = "DOCKER_HOST";
  }
  if (e.host.empty()) {
    e.host = kDefaultHost;
    source = "the default";
  }
  if (e.host.starts_with(kUnixScheme)) {
    std::string path = e.host.substr(kUnixScheme.size());
    if (path.empty() || path.front() != '/') {
      return InvalidArgument(source + " '" + e.host +
                             "': a unix socket needs an absolute path (unix:///path/docker.sock)");
    }
    return e;  // TLS settings are for tcp:// only
  }
  if (!e.host.starts_with(kTcpScheme)) {
    return InvalidArgument(source + " '" + e.host +
                           "': expected unix:///path/docker.sock or tcp://host:port");
  }
  std::string host;
  int port = 0;
  if (Status s = ParseTcp(e.host, host, port); !s.ok()) {
    return InvalidArgument(source + ": " + s.message());
  }
  const std::string verify = Get(env, "DOCKER_TLS_VERIFY");
  const std::string cert_path = Get(env, "DOCKER_CERT_PATH");
  if (verify == "1" || verify == "true") {
    e.tls = true;
  } else if (!verify.empty() && verify != "0" && verify != "false") {
    return InvalidArgument("DOCKER_TLS_VERIFY '" + verify + "': expected 1, true, 0 or false");
  }
  // Certificates given are certificates to use: never a plain connection to a daemon the
  // operator set up with TLS.
  if (!cert_path.empty() && verify.empty()) e.tls = true;
  if (!e.tls) return e;
  std::string dir = cert_path;
  if (dir.empty()) {
    const std::string home = Get(env, "HOME");
    if (home.empty()) {
      return InvalidArgument("DOCKER_TLS_VERIFY is set but neither DOCKER_CERT_PATH nor HOME is");
    }
    dir = home + "/.docker";
  }
  e.ca_file = dir + "/ca.pem";
  e.cert_file = dir + "/cert.pem";
  e.key_file = dir + "/key.pem";
  for (const std::string* f : {&e.ca_file, &e.cert_file, &e.key_file}) {
    if (!FileExists(*f)) {
      return InvalidArgument("docker TLS for " + e.host + ": " + *f +
                             " is missing (DOCKER_CERT_PATH names the directory of ca.pem, "
                             "cert.pem and key.pem)");
    }
  }
  return e;
}

namespace {

// One exchange with the daemon.
class Exchange {
 public:
  Exchange(const EngineEndpoint& e, const EngineOptions& o) : endpoint_(e), options_(o) {}

  // `path` after /v1.41 (with its query). `timeout` overrides options.timeout when longer.
  Result<net::HttpResponse> Call(const std::string& method, const std::string& path,
                                 std::string body = "",
                                 std::chrono::milliseconds timeout = {}) const {
    net::HttpRequest r;
    r.method = method;
    r.url = Url();
    r.url.path = std::string("/v") + kApiVersion + path;
    if (method == "POST") r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    net::TransportOptions t;
    t.timeout = std::max(options_.timeout, timeout);
    t.connect_timeout = options_.connect_timeout;
    t.max_response_body = 16 << 20;
    if (endpoint_.host.starts_with(kUnixScheme)) {
      t.unix_socket = endpoint_.host.substr(kUnixScheme.size());
    }
    if (endpoint_.tls) {
      t.ca_file = endpoint_.ca_file;
      t.client_cert_file = endpoint_.cert_file;
      t.client_key_file = endpoint_.key_file;
    }
    return net::SendHttp(r, t, &failure_);
  }
  const net::TransportFailure& failure() const { return failure_; }

 private:
  net::Url Url() const {
    net::Url u;
    if (endpoint_.host.starts_with(kUnixScheme)) {
      u.scheme = "http";
      u.host = "docker";
      u.port = 80;
      return u;
    }
    std::string host;
    int port = 0;
    (void)ParseTcp(endpoint_.host, host, port);  // Resolve checked it; a bad one fails to connect
    u.scheme = endpoint_.tls ? "https" : "http";
    u.host = host;
    u.port = static_cast<std::uint16_t>(port);
    return u;
  }

  const EngineEndpoint& endpoint_;
  const EngineOptions options_;
  mutable net::TransportFailure failure_;
};

bool Success(int status) { return status >= 200 && status < 300; }

Result<json::object> ObjectBody(const std::string& call, const net::HttpResponse& r) {
  auto doc = ParseJson(r.body, 64);
  if (!doc.ok() || !doc->is_object()) {
    return Internal("docker " + call + ": the answer is not a JSON object");
  }
  return std::move(doc->as_object());
}

}  // namespace

DockerEngine::DockerEngine(EngineEndpoint endpoint, EngineOptions options)
    : endpoint_(std::move(endpoint)), options_(options) {}

Status DockerEngine::Ping() const {
  auto r = Exchange(endpoint_, options_).Call("GET", "/_ping");
  if (!r.ok()) return FromTransport("ping " + endpoint_.host, r.status());
  if (!Success(r->status)) return Unavailable(FromHttp("ping " + endpoint_.host, *r).message());
  if (Trim(r->body) != "OK") {
    return Unavailable("docker ping " + endpoint_.host + ": unexpected answer '" +
                       std::string(Trim(r->body).substr(0, 80)) + "'");
  }
  return Status::Ok();
}

Result<EngineInfo> DockerEngine::Info() const {
  Exchange x(endpoint_, options_);
  auto version = x.Call("GET", "/version");
  if (!version.ok()) return FromTransport("version", version.status());
  if (!Success(version->status)) return FromHttp("version", *version);
  OUTPOST_ASSIGN_OR_RETURN(json::object v, ObjectBody("version", *version));
  auto info = x.Call("GET", "/info");
  if (!info.ok()) return FromTransport("info", info.status());
  if (!Success(info->status)) return FromHttp("info", *info);
  OUTPOST_ASSIGN_OR_RETURN(json::object i, ObjectBody("info", *info));
  EngineInfo out;
  out.version = GetString(v, "Version").value_or("");
  out.api_version = GetString(v, "ApiVersion").value_or("");
  out.os = GetString(v, "Os").value_or("");
  out.storage_driver = GetString(i, "Driver").value_or("");
  out.cgroup_version = GetString(i, "CgroupVersion").value_or("1");
  return out;
}

Status DockerEngine::InspectImage(const std::string& image) const {
  const std::string call = "image inspect " + image;
  auto r = Exchange(endpoint_, options_).Call("GET", "/images/" + Escape(image, "/:@") + "/json");
  if (!r.ok()) return FromTransport(call, r.status());
  if (!Success(r->status)) return FromHttp(call, *r);
  return Status::Ok();
}

Result<std::string> DockerEngine::CreateContainer(const ContainerSpec& spec) const {
  const std::string call = "create" + (spec.name.empty() ? "" : " " + spec.name);
  std::string path = "/containers/create";
  if (!spec.name.empty()) path += "?name=" + Escape(spec.name);
  auto r = Exchange(endpoint_, options_).Call("POST", path, ToJson(CreateBody(spec)));
  if (!r.ok()) return FromTransport(call, r.status());
  // dockerd (20.10) answers a StorageOpt its driver cannot honour with a 500, although nothing
  // is wrong with the daemon: it is this request that cannot be served (engine.h).
  if (r->status == 500 && spec.storage_bytes &&
      EngineMessage(*r).find("storage-opt") != std::string::npos) {
    return InvalidArgument("docker " + call + ": " + EngineMessage(*r));
  }
  if (!Success(r->status)) return FromHttp(call, *r);
  OUTPOST_ASSIGN_OR_RETURN(json::object body, ObjectBody(call, *r));
  auto id = GetString(body, "Id");
  if (!id || id->empty()) return Internal("docker " + call + ": the answer has no Id");
  return *id;
}

Status DockerEngine::StartContainer(const std::string& id) const {
  auto r = Exchange(endpoint_, options_).Call("POST", "/containers/" + Escape(id) + "/start");
  if (!r.ok()) return FromTransport("start " + id, r.status());
  if (r->status == 304) return Status::Ok();  // already running
  if (!Success(r->status)) return FromHttp("start " + id, *r);
  return Status::Ok();
}

Result<ContainerState> DockerEngine::InspectContainer(const std::string& id) const {
  const std::string call = "inspect " + id;
  auto r = Exchange(endpoint_, options_).Call("GET", "/containers/" + Escape(id) + "/json");
  if (!r.ok()) return FromTransport(call, r.status());
  if (!Success(r->status)) return FromHttp(call, *r);
  OUTPOST_ASSIGN_OR_RETURN(json::object o, ObjectBody(call, *r));
  ContainerState s;
  s.id = GetString(o, "Id").value_or("");
  s.name = GetString(o, "Name").value_or("");
  if (s.name.starts_with('/')) s.name.erase(0, 1);
  if (auto c = o.find("Config"); c != o.end() && c->value().is_object()) {
    s.image = GetString(c->value().as_object(), "Image").value_or("");
    s.labels = Labels(c->value().as_object(), "Labels");
  }
  if (auto st = o.find("State"); st != o.end() && st->value().is_object()) {
    const json::object& state = st->value().as_object();
    s.status = GetString(state, "Status").value_or("");
    s.running = GetBool(state, "Running").value_or(false);
    s.oom_killed = GetBool(state, "OOMKilled").value_or(false);
    s.exit_code = static_cast<int>(GetInt(state, "ExitCode").value_or(0));
    s.pid = static_cast<int>(GetInt(state, "Pid").value_or(0));
    s.started_at = EngineTime(state, "StartedAt");
    s.finished_at = EngineTime(state, "FinishedAt");
    s.error = GetString(state, "Error").value_or("");
  }
  return s;
}

Status DockerEngine::KillContainer(const std::string& id, const std::string& signal) const {
  const std::string call = "kill " + id;
  auto r = Exchange(endpoint_, options_)
               .Call("POST", "/containers/" + Escape(id) + "/kill?signal=" + Escape(signal));
  if (!r.ok()) return FromTransport(call, r.status());
  if (!Success(r->status)) return FromHttp(call, *r);
  return Status::Ok();
}

Status DockerEngine::StopContainer(const std::string& id, int grace_seconds) const {
  const std::string call = "stop " + id;
  // The daemon answers after the grace and the KILL: the exchange may take that long.
  const auto timeout = std::chrono::seconds(std::max(grace_seconds, 0) + 30);
  auto r = Exchange(endpoint_, options_)
               .Call("POST",
                     "/containers/" + Escape(id) +
                         "/stop?t=" + std::to_string(std::max(grace_seconds, 0)),
                     "", timeout);
  if (!r.ok()) return FromTransport(call, r.status());
  if (r->status == 304) return Status::Ok();  // not running
  if (!Success(r->status)) return FromHttp(call, *r);
  return Status::Ok();
}

Result<int> DockerEngine::WaitContainer(const std::string& id,
                                        std::chrono::milliseconds timeout) const {
  const std::string call = "wait " + id;
  // A zero timeout would be libcurl's "no timeout": at least a millisecond.
  timeout = std::max(timeout, std::chrono::milliseconds(1));
  Exchange x(endpoint_, EngineOptions{timeout, options_.connect_timeout});
  auto r = x.Call("POST", "/containers/" + Escape(id) + "/wait?condition=not-running");
  if (!r.ok()) {
    if (x.failure().timed_out && x.failure().request_sent()) {
      return FailedPrecondition("docker " + call + ": still running after " +
                                std::to_string(timeout.count()) + " ms");
    }
    return FromTransport(call, r.status());
  }
  if (!Success(r->status)) return FromHttp(call, *r);
  OUTPOST_ASSIGN_OR_RETURN(json::object o, ObjectBody(call, *r));
  if (auto e = o.find("Error"); e != o.end() && e->value().is_object()) {
    auto m = GetString(e->value().as_object(), "Message");
    if (m && !m->empty()) return Internal("docker " + call + ": " + *m);
  }
  auto code = GetInt(o, "StatusCode");
  if (!code) return Internal("docker " + call + ": the answer has no StatusCode");
  return static_cast<int>(*code);
}

Status DockerEngine::RemoveContainer(const std::string& id, bool force) const {
  const std::string call = "remove " + id;
  auto r = Exchange(endpoint_, options_)
               .Call("DELETE", "/containers/" + Escape(id) + "?v=1&force=" + (force ? "1" : "0"));
  if (!r.ok()) return FromTransport(call, r.status());
  if (r->status == 404) return Status::Ok();  // already gone
  if (!Success(r->status)) return FromHttp(call, *r);
  return Status::Ok();
}

Result<std::vector<ContainerSummary>> DockerEngine::ListContainers(
    const std::vector<std::string>& label_filters) const {
  const std::string call = "list containers";
  std::string path = "/containers/json?all=1";
  if (!label_filters.empty()) {
    path += "&filters=" + Escape(ToJson(json::object{{"label", Strings(label_filters)}}));
  }
  auto r = Exchange(endpoint_, options_).Call("GET", path);
  if (!r.ok()) return FromTransport(call, r.status());
  if (!Success(r->status)) return FromHttp(call, *r);
  auto doc = ParseJson(r->body, 64);
  if (!doc.ok() || !doc->is_array()) return Internal("docker " + call + ": not a JSON array");
  std::vector<ContainerSummary> out;
  for (const auto& row : doc->as_array()) {
    if (!row.is_object()) continue;
    const json::object& o = row.as_object();
    ContainerSummary c;
    c.id = GetString(o, "Id").value_or("");
    if (auto n = o.find("Names"); n != o.end() && n->value().is_array()) {
      for (const auto& name : n->value().as_array()) {
        if (name.is_string()) c.names.emplace_back(name.as_string());
      }
    }
    c.image = GetString(o, "Image").value_or("");
    c.state = GetString(o, "State").value_or("");
    c.labels = Labels(o, "Labels");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace outpost::docker
