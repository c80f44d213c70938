// Test helper: a real git server over HTTPS — Debian's git-http-backend (smart HTTP, upload-pack
// and receive-pack) behind a small TLS server on <random 127.x.y.z>:443, so that the URL
// (https://127.x.y.z/OWNER/REPO.git) is one a git token may be sent to (the default port:
// workspace::CredentialHost). Its certificate is made here and signed by a test CA
// (ca_file(), for [git] push_ca_file). Every request must carry Basic credentials
// x-access-token:<token> (else 401 with WWW-Authenticate, as GitHub answers). While a request is
// served, every process's /proc/*/cmdline is scanned for the token: token_in_argv() says
// whether any git (or anything else) ever had it in its argv. One connection at a time.
#pragma once

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace outpost::workspace::testing {

inline constexpr const char* kGitHttpBackend = "/usr/lib/git-core/git-http-backend";

class GitHttpsServer {
 public:
  // Serves the repositories under `root` (GIT_PROJECT_ROOT) with `token`; the CA certificate
  // is written to `ca_file`. Throws when git-http-backend is missing or nothing can be bound.
  GitHttpsServer(std::string root, std::string token, std::string ca_file)
      : root_(std::move(root)), token_(std::move(token)), ca_file_(std::move(ca_file)) {
    if (::access(kGitHttpBackend, X_OK) != 0) {
      throw std::runtime_error(std::string("git-http-backend is missing: ") + kGitHttpBackend +
                               " (Debian package git)");
    }
    Bind();
    MakeCertificates();
    thread_ = std::thread([this] { Serve(); });
  }
  ~GitHttpsServer() {
    stopping_ = true;
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket wake(ioc_);
    wake.connect({boost::asio::ip::make_address(host_), 443}, ec);
    thread_.join();
  }

  const std::string& host() const { return host_; }  // "127.x.y.z"
  std::string url(const std::string& path) const { return "https://" + host_ + "/" + path; }
  const std::string& ca_file() const { return ca_file_; }
  bool token_in_argv() const { return token_in_argv_; }
  int requests() const { return requests_; }
  int authorized_requests() const { return authorized_; }

 private:
  // A random loopback address's port 443 (root may bind it; tests run in parallel).
  void Bind() {
    std::random_device rd;
    for (int attempt = 0; attempt < 50; ++attempt) {
      host_ = "127." + std::to_string(1 + rd() % 250) + "." + std::to_string(rd() % 250) + "." +
              std::to_string(1 + rd() % 250);
      boost::system::error_code ec;
      acceptor_.open(boost::asio::ip::tcp::v4(), ec);
      acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
      acceptor_.bind({boost::asio::ip::make_address(host_), 443}, ec);
      if (!ec) {
        acceptor_.listen();
        return;
      }
      acceptor_.close(ec);
    }
    throw std::runtime_error("GitHttpsServer: cannot bind 127.x.y.z:443 (needs root)");
  }

  static std::string Pem(int (*write)(BIO*, void*), void* obj) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio, obj);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
  }
  static X509* NewCert(EVP_PKEY* key, const char* cn, long serial) {
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    return x;
  }
  static void AddExt(X509* x, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  // A CA, and the server's certificate (SAN IP:host) signed by it.
  void MakeCertificates() {
    EVP_PKEY* ca_key = EVP_RSA_gen(2048);
    X509* ca = NewCert(ca_key, "outpost test CA", 1);
    X509_set_issuer_name(ca, X509_get_subject_name(ca));
    AddExt(ca, ca, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
    X509_sign(ca, ca_key, EVP_sha256());
    EVP_PKEY* key = EVP_RSA_gen(2048);
    X509* cert = NewCert(key, host_.c_str(), 2);
    X509_set_issuer_name(cert, X509_get_subject_name(ca));
    AddExt(cert, ca, NID_subject_alt_name, "IP:" + host_);
    AddExt(cert, ca, NID_basic_constraints, "critical,CA:FALSE");
    AddExt(cert, ca, NID_ext_key_usage, "serverAuth");
    X509_sign(cert, ca_key, EVP_sha256());
    auto x509 = [](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); };
    auto pkey = [](BIO* b, void* o) {
      return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0, nullptr,
                                      nullptr);
    };
    std::ofstream(ca_file_) << Pem(x509, ca);
    const std::string chain = Pem(x509, cert), key_pem = Pem(pkey, key);
    ctx_.use_certificate_chain(boost::asio::buffer(chain));
    ctx_.use_private_key(boost::asio::buffer(key_pem), boost::asio::ssl::context::pem);
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
  }

  // Whether any process's argv holds the token now.
  bool ScanArgv() const {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
      // A process that exits while it is read fails the read (ESRCH, thrown by the filebuf).
      std::string argv;
      try {
        std::ifstream in(e.path() / "cmdline", std::ios::binary);
        argv.assign(std::istreambuf_iterator<char>(in), {});
      } catch (const std::exception&) {  // std::__ios_failure: not always an ios_base::failure
        continue;
      }
      if (argv.find(token_) != std::string::npos) return true;
    }
    return false;
  }

  struct Cgi {
    int status = 500;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };

  // Runs git-http-backend for one request (CGI/1.1), its stdin fed from a thread.
  Cgi RunBackend(const boost::beast::http::request<boost::beast::http::string_body>& req) {
    std::string target(req.target());
    const std::size_t q = target.find('?');
    std::vector<std::string> env{
        "GIT_PROJECT_ROOT=" + root_,
        "GIT_HTTP_EXPORT_ALL=1",
        "GIT_CONFIG_NOSYSTEM=1",
        "HOME=" + root_,
        "PATH=/usr/bin:/bin",
        "REMOTE_USER=x-access-token",
        "REMOTE_ADDR=127.0.0.1",
        "REQUEST_METHOD=" + std::string(req.method_string()),
        "PATH_INFO=" + target.substr(0, q),
        "QUERY_STRING=" + (q == std::string::npos ? "" : target.substr(q + 1)),
        "CONTENT_TYPE=" + std::string(req[boost::beast::http::field::content_type]),
        "CONTENT_LENGTH=" + std::to_string(req.body().size()),
    };
    if (auto enc = req[boost::beast::http::field::content_encoding]; !enc.empty()) {
      env.push_back("HTTP_CONTENT_ENCODING=" + std::string(enc));
    }
    if (auto proto = req["Git-Protocol"]; !proto.empty()) {
      env.push_back("HTTP_GIT_PROTOCOL=" + std::string(proto));
    }
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return {};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::vector<char*> argv{const_cast<char*>(kGitHttpBackend), nullptr}, envp;
    for (auto& v : env) envp.push_back(v.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, kGitHttpBackend, &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) {
      ::close(in[1]);
      ::close(out[0]);
      return {};
    }
    std::thread feed([fd = in[1], &body = req.body()] {
      std::size_t off = 0;
      while (off < body.size()) {
        ssize_t n = ::write(fd, body.data() + off, body.size() - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      ::close(fd);
    });
    std::string raw;
    char buf[65536];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) raw.append(buf, n);
    ::close(out[0]);
    feed.join();
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
    Cgi cgi;
    cgi.status = 200;
    std::size_t end = raw.find("\r\n\r\n");
    std::size_t skip = 4;
    if (end == std::string::npos) {
      end = raw.find("\n\n");
      skip = 2;
    }
    if (end == std::string::npos) return Cgi{500, {}, "bad CGI output"};
    std::string head = raw.substr(0, end);
    cgi.body = raw.substr(end + skip);
    std::size_t pos = 0;
    while (pos < head.size()) {
      std::size_t nl = head.find('\n', pos);
      std::string line = head.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? head.size() : nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::string value = line.substr(line.find_first_not_of(' ', colon + 1));
      if (name == "Status") {
        cgi.status = std::stoi(value);
      } else {
        cgi.headers.emplace_back(name, value);
      }
    }
    return cgi;
  }

  void Serve() {
    namespace http = boost::beast::http;
    const std::string expected = "Basic " + [this] {
      const std::string plain = "x-access-token:" + token_;
      std::string out(boost::beast::detail::base64::encoded_size(plain.size()), '\0');
      out.resize(boost::beast::detail::base64::encode(out.data(), plain.data(), plain.size()));
      return out;
    }();
    for (;;) {
      boost::system::error_code ec;
      boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream(ioc_, ctx_);
      acceptor_.accept(stream.lowest_layer(), ec);
      if (stopping_) return;
      if (ec) continue;
      stream.handshake(boost::asio::ssl::stream_base::server, ec);
      if (ec) continue;
      boost::beast::flat_buffer buffer;
      http::request_parser<http::string_body> parser;
      parser.body_limit(256u << 20);
      http::read(stream, buffer, parser, ec);
      if (ec) continue;
      const auto& req = parser.get();
      ++requests_;
      if (ScanArgv()) token_in_argv_ = true;
      http::response<http::string_body> res;
      res.version(11);
      if (req[http::field::authorization] != expected) {
        res.result(http::status::unauthorized);
        res.set(http::field::www_authenticate, "Basic realm=\"git\"");
      } else {
        ++authorized_;
        Cgi cgi = RunBackend(req);
        if (ScanArgv()) token_in_argv_ = true;
        res.result(static_cast<unsigned>(cgi.status));
        for (const auto& [k, v] : cgi.headers) res.set(k, v);
        res.body() = std::move(cgi.body);
      }
      res.keep_alive(false);
      res.prepare_payload();
      http::write(stream, res, ec);
      stream.shutdown(ec);
    }
  }

  std::string root_, token_, ca_file_;
  std::string host_;
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_{boost::asio::ssl::context::tls_server};
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> token_in_argv_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> authorized_{0};
  std::thread thread_;
};

}  // namespace outpost::workspace::testing
