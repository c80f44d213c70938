#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <thread>

namespace outpost::metrics {
namespace {

TEST(Exposition, CounterGaugeAndHistogramMatchHandWrittenText) {
  Registry r;
  auto& requests = r.AddCounter("demo_requests_total", "Requests served.", {"route", "code"});
  requests.Labels({"/runs/{id}", "200"}).Inc();
  requests.Labels({"/runs/{id}", "200"}).Inc(2);
  requests.Labels({"/dispatch", "201"}).Inc();
  r.AddGauge("demo_queue_depth", "Queued runs.").Labels({}).Set(3);
  auto& latency = r.AddHistogram("demo_latency_seconds", "Latency.", {"route"}, {0.1, 0.5, 1});
  latency.Labels({"/x"}).Observe(0.05);
  latency.Labels({"/x"}).Observe(0.5);  // on a bound: le is inclusive
  latency.Labels({"/x"}).Observe(7);
  const std::string expected =
      "# HELP demo_requests_total Requests served.\n"
      "# TYPE demo_requests_total counter\n"
      "demo_requests_total{route=\"/dispatch\",code=\"201\"} 1\n"
      "demo_requests_total{route=\"/runs/{id}\",code=\"200\"} 3\n"
      "# HELP demo_queue_depth Queued runs.\n"
      "# TYPE demo_queue_depth gauge\n"
      "demo_queue_depth 3\n"
      "# HELP demo_latency_seconds Latency.\n"
      "# TYPE demo_latency_seconds histogram\n"
      "demo_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"
      "demo_latency_seconds_bucket{route=\"/x\",le=\"0.5\"} 2\n"
      "demo_latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
      "demo_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"
      "demo_latency_seconds_sum{route=\"/x\"} 7.55\n"
      "demo_latency_seconds_count{route=\"/x\"} 3\n";
  EXPECT_EQ(r.ExposeText(), expected);
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
  Registry r;
  r.AddCounter("x_total", "a \\ b\nc \"q\"", {"v"}).Labels({"back\\slash \"quote\"\nnl"}).Inc();
  EXPECT_EQ(r.ExposeText(),
            "# HELP x_total a \\\\ b\\nc \"q\"\n"
            "# TYPE x_total counter\n"
            "x_total{v=\"back\\\\slash \\\"quote\\\"\\nnl\"} 1\n");
}

TEST(Exposition, FormatsSpecialAndFractionalValues) {
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(12345678), "12345678");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(-1.25), "-1.25");
  EXPECT_EQ(FormatValue(1e-6), "1e-06");
}

TEST(Exposition, FamilyWithoutChildrenKeepsHelpAndType) {
  Registry r;
  r.AddCounter("none_total", "Nothing yet.", {"a"});
  EXPECT_EQ(r.ExposeText(), "# HELP none_total Nothing yet.\n# TYPE none_total counter\n");
}

TEST(Registry, RefusesBadNamesDuplicatesAndArity) {
  Registry r;
  EXPECT_THROW(r.AddCounter("no_suffix", "h"), std::invalid_argument);
  EXPECT_THROW(r.AddGauge("1bad", "h"), std::invalid_argument);
  EXPECT_THROW(r.AddGauge("ok", "h", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.AddHistogram("h_seconds", "h", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW(r.AddHistogram("h2_seconds", "h", {}, {1, 1}), std::invalid_argument);
  auto& c = r.AddCounter("c_total", "h", {"a", "b"});
  EXPECT_THROW(r.AddCounter("c_total", "h"), std::invalid_argument);
  EXPECT_THROW(c.Labels({"only-one"}), std::invalid_argument);
}

TEST(Registry, CallbacksAreReadAtCollectTime) {
  Registry r;
  int depth = 1;
  r.AddCallback("q_depth", "Depth.", MetricType::kGauge, {"agent"}, [&] {
    return std::vector<CallbackValue>{{{"shell"}, double(depth)}, {{"claude"}, 0}};
  });
  EXPECT_EQ(r.ExposeText(),
            "# HELP q_depth Depth.\n# TYPE q_depth gauge\n"
            "q_depth{agent=\"claude\"} 0\nq_depth{agent=\"shell\"} 1\n");
  depth = 4;
  EXPECT_NE(r.ExposeText().find("q_depth{agent=\"shell\"} 4\n"), std::string::npos);
}

TEST(Counter, IgnoresNegativeIncrements) {
  Counter c;
  c.Inc(2);
  c.Inc(-5);
  EXPECT_EQ(c.Value(), 2);
}

TEST(Registry, ConcurrentRecordingLosesNothing) {
  Registry r;
  auto& c = r.AddCounter("hits_total", "h", {"t"});
  auto& h = r.AddHistogram("lat_seconds", "h", {"t"}, LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string label = std::to_string(t % 2);
      for (int i = 0; i < 20000; ++i) {
        c.Labels({label}).Inc();
        h.Labels({label}).Observe(0.002);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Labels({"0"}).Value() + c.Labels({"1"}).Value(), 80000);
  EXPECT_EQ(h.Labels({"0"}).Read().count + h.Labels({"1"}).Read().count, 80000u);
  EXPECT_EQ(h.Labels({"0"}).Read().counts[1], 40000u);  // (0.001, 0.0025]
}

}  // namespace
}  // namespace outpost::metrics
