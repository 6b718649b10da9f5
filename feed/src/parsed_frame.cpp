#include <xarb/feed/parsed_frame.hpp>

namespace xarb::feed {

std::string_view to_string(MsgKind k) noexcept {
  switch (k) {
    case MsgKind::depth_diff:
      return "depth_diff";
    case MsgKind::depth_snapshot:
      return "depth_snapshot";
    case MsgKind::partial_depth:
      return "partial_depth";
    case MsgKind::book_ticker:
      return "book_ticker";
    case MsgKind::orderbook:
      return "orderbook";
    case MsgKind::trade:
      return "trade";
    case MsgKind::kline:
      return "kline";
    case MsgKind::ticker:
      return "ticker";
    case MsgKind::status:
      return "status";
    case MsgKind::subscription:
      return "subscription";
    case MsgKind::venue_error:
      return "venue_error";
    case MsgKind::dropped:
      return "dropped";
    case MsgKind::count:
      break;
  }
  return "unknown";
}

std::string_view to_string(DropReason r) noexcept {
  switch (r) {
    case DropReason::none:
      return "none";
    case DropReason::oversized:
      return "oversized";
    case DropReason::malformed:
      return "malformed";
    case DropReason::wrong_type:
      return "wrong_type";
    case DropReason::missing_field:
      return "missing_field";
    case DropReason::bad_number:
      return "bad_number";
    case DropReason::too_many_levels:
      return "too_many_levels";
    case DropReason::unknown_symbol:
      return "unknown_symbol";
    case DropReason::unknown_type:
      return "unknown_type";
    case DropReason::count:
      break;
  }
  return "unknown";
}

}  // namespace xarb::feed
