// End-to-end latency of the whole pipeline in one process: real frames from a preloaded buffer
// through the feed's parsers and books (feed::Replayer, the code the live feed runs), the SPSC
// book ring, the signal stage (premium, rules, risk), the intent ring and the exec stage with the
// paper venues, to the moment the order is handed to the venue (Stage::order_written).
//
//   pipeline_latency [--messages N] [--gap-us G] [--layouts a,b,..] [--json FILE]
//
// Frames: Binance MANAUSDT bookTicker and Upbit KRW-ADA SIMPLE orderbook (15 levels), both from
// data/*/2021-04-05_*, in capture order, repeated (bookTicker ids are shifted each pass
// so they keep growing). The two captures share no symbol, so the bench trades them as one pair
// at a fixed KRW/USDT rate equal to the ratio of their first mid prices; the premium then moves
// with both real price series. The strategy enters whenever it is flat (entry threshold far below
// any edge) and exits on the next update (timeout 0), so about every other frame produces an
// intent: each one a full decision at executable prices and a signed paper order.
//
// One frame every G µs (default 50: 20,000 frames/s) from a pacing thread pinned to CPU 0, the
// "socket". Layouts (the consumers on CPU 1):
//   one_thread       feed, signal and exec on the pacing thread: no hop at all
//   spin             feed | signal + exec spinning
//   park             feed | signal + exec parked on a doorbell between messages
//   park_3_threads   feed | signal | exec, each parked (the plain layout)
// Every intent's stage stamps go into a preallocated array (exact percentiles); the per-book hops
// come from the stages' histograms (to 3 %). The first pass is warm-up and not measured; the
// measured part must make 0 allocations.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <xarb/core/clock.hpp>
#include <xarb/core/latency_histogram.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/core/spsc_ring.hpp>
#include <xarb/core/wait.hpp>
#include <xarb/exec/paper_venue.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/exec/stage.hpp>
#include <xarb/feed/replay.hpp>
#include <xarb/signal/stage.hpp>
#include <xarb/signal/strategy.hpp>
#include <xarb/tuning/threads.hpp>

#include "alloc_counter.hpp"
#include "bench_support.hpp"
#include <xarb/venues/registry.hpp>

namespace xarb::bench {
namespace {

constexpr InstrumentId kPair = 0;

struct Frame {
  Venue venue;
  std::string text;
};

// Every MANAUSDT bookTicker and KRW-ADA orderbook frame of the two captures, in receive order.
std::vector<Frame> load_frames() {
  std::vector<std::pair<double, Frame>> timed;
  const auto add = [&](const char* path, Venue venue, std::string_view needle) {
    std::string error;
    auto reader = feed::CaptureReader::open(data_file(path), error);
    if (!reader) throw std::runtime_error(error);
    feed::CaptureEvent e;
    while (reader->next(e)) {
      if (e.kind == feed::CaptureKind::ws && e.msg.find(needle) != std::string_view::npos) {
        timed.push_back({static_cast<double>(e.recv_ns), {venue, std::string(e.msg)}});
      }
    }
  };
  add("binance/2021-04-05_10sym_bookticker_depth_aggtrade.events.jsonl", venues::kBinance,
      "\"manausdt@bookTicker\"");
  add("upbit/2021-04-05_simple_orderbook_trade.events.jsonl", venues::kUpbit,
      "\"ty\":\"orderbook\",\"cd\":\"KRW-ADA\"");
  std::stable_sort(timed.begin(), timed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Frame> frames;
  for (auto& [t, f] : timed) frames.push_back(std::move(f));
  return frames;
}

// The frame with its bookTicker id ("u":123) raised by `shift`, so a repeated pass is newer.
std::string shifted(const Frame& f, std::uint64_t shift) {
  if (f.venue != venues::kBinance || shift == 0) return f.text;
  const auto at = f.text.find("\"u\":");
  if (at == std::string::npos) return f.text;
  const auto end = f.text.find_first_not_of("0123456789", at + 4);
  const std::uint64_t u = std::stoull(f.text.substr(at + 4, end - at - 4)) + shift;
  std::string out(f.text, 0, at + 4);
  out.append(std::to_string(u));
  out.append(f.text, end, std::string::npos);
  return out;
}

double mid_of(const BookSnapshot& s) {
  return (s.bids[0].price.to_double() + s.asks[0].price.to_double()) / 2.0;
}

enum class Layout { one_thread, spin, park, park_3_threads };
constexpr std::string_view name_of(Layout l) {
  switch (l) {
    case Layout::one_thread: return "one_thread";
    case Layout::spin: return "spin";
    case Layout::park: return "park";
    case Layout::park_3_threads: return "park_3_threads";
  }
  return "?";
}

struct Result {
  Layout layout;
  std::size_t messages = 0;
  std::size_t intents = 0;
  std::uint64_t allocations = 0;
  std::uint64_t drops = 0;
  double seconds = 0;
  // Per intent, exact (ns): received->parsed, parsed->applied, applied->decided,
  // decided->exec_dequeued, exec_dequeued->order_written, received->order_written.
  std::array<std::vector<std::int64_t>, 6> hops;
  PipelineLatencies books;         // per book: parse, apply, book_queue, tick_to_signal
  PipelineLatencies books_warmup;  // the same at the end of the warm-up (subtracted)
};

// Percentile q of the samples `end` holds beyond `start` (the same histogram, earlier), to the
// histogram's precision.
std::int64_t delta_pct(const LatencyHistogram& end, const LatencyHistogram& start, double q) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kBucketCount; ++i)
    n += end.bucket_count_at(i) - start.bucket_count_at(i);
  if (n == 0) return 0;
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    seen += end.bucket_count_at(i) - start.bucket_count_at(i);
    if (seen >= rank) return std::min(LatencyHistogram::bucket_upper(i), end.max());
  }
  return end.max();
}
constexpr std::array<const char*, 6> kHopNames = {"parse",        "apply", "signal+queue",
                                                  "intent_queue", "exec",  "tick_to_order"};

double us(std::int64_t ns) { return static_cast<double>(ns) / 1e3; }

std::int64_t pct(std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(k, v.size() - 1)];
}

class Pipeline {
 public:
  Pipeline(const std::vector<Frame>& pass, std::size_t messages, double fx_rate)
      : books_ring_(4096), intents_(256), exec_out_(256), reports_(256) {
    (void)symbols_.add("PAIR", {{venues::kUpbit, "KRW-ADA"}, {venues::kBinance, "MANAUSDT"}});
    // Binance MANAUSDT's filters in 2021 (tick 0.00001, step 1, 10 USDT minimum); Upbit's KRW
    // table for the other leg.
    exec::InstrumentRules& b = rules_.at(venues::kBinance, kPair);
    b.loaded = true;
    b.tick = Decimal::from_mantissa(1'000);
    b.step = Decimal::from_mantissa(Decimal::kOne);
    b.min_qty = b.step;
    b.min_price = b.tick;
    b.min_notional = Decimal::from_mantissa(10 * Decimal::kOne);
    exec::load_upbit_default_rules(symbols_, rules_);
    exec::PaperParams pp;
    pp.latency_ns = 20'000;  // the venue answers 20 µs after an order (a fill a few polls later)
    for (const Venue v : venues::kAll) {
      pp.seed = 1 + index(v);
      pp.orders_per_window = 1'000'000;
      paper_[index(v)] = std::make_unique<exec::PaperVenue>(v, rules_, pp);
      paper_[index(v)]->set_base(kPair, Decimal::from_mantissa(1'000'000'000 * Decimal::kOne));
      paper_[index(v)]->set_quote(Decimal::from_mantissa(10'000'000'000 * Decimal::kOne));
    }
    exec::ExecParams xp;
    xp.run_id = 1;
    executor_ = std::make_unique<exec::TwoLegExecutor>(
        std::array<exec::VenueClient*, kMaxVenues>{paper_[0].get(), paper_[1].get()}, xp);
    signal::StrategyParams p;
    p.pairs[0].pair = venues::kUpbitBinance;
    p.pairs[0].fees = {5.0, 10.0};
    p.fx.fixed = true;
    p.fx.fixed_rate = Decimal::from_mantissa(std::llround(fx_rate * 1e8));
    p.baseline = signal::BaselineMode::zero;
    p.reverse = false;
    p.entry_bps = -10'000.0;  // enter whenever flat
    p.timeout_ns = 0;         // and leave on the next update
    p.take_profit_bps = p.stop_loss_bps = 10'000.0;
    p.reversal_bps = -10'000.0;
    p.cooldown_ns = 0;
    p.max_book_age_ns = p.exit_max_book_age_ns = INT64_MAX / 4;
    p.max_clock_skew_ns = INT64_MAX / 4;
    p.exec_deadline_ns = 1'000'000'000;
    p.risk.daily_loss_limit_krw = INT64_MAX / 4;
    p.risk.max_total_exposure_krw = p.risk.max_symbol_exposure_krw = INT64_MAX / 4;
    p.risk.max_consecutive_failures = 1'000'000;
    p.risk.check_balances = false;
    p.symbols[kPair].trade_qty = Decimal::from_mantissa(20 * Decimal::kOne);
    p.symbols[kPair].max_position_qty = Decimal::from_mantissa(20'000 * Decimal::kOne);
    strategy_ = std::make_unique<signal::Strategy>(symbols_, p);
    rings_[0] = &books_ring_;
    signal_ = std::make_unique<signal::SignalStage>(
        *strategy_, std::span<SpscRing<BookSnapshot>* const>(rings_.data(), 1), reports_,
        intents_, nullptr, nullptr);
    exec_ = std::make_unique<exec::ExecStage>(*executor_, intents_, exec_out_, nullptr, nullptr);
    signal_->set_latencies(&books_);
    replayer_ = std::make_unique<feed::Replayer>(symbols_, feed::books_from(venues::kBinance, "book_ticker"));
    // The buffer: `messages` frames, the pass repeated with growing bookTicker ids.
    frames_.reserve(messages);
    for (std::size_t k = 0; frames_.size() < messages; ++k) {
      for (const Frame& f : pass) {
        if (frames_.size() == messages) break;
        frames_.push_back({f.venue, shifted(f, k * 1'000'000'000ULL)});
      }
    }
    warmup_ = std::min(pass.size(), messages / 4);
  }

  Result run(Layout layout, std::int64_t gap_ns) {
    Result r;
    r.layout = layout;
    for (auto& h : hops_) h.clear();
    for (auto& h : hops_) h.reserve(frames_.size());
    const bool threaded = layout != Layout::one_thread;
    std::atomic<bool> done{false};
    std::atomic<int> ready{0};
    const auto pin = [](int cpu) {
      std::string why;
      if (std::thread::hardware_concurrency() > 1) (void)tuning::pin_current_thread(cpu, why);
    };
    // The consumers: signal (+ exec) on CPU 1, or signal and exec on their own threads.
    std::vector<std::jthread> threads;
    const WaitStrategy wait = layout == Layout::spin ? WaitStrategy::spin : WaitStrategy::park;
    if (threaded) {
      const bool split = layout == Layout::park_3_threads;
      threads.emplace_back([&, split] {
        pin(1);
        ready.fetch_add(1);
        // Orders out: the paper venue's answers need polls, which nothing rings for (as in the
        // engine, a parked thread naps at most 100 µs).
        Idler idle(wait, signal_bell_, 0, 100'000);
        while (!done.load(std::memory_order_relaxed)) {
          idle.begin();
          std::size_t n = signal_->poll();
          if (n != 0 && split) exec_bell_.ring();
          if (!split) n += exec_step();
          if (n != 0) {
            idle.busy();
          } else {
            idle.idle();
          }
        }
      });
      if (split) {
        threads.emplace_back([&] {
          pin(1);
          ready.fetch_add(1);
          Idler idle(wait, exec_bell_, 0, 100'000);
          while (!done.load(std::memory_order_relaxed)) {
            idle.begin();
            const std::size_t n = exec_step();
            if (n != 0) {
              signal_bell_.ring();
              idle.busy();
            } else {
              idle.idle();
            }
          }
        });
      }
      while (ready.load() != static_cast<int>(threads.size())) std::this_thread::yield();
    }
    pin(0);
    class RingSink final : public feed::SnapshotSink {
     public:
      RingSink(SpscRing<BookSnapshot>& ring, Doorbell& bell, std::uint64_t& drops)
          : ring_(ring), bell_(bell), drops_(drops) {}
      void on_snapshot(const BookSnapshot& s) noexcept override {
        BookSnapshot* slot = ring_.try_claim();
        if (slot == nullptr) {
          ++drops_;
          return;
        }
        *slot = s;
        ring_.publish();
        bell_.ring();
      }

     private:
      SpscRing<BookSnapshot>& ring_;
      Doorbell& bell_;
      std::uint64_t& drops_;
    } sink(books_ring_, signal_bell_, r.drops);

    feed::CaptureEvent e;
    e.kind = feed::CaptureKind::ws;
    e.venue_known = true;
    std::uint64_t alloc_before = 0;
    std::int64_t measured_from = 0;
    std::int64_t next = clock::mono_ns();
    for (std::size_t i = 0; i < frames_.size(); ++i) {
      if (i == warmup_) {
        // Let the warm-up's intents finish, then measure from here.
        const std::int64_t settle = clock::mono_ns() + 50'000'000;
        while (clock::mono_ns() < settle) {
          if (!threaded) step_all();
        }
        r.books_warmup = books_;  // the histograms allow reads from any thread
        measuring_.store(true);
        alloc_before = test::total_allocations();
        measured_from = clock::mono_ns();
        next = measured_from;
      }
      next += gap_ns;
      while (clock::mono_ns() < next) {
        if (!threaded) {
          step_all();
        } else {
          cpu_relax();
        }
      }
      e.venue = frames_[i].venue;
      e.msg = frames_[i].text;
      e.recv_ns = clock::mono_ns();
      replayer_->feed(e, sink);
      ++r.messages;
      if (!threaded) step_all();
    }
    // Drain: the last intents complete.
    const std::int64_t end = clock::mono_ns() + 50'000'000;
    while (clock::mono_ns() < end) {
      if (!threaded) step_all();
    }
    r.seconds = static_cast<double>(clock::mono_ns() - measured_from) * 1e-9;
    r.allocations = test::total_allocations() - alloc_before;
    done.store(true);
    signal_bell_.ring();
    exec_bell_.ring();
    threads.clear();
    measuring_.store(false);
    r.messages -= warmup_;
    r.hops = hops_;
    r.intents = r.hops[5].size();
    r.books = books_;
    return r;
  }

  const std::vector<Frame>& frames() const { return frames_; }

 private:
  // Exec, then its reports through the tap (stamps recorded) to the signal's report ring.
  std::size_t exec_step() noexcept {
    std::size_t n = exec_->poll(clock::mono_ns());
    while (const ExecReport* rep = exec_out_.front()) {
      ExecReport* slot = reports_.try_claim();
      if (slot == nullptr) break;
      if (measuring_.load(std::memory_order_relaxed)) record(rep->stamps);
      *slot = *rep;
      reports_.publish();
      exec_out_.pop();
      ++n;
    }
    return n;
  }
  void step_all() noexcept {
    (void)signal_->poll();
    (void)exec_step();
  }
  void record(const StageStamps& s) noexcept {
    if (s.get(Stage::order_written) == 0 || s.get(Stage::received) == 0) return;
    if (hops_[5].size() == hops_[5].capacity()) return;  // never grow: the array is preallocated
    hops_[0].push_back(s.between(Stage::received, Stage::parsed));
    hops_[1].push_back(s.between(Stage::parsed, Stage::applied));
    hops_[2].push_back(s.between(Stage::applied, Stage::decided));
    hops_[3].push_back(s.between(Stage::decided, Stage::exec_dequeued));
    hops_[4].push_back(s.between(Stage::exec_dequeued, Stage::order_written));
    hops_[5].push_back(s.between(Stage::received, Stage::order_written));
  }

  SymbolMap symbols_;
  exec::RulesTable rules_;
  std::array<std::unique_ptr<exec::PaperVenue>, kMaxVenues> paper_;
  std::unique_ptr<exec::TwoLegExecutor> executor_;
  std::unique_ptr<signal::Strategy> strategy_;
  SpscRing<BookSnapshot> books_ring_;
  SpscRing<OrderIntent> intents_;
  SpscRing<ExecReport> exec_out_;
  SpscRing<ExecReport> reports_;
  std::array<SpscRing<BookSnapshot>*, 1> rings_{};
  std::unique_ptr<signal::SignalStage> signal_;
  std::unique_ptr<exec::ExecStage> exec_;
  std::unique_ptr<feed::Replayer> replayer_;
  Doorbell signal_bell_;
  Doorbell exec_bell_;
  std::vector<Frame> frames_;
  std::size_t warmup_ = 0;
  std::atomic<bool> measuring_{false};
  std::array<std::vector<std::int64_t>, 6> hops_;
  PipelineLatencies books_;
};

}  // namespace
}  // namespace xarb::bench

namespace xarb::bench {

// The first Upbit mid (KRW) and the first Binance mid (USDT) of the captures' frames: their ratio
// is the run's fixed rate.
void first_mids(const std::vector<Frame>& pass, double& upbit_mid, double& binance_mid) {
  SymbolMap symbols;
  (void)symbols.add("PAIR", {{venues::kUpbit, "KRW-ADA"}, {venues::kBinance, "MANAUSDT"}});
  feed::Replayer probe(symbols, feed::books_from(venues::kBinance, "book_ticker"));
  struct Mids final : feed::SnapshotSink {
    double* u;
    double* b;
    void on_snapshot(const BookSnapshot& s) noexcept override {
      double& m = s.venue == venues::kUpbit ? *u : *b;
      if (m == 0 && s.bid_count > 0 && s.ask_count > 0) m = mid_of(s);
    }
  } mids;
  mids.u = &upbit_mid;
  mids.b = &binance_mid;
  for (const Frame& f : pass) {
    feed::CaptureEvent e;
    e.kind = feed::CaptureKind::ws;
    e.venue_known = true;
    e.venue = f.venue;
    e.msg = f.text;
    probe.feed(e, mids);
  }
}

// One layout's result: the exact per-intent hops and the per-book histograms, printed and into
// `json`.
void report(Layout layout, Result& r, nlohmann::json& json) {
  std::printf("\n%s: %zu messages in %.2f s, %zu intents, %llu ring drops, %llu allocations "
              "while measuring\n",
              std::string(name_of(layout)).c_str(), r.messages, r.seconds, r.intents,
              static_cast<unsigned long long>(r.drops),
              static_cast<unsigned long long>(r.allocations));
  std::printf("  %-34s %9s %9s %9s %9s\n", "per intent (exact), us", "p50", "p99", "p99.9",
              "max");
  nlohmann::json& out = json["layouts"][std::string(name_of(layout))];
  out = {{"messages", r.messages}, {"intents", r.intents}, {"allocations", r.allocations},
         {"drops", r.drops}, {"seconds", r.seconds}};
  for (std::size_t h = 0; h < r.hops.size(); ++h) {
    const std::int64_t p50 = pct(r.hops[h], 0.5), p99 = pct(r.hops[h], 0.99),
                       p999 = pct(r.hops[h], 0.999), mx = pct(r.hops[h], 1.0);
    std::printf("  %-34s %9.2f %9.2f %9.2f %9.2f\n", kHopNames[h], us(p50), us(p99), us(p999),
                us(mx));
    out["intent_ns"][kHopNames[h]] = {{"p50", p50}, {"p99", p99}, {"p999", p999}, {"max", mx}};
  }
  std::printf("  %-34s %9s %9s %9s %9s\n", "per book (histogram, 3 %), us", "p50", "p99",
              "p99.9", "max");
  const auto warm = r.books_warmup.all();
  const auto all = r.books.all();
  for (std::size_t k = 0; k < all.size(); ++k) {
    const LatencyHistogram& h = *all[k].histogram;
    const LatencyHistogram& w = *warm[k].histogram;
    if (h.count() == w.count()) continue;
    const std::int64_t p50 = delta_pct(h, w, 0.5), p99 = delta_pct(h, w, 0.99),
                       p999 = delta_pct(h, w, 0.999), mx = delta_pct(h, w, 1.0);
    std::printf("  %-34s %9.2f %9.2f %9.2f %9.2f\n", std::string(all[k].name).c_str(),
                us(p50), us(p99), us(p999), us(mx));
    out["book_ns"][std::string(all[k].name)] = {
        {"p50", p50}, {"p99", p99}, {"p999", p999}, {"max", mx}, {"count", h.count() - w.count()}};
  }

}

}  // namespace xarb::bench

int main(int argc, char** argv) {
  using namespace xarb;
  using namespace xarb::bench;
  std::size_t messages = 40'000;
  double gap_us = 50.0;
  std::string json_path;
  std::vector<Layout> layouts = {Layout::one_thread, Layout::spin, Layout::park,
                                 Layout::park_3_threads};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--messages") {
      messages = std::stoul(value());
    } else if (a == "--gap-us") {
      gap_us = std::stod(value());
    } else if (a == "--json") {
      json_path = value();
    } else if (a == "--layouts") {
      layouts.clear();
      std::string list = value() + ",";
      for (std::size_t at = 0, comma; (comma = list.find(',', at)) != std::string::npos;
           at = comma + 1) {
        const std::string n = list.substr(at, comma - at);
        for (const Layout l : {Layout::one_thread, Layout::spin, Layout::park,
                               Layout::park_3_threads}) {
          if (n == name_of(l)) layouts.push_back(l);
        }
      }
    } else {
      std::fprintf(stderr,
                   "usage: pipeline_latency [--messages N] [--gap-us G] "
                   "[--layouts one_thread,spin,park,park_3_threads] [--json FILE]\n");
      return 2;
    }
  }
  (void)clock::calibrate_mono();
  const std::vector<Frame> pass = load_frames();
  // The fixed rate: the ratio of the first Upbit mid (KRW) to the first Binance mid (USDT).
  double upbit_mid = 0, binance_mid = 0;
  first_mids(pass, upbit_mid, binance_mid);
  if (upbit_mid <= 0 || binance_mid <= 0) {
    std::fprintf(stderr, "pipeline_latency: the captures gave no book for the pair\n");
    return 1;
  }
  const double fx = upbit_mid / binance_mid;
  std::printf("pipeline_latency: %zu frames (%zu per pass: MANAUSDT bookTicker + KRW-ADA orderbook), "
              "one every %.1f us, fixed rate %.2f KRW/USDT, clock %s\n",
              messages, pass.size(), gap_us, fx,
              std::string(clock::to_string(clock::mono_source())).c_str());

  nlohmann::json json = {{"messages", messages}, {"gap_us", gap_us}, {"fx", fx}};
  for (const Layout layout : layouts) {
    Pipeline pipeline(pass, messages, fx);
    Result r = pipeline.run(layout, static_cast<std::int64_t>(gap_us * 1000.0));
    report(layout, r, json);
  }
  if (!json_path.empty()) std::ofstream(json_path) << json.dump(2) << '\n';
  return 0;
}
