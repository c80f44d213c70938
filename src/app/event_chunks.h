// The artifact store as the event log's chunk store (store/event_chunk_store.h): the DynamoDB
// event log keeps its large items as objects under events/<run>/ of the configured artifact
// store (local files or S3), which the store component itself may not reach.
#pragma once

#include <memory>

#include "artifacts/artifact_store.h"
#include "store/event_chunk_store.h"

namespace outpost::app {

// Put: ArtifactStore::Put as text/plain (the item's "<type>\t<json>" lines). Get:
// ArtifactStore::Get. DeleteUnder: List(prefix), then Delete of each. `artifacts` must outlive
// the result.
std::shared_ptr<EventChunkStore> ArtifactEventChunks(artifacts::ArtifactStore& artifacts);

}  // namespace outpost::app
