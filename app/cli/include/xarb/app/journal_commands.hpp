#pragma once

// `xarb journal summary | trades | positions | balances | migrate`: the journal of earlier runs,
// opened read-only by every action but migrate.

#include <cstddef>
#include <iosfwd>
#include <string>

namespace xarb::app {

class Journal;

// Each prints what its name says from an open journal.
void print_summary(Journal& journal, std::ostream& out);
void print_trades(Journal& journal, std::ostream& out, std::size_t limit);
void print_positions(Journal& journal, std::ostream& out, bool all);
void print_balances(Journal& journal, std::ostream& out);

enum class JournalAction { summary, trades, positions, balances, migrate };

// The journal named by --journal, else by the config's [journal] path, read-only (migrate: the
// one action that writes). Returns the exit code.
int journal_command(const std::string& config_path, const std::string& journal_path,
                    JournalAction action, bool all, std::size_t limit, std::ostream& out,
                    std::ostream& err);

}  // namespace xarb::app
