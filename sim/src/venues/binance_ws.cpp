// Binance's public websocket: raw (/ws/<stream>) and combined (/stream?streams=a/b) connections,
// SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS, and per symbol the diff stream (one diff from
// the last broadcast version, U..u continuous), partial depth (5/10/20), bookTicker, trade and
// aggTrade. The server pings every connection. A connection to /ws-api/v3 is the WebSocket API
// instead (binance_ws_api.cpp).

#include <cstdlib>
#include <set>

#include <simdjson.h>

#include <xarb/venues/registry.hpp>

#include "../text.hpp"
#include "ws_front.hpp"

namespace xarb::sim {

std::unique_ptr<WsSessionFront> make_binance_ws_api(const Exchange& exchange);

namespace {

using text::lower;

void append_diff(std::string& out, const std::vector<std::pair<std::int64_t, std::int64_t>>& d) {
  out += '[';
  for (std::size_t i = 0; i < d.size(); ++i) {
    out += i > 0 ? ",[\"" : "[\"";
    text::append_dec8(out, d[i].first);
    out += "\",\"";
    text::append_dec8(out, d[i].second);
    out += "\"]";
  }
  out += ']';
}

class BinanceWsVenue final : public WsVenueFront {
 public:
  BinanceWsVenue(SyntheticMarket& market, const Exchange& exchange)
      : market_(market), exchange_(exchange) {
    for (std::size_t i = 0; i < market_.specs().size(); ++i) {
      lower_symbols_.push_back(lower(market_.market_name(venues::kBinance, i)));
    }
    sent_.assign(market_.specs().size(), SimBook{});
  }

  void reset() override {
    for (std::size_t i = 0; i < sent_.size(); ++i) sent_[i] = market_.book(venues::kBinance, i);
  }

  bool book_changed(std::size_t i) override {
    if (i >= sent_.size()) return false;
    SimBook& book = market_.book(venues::kBinance, i);
    SimBook& sent = sent_[i];
    if (book.update_id == sent.update_id) return false;
    const std::string& sym = market_.market_name(venues::kBinance, i);
    diff_.clear();
    diff_ += R"({"e":"depthUpdate","E":)";
    text::append_int(diff_, exchange_.now_ms());
    diff_ += R"(,"s":")";
    diff_ += sym;
    diff_ += R"(","U":)";
    text::append_int(diff_, static_cast<std::int64_t>(sent.update_id + 1));
    diff_ += R"(,"u":)";
    text::append_int(diff_, static_cast<std::int64_t>(book.update_id));
    diff_ += R"(,"b":)";
    const auto bids = side_diff(sent.bids, book.bids);
    const auto asks = side_diff(sent.asks, book.asks);
    append_diff(diff_, bids);
    diff_ += R"(,"a":)";
    append_diff(diff_, asks);
    diff_ += '}';
    ticker_.clear();
    if (!book.bids.empty() && !book.asks.empty()) {
      ticker_ += R"({"u":)";
      text::append_int(ticker_, static_cast<std::int64_t>(book.update_id));
      ticker_ += R"(,"s":")";
      ticker_ += sym;
      ticker_ += R"(","b":")";
      text::append_dec8(ticker_, book.bids.rbegin()->first);
      ticker_ += R"(","B":")";
      text::append_dec8(ticker_, book.bids.rbegin()->second);
      ticker_ += R"(","a":")";
      text::append_dec8(ticker_, book.asks.begin()->first);
      ticker_ += R"(","A":")";
      text::append_dec8(ticker_, book.asks.begin()->second);
      ticker_ += R"("})";
    }
    // The diff base moves by the diff itself (cheaper than copying the book).
    apply_diff(sent.bids, bids);
    apply_diff(sent.asks, asks);
    sent.update_id = book.update_id;
    sent.time_ms = book.time_ms;
    return true;
  }

  void trade(const PublicTrade& t) override {
    using text::dec8;
    const std::string& sym = market_.market_name(venues::kBinance, t.symbol);
    const char* maker = t.buyer_is_taker ? "false" : "true";
    trade_ = R"({"e":"trade","E":)" + std::to_string(t.time_ms) + R"(,"s":")" + sym + R"(","t":)" +
             std::to_string(t.id) + R"(,"p":")" + dec8(t.price) + R"(","q":")" + dec8(t.qty) +
             R"(","T":)" + std::to_string(t.time_ms) + R"(,"m":)" + maker + R"(,"M":true})";
    agg_ = R"({"e":"aggTrade","E":)" + std::to_string(t.time_ms) + R"(,"s":")" + sym + R"(","a":)" +
           std::to_string(t.id) + R"(,"p":")" + dec8(t.price) + R"(","q":")" + dec8(t.qty) +
           R"(","f":)" + std::to_string(t.id) + R"(,"l":)" + std::to_string(t.id) + R"(,"T":)" +
           std::to_string(t.time_ms) + R"(,"m":)" + maker + R"(,"M":true})";
  }

  std::unique_ptr<WsSessionFront> connect() override;
  bool pings() const noexcept override { return true; }

  SyntheticMarket& market_;
  const Exchange& exchange_;
  std::vector<std::string> lower_symbols_;  // btcusdt: the symbols as streams name them
  std::vector<SimBook> sent_;               // each book as last broadcast (the diff base)
  std::string diff_, ticker_;               // the changed book's, for every connection
  std::string trade_, agg_;                 // the last trade's
};

class BinanceWsSession final : public WsSessionFront {
 public:
  explicit BinanceWsSession(BinanceWsVenue& venue) : v_(venue) {}

  void on_open(const WsOpen& open) override {
    const std::string_view target = open.target;
    if (target.starts_with("/ws-api/v3")) {
      api_ = make_binance_ws_api(v_.exchange_);
      return api_->on_open(open);
    }
    std::string_view list;
    if (target.starts_with("/stream")) {
      combined_ = true;
      const auto at = target.find("streams=");
      if (at != std::string_view::npos) list = target.substr(at + 8);
    } else if (target.starts_with("/ws/")) {
      list = target.substr(4);
    }
    std::size_t pos = 0;
    while (pos < list.size()) {
      std::size_t slash = list.find('/', pos);
      if (slash == std::string_view::npos) slash = list.size();
      add_stream(list.substr(pos, slash - pos));
      pos = slash + 1;
    }
  }

  void on_message(std::string_view msg, WsOut& out) override {
    if (api_) return api_->on_message(msg, out);
    simdjson::dom::parser p;
    simdjson::dom::element e;
    std::string_view method;
    std::int64_t id = 0;
    if (p.parse(msg.data(), msg.size()).get(e) != simdjson::SUCCESS ||
        e["method"].get(method) != simdjson::SUCCESS) {
      out.send(R"({"error":{"code":2,"msg":"Invalid request"}})", false);
      return;
    }
    if (e["id"].get(id) != simdjson::SUCCESS) id = 0;
    if (method == "LIST_SUBSCRIPTIONS") {
      std::string list;
      for (const std::string& s : streams_) list += (list.empty() ? "\"" : ",\"") + s + "\"";
      out.send(R"({"result":[)" + list + R"(],"id":)" + std::to_string(id) + "}", false);
      return;
    }
    simdjson::dom::array params;
    if (e["params"].get(params) == simdjson::SUCCESS) {
      for (auto v : params) {
        std::string_view s;
        if (v.get(s) != simdjson::SUCCESS) continue;
        if (method == "SUBSCRIBE") add_stream(s);
        if (method == "UNSUBSCRIBE") streams_.erase(std::string(s));
      }
    }
    out.send(R"({"result":null,"id":)" + std::to_string(id) + "}", false);
  }

  void on_book(std::size_t i, WsOut& out) override {
    const std::string& sym = v_.lower_symbols_[i];
    for (const std::string& s : streams_) {
      const std::string_view stream(s);
      if (!stream.starts_with(sym) || stream.size() <= sym.size() || stream[sym.size()] != '@') {
        continue;
      }
      const std::string_view kind = stream.substr(sym.size() + 1);
      std::string partial;
      const std::string* payload = nullptr;
      if (kind == "bookTicker") {
        payload = &v_.ticker_;
      } else if (kind == "depth" || kind == "depth@100ms" || kind == "depth@1000ms") {
        payload = &v_.diff_;
      } else if (kind.starts_with("depth")) {
        const std::size_t levels = std::strtoul(s.c_str() + sym.size() + 6, nullptr, 10);
        if (levels != 5 && levels != 10 && levels != 20) continue;
        const SimBook& book = v_.market_.book(venues::kBinance, i);
        partial = R"({"lastUpdateId":)" + std::to_string(book.update_id) + R"(,"bids":)" +
                  text::levels(book.bids, true, levels) + R"(,"asks":)" +
                  text::levels(book.asks, false, levels) + "}";
        payload = &partial;
      } else {
        continue;
      }
      if (payload->empty()) continue;  // no bookTicker of a one-sided book
      send(s, *payload, out);
    }
  }

  void on_private(const PrivateEvent& e, WsOut& out) override {
    if (api_) api_->on_private(e, out);
  }

  void on_trade(const PublicTrade& t, WsOut& out) override {
    const std::string& sym = v_.lower_symbols_[t.symbol];
    for (const std::string& s : streams_) {
      if (s == sym + "@trade") send(s, v_.trade_, out);
      if (s == sym + "@aggTrade") send(s, v_.agg_, out);
    }
  }

 private:
  void add_stream(std::string_view name) {
    // Symbols are lowercase; the stream kind keeps its case (bookTicker).
    const auto at = name.find('@');
    if (at == std::string_view::npos) return;
    streams_.insert(lower(std::string(name.substr(0, at))) + std::string(name.substr(at)));
  }

  // Raw: the payload; combined: wrapped with its stream's name.
  void send(const std::string& stream, const std::string& payload, WsOut& out) const {
    if (!combined_) {
      out.send(payload, false);
      return;
    }
    std::string wrapped;
    wrapped.reserve(payload.size() + stream.size() + 24);
    wrapped += R"({"stream":")";
    wrapped += stream;
    wrapped += R"(","data":)";
    wrapped += payload;
    wrapped += '}';
    out.send(std::move(wrapped), false);
  }

  BinanceWsVenue& v_;
  std::unique_ptr<WsSessionFront> api_;  // a WebSocket API connection's
  bool combined_ = false;
  std::set<std::string> streams_;
};

std::unique_ptr<WsSessionFront> BinanceWsVenue::connect() {
  return std::make_unique<BinanceWsSession>(*this);
}

}  // namespace

std::unique_ptr<WsVenueFront> make_binance_ws(SyntheticMarket& market, const Exchange& exchange) {
  return std::make_unique<BinanceWsVenue>(market, exchange);
}

}  // namespace xarb::sim
