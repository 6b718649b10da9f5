// Bithumb's front end: its dialect of Upbit's protocol (upbit_protocol.hpp; docs/venues.md). Places on v2
// (`client_order_id` exists only there) and acknowledges without a state; looks up on v1; its
// token carries its time, refused a minute stale (the window is not documented).

#include <xarb/venues/registry.hpp>

#include "upbit_protocol.hpp"

namespace xarb::sim {

const UpbitFront kBithumbDialect = {
    .venue = venues::kBithumb,
    .orderbook_instruments = false,
    .remaining_req = false,  // documents no remaining-count header
    .token_window_ms = 60'000,
    .place_path = "/v2/orders",
    .open_path = "/v2/orders/pending",
    .open_wrapped = true,
    .state_list = true,
    .cancel_path = "/v2/order",
    .cancel_id_key = "order_id",
    .client_id_key = "client_order_id",
    .type_key = "order_type",
    .invalid = "invalid_parameter",
    .duplicate = "duplicate_client_order_id",
    .under_min = "under_price_limit_",
    .acks = true,
    .c_ids = true,
    .client_id_max = 36,
    .tif_done = true,
    .order_events_v2 = true,
};

}  // namespace xarb::sim
