#pragma once

// The run report written out: the text report, the status line, report.json, and the inventory
// read back from report.json.

#include <iosfwd>
#include <string>

#include <xarb/app/report.hpp>

namespace xarb::app {

// The end-of-run report as text.
void print_report(std::ostream& out, const RunReport& r);
// The one-line status printed every few seconds.
void print_status_line(std::ostream& out, const RunReport& r);
// The same figures as JSON (report.json).
[[nodiscard]] std::string report_json(const RunReport& r);
// The inventory part of the report (each venue's assets, the headroom of each direction, the
// rebalance plan) as text: `xarb inventory` and the end of print_report.
void print_inventory(std::ostream& out, const RunReport& r);
// Reads the inventory part (and run id and mode) back from report_json's text into `out`; false,
// with `error` saying why, when the text is not such a report.
[[nodiscard]] bool read_inventory(const std::string& report_text, RunReport& out,
                                  std::string& error);

}  // namespace xarb::app
