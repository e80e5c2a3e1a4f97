// dns-bench: the DNS uplink through a real resolver, as the agent drives it (events one after another, each
// delivered only when the console's answer says it holds the whole message). Run by Tests/Benchmarks/dns.sh,
// which starts unbound, `pit console-dns` and optionally the lossy relay.
//
//   dns-bench --resolver 127.0.0.1:PORT --zone Z --device D --key FILE [--events N] [--label TEXT] [--batch N]
//
// --batch: events handed to the transport at once (the agent's `batch`, default 100 there): 1 is one event at a
// time, as the sender worked before pipelining; with more, latency counts from the hand-over of the batch (a
// backlog draining) to each event's completing answer.
//
// Prints events/s, DNS bytes on the wire per event (queries + answers, DNS payload without IP/UDP headers),
// queries per event, and latency p50/p99: from handing a fresh violation event to the transport until the
// console's completing acknowledgement, which it sends only after the event's line is written and fsynced.
import Glibc
import PitUplink

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else { fatalError("usage: see the header of Tests/Benchmarks/dns-bench/main.swift") }
    options[String(flag.dropFirst(2))] = value
}
let count = Int(options["events"] ?? "") ?? 300
let label = options["label"] ?? "dns"
let batch = max(1, Int(options["batch"] ?? "") ?? 1)
var config = TransportConfig(name: "bench", kind: .dns(.init(zone: options["zone"]!, device: options["device"]!,
                                                              keyFile: options["key"]!, resolver: options["resolver"]!,
                                                              heartbeatMs: 0)))
config.timeoutMs = 30_000
var client = try TransportClient(config, defaultDevice: "bench")
client.recordDNSCompletions()

func nowNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

// Seqs continue from the wall clock so repeated runs against one console are never taken for replays.
let firstSeq = UInt64(time(nil)) * 1000
var latencies: [Double] = []
var failures = 0
let start = nowNs()
var events: [PitEvent] = []
for i in 0..<count {
    var event = PitEvent.violation(jail: "smbd", pid: 4242 + Int32(i), comm: "smbd", exe: "/usr/sbin/smbd", arch: "aarch64",
                                   syscall: "ptrace", nr: 117, args: [16, UInt64(4242 + i), 0, 0, 0, 0], action: .kill,
                                   policy: "/etc/pit/smbd.policy", policyHash: String(repeating: "ab", count: 32),
                                   device: "canary-01")
    event.seq = firstSeq + UInt64(i)
    events.append(event)
}
var next = 0
while next < count {
    let slice = Array(events[next..<min(next + batch, count)])
    let t0 = nowNs()
    let before = client.dnsStats!.completions.count
    let delivery = client.deliver(slice)
    let done = client.dnsStats!.completions[before...]
    for ms in done { latencies.append(Double(ms * 1_000_000 - t0) / 1e6) }
    if delivery.acknowledged == 0 {
        failures += 1
        print("events from \(next): \(delivery.error.map(String.init(describing:)) ?? "?")")
        next += 1
    } else {
        next += delivery.acknowledged
    }
}
let seconds = Double(nowNs() - start) / 1e9
let stats = client.dnsStats!
latencies.sort()
func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
func fixed(_ v: Double, _ digits: Int = 1) -> String {
    let scale = pow(10.0, Double(digits))
    return String(Double(Int((v * scale).rounded())) / scale)
}
print("\(label), batch \(batch): \(count) violation events, \(failures) failed, \(fixed(seconds, 2)) s")
print("  events/s: \(fixed(Double(count) / seconds))")
print("  bytes on the wire per event: \(stats.bytesSent / count) sent + \(stats.bytesReceived / count) received (DNS payload)")
print("  queries per event: \(fixed(Double(stats.queries) / Double(count), 2)), TCP fallbacks: \(stats.tcpFallbacks)")
print("  latency ms: p50 \(fixed(percentile(latencies, 0.5))), p99 \(fixed(percentile(latencies, 0.99))), max \(fixed(latencies.last ?? 0))")
