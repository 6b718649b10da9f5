// The control endpoint under /sim/ on every venue's port: the summary, the accounts' balances,
// the orders that executed, and the injected faults (read and changed while running).

#include <cstdio>
#include <optional>

#include <xarb/venues/registry.hpp>

#include "simulator_internal.hpp"
#include "text.hpp"

namespace xarb::sim {

HttpResult Simulator::Impl::control(const HttpRequest& r) {
  HttpResult res;
  if (r.path() == "/sim/summary") {
    res.body = summary_now().text();
    return res;
  }
  if (r.path() == "/sim/accounts") {
    // Every account's balances as exact decimals, for a test or a script to compare with what
    // the engine believes it holds. Keys are cut to their first four characters.
    res.body = R"({"accounts":[)";
    bool first = true;
    for (const AccountSpec& a : exchange.accounts()) {
      res.body += first ? "{" : ",{";
      first = false;
      res.body += R"("venue":")" + std::string(to_string(a.venue)) + R"(","key":")" +
                  a.key.substr(0, 4) + R"(","bnb_fees":)" + (a.bnb_fees ? "true" : "false") +
                  R"(,"balances":{)";
      bool first_asset = true;
      for (const auto& [asset, m] : a.balances) {
        res.body += (first_asset ? "\"" : ",\"") + asset + R"(":")" + text::dec8(m) + "\"";
        first_asset = false;
      }
      res.body += "}}";
    }
    res.body += "]}";
    return res;
  }
  if (r.path() == "/sim/orders") {
    // Every order the venues executed something of: what a test compares with the journal.
    res.body = R"({"orders":[)";
    bool first = true;
    for (const auto& [key, o] : exchange.orders()) {
      if (o.executed == 0) continue;
      res.body += first ? "{" : ",{";
      first = false;
      res.body += R"("venue":")" + std::string(to_string(o.venue)) + R"(","client_id":")" +
                  o.client_id + R"(","asset":")" + exchange.base_of(o.symbol) + R"(","side":")" +
                  (o.buy ? "buy" : "sell") + R"(","executed":")" + text::dec8(o.executed) +
                  R"(","fee_base":")" + text::dec8(o.fee_base) + R"(","fee_bnb":")" +
                  text::dec8(o.fee_bnb) + "\"}";
    }
    res.body += "]}";
    return res;
  }
  if (r.path() == "/sim/probes") {
    res.body = probe.stats.json();
    if (r.query().find("reset=1") != std::string::npos) probe.stats = ProbeStats{};
    return res;
  }
  if (r.path() == "/sim/transfer") {
    // An operator's deposit (+) or withdrawal (-) at a venue, outside any order: the first
    // account of `venue` moves by `amount` of `asset` (what a fault campaign pairs with
    // `xarb ctl transfer`). Refused when it would leave less than nothing.
    const std::map<std::string, std::string> q = text::params_of(r.query());
    const auto get = [&](const char* k) {
      const auto it = q.find(k);
      return it == q.end() ? std::string() : it->second;
    };
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
  if (r.path() != "/sim/faults") {
    res.status = 404;
    res.body = R"({"error":"unknown control path"})";
    return res;
  }
  FaultParams& f = exchange.faults();
  const std::map<std::string, double*> doubles = {{"reject_share", &f.reject_share},
                                                  {"partial_share", &f.partial_share},
                                                  {"error_5xx_share", &f.error_5xx_share},
                                                  {"timeout_share", &f.timeout_share},
                                                  {"drop_ws_every_s", &f.drop_ws_every_s},
                                                  {"drop_ws_probability", &f.drop_ws_probability},
                                                  {"late_accept_share", &f.late_accept_share},
                                                  {"slow_answer_share", &f.slow_answer_share},
                                                  {"private_miss_share", &f.private_miss_share}};
  for (const auto& [k, v] : text::params_of(r.query())) {
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
        for (const auto& w : sessions) {
          if (auto sess = w.lock()) {
            sess->close();
            ++counts.ws_dropped;
          }
        }
      } else {
        res.status = 400;
        res.body = R"({"error":"unknown fault )" + k + R"("})";
        return res;
      }
    } catch (const std::exception&) {
      res.status = 400;
      res.body = R"({"error":"bad value for )" + k + R"("})";
      return res;
    }
  }
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
  res.body = buf;
  return res;
}

}  // namespace xarb::sim
