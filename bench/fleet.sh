#!/usr/bin/env bash
# The fleet view at scale: 200 hosts' records of a 100-step playbook in
# PostgreSQL, then `runbook fleet` in text and JSON; prints the median wall
# time of each (target: under 1 s).
#
#   bench/fleet.sh                 # builds the release binary first if needed
#   RUNS=10 RUNBOOK=path bench/fleet.sh
#
# Needs psql and PostgreSQL on 127.0.0.1:5432 (user postgres, trust), python3.
# The records are made fast: one real run, copied 200 times under other host
# names with SQL, as 200 machines writing one run each would leave them.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

RUNS=${RUNS:-5}
HOSTS=${HOSTS:-200}
STEPS=${STEPS:-100}
if [ -z "${RUNBOOK:-}" ]; then
  cargo build --release --quiet
  RUNBOOK="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/runbook"
fi
db="runbook_fleet_bench_$$"
url="postgres://postgres@127.0.0.1:5432/$db"
work=$(mktemp -d)
cleanup() {
  psql -qw -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql -qw -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null

python3 - "$work/fleet.yaml" "$STEPS" <<'PY'
import sys
path, steps = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("name: fleet bench\nsections:\n  - name: Host\n    steps:\n")
    for i in range(steps):
        f.write(f"      - id: s{i}\n        title: Check {i}\n        shell: {{ run: 'echo {i}' }}\n"
                f"        capture: {{ n: $.stdout }}\n        expect: ['n != \"\"']\n")
PY
"$RUNBOOK" run "$work/fleet.yaml" --history "$url" --host host-0 --jobs 32 >/dev/null
psql -qw -h 127.0.0.1 -U postgres -d "$db" <<SQL
INSERT INTO runs (playbook, file, host, operator, status, verdict, started_at, finished_at, counts, record, run_group, signature)
SELECT playbook, file, 'host-' || g, operator, status, verdict, started_at + g, finished_at + g, counts, record, run_group, signature
FROM runs, generate_series(1, $HOSTS - 1) AS g WHERE host = 'host-0';
SQL
seq 0 $((HOSTS - 1)) | sed 's/^/host-/' > "$work/hosts.txt"


for format in text json; do
  ms=$(median_ms "$RUNBOOK" fleet "$work/fleet.yaml" --history "$url" --expect-hosts "$work/hosts.txt" --format "$format")
  echo "fleet view, $HOSTS hosts x $STEPS steps, PostgreSQL, $format: $ms ms (target < 1000 ms)"
done
