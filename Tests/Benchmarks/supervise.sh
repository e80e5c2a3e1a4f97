#!/usr/bin/env bash
# pit supervise under load: idle RSS and wakeups with two jails and steady LEDs, and the longest gap
# between watchdog feeds while jails run a fork bomb, a memory hog and an stdout flood; then (issue 18) the feed
# gaps while four stresses run at once: an stdout flood, a violation flood, a full data disk and a fork bomb.
# The watchdog is a FIFO stand-in whose reader timestamps every feed. Prints a table; asserts nothing.
#   bash Tests/Benchmarks/supervise.sh [IDLE_SECONDS] [STRESS_SECONDS] [COMBINED_SECONDS]
#   PIT_BENCH_ONLY=combined bash Tests/Benchmarks/supervise.sh 0 0 60    # the four-at-once run alone
set -euo pipefail
cd "$(dirname "$0")/../.."
idle=${1:-30}
stress=${2:-20}
combined=${3:-30}
only=${PIT_BENCH_ONLY:-all}
bash image/install-deps >/dev/null
swift build -c release -Xswiftc -static-executable --product pit --scratch-path .build-static >/dev/null
pit=$PWD/.build-static/release/pit
work=$(mktemp -d)
small=$work/small   # the combined run's data disk: a 4 MiB tmpfs, mounted by this script only
cleanup() {
  # Only this script's own jobs (supervisors, feed readers, the receiver, the health sampler): TERM lets a
  # supervisor stop its jails and remove their cgroups; then the tmpfs goes, then the directory.
  local pids; pids=$(jobs -p)
  if [ -n "$pids" ]; then kill -TERM $pids 2>/dev/null || true; wait $pids 2>/dev/null || true; fi
  if mountpoint -q "$small" 2>/dev/null; then umount "$small" 2>/dev/null || umount -l "$small"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

feeds() {  # start the stand-in watchdog's reader: one timestamp line per fed byte
  rm -f "$work/wd"; mkfifo "$work/wd"
  perl -MTime::HiRes=time -e 'open(my $f, "<", $ARGV[0]) or die; open(my $o, ">", $ARGV[1]) or die; $o->autoflush(1);
    while (sysread($f, my $b, 1)) { printf $o "%.3f\n", time }' "$work/wd" "$work/feeds.$1" &
}
config() {  # $1 name, $2 watchdog timeout, then jail blocks
  local name=$1 timeout=$2; shift 2
  { echo "data_dir = \"${data_dir:-$work/data.$name}\""; echo "control_socket = \"$work/run.$name/control.sock\""
    echo "[watchdog]"; echo "device = \"$work/wd\""; echo "timeout_s = $timeout"; printf '%s\n' "$@"; } > "$work/$name.toml"
}
jail() {  # $1 name, $2 shell command, $3 extra spec lines, $4 extra [[jails]] lines
  printf 'command = ["/bin/sh", "-c", "%s"]\n%s\n' "$2" "${3:-}" > "$work/$1.jail.toml"
  printf '[[jails]]\nname = "%s"\nspec = "%s"\nrequired = false\n%s' "$1" "$work/$1.jail.toml" "${4:-}"
}

if [ "$only" != combined ]; then
# 1. Idle: two sleeping jails, timeout 30 s (fed every 15 s), no blinking LED.
config idle 30 "$(jail one 'exec sleep 100000')" "$(jail two 'exec sleep 100000')"
feeds idle
"$pit" supervise --config "$work/idle.toml" 2>"$work/idle.log" & sup=$!
sleep 2
read -r v0 n0 < <(awk '/^voluntary_ctxt_switches/{v=$2} /^nonvoluntary_ctxt_switches/{n=$2} END{print v, n}' /proc/$sup/status)
f0=$(wc -l < "$work/feeds.idle")
sleep "$idle" & wait $!   # interruptible: INT/TERM reach the trap at once
read -r v1 n1 < <(awk '/^voluntary_ctxt_switches/{v=$2} /^nonvoluntary_ctxt_switches/{n=$2} END{print v, n}' /proc/$sup/status)
f1=$(wc -l < "$work/feeds.idle")
rss=$(awk '/^VmRSS/{print $2}' /proc/$sup/status)
hwm=$(awk '/^VmHWM/{print $2}' /proc/$sup/status)
kill -TERM $sup; wait $sup || true

# 2. Stress: a fork bomb (pids limit), a memory hog (memory limit, restarted after each OOM kill) and an
#    stdout flood, with timeout 2 s (fed every second).
config stress 2 \
  "$(jail bomb "exec /usr/bin/perl -e 'while (1) { fork }'" 'pids_max = 64')" \
  "$(jail hog 'exec /usr/bin/tail /dev/zero' 'memory_max = "64M"')" \
  "$(jail flood 'exec /usr/bin/yes flood')" 
sed -i 's/^required = false$/required = false\nrestart_delay_ms = 100/' "$work/stress.toml"
feeds stress
"$pit" supervise --config "$work/stress.toml" 2>"$work/stress.log" >/dev/null & sup=$!
sleep "$stress" & wait $!   # interruptible: INT/TERM reach the trap at once
kill -TERM $sup; wait $sup || true
gap=$(awk 'NR>1 { d=$1-p; if (d>m) m=d } { p=$1 } END { printf "%.3f", m }' "$work/feeds.stress")
fed=$(wc -l < "$work/feeds.stress")
restarts=$(grep -c 'restart \[hog\]' "$work/stress.log" || true)

# 3. Idle with an uplink: the same two jails plus a syslog transport to a receiver on loopback, so the supervisor
#    spawns `pit uplink-agent` (a second process of the same binary, with TLS linked in).
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 16599)); s.listen()
c, _ = s.accept()
while c.recv(65536): pass' &
receiver=$!
config uplink 30 "$(jail one 'exec sleep 100000')" "$(jail two 'exec sleep 100000')" \
  "$(printf '[[uplink]]\ntype = "syslog"\nname = "log"\nprotocol = "tcp"\nhost = "127.0.0.1"\nport = 16599\n')"
feeds uplink
"$pit" supervise --config "$work/uplink.toml" 2>"$work/uplink.log" & sup=$!
sleep $((idle + 2)) & wait $!   # interruptible: INT/TERM reach the trap at once
agent=$(pgrep -P $sup -f uplink-agent || true)
rss_sup=$(awk '/^VmRSS/{print $2}' /proc/$sup/status)
rss_agent=$( [ -n "$agent" ] && awk '/^VmRSS/{print $2}' /proc/$agent/status || echo 0)
kill -TERM $sup; wait $sup || true
kill $receiver 2>/dev/null || true

mb() { echo "$(($1/1024)).$(($1%1024*10/1024)) MB"; }
printf '%-48s %s\n' "pit supervise (static, $(du -h "$pit" | cut -f1) binary)" ""
printf '%-48s %8s\n' "idle RSS, two jails (VmRSS / peak VmHWM)" "$((rss/1024)).$((rss%1024*10/1024)) MB / $((hwm/1024)).$((hwm%1024*10/1024)) MB"
awk -v v=$((v1-v0)) -v n=$((n1-n0)) -v f=$((f1-f0)) -v t="$idle" 'BEGIN {
  printf "%-48s %8.3f\n", "idle wakeups/s (context switches, all)", (v+n)/t
  printf "%-48s %8.3f\n", "idle watchdog feeds/s (timeout 30 s)", f/t
  printf "%-48s %8.3f\n", "idle wakeups/s beyond the feeds", (v+n-f)/t }'
printf '%-48s %8s\n' "stress: feeds in ${stress} s (interval 1 s)" "$fed"
printf '%-48s %8s s\n' "stress: longest gap between feeds" "$gap"
printf '%-48s %8s\n' "stress: memory hog OOM restarts" "$restarts"
printf '%-48s %8s\n' "idle RSS with a syslog uplink: supervisor" "$(mb "$rss_sup")"
printf '%-48s %8s\n' "idle RSS with a syslog uplink: uplink agent" "$(mb "$rss_agent")"
fi

# 4. All at once (issue 18), timeout 2 s (fed every second): an stdout flood (inherited: it lands on /dev/null);
#    a violation flood (a perl loop calling uname under DEFAULT LOG: every call is a seccomp notification the
#    supervisor receives, records or counts, and answers); a fork bomb at its pids limit; and a data directory on a
#    4 MiB tmpfs that a jail keeps full (so every spool append meets ENOSPC). Health is sampled every second.
#    A full data directory is a health failure, and past health_grace_s Pit stops feeding on purpose (the board
#    resets): the grace is set past the run so that the gaps measure the loop, and health is reported beside them.
[ "$combined" -gt 0 ] || exit 0
mkdir -p "$small"
mount -t tmpfs -o size=4m,mode=0755 pit-bench-small "$small"
mkdir -p "$small/data" "$small/fill"; chmod 0777 "$small/fill"
allowed='read, write, close, fstat, newfstatat, lseek, mmap, mprotect, munmap, brk, rt_sigaction, rt_sigprocmask, ioctl, pread64, access, openat, getpid, getuid, getgid, geteuid, getegid, arch_prctl, set_tid_address, set_robust_list, rseq, prlimit64, getrandom, exit_group, futex, readlink, fcntl, getcwd, execve, sysinfo, clock_gettime'
data_dir=$small/data config combined 2 'health_grace_s = 3600' \
  "$(jail flood 'exec /usr/bin/yes flood' '' $'stop_grace_s = 1\n')" \
  "$(jail violations "exec /usr/bin/perl -e 'syscall(63, 0) while 1'" \
     "seccomp_string = \"POLICY p { ALLOW { $allowed } } USE p DEFAULT LOG\"" $'stop_grace_s = 1\n')" \
  "$(jail bomb "exec /usr/bin/perl -e 'while (1) { fork }'" 'pids_max = 64' $'stop_grace_s = 1\n')" \
  "$(jail filler 'while :; do cat /dev/zero >> /fill/zero 2>/dev/null; sleep 0.2; done' \
     "binds_rw = [\"$small/fill:/fill\"]" $'stop_grace_s = 1\n')"
feeds combined
"$pit" supervise --config "$work/combined.toml" 2>"$work/combined.log" >/dev/null & sup=$!
( while sleep 1; do
    # pit status exits 1 when not healthy (the JSON is printed all the same): only no JSON is "no answer".
    { "$pit" status --json --socket "$work/run.combined/control.sock" 2>/dev/null || true; } \
      | python3 -c 'import json, sys; w = json.load(sys.stdin)["watchdog"]; print(w["health"], "; ".join(w["problems"]))' \
      2>/dev/null || echo "no answer"
  done ) > "$work/health.combined" & sampler=$!
sleep "$combined" & wait $!   # interruptible: INT/TERM reach the trap at once
status=$("$pit" status --socket "$work/run.combined/control.sock" 2>&1 || true)
df_used=$(df -k --output=pcent "$small" | tail -1 | tr -d ' ')
# The bomb's pids cgroup (v1 pids hierarchy, or v2): how full, and how many forks it refused.
bomb_pid=$(printf '%s\n' "$status" | awk '$1 == "bomb" && $3 == "pid" { print $4 }')
bomb_cg=
if [ -n "$bomb_pid" ] && [ -r "/proc/$bomb_pid/cgroup" ]; then
  bomb_cg=$(awk -F: '$2 == "pids" { print "/sys/fs/cgroup/pids" $3 }' "/proc/$bomb_pid/cgroup")
  [ -n "$bomb_cg" ] || bomb_cg=$(awk -F: '$1 == "0" { print "/sys/fs/cgroup" $3 }' "/proc/$bomb_pid/cgroup")
fi
bomb="?"
if [ -n "$bomb_cg" ] && [ -r "$bomb_cg/pids.current" ]; then
  bomb="$(cat "$bomb_cg/pids.current") of $(cat "$bomb_cg/pids.max"), $(awk '$1 == "max" { print $2 }' "$bomb_cg/pids.events") forks refused"
fi
kill -TERM $sampler; wait $sampler 2>/dev/null || true
kill -TERM $sup; wait $sup || true
spool_errors=$(grep -c 'pit: spool:' "$work/combined.log" || true)
sort -n "$work/feeds.combined" | awk 'NR > 1 { print $1 - p } { p = $1 }' | sort -n > "$work/gaps.combined"
n=$(wc -l < "$work/gaps.combined")
pct() { awk -v q="$1" -v n="$n" 'BEGIN { k = int(q * n); if (k < q * n) k++; if (k < 1) k = 1 } NR == k { printf "%.3f", $1; exit }' "$work/gaps.combined"; }
max=$(tail -1 "$work/gaps.combined")
printf '\n%-48s %s\n' "all four at once, ${combined} s (static $(du -h "$pit" | cut -f1) binary)" ""
printf '%-48s %8s\n' "feed interval (timeout 2 s)" "1.000 s"
printf '%-48s %8s\n' "feeds" "$((n + 1))"
printf '%-48s %8s s\n' "gap p50" "$(pct 0.50)"
printf '%-48s %8s s\n' "gap p99" "$(pct 0.99)"
printf '%-48s %8s s\n' "gap max" "$(printf '%.3f' "$max")"
printf '%-48s %8s s\n' "worst lateness (max gap - interval; target <= 1)" "$(awk -v m="$max" 'BEGIN { printf "%.3f", m - 1 }')"
printf '%-48s %8s\n' "health samples: healthy / not / no answer" \
  "$(grep -c '^healthy' "$work/health.combined" || true) / $(grep -vc -e '^healthy' -e '^no answer' "$work/health.combined" || true) / $(grep -c '^no answer' "$work/health.combined" || true)"
grep -v -e '^healthy' -e '^no answer' "$work/health.combined" | sort | uniq -c | sed 's/^/    not healthy: /' | head -5
printf '%-48s %8s\n' "data disk used at the end" "$df_used"
printf '%-48s %8s\n' "spool append failures logged (disk full)" "$spool_errors"
printf '%-48s %s\n' "fork bomb: pids in its cgroup" "$bomb"
printf '%s\n' "$status" | grep -E '^  (flood|violations|bomb|filler) ' | sed 's/^/    /'
