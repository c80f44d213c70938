#include "auth/key_verifier.h"

#include "auth/api_key.h"
#include "common/log.h"

namespace outpost::auth {

std::string_view ToString(KeyCheck check) {
  switch (check) {
    case KeyCheck::kOk:
      return "ok";
    case KeyCheck::kMalformed:
      return "malformed key";
    case KeyCheck::kUnknown:
      return "unknown key";
    case KeyCheck::kRevoked:
      return "revoked key";
    case KeyCheck::kExpired:
      return "expired key";
    case KeyCheck::kTenantSuspended:
      return "tenant suspended";
    case KeyCheck::kTenantUnknown:
      return "tenant does not exist";
  }
  return "unknown key";
}

KeyVerifier::KeyVerifier(AuthStore& store, const Clock& clock, KeyVerifierOptions options)
    : store_(store),
      clock_(clock),
      options_(options),
      flusher_(
          "key-usage-flush", clock, options.flush_interval, [this] { (void)Flush(); },
          PeriodicTask::Options{.run_at_start = false}) {}

KeyVerifier::~KeyVerifier() { Stop(); }

Result<KeyVerdict> KeyVerifier::Verify(std::string_view presented) {
  if (!IsWellFormedApiKey(presented)) return KeyVerdict{KeyCheck::kMalformed, "", "", {}};
  const std::string hash = Sha256Hex(presented);
  const MonoTime now = clock_.Mono();
  std::optional<Entry> entry;
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(hash); it != cache_.end()) {
      const Millis ttl = it->second.key ? options_.cache_ttl : options_.negative_ttl;
      if (now - it->second.fetched < ttl) entry = it->second;
    }
  }
  if (!entry) {
    // Outside the lock: a slow store must not stall requests with cached keys.
    auto fetched = Fetch(hash);
    if (!fetched.ok()) return fetched.status();
    entry = std::move(*fetched);
    std::lock_guard lock(mu_);
    if (entry->key) keys_exist_ = true;
    CacheLocked(hash, *entry);
  }
  KeyVerdict verdict = Judge(*entry, hash);
  if (verdict.check == KeyCheck::kOk) {
    std::lock_guard lock(mu_);
    Usage& u = pending_[verdict.key_id];
    ++u.uses;
    u.last = std::max(u.last, clock_.Now());
  }
  return verdict;
}

Result<KeyVerifier::Entry> KeyVerifier::Fetch(const std::string& hash) {
  Entry e;
  e.fetched = clock_.Mono();
  auto key = store_.FindKeyByHash(hash);
  if (!key.ok()) return key.status();
  e.key = std::move(*key);
  if (e.key) {
    auto tenant = store_.GetTenant(e.key->tenant);
    if (tenant.ok()) {
      e.tenant_status = tenant->status;
    } else if (tenant.status().code() != Code::kNotFound) {
      return tenant.status();
    }
  }
  return e;
}

KeyVerdict KeyVerifier::Judge(const Entry& e, const std::string& hash) const {
  // The lookup was by hash; the comparison that decides is constant-time all the same.
  if (!e.key || !DigestsEqual(e.key->hash, hash)) return {KeyCheck::kUnknown, "", "", {}};
  KeyVerdict v{KeyCheck::kOk, e.key->key_id, e.key->tenant, {}};
  if (e.key->status == KeyStatus::kRevoked) {
    v.check = KeyCheck::kRevoked;
  } else if (e.key->expires_at && clock_.Now() >= *e.key->expires_at) {
    v.check = KeyCheck::kExpired;
  } else if (!e.tenant_status) {
    v.check = KeyCheck::kTenantUnknown;
  } else if (*e.tenant_status != TenantStatus::kActive) {
    v.check = KeyCheck::kTenantSuspended;
  } else {
    v.scopes = e.key->scopes;
  }
  return v;
}

void KeyVerifier::CacheLocked(const std::string& hash, Entry entry) {
  if (cache_.size() >= options_.max_cached) {
    const MonoTime now = clock_.Mono();
    std::erase_if(cache_, [&](const auto& kv) {
      const Millis ttl = kv.second.key ? options_.cache_ttl : options_.negative_ttl;
      return now - kv.second.fetched >= ttl;
    });
    // Still full of fresh entries (a flood of distinct garbage keys): forget the misses.
    if (cache_.size() >= options_.max_cached) {
      std::erase_if(cache_, [](const auto& kv) { return !kv.second.key; });
    }
  }
  cache_.insert_or_assign(hash, std::move(entry));
}

Result<bool> KeyVerifier::KeysExist() {
  const MonoTime now = clock_.Mono();
  {
    std::lock_guard lock(mu_);
    if (keys_exist_) return true;
    if (keys_checked_ && now - *keys_checked_ < options_.open_recheck) return false;
  }
  auto any = store_.AnyKeys();
  if (!any.ok()) return any.status();
  std::lock_guard lock(mu_);
  keys_checked_ = now;
  keys_exist_ = keys_exist_ || *any;
  return keys_exist_;
}

Status KeyVerifier::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  std::map<std::string, Usage> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(pending_);
  }
  Status first;
  for (const auto& [key_id, usage] : batch) {
    Status st = store_.RecordUsage(key_id, usage.last, usage.uses);
    if (st.ok() || st.code() == Code::kNotFound) continue;
    if (first.ok()) first = st;
    std::lock_guard lock(mu_);  // keep it for the next flush
    Usage& u = pending_[key_id];
    u.uses += usage.uses;
    u.last = std::max(u.last, usage.last);
  }
  if (!first.ok()) spdlog::warn("auth: recording API key usage: {}", first.ToString());
  return first;
}

void KeyVerifier::Start() {
  std::lock_guard lock(thread_mu_);
  if (!stopping_) flusher_.Start();
}

void KeyVerifier::Stop() {
  {
    std::lock_guard lock(thread_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  flusher_.Stop();
  (void)Flush();
}

}  // namespace outpost::auth
