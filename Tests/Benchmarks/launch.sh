#!/usr/bin/env bash
# Launch latency of `pit run` on /bin/true against plain /bin/true, unshare(1), bubblewrap and NsJail (when
# installed: Tests/Benchmarks/build-nsjail.sh), same run, plus the peak RSS of each launcher. Prints a table; asserts nothing. The last two rows are the same jails
# started from a process that is already running (launch-bench: Launcher.run in a loop), which is how
# `pit supervise` starts its services: the jail's own cost without Pit's process start and option parsing.
#   bash Tests/Benchmarks/launch.sh [RUNS]
#   PIT_BEFORE=/path/to/an/older/pit bash Tests/Benchmarks/launch.sh    adds that build's rows (copied the same way)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-300}
bash image/install-deps --bench >/dev/null
swift build -c release -Xswiftc -static-executable --product pit --scratch-path .build-static >/dev/null
swift build -c release -Xswiftc -static-executable --product launch-bench --scratch-path .build-static >/dev/null
# The same pit linked dynamically against the toolchain's Swift runtime, as bubblewrap and NsJail link glibc and
# libseccomp: "the same linking" both ways, labelled.
swift build -c release --product pit --scratch-path .build-dynamic >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The executable as a system has it: installed (copied), like /usr/bin/bwrap. The linker writes its output
# through a shared mapping, which leaves the file's page cache in 4 KiB pages; a copied file is cached in large
# folios, and starts ~0.13 ms faster here (measured, interleaved, same binary). The page cache's state still
# matters: a copy whose cache was dropped and read back takes ~10 more page faults (156 -> 167), and so does
# one left cached for ~20 minutes (-> 163). Compare builds only as copies installed at the same moment.
install -m 0755 .build-static/release/pit "$out/pit"
install -m 0755 .build-dynamic/release/pit "$out/pit-dynamic"
[ -z "${PIT_BEFORE:-}" ] || install -m 0755 "$PIT_BEFORE" "$out/pit-before"
sync   # the copy's 40 MB are written back now, not while the launchers are timed
pit=$out/pit
bench=$PWD/.build-static/release/launch-bench
policy=$PWD/policies/bench-90.policy
# The same filter for every peer in a filtered row: Pit's compiled program for this machine, handed to bubblewrap
# (--seccomp reads a BPF program from an fd); NsJail compiles the same kafel file itself at each start (-P).
arch=$(uname -m); case $arch in armv7*|armv6*) arch=arm ;; i?86) arch=i386 ;; esac
"$pit" policy check "$policy" --arch "$arch" --export-bpf "$out/bench-90.bpf" >/dev/null
# Pit keeps compiled policies in /run/pit/policy-cache (a tmpfs: the first start after a boot compiles). The cold
# row has a cache of its own (PIT_POLICY_CACHE), emptied before each of its starts, outside the clock; the warm rows
# find the entry a previous start of theirs left.
cache=$out/cold-cache

# Comparable isolation for each launcher: new mount, PID and IPC namespaces, a tmpfs root with /usr read-only
# and the merged-/usr symlinks, /proc, a minimal /dev, all capabilities dropped, a new session; no filter.
links=() nsjail_links=()
for d in bin sbin lib lib64; do
  [ -L /$d ] || continue
  links+=(--symlink "$(readlink /$d)" /$d)
  nsjail_links+=(-s "/$(readlink /$d):/$d")
done
bwrap_cmd="/usr/bin/bwrap --unshare-pid --unshare-ipc --unshare-cgroup --ro-bind /usr /usr ${links[*]} --proc /proc --dev /dev --cap-drop ALL --new-session --die-with-parent /bin/true"
bwrap_filter_cmd="{fd:10}$out/bench-90.bpf ${bwrap_cmd/\/usr\/bin\/bwrap /\/usr\/bin\/bwrap --seccomp 10 }"
pit_cmd="$pit run --user 65534 --policy $policy -- /bin/true"
pit_cold_cmd="{env}PIT_POLICY_CACHE=$cache {rm}$cache $pit_cmd"
pit_dynamic_cmd="$out/pit-dynamic run --user 65534 --policy $policy -- /bin/true"
pit_nopolicy_cmd="$pit run --user 65534 -- /bin/true"
names=("true" "unshare -mpf --mount-proc" "bubblewrap" "bubblewrap (90-syscall filter)" "pit run (no policy)"
       "pit run (90-syscall policy)" "pit run (90-syscall, cold cache)" "pit run dynamic (90-syscall)")
commands=(/bin/true ::: /usr/bin/unshare -mpf --mount-proc /bin/true ::: $bwrap_cmd ::: $bwrap_filter_cmd
          ::: $pit_nopolicy_cmd ::: $pit_cmd ::: $pit_cold_cmd ::: $pit_dynamic_cmd)
# NsJail as `pit run` uses the host: no user, network or UTS namespace (-Mo: one run, NsJail waits for it; its
# root is an empty read-only tmpfs, /proc is mounted and capabilities dropped by default).
if [ -n "${PIT_BEFORE:-}" ]; then
  names+=("before: pit run (no policy)" "before: pit run (90-syscall)")
  commands+=(::: ${pit_nopolicy_cmd/$pit/$out/pit-before} ::: ${pit_cmd/$pit/$out/pit-before})
fi
nsjail=$(command -v nsjail || true)
if [ -n "$nsjail" ]; then
  nsjail_cmd="$nsjail -Mo -Q --disable_clone_newnet --disable_clone_newuser --disable_clone_newuts --user 65534 --group 65534 -R /usr ${nsjail_links[*]} -m none:/dev:tmpfs:mode=755 -B /dev/null -B /dev/zero -B /dev/full -R /dev/random -R /dev/urandom -- /bin/true"
  nsjail_filter_cmd="${nsjail_cmd/ -- / -P $policy -- }"
  names+=("nsjail" "nsjail (90-syscall policy)")
  commands+=(::: $nsjail_cmd ::: $nsjail_filter_cmd)
fi

# This VM's speed drifts by tens of percent over seconds (other guests): every round starts each launcher
# once, in a fresh random order, so none gets a quiet or a busy stretch to itself (hyperfine would run each
# one's runs back to back). launch-bench times each start the way hyperfine -N does (spawn, exec, wait), and
# until the last process the launcher left behind is gone too: work deferred past its exit counts.
"$bench" --interleave "$runs" -- "${commands[@]}" > "$out/interleaved.txt"
# In-process launches (one launch time per line, in microseconds), after.
"$bench" "$runs" > "$out/inproc-nopolicy.txt"
"$bench" "$runs" "$policy" > "$out/inproc-policy.txt"

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
  echo "pit run dynamic (90-syscall) $(rss $pit_dynamic_cmd)"
  [ -z "$nsjail" ] || echo "nsjail $(rss $nsjail_cmd)"
} > "$out/rss.txt"

python3 - "$out" "$(stat -c %s "$pit")" "${names[@]}" <<'PY'
import statistics, sys
out, size, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = {name: [] for name in names}
for line in open(out + "/interleaved.txt"):
    index, microseconds = line.split()
    times[names[int(index)]].append(int(microseconds) / 1e6)
for name, path in (("pit, in-process (no policy)", "/inproc-nopolicy.txt"), ("pit, in-process (90-syscall)", "/inproc-policy.txt")):
    times[name] = [float(v) / 1e6 for v in open(out + path).read().split()]
results = [{"command": name, "mean": statistics.mean(t), "stddev": statistics.pstdev(t), "min": min(t), "max": max(t)}
           for name, t in times.items()]
rss = {}
for line in open(out + "/rss.txt"):
    name, value = line.rsplit(" ", 1)
    rss[name] = int(value)
bwrap = next(r["mean"] for r in results if r["command"] == "bubblewrap")
print(f"{'launcher':30} {'mean ms':>8} {'± σ':>7} {'min':>7} {'max':>7} {'x bwrap':>8} {'peak RSS':>9}")
for r in results:
    name = r["command"]
    print(f"{name:30} {r['mean']*1e3:8.2f} {r['stddev']*1e3:7.2f} {r['min']*1e3:7.2f} {r['max']*1e3:7.2f} "
          f"{r['mean']/bwrap:8.2f} " + (f"{rss[name]/1024:7.1f} MB" if name in rss else f"{'-':>10}"))
print(f"pit static executable: {size/1e6:.1f} MB (not stripped); {len(times['bubblewrap'])} interleaved starts each")
mean = {r["command"]: r["mean"] for r in results}
print("like with like (mean ratios; the issue's target: 90-syscall row at most 0.7x bubblewrap and 0.5x NsJail):")
pairs = [("no filter, static pit", "pit run (no policy)", "bubblewrap", "nsjail"),
         ("90-syscall, warm cache", "pit run (90-syscall policy)", "bubblewrap (90-syscall filter)", "nsjail (90-syscall policy)"),
         ("90-syscall, cold cache", "pit run (90-syscall, cold cache)", "bubblewrap (90-syscall filter)", "nsjail (90-syscall policy)"),
         ("90-syscall, dynamic pit", "pit run dynamic (90-syscall)", "bubblewrap (90-syscall filter)", "nsjail (90-syscall policy)")]
if "before: pit run (90-syscall)" in mean:
    pairs += [("before, no filter", "before: pit run (no policy)", "bubblewrap", "nsjail"),
              ("before, 90-syscall, warm", "before: pit run (90-syscall)", "bubblewrap (90-syscall filter)", "nsjail (90-syscall policy)")]
for label, pit, bwrap_row, nsjail_row in pairs:
    line = f"  {label:26} {mean[pit]/mean[bwrap_row]:5.2f}x bubblewrap"
    if nsjail_row in mean: line += f"  {mean[pit]/mean[nsjail_row]:5.2f}x NsJail"
    print(line)
PY
