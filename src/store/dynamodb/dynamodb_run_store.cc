// Why the writes look the way they do:
//  - Update puts the whole item rather than an UpdateItem of changed attributes: the item is
//    derived from the run, so a put keeps the index attributes and the doc in step and removes
//    attributes that became unset, in one conditional write.
//  - A write retried after a lost response can fail its condition against its own first
//    attempt. Create and Update recognise that case by re-reading: the stored run equal to what
//    was written means the write happened.
#include "store/dynamodb/dynamodb_run_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "aws/http.h"
#include "common/json_util.h"
#include "common/time_util.h"
#include "store/admission.h"
#include "store/dynamodb/dynamodb_items.h"
#include "store/dynamodb/dynamodb_list.h"
#include "store/run_doc.h"

namespace outpost::dynamodb {
namespace ddb = aws::ddb;
namespace {

constexpr int kMaxPageItems = 1000;

ddb::Item RunKey(const std::string& id) { return {{attr::kId, ddb::S(id)}}; }

// The runs' change marker (ChangeMarker): an item of the runs table whose id no run has (run ids
// are ULIDs) and which carries none of the indexed attributes (no index lists it).
constexpr std::string_view kChangesId = "~changes";
constexpr std::string_view kChangesSeq = "seq";
ddb::Item ClaimKey(const std::string& key) { return {{attr::kKey, ddb::S(key)}}; }

Status TerminalConflict(const Run& current) {
  const std::string status(ToString(current.status));
  return Conflict("run " + current.id.str() + " is already " + status +
                  "; a terminal status never changes")
      .WithDetail("currentStatus", status.c_str());
}

Status KeyReusedConflict(const std::string& key) {
  return Conflict("idempotency key '" + key + "' was already used with a different request")
      .WithDetail("idempotencyKey", key.c_str());
}

aws::Expression UpdateCondition(const Run& run) {
  aws::Expression e;
  e.text =
      "attribute_exists(#id) AND #v = :expected AND "
      "(#s = :pending OR #s = :running OR #s = :new)";
  e.names = {{"#id", attr::kId}, {"#v", attr::kVersion}, {"#s", attr::kStatus}};
  e.values = {{":expected", ddb::N(run.version)},
              {":pending", ddb::S(ToString(RunStatus::kPending))},
              {":running", ddb::S(ToString(RunStatus::kRunning))},
              {":new", ddb::S(ToString(run.status))}};
  return e;
}

}  // namespace

Result<std::unique_ptr<DynamoDbRunStore>> DynamoDbRunStore::Open(std::string_view url,
                                                                 const aws::EnvMap& env,
                                                                 const Clock& clock,
                                                                 DynamoDbRunStoreOptions options) {
  auto connected = ConnectDynamoDb(url, env, clock, {options.retry, options.sender});
  if (!connected.ok()) return connected.status();
  const TableNames tables = TableNames::For(connected->location.table_prefix);
  EnsureOptions ensure = options.tables;
  ensure.create = options.create_tables || connected->location.create_tables;
  for (const auto& spec : {RunsTableSpec(tables.runs), IdempotencyTableSpec(tables.idempotency),
                           ReplicasTableSpec(tables.replicas), QuotasTableSpec(tables.quotas)}) {
    OUTPOST_RETURN_IF_ERROR(EnsureTable(*connected->client, spec, ensure, clock));
  }
  return std::unique_ptr<DynamoDbRunStore>(new DynamoDbRunStore(
      std::move(connected->location), std::move(connected->client), clock, std::move(options)));
}

DynamoDbRunStore::DynamoDbRunStore(DynamoDbLocation location,
                                   std::unique_ptr<aws::DynamoDbClient> client, const Clock& clock,
                                   DynamoDbRunStoreOptions options)
    : location_(std::move(location)),
      tables_(TableNames::For(location_.table_prefix)),
      client_(std::move(client)),
      clock_(clock),
      options_(std::move(options)),
      quotas_(*client_, tables_.quotas, clock_, options_.idempotency_grace) {}

Result<std::optional<Run>> DynamoDbRunStore::Load(const std::string& id) const {
  auto item = client_->GetItem(tables_.runs, RunKey(id), /*consistent=*/true);
  if (!item.ok()) return item.status();
  if (!*item) return std::optional<Run>();
  auto run = RunFromItem(**item);
  if (!run.ok()) return run.status();
  return std::optional<Run>(std::move(*run));
}

Result<Run> DynamoDbRunStore::Get(const RunId& id) {
  auto run = Load(id.str());
  if (!run.ok()) return run.status();
  if (!*run) return NotFound("run " + id.str() + " not found");
  return std::move(**run);
}

void DynamoDbRunStore::NoteChange() const {
  boost::json::object request{{"TableName", tables_.runs},
                              {"Key", RunKey(std::string(kChangesId))},
                              {"UpdateExpression", "ADD #s :one"},
                              {"ExpressionAttributeNames", {{"#s", kChangesSeq}}},
                              {"ExpressionAttributeValues", {{":one", ddb::N(1)}}}};
  auto answer = client_->Call("UpdateItem", request, tables_.runs);
  if (!answer.ok()) {  // readers re-list now and then anyway (run_store.h)
    spdlog::warn("runs' change marker not moved: {}", answer.status().ToString());
  }
}

Result<std::optional<std::int64_t>> DynamoDbRunStore::ChangeMarker() {
  OUTPOST_ASSIGN_OR_RETURN(auto item,
                           client_->GetItem(tables_.runs, RunKey(std::string(kChangesId)),
                                            /*consistent=*/true));
  return std::optional<std::int64_t>(item ? ddb::GetN(*item, kChangesSeq).value_or(0) : 0);
}

Result<Run> DynamoDbRunStore::PutNewRun(const Run& run) const {
  aws::Expression absent{"attribute_not_exists(#id)", {{"#id", attr::kId}}, {}};
  Status st = client_->PutItem(tables_.runs, RunToItem(run, options_.retention), absent);
  if (st.ok()) {
    NoteChange();
    return run;
  }
  if (st.code() != Code::kConflict) return st;
  auto existing = Load(run.id.str());
  if (existing.ok() && *existing && **existing == run) return run;  // our own retried put
  return Conflict("run " + run.id.str() + " already exists");
}

Result<int> DynamoDbRunStore::ReleaseStaleQuota() {
  return quotas_.Sweep([this](const std::string& id) { return Load(id); });
}

Result<CreateResult> DynamoDbRunStore::Create(const Run& run) {
  if (run.idempotency_key) return CreateIdempotent(run);
  auto created = PutNewRun(run);
  if (!created.ok()) return created.status();
  return CreateResult{std::move(*created), true};
}

Result<CreateResult> DynamoDbRunStore::CreateIdempotent(const Run& run) const {
  auto claim = ClaimIdempotencyKey(run);
  if (!claim.ok()) return claim.status();
  if (claim->replay) return CreateResult{std::move(*claim->replay), false};
  return FinishClaimedCreate(run, IdempotencyKey(run.tenant, *run.idempotency_key),
                             claim->reserved_ms);
}

Result<DynamoDbRunStore::KeyClaim> DynamoDbRunStore::ClaimIdempotencyKey(const Run& run) const {
  const std::string key = IdempotencyKey(run.tenant, *run.idempotency_key);
  const std::int64_t now_ms = ToMillis(clock_.Now());
  const KeyClaim ours{std::nullopt, now_ms};
  ddb::Item claim{{attr::kKey, ddb::S(key)},
                  {attr::kRunId, ddb::S(run.id.str())},
                  {attr::kRequestHash, ddb::S(run.request_hash)},
                  {attr::kReservedMs, ddb::N(now_ms)}};
  if (options_.retention.count() > 0) {
    claim[attr::kExpiresAt] = ddb::N((now_ms + options_.retention.count()) / 1000 + 86'400);
  }
  const aws::Expression unclaimed{"attribute_not_exists(#k)", {{"#k", attr::kKey}}, {}};
  for (int attempt = 0; attempt < 4; ++attempt) {
    Status st = client_->PutItem(tables_.idempotency, claim, unclaimed);
    if (st.ok()) return ours;
    if (st.code() != Code::kConflict) return st;
    auto found = client_->GetItem(tables_.idempotency, ClaimKey(key));
    if (!found.ok()) return found.status();
    if (!*found) continue;  // released meanwhile: claim again
    const ddb::Item& prior = **found;
    const std::string prior_run = ddb::GetS(prior, attr::kRunId).value_or("");
    if (prior_run == run.id.str()) return ours;  // our retry
    if (ddb::GetS(prior, attr::kRequestHash) != run.request_hash) {
      return KeyReusedConflict(*run.idempotency_key);
    }
    auto stored = Load(prior_run);
    if (!stored.ok()) return stored.status();
    if (*stored) return KeyClaim{std::move(**stored), 0};
    // The crash window: the key is claimed, its run is not there.
    const std::int64_t prior_ms = ddb::GetN(prior, attr::kReservedMs).value_or(0);
    if (now_ms - prior_ms < options_.idempotency_grace.count()) {
      return Unavailable("a request with idempotency key '" + *run.idempotency_key +
                         "' is still being processed; retry shortly");
    }
    aws::Expression unchanged{"#r = :run AND #t = :ms",
                              {{"#r", attr::kRunId}, {"#t", attr::kReservedMs}},
                              {{":run", ddb::S(prior_run)}, {":ms", ddb::N(prior_ms)}}};
    st = client_->PutItem(tables_.idempotency, claim, unchanged);
    if (st.ok()) return ours;
    if (st.code() != Code::kConflict) return st;
  }
  return Unavailable("idempotency key '" + *run.idempotency_key + "' is contended; retry");
}

void DynamoDbRunStore::ReleaseKeyClaim(const Run& run) const {
  if (!run.idempotency_key) return;
  const aws::Expression ours{"#r = :r", {{"#r", attr::kRunId}}, {{":r", ddb::S(run.id.str())}}};
  (void)client_->DeleteItem(tables_.idempotency,
                            ClaimKey(IdempotencyKey(run.tenant, *run.idempotency_key)), ours);
}

// The key names our run; now the run itself. A definite failure releases the claim at once; an
// uncertain one (kUnavailable: the put may have happened) leaves it for the crash-window logic.
Result<CreateResult> DynamoDbRunStore::FinishClaimedCreate(const Run& run, const std::string& key,
                                                           std::int64_t reserved_ms) const {
  const aws::Expression ours{"#r = :run", {{"#r", attr::kRunId}}, {{":run", ddb::S(run.id.str())}}};
  auto created = PutNewRun(run);
  if (!created.ok()) {
    if (created.status().code() != Code::kUnavailable) {
      (void)client_->DeleteItem(tables_.idempotency, ClaimKey(key), ours);
    }
    return created.status();
  }
  if (ToMillis(clock_.Now()) - reserved_ms >= options_.idempotency_grace.count() / 2) {
    // Slow enough that another request may have taken the claim over: make sure it did not.
    auto claim = client_->GetItem(tables_.idempotency, ClaimKey(key));
    if (!claim.ok()) return claim.status();
    if (!*claim || ddb::GetS(**claim, attr::kRunId) != run.id.str()) {
      aws::Expression untouched{"#v = :v", {{"#v", attr::kVersion}}, {{":v", ddb::N(run.version)}}};
      if (client_->DeleteItem(tables_.runs, RunKey(run.id.str()), untouched).ok()) NoteChange();
      return Unavailable("idempotency key '" + *run.idempotency_key +
                         "' was taken over while this request was slow; retry");
    }
  }
  return CreateResult{run, true};
}

// A terminal write stops naming the run's slot, then frees it: a crash in between leaves a slot
// whose run is terminal, which ReleaseStaleQuota frees.
Result<Run> DynamoDbRunStore::Update(const Run& run) {
  Run stored = run;
  stored.version = run.version + 1;
  const bool frees_slot = IsTerminal(run.status) && !run.quota_slot.empty();
  if (frees_slot) stored.quota_slot.clear();
  Status st =
      client_->PutItem(tables_.runs, RunToItem(stored, options_.retention), UpdateCondition(run));
  if (!st.ok()) {
    if (st.code() != Code::kConflict) return st;
    OUTPOST_RETURN_IF_ERROR(ExplainFailedUpdate(run, stored));
  }
  NoteChange();
  if (frees_slot) {
    if (Status r = quotas_.ReleaseSlot(run.quota_slot, run.id.str()); !r.ok()) {
      spdlog::warn("run {}: quota slot not freed yet ({}); the sweeper will", run.id.str(),
                   r.ToString());
    }
  }
  return stored;
}

// The conditional put failed; the item, read back, says why (or that it was our own write).
Status DynamoDbRunStore::ExplainFailedUpdate(const Run& attempted, const Run& stored) const {
  auto current = Load(attempted.id.str());
  if (!current.ok()) return current.status();
  if (!*current) return NotFound("run " + attempted.id.str() + " not found");
  const Run& now = **current;
  if (now == stored) return Status::Ok();  // a retried write that had landed
  if (IsTerminal(now.status) && now.status != attempted.status) return TerminalConflict(now);
  return Conflict("run " + attempted.id.str() + " was changed concurrently (stored version " +
                  std::to_string(now.version) + ", expected " + std::to_string(attempted.version) +
                  ")")
      .WithDetail("currentStatus", ToString(now.status).data());
}

Result<RunPage> DynamoDbRunStore::List(const ListQuery& query) {
  auto plan = PlanList(query);
  if (!plan.ok()) return plan.status();
  RunPage page;
  if (plan->empty) return page;
  const std::size_t want = static_cast<std::size_t>(query.limit) + 1;
  aws::QueryRequest request = plan->query;
  request.table = tables_.runs;
  request.limit =
      plan->filters_beyond_index ? kMaxPageItems : std::min(kMaxPageItems, static_cast<int>(want));
  while (page.runs.size() < want) {
    auto items = client_->Query(request);
    if (!items.ok()) return items.status();
    for (const auto& item : items->items) {
      auto run = RunFromItem(item);
      if (!run.ok()) return run.status();
      if (plan->after && run->id.str() == *plan->after) continue;
      if (!Matches(*run, query)) continue;
      page.runs.push_back(std::move(*run));
      if (page.runs.size() == want) break;
    }
    if (!items->last_key) break;
    request.start_key = items->last_key;
  }
  if (page.runs.size() == want) {
    page.runs.pop_back();
    page.next_cursor = EncodeCursor(page.runs.back().id.str());
  }
  return page;
}

Result<std::vector<Run>> DynamoDbRunStore::QueryAll(std::string_view index,
                                                    std::string_view hash_attr,
                                                    const std::string& hash, bool forward) const {
  aws::QueryRequest request;
  request.table = tables_.runs;
  request.index = std::string(index);
  request.key_condition = {"#h = :h", {{"#h", hash_attr}}, {{":h", ddb::S(hash)}}};
  request.forward = forward;
  std::vector<Run> runs;
  for (;;) {
    auto page = client_->Query(request);
    if (!page.ok()) return page.status();
    for (const auto& item : page->items) {
      auto run = RunFromItem(item);
      if (!run.ok()) return run.status();
      runs.push_back(std::move(*run));
    }
    if (!page->last_key) return runs;
    request.start_key = page->last_key;
  }
}

Result<std::vector<Run>> DynamoDbRunStore::ListActive() {
  std::vector<Run> active;
  for (RunStatus s : {RunStatus::kPending, RunStatus::kRunning}) {
    auto runs = QueryAll(kIndexStatus, attr::kStatus, std::string(ToString(s)), true);
    if (!runs.ok()) return runs.status();
    for (Run& r : *runs) active.push_back(std::move(r));
  }
  std::sort(active.begin(), active.end(), [](const Run& a, const Run& b) { return a.id < b.id; });
  return active;
}

Result<RunStats> DynamoDbRunStore::Stats(WallTime since, const std::optional<std::string>& tenant) {
  aws::QueryRequest request;
  request.table = tables_.runs;
  request.index = std::string(tenant ? kIndexTenant : kIndexAll);
  request.key_condition = {"#h = :h AND #id >= :lo",
                           {{"#h", tenant ? attr::kTenant : attr::kKind},
                            {"#id", attr::kId},
                            {"#a", attr::kAgent},
                            {"#s", attr::kStatus},
                            {"#c", attr::kCreatedMs},
                            {"#b", attr::kStartedMs},
                            {"#e", attr::kEndedMs}},
                           {{":h", ddb::S(tenant ? std::string_view(*tenant) : kRunKind)},
                            {":lo", ddb::S(MinUlidAt(since - kIdClockSlack))}}};
  request.projection = "#a, #s, #c, #b, #e";
  const std::int64_t since_ms = ToMillis(since);
  RunStats stats;
  for (;;) {
    auto page = client_->Query(request);
    if (!page.ok()) return page.status();
    for (const auto& item : page->items) {
      if (ddb::GetN(item, attr::kCreatedMs).value_or(0) < since_ms) continue;
      auto status = ParseRunStatus(ddb::GetS(item, attr::kStatus).value_or(""));
      if (!status) return Internal("corrupt run status in the DynamoDB run store");
      AgentStats& agent = stats.by_agent[ddb::GetS(item, attr::kAgent).value_or("")];
      ++agent.by_status[*status];
      auto started = ddb::GetN(item, attr::kStartedMs);
      auto ended = ddb::GetN(item, attr::kEndedMs);
      if (*status == RunStatus::kCompleted && started && ended) {
        agent.completed_duration_ms_total += *ended - *started;
        ++agent.completed_count;
      }
    }
    if (!page->last_key) return stats;
    request.start_key = page->last_key;
  }
}

// The tenant's runs from `since` on tenant-newest (ALL projected), their docs' usage summed.
Result<double> DynamoDbRunStore::CostSince(WallTime since, const std::string& tenant) {
  aws::QueryRequest request;
  request.table = tables_.runs;
  request.index = std::string(kIndexTenant);
  request.key_condition = {
      "#h = :h AND #id >= :lo",
      {{"#h", attr::kTenant},
       {"#id", attr::kId},
       {"#c", attr::kCreatedMs},
       {"#d", attr::kDoc},
       {"#v", attr::kVersion}},
      {{":h", ddb::S(tenant)}, {":lo", ddb::S(MinUlidAt(since - kIdClockSlack))}}};
  request.projection = "#c, #d, #v";
  const std::int64_t since_ms = ToMillis(since);
  double total = 0;
  for (;;) {
    auto page = client_->Query(request);
    if (!page.ok()) return page.status();
    for (const auto& item : page->items) {
      if (ddb::GetN(item, attr::kCreatedMs).value_or(0) < since_ms) continue;
      auto run = RunFromItem(item);
      if (!run.ok()) return run.status();
      if (run->usage) total += run->usage->cost_usd;
    }
    if (!page->last_key) return total;
    request.start_key = page->last_key;
  }
}

Status DynamoDbRunStore::Ping() {
  Status st = client_->DescribeTable(tables_.runs).status();
  if (st.code() == Code::kNotFound) return FailedPrecondition(st.message());
  return st;
}

Status DynamoDbRunStore::Heartbeat(const ReplicaInfo& info) {
  ddb::Item item{{attr::kId, ddb::S(info.id)},
                 {attr::kDoc, ddb::S(ToJson(ReplicaToDoc(info)))},
                 {attr::kHeartbeatMs, ddb::N(ToMillis(info.heartbeat_at))}};
  return client_->PutItem(tables_.replicas, item);
}

Result<std::vector<ReplicaInfo>> DynamoDbRunStore::ListReplicas() {
  aws::ScanRequest request;
  request.table = tables_.replicas;
  std::vector<ReplicaInfo> replicas;
  for (;;) {
    auto page = client_->Scan(request);
    if (!page.ok()) return page.status();
    for (const auto& item : page->items) {
      auto doc = ParseJson(ddb::GetS(item, attr::kDoc).value_or(""));
      if (!doc.ok() || !doc->is_object()) return Internal("corrupt replica record in DynamoDB");
      OUTPOST_ASSIGN_OR_RETURN(ReplicaInfo replica, ReplicaFromDoc(doc->get_object()));
      replicas.push_back(std::move(replica));
    }
    if (!page->last_key) break;
    request.start_key = page->last_key;
  }
  std::sort(replicas.begin(), replicas.end(),
            [](const ReplicaInfo& a, const ReplicaInfo& b) { return a.id < b.id; });
  return replicas;
}

}  // namespace outpost::dynamodb
