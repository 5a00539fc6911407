# Shared by the bench scripts: `source bench/lib.sh`.

# median_ms CMD...: the median wall time of $RUNS runs (after one warm-up), in ms. A run
# must exit with one of $MEDIAN_OK (default 0; a check that may fail sets "0 1").
median_ms() {
  python3 - "$RUNS" "${MEDIAN_OK:-0}" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, ok, cmd = int(sys.argv[1]), {int(c) for c in sys.argv[2].split()}, sys.argv[3:]
times = []
for i in range(runs + 1):
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode not in ok:
        sys.exit(f"`{' '.join(cmd[:3])} ...` exited {done.returncode}: {done.stderr.decode()[-500:]}")
    if i:
        times.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(times):.1f}")
PY
}

# once_ms CMD...: the wall time of one run, in ms (for what only the first run pays).
once_ms() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
if done.returncode != 0:
    sys.exit(f"`{' '.join(sys.argv[1:4])} ...` exited {done.returncode}: {done.stderr.decode()[-500:]}")
print(f"{(time.perf_counter() - start) * 1000:.1f}")
PY
}
