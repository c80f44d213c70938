#include "http/byte_range.h"

#include <algorithm>
#include <charconv>

#include "common/strings.h"
#include "http/http_types.h"

namespace outpost::http {
namespace {

// A non-empty run of digits that fits in int64, else nullopt.
std::optional<std::int64_t> Number(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

RangeDecision Partial(std::int64_t first, std::int64_t last) {
  return {RangeDecision::Kind::kPartial, first, last - first + 1};
}

}  // namespace

RangeDecision ResolveRange(std::optional<std::string_view> header, std::int64_t size) {
  const RangeDecision full;
  const RangeDecision unsatisfiable{RangeDecision::Kind::kUnsatisfiable};
  if (!header) return full;
  std::string_view value = Trim(*header);
  constexpr std::string_view kUnit = "bytes=";
  if (value.size() < kUnit.size() || !EqualsIgnoreCase(value.substr(0, kUnit.size()), kUnit)) {
    return full;  // another unit: ignored
  }
  std::string_view spec = Trim(value.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return full;  // multi-range: the whole
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return full;
  std::string_view first_text = Trim(spec.substr(0, dash));
  std::string_view last_text = Trim(spec.substr(dash + 1));
  if (first_text.empty()) {  // suffix: the last n bytes
    std::optional<std::int64_t> n = Number(last_text);
    if (!n) return full;
    if (*n == 0 || size == 0) return unsatisfiable;
    return Partial(size - std::min(*n, size), size - 1);
  }
  std::optional<std::int64_t> first = Number(first_text);
  if (!first) return full;
  std::int64_t last = size - 1;
  if (!last_text.empty()) {
    std::optional<std::int64_t> given = Number(last_text);
    if (!given || *given < *first) return full;  // invalid range-spec: ignore the header
    last = std::min(*given, size - 1);
  }
  if (*first >= size) return unsatisfiable;
  return Partial(*first, last);
}

}  // namespace outpost::http
