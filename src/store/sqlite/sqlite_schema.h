// Versioned schema of the SQLite run store. PRAGMA user_version records how many migration steps
// a database file has had; Migrate applies the missing ones in order, in one IMMEDIATE
// transaction, so two processes opening the same new file cannot both apply a step.
#pragma once

#include "common/status.h"
#include "store/sqlite/sqlite_db.h"

namespace outpost::sqlite {

// The schema version this binary writes (the number of migration steps).
int LatestSchemaVersion();

// The database's PRAGMA user_version.
Result<int> SchemaVersion(Db& db);

// Brings the schema up to LatestSchemaVersion(). Idempotent. kFailedPrecondition when the file
// was written by a newer binary (downgrades are not supported); kUnavailable when busy.
Status Migrate(Db& db);

}  // namespace outpost::sqlite
