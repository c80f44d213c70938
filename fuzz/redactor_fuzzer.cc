// libFuzzer: the secret redactor (secrets/redactor.h) — its anchor-prefiltered credential scan
// against the original per-byte scan (Redactor::Reference), both fed the same chunks.
//
// Input: byte 0 picks a configured secret's length (0-15) taken from the bytes after it,
// byte 1 seeds the chunk sizes; the rest is the output stream. Checked besides "no crash":
//  - the redactor and the reference emit exactly the same bytes for the same chunking;
//  - the one-shot RedactAll agrees with the reference fed the whole text at once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "secrets/redactor.h"

namespace {

std::string Chunked(outpost::Redactor r, std::string_view text, std::uint32_t seed) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t n = 1 + (seed >> 16) % 97;
    out += r.Feed(text.substr(i, n));
    i += n;
  }
  out += r.Flush();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t secret_len = std::min<std::size_t>(data[0] % 16, size - 2);
  const std::uint32_t seed = data[1];
  std::vector<std::string> secrets;
  if (secret_len > 0) secrets.emplace_back(in.substr(2, secret_len));
  const std::string_view text = in.substr(2 + secret_len);

  if (Chunked(outpost::Redactor(secrets), text, seed) !=
      Chunked(outpost::Redactor::Reference(secrets), text, seed)) {
    std::abort();
  }
  outpost::Redactor ref = outpost::Redactor::Reference(secrets);
  std::string whole = ref.Feed(text);
  whole += ref.Flush();
  if (outpost::Redactor::RedactAll(text, secrets) != whole) std::abort();
  return 0;
}
