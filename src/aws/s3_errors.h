// Translation of S3's error answers (HTTP status + <Error><Code>) into Status codes; used by
// S3Client and tested on its own. The mapping is listed in s3_client.h.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "net/http_transport.h"

namespace outpost::aws {

// The Status for a non-2xx answer (or a 200 carrying an <Error> document). The message is
// "<what>: HTTP <status> <Code>: <Message>"; `what` names the operation and object.
Status MapS3Error(std::string_view what, const net::HttpResponse& response);

// True when `body` is an S3 <Error> document.
bool IsS3ErrorDocument(std::string_view body);

// "s3://bucket/key" ("s3://bucket" without a key), for messages.
std::string S3Uri(std::string_view bucket, std::string_view key);

}  // namespace outpost::aws
