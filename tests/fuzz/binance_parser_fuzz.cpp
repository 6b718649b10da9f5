// libFuzzer target: any bytes into the Binance parser (and, when a book comes out, into a book).
// It must never crash, leak or read out of bounds; levels it returns must be non-negative.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <xarb/feed/venues/binance_parser.hpp>
#include <xarb/feed/book_keeper.hpp>
#include <xarb/venues/registry.hpp>

namespace {

const xarb::SymbolMap& symbols() {
  static const xarb::SymbolMap map = [] {
    xarb::SymbolMap m;
    (void)m.add("BTC", {{xarb::venues::kUpbit, "KRW-BTC"}, {xarb::venues::kBinance, "BTCUSDT"}});
    (void)m.add("ETH", {{xarb::venues::kUpbit, "KRW-ETH"}, {xarb::venues::kBinance, "ETHUSDT"}});
    (void)m.add("BNB", {{xarb::venues::kBinance, "BNBUSDT"}});
    return m;
  }();
  return map;
}

// Binance's books built as `sync` says (the feed adapter's choice for each book source).
xarb::feed::BookKeeper::Syncs binance_as(xarb::feed::BookSync sync) {
  xarb::feed::BookKeeper::Syncs s{};
  s[xarb::index(xarb::venues::kBinance)] = sync;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xarb::feed::BinanceParser parser(symbols(), 1 << 16);
  static xarb::feed::BookKeeper diff_books(symbols(), binance_as(xarb::feed::BookSync::diff_depth));
  static xarb::feed::BookKeeper ticker_books(symbols(),
                                             binance_as(xarb::feed::BookSync::book_ticker));
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& f : {parser.parse(text), parser.parse_depth_snapshot(text, 0)}) {
    if (f.kind == xarb::feed::MsgKind::dropped && f.drop == xarb::feed::DropReason::none)
      std::abort();
    for (const auto& l : f.bids)
      if (l.price.is_negative() || l.qty.is_negative()) std::abort();
    for (const auto& l : f.asks)
      if (l.price.is_negative() || l.qty.is_negative()) std::abort();
    (void)diff_books.apply(xarb::venues::kBinance, f);
    (void)ticker_books.apply(xarb::venues::kBinance, f);
  }
  return 0;
}
