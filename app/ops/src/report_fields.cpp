#include <array>
#include <charconv>
#include <cmath>
#include <type_traits>

#include <xarb/app/report_fields.hpp>

namespace xarb::app {
namespace {

template <class M>
struct MemberOf;
template <class R, class T>
struct MemberOf<T R::*> {
  using Row = R;
  using Type = T;
};

// A field kept in its row: read and set through the member.
template <auto M>
constexpr ReportField<typename MemberOf<decltype(M)>::Row> kept(std::string_view key,
                                                                std::string_view label,
                                                                std::string_view metric,
                                                                MetricType type,
                                                                std::string_view help) {
  using Row = typename MemberOf<decltype(M)>::Row;
  using T = typename MemberOf<decltype(M)>::Type;
  return {key,
          label,
          metric,
          type,
          help,
          [](const Row& r) { return FieldValue(r.*M); },
          [](Row& r, const FieldValue& v) {
            if (const T* p = std::get_if<T>(&v)) r.*M = *p;
          }};
}

constexpr MetricType counter = MetricType::counter;
constexpr MetricType gauge = MetricType::gauge;
constexpr MetricType none = MetricType::none;

const std::array kVenue = {
    kept<&VenueReport::frames>("frames", "frames", "frames_total", counter,
                               "Market data frames received."),
    kept<&VenueReport::bytes>("bytes", "bytes", "received_bytes_total", counter,
                              "Market data bytes received."),
    kept<&VenueReport::dropped_frames>("dropped_frames", "dropped", "dropped_frames_total", counter,
                                       "Frames counted and dropped as malformed or unknown."),
    kept<&VenueReport::connects>("connects", "connects", "connects_total", counter,
                                 "Market data websocket connections made."),
    kept<&VenueReport::disconnects>("disconnects", "disconnects", "disconnects_total", counter,
                                    "Market data websocket connections lost."),
    kept<&VenueReport::resyncs>("resyncs", "resyncs", "resyncs_total", counter,
                                "Books reset and resynchronised."),
    kept<&VenueReport::snapshot_failures>("snapshot_failures", "snapshot failures",
                                          "snapshot_failures_total", counter,
                                          "REST depth snapshots that failed."),
    kept<&VenueReport::ring_full>("ring_full", "ring full", "ring_full_total", counter,
                                  "Book updates the strategy's full ring could not take."),
    kept<&VenueReport::orders>("orders", "orders", "orders_total", counter, "Order requests sent."),
    kept<&VenueReport::order_errors>("order_errors", "order errors", "order_errors_total", counter,
                                     "Orders that ended with a venue error."),
    kept<&VenueReport::healthy>("healthy", "", "venue_healthy", gauge,
                                "1 while exec can reach the venue (entries on it allowed)."),
};

const std::array kStream = {
    kept<&VenueReport::stream_up>(
        "up", "", "up", gauge,
        "1 while the venue's private stream settles orders (up, subscribed, reconciled)."),
    kept<&VenueReport::stream_connects>("connects", "connects", "connects_total", counter,
                                        "Private stream connections made."),
    kept<&VenueReport::stream_disconnects>("disconnects", "disconnects", "disconnects_total",
                                           counter, "Private stream connections lost."),
    kept<&VenueReport::stream_order_ends>("order_ends", "order ends pushed", "order_ends_total",
                                          counter, "Orders whose end the private stream pushed."),
    kept<&VenueReport::stream_reconciled>("reconciled", "reconciled", "reconciled_total", counter,
                                          "Orders queried after the private stream (re)connected."),
    kept<&VenueReport::stream_malformed>("malformed", "malformed", "malformed_total", counter,
                                         "Private stream messages counted and dropped."),
    kept<&VenueReport::stream_incomplete>(
        "incomplete", "incomplete", "incomplete_total", counter,
        "Order events the private stream could not settle (an execution unseen): queried."),
    kept<&VenueReport::stream_requests>(
        "requests", "requests sent on it", "requests_total", counter,
        "Orders, queries and cancels sent on the private stream's connection (order_entry ws)."),
    kept<&VenueReport::stream_balance_mismatches>(
        "balance_mismatches", "balance mismatches", "balance_mismatches_total", counter,
        "Balances the private stream pushed that differ from what the fills predicted."),
    kept<&VenueReport::stream_last_mismatch>("last_mismatch", "", "", none,
                                             "The last such difference: asset and amounts."),
};

const std::array kRun = {
    kept<&RunReport::book_updates>("book_updates", "book updates", "book_updates_total", counter,
                                   "Book updates handed to the strategy."),
    kept<&RunReport::entries>("entries", "entries", "entries_total", counter, "Entry intents."),
    kept<&RunReport::exit_intents>("exit_intents", "exit intents", "", none, "Exit intents."),
    kept<&RunReport::opened>("opened", "opened", "positions_opened_total", counter,
                             "Positions opened."),
    kept<&RunReport::closed>("closed", "closed", "positions_closed_total", counter,
                             "Positions closed after trading."),
    kept<&RunReport::wins>("wins", "wins", "positions_won_total", counter,
                           "Positions closed with a profit."),
    kept<&RunReport::broken>("broken", "broken", "positions_broken_total", counter,
                             "Positions that became BROKEN."),
    kept<&RunReport::open_positions>("open_positions", "open", "positions_open", gauge,
                                     "Positions not closed."),
    kept<&RunReport::restored_positions>("restored_positions", "restored",
                                         "positions_restored_total", counter,
                                         "Positions the journal handed back at start."),
    kept<&RunReport::dust_writeoffs>("dust_writeoffs", "dust write-offs", "dust_writeoffs_total",
                                     counter, "Residuals below the venues' minimums, written off."),
    kept<&RunReport::dropped_intents>("dropped_intents", "intents dropped", "intents_dropped_total",
                                      counter, "Intents the full queue to exec could not take."),
    kept<&RunReport::winrate>("winrate", "", "winrate", gauge,
                              "Share of closed positions with a positive PnL."),
    kept<&RunReport::realized_krw>("realized_pnl_krw", "", "realized_pnl_krw", gauge,
                                   "Realised PnL in KRW."),
    kept<&RunReport::unrealized_krw>("unrealized_pnl_krw", "", "unrealized_pnl_krw", gauge,
                                     "Unrealised PnL of open positions in KRW."),
    kept<&RunReport::risk_mode>("risk_mode", "", "", none,
                                "normal, halted (circuit breaker) or reducing (exits only)."),
    kept<&RunReport::reconciliations>("reconciliations", "", "reconciliations_total", counter,
                                      "Balance reconciliations against the venues."),
    kept<&RunReport::peak_rss_kib>("peak_rss_kib", "", "", none, "Peak resident set size, KiB."),
    kept<&RunReport::rss_kib>("rss_kib", "", "", none, "Resident set size, KiB."),
    ReportField<RunReport>{"", "", "resident_memory_bytes", gauge, "Resident set size.",
                           [](const RunReport& r) { return FieldValue(r.rss_kib * 1024); },
                           nullptr},
    kept<&RunReport::heap_in_use_bytes>("heap_in_use_bytes", "", "heap_in_use_bytes", gauge,
                                        "C heap handed out and not freed."),
    kept<&RunReport::heap_held_bytes>("heap_held_bytes", "", "heap_held_bytes", gauge,
                                      "C heap the allocator holds from the system."),
    kept<&RunReport::journal_memory_bytes>("journal_memory_bytes", "", "journal_memory_bytes",
                                           gauge, "SQLite's allocations (page cache, statements)."),
};

const std::array kExec = {
    kept<&RunReport::exec_retries>("retries", "retries", "exec_retries_total", counter,
                                   "Order requests sent again after a lost answer."),
    kept<&RunReport::exec_unwinds>("unwinds", "unwinds", "exec_unwinds_total", counter,
                                   "Legs unwound after the other leg failed."),
    kept<&RunReport::exec_queries>("queries", "queries", "exec_queries_total", counter,
                                   "Orders asked for after their answer was lost."),
    kept<&RunReport::exec_settled>(
        "settled", "settled later", "orders_settled_late_total", counter,
        "Orders left unknown that their venue settled later in the run."),
    kept<&RunReport::exec_unsettled>(
        "unsettled", "still unknown", "orders_unsettled", gauge,
        "Orders whose outcome no venue has settled yet (their positions held BROKEN)."),
};

const std::array kJournal = {
    kept<&RunReport::journal_events>("events", "journal events", "journal_events_total", counter,
                                     "Events the journal wrote."),
    kept<&RunReport::journal_errors>("errors", "journal errors", "journal_errors_total", counter,
                                     "Journal writes that failed."),
};

const std::array kTrade = {
    kept<&TradeReport::entries>("entries", "entries", "entries_total", counter,
                                "Entry intents of the pair."),
    kept<&TradeReport::closed>("closed", "closed", "closed_total", counter,
                               "Positions of the pair closed after trading."),
    kept<&TradeReport::wins>("wins", "wins", "wins_total", counter,
                             "Positions of the pair closed with a profit."),
    kept<&TradeReport::broken>("broken", "broken", "broken_total", counter,
                               "Positions of the pair that went BROKEN."),
    kept<&TradeReport::open>("open", "open", "open_positions", gauge,
                             "Open positions of the pair."),
    kept<&TradeReport::realized_krw>("realized_pnl_krw", "realised KRW", "realized_pnl_krw", gauge,
                                     "Realised PnL of the pair in KRW."),
};

const std::array kBalance = {
    kept<&BalanceReport::held>("held", "held", "held", gauge,
                               "Free balance the venue reported at the last reconciliation."),
    kept<&BalanceReport::expected>(
        "expected", "expected", "expected", gauge,
        "Balance the ledger explains (start + fills net of commissions)."),
    ReportField<BalanceReport>{
        "difference", "difference", "difference", gauge, "Held minus expected.",
        [](const BalanceReport& b) { return FieldValue(b.difference()); }, nullptr},
    kept<&BalanceReport::unexplained>(
        "unexplained", "", "unexplained", gauge,
        "1 while a difference the ledger's rounding cannot explain persists (REDUCING)."),
};

const std::array kInventory = {
    kept<&InventoryReport::held>("held", "held", "held", gauge,
                                 "What the venue holds of the asset (live: at the last "
                                 "reconciliation; paper: the engine's figure)."),
    kept<&InventoryReport::locked>("locked", "locked", "locked", gauge,
                                   "Set aside by the engine for intents in flight."),
    kept<&InventoryReport::expected>(
        "expected", "expected", "expected", gauge,
        "What the ledger (live) or the engine (paper) expects: start + fills net of fees."),
    ReportField<InventoryReport>{
        "difference", "difference", "difference", gauge, "Held minus expected.",
        [](const InventoryReport& i) { return FieldValue(i.difference()); }, nullptr},
    kept<&InventoryReport::floor>("floor", "floor", "floor", gauge,
                                  "The floor entries stop at ([inventory.floor]; 0: none)."),
    ReportField<InventoryReport>{
        "above_floor", "above floor", "above_floor", gauge,
        "Expected less locked less the floor: what entries may spend.",
        [](const InventoryReport& i) { return FieldValue(i.above_floor()); }, nullptr},
    kept<&InventoryReport::from_venue>("from_venue", "", "", none,
                                       "`held` is what the venue said (else the engine's figure)."),
};

const std::array kDust = {
    kept<&DustReport::qty>("qty", "", "dust", gauge,
                           "What positions closed this run left at the venue, under its minimum."),
    kept<&DustReport::positions>("positions", "positions", "", none,
                                 "Closed positions that left it."),
};

const std::array kHeadroom = {
    kept<&HeadroomReport::known>("known", "", "", none, "Both books seen."),
    kept<&HeadroomReport::qty>(
        "qty", "", "qty", gauge,
        "Base units the direction can still enter before an asset it spends reaches its floor."),
    kept<&HeadroomReport::entries>("entries", "", "entries", gauge,
                                   "Whole trade_qty entries in that headroom."),
    kept<&HeadroomReport::bound_by>("bound_by", "", "", none,
                                    "The asset that runs out first, after its venue."),
};

}  // namespace

std::span<const ReportField<VenueReport>> venue_fields() { return kVenue; }
std::span<const ReportField<VenueReport>> stream_fields() { return kStream; }
std::span<const ReportField<RunReport>> run_fields() { return kRun; }
std::span<const ReportField<RunReport>> exec_fields() { return kExec; }
std::span<const ReportField<RunReport>> journal_fields() { return kJournal; }
std::span<const ReportField<TradeReport>> trade_fields() { return kTrade; }
std::span<const ReportField<BalanceReport>> balance_fields() { return kBalance; }
std::span<const ReportField<InventoryReport>> inventory_fields() { return kInventory; }
std::span<const ReportField<DustReport>> dust_fields() { return kDust; }
std::span<const ReportField<HeadroomReport>> headroom_fields() { return kHeadroom; }

std::string metric_text(const FieldValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Decimal>) {
          return to_string(x);
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "1" : "0";
        } else if constexpr (std::is_same_v<T, double>) {
          // The shortest text that reads back as the same double; Prometheus's specials.
          if (std::isnan(x)) return "NaN";
          if (std::isinf(x)) return x > 0 ? "+Inf" : "-Inf";
          char buf[32];
          const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
          return ec == std::errc{} ? std::string(buf, end) : "NaN";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else {
          return std::to_string(x);
        }
      },
      v);
}

}  // namespace xarb::app
