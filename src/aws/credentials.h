// The standard AWS credentials and region chain, as the AWS CLI and SDKs resolve it:
//
//  1. Environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN).
//  2. The profile AWS_PROFILE (default "default") from the shared credentials file
//     (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials, sections "[name]"), then from the
//     config file (AWS_CONFIG_FILE, default ~/.aws/config, sections "[profile name]" and
//     "[default]").
//
// Region: AWS_REGION, then AWS_DEFAULT_REGION, then `region` of the profile in the config file.
// Not supported (and named in the error): SSO, credential_process, web identity, instance
// metadata. The environment is passed in so tests need not touch the process's.
#pragma once

#include <map>
#include <string>

#include "aws/sigv4.h"
#include "common/status.h"
#include "net/url.h"

namespace outpost::aws {

using EnvMap = net::EnvMap;  // name -> value; HOME locates ~/.aws

// kFailedPrecondition naming what is missing (which variable, which profile, which file), or
// kInvalidArgument for a malformed file.
Result<Credentials> ResolveCredentials(const EnvMap& env);

// kFailedPrecondition when no region is configured anywhere.
Result<std::string> ResolveRegion(const EnvMap& env);

// An INI file as the AWS CLI writes it: section -> key -> value. Keys are lowercased, values
// trimmed; '#'/';' comment lines and indented sub-settings (e.g. "s3 =\n  addressing_style = x")
// are skipped.
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile ParseIni(std::string_view text);

}  // namespace outpost::aws
