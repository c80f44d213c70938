#include "common/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>

#include "common/log_format.h"

namespace outpost {
namespace {

// At most this many keys are tracked; past it, the oldest windows are closed early.
constexpr std::size_t kMaxKeys = 1024;

class RateLimitedSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  RateLimitedSink(std::shared_ptr<spdlog::sinks::sink> inner, int burst,
                  std::chrono::seconds window)
      : inner_(std::move(inner)), burst_(burst), window_(window) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view text(msg.payload.data(), msg.payload.size());
    CloseWindows(msg.time, msg.logger_name, /*all=*/keys_.size() >= kMaxKeys);
    const std::string key = std::to_string(static_cast<int>(msg.level)) + " " + LogLineKey(text);
    auto [it, fresh] = keys_.try_emplace(key);
    Window& w = it->second;
    if (fresh) {
      w.start = msg.time;
      w.level = msg.level;
    }
    if (++w.count <= burst_) {
      inner_->log(msg);
      return;
    }
    if (w.suppressed++ == 0) w.sample = std::string(text.substr(0, 200));
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> f) override {
    inner_->set_formatter(std::move(f));
  }

 private:
  struct Window {
    spdlog::log_clock::time_point start;
    spdlog::level::level_enum level = spdlog::level::info;
    int count = 0;
    int suppressed = 0;
    std::string sample;  // the first suppressed line
  };

  // Ends every window older than window_ (every window with `all`), writing its summary.
  void CloseWindows(spdlog::log_clock::time_point now, spdlog::string_view_t logger, bool all) {
    for (auto it = keys_.begin(); it != keys_.end();) {
      const Window& w = it->second;
      if (!all && now - w.start < window_) {
        ++it;
        continue;
      }
      if (w.suppressed > 0) {
        const std::string line =
            "suppressed " + std::to_string(w.suppressed) + " similar lines in the last " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(window_).count()) +
            " s: " + w.sample;
        inner_->log(spdlog::details::log_msg(now, {}, logger, w.level, line));
      }
      it = keys_.erase(it);
    }
  }

  std::shared_ptr<spdlog::sinks::sink> inner_;
  const int burst_;
  const std::chrono::seconds window_;
  std::map<std::string, Window> keys_;  // guarded by base_sink's mutex
};

// One JSON object per line: time (UTC, milliseconds), level (capitals), message.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto since = msg.time.time_since_epoch();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
    const std::time_t t = static_cast<std::time_t>(secs.count());
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char time[128];  // room for any int the compiler can imagine
    std::snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    std::string line = "{\"time\":\"";
    line += time;
    line += "\",\"level\":\"";
    line += Level(msg.level);
    line += "\",\"message\":\"";
    Escape(std::string_view(msg.payload.data(), msg.payload.size()), line);
    line += "\"}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }

 private:
  static const char* Level(spdlog::level::level_enum l) {
    switch (l) {
      case spdlog::level::trace:
        return "TRACE";
      case spdlog::level::debug:
        return "DEBUG";
      case spdlog::level::info:
        return "INFO";
      case spdlog::level::warn:
        return "WARN";
      case spdlog::level::err:
        return "ERROR";
      case spdlog::level::critical:
        return "CRITICAL";
      default:
        return "OFF";
    }
  }
  // JSON string escaping; bytes >= 0x80 pass through (the messages are UTF-8).
  static void Escape(std::string_view s, std::string& out) {
    for (char c : s) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
            out += esc;
          } else {
            out += c;
          }
      }
    }
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter() {
  return std::make_unique<JsonFormatter>();
}

std::string LogLineKey(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      out += ' ';
      ++i;
      continue;
    }
    std::size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(i, end - i);
    bool digit = false;
    for (char c : word) digit |= std::isdigit(static_cast<unsigned char>(c)) != 0;
    if (digit) {
      out += '#';
    } else {
      out.append(word);
    }
    i = end;
  }
  return out;
}

std::shared_ptr<spdlog::sinks::sink> MakeRateLimitedSink(std::shared_ptr<spdlog::sinks::sink> inner,
                                                         int burst, std::chrono::seconds window) {
  return std::make_shared<RateLimitedSink>(std::move(inner), burst, window);
}

void SetupLogging(std::string_view level) { SetupLoggingWithFormat(level, "text"); }

void SetupLoggingWithFormat(std::string_view level, std::string_view format) {
  const bool json = format == "json";
  std::shared_ptr<spdlog::sinks::sink> stderr_sink;
  if (json) {
    stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();  // no colour codes
  } else {
    stderr_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  }
  auto logger = std::make_shared<spdlog::logger>(
      "outpost", MakeRateLimitedSink(std::move(stderr_sink), kLogBurst, kLogWindow));
  spdlog::register_logger(logger);
  if (json) {
    logger->set_formatter(MakeJsonLogFormatter());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace outpost
