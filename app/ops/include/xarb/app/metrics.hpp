#pragma once

// /metrics in Prometheus text format: a small HTTP server on its own thread (off the hot path)
// serving the latest text the ops thread rendered. Loopback by default (config [metrics]).

#include <cstdint>
#include <memory>
#include <string>

#include <xarb/app/report.hpp>

namespace xarb::app {

class MetricsServer {
 public:
  // Listens on bind:port (port 0: any free port, see port()). Throws std::runtime_error when the
  // address cannot be bound.
  MetricsServer(const std::string& bind, int port);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Replaces the text served from now on. Any thread.
  void publish(std::string text);
  [[nodiscard]] int port() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The report's figures in Prometheus text exposition format: counters, gauges, and the latency
// percentiles as summaries (quantile labels) in seconds.
[[nodiscard]] std::string prometheus_text(const RunReport& r);

}  // namespace xarb::app
