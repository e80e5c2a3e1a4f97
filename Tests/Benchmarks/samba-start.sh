#!/usr/bin/env bash
# Start to accepting connections: plain smbd vs smbd in its Pit jail (policies/samba: namespaces, read-only root,
# dropped caps, the learned seccomp policy, its user namespace and Landlock). Both with the same smb.conf on a
# loopback port. Prints a table.
#   bash Tests/Benchmarks/samba-start.sh [RUNS]
#   BEFORE=DIR bash Tests/Benchmarks/samba-start.sh [RUNS]
#       adds a row for an older Pit: DIR is a checkout of it with .build-static/release/pit built as below
#       (e.g. `git worktree add --detach DIR COMMIT`), run with that checkout's own policies/samba/smbd.toml.
# Cleanup kills only what this script started: each measured start is its own process group, recorded in the
# work directory and killed there (never a pkill by name: that would take every jailed smbd of the host).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
bash image/install-deps >/dev/null
swift build -c release -Xswiftc -static-executable --product pit --scratch-path .build-static >/dev/null
pit=$PWD/.build-static/release/pit
work=$(mktemp -d); chmod 755 "$work"
portstart=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
cleanup() {
  for g in $(cat "$work/pgids" 2>/dev/null); do kill -KILL -- "-$g" 2>/dev/null || true; done
  # smbd.toml's low_ports lower the host's net.ipv4.ip_unprivileged_port_start: put it back.
  echo "$portstart" > /proc/sys/net/ipv4/ip_unprivileged_port_start
  rm -rf "$work"
}
trap cleanup EXIT
# Below the ephemeral range (32768-60999): the probe's connects to a port in that range that nothing listens on
# yet can pick it as their own source port and connect to themselves, and that socket then holds the port
# (smbd: "open_socket_in failed: Address already in use"). It made earlier runs take 1.5 s to 20 s.
port=14700
mkdir -p "$work"/{etc,data/{lock,state,cache,private,pid,ncalrpc,log,nmbd,shares/share}}
echo decoy > "$work/data/shares/share/report.txt"; chmod -R a+rX "$work"
# The jail's root is host uid 200000 (smbd.toml's user namespace): its data tree is that uid's, as the supervisor
# makes it. Plain smbd, host root, gets a copy of its own: Samba insists that root owns its state directories.
cp -a "$work/data" "$work/data-plain"
chown -R 200000:200000 "$work/data"
sed "s/@PORT@/$port/" policies/samba/smb.conf.template > "$work/etc/smb.conf"
sed "s#/data#$work/data-plain#" "$work/etc/smb.conf" > "$work/etc/smb.host.conf"
printf 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n' > "$work/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$work/etc/group"
printf '127.0.0.1 localhost %s\n' "$(hostname)" > "$work/etc/hosts"
printf 'hosts: files\npasswd: files\ngroup: files\n' > "$work/etc/nsswitch.conf"
binds=(--bind "$work/etc/smb.conf:/etc/samba/smb.conf" --bind "$work/etc/passwd:/etc/passwd" --bind "$work/etc/group:/etc/group"
       --bind "$work/etc/hosts:/etc/hosts" --bind "$work/etc/nsswitch.conf:/etc/nsswitch.conf" --bind-rw "$work/data:/data")
# smbd.toml's named-pipe binds (samba-dcerpcd's sockets; none runs here: placeholders, as SambaTree makes them).
pipebinds=()
mkdir -p "$work/np" "$work/data/run/ncalrpc/np"
for p in srvsvc wkssvc lsarpc; do
  : > "$work/np/$p"; : > "$work/data/run/ncalrpc/np/$p"
  pipebinds+=(--bind "$work/np/$p:/data/run/ncalrpc/np/$p")
done
chown -R 200000:200000 "$work/data/run"
before=${BEFORE:-}
if [ -n "$before" ]; then before=$(cd "$before" && pwd); fi
newbinds=("${binds[@]}" "${pipebinds[@]}" --landlock-bind-tcp "$port")   # the bench's port, as a persona's smb_port would be
oldbinds=("${binds[@]:0:10}" --bind-rw "$work/data-plain:/data")   # an older Pit's smbd ran as host root
"$pit" run --jail policies/samba/smbd.toml "${newbinds[@]}" -- /bin/true >/dev/null 2>&1 || true   # warm the policy cache
if [ -n "$before" ]; then "$before/.build-static/release/pit" run --jail "$before/policies/samba/smbd.toml" "${oldbinds[@]}" -- /bin/true >/dev/null 2>&1 || true; fi

measure() {  # prints milliseconds from spawn to the first accepted TCP connection
  python3 - "$port" "$work/pgids" "$@" <<'PY'
import socket, subprocess, sys, time
port, pgids, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
start = time.monotonic()
# stdin from /dev/null: this script's stdin is the heredoc, at EOF, and smbd --foreground exits at once
# when its stdin is a pipe at EOF.
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
with open(pgids, "a") as f: f.write(f"{p.pid}\n")
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
plain=(); jailed=(); old=()
for _ in $(seq "$runs"); do
  # (measure starts each command as a session leader, as Pit makes the jailed smbd one)
  # Same name resolution as the jail (hosts: files with this host's name): without it smbd's own-name lookup
  # waits on DNS, which this machine cannot reach, and the comparison would measure DNS time-outs.
  plain+=("$(measure unshare -m sh -c "mount --bind $work/etc/hosts /etc/hosts && mount --bind $work/etc/nsswitch.conf /etc/nsswitch.conf && exec /usr/sbin/smbd --foreground --no-process-group --configfile=$work/etc/smb.host.conf")")
  sleep 0.3
  jailed+=("$(measure "$pit" run --jail policies/samba/smbd.toml "${newbinds[@]}")")
  sleep 0.3
  if [ -n "$before" ]; then
    old+=("$(measure "$before/.build-static/release/pit" run --jail "$before/policies/samba/smbd.toml" "${oldbinds[@]}")")
    sleep 0.3
  fi
done
python3 - "${plain[*]}" "${jailed[*]}" "${old[*]:-}" <<'PY'
import statistics, sys
plain = [float(x) for x in sys.argv[1].split()]; jailed = [float(x) for x in sys.argv[2].split()]
old = [float(x) for x in sys.argv[3].split()]
print(f"{'smbd start to accepting':36} {'mean ms':>8} {'min':>7} {'max':>7} {'x plain':>8}")
rows = [("plain smbd", plain), ("smbd under pit run", jailed)] + ([("smbd under pit run (BEFORE)", old)] if old else [])
for name, v in rows:
    print(f"{name:36} {statistics.mean(v):8.1f} {min(v):7.1f} {max(v):7.1f} {statistics.mean(v)/statistics.mean(plain):8.2f}")
PY
