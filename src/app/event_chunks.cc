#include "app/event_chunks.h"

namespace outpost::app {
namespace {

class ArtifactChunkStore final : public EventChunkStore {
 public:
  explicit ArtifactChunkStore(artifacts::ArtifactStore& artifacts) : artifacts_(artifacts) {}

  Status Put(std::string_view key, std::string_view bytes) override {
    return artifacts_.Put(key, bytes, "text/plain");
  }
  Result<std::string> Get(std::string_view key) override { return artifacts_.Get(key); }
  Status DeleteUnder(std::string_view prefix) override {
    auto objects = artifacts_.List(prefix);
    if (!objects.ok()) return objects.status();
    for (const artifacts::ObjectInfo& o : *objects) {
      OUTPOST_RETURN_IF_ERROR(artifacts_.Delete(o.key));
    }
    return Status::Ok();
  }

 private:
  artifacts::ArtifactStore& artifacts_;
};

}  // namespace

std::shared_ptr<EventChunkStore> ArtifactEventChunks(artifacts::ArtifactStore& artifacts) {
  return std::make_shared<ArtifactChunkStore>(artifacts);
}

}  // namespace outpost::app
