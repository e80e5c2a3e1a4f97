#!/usr/bin/env bash
# Link up -> usable IPv4 address by DHCP: pit supervise's own client (persona [dhcp], windows-10 profile) against
# Debian's ISC dhclient and busybox udhcpc, each in the same namespace pair with Debian's dnsmasq as the server
# (--no-ping, a two-minute lease). Each run starts from no client state (no lease file, no address, link down) and
# ends when the address is on the interface (`ip -4 addr`, polled every 5 ms). For dhclient and udhcpc the clock
# starts when the link is set up and the client started; for pit, when `pit supervise` is started with the link
# down: its persona apply brings the link up, so pit's time includes its own start-up. pit's client probes the
# offered address with ARP (RFC 5227-style, 2 s) before taking it; dhclient (Debian's script) and udhcpc (without
# -a) do not, so about 2 s of pit's time is that check. Prints a table; asserts nothing.
#   bash Tests/Benchmarks/dhcp.sh [RUNS]          PIT=path/to/pit to use a given binary (default: a release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
bash image/install-deps --bench >/dev/null   # dnsmasq; with --bench, isc-dhcp-client and busybox too
if [ -z "${PIT:-}" ]; then
  swift build -c release --product pit >/dev/null
  PIT=$PWD/.build/release/pit
fi
work=$(mktemp -d)
tag=$$
dev=pitbd$tag srv=pitbs$tag nic=be$tag peer=bp$tag
cleanup() {
  local pids; pids=$(jobs -p)
  if [ -n "$pids" ]; then kill -TERM $pids 2>/dev/null || true; wait $pids 2>/dev/null || true; fi
  ip netns del "$dev" 2>/dev/null || true; ip netns del "$srv" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$dev"; ip netns add "$srv"
ip link add "$nic" type veth peer name "$peer"
ip link set "$nic" netns "$dev"; ip link set "$peer" netns "$srv"
ip -n "$srv" addr add 192.0.2.20/24 dev "$peer"; ip -n "$srv" link set "$peer" up; ip -n "$dev" link set lo up
nsenter --net=/run/netns/"$srv" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --port=0 \
  --user=root --group=root --interface="$peer" --bind-interfaces --pid-file= --no-ping \
  --dhcp-range=192.0.2.50,192.0.2.99,255.255.255.0,2m --dhcp-leasefile="$work/leases" \
  --dhcp-option=option:router,192.0.2.20 --log-facility="$work/dnsmasq.log" &
sleep 0.5

now_ms() { date +%s%3N; }
reset_link() { ip -n "$dev" link set "$nic" down; ip -n "$dev" addr flush dev "$nic" scope global; }
wait_address() {  # prints the ms from $1 to the first global IPv4 address on the interface (30 s at most)
  local start=$1 deadline=$(( $1 + 30000 ))
  while [ "$(now_ms)" -lt $deadline ]; do
    if ip -n "$dev" -4 -o addr show dev "$nic" scope global | grep -q inet; then echo $(( $(now_ms) - start )); return; fi
    sleep 0.005
  done
  echo timeout
}
# The client scripts only put the address on the interface: Debian's dhclient-script would also write the host's
# /etc/resolv.conf (this script shares the host's mount namespace).
cat > "$work/udhcpc.sh" <<'EOF'
#!/bin/sh
case "$1" in bound|renew) ip addr add "$ip/${mask:-24}" dev "$interface" ;; esac
EOF
cat > "$work/dhclient.sh" <<'EOF'
#!/bin/sh
case "$reason" in BOUND|RENEW|REBOOT) ip addr add "$new_ip_address/24" dev "$interface" ;; esac
EOF
chmod +x "$work/udhcpc.sh" "$work/dhclient.sh"

# pit: a persona with [dhcp] and one idle jail; the watchdog is a FIFO with a reader.
mkfifo "$work/wd"
cat "$work/wd" > /dev/null &
cat > "$work/persona.toml" <<EOF
hostname = "ws-bench"
interface = "$nic"
mac = "02:11:32:aa:bb:cd"
[dhcp]
enabled = true
profile = "windows-10"
EOF
echo 'command = ["/bin/sh", "-c", "sleep 1000"]' > "$work/idle.toml"
cat > "$work/device.toml" <<EOF
persona = "persona.toml"
data_dir = "$work/data"
control_socket = "$work/run/control.sock"
[watchdog]
device = "$work/wd"
timeout_s = 60
[[jails]]
name = "idle"
spec = "idle.toml"
EOF

declare -A results
for client in pit dhclient udhcpc; do
  results[$client]=""
  for _ in $(seq "$runs"); do
    reset_link
    rm -f "$work/data/dhcp-lease" "$work/dhclient.leases"
    start=$(now_ms)
    case $client in
      pit)
        nsenter --net=/run/netns/"$dev" unshare --uts -- "$PIT" supervise --config "$work/device.toml" 2>"$work/pit.log" &
        ;;
      dhclient)
        ip -n "$dev" link set "$nic" up
        nsenter --net=/run/netns/"$dev" dhclient -d -1 -pf "$work/dhclient.pid" -lf "$work/dhclient.leases" \
          -sf "$work/dhclient.sh" "$nic" 2>/dev/null &
        ;;
      udhcpc)
        ip -n "$dev" link set "$nic" up
        nsenter --net=/run/netns/"$dev" busybox udhcpc -f -q -n -i "$nic" -s "$work/udhcpc.sh" >/dev/null 2>&1 &
        ;;
    esac
    pid=$!
    took=$(wait_address "$start")
    results[$client]+="$took "
    kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
    if [ $client = pit ]; then cat "$work/wd" > /dev/null & fi   # the reader ends with each pit
  done
done

stats() {  # min median max of the numbers in $1 (timeouts shown as such)
  local sorted; sorted=$(tr ' ' '\n' <<<"$1" | grep -E '^[0-9]+$' | sort -n)
  local n; n=$(grep -c . <<<"$sorted" || true)
  [ "$n" -gt 0 ] || { echo "- - -"; return; }
  echo "$(head -1 <<<"$sorted") $(sed -n "$(( (n + 1) / 2 ))p" <<<"$sorted") $(tail -1 <<<"$sorted")"
}
printf '%-10s %6s %8s %8s %8s   %s\n' client runs min_ms median_ms max_ms all
for client in pit dhclient udhcpc; do
  read -r mn md mx <<<"$(stats "${results[$client]}")"
  printf '%-10s %6s %8s %8s %8s   %s\n' "$client" "$runs" "$mn" "$md" "$mx" "${results[$client]}"
done
