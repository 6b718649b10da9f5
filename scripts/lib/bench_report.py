#!/usr/bin/env python3
"""Writes bench/RESULTS.md from the JSON files scripts/bench leaves in bench/results/.

usage: bench_report.py RESULTS_DIR OUTPUT_MD
"""
import json
import os
import sys

results, output = sys.argv[1], sys.argv[2]


def load(name):
    path = os.path.join(results, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def fmt_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def to_ns(value, unit):
    return value * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]


lines = []
machine = load("machine.json") or {}
lines += [
    "# Benchmark results",
    "",
    "Written by `scripts/bench` (release build"
    + (", `-march=native`" if machine.get("march_native") else "")
    + "); the raw figures are in `bench/results/`. Every comparison is against a baseline measured"
    " in the same run, and every Google Benchmark figure is the median of the repetitions. This"
    " machine is shared and noisy: read ratios, not the third digit.",
    "",
    "## Machine",
    "",
    f"- {machine.get('cpu_model', '?')}, {machine.get('cpus_online', '?')} CPUs online "
    f"({machine.get('cpus_allowed', '?')} allowed), {machine.get('threads_per_core', '?')} thread(s) per core, "
    f"{machine.get('memory_gib', '?')} GiB",
    f"- hypervisor: {machine.get('hypervisor') or 'none'}, governor: {machine.get('governor')}, "
    f"isolated CPUs: {machine.get('isolcpus')}",
    f"- {machine.get('os', '')}, kernel {machine.get('kernel', '')}, {machine.get('compiler', '')}",
    f"- commit {machine.get('commit', '?')}, {machine.get('date_utc', '')}",
    "",
]

# --- Google Benchmark executables -------------------------------------------------------------
sections = [
    ("feed_parse_bench", "Parse + book apply, per message type (vs nlohmann::json + std::map book)"),
    ("signal_bench", "Signal stage per book update (premium both ways, exits, rules)"),
    ("exec_order_bench", "Order build + sign, answer parse (vs nlohmann::json + one-shot HMAC)"),
    ("venue_write_bench", "Order build + sign + TLS write to xarb-sim in this process (RestVenue::place)"),
    ("queue_hop_bench", "Queue hop between two threads, a 448-byte book snapshot"),
    ("feed_replay_bench", "Replay throughput, the 10-symbol Binance capture"),
]
for name, title in sections:
    data = load(f"{name}.json")
    if not data:
        continue
    rows = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        base = b["run_name"] if "run_name" in b else b["name"]
        rows[base] = b
    lines += [f"## {title}", "", f"`build/bench/bench/{name}`", ""]
    lines += ["| benchmark | time | rate | allocs/op | vs baseline |", "|---|---|---|---|---|"]
    # Keyed by "<benchmark>/<kind>", without Google Benchmark's suffixes (/real_time, /0, ...).
    short = lambda base: "/".join(base.split("/")[:2])
    times = {}
    for base, b in rows.items():
        times[short(base)] = to_ns(b["real_time"], b["time_unit"])
    for base, b in rows.items():
        t = times[short(base)]
        rate = ""
        for key in ("msgs/s", "updates/s", "items_per_second", "orders/s"):
            if key in b:
                rate = f"{b[key] / 1e6:.2f} M/s" if b[key] >= 1e6 else f"{b[key] / 1e3:.1f} k/s"
                break
        if "ns/hop" in b:
            rate = f"{b['ns/hop'] * 1e9:.0f} ns/hop"  # an inverted rate: seconds per hop
        allocs = b.get("allocs/msg", b.get("allocs/op", ""))
        allocs = f"{allocs:.2f}" if allocs != "" else ""
        ratio = ""
        head, _, kind = base.partition("/")
        kind = kind.split("/")[0]
        baseline = times.get(f"{head}/baseline")
        if baseline and kind != "baseline":
            ratio = f"{baseline / t:.1f}x faster" if baseline >= t else f"{t / baseline:.1f}x slower"
        lines.append(f"| `{base}` | {fmt_time(t)} | {rate} | {allocs} | {ratio} |")
    lines.append("")

# --- In-process pipeline ---------------------------------------------------------------------
pipe = load("pipeline_latency.json")
if pipe:
    lines += [
        "## End to end in one process (`pipeline_latency`)",
        "",
        f"Real frames (Binance MANAUSDT bookTicker, Upbit KRW-ADA orderbook) from a preloaded buffer,"
        f" one every {pipe['gap_us']:.0f} µs, through parse, book, the signal stage and exec with the"
        f" paper venues; {pipe['messages']} frames per layout after a warm-up pass. Per intent: the"
        " exact stage stamps of every order (received -> order handed to the venue). Times in µs.",
        "",
        "| layout | intents | allocs | parse p50 | signal+queue p50 | exec p50 | tick-to-order p50 | p99 | p99.9 | max |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in pipe["layouts"].items():
        h = r["intent_ns"]
        lines.append(
            f"| {name} | {r['intents']} | {r['allocations']} | {h['parse']['p50'] / 1e3:.2f} | "
            f"{h['signal+queue']['p50'] / 1e3:.2f} | {h['exec']['p50'] / 1e3:.2f} | "
            f"{h['tick_to_order']['p50'] / 1e3:.2f} | {h['tick_to_order']['p99'] / 1e3:.2f} | "
            f"{h['tick_to_order']['p999'] / 1e3:.2f} | {h['tick_to_order']['max'] / 1e3:.2f} |")
    lines += ["", "Per book update (histograms, 3 % buckets), µs:", "",
              "| layout | parse p50 / p99 | apply p50 / p99 | book_queue p50 / p99 | tick_to_signal p50 / p99 / p99.9 |",
              "|---|---|---|---|---|"]
    for name, r in pipe["layouts"].items():
        b = r["book_ns"]
        g = lambda k, q: b.get(k, {}).get(q, 0) / 1e3
        lines.append(
            f"| {name} | {g('parse', 'p50'):.2f} / {g('parse', 'p99'):.2f} | "
            f"{g('apply', 'p50'):.2f} / {g('apply', 'p99'):.2f} | "
            f"{g('book_queue', 'p50'):.2f} / {g('book_queue', 'p99'):.2f} | "
            f"{g('tick_to_signal', 'p50'):.2f} / {g('tick_to_signal', 'p99'):.2f} / {g('tick_to_signal', 'p999'):.2f} |")
    lines.append("")

# --- Loopback --------------------------------------------------------------------------------
loop = load("loopback_latency.json")
if loop:
    lines += [
        "## Loopback with TLS (`scripts/loopback-latency`)",
        "",
        "xarb-sim jumps the BTC premium; it stamps when the jumped Upbit frame is handed to its"
        " socket and when the engine's entry order has been read (TLS websocket in, signed TLS REST"
        " out, both on 127.0.0.1). Times in µs.",
        "",
        "| layout | probes | answered | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("tuned", "plain"):
        r = loop.get(name)
        if not r:
            continue
        lines.append(f"| {name}: {r['description']} | {r['sent']} | {r['answered']} | "
                     f"{r['p50_us']:.1f} | {r['p90_us']:.1f} | {r['p99_us']:.1f} | {r['max_us']:.1f} |")
    if "ratio_p50" in loop:
        lines += ["", f"Plain / tuned at p50: {loop['ratio_p50']:.2f}x; at p99: {loop['ratio_p99']:.2f}x."]
    if any("engine_ns" in loop.get(n, {}) for n in ("tuned", "plain")):
        lines += ["", "The engine's own stamps in the same runs (every intent; µs, p50 / p99):", "",
                  "| layout | tick-to-signal | tick-to-decide | exec (both legs written) | tick-to-order |",
                  "|---|---|---|---|---|"]
        for name in ("tuned", "plain"):
            e = loop.get(name, {}).get("engine_ns", {})
            cell = lambda k: f"{e[k]['p50'] / 1e3:.1f} / {e[k]['p99'] / 1e3:.1f}" if k in e else ""
            lines.append(f"| {name} | {cell('tick_to_signal')} | {cell('tick_to_decide')} | {cell('exec')} | {cell('tick_to_order')} |")
    lines.append("")

# --- The simulator's rate ---------------------------------------------------------------------
sim = load("sim_throughput.json")
if sim:
    lines += [
        "## The simulator's message rate (`sim_throughput`)",
        "",
        "xarb-sim in this process with the market of configs/sim.toml (BTC, ETH, 20 levels; five"
        " books), asked for R book updates per second. *Alone*: no client, what the market and its"
        " frames' text cost. *With client*: one client thread reading a Binance combined stream"
        " (depth diff and bookTicker of both symbols: two messages per Binance update) and an Upbit"
        " SIMPLE orderbook subscription over TLS on 127.0.0.1, checking that every depth diff"
        " continues the last. The simulator waits for a slow reader instead of dropping (its"
        " backpressure). CPU is the share of one core. Medians of repeated runs.",
        "",
        "| requested updates/s | generated alone | with client | messages delivered/s (Binance + Upbit) | MB/s | depth gaps | sim waited | CPU sim / client (sim alone) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sim:
        req = r["requested_per_s"]
        lines.append(
            f"| {req:,.0f} | {r['generated_alone_per_s']:,.0f} ({100 * r['generated_alone_per_s'] / req:.0f} %) | "
            f"{r['generated_per_s']:,.0f} ({100 * r['generated_per_s'] / req:.0f} %) | "
            f"{r['delivered_per_s']:,.0f} ({r['delivered_binance_per_s']:,.0f} + {r['delivered_upbit_per_s']:,.0f}) | "
            f"{r['payload_mb_per_s']:.1f} | {r['depth_gaps']} | {r['sim_waited_ms']} ms | "
            f"{100 * r['sim_cpu']:.0f} % / {100 * r['client_cpu']:.0f} % ({100 * r['sim_alone_cpu']:.0f} %) |")
    lines.append("")

# --- The aims, side by side with this run ----------------------------------------------
def median_ns(bench, name):
    data = load(f"{bench}.json")
    if not data:
        return None
    for b in data["benchmarks"]:
        run = "/".join(b.get("run_name", b["name"]).split("/")[:2])
        if run == name and b.get("aggregate_name", "median") == "median":
            return to_ns(b["real_time"], b["time_unit"])
    return None


def ratio(bench, name):
    x, b = median_ns(bench, f"{name}/xarb"), median_ns(bench, f"{name}/baseline")
    return b / x if x and b else None


aims = []
t = median_ns("feed_parse_bench", "BinanceBookTicker/xarb")
if t:
    aims.append(("bookTicker parse + apply", "about 100 ns", f"{t:.0f} ns"))
t = median_ns("feed_parse_bench", "UpbitOrderbookDefault30/xarb")
if t:
    p = median_ns("feed_parse_bench", "UpbitDefault30ParseOnly/xarb")
    aims.append(("30-level Upbit book", "about 1 µs", f"{t / 1e3:.2f} µs (parse alone {p / 1e3:.2f} µs)" if p else f"{t / 1e3:.2f} µs"))
rs = [r for r in (ratio("feed_parse_bench", n) for n in ("BinanceBookTicker", "BinanceDepthUpdate", "UpbitOrderbookSimple15", "UpbitOrderbookDefault30")) if r]
if rs:
    aims.append(("parse vs nlohmann::json", "8x or more", f"{min(rs):.1f}x to {max(rs):.1f}x"))
t, b = median_ns("queue_hop_bench", "QueueHop/xarb"), median_ns("queue_hop_bench", "QueueHop/baseline")
if t and b:
    aims.append(("queue hop, spinning consumer", "about 100 ns", f"{t / 2:.0f} ns (a 448-byte snapshot)"))
    aims.append(("... vs mutex + condition variable, parked", "more than 50x", f"{b / t:.0f}x"))
if pipe:
    for name in ("one_thread", "spin"):
        h = pipe["layouts"].get(name, {}).get("intent_ns", {}).get("tick_to_order")
        if h:
            aims.append((f"in-process frame -> order, {name}", "p50 < 6 µs, p99 < 12 µs",
                         f"p50 {h['p50'] / 1e3:.2f} µs, p99 {h['p99'] / 1e3:.2f} µs"))
if loop and "tuned" in loop:
    aims.append(("loopback TLS frame -> order, tuned", "p50 < 20 µs, p99 < 60 µs",
                 f"p50 {loop['tuned']['p50_us']:.0f} µs, p99 {loop['tuned']['p99_us']:.0f} µs"))
    if "ratio_p50" in loop:
        aims.append(("... plain / tuned at p50", "3x or more", f"{loop['ratio_p50']:.2f}x"))
allocs = []
for name, _ in sections:
    data = load(f"{name}.json")
    for b in (data or {}).get("benchmarks", []):
        if b.get("aggregate_name", "median") != "median":
            continue
        # Below 0.001 per operation is the harness's own bookkeeping spread over millions.
        if "/xarb" in b.get("run_name", b["name"]) and b.get("allocs/msg", 0) >= 0.001:
            allocs.append(b.get("run_name", b["name"]))
if pipe:
    allocs += [n for n, r in pipe["layouts"].items() if r["allocations"] != 0]
aims.append(("allocations (operator new) on the hot-path benchmarks", "zero",
             "zero" if not allocs else "some: " + ", ".join(allocs)))
ssl = []
for b in (load("exec_order_bench.json") or {}).get("benchmarks", []):
    run = b.get("run_name", b["name"])
    if b.get("aggregate_name", "median") == "median" and "/xarb" in run and b.get("openssl_allocs/msg", 0) > 0:
        ssl.append(f"{run.split('/')[0]} {b['openssl_allocs/msg']:.0f}")
if ssl:
    aims.append(("OpenSSL's own mallocs per signed order (HMAC)", "zero", ", ".join(ssl)))
if sim:
    at = [r for r in sim if r["requested_per_s"] >= 50_000]
    if at:
        r = at[0]
        aims.append(("xarb-sim at 50,000 updates/s requested (issue 6)", "generated and delivered",
                     f"generated alone {r['generated_alone_per_s']:,.0f}/s; with one TLS client "
                     f"{r['generated_per_s']:,.0f} updates/s = {r['delivered_per_s']:,.0f} messages/s "
                     f"delivered, {r['depth_gaps']} gaps"))
if aims:
    lines += ["## Against the aims", "", "| what | aim | this run |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in aims]
    lines.append("")

# Hand-written remarks on the committed run, if any.
notes = os.path.join(results, "NOTES.md")
if os.path.exists(notes):
    lines += [open(notes).read().rstrip(), ""]

with open(output, "w") as f:
    f.write("\n".join(lines))
print(f"wrote {output}")
