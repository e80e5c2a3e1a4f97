#!/usr/bin/env bash
# pit supervise under load: idle RSS and wakeups with two jails and steady LEDs, and the longest gap
# between watchdog feeds while jails run a fork bomb, a memory hog and an stdout flood.
# The watchdog is a FIFO stand-in whose reader timestamps every feed. Prints a table; asserts nothing.
#   bash Tests/Benchmarks/supervise.sh [IDLE_SECONDS] [STRESS_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
idle=${1:-30}
stress=${2:-20}
bash image/install-deps >/dev/null
swift build -c release -Xswiftc -static-executable --product pit --scratch-path .build-static >/dev/null
pit=$PWD/.build-static/release/pit
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

feeds() {  # start the stand-in watchdog's reader: one timestamp line per fed byte
  rm -f "$work/wd"; mkfifo "$work/wd"
  perl -MTime::HiRes=time -e 'open(my $f, "<", $ARGV[0]) or die; open(my $o, ">", $ARGV[1]) or die; $o->autoflush(1);
    while (sysread($f, my $b, 1)) { printf $o "%.3f\n", time }' "$work/wd" "$work/feeds.$1" &
}
config() {  # $1 name, $2 watchdog timeout, then jail blocks
  local name=$1 timeout=$2; shift 2
  { echo "data_dir = \"$work/data.$name\""; echo "control_socket = \"$work/run.$name/control.sock\""
    echo "[watchdog]"; echo "device = \"$work/wd\""; echo "timeout_s = $timeout"; printf '%s\n' "$@"; } > "$work/$name.toml"
}
jail() {  # $1 name, $2 shell command, $3 extra spec lines
  printf 'command = ["/bin/sh", "-c", "%s"]\n%s\n' "$2" "${3:-}" > "$work/$1.jail.toml"
  printf '[[jails]]\nname = "%s"\nspec = "%s"\nrequired = false\n' "$1" "$work/$1.jail.toml"
}

# 1. Idle: two sleeping jails, timeout 30 s (fed every 15 s), no blinking LED.
config idle 30 "$(jail one 'exec sleep 100000')" "$(jail two 'exec sleep 100000')"
feeds idle
"$pit" supervise --config "$work/idle.toml" 2>"$work/idle.log" & sup=$!
sleep 2
read -r v0 n0 < <(awk '/^voluntary_ctxt_switches/{v=$2} /^nonvoluntary_ctxt_switches/{n=$2} END{print v, n}' /proc/$sup/status)
f0=$(wc -l < "$work/feeds.idle")
sleep "$idle"
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
sleep "$stress"
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
sleep $((idle + 2))
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
