#include "api/audit_routes.h"

#include <boost/json.hpp>

#include "api/request_context.h"
#include "core/auditor.h"
#include "http/envelope.h"

namespace outpost::api {
using http::Error;
using http::Meta;
using http::Pagination;
using http::PathParams;
using http::Request;
using http::Router;
using http::SuccessPage;

namespace json = boost::json;

void RegisterAuditRoutes(Router& router, Auditor& auditor, const Clock& clock) {
  router.Add("GET", "/audit", [&auditor, &clock](const Request& req, const PathParams&) {
    const Meta meta{req.request_id, clock.Now()};
    Result<AuditPage> page = auditor.List(req.query, ContextOf(req));
    if (!page.ok()) return Error(page.status(), meta);
    json::array items;
    for (const AuditRecord& r : page->records) items.push_back(AuditRecordToJson(r));
    const bool more = page->next_cursor.has_value();
    json::value cursor = nullptr;
    if (page->next_cursor) cursor = *page->next_cursor;
    Pagination pagination{page->next_cursor, more, 50};
    if (auto limit = req.Query("limit")) pagination.limit = std::stoi(*limit);  // List checked it
    json::object data{{"items", std::move(items)}, {"nextCursor", cursor}, {"hasMore", more}};
    return SuccessPage(std::move(data), pagination, meta);
  });
}

}  // namespace outpost::api
