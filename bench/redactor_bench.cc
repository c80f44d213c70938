// Redactor throughput alone: the anchor-prefiltered scan (Redactor) against the original
// per-byte scan (Redactor::Reference) on event_stream's text (the same line shape and
// alphabet as its MakeData), fed in the shim's 64 KiB read chunks, with no secrets and with
// three configured values. Prints MB/s for each and fails when the outputs differ.
//
// Usage: build/release/bench/redactor_bench [MiB]   (default 64)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "secrets/redactor.h"

namespace {

std::string MakeText(std::size_t bytes) {
  std::mt19937_64 rng(42);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHI0123456789./:=,()";
  std::string text;
  text.reserve(bytes + 200);
  for (std::size_t n = 0; text.size() < bytes; ++n) {
    text += "[" + std::to_string(n) + "] ";
    std::size_t len = 20 + rng() % 100;
    for (std::size_t i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    text += '\n';
  }
  text.resize(bytes);
  return text;
}

// Best of 3 runs: {MB/s, output}.
std::pair<double, std::string> Run(const std::string& text, const std::vector<std::string>& secrets,
                                   bool reference) {
  constexpr std::size_t kChunk = 65536;  // the shim's kReadChunk
  double best = 0;
  std::string out;
  for (int rep = 0; rep < 3; ++rep) {
    outpost::Redactor r =
        reference ? outpost::Redactor::Reference(secrets) : outpost::Redactor(secrets);
    std::string o;
    o.reserve(text.size());
    auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < text.size(); i += kChunk) {
      o += r.Feed(std::string_view(text).substr(i, kChunk));
    }
    o += r.Flush();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(text.size()) / 1e6 / s);
    out = std::move(o);
  }
  return {best, out};
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 64;
  const std::string text = MakeText(mib << 20);
  int rc = 0;
  const std::vector<std::vector<std::string>> cases = {
      {}, {"hunter2-xyz-0123", "sk-live-secret-value", "ABCDEFGHI9876"}};
  for (const auto& secrets : cases) {
    auto [ref_mbs, ref_out] = Run(text, secrets, /*reference=*/true);
    auto [new_mbs, new_out] = Run(text, secrets, /*reference=*/false);
    const bool same = ref_out == new_out;
    std::printf(
        "redactor %zu MiB, %zu secrets: reference %.0f MB/s, prefiltered %.0f MB/s (x%.1f)%s\n",
        mib, secrets.size(), ref_mbs, new_mbs, new_mbs / ref_mbs, same ? "" : "  OUTPUTS DIFFER");
    if (!same) rc = 1;
  }
  return rc;
}
