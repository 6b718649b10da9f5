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
    times = {}
    for base, b in rows.items():
        times[base] = to_ns(b["real_time"], b["time_unit"])
    for base, b in rows.items():
        t = times[base]
        rate = ""
        for key in ("msgs/s", "updates/s", "items_per_second", "orders/s"):
            if key in b:
                rate = f"{b[key] / 1e6:.2f} M/s" if b[key] >= 1e6 else f"{b[key] / 1e3:.1f} k/s"
                break
        if "ns/hop" in b:
            rate = f"{b['ns/hop']:.0f} ns/hop"
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
    lines.append("")

with open(output, "w") as f:
    f.write("\n".join(lines))
print(f"wrote {output}")
