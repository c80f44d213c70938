#include "runner/netproxy/http_head.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/strings.h"
#include "runner/netproxy/allowlist.h"

namespace outpost::netproxy {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Splits off the next line (without its "\r\n" / "\n").
std::string_view NextLine(std::string_view& rest) {
  std::size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// A stray CR (or other control byte) inside a line could be read as a line break by the
// origin: request smuggling. Tabs are legal whitespace.
bool HasControl(std::string_view line) {
  return std::any_of(line.begin(), line.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

Status ParseRequestLine(std::string_view line, RequestHead& out) {
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return InvalidArgument("malformed request line");
  }
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  out.version = line.substr(sp2 + 1);
  if (out.method.empty() || out.target.empty() || !out.version.starts_with("HTTP/1.")) {
    return InvalidArgument("malformed request line");
  }
  return Status::Ok();
}

Result<HostPort> ParseDestination(std::string_view authority, std::optional<int> default_port) {
  auto dest = ParseHostPort(authority, default_port);
  if (!dest.ok()) return dest.status();
  if (!Allowlist::IsValidHost(dest->host)) return InvalidArgument("bad host");
  return dest;
}

bool IsHopHeader(std::string_view name) {
  return IEquals(name, "proxy-connection") || IEquals(name, "proxy-authorization") ||
         IEquals(name, "connection") || IEquals(name, "keep-alive") || IEquals(name, "host");
}

std::string ForwardHead(const RequestHead& head, std::string_view path,
                        std::string_view authority) {
  std::string out = head.method + " " + std::string(path) + " " + head.version + "\r\n";
  out += "Host: " + std::string(authority) + "\r\n";
  for (const auto& [name, value] : head.headers) {
    if (!IsHopHeader(name)) out += name + ": " + value + "\r\n";
  }
  return out + "Connection: close\r\n\r\n";
}

Result<ProxyRequest> ClassifyAbsolute(const RequestHead& head) {
  constexpr std::string_view kScheme = "http://";
  std::string_view target = head.target;
  if (target.size() < kScheme.size() || !IEquals(target.substr(0, kScheme.size()), kScheme)) {
    return InvalidArgument("proxy requests need CONNECT or an absolute http:// URL");
  }
  target.remove_prefix(kScheme.size());
  std::size_t slash = target.find_first_of("/?#");
  std::string_view authority = target.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) return InvalidArgument("userinfo in URL");
  auto dest = ParseDestination(authority, 80);
  if (!dest.ok()) return dest.status();
  std::string path = slash == std::string_view::npos ? "/" : std::string(target.substr(slash));
  if (path.front() != '/') path.insert(0, "/");
  if (auto hash = path.find('#'); hash != std::string::npos) path.resize(hash);
  ProxyRequest req{false, *dest, ForwardHead(head, path, authority)};
  bool has_length = false;
  for (const auto& [name, value] : head.headers) {
    if (IEquals(name, "transfer-encoding")) {
      return InvalidArgument("a chunked request body is not forwarded over plain HTTP (use https)");
    }
    if (!IEquals(name, "content-length")) continue;
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (has_length || value.empty() || ec != std::errc() || end != value.data() + value.size()) {
      return InvalidArgument("bad Content-Length");
    }
    has_length = true;
    req.body_length = n;
  }
  return req;
}

}  // namespace

std::size_t FindHeadEnd(std::string_view buf) {
  std::size_t crlf = buf.find("\r\n\r\n");
  std::size_t lf = buf.find("\n\n");
  std::size_t end = std::min(crlf == std::string_view::npos ? crlf : crlf + 4,
                             lf == std::string_view::npos ? lf : lf + 2);
  return end;
}

Result<RequestHead> ParseRequestHead(std::string_view head) {
  RequestHead out;
  std::string_view rest = head;
  std::string_view request_line = NextLine(rest);
  if (HasControl(request_line)) return InvalidArgument("control character in request line");
  OUTPOST_RETURN_IF_ERROR(ParseRequestLine(request_line, out));
  for (std::string_view line = NextLine(rest); !line.empty(); line = NextLine(rest)) {
    if (HasControl(line)) return InvalidArgument("control character in header");
    std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos || line.front() == ' ' ||
        line.front() == '\t') {
      return InvalidArgument("malformed header line");
    }
    std::string_view name = line.substr(0, colon);
    if (name.find_first_of(" \t") != std::string_view::npos) {
      return InvalidArgument("malformed header name");
    }
    out.headers.emplace_back(std::string(name), std::string(Trim(line.substr(colon + 1))));
  }
  return out;
}

Result<ProxyRequest> ClassifyRequest(const RequestHead& head) {
  if (head.method != "CONNECT") return ClassifyAbsolute(head);
  auto dest = ParseDestination(head.target, std::nullopt);
  if (!dest.ok()) return dest.status();
  return ProxyRequest{true, *dest, {}};
}

std::string SimpleResponse(int status, std::string_view reason, std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  return out + std::string(body);
}

}  // namespace outpost::netproxy
