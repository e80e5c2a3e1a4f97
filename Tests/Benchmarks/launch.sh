#!/usr/bin/env bash
# Launch latency of `pit run` on /bin/true against plain /bin/true, unshare(1) and bubblewrap, same run,
# plus the peak RSS of each launcher. Prints a table; asserts nothing. The last two rows are the same jails
# started from a process that is already running (launch-bench: Launcher.run in a loop), which is how
# `pit supervise` starts its services: the jail's own cost without Pit's process start and option parsing.
#   bash Tests/Benchmarks/launch.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-300}
bash image/install-deps --bench >/dev/null
swift build -c release -Xswiftc -static-executable --product pit --scratch-path .build-static >/dev/null
swift build -c release -Xswiftc -static-executable --product launch-bench --scratch-path .build-static >/dev/null
pit=$PWD/.build-static/release/pit
policy=policies/bench-90.policy
out=$(mktemp -d)

# Comparable isolation for each launcher: new mount, PID and IPC namespaces, a tmpfs root with /usr read-only
# and the merged-/usr symlinks, /proc, a minimal /dev, all capabilities dropped, a new session.
links=()
for d in bin sbin lib lib64; do [ -L /$d ] && links+=(--symlink "$(readlink /$d)" /$d); done
bwrap_cmd="bwrap --unshare-pid --unshare-ipc --unshare-cgroup --ro-bind /usr /usr ${links[*]} --proc /proc --dev /dev --cap-drop ALL --new-session --die-with-parent /bin/true"
pit_cmd="$pit run --user 65534 --policy $policy -- /bin/true"
pit_nopolicy_cmd="$pit run --user 65534 -- /bin/true"

# This VM's speed drifts by tens of percent over seconds (other guests): the runs are split into rounds that
# each measure every launcher in turn, and the figures are over all rounds, so no launcher gets a quiet or a
# busy stretch to itself.
rounds=5
per_round=$(( (runs + rounds - 1) / rounds ))
: > "$out/inproc-nopolicy.txt"; : > "$out/inproc-policy.txt"
for round in $(seq $rounds); do
  hyperfine -N --warmup 10 --runs "$per_round" --export-json "$out/h$round.json" \
    -n true /bin/true \
    -n "unshare -mpf --mount-proc" "unshare -mpf --mount-proc /bin/true" \
    -n bubblewrap "$bwrap_cmd" \
    -n "pit run (no policy)" "$pit_nopolicy_cmd" \
    -n "pit run (90-syscall policy)" "$pit_cmd" >/dev/null
  # In-process launches in the same round (same machine state): one launch time per line, in microseconds.
  "$PWD/.build-static/release/launch-bench" "$per_round" >> "$out/inproc-nopolicy.txt"
  "$PWD/.build-static/release/launch-bench" "$per_round" "$policy" >> "$out/inproc-policy.txt"
done

rss() {  # peak RSS in KiB over 20 runs (the largest seen)
  local max=0
  for _ in $(seq 20); do
    local v; v=$( { /usr/bin/time -f %M "$@" >/dev/null; } 2>&1 | tail -1 )
    [ "$v" -gt "$max" ] && max=$v
  done
  echo "$max"
}
{
  echo "true $(rss /bin/true)"
  echo "unshare -mpf --mount-proc $(rss unshare -mpf --mount-proc /bin/true)"
  echo "bubblewrap $(rss $bwrap_cmd)"
  echo "pit run (no policy) $(rss $pit_nopolicy_cmd)"
  echo "pit run (90-syscall policy) $(rss $pit_cmd)"
} > "$out/rss.txt"

python3 - "$out" "$out/rss.txt" "$(stat -c %s "$pit")" "$out/inproc-nopolicy.txt" "$out/inproc-policy.txt" <<'PY'
import glob, json, statistics, sys
times = {}
for path in sorted(glob.glob(sys.argv[1] + "/h*.json")):
    for r in json.load(open(path))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
for name, path in (("pit, in-process (no policy)", sys.argv[4]), ("pit, in-process (90-syscall)", sys.argv[5])):
    times[name] = [float(v) / 1e6 for v in open(path).read().split()]
results = [{"command": name, "mean": statistics.mean(t), "stddev": statistics.pstdev(t), "min": min(t), "max": max(t)}
           for name, t in times.items()]
rss = {}
for line in open(sys.argv[2]):
    name, value = line.rsplit(" ", 1)
    rss[name] = int(value)
bwrap = next(r["mean"] for r in results if r["command"] == "bubblewrap")
print(f"{'launcher':30} {'mean ms':>8} {'± σ':>7} {'min':>7} {'max':>7} {'x bwrap':>8} {'peak RSS':>9}")
for r in results:
    name = r["command"]
    print(f"{name:30} {r['mean']*1e3:8.2f} {r['stddev']*1e3:7.2f} {r['min']*1e3:7.2f} {r['max']*1e3:7.2f} "
          f"{r['mean']/bwrap:8.2f} " + (f"{rss[name]/1024:7.1f} MB" if name in rss else f"{'-':>10}"))
print(f"pit static executable: {int(sys.argv[3])/1e6:.1f} MB (not stripped)")
PY
rm -rf "$out"
