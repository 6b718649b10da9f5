// `xarb backtest` (backtest.hpp): the signal and exec stages of a run, driven on the recording's
// clock by one thread. Time moves from one thing due to the next: a recorded frame, an order
// reaching its venue or its answer coming back, the strategy's 100 ms timer, and while the
// executor has something in flight, every millisecond (its own timers: queries, retries).

#include <cinttypes>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <map>

#include <xarb/app/backtest.hpp>
#include <xarb/feed/replay.hpp>
#include <xarb/signal/premium.hpp>

#include <nlohmann/json.hpp>

#include "engine_internal.hpp"

namespace xarb::app {
namespace engine_detail {
namespace {

constexpr int kExitBadInput = 2;
constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kTimerNs = 100 * kMs;  // the signal stage's default timer period
// A capture's receive times may step back this much (a clock slewed) and are taken as in order.
constexpr std::int64_t kReorderSlackNs = kMs;

// One capture being read, its next replayable line held.
struct Source {
  std::string path;
  std::unique_ptr<feed::CaptureReader> reader;
  feed::CaptureEvent event;
  bool has = false;
  std::int64_t last_ns = 0;  // the latest receive time read
};

std::string seconds_text(std::int64_t ns) {
  char text[48];
  std::snprintf(text, sizeof text, "%" PRId64 ".%06" PRId64, ns / 1'000'000'000,
                (ns % 1'000'000'000) / 1000);
  return text;
}

// The venues' books as the replay has them, for the paper venues to fill against; each snapshot
// goes on to the signal stage's ring.
class Market final : public exec::PaperMarket, public feed::SnapshotSink {
 public:
  explicit Market(SpscRing<BookSnapshot>& ring) : ring_(ring) {}

  std::span<const Level> levels(Venue v, InstrumentId i, Side side) const noexcept override {
    if (!valid(v) || i >= kMaxInstruments) return {};
    const BookSnapshot& b = books_[index(v)][i];
    return side == Side::buy ? std::span<const Level>(b.asks.data(), b.ask_count)
                             : std::span<const Level>(b.bids.data(), b.bid_count);
  }
  std::uint64_t version(Venue v, InstrumentId i) const noexcept override {
    return valid(v) && i < kMaxInstruments ? versions_[index(v)][i] : 0;
  }

  void on_snapshot(const BookSnapshot& s) noexcept override {
    if (valid(s.venue) && s.instrument < kMaxInstruments) {
      BookSnapshot& b = books_[index(s.venue)][s.instrument];
      b = s;
      if (!s.tradable()) b.bid_count = b.ask_count = 0;  // an unsynchronised book fills nothing
      ++versions_[index(s.venue)][s.instrument];
    }
    if (BookSnapshot* slot = ring_.try_claim(); slot != nullptr) {
      *slot = s;
      ring_.publish();
    } else {
      ++dropped;
    }
  }

  std::uint64_t dropped = 0;

 private:
  SpscRing<BookSnapshot>& ring_;
  std::array<std::array<BookSnapshot, kMaxInstruments>, kMaxVenues> books_{};
  std::array<std::array<std::uint64_t, kMaxInstruments>, kMaxVenues> versions_{};
};

// One closed (or still open) position, for trades.csv.
struct TradeRow {
  std::uint64_t position_id = 0;
  InstrumentId instrument = kNoInstrument;
  VenuePair pair;
  Direction direction = Direction::kimchi;
  std::int64_t opened_ns = 0;
  std::int64_t closed_ns = 0;
  ExitReason exit_reason = ExitReason::none;
  PositionState state = PositionState::opening;
  Decimal qty;
  Decimal realized_krw;
};

class Backtest {
 public:
  Backtest(const Config& config, const BacktestOptions& options, std::ostream& out,
           std::ostream& err)
      : cfg_(config),
        opt_(options),
        out_(out),
        err_(err),
        venues_(config.venues()),
        pairs_(config.pairs()),
        symbols_(build_symbol_map(config)),
        market_(books_) {}

  int run(BacktestResult& result);

 private:
  bool open_sources();
  bool load_rules();
  bool open_journal(std::int64_t first_ns);
  void build();
  // The next line of a source; false at its end or on an error (error_ set).
  bool advance(Source& s);
  // Runs the stages at the current time until none has anything more to do.
  void settle();
  void drain_ops();
  void handle(const OpsEvent& e);
  [[nodiscard]] std::int64_t next_due() const noexcept;
  // Whether an order is in flight, unsettled, or due at a venue.
  [[nodiscard]] bool busy() const noexcept;
  RunReport report(std::int64_t first_ns, std::int64_t last_ns);
  bool write_outputs(const RunReport& r);

  const Config& cfg_;
  const BacktestOptions& opt_;
  std::ostream& out_;
  std::ostream& err_;
  std::vector<Venue> venues_;
  std::vector<VenuePair> pairs_;
  SymbolMap symbols_;
  std::vector<Source> sources_;
  std::map<std::string, std::string, std::less<>> answers_;  // start-up answers by request path
  exec::RulesTable rules_;
  SpscRing<BookSnapshot> books_{4096};
  SpscRing<OrderIntent> intents_{1024};
  SpscRing<ExecReport> reports_{1024};
  OpsQueue ops_{kOpsPerProducer, 2};
  std::unique_ptr<OpsQueue::Producer> signal_producer_, exec_producer_;
  Market market_;
  std::unique_ptr<feed::Replayer> replayer_;
  std::array<std::unique_ptr<exec::PaperVenue>, kMaxVenues> paper_{};
  std::unique_ptr<exec::TwoLegExecutor> executor_;
  std::unique_ptr<signal::Strategy> strategy_;
  std::unique_ptr<signal::SignalStage> signal_;
  std::unique_ptr<exec::ExecStage> exec_;
  std::unique_ptr<Journal> journal_;
  clock::ManualClock clock_;
  std::uint64_t run_id_ = 0;
  std::string error_;
  std::uint64_t lines_ = 0;
  std::array<std::uint64_t, kMaxVenues> frames_{};
  OpsTally tally_;
  LatencyHistogram tick_to_fill_;
  std::array<LatencyHistogram, kMaxVenues> order_latency_{};
  std::map<std::uint64_t, TradeRow> trades_;
  // When the recorded run stopped taking entries, and whether it closed its positions then.
  struct Stop {
    std::int64_t at_ns = 0;
    bool flatten = false;
  };
  std::vector<Stop> stops_;
  bool stopped_ = false;
  BacktestSummary summary_;
  double realized_ = 0.0, peak_ = 0.0;  // the realised PnL curve, for the drawdown

  // What the plots show (opt_.plots): the premium of every pair and symbol each timer tick, the
  // intents, the realised PnL curve, the round trips drawn.
  struct Sample {
    std::int64_t t = 0;
    std::size_t pair = 0;
    InstrumentId instrument = kNoInstrument;
    std::array<double, 2> edge{};      // by direction; NaN: no premium
    std::array<double, 2> baseline{};  // by direction
  };
  struct Mark {
    std::int64_t t = 0;
    std::size_t pair = 0;
    InstrumentId instrument = kNoInstrument;
    Direction direction = Direction::kimchi;
    bool entry = true;
    double edge = 0.0;
  };
  void sample_premiums();
  [[nodiscard]] double edge_now(std::size_t k, InstrumentId i, Direction d) const noexcept;
  void write_plots(std::int64_t first_ns);
  std::vector<Sample> samples_;
  std::vector<Mark> marks_;
  std::vector<std::pair<std::int64_t, double>> pnl_curve_;  // (t, realised so far)
  std::vector<std::pair<Venue, std::int64_t>> drawn_;        // each order's round trip
  std::array<OpsEvent, 64> batch_{};  // drain_ops' (a member: 64 events are worth not zeroing per frame)
};

bool Backtest::open_sources() {
  for (const std::string& path : opt_.captures) {
    Source s;
    s.path = path;
    std::string error;
    s.reader = feed::CaptureReader::open(path, error);
    if (!s.reader) {
      err_ << error << '\n';
      return false;
    }
    sources_.push_back(std::move(s));
  }
  // The start-up answers each recording kept (trading rules, server time), before its frames.
  for (Source& s : sources_) {
    feed::CaptureEvent e;
    while (s.reader->next(e) && e.kind != feed::CaptureKind::ws) {
      if (e.kind != feed::CaptureKind::http) continue;
      std::string_view path = e.url;
      if (const std::size_t scheme = path.find("://"); scheme != std::string_view::npos) {
        path.remove_prefix(std::min(path.size(), path.find('/', scheme + 3)));
      }
      path = path.substr(0, path.find('?'));
      const std::string key = std::string(to_string(e.venue)) + ' ' + std::string(path);
      answers_.emplace(key, std::string(e.msg));
    }
    s.reader->rewind();
  }
  for (Source& s : sources_) {
    s.has = advance(s);
    if (!error_.empty()) {
      err_ << error_ << '\n';
      return false;
    }
  }
  return true;
}

bool Backtest::advance(Source& s) {
  while (s.reader->next(s.event)) {
    ++lines_;
    const std::uint64_t line = s.reader->lines();
    if (s.event.kind == feed::CaptureKind::malformed) {
      error_ = s.path + ":" + std::to_string(line) +
               ": not a capture record (the line is truncated or is not JSON of the capture "
               "format)";
      return false;
    }
    if (s.event.kind == feed::CaptureKind::recording || s.event.kind == feed::CaptureKind::other) {
      continue;
    }
    if (s.event.kind == feed::CaptureKind::control) {
      // In its place among the frames (the recorder writes it between those before and after).
      if (s.event.msg.find("\"stop\":true") != std::string_view::npos) {
        const Stop stop{s.event.recv_ns,
                        s.event.msg.find("\"flatten\":true") != std::string_view::npos};
        stops_.insert(std::upper_bound(stops_.begin(), stops_.end(), stop.at_ns,
                                       [](std::int64_t t, const Stop& x) { return t < x.at_ns; }),
                      stop);
      }
      continue;
    }
    if (s.event.recv_ns == 0) {
      s.event.recv_ns = s.last_ns;  // a subscription or connect without a time: where it stands
    } else if (s.event.recv_ns < s.last_ns - kReorderSlackNs) {
      error_ = s.path + ":" + std::to_string(line) + ": out of order: received at " +
               seconds_text(s.event.recv_ns) + ", " +
               seconds_text(s.last_ns - s.event.recv_ns) + " s before the line before it";
      return false;
    }
    s.last_ns = std::max(s.last_ns, s.event.recv_ns);
    s.event.recv_ns = s.last_ns;
    return true;
  }
  return false;
}

bool Backtest::load_rules() {
  for (const Venue v : venues_) {
    const exec::RecordedAnswer answer = [&](std::string_view target, std::string& body) {
      const std::string key = std::string(to_string(v)) + ' ' +
                              std::string(target.substr(0, target.find('?')));
      const auto it = answers_.find(key);
      if (it == answers_.end()) return false;
      body = it->second;
      return true;
    };
    std::string error;
    if (!exec::load_recorded_rules(symbols_, rest_options(cfg_, v), answer, rules_, error)) {
      err_ << "backtest: " << to_string(v) << "'s trading rules: " << error
           << " (record with this version of xarb record, which keeps them)\n";
      return false;
    }
    for (const Instrument& i : symbols_) {
      if (!i.is_fx && i.listed_on(v) && !rules_.at(v, i.id).loaded) {
        err_ << "backtest: the recording holds no trading rules of " << i.base.view() << " on "
             << to_string(v) << '\n';
        return false;
      }
    }
  }
  return true;
}

bool Backtest::open_journal(std::int64_t first_ns) {
  std::filesystem::path path = opt_.journal;
  std::error_code ec;
  std::filesystem::create_directories(opt_.out_dir, ec);
  if (path.empty()) {
    path = opt_.out_dir / "backtest.sqlite";
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path.string() + suffix, ec);
    }
  }
  try {
    journal_ = std::make_unique<Journal>(path);
    for (const JournalRun& r : journal_->runs()) {
      if (r.mode != "backtest") {
        err_ << "backtest: " << path.string() << " holds " << r.mode << " run " << r.run_id
             << ": a backtest journals only beside other backtests\n";
        return false;
      }
    }
    // The recording's first millisecond, after the journal's own runs.
    run_id_ = std::max<std::uint64_t>(static_cast<std::uint64_t>(first_ns / kMs),
                                      journal_->last_run_id() + 1);
    journal_->begin_run(run_id_, first_ns, "backtest", dump_config(cfg_), symbols_);
  } catch (const std::exception& e) {
    err_ << "backtest: " << e.what() << '\n';
    return false;
  }
  return true;
}

void Backtest::build() {
  replayer_ = std::make_unique<feed::Replayer>(symbols_, feed_options(cfg_));
  std::array<exec::VenueClient*, kMaxVenues> clients{};
  for (const Venue v : venues_) {
    exec::PaperParams p;
    p.fee_bps = cfg_.venue(v).taker_fee_bps;
    p.seed = opt_.seed + index(v);
    if (const std::int64_t c = opt_.latency.constant_ns[index(v)]; c > 0) p.latency_ns = c;
    p.latency_samples[0] = opt_.latency.samples[index(v)];
    p.market = &market_;
    p.venue_order_limit = true;
    paper_[index(v)] = std::make_unique<exec::PaperVenue>(v, rules_, p);
    set_paper_balances(cfg_, v, symbols_, *paper_[index(v)]);
    for (const BacktestOptions::Balance& b : opt_.balances) {
      if (b.venue != v) continue;
      if (b.asset == venues::quote_asset(v)) {
        paper_[index(v)]->set_quote(b.qty);
      } else if (const InstrumentId i = symbols_.find_base(b.asset); i != kNoInstrument) {
        paper_[index(v)]->set_base(i, b.qty);
      }
    }
    clients[index(v)] = paper_[index(v)].get();
  }
  exec::ExecParams xp;
  xp.run_id = run_id_;
  xp.hedge_reserve_ratio = cfg_.risk.hedge_reserve_ratio;
  executor_ = std::make_unique<exec::TwoLegExecutor>(clients, xp);
  signal::StrategyParams params = strategy_params(cfg_, symbols_);
  params.first_position_id = journal_->max_position_id() + 1;
  strategy_ = std::make_unique<signal::Strategy>(symbols_, params);
  for (const Venue v : venues_) {
    for (const Instrument& s : symbols_) {
      if (!s.is_fx) strategy_->inventory().set_base(v, s.id, paper_[index(v)]->free_base(s.id));
    }
    strategy_->inventory().set_quote(v, paper_[index(v)]->free_quote());
  }
  signal_producer_ = std::make_unique<OpsQueue::Producer>(ops_);
  exec_producer_ = std::make_unique<OpsQueue::Producer>(ops_);
  std::array<SpscRing<BookSnapshot>*, 1> rings = {&books_};
  signal_ = std::make_unique<signal::SignalStage>(*strategy_, rings, reports_, intents_, &ops_,
                                                  signal_producer_.get(), kTimerNs);
  signal_->set_clock(&clock_);
  exec_ = std::make_unique<exec::ExecStage>(*executor_, intents_, reports_, &ops_,
                                            exec_producer_.get());
  exec_->set_clock(&clock_);
}

void Backtest::settle() {
  // As the one hot thread of a run hosts them: exec (answers in, reports out), then signal
  // (reports, books, timer), until neither has work.
  for (int round = 0; round < 1000; ++round) {
    std::size_t work = exec_->poll(clock_.ns, 64);
    work += signal_->poll(4096);
    work += exec_->poll(clock_.ns, 64);
    if (work == 0) break;
  }
  drain_ops();
}

void Backtest::drain_ops() {
  for (;;) {
    const std::size_t n = ops_.try_pop_bulk(batch_.data(), batch_.size());
    for (std::size_t i = 0; i < n; ++i) handle(batch_[i]);
    if (n < batch_.size()) break;
  }
}

void Backtest::handle(const OpsEvent& e) {
  journal_->record(e);
  if (const auto* in = std::get_if<OrderIntent>(&e.body); in != nullptr && opt_.plots) {
    const std::size_t k = strategy_->pair_index({in->legs[0].venue, in->legs[1].venue});
    const InstrumentId i = in->legs[0].instrument;
    marks_.push_back({e.wall_ns, k, i, in->direction, in->kind == IntentKind::entry,
                      in->kind == IntentKind::entry ? in->edge_bps : edge_now(k, i, in->direction)});
  }
  if (const auto* r = std::get_if<ExecReport>(&e.body)) {
    const double fx = strategy_->fx().last();
    for (const LegReport& leg : r->legs) {
      if (leg.venue != kNoVenue && !r->status_only) {
        const double rate = venues::quote_asset(leg.venue) == "KRW" ? 1.0 : fx;
        const double px = leg.avg_price.to_double();
        summary_.turnover_krw += (leg.filled_qty.to_double() * px +
                                  leg.unwound_qty.to_double() * leg.unwind_avg_price.to_double()) *
                                 rate;
        summary_.fees_krw += (leg.fee.to_double() + leg.fee_base.to_double() * px) * rate;
      }
      if (leg.status == LegStatus::not_sent) continue;
      ++tally_.orders[index(leg.venue)];
      if (leg.error.present()) ++tally_.order_errors[index(leg.venue)];
      if (leg.latency_ns > 0) {
        order_latency_[index(leg.venue)].record(leg.latency_ns);
        if (opt_.plots) drawn_.emplace_back(leg.venue, leg.latency_ns);
      }
    }
    if (const std::int64_t t = r->stamps.get(Stage::received);
        !r->status_only && !r->settles && t != 0) {
      tick_to_fill_.record(e.wall_ns - t);
    }
  } else if (const auto* p = std::get_if<PositionChange>(&e.body)) {
    TradeRow& t = trades_[p->position_id];
    if (t.position_id == 0) {
      t = {p->position_id, p->instrument, p->pair, p->direction, e.wall_ns, 0, ExitReason::none,
           p->to, p->qty, Decimal{}};
    }
    t.state = p->to;
    if (p->exit_reason != ExitReason::none) t.exit_reason = p->exit_reason;
    if (p->to == PositionState::open && t.qty.mantissa() == 0) t.qty = p->qty;
    if (p->to == PositionState::closed) {
      t.closed_ns = e.wall_ns;
      t.realized_krw = p->realized_krw;
      realized_ += p->realized_krw.to_double();
      peak_ = std::max(peak_, realized_);
      summary_.max_drawdown_krw = std::max(summary_.max_drawdown_krw, peak_ - realized_);
      if (opt_.plots) pnl_curve_.emplace_back(e.wall_ns, realized_);
    }
  }
}

std::int64_t Backtest::next_due() const noexcept {
  std::int64_t t = INT64_MAX;
  for (const Venue v : venues_) t = std::min(t, paper_[index(v)]->next_due_ns());
  // The executor's own timers (a query after a lost answer, a retry) are followed in 1 ms steps.
  if (executor_->active() > 0 || executor_->unsettled() > 0) t = std::min(t, clock_.ns + kMs);
  return t;
}

double Backtest::edge_now(std::size_t k, InstrumentId i, Direction d) const noexcept {
  if (k >= strategy_->pairs().size() || i >= symbols_.size()) return std::nan("");
  const signal::PairParams& pp = strategy_->pairs()[k];
  const VenuePair pair = pp.pair;
  if (!strategy_->have_book(i, pair.first) || !strategy_->have_book(i, pair.second)) {
    return std::nan("");
  }
  const signal::Premium p = signal::premium(
      strategy_->book(i, pair.first), strategy_->book(i, pair.second),
      pp.fx ? strategy_->fx().last() : 1.0, d, strategy_->params().symbols[i].trade_qty, pp.fees);
  return p.valid ? p.edge_bps() : std::nan("");
}

void Backtest::sample_premiums() {
  for (std::size_t k = 0; k < strategy_->pairs().size(); ++k) {
    for (const Instrument& i : symbols_) {
      if (i.is_fx) continue;
      Sample s{clock_.ns, k, i.id, {}, {}};
      for (const Direction d : {Direction::kimchi, Direction::reverse}) {
        const auto n = static_cast<std::size_t>(d);
        s.edge[n] = edge_now(k, i.id, d);
        s.baseline[n] = strategy_->params().baseline == signal::BaselineMode::zero
                            ? 0.0
                            : strategy_->baseline_bps(i.id, d, k);
      }
      samples_.push_back(s);
    }
  }
}

// Data files and gnuplot scripts in <out_dir>/plots, then gnuplot once over the scripts. Times
// are seconds from the recording's start.
void Backtest::write_plots(std::int64_t first_ns) {
  const std::filesystem::path dir = opt_.out_dir / "plots";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto secs = [&](std::int64_t t) { return static_cast<double>(t - first_ns) * 1e-9; };
  const double entry = strategy_->params().entry_bps;
  std::vector<std::string> scripts;
  const auto script = [&](const std::string& name, const std::string& body) {
    std::ofstream(dir / (name + ".gp"))
        << "set terminal png size 1100,600 noenhanced\nset output '" << (dir / (name + ".png")).string()
        << "'\nset grid\nset key outside right top\n" << body;
    scripts.push_back((dir / (name + ".gp")).string());
  };
  for (std::size_t k = 0; k < strategy_->pairs().size(); ++k) {
    const std::string pair = to_string(strategy_->pairs()[k].pair);
    for (const Instrument& i : symbols_) {
      if (i.is_fx) continue;
      const std::string name = "premium-" + pair + "-" + std::string(i.base.view());
      {
        std::ofstream d(dir / (name + ".dat"));
        d << "# t_s kimchi_edge_bps reverse_edge_bps kimchi_baseline reverse_baseline\n";
        for (const Sample& s : samples_) {
          if (s.pair != k || s.instrument != i.id) continue;
          d << secs(s.t) << ' ' << s.edge[0] << ' ' << s.edge[1] << ' ' << s.baseline[0] << ' '
            << s.baseline[1] << '\n';
        }
      }
      {
        std::ofstream m(dir / (name + "-marks.dat"));
        m << "# t_s edge_bps entry(1)/exit(0) kimchi(0)/reverse(1)\n";
        for (const Mark& x : marks_) {
          if (x.pair != k || x.instrument != i.id) continue;
          m << secs(x.t) << ' ' << x.edge << ' ' << (x.entry ? 1 : 0) << ' '
            << static_cast<int>(x.direction) << '\n';
        }
      }
      const std::string d = (dir / (name + ".dat")).string();
      const std::string m = (dir / (name + "-marks.dat")).string();
      std::ostringstream body;
      body << "set title '" << pair << " " << i.base.view()
           << ": edge after fees (bps), baseline and entry threshold'\nset xlabel 'seconds'\n"
           << "set ylabel 'bps'\nplot '" << d << "' using 1:2 with lines lc rgb '#1f77b4' title "
           << "'kimchi edge', '" << d << "' using 1:3 with lines lc rgb '#ff7f0e' title 'reverse "
           << "edge', '" << d << "' using 1:($4+" << entry << ") with lines dt 2 lc rgb '#1f77b4' "
           << "title 'kimchi entry (baseline + " << entry << ")', '" << d << "' using 1:($5+"
           << entry << ") with lines dt 2 lc rgb '#ff7f0e' title 'reverse entry', '" << m
           << "' using 1:($3==1?$2:1/0) with points pt 9 ps 1.5 lc rgb 'forest-green' title "
           << "'entries', '" << m << "' using 1:($3==0?$2:1/0) with points pt 11 ps 1.5 lc rgb "
           << "'red' title 'exits'\n";
      script(name, body.str());
    }
  }
  {
    std::ofstream d(dir / "pnl.dat");
    d << "# t_s realised_krw drawdown_krw\n0 0 0\n";
    double peak = 0.0;
    for (const auto& [t, v] : pnl_curve_) {
      peak = std::max(peak, v);
      d << secs(t) << ' ' << v << ' ' << v - peak << '\n';
    }
  }
  const std::string pnl = (dir / "pnl.dat").string();
  script("pnl", "set multiplot layout 2,1\nset xlabel 'seconds'\nset ylabel 'KRW'\n"
                "set title 'cumulative realised PnL (KRW)'\nplot '" + pnl +
                    "' using 1:2 with steps lw 2 notitle\nset title 'drawdown from the high (KRW)'"
                    "\nplot '" + pnl + "' using 1:3 with steps lw 2 lc rgb 'red' notitle\n"
                    "unset multiplot\n");
  {
    std::ofstream d(dir / "latency.dat");
    d << "# venue_index round_trip_ms (each order's, as the model drew it)\n";
    for (const auto& [v, ns] : drawn_) d << index(v) << ' ' << static_cast<double>(ns) * 1e-6 << '\n';
  }
  std::string plot = "set title 'order round trips the latency model drew'\nset xlabel 'ms'\n"
                     "set ylabel 'share of orders at or under'\nset yrange [0:1]\nplot ";
  bool first = true;
  for (const Venue v : venues_) {
    if (order_latency_[index(v)].count() == 0) continue;
    plot += std::string(first ? "" : ", ") + "'" + (dir / "latency.dat").string() +
            "' using ($1==" + std::to_string(index(v)) + "?$2:1/0):(1.0/" +
            std::to_string(order_latency_[index(v)].count()) +
            ") smooth cumulative lw 2 title '" + std::string(to_string(v)) + "'";
    first = false;
  }
  if (!first) script("latency", plot + "\n");
  std::string command = "gnuplot";
  for (const std::string& s : scripts) command += " '" + s + "'";
  command += " > '" + (dir / "gnuplot.log").string() + "' 2>&1";
  if (std::system(command.c_str()) != 0) {
    err_ << "backtest: plots not drawn (is gnuplot installed? " << (dir / "gnuplot.log").string()
         << "); their data is in " << dir.string() << '\n';
  }
}

bool Backtest::busy() const noexcept {
  if (executor_->active() > 0 || executor_->unsettled() > 0) return true;
  for (const Venue v : venues_) {
    if (paper_[index(v)]->next_due_ns() != INT64_MAX) return true;
  }
  return false;
}

RunReport Backtest::report(std::int64_t first_ns, std::int64_t last_ns) {
  signal_->publish_telemetry();
  exec_->publish_telemetry();
  const signal::SignalTelemetry s = signal_->telemetry();
  const exec::ExecTelemetry x = exec_->telemetry();
  RunReport r;
  r.run_id = run_id_;
  r.mode = "backtest";
  r.duration_s = static_cast<double>(last_ns - first_ns) * 1e-9;
  r.traded = venues_;
  for (const Venue v : venues_) {
    VenueReport& o = r.venues[index(v)];
    o.frames = frames_[index(v)];
    o.dropped_frames = replayer_->parser_stats(v).count(feed::MsgKind::dropped);
    o.healthy = true;
    o.orders = tally_.orders[index(v)];
    o.order_errors = tally_.order_errors[index(v)];
  }
  const ReportScope scope{cfg_, venues_, symbols_, pairs_};
  report_strategy(r, s, scope, 0);
  r.exec_retries = x.executor.retries;
  r.exec_unwinds = x.executor.unwinds;
  r.exec_queries = x.executor.queries;
  r.exec_unsettled = x.unsettled;
  r.exec_settled = x.executor.settled;
  // The latencies the model drew, on the recording's clock: frame received -> outcome known,
  // and each venue's round trips.
  const auto add = [&](std::string name, const LatencyHistogram& h) {
    LatencyReport l{std::move(name), h.count(), h.percentile(0.5), h.percentile(0.99),
                    h.percentile(0.999), h.max(), h.sum(), {}};
    for (const std::int64_t le : kLatencyBucketsNs) l.at_most.push_back(h.count_at_most(le));
    r.latencies.push_back(std::move(l));
  };
  add("tick_to_fill", tick_to_fill_);
  for (const Venue v : venues_) add("order_" + std::string(to_string(v)), order_latency_[index(v)]);
  r.queues.push_back({"books", books_.capacity(), books_.high_water(), market_.dropped});
  r.queues.push_back({"ops", kOpsPerProducer, 0, ops_.dropped()});
  r.journal_events = journal_->events();
  r.journal_errors = journal_->write_errors();
  r.dust = journal_->dust(run_id_);
  report_inventory(r, s, scope);
  return r;
}

bool Backtest::write_outputs(const RunReport& r) {
  const std::string json = report_json(r);
  std::ofstream(opt_.out_dir / "report.json") << json << '\n';
  {
    std::ofstream text(opt_.out_dir / "report.txt");
    print_report(text, r);
  }
  std::ofstream csv(opt_.out_dir / "trades.csv");
  csv << "position_id,symbol,pair,direction,opened,closed,state,exit_reason,qty,realized_krw\n";
  for (const auto& [id, t] : trades_) {
    const Instrument* i = t.instrument < symbols_.size() ? &symbols_[t.instrument] : nullptr;
    csv << id << ',' << (i != nullptr ? i->base.view() : std::string_view("?")) << ','
        << to_string(t.pair) << ',' << to_string(t.direction) << ',' << seconds_text(t.opened_ns)
        << ',' << (t.closed_ns != 0 ? seconds_text(t.closed_ns) : std::string()) << ','
        << to_string(t.state) << ',' << to_string(t.exit_reason) << ',' << to_string(t.qty)
        << ',' << to_string(t.realized_krw) << '\n';
  }
  if (!csv) {
    err_ << "backtest: cannot write " << (opt_.out_dir / "trades.csv").string() << '\n';
    return false;
  }
  return true;
}

int Backtest::run(BacktestResult& result) {
  const std::int64_t started = clock::steady_ns();
  if (!open_sources() || !load_rules()) return kExitBadInput;
  std::int64_t first_ns = INT64_MAX;
  for (const Source& s : sources_) {
    if (s.has) first_ns = std::min(first_ns, s.event.recv_ns);
  }
  if (first_ns == INT64_MAX) {
    err_ << "backtest: the captures hold no frames\n";
    return kExitBadInput;
  }
  if (!open_journal(first_ns)) return 1;
  build();
  clock_.ns = first_ns;
  // The trading window: entries off before it; its end a stop that closes what is open.
  bool waiting = opt_.trade_from_ns > first_ns;
  if (waiting) strategy_->risk().set_kill_switch(true);
  if (opt_.trade_until_ns > 0) {
    stops_.insert(std::upper_bound(stops_.begin(), stops_.end(), opt_.trade_until_ns,
                                   [](std::int64_t t, const Stop& s) { return t < s.at_ns; }),
                  Stop{opt_.trade_until_ns, true});
  }
  std::int64_t next_timer = first_ns;
  std::int64_t last_frame = first_ns;
  for (;;) {
    // The next frame across the captures (the earliest receive time; the first capture on a tie).
    Source* next = nullptr;
    for (Source& s : sources_) {
      if (s.has && (next == nullptr || s.event.recv_ns < next->event.recv_ns)) next = &s;
    }
    std::int64_t t = std::min(next_due(), next_timer);
    if (next != nullptr) t = std::min(t, next->event.recv_ns);
    if (!stopped_ && !stops_.empty()) t = std::min(t, stops_.front().at_ns);
    if (waiting) t = std::min(t, opt_.trade_from_ns);
    const bool over = next == nullptr || (stopped_ && strategy_->open_positions() == 0 &&
                                          clock_.ns >= opt_.trade_until_ns && opt_.trade_until_ns > 0);
    if (over && (!busy() || t > last_frame + opt_.drain_ns)) {
      break;  // the recording (or the window) is over, and nothing is in flight
    }
    clock_.ns = std::max(clock_.ns, t);
    if (waiting && clock_.ns >= opt_.trade_from_ns) {
      waiting = false;
      if (!stopped_) strategy_->risk().set_kill_switch(false);
    }
    if (!stopped_ && !stops_.empty() && stops_.front().at_ns <= clock_.ns) {
      // As the run's hot thread did at its wind-down: no entries, and a flatten if it closed.
      stopped_ = true;
      strategy_->risk().set_kill_switch(true);
      if (stops_.front().flatten) strategy_->close_all(ExitReason::flatten);
    }
    if (next != nullptr && next->event.recv_ns <= clock_.ns) {
      if (next->event.venue_known && next->event.kind == feed::CaptureKind::ws) {
        ++frames_[index(next->event.venue)];
      }
      replayer_->feed(next->event, market_);
      last_frame = clock_.ns;
      next->has = advance(*next);
      if (!error_.empty()) {
        err_ << error_ << '\n';
        return kExitBadInput;
      }
    }
    const bool tick = clock_.ns >= next_timer;
    if (tick) next_timer = clock_.ns + kTimerNs;
    settle();
    if (tick && opt_.plots) sample_premiums();
  }
  drain_ops();
  result.report = report(first_ns, last_frame);
  summary_.entries = result.report.entries;
  summary_.closed = result.report.closed;
  summary_.wins = result.report.wins;
  summary_.exits = result.report.exits;
  summary_.winrate = result.report.winrate;
  summary_.pnl_krw = result.report.realized_krw.to_double();
  result.summary = summary_;
  journal_->end_run(clock_.ns, report_json(result.report));
  journal_->commit();
  result.frames = lines_;
  result.wall_s = static_cast<double>(clock::steady_ns() - started) * 1e-9;
  if (!write_outputs(result.report)) return 1;
  if (opt_.plots) write_plots(first_ns);
  std::ofstream(opt_.out_dir / "summary.json") << summary_.json() << '\n';
  if (!opt_.quiet) print_report(out_, result.report);
  return 0;
}

}  // namespace
}  // namespace engine_detail

bool capture_span(const std::vector<std::string>& captures, std::int64_t& first_ns,
                  std::int64_t& last_ns, std::string& error) {
  first_ns = INT64_MAX;
  last_ns = 0;
  for (const std::string& path : captures) {
    const auto reader = feed::CaptureReader::open(path, error);
    if (!reader) return false;
    feed::CaptureEvent e;
    while (reader->next(e)) {
      if (e.kind != feed::CaptureKind::ws || e.recv_ns == 0) continue;
      first_ns = std::min(first_ns, e.recv_ns);
      last_ns = std::max(last_ns, e.recv_ns);
    }
  }
  if (last_ns == 0) {
    error = "the captures hold no frames";
    return false;
  }
  return true;
}

std::string BacktestSummary::json() const {
  nlohmann::json j;
  j["entries"] = entries;
  j["closed"] = closed;
  j["wins"] = wins;
  nlohmann::json ex = nlohmann::json::object();
  for (std::size_t k = 1; k < kExitReasonCount; ++k) {
    ex[std::string(to_string(static_cast<ExitReason>(k)))] = exits[k];
  }
  j["exits"] = ex;
  j["winrate"] = winrate;
  j["pnl_krw"] = pnl_krw;
  j["fees_krw"] = fees_krw;
  j["turnover_krw"] = turnover_krw;
  j["max_drawdown_krw"] = max_drawdown_krw;
  return j.dump(2);
}

bool BacktestSummary::parse(const std::string& text, BacktestSummary& out, std::string& error) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    out.entries = j.at("entries").get<std::uint64_t>();
    out.closed = j.at("closed").get<std::uint64_t>();
    out.wins = j.at("wins").get<std::uint64_t>();
    for (std::size_t k = 1; k < kExitReasonCount; ++k) {
      out.exits[k] = j.at("exits").at(std::string(to_string(static_cast<ExitReason>(k))))
                         .get<std::uint64_t>();
    }
    out.winrate = j.at("winrate").get<double>();
    out.pnl_krw = j.at("pnl_krw").get<double>();
    out.fees_krw = j.at("fees_krw").get<double>();
    out.turnover_krw = j.at("turnover_krw").get<double>();
    out.max_drawdown_krw = j.at("max_drawdown_krw").get<double>();
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  return true;
}

bool read_latency_csv(const std::string& path, LatencyModel& out, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (n == 1 && line.rfind("venue,", 0) == 0) continue;  // the header
    if (line.empty()) continue;
    const std::size_t a = line.find(','), b = line.find(',', a == std::string::npos ? a : a + 1);
    const auto venue = a == std::string::npos ? std::nullopt
                                              : venues::from_name(std::string_view(line).substr(0, a));
    if (!venue || b == std::string::npos) {
      error = path + ":" + std::to_string(n) + ": expected venue,action,latency_ns with a known venue";
      return false;
    }
    const std::string action = line.substr(a + 1, b - a - 1);
    char* end = nullptr;
    const long long ns = std::strtoll(line.c_str() + b + 1, &end, 10);
    if (end == line.c_str() + b + 1 || *end != '\0' || ns <= 0) {
      error = path + ":" + std::to_string(n) + ": latency_ns must be a positive integer";
      return false;
    }
    if (action == "place") out.samples[index(*venue)].push_back(ns);
  }
  return true;
}

BacktestResult run_backtest(const Config& config, const BacktestOptions& options,
                            std::ostream& out, std::ostream& err) {
  BacktestResult result;
  const auto backtest = std::make_unique<engine_detail::Backtest>(config, options, out, err);
  result.exit_code = backtest->run(result);
  return result;
}

}  // namespace xarb::app
