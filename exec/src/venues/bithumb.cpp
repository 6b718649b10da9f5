// Bithumb's JWT REST as an adapter (docs/venues.md): Upbit's conventions with a timestamp claim,
// orders placed on /v2 with a client_order_id and acknowledged without a state (exec queries
// them), its own KRW tick table, error names and per-IP limits per category.

#include <xarb/core/clock.hpp>
#include <xarb/exec/venues/upbit_api.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/venues/registry.hpp>

#include "upbit_venue.hpp"

namespace xarb::exec::adapters {
namespace {

class Bithumb final : public UpbitProtocolVenue {
 public:
  Bithumb(const RestVenueOptions& o, const net::Url& endpoint)
      : UpbitProtocolVenue(venues::kBithumb, UpbitDialect::bithumb, o, endpoint) {}

  bool probe(HttpRequestText& out) noexcept override {
    return !probe_market_.empty() && api_.orderbook(probe_market_, out);
  }
  // v2 (v1/private ended in 2026): order_id, client_order_id, side buy/sell.
  std::string_view private_stream_path() const noexcept override { return "/websocket/v2/private"; }

  // The tick table and the 5,000 KRW minimum; then the public order book answers for the first
  // market, or start-up fails (nothing else checks the URL before the first order).
  bool start(const SymbolMap& symbols, RulesTable& rules, HttpRequestText& scratch,
             const Roundtrip& roundtrip, std::string& error) override {
    load_krw_default_rules(venues::kBithumb, kBithumbKrwTicks, kBithumbMinOrderKrw, symbols, rules);
    pick_probe_market(symbols);
    if (probe_market_.empty()) return true;
    std::string body;
    int status = 0;
    if (!api_.orderbook(probe_market_, scratch) || !roundtrip(status, body, error)) {
      error = "orderbook: " + error;
      return false;
    }
    if (status / 100 != 2) {
      error = "orderbook: " + describe(status, body);
      return false;
    }
    return true;
  }

  // No remaining-count header is documented: the budget is the rate per second less
  // the orders written in the last second, so that exec paces itself (its hedge reserve kept)
  // rather than send a burst until a 429 blocks the hedges and unwinds that follow.
  void on_header(std::string_view name, std::string_view value,
                 RateLimitState& rate) noexcept override {
    upbit_header(name, value, rate);  // Retry-After
  }
  void order_budget(std::int64_t now_ns, const RateLimitState& rate,
                    RateBudget& out) const noexcept override {
    (void)rate;
    // kBithumbOrders (docs/venues.md).
    const std::int64_t limit =
        options_.order_limit > 0 ? options_.order_limit : kBithumbOrders.orders;
    out.orders_per_window = limit;
    out.orders_available = unsent_this_second(now_ns, limit);
  }
};

}  // namespace

std::unique_ptr<RestAdapter> make_bithumb(const RestVenueOptions& options,
                                          const net::Url& endpoint) {
  return std::make_unique<Bithumb>(options, endpoint);
}

// Upbit's names but where Bithumb's own differ: its minimum is under_price_limit_, a reused
// client id duplicate_client_order_id (docs/venues.md).
void bithumb_paper_refusal(PaperRefusal why, Side side, VenueError& out) noexcept {
  upbit_paper_refusal(why, side, out);
  if (why == PaperRefusal::notional) {
    out.name.assign(side == Side::buy ? "under_price_limit_bid" : "under_price_limit_ask");
  } else if (why == PaperRefusal::duplicate) {
    out.name.assign("duplicate_client_order_id");
  }
  out.message.assign(out.name.view());
}

// docs/venues.md: 400 invalid_parameter, invalid_price(_ask|_bid), under_price_limit_ask|bid,
// cross_trading; 401 invalid_query_payload, jwt_verification, expired_jwt, NotAllowIP,
// out_of_scope; 403 blocked_member_id; 404 order_not_found; 422 order_not_ready.
VenueErrorKind bithumb_error_kind(const VenueError& e) noexcept {
  const std::string_view n = e.name.view();
  if (n.starts_with("insufficient_funds") || n == "not_enough_balance") {
    return VenueErrorKind::insufficient_balance;
  }
  if (n.starts_with("invalid_price") || n.starts_with("under_price_limit") ||
      n.starts_with("under_min_total") || n == "invalid_volume" || n == "invalid_parameter" ||
      n == "cross_trading") {
    return VenueErrorKind::filter_failure;
  }
  if (n == "invalid_query_payload" || n == "jwt_verification" || n == "expired_jwt" ||
      n == "NotAllowIP" || n == "out_of_scope" || n == "blocked_member_id" ||
      n == "invalid_access_key") {
    return VenueErrorKind::auth;
  }
  if (n == "order_not_found") return VenueErrorKind::unknown_order;
  if (n == "duplicate_client_order_id" || contains(n, "client_order_id")) {
    return VenueErrorKind::duplicate;
  }
  if (n == "too_many_requests") return VenueErrorKind::rate_limited;
  return VenueErrorKind::other;
}

}  // namespace xarb::exec::adapters
