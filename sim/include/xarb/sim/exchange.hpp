#pragma once

// The simulator's exchange: accounts and balances, orders matched against the simulator's own
// books at each venue's tick and step with fees, authentication exactly as each venue does it,
// rate limits with the venues' headers, and injected faults. Answers REST requests in each
// venue's documented shapes. Not thread-safe: the simulator's I/O thread owns it.

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <xarb/core/decimal.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/exec/rules.hpp>
#include <xarb/sim/market.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::sim {

struct AccountSpec {
  Venue venue = kNoVenue;
  std::string key;     // Binance API key / Upbit access key
  std::string secret;  // Binance secret / Upbit secret key
  std::map<std::string, std::int64_t> balances;  // asset -> free, Decimal mantissa
  // Binance's "use BNB to pay fees": commissions in BNB at a quarter off while the account holds
  // enough of it. Without it, as by default on Binance, a buy pays in the base asset it bought
  // and a sell in the quote it received.
  bool bnb_fees = false;
};

struct FaultParams {
  double reject_share = 0.0;     // orders refused as if the balance were short
  double partial_share = 0.0;    // orders filled only in part
  double error_5xx_share = 0.0;  // requests answered 503 (orders not executed)
  double timeout_share = 0.0;    // orders executed, answer never sent (connection dropped)
  int rest_delay_ms = 0;         // every REST answer delayed
  std::int64_t clock_skew_ms = 0;
  double drop_ws_every_s = 0.0;    // close every websocket this often (0: never)
  double drop_ws_probability = 0.0;  // per second, per connection
  int stall_feed_ms = 0;             // pause market data this long, every 10 s (0: never)
  // Orders whose answer is lost and which the venue's lookups do not find until
  // late_accept_ms later: accepted after the client gave up on them.
  double late_accept_share = 0.0;
  int late_accept_ms = 1500;
  // Order answers written this much later (executed at once): past the client's timeout.
  double slow_answer_share = 0.0;
  int slow_answer_ms = 3000;
  bool omit_retry_after = false;  // 429s without a Retry-After header
  // Private stream events (an order's execution or end, balances) never sent: a gap the client
  // cannot see, which only a query closes.
  double private_miss_share = 0.0;
  // Every 10 s the private streams fall silent this long: their events are held and then sent
  // all at once, late (0: never).
  int stall_private_ms = 0;
};

// What a venue does past its limits (each venue's own limits: SimVenueParams).
struct LimitParams {
  std::int64_t retry_after_s = 10;
  std::int64_t ban_s = 120;
  // A venue that bans (Binance: 418) does so to a client that keeps sending while a 429 is in
  // force: "repeatedly", in Binance's words. Requests already in flight when the 429 was written are not a client ignoring
  // it, so the ban comes with the ban_after_requests-th request during the block.
  std::int64_t ban_after_requests = 3;
};

struct HttpRequest {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // names lowercase

  [[nodiscard]] std::string path() const { return target.substr(0, target.find('?')); }
  [[nodiscard]] std::string query() const {
    const auto q = target.find('?');
    return q == std::string::npos ? std::string() : target.substr(q + 1);
  }
  [[nodiscard]] std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResult {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;
  bool drop = false;  // close without answering
};

struct Trade {
  std::int64_t price = 0;  // mantissas
  std::int64_t qty = 0;
  std::int64_t fee = 0;       // quote
  std::int64_t fee_base = 0;  // Binance buys without BNB
  std::int64_t fee_bnb = 0;   // Binance with the BNB option
  std::uint64_t id = 0;
};

struct SimOrder {
  Venue venue = kNoVenue;
  std::string account;  // key
  std::string client_id;
  std::string venue_id;  // Binance orderId, Upbit uuid
  std::size_t symbol = 0;
  bool buy = true;
  std::string type;  // LIMIT / MARKET (Binance); limit / price / market / best (Upbit)
  std::string tif;   // GTC / IOC / FOK, or ioc / fok / "" (Upbit)
  std::int64_t price = 0;
  std::int64_t qty = 0;        // requested base (0 for Upbit "price" orders)
  std::int64_t quote_qty = 0;  // requested quote (Upbit "price" / Binance quoteOrderQty)
  std::int64_t executed = 0;
  Int128 notional_e16 = 0;
  std::int64_t fee = 0;       // quote
  std::int64_t fee_base = 0;  // base asset
  std::int64_t fee_bnb = 0;
  std::string status;  // Binance names; Upbit state derived
  std::int64_t time_ms = 0;
  std::int64_t visible_from_ms = 0;  // lookups find it from then on (a late acceptance)
  std::vector<Trade> trades;
};

// One execution, for the public trade streams.
struct PublicTrade {
  Venue venue = kNoVenue;
  std::size_t symbol = 0;
  std::int64_t price = 0;
  std::int64_t qty = 0;
  bool buyer_is_taker = true;
  std::int64_t time_ms = 0;
  std::uint64_t id = 0;
};

// What a venue pushes on an account's private stream: an order's change (taken, one execution,
// done or cancelled) or the balances of some assets. Rendered by the venue's front end.
struct PrivateEvent {
  Venue venue = kNoVenue;
  std::string account;    // key
  std::string order_key;  // into Exchange::orders(); empty: balances only
  int trade = -1;         // the order's execution this event is (index into trades); -1: none
  // The KRW venues' names (wait, trade, done, cancel) or Binance's execution types (NEW, TRADE,
  // CANCELED, EXPIRED); on a balances-only event, "balanceUpdate" for a deposit or withdrawal
  // of `delta` of the one asset.
  std::string state;
  std::vector<std::string> assets;  // balances that changed (myAsset, outboundAccountPosition)
  std::int64_t time_ms = 0;         // when the venue pushes it
  std::int64_t delta = 0;           // balanceUpdate's, mantissa
};

struct ExchangeStats {
  std::map<std::string, std::uint64_t> orders_by_outcome;  // FILLED, EXPIRED, REJECTED, ...
  std::uint64_t requests = 0;
  std::uint64_t auth_failures = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t banned = 0;
  std::uint64_t faults = 0;
};

// The books an order changed: (venue, symbol).
using Touched = std::vector<std::pair<Venue, std::size_t>>;

class RestFront;  // a venue's REST front end (sim/src/venues/rest_front.hpp)

class Exchange {
 public:
  Exchange(SyntheticMarket& market, std::vector<AccountSpec> accounts, const SimVenues& venues,
           LimitParams limits, FaultParams faults, std::uint64_t seed);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // One REST request to a venue's front end. `touched` receives the books an order changed.
  HttpResult handle(Venue venue, const HttpRequest& request, Touched& touched);

  [[nodiscard]] std::int64_t now_ms() const;  // the venues' clock, skew included
  // A private websocket's upgrade request, authenticated as the venue does it: the account's key,
  // or empty when the token is missing or does not verify.
  [[nodiscard]] std::string stream_account(Venue venue, const HttpRequest& upgrade);
  [[nodiscard]] const AccountSpec* account(Venue venue, const std::string& key) const {
    for (const AccountSpec& a : accounts_) {
      if (a.venue == venue && a.key == key) return &a;
    }
    return nullptr;
  }
  // What an account holds of `asset` (mantissa; 0 for an account or asset it does not know).
  [[nodiscard]] std::int64_t balance(Venue venue, const std::string& key,
                                     const std::string& asset) const {
    const AccountSpec* a = account(venue, key);
    if (a == nullptr) return 0;
    const auto it = a->balances.find(asset);
    return it == a->balances.end() ? 0 : it->second;
  }
  // Private stream events due by now, in order (an order accepted late is announced when it is
  // accepted: its events wait until then).
  std::vector<PrivateEvent> take_private();
  [[nodiscard]] const ExchangeStats& stats() const noexcept { return stats_; }
  [[nodiscard]] FaultParams& faults() noexcept { return faults_; }
  [[nodiscard]] const std::vector<AccountSpec>& accounts() const noexcept { return accounts_; }
  // Every order taken, by venue + ":" + account + ":" + client id.
  [[nodiscard]] const std::map<std::string, SimOrder>& orders() const noexcept { return orders_; }
  [[nodiscard]] const std::string& base_of(std::size_t symbol) const {
    return symbol < market_.specs().size() ? market_.specs()[symbol].base : usdt_;
  }
  // Moves an account's balance by `delta` (mantissa) outside any order: a deposit, a withdrawal
  // or a trade made by someone else on the same account (a reconciliation drill).
  void adjust_balance(Venue venue, const std::string& key, const std::string& asset,
                      std::int64_t delta) {
    for (AccountSpec& a : accounts_) {
      if (a.venue == venue && a.key == key) a.balances[asset] += delta;
    }
    private_.push_back({venue, key, {}, -1, "balanceUpdate", {asset}, now_ms(), delta});
  }
  void set_fee_bps(Venue v, double bps) noexcept { venues_[index(v)].fee_bps = bps; }
  // BNB's price in USDT, for commissions paid in BNB (mantissa).
  void set_bnb_usdt(std::int64_t price) noexcept { bnb_usdt_ = price; }
  [[nodiscard]] exec::InstrumentRules rules(Venue venue, std::size_t symbol) const;
  [[nodiscard]] const LimitParams& limits() const noexcept { return limits_; }
  [[nodiscard]] const SimVenueParams& venue(Venue v) const noexcept { return venues_[index(v)]; }
  // A symbol's name on a venue (BTCUSDT, KRW-BTC).
  [[nodiscard]] const std::string& symbol_of(Venue venue, std::size_t symbol) const {
    return market_.market_name(venue, symbol);
  }
  // What one trade of an order was charged, and in which asset (the venue's fee asset, the base
  // of a buy on a venue that takes it from the coin bought, else the quote).
  [[nodiscard]] std::pair<std::int64_t, std::string> commission(const SimOrder& o,
                                                                const Trade& t) const;
  // Executions since the last call (orders' fills and the market's own trades).
  std::vector<PublicTrade> take_trades() { return std::exchange(trades_, {}); }
  void add_trade(PublicTrade t) {
    t.id = next_trade_id_++;
    trades_.push_back(t);
  }

 private:
  struct Limiter {
    std::vector<std::int64_t> weight_times;  // requests in the window (a weighted venue: one per unit)
    std::vector<std::int64_t> order_times;   // order requests in the order window
    std::int64_t blocked_until_ms = 0;
    bool banned = false;
    std::int64_t while_blocked = 0;  // requests during the current block
  };

  friend class RestFront;  // the venues' front ends work on the state below

  // Rate limit for `key` at `weight`; false with the 429/418 answer.
  bool admit(Venue venue, const std::string& key, int weight, bool order, HttpResult& error);
  void match(SimOrder& o, AccountSpec& account, Touched& touched);
  [[nodiscard]] Trade charged(const SimOrder& o, const AccountSpec& account, std::int64_t price,
                              std::int64_t take) const;
  [[nodiscard]] int find_symbol(Venue v, const std::string& name) const;
  [[nodiscard]] double roll() { return uniform_(rng_); }
  // The answer of a new order under the lost-answer faults: dropped (executed, the answer never
  // comes), dropped with the order hidden from lookups for a while (accepted late), or written
  // after the client's timeout.
  void lose_answer(SimOrder& stored, HttpResult& res);
  [[nodiscard]] bool visible(const SimOrder& o) const { return now_ms() >= o.visible_from_ms; }

  SyntheticMarket& market_;
  std::vector<AccountSpec> accounts_;
  SimVenues venues_;
  LimitParams limits_;
  FaultParams faults_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  std::map<std::string, SimOrder> orders_;  // venue + ":" + account + ":" + client id
  std::map<std::string, Limiter> limiters_;  // venue + ":" + key
  std::set<std::string> nonces_;
  std::uint64_t next_order_id_ = 1;
  std::uint64_t next_trade_id_ = 1;
  std::int64_t bnb_usdt_ = 600 * Decimal::kOne;
  std::string usdt_ = "USDT";  // the base of the FX market
  std::vector<PublicTrade> trades_;
  std::vector<PrivateEvent> private_;
  ExchangeStats stats_;
  std::unique_ptr<RestFront> rest_[kMaxVenues];  // by venue: each front end of the registry
};

}  // namespace xarb::sim
