#pragma once

// The structured log of `xarb run`: one JSON object per line (spdlog, a rotating file) for every
// ops event (intents, execution reports, position changes, refusals, log records), every notice
// of the watch, and the run's start and end with its summary. Money is exact decimal text. Written
// by the ops thread only, flushed as the journal commits.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <xarb/app/journal.hpp>
#include <xarb/app/report.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>

#include <xarb/app/ops_watch.hpp>

namespace spdlog {
class logger;
}

namespace xarb::app {

class EventLog {
 public:
  // Appends to `path`, rotating it at `max_bytes` and keeping `files` older ones (path.1, ...).
  // Throws std::runtime_error when the file cannot be opened.
  EventLog(const std::filesystem::path& path, std::size_t max_bytes, std::size_t files,
           const SymbolMap& symbols, std::uint64_t run_id);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  void event(const OpsEvent& e);
  void notice(const Notice& n);
  void alert(const JournalAlert& a);  // what became of an alert on one channel
  void run_started(std::int64_t wall_ns, std::string_view mode, const std::vector<Venue>& venues);
  void run_stopped(std::int64_t wall_ns, const RunReport& r);
  void flush();

  // An ops event as the JSON object of its line (the tests read these back).
  [[nodiscard]] std::string line(const OpsEvent& e) const;

 private:
  void write(const std::string& line);
  [[nodiscard]] std::string symbol(InstrumentId i) const;

  const SymbolMap& symbols_;
  std::uint64_t run_id_;
  std::shared_ptr<spdlog::logger> logger_;
};

// UTC ISO 8601 with microseconds: "2026-12-04T21:10:00.123456Z".
[[nodiscard]] std::string iso_time(std::int64_t wall_ns);

}  // namespace xarb::app
