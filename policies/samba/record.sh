#!/usr/bin/env bash
# Records every syscall smbd makes while starting, serving guest sessions (list, read a file), reloading on
# SIGHUP and stopping, with `perf record -e raw_syscalls:sys_enter` as the article does (and strace -f as a
# cross-check), then learns policies/samba/smbd.policy with `pit policy learn`. Re-run it for another Samba
# version or architecture:   bash policies/samba/record.sh [PIT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pit=${1:-$here/../../.build/debug/pit}
work=$(mktemp -d)
chmod 755 "$work"   # the guest user must traverse to the share
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=44500
root=$work/root
mkdir -p "$root"/{etc,share,data/{lock,state,cache,private,pid,ncalrpc,log}}
sed "s/@PORT@/$port/" "$here/smb.conf.template" | sed "s#/data#$root/data#; s#path = /share#path = $root/share#" > "$root/etc/smb.conf"
echo "quarterly numbers" > "$root/share/report.txt"
chmod -R a+rX "$root/share"

record() {  # $1: recorder command prefix
  "$@" /usr/sbin/smbd --foreground --no-process-group --configfile="$root/etc/smb.conf" &
  local pid=$!
  for _ in $(seq 100); do smbclient -N -p $port //127.0.0.1/share -c 'ls' >/dev/null 2>&1 && break; sleep 0.1; done
  for _ in 1 2 3; do
    smbclient -N -p $port //127.0.0.1/share -c 'ls; get report.txt /dev/null' >/dev/null 2>&1
  done
  # Only smbd itself (the oldest process whose command line starts with it), not the recorder around it.
  pkill -HUP -o -f "^/usr/sbin/smbd --foreground --no-process-group --configfile=$root/etc/smb.conf" || true
  sleep 0.5
  smbclient -N -p $port //127.0.0.1/share -c 'ls' >/dev/null 2>&1
  pkill -TERM -o -f "^/usr/sbin/smbd --foreground --no-process-group --configfile=$root/etc/smb.conf" || true
  wait $pid || true
}
# setsid: smbd must be a session leader, as in the jail.
record setsid -w perf record -q -e raw_syscalls:sys_enter -o "$work/perf.data" --
perf script -i "$work/perf.data" > "$work/smbd.perf"
record setsid -w strace -f -qq -o "$work/smbd.strace" --

"$pit" policy learn --format perf --name smbd -o "$work/perf.policy" "$work/smbd.perf"
"$pit" policy learn --format strace --name smbd -o "$work/strace.policy" "$work/smbd.strace"
echo "perf and strace differ by (perf misses the first execve):"
"$pit" policy learn --format strace --name smbd --diff "$work/perf.policy" "$work/smbd.strace" 2>&1 >/dev/null | sed 's/^/  /' || true
mkdir -p "$here/recordings"; gzip -9 -c "$work/smbd.perf" > "$here/recordings/smbd.$(uname -m).perf.gz"
"$pit" policy learn --format perf --name smbd -o "$here/smbd.learned.policy" "$work/smbd.perf"
echo "wrote $here/smbd.learned.policy; review it into smbd.policy"

# nmbd needs a non-loopback IPv4 interface and binds 0.0.0.0:137/138: record it in a network namespace joined
# to a second one (the client) by a veth pair, so the machine's own links are untouched.
ns=pitrec$$
ip netns add ${ns}a; ip netns add ${ns}b
trap 'kill $(jobs -p) 2>/dev/null || true; ip netns del ${ns}a 2>/dev/null; ip netns del ${ns}b 2>/dev/null; rm -rf "$work"' EXIT
ip link add ${ns}x type veth peer name ${ns}y
ip link set ${ns}x netns ${ns}a; ip link set ${ns}y netns ${ns}b
ip -n ${ns}a addr add 192.0.2.10/24 dev ${ns}x; ip -n ${ns}b addr add 192.0.2.20/24 dev ${ns}y
for n in a b; do ip -n ${ns}$n link set lo up; done
ip -n ${ns}a link set ${ns}x up; ip -n ${ns}b link set ${ns}y up
sed -i "s/^interfaces = lo/interfaces = ${ns}x/" "$root/etc/smb.conf"
mkdir -p "$root/data/nmbd"
ip netns exec ${ns}a setsid -w perf record -q -e raw_syscalls:sys_enter -o "$work/nmbd.data" -- \
  /usr/sbin/nmbd --foreground --no-process-group --configfile="$root/etc/smb.conf" &
for _ in $(seq 100); do ip netns exec ${ns}b nmblookup -U 192.0.2.10 NAS01 2>/dev/null | grep -q '<00>' && break; sleep 0.1; done
for _ in 1 2 3; do ip netns exec ${ns}b nmblookup -U 192.0.2.10 NAS01 >/dev/null 2>&1; ip netns exec ${ns}b nmblookup -U 192.0.2.10 -S NAS01 >/dev/null 2>&1; done
pkill -HUP -o -f "^/usr/sbin/nmbd --foreground --no-process-group --configfile=$root/etc/smb.conf" || true
sleep 0.5
ip netns exec ${ns}b nmblookup -U 192.0.2.10 NAS01 >/dev/null 2>&1 || true
pkill -TERM -o -f "^/usr/sbin/nmbd --foreground --no-process-group --configfile=$root/etc/smb.conf" || true
wait
perf script -i "$work/nmbd.data" > "$work/nmbd.perf"
gzip -9 -c "$work/nmbd.perf" > "$here/recordings/nmbd.$(uname -m).perf.gz"
"$pit" policy learn --format perf --name nmbd -o "$here/nmbd.learned.policy" "$work/nmbd.perf"
echo "wrote $here/nmbd.learned.policy; review it into nmbd.policy"

# samba-dcerpcd and the helpers it execs (rpcd_classic, rpcd_lsad, rpcd_epmapper, rpcd_winreg, as dcerpcd.toml
# runs them), behind an smbd that forwards named pipes to it: start, share listings (smbclient -L, rpcclient
# netshareenumall: srvsvc), lsarpc and wkssvc queries, the endpoint mapper on TCP 135, stop. In the same pair of
# network namespaces (the client in ${ns}b). perf follows the forks and the helpers' execs.
conf=$root/etc/smb.conf
sed -i "s#^ncalrpc dir = .*#ncalrpc dir = $root/data/ncalrpc#" "$conf"
grep -q '^rpc server dynamic port range' "$conf" || sed -i "s/^\[global\]/[global]\nrpc server dynamic port range = 49152-49159/" "$conf"
sed -i "s/^smb ports = .*/smb ports = 445/" "$conf"
helpers="/usr/libexec/samba/rpcd_classic /usr/libexec/samba/rpcd_lsad /usr/libexec/samba/rpcd_epmapper /usr/libexec/samba/rpcd_winreg"
ip netns exec ${ns}a setsid -w perf record -q -e raw_syscalls:sys_enter -o "$work/dcerpcd.data" -- \
  /usr/libexec/samba/samba-dcerpcd --foreground --no-process-group --configfile="$conf" $helpers &
for _ in $(seq 100); do [ -S "$root/data/ncalrpc/np/srvsvc" ] && break; sleep 0.1; done
# smbd under perf too: what forwarding the pipes adds to smbd's own recording (compared below, not merged).
ip netns exec ${ns}a setsid -w perf record -q -e raw_syscalls:sys_enter -o "$work/smbd-pipes.data" -- \
  /usr/sbin/smbd --foreground --no-process-group --configfile="$conf" &
for _ in $(seq 100); do ip netns exec ${ns}b smbclient -N -L //192.0.2.10 2>/dev/null | grep -q '^\s*share ' && break; sleep 0.1; done
for _ in 1 2 3; do
  ip netns exec ${ns}b smbclient -N -L //192.0.2.10 >/dev/null 2>&1 || true
  ip netns exec ${ns}b rpcclient -U% -c 'netshareenumall; netsharegetinfo share; srvinfo; lsaquery; wkssvc_wkstagetinfo' 192.0.2.10 >/dev/null 2>&1 || true
  ip netns exec ${ns}b rpcclient -U 'administrator%wrong' -c 'netshareenumall' 192.0.2.10 >/dev/null 2>&1 || true
  ip netns exec ${ns}b rpcclient -U% -c 'epmlookup' ncacn_ip_tcp:192.0.2.10 >/dev/null 2>&1 || true
done
pkill -TERM -o -f "^/usr/sbin/smbd --foreground --no-process-group --configfile=$conf" || true
pkill -TERM -o -f "^/usr/libexec/samba/samba-dcerpcd --foreground --no-process-group --configfile=$conf" || true
wait
perf script -i "$work/dcerpcd.data" > "$work/dcerpcd.perf"
gzip -9 -c "$work/dcerpcd.perf" > "$here/recordings/dcerpcd.$(uname -m).perf.gz"
"$pit" policy learn --format perf --name dcerpcd -o "$here/dcerpcd.learned.policy" "$work/dcerpcd.perf"
echo "wrote $here/dcerpcd.learned.policy; review it into dcerpcd.policy"
perf script -i "$work/smbd-pipes.data" > "$work/smbd-pipes.perf"
gzip -9 -c "$work/smbd-pipes.perf" > "$here/recordings/smbd-pipes.$(uname -m).perf.gz"
echo "smbd forwarding pipes, against smbd.learned.policy (+ = a syscall smbd.policy needs beyond its recording):"
"$pit" policy learn --format perf --name smbd --diff "$here/smbd.learned.policy" "$work/smbd-pipes.perf" 2>&1 >/dev/null | sed 's/^/  /' || true
