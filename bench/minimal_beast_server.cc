// Baseline for the API benchmark: the smallest Boost.Beast coroutine server that answers every
// request with a constant JSON body. Prints "listening on http://127.0.0.1:PORT" and serves
// until killed.
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <cstdio>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

asio::awaitable<void> Session(tcp::socket socket) {
  beast::flat_buffer buf;
  try {
    for (;;) {
      http::request<http::string_body> req;
      co_await http::async_read(socket, buf, req, asio::use_awaitable);
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.set(http::field::content_type, "application/json");
      res.body() =
          R"({"success":true,"data":{"runId":"01KF14T55EQC18M4B3R8ARPMHT","status":"COMPLETED"}})";
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      co_await http::async_write(socket, res, asio::use_awaitable);
      if (!res.keep_alive()) break;
    }
  } catch (...) {
  }
}

asio::awaitable<void> Listen(tcp::acceptor& acceptor) {
  for (;;) {
    tcp::socket s = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor.get_executor(), Session(std::move(s)), asio::detached);
  }
}

int main() {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  std::printf("listening on http://127.0.0.1:%d\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  asio::co_spawn(ioc, Listen(acceptor), asio::detached);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&] { ioc.run(); });
  for (auto& t : threads) t.join();
}
