#include <xarb/app/inventory.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

struct Holding {
  Venue venue;
  std::int64_t amount = 0;  // mantissas
  std::int64_t floor = 0;
  std::int64_t target = 0;
};

// The even split of `total`, raised to each venue's floor (the others share what is left).
void set_targets(std::vector<Holding>& h, std::int64_t total) {
  std::vector<bool> fixed(h.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    std::int64_t left = total;
    std::int64_t open = 0;
    for (std::size_t k = 0; k < h.size(); ++k) {
      if (fixed[k]) {
        left -= h[k].floor;
      } else {
        ++open;
      }
    }
    if (open == 0) return;
    const std::int64_t share = left / open;
    for (std::size_t k = 0; k < h.size(); ++k) {
      if (fixed[k]) continue;
      if (h[k].floor > share) {
        fixed[k] = true;
        h[k].target = h[k].floor;
        changed = true;
      } else {
        h[k].target = share;
      }
    }
  }
}

std::string amount_text(std::int64_t m, const std::string& asset) {
  return to_string(Decimal::from_mantissa(m)) + " " + asset;
}

}  // namespace

RebalancePlan plan_rebalance(const std::vector<InventoryReport>& inventory,
                             const std::vector<HeadroomReport>& headroom,
                             const InventoryConfig& config) {
  RebalancePlan plan;
  std::map<std::string, std::vector<Holding>> by_asset;
  for (const InventoryReport& r : inventory) {
    by_asset[r.asset].push_back({r.venue, r.expected.mantissa(), r.floor.mantissa(), 0});
  }
  const auto fee_of = [&](Venue from, const std::string& asset) {
    const std::optional<Decimal> fee = find_amount(config.withdrawal_fee, from, asset);
    return std::pair{fee.has_value(), fee ? fee->mantissa() : std::int64_t{0}};
  };
  for (auto& [asset, h] : by_asset) {
    if (h.size() < 2) continue;
    std::int64_t total = 0;
    std::int64_t floors = 0;
    for (const Holding& x : h) {
      total += x.amount;
      floors += x.floor;
    }
    if (floors > total) {
      plan.notes.push_back(asset + ": the venues hold " + amount_text(total, asset) +
                           " together, less than their floors (" + amount_text(floors, asset) +
                           "); no move lifts every one over its floor: add " + asset);
      continue;
    }
    set_targets(h, total);
    const auto low = [&](const Holding& x) {
      return x.amount < x.floor ||
             static_cast<double>(x.amount) < static_cast<double>(x.target) * config.rebalance_at;
    };
    // The neediest first.
    std::vector<std::size_t> order(h.size());
    for (std::size_t k = 0; k < h.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return h[a].target - h[a].amount > h[b].target - h[b].amount;
    });
    for (const std::size_t to : order) {
      if (!low(h[to])) continue;
      while (h[to].amount < h[to].target) {
        std::size_t from = h.size();
        for (std::size_t k = 0; k < h.size(); ++k) {
          if (k == to || h[k].amount <= h[k].target) continue;
          if (from == h.size() || h[k].amount - h[k].target > h[from].amount - h[from].target) {
            from = k;
          }
        }
        if (from == h.size()) break;  // nobody has more than its share
        const auto [fee_known, fee] = fee_of(h[from].venue, asset);
        const std::int64_t send =
            std::min(h[to].target - h[to].amount, h[from].amount - h[from].target - fee);
        if (send <= 0) break;
        if (static_cast<double>(fee) > config.max_fee_share * static_cast<double>(send)) {
          plan.notes.push_back("moving " + amount_text(send, asset) + " from " +
                               std::string(to_string(h[from].venue)) + " to " +
                               std::string(to_string(h[to].venue)) +
                               " is left out: its withdrawal fee (" + amount_text(fee, asset) +
                               ") is more than inventory.max_fee_share of it");
          break;
        }
        h[from].amount -= send + fee;
        h[to].amount += send;
        plan.moves.push_back({asset, h[from].venue, h[to].venue, Decimal::from_mantissa(send),
                              Decimal::from_mantissa(fee), fee_known,
                              Decimal::from_mantissa(h[from].amount),
                              Decimal::from_mantissa(h[to].amount)});
      }
    }
  }
  // What no transfer can bring: an asset only one venue of this config holds (USDT on Binance
  // against KRW on Upbit). The other direction refills it.
  for (const HeadroomReport& r : headroom) {
    if (!r.known || r.entries > 0 || r.bound_by.empty()) continue;
    const std::string asset = r.bound_by.substr(r.bound_by.find(' ') + 1);
    const auto it = by_asset.find(asset);
    if (it != by_asset.end() && it->second.size() > 1) continue;  // a move can bring it
    const std::string other = r.direction == "kimchi" ? "reverse" : "kimchi";
    std::string note = r.direction + " " + r.symbol + " on " + r.pair +
                       " has no room left: " + r.bound_by +
                       " is at its floor, and no transfer between these venues " + "brings " +
                       asset + "; " + other + " entries refill it";
    if (std::find(plan.notes.begin(), plan.notes.end(), note) == plan.notes.end()) {
      plan.notes.push_back(std::move(note));
    }
  }
  return plan;
}

}  // namespace xarb::app
