#!/usr/bin/env bash
# Measures the release binary against its performance targets and prints one
# line per figure: what, the median of several runs, the target.
#
#   bench/run.sh            # builds the release binary first if needed
#   RUNS=20 bench/run.sh    # more runs per figure (default 10)
#   RUNBOOK=path bench/run.sh
#
# Needs bash, python3 (standard library: the HTTP endpoint and the timer),
# curl (the comparison) and GNU time (peak memory; installed with apt-get if
# missing); node, if installed, for a second endpoint (bench/server.js). Runs
# keep no history (RUNBOOK_NO_HISTORY) except the 500-step figure, measured
# with history on (a fresh SQLite store) and off, each as the median ratio of
# paired runs against one `curl -K` process making the same 500 GETs in turn.
# Every request goes to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

RUNS=${RUNS:-10}
if [ -z "${RUNBOOK:-}" ]; then
  cargo build --release --quiet
  RUNBOOK="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/runbook"
fi
command -v curl >/dev/null || { echo "bench needs curl" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi

work=$(mktemp -d)
server_pid=""
node_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 bench/server.py "$work/port" &
server_pid=$!
for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")"

# playbook FILE PATH COUNT: COUNT http steps against $url$PATH.
playbook() {
  python3 - "$1" "$url$2" "$3" <<'EOF'
import sys
path, url, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "w") as f:
    f.write(f"name: bench {count}\nsections:\n  - name: Service\n    steps:\n")
    for i in range(count):
        f.write(f"      - id: s{i}\n        title: Endpoint answers {i}\n        http: {{ url: \"{url}\" }}\n"
                f"        capture: {{ up: $.body.uptime }}\n        expect: ['status == 200', 'up - 5000 > 0']\n")
EOF
}


# paired_ratio OURS... -- THEIRS...: runs the two in turn, prints
# "median_ours median_theirs median_of_ratios".
paired_ratio() {
  python3 - "$RUNS" "$@" <<'EOF'
import statistics, subprocess, sys, time
runs, rest = int(sys.argv[1]), sys.argv[2:]
split = rest.index("--")
ours, theirs = rest[:split], rest[split + 1:]
def timed(cmd):
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if done.returncode != 0:
        sys.exit(f"`{' '.join(cmd[:3])} ...` exited {done.returncode}")
    return (time.perf_counter() - start) * 1000
a, b = [], []
for i in range(runs + 1):
    x, y = timed(ours), timed(theirs)
    if i:
        a.append(x)
        b.append(y)
print(f"{statistics.median(a):.1f} {statistics.median(b):.1f} {statistics.median(x / y for x, y in zip(a, b)):.2f}")
EOF
}

report() { printf '%-58s %10s   target %s\n' "$1" "$2" "$3"; }

export RUNBOOK_NO_HISTORY=1
playbook "$work/slow50.yaml" /slow 50
playbook "$work/fast500.yaml" /fast 500
playbook "$work/fast1000.yaml" /fast 1000
urls=()
for _ in $(seq 1 500); do urls+=("$url/fast"); done
mkdir -p "$work/many"
for i in $(seq 1 100); do playbook "$work/many/p$i.yaml" /fast 10; done
printf 'name: tiny\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: t\n        shell: { run: "true" }\n' \
  >"$work/tiny.yaml"

echo "runbook: $RUNBOOK ($("$RUNBOOK" --version)); $RUNS runs each, medians; $(nproc) CPUs"
report "(a) 50 http steps, endpoint sleeps 200 ms" "$(median_ms "$RUNBOOK" run "$work/slow50.yaml") ms" "well under 2000 ms"
printf 'url = "%s"\noutput = /dev/null\n' "${urls[@]}" >"$work/curl500.conf"
read -r ours theirs ratio < <(paired_ratio "$RUNBOOK" run "$work/fast500.yaml" -- curl -s -K "$work/curl500.conf")
report "(b) 500 http steps, fast endpoint, history off" "$ours ms" "<= curl"
report "    curl -K, the same 500 GETs in one process" "$theirs ms" ""
report "    ratio runbook / curl, history off (median of pairs)" "$ratio" "<= 1.0"
read -r ours theirs ratio < <(RUNBOOK_NO_HISTORY='' RUNBOOK_HISTORY="$work/history.db" \
  paired_ratio "$RUNBOOK" run "$work/fast500.yaml" -- curl -s -K "$work/curl500.conf")
report "    500 http steps, history on (SQLite)" "$ours ms" "<= curl"
report "    ratio runbook / curl, history on (median of pairs)" "$ratio" "<= 1.0"
# The same 500 steps against Node's HTTP server, when node is installed.
if command -v node >/dev/null; then
  node bench/server.js "$work/node-port" &
  node_pid=$!
  for _ in $(seq 1 50); do [ -s "$work/node-port" ] && break; sleep 0.1; done
  node_url="http://127.0.0.1:$(cat "$work/node-port")"
  sed "s#$url#$node_url#" "$work/fast500.yaml" >"$work/node500.yaml"
  node_urls=()
  for _ in $(seq 1 500); do node_urls+=("$node_url/fast"); done
  median_ms "$RUNBOOK" run "$work/node500.yaml" >/dev/null # warm Node's JIT
  ours=$(median_ms "$RUNBOOK" run "$work/node500.yaml")
  theirs=$(median_ms curl -s "${node_urls[@]}")
  report "    the same against Node's http server" "$ours ms" "<= curl"
  report "    curl, the same 500 GETs to Node" "$theirs ms" ""
fi
report "(c) runbook --version" "$(median_ms "$RUNBOOK" --version) ms" "< 10 ms"
report "    runbook validate (one tiny playbook)" "$(median_ms "$RUNBOOK" validate "$work/tiny.yaml") ms" "< 10 ms"
rss=$(/usr/bin/time -f '%M' "$RUNBOOK" run "$work/fast1000.yaml" 2>&1 >/dev/null | tail -1)
report "(d) peak RSS, 1000 http steps" "$((rss / 1024)) MB" "< 30 MB"
report "(e) runbook validate, 100 playbooks" "$(median_ms "$RUNBOOK" validate "$work/many") ms" "< 100 ms"
