#pragma once

// Internal to the journal: SQLite statements, the schema and its migrations, the helpers the
// writer, the recovery queries and the ledger share.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include <xarb/app/journal.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app::journal_detail {

// A prepared statement, reset after each use.
class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("journal: ") + sqlite3_errmsg(db));
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, Decimal v) { return bind(i, std::string_view(to_string(v))); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  [[nodiscard]] std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  [[nodiscard]] double real(int col) const { return sqlite3_column_double(stmt_, col); }
  [[nodiscard]] std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }
  [[nodiscard]] Decimal dec(int col) const {
    Decimal d;
    return Decimal::parse(text(col), d) == Errc::ok ? d : Decimal{};
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Runs SQL that returns no rows; throws std::runtime_error with SQLite's message.
void exec(sqlite3* db, std::string_view sql);

// The schema version this build writes (PRAGMA user_version).
inline constexpr int kSchemaVersion = 2;
// The journal's schema version: 0 for a new file (or one written before versions were kept).
[[nodiscard]] int schema_version(sqlite3* db);
// Throws when the journal's schema is newer than this build's: an older xarb neither reads nor
// writes rows it does not know.
void refuse_newer(sqlite3* db, int version);
// Brings the journal up to kSchemaVersion, one numbered migration after another, each in its own
// transaction. Throws when one fails (the journal stays at the last version that succeeded).
void migrate(sqlite3* db);

// SQL: the row of table alias `t` belongs to a run of the same mode as run ?1 (a journal written
// before runs were recorded has no mode: its rows are all of one).
inline std::string same_mode(std::string_view t) {
  return "COALESCE((SELECT mode FROM runs WHERE run_id=" + std::string(t) +
         ".run_id),'')=COALESCE((SELECT mode FROM runs WHERE run_id=?1),'')";
}

template <class E>
E parse_enum(std::string_view text, E count) {
  for (int k = 0; k < static_cast<int>(count); ++k) {
    if (to_string(static_cast<E>(k)) == text) return static_cast<E>(k);
  }
  return static_cast<E>(0);
}

inline Side parse_side(std::string_view s) { return s == "sell" ? Side::sell : Side::buy; }
// kNoVenue for a name the registry does not have.
inline Venue parse_venue(std::string_view s) { return venues::from_name(s).value_or(kNoVenue); }
inline Direction parse_direction(std::string_view s) {
  return s == "reverse" ? Direction::reverse : Direction::kimchi;
}

// The columns fold_fills reads, in its order.
inline constexpr const char* kFoldColumns = "venue,side,qty,price,fee,fee_base,fee_bnb";

// Adds the fills a statement yields (kFoldColumns) to the position's legs, as the strategy adds a
// report's legs.
void fold_fills(Stmt& fills, signal::Position& p);

}  // namespace xarb::app::journal_detail

namespace xarb::app {

struct Journal::Db {
  sqlite3* db = nullptr;
  std::unique_ptr<journal_detail::Stmt> intent, intent_leg, order, fill, position_new,
      position_update, position_event, refusal, log, intent_outcome, alert;

  ~Db() {
    intent.reset();
    intent_leg.reset();
    order.reset();
    fill.reset();
    position_new.reset();
    position_update.reset();
    position_event.reset();
    refusal.reset();
    log.reset();
    intent_outcome.reset();
    alert.reset();
    if (db != nullptr) sqlite3_close(db);
  }
  void exec(std::string_view sql) const { journal_detail::exec(db, sql); }
  // Opens `path` with SQLite's `flags`; throws std::runtime_error with SQLite's message.
  void open(const std::filesystem::path& path, int flags, int busy_timeout_ms);
};

}  // namespace xarb::app
