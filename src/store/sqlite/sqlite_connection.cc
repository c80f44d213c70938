#include "store/sqlite/sqlite_connection.h"

#include "store/sqlite/sqlite_schema.h"

namespace outpost::sqlite {

Result<std::shared_ptr<Connection>> OpenConnection(const std::string& path,
                                                   const ConnectionOptions& options) {
  auto db = Db::Open(path, options.busy_timeout);
  if (!db.ok()) return db.status();
  OUTPOST_RETURN_IF_ERROR((*db)->Exec("PRAGMA journal_mode = WAL", "enable WAL"));
  OUTPOST_RETURN_IF_ERROR((*db)->Exec(
      options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
      "set synchronous"));
  OUTPOST_RETURN_IF_ERROR(Migrate(**db));
  auto conn = std::make_shared<Connection>();
  conn->db = std::move(*db);
  return conn;
}

}  // namespace outpost::sqlite
