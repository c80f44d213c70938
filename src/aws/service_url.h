// The query of an AWS service URL as the operator writes it (s3://bucket/prefix?region=…,
// dynamodb://prefix?endpoint=…): a small, strict parser shared by every such URL.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outpost::aws {

// Percent-decoded name -> value of "a=1&b=2". kInvalidArgument (the message names the
// parameter) for a name not in `known`, a repeated name or an empty value; empty pairs ("&&")
// are skipped.
Result<std::map<std::string, std::string>> ParseServiceUrlQuery(
    std::string_view query, std::initializer_list<std::string_view> known);

}  // namespace outpost::aws
