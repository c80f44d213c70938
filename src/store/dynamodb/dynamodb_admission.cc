// DynamoDbRunStore::CreateAll: admission of one run or a fan-out (the contract is in
// store/run_store.h, the design in dynamodb_run_store.h and dynamodb_quota.h).
#include <spdlog/spdlog.h>

#include "store/admission.h"
#include "store/dynamodb/dynamodb_items.h"
#include "store/dynamodb/dynamodb_run_store.h"

namespace outpost::dynamodb {
namespace ddb = aws::ddb;
namespace {

// Day counters outlive their day by two (a TTL only tidies: a counter is read for its day only).
std::int64_t DayExpiresAt(const Run& run) {
  return (UtcDayStartMs(run.created_at) + 3 * kDayMs) / 1000;
}

}  // namespace

Status DynamoDbRunStore::Admit(std::vector<Run>& runs, const Admission& admission) const {
  const Run& first = runs.front();
  const int n = static_cast<int>(runs.size());
  std::vector<std::string> slots;
  if (admission.concurrent) {
    std::vector<std::string> ids;
    for (const Run& r : runs) ids.push_back(r.id.str());
    auto claimed = quotas_.ClaimSlots(QuotaTable::ScopeKey(first, admission.concurrent->scope),
                                      admission.concurrent->max, ids);
    if (!claimed.ok()) return claimed.status();
    slots = std::move(*claimed);
  }
  if (admission.per_day) {
    Status st =
        quotas_.AddToDay(QuotaTable::ScopeKey(first, admission.per_day->scope),
                         UtcDate(first.created_at), n, admission.per_day->max, DayExpiresAt(first));
    if (!st.ok()) {
      for (std::size_t i = 0; i < slots.size(); ++i) {
        (void)quotas_.ReleaseSlot(slots[i], runs[i].id.str());
      }
      return st;
    }
  }
  for (std::size_t i = 0; i < slots.size(); ++i) runs[i].quota_slot = slots[i];
  return Status::Ok();
}

void DynamoDbRunStore::Unadmit(const Run& run, const Admission& admission) const {
  if (!run.quota_slot.empty()) {
    if (Status st = quotas_.ReleaseSlot(run.quota_slot, run.id.str()); !st.ok()) {
      spdlog::warn("run {}: quota slot not freed ({}); the sweeper will", run.id.str(),
                   st.ToString());
    }
  }
  if (admission.per_day) {
    Status st = quotas_.SubtractFromDay(QuotaTable::ScopeKey(run, admission.per_day->scope),
                                        UtcDate(run.created_at), 1);
    if (!st.ok()) {
      spdlog::warn("run {}: the day's run count stays one too high: {}", run.id.str(),
                   st.ToString());
    }
  }
}

void DynamoDbRunStore::Withdraw(const Run& run, const Admission& admission) const {
  const aws::Expression untouched{
      "#v = :v", {{"#v", attr::kVersion}}, {{":v", ddb::N(run.version)}}};
  Status st = client_->DeleteItem(tables_.runs, {{attr::kId, ddb::S(run.id.str())}}, untouched);
  if (!st.ok()) {  // changed meanwhile: it stays (held) and is cancelled by its supervisor
    spdlog::warn("run {}: not withdrawn ({})", run.id.str(), st.ToString());
    return;
  }
  NoteChange();
  ReleaseKeyClaim(run);
  Unadmit(run, admission);
}

// After a failed Create the run may exist all the same (a lost answer of a put that landed):
// look. Unknown (the read fails too): its room stays for the sweeper and the key's claim for
// the crash-window logic.
void DynamoDbRunStore::GiveBack(const Run& run, const Admission& admission) const {
  auto there = Load(run.id.str());
  if (!there.ok()) return;
  if (*there) {
    Withdraw(run, admission);
  } else {
    ReleaseKeyClaim(run);
    Unadmit(run, admission);
  }
}

// Keys first, then room, then the runs: a replay (even one racing its original) never takes
// room, and a refusal or failure gives back what this call took.
Result<std::vector<CreateResult>> DynamoDbRunStore::CreateAll(const std::vector<Run>& runs,
                                                              const Admission& admission) {
  OUTPOST_RETURN_IF_ERROR(ValidateBatch(runs, admission));
  std::vector<CreateResult> out(runs.size());
  std::vector<std::size_t> fresh;  // indexes of the runs to create
  std::vector<std::int64_t> reserved;
  std::vector<Run> todo;
  auto release_keys = [&](std::size_t from) {
    for (std::size_t j = from; j < todo.size(); ++j) ReleaseKeyClaim(todo[j]);
  };
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::int64_t at = 0;
    if (runs[i].idempotency_key) {
      auto claim = ClaimIdempotencyKey(runs[i]);
      if (!claim.ok()) {
        release_keys(0);
        return claim.status();
      }
      if (claim->replay) {
        out[i] = CreateResult{std::move(*claim->replay), false};
        continue;
      }
      at = claim->reserved_ms;
    }
    fresh.push_back(i);
    reserved.push_back(at);
    todo.push_back(runs[i]);
  }
  if (todo.empty()) return out;
  if (!admission.empty()) {
    if (Status st = Admit(todo, admission); !st.ok()) {
      release_keys(0);
      return st;
    }
  }
  for (std::size_t k = 0; k < todo.size(); ++k) {
    const Run& run = todo[k];
    auto created = run.idempotency_key
                       ? FinishClaimedCreate(run, IdempotencyKey(run.tenant, *run.idempotency_key),
                                             reserved[k])
                       : Create(run);
    if (!created.ok()) {
      for (std::size_t j = 0; j < k; ++j) Withdraw(todo[j], admission);
      GiveBack(run, admission);
      for (std::size_t j = k + 1; j < todo.size(); ++j) Unadmit(todo[j], admission);
      release_keys(k + 1);
      return created.status();
    }
    out[fresh[k]] = std::move(*created);
  }
  return out;
}

}  // namespace outpost::dynamodb
