// Reading one HTTP/1.1 request, without sockets: how Beast's parser is configured, the checks of
// a parsed header that Beast does not make, the answer to a failed read, and the conversion to
// the transport-free Request. The server (http_server.cc) and the request fuzzer
// (fuzz/http_request_fuzzer.cc) share it, so what is fuzzed is what serves.
//
// Every answer here is an error envelope after which the server closes the connection:
//   413 PAYLOAD_TOO_LARGE          body over max_body_bytes (Content-Length or chunks)
//   414 URI_TOO_LONG               request-target over max_target_bytes
//   431 REQUEST_HEADERS_TOO_LARGE  header block, one field or the number of fields over limit
//   400 VALIDATION_ERROR           anything else Beast rejects (bad syntax, bad Content-Length,
//                                  Content-Length with Transfer-Encoding, bad chunk framing)
#pragma once

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "http/http_limits.h"
#include "http/http_types.h"

namespace outpost::http {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Sets the header block and body limits of a fresh parser.
void ConfigureParser(RequestParser& parser, const RequestLimits& limits);

// After the header block was read: a 414 or 431 answer when it breaks a limit Beast does not
// check (target length, field count, one field's size), else nullopt.
std::optional<Response> CheckHeader(const RequestParser& parser, const RequestLimits& limits,
                                    const Clock& clock);

// The answer to a read that failed with `ec`. `unparsed` is what the parser left in the read
// buffer: a request line too long to parse at all is told apart (414) from a long header (431).
Response ReadErrorResponse(const boost::system::error_code& ec, const RequestParser& parser,
                           std::string_view unparsed, const RequestLimits& limits,
                           const Clock& clock);

// Moves a complete message out of `parser` into a Request, its id chosen from X-Request-ID.
Request ToRequest(RequestParser& parser, std::string client_address, const Clock& clock);

}  // namespace outpost::http
