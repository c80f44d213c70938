// KeyVerifier: turns a presented API key into a verdict, fast enough for every request.
//
// A presented key is checked for its format first (no store read for garbage), hashed
// (SHA-256, auth/api_key.h), and looked up by hash — in memory when the answer is younger than
// `cache_ttl`, else in the AuthStore (the key, then its tenant). The stored hash is compared
// with the presented key's in constant time. Misses are cached as well, for `negative_ttl`, so
// one garbage key repeated cannot make a store read per request.
//
// Bounded staleness (also across replicas sharing a store, since each reads the store itself):
//  - a revoked key, or one of a suspended tenant, keeps working for at most `cache_ttl` (5 s);
//  - a new key may be refused for at most `negative_ttl` (5 s) if that exact key was presented
//    just before it was created;
//  - expiry is exact: it is checked against the clock on every use.
//  - KeysExist (open mode): while no keys exist the store is asked again at most every
//    `open_recheck` (1 s); once one exists the answer is kept (keys are revoked, never deleted).
//
// Usage (last-used time, use count) is counted in memory and written at most once per
// `flush_interval` per key (5 s) by a background thread, and once more by Stop(): a store write
// per request would cost as much as the request at 20k req/s. The stored figures therefore lag
// by up to `flush_interval`, and uses counted since the last flush are lost on a crash (kill -9).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/periodic_task.h"
#include "common/status.h"
#include "store/auth_store.h"

namespace outpost::auth {

struct KeyVerifierOptions {
  Millis cache_ttl{5000};
  Millis negative_ttl{5000};
  Millis open_recheck{1000};
  Millis flush_interval{5000};
  // Entries kept; beyond, the expired ones and then every cached miss are dropped.
  std::size_t max_cached = 20000;
};

enum class KeyCheck {
  kOk,
  kMalformed,  // not "otp_" + 64 hex
  kUnknown,    // no such key
  kRevoked,
  kExpired,
  kTenantSuspended,
  kTenantUnknown,  // the key's tenant record is missing
};
std::string_view ToString(KeyCheck check);

struct KeyVerdict {
  KeyCheck check = KeyCheck::kUnknown;
  // Set when check is kOk (key_id also for the refusals that found the key, for the log).
  std::string key_id;
  std::string tenant;
  std::vector<std::string> scopes;
};

class KeyVerifier {
 public:
  // `store` and `clock` must outlive the verifier.
  KeyVerifier(AuthStore& store, const Clock& clock, KeyVerifierOptions options = {});
  ~KeyVerifier();  // Stop()s
  KeyVerifier(const KeyVerifier&) = delete;
  KeyVerifier& operator=(const KeyVerifier&) = delete;

  // The verdict on `presented`; counts a use of a key found kOk. kUnavailable (or the store's
  // own error) when the store could not be read: nothing is cached then.
  Result<KeyVerdict> Verify(std::string_view presented);

  // Whether any key exists (see above). The store's error when it cannot tell.
  Result<bool> KeysExist();

  // Starts the thread that flushes usage every flush_interval. Idempotent.
  void Start();
  // Stops that thread and flushes what is pending. Idempotent.
  void Stop();
  // Writes the pending usage now (one RecordUsage per key used since the last flush). A write
  // that fails is kept for the next flush (a key that no longer exists is dropped); the first
  // error is returned.
  Status Flush();

 private:
  struct Entry {
    std::optional<ApiKeyRecord> key;            // nullopt: no such key
    std::optional<TenantStatus> tenant_status;  // nullopt: the tenant record is missing
    MonoTime fetched;
  };
  struct Usage {
    std::int64_t uses = 0;
    WallTime last;
  };

  Result<Entry> Fetch(const std::string& hash);
  KeyVerdict Judge(const Entry& entry, const std::string& hash) const;
  void CacheLocked(const std::string& hash, Entry entry);

  AuthStore& store_;
  const Clock& clock_;
  const KeyVerifierOptions options_;

  std::mutex mu_;
  std::unordered_map<std::string, Entry> cache_;  // guarded by mu_; by key hash
  std::map<std::string, Usage> pending_;          // guarded by mu_; by key id
  bool keys_exist_ = false;                       // guarded by mu_; sticky once true
  std::optional<MonoTime> keys_checked_;          // guarded by mu_

  std::mutex flush_mu_;  // one flush at a time
  std::mutex thread_mu_;
  bool stopping_ = false;  // guarded by thread_mu_: once stopped, never started again
  PeriodicTask flusher_;   // last: stopped before the members it uses go
};

}  // namespace outpost::auth
