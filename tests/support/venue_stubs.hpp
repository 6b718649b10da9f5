#pragma once

// In-test HTTPS stand-ins for Binance's and Upbit's REST APIs on 127.0.0.1. They authenticate
// every request the way the venue documents it (Binance: API key header, HMAC-SHA256 over query
// + body, timestamp within recvWindow; Upbit: JWT HS256/HS512 signature, query_hash over the
// parameters, nonce never reused) and answer with the venue's real status codes and error bodies.
// Orders fill at their limit price unless a test scripts another answer.

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tls_test_server.hpp"

namespace xarb::test {

// What the next order request gets instead of a fill.
struct Scripted {
  int status = 200;          // 200: fill (`fill_share` of the quantity); else answer `body`
  std::string body;          // error body for non-200
  double fill_share = 1.0;
  int delay_ms = 0;
  bool drop = false;         // close the connection without answering (after executing if fill)
  std::vector<std::pair<std::string, std::string>> headers;

  static Scripted error(int status, std::string body) {
    Scripted s;
    s.status = status;
    s.body = std::move(body);
    return s;
  }
};

class BinanceStub {
 public:
  BinanceStub(std::string key, std::string secret);
  ~BinanceStub();

  [[nodiscard]] std::string url() const { return server_->https_url(); }
  [[nodiscard]] const std::string& ca_file() const { return server_->ca_file(); }
  [[nodiscard]] int connections() const { return server_->connections(); }

  void script(Scripted s);
  void set_clock_skew_ms(std::int64_t ms) { skew_ms_ = ms; }
  void set_balance(const std::string& asset, const std::string& free);

  std::atomic<int> signed_ok{0};
  std::atomic<int> auth_failures{0};
  std::atomic<int> orders{0};
  std::atomic<int> time_requests{0};
  std::atomic<int> trade_requests{0};  // GET /api/v3/myTrades
  // While true, GET /api/v3/order is not answered (queries_held counts those that arrived).
  std::atomic<bool> hold_queries{false};
  std::atomic<int> queries_held{0};

 private:
  HttpReply handle(const HttpExchange& ex);

  std::string key_, secret_;
  std::atomic<std::int64_t> skew_ms_{0};
  std::mutex mutex_;
  std::deque<Scripted> script_;
  // As Binance keeps them: an order's query answer has no fills; its trades are listed by
  // GET /api/v3/myTrades?symbol=&orderId=.
  struct StoredOrder {
    std::string symbol;
    std::string order_id;
    std::string query_json;
    std::string trades_json;  // the array
  };
  std::map<std::string, StoredOrder> orders_;  // by client id
  std::map<std::string, std::string> balances_;
  std::string exchange_info_;
  std::unique_ptr<TlsTestServer> server_;
};

class UpbitStub {
 public:
  UpbitStub(std::string access_key, std::string secret_key);
  ~UpbitStub();

  [[nodiscard]] std::string url() const { return server_->https_url(); }
  [[nodiscard]] const std::string& ca_file() const { return server_->ca_file(); }

  void script(Scripted s);
  void set_balance(const std::string& currency, const std::string& balance);
  void set_instruments_available(bool on) { instruments_ = on; }

  std::atomic<int> signed_ok{0};
  std::atomic<int> auth_failures{0};
  std::atomic<int> orders{0};
  std::atomic<int> queries{0};
  std::string last_auth_error;

 private:
  HttpReply handle(const HttpExchange& ex);
  // Empty when the token is valid for these parameters; else the Upbit error name.
  std::string verify(const HttpExchange& ex);

  std::string access_, secret_;
  std::atomic<bool> instruments_{true};
  std::mutex mutex_;
  std::deque<Scripted> script_;
  std::set<std::string> nonces_;
  std::map<std::string, std::string> orders_;  // identifier -> final order JSON
  std::map<std::string, std::string> balances_;
  std::unique_ptr<TlsTestServer> server_;
};

}  // namespace xarb::test
