#pragma once

// `xarb journal summary | trades | positions | balances | migrate | latency`: the journal of earlier runs,
// opened read-only by every action but migrate.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace xarb::app {

class Journal;

// Each prints what its name says from an open journal.
void print_summary(Journal& journal, std::ostream& out);
void print_trades(Journal& journal, std::ostream& out, std::size_t limit);
void print_positions(Journal& journal, std::ostream& out, bool all);
void print_balances(Journal& journal, std::ostream& out);
// `xarb journal latency`: run `run_id`'s order round trips (0: the latest run) as the CSV
// `xarb backtest --latency-from` reads: venue,action,latency_ns. False when the run has none.
bool print_latency(Journal& journal, std::ostream& out, std::ostream& err, std::uint64_t run_id);

enum class JournalAction { summary, trades, positions, balances, migrate, latency };

// The journal named by --journal, else by the config's [journal] path, read-only (migrate: the
// one action that writes). Returns the exit code.
int journal_command(const std::string& config_path, const std::string& journal_path,
                    JournalAction action, bool all, std::size_t limit, std::ostream& out,
                    std::ostream& err, std::uint64_t run_id = 0);

}  // namespace xarb::app
