#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include <xarb/app/config.hpp>
#include <xarb/app/control.hpp>
#include <xarb/app/ctl_commands.hpp>
#include <xarb/app/report_output.hpp>

namespace xarb::app {
namespace {

// The engine's control socket: --socket, the config's [control] socket, or xarb.sock in the
// run's report directory. False (the config's problems said on `err`) for a bad config.
bool control_socket(const std::string& config_path, const std::string& socket,
                    const std::filesystem::path& report_dir, std::string& path, std::ostream& err) {
  path = socket;
  if (path.empty() && !config_path.empty()) {
    const LoadResult loaded = load_config(config_path);
    if (!loaded.ok()) {
      for (const auto& issue : loaded.errors) err << issue.to_string() << '\n';
      return false;
    }
    path = loaded.config.control.socket;
  }
  if (path.empty()) path = (report_dir / "xarb.sock").string();
  return true;
}

}  // namespace

int inventory_command(const std::string& config_path, const std::string& socket,
                      const std::filesystem::path& report_dir, bool as_json, std::ostream& out,
                      std::ostream& err) {
  std::string path;
  if (!control_socket(config_path, socket, report_dir, path, err)) return 2;
  // The running engine's figures; without one, those its last report left.
  std::string answer, error, text, source;
  if (control_request(path, "inventory", std::chrono::seconds(15), answer, error)) {
    const nlohmann::json j = nlohmann::json::parse(answer, nullptr, false);
    if (j.is_discarded() || !j.value("ok", false) || !j.contains("state")) {
      err << "the engine on " << path << " did not answer with its inventory: " << answer << '\n';
      return 1;
    }
    text = j["state"].dump();
    source = "the engine running on " + path;
  } else {
    const std::filesystem::path report = report_dir / "report.json";
    std::ifstream in(report);
    if (!in) {
      err << error << "; and there is no " << report.string()
          << " of an earlier run (give the run's --report-dir)\n";
      return 3;
    }
    // Through a stringstream: g++ 12 at -O3 sees a null dereference in istreambuf_iterator's
    // inlined read (a false positive, but the release build stays free of warnings).
    std::ostringstream whole;
    whole << in.rdbuf();
    text = whole.str();
    source = report.string() + " (no engine answered on " + path + ")";
  }
  if (as_json) {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.contains("inventory")) {
      err << source << " holds no inventory\n";
      return 1;
    }
    out << j["inventory"].dump(2) << '\n';
    return 0;
  }
  RunReport r;
  if (!read_inventory(text, r, error)) {
    err << "cannot read the inventory of " << source << ": " << error << '\n';
    return 1;
  }
  out << "inventory of run " << r.run_id << " (" << r.mode << "), from " << source << '\n';
  print_inventory(out, r);
  return 0;
}

int ctl_command(const std::string& config_path, const std::string& socket,
                const std::filesystem::path& report_dir, const std::vector<std::string>& words,
                std::ostream& out, std::ostream& err) {
  std::string path;
  if (!control_socket(config_path, socket, report_dir, path, err)) return 2;
  std::string line;
  for (const std::string& w : words) line += (line.empty() ? "" : " ") + w;
  std::string answer, error;
  if (!control_request(path, line, std::chrono::seconds(15), answer, error)) {
    err << error << '\n';
    return 3;
  }
  const nlohmann::json j = nlohmann::json::parse(answer, nullptr, false);
  if (j.is_discarded()) {
    out << answer << '\n';
    return 1;
  }
  out << j.dump(2) << '\n';
  return j.value("ok", false) ? 0 : 1;
}

}  // namespace xarb::app
