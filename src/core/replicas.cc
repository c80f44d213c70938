#include "core/replicas.h"

#include <unistd.h>

#include "common/log.h"

namespace outpost {

Replicas::Replicas(RunStore& store, const Clock& clock, std::string self, int lease_seconds,
                   int capacity, std::function<int()> running)
    : store_(store),
      clock_(clock),
      self_(std::move(self)),
      lease_seconds_(lease_seconds),
      capacity_(capacity),
      running_(std::move(running)),
      heartbeat_("heartbeat", clock, Millis(lease_seconds * 1000 / 3), [this] { Beat(); }) {}

Replicas::~Replicas() { StopHeartbeat(); }

void Replicas::SetAddress(std::string address) {
  std::lock_guard lock(mu_);
  address_ = std::move(address);
}

void Replicas::Beat() {
  ReplicaInfo me;
  me.id = self_;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  me.host = host;
  me.running = running_ ? running_() : 0;
  me.heartbeat_at = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (!started_) started_ = me.heartbeat_at;
    me.address = address_;
    me.started_at = *started_;
    me.draining = draining_;
    me.left = left_;
  }
  me.version = OUTPOST_VERSION;
  me.capacity = capacity_;
  if (Status st = store_.Heartbeat(me); !st.ok()) {
    spdlog::warn("replica heartbeat not written: {}", st.ToString());
  }
}

void Replicas::StartHeartbeat() { heartbeat_.Start(); }

void Replicas::StopHeartbeat() { heartbeat_.Stop(); }

void Replicas::SetDraining() {
  {
    std::lock_guard lock(mu_);
    draining_ = true;
  }
  Beat();
}

void Replicas::Leave() {
  StopHeartbeat();
  {
    std::lock_guard lock(mu_);
    left_ = true;
  }
  Beat();
}

bool Replicas::Refresh(bool force) {
  const MonoTime now = clock_.Mono();
  if (!force && now < next_refresh_) return false;
  if (force && last_read_ && now - *last_read_ < std::chrono::milliseconds(500)) return false;
  last_read_ = now;
  next_refresh_ = now + std::chrono::milliseconds(lease_seconds_ * 1000 / 3);
  auto all = store_.ListReplicas();
  if (!all.ok()) {
    spdlog::warn("replicas not listed: {}", all.status().ToString());
    return false;
  }
  others_.clear();
  std::vector<ReplicaView> views;
  const WallTime cutoff = clock_.Now() - std::chrono::seconds(lease_seconds_);
  for (ReplicaInfo& r : *all) {
    const bool self = r.id == self_;
    // A replica that left is not live, though what it still supervised keeps its lease.
    views.push_back({r, self || (r.heartbeat_at >= cutoff && !r.left), self});
    if (!self) others_[r.id] = r;
  }
  std::lock_guard lock(mu_);
  views_ = std::move(views);
  return true;
}

bool Replicas::OwnedByLiveOther(const std::string& owner) {
  if (owner.empty() || owner == self_) return false;
  auto live = [&] {
    auto it = others_.find(owner);
    // No record: it never announced itself (or its record is gone): nobody supervises it.
    return it != others_.end() &&
           it->second.heartbeat_at >= clock_.Now() - std::chrono::seconds(lease_seconds_);
  };
  if (live()) return true;
  // Judged lost on what we read earlier: read again before anything irreversible is done, and
  // without a fresh read, leave it for a later pass.
  if (!Refresh(/*force=*/true)) return true;
  return live();
}

bool Replicas::QueueHeldByLiveOther(const std::string& owner) {
  if (!OwnedByLiveOther(owner)) return false;
  auto it = others_.find(owner);
  return it != others_.end() && !it->second.draining && !it->second.left;
}

std::vector<ReplicaView> Replicas::Views() const {
  std::lock_guard lock(mu_);
  return views_;
}

}  // namespace outpost
