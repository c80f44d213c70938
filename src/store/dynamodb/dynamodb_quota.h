// QuotaTable: admission on DynamoDB without transactions (dynalite has none), in the
// <prefix>-quotas table (dynamodb_schema.h). Every decision is one conditional single-item
// write, so racing creates on any number of replicas cannot overshoot:
//
//  - Concurrent runs: a scope with limit K has slot items numbered 0..K-1. A run is admitted by
//    claiming a free slot with PutItem conditioned on attribute_not_exists; K slots, so at most
//    K holders. The slot is named in the run (Run::quota_slot) and freed by its terminal write;
//    Sweep frees slots whose run is terminal or never came to exist (a crash between the
//    writes), the latter only after `grace`, since a claim precedes its run's put.
//  - Runs per day: one counter item per scope and UTC day, raised by UpdateItem ADD conditioned
//    on `count <= max - n`. A counter raised for runs that then failed to be created is lowered
//    again (compensation); a crash between the two leaves the day's count too high by those
//    runs (never too low: the quota errs toward refusing).
//
// Lowering a limit while more slots than the new limit are held: claims first count the held
// slots (a consistent Query of the partition), so nothing new is admitted until enough end.
//
// Thread-safety: const methods over the thread-safe client.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aws/dynamodb_client.h"
#include "common/clock.h"
#include "common/status.h"
#include "model/run.h"
#include "store/run_store.h"

namespace outpost::dynamodb {

class QuotaTable {
 public:
  QuotaTable(const aws::DynamoDbClient& client, std::string table, const Clock& clock, Millis grace)
      : client_(client), table_(std::move(table)), clock_(clock), grace_(grace) {}

  // "tenant#<enc>" / "key#<enc>": the scope a quota of `scope` counts `run` under.
  static std::string ScopeKey(const Run& run, RunQuota::Scope scope);

  // Claims one slot for each of `run_ids` under `max`; their slot names, in order.
  // kResourceExhausted (details {quota: concurrent_runs, limit, current}) when they do not all
  // fit; then none stays claimed.
  Result<std::vector<std::string>> ClaimSlots(const std::string& scope_key, int max,
                                              const std::vector<std::string>& run_ids) const;
  // Frees `slot` if `run_id` still holds it (absent, or another holder: nothing to do).
  Status ReleaseSlot(const std::string& slot, const std::string& run_id) const;

  // Counts `n` more runs on `date` ("YYYY-MM-DD") if the day stays within `max`;
  // kResourceExhausted (quota runs_per_day) otherwise. `expires_at`: epoch seconds for the TTL.
  Status AddToDay(const std::string& scope_key, const std::string& date, int n, int max,
                  std::int64_t expires_at) const;
  // Takes back `n` (compensation for runs counted but not created).
  Status SubtractFromDay(const std::string& scope_key, const std::string& date, int n) const;

  // Frees every slot whose run is terminal, or absent for longer than the grace. `load` reads a
  // run (nullopt: absent). Returns how many were freed.
  using RunLoader = std::function<Result<std::optional<Run>>(const std::string& id)>;
  Result<int> Sweep(const RunLoader& load) const;

 private:
  Result<int> CountSlots(const std::string& pk, std::vector<std::string>* taken) const;
  Result<bool> TryClaim(const std::string& pk, const std::string& sk,
                        const std::string& run_id) const;
  Result<std::int64_t> DayCount(const std::string& pk, const std::string& date) const;

  const aws::DynamoDbClient& client_;
  const std::string table_;
  const Clock& clock_;
  const Millis grace_;
};

}  // namespace outpost::dynamodb
