// The run channel's routes (ARCHITECTURE.md §8; README "Run channel"): what a run's supervisor
// that runs far from the control plane reports to any replica, authenticated by its run's token
// (Authorization: Bearer <token>, or X-Outpost-Run-Token), never by an API key:
//   POST /internal/v1/runs/{id}/events   {"events":[…]}  -> 200 {lastSeq, stored}
//   POST /internal/v1/runs/{id}/exit     the exit record  -> 200 {stored}
//   GET  /internal/v1/runs/{id}/control                   -> 200 {status, cancelRequested,
//                                                                 cancelReason?, deadlineAt}
//   GET  /internal/v1/runs/{id}/spec                      -> 200 the run's RunSpec (runner.h
//        RunSpecToJson, secrets included; Cache-Control: no-store), for a RUNNING run only
//   POST /internal/v1/runs/{id}/bootstrap   with the one-use bootstrap token (header) -> 200
//        {token}: the run's channel token (Cache-Control: no-store); a second use is 401
//   PUT  /internal/v1/runs/{id}/outputs/{name}   raw bytes -> 200 {stored} (name: stdout,
//        stderr, context, diff, bundle; stored as the run's artifact, core/run_channel.h)
// Each parses, calls core::RunChannel and formats; the rules are core/run_channel.h's.
#pragma once

#include "common/clock.h"
#include "core/run_channel.h"
#include "http/router.h"

namespace outpost::api {

// `channel` and `clock` must outlive the router.
void RegisterChannelRoutes(http::Router& router, RunChannel& channel, Clock& clock);

}  // namespace outpost::api
