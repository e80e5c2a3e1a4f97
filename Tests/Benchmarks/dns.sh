#!/usr/bin/env bash
# The DNS uplink through a real resolver: dns-bench (the device side, as the agent drives it) asks unbound on
# 127.0.0.1, whose stub zone sends the console's zone to `pit console-dns` on 127.0.0.2. Three runs:
#   1. no loss;
#   2. 30% of datagrams dropped each way between the device and unbound (Tests/Benchmarks/udp-relay.py);
#   3. 30% dropped each way between unbound and the console (the resolver's own retries in the path). unbound's
#      defaults give up on a server that loses that much (its retransmit timeout climbs to 2 minutes and it answers
#      SERVFAIL until a probe gets through); this run sets infra-cache-max-rtt: 1000 and infra-keep-probing: yes.
# Prints events/s, DNS bytes on the wire per event and violation-to-console latency p50/p99 for each, first with
# one event per delivery (how the sender worked before pipelining), then a backlog of BATCH events at a time (the
# agent's batch; latency then counts from the hand-over of the batch).
#   bash Tests/Benchmarks/dns.sh [EVENTS] [BATCH]      (ONE_AT_A_TIME=0: skip the one-event-per-delivery runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-300}
batch=${2:-100}
bash image/install-deps >/dev/null
swift build -c release --product pit >/dev/null
swift build -c release --product dns-bench >/dev/null
bin=$PWD/.build/release
relay=$PWD/Tests/Benchmarks/udp-relay.py
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
zone=abc123.console.example
port() { python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"; }
mkdir "$work/keys"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/keys/d1.key"
cp "$work/keys/d1.key" "$work/device.key"
chmod 600 "$work/keys/d1.key" "$work/device.key"   # pit refuses keys others can read
cport=$(port 127.0.0.2)
"$bin/pit" console-dns --zone $zone --listen 127.0.0.2:$cport --keys "$work/keys" --output "$work/console.jsonl" \
    2> "$work/console.log" & pids+=($!)

unbound_on() {  # unbound_on PORT STUB_ADDR [EXTRA SERVER LINE...]
  local extra="" line conf
  for line in "${@:3}"; do extra+="  $line"$'\n'; done
  conf=$(< Tests/Benchmarks/unbound.conf.in)
  conf=${conf//@PORT@/$1}; conf=${conf//@DIRECTORY@/$work}; conf=${conf//@ZONE@/$zone}
  conf=${conf//@STUB@/$2}; conf=${conf//@EXTRA@/$extra}
  printf '%s\n' "$conf" > "$work/unbound-$1.conf"
  /usr/sbin/unbound -d -c "$work/unbound-$1.conf" 2> "$work/unbound-$1.log" & pids+=($!)
  for _ in $(seq 100); do grep -q "start of service" "$work/unbound-$1.log" 2>/dev/null && return; sleep 0.05; done
  echo "unbound did not start" >&2; exit 1
}
relay_to() {  # relay_to NAME UPSTREAM LOSS -> prints the relay's port
  python3 "$relay" "$work/$1.port" "$2" "$3" 1 "$work/$1.control" "$work/$1.count" & pids+=($!)
  for _ in $(seq 100); do [ -s "$work/$1.port" ] && break; sleep 0.05; done
}
bench() {
  [ "${ONE_AT_A_TIME:-1}" = 0 ] ||
  "$bin/dns-bench" --resolver "$1" --zone $zone --device d1 --key "$work/device.key" --events "$2" --label "$3" --batch 1
  "$bin/dns-bench" --resolver "$1" --zone $zone --device d1 --key "$work/device.key" --events "$2" --label "$3" --batch "$batch"
}

rport=$(port 127.0.0.1); unbound_on $rport 127.0.0.2@$cport
bench 127.0.0.1:$rport "$count" "no loss"

relay_to near 127.0.0.1:$rport 0.3
bench 127.0.0.1:$(cat "$work/near.port") $((count / 3)) "30% loss device<->resolver"

relay_to far 127.0.0.2:$cport 0.3
rport2=$(port 127.0.0.1); unbound_on $rport2 127.0.0.1@$(cat "$work/far.port") "infra-cache-max-rtt: 1000" "infra-keep-probing: yes"
bench 127.0.0.1:$rport2 $((count / 6)) "30% loss resolver<->console"
echo "console lines: $(wc -l < "$work/console.jsonl")"
