// GET/HEAD /files/{key...}: serves the local artifact backend's signed URLs
// (artifacts/local/url_signer.h) from its files (artifacts/local/local_artifact_store.h).
//
// A request is checked before anything is read: a missing, malformed, altered, re-targeted or
// expired signature is 403 AUTHORIZATION_ERROR with details.reason. "." and ".." segments and
// encoded slashes never get here (ParseTarget answers 400), and the key is validated again
// before it touches the filesystem. Then the object is served with its stored Content-Type,
// Content-Length, ETag (its sha256), Last-Modified and Accept-Ranges; a single Range gives 206
// with Content-Range, an unsatisfiable one 416 with "Content-Range: bytes */size", and
// If-Range with another ETag gives the whole object. Only the bytes asked for are read.
//
// The api Response holds its body in memory, so an answer of more than `max_body_bytes` is
// refused (413 with a hint to use Range); a streaming body would lift that limit. Artifacts are
// untrusted content served from the API's origin: they carry `X-Content-Type-Options: nosniff`
// and a sandboxing Content-Security-Policy so that an HTML artifact cannot run script there.
#pragma once

#include <cstdint>

#include "common/clock.h"
#include "http/router.h"

namespace outpost::artifacts {
class LocalArtifactStore;
}

namespace outpost::api {

struct FileRouteOptions {
  std::int64_t max_body_bytes = std::int64_t{512} << 20;
};

// Registers GET (and so HEAD) /files/{key...}. `store` and `clock` (which decides expiry) must
// outlive the router.
void RegisterFileRoutes(http::Router& router, const artifacts::LocalArtifactStore& store,
                        const Clock& clock, FileRouteOptions options = {});

}  // namespace outpost::api
