#include "runner/netproxy/http_head.h"

#include <gtest/gtest.h>

namespace outpost::netproxy {
namespace {

Result<ProxyRequest> Classify(std::string_view head) {
  auto parsed = ParseRequestHead(head);
  if (!parsed.ok()) return parsed.status();
  return ClassifyRequest(*parsed);
}

TEST(HttpHead, FindHeadEndAcceptsCrlfAndBareLf) {
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), 24u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\nA: b\n\nbody"), 21u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nA: b\r\n"), std::string_view::npos);
}

TEST(HttpHead, ParsesRequestLineAndHeaders) {
  auto h =
      ParseRequestHead("GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\nX-Y:  z \r\n\r\n");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->method, "GET");
  EXPECT_EQ(h->target, "http://a.example/x");
  EXPECT_EQ(h->version, "HTTP/1.1");
  ASSERT_EQ(h->headers.size(), 2u);
  EXPECT_EQ(h->headers[1].first, "X-Y");
  EXPECT_EQ(h->headers[1].second, "z");
}

TEST(HttpHead, RejectsMalformedHeads) {
  for (std::string_view bad :
       {"GET\r\n\r\n", "GET /x\r\n\r\n", "GET /x FTP/1.0\r\n\r\n", "GET  /x HTTP/1.1\r\n\r\n",
        "GET /x HTTP/1.1\r\nNoColon\r\n\r\n", "GET /x HTTP/1.1\r\n folded: x\r\n\r\n",
        "GET /x HTTP/1.1\r\nBad Name: x\r\n\r\n", "GET /x HTTP/1.1\r\nA: b\rc\r\n\r\n"}) {
    auto h = ParseRequestHead(bad);
    EXPECT_FALSE(h.ok()) << bad;
    EXPECT_EQ(h.status().code(), Code::kInvalidArgument);
  }
}

TEST(HttpHead, ConnectIsATunnelToItsAuthority) {
  auto r = Classify("CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->tunnel);
  EXPECT_EQ(r->dest.host, "api.example.com");
  EXPECT_EQ(r->dest.port, 443);
  auto v6 = Classify("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->dest.host, "::1");
}

TEST(HttpHead, ConnectNeedsAPort) {
  EXPECT_EQ(Classify("CONNECT api.example.com HTTP/1.1\r\n\r\n").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Classify("CONNECT bad host:1 HTTP/1.1\r\n\r\n").status().code(),
            Code::kInvalidArgument);
}

TEST(HttpHead, AbsoluteFormIsRewrittenToOriginForm) {
  auto r = Classify(
      "POST http://A.example:8080/p/q?x=1#frag HTTP/1.1\r\nHost: wrong\r\n"
      "Proxy-Connection: keep-alive\r\nProxy-Authorization: secret\r\nConnection: keep-alive\r\n"
      "Content-Length: 3\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->tunnel);
  EXPECT_EQ(r->dest.host, "A.example");
  EXPECT_EQ(r->dest.port, 8080);
  EXPECT_EQ(r->forward_head,
            "POST /p/q?x=1 HTTP/1.1\r\nHost: A.example:8080\r\nContent-Length: 3\r\n"
            "Connection: close\r\n\r\n");
}

TEST(HttpHead, AbsoluteFormDefaultsToPort80AndPathSlash) {
  auto r = Classify("GET http://a.example HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->dest.port, 80);
  EXPECT_TRUE(r->forward_head.starts_with("GET / HTTP/1.1\r\nHost: a.example\r\n"));
  auto q = Classify("GET http://a.example?x HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(q->forward_head.starts_with("GET /?x HTTP/1.1\r\n"));
}

TEST(HttpHead, RejectsTargetsAProxyCannotServe) {
  for (std::string_view bad :
       {"GET /origin-form HTTP/1.1\r\n\r\n", "GET https://a.example/ HTTP/1.1\r\n\r\n",
        "GET http://user:pw@a.example/ HTTP/1.1\r\n\r\n",
        "GET http://a.example:0/ HTTP/1.1\r\n\r\n", "GET http:///x HTTP/1.1\r\n\r\n"}) {
    EXPECT_EQ(Classify(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(HttpHead, SimpleResponseHasLengthAndClose) {
  EXPECT_EQ(SimpleResponse(403, "Forbidden", "no"),
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\nno");
}

}  // namespace
}  // namespace outpost::netproxy
