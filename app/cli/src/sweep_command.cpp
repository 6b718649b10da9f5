#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>

#include <xarb/app/backtest.hpp>
#include <xarb/app/backtest_command.hpp>
#include <xarb/app/live_keys.hpp>
#include <xarb/app/sweep_command.hpp>

namespace xarb::app {
namespace {

namespace fs = std::filesystem;
constexpr int kExitBadInput = 2;
constexpr std::size_t kMaxVariants = 10'000;

struct Axis {
  std::string key;
  std::vector<std::string> values;
};

// The decimals a number's text carries ("0.25": 2).
int decimals(const std::string& text) {
  const std::size_t dot = text.find('.');
  return dot == std::string::npos ? 0 : static_cast<int>(text.size() - dot - 1);
}

bool parse_number(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && std::isfinite(out);
}

// KEY=FROM:TO:STEP or KEY=A,B,C.
bool parse_axis(const std::string& set, Axis& axis, std::string& error) {
  const std::size_t eq = set.find('=');
  if (eq == std::string::npos || eq == 0) {
    error = "--set " + set + ": expected KEY=FROM:TO:STEP or KEY=A,B,C";
    return false;
  }
  axis.key = set.substr(0, eq);
  const std::string spec = set.substr(eq + 1);
  if (std::count(spec.begin(), spec.end(), ':') == 2) {
    const std::size_t a = spec.find(':'), b = spec.find(':', a + 1);
    const std::string from_text = spec.substr(0, a), to_text = spec.substr(a + 1, b - a - 1),
                      step_text = spec.substr(b + 1);
    double from = 0, to = 0, step = 0;
    if (!parse_number(from_text, from) || !parse_number(to_text, to) ||
        !parse_number(step_text, step) || step <= 0 || to < from) {
      error = "--set " + set + ": FROM:TO:STEP must be numbers, FROM <= TO and STEP > 0";
      return false;
    }
    const double n = std::floor((to - from) / step + 1e-9) + 1;
    if (n > 1000) {
      error = "--set " + set + ": more than 1000 values";
      return false;
    }
    const int places = std::max({decimals(from_text), decimals(to_text), decimals(step_text)});
    for (int k = 0; k < static_cast<int>(n); ++k) {
      std::ostringstream v;
      v << std::fixed << std::setprecision(places) << from + step * k;
      axis.values.push_back(v.str());
    }
  } else {
    std::stringstream list(spec);
    for (std::string v; std::getline(list, v, ',');) {
      if (!v.empty()) axis.values.push_back(v);
    }
  }
  if (axis.values.empty()) {
    error = "--set " + set + ": no value";
    return false;
  }
  return true;
}

// Every combination of the axes' values, the first axis varying slowest.
std::vector<std::vector<std::string>> combinations(const std::vector<Axis>& axes) {
  std::vector<std::vector<std::string>> out{{}};
  for (const Axis& a : axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& partial : out) {
      for (const std::string& v : a.values) {
        next.push_back(partial);
        next.back().push_back(a.key + "=" + v);
      }
    }
    out = std::move(next);
  }
  return out;
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string absolute(const std::string& path) { return fs::absolute(path).lexically_normal().string(); }

struct Run {
  std::string dir;  // v001, v001-in, v001-out
  std::vector<std::string> sets;
  std::int64_t from_ns = 0, until_ns = 0;
};

BacktestArgs backtest_args(const SweepArgs& a, const Run& r) {
  BacktestArgs b;
  b.config = a.config;
  b.captures = a.captures;
  b.seed = a.seed;
  b.latency = a.latency;
  b.latency_from = a.latency_from;
  b.out_dir = (fs::path(a.out_dir) / r.dir).string();
  b.sets = r.sets;
  b.trade_from_ns = r.from_ns;
  b.trade_until_ns = r.until_ns;
  b.quiet = true;
  b.plots = false;
  return b;
}

std::string job_line(const SweepArgs& a, const Run& r) {
  const BacktestArgs b = backtest_args(a, r);
  const std::string xarb =
      a.xarb.empty() ? fs::read_symlink("/proc/self/exe").string() : absolute(a.xarb);
  std::string line = quoted(xarb) + " backtest --config " + quoted(absolute(b.config));
  for (const std::string& c : b.captures) line += " --capture " + quoted(absolute(c));
  line += " --seed " + std::to_string(b.seed);
  for (const std::string& l : b.latency) line += " --latency " + quoted(l);
  if (!b.latency_from.empty()) line += " --latency-from " + quoted(absolute(b.latency_from));
  for (const std::string& s : b.sets) line += " --set " + quoted(s);
  if (b.trade_from_ns != 0) line += " --trade-from " + std::to_string(b.trade_from_ns);
  if (b.trade_until_ns != 0) line += " --trade-until " + std::to_string(b.trade_until_ns);
  return line + " --out-dir " + quoted(absolute(b.out_dir)) + " --quiet --no-plots";
}

// A variant's figures, read back from its folder.
bool read_row(const SweepArgs& a, const Run& r, BacktestSummary& out, std::string& error) {
  const fs::path dir = fs::path(a.out_dir) / r.dir;
  std::ifstream variant(dir / "variant.txt");
  std::vector<std::string> sets;
  for (std::string l; std::getline(variant, l);) sets.push_back(l);
  if (sets != r.sets) {
    error = (dir / "variant.txt").string() + ": not this sweep's variant (or not run)";
    return false;
  }
  std::ifstream in(dir / "summary.json");
  std::stringstream text;
  text << in.rdbuf();
  if (!in || !BacktestSummary::parse(text.str(), out, error)) {
    error = (dir / "summary.json").string() + ": " + (in ? error : "missing");
    return false;
  }
  return true;
}

std::string value_of(const std::string& set) { return set.substr(set.find('=') + 1); }

// The exit reasons some row has (the table leaves out the columns that are zero throughout).
std::vector<std::size_t> exit_columns(const std::vector<BacktestSummary>& rows) {
  std::vector<std::size_t> out;
  for (std::size_t k = 1; k < kExitReasonCount; ++k) {
    if (std::any_of(rows.begin(), rows.end(), [k](const BacktestSummary& s) { return s.exits[k] != 0; })) {
      out.push_back(k);
    }
  }
  return out;
}

void print_table(std::ostream& out, const std::vector<Axis>& axes,
                 const std::vector<std::vector<std::string>>& variants,
                 const std::vector<BacktestSummary>& rows, const std::vector<std::size_t>& exits) {
  const auto width = [](const Axis& a) { return std::max<int>(8, static_cast<int>(a.key.size()) + 1); };
  for (const Axis& a : axes) out << std::setw(width(a)) << a.key;
  out << std::setw(8) << "entries";
  for (const std::size_t k : exits) {
    out << std::setw(12) << to_string(static_cast<ExitReason>(k));
  }
  out << std::setw(8) << "winrate" << std::setw(12) << "pnl_krw" << std::setw(11) << "fees_krw"
      << std::setw(12) << "max_dd_krw" << std::setw(14) << "turnover_krw" << '\n';
  out << std::fixed;
  for (std::size_t v = 0; v < variants.size(); ++v) {
    for (std::size_t k = 0; k < axes.size(); ++k) out << std::setw(width(axes[k])) << value_of(variants[v][k]);
    const BacktestSummary& s = rows[v];
    out << std::setw(8) << s.entries;
    for (const std::size_t k : exits) out << std::setw(12) << s.exits[k];
    out << std::setprecision(2) << std::setw(8) << s.winrate << std::setprecision(0)
        << std::setw(12) << s.pnl_krw << std::setw(11) << s.fees_krw << std::setw(12)
        << s.max_drawdown_krw << std::setw(14) << s.turnover_krw << '\n';
  }
  out.unsetf(std::ios::floatfield);
}

void write_csv(const fs::path& path, const std::vector<Axis>& axes,
               const std::vector<std::vector<std::string>>& variants,
               const std::vector<BacktestSummary>& rows, const char* sample) {
  std::ofstream csv(path, std::ios::app);
  if (csv.tellp() == 0) {
    csv << "sample";
    for (const Axis& a : axes) csv << ',' << a.key;
    csv << ",entries";
    for (std::size_t k = 1; k < kExitReasonCount; ++k) {
      csv << ',' << to_string(static_cast<ExitReason>(k));
    }
    csv << ",winrate,pnl_krw,fees_krw,max_drawdown_krw,turnover_krw\n";
  }
  csv << std::setprecision(12);
  for (std::size_t v = 0; v < variants.size(); ++v) {
    csv << sample;
    for (const std::string& s : variants[v]) csv << ',' << value_of(s);
    const BacktestSummary& s = rows[v];
    csv << ',' << s.entries;
    for (std::size_t k = 1; k < kExitReasonCount; ++k) csv << ',' << s.exits[k];
    csv << ',' << s.winrate << ',' << s.pnl_krw << ',' << s.fees_krw << ','
        << s.max_drawdown_krw << ',' << s.turnover_krw << '\n';
  }
}

// The realised PnL over the first two keys' grid, as a gnuplot heat map.
void heat_map(const fs::path& png, const std::vector<Axis>& axes,
              const std::vector<BacktestSummary>& rows, const std::string& title,
              std::ostream& out) {
  // Cells by index (a range may be uneven, 5,10,20,40), labelled with the values; white at 0.
  const fs::path data = fs::path(png).replace_extension(".dat");
  double extent = 1.0;
  {
    std::ofstream d(data);
    for (std::size_t i = 0; i < axes[0].values.size(); ++i) {
      for (std::size_t j = 0; j < axes[1].values.size(); ++j) {
        const double pnl = rows[i * axes[1].values.size() + j].pnl_krw;
        extent = std::max(extent, std::fabs(pnl));
        d << i << ' ' << j << ' ' << pnl << '\n';
      }
      d << '\n';
    }
  }
  const auto tics = [](const Axis& a) {
    std::string t = "(";
    for (std::size_t k = 0; k < a.values.size(); ++k) {
      t += (k == 0 ? "\"" : ", \"") + a.values[k] + "\" " + std::to_string(k);
    }
    return t + ")";
  };
  const fs::path script = fs::path(png).replace_extension(".gp");
  std::ofstream(script) << "set terminal png size 900,650 noenhanced\nset output '" << png.string()
                        << "'\nset title '" << title << "'\nset xlabel '" << axes[0].key
                        << "'\nset ylabel '" << axes[1].key << "'\nset xtics " << tics(axes[0])
                        << "\nset ytics " << tics(axes[1]) << "\nset cbrange [" << -extent << ":"
                        << extent
                        << "]\nset cblabel 'realised PnL (KRW)'\nset palette defined "
                           "(-1 'red', 0 'white', 1 'forest-green')\nset view map\n"
                           "plot '" << data.string() << "' using 1:2:3 with image notitle, '"
                        << data.string() << "' using 1:2:(sprintf('%.0f', $3)) with labels "
                           "notitle\n";
  const std::string command = "gnuplot " + quoted(script.string()) + " 2>&1";
  if (std::system(command.c_str()) != 0 || !fs::exists(png)) {
    out << "heat map not drawn (is gnuplot installed?): " << script.string() << '\n';
  } else {
    out << "heat map: " << png.string() << '\n';
  }
}

}  // namespace

int sweep_command(const SweepArgs& args, std::ostream& out, std::ostream& err) {
  const LoadResult loaded = load_config(args.config);
  if (!loaded.ok()) {
    for (const auto& issue : loaded.errors) err << issue.to_string() << '\n';
    return kExitBadInput;
  }
  std::vector<Axis> axes;
  std::string error;
  for (const std::string& set : args.sets) {
    Axis a;
    if (!parse_axis(set, a, error)) {
      err << error << '\n';
      return kExitBadInput;
    }
    axes.push_back(std::move(a));
  }
  if (axes.empty()) {
    err << "sweep: give at least one --set KEY=FROM:TO:STEP\n";
    return kExitBadInput;
  }
  const std::vector<std::vector<std::string>> variants = combinations(axes);
  if (variants.size() > kMaxVariants) {
    err << "sweep: " << variants.size() << " variants, more than " << kMaxVariants << '\n';
    return kExitBadInput;
  }
  // Every value must be one the config takes, before anything runs.
  for (const Axis& a : axes) {
    for (const std::string& v : a.values) {
      Config probe;
      if (!apply_setting(loaded.config, a.key, v, probe, error)) {
        err << "--set " << a.key << "=" << v << ": " << error << '\n';
        return kExitBadInput;
      }
    }
  }
  if (args.walk_forward < 0 || args.walk_forward >= 1) {
    err << "--walk-forward: the in-sample share, above 0 and below 1 (0.5)\n";
    return kExitBadInput;
  }
  const bool walk = args.walk_forward > 0;
  std::int64_t first = 0, last = 0, split = 0;
  if (walk) {
    if (!capture_span(args.captures, first, last, error)) {
      err << error << '\n';
      return kExitBadInput;
    }
    split = first + static_cast<std::int64_t>(static_cast<double>(last - first) * args.walk_forward);
  }
  // The runs: each variant over the whole recording, or in and out of sample.
  std::vector<Run> runs;
  for (std::size_t v = 0; v < variants.size(); ++v) {
    char name[32];
    std::snprintf(name, sizeof name, "v%03zu", v + 1);
    if (walk) {
      runs.push_back({std::string(name) + "-in", variants[v], 0, split});
      runs.push_back({std::string(name) + "-out", variants[v], split, 0});
    } else {
      runs.push_back({name, variants[v], 0, 0});
    }
  }

  if (!args.emit_jobs.empty()) {
    std::ofstream jobs(args.emit_jobs);
    for (const Run& r : runs) jobs << job_line(args, r) << '\n';
    if (!jobs) {
      err << "cannot write " << args.emit_jobs << '\n';
      return kExitBadInput;
    }
    out << runs.size() << " jobs written to " << args.emit_jobs << " (run them, for instance "
        << "parallel < " << args.emit_jobs << ", then xarb sweep ... --merge " << args.out_dir
        << ")\n";
    return 0;
  }
  SweepArgs where = args;
  if (!args.merge.empty()) {
    where.out_dir = args.merge;
  } else {
    // Every core, each variant a backtest of its own.
    const std::size_t threads =
        args.threads != 0 ? args.threads : std::max(1u, std::thread::hardware_concurrency());
    std::atomic<std::size_t> next{0};
    std::atomic<int> failed{0};
    std::vector<std::string> errors(runs.size());
    const auto t0 = std::chrono::steady_clock::now();
    {
      std::vector<std::jthread> pool;
      for (std::size_t t = 0; t < std::min(threads, runs.size()); ++t) {
        pool.emplace_back([&] {
          for (std::size_t k = next++; k < runs.size(); k = next++) {
            std::ostringstream o, e;
            if (backtest_command(backtest_args(args, runs[k]), o, e) != 0) {
              errors[k] = e.str();
              ++failed;
            }
          }
        });
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (std::size_t k = 0; k < runs.size(); ++k) {
      if (!errors[k].empty()) err << runs[k].dir << ": " << errors[k];
    }
    if (failed.load() != 0) return 1;
    out << runs.size() << " backtests on " << std::min(threads, runs.size()) << " threads in "
        << std::fixed << std::setprecision(2) << seconds << " s\n";
    out.unsetf(std::ios::floatfield);
  }
  // The table, from each variant's folder: the same for runs made here and emitted jobs.
  std::vector<BacktestSummary> in_rows, out_rows;
  for (const Run& r : runs) {
    BacktestSummary s;
    if (!read_row(where, r, s, error)) {
      err << "sweep: " << error << '\n';
      return kExitBadInput;
    }
    (walk && r.dir.ends_with("-out") ? out_rows : in_rows).push_back(s);
  }
  const fs::path dir = where.out_dir;
  fs::remove(dir / "sweep.csv");
  std::ostringstream table;
  if (walk) {
    std::size_t best = 0;
    for (std::size_t v = 1; v < in_rows.size(); ++v) {
      if (in_rows[v].pnl_krw > in_rows[best].pnl_krw) best = v;
    }
    std::size_t rank = 1;
    for (const BacktestSummary& s : out_rows) rank += s.pnl_krw > out_rows[best].pnl_krw ? 1u : 0u;
    table << "in sample (the first " << std::setprecision(3) << args.walk_forward * 100
          << " % of the recording)\n";
    std::vector<BacktestSummary> both = in_rows;
    both.insert(both.end(), out_rows.begin(), out_rows.end());
    const std::vector<std::size_t> exits = exit_columns(both);
    print_table(table, axes, variants, in_rows, exits);
    table << "\nout of sample (the rest)\n";
    print_table(table, axes, variants, out_rows, exits);
    table << std::fixed << std::setprecision(2) << "\nchosen in sample: ";
    for (const std::string& s : variants[best]) table << s << ' ';
    table << "(PnL " << in_rows[best].pnl_krw << " KRW in sample); out of sample: PnL "
          << out_rows[best].pnl_krw << " KRW, rank " << rank << " of " << out_rows.size()
          << "\n";
    write_csv(dir / "sweep.csv", axes, variants, in_rows, "in");
    write_csv(dir / "sweep.csv", axes, variants, out_rows, "out");
  } else {
    print_table(table, axes, variants, in_rows, exit_columns(in_rows));
    write_csv(dir / "sweep.csv", axes, variants, in_rows, "all");
  }
  std::ofstream(dir / "sweep.txt") << table.str();
  out << table.str();
  if (axes.size() == 2) {
    heat_map(dir / "heatmap.png", axes, in_rows,
             walk ? "realised PnL in sample" : "realised PnL", out);
    if (walk) heat_map(dir / "heatmap-out.png", axes, out_rows, "realised PnL out of sample", out);
  }
  return 0;
}

}  // namespace xarb::app
