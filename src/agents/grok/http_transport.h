// The grok agent's HTTP transport now lives in net/http_transport.h (shared with the AWS layer);
// these aliases keep the agent's code unchanged.
#pragma once

#include "agents/grok/url.h"
#include "net/http_transport.h"

namespace outpost::agents::grok {

using net::HttpRequest;
using net::HttpResponse;
using net::HttpSender;
using net::SendHttp;
using net::TransportOptions;

}  // namespace outpost::agents::grok
