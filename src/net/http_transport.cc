// Why libcurl: one client for every outbound call (it was two Boost.Beast stacks), keep-alive
// connection reuse without writing a connection pool, proxies/CONNECT, the CA store and TLS
// session resumption done by the library Debian keeps patched.
//
// Reuse: an easy handle keeps the connections it opened; a finished transfer resets its handle
// (options only: connections, DNS cache and TLS sessions survive curl_easy_reset) and returns it
// to the pool, so the next call on any thread reuses a live connection to the same origin. A
// curl share adds one DNS cache and one TLS session cache across the pooled handles.
#include "net/http_transport.h"

#include <curl/curl.h>
#include <strings.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/curl_api.h"

namespace outpost::net {
namespace {

// libcurl's functions (net/curl_api.h); callers of the public functions below checked that
// it loaded.
const CurlApi& Curl() { return *LoadCurl(); }

using Clock = std::chrono::steady_clock;

// The DNS cache and TLS sessions shared by every pooled handle (curl's locking contract: one
// lock per data kind).
class Share {
 public:
  Share() : share_(Curl().share_init()) {
    Curl().share_setopt(share_, CURLSHOPT_LOCKFUNC, &Share::Lock);
    Curl().share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &Share::Unlock);
    Curl().share_setopt(share_, CURLSHOPT_USERDATA, this);
    Curl().share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    Curl().share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  CURLSH* get() const { return share_; }

 private:
  static void Lock(CURL*, curl_lock_data d, curl_lock_access, void* self) {
    static_cast<Share*>(self)->locks_[d].lock();
  }
  static void Unlock(CURL*, curl_lock_data d, void* self) {
    static_cast<Share*>(self)->locks_[d].unlock();
  }

  CURLSH* share_;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks_;
};

// Idle easy handles with their kept-alive connections. Process-wide and never destroyed: a
// handle may still be in use by a detached thread at exit.
class HandlePool {
 public:
  static HandlePool& Instance() {
    static HandlePool* pool = new HandlePool();
    return *pool;
  }

  CURL* Take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return Curl().easy_init();
  }

  void Give(CURL* h) {
    Curl().easy_reset(h);
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < kMaxIdle) {
        idle_.push_back(h);
        return;
      }
    }
    Curl().easy_cleanup(h);
  }

  CURLSH* share() const { return share_.get(); }

 private:
  static constexpr std::size_t kMaxIdle = 16;
  HandlePool() { Curl().global_init(CURL_GLOBAL_DEFAULT); }

  Share share_;
  std::mutex mu_;
  std::vector<CURL*> idle_;  // guarded by mu_
};

class Lease {
 public:
  Lease() : h_(HandlePool::Instance().Take()) {}
  ~Lease() {
    if (h_) HandlePool::Instance().Give(h_);
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  CURL* get() const { return h_; }

 private:
  CURL* h_;
};

// One transfer's state, shared with libcurl's callbacks.
struct Transfer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t max_body = 0;
  bool over_limit = false;
  bool sent = false;  // the request went out on an established (or reused) connection

  const std::function<bool(std::string_view)>* on_body = nullptr;  // streaming
  std::size_t max_error_body = 0;
  bool cancelled = false;
  Clock::time_point last_byte = Clock::now();
  std::chrono::milliseconds idle{0};
  bool idle_expired = false;
};

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::size_t OnHeader(char* data, std::size_t, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->last_byte = Clock::now();
  std::string_view line = TrimView({data, n});
  if (line.starts_with("HTTP/")) {  // a new response (after a 1xx): its headers start afresh
    t->headers.clear();
    auto space = line.find(' ');
    t->status = space == std::string_view::npos
                    ? 0
                    : std::atoi(std::string(line.substr(space + 1, 3)).c_str());
    return n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->headers.emplace_back(std::string(line.substr(0, colon)),
                            std::string(TrimView(line.substr(colon + 1))));
  }
  return n;
}

std::size_t OnBody(char* data, std::size_t, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->last_byte = Clock::now();
  std::string_view piece(data, n);
  if (t->on_body) {
    if (t->status >= 200 && t->status < 300) {
      if (!(*t->on_body)(piece)) {
        t->cancelled = true;
        return 0;  // CURLE_WRITE_ERROR: the transfer stops, the connection is dropped
      }
    } else if (t->body.size() < t->max_error_body) {
      t->body.append(piece.substr(0, t->max_error_body - t->body.size()));
    }
    return n;
  }
  if (t->body.size() + n > t->max_body) {
    t->over_limit = true;
    return 0;
  }
  t->body.append(piece);
  return n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->idle.count() > 0 && Clock::now() - t->last_byte > t->idle) {
    t->idle_expired = true;
    return 1;  // CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

int OnPrereq(void* user, char*, char*, int, int) {
  static_cast<Transfer*>(user)->sent = true;
  return CURL_PREREQFUNC_OK;
}

// Close-on-exec from the start: a pooled connection must not leak into a spawned child.
curl_socket_t OpenSocket(void*, curlsocktype, curl_sockaddr* a) {
  return ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

using Headers = std::vector<std::pair<std::string, std::string>>;

// How a transfer reaches its peer: TransportOptions' and StreamOptions' common part.
struct Route {
  const std::optional<Url>& proxy;
  const std::string& unix_socket;
  const std::string& ca_file;
  const std::string& client_cert_file;
  const std::string& client_key_file;

  template <typename Options>
  explicit Route(const Options& o)
      : proxy(o.proxy),
        unix_socket(o.unix_socket),
        ca_file(o.ca_file),
        client_cert_file(o.client_cert_file),
        client_key_file(o.client_key_file) {}
};

// kInvalidArgument for a route libcurl would misread (or silently half-apply).
Status CheckRoute(const Route& route) {
  if (!route.unix_socket.empty()) {
    if (route.unix_socket.front() != '/') {
      return InvalidArgument("unix socket path '" + route.unix_socket + "' is not absolute");
    }
    if (route.proxy) return InvalidArgument("a unix socket cannot be reached through a proxy");
  }
  if (route.client_cert_file.empty() != route.client_key_file.empty()) {
    return InvalidArgument("a client certificate needs both a certificate and a key file");
  }
  return Status::Ok();
}

// The request headers as libcurl takes them: a later header of the same name replaces an
// earlier one; curl's own defaults that the old transports did not send are removed.
curl_slist* HeaderList(const Headers& given) {
  Headers headers;
  for (const auto& h : given) {
    auto same = [&](const auto& e) { return SameName(e.first, h.first); };
    std::erase_if(headers, same);
    headers.push_back(h);
  }
  auto has = [&](std::string_view name) {
    for (const auto& [k, v] : headers) {
      if (SameName(k, name)) return true;
    }
    return false;
  };
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) {
    list = Curl().slist_append(list, (v.empty() ? k + ";" : k + ": " + v).c_str());
  }
  // No "Expect: 100-continue" round trip; no form Content-Type or "Accept: */*" nobody asked for.
  list = Curl().slist_append(list, "Expect:");
  if (!has("Content-Type")) list = Curl().slist_append(list, "Content-Type:");
  if (!has("Accept")) list = Curl().slist_append(list, "Accept:");
  if (!has("User-Agent")) list = Curl().slist_append(list, "User-Agent: outpost/" OUTPOST_VERSION);
  return list;
}

struct SlistFree {
  void operator()(curl_slist* l) const { Curl().slist_free_all(l); }
};

void SetOptions(CURL* h, const HttpRequest& r, const Route& route, Transfer& t, curl_slist* headers,
                char* errbuf) {
  const std::optional<Url>& proxy = route.proxy;
  Curl().easy_setopt(h, CURLOPT_SHARE, HandlePool::Instance().share());
  Curl().easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  Curl().easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  Curl().easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  Curl().easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  Url url = r.url;
  if (url.path.empty()) url.path = "/";
  Curl().easy_setopt(h, CURLOPT_URL, url.ToString().c_str());
  Curl().easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  Curl().easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
  // An explicit proxy (or "" for none): curl's own *_proxy environment reading stays out.
  Curl().easy_setopt(h, CURLOPT_PROXY, proxy ? ("http://" + proxy->Authority()).c_str() : "");
  Curl().easy_setopt(h, CURLOPT_NOPROXY, "");
  Curl().easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  Curl().easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  Curl().easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (const char* file = std::getenv("SSL_CERT_FILE"); file && *file) {
    Curl().easy_setopt(h, CURLOPT_CAINFO, file);
  }
  if (const char* dir = std::getenv("SSL_CERT_DIR"); dir && *dir) {
    Curl().easy_setopt(h, CURLOPT_CAPATH, dir);
  }
  if (!route.ca_file.empty()) {  // this CA only: no directory of others beside it
    Curl().easy_setopt(h, CURLOPT_CAINFO, route.ca_file.c_str());
    Curl().easy_setopt(h, CURLOPT_CAPATH, nullptr);
  }
  if (!route.client_cert_file.empty()) {
    Curl().easy_setopt(h, CURLOPT_SSLCERT, route.client_cert_file.c_str());
    Curl().easy_setopt(h, CURLOPT_SSLKEY, route.client_key_file.c_str());
  }
  // libcurl keys kept-alive connections by the socket path too: a pooled TCP connection to the
  // same host name is never reused for a unix socket request, nor the other way round.
  if (!route.unix_socket.empty()) {
    Curl().easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, route.unix_socket.c_str());
  }
  Curl().easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (r.method == "GET") {
    Curl().easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    Curl().easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    Curl().easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      Curl().easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      Curl().easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
    }
  }
  Curl().easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  Curl().easy_setopt(h, CURLOPT_HEADERDATA, &t);
  Curl().easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  Curl().easy_setopt(h, CURLOPT_WRITEDATA, &t);
  Curl().easy_setopt(h, CURLOPT_PREREQFUNCTION, &OnPrereq);
  Curl().easy_setopt(h, CURLOPT_PREREQDATA, &t);
}

// Where a failed transfer stopped, from what libcurl recorded.
TransportFailure::Step StepOf(CURL* h, CURLcode rc, const Transfer& t, const HttpRequest& r,
                              bool proxied) {
  using Step = TransportFailure::Step;
  if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY) return Step::kResolve;
  if (t.sent) return Step::kExchange;
  long connect_code = 0;
  Curl().easy_getinfo(h, CURLINFO_HTTP_CONNECTCODE, &connect_code);
  if (connect_code != 0 && connect_code / 100 != 2) return Step::kProxy;
  curl_off_t connected = 0, handshaken = 0;
  Curl().easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected);
  Curl().easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &handshaken);
  if (rc == CURLE_COULDNT_CONNECT || connected == 0) return Step::kConnect;
  if (r.url.tls() && proxied && connect_code == 0) return Step::kProxy;
  if (r.url.tls() && handshaken == 0) return Step::kTls;
  return Step::kExchange;
}

bool IsTlsError(CURLcode rc) {
  return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
         rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_CACERT_BADFILE ||
         rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_CRL_BADFILE ||
         rc == CURLE_SSL_ENGINE_INITFAILED || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

std::string StageName(TransportFailure::Step step, const HttpRequest& r, const Route& route) {
  using Step = TransportFailure::Step;
  const std::optional<Url>& proxy = route.proxy;
  switch (step) {
    case Step::kResolve:
      return "resolving " + (proxy ? proxy->host : r.url.host);
    case Step::kConnect:
      if (!route.unix_socket.empty()) return "connecting to unix socket " + route.unix_socket;
      return "connecting to " + (proxy ? *proxy : r.url).Authority();
    case Step::kProxy:
      return "proxy CONNECT to " + r.url.Authority();
    case Step::kTls:
      return "TLS handshake with " + r.url.host;
    case Step::kExchange:
      break;
  }
  return "reading the response";
}

// The Status (and the failure record) for a transfer that ended with `rc`.
Status Failed(CURL* h, CURLcode rc, const Transfer& t, const HttpRequest& r, const Route& route,
              const char* errbuf, TransportFailure* out) {
  TransportFailure f;
  f.step = StepOf(h, rc, t, r, route.proxy.has_value());
  const std::string detail = *errbuf ? errbuf : Curl().easy_strerror(rc);
  long os_errno = 0;
  Curl().easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
  f.reason = os_errno != 0 && (rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR ||
                               rc == CURLE_SEND_ERROR)
                 ? std::strerror(static_cast<int>(os_errno))
                 : detail;
  f.timed_out = rc == CURLE_OPERATION_TIMEDOUT || t.idle_expired;
  f.not_http = rc == CURLE_GOT_NOTHING || rc == CURLE_WEIRD_SERVER_REPLY ||
               (rc == CURLE_UNSUPPORTED_PROTOCOL && t.sent);
  if (t.over_limit || rc == CURLE_FILESIZE_EXCEEDED) f.reason = "body limit exceeded";
  if (rc == CURLE_PEER_FAILED_VERIFICATION) f.reason = "certificate verify failed (" + detail + ")";
  const std::string stage = StageName(f.step, r, route);
  Status status;
  if (f.step == TransportFailure::Step::kProxy && !f.timed_out) {
    long code = 0;
    Curl().easy_getinfo(h, CURLINFO_HTTP_CONNECTCODE, &code);
    status = Status(Code::kPermissionDenied, "proxy refused CONNECT to " + r.url.Authority() +
                                                 ": HTTP " + std::to_string(code));
  } else if (f.timed_out) {
    status = Unavailable("timed out " + stage + " (" + r.url.ToString() + ")");
  } else if (IsTlsError(rc) || (rc == CURLE_SSL_CLIENTCERT && !t.sent)) {
    f.step = TransportFailure::Step::kTls;
    status = FailedPrecondition("TLS handshake with " + r.url.host + " failed: " + f.reason);
  } else if (rc == CURLE_URL_MALFORMAT || (rc == CURLE_UNSUPPORTED_PROTOCOL && !t.sent)) {
    status = InvalidArgument("unusable request to " + r.url.ToString() + ": " + detail);
  } else {
    status = Unavailable(stage + " (" + r.url.ToString() + "): " + f.reason);
  }
  if (out) *out = std::move(f);
  return status;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (SameName(k, name)) return v;
  }
  return "";
}

Result<HttpResponse> SendHttp(const HttpRequest& request, const TransportOptions& options,
                              TransportFailure* failure) {
  if (const auto& curl = LoadCurl(); !curl.ok()) return curl.status();
  const Route route(options);
  OUTPOST_RETURN_IF_ERROR(CheckRoute(route));
  Lease lease;
  CURL* h = lease.get();
  if (h == nullptr) return Internal("cannot create a libcurl handle");
  Transfer t;
  t.max_body = options.max_response_body;
  std::unique_ptr<curl_slist, SlistFree> headers(HeaderList(request.headers));
  char errbuf[CURL_ERROR_SIZE] = {};
  SetOptions(h, request, route, t, headers.get(), errbuf);
  Curl().easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  const auto connect =
      options.connect_timeout.count() > 0 ? options.connect_timeout : options.timeout;
  Curl().easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect.count()));
  Curl().easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options.max_response_body));
  CURLcode rc = Curl().easy_perform(h);
  if (rc != CURLE_OK) return Failed(h, rc, t, request, route, errbuf, failure);
  HttpResponse out;
  out.status = t.status;
  out.body = std::move(t.body);
  out.headers = std::move(t.headers);
  out.retry_after = out.Header("Retry-After");
  return out;
}

Result<StreamResponse> StreamHttp(const HttpRequest& request, const StreamOptions& options,
                                  const std::function<bool(std::string_view)>& on_body,
                                  TransportFailure* failure) {
  if (const auto& curl = LoadCurl(); !curl.ok()) return curl.status();
  const Route route(options);
  OUTPOST_RETURN_IF_ERROR(CheckRoute(route));
  Lease lease;
  CURL* h = lease.get();
  if (h == nullptr) return Internal("cannot create a libcurl handle");
  Transfer t;
  t.on_body = &on_body;
  t.max_error_body = options.max_error_body;
  t.idle = options.idle_timeout;
  std::unique_ptr<curl_slist, SlistFree> headers(HeaderList(request.headers));
  char errbuf[CURL_ERROR_SIZE] = {};
  SetOptions(h, request, route, t, headers.get(), errbuf);
  Curl().easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connect_timeout.count()));
  Curl().easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  Curl().easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  Curl().easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  CURLcode rc = Curl().easy_perform(h);
  if (rc != CURLE_OK && !t.cancelled) {
    return Failed(h, rc, t, request, route, errbuf, failure);
  }
  StreamResponse out;
  out.status = t.status;
  out.headers = std::move(t.headers);
  out.error_body = std::move(t.body);
  out.cancelled = t.cancelled;
  return out;
}

}  // namespace outpost::net
