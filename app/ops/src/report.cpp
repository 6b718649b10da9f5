#include <iomanip>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <tuple>

#include <xarb/app/report_output.hpp>
#include <xarb/venues/registry.hpp>

#include "field_writers.hpp"

namespace xarb::app {
namespace {

std::string us(std::int64_t ns) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << static_cast<double>(ns) / 1000.0;
  return s.str();
}

// KRW for a person: two decimals, rounded down (report.json and /metrics carry every decimal).
std::string krw(Decimal v) {
  char buf[Decimal::kMaxChars + 2];
  const FormatResult f = format_to_step(v, Decimal::from_mantissa(Decimal::kOne / 100),
                                        Rounding::down, buf, buf + sizeof buf);
  return f.ec == Errc::ok ? std::string(buf, f.end) : to_string(v);
}

std::uint64_t exits_total(const RunReport& r) {
  std::uint64_t n = 0;
  for (const auto e : r.exits) n += e;
  return n;
}

}  // namespace

void print_status_line(std::ostream& out, const RunReport& r) {
  std::uint64_t blocked = 0;
  for (const auto& [reason, n] : r.blocked) blocked += n;
  const LatencyReport* t2o = nullptr;
  for (const auto& l : r.latencies) {
    if (l.name == "tick_to_order") t2o = &l;
  }
  out << "[" << std::fixed << std::setprecision(0) << r.duration_s << " s] frames";
  for (const Venue v : r.traded) out << ' ' << to_string(v) << ' ' << r.venues[index(v)].frames;
  out << " | entries " << r.entries << " exits " << exits_total(r) << " blocked " << blocked
      << " | open " << r.open_positions << " closed " << r.closed << " winrate "
      << std::setprecision(2) << r.winrate << " | PnL " << krw(r.realized_krw)
      << " KRW (unrealised " << krw(r.unrealized_krw) << ")";
  if (t2o != nullptr && t2o->count > 0) {
    out << " | tick-to-order p50 " << us(t2o->p50_ns) << " us p99 " << us(t2o->p99_ns) << " us";
  }
  out << " | rss " << r.rss_kib / 1024 << " MiB\n";
  out.unsetf(std::ios::floatfield);
}

namespace {

// Latencies, queues and threads: how the engine itself ran.
void print_engine(std::ostream& out, const RunReport& r) {
  out << "latency (us)          count      p50      p99    p99.9      max\n";
  for (const LatencyReport& l : r.latencies) {
    out << "  " << std::left << std::setw(16) << l.name << std::right << std::setw(10) << l.count
        << std::setw(9) << us(l.p50_ns) << std::setw(9) << us(l.p99_ns) << std::setw(9)
        << us(l.p999_ns) << std::setw(9) << us(l.max_ns) << '\n';
  }
  out << "queues              capacity high-water  drops\n";
  for (const QueueReport& q : r.queues) {
    out << "  " << std::left << std::setw(16) << q.name << std::right << std::setw(10) << q.capacity
        << std::setw(11) << q.high_water << std::setw(7) << q.drops << '\n';
  }
  if (!r.threads.empty()) out << "threads\n";  // none in a backtest
  for (const ThreadReport& t : r.threads) {
    out << "  " << std::left << std::setw(8) << t.name << std::setw(18) << t.stages << std::right
        << "cpu " << (t.cpu < 0 ? std::string("-") : std::to_string(t.cpu)) << ", wait " << t.wait
        << ", cpu time " << std::setprecision(2) << t.cpu_s << " s\n";
  }
}

}  // namespace

void print_report(std::ostream& out, const RunReport& r) {
  out << "== xarb run " << r.run_id << " (" << r.mode << "), " << std::fixed << std::setprecision(1)
      << r.duration_s << " s ==\n";
  out << "market data\n";
  for (const Venue v : r.traded) {
    const VenueReport& s = r.venues[index(v)];
    out << "  " << std::left << std::setw(8) << to_string(v) << std::right;
    fields::put_text(out, venue_fields(), s);
    out << (s.healthy ? "" : ", UNHEALTHY") << '\n';
  }
  for (const Venue v : r.traded) {
    const VenueReport& s = r.venues[index(v)];
    if (!s.private_stream) continue;
    out << "  " << std::left << std::setw(8) << to_string(v) << std::right << "private stream "
        << (s.stream_up ? "up" : "down") << ", ";
    fields::put_text(out, stream_fields(), s);
    if (!s.stream_last_mismatch.empty()) out << " (last: " << s.stream_last_mismatch << ")";
    out << '\n';
  }
  out << "strategy\n  ";
  fields::put_text(out, run_fields(), r);
  out << "\n  exits by reason:";
  bool any = false;
  for (std::size_t k = 1; k < kExitReasonCount; ++k) {
    if (r.exits[k] == 0) continue;
    out << ' ' << to_string(static_cast<ExitReason>(k)) << ' ' << r.exits[k];
    any = true;
  }
  out << (any ? "" : " none") << '\n';
  out << "  blocked intents by reason:";
  for (const auto& [reason, n] : r.blocked) out << ' ' << reason << ' ' << n;
  out << (r.blocked.empty() ? " none" : "") << '\n';
  out << "  execution outcomes:";
  for (std::size_t k = 0; k < r.outcomes.size(); ++k) {
    out << ' ' << to_string(static_cast<ExecOutcome>(k)) << ' ' << r.outcomes[k];
  }
  out << " (";
  fields::put_text(out, exec_fields(), r);
  out << ")\n";
  if (r.exec_settled + r.exec_unsettled > 0) {
    out << "  orders left unknown: " << r.exec_settled << " settled later by their venue, "
        << r.exec_unsettled
        << " still unknown (their positions held BROKEN; the next start asks)\n";
  }
  out << "  winrate " << std::setprecision(2) << r.winrate << ", realised PnL "
      << krw(r.realized_krw) << " KRW, unrealised " << krw(r.unrealized_krw) << " KRW, risk mode "
      << r.risk_mode << '\n';
  for (const auto& [what, rows] : {std::pair{"symbol", &r.symbols}, std::pair{"pair", &r.pairs}}) {
    out << "  " << std::left << std::setw(15) << what << std::right;
    fields::put_header(out, trade_fields(), 12);
    out << '\n';
    for (const TradeReport& s : *rows) {
      out << "  " << std::left << std::setw(15) << s.name << std::right;
      fields::put_columns(out, trade_fields(), s, 12);
      out << '\n';
    }
  }
  print_engine(out, r);
  if (!r.balances.empty()) {
    out << "balances (" << r.reconciliations << " reconciliations)";
    fields::put_header(out, balance_fields(), 0);
    out << '\n';
    for (const BalanceReport& b : r.balances) {
      out << "  " << std::left << std::setw(8) << to_string(b.venue) << std::setw(5) << b.asset
          << std::right;
      fields::put_columns(out, balance_fields(), b, 0);
      out << (b.unexplained ? "  (unexplained: REDUCING)" : "") << '\n';
    }
  }
  if (!r.dust.empty()) {
    out << "dust left by closed positions (under the venues' minimums)\n";
    for (const DustReport& d : r.dust) {
      out << "  " << std::left << std::setw(8) << to_string(d.venue) << std::setw(5) << d.asset
          << std::right << ' ' << to_string(d.qty) << "  (" << d.positions << " positions)\n";
    }
  }
  print_inventory(out, r);
  if (r.peak_rss_kib > 0) {  // not measured in a backtest, whose report must repeat exactly
    out << "memory: peak RSS " << r.peak_rss_kib / 1024 << " MiB, now " << r.rss_kib / 1024
        << " MiB; ";
  }
  fields::put_text(out, journal_fields(), r);
  out << '\n';
  out.unsetf(std::ios::floatfield);
}

void print_inventory(std::ostream& out, const RunReport& r) {
  if (r.inventory.empty()) return;
  out << "inventory\n  " << std::left << std::setw(8) << "venue" << std::setw(6) << "asset";
  fields::put_header(out, inventory_fields(), 14);
  out << std::right << '\n';
  for (const InventoryReport& i : r.inventory) {
    out << "  " << std::left << std::setw(8) << to_string(i.venue) << std::setw(6) << i.asset;
    fields::put_columns(out, inventory_fields(), i, 14);
    out << (i.from_venue ? "" : "  (engine's figure)") << std::right << '\n';
  }
  if (!r.headroom.empty()) {
    out << "headroom before a floor (or running out)\n";
    for (const HeadroomReport& h : r.headroom) {
      out << "  " << std::left << std::setw(16) << h.pair << std::setw(6) << h.symbol
          << std::setw(8) << h.direction << std::right;
      if (h.known) {
        out << ' ' << to_string(h.qty) << " (" << h.entries << " entries), bound by " << h.bound_by
            << '\n';
      } else {
        out << " unknown (no books yet)\n";
      }
    }
  }
  if (r.rebalance.moves.empty() && r.rebalance.notes.empty()) {
    out << "rebalance plan: nothing to move\n";
    return;
  }
  out << "rebalance plan (nothing is withdrawn)\n";
  for (const RebalanceMove& m : r.rebalance.moves) {
    out << "  move " << to_string(m.amount) << ' ' << m.asset << " from " << to_string(m.from)
        << " to " << to_string(m.to) << ", withdrawal fee "
        << (m.fee_known ? to_string(m.fee) + " " + m.asset : std::string("not configured"))
        << "; then " << to_string(m.from) << ' ' << to_string(m.from_after) << ", "
        << to_string(m.to) << ' ' << to_string(m.to_after) << '\n';
  }
  for (const std::string& n : r.rebalance.notes) out << "  note: " << n << '\n';
}

namespace {

nlohmann::json inventory_json(const RunReport& r) {
  using nlohmann::json;
  json j;
  j["assets"] = json::array();
  for (const InventoryReport& i : r.inventory) {
    json one = {{"venue", std::string(to_string(i.venue))}, {"asset", i.asset}};
    fields::put_json(one, inventory_fields(), i);
    j["assets"].push_back(std::move(one));
  }
  j["headroom"] = json::array();
  for (const HeadroomReport& h : r.headroom) {
    json one = {{"pair", h.pair}, {"symbol", h.symbol}, {"direction", h.direction}};
    fields::put_json(one, headroom_fields(), h);
    j["headroom"].push_back(std::move(one));
  }
  j["rebalance"] = {{"moves", json::array()}, {"notes", r.rebalance.notes}};
  for (const RebalanceMove& m : r.rebalance.moves) {
    j["rebalance"]["moves"].push_back({{"asset", m.asset},
                                       {"from", std::string(to_string(m.from))},
                                       {"to", std::string(to_string(m.to))},
                                       {"amount", to_string(m.amount)},
                                       {"fee", to_string(m.fee)},
                                       {"fee_known", m.fee_known},
                                       {"from_after", to_string(m.from_after)},
                                       {"to_after", to_string(m.to_after)}});
  }
  return j;
}

// Rows per venue and asset (balances, dust): the venue and asset, then the row's fields.
template <class Row>
nlohmann::json per_asset(const std::vector<Row>& rows, std::span<const ReportField<Row>> table) {
  nlohmann::json out = nlohmann::json::array();
  for (const Row& row : rows) {
    nlohmann::json one = {{"venue", std::string(to_string(row.venue))}, {"asset", row.asset}};
    fields::put_json(one, table, row);
    out.push_back(std::move(one));
  }
  return out;
}

Decimal decimal_of(const nlohmann::json& j, const char* key) {
  Decimal d;
  if (!j.contains(key) || !j[key].is_string() ||
      Decimal::parse(j[key].get<std::string>(), d) != Errc::ok) {
    throw std::runtime_error(std::string("\"") + key + "\" is not a decimal string");
  }
  return d;
}

Venue venue_of(const nlohmann::json& j, const char* key) {
  const auto v = venues::from_name(j.at(key).get<std::string>());
  if (!v) throw std::runtime_error(std::string("\"") + key + "\" names no venue");
  return *v;
}

}  // namespace

bool read_inventory(const std::string& report_text, RunReport& out, std::string& error) {
  try {
    const nlohmann::json root = nlohmann::json::parse(report_text);
    if (!root.contains("inventory")) {
      error = "it has no \"inventory\" section (written by an older xarb?)";
      return false;
    }
    const nlohmann::json& j = root["inventory"];
    if (root.contains("run_id")) out.run_id = root["run_id"].get<std::uint64_t>();
    if (root.contains("mode")) out.mode = root["mode"].get<std::string>();
    for (const auto& a : j.at("assets")) {
      InventoryReport i;
      i.venue = venue_of(a, "venue");
      i.asset = a.at("asset").get<std::string>();
      fields::read_json(a, inventory_fields(), i);
      out.inventory.push_back(std::move(i));
    }
    for (const auto& h : j.at("headroom")) {
      HeadroomReport one;
      one.pair = h.at("pair").get<std::string>();
      one.symbol = h.at("symbol").get<std::string>();
      one.direction = h.at("direction").get<std::string>();
      fields::read_json(h, headroom_fields(), one);
      out.headroom.push_back(std::move(one));
    }
    for (const auto& m : j.at("rebalance").at("moves")) {
      out.rebalance.moves.push_back({m.at("asset").get<std::string>(), venue_of(m, "from"),
                                     venue_of(m, "to"), decimal_of(m, "amount"),
                                     decimal_of(m, "fee"), m.at("fee_known").get<bool>(),
                                     decimal_of(m, "from_after"), decimal_of(m, "to_after")});
    }
    out.rebalance.notes = j.at("rebalance").at("notes").get<std::vector<std::string>>();
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

std::string report_json(const RunReport& r) {
  using nlohmann::json;
  json j;
  j["run_id"] = r.run_id;
  j["mode"] = r.mode;
  j["duration_s"] = r.duration_s;
  for (const Venue v : r.traded) {
    const VenueReport& s = r.venues[index(v)];
    json& one = j["venues"][std::string(to_string(v))];
    fields::put_json(one, venue_fields(), s);
    if (s.private_stream) fields::put_json(one["private_stream"], stream_fields(), s);
  }
  fields::put_json(j, run_fields(), r);
  fields::put_json(j["exec"], exec_fields(), r);
  fields::put_json(j["journal"], journal_fields(), r);
  json exits = json::object();
  for (std::size_t k = 1; k < kExitReasonCount; ++k) {
    exits[std::string(to_string(static_cast<ExitReason>(k)))] = r.exits[k];
  }
  j["exits"] = exits;
  j["blocked"] = r.blocked;
  json outcomes = json::object();
  for (std::size_t k = 0; k < r.outcomes.size(); ++k) {
    outcomes[std::string(to_string(static_cast<ExecOutcome>(k)))] = r.outcomes[k];
  }
  j["outcomes"] = outcomes;
  for (const auto& [key, rows, name] :
       {std::tuple{"symbols", &r.symbols, "symbol"}, std::tuple{"pairs", &r.pairs, "pair"}}) {
    j[key] = json::array();
    for (const TradeReport& s : *rows) {
      json one = {{name, s.name}};
      fields::put_json(one, trade_fields(), s);
      j[key].push_back(std::move(one));
    }
  }
  j["latency_ns"] = json::object();
  for (const LatencyReport& l : r.latencies) {
    j["latency_ns"][l.name] = {{"count", l.count},
                               {"p50", l.p50_ns},
                               {"p99", l.p99_ns},
                               {"p99_9", l.p999_ns},
                               {"max", l.max_ns}};
  }
  j["queues"] = json::object();
  for (const QueueReport& q : r.queues) {
    j["queues"][q.name] = {
        {"capacity", q.capacity}, {"high_water", q.high_water}, {"drops", q.drops}};
  }
  j["threads"] = json::array();
  for (const ThreadReport& t : r.threads) {
    j["threads"].push_back({{"name", t.name},
                            {"stages", t.stages},
                            {"cpu", t.cpu},
                            {"wait", t.wait},
                            {"cpu_s", t.cpu_s}});
  }
  j["balances"] = per_asset(r.balances, balance_fields());
  j["dust"] = per_asset(r.dust, dust_fields());
  j["inventory"] = inventory_json(r);
  return j.dump(2) + "\n";
}

}  // namespace xarb::app
