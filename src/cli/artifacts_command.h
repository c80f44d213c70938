// `outpost artifacts ID [--download DIR] [--expires-in N] [--json]`: a run's stored artifacts
// (GET /runs/{id}/artifacts?expiresIn=N).
//
// Without --download: a table NAME TYPE SIZE SHA256 EXPIRES, then one "name: url" line per
// artifact, then "artifacts status: …" when the server has not stored them all and one
// "missing: NAME" line per artifact it could not store; exit 0. --json prints the data object.
//
// With --download DIR: DIR is created if needed and every artifact is fetched into DIR/<name>
// and verified against its sizeBytes and sha256 (cli/artifact_download.h), one line per file
// "name  size  ok|SHA256 MISMATCH|…"; --json prints {runId, dir, files[{name, sizeBytes, result,
// detail?}]} instead. Exit 1 when any artifact failed (it is then not in DIR under its name; the
// message names each one) or when the artifacts are not stored yet (artifactsStatus "running" or
// "pending": retry once the run has finished). Artifacts the server lists as missing are
// reported on stderr but do not change the exit code: nothing the client can fetch is absent.
//
// Otherwise the exit codes of every client command: 4 the API refused (unknown run, an
// --expires-in outside 60..86400), 5 unreachable or 5xx, 64 usage.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "cli/client_commands.h"

namespace outpost::cli {

void AddArtifactsCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io);

// The listing without --download (see above), from the API's data object.
std::string FormatArtifactList(const boost::json::object& data);

}  // namespace outpost::cli
