#pragma once

// One venue's REST front end over the exchange's state: its router, endpoints, authentication
// and answers, in its protocol's shapes (binance_rest.cpp, upbit_rest.cpp). The exchange owns one
// per venue of the registry and hands it each request; the front end reads and changes the
// accounts, orders and limits through the members below, which are the exchange's own.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <xarb/sim/exchange.hpp>

namespace xarb::sim {

class RestFront {
 public:
  virtual ~RestFront() = default;
  RestFront(const RestFront&) = delete;
  RestFront& operator=(const RestFront&) = delete;

  virtual HttpResult handle(const HttpRequest& r, Touched& touched) = 0;
  // A private websocket's upgrade, authenticated as the venue does it: the account's key, or
  // empty when it does not verify (or the venue authenticates its stream otherwise).
  virtual std::string stream_account(const HttpRequest& upgrade) {
    (void)upgrade;
    return {};
  }

 protected:
  using Params = std::map<std::string, std::string>;
  using Limiter = Exchange::Limiter;

  explicit RestFront(Exchange& x)
      : x_(x),
        market_(x.market_),
        accounts_(x.accounts_),
        venues_(x.venues_),
        limits_(x.limits_),
        faults_(x.faults_),
        orders_(x.orders_),
        limiters_(x.limiters_),
        nonces_(x.nonces_),
        next_order_id_(x.next_order_id_),
        private_(x.private_),
        stats_(x.stats_) {}

  [[nodiscard]] std::int64_t now_ms() const { return x_.now_ms(); }
  bool admit(Venue v, const std::string& key, int weight, bool order, HttpResult& error) {
    return x_.admit(v, key, weight, order, error);
  }
  void match(SimOrder& o, AccountSpec& account, Touched& touched) { x_.match(o, account, touched); }
  void lose_answer(SimOrder& stored, HttpResult& res) { x_.lose_answer(stored, res); }
  [[nodiscard]] bool visible(const SimOrder& o) const { return x_.visible(o); }
  [[nodiscard]] int find_symbol(Venue v, const std::string& name) const {
    return x_.find_symbol(v, name);
  }
  [[nodiscard]] exec::InstrumentRules rules(Venue v, std::size_t symbol) const {
    return x_.rules(v, symbol);
  }
  [[nodiscard]] double roll() { return x_.roll(); }
  [[nodiscard]] const std::string& base_of(std::size_t symbol) const { return x_.base_of(symbol); }
  void add_trade(const PublicTrade& t) { x_.add_trade(t); }
  [[nodiscard]] std::pair<std::int64_t, std::string> commission(const SimOrder& o,
                                                                const Trade& t) const {
    return x_.commission(o, t);
  }

  Exchange& x_;
  SyntheticMarket& market_;
  std::vector<AccountSpec>& accounts_;
  SimVenues& venues_;
  LimitParams& limits_;
  FaultParams& faults_;
  std::map<std::string, SimOrder>& orders_;
  std::map<std::string, Limiter>& limiters_;
  std::set<std::string>& nonces_;
  std::uint64_t& next_order_id_;
  std::vector<PrivateEvent>& private_;
  ExchangeStats& stats_;
};

}  // namespace xarb::sim
