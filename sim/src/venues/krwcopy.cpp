// krwcopy's front end (a test fixture: Upbit's protocol under another name; see
// tests/app/fourth_venue_test.cpp): Upbit's dialect, word for word, under its own venue id.

#include <xarb/venues/registry.hpp>

#include "upbit_protocol.hpp"

namespace xarb::sim {

extern const UpbitFront kKrwCopyDialect;
const UpbitFront kKrwCopyDialect = {
    .venue = *venues::from_name("krwcopy"),
    .orderbook_instruments = true,
    .remaining_req = true,
    .token_window_ms = 0,
    .place_path = "/v1/orders",
    .open_path = "/v1/orders/open",
    .open_wrapped = false,
    .state_list = false,
    .cancel_path = "/v1/order",
    .cancel_id_key = "uuid",
    .client_id_key = "identifier",
    .type_key = "ord_type",
    .invalid = "validation_error",
    .duplicate = "duplicate_identifier",
    .under_min = "under_min_total_",
    .acks = false,
    .c_ids = false,
    .client_id_max = 0,
    .tif_done = false,
    .order_events_v2 = false,
};

}  // namespace xarb::sim
