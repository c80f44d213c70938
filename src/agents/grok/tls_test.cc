// https end to end: a TLS chat-completions server on 127.0.0.1:0 with a certificate generated
// here (self-signed, SAN DNS:localhost) and trusted through SSL_CERT_FILE, which OpenSSL's
// default verify paths (what the agent uses for the system CA store) honour.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "agents/grok/grok_agent.h"
#include "testing/temp_dir.h"

namespace outpost::agents::grok {
namespace {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

struct Pem {
  std::string cert, key;
};

std::string ToPem(int (*write)(BIO*, void*), void* obj) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio, obj);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

// A self-signed CA:TRUE certificate for "localhost" (no IP SAN).
Pem MakeCert() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  Pem pem{ToPem([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, x),
          ToPem(
              [](BIO* b, void* o) {
                return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0,
                                                nullptr, nullptr);
              },
              key)};
  X509_free(x);
  EVP_PKEY_free(key);
  return pem;
}

// Serves one request per connection until destroyed; records the SNI of each handshake.
class TlsChatServer {
 public:
  TlsChatServer(const Pem& pem, std::string body) : body_(std::move(body)) {
    ctx_.use_certificate_chain(asio::buffer(pem.cert));
    ctx_.use_private_key(asio::buffer(pem.key), ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsChatServer() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket wake(ioc_);
    wake.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  std::vector<std::string> snis() {
    std::lock_guard lock(mu_);
    return snis_;
  }
  int requests() const { return requests_; }

 private:
  void Serve() {
    for (;;) {
      boost::system::error_code ec;
      ssl::stream<tcp::socket> stream(ioc_, ctx_);
      acceptor_.accept(stream.lowest_layer(), ec);
      if (stopping_) return;
      stream.handshake(ssl::stream_base::server, ec);
      const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      {
        std::lock_guard lock(mu_);
        snis_.push_back(sni ? sni : "");
      }
      if (ec) continue;
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(stream, buffer, req, ec);
      if (ec) continue;
      ++requests_;
      http::response<http::string_body> res{http::status::ok, 11};
      res.set(http::field::content_type, "application/json");
      res.body() = body_;
      res.keep_alive(false);  // one request per connection: the client closes, shutdown returns
      res.prepare_payload();
      http::write(stream, res, ec);
      stream.shutdown(ec);
    }
  }

  std::string body_;
  asio::io_context ioc_;
  ssl::context ctx_{ssl::context::tls_server};
  tcp::acceptor acceptor_{ioc_};
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::vector<std::string> snis_;  // guarded by mu_
  std::thread thread_;
};

constexpr const char* kReply =
    R"({"choices":[{"message":{"role":"assistant","content":"```txt:t.txt\nTLS\n```\n"}}],)"
    R"("usage":{"prompt_tokens":3,"completion_tokens":4}})";

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = tmp_.path();
    fs::create_directories(base_ / "work");
  }
  void TearDown() override { ::unsetenv("SSL_CERT_FILE"); }
  void Trust(const Pem& pem) {
    std::ofstream(base_ / "ca.pem") << pem.cert;
    ::setenv("SSL_CERT_FILE", (base_ / "ca.pem").c_str(), 1);
  }
  int Run(const std::string& url) {
    out_.str("");
    EnvMap env{{"XAI_API_KEY", "xai-k"}, {"XAI_BASE_URL", url}};
    clock_.set_advance_on_sleep(true);  // a backoff would move the clock, never wait
    return RunGrokAgentWith({"task"}, env, (base_ / "work").string(), out_, clock_);
  }

  testing::TempDir tmp_{"grok-tls"};
  fs::path base_;
  std::ostringstream out_;
  SimulatedClock clock_;
};

TEST_F(TlsTest, TrustedCertificateWithMatchingNameSucceedsAndSendsSni) {
  Pem pem = MakeCert();
  Trust(pem);
  TlsChatServer server(pem, kReply);
  ASSERT_EQ(Run("https://localhost:" + std::to_string(server.port()) + "/v1"), 0) << out_.str();
  EXPECT_EQ(server.requests(), 1);
  ASSERT_FALSE(server.snis().empty());
  EXPECT_EQ(server.snis().back(), "localhost");
  std::ifstream in(base_ / "work/t.txt");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "TLS\n");
}

TEST_F(TlsTest, UntrustedCertificateIsRefusedWithoutRetry) {
  Trust(MakeCert());  // a different certificate than the server's
  TlsChatServer server(MakeCert(), kReply);
  EXPECT_EQ(Run("https://localhost:" + std::to_string(server.port()) + "/v1"), 1);
  EXPECT_EQ(server.requests(), 0);
  EXPECT_NE(out_.str().find("certificate verify failed"), std::string::npos) << out_.str();
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(TlsTest, CertificateForAnotherNameIsRefused) {
  Pem pem = MakeCert();
  Trust(pem);
  TlsChatServer server(pem, kReply);
  // The certificate names "localhost" only; 127.0.0.1 must not match it.
  EXPECT_EQ(Run("https://127.0.0.1:" + std::to_string(server.port()) + "/v1"), 1);
  EXPECT_EQ(server.requests(), 0);
  EXPECT_NE(out_.str().find("TLS handshake"), std::string::npos) << out_.str();
}

}  // namespace
}  // namespace outpost::agents::grok
