#include "runner/netproxy/blocked_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <cerrno>
#include <cstring>
#include <optional>

#include "common/files.h"
#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost::netproxy {
namespace {

std::optional<BlockedAttempt> ParseLine(std::string_view line) {
  auto v = ParseJson(line, 4);
  if (!v.ok() || !v->is_object()) return std::nullopt;
  const boost::json::object& o = v->get_object();
  auto host = GetString(o, "host");
  auto port = GetInt(o, "port");
  auto time = GetString(o, "time");
  auto reason = GetString(o, "reason");
  if (!host || !port || !time) return std::nullopt;
  auto at = ParseTime(*time);
  if (!at) return std::nullopt;
  return BlockedAttempt{*host, static_cast<int>(*port), *at, reason.value_or("")};
}

}  // namespace

std::string BlockedAttemptToJson(const BlockedAttempt& a) {
  boost::json::object o;
  o["host"] = a.host;
  o["port"] = a.port;
  o["time"] = FormatTime(a.at);
  o["reason"] = a.reason;
  return ToJson(o);
}

Result<std::unique_ptr<BlockedLog>> BlockedLog::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable("open " + path + ": " + std::strerror(errno));
  return std::unique_ptr<BlockedLog>(new BlockedLog(fd));
}

BlockedLog::~BlockedLog() { ::close(fd_); }

Status BlockedLog::Append(const BlockedAttempt& a) {
  std::string line = BlockedAttemptToJson(a) + "\n";
  std::lock_guard lock(mu_);
  Status st = WriteAll(fd_, line);
  if (!st.ok()) return Unavailable("append to blocked log: " + st.message());
  return Status::Ok();
}

Result<std::vector<BlockedAttempt>> ReadBlocked(const std::string& path) {
  std::vector<BlockedAttempt> out;
  auto text = ReadFile(path);
  if (!text.ok() && text.status().code() == Code::kNotFound) return out;
  if (!text.ok()) return Unavailable("read " + path + ": " + text.status().message());
  std::string_view rest = *text;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (auto a = ParseLine(line)) out.push_back(std::move(*a));
  }
  return out;
}

}  // namespace outpost::netproxy
