// How RunStore::List runs on DynamoDB: which index to query, the key condition (partition, and
// the id range from the cursor and `since`), and the filters applied to each run read.
#pragma once

#include <optional>
#include <string>

#include "aws/dynamodb_client.h"
#include "common/status.h"
#include "store/run_store.h"

namespace outpost::dynamodb {

struct ListPlan {
  aws::QueryRequest query;            // descending, without table name, Limit or start key
  std::optional<std::string> after;   // the cursor's id: skipped (BETWEEN includes it)
  bool empty = false;                 // the id range is empty: nothing can match
  bool filters_beyond_index = false;  // some filter is not implied by the key condition
};

// kInvalidArgument for a malformed cursor or a limit below 1.
Result<ListPlan> PlanList(const ListQuery& q);

// True when `run` passes every filter of `q` (the cursor excepted).
bool Matches(const Run& run, const ListQuery& q);

}  // namespace outpost::dynamodb
