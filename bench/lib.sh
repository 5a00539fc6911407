# Shared by the bench scripts: `source bench/lib.sh`.

# median_ms CMD...: the median wall time of $RUNS runs (after one warm-up), in ms.
median_ms() {
  python3 - "$RUNS" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for i in range(runs + 1):
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if done.returncode not in (0,):
        sys.exit(f"`{' '.join(cmd[:3])} ...` exited {done.returncode}")
    if i:
        times.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(times):.1f}")
PY
}
