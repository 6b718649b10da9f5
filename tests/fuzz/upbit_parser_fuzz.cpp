// libFuzzer target: any bytes into the Upbit parser and Bithumb's (Upbit's framing, its own
// timestamps) and, when a book comes out, into a book.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <xarb/feed/book_keeper.hpp>
#include <xarb/feed/venues/upbit_parser.hpp>
#include <xarb/venues/registry.hpp>

namespace {

const xarb::SymbolMap& symbols() {
  static const xarb::SymbolMap map = [] {
    xarb::SymbolMap m;
    (void)m.add("BTC", {{xarb::venues::kUpbit, "KRW-BTC"},
                        {xarb::venues::kBithumb, "KRW-BTC"},
                        {xarb::venues::kBinance, "BTCUSDT"}});
    (void)m.add_fx(xarb::venues::kUpbit, "KRW-USDT");
    return m;
  }();
  return map;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xarb::feed::UpbitParser upbit(symbols(), 1 << 16);
  static xarb::feed::UpbitParser bithumb(symbols(), 1 << 16, xarb::venues::kBithumb);
  static xarb::feed::BookKeeper books(symbols(), [] {
    xarb::feed::BookKeeper::Syncs s{};  // the KRW venues' books: every frame a whole book
    s[xarb::index(xarb::venues::kUpbit)] = xarb::feed::BookSync::whole_book;
    s[xarb::index(xarb::venues::kBithumb)] = xarb::feed::BookSync::whole_book;
    return s;
  }());
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  for (const xarb::Venue v : {xarb::venues::kUpbit, xarb::venues::kBithumb}) {
    const xarb::feed::ParsedFrame f = (v == xarb::venues::kUpbit ? upbit : bithumb).parse(frame);
    if (f.kind == xarb::feed::MsgKind::dropped && f.drop == xarb::feed::DropReason::none)
      std::abort();
    const xarb::feed::ApplyOutcome out = books.apply(v, f);
    if (out.book != nullptr && out.book->bids().size() > xarb::feed::kMaxParsedLevels) std::abort();
  }
  return 0;
}
