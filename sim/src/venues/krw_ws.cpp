// The KRW venues' public websocket (Upbit's framing, each venue's dialect: krw.hpp): one
// subscription message ([{ticket},{type,codes},{format}]) naming orderbook and trade codes, an
// orderbook snapshot of each book first and then realtime books, DEFAULT or SIMPLE keys, text
// PING answered {"status":"UP"}, and a refused subscription answered with the venue's error and
// closed.

#include <algorithm>
#include <cstdlib>

#include <simdjson.h>

#include "../text.hpp"
#include "krw.hpp"
#include "ws_front.hpp"

namespace xarb::sim {
namespace {

const std::string kFxMarket = "KRW-USDT";

class KrwWsVenue final : public WsVenueFront {
 public:
  KrwWsVenue(const KrwDialect& d, SyntheticMarket& market) : d_(d), market_(market) {}

  bool book_changed(std::size_t) override { return true; }  // every frame is the whole book
  std::unique_ptr<WsSessionFront> connect() override;
  bool pings() const noexcept override { return false; }

  [[nodiscard]] bool fx(std::size_t i) const noexcept { return i == market_.specs().size(); }
  [[nodiscard]] const std::string& code(std::size_t i) const {
    return fx(i) ? kFxMarket : market_.market_name(d_.venue, i);
  }
  [[nodiscard]] const SimBook& book(std::size_t i) {
    return fx(i) ? market_.fx_book() : market_.book(d_.venue, i);
  }
  // The book index of a market code; specs().size() + 1 when the venue does not list it.
  [[nodiscard]] std::size_t find(std::string_view code) const {
    const auto& specs = market_.specs();
    if (code == kFxMarket && d_.lists_fx) return specs.size();
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (market_.market_name(d_.venue, i) == code) return i;
    }
    return specs.size() + 1;
  }

  const KrwDialect& d_;
  SyntheticMarket& market_;
};

class KrwWsSession final : public WsSessionFront {
 public:
  explicit KrwWsSession(KrwWsVenue& venue) : v_(venue) {}

  void on_open(std::string_view) override {}

  void on_message(std::string_view msg, WsOut& out) override {
    if (msg == "PING") {
      out.send(R"({"status":"UP"})", false);
      return;
    }
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

 private:
  void fail(WsOut& out, const std::string& name, const std::string& message) {
    // Nothing more goes to a connection that is being closed for a bad subscription (the codes
    // parsed before the error would otherwise get the next market update first).
    codes_.clear();
    trade_codes_.clear();
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

  KrwWsVenue& v_;
  std::vector<std::pair<std::size_t, std::size_t>> codes_;  // (book index, depth)
  std::vector<std::size_t> trade_codes_;
  bool simple_ = false;
};

std::unique_ptr<WsSessionFront> KrwWsVenue::connect() {
  return std::make_unique<KrwWsSession>(*this);
}

}  // namespace

std::unique_ptr<WsVenueFront> make_krw_ws(const KrwDialect& d, SyntheticMarket& market) {
  return std::make_unique<KrwWsVenue>(d, market);
}

}  // namespace xarb::sim
