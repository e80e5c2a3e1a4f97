#!/usr/bin/env bash
# Violation to receiver: `pit supervise` runs a jail in which 200 short-lived processes each make a syscall the
# policy reports; the uplink agent delivers each event to a syslog (TCP) receiver on loopback that notes the
# arrival time. Latency = arrival - the event's `time` (stamped when Pit recorded the violation, in ms).
#   bash Tests/Benchmarks/violation-latency.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-200}
bash image/install-deps >/dev/null
swift build -c release --product pit >/dev/null
pit=$PWD/.build/release/pit
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 - "$work/port" "$work/arrivals" <<'PY' &
import socket, sys, time, json
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
out = open(sys.argv[2], "w", buffering=1)
while True:
    c, _ = s.accept(); buf = b""
    while True:
        d = c.recv(65536)
        if not d: break
        buf += d
        while b" " in buf:
            n, rest = buf.split(b" ", 1)
            if len(rest) < int(n): break
            msg, buf = rest[:int(n)], rest[int(n):]
            line = msg.decode(errors="replace"); j = line[line.index("{"):]
            out.write(f"{time.time():.4f} {j}\n")
    c.close()
PY
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
cat > "$work/probe.toml" <<EOT
command = ["/bin/sh", "-c", "i=0; while [ \$i -lt $count ]; do /usr/bin/perl -e 'syscall(63, 0)' 2>/dev/null; i=\$((i+1)); sleep 0.02; done; exec sleep 1000"]
seccomp_string = "POLICY p { REPORT { uname } } USE p DEFAULT ALLOW"
EOT
cat > "$work/device.toml" <<EOT
data_dir = "data"
control_socket = "run/control.sock"
[[jails]]
name = "probe"
spec = "probe.toml"
stop_grace_s = 1
[[uplink]]
type = "syslog"
name = "siem"
protocol = "tcp"
host = "127.0.0.1"
port = $(cat "$work/port")
EOT
"$pit" supervise --config "$work/device.toml" 2>/dev/null &
sup=$!
for _ in $(seq 600); do
  seen=$(grep -c '"violation"' "$work/arrivals" 2>/dev/null) || true
  [ "${seen:-0}" -ge "$count" ] && break
  sleep 0.1
done
kill -TERM $sup; wait $sup 2>/dev/null || true
python3 - "$work/arrivals" "$count" <<'PY'
import json, sys, datetime
lat = []
for line in open(sys.argv[1]):
    t, j = line.split(" ", 1); e = json.loads(j)
    if e.get("kind") != "violation": continue
    stamped = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    lat.append((float(t) - stamped) * 1000)
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
print(f"violations delivered: {len(lat)} of {sys.argv[2]} (syslog TCP on loopback, agent batches, cursor fsync per batch)")
print(f"violation -> receiver latency ms: p50 {pct(0.5):.1f}  p90 {pct(0.9):.1f}  p99 {pct(0.99):.1f}  max {lat[-1]:.1f}")
PY
