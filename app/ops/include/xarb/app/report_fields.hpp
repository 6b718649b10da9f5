#pragma once

// The run report's fields, each written once: its JSON key, its label in the text report, its
// metric on /metrics (name, type, help) and how to read it from its row. The text report,
// report.json, /metrics and the inventory read back from report.json are all written from these
// tables (report.cpp, metrics.cpp), as a Prometheus client defines a metric once and every
// exposition follows from it.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <xarb/app/report.hpp>

namespace xarb::app {

// What a field holds: counts, signed figures, shares, exact money and quantities, flags, words.
using FieldValue = std::variant<std::uint64_t, std::int64_t, double, Decimal, bool, std::string>;

enum class MetricType { none, counter, gauge };

template <class Row>
struct ReportField {
  std::string_view key;     // report.json key; empty: /metrics only
  std::string_view label;   // the text report's label; empty: not in the text line
  std::string_view metric;  // after "xarb_" and the table's prefix; empty: not on /metrics
  MetricType type = MetricType::none;
  std::string_view help;
  FieldValue (*get)(const Row&) = nullptr;
  // Fields kept in the row (not computed from others) are read back from report.json.
  void (*set)(Row&, const FieldValue&) = nullptr;
};

// A market-data and order counter per venue (report.json venues.<name>, /metrics {venue=...}).
[[nodiscard]] std::span<const ReportField<VenueReport>> venue_fields();
// The private stream of a venue that has one (report.json venues.<name>.private_stream,
// /metrics xarb_private_stream_*).
[[nodiscard]] std::span<const ReportField<VenueReport>> stream_fields();
// The run's own figures (report.json's top level and its "exec" and "journal" objects).
[[nodiscard]] std::span<const ReportField<RunReport>> run_fields();
[[nodiscard]] std::span<const ReportField<RunReport>> exec_fields();
[[nodiscard]] std::span<const ReportField<RunReport>> journal_fields();
// What was traded per symbol and per pair (/metrics: the pairs, xarb_pair_*).
[[nodiscard]] std::span<const ReportField<TradeReport>> trade_fields();
// Rows per venue and asset: balances against the ledger (xarb_balance_*), the inventory
// (xarb_inventory_*), dust (xarb_dust).
[[nodiscard]] std::span<const ReportField<BalanceReport>> balance_fields();
[[nodiscard]] std::span<const ReportField<InventoryReport>> inventory_fields();
[[nodiscard]] std::span<const ReportField<DustReport>> dust_fields();
// Headroom per pair, symbol and direction (xarb_inventory_headroom_*).
[[nodiscard]] std::span<const ReportField<HeadroomReport>> headroom_fields();

// A value as report.json and /metrics write it: money and quantities as exact decimal text,
// doubles as the shortest text that reads back the same, flags as 1/0 (metrics) or true/false.
[[nodiscard]] std::string metric_text(const FieldValue& v);

}  // namespace xarb::app
