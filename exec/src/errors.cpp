#include <xarb/exec/orders.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::exec {
namespace {

bool contains(std::string_view text, std::string_view part) noexcept {
  return text.find(part) != std::string_view::npos;
}

VenueErrorKind binance_kind(const VenueError& e) noexcept {
  switch (e.code) {
    case -1021:
      return VenueErrorKind::timestamp;
    case -1022:
    case -2014:
    case -2015:
      return VenueErrorKind::auth;
    case -1003:
    case -1015:
      return VenueErrorKind::rate_limited;
    case -1013:
      return VenueErrorKind::filter_failure;
    case -2011:
    case -2013:
      return VenueErrorKind::unknown_order;
    case -1001:
    case -1006:
    case -1007:
      return VenueErrorKind::server;
    case -2010:
      if (contains(e.message.view(), "insufficient balance")) {
        return VenueErrorKind::insufficient_balance;
      }
      if (contains(e.message.view(), "Duplicate")) return VenueErrorKind::duplicate;
      return VenueErrorKind::other;
    default:
      return VenueErrorKind::other;
  }
}

VenueErrorKind upbit_kind(const VenueError& e) noexcept {
  const std::string_view n = e.name.view();
  if (n.starts_with("insufficient_funds")) return VenueErrorKind::insufficient_balance;
  if (n.starts_with("under_min_total") || n.starts_with("invalid_price") ||
      n.starts_with("invalid_volume") || n == "validation_error" || n.starts_with("over_max")) {
    return VenueErrorKind::filter_failure;
  }
  if (n == "jwt_verification" || n == "invalid_access_key" || n == "expired_access_key" ||
      n == "invalid_query_payload" || n == "nonce_used" || n == "no_authorization_ip") {
    return VenueErrorKind::auth;
  }
  if (n == "order_not_found") return VenueErrorKind::unknown_order;
  if (n == "duplicate_identifier" || contains(n, "identifier")) return VenueErrorKind::duplicate;
  if (n == "too_many_requests") return VenueErrorKind::rate_limited;
  return VenueErrorKind::other;
}

}  // namespace

void classify(Venue venue, VenueError& e) noexcept {
  if (e.http_status == 429 || e.http_status == 418) {
    e.kind = VenueErrorKind::rate_limited;
  } else if (e.http_status >= 500) {
    e.kind = VenueErrorKind::server;
  } else if (e.http_status == 0 && e.code == 0 && e.name.empty()) {
    e.kind = e.message.empty() ? VenueErrorKind::none : VenueErrorKind::transport;
  } else {
    e.kind = venue == venues::kBinance ? binance_kind(e) : upbit_kind(e);
  }
}

}  // namespace xarb::exec
