#include "store/event_chunk_store.h"

namespace outpost {

Status MemoryEventChunkStore::Put(std::string_view key, std::string_view bytes) {
  std::lock_guard lock(mu_);
  objects_.insert_or_assign(std::string(key), std::string(bytes));
  return Status::Ok();
}

Result<std::string> MemoryEventChunkStore::Get(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFound("no event chunk '" + std::string(key) + "'");
  return it->second;
}

Status MemoryEventChunkStore::DeleteUnder(std::string_view prefix) {
  std::lock_guard lock(mu_);
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && std::string_view(it->first).starts_with(prefix);) {
    it = objects_.erase(it);
  }
  return Status::Ok();
}

std::map<std::string, std::string> MemoryEventChunkStore::Objects() const {
  std::lock_guard lock(mu_);
  return {objects_.begin(), objects_.end()};
}

}  // namespace outpost
