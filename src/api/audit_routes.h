// GET /audit?limit=&cursor=&since=&action=&resource=: the caller's tenant's audit records, newest
// first (core/auditor.h), in the list envelope:
//   data {items: [record…], nextCursor, hasMore}, meta.pagination {cursor, hasMore, limit}.
// The admin scope is required (enforced by authentication, a router middleware).
#pragma once

#include "common/clock.h"
#include "http/router.h"

namespace outpost {
class Auditor;
}

namespace outpost::api {

// `auditor` and `clock` must outlive the router.
void RegisterAuditRoutes(http::Router& router, Auditor& auditor, const Clock& clock);

}  // namespace outpost::api
