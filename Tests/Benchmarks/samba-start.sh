#!/usr/bin/env bash
# Start to accepting connections: plain smbd vs smbd in its Pit jail (policies/samba: namespaces, read-only root,
# dropped caps, the learned seccomp policy). Both with the same smb.conf on a loopback port. Prints a table.
#   bash Tests/Benchmarks/samba-start.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
bash image/install-deps >/dev/null
swift build -c release -Xswiftc -static-executable --product pit --scratch-path .build-static >/dev/null
pit=$PWD/.build-static/release/pit
work=$(mktemp -d); chmod 755 "$work"
trap 'pkill -f "configfile=/etc/samba/smb.conf" 2>/dev/null; pkill -f "configfile=$work" 2>/dev/null; rm -rf "$work"' EXIT
# Below the ephemeral range (32768-60999): the probe's connects to a port in that range that nothing listens on
# yet can pick it as their own source port and connect to themselves, and that socket then holds the port
# (smbd: "open_socket_in failed: Address already in use"). It made earlier runs take 1.5 s to 20 s.
port=14700
mkdir -p "$work"/{etc,data/{lock,state,cache,private,pid,ncalrpc,log,nmbd,shares/share}}
echo decoy > "$work/data/shares/share/report.txt"; chmod -R a+rX "$work"
sed "s/@PORT@/$port/" policies/samba/smb.conf.template > "$work/etc/smb.conf"
sed "s#/data#$work/data#" "$work/etc/smb.conf" > "$work/etc/smb.host.conf"
printf 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n' > "$work/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$work/etc/group"
printf '127.0.0.1 localhost %s\n' "$(hostname)" > "$work/etc/hosts"
printf 'hosts: files\npasswd: files\ngroup: files\n' > "$work/etc/nsswitch.conf"
binds=(--bind "$work/etc/smb.conf:/etc/samba/smb.conf" --bind "$work/etc/passwd:/etc/passwd" --bind "$work/etc/group:/etc/group"
       --bind "$work/etc/hosts:/etc/hosts" --bind "$work/etc/nsswitch.conf:/etc/nsswitch.conf" --bind-rw "$work/data:/data")
"$pit" run --jail policies/samba/smbd.toml "${binds[@]}" -- /bin/true >/dev/null 2>&1 || true   # warm the policy cache

measure() {  # prints milliseconds from spawn to the first accepted TCP connection
  python3 - "$port" "$@" <<'PY'
import socket, subprocess, sys, time
port, argv = int(sys.argv[1]), sys.argv[2:]
start = time.monotonic()
# stdin from /dev/null: this script's stdin is the heredoc, at EOF, and smbd --foreground exits at once
# when its stdin is a pipe at EOF.
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
while True:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.05).close(); break
    except OSError:
        if time.monotonic() - start > 20: print("timeout", file=sys.stderr); break
        time.sleep(0.001)
print(f"{(time.monotonic() - start) * 1000:.1f}")
import os, signal
os.killpg(p.pid, signal.SIGTERM)
try: p.wait(5)
except subprocess.TimeoutExpired: os.killpg(p.pid, signal.SIGKILL); p.wait()
# The next start must not race this one's listener (smbd would bind only ::1 and retry 127.0.0.1 later).
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.05).close(); time.sleep(0.01)
    except OSError:
        break
PY
}
plain=(); jailed=()
for _ in $(seq "$runs"); do
  # (measure starts each command as a session leader, as Pit makes the jailed smbd one)
  # Same name resolution as the jail (hosts: files with this host's name): without it smbd's own-name lookup
  # waits on DNS, which this machine cannot reach, and the comparison would measure DNS time-outs.
  plain+=("$(measure unshare -m sh -c "mount --bind $work/etc/hosts /etc/hosts && mount --bind $work/etc/nsswitch.conf /etc/nsswitch.conf && exec /usr/sbin/smbd --foreground --no-process-group --configfile=$work/etc/smb.host.conf")")
  sleep 0.3
  jailed+=("$(measure "$pit" run --jail policies/samba/smbd.toml "${binds[@]}")")
  sleep 0.3
done
python3 - "${plain[*]}" "${jailed[*]}" <<'PY'
import statistics, sys
plain = [float(x) for x in sys.argv[1].split()]; jailed = [float(x) for x in sys.argv[2].split()]
print(f"{'smbd start to accepting':28} {'mean ms':>8} {'min':>7} {'max':>7} {'x plain':>8}")
for name, v in (("plain smbd", plain), ("smbd under pit run", jailed)):
    print(f"{name:28} {statistics.mean(v):8.1f} {min(v):7.1f} {max(v):7.1f} {statistics.mean(v)/statistics.mean(plain):8.2f}")
PY
