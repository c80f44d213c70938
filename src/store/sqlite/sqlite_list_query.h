// Builds the SQL of RunStore::List for the SQLite backend, and the opaque page cursor.
//
// The cursor is base64url (no padding) of "r1:" + the id of the last run on the page; the next
// page continues with ids strictly below it (ids are ULIDs, so newest first == id DESC).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/run_store.h"
#include "store/sqlite/sqlite_db.h"

namespace outpost::sqlite {

std::string EncodeCursor(std::string_view last_id);
// The last id of the previous page; kInvalidArgument "invalid cursor" when malformed.
Result<std::string> DecodeCursor(std::string_view cursor);

struct SqlQuery {
  std::string sql;  // selects (version, doc) rows, newest first
  std::vector<Param> params;
};

// The query for one page of `q`, fetching q.limit + 1 rows so the caller can tell whether
// another page exists. kInvalidArgument for a malformed cursor or a limit below 1.
Result<SqlQuery> BuildListQuery(const ListQuery& q);

}  // namespace outpost::sqlite
