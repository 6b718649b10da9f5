// The public websocket of Upbit's protocol (each venue's dialect: upbit_protocol.hpp): one
// subscription message ([{ticket},{type,codes},{format}]) naming orderbook and trade codes, an
// orderbook snapshot of each book first and then realtime books, DEFAULT or SIMPLE keys, text
// PING answered {"status":"UP"}, and a refused subscription answered with the venue's error and
// closed. The private endpoint (own orders and balances): the upgrade's JWT names the account,
// myOrder (codes optional) and myAsset subscribe, and every change of the account's orders and
// balances is pushed as Upbit's v1 frames or Bithumb's v2 ones, in DEFAULT keys.

#include <algorithm>
#include <cstdlib>

#include <simdjson.h>

#include "../text.hpp"
#include "registry.hpp"
#include "upbit_protocol.hpp"
#include "ws_front.hpp"

namespace xarb::sim {
namespace {

class UpbitWsVenue final : public WsVenueFront {
 public:
  UpbitWsVenue(const UpbitFront& d, SyntheticMarket& market, const Exchange& exchange)
      : d_(d), fx_market_(find_venue(d.venue)->fx_market), market_(market), exchange_(exchange) {}

  bool book_changed(std::size_t) override { return true; }  // every frame is the whole book
  std::unique_ptr<WsSessionFront> connect() override;
  bool pings() const noexcept override { return false; }

  [[nodiscard]] bool fx(std::size_t i) const noexcept { return i == market_.specs().size(); }
  [[nodiscard]] const std::string& code(std::size_t i) const {
    return fx(i) ? fx_market_ : market_.market_name(d_.venue, i);
  }
  [[nodiscard]] const SimBook& book(std::size_t i) {
    return fx(i) ? market_.fx_book() : market_.book(d_.venue, i);
  }
  // The book index of a market code; specs().size() + 1 when the venue does not list it.
  [[nodiscard]] std::size_t find(std::string_view code) const {
    const auto& specs = market_.specs();
    if (!fx_market_.empty() && code == fx_market_) return specs.size();
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (market_.market_name(d_.venue, i) == code) return i;
    }
    return specs.size() + 1;
  }

  const UpbitFront& d_;
  const std::string fx_market_;  // KRW-USDT where the venue lists it
  SyntheticMarket& market_;
  const Exchange& exchange_;
};

class UpbitWsSession final : public WsSessionFront {
 public:
  explicit UpbitWsSession(UpbitWsVenue& venue) : v_(venue) {}

  void on_open(const WsOpen& open) override {
    private_ = open.private_stream;
    account_ = open.account;
  }

  void on_message(std::string_view msg, WsOut& out) override {
    if (msg == "PING") {
      out.send(R"({"status":"UP"})", false);
      return;
    }
    if (private_) return subscribe_private(msg, out);
    simdjson::dom::parser p;
    simdjson::dom::array arr;
    if (p.parse(msg.data(), msg.size()).get(arr) != simdjson::SUCCESS) {
      return fail(out, "WRONG_FORMAT", "요청 포맷이 올바르지 않습니다.");
    }
    bool ticket = false, type = false;
    codes_.clear();
    trade_codes_.clear();
    simple_ = false;
    const std::size_t none = v_.market_.specs().size() + 1;
    for (auto item : arr) {
      simdjson::dom::object o;
      if (item.get(o) != simdjson::SUCCESS) {
        return fail(out, "WRONG_FORMAT", "요청 포맷이 올바르지 않습니다.");
      }
      std::string_view v;
      if (o["ticket"].get(v) == simdjson::SUCCESS) ticket = !v.empty();
      if (o["format"].get(v) == simdjson::SUCCESS) simple_ = v == "SIMPLE";
      if (o["type"].get(v) != simdjson::SUCCESS) continue;
      if (v != "orderbook" && v != "ticker" && v != "trade") {
        return fail(out, "INVALID_PARAM", "type is invalid.");
      }
      type = true;
      simdjson::dom::array codes;
      if (o["codes"].get(codes) != simdjson::SUCCESS) {
        return fail(out, "NO_CODES", "codes 필드가 없습니다.");
      }
      if (v == "trade") {
        for (auto c : codes) {
          std::string_view code;
          if (c.get(code) != simdjson::SUCCESS) {
            return fail(out, "INVALID_PARAM", "code is invalid.");
          }
          if (const std::size_t i = v_.find(code); i != none) trade_codes_.push_back(i);
        }
        continue;
      }
      if (v != "orderbook") continue;
      for (auto c : codes) {
        std::string_view code;
        if (c.get(code) != simdjson::SUCCESS) return fail(out, "INVALID_PARAM", "code is invalid.");
        std::string name(code);
        std::size_t depth = 30;
        if (const auto dot = name.find('.'); dot != std::string::npos) {
          depth = std::strtoul(name.c_str() + dot + 1, nullptr, 10);
          name.resize(dot);
          if (depth != 1 && depth != 5 && depth != 15 && depth != 30) {
            return fail(out, "INVALID_PARAM", "depth is invalid.");
          }
        }
        const std::size_t i = v_.find(name);
        if (i == none) return fail(out, "INVALID_PARAM", "code is invalid: " + name);
        codes_.emplace_back(i, depth);
      }
    }
    if (!ticket) return fail(out, "NO_TICKET", "ticket 필드가 없습니다.");
    if (!type) return fail(out, "NO_TYPE", "type 필드가 없습니다.");
    if (codes_.empty() && trade_codes_.empty()) {
      return fail(out, "NO_CODES", "codes 필드가 없습니다.");
    }
    // A snapshot of each book first, then realtime updates.
    for (const auto& [i, depth] : codes_) out.send(orderbook(i, depth, true), true);
  }

  void on_book(std::size_t i, WsOut& out) override {
    for (const auto& [code, depth] : codes_) {
      if (code == i) out.send(orderbook(i, depth, false), true);
    }
  }

  void on_trade(const PublicTrade& t, WsOut& out) override {
    for (const std::size_t code : trade_codes_) {
      if (code == t.symbol) out.send(trade(t), true);
    }
  }

  void on_private(const PrivateEvent& e, WsOut& out) override {
    if (e.account != account_ || account_.empty()) return;
    if (e.order_key.empty()) {
      if (my_asset_) out.send(my_asset(e), true);
      return;
    }
    const auto it = v_.exchange_.orders().find(e.order_key);
    if (!my_order_ || it == v_.exchange_.orders().end()) return;
    const SimOrder& o = it->second;
    if (!order_codes_.empty() && std::find(order_codes_.begin(), order_codes_.end(),
                                           v_.code(o.symbol)) == order_codes_.end()) {
      return;
    }
    out.send(v_.d_.order_events_v2 ? bithumb_order(o, e) : upbit_order(o, e), true);
  }

 private:
  // [{ticket},{type:myOrder,codes?},{type:myAsset},{format?}] on the private endpoint.
  void subscribe_private(std::string_view msg, WsOut& out) {
    if (account_.empty()) return fail(out, "INVALID_AUTH", "인증 정보가 올바르지 않습니다.");
    simdjson::dom::parser p;
    simdjson::dom::array arr;
    if (p.parse(msg.data(), msg.size()).get(arr) != simdjson::SUCCESS) {
      return fail(out, "WRONG_FORMAT", "요청 포맷이 올바르지 않습니다.");
    }
    bool ticket = false, type = false;
    my_order_ = my_asset_ = false;
    order_codes_.clear();
    for (auto item : arr) {
      simdjson::dom::object o;
      if (item.get(o) != simdjson::SUCCESS) {
        return fail(out, "WRONG_FORMAT", "요청 포맷이 올바르지 않습니다.");
      }
      std::string_view v;
      if (o["ticket"].get(v) == simdjson::SUCCESS) ticket = !v.empty();
      if (o["type"].get(v) != simdjson::SUCCESS) continue;
      type = true;
      if (v == "myAsset") {
        my_asset_ = true;
      } else if (v == "myOrder") {
        my_order_ = true;
        simdjson::dom::array codes;
        if (o["codes"].get(codes) == simdjson::SUCCESS) {
          for (auto c : codes) {
            std::string_view code;
            if (c.get(code) != simdjson::SUCCESS) {
              return fail(out, "INVALID_PARAM", "code is invalid.");
            }
            order_codes_.emplace_back(code);
          }
        }
      } else {
        return fail(out, "INVALID_PARAM", "type is invalid.");
      }
    }
    if (!ticket) return fail(out, "NO_TICKET", "ticket 필드가 없습니다.");
    if (!type) return fail(out, "NO_TYPE", "type 필드가 없습니다.");
  }

  // What an order had executed up to and including execution `upto` (all of them: -1).
  struct Executed {
    std::int64_t qty = 0, funds = 0, fee = 0;
    std::size_t count = 0;
  };
  static Executed executed(const SimOrder& o, int upto) {
    Executed x;
    const std::size_t n = upto < 0 ? o.trades.size() : static_cast<std::size_t>(upto) + 1;
    for (std::size_t i = 0; i < n && i < o.trades.size(); ++i) {
      const Trade& t = o.trades[i];
      x.qty += t.qty;
      x.funds += static_cast<std::int64_t>(static_cast<Int128>(t.price) * t.qty / text::kOne);
      x.fee += t.fee;
      ++x.count;
    }
    return x;
  }
  // An event before an order's end shows it as it was then; "wait" before anything executed.
  static Executed at_event(const SimOrder& o, const PrivateEvent& e) {
    if (e.state == "wait") return {};
    return executed(o, e.trade);
  }
  static std::string number_or_null(bool set, std::int64_t mantissa) {
    return set ? text::dec8(mantissa) : std::string("null");
  }
  static std::string string_or_null(bool set, const std::string& s) {
    return set ? "\"" + s + "\"" : std::string("null");
  }

  // Upbit v1: price and volume are the execution's on `trade`, the order's otherwise.
  std::string upbit_order(const SimOrder& o, const PrivateEvent& e) const {
    using text::dec8;
    const Executed x = at_event(o, e);
    const bool fill = e.trade >= 0;
    const Trade* t = fill ? &o.trades[static_cast<std::size_t>(e.trade)] : nullptr;
    const std::int64_t avg =
        x.qty > 0 ? static_cast<std::int64_t>(static_cast<Int128>(x.funds) * text::kOne / x.qty)
                  : 0;
    const std::string tuid = o.venue_id + "-" + std::to_string(e.trade);
    return R"({"type":"myOrder","code":")" + v_.code(o.symbol) + R"(","uuid":")" + o.venue_id +
           R"(","ask_bid":")" + (o.buy ? "BID" : "ASK") + R"(","order_type":")" + o.type +
           R"(","state":")" + e.state + R"(","trade_uuid":)" + string_or_null(fill, tuid) +
           R"(,"price":)" + dec8(fill ? t->price : o.price) + R"(,"avg_price":)" + dec8(avg) +
           R"(,"volume":)" + dec8(fill ? t->qty : o.qty) + R"(,"remaining_volume":)" +
           dec8(std::max<std::int64_t>(o.qty - x.qty, 0)) + R"(,"executed_volume":)" + dec8(x.qty) +
           R"(,"trades_count":)" + std::to_string(x.count) +
           R"(,"reserved_fee":0,"remaining_fee":0,"paid_fee":)" + dec8(x.fee) +
           R"(,"locked":0,"executed_funds":)" + dec8(x.funds) + R"(,"time_in_force":)" +
           string_or_null(!o.tif.empty(), o.tif) + R"(,"trade_fee":)" +
           number_or_null(fill, fill ? t->fee : 0) + R"(,"is_maker":)" + (fill ? "false" : "null") +
           R"(,"identifier":")" + o.client_id + R"(","trade_timestamp":)" +
           (fill ? std::to_string(e.time_ms) : "null") + R"(,"order_timestamp":)" +
           std::to_string(o.time_ms) + R"(,"timestamp":)" + std::to_string(e.time_ms) +
           R"(,"stream_type":"REALTIME"})";
  }

  // Bithumb v2: the order's and the execution's price and quantity in fields of their own.
  std::string bithumb_order(const SimOrder& o, const PrivateEvent& e) const {
    using text::dec8;
    const Executed x = at_event(o, e);
    const bool fill = e.trade >= 0;
    const Trade* t = fill ? &o.trades[static_cast<std::size_t>(e.trade)] : nullptr;
    const std::int64_t order_amount =
        o.quote_qty > 0
            ? o.quote_qty
            : static_cast<std::int64_t>(static_cast<Int128>(o.price) * o.qty / text::kOne);
    const bool tif_cancel = (e.state == "done" || e.state == "cancel") && o.status == "EXPIRED";
    return R"({"type":"myOrder","code":")" + v_.code(o.symbol) + R"(","order_id":")" + o.venue_id +
           R"(","client_order_id":")" + o.client_id + R"(","side":")" + (o.buy ? "buy" : "sell") +
           R"(","order_type":")" + o.type + R"(","state":")" + e.state + R"(","time_in_force":)" +
           string_or_null(!o.tif.empty(), o.tif) + R"(,"order_price":)" + dec8(o.price) +
           R"(,"order_quantity":)" + dec8(o.qty) + R"(,"order_amount":)" +
           dec8(o.buy ? order_amount : 0) + R"(,"remaining_quantity":)" +
           dec8(std::max<std::int64_t>(o.qty - x.qty, 0)) + R"(,"executed_quantity":)" +
           dec8(x.qty) + R"(,"executed_amount":)" + dec8(x.funds) + R"(,"trade_id":)" +
           string_or_null(fill, o.venue_id + "-" + std::to_string(e.trade)) + R"(,"trade_price":)" +
           number_or_null(fill, fill ? t->price : 0) + R"(,"trade_quantity":)" +
           number_or_null(fill, fill ? t->qty : 0) + R"(,"trade_amount":)" +
           number_or_null(fill, fill ? static_cast<std::int64_t>(static_cast<Int128>(t->price) *
                                                                 t->qty / text::kOne)
                                     : 0) +
           R"(,"reserved_fee":0,"remaining_fee":0,"paid_fee":)" + dec8(x.fee) +
           R"(,"cancel_type":)" + (tif_cancel ? R"("tif_cancel")" : "null") +
           R"(,"trade_timestamp":)" + (fill ? std::to_string(e.time_ms) : "null") +
           R"(,"order_timestamp":)" + std::to_string(o.time_ms) + R"(,"timestamp":)" +
           std::to_string(e.time_ms) + R"(,"stream_type":"REALTIME"})";
  }

  // The balances of the assets that changed (both venues: Upbit's shape).
  std::string my_asset(const PrivateEvent& e) const {
    std::string list;
    for (const std::string& asset : e.assets) {
      if (!list.empty()) list += ',';
      list += R"({"currency":")" + asset + R"(","balance":)" +
              text::dec8(v_.exchange_.balance(v_.d_.venue, account_, asset)) + R"(,"locked":0})";
    }
    return R"({"type":"myAsset","asset_uuid":")" + account_ + "-" + std::to_string(++asset_seq_) +
           R"(","assets":[)" + list + R"(],"asset_timestamp":)" + std::to_string(e.time_ms) +
           R"(,"timestamp":)" + std::to_string(e.time_ms) + R"(,"stream_type":"REALTIME"})";
  }

  void fail(WsOut& out, const std::string& name, const std::string& message) {
    // Nothing more goes to a connection that is being closed for a bad subscription (the codes
    // parsed before the error would otherwise get the next market update first).
    codes_.clear();
    trade_codes_.clear();
    my_order_ = my_asset_ = false;
    out.send(R"({"error":{"name":")" + name + R"(","message":")" + message + R"("}})", true);
    out.close_after_write();
  }

  std::string orderbook(std::size_t i, std::size_t depth, bool snapshot) const {
    const SimBook& b = v_.book(i);
    // Units are pairs of levels: as many as both sides have, up to the depth.
    const std::size_t n = std::min({depth, b.bids.size(), b.asks.size()});
    std::int64_t tas = 0, tbs = 0;
    auto bit = b.bids.rbegin();
    auto ait = b.asks.begin();
    for (std::size_t k = 0; k < n; ++k, ++bit, ++ait) {
      tas += ait->second;
      tbs += bit->second;
    }
    std::string out;
    out.reserve(160 + n * (simple_ ? 80 : 120));
    out += simple_ ? R"({"ty":"orderbook","cd":")" : R"({"type":"orderbook","code":")";
    out += v_.code(i);
    out += simple_ ? R"(","tms":)" : R"(","timestamp":)";
    text::append_int(out, b.time_ms);
    out += simple_ ? R"(,"tas":)" : R"(,"total_ask_size":)";
    text::append_dec8(out, tas);
    out += simple_ ? R"(,"tbs":)" : R"(,"total_bid_size":)";
    text::append_dec8(out, tbs);
    out += simple_ ? R"(,"obu":[)" : R"(,"orderbook_units":[)";
    bit = b.bids.rbegin();
    ait = b.asks.begin();
    for (std::size_t k = 0; k < n; ++k, ++bit, ++ait) {
      if (k > 0) out += ',';
      out += simple_ ? R"({"ap":)" : R"({"ask_price":)";
      text::append_dec8(out, ait->first);
      out += simple_ ? R"(,"bp":)" : R"(,"bid_price":)";
      text::append_dec8(out, bit->first);
      out += simple_ ? R"(,"as":)" : R"(,"ask_size":)";
      text::append_dec8(out, ait->second);
      out += simple_ ? R"(,"bs":)" : R"(,"bid_size":)";
      text::append_dec8(out, bit->second);
      out += '}';
    }
    out += simple_ ? R"(],"st":")" : R"(],"stream_type":")";
    out += snapshot ? "SNAPSHOT" : "REALTIME";
    out += simple_ ? R"(","lv":0})" : R"(","level":0})";
    return out;
  }

  std::string trade(const PublicTrade& t) const {
    using text::dec8;
    const std::string& code = v_.code(t.symbol);
    const std::string ab = t.buyer_is_taker ? "BID" : "ASK";
    if (simple_) {
      return R"({"ty":"trade","cd":")" + code + R"(","tms":)" + std::to_string(t.time_ms) +
             R"(,"ttms":)" + std::to_string(t.time_ms) + R"(,"tp":)" + dec8(t.price) + R"(,"tv":)" +
             dec8(t.qty) + R"(,"ab":")" + ab + R"(","sid":)" + std::to_string(t.id) +
             R"(,"st":"REALTIME"})";
    }
    return R"({"type":"trade","code":")" + code + R"(","timestamp":)" + std::to_string(t.time_ms) +
           R"(,"trade_timestamp":)" + std::to_string(t.time_ms) + R"(,"trade_price":)" +
           dec8(t.price) + R"(,"trade_volume":)" + dec8(t.qty) + R"(,"ask_bid":")" + ab +
           R"(","sequential_id":)" + std::to_string(t.id) + R"(,"stream_type":"REALTIME"})";
  }

  UpbitWsVenue& v_;
  std::vector<std::pair<std::size_t, std::size_t>> codes_;  // (book index, depth)
  std::vector<std::size_t> trade_codes_;
  bool simple_ = false;
  // The private endpoint's.
  bool private_ = false;
  std::string account_;  // empty: the token did not verify
  bool my_order_ = false, my_asset_ = false;
  std::vector<std::string> order_codes_;  // empty: every market
  mutable std::uint64_t asset_seq_ = 0;
};

std::unique_ptr<WsSessionFront> UpbitWsVenue::connect() {
  return std::make_unique<UpbitWsSession>(*this);
}

}  // namespace

std::unique_ptr<WsVenueFront> make_upbit_ws(const UpbitFront& d, SyntheticMarket& market,
                                          const Exchange& exchange) {
  return std::make_unique<UpbitWsVenue>(d, market, exchange);
}

}  // namespace xarb::sim
