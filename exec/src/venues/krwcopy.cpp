// krwcopy's REST as an adapter (a test fixture: Upbit's protocol under another name and id; see
// tests/app/fourth_venue_test.cpp): Upbit's JWT signing, order shapes, private stream and error
// names; Upbit's KRW tick table and minimum; 8 orders a second.

#include <xarb/exec/venues/upbit_api.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/venues/registry.hpp>

#include "upbit_venue.hpp"

namespace xarb::exec::adapters {
namespace {

constexpr Venue kKrwCopy = *venues::from_name("krwcopy");

class KrwCopy final : public UpbitProtocolVenue {
 public:
  KrwCopy(const RestVenueOptions& o, const net::Url& endpoint)
      : UpbitProtocolVenue(kKrwCopy, UpbitDialect::upbit, o, endpoint) {}

  bool probe(HttpRequestText& out) noexcept override {
    return !probe_market_.empty() && api_.orderbook(probe_market_, out);
  }
  std::string_view private_stream_path() const noexcept override { return "/websocket/v1/private"; }

  bool start(const SymbolMap& symbols, RulesTable& rules, HttpRequestText& scratch,
             const Roundtrip& roundtrip, std::string& error) override {
    (void)scratch, (void)roundtrip, (void)error;
    load_krw_default_rules(kKrwCopy, kUpbitKrwTicks, kUpbitMinOrderKrw, symbols, rules);
    pick_probe_market(symbols);
    return true;
  }

  void on_header(std::string_view name, std::string_view value,
                 RateLimitState& rate) noexcept override {
    upbit_header(name, value, rate);
  }
  void order_budget(std::int64_t now_ns, const RateLimitState& rate,
                    RateBudget& out) const noexcept override {
    (void)rate;
    const std::int64_t limit =
        options_.order_limit > 0 ? options_.order_limit : kUpbitOrders.orders;
    out.orders_per_window = limit;
    out.orders_available = unsent_this_second(now_ns, limit);
  }
};

}  // namespace

std::unique_ptr<RestAdapter> make_krwcopy(const RestVenueOptions& options,
                                          const net::Url& endpoint) {
  return std::make_unique<KrwCopy>(options, endpoint);
}

}  // namespace xarb::exec::adapters
