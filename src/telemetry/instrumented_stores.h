// Thin decorators that count the failures of a RunStore and an ArtifactStore by operation and
// code (ServerMetrics::StoreError) and otherwise forward every call unchanged. The wrapped
// store must outlive the decorator.
#pragma once

#include "artifacts/artifact_store.h"
#include "store/run_store.h"
#include "telemetry/server_metrics.h"

namespace outpost::telemetry {

class InstrumentedRunStore final : public RunStore {
 public:
  InstrumentedRunStore(RunStore& inner, ServerMetrics& metrics) : inner_(inner), m_(metrics) {}

  Result<CreateResult> Create(const Run& run) override {
    return Count("create", inner_.Create(run));
  }
  Result<std::vector<CreateResult>> CreateAll(const std::vector<Run>& runs,
                                              const Admission& admission) override {
    return Count("create_all", inner_.CreateAll(runs, admission));
  }
  Result<int> ReleaseStaleQuota() override {
    return Count("release_stale_quota", inner_.ReleaseStaleQuota());
  }
  Result<Run> Get(const RunId& id) override { return Count("get", inner_.Get(id)); }
  Result<RunPage> List(const ListQuery& q) override { return Count("list", inner_.List(q)); }
  Result<Run> Update(const Run& run) override { return Count("update", inner_.Update(run)); }
  Result<std::vector<Run>> ListActive() override {
    return Count("list_active", inner_.ListActive());
  }
  Result<std::optional<std::int64_t>> ChangeMarker() override {
    return Count("change_marker", inner_.ChangeMarker());
  }
  Result<RunStats> Stats(WallTime since, const std::optional<std::string>& tenant) override {
    return Count("stats", inner_.Stats(since, tenant));
  }
  Result<double> CostSince(WallTime since, const std::string& tenant) override {
    return Count("cost_since", inner_.CostSince(since, tenant));
  }
  Status Ping() override { return Count("ping", inner_.Ping()); }
  Status Heartbeat(const ReplicaInfo& info) override {
    return Count("heartbeat", inner_.Heartbeat(info));
  }
  Result<std::vector<ReplicaInfo>> ListReplicas() override {
    return Count("list_replicas", inner_.ListReplicas());
  }

 private:
  template <typename R>
  R Count(std::string_view op, R r) {
    if (!r.ok()) m_.StoreError("run", op, StatusOf(r).code());
    return r;
  }
  static const Status& StatusOf(const Status& s) { return s; }
  template <typename T>
  static Status StatusOf(const Result<T>& r) {
    return r.status();
  }

  RunStore& inner_;
  ServerMetrics& m_;
};

class InstrumentedArtifactStore final : public artifacts::ArtifactStore {
 public:
  InstrumentedArtifactStore(artifacts::ArtifactStore& inner, ServerMetrics& metrics)
      : inner_(inner), m_(metrics) {}

  std::string Describe() const override { return inner_.Describe(); }
  Status Put(std::string_view key, std::string_view content,
             std::string_view content_type) override {
    return Count("put", inner_.Put(key, content, content_type));
  }
  Status PutFile(std::string_view key, const std::string& path,
                 std::string_view content_type) override {
    return Count("put_file", inner_.PutFile(key, path, content_type));
  }
  Status PutSource(std::string_view key, ByteSource& source,
                   std::string_view content_type) override {
    return Count("put_source", inner_.PutSource(key, source, content_type));
  }
  Result<std::string> Get(std::string_view key) override { return Count("get", inner_.Get(key)); }
  Result<artifacts::ObjectInfo> Head(std::string_view key) override {
    return Count("head", inner_.Head(key));
  }
  Result<std::vector<artifacts::ObjectInfo>> List(std::string_view prefix) override {
    return Count("list", inner_.List(prefix));
  }
  Status Delete(std::string_view key) override { return Count("delete", inner_.Delete(key)); }
  Result<std::string> PresignGet(std::string_view key, std::chrono::seconds expires,
                                 WallTime now) override {
    return Count("presign", inner_.PresignGet(key, expires, now));
  }

 private:
  template <typename R>
  R Count(std::string_view op, R r) {
    if (!r.ok()) m_.StoreError("artifact", op, StatusOf(r).code());
    return r;
  }
  static const Status& StatusOf(const Status& s) { return s; }
  template <typename T>
  static Status StatusOf(const Result<T>& r) {
    return r.status();
  }

  artifacts::ArtifactStore& inner_;
  ServerMetrics& m_;
};

}  // namespace outpost::telemetry
