#include "metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace outpost::metrics {
namespace {

std::vector<std::string> SplitKey(const std::string& key) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '\0') {
      out.push_back(key.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

namespace detail {

template <typename Child>
std::vector<std::pair<std::vector<std::string>, const Child*>> ChildMap<Child>::All() const {
  std::vector<std::pair<std::vector<std::string>, const Child*>> out;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (const auto& [key, child] : shard.children) out.emplace_back(SplitKey(key), child.get());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

template class ChildMap<Counter>;
template class ChildMap<Gauge>;
template class ChildMap<Histogram>;

}  // namespace detail

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_->size() + 1)) {}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  const std::vector<double>& b = *bounds_;
  // Buckets are few (~15): a linear scan beats a binary search on the short list.
  std::size_t i = 0;
  while (i < b.size() && v > b[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = *bounds_;
  s.counts.resize(bounds_->size() + 1);
  for (std::size_t i = 0; i < s.counts.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1,     2.5,  5,     10,   30};
  return kBuckets;
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  if (!IsValidMetricName(name_)) throw std::invalid_argument("bad metric name: " + name_);
  for (const std::string& l : label_names_) {
    if (!IsValidLabelName(l) || l == "le") throw std::invalid_argument("bad label name: " + l);
  }
}

Labels FamilyBase::LabelsOf(const std::vector<std::string>& values) const {
  Labels out;
  for (std::size_t i = 0; i < label_names_.size() && i < values.size(); ++i) {
    out.emplace_back(label_names_[i], values[i]);
  }
  return out;
}

void FamilyBase::CheckArity(std::size_t n) const {
  if (n != label_names_.size()) {
    throw std::invalid_argument(name_ + ": " + std::to_string(label_names_.size()) +
                                " label values expected, got " + std::to_string(n));
  }
}

Counter& CounterFamily::Labels(std::span<const std::string_view> values) {
  CheckArity(values.size());
  return children_.Get(values, [] { return std::make_unique<Counter>(); });
}

FamilySnapshot CounterFamily::Collect() const {
  FamilySnapshot f{name_, help_, MetricType::kCounter, {}};
  for (const auto& [values, child] : children_.All()) {
    f.samples.push_back({name_, LabelsOf(values), child->Value()});
  }
  return f;
}

Gauge& GaugeFamily::Labels(std::span<const std::string_view> values) {
  CheckArity(values.size());
  return children_.Get(values, [] { return std::make_unique<Gauge>(); });
}

FamilySnapshot GaugeFamily::Collect() const {
  FamilySnapshot f{name_, help_, MetricType::kGauge, {}};
  for (const auto& [values, child] : children_.All()) {
    f.samples.push_back({name_, LabelsOf(values), child->Value()});
  }
  return f;
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
      bounds_(std::make_shared<const std::vector<double>>(std::move(bounds))) {
  for (std::size_t i = 0; i < bounds_->size(); ++i) {
    if (!std::isfinite((*bounds_)[i]) || (i > 0 && (*bounds_)[i] <= (*bounds_)[i - 1])) {
      throw std::invalid_argument(name_ + ": bucket bounds must be finite and increasing");
    }
  }
}

Histogram& HistogramFamily::Labels(std::span<const std::string_view> values) {
  CheckArity(values.size());
  return children_.Get(values, [this] { return std::make_unique<Histogram>(bounds_); });
}

FamilySnapshot HistogramFamily::Collect() const {
  FamilySnapshot f{name_, help_, MetricType::kHistogram, {}};
  for (const auto& [values, child] : children_.All()) {
    Histogram::Snapshot s = child->Read();
    metrics::Labels labels = LabelsOf(values);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < s.counts.size(); ++i) {
      cumulative += s.counts[i];
      metrics::Labels with_le = labels;
      with_le.emplace_back("le", i < s.bounds.size() ? FormatValue(s.bounds[i]) : "+Inf");
      f.samples.push_back({name_ + "_bucket", std::move(with_le), double(cumulative)});
    }
    f.samples.push_back({name_ + "_sum", labels, s.sum});
    f.samples.push_back({name_ + "_count", labels, double(s.count)});
  }
  return f;
}

class Registry::CallbackFamily final : public FamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, MetricType type,
                 std::vector<std::string> label_names, Callback callback)
      : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
        type_(type),
        callback_(std::move(callback)) {}
  FamilySnapshot Collect() const override {
    FamilySnapshot f{name_, help_, type_, {}};
    std::vector<CallbackValue> values = callback_();
    std::sort(values.begin(), values.end(),
              [](const auto& a, const auto& b) { return a.label_values < b.label_values; });
    for (const CallbackValue& v : values) {
      if (v.label_values.size() != label_names_.size()) continue;
      f.samples.push_back({name_, LabelsOf(v.label_values), v.value});
    }
    return f;
  }

 private:
  MetricType type_;
  Callback callback_;
};

void Registry::Register(std::unique_ptr<FamilyBase> family) {
  std::lock_guard lock(mu_);
  for (const auto& f : families_) {
    if (f->name() == family->name()) {
      throw std::invalid_argument("metric registered twice: " + family->name());
    }
  }
  families_.push_back(std::move(family));
}

CounterFamily& Registry::AddCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  if (!name.ends_with("_total")) throw std::invalid_argument(name + ": counters end in _total");
  auto f =
      std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names));
  CounterFamily& ref = *f;
  Register(std::move(f));
  return ref;
}

GaugeFamily& Registry::AddGauge(std::string name, std::string help,
                                std::vector<std::string> label_names) {
  auto f = std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(label_names));
  GaugeFamily& ref = *f;
  Register(std::move(f));
  return ref;
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds) {
  auto f = std::make_unique<HistogramFamily>(std::move(name), std::move(help),
                                             std::move(label_names), std::move(bounds));
  HistogramFamily& ref = *f;
  Register(std::move(f));
  return ref;
}

void Registry::AddCallback(std::string name, std::string help, MetricType type,
                           std::vector<std::string> label_names, Callback callback) {
  if (type == MetricType::kHistogram)
    throw std::invalid_argument(name + ": no callback histograms");
  if (type == MetricType::kCounter && !name.ends_with("_total")) {
    throw std::invalid_argument(name + ": counters end in _total");
  }
  Register(std::make_unique<CallbackFamily>(std::move(name), std::move(help), type,
                                            std::move(label_names), std::move(callback)));
}

std::vector<FamilySnapshot> Registry::Collect() const {
  std::lock_guard lock(mu_);
  std::vector<FamilySnapshot> out;
  out.reserve(families_.size());
  for (const auto& f : families_) out.push_back(f->Collect());
  return out;
}

}  // namespace outpost::metrics
