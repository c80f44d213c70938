#include "http/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "http/envelope.h"
#include "http/http_parse.h"

namespace outpost::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using BeastResponse = http::response<http::string_body>;
using SteadyTime = std::chrono::steady_clock::time_point;

// The most a streamed body (BodyStream) sends in one write.
constexpr std::size_t kStreamChunk = 64 * 1024;

// How long a closing connection keeps reading what the client still sends (the rest of a
// rejected body) so that the close does not become a reset that destroys our response.
constexpr std::chrono::milliseconds kLingerTime{500};
constexpr std::size_t kLingerBytes = 4 << 20;

// Connections over the limit that are being answered 503 at the same time; beyond this they
// are closed without an answer (each answer takes a descriptor for up to a second).
constexpr int kMaxRejecting = 64;
constexpr std::chrono::milliseconds kRejectTime{1000};

std::string FormatEndpoint(const tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

// Read errors after which nothing can be answered: the peer left, timed out, or we cancelled.
bool IsSilentError(const ErrorCode& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == beast::error::timeout || ec == asio::error::operation_aborted ||
         ec.category() != http::make_error_code(http::error::end_of_stream).category();
}

BeastResponse ToBeast(Response r, unsigned version, bool keep_alive, bool head) {
  BeastResponse res{static_cast<http::status>(r.status), version};
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers.fields()) res.insert(name, value);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  if (head) {  // HEAD: the headers of the GET, without its body
    std::size_t size = res.body().size();
    res.body().clear();
    res.content_length(size);
  }
  // A 304 must not claim a length other than the 200's (RFC 9110 §8.6): it sends none.
  if (r.status == 304) res.erase(http::field::content_length);
  return res;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const Router& router, HttpServerOptions options)
      : router_(router),
        opts_(std::move(options)),
        limits_{opts_.max_header_bytes, opts_.max_header_fields, opts_.max_header_line_bytes,
                opts_.max_target_bytes, opts_.max_body_bytes},
        times_{opts_.header_timeout, opts_.body_timeout, opts_.body_min_rate, opts_.idle_timeout,
               opts_.write_timeout},
        clock_(opts_.clock ? *opts_.clock : RealClock::Instance()),
        ioc_(std::max(1, opts_.threads)),
        accept_strand_(asio::make_strand(ioc_)),
        acceptor_(accept_strand_) {}

  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  void Wait();
  std::string bound() const {
    std::lock_guard lock(mu_);
    return bound_;
  }

  const Router& router() const { return router_; }
  const HttpServerOptions& opts() const { return opts_; }
  const RequestLimits& limits() const { return limits_; }
  const TimeLimits& times() const { return times_; }
  std::size_t max_connections() const {
    std::lock_guard lock(mu_);
    return max_connections_;
  }
  const Clock& clock() const { return clock_; }
  bool stopping() const { return stopping_.load(); }
  // The router's answer to `req`: on the handler pool when there is one and the path is not
  // inline, else here.
  asio::awaitable<Response> Handle(Request& req);
  void Remove(std::uint64_t id);

 private:
  class Connection;
  enum class State { kNew, kRunning, kStopping, kStopped };

  asio::awaitable<void> AcceptLoop();
  // Answers a connection over the limit with 503 and closes it (see the header).
  void RejectBusy(tcp::socket socket);
  asio::awaitable<void> AnswerBusy(tcp::socket socket);
  void ApplyFdLimit();  // with mu_ held
  void CloseConnections(bool force);
  static void LogException(std::exception_ptr e);

  const Router& router_;
  const HttpServerOptions opts_;
  const RequestLimits limits_;
  const TimeLimits times_;
  const Clock& clock_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> rejecting_{0};  // AnswerBusy coroutines running

  mutable std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kNew;                                   // guarded by mu_
  std::string bound_;                                           // guarded by mu_
  std::map<std::uint64_t, std::shared_ptr<Connection>> conns_;  // guarded by mu_
  std::uint64_t next_id_ = 0;                                   // guarded by mu_
  std::size_t max_connections_ = 0;                             // guarded by mu_; set by Start

  // Declared after everything a pending coroutine may touch while ioc_ destroys it.
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;  // used on accept_strand_ only
  std::vector<std::thread> threads_;
  // After ioc_: destroyed (joined) first, so a handler's completion never reaches a destroyed
  // io_context.
  std::optional<asio::thread_pool> handlers_;
};

asio::awaitable<Response> HttpServer::Impl::Handle(Request& req) {
  const std::string_view target(req.target);
  const std::string_view path = target.substr(0, target.find('?'));  // decoded by the handler
  const bool inline_path = std::find(opts_.inline_paths.begin(), opts_.inline_paths.end(), path) !=
                           opts_.inline_paths.end();
  if (!handlers_ || inline_path) co_return HandleRequest(router_, req, clock_);
  // The connection's coroutine waits (holding `req`) while a pool thread runs the handler.
  co_return co_await asio::co_spawn(
      handlers_->get_executor(),
      [this, &req]() -> asio::awaitable<Response> {
        co_return HandleRequest(router_, req, clock_);
      },
      asio::use_awaitable);
}

// One client connection. Everything but the constructor runs on the connection's strand.
class HttpServer::Impl::Connection {
 public:
  Connection(HttpServer::Impl& server, tcp::socket socket, std::uint64_t id)
      : server_(server),
        id_(id),
        stream_(std::move(socket)),
        header_deadline_(std::chrono::steady_clock::now() + server.times().header_timeout) {
    ErrorCode ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = FormatEndpoint(ep);
  }

  asio::any_io_executor executor() { return stream_.get_executor(); }

  static asio::awaitable<void> Run(std::shared_ptr<Connection> self) {
    struct Unregister {
      Connection& c;
      ~Unregister() { c.server_.Remove(c.id_); }
    } unregister{*self};
    bool answered_error = co_await self->ServeRequests();
    co_await self->Close(answered_error);
  }

  // Shutdown began: an idle connection is closed now, a busy one after its response, a
  // streaming one at once (its client reconnects elsewhere and resumes).
  void OnStop() {
    if (idle_) stream_.cancel();
    if (stream_timer_ != nullptr) {
      stream_timer_->cancel();
      stream_.cancel();
    }
  }

  void ForceClose() {
    ErrorCode ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  // The request loop; true when the client may still be sending (the connection ended with an
  // error answer, or by a shutdown), so closing should linger.
  asio::awaitable<bool> ServeRequests();
  asio::awaitable<bool> WaitForRequest();
  asio::awaitable<std::optional<Response>> ReadRequest(RequestParser& parser, ErrorCode& ec);
  asio::awaitable<void> ReadBody(RequestParser& parser, ErrorCode& ec);
  asio::awaitable<void> AnswerError(Response r);
  asio::awaitable<ErrorCode> Write(Response r, unsigned version, bool keep_alive, bool head);
  asio::awaitable<void> WriteStream(Response r, unsigned version, bool head);
  asio::awaitable<void> Close(bool linger);

  HttpServer::Impl& server_;
  const std::uint64_t id_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;  // may hold the start of the next (pipelined) request
  std::string peer_;
  bool idle_ = false;                           // waiting for the first byte of a request
  bool first_request_ = true;                   // its header deadline runs from the accept
  SteadyTime header_deadline_;                  // of the request being read
  asio::steady_timer* stream_timer_ = nullptr;  // while a BodyStream waits for data
};

// How a BodyStream's wake-up (from any thread) reaches the connection's strand: one post at a
// time, however often it is called. Once the stream is over it does nothing: the stream (and
// its wake function) may outlive the connection and even the server.
struct StreamWaker {
  static void Wake(const std::shared_ptr<StreamWaker>& self) {
    if (self->posted.exchange(true)) return;
    std::lock_guard lock(self->mu);
    if (!self->strand) return;
    asio::post(*self->strand, [self] {
      self->posted = false;
      self->woken = true;
      if (self->timer != nullptr) self->timer->cancel();
    });
  }
  void Detach() {
    std::lock_guard lock(mu);
    strand.reset();
    timer = nullptr;
  }
  std::mutex mu;
  std::optional<asio::any_io_executor> strand;  // guarded by mu; empty once detached
  std::atomic<bool> posted{false};
  bool woken = false;                   // on the strand only
  asio::steady_timer* timer = nullptr;  // on the strand only
};

asio::awaitable<bool> HttpServer::Impl::Connection::WaitForRequest() {
  const TimeLimits& t = server_.times();
  if (buffer_.size() > 0) {  // a pipelined request is already here
    header_deadline_ = std::chrono::steady_clock::now() + t.header_timeout;
    first_request_ = false;
    co_return true;
  }
  if (server_.stopping()) co_return false;
  idle_ = true;
  // A new connection has header_timeout for its whole first header (set at the accept); a
  // kept-alive one may wait idle_timeout for the next request to begin.
  if (first_request_) {
    stream_.expires_at(header_deadline_);
  } else {
    stream_.expires_after(t.idle_timeout);
  }
  ErrorCode ec;
  std::size_t n = co_await stream_.async_read_some(buffer_.prepare(4096),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  idle_ = false;
  if (ec) co_return false;
  buffer_.commit(n);
  if (!first_request_) header_deadline_ = std::chrono::steady_clock::now() + t.header_timeout;
  first_request_ = false;
  co_return true;
}

// Reads a request into `parser`: the header block by its deadline, its checks (a rejection is
// returned before any body is read or 100 Continue promised), then the body.
asio::awaitable<std::optional<Response>> HttpServer::Impl::Connection::ReadRequest(
    RequestParser& parser, ErrorCode& ec) {
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  stream_.expires_at(header_deadline_);
  co_await http::async_read_header(stream_, buffer_, parser, token);
  if (ec) co_return std::nullopt;
  if (auto rejected = CheckHeader(parser, server_.limits(), server_.clock())) co_return rejected;
  if (parser.is_done()) co_return std::nullopt;
  // curl waits a second for this before sending a large body.
  if (EqualsIgnoreCase(parser.get()[http::field::expect], "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(server_.times().write_timeout);
    co_await asio::async_write(stream_, asio::buffer(kContinue), token);
    if (ec) co_return std::nullopt;
  }
  co_await ReadBody(parser, ec);
  co_return std::nullopt;
}

// The body's deadline moves with every byte received (BodyDeadline): a slow but steady body
// completes, a trickle does not.
asio::awaitable<void> HttpServer::Impl::Connection::ReadBody(RequestParser& parser, ErrorCode& ec) {
  const SteadyTime start = std::chrono::steady_clock::now();
  std::uint64_t received = 0;
  while (!parser.is_done()) {
    stream_.expires_at(BodyDeadline(start, received, server_.times()));
    received += co_await http::async_read_some(stream_, buffer_, parser,
                                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

asio::awaitable<bool> HttpServer::Impl::Connection::ServeRequests() {
  while (co_await WaitForRequest()) {
    RequestParser parser;
    ConfigureParser(parser, server_.limits());
    ErrorCode ec;
    std::optional<Response> rejected = co_await ReadRequest(parser, ec);
    if (rejected) {
      co_await AnswerError(std::move(*rejected));
      co_return true;
    }
    if (ec) {
      if (IsSilentError(ec)) co_return false;
      const std::string_view unparsed(static_cast<const char*>(buffer_.data().data()),
                                      buffer_.size());
      co_await AnswerError(
          ReadErrorResponse(ec, parser, unparsed, server_.limits(), server_.clock()));
      co_return true;
    }

    const auto start = server_.clock().Mono();
    const unsigned version = parser.get().version();
    const bool head = parser.get().method() == http::verb::head;
    bool keep_alive = parser.get().keep_alive();
    Request req = ToRequest(parser, peer_, server_.clock());
    Response res = co_await server_.Handle(req);
    if (res.drop_connection) co_return false;  // an injected fault: no answer at all
    if (res.stream) {                          // the connection ends with the stream
      spdlog::debug("{} {} {} stream {}", req.method, req.target.substr(0, req.target.find('?')),
                    res.status, req.request_id);
      co_await WriteStream(std::move(res), version, head);
      co_return false;
    }
    // Read after the handler ran: a shutdown that began meanwhile closes this connection.
    keep_alive = keep_alive && !server_.stopping();
    const int status = res.status;
    ec = co_await Write(std::move(res), version, keep_alive, head);
    // The raw path: a decoded one could carry control characters into the log.
    spdlog::debug(
        "{} {} {} {}ms {}", req.method, req.target.substr(0, req.target.find('?')), status,
        std::chrono::duration_cast<Millis>(server_.clock().Mono() - start).count(), req.request_id);
    // Closing during shutdown may leave pipelined requests unread: linger then.
    if (ec || !keep_alive) co_return !ec && server_.stopping();
  }
  co_return false;
}

asio::awaitable<void> HttpServer::Impl::Connection::AnswerError(Response r) {
  spdlog::debug("- - {} {}", r.status, r.headers.Get("X-Request-ID").value_or(""));
  co_await Write(std::move(r), 11, /*keep_alive=*/false, /*head=*/false);
}

asio::awaitable<ErrorCode> HttpServer::Impl::Connection::Write(Response r, unsigned version,
                                                               bool keep_alive, bool head) {
  BeastResponse res = ToBeast(std::move(r), version, keep_alive, head);
  stream_.expires_after(server_.times().write_timeout);
  ErrorCode ec;
  co_await http::async_write(stream_, res, asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

// The header, then whatever the stream has, one write at a time: a client that does not read
// stalls only this coroutine, and is dropped once a write has waited write_timeout.
asio::awaitable<void> HttpServer::Impl::Connection::WriteStream(Response r, unsigned version,
                                                                bool head) {
  std::shared_ptr<BodyStream> body = std::move(r.stream);
  http::response<http::empty_body> res{static_cast<http::status>(r.status), version};
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  for (auto& [name, value] : r.headers.fields()) res.insert(name, value);
  res.keep_alive(false);  // the body ends when the connection does
  http::response_serializer<http::empty_body> sr{res};
  ErrorCode ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  stream_.expires_after(server_.times().write_timeout);
  co_await http::async_write_header(stream_, sr, token);
  if (ec || head) co_return;

  asio::steady_timer timer(stream_.get_executor());
  auto waker = std::make_shared<StreamWaker>();
  waker->strand = stream_.get_executor();
  waker->timer = stream_timer_ = &timer;
  struct Detach {
    Connection& c;
    std::shared_ptr<StreamWaker> w;
    ~Detach() {
      c.stream_timer_ = nullptr;
      w->Detach();
    }
  } detach{*this, waker};
  body->Start([waker] { StreamWaker::Wake(waker); });
  std::string out;
  while (!server_.stopping()) {
    out.clear();
    const BodyStream::State state = body->Pull(out, kStreamChunk);
    if (!out.empty()) {
      stream_.expires_after(server_.times().write_timeout);
      co_await asio::async_write(stream_, asio::buffer(out), token);
      if (ec) break;
    }
    if (state == BodyStream::State::kEnd) break;
    if (state == BodyStream::State::kMore) continue;
    if (waker->woken) {  // woken while pulling or writing
      waker->woken = false;
      continue;
    }
    stream_.expires_never();
    timer.expires_after(body->WaitLimit());
    co_await timer.async_wait(token);  // cancelled by a wake or by Stop
    waker->woken = false;
  }
}

asio::awaitable<void> HttpServer::Impl::Connection::Close(bool linger) {
  ErrorCode ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (linger && !ec) {
    // Closing with unread input makes the kernel send a reset, which can destroy the response
    // before the client reads it: read (and drop) what is still coming, briefly.
    std::array<char, 16 * 1024> sink;
    stream_.expires_after(kLingerTime);
    for (std::size_t drained = 0; drained < kLingerBytes;) {
      std::size_t n = co_await stream_.async_read_some(
          asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      drained += n;
    }
  }
  stream_.close();
}

Status HttpServer::Impl::Start() {
  std::lock_guard lock(mu_);
  if (state_ != State::kNew) return FailedPrecondition("the HTTP server was already started");
  ErrorCode ec;
  asio::ip::address address = asio::ip::make_address(opts_.host, ec);
  if (ec) {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(opts_.host, "", ec);
    if (ec || results.empty()) {
      return InvalidArgument("cannot resolve listen host '" + opts_.host + "'");
    }
    address = results.begin()->endpoint().address();
  }
  const tcp::endpoint endpoint(address, opts_.port);
  const std::string where = FormatEndpoint(endpoint);
  if (acceptor_.open(endpoint.protocol(), ec); ec) {
    return Unavailable("cannot open a socket for " + where + ": " + ec.message());
  }
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (acceptor_.bind(endpoint, ec); ec) {
    return Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  bound_ = FormatEndpoint(acceptor_.local_endpoint());
  ApplyFdLimit();
  work_.emplace(ioc_.get_executor());
  if (opts_.handler_threads > 0) handlers_.emplace(static_cast<std::size_t>(opts_.handler_threads));
  asio::co_spawn(accept_strand_, AcceptLoop(), &LogException);
  for (int i = 0; i < std::max(1, opts_.threads); ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
  state_ = State::kRunning;
  return Status::Ok();
}

// Raises the soft RLIMIT_NOFILE toward the hard one when the connection limit needs more, and
// lowers the connection limit when even the hard limit is too low.
void HttpServer::Impl::ApplyFdLimit() {
  const std::uint64_t configured = std::max<std::size_t>(1, opts_.max_connections);
  max_connections_ = configured;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const std::uint64_t needed = FdsNeededFor(configured);
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? needed : std::min<rlim_t>(rl.rlim_max, needed);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  if (rl.rlim_cur == RLIM_INFINITY) return;
  max_connections_ = ConnectionLimitFor(configured, rl.rlim_cur);
  if (max_connections_ < configured) {
    spdlog::warn(
        "http server: the open file limit ({}, hard {}) holds only {} of the {} connections "
        "configured (max_connections); serving at most {} (raise `ulimit -n`)",
        rl.rlim_cur, rl.rlim_max, max_connections_, configured, max_connections_);
  }
}

void HttpServer::Impl::LogException(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("http server: unexpected exception: {}", ex.what());
  }
}

asio::awaitable<void> HttpServer::Impl::AcceptLoop() {
  while (true) {
    ErrorCode ec;
    tcp::socket socket = co_await acceptor_.async_accept(
        asio::make_strand(ioc_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // E.g. out of file descriptors: back off instead of spinning.
      spdlog::warn("http server: accept failed: {}", ec.message());
      asio::steady_timer pause(accept_strand_, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard lock(mu_);
      if (stopping_) continue;  // the socket closes as it goes out of scope
      if (conns_.size() < max_connections_) {
        conn = std::make_shared<Connection>(*this, std::move(socket), next_id_);
        conns_.emplace(next_id_++, conn);
      }
    }
    if (!conn) {
      RejectBusy(std::move(socket));
      continue;
    }
    asio::co_spawn(conn->executor(), Connection::Run(conn), &LogException);
  }
}

void HttpServer::Impl::RejectBusy(tcp::socket socket) {
  if (rejecting_.fetch_add(1) >= kMaxRejecting) {
    rejecting_.fetch_sub(1);
    ErrorCode ignored;
    socket.close(ignored);
    return;
  }
  auto executor = socket.get_executor();
  asio::co_spawn(executor, AnswerBusy(std::move(socket)), &LogException);
}

// Writes the 503 without reading the request (a response may precede it), then lingers
// briefly so that the close does not become a reset that destroys the answer.
asio::awaitable<void> HttpServer::Impl::AnswerBusy(tcp::socket socket) {
  struct Done {
    std::atomic<int>& n;
    ~Done() { n.fetch_sub(1); }
  } done{rejecting_};
  beast::tcp_stream stream(std::move(socket));
  const Meta meta{ChooseRequestId(std::nullopt, clock_.Now()), clock_.Now()};
  Response r = Error(Unavailable("Too many connections (the server's limit is " +
                                 std::to_string(max_connections()) + "); retry shortly"),
                     meta);
  r.headers.Set("Retry-After", "1");
  r.headers.Set("X-Request-ID", meta.request_id);
  BeastResponse res = ToBeast(std::move(r), 11, /*keep_alive=*/false, /*head=*/false);
  ErrorCode ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  stream.expires_after(kRejectTime);
  co_await http::async_write(stream, res, token);
  if (!ec) stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 4096> sink;
  while (!ec) co_await stream.async_read_some(asio::buffer(sink), token);
  stream.close();
}

void HttpServer::Impl::Remove(std::uint64_t id) {
  std::lock_guard lock(mu_);
  conns_.erase(id);
  cv_.notify_all();
}

void HttpServer::Impl::CloseConnections(bool force) {
  // Called with mu_ held; the work runs on each connection's strand.
  for (auto& entry : conns_) {
    // A named copy, not a structured binding: clang 14 (the fuzz build) cannot capture one.
    std::shared_ptr<Connection> conn = entry.second;
    asio::post(conn->executor(), [conn, force] { force ? conn->ForceClose() : conn->OnStop(); });
  }
}

void HttpServer::Impl::Stop() {
  {
    std::unique_lock lock(mu_);
    if (state_ == State::kNew) state_ = State::kStopped;
    if (state_ != State::kRunning) {
      cv_.notify_all();
      return;
    }
    state_ = State::kStopping;
    stopping_ = true;
  }
  // 1. Refuse new connections. The acceptor lives on its strand: close it there, and wait.
  std::promise<void> closed;
  asio::post(accept_strand_, [&] {
    ErrorCode ignored;
    acceptor_.close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();

  // 2. Close idle connections; busy ones answer with Connection: close and end.
  std::unique_lock lock(mu_);
  CloseConnections(/*force=*/false);
  // Both waits are on the server's clock (a test's simulated grace passes when it advances it).
  if (!clock_.WaitFor(lock, cv_, opts_.shutdown_grace, [&] { return conns_.empty(); })) {
    // 3. Grace is over.
    spdlog::warn("http server: closing {} connection(s) after the shutdown grace", conns_.size());
    CloseConnections(/*force=*/true);
    if (!clock_.WaitFor(lock, cv_, std::chrono::seconds(2), [&] { return conns_.empty(); })) {
      ioc_.stop();  // the threads still finish the handlers they are running
    }
  }
  lock.unlock();
  work_.reset();  // the threads end once the last coroutine is done
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (handlers_) handlers_->join();  // handlers still running finish (their answers go nowhere)
  lock.lock();
  state_ = State::kStopped;
  cv_.notify_all();
}

void HttpServer::Impl::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return state_ == State::kStopped || state_ == State::kNew; });
}

HttpServer::HttpServer(const Router& router, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}
HttpServer::~HttpServer() = default;
Status HttpServer::Start() { return impl_->Start(); }
std::string HttpServer::BoundAddress() const { return impl_->bound(); }
std::size_t HttpServer::MaxConnections() const { return impl_->max_connections(); }
void HttpServer::Stop() { impl_->Stop(); }
void HttpServer::Wait() { impl_->Wait(); }

}  // namespace outpost::http
