#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <simdjson.h>

#include <xarb/net/tls.hpp>
#include <xarb/sim/certificate.hpp>
#include <xarb/sim/replay.hpp>
#include <xarb/sim/simulator.hpp>
#include <xarb/venues/registry.hpp>

#include "text.hpp"

namespace xarb::sim {

using namespace xarb::net::names;  // asio, beast, http, websocket, ssl, tcp, error_code
using Stream = xarb::net::ServerTlsStream;
using text::dec8;

namespace {

const std::string kFxMarket = "KRW-USDT";

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string side_json(const BookSide& side, bool descending, std::size_t limit) {
  return text::levels(side, descending, limit);
}

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

}  // namespace

std::string SimSummary::text() const {
  std::ostringstream out;
  out << "xarb-sim summary\n"
      << "  book updates      " << book_updates << "\n"
      << "  ws messages sent  " << ws_messages << " over " << ws_connections << " connections ("
      << ws_dropped << " dropped by faults; the market waited " << backpressure_ticks
      << " ms for slow clients)\n"
      << "  REST requests     " << http_requests << " (" << exchange.auth_failures
      << " refused by authentication, " << exchange.rate_limited << " rate limited, "
      << exchange.banned << " while blocked, " << exchange.faults << " faults injected)\n";
  if (replaying) {
    out << "  replay            " << replay_applied << " capture events applied, " << replay_skipped
        << " skipped" << (replay_finished ? " (every capture played to its end)" : "") << "\n";
  }
  out << "  orders by outcome";
  for (const auto& [k, n] : exchange.orders_by_outcome) out << "  " << k << " " << n;
  if (probes.sent > 0) {
    std::vector<std::int64_t> l = probes.latencies_ns;
    std::sort(l.begin(), l.end());
    const auto at = [&](double q) {
      return l.empty() ? 0.0 : static_cast<double>(l[std::min(l.size() - 1, static_cast<std::size_t>(q * static_cast<double>(l.size())))]) / 1e3;
    };
    out << "\n  latency probes    " << probes.sent << " sent, " << probes.answered
        << " answered; frame written -> order read p50 " << at(0.5) << " us, p99 " << at(0.99)
        << " us";
  }
  out << "\n  balances\n";
  for (const AccountSpec& a : accounts) {
    out << "    " << to_string(a.venue) << " " << a.key.substr(0, 4) << "...";
    for (const auto& [asset, m] : a.balances) out << "  " << asset << " " << dec8(m);
    out << "\n";
  }
  return out.str();
}

class WsSession;

struct Simulator::Impl {
  explicit Impl(SimOptions o)
      : options(std::move(o)),
        market(options.symbols, options.market),
        exchange(market, options.accounts, options.binance_fee_bps, options.upbit_fee_bps,
                 options.limits, options.faults, options.market.seed),
        tick(io),
        ping(io),
        drop(io) {
    exchange.set_bnb_usdt(options.bnb_usdt.mantissa());
    exchange.set_fee_bps(venues::kBithumb, options.bithumb_fee_bps);
  }

  void broadcast(Venue v, std::size_t symbol);
  void publish_trades();
  void on_tick();
  // The control endpoint: GET /sim/summary; GET /sim/accounts (balances as JSON); GET
  // /sim/orders (every order that executed something); GET or POST /sim/faults?name=value&... changes the
  // injected faults while running.
  HttpResult control(const HttpRequest& r);
  void accept(Venue v);

  SimOptions options;
  asio::io_context io{1};
  ssl::context tls{ssl::context::tls_server};
  SyntheticMarket market;
  Exchange exchange;
  std::unique_ptr<tcp::acceptor> acceptors[kMaxVenues];
  asio::steady_timer tick, ping, drop;
  std::thread thread;
  std::vector<std::weak_ptr<WsSession>> sessions;
  std::vector<SimBook> sent_binance;  // each Binance book as last broadcast (diff base)
  std::vector<std::string> lower_symbols;  // btcusdt: the Binance symbols as streams name them
  SimSummary counts;
  std::string ca_file;
  std::chrono::steady_clock::time_point last_tick;
  double owed = 0.0;  // book updates due but not yet made
  std::chrono::steady_clock::time_point stall_until{};
  std::chrono::steady_clock::time_point next_stall{};
  std::mt19937_64 fault_rng{0xFA17};
  std::unique_ptr<CaptureReplay> replay;
  std::chrono::steady_clock::time_point replay_start;
  // The latency probe (SimOptions::probe_every_ms).
  struct Probe {
    std::chrono::steady_clock::time_point next{};
    std::chrono::steady_clock::time_point fall{};  // when the jump is taken back
    bool up = false;
    bool armed = false;         // the jumped frames are being queued (broadcast in progress)
    std::int64_t written_ns = 0;  // the first jumped frame handed to a socket; 0: none waiting
    ProbeStats stats;
  } probe;
  void on_probe(std::chrono::steady_clock::time_point now);
  void match_probe(Venue v, const HttpRequest& r, std::int64_t received_ns);
};

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------------------------
// Websocket sessions

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(Simulator::Impl& m, Stream&& stream, Venue venue)
      : m_(m), ws_(std::move(stream)), venue_(venue) {}

  void run(http::request<http::string_body> req) {
    target_ = std::string(req.target());
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.async_accept(req, [self = shared_from_this()](error_code ec) {
      if (ec) return;
      self->on_accept();
    });
  }

  // Book changed: send what this session's subscriptions want.
  void on_binance_book(std::size_t i, const std::string& bookticker, const std::string& diff,
                       const SimBook& book) {
    const std::string& sym = m_.lower_symbols[i];
    for (const std::string& s : streams_) {
      const std::string_view stream(s);
      if (!stream.starts_with(sym) || stream.size() <= sym.size() || stream[sym.size()] != '@') {
        continue;
      }
      const std::string_view kind = stream.substr(sym.size() + 1);
      std::string partial;
      const std::string* payload = nullptr;
      if (kind == "bookTicker") {
        payload = &bookticker;
      } else if (kind == "depth" || kind == "depth@100ms" || kind == "depth@1000ms") {
        payload = &diff;
      } else if (kind.starts_with("depth")) {
        const std::size_t levels = std::strtoul(s.c_str() + sym.size() + 6, nullptr, 10);
        if (levels != 5 && levels != 10 && levels != 20) continue;
        partial = R"({"lastUpdateId":)" + std::to_string(book.update_id) + R"(,"bids":)" +
                  side_json(book.bids, true, levels) + R"(,"asks":)" +
                  side_json(book.asks, false, levels) + "}";
        payload = &partial;
      } else {
        continue;
      }
      if (payload->empty()) continue;  // no bookTicker of a one-sided book
      if (!combined_) {
        send(*payload, false);
        continue;
      }
      std::string wrapped;
      wrapped.reserve(payload->size() + s.size() + 24);
      wrapped += R"({"stream":")";
      wrapped += s;
      wrapped += R"(","data":)";
      wrapped += *payload;
      wrapped += '}';
      send(std::move(wrapped), false);
    }
  }

  void on_trade(const PublicTrade& t, const std::string& binance_trade,
                const std::string& binance_agg) {
    if (t.venue == venues::kBinance && venue_ == venues::kBinance) {
      const std::string sym = lower(m_.market.specs()[t.symbol].binance_symbol);
      for (const std::string& s : streams_) {
        if (s == sym + "@trade" || s == sym + "@aggTrade") {
          const std::string& payload = s == sym + "@trade" ? binance_trade : binance_agg;
          send(combined_ ? R"({"stream":")" + s + R"(","data":)" + payload + "}" : payload, false);
        }
      }
    } else if (t.venue == venue_) {  // Upbit and Bithumb
      for (const std::size_t code : trade_codes_) {
        if (code == t.symbol) send(upbit_trade(t), true);
      }
    }
  }

  void on_upbit_book(std::size_t i, const SimBook& book, bool snapshot) {
    for (const auto& [code, depth] : codes_) {
      if (code != i) continue;
      send(upbit_orderbook(i, book, depth, snapshot), true);
    }
  }

  void ping() {
    if (venue_ != venues::kBinance || closed_) return;
    ws_.async_ping({}, [self = shared_from_this()](error_code) {});
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  [[nodiscard]] Venue venue() const noexcept { return venue_; }
  [[nodiscard]] std::size_t backlog() const noexcept { return queue_.size(); }

 private:
  void on_accept() {
    ++m_.counts.ws_connections;
    m_.sessions.push_back(weak_from_this());
    if (venue_ == venues::kBinance) {
      // /ws/<s1>[/<s2>...] raw, or /stream?streams=<s1>/<s2> combined.
      std::string list;
      if (target_.rfind("/stream", 0) == 0) {
        combined_ = true;
        const auto at = target_.find("streams=");
        if (at != std::string::npos) list = target_.substr(at + 8);
      } else if (target_.rfind("/ws/", 0) == 0) {
        list = target_.substr(4);
      }
      std::size_t pos = 0;
      while (pos < list.size()) {
        std::size_t slash = list.find('/', pos);
        if (slash == std::string::npos) slash = list.size();
        add_stream(list.substr(pos, slash - pos));
        pos = slash + 1;
      }
    }
    read();
  }

  void add_stream(const std::string& name) {
    // Symbols are lowercase; the stream kind keeps its case (bookTicker).
    const auto at = name.find('@');
    if (at == std::string::npos) return;
    streams_.insert(lower(name.substr(0, at)) + name.substr(at));
  }

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) {
        self->closed_ = true;
        return;
      }
      const std::string msg = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->on_message(msg);
      if (!self->closed_) self->read();
    });
  }

  void on_message(const std::string& msg) {
    if (venue_ == venues::kBinance) {
      simdjson::dom::parser p;
      simdjson::dom::element e;
      std::string_view method;
      std::int64_t id = 0;
      if (p.parse(msg).get(e) != simdjson::SUCCESS ||
          e["method"].get(method) != simdjson::SUCCESS) {
        send(R"({"error":{"code":2,"msg":"Invalid request"}})", false);
        return;
      }
      if (e["id"].get(id) != simdjson::SUCCESS) id = 0;
      simdjson::dom::array params;
      if (method == "LIST_SUBSCRIPTIONS") {
        std::string list;
        for (const std::string& s : streams_) list += (list.empty() ? "\"" : ",\"") + s + "\"";
        send(R"({"result":[)" + list + R"(],"id":)" + std::to_string(id) + "}", false);
        return;
      }
      if (e["params"].get(params) == simdjson::SUCCESS) {
        for (auto v : params) {
          std::string_view s;
          if (v.get(s) != simdjson::SUCCESS) continue;
          if (method == "SUBSCRIBE") add_stream(std::string(s));
          if (method == "UNSUBSCRIBE") streams_.erase(std::string(s));
        }
      }
      send(R"({"result":null,"id":)" + std::to_string(id) + "}", false);
      return;
    }
    // Upbit.
    if (msg == "PING") {
      send(R"({"status":"UP"})", false);
      return;
    }
    simdjson::dom::parser p;
    simdjson::dom::array arr;
    if (p.parse(msg).get(arr) != simdjson::SUCCESS) {
      return fail("WRONG_FORMAT", "요청 포맷이 올바르지 않습니다.");
    }
    bool ticket = false, type = false;
    codes_.clear();
    trade_codes_.clear();
    simple_ = false;
    for (auto item : arr) {
      simdjson::dom::object o;
      if (item.get(o) != simdjson::SUCCESS)
        return fail("WRONG_FORMAT", "요청 포맷이 올바르지 않습니다.");
      std::string_view v;
      if (o["ticket"].get(v) == simdjson::SUCCESS) ticket = !v.empty();
      if (o["format"].get(v) == simdjson::SUCCESS) simple_ = v == "SIMPLE";
      if (o["type"].get(v) == simdjson::SUCCESS) {
        if (v != "orderbook" && v != "ticker" && v != "trade")
          return fail("INVALID_PARAM", "type is invalid.");
        type = true;
        simdjson::dom::array codes;
        if (o["codes"].get(codes) != simdjson::SUCCESS)
          return fail("NO_CODES", "codes 필드가 없습니다.");
        if (v == "trade") {
          for (auto c : codes) {
            std::string_view code;
            if (c.get(code) != simdjson::SUCCESS) return fail("INVALID_PARAM", "code is invalid.");
            const auto& specs = m_.market.specs();
            for (std::size_t i = 0; i < specs.size(); ++i) {
              if (m_.market.market_name(venue_, i) == code) trade_codes_.push_back(i);
            }
            if (code == kFxMarket && venue_ == venues::kUpbit) trade_codes_.push_back(specs.size());
          }
          continue;
        }
        if (v != "orderbook") continue;
        for (auto c : codes) {
          std::string_view code;
          if (c.get(code) != simdjson::SUCCESS) return fail("INVALID_PARAM", "code is invalid.");
          std::string name(code);
          std::size_t depth = 30;
          if (const auto dot = name.find('.'); dot != std::string::npos) {
            depth = std::strtoul(name.c_str() + dot + 1, nullptr, 10);
            name.resize(dot);
            if (depth != 1 && depth != 5 && depth != 15 && depth != 30) {
              return fail("INVALID_PARAM", "depth is invalid.");
            }
          }
          const auto& specs = m_.market.specs();
          std::size_t index = specs.size() + 1;
          for (std::size_t i = 0; i < specs.size(); ++i) {
            if (m_.market.market_name(venue_, i) == name) index = i;
          }
          if (name == kFxMarket && venue_ == venues::kUpbit) index = specs.size();
          if (index > specs.size()) return fail("INVALID_PARAM", "code is invalid: " + name);
          codes_.emplace_back(index, depth);
        }
      }
    }
    if (!ticket) return fail("NO_TICKET", "ticket 필드가 없습니다.");
    if (!type) return fail("NO_TYPE", "type 필드가 없습니다.");
    if (codes_.empty() && trade_codes_.empty()) return fail("NO_CODES", "codes 필드가 없습니다.");
    // A snapshot of each book first, then realtime updates.
    for (const auto& [i, depth] : codes_) {
      const SimBook& b =
          i == m_.market.specs().size() ? m_.market.fx_book() : m_.market.book(venue_, i);
      send(upbit_orderbook(i, b, depth, true), true);
    }
  }

  void fail(const std::string& name, const std::string& message) {
    // Nothing more goes to a connection that is being closed for a bad subscription (the codes
    // parsed before the error would otherwise get the next market update first).
    codes_.clear();
    trade_codes_.clear();
    send(R"({"error":{"name":")" + name + R"(","message":")" + message + R"("}})", true);
    close_after_write_ = true;
  }

  std::string upbit_orderbook(std::size_t i, const SimBook& b, std::size_t depth,
                              bool snapshot) const {
    const std::string& code =
        i == m_.market.specs().size() ? kFxMarket : m_.market.market_name(venue_, i);
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
    out += code;
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

  std::string upbit_trade(const PublicTrade& t) const {
    const std::string code =
        t.symbol == m_.market.specs().size() ? kFxMarket : m_.market.market_name(venue_, t.symbol);
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

  void send(std::string msg, bool binary) {
    if (closed_) return;
    if (queue_.size() > 20'000) {  // a consumer this far behind is dropped, as the venues do
      close();
      return;
    }
    queue_.push_back({std::move(msg), binary, m_.probe.armed});
    if (!writing_) write_next();
  }

  // While frames are queued behind the one being written, the socket is corked: the kernel sends
  // full segments instead of one per frame (on loopback, each send also runs the receiver's side
  // of TCP, so per-frame segments cost more than the TLS). Uncorking when the queue drains sends
  // the rest at once, so a frame that finds the queue empty is not delayed at all.
  void cork(bool on) {
    if (on == corked_ || closed_) return;
    corked_ = on;
    const int v = on ? 1 : 0;
    ::setsockopt(beast::get_lowest_layer(ws_).socket().native_handle(), IPPROTO_TCP, TCP_CORK, &v,
                 sizeof v);
  }

  void write_next() {
    cork(queue_.size() > 1);
    if (queue_.empty() || closed_) {
      writing_ = false;
      if (close_after_write_ && !closed_) {
        ws_.async_close(websocket::close_code::policy_error,
                        [self = shared_from_this()](error_code) { self->closed_ = true; });
      }
      return;
    }
    writing_ = true;
    if (queue_.front().probe && m_.probe.written_ns == 0) m_.probe.written_ns = steady_ns();
    ws_.binary(queue_.front().binary);
    ws_.async_write(asio::buffer(queue_.front().text),
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      if (ec) {
                        self->closed_ = true;
                        return;
                      }
                      ++self->m_.counts.ws_messages;
                      self->queue_.pop_front();
                      self->write_next();
                    });
  }

  struct Out {
    std::string text;
    bool binary = false;
    bool probe = false;  // a latency probe's jumped frame
  };
  Simulator::Impl& m_;
  websocket::stream<Stream> ws_;
  Venue venue_;
  std::string target_;
  beast::flat_buffer buffer_;
  std::deque<Out> queue_;
  bool writing_ = false;
  bool corked_ = false;
  bool closed_ = false;
  bool close_after_write_ = false;
  bool combined_ = false;
  std::set<std::string> streams_;
  std::vector<std::pair<std::size_t, std::size_t>> codes_;  // (book index, depth)
  std::vector<std::size_t> trade_codes_;                    // Upbit trade subscriptions
  bool simple_ = false;
};

// ---------------------------------------------------------------------------------------------
// HTTP sessions

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Simulator::Impl& m, tcp::socket socket, Venue venue)
      : m_(m), stream_(std::move(socket), m.tls), venue_(venue), timer_(m.io) {}

  void run() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
    stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
      if (!ec) self->read();
    });
  }

 private:
  void read() {
    req_ = {};
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(120));
    http::async_read(stream_, buffer_, req_,
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       if (ec) return;
                       self->on_request();
                     });
  }

  void on_request() {
    if (websocket::is_upgrade(req_)) {
      beast::get_lowest_layer(stream_).expires_never();
      std::make_shared<WsSession>(m_, std::move(stream_), venue_)->run(std::move(req_));
      return;
    }
    const std::int64_t received_ns = steady_ns();
    ++m_.counts.http_requests;
    HttpRequest r;
    r.method = std::string(req_.method_string());
    r.target = std::string(req_.target());
    r.body = req_.body();
    for (const auto& f : req_)
      r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
    m_.match_probe(venue_, r, received_ns);
    std::vector<std::pair<Venue, std::size_t>> touched;
    HttpResult result =
        r.path().rfind("/sim/", 0) == 0 ? m_.control(r) : m_.exchange.handle(venue_, r, touched);
    for (const auto& [v, i] : touched) m_.broadcast(v, i);
    m_.publish_trades();
    if (result.drop) {
      error_code ignored;
      beast::get_lowest_layer(stream_).socket().close(ignored);
      return;
    }
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(result.status), req_.version());
    res->set(http::field::content_type, "application/json;charset=UTF-8");
    res->set(http::field::server, "xarb-sim");
    for (const auto& [k, v] : result.headers) res->set(k, v);
    res->body() = std::move(result.body);
    res->keep_alive(req_.keep_alive());
    res->prepare_payload();
    if (result.delay_ms > 0) {
      timer_.expires_after(std::chrono::milliseconds(result.delay_ms));
      timer_.async_wait([self = shared_from_this(), res](error_code) { self->write(res); });
    } else {
      write(res);
    }
  }

  void write(const std::shared_ptr<http::response<http::string_body>>& res) {
    http::async_write(stream_, *res, [self = shared_from_this(), res](error_code ec, std::size_t) {
      if (ec) return;
      if (res->keep_alive()) {
        self->read();
      } else {
        self->stream_.async_shutdown([self](error_code) {});
      }
    });
  }

  Simulator::Impl& m_;
  Stream stream_;
  Venue venue_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
};

// ---------------------------------------------------------------------------------------------
// The market and the broadcast

void Simulator::Impl::broadcast(Venue v, std::size_t i) {
  if (i == BookUpdate::kNone) return;
  ++counts.book_updates;
  // Drop sessions that have gone.
  sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                [](const std::weak_ptr<WsSession>& w) { return w.expired(); }),
                 sessions.end());
  if (v == venues::kBinance) {
    SimBook& book = market.book(venues::kBinance, i);
    SimBook& sent = sent_binance[i];
    if (book.update_id == sent.update_id) return;
    const std::string& sym = market.specs()[i].binance_symbol;
    // One diff from the last broadcast version: U..u covers every change since (continuous).
    std::string diff;
    diff.reserve(1024);
    diff += R"({"e":"depthUpdate","E":)";
    text::append_int(diff, exchange.now_ms());
    diff += R"(,"s":")";
    diff += sym;
    diff += R"(","U":)";
    text::append_int(diff, static_cast<std::int64_t>(sent.update_id + 1));
    diff += R"(,"u":)";
    text::append_int(diff, static_cast<std::int64_t>(book.update_id));
    diff += R"(,"b":)";
    const auto bids = side_diff(sent.bids, book.bids);
    const auto asks = side_diff(sent.asks, book.asks);
    append_diff(diff, bids);
    diff += R"(,"a":)";
    append_diff(diff, asks);
    diff += '}';
    std::string ticker;
    if (!book.bids.empty() && !book.asks.empty()) {
      ticker.reserve(160);
      ticker += R"({"u":)";
      text::append_int(ticker, static_cast<std::int64_t>(book.update_id));
      ticker += R"(,"s":")";
      ticker += sym;
      ticker += R"(","b":")";
      text::append_dec8(ticker, book.bids.rbegin()->first);
      ticker += R"(","B":")";
      text::append_dec8(ticker, book.bids.rbegin()->second);
      ticker += R"(","a":")";
      text::append_dec8(ticker, book.asks.begin()->first);
      ticker += R"(","A":")";
      text::append_dec8(ticker, book.asks.begin()->second);
      ticker += R"("})";
    }
    // The diff base moves by the diff itself (cheaper than copying the book).
    apply_diff(sent.bids, bids);
    apply_diff(sent.asks, asks);
    sent.update_id = book.update_id;
    sent.time_ms = book.time_ms;
    for (const auto& w : sessions) {
      if (auto s = w.lock(); s && s->venue() == venues::kBinance) {
        s->on_binance_book(i, ticker, diff, book);
      }
    }
    return;
  }
  // Upbit and Bithumb: whole books, to that venue's sessions.
  const SimBook& book = i == market.specs().size() ? market.fx_book() : market.book(v, i);
  for (const auto& w : sessions) {
    if (auto s = w.lock(); s && s->venue() == v) s->on_upbit_book(i, book, false);
  }
}

HttpResult Simulator::Impl::control(const HttpRequest& r) {
  HttpResult res;
  if (r.path() == "/sim/summary") {
    SimSummary s = counts;
    s.probes = probe.stats;
    s.exchange = exchange.stats();
    s.accounts = exchange.accounts();
    res.body = s.text();
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
  if (r.path() != "/sim/faults") {
    res.status = 404;
    res.body = R"({"error":"unknown control path"})";
    return res;
  }
  FaultParams& f = exchange.faults();
  const std::map<std::string, double*> doubles = {
      {"reject_share", &f.reject_share},       {"partial_share", &f.partial_share},
      {"error_5xx_share", &f.error_5xx_share}, {"timeout_share", &f.timeout_share},
      {"drop_ws_every_s", &f.drop_ws_every_s}, {"drop_ws_probability", &f.drop_ws_probability},
      {"late_accept_share", &f.late_accept_share}, {"slow_answer_share", &f.slow_answer_share}};
  for (const auto& [k, v] : text::params_of(r.query())) {
    try {
      if (const auto it = doubles.find(k); it != doubles.end()) {
        *it->second = std::stod(v);
      } else if (k == "rest_delay_ms") {
        f.rest_delay_ms = std::stoi(v);
      } else if (k == "stall_feed_ms") {
        f.stall_feed_ms = std::stoi(v);
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
                R"("omit_retry_after":%s})",
                f.reject_share, f.partial_share, f.error_5xx_share, f.timeout_share,
                f.rest_delay_ms, static_cast<long long>(f.clock_skew_ms), f.drop_ws_every_s,
                f.drop_ws_probability, f.stall_feed_ms, f.late_accept_share, f.late_accept_ms,
                f.slow_answer_share, f.slow_answer_ms, f.omit_retry_after ? "true" : "false");
  res.body = buf;
  return res;
}

void Simulator::Impl::publish_trades() {
  for (const PublicTrade& t : exchange.take_trades()) {
    std::string trade, agg;
    if (t.venue == venues::kBinance) {
      const std::string sym = market.specs()[t.symbol].binance_symbol;
      trade = R"({"e":"trade","E":)" + std::to_string(t.time_ms) + R"(,"s":")" + sym + R"(","t":)" +
              std::to_string(t.id) + R"(,"p":")" + dec8(t.price) + R"(","q":")" + dec8(t.qty) +
              R"(","T":)" + std::to_string(t.time_ms) + R"(,"m":)" +
              (t.buyer_is_taker ? "false" : "true") + R"(,"M":true})";
      agg = R"({"e":"aggTrade","E":)" + std::to_string(t.time_ms) + R"(,"s":")" + sym +
            R"(","a":)" + std::to_string(t.id) + R"(,"p":")" + dec8(t.price) + R"(","q":")" +
            dec8(t.qty) + R"(","f":)" + std::to_string(t.id) + R"(,"l":)" + std::to_string(t.id) +
            R"(,"T":)" + std::to_string(t.time_ms) + R"(,"m":)" +
            (t.buyer_is_taker ? "false" : "true") + R"(,"M":true})";
    }
    for (const auto& w : sessions) {
      if (auto s = w.lock()) s->on_trade(t, trade, agg);
    }
  }
}

void Simulator::Impl::on_tick() {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - last_tick).count();
  last_tick = now;
  const FaultParams& f = exchange.faults();
  if (f.stall_feed_ms > 0 && now >= next_stall) {
    stall_until = now + std::chrono::milliseconds(f.stall_feed_ms);
    next_stall = now + std::chrono::seconds(10);
  }
  // Backpressure: while a client's socket is behind, the market waits for it rather than drop
  // messages (the summary counts the ticks it waited).
  bool behind = false;
  for (const auto& w : sessions) {
    if (auto s = w.lock(); s && s->backlog() > 1'000) behind = true;
  }
  if (behind) {
    ++counts.backpressure_ticks;
    owed = 0.0;
  } else if (now >= stall_until) {
    if (replay) {
      for (const BookUpdate& u : replay->advance(
               std::chrono::duration<double>(now - replay_start).count(), market, wall_ms())) {
        broadcast(u.venue, u.symbol);
      }
      counts.replay_applied = replay->applied();
      counts.replay_skipped = replay->skipped();
      counts.replay_finished = replay->finished();
    }
    // At most 5 ms worth of updates per tick, so that writes to the sockets interleave with
    // the market; a rate this thread cannot sustain shows as fewer updates, never as a backlog.
    owed =
        std::min(owed + options.updates_per_second * dt, options.updates_per_second * 0.005 + 1.0);
    const int n = static_cast<int>(owed);
    owed -= n;
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    for (int k = 0; k < n; ++k) {
      const BookUpdate u = market.step(dt / std::max(n, 1), wall_ms());
      broadcast(u.venue, u.symbol);
      // The market's own trades: now and then a small one at the touch (streams stay lively
      // without orders; they do not consume the books).
      if (u.symbol < market.specs().size() && uni(fault_rng) < 0.2) {
        const SimBook& b = market.book(u.venue, u.symbol);
        const bool buy = uni(fault_rng) < 0.5;
        if (!b.bids.empty() && !b.asks.empty()) {
          const std::int64_t step =
              u.venue == venues::kBinance ? market.specs()[u.symbol].step.mantissa() : 1;
          const std::int64_t qty = std::max<std::int64_t>(
              step, static_cast<std::int64_t>(uni(fault_rng) * 1e6) / step * step);
          exchange.add_trade({u.venue, u.symbol,
                              buy ? b.asks.begin()->first : b.bids.rbegin()->first, qty, buy,
                              wall_ms(), 0});
        }
      }
    }
    publish_trades();
  }
  if (f.drop_ws_probability > 0.0) {
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    for (const auto& w : sessions) {
      if (auto s = w.lock(); s && uni(fault_rng) < f.drop_ws_probability * dt) {
        s->close();
        ++counts.ws_dropped;
      }
    }
  }
  if (options.probe_every_ms > 0) on_probe(now);
  tick.expires_after(std::chrono::milliseconds(1));
  tick.async_wait([this](error_code ec) {
    if (!ec) on_tick();
  });
}

std::string ProbeStats::json() const {
  std::string out = R"({"sent":)" + std::to_string(sent) + R"(,"answered":)" +
                    std::to_string(answered) + R"(,"latencies_ns":[)";
  for (std::size_t i = 0; i < latencies_ns.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(latencies_ns[i]);
  }
  return out + "]}";
}

// Jump up, hold, fall back, wait: one probe per period. A jump not answered by the time it is
// taken back is given up (the engine was cooling down, or already in a position): an order after
// that answers something else.
void Simulator::Impl::on_probe(std::chrono::steady_clock::time_point now) {
  if (probe.up && now >= probe.fall) {
    probe.up = false;
    probe.written_ns = 0;
    const BookUpdate u = market.jump(0, -options.probe_jump_bps, wall_ms());
    broadcast(u.venue, u.symbol);
  }
  if (probe.up || now < probe.next || market.specs().empty()) return;
  probe.next = now + std::chrono::milliseconds(options.probe_every_ms);
  probe.fall = now + std::chrono::milliseconds(options.probe_hold_ms);
  probe.up = true;
  ++probe.stats.sent;
  probe.written_ns = 0;
  const BookUpdate u = market.jump(0, options.probe_jump_bps, wall_ms());
  probe.armed = true;
  broadcast(u.venue, u.symbol);
  probe.armed = false;
}

// The first kimchi entry order on the probed symbol after a jumped frame went out: sell on Upbit
// (side=ask) or buy on Binance (side=BUY).
void Simulator::Impl::match_probe(Venue v, const HttpRequest& r, std::int64_t received_ns) {
  if (probe.written_ns == 0 || r.method != "POST" || market.specs().empty()) return;
  const SymbolSpec& s = market.specs()[0];
  const std::string text = r.target + "&" + r.body;
  const bool entry = v == venues::kBinance
                         ? r.path() == "/api/v3/order" &&
                               text.find("side=BUY") != std::string::npos &&
                               text.find("symbol=" + s.binance_symbol) != std::string::npos
                         : r.path() == "/v1/orders" &&
                               (text.find(R"("side":"ask")") != std::string::npos ||
                                text.find("side=ask") != std::string::npos) &&
                               text.find(s.upbit_market) != std::string::npos;
  if (!entry) return;
  probe.stats.latencies_ns.push_back(received_ns - probe.written_ns);
  ++probe.stats.answered;
  probe.written_ns = 0;
}

void Simulator::Impl::accept(Venue v) {
  acceptors[index(v)]->async_accept([this, v](error_code ec, tcp::socket socket) {
    if (ec) return;
    // As the venues do: every frame and answer goes out at once (no Nagle delay behind an
    // unacknowledged segment, which with delayed ACKs can hold a frame for tens of ms).
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<HttpSession>(*this, std::move(socket), v)->run();
    accept(v);
  });
}

// ---------------------------------------------------------------------------------------------

Simulator::Simulator(SimOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Simulator::~Simulator() { stop(); }

void Simulator::start() {
  Impl& m = *impl_;
  const Pem pem = make_self_signed_certificate();
  m.ca_file = m.options.cert_out;
  if (m.ca_file.empty()) {
    m.ca_file = (std::filesystem::temp_directory_path() /
                 ("xarb_sim_ca_" + std::to_string(::getpid()) + "_" +
                  std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".pem"))
                    .string();
  }
  std::ofstream(m.ca_file) << pem.cert;
  if (!std::ofstream(m.ca_file, std::ios::app)) {
    throw std::runtime_error("cannot write the certificate to " + m.ca_file);
  }
  m.tls.use_certificate_chain(asio::buffer(pem.cert));
  m.tls.use_private_key(asio::buffer(pem.key), ssl::context::pem);
  const unsigned short ports[kMaxVenues] = {m.options.binance_port, m.options.upbit_port,
                                            m.options.bithumb_port};
  for (const Venue v : {venues::kBinance, venues::kUpbit, venues::kBithumb}) {
    if (v == venues::kBithumb && !m.options.market.bithumb) continue;
    const tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), ports[index(v)]);
    auto a = std::make_unique<tcp::acceptor>(m.io);
    a->open(loopback.protocol());
    a->set_option(asio::socket_base::reuse_address(true));
    a->bind(loopback);
    a->listen();
    m.acceptors[index(v)] = std::move(a);
    m.accept(v);
  }
  m.market.rebuild_all(wall_ms());
  if (!m.options.replay_files.empty()) {
    m.replay = std::make_unique<CaptureReplay>(m.options.replay_files, m.options.replay_speed);
    m.counts.replaying = true;
    m.replay_start = std::chrono::steady_clock::now();
  }
  m.sent_binance.assign(m.options.symbols.size(), SimBook{});
  for (const SymbolSpec& spec : m.options.symbols) m.lower_symbols.push_back(lower(spec.binance_symbol));
  for (std::size_t i = 0; i < m.options.symbols.size(); ++i) {
    m.sent_binance[i] = m.market.book(venues::kBinance, i);
  }
  m.last_tick = std::chrono::steady_clock::now();
  m.next_stall = m.last_tick + std::chrono::seconds(10);
  m.tick.expires_after(std::chrono::milliseconds(1));
  m.tick.async_wait([&m](error_code ec) {
    if (!ec) m.on_tick();
  });
  // Binance pings every connection every 20 s.
  struct Pinger {
    Impl& m;
    void operator()(error_code ec) const {
      if (ec) return;
      for (const auto& w : m.sessions) {
        if (auto s = w.lock()) s->ping();
      }
      m.ping.expires_after(m.options.binance_ping);
      m.ping.async_wait(*this);
    }
  };
  m.ping.expires_after(m.options.binance_ping);
  m.ping.async_wait(Pinger{m});
  if (m.options.faults.drop_ws_every_s > 0.0) {
    struct Dropper {
      Simulator* sim;
      void operator()(error_code ec) const {
        if (ec) return;
        for (const auto& w : sim->impl_->sessions) {
          if (auto s = w.lock()) {
            s->close();
            ++sim->impl_->counts.ws_dropped;
          }
        }
        sim->impl_->drop.expires_after(std::chrono::milliseconds(
            static_cast<std::int64_t>(sim->impl_->options.faults.drop_ws_every_s * 1000)));
        sim->impl_->drop.async_wait(*this);
      }
    };
    m.drop.expires_after(std::chrono::milliseconds(
        static_cast<std::int64_t>(m.options.faults.drop_ws_every_s * 1000)));
    m.drop.async_wait(Dropper{this});
  }
  m.thread = std::thread([&m] { m.io.run(); });
}

void Simulator::stop() {
  Impl& m = *impl_;
  if (!m.thread.joinable()) return;
  asio::post(m.io, [&m] {
    error_code ignored;
    m.tick.cancel();
    m.ping.cancel();
    m.drop.cancel();
    for (auto& a : m.acceptors) {
      if (a) a->close(ignored);
    }
    for (const auto& w : m.sessions) {
      if (auto s = w.lock()) s->close();
    }
    m.io.stop();
  });
  m.thread.join();
  if (m.options.cert_out.empty()) std::filesystem::remove(m.ca_file);
}

unsigned short Simulator::port(Venue v) const noexcept {
  const auto& a = impl_->acceptors[index(v)];
  return a ? a->local_endpoint().port() : 0;
}
std::string Simulator::ws_url(Venue v) const {
  return v == venues::kBinance ? binance_ws_url()
                               : "wss://127.0.0.1:" + std::to_string(port(v)) + "/websocket/v1";
}
std::string Simulator::rest_url(Venue v) const {
  return "https://127.0.0.1:" + std::to_string(port(v));
}
unsigned short Simulator::binance_port() const noexcept { return port(venues::kBinance); }
unsigned short Simulator::upbit_port() const noexcept { return port(venues::kUpbit); }
std::string Simulator::binance_ws_url() const {
  return "wss://127.0.0.1:" + std::to_string(binance_port());
}
std::string Simulator::binance_rest_url() const {
  return "https://127.0.0.1:" + std::to_string(binance_port());
}
std::string Simulator::upbit_ws_url() const {
  return "wss://127.0.0.1:" + std::to_string(upbit_port()) + "/websocket/v1";
}
std::string Simulator::upbit_rest_url() const {
  return "https://127.0.0.1:" + std::to_string(upbit_port());
}
const std::string& Simulator::ca_file() const noexcept { return impl_->ca_file; }

void Simulator::with_exchange(const std::function<void(Exchange&, SyntheticMarket&)>& fn) {
  std::promise<void> done;
  asio::post(impl_->io, [&] {
    fn(impl_->exchange, impl_->market);
    done.set_value();
  });
  done.get_future().wait();
}

void Simulator::set_rate(double updates_per_second) {
  std::promise<void> done;
  asio::post(impl_->io, [&] {
    impl_->options.updates_per_second = updates_per_second;
    impl_->owed = 0.0;
    done.set_value();
  });
  done.get_future().wait();
}

void Simulator::drop_websockets() {
  std::promise<void> done;
  asio::post(impl_->io, [&] {
    for (const auto& w : impl_->sessions) {
      if (auto s = w.lock()) {
        s->close();
        ++impl_->counts.ws_dropped;
      }
    }
    done.set_value();
  });
  done.get_future().wait();
}

SimSummary Simulator::summary() {
  SimSummary out;
  const auto fill = [&] {
    out = impl_->counts;
    out.probes = impl_->probe.stats;
    out.exchange = impl_->exchange.stats();
    out.accounts = impl_->exchange.accounts();
  };
  if (impl_->thread.joinable() && !impl_->io.stopped()) {
    std::promise<void> done;
    asio::post(impl_->io, [&] {
      fill();
      done.set_value();
    });
    done.get_future().wait();
  } else {
    fill();
  }
  return out;
}

}  // namespace xarb::sim
