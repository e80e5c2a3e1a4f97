#!/usr/bin/env python3
# A lossy UDP relay for the DNS uplink tests and benchmark: listens on 127.0.0.1:PORT and forwards each client's
# datagrams to UPSTREAM (one upstream socket per client, so answers find their way back), dropping each datagram,
# in either direction, with probability LOSS (seeded: a run is reproducible). A control file, re-read for every
# datagram, can hold "pass N": forward only the first N client datagrams, then drop everything both ways until
# the file says otherwise ("pass -1"). COUNTFILE holds "FORWARDED DROPPED": client datagrams forwarded so far, and
# datagrams (either way) dropped by LOSS. CAPTUREFILE, if given, gets each forwarded client datagram as a line of hex
# (what an observer on the path records: the replay and passive-observer tests use it).
#   udp-relay.py PORTFILE UPSTREAM_HOST:PORT LOSS SEED CONTROLFILE COUNTFILE [CAPTUREFILE]
import collections, os, random, select, socket, sys

portfile, upstream, loss, seed, control, countfile = sys.argv[1:7]
capture = open(sys.argv[7], "a", buffering=1) if len(sys.argv) > 7 else None
uhost, uport = upstream.rsplit(":", 1)
upstream = (uhost, int(uport))
loss = float(loss)
rng = random.Random(int(seed))

listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
listener.bind(("127.0.0.1", 0))
tmp = portfile + ".tmp"
with open(tmp, "w") as f: f.write(str(listener.getsockname()[1]))
os.rename(tmp, portfile)

# client address -> upstream socket, least recently used first. Resolvers use a new source port for most queries,
# so the oldest mappings are closed beyond MAX_CLIENTS (their answers are long in or lost by then).
MAX_CLIENTS = 256
clients = collections.OrderedDict()
owners = {}     # upstream socket -> client address
forwarded = 0
dropped = 0

def record():
    with open(countfile + ".tmp", "w") as f: f.write("%d %d" % (forwarded, dropped))
    os.rename(countfile + ".tmp", countfile)

def allowance():
    try:
        words = open(control).read().split()
        if len(words) == 2 and words[0] == "pass": return int(words[1])
    except OSError:
        pass
    return -1

while True:
    ready, _, _ = select.select([listener] + list(owners), [], [])
    for s in ready:
        if s is not listener and s not in owners: continue   # closed above, in this same round
        data, address = s.recvfrom(65535)
        limit = allowance()
        held = limit >= 0 and forwarded >= limit
        if s is listener:
            if held: continue
            if rng.random() < loss:
                dropped += 1
                record()
                continue
            up = clients.get(address)
            if up is None:
                up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                clients[address] = up
                owners[up] = address
                if len(clients) > MAX_CLIENTS:
                    _, old = clients.popitem(last=False)
                    del owners[old]
                    old.close()
            else:
                clients.move_to_end(address)
            up.sendto(data, upstream)
            if capture: capture.write(data.hex() + "\n")
            forwarded += 1
            record()
        else:
            if held: continue
            if rng.random() < loss:
                dropped += 1
                record()
                continue
            listener.sendto(data, owners[s])
