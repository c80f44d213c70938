#include "store/dynamodb/dynamodb_quota.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <cstdio>
#include <random>
#include <set>

#include "aws/sigv4.h"
#include "common/time_util.h"
#include "store/admission.h"
#include "store/dynamodb/dynamodb_schema.h"

namespace outpost::dynamodb {
namespace ddb = aws::ddb;
namespace json = boost::json;
namespace {

constexpr std::string_view kSlotsPrefix = "slots#";
constexpr std::string_view kDayPrefix = "day#";

std::string SlotSk(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06d", n);
  return buf;
}

ddb::Item Key(const std::string& pk, const std::string& sk) {
  return {{attr::kPk, ddb::S(pk)}, {attr::kSk, ddb::S(sk)}};
}

// A slot's name as Run::quota_slot keeps it: "<pk>|<sk>" (sk has no '|').
std::string SlotName(const std::string& pk, const std::string& sk) { return pk + "|" + sk; }

bool SplitSlot(const std::string& slot, std::string* pk, std::string* sk) {
  const auto bar = slot.rfind('|');
  if (bar == std::string::npos) return false;
  *pk = slot.substr(0, bar);
  *sk = slot.substr(bar + 1);
  return true;
}

int RandomBelow(int n) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return std::uniform_int_distribution<int>(0, n - 1)(rng);
}

}  // namespace

std::string QuotaTable::ScopeKey(const Run& run, RunQuota::Scope scope) {
  return (scope == RunQuota::Scope::kKey ? "key#" : "tenant#") +
         aws::UriEncode(ScopeId(run, scope));
}

Result<int> QuotaTable::CountSlots(const std::string& pk, std::vector<std::string>* taken) const {
  aws::QueryRequest q;
  q.table = table_;
  q.key_condition = {"#pk = :pk", {{"#pk", attr::kPk}}, {{":pk", ddb::S(pk)}}};
  q.consistent = true;
  int count = 0;
  for (;;) {
    OUTPOST_ASSIGN_OR_RETURN(auto page, client_.Query(q));
    for (const auto& item : page.items) {
      ++count;
      if (taken) taken->push_back(ddb::GetS(item, attr::kSk).value_or(""));
    }
    if (!page.last_key) return count;
    q.start_key = page.last_key;
  }
}

// true: the slot is now run_id's (also when a retried put had landed); false: another's.
Result<bool> QuotaTable::TryClaim(const std::string& pk, const std::string& sk,
                                  const std::string& run_id) const {
  ddb::Item item = Key(pk, sk);
  item[attr::kRunId] = ddb::S(run_id);
  item[attr::kClaimedMs] = ddb::N(ToMillis(clock_.Now()));
  const aws::Expression free{"attribute_not_exists(#pk)", {{"#pk", attr::kPk}}, {}};
  Status st = client_.PutItem(table_, item, free);
  if (st.ok()) return true;
  if (st.code() != Code::kConflict) return st;
  OUTPOST_ASSIGN_OR_RETURN(auto holder, client_.GetItem(table_, Key(pk, sk)));
  return holder && ddb::GetS(*holder, attr::kRunId) == run_id;
}

Result<std::vector<std::string>> QuotaTable::ClaimSlots(
    const std::string& scope_key, int max, const std::vector<std::string>& run_ids) const {
  const std::string pk = std::string(kSlotsPrefix) + scope_key;
  const int n = static_cast<int>(run_ids.size());
  std::vector<std::string> taken;
  OUTPOST_ASSIGN_OR_RETURN(auto held, CountSlots(pk, &taken));
  if (held + n > max) return QuotaExceeded(kQuotaConcurrentRuns, max, held);
  const std::set<std::string> busy(taken.begin(), taken.end());
  std::vector<std::string> free;
  for (int i = 0; i < max; ++i) {
    if (!busy.count(SlotSk(i))) free.push_back(SlotSk(i));
  }
  // Racing claimers start at different free slots rather than all fighting over the first.
  std::size_t next =
      free.empty() ? 0 : static_cast<std::size_t>(RandomBelow(static_cast<int>(free.size())));
  std::size_t tried = 0;
  std::vector<std::string> claimed;
  auto give_back = [&](Status why) -> Status {
    for (std::size_t i = 0; i < claimed.size(); ++i) {
      (void)ReleaseSlot(claimed[i], run_ids[i]);
    }
    return why;
  };
  for (const std::string& run_id : run_ids) {
    bool got = false;
    while (!got && tried < free.size()) {
      const std::string& sk = free[next];
      next = (next + 1) % free.size();
      ++tried;
      auto ok = TryClaim(pk, sk, run_id);
      if (!ok.ok()) return give_back(ok.status());
      if (*ok) {
        claimed.push_back(SlotName(pk, sk));
        got = true;
      }
    }
    if (!got) {  // others took the free slots first
      auto now = CountSlots(pk, nullptr);
      return give_back(QuotaExceeded(kQuotaConcurrentRuns, max,
                                     now.ok() ? *now - static_cast<int>(claimed.size()) : max));
    }
  }
  return claimed;
}

Status QuotaTable::ReleaseSlot(const std::string& slot, const std::string& run_id) const {
  std::string pk, sk;
  if (!SplitSlot(slot, &pk, &sk)) return Status::Ok();  // not a slot of this table
  const aws::Expression ours{"#r = :r", {{"#r", attr::kRunId}}, {{":r", ddb::S(run_id)}}};
  Status st = client_.DeleteItem(table_, Key(pk, sk), ours);
  if (st.code() == Code::kConflict) return Status::Ok();  // already freed, or someone else's
  return st;
}

Result<std::int64_t> QuotaTable::DayCount(const std::string& pk, const std::string& date) const {
  OUTPOST_ASSIGN_OR_RETURN(auto item, client_.GetItem(table_, Key(pk, date)));
  return item ? ddb::GetN(*item, attr::kCount).value_or(0) : 0;
}

Status QuotaTable::AddToDay(const std::string& scope_key, const std::string& date, int n, int max,
                            std::int64_t expires_at) const {
  const std::string pk = std::string(kDayPrefix) + scope_key;
  if (n <= max) {
    json::object request{
        {"TableName", table_},
        {"Key", Key(pk, date)},
        {"UpdateExpression", "ADD #c :n SET #e = :e"},
        {"ConditionExpression", "attribute_not_exists(#c) OR #c <= :room"},
        {"ExpressionAttributeNames", {{"#c", attr::kCount}, {"#e", attr::kExpiresAt}}},
        {"ExpressionAttributeValues",
         {{":n", ddb::N(n)}, {":e", ddb::N(expires_at)}, {":room", ddb::N(max - n)}}}};
    auto answer = client_.Call("UpdateItem", request, table_);
    if (answer.ok()) return Status::Ok();
    if (answer.status().code() != Code::kConflict) return answer.status();
  }
  auto current = DayCount(pk, date);
  return QuotaExceeded(kQuotaRunsPerDay, max, current.ok() ? *current : max);
}

Status QuotaTable::SubtractFromDay(const std::string& scope_key, const std::string& date,
                                   int n) const {
  json::object request{{"TableName", table_},
                       {"Key", Key(std::string(kDayPrefix) + scope_key, date)},
                       {"UpdateExpression", "ADD #c :n"},
                       {"ConditionExpression", "attribute_exists(#c)"},
                       {"ExpressionAttributeNames", {{"#c", attr::kCount}}},
                       {"ExpressionAttributeValues", {{":n", ddb::N(-n)}}}};
  auto answer = client_.Call("UpdateItem", request, table_);
  if (!answer.ok() && answer.status().code() != Code::kConflict) return answer.status();
  return Status::Ok();
}

Result<int> QuotaTable::Sweep(const RunLoader& load) const {
  aws::ScanRequest scan;
  scan.table = table_;
  scan.filter = {"begins_with(#pk, :p)", {{"#pk", attr::kPk}}, {{":p", ddb::S(kSlotsPrefix)}}};
  const std::int64_t now_ms = ToMillis(clock_.Now());
  int freed = 0;
  for (;;) {
    OUTPOST_ASSIGN_OR_RETURN(auto page, client_.Scan(scan));
    for (const auto& item : page.items) {
      const std::string pk = ddb::GetS(item, attr::kPk).value_or("");
      const std::string sk = ddb::GetS(item, attr::kSk).value_or("");
      const std::string run_id = ddb::GetS(item, attr::kRunId).value_or("");
      auto run = load(run_id);
      if (!run.ok()) return run.status();
      const bool stale =
          *run ? IsTerminal((*run)->status)
               : now_ms - ddb::GetN(item, attr::kClaimedMs).value_or(now_ms) > grace_.count();
      if (!stale) continue;
      OUTPOST_RETURN_IF_ERROR(ReleaseSlot(SlotName(pk, sk), run_id));
      spdlog::info("quota: freed the slot {} of run {} ({})", SlotName(pk, sk), run_id,
                   *run ? "ended without freeing it" : "never created");
      ++freed;
    }
    if (!page.last_key) return freed;
    scan.start_key = page.last_key;
  }
}

}  // namespace outpost::dynamodb
