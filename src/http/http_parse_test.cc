#include "http/http_parse.h"

#include <gtest/gtest.h>

#include <boost/beast/http/error.hpp>
#include <boost/json/parse.hpp>

namespace outpost::http {
namespace {

namespace http = boost::beast::http;
using ErrorCode = boost::system::error_code;

// Feeds `bytes` to the parser as the server's reads would, all of it available at once.
// Returns the error (need_more: the request is incomplete) and leaves the unparsed rest.
ErrorCode Feed(RequestParser& parser, std::string_view bytes, std::string_view* unparsed) {
  ErrorCode ec;
  while (!parser.is_done()) {
    std::size_t n = parser.put(boost::asio::const_buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(n);
    if (ec) break;
    if (n == 0) {
      ec = http::error::need_more;
      break;
    }
  }
  if (unparsed) *unparsed = bytes;
  return ec;
}

class HttpParseTest : public ::testing::Test {
 protected:
  // The answer the server gives to `bytes`: a read error's, the header check's, or nullopt
  // for a request that is served.
  std::optional<Response> Answer(std::string_view bytes) {
    RequestParser& parser = parser_.emplace();
    ConfigureParser(parser, limits_);
    std::string_view unparsed;
    ErrorCode ec = Feed(parser, bytes, &unparsed);
    if (ec) return ReadErrorResponse(ec, parser, unparsed, limits_, clock_);
    return CheckHeader(parser, limits_, clock_);
  }
  static std::string Code(const Response& r) {
    return std::string(boost::json::parse(r.body).at("error").at("code").as_string());
  }

  RequestLimits limits_;
  std::optional<RequestParser> parser_;
  SimulatedClock clock_;
};

TEST_F(HttpParseTest, PlainRequestPassesAndBecomesARequest) {
  ASSERT_FALSE(
      Answer("POST /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Request-ID: req-1\r\n"
             "Content-Length: 3\r\n\r\nabc"));
  Request req = ToRequest(*parser_, "1.2.3.4:5", clock_);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/a?b=1");
  EXPECT_EQ(req.body, "abc");
  EXPECT_EQ(req.headers.Get("host"), "x");
  EXPECT_EQ(req.request_id, "req-1");
  EXPECT_EQ(req.client_address, "1.2.3.4:5");
}

TEST_F(HttpParseTest, LongTargetIs414WhetherOrNotTheLineFitsTheHeaderLimit) {
  limits_.max_target_bytes = 100;
  auto within = Answer("GET /" + std::string(100, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(within);
  EXPECT_EQ(within->status, 414);
  EXPECT_EQ(Code(*within), "URI_TOO_LONG");
  // Longer than the whole header block, and not even complete yet.
  auto beyond = Answer("GET /" + std::string(limits_.max_header_bytes, 'a'));
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->status, 414);
  EXPECT_FALSE(Answer("GET /" + std::string(99, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
}

TEST_F(HttpParseTest, HeaderBlockOverTheLimitIs431) {
  std::string req = "GET / HTTP/1.1\r\n";
  while (req.size() <= limits_.max_header_bytes) req += "X-Pad: " + std::string(50, 'p') + "\r\n";
  auto r = Answer(req);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(Code(*r), "REQUEST_HEADERS_TOO_LARGE");
}

// The whole header block arrived: Beast parses the request line before it finds the fields too
// large, so what is left begins with a field longer than any request-target may be. Still 431.
TEST_F(HttpParseTest, CompleteHeaderBlockOverTheLimitWithLongFieldsIs431Not414) {
  const std::string field(limits_.max_target_bytes + 1000, 'f');
  auto r = Answer("GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: " + field + "\r\nX-B: " + field +
                  "\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431) << r->body;
  EXPECT_EQ(Code(*r), "REQUEST_HEADERS_TOO_LARGE");
  // A long target in a complete block over the limit is still the target's 414.
  auto target = Answer("GET /" + std::string(limits_.max_target_bytes + 10, 't') +
                       " HTTP/1.1\r\nHost: x\r\nX-A: " + field + "\r\n\r\n");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->status, 414);
}

TEST_F(HttpParseTest, TooManyFieldsIs431AndTheLimitItselfPasses) {
  std::string head = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 1; i < limits_.max_header_fields; ++i) head += "X-F: 1\r\n";
  EXPECT_FALSE(Answer(head + "Host: x\r\n\r\n"));
  auto r = Answer(head + "Host: x\r\nX-One-More: 1\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_NE(r->body.find("more than 100 header fields"), std::string::npos) << r->body;
}

TEST_F(HttpParseTest, OneLongFieldIs431NamingItButNotItsValue) {
  limits_.max_header_line_bytes = 200;
  auto r =
      Answer("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: " + std::string(200, 's') + "\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_NE(r->body.find("'Authorization'"), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("sss"), std::string::npos);
}

TEST_F(HttpParseTest, ContentLengthOverTheLimitIs413BeforeAnyBody) {
  limits_.max_body_bytes = 10;
  auto r = Answer("POST / HTTP/1.1\r\nHost: x\r\nX-Request-ID: big\r\nContent-Length: 11\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Code(*r), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(r->headers.Get("X-Request-ID"), "big");
}

TEST_F(HttpParseTest, ChunkedBodyGrowingPastTheLimitIs413) {
  limits_.max_body_bytes = 10;
  auto r = Answer(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpParseTest, AmbiguousFramingIs400) {
  for (const char* req : {
           // Request smuggling: both framings.
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n"
           "\r\n0\r\n\r\n",
           // Two different lengths.
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
       }) {
    auto r = Answer(req);
    ASSERT_TRUE(r) << req;
    EXPECT_EQ(r->status, 400) << req;
    EXPECT_EQ(Code(*r), "VALIDATION_ERROR");
  }
}

}  // namespace
}  // namespace outpost::http
