#include "common/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cctype>
#include <map>
#include <mutex>

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

}  // namespace

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

void SetupLogging(std::string_view level) {
  auto stderr_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(
      "outpost", MakeRateLimitedSink(std::move(stderr_sink), kLogBurst, kLogWindow));
  spdlog::register_logger(logger);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace outpost
