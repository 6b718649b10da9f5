#include <xarb/app/event_log.hpp>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include <spdlog/logger.h>
#include <spdlog/sinks/rotating_file_sink.h>

#include <xarb/app/config.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

using nlohmann::json;

json leg_json(const LegReport& leg, const std::string& symbol) {
  json j = {{"venue", std::string(to_string(leg.venue))},
            {"side", std::string(to_string(leg.side))},
            {"symbol", symbol},
            {"client_order_id", std::string(leg.client_order_id.view())},
            {"state", std::string(to_string(leg.state))},
            {"status", std::string(to_string(leg.status))},
            {"requested_qty", to_string(leg.requested_qty)},
            {"filled_qty", to_string(leg.filled_qty)},
            {"avg_price", to_string(leg.avg_price)},
            {"fee", to_string(leg.fee)},
            {"latency_ns", leg.latency_ns}};
  if (leg.fee_base.is_positive()) j["fee_base"] = to_string(leg.fee_base);
  if (leg.fee_bnb.is_positive()) j["fee_bnb"] = to_string(leg.fee_bnb);
  if (leg.unwound_qty.is_positive()) {
    j["unwound_qty"] = to_string(leg.unwound_qty);
    j["unwind_avg_price"] = to_string(leg.unwind_avg_price);
  }
  if (leg.error.present()) {
    j["error"] = {{"http_status", leg.error.http_status},
                  {"code", leg.error.code},
                  {"name", std::string(leg.error.name.view())},
                  {"message", std::string(leg.error.message.view())}};
  }
  return j;
}

}  // namespace

std::string iso_time(std::int64_t wall_ns) {
  const std::time_t s = wall_ns / 1'000'000'000;
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ",
                static_cast<long long>((wall_ns % 1'000'000'000) / 1'000));
  return std::string(buf, n) + frac;
}

EventLog::EventLog(const std::filesystem::path& path, std::size_t max_bytes, std::size_t files,
                   const SymbolMap& symbols, std::uint64_t run_id)
    : symbols_(symbols), run_id_(run_id) {
  try {
    auto sink =
        std::make_shared<spdlog::sinks::rotating_file_sink_st>(path.string(), max_bytes, files);
    logger_ = std::make_shared<spdlog::logger>("events", std::move(sink));
    logger_->set_pattern("%v");
    logger_->set_level(spdlog::level::info);
    logger_->flush_on(spdlog::level::err);
  } catch (const std::exception& e) {
    throw std::runtime_error("log: cannot open " + path.string() + ": " + e.what());
  }
}

EventLog::~EventLog() {
  if (logger_) logger_->flush();
}

std::string EventLog::symbol(InstrumentId i) const {
  return i < symbols_.size() ? std::string(symbols_[i].base.view()) : std::string("?");
}

void EventLog::write(const std::string& line) { logger_->info(line); }

void EventLog::flush() { logger_->flush(); }

std::string EventLog::line(const OpsEvent& e) const {
  json j = {{"ts", iso_time(e.wall_ns)}, {"run", run_id_}};
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, OrderIntent>) {
          j["event"] = "intent";
          j["intent"] = body.intent_id;
          j["position"] = body.position_id;
          j["kind"] = std::string(to_string(body.kind));
          j["direction"] = std::string(to_string(body.direction));
          if (body.exit_reason != ExitReason::none) {
            j["exit_reason"] = std::string(to_string(body.exit_reason));
          }
          j["fx_rate"] = to_string(body.fx_rate);
          j["edge_bps"] = body.edge_bps;
          j["legs"] = json::array();
          for (const LegIntent& leg : body.legs) {
            if (leg.venue == kNoVenue) continue;
            j["legs"].push_back({{"venue", std::string(to_string(leg.venue))},
                                 {"side", std::string(to_string(leg.side))},
                                 {"symbol", symbol(leg.instrument)},
                                 {"qty", to_string(leg.quantity)},
                                 {"limit_price", to_string(leg.limit_price)}});
          }
        } else if constexpr (std::is_same_v<T, ExecReport>) {
          j["event"] = body.settles ? "settlement" : "exec_report";
          j["intent"] = body.intent_id;
          j["position"] = body.position_id;
          j["kind"] = std::string(to_string(body.kind));
          j["outcome"] = std::string(to_string(body.outcome));
          if (body.refusal != RefusalReason::none) {
            j["refusal"] = std::string(to_string(body.refusal));
          }
          j["legs"] = json::array();
          for (const LegReport& leg : body.legs) {
            if (leg.venue == kNoVenue) continue;
            j["legs"].push_back(leg_json(leg, symbol(leg.instrument)));
          }
        } else if constexpr (std::is_same_v<T, PositionChange>) {
          j["event"] = "position";
          j["position"] = body.position_id;
          j["symbol"] = symbol(body.instrument);
          j["pair"] = to_string(body.pair);
          j["direction"] = std::string(to_string(body.direction));
          j["from"] = std::string(to_string(body.from));
          j["to"] = std::string(to_string(body.to));
          if (body.exit_reason != ExitReason::none) {
            j["exit_reason"] = std::string(to_string(body.exit_reason));
          }
          j["qty"] = to_string(body.qty);
          j["fx_rate"] = to_string(body.fx_rate);
          if (body.to == PositionState::closed) {
            j["realized_pnl_krw"] = to_string(body.realized_krw);
          }
        } else if constexpr (std::is_same_v<T, RiskRefusal>) {
          j["event"] = "refusal";
          j["reason"] = std::string(to_string(body.reason));
          j["symbol"] = symbol(body.instrument);
          j["pair"] = to_string(body.pair);
          j["direction"] = std::string(to_string(body.direction));
          j["kind"] = std::string(to_string(body.kind));
          j["edge_bps"] = body.edge_bps;
        } else if constexpr (std::is_same_v<T, LogRecord>) {
          constexpr std::array<std::string_view, 4> kLevels = {"debug", "info", "warn", "error"};
          j["event"] = "log";
          j["level"] = std::string(kLevels[static_cast<std::size_t>(body.level) & 3]);
          j["text"] = std::string(body.text.view());
        }
      },
      e.body);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void EventLog::event(const OpsEvent& e) { write(line(e)); }

void EventLog::notice(const Notice& n) {
  json j = {{"ts", iso_time(n.wall_ns)},
            {"run", run_id_},
            {"event", "notice"},
            {"kind", to_string(n.kind)},
            {"severity", to_string(n.severity)},
            {"key", n.key},
            {"text", n.text}};
  for (const auto& [k, v] : n.fields) j[k] = v;
  write(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

void EventLog::alert(const JournalAlert& a) {
  json j = {{"ts", iso_time(a.wall_ns)},
            {"run", run_id_},
            {"event", "alert"},
            {"channel", a.channel},
            {"kind", a.kind},
            {"severity", a.severity},
            {"key", a.key},
            {"sent", a.sent},
            {"attempts", a.attempts}};
  if (!a.error.empty()) j["error"] = a.error;
  write(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

void EventLog::run_started(std::int64_t wall_ns, std::string_view mode,
                           const std::vector<Venue>& venues) {
  json j = {{"ts", iso_time(wall_ns)},
            {"run", run_id_},
            {"event", "run_started"},
            {"mode", std::string(mode)}};
  j["venues"] = json::array();
  for (const Venue v : venues) j["venues"].push_back(std::string(to_string(v)));
  write(j.dump(-1, ' ', false, json::error_handler_t::replace));
  flush();
}

void EventLog::run_stopped(std::int64_t wall_ns, const RunReport& r) {
  json j = {{"ts", iso_time(wall_ns)},
            {"run", run_id_},
            {"event", "run_stopped"},
            {"duration_s", r.duration_s},
            {"entries", r.entries},
            {"closed", r.closed},
            {"open", r.open_positions},
            {"broken", r.broken},
            {"realized_pnl_krw", to_string(r.realized_krw)},
            {"risk_mode", r.risk_mode},
            {"journal_errors", r.journal_errors}};
  write(j.dump(-1, ' ', false, json::error_handler_t::replace));
  flush();
}

}  // namespace xarb::app
