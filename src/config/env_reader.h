// EnvReader: the process environment as the config loader reads it, a name at a time. It can
// record every name looked up, which is how EnvironmentVariablesRead() (options.h) learns the
// OUTPOST_* variables the loader reads without a hand-kept list: the loader runs once on an
// empty environment, so every lookup happens and none of its branches is taken.
#pragma once

#include <map>
#include <set>
#include <string>

namespace outpost {

class EnvReader {
 public:
  using Map = std::map<std::string, std::string>;

  // `env` must outlive the reader; `looked_up` (optional) receives every name asked for.
  explicit EnvReader(const Map& env, std::set<std::string>* looked_up = nullptr)
      : env_(env), looked_up_(looked_up) {}

  // The std::map interface the loader uses, so that code written against a map reads the same.
  Map::const_iterator find(const std::string& name) const {
    if (looked_up_) looked_up_->insert(name);
    return env_.find(name);
  }
  Map::const_iterator end() const { return env_.end(); }
  std::size_t count(const std::string& name) const { return find(name) != end() ? 1 : 0; }

 private:
  const Map& env_;
  std::set<std::string>* looked_up_;
};

}  // namespace outpost
