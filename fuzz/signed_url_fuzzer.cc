// libFuzzer: the signed-URL verifier of the local artifact backend (artifacts/local/url_signer.h)
// behind the router's ParseTarget, as GET /files/... reaches it.
//
// Input: a raw request target. Besides "no crash", three properties are checked:
//  - a URL the signer made for a valid key verifies, and an expired one says "expired";
//  - the same URL with any one character of its signature changed does not verify;
//  - nothing but a target the signer made (or a forged HMAC) verifies: a verified target's
//    signature must equal the one the signer computes for its decoded path and expiry.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "artifacts/artifact_store.h"
#include "artifacts/local/url_signer.h"
#include "http/router.h"

namespace {

using outpost::WallTime;
using outpost::artifacts::UrlSigner;

const WallTime kNow = WallTime(std::chrono::seconds(1'700'000'000));

const UrlSigner& Signer() {
  static const UrlSigner signer(std::string(32, '\x5a'));
  return signer;
}

outpost::Status VerifyTarget(std::string_view method, std::string_view target) {
  std::string path;
  outpost::http::QueryParams query;
  outpost::Status parsed = outpost::http::ParseTarget(target, &path, &query);
  if (!parsed.ok()) return parsed;
  return Signer().Verify(method, path, query, kNow);
}

std::string_view Reason(const outpost::Status& st) {
  auto it = st.details().find("reason");
  if (it == st.details().end() || !it->value().is_string()) return "";
  return it->value().get_string();
}

// The properties of a key the signer accepts.
void CheckRoundTrip(std::string_view key) {
  if (!outpost::artifacts::ValidateKey(key).ok()) return;
  const std::string good = Signer().SignedTarget(key, kNow + std::chrono::seconds(60));
  if (!VerifyTarget("GET", good).ok() || !VerifyTarget("HEAD", good).ok()) std::abort();
  if (VerifyTarget("POST", good).ok()) std::abort();
  const std::string old = Signer().SignedTarget(key, kNow - std::chrono::seconds(1));
  if (Reason(VerifyTarget("GET", old)) != "expired") std::abort();
  std::string tampered = good;
  char& last = tampered.back();  // the signature's last hex digit
  last = last == '0' ? '1' : '0';
  if (VerifyTarget("GET", tampered).ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  std::string path;
  outpost::http::QueryParams query;
  if (outpost::http::ParseTarget(target, &path, &query).ok()) {
    const outpost::Status st = Signer().Verify("GET", path, query, kNow);
    if (st.ok()) {
      // Only an authentic signature verifies: it is the signer's for this path and expiry.
      const auto expires = query.find("expires");
      const auto signature = query.find("signature");
      if (expires == query.end() || signature == query.end()) std::abort();
      const std::int64_t unix = std::strtoll(expires->second.c_str(), nullptr, 10);
      if (signature->second != Signer().Signature("GET", path, unix)) std::abort();
    }
    if (path.starts_with(UrlSigner::kPathPrefix)) {
      CheckRoundTrip(std::string_view(path).substr(UrlSigner::kPathPrefix.size()));
    }
  }
  return 0;
}
