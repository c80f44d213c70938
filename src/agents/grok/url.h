// The grok agent's URLs and proxy selection now live in net/url.h (shared with the AWS layer);
// these aliases keep the agent's code unchanged.
#pragma once

#include "net/url.h"

namespace outpost::agents::grok {

using net::EnvMap;
using net::JoinUrl;
using net::NoProxyMatches;
using net::ParseUrl;
using net::ProxyFor;
using net::Url;

}  // namespace outpost::agents::grok
