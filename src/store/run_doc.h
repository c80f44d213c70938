// The stores' private document format of a run and of a replica record: what store/sqlite keeps
// in the `doc` column and store/dynamodb in the `doc` attribute. Private to store/ — the public
// JSON of a run is wire/run_json.h, and the two may evolve apart.
//
// The field names are those databases written before the split (when one codec served both the
// API and the stores): keep them, or old records stop reading. store/run_doc_test.cc holds such
// a record as a literal and checks both directions.
#pragma once

#include <boost/json/object.hpp>

#include "common/status.h"
#include "model/run.h"
#include "store/run_store.h"

namespace outpost {

// Every field of the run, the store-only ones (tenant, request hash, owner, key id, quota slot,
// version, the stored artifacts) included.
boost::json::object RunToDoc(const Run& run);
// Reads what RunToDoc wrote (and older records missing later fields: their defaults).
// kInternal when the id, status or createdAt is missing or unreadable.
Result<Run> RunFromDoc(const boost::json::object& doc);

boost::json::object ReplicaToDoc(const ReplicaInfo& replica);
Result<ReplicaInfo> ReplicaFromDoc(const boost::json::object& doc);

}  // namespace outpost
