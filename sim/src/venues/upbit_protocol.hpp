#pragma once

// Upbit's protocol, which Bithumb's current API follows (JWT with query_hash, /v1 and /v2 REST,
// the same public websocket framing), told apart by a dialect: each venue's paths, names,
// acknowledgements and states. upbit.cpp and bithumb.cpp each hold theirs; upbit_rest.cpp and
// upbit_ws.cpp serve any of them.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <xarb/core/ids.hpp>

namespace xarb::sim {

struct UpbitFront {
  Venue venue = kNoVenue;
  bool orderbook_instruments = false;  // GET /v1/orderbook/instruments (tick sizes)
  bool remaining_req = false;          // answers carry the Remaining-Req header
  std::int64_t token_window_ms = 0;    // the JWT must carry `timestamp` this fresh; 0: none
  std::string_view place_path;         // POST: a new order
  std::string_view open_path;          // GET: open orders
  bool open_wrapped = false;           // the open list comes as {"data":[...],"has_next",...}
  bool state_list = false;             // GET /v1/orders?state=wait|watch|done|cancel
  std::string_view cancel_path;        // DELETE: cancel one order
  std::string_view cancel_id_key;      // its venue-id parameter
  std::string_view client_id_key;      // the client id's name in requests and order objects
  std::string_view type_key;           // the order type's name in a new order
  std::string_view invalid;            // the error name of a bad parameter
  std::string_view duplicate;          // the error name of a reused client id
  std::string_view under_min;          // the error name under the minimum total, before bid / ask
  bool acks = false;   // a new order and a cancel are answered with an acknowledgement only
  bool c_ids = false;  // venue order ids "C0101…" (else uuid-like)
  std::size_t client_id_max = 0;  // client ids limited to this many [A-Za-z0-9_-]; 0: any
  bool tif_done = false;  // an IOC order that executed in part ends `done` (cancel_type set)
  bool order_events_v2 = false;  // private myOrder events in Bithumb's v2 shape
};

extern const UpbitFront kUpbitDialect;
extern const UpbitFront kBithumbDialect;

}  // namespace xarb::sim
