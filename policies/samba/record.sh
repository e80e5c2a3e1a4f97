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
echo "wrote $here/smbd.learned.policy (merge of the perf and strace recordings); review it into smbd.policy"
