#!/usr/bin/env python3
"""Checks what a real Prometheus collected from a running xarb (tests/monitoring/run starts both).

While the engine runs:
  * `promtool check metrics` finds nothing to say about the engine's live /metrics;
  * every sample is a number Prometheus reads, and money (the *_krw series, balances, dust) is
    plain decimal text, never exponent notation or a float's binary noise;
  * Prometheus scrapes the target (up == 1) and holds the series the engine serves;
  * every metric that docs/monitoring's dashboard and alert rules name exists in the scrape, and
    every dashboard query evaluates without error (most with data);
  * the alert rules are loaded and evaluate without error, and a healthy run fires none of them.
Then `xarb ctl` drives the engine (see control_checks): every command, its answer, its effect,
and `kill` ends the run. After it exits: report.json carries money as decimal strings, and events.jsonl (the structured
log) holds the run's start and end, its intents, execution reports and positions, one JSON object
per line.
"""
import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request

failures = []


# Money as exact decimal text: never a binary float, never an exponent.
money = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)
    return ok


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def query(prom, expr):
    url = f"http://{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        return json.loads(get(url))
    except urllib.error.HTTPError as e:
        return json.loads(e.read().decode())


def engine_running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def metric_names(exprs):
    names = set()
    for e in exprs:
        names.update(re.findall(r"\b(xarb_[a-z0-9_]+)", e))
    return names


def rule_exprs(path):
    # alerts.yml without a YAML library: each rule's `expr:` is on one line.
    return [line.split("expr:", 1)[1].strip() for line in open(path) if line.strip().startswith("expr:")]


def ctl(a, *words):
    r = subprocess.run([a.xarb, "ctl", "--socket", a.socket, *words], capture_output=True,
                       text=True, timeout=30)
    try:
        answer = json.loads(r.stdout)
    except ValueError:
        answer = {"ok": False, "error": r.stdout + r.stderr}
    return r.returncode, answer


def control_checks(a):
    """`xarb ctl` against the running engine: every command, its answer and its effect."""
    mode = os.stat(a.socket).st_mode & 0o777
    check(mode == 0o600, f"the control socket is mode 0600: {oct(mode)}")
    rc, st = ctl(a, "status")
    check(rc == 0 and st["ok"] and st["state"]["risk_mode"] == "normal"
          and st["state"]["paused"] is False and "upbit" in st["state"]["venues"],
          f"ctl status: rc {rc}, risk {st.get('state', {}).get('risk_mode')}")
    rc, inv = ctl(a, "inventory")
    assets = inv.get("state", {}).get("inventory", {}).get("assets", [])
    rooms = inv.get("state", {}).get("inventory", {}).get("headroom", [])
    check(rc == 0 and {(x["venue"], x["asset"]) for x in assets} >= {("upbit", "KRW"), ("binance", "USDT"), ("upbit", "BTC")}
          and all(money.match(x[k]) for x in assets for k in ("held", "locked", "expected", "difference", "floor"))
          and any(r["known"] and r["bound_by"] for r in rooms),
          f"ctl inventory: {len(assets)} assets, {len(rooms)} headroom rows, exact text")
    r = subprocess.run([a.xarb, "inventory", "--socket", a.socket], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode == 0 and "from the engine running on" in r.stdout and "bound by" in r.stdout,
          f"xarb inventory asks the running engine: rc {r.returncode} {r.stdout[:80]!r}")
    rc, bad = ctl(a, "set", "strategy.entry_bps=0")
    check(rc == 1 and not bad["ok"]
          and bad["error"] == "strategy.entry_bps: must be greater than 0 and at most 10000, got 0",
          f"ctl set refuses a value the config refuses: rc {rc}, {bad.get('error')}")
    rc, fixed = ctl(a, "set", "strategy.clips=3")
    check(rc == 1 and "cannot be changed while the engine runs" in fixed.get("error", ""),
          f"ctl set refuses what is not safe to change live: {fixed.get('error', '')[:80]}")
    rc, ok = ctl(a, "set", "risk.max_notional_krw=15000000")
    check(rc == 0 and ok["effect"] == "risk.max_notional_krw: 20000000 -> 15000000"
          and ok["state"]["settings"]["risk"]["max_notional_krw"] == 15000000,
          f"ctl set changes a limit and answers the new state: {ok.get('effect')}")
    rc, pref = ctl(a, "set", "inventory.prefer_bps=7.5")
    check(rc == 0 and pref["effect"] == "inventory.prefer_bps: 0.0 -> 7.5"
          and pref["state"]["settings"]["inventory"]["prefer_bps"] == 7.5,
          f"ctl set changes the inventory preference live: {pref.get('effect') or pref.get('error')}")
    rc, p = ctl(a, "pause")
    entries = p["state"]["entries"]
    check(rc == 0 and p["state"]["paused"] is True, f"ctl pause: paused {p['state']['paused']}")
    time.sleep(3)
    rc, later = ctl(a, "status")
    check(later["state"]["entries"] == entries,
          f"no entry while paused: {entries} before, {later['state']['entries']} 3 s later")
    rc, unknown = ctl(a, "flatten", "DOGE")
    check(rc == 1 and unknown["error"] == 'unknown symbol "DOGE"; traded: BTC ETH',
          f"ctl flatten names the symbols traded: {unknown.get('error')}")
    rc, flat = ctl(a, "flatten", "BTC")
    check(rc == 0 and flat["ok"], f"ctl flatten BTC: {flat.get('effect')}")
    rc, cr = ctl(a, "clear-reducing")
    check(rc == 1 and cr["error"] == "the engine is not REDUCING (it is normal)",
          f"ctl clear-reducing when not REDUCING: {cr.get('error')}")
    rc, res = ctl(a, "resume")
    check(rc == 0 and res["state"]["paused"] is False, "ctl resume")
    rc, k = ctl(a, "kill")
    check(rc == 0 and k["state"]["stopping"] is True,
          f"ctl kill: {k.get('effect')}, stopping {k.get('state', {}).get('stopping')}")
    started = time.time()
    while engine_running(a.engine_pid) and time.time() - started < 40:
        time.sleep(0.2)
    check(not engine_running(a.engine_pid),
          f"the run ended {time.time() - started:.1f} s after ctl kill")
    rc, gone = ctl(a, "status")
    check(rc == 3 and not os.path.exists(a.socket), "once the run ended nothing answers, no socket")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--engine-pid", type=int, required=True)
    ap.add_argument("--seconds", type=int, required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--dashboard", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--webhook", required=True)
    ap.add_argument("--journal", required=True)
    ap.add_argument("--xarb", required=True)
    ap.add_argument("--socket", required=True)
    a = ap.parse_args()
    prom = a.prometheus

    # Wait for Prometheus to be ready and the engine to have published a few times.
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if "Ready" in get(f"http://{prom}/-/ready", timeout=1):
                break
        except Exception:
            pass
        time.sleep(0.5)
    # Let it scrape for most of the run (at least 10 scrapes), while the engine trades.
    time.sleep(max(12, a.seconds // 2))
    if not check(engine_running(a.engine_pid), "the engine is still running for the live checks"):
        return

    text = get(f"http://{a.metrics}/metrics")
    lint = subprocess.run(["promtool", "check", "metrics"], input=text,
                          capture_output=True, text=True)
    check(lint.returncode == 0 and lint.stdout.strip() == "" and lint.stderr.strip() == "",
          f"promtool check metrics on the live /metrics ({len(text.splitlines())} lines): "
          f"rc {lint.returncode} {lint.stdout.strip()} {lint.stderr.strip()}")

    bad_numbers, bad_money, money_samples = [], [], 0
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        try:
            float(value)
        except ValueError:
            bad_numbers.append(line)
        name = series.split("{", 1)[0]
        if name.endswith("_krw") or name.startswith(("xarb_balance_", "xarb_dust")):
            money_samples += 1
            if name != "xarb_balance_unexplained" and not money.match(value):
                bad_money.append(line)
    check(not bad_numbers, f"every sample value is a number: {bad_numbers[:3]}")
    check(money_samples > 0 and not bad_money,
          f"money is plain decimal text ({money_samples} samples): {bad_money[:3]}")

    up = query(prom, 'up{job="xarb"}')
    check(up["status"] == "success" and [r["value"][1] for r in up["data"]["result"]] == ["1"],
          f"Prometheus scrapes the engine (up == 1): {up['data']}")
    scraped = query(prom, 'count by (__name__) ({__name__=~"xarb_.+"})')
    present = {r["metric"]["__name__"] for r in scraped["data"]["result"]}
    served = {line.split(" ")[0].split("{")[0] for line in text.splitlines()
              if line and not line.startswith("#")}
    check(len(present) >= 40 and served <= present,
          f"Prometheus holds the {len(served)} metrics the engine serves ({len(present)} stored); "
          f"missing: {sorted(served - present)[:5]}")

    dashboard = json.load(open(a.dashboard))
    targets = [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = rule_exprs(a.rules)
    named = metric_names([e for _, e in targets] + rules)
    # Prometheus' own series (up) aside, each name must be one the engine serves.
    missing = sorted(n for n in named if n not in present)
    check(not missing, f"the dashboard and the rules name {len(named)} metrics, all scraped: missing {missing}")

    errors, empty = [], []
    for title, expr in targets:
        r = query(prom, expr)
        if r.get("status") != "success":
            errors.append(f"{title}: {r.get('error')}")
        elif not r["data"]["result"]:
            empty.append(title)
    check(not errors, f"every one of the dashboard's {len(targets)} queries evaluates: {errors}")
    # Some panels show what a healthy run has none of (drops, errors, broken positions: their
    # increase() is 0 and present; the engine's unexplained balances are 0 and present). Every
    # query should return series.
    check(not empty, f"every dashboard query returns data: empty {empty}")

    rules_api = json.loads(get(f"http://{prom}/api/v1/rules"))
    loaded = [r for g in rules_api["data"]["groups"] for r in g["rules"]]
    bad = [(r["name"], r.get("lastError")) for r in loaded if r.get("health") != "ok"]
    check(len(loaded) == len(rules) and not bad,
          f"the {len(rules)} alert rules are loaded and evaluate cleanly: {bad}")
    firing = query(prom, 'ALERTS{alertstate="firing"}')["data"]["result"]
    check(not firing, f"a healthy run fires no alert: {[r['metric'].get('alertname') for r in firing]}")
    normal = query(prom, 'xarb_risk_mode{mode="normal"}')["data"]["result"]
    check([r["value"][1] for r in normal] == ["1"], "the risk mode series says normal")
    frames = query(prom, "sum(rate(xarb_frames_total[10s]))")["data"]["result"]
    check(frames and float(frames[0]["value"][1]) > 0, f"market data flows: {frames}")

    control_checks(a)

    # The run ends (`xarb ctl kill`, or its duration); report.json then carries money as strings.
    deadline = time.time() + a.seconds + 60
    while engine_running(a.engine_pid) and time.time() < deadline:
        time.sleep(0.5)
    check(not engine_running(a.engine_pid), "the engine finished its run")
    try:
        report = json.load(open(a.report))
    except (FileNotFoundError, json.JSONDecodeError) as e:
        check(False, f"report.json: {e}")
        return
    # The structured log beside it: every line JSON, the run's start and end, its trades.
    events_path = os.path.join(os.path.dirname(a.report), "events.jsonl")
    try:
        lines = [json.loads(line) for line in open(events_path)]
    except (OSError, json.JSONDecodeError) as e:
        lines = []
        check(False, f"events.jsonl: {e}")
    kinds = {}
    for line in lines:
        kinds[line.get("event")] = kinds.get(line.get("event"), 0) + 1
    notices = [line["kind"] for line in lines if line.get("event") == "notice"]
    check(lines and lines[0]["event"] == "run_started" and lines[-1]["event"] == "run_stopped"
          and notices[:1] == ["started"] and "stopped" in notices
          and kinds.get("intent", 0) >= 1 and kinds.get("exec_report", 0) >= 1
          and kinds.get("position", 0) >= 1 and all("ts" in line for line in lines),
          f"events.jsonl: {len(lines)} JSON lines, {kinds}, notices {notices}")
    check(notices[0] == "started" and notices[-1] == "stopped"
          and set(notices[1:-1]) == {"control"} and len(notices) == 12,
          f"a healthy run tells its start, the 10 ctl commands that asked for a change and its "
          f"end, nothing else: {notices}")
    # The alerts: the webhook got the start and the end, and the journal says they were sent.
    try:
        hooks = [json.loads(line) for line in open(a.webhook)]
    except OSError:
        hooks = []
    kinds_sent = [h["kind"] for h in hooks]
    check(kinds_sent[:1] == ["started"] and kinds_sent[-1:] == ["stopped"]
          and "control" in kinds_sent
          and all(h["source"] == "xarb" and h["run"] == lines[0]["run"] for h in hooks),
          f"the alert webhook got the run's start, the operator's commands and its end: "
          f"{kinds_sent}")
    db = sqlite3.connect(a.journal)
    rows = db.execute("SELECT channel, kind, sent, attempts FROM alerts WHERE run_id=?",
                      (lines[0]["run"],)).fetchall()
    check(len(rows) == len(hooks) and all(r[2] == 1 and r[3] == 1 for r in rows),
          f"the journal records each alert as sent: {rows}")
    controls = db.execute("SELECT command, ok FROM controls WHERE run_id=? ORDER BY id",
                          (lines[0]["run"],)).fetchall()
    check(controls == [("set strategy.entry_bps=0", 0), ("set strategy.clips=3", 0),
                       ("set risk.max_notional_krw=15000000", 1),
                       ("set inventory.prefer_bps=7.5", 1), ("pause", 1),
                       ("flatten DOGE", 0), ("flatten BTC", 1), ("clear-reducing", 0),
                       ("resume", 1), ("kill", 1)],
          f"the journal holds every command that asked for a change, and whether it was done: "
          f"{controls}")
    check(report["open_positions"] == 0, f"kill closed every position: {report['open_positions']} open")
    legs = [leg for line in lines if line.get("event") == "exec_report" for leg in line["legs"]]
    check(legs and all(isinstance(leg["filled_qty"], str) and money.match(leg["avg_price"])
                       for leg in legs),
          f"events.jsonl: the {len(legs)} legs carry quantities and prices as exact text")

    r = subprocess.run([a.xarb, "inventory", "--report-dir", os.path.dirname(a.report)],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and "report.json (no engine answered" in r.stdout
          and "rebalance plan" in r.stdout,
          f"xarb inventory reads report.json once the run has ended: rc {r.returncode} {r.stderr[:80]!r}")
    strings = [report["realized_pnl_krw"], report["unrealized_pnl_krw"]]
    strings += [p["realized_pnl_krw"] for p in report["pairs"]]
    strings += [b[k] for b in report["balances"] for k in ("held", "expected", "difference")]
    check(all(isinstance(s, str) and money.match(s) for s in strings),
          f"report.json money is exact decimal text ({len(strings)} values, realised "
          f"{report['realized_pnl_krw']} KRW over {report['closed']} closed positions)")


if __name__ == "__main__":
    main()
    if failures:
        print(f"monitoring: {len(failures)} checks failed", file=sys.stderr)
        sys.exit(1)
    print("monitoring: every check passed")
