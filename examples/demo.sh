#!/usr/bin/env bash
# The Titan demo in one go: build runbook and the Titan simulator, start the
# simulator (healthy, on free loopback ports), run playbooks/premarket.yaml
# against it with the manual steps answered from tests/titan/answers/, write a
# signed HTML report and check its signature, then stop the simulator.
#
#   bash examples/demo.sh            # writes demo-out/premarket.html (+ .minisig)
#   DEMO_OUT=/tmp/x bash examples/demo.sh
#
# Needs Rust, PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379
# (`make services` starts them). The host-resource steps (CPU, load, disk) judge
# the machine you run it on, so a busy laptop may fail those and only those.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DEMO_OUT:-demo-out}
mkdir -p "$out"

echo "==> building runbook and the Titan simulator"
cargo build --release --quiet --bin runbook --example titan-sim
runbook=target/release/runbook

state=$(mktemp -d)
sim_pid=
cleanup() {
  if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$state"
}
trap cleanup EXIT

echo "==> starting the Titan simulator"
target/release/examples/titan-sim --port-base 0 --state-dir "$state" >"$state/vars.json" 2>"$out/titan-sim.log" &
sim_pid=$!
for _ in $(seq 1 240); do
  [ -s "$state/vars.json" ] && break
  kill -0 "$sim_pid" 2>/dev/null || { echo "the simulator stopped; see $out/titan-sim.log" >&2; exit 1; }
  sleep 0.5
done
[ -s "$state/vars.json" ] || { echo "the simulator printed no vars within 120 s" >&2; exit 1; }

# The simulator prints one flat JSON object of string values: turn it into --var arguments.
vars=()
auth=
while IFS= read -r pair; do
  name=${pair%%:*}
  value=${pair#*:}
  if [ "$name" = console_auth ]; then auth=$value; else vars+=(--var "$name=$value"); fi
done < <(tr -d '{}"\n' <"$state/vars.json" | tr ',' '\n')

echo "==> running playbooks/premarket.yaml"
status=0
mkdir -p "$out/keys"
[ -f "$out/keys/runbook.key" ] || "$runbook" keygen --out "$out/keys" >/dev/null
TITAN_CONSOLE_AUTH=$auth "$runbook" run playbooks/premarket.yaml "${vars[@]}" --yes \
  --history "$out/history.db" --answers tests/titan/answers/premarket.yaml --operator "demo operator" \
  --report "$out/premarket.html" --sign "$out/keys/runbook.key" || status=$?
"$runbook" verify "$out/premarket.html" --pubkey "$out/keys/runbook.pub"
echo "==> report: $out/premarket.html (signature $out/premarket.html.minisig, public key $out/keys/runbook.pub)"
echo "==> runbook exited $status (0: every step passed; 1: a step failed, see above)"
