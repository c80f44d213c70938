#include "app/auth_store_open.h"

#include "store/dynamodb/dynamodb_auth_store.h"
#include "store/sqlite/sqlite_auth_store.h"

extern char** environ;

namespace outpost::app {

Result<std::unique_ptr<AuthStore>> OpenAuthStore(const Options& opts) {
  const std::string url = opts.StoreUrl();
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.starts_with(kSqlite)) {
    auto store = SqliteAuthStore::Open(url.substr(kSqlite.size()));
    if (!store.ok()) return store.status();
    return std::unique_ptr<AuthStore>(std::move(*store));
  }
  if (url.starts_with("dynamodb://")) {
    aws::EnvMap env;
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    }
    dynamodb::DynamoDbAuthStoreOptions o;
    o.create_tables = opts.create_tables;
    auto store = dynamodb::DynamoDbAuthStore::Open(url, env, RealClock::Instance(), o);
    if (!store.ok()) return store.status();
    return std::unique_ptr<AuthStore>(std::move(*store));
  }
  return InvalidArgument("unsupported store URL '" + url +
                         "' (sqlite://PATH or dynamodb://TABLE_PREFIX?region=...)");
}

}  // namespace outpost::app
