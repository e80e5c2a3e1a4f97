#!/bin/bash
# The escape suite's probe (Tests/PitJailTests/Fixtures/escape-probe.c) under Pit and its peers, one markdown table:
#   probe | pit --user 0 | pit --user 65534 | smbd.toml | nmbd.toml | bwrap root | bwrap 65534 | nsjail root |
#   nsjail 65534 | host root
# Run as root from the package root after `swift build`: bash Tests/Benchmarks/escape-peers.sh
#   PIT=path/to/pit (default .build/debug/pit); bubblewrap from Debian (apt-get install -y bubblewrap); NsJail if
#   `nsjail` is in PATH (it is not packaged in Debian 12: Tests/Benchmarks/build-nsjail.sh builds it from a source
#   tree; else its columns say "not installed"). Each run is bounded by `timeout`; the script stops only the
#   listener and the sleep it started and removes only its scratch directory.
# The peers run their usual strict command-line jail with the same shape: every namespace but the network's (as the
#   services share the host's), a fresh user namespace whose one mapped id is the caller's (root: "bwrap 65534" and
#   "nsjail 65534" are uid 65534 inside, 0 outside, as each tool maps --uid/--user by default; Pit's --user 65534 is
#   host uid 65534), no capabilities, no_new_privs, a new session, a read-only /usr with the merged-/usr symlinks,
#   a minimal /dev (bwrap --dev: null zero full random urandom tty, a new devpts; NsJail has no such option: a tmpfs
#   with the first five bound in), /proc, a tmpfs /tmp, the probe read-only and /writable read-write; no seccomp
#   filter (neither tool has one by default). NsJail keeps its defaults: rlimits (nofile 32, as 4 GiB, fsize 1 MiB,
#   core 0), a read-only root and /proc; bubblewrap's root tmpfs and /proc are read-write and it sets no rlimits.
# The host targets are those of EscapeSuiteTests: a 127.0.0.1 TCP listener, a path and an abstract unix socket, a
# stand-in for the supervisor's control socket (0600 in a 0700 directory), a marker file, a host process (sleep)
# and a pty made here as the probe's stdin (TIOCSTI/TCSETS touch only that pty). A filter that kills fork (nmbd's)
# ends the probe before its first class: every class missing from a run is tried again alone with --inline.
set -u
cd "$(dirname "$0")/../.."
PIT=${PIT:-.build/debug/pit}
[ "$(id -u)" = 0 ] || { echo "escape-peers.sh: run as root" >&2; exit 2; }
[ -x "$PIT" ] || { echo "escape-peers.sh: no pit at $PIT (swift build, or PIT=...)" >&2; exit 2; }
PIT=$(readlink -f "$PIT")

work=$(mktemp -d /tmp/pit-escape-peers.XXXXXX)
chmod 755 "$work"
listener= sleeper=
# smbd.toml's and nmbd.toml's low_ports lower the host's net.ipv4.ip_unprivileged_port_start (the jails keep the
# host's network) and Pit never raises it again: put it back on the way out.
portstart=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
cleanup() {
    [ -n "$listener" ] && kill "$listener" 2>/dev/null
    [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
    wait 2>/dev/null
    echo "$portstart" > /proc/sys/net/ipv4/ip_unprivileged_port_start
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

probe=$work/escape-probe
gcc -O2 -o "$probe" Tests/PitJailTests/Fixtures/escape-probe.c || exit 1   # dynamic: see the probe's header
mkdir -m 777 "$work/writable"
mkdir -m 700 "$work/run-pit"
echo outside > "$work/host-marker"
abstract=pit-escape-peers-$$

# Listeners (TCP, path, abstract, control stand-in answering one line) in one python process.
python3 - "$work" "$abstract" > "$work/port" <<'EOF' &
import os, socket, sys, threading, time
work, abstract = sys.argv[1], sys.argv[2]
tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen(128)
def unix(address, mode=None):
    s = socket.socket(socket.AF_UNIX); s.bind(address); s.listen(128)
    if mode is not None: os.chmod(address, mode)
    return s
path, abst, control = unix(work + "/host.sock", 0o777), unix("\0" + abstract), unix(work + "/run-pit/control.sock", 0o600)
def serve(s, reply):
    while True:
        c, _ = s.accept()
        try:
            c.settimeout(1)
            if reply: c.recv(64); c.sendall(reply)
        except OSError: pass
        c.close()
for s, r in ((tcp, b""), (path, b""), (abst, b""), (control, b'{"ok":true,"stand-in":"pit control socket"}\n')):
    threading.Thread(target=serve, args=(s, r), daemon=True).start()
print(tcp.getsockname()[1], flush=True)
time.sleep(3600)
EOF
listener=$!
sleep 600 & sleeper=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")

args() {   # $1: the writable directory as the probe sees it
    echo --tcp "$port" --unix "$work/host.sock" --abstract "$abstract" --control "$work/run-pit/control.sock" \
        --writable "$1" --marker "$work/host-marker" --host-pid "$sleeper" --tty-ok
}
# Runs "$@" with a fresh pty as stdin (the probe's only terminal), stdout to the caller, bounded at 120 s.
with_pty() {
    timeout -k 5 120 python3 -c '
import os, pty, subprocess, sys
m, s = pty.openpty()
sys.exit(subprocess.run(sys.argv[1:], stdin=s, stderr=subprocess.DEVNULL).returncode)' "$@"
}

# Samba specs' host paths swapped for scratch files at the same destinations (as SambaJailTests does).
mkdir -p "$work/samba/etc" "$work/samba/data" "$work/samba/np" "$work/samba/data/run/ncalrpc/np"
for f in smb.conf passwd group hosts nsswitch.conf; do : > "$work/samba/etc/$f"; done
samba_binds=(--bind "$work/samba/etc/smb.conf:/etc/samba/smb.conf" --bind "$work/samba/etc/passwd:/etc/passwd"
             --bind "$work/samba/etc/group:/etc/group" --bind "$work/samba/etc/hosts:/etc/hosts"
             --bind "$work/samba/etc/nsswitch.conf:/etc/nsswitch.conf" --bind-rw "$work/samba/data:/data")
# smbd.toml's named-pipe binds: samba-dcerpcd's sockets (placeholders in samba/np) over placeholders in its data tree.
for p in srvsvc wkssvc lsarpc; do
    : > "$work/samba/np/$p"; : > "$work/samba/data/run/ncalrpc/np/$p"
    samba_binds+=(--bind "$work/samba/np/$p:/data/run/ncalrpc/np/$p")
done
probe_binds=(--bind "$probe:/probe" --bind-rw "$work/writable:/writable")
# The Samba specs' Landlock rules let the jail execute only under /usr and write only its data: the probe stands in
# for smbd's program, so it may run and use its scratch directory (nothing else is widened), as in EscapeSuiteTests.
probe_landlock=(--landlock-exec /probe --landlock-write /writable)
bwrap_common=(--unshare-all --share-net --die-with-parent --new-session --ro-bind /usr /usr
              --symlink usr/bin /bin --symlink usr/sbin /sbin --symlink usr/lib /lib --symlink usr/lib64 /lib64
              --proc /proc --dev /dev --tmpfs /tmp --ro-bind "$probe" /probe --bind "$work/writable" /writable --cap-drop ALL)
# NsJail's equivalent: -Mo (one run, nsjail stays as the jail's supervisor), no --chroot (its root is then an empty
# tmpfs, read-only), /proc by default, setsid and dropping every capability by default; -t bounds it under timeout.
nsjail_common=(-Mo -Q -t 100 --disable_clone_newnet -R /usr -s /usr/bin:/bin -s /usr/sbin:/sbin -s /usr/lib:/lib
               -s /usr/lib64:/lib64 -m none:/dev:tmpfs:mode=755 -B /dev/null -B /dev/zero -B /dev/full -R /dev/random
               -R /dev/urandom -T /tmp -R "$probe:/probe" -B "$work/writable:/writable")

configs=("pit --user 0" "pit --user 65534" "smbd.toml" "nmbd.toml" "bwrap root" "bwrap 65534" "nsjail root" "nsjail 65534" "host root")
declare -A cell
run_config() {   # $1 config, then the probe's extra arguments
    local config=$1; shift
    case $config in
        "pit --user 0") with_pty "$PIT" run --user 0 --group 0 "${probe_binds[@]}" -- /probe $(args /writable) "$@" ;;
        "pit --user 65534") with_pty "$PIT" run --user 65534 "${probe_binds[@]}" -- /probe $(args /writable) "$@" ;;
        smbd.toml|nmbd.toml) with_pty "$PIT" run --jail "policies/samba/$config" "${samba_binds[@]}" "${probe_binds[@]}" "${probe_landlock[@]}" -- /probe $(args /writable) "$@" ;;
        "bwrap root") with_pty bwrap "${bwrap_common[@]}" -- /probe $(args /writable) "$@" ;;
        "bwrap 65534") with_pty bwrap "${bwrap_common[@]}" --uid 65534 --gid 65534 -- /probe $(args /writable) "$@" ;;
        "nsjail root") with_pty nsjail "${nsjail_common[@]}" --user 0 --group 0 -- /probe $(args /writable) "$@" ;;
        "nsjail 65534") with_pty nsjail "${nsjail_common[@]}" --user 65534 --group 65534 -- /probe $(args /writable) "$@" ;;
        "host root") with_pty "$probe" $(args "$work/writable") "$@" ;;
    esac
}

classes=$("$probe" --list)
for config in "${configs[@]}"; do
    case $config in
        smbd.toml|nmbd.toml) [ -x /usr/sbin/smbd ] || { for c in $classes; do cell[$config,$c]="(no Samba)"; done; continue; } ;;
        bwrap*) command -v bwrap >/dev/null || { for c in $classes; do cell[$config,$c]="(no bwrap)"; done; continue; } ;;
        nsjail*) command -v nsjail >/dev/null || { for c in $classes; do cell[$config,$c]="(not installed)"; done; continue; } ;;
    esac
    # The jail must start for its cells to mean anything: a spec Pit refuses (exit 125 before the probe runs) would
    # otherwise count every class as "blocked (exit 125)".
    if [ "$(run_config "$config" --list)" != "$classes" ]; then
        for c in $classes; do cell[$config,$c]="(jail did not start)"; done; continue
    fi
    out=$(run_config "$config")
    while IFS=$'\t' read -r name verdict detail; do
        [ -n "$verdict" ] && cell[$config,$name]=$verdict
    done <<< "$out"
    for c in $classes; do
        [ -n "${cell[$config,$c]:-}" ] && continue
        line=$(run_config "$config" --inline "$c"); status=$?
        verdict=$(printf '%s\n' "$line" | awk -F'\t' -v c="$c" '$1 == c { print $2 }')
        if [ -n "$verdict" ]; then cell[$config,$c]=$verdict
        elif [ "$status" -gt 128 ]; then cell[$config,$c]="blocked (SIG$(kill -l $((status - 128))))"
        else cell[$config,$c]="blocked (exit $status)"; fi
    done
done

printf '| probe |'; for config in "${configs[@]}"; do printf ' %s |' "$config"; done; echo
printf '|---|'; for config in "${configs[@]}"; do printf -- '---|'; done; echo
for c in $classes; do
    printf '| %s |' "$c"
    for config in "${configs[@]}"; do printf ' %s |' "${cell[$config,$c]:--}"; done
    echo
done
printf '| **ESCAPED** |'
for config in "${configs[@]}"; do
    n=0; for c in $classes; do [ "${cell[$config,$c]:-}" = ESCAPED ] && n=$((n + 1)); done
    printf ' **%d** |' "$n"
done
echo
