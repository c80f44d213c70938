// SigV4 follows the published algorithm step by step; the published test vectors
// (tests/testdata/aws-sigv4, checked by sigv4_test) pin every byte of the intermediate strings,
// including the order in which the signing headers and query parameters are appended.
#include "aws/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace outpost::aws {
namespace {

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims and turns every run of whitespace (including folded lines) into one space.
std::string TrimAll(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// Hop-by-hop and client-identification headers that proxies rewrite: never signed.
bool Unsignable(const std::string& lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" ||
         lower_name == "x-amzn-trace-id" || lower_name == "expect" || lower_name == "connection" ||
         lower_name == "transfer-encoding";
}

const std::string* FindHost(const Params& headers) {
  for (const auto& [k, v] : headers) {
    if (Lower(k) == "host") return &v;
  }
  return nullptr;
}

Status CheckInputs(const SignableRequest& request, const Credentials& credentials,
                   const SigningOptions& options) {
  if (!FindHost(request.headers)) return InvalidArgument("SigV4: the request has no Host header");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return InvalidArgument("SigV4: empty access key id or secret access key");
  }
  if (options.region.empty() || options.service.empty()) {
    return InvalidArgument("SigV4: region and service are required");
  }
  return Status::Ok();
}

// Fills canonical_request, string_to_sign, signature, signed_headers and credential_scope.
void Compute(const SignableRequest& request, const Params& query, const Params& headers,
             const std::string& payload_hash, const Credentials& credentials,
             const SigningOptions& options, const std::string& amz_date, Signature& out) {
  CanonicalHeaders canonical = Canonicalize(headers);
  out.signed_headers = canonical.signed_names;
  out.canonical_request = request.method + "\n" + CanonicalUri(request.path, options) + "\n" +
                          CanonicalQuery(query) + "\n" + canonical.text + "\n" +
                          canonical.signed_names + "\n" + payload_hash;
  std::string day = amz_date.substr(0, 8);
  out.credential_scope = day + "/" + options.region + "/" + options.service + "/aws4_request";
  out.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + out.credential_scope +
                       "\n" + Sha256Hex(out.canonical_request);
  std::string key =
      DeriveSigningKey(credentials.secret_access_key, day, options.region, options.service);
  out.signature = HmacSha256Hex(key, out.string_to_sign);
}

}  // namespace

SigningOptions SigningOptions::ForS3(std::string region) {
  SigningOptions o;
  o.region = std::move(region);
  o.service = "s3";
  o.normalize_path = false;
  o.encode_path = false;
  o.add_content_sha256_header = true;
  return o;
}

SigningOptions SigningOptions::ForService(std::string region, std::string service) {
  SigningOptions o;
  o.region = std::move(region);
  o.service = std::move(service);
  return o;
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string UriDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(start, slash - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    start = slash + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  if (!segments.empty() && path.ends_with('/')) out += '/';
  return out;
}

std::string CanonicalUri(std::string_view path, const SigningOptions& options) {
  std::string p = path.empty() ? "/" : std::string(path);
  if (options.normalize_path) p = NormalizePath(p);
  return options.encode_path ? UriEncode(p, /*keep_slash=*/true) : p;
}

std::string CanonicalQuery(const Params& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [k, v] : query) encoded.emplace_back(UriEncode(k), UriEncode(v));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

CanonicalHeaders Canonicalize(const Params& headers) {
  // Stable: repeated headers keep their order when their values are joined.
  std::vector<std::pair<std::string, std::string>> lowered;
  for (const auto& [k, v] : headers) {
    std::string name = Lower(TrimAll(k));
    if (!Unsignable(name)) lowered.emplace_back(std::move(name), TrimAll(v));
  }
  std::stable_sort(lowered.begin(), lowered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (std::size_t i = 0; i < lowered.size(); ++i) {
    if (i > 0 && lowered[i].first == lowered[i - 1].first) {
      out.text.pop_back();  // the '\n' of the previous value
      out.text += "," + lowered[i].second + "\n";
      continue;
    }
    if (!out.signed_names.empty()) out.signed_names += ';';
    out.signed_names += lowered[i].first;
    out.text += lowered[i].first + ":" + lowered[i].second + "\n";
  }
  return out;
}

std::string DeriveSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service) {
  std::string k = HmacSha256("AWS4" + std::string(secret), date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string AmzDate(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Result<Signature> SignHeaders(const SignableRequest& request, const Credentials& credentials,
                              const SigningOptions& options, WallTime now) {
  OUTPOST_RETURN_IF_ERROR(CheckInputs(request, credentials, options));
  std::string amz_date = AmzDate(now);
  std::string payload_hash = options.payload_hash.value_or(Sha256Hex(request.body));
  Signature out;
  const std::string& token = credentials.session_token;
  if (!token.empty()) out.added_headers.emplace_back("X-Amz-Security-Token", token);
  out.added_headers.emplace_back("X-Amz-Date", amz_date);
  if (options.add_content_sha256_header) {
    out.added_headers.emplace_back("x-amz-content-sha256", payload_hash);
  }
  Params headers = request.headers;
  for (const auto& h : out.added_headers) {
    if (h.first == "X-Amz-Security-Token" && options.omit_session_token) continue;
    headers.push_back(h);
  }
  Compute(request, request.query, headers, payload_hash, credentials, options, amz_date, out);
  out.added_headers.emplace_back(
      "Authorization", std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                           out.credential_scope + ", SignedHeaders=" + out.signed_headers +
                           ", Signature=" + out.signature);
  return out;
}

Result<Signature> SignQuery(const SignableRequest& request, const Credentials& credentials,
                            const SigningOptions& options, WallTime now,
                            std::chrono::seconds expires) {
  OUTPOST_RETURN_IF_ERROR(CheckInputs(request, credentials, options));
  if (expires < std::chrono::seconds(1) || expires > std::chrono::hours(24 * 7)) {
    return InvalidArgument("SigV4: a presigned URL expires after 1 second to 7 days, not " +
                           std::to_string(expires.count()) + " seconds");
  }
  std::string amz_date = AmzDate(now);
  std::string payload_hash = options.payload_hash.value_or(Sha256Hex(request.body));
  Signature out;
  CanonicalHeaders canonical = Canonicalize(request.headers);
  std::string scope =
      amz_date.substr(0, 8) + "/" + options.region + "/" + options.service + "/aws4_request";
  out.added_query = {{"X-Amz-Algorithm", std::string(kAlgorithm)},
                     {"X-Amz-Credential", credentials.access_key_id + "/" + scope},
                     {"X-Amz-Date", amz_date},
                     {"X-Amz-SignedHeaders", canonical.signed_names},
                     {"X-Amz-Expires", std::to_string(expires.count())}};
  const std::string& token = credentials.session_token;
  if (!token.empty()) out.added_query.emplace_back("X-Amz-Security-Token", token);
  Params query = request.query;
  for (const auto& q : out.added_query) {
    if (q.first == "X-Amz-Security-Token" && options.omit_session_token) continue;
    query.push_back(q);
  }
  Compute(request, query, request.headers, payload_hash, credentials, options, amz_date, out);
  out.added_query.emplace_back("X-Amz-Signature", out.signature);
  return out;
}

}  // namespace outpost::aws
