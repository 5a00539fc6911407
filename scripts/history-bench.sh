#!/usr/bin/env bash
# Measures what run history costs and whether concurrent runs all land:
#   1. N sequential runs of a one-step playbook with --no-history, then with a
#      SQLite history (a trend check reads it every run), wall time each;
#   2. C runs started at once on one fresh SQLite file: how many landed.
# Usage: scripts/history-bench.sh [N] [C] [debug|release]   (builds that binary first; release by default)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
concurrent=${2:-16}
profile=${3:-release}
if [ "$profile" = release ]; then cargo build --release -q; else cargo build -q; fi
bin=$PWD/target/$profile/runbook
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
echo 1000 > size.txt
cat > growth.yaml <<'YAML'
name: bench growth
sections:
  - name: s
    steps:
      - id: db_size
        title: size grows slowly
        shell: { run: "cat size.txt", json: true }
        capture: { size: $.json }
        expect: ['delta_pct(prev("size"), size) < 10', 'size <= max_of("size", 30) * 1.1']
YAML
elapsed() { local start=$(date +%s%N); "$@"; echo $(( ($(date +%s%N) - start) / 1000000 )); }
sequential() { for _ in $(seq "$runs"); do "$bin" run growth.yaml "$@" >/dev/null; done; }
off=$(elapsed sequential --no-history)
on=$(elapsed sequential --history "$work/seq.db")
echo "sequential: $runs runs, --no-history ${off} ms ($((off / runs)) ms/run), SQLite history ${on} ms ($((on / runs)) ms/run)"
pids=()
for _ in $(seq "$concurrent"); do "$bin" run growth.yaml --history "$work/conc.db" >/dev/null 2>>errors.txt & pids+=($!); done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
landed=$("$bin" history "bench growth" --history "$work/conc.db" --limit 1000 --format json | grep -c '"status": "complete"')
echo "concurrent: $concurrent runs at once on a fresh file: $landed complete in the history, $failed exited non-zero, stderr lines: $(wc -l < errors.txt)"
