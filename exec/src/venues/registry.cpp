// Exec's venue registry: one line per venue it can trade, naming its adapter, its error kinds and
// how the paper venue stands in for it.

#include <xarb/venues/registry.hpp>

#include "adapter.hpp"

namespace xarb::exec {
namespace adapters {

std::unique_ptr<RestAdapter> make_krwcopy(const RestVenueOptions& options,
                                          const net::Url& endpoint);

namespace {

constexpr ExecVenue kExecVenues[] = {
    {venues::kBinance, &make_binance, &binance_error_kind,
     {&binance_paper_refusal, true, OrderState::expired, kBinanceOrders}},
    {venues::kUpbit, &make_upbit, &upbit_error_kind,
     {&upbit_paper_refusal, false, OrderState::canceled, kUpbitOrders}},
    {venues::kBithumb, &make_bithumb, &bithumb_error_kind,
     {&bithumb_paper_refusal, false, OrderState::canceled, kBithumbOrders}},
    {*venues::from_name("krwcopy"), &make_krwcopy, &upbit_error_kind,
     {&upbit_paper_refusal, false, OrderState::canceled, kUpbitOrders}},
};

}  // namespace

const ExecVenue* find(Venue venue) noexcept {
  for (const ExecVenue& v : kExecVenues) {
    if (v.id == venue) return &v;
  }
  return nullptr;
}

std::string RestAdapter::describe(int status, std::string_view body) {
  VenueError e;
  std::string out("HTTP ");
  out.append(std::to_string(status));
  if (parse_error(body, e)) {
    if (e.code != 0) out.append(" code ").append(std::to_string(e.code));
    if (!e.name.empty()) out.append(" ").append(e.name.view());
    if (!e.message.empty()) out.append(": ").append(e.message.view());
  } else if (!body.empty()) {
    out.append(": ").append(body.substr(0, std::min<std::size_t>(body.size(), 200)));
  }
  return out;
}

}  // namespace adapters

// Sets `error.kind` from the HTTP status, then from the venue's own code or name.
void classify(Venue venue, VenueError& e) noexcept {
  if (e.http_status == 429 || e.http_status == 418) {
    e.kind = VenueErrorKind::rate_limited;
  } else if (e.http_status >= 500) {
    e.kind = VenueErrorKind::server;
  } else if (e.http_status == 0 && e.code == 0 && e.name.empty()) {
    e.kind = e.message.empty() ? VenueErrorKind::none : VenueErrorKind::transport;
  } else {
    const adapters::ExecVenue* v = adapters::find(venue);
    e.kind = v != nullptr ? v->error_kind(e) : VenueErrorKind::other;
  }
}

}  // namespace xarb::exec
