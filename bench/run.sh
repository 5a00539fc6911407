#!/usr/bin/env bash
# Measures the release binary against its performance targets and prints one
# line per figure: what, the median of several runs, the target.
#
#   bench/run.sh            # builds the release binary first if needed
#   RUNS=20 bench/run.sh    # more runs per figure (default 10)
#   RUNBOOK=path bench/run.sh
#
# Needs bash, python3 (standard library: the HTTP endpoint and the timer),
# curl (the comparison), nginx and GNU time (the 500-step endpoint and peak
# memory; installed with apt-get if missing); node, if installed, for another
# endpoint (bench/server.js). Runs keep no history (RUNBOOK_NO_HISTORY) except
# the 500-step figure, measured against nginx and the Python endpoint with
# history on (a fresh SQLite store) and off, each as the median ratio of
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
nginx_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
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
mkdir -p "$work/many"
for i in $(seq 1 100); do playbook "$work/many/p$i.yaml" /fast 10; done
printf 'name: tiny\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: t\n        shell: { run: "true" }\n' \
  >"$work/tiny.yaml"

echo "runbook: $RUNBOOK ($("$RUNBOOK" --version)); $RUNS runs each, medians; $(nproc) CPUs"
report "(a) 50 http steps, endpoint sleeps 200 ms" "$(median_ms "$RUNBOOK" run "$work/slow50.yaml") ms" "well under 2000 ms"
# versus_curl NAME URL: the 500 steps against URL/fast beside one `curl -K` process making
# the same 500 GETs in turn, history off and on (a fresh SQLite store), as paired ratios.
versus_curl() {
  local name=$1 base=$2 ours theirs ratio
  sed "s#$url/fast#$base/fast#" "$work/fast500.yaml" >"$work/$name.yaml"
  for _ in $(seq 1 500); do printf 'url = "%s/fast"\noutput = /dev/null\n' "$base"; done >"$work/$name.conf"
  read -r ours theirs ratio < <(paired_ratio "$RUNBOOK" run "$work/$name.yaml" -- curl -s -K "$work/$name.conf")
  report "    $name: 500 http steps, history off" "$ours ms" "<= curl"
  report "    $name: curl -K, the same 500 GETs in one process" "$theirs ms" ""
  report "    $name: ratio runbook / curl, history off (median of pairs)" "$ratio" "<= 1.0"
  rm -f "$work/history.db"*
  read -r ours theirs ratio < <(RUNBOOK_NO_HISTORY='' RUNBOOK_HISTORY="$work/history.db" \
    paired_ratio "$RUNBOOK" run "$work/$name.yaml" -- curl -s -K "$work/$name.conf")
  report "    $name: 500 http steps, history on (SQLite)" "$ours ms" "<= curl"
  report "    $name: ratio runbook / curl, history on (median of pairs)" "$ratio" "<= 1.0"
}
report "(b) 500 http steps, fast endpoint, against one curl -K" "" ""
# nginx first, as in the issue that set the target: its own cost per request is small, so
# the figure compares the two clients. Installed if missing; one process, on a free port.
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off; master_process off; worker_processes 1; pid $work/nginx/pid; error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off; keepalive_requests 100000;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    location /fast { default_type application/json; return 200 '{"status": "ok", "uptime": 12345.5}'; }
  }
}
EOF
PATH="$PATH:/usr/sbin" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx/" 2>/dev/null &
nginx_pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$nginx_port/fast" >/dev/null && break; sleep 0.1; done
versus_curl nginx "http://127.0.0.1:$nginx_port"
# The Python endpoint: a thread per connection, so its own cost per request weighs in too.
versus_curl python "$url"
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
