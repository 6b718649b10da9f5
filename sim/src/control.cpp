// The control endpoint under /sim/ on every venue's port: the summary, the accounts' balances,
// the orders that executed, and the injected faults (read and changed while running).

#include <cstdio>
#include <functional>
#include <string>
#include <optional>

#include <xarb/venues/registry.hpp>

#include "simulator_internal.hpp"
#include "text.hpp"

namespace xarb::sim {

namespace {

// Every account's balances as exact decimals, for a test or a script to compare with what the
// engine believes it holds. Keys are cut to their first four characters.
std::string accounts_json(const Exchange& exchange) {
  std::string out = R"({"accounts":[)";
  bool first = true;
  for (const AccountSpec& a : exchange.accounts()) {
    out += first ? "{" : ",{";
    first = false;
    out += R"("venue":")" + std::string(to_string(a.venue)) + R"(","key":")" +
                a.key.substr(0, 4) + R"(","bnb_fees":)" + (a.bnb_fees ? "true" : "false") +
                R"(,"balances":{)";
    bool first_asset = true;
    for (const auto& [asset, m] : a.balances) {
      out += (first_asset ? "\"" : ",\"") + asset + R"(":")" + text::dec8(m) + "\"";
      first_asset = false;
    }
    out += "}}";
  }
  out += "]}";
  return out;
}

// Every order the venues executed something of: what a test compares with the journal.
std::string orders_json(const Exchange& exchange) {
  std::string out = R"({"orders":[)";
  bool first = true;
  for (const auto& [key, o] : exchange.orders()) {
    if (o.executed == 0) continue;
    out += first ? "{" : ",{";
    first = false;
    out += R"("venue":")" + std::string(to_string(o.venue)) + R"(","client_id":")" +
                o.client_id + R"(","asset":")" + exchange.base_of(o.symbol) + R"(","side":")" +
                (o.buy ? "buy" : "sell") + R"(","executed":")" + text::dec8(o.executed) +
                R"(","fee_base":")" + text::dec8(o.fee_base) + R"(","fee_bnb":")" +
                text::dec8(o.fee_bnb) + "\"}";
  }
  out += "]}";
  return out;
}

// An operator's deposit (+) or withdrawal (-) at a venue, outside any order: the first account
// of `venue` moves by `amount` of `asset` (what a fault campaign pairs with `xarb ctl
// transfer`). Refused when it would leave less than nothing.
HttpResult transfer(Exchange& exchange, const std::string& query) {
  HttpResult res;
  const std::map<std::string, std::string> q = text::params_of(query);
  const auto get = [&](const char* k) { return text::param(q, k); };
  const std::optional<Venue> v = venues::from_name(get("venue"));
  Decimal amount;
  const std::string asset = get("asset");
  res.status = 400;
  if (!v || asset.empty() || Decimal::parse(get("amount"), amount) != Errc::ok) {
    res.body = R"({"error":"transfer takes venue, asset and amount"})";
    return res;
  }
  for (const AccountSpec& a : exchange.accounts()) {
    if (a.venue != *v) continue;
    const auto it = a.balances.find(asset);
    const std::int64_t held = it == a.balances.end() ? 0 : it->second;
    if (held + amount.mantissa() < 0) {
      res.body = R"({"error":"less than nothing would be left"})";
      return res;
    }
    exchange.adjust_balance(*v, a.key, asset, amount.mantissa());
    res.status = 200;
    res.body = R"({"ok":true,"held":")" + text::dec8(held + amount.mantissa()) + "\"}";
    return res;
  }
  res.body = R"({"error":"no account at that venue"})";
  return res;
}

// The faults a query sets (name=value each); an error text for a name or value it refuses.
std::string set_faults(FaultParams& f, const std::string& query,
                       const std::function<void()>& drop_ws_now) {
  const std::map<std::string, double*> doubles = {{"reject_share", &f.reject_share},
                                                  {"partial_share", &f.partial_share},
                                                  {"error_5xx_share", &f.error_5xx_share},
                                                  {"timeout_share", &f.timeout_share},
                                                  {"drop_ws_every_s", &f.drop_ws_every_s},
                                                  {"drop_ws_probability", &f.drop_ws_probability},
                                                  {"late_accept_share", &f.late_accept_share},
                                                  {"slow_answer_share", &f.slow_answer_share},
                                                  {"private_miss_share", &f.private_miss_share}};
  for (const auto& [k, v] : text::params_of(query)) {
    try {
      if (const auto it = doubles.find(k); it != doubles.end()) {
        *it->second = std::stod(v);
      } else if (k == "rest_delay_ms") {
        f.rest_delay_ms = std::stoi(v);
      } else if (k == "stall_feed_ms") {
        f.stall_feed_ms = std::stoi(v);
      } else if (k == "stall_private_ms") {
        f.stall_private_ms = std::stoi(v);
      } else if (k == "slow_answer_ms") {
        f.slow_answer_ms = std::stoi(v);
      } else if (k == "late_accept_ms") {
        f.late_accept_ms = std::stoi(v);
      } else if (k == "omit_retry_after") {
        f.omit_retry_after = std::stoi(v) != 0;
      } else if (k == "clock_skew_ms") {
        f.clock_skew_ms = std::stoll(v);
      } else if (k == "drop_ws_now") {
        drop_ws_now();
      } else {
        return R"({"error":"unknown fault )" + k + R"("})";
      }
    } catch (const std::exception&) {
      return R"({"error":"bad value for )" + k + R"("})";
    }
  }
  return {};
}

std::string faults_json(const FaultParams& f) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                R"({"reject_share":%g,"partial_share":%g,"error_5xx_share":%g,"timeout_share":%g,)"
                R"("rest_delay_ms":%d,"clock_skew_ms":%lld,"drop_ws_every_s":%g,)"
                R"("drop_ws_probability":%g,"stall_feed_ms":%d,"late_accept_share":%g,)"
                R"("late_accept_ms":%d,"slow_answer_share":%g,"slow_answer_ms":%d,)"
                R"("omit_retry_after":%s,"private_miss_share":%g,"stall_private_ms":%d})",
                f.reject_share, f.partial_share, f.error_5xx_share, f.timeout_share,
                f.rest_delay_ms, static_cast<long long>(f.clock_skew_ms), f.drop_ws_every_s,
                f.drop_ws_probability, f.stall_feed_ms, f.late_accept_share, f.late_accept_ms,
                f.slow_answer_share, f.slow_answer_ms, f.omit_retry_after ? "true" : "false",
                f.private_miss_share, f.stall_private_ms);
  return buf;
}

}  // namespace

HttpResult Simulator::Impl::control(const HttpRequest& r) {
  HttpResult res;
  const std::string path = r.path();
  if (path == "/sim/summary") {
    res.body = summary_now().text();
  } else if (path == "/sim/accounts") {
    res.body = accounts_json(exchange);
  } else if (path == "/sim/orders") {
    res.body = orders_json(exchange);
  } else if (path == "/sim/probes") {
    res.body = probe.stats.json();
    if (r.query().find("reset=1") != std::string::npos) probe.stats = ProbeStats{};
  } else if (path == "/sim/transfer") {
    return transfer(exchange, r.query());
  } else if (path == "/sim/faults") {
    FaultParams& f = exchange.faults();
    const std::string error = set_faults(f, r.query(), [this] {
      for (const auto& w : sessions) {
        if (auto sess = w.lock()) {
          sess->close();
          ++counts.ws_dropped;
        }
      }
    });
    res.status = error.empty() ? 200 : 400;
    res.body = error.empty() ? faults_json(f) : error;
  } else {
    res.status = 404;
    res.body = R"({"error":"unknown control path"})";
  }
  return res;
}

}  // namespace xarb::sim
