#include "api/file_routes.h"

#include <ctime>

#include "artifacts/local/local_artifact_store.h"
#include "http/byte_range.h"
#include "http/envelope.h"

namespace outpost::api {
using http::Access;
using http::Error;
using http::ErrorWithCode;
using http::Meta;
using http::PathParams;
using http::RangeDecision;
using http::Request;
using http::ResolveRange;
using http::Response;
using http::Router;

namespace {

constexpr std::string_view kRangeNotSatisfiable = "RANGE_NOT_SATISFIABLE";

// IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string HttpDate(WallTime t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

class FileRoute {
 public:
  FileRoute(const artifacts::LocalArtifactStore& store, const Clock& clock,
            FileRouteOptions options)
      : store_(store), clock_(clock), options_(options) {}

  Response operator()(const Request& req, const PathParams& params) const {
    const Meta meta{req.request_id, clock_.Now()};
    if (Status st = store_.signer().Verify(req.method, req.path, req.query, clock_.Now());
        !st.ok()) {
      return Error(st, meta);
    }
    Result<artifacts::LocalObject> object = store_.OpenObject(params.at("key"));
    if (!object.ok()) return Error(object.status(), meta);
    const artifacts::ObjectInfo& info = object->info();
    const std::string etag = "\"" + info.sha256 + "\"";
    std::optional<std::string> range = req.headers.Get("Range");
    if (auto if_range = req.headers.Get("If-Range"); if_range && *if_range != etag) {
      range.reset();  // the client's copy is another version: send the whole new one
    }
    RangeDecision d = ResolveRange(range, info.size_bytes);
    Response r;
    if (d.kind == RangeDecision::Kind::kUnsatisfiable) {
      r = ErrorWithCode(
          416, kRangeNotSatisfiable,
          "Range not satisfiable for an object of " + std::to_string(info.size_bytes) + " bytes",
          meta, {{"sizeBytes", info.size_bytes}});
      r.headers.Set("Content-Range", "bytes */" + std::to_string(info.size_bytes));
    } else {
      if (d.kind == RangeDecision::Kind::kFull) d.length = info.size_bytes;
      r = Body(*object, d, meta);
    }
    r.headers.Set("Accept-Ranges", "bytes");
    return r;
  }

 private:
  Response Body(const artifacts::LocalObject& object, const RangeDecision& d,
                const Meta& meta) const {
    const artifacts::ObjectInfo& info = object.info();
    if (d.length > options_.max_body_bytes) {
      return ErrorWithCode(413, "PAYLOAD_TOO_LARGE",
                           "the object is too large to send whole; ask for Range requests of "
                           "at most " +
                               std::to_string(options_.max_body_bytes) + " bytes",
                           meta, {{"maxRangeBytes", options_.max_body_bytes}});
    }
    Result<std::string> bytes = object.Read(d.first, d.length);
    if (!bytes.ok()) return Error(bytes.status(), meta);
    Response r;
    r.status = d.kind == RangeDecision::Kind::kPartial ? 206 : 200;
    r.content_type = info.content_type;
    r.body = std::move(*bytes);
    if (r.status == 206) {
      r.headers.Set("Content-Range", "bytes " + std::to_string(d.first) + "-" +
                                         std::to_string(d.first + d.length - 1) + "/" +
                                         std::to_string(info.size_bytes));
    }
    r.headers.Set("ETag", "\"" + info.sha256 + "\"");
    r.headers.Set("Last-Modified", HttpDate(info.modified));
    r.headers.Set("Cache-Control", "private");
    r.headers.Set("X-Content-Type-Options", "nosniff");
    r.headers.Set("Content-Security-Policy", "sandbox; default-src 'none'");
    return r;
  }

  const artifacts::LocalArtifactStore& store_;
  const Clock& clock_;
  const FileRouteOptions options_;
};

}  // namespace

void RegisterFileRoutes(Router& router, const artifacts::LocalArtifactStore& store,
                        const Clock& clock, FileRouteOptions options) {
  // No key: the signature is the capability (url_signer.h).
  router.Add("GET", "/files/{key...}", Access::Public(), FileRoute(store, clock, options));
}

}  // namespace outpost::api
