#!/usr/bin/env bash
# History at scale: a 500-step playbook whose every step has trend checks
# (prev, avg over 10 runs, prev 24h), run against history stores holding 0,
# 100k and 1M earlier values, on SQLite and on PostgreSQL; then
# `runbook history --stats` over the 1M-value store. Prints medians and the
# ratio large/empty (target <= 1.1), the first --stats (which catches the
# rollups up on the imported runs) and the stats time after it (target < 100 ms).
#
#   bench/history.sh                 # builds the release binary first if needed
#   RUNS=5 STORES=sqlite bench/history.sh
#   RUNBOOK=path PG=postgres://postgres@127.0.0.1:5432 bench/history.sh
#
# The large stores are generated in SQL (a recursive CTE on SQLite,
# generate_series on PostgreSQL): 500 values a run, runs an hour apart.
# Needs python3, sqlite3 and psql. Every request goes to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
# A trend check may fail on generated data; the time is what counts.
MEDIAN_OK="0 1"

RUNS=${RUNS:-7}
STORES=${STORES:-"sqlite postgres"}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
if [ -z "${RUNBOOK:-}" ]; then
  cargo build --release --quiet
  RUNBOOK="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/runbook"
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  # store() runs in a command substitution (a subshell), so the names are rebuilt here, not collected.
  for values in 0 100000 1000000; do
    db="runbook_bench_$$_$values"
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

python3 bench/server.py "$work/port" &
server_pid=$!
for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")/fast"

python3 - "$work/trend.yaml" "$url" <<'EOF2'
import sys
path, url = sys.argv[1], sys.argv[2]
with open(path, "w") as f:
    f.write("name: history bench\nsections:\n  - name: Service\n    steps:\n")
    for i in range(500):
        f.write(f"      - id: s{i}\n        title: Endpoint {i}\n        http: {{ url: \"{url}\" }}\n"
                f"        capture: {{ up: $.body.uptime }}\n"
                "        expect: ['status == 200', 'up >= prev(\"up\")', 'up < avg(\"up\", 10) * 2',"
                " 'up >= prev(\"up\", \"24h\")']\n")
EOF2

# The SQL that adds RUNS_N earlier runs of 500 values each, an hour apart, ending an hour ago.
# In run order, as runs write them (each run its values in one statement): without ORDER BY,
# SQLite generated them step by step, spreading each run's values over the whole table.
fill_sql() {
  local runs=$1 series_runs series_steps
  if [ "$2" = sqlite ]; then
    series_runs="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $runs) SELECT i FROM n"
    series_steps="WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 499) SELECT j FROM k"
  else
    series_runs="SELECT generate_series(1, $runs)::bigint AS i"
    series_steps="SELECT generate_series(0, 499) AS j"
  fi
  local now_ms
  now_ms=$(python3 -c 'import time; print(int(time.time() * 1000))')
  cat <<SQL
INSERT INTO runs (playbook, file, host, status, verdict, started_at, finished_at, counts, record, lookback_runs, lookback_ms)
  SELECT 'history bench', 'trend.yaml', 'bench', 'complete', 'pass', $now_ms - i * 3600000, $now_ms - i * 3600000 + 500,
         '{}', '{}', 10, 86400000 FROM ($series_runs) n;
INSERT INTO run_values (run_id, playbook, step_id, name, value, num, at)
  SELECT r.id, r.playbook, 's' || k.j, 'up', '12345.5', 12345.5 + (r.id % 7), r.started_at
  FROM runs r, ($series_steps) k WHERE r.host = 'bench' ORDER BY r.id, k.j;
INSERT INTO run_steps (run_id, playbook, step_id, verdict, at)
  SELECT r.id, r.playbook, 's' || k.j, CASE WHEN (r.id + k.j) % 50 = 0 THEN 'fail' ELSE 'pass' END, r.started_at
  FROM runs r, ($series_steps) k WHERE r.host = 'bench' ORDER BY r.id, k.j;
SQL
}

# store KIND VALUES: the --history location of a fresh store holding VALUES earlier values.
store() {
  local kind=$1 values=$2 location
  if [ "$kind" = sqlite ]; then
    location="$work/h$values.db"
  else
    local db="runbook_bench_$$_$values"
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
    location="$PG/$db"
  fi
  # The schema: runbook creates it (`history` on an absent SQLite file creates nothing, a run does).
  printf 'name: schema\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: t\n        shell: { run: "true" }\n' >"$work/schema.yaml"
  "$RUNBOOK" run "$work/schema.yaml" --history "$location" >/dev/null
  if [ "$values" -gt 0 ]; then
    if [ "$kind" = sqlite ]; then
      fill_sql $((values / 500)) sqlite | sqlite3 -bail "$location"
      sqlite3 "$location" 'ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
    else
      fill_sql $((values / 500)) postgres | psql -q -v ON_ERROR_STOP=1 "$location" >/dev/null
      # A store filled over months is vacuumed and checkpointed; one filled in seconds is not,
      # and autovacuum and the checkpointer would work through it during the timed runs.
      psql -q "$location" -c 'VACUUM ANALYZE' -c 'CHECKPOINT' >/dev/null
    fi
  fi
  echo "$location"
}


report() { printf '%-62s %10s   %s\n' "$1" "$2" "$3"; }

# interleaved_ms LOCATION...: runs the trend playbook against each store in turn, RUNS
# rounds after one warm-up round, and prints each store's median in ms (in order).
# Taking turns keeps a machine's drift (other work, the kernel writing back the fills)
# out of the ratios.
interleaved_ms() {
  python3 - "$RUNS" "$RUNBOOK" "$work/trend.yaml" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, runbook, playbook, stores = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
times = {s: [] for s in stores}
for i in range(runs + 1):
    for store in stores:
        start = time.perf_counter()
        done = subprocess.run([runbook, "run", playbook, "--history", store], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode not in (0, 1):  # a trend check may fail on generated data
            sys.exit(f"runbook run against {store} exited {done.returncode}: {done.stderr.decode()[-500:]}")
        if i:
            times[store].append((time.perf_counter() - start) * 1000)
print(" ".join(f"{statistics.median(times[s]):.1f}" for s in stores))
PY
}

echo "runbook: $RUNBOOK ($("$RUNBOOK" --version)); $RUNS runs each, medians; $(nproc) CPUs"
for kind in $STORES; do
  empty=$(store "$kind" 0)
  mid=$(store "$kind" 100000)
  big=$(store "$kind" 1000000)
  sync # the fills' writes reach the disk before anything is timed
  read -r t0 t1 t2 < <(interleaved_ms "$empty" "$mid" "$big")
  report "$kind: 500 trend steps, store of 0 values" "$t0 ms" ""
  report "$kind: 500 trend steps, store of 100000 values" "$t1 ms" ""
  report "$kind: 500 trend steps, store of 1000000 values" "$t2 ms" ""
  report "$kind: ratio 100000 / empty" "$(python3 -c "print(f'{$t1 / $t0:.2f}')")" "target <= 1.1"
  report "$kind: ratio 1000000 / empty" "$(python3 -c "print(f'{$t2 / $t0:.2f}')")" "target <= 1.1"
  # The rollups are caught up by the first --stats after the bulk SQL fill (a run pays nothing for them).
  report "$kind: first --stats after importing 1M values (catch-up)" \
    "$(once_ms "$RUNBOOK" history "history bench" --stats --history "$big") ms" "once"
  report "$kind: history --stats, 1M values, --window 7d" \
    "$(median_ms "$RUNBOOK" history "history bench" --stats --history "$big") ms" "target < 100 ms"
  report "$kind: history --stats, 1M values, all of them (--window 3650d)" \
    "$(median_ms "$RUNBOOK" history "history bench" --stats --window 3650d --history "$big") ms" "target < 100 ms"
done
