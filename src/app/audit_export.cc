#include "app/audit_export.h"

#include <ostream>

#include "app/stores.h"
#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost::app {
namespace {

bool IsTenantName(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

int ExportAudit(const Options& opts, const std::string& since, const std::string& tenant,
                std::ostream& out, std::ostream& err) {
  AuditQuery q;
  q.oldest_first = true;
  q.limit = 1000;
  if (!since.empty()) {
    q.since = ParseTime(since);
    if (!q.since) {
      err << "outpost audit export: --since: must be an RFC 3339 time or YYYY-MM-DD\n";
      return 64;
    }
  }
  if (!tenant.empty()) {
    if (!IsTenantName(tenant)) {
      err << "outpost audit export: --tenant: 1-128 characters of A-Z a-z 0-9 . _ : -\n";
      return 64;
    }
    q.tenant = tenant;
  }
  auto store = OpenRunStore(opts);
  if (!store.ok()) {
    err << "outpost audit export: " << store.status().message() << "\n";
    return store.status().code() == Code::kInvalidArgument ? 64 : 5;
  }
  auto log = OpenAuditLog(opts, **store, RealClock::Instance());
  if (!log.ok()) {
    err << "outpost audit export: " << log.status().message() << "\n";
    return 5;
  }
  for (;;) {
    auto page = (*log)->List(q);
    if (!page.ok()) {
      err << "outpost audit export: " << page.status().message() << "\n";
      return 5;
    }
    for (const AuditRecord& r : page->records) out << ToJson(AuditRecordToJson(r)) << "\n";
    if (!page->next_cursor) break;
    q.cursor = page->next_cursor;
  }
  out.flush();
  return 0;
}

}  // namespace outpost::app
