#pragma once

// The rebalance plan of `xarb inventory` (docs/design.md: Operating it): what to move between
// venues, from where to where and how much, with each sending venue's withdrawal fee. A plan
// only: nothing is withdrawn.

#include <vector>

#include <xarb/app/config.hpp>
#include <xarb/app/report.hpp>

namespace xarb::app {

// For every asset two or more venues hold: the even split of what they hold together, raised to
// each venue's floor, is each one's target. A venue under its floor, or under `rebalance_at` of
// its target, is topped up to the target from the venues above theirs, the largest surplus
// first; the sender pays its withdrawal fee on top. A move whose fee is more than max_fee_share
// of it is left out, and said so. A direction that cannot trade for want of an asset no transfer
// between these venues can bring (USDT against KRW) is named with the direction that refills
// it. Amounts are the ledger's (InventoryReport::expected).
[[nodiscard]] RebalancePlan plan_rebalance(const std::vector<InventoryReport>& inventory,
                                           const std::vector<HeadroomReport>& headroom,
                                           const InventoryConfig& config);

}  // namespace xarb::app
