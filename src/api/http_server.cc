#include "api/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
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

#include "api/envelope.h"

namespace outpost::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using BeastResponse = http::response<http::string_body>;

// The most a streamed body (BodyStream) sends in one write.
constexpr std::size_t kStreamChunk = 64 * 1024;

// How long a closing connection keeps reading what the client still sends (the rest of a
// rejected body) so that the close does not become a reset that destroys our response.
constexpr std::chrono::milliseconds kLingerTime{500};
constexpr std::size_t kLingerBytes = 4 << 20;

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
  const Clock& clock() const { return clock_; }
  bool stopping() const { return stopping_.load(); }
  void Remove(std::uint64_t id);

 private:
  class Connection;
  enum class State { kNew, kRunning, kStopping, kStopped };

  asio::awaitable<void> AcceptLoop();
  void CloseConnections(bool force);
  static void LogException(std::exception_ptr e);

  const Router& router_;
  const HttpServerOptions opts_;
  const Clock& clock_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kNew;                                   // guarded by mu_
  std::string bound_;                                           // guarded by mu_
  std::map<std::uint64_t, std::shared_ptr<Connection>> conns_;  // guarded by mu_
  std::uint64_t next_id_ = 0;                                   // guarded by mu_

  // Declared after everything a pending coroutine may touch while ioc_ destroys it.
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;  // used on accept_strand_ only
  std::vector<std::thread> threads_;
};

// One client connection. Everything but the constructor runs on the connection's strand.
class HttpServer::Impl::Connection {
 public:
  Connection(HttpServer::Impl& server, tcp::socket socket, std::uint64_t id)
      : server_(server), id_(id), stream_(std::move(socket)) {
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
  asio::awaitable<void> AnswerReadError(const ErrorCode& ec,
                                        const http::request_parser<http::string_body>& parser);
  asio::awaitable<ErrorCode> Write(Response r, unsigned version, bool keep_alive, bool head);
  asio::awaitable<void> WriteStream(Response r, unsigned version, bool head);
  asio::awaitable<void> Close(bool linger);
  Request ToRequest(http::request<http::string_body>&& req) const;

  HttpServer::Impl& server_;
  const std::uint64_t id_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;  // may hold the start of the next (pipelined) request
  std::string peer_;
  bool idle_ = false;        // waiting for the first byte of a request
  bool idle_armed_ = false;  // WaitForRequest set the deadline that the request read uses
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
  if (buffer_.size() > 0) co_return true;  // a pipelined request is already here
  if (server_.stopping()) co_return false;
  idle_ = true;
  stream_.expires_after(server_.opts().idle_timeout);  // also covers reading this request
  idle_armed_ = true;
  ErrorCode ec;
  std::size_t n = co_await stream_.async_read_some(buffer_.prepare(4096),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  idle_ = false;
  if (ec) co_return false;
  buffer_.commit(n);
  co_return true;
}

asio::awaitable<bool> HttpServer::Impl::Connection::ServeRequests() {
  const HttpServerOptions& opts = server_.opts();
  while (co_await WaitForRequest()) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    parser.body_limit(opts.max_body_bytes);
    // A pipelined request did not go through WaitForRequest: give it its own deadline.
    if (!idle_armed_) stream_.expires_after(opts.idle_timeout);
    idle_armed_ = false;
    ErrorCode ec;
    auto token = asio::redirect_error(asio::use_awaitable, ec);
    co_await http::async_read_header(stream_, buffer_, parser, token);
    if (!ec && !parser.is_done()) {
      // curl waits a second for this before sending a large body.
      auto expect = parser.get()[http::field::expect];
      if (EqualsIgnoreCase(expect, "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(stream_, asio::buffer(kContinue), token);
      }
      if (!ec) co_await http::async_read(stream_, buffer_, parser, token);
    }
    if (ec) {
      if (IsSilentError(ec)) co_return false;
      co_await AnswerReadError(ec, parser);
      co_return true;
    }

    const auto start = server_.clock().Mono();
    http::request<http::string_body> raw = parser.release();
    const unsigned version = raw.version();
    const bool head = raw.method() == http::verb::head;
    bool keep_alive = raw.keep_alive();
    Request req = ToRequest(std::move(raw));
    Response res = HandleRequest(server_.router(), req, server_.clock());
    if (res.drop_connection) co_return false;  // an injected fault: no answer at all
    if (res.stream) {  // the connection ends with the stream
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

Request HttpServer::Impl::Connection::ToRequest(http::request<http::string_body>&& raw) const {
  Request req;
  req.method = std::string(raw.method_string());
  req.target = std::string(raw.target());
  for (const auto& field : raw) {
    req.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  req.body = std::move(raw.body());
  req.client_address = peer_;
  req.request_id = ChooseRequestId(req.headers.Get("X-Request-ID"), server_.clock().Now());
  return req;
}

asio::awaitable<void> HttpServer::Impl::Connection::AnswerReadError(
    const ErrorCode& ec, const http::request_parser<http::string_body>& parser) {
  // The fields parsed before the error are in the message (all of them for a Content-Length
  // over the limit, which is detected when the header block ends).
  std::optional<std::string> client_id;
  auto it = parser.get().find("X-Request-ID");
  if (it != parser.get().end()) client_id = std::string(it->value());
  Meta meta{ChooseRequestId(client_id, server_.clock().Now()), server_.clock().Now()};
  Response r;
  if (ec == http::error::body_limit) {
    r = Error(
        Status(Code::kPayloadTooLarge,
               "Request body exceeds " + std::to_string(server_.opts().max_body_bytes) + " bytes"),
        meta);
  } else if (ec == http::error::header_limit) {
    r = ErrorWithCode(431, kHeadersTooLarge,
                      "Request header block exceeds " +
                          std::to_string(server_.opts().max_header_bytes) + " bytes",
                      meta);
  } else {
    r = Error(InvalidArgument("Malformed HTTP request: " + ec.message()), meta);
  }
  r.headers.Set("X-Request-ID", meta.request_id);
  spdlog::debug("- - {} ({}) {}", r.status, ec.message(), meta.request_id);
  co_await Write(std::move(r), 11, /*keep_alive=*/false, /*head=*/false);
}

asio::awaitable<ErrorCode> HttpServer::Impl::Connection::Write(Response r, unsigned version,
                                                               bool keep_alive, bool head) {
  BeastResponse res = ToBeast(std::move(r), version, keep_alive, head);
  stream_.expires_after(server_.opts().idle_timeout);
  ErrorCode ec;
  co_await http::async_write(stream_, res, asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

// The header, then whatever the stream has, one write at a time: a client that does not read
// stalls only this coroutine, and is dropped once a write has waited idle_timeout.
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
  stream_.expires_after(server_.opts().idle_timeout);
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
      stream_.expires_after(server_.opts().idle_timeout);
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
  work_.emplace(ioc_.get_executor());
  asio::co_spawn(accept_strand_, AcceptLoop(), &LogException);
  for (int i = 0; i < std::max(1, opts_.threads); ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
  state_ = State::kRunning;
  return Status::Ok();
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
      conn = std::make_shared<Connection>(*this, std::move(socket), next_id_);
      conns_.emplace(next_id_++, conn);
    }
    asio::co_spawn(conn->executor(), Connection::Run(conn), &LogException);
  }
}

void HttpServer::Impl::Remove(std::uint64_t id) {
  std::lock_guard lock(mu_);
  conns_.erase(id);
  cv_.notify_all();
}

void HttpServer::Impl::CloseConnections(bool force) {
  // Called with mu_ held; the work runs on each connection's strand.
  for (auto& [id, conn] : conns_) {
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
  if (!cv_.wait_for(lock, opts_.shutdown_grace, [&] { return conns_.empty(); })) {
    // 3. Grace is over.
    spdlog::warn("http server: closing {} connection(s) after the shutdown grace", conns_.size());
    CloseConnections(/*force=*/true);
    if (!cv_.wait_for(lock, std::chrono::seconds(2), [&] { return conns_.empty(); })) {
      ioc_.stop();  // the threads still finish the handlers they are running
    }
  }
  lock.unlock();
  work_.reset();  // the threads end once the last coroutine is done
  for (std::thread& t : threads_) t.join();
  threads_.clear();
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
void HttpServer::Stop() { impl_->Stop(); }
void HttpServer::Wait() { impl_->Wait(); }

}  // namespace outpost::api
