# Sourced by scripts/demo and scripts/soak. The simulator's own test accounts (configs/sim.toml):
# these keys open nothing real.
export XARB_BINANCE_API_KEY=sim-binance-key-0000000000000000
export XARB_BINANCE_API_SECRET=sim-binance-secret-000000000000000
export XARB_UPBIT_ACCESS_KEY=sim-upbit-access-key-00000000000
export XARB_UPBIT_SECRET_KEY=sim-upbit-secret-key-00000000000

# Waits up to 10 s for xarb-sim to write "ready" into its log.
wait_for_sim() {
  for _ in $(seq 100); do
    grep -q ready "$1" 2>/dev/null && return 0
    sleep 0.1
  done
}
