#!/bin/bash
# Builds NsJail (https://github.com/google/nsjail), Pit's peer in the benchmarks and in escape-peers.sh, from a
# source tree the caller provides, and installs PREFIX/bin/nsjail. NsJail is not packaged in Debian 12.
#
#   bash Tests/Benchmarks/build-nsjail.sh SRC_DIR [PREFIX]        (as root; PREFIX defaults to /usr/local)
#
# This script downloads nothing but Debian packages (CI has no other network): SRC_DIR is an NsJail checkout with
# its kafel submodule (https://github.com/google/kafel) already in SRC_DIR/kafel, e.g.
#   git clone https://github.com/google/nsjail && git -C nsjail submodule update --init
# or two `git archive` trees, kafel's at the commit nsjail pins (`git -C nsjail ls-tree HEAD kafel`).
# Tested with nsjail 3.6-75-gd6454b4 and kafel 76d0f41 on Debian 12 (g++ 12, protobuf 3.21, libnl 3.7).
#
# Environment:
#   LINK=static-pie (default) or dynamic. static-pie links protobuf, libnl, libstdc++ and glibc in (about 7 MB
#     unstripped, 5.8 MB stripped, and a faster start: no dynamic loader, no relocation of libprotobuf); glibc then
#     warns that getpwnam/getgrnam need the host's NSS libraries at run time, which matters only for --user NAME
#     (numeric ids need none). dynamic is the upstream Makefile's own link (1.4 MB, needs libprotobuf32 and
#     libnl-route-3-200 at run time).
#   NSJAIL_VERSION: the version to record when SRC_DIR is not a git checkout (else `git describe`).
#   JOBS (default 2), FORCE=1 to rebuild when PREFIX already holds this version built the same way.
#
# Idempotent and bounded: apt-get runs only for missing packages (each call under `timeout`), the build happens
# in a scratch copy of SRC_DIR (SRC_DIR is left untouched; the copy is removed on exit) under `timeout`, the binary
# is installed with install(1) and a stamp PREFIX/share/nsjail/build-info records version and link mode, so a
# second run with the same tree does nothing. Prints the version and the installed binary's size and link mode.
#
# Running the jail as root on a systemd hybrid-cgroup host (kernel 6.x): no flags are needed for a plain jail
# (`nsjail -Mo --chroot / --user 99999 --group 99999 -- /bin/true`). The cgroup v1 limits (--cgroup_mem_max,
# --cgroup_pids_max, ...) need their parent made first (mkdir /sys/fs/cgroup/pids/NSJAIL, likewise memory/,
# cpu/; else "mkdir(.../NSJAIL/NSJAIL.PID) failed: No such file or directory"); cgroup v2 (--use_cgroupv2) needs
# the controllers enabled in the hierarchy it is pointed at (--cgroupv2_mount), which the hybrid layout's
# /sys/fs/cgroup/unified does not have.
set -euo pipefail

usage() { echo "usage: $0 SRC_DIR [PREFIX]   (SRC_DIR: nsjail sources with kafel/ in it; PREFIX default /usr/local)" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
SRC=$(readlink -f "$1")
PREFIX=${2:-/usr/local}
LINK=${LINK:-static-pie}
JOBS=${JOBS:-2}
case $LINK in static-pie|dynamic) ;; *) echo "build-nsjail.sh: LINK must be static-pie or dynamic" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "build-nsjail.sh: run as root (apt-get, install to $PREFIX)" >&2; exit 2; }
[ -f "$SRC/nsjail.cc" ] && [ -f "$SRC/Makefile" ] || { echo "build-nsjail.sh: $SRC is not an nsjail source tree" >&2; exit 2; }
# The upstream Makefile runs `git submodule update --init` (a download) when kafel/Makefile is missing: refuse.
[ -f "$SRC/kafel/Makefile" ] && [ -f "$SRC/kafel/include/kafel.h" ] || {
    echo "build-nsjail.sh: no kafel in $SRC/kafel (put google/kafel's tree there: git submodule update --init)" >&2; exit 2; }

if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
    version=$(git -C "$SRC" describe --tags --always --dirty 2>/dev/null || git -C "$SRC" rev-parse --short HEAD)
    kafel=$(git -C "$SRC/kafel" rev-parse --short HEAD 2>/dev/null || echo unknown)
else
    version=${NSJAIL_VERSION:-unknown}
    kafel=${KAFEL_VERSION:-unknown}
fi
info="nsjail $version kafel $kafel link $LINK"
stamp=$PREFIX/share/nsjail/build-info

report() {
    local bin=$PREFIX/bin/nsjail
    echo "build-nsjail.sh: $(cat "$stamp")"
    echo "build-nsjail.sh: $bin $(stat -c %s "$bin") bytes, $(file -b "$bin" | cut -d, -f1-2,4 | sed 's/, BuildID.*//')"
    "$bin" --help 2>&1 | head -1 || true
}

if [ "${FORCE:-0}" != 1 ] && [ "$version" != unknown ] && [ -x "$PREFIX/bin/nsjail" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$info" ]; then
    echo "build-nsjail.sh: $PREFIX/bin/nsjail is already $info (FORCE=1 rebuilds)"
    report
    exit 0
fi

# Build dependencies, from Debian only. apt-get update runs only when an install fails (stale lists).
deps=(g++ make pkg-config bison flex protobuf-compiler libprotobuf-dev libnl-3-dev libnl-route-3-dev zlib1g-dev file)
missing=()
for p in "${deps[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "build-nsjail.sh: apt-get install ${missing[*]}"
    apt_install() { DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"; }
    apt_install || { timeout 600 apt-get -o DPkg::Lock::Timeout=600 update && apt_install; }
fi

work=$(mktemp -d /tmp/build-nsjail.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
cp -a "$SRC/." "$work/src"
cd "$work/src"
make clean >/dev/null 2>&1 || true           # a tree built before must not lend its objects (or its link)

echo "build-nsjail.sh: building $info with make -j$JOBS"
timeout 1800 make -j"$JOBS" nsjail >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; echo "build-nsjail.sh: make failed" >&2; exit 1; }

if [ "$LINK" = static-pie ]; then
    # The Makefile's own objects, relinked with everything static: the variable comes from the Makefile itself.
    objs=$(printf 'print-objs:\n\t@echo $(OBJS)\n' | make -s --no-print-directory -f Makefile -f - print-objs)
    # shellcheck disable=SC2086,SC2046
    timeout 600 g++ -static-pie -o nsjail.static $objs kafel/libkafel.a -Wl,-z,noexecstack \
        $(pkg-config --static --libs protobuf libnl-route-3.0) -lpthread 2>"$work/link.log" ||
        { cat "$work/link.log" >&2; echo "build-nsjail.sh: static-pie link failed (LINK=dynamic links as upstream)" >&2; exit 1; }
    grep -v -e 'in statically linked applications requires at runtime' -e 'in function' "$work/link.log" >&2 || true
    mv nsjail.static nsjail
fi

# Smoke test before installing: a jail that runs /bin/true as an unmapped-looking uid (needs root and userns).
timeout 30 ./nsjail -Q -Mo --chroot / --user 99999 --group 99999 -- /bin/true ||
    echo "build-nsjail.sh: warning: the built nsjail could not run /bin/true in a jail here (installing anyway)" >&2

install -d -m 755 "$PREFIX/bin" "$PREFIX/share/nsjail" "$PREFIX/share/man/man1"
install -m 755 nsjail "$PREFIX/bin/nsjail"
install -m 644 nsjail.1 "$PREFIX/share/man/man1/nsjail.1"
echo "$info" > "$stamp"
report
