#include "store/sqlite/sqlite_list_query.h"

#include <array>

#include "common/time_util.h"

namespace outpost::sqlite {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kCursorPrefix = "r1:";  // versioned, so the format can change later
constexpr std::size_t kMaxCursorLength = 256;

std::string Base64UrlEncode(std::string_view in) {
  std::string out;
  unsigned bits = 0;
  int nbits = 0;
  for (unsigned char c : in) {
    bits = (bits << 8) | c;
    nbits += 8;
    while (nbits >= 6) {
      nbits -= 6;
      out.push_back(kAlphabet[(bits >> nbits) & 63]);
    }
  }
  if (nbits > 0) out.push_back(kAlphabet[(bits << (6 - nbits)) & 63]);
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view in) {
  std::string out;
  unsigned bits = 0;
  int nbits = 0;
  for (char c : in) {
    const auto pos = kAlphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    bits = ((bits << 6) | static_cast<unsigned>(pos)) & 0xffff;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xff));
    }
  }
  // Leftover bits must be padding zeros; 6 leftover bits would be a truncated character.
  if (nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0) return std::nullopt;
  return out;
}

// Appends " AND <clause>" binding `value` to the next positional parameter.
void AddFilter(SqlQuery& q, std::string_view clause, Param value) {
  q.params.push_back(std::move(value));
  q.sql += " AND ";
  q.sql += clause;
  q.sql += std::to_string(q.params.size());
}

}  // namespace

std::string EncodeCursor(std::string_view last_id) {
  return Base64UrlEncode(std::string(kCursorPrefix) + std::string(last_id));
}

Result<std::string> DecodeCursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() > kMaxCursorLength) return InvalidArgument("invalid cursor");
  auto raw = Base64UrlDecode(cursor);
  if (!raw || !raw->starts_with(kCursorPrefix) || raw->size() == kCursorPrefix.size()) {
    return InvalidArgument("invalid cursor");
  }
  return raw->substr(kCursorPrefix.size());
}

Result<SqlQuery> BuildListQuery(const ListQuery& q) {
  if (q.limit < 1) return InvalidArgument("limit must be at least 1");
  SqlQuery out{"SELECT version, doc FROM runs WHERE 1 = 1", {}};
  if (q.cursor) {
    auto after = DecodeCursor(*q.cursor);
    if (!after.ok()) return after.status();
    AddFilter(out, "id < ?", *after);
  }
  if (q.tenant) AddFilter(out, "tenant = ?", *q.tenant);
  if (q.status) AddFilter(out, "status = ?", std::string(ToString(*q.status)));
  if (q.agent) AddFilter(out, "agent = ?", *q.agent);
  if (q.repo) AddFilter(out, "repo = ?", *q.repo);
  if (q.group_id) AddFilter(out, "group_id = ?", *q.group_id);
  if (q.since) AddFilter(out, "created_ms >= ?", ToMillis(*q.since));
  // Rare (the artifact uploader's recovery at start): a scan of the documents is fine.
  if (q.artifacts_state) {
    AddFilter(out, "json_extract(doc, '$.artifactsStatus') = ?",
              std::string(ToString(*q.artifacts_state)));
  }
  for (const auto& [key, value] : q.tags) {
    out.params.emplace_back(key);
    const std::string key_param = "?" + std::to_string(out.params.size());
    AddFilter(out,
              "EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND t.key = " + key_param +
                  " AND t.value = ?",
              value);
    out.sql += ")";
  }
  out.params.emplace_back(static_cast<std::int64_t>(q.limit) + 1);
  out.sql += " ORDER BY id DESC LIMIT ?" + std::to_string(out.params.size());
  return out;
}

}  // namespace outpost::sqlite
