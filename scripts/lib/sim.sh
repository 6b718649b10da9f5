# Sourced by scripts/demo, scripts/soak, scripts/loopback-latency and tests/thirdparty/run. The simulator's own test accounts (configs/sim.toml):
# these keys open nothing real.
export XARB_BINANCE_API_KEY=sim-binance-key-0000000000000000
export XARB_BINANCE_API_SECRET=sim-binance-secret-000000000000000
export XARB_UPBIT_ACCESS_KEY=sim-upbit-access-key-00000000000
export XARB_UPBIT_SECRET_KEY=sim-upbit-secret-key-00000000000
export XARB_BITHUMB_ACCESS_KEY=sim-bithumb-access-key-000000000
export XARB_BITHUMB_SECRET_KEY=sim-bithumb-secret-key-000000000

# Prints N free TCP ports on 127.0.0.1, space-separated (for the simulator and /metrics).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
EOF
}

# Waits up to 10 s for xarb-sim to write "ready" into its log.
wait_for_sim() {
  for _ in $(seq 100); do
    grep -q ready "$1" 2>/dev/null && return 0
    sleep 0.1
  done
}
