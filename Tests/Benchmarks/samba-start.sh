#!/usr/bin/env bash
# Boot to "all Samba services accepting": samba-dcerpcd (with the helpers dcerpcd.toml runs), then smbd, each started
# once the one before accepts, as `pit supervise` starts them (dcerpcd's ready_tcp on 135, then smbd), until smbd
# accepts on its port. Plain daemons vs the same daemons in their Pit jails (policies/samba/dcerpcd.toml and
# smbd.toml: namespaces, read-only root, dropped caps, the learned seccomp policies, their user namespaces and
# Landlock). Both with the same smb.conf on loopback ports. Prints a table, and each stage's share of it.
#   bash Tests/Benchmarks/samba-start.sh [RUNS]
# nmbd is left out: it answers UDP only, so "accepting" has no meaning for it, and nothing waits for it.
# (An older Pit's row, BEFORE=DIR, went with smbd alone: older checkouts have no dcerpcd jail to compare.)
# Cleanup kills only what this script started: each measured start is its own process group, recorded in the
# work directory and killed there (never a pkill by name: that would take every jailed smbd of the host). A jailed
# daemon dies with its `pit run` (PR_SET_PDEATHSIG), and its helpers with its PID namespace.
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
  # The jails' low_ports lower the host's net.ipv4.ip_unprivileged_port_start: put it back.
  echo "$portstart" > /proc/sys/net/ipv4/ip_unprivileged_port_start
  rm -rf "$work"
}
trap cleanup EXIT
# Below the ephemeral range (32768-60999): the probe's connects to a port in that range that nothing listens on
# yet can pick it as their own source port and connect to themselves, and that socket then holds the port
# (smbd: "open_socket_in failed: Address already in use"). It made earlier runs take 1.5 s to 20 s.
port=14700
# samba-dcerpcd's endpoint mapper: 135, as on the device (both daemons bind only lo, `interfaces = lo`).
epm=135
if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$epm),timeout=0.2)" 2>/dev/null; then
  echo "something already listens on 127.0.0.1:$epm; samba-dcerpcd could not start" >&2; exit 1
fi
for d in data data-dcerpcd; do
  mkdir -p "$work/$d"/{lock,state,cache,private,pid,log,nmbd,run/ncalrpc/np,shares/share}
done
mkdir -p "$work"/{etc,ncalrpc/np}
echo decoy > "$work/data/shares/share/report.txt"; chmod -R a+rX "$work"
# As SambaTree renders it for the jails: the named-pipe directory under run/, samba-dcerpcd's TCP endpoints in the
# range its Landlock allows.
sed -e "s/@PORT@/$port/" -e "s#^ncalrpc dir = .*#ncalrpc dir = /data/run/ncalrpc#" policies/samba/smb.conf.template > "$work/etc/smb.conf"
printf 'rpc server dynamic port range = 49152-49159\n' > "$work/etc/extra"
sed -i "/^\[global\]/r $work/etc/extra" "$work/etc/smb.conf"
# Plain daemons are host root and share one data tree, as on a stock Samba host: a root-owned copy of their own
# (Samba insists that root owns its state directories), with its named pipes in the tree's own ncalrpc dir.
cp -a "$work/data" "$work/data-plain"
sed "s#/data#$work/data-plain#" "$work/etc/smb.conf" > "$work/etc/smb.host.conf"
# The jails: smbd's root is host uid 200000, samba-dcerpcd's 400000 (their user namespaces), and each gets its tree
# as the supervisor hands it over. smbd binds samba-dcerpcd's sockets read-only from ncalrpc/np onto placeholders
# in its own np (SambaTree.prepareNamedPipes); samba-dcerpcd replaces its placeholders with the sockets.
pipebinds=()
for p in srvsvc wkssvc lsarpc; do
  : > "$work/ncalrpc/np/$p"; : > "$work/data/run/ncalrpc/np/$p"
  pipebinds+=(--bind "$work/ncalrpc/np/$p:/data/run/ncalrpc/np/$p")
done
chmod 700 "$work/ncalrpc/np" "$work/data/run/ncalrpc/np" "$work/data-plain/run/ncalrpc/np"
chown -R 200000:200000 "$work/data"
chown -R 400000:400000 "$work/data-dcerpcd" "$work/ncalrpc"
printf 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n' > "$work/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$work/etc/group"
printf '127.0.0.1 localhost %s\n' "$(hostname)" > "$work/etc/hosts"
printf 'hosts: files\npasswd: files\ngroup: files\n' > "$work/etc/nsswitch.conf"
etcbinds=(--bind "$work/etc/smb.conf:/etc/samba/smb.conf" --bind "$work/etc/passwd:/etc/passwd" --bind "$work/etc/group:/etc/group"
          --bind "$work/etc/hosts:/etc/hosts" --bind "$work/etc/nsswitch.conf:/etc/nsswitch.conf")
smbdjail=("$pit" run --jail policies/samba/smbd.toml "${etcbinds[@]}" --bind-rw "$work/data:/data" "${pipebinds[@]}"
          --landlock-bind-tcp "$port")   # the bench's port, as a persona's smb_port would be
dcerpcdjail=("$pit" run --jail policies/samba/dcerpcd.toml "${etcbinds[@]}" --bind-rw "$work/data-dcerpcd:/data"
             --bind-rw "$work/ncalrpc:/data/run/ncalrpc" --bind-rw "$work/data-dcerpcd/log:/var/log/samba")
# The helpers samba-dcerpcd runs: dcerpcd.toml's command, so plain and jailed run the same processes.
helpers=(/usr/libexec/samba/rpcd_classic /usr/libexec/samba/rpcd_lsad /usr/libexec/samba/rpcd_epmapper /usr/libexec/samba/rpcd_winreg)
# Same name resolution as the jails (hosts: files with this host's name): without it the own-name lookup waits on
# DNS, which this machine cannot reach, and the comparison would measure DNS time-outs. The helpers' compiled-in
# log directory goes to the plain tree's, not the host's /var/log/samba.
plainns="mount --bind $work/etc/hosts /etc/hosts && mount --bind $work/etc/nsswitch.conf /etc/nsswitch.conf && mount --bind $work/data-plain/log /var/log/samba"
plaindcerpcd=(unshare -m sh -c "$plainns && exec /usr/libexec/samba/samba-dcerpcd --foreground --no-process-group --configfile=$work/etc/smb.host.conf ${helpers[*]}")
plainsmbd=(unshare -m sh -c "$plainns && exec /usr/sbin/smbd --foreground --no-process-group --configfile=$work/etc/smb.host.conf")
"${smbdjail[@]}" -- /bin/true >/dev/null 2>&1 || true      # warm the policy caches
"${dcerpcdjail[@]}" -- /bin/true >/dev/null 2>&1 || true

# Starts each stage (PORT SOCKETS ARGV..., stages separated by a lone ';;') once the one before is ready: its TCP
# PORT accepts and, unless SOCKETS is '-', each of SOCKETS (comma-separated paths) is a unix socket. Prints the milliseconds from the first spawn to
# each stage's readiness, space-separated ("fail" when a stage exited or took 30 s). Then stops them all, last first.
measure() {
  python3 - "$work" "$@" <<'PY'
import os, signal, socket, subprocess, sys, time
work, rest = sys.argv[1], sys.argv[2:]
pgids = work + "/pgids"
stages, argv = [], []
for word in rest + [";;"]:
    if word == ";;":
        stages.append((int(argv[0]), argv[1], argv[2:])); argv = []
    else:
        argv.append(word)
def accepting(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.05).close(); return True
    except OSError:
        return False
start = time.monotonic()
marks, procs = [], []
import stat
def ready(port, socks):
    for sock in [] if socks == "-" else socks.split(","):
        try:
            if not stat.S_ISSOCK(os.lstat(sock).st_mode): return False
        except OSError: return False
    return accepting(port)
failed = False
for n, (port, sock, command) in enumerate(stages):
    # stdin from /dev/null: this script's stdin is the heredoc, at EOF, and smbd --foreground exits at once
    # when its stdin is a pipe at EOF. A session of its own, as Pit makes each jailed daemon one.
    log = open(f"{work}/stage{n}.log", "w")
    p = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    with open(pgids, "a") as f: f.write(f"{p.pid}\n")
    procs.append(p)
    while not ready(port, sock):
        if time.monotonic() - start > 30: print("timeout", file=sys.stderr); failed = True; break
        if p.poll() is not None:
            print(f"{' '.join(command[:4])} exited {p.returncode}: {open(f'{work}/stage{n}.log').read()[-2000:]}", file=sys.stderr)
            failed = True; break
        time.sleep(0.001)
    marks.append((time.monotonic() - start) * 1000)
    if failed: break
print("fail" if failed else " ".join(f"{m:.1f}" for m in marks))
for p in reversed(procs):
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(5)
    except ProcessLookupError: p.wait()     # the group is gone already (a failed start)
    except subprocess.TimeoutExpired: os.killpg(p.pid, signal.SIGKILL); p.wait()
# The next start must not race these listeners (smbd would bind only ::1 and retry 127.0.0.1 later).
deadline = time.monotonic() + 10
while time.monotonic() < deadline and any(accepting(port) for port, _, _ in stages):
    time.sleep(0.01)
PY
}
sockets() { local d=$1; echo "$d/srvsvc,$d/wkssvc,$d/lsarpc"; }
plain=(); jailed=()
for _ in $(seq "$runs"); do
  # samba-dcerpcd is ready when 135 accepts and its named-pipe sockets exist (what smbd's listings need; the jailed
  # smbd binds them, so cannot start without them). A stopped samba-dcerpcd leaves its sockets behind, and the next
  # one unlinks them before binding its own: a stale socket would pass for ready while the name is about to vanish
  # (measured: smbd's jail then fails, "bind: .../np/wkssvc: No such file or directory"). So each start begins with
  # fresh placeholders, as SambaTree makes them.
  rm -f "$work/data-plain/run/ncalrpc/np/"{srvsvc,wkssvc,lsarpc}
  plain+=("$(measure "$epm" "$(sockets "$work/data-plain/run/ncalrpc/np")" "${plaindcerpcd[@]}" ';;' "$port" - "${plainsmbd[@]}")")
  sleep 0.3
  for p in srvsvc wkssvc lsarpc; do rm -f "$work/ncalrpc/np/$p"; : > "$work/ncalrpc/np/$p"; chown 400000:400000 "$work/ncalrpc/np/$p"; done
  jailed+=("$(measure "$epm" "$(sockets "$work/ncalrpc/np")" "${dcerpcdjail[@]}" ';;' "$port" - "${smbdjail[@]}")")
  sleep 0.3
done
python3 - "$(printf '%s\n' "${plain[@]}")" "$(printf '%s\n' "${jailed[@]}")" <<'PY'
import statistics, sys
def rows(text): return [[float(x) for x in line.split()] for line in text.splitlines() if line.strip() and line != "fail"]
def failures(text): return sum(1 for line in text.splitlines() if line == "fail")
plain, jailed = rows(sys.argv[1]), rows(sys.argv[2])
for name, text in [("plain", sys.argv[1]), ("jailed", sys.argv[2])]:
    if failures(text): print(f"{name}: {failures(text)} failed start(s) left out (their errors are above)")
base = statistics.mean(r[-1] for r in plain)
print(f"{'boot to all Samba services accepting':40} {'mean ms':>8} {'min':>7} {'max':>7} {'x plain':>8} {'dcerpcd':>8} {'+smbd':>7}")
for name, v in [("plain samba-dcerpcd, then smbd", plain), ("both under pit run", jailed)]:
    total = [r[-1] for r in v]; first = statistics.mean(r[0] for r in v)
    print(f"{name:40} {statistics.mean(total):8.1f} {min(total):7.1f} {max(total):7.1f} {statistics.mean(total)/base:8.2f}"
          f" {first:8.1f} {statistics.mean(total) - first:7.1f}")
PY
