#include "http/http_parse.h"

#include <boost/beast/http/error.hpp>

#include "http/envelope.h"

namespace outpost::http {
namespace {

namespace http = boost::beast::http;

// The request id of an error answer: the client's X-Request-ID when the fields got that far.
Meta MetaOf(const RequestParser& parser, const Clock& clock) {
  std::optional<std::string> client_id;
  const auto& fields = parser.get();
  if (auto it = fields.find("X-Request-ID"); it != fields.end()) {
    client_id = std::string(it->value());
  }
  return Meta{ChooseRequestId(client_id, clock.Now()), clock.Now()};
}

Response WithId(Response r, const Meta& meta) {
  r.headers.Set("X-Request-ID", meta.request_id);
  return r;
}

Response TargetTooLong(const RequestLimits& limits, const Meta& meta) {
  return WithId(
      ErrorWithCode(414, kUriTooLong,
                    "Request target exceeds " + std::to_string(limits.max_target_bytes) + " bytes",
                    meta, {{"maxTargetBytes", limits.max_target_bytes}}),
      meta);
}

Response HeadersTooLarge(std::string message, const Meta& meta) {
  return WithId(ErrorWithCode(431, kHeadersTooLarge, message, meta), meta);
}

// The request-target's length as far as `unparsed` shows it: from after the method to the
// version (or to the end of what arrived, when the line is not complete).
std::size_t TargetLengthIn(std::string_view unparsed) {
  std::string_view line = unparsed.substr(0, unparsed.find('\n'));
  const std::size_t start = line.find(' ');
  if (start == std::string_view::npos) return 0;
  std::size_t end = line.size();
  if (unparsed.find('\n') != std::string_view::npos) {
    const std::size_t last = line.rfind(' ');
    if (last > start) end = last;
  }
  return end - start - 1;
}

}  // namespace

void ConfigureParser(RequestParser& parser, const RequestLimits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
}

std::optional<Response> CheckHeader(const RequestParser& parser, const RequestLimits& limits,
                                    const Clock& clock) {
  const auto& msg = parser.get();
  if (msg.target().size() > limits.max_target_bytes) {
    return TargetTooLong(limits, MetaOf(parser, clock));
  }
  std::size_t count = 0;
  for (const auto& field : msg) {
    if (++count > limits.max_header_fields) {
      return HeadersTooLarge(
          "Request has more than " + std::to_string(limits.max_header_fields) + " header fields",
          MetaOf(parser, clock));
    }
    // "Name: value" as sent, give or take the optional whitespace Beast trimmed.
    if (field.name_string().size() + 2 + field.value().size() > limits.max_header_line_bytes) {
      // The name only: the value may be a credential.
      return HeadersTooLarge("Request header field '" +
                                 std::string(field.name_string().substr(0, 64)) + "' exceeds " +
                                 std::to_string(limits.max_header_line_bytes) + " bytes",
                             MetaOf(parser, clock));
    }
  }
  return std::nullopt;
}

Response ReadErrorResponse(const boost::system::error_code& ec, const RequestParser& parser,
                           std::string_view unparsed, const RequestLimits& limits,
                           const Clock& clock) {
  // The fields parsed before the error are in the message (all of them for a Content-Length
  // over the limit, which is detected when the header block ends).
  const Meta meta = MetaOf(parser, clock);
  if (ec == http::error::body_limit) {
    return WithId(
        Error(Status(Code::kPayloadTooLarge,
                     "Request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes"),
              meta),
        meta);
  }
  if (ec == http::error::header_limit) {
    // Once Beast has parsed the request line (the whole header block had arrived), `unparsed`
    // begins with the fields: their first line is no request-target, and a long one must not
    // turn a header section over the limit into a 414.
    const std::size_t target = parser.get().method_string().empty() ? TargetLengthIn(unparsed)
                                                                    : parser.get().target().size();
    if (target > limits.max_target_bytes) return TargetTooLong(limits, meta);
    return HeadersTooLarge(
        "Request header block exceeds " + std::to_string(limits.max_header_bytes) + " bytes", meta);
  }
  return WithId(Error(InvalidArgument("Malformed HTTP request: " + ec.message()), meta), meta);
}

Request ToRequest(RequestParser& parser, std::string client_address, const Clock& clock) {
  http::request<http::string_body> raw = parser.release();
  Request req;
  req.method = std::string(raw.method_string());
  req.target = std::string(raw.target());
  for (const auto& field : raw) {
    req.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  req.body = std::move(raw.body());
  req.client_address = std::move(client_address);
  req.request_id = ChooseRequestId(req.headers.Get("X-Request-ID"), clock.Now());
  return req;
}

}  // namespace outpost::http
