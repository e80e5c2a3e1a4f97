// uplink-bench: delivery throughput and append-to-receiver latency of each uplink transport against a local
// receiver (python3, loopback; HTTPS with a CA and certificate made by the openssl CLI).
//
//   swift build -c release --product uplink-bench && .build/release/uplink-bench [--events N] [--latency-events N]
//
// Throughput: N events are stored first, then the agent's pass() runs in this process until the transport's
// cursor reaches the last seq (default batch sizes, cursor commits with fsync included).
// Latency: the real agent (`pit uplink-agent`, next to this binary) runs while events are appended one at a time,
// 5 ms apart; latency is the receiver's arrival time minus the moment `Spool.append` returned (CLOCK_REALTIME).
import Glibc
import PitUplink

let receiverSource = #"""
import sys, os, json, re, socket, threading, ssl, http.server, time
mode, portfile, out = sys.argv[1], sys.argv[2], sys.argv[3]
f = open(out, "a"); lock = threading.Lock()
def rec(seqs):
    t = time.time_ns()
    with lock:
        for s in seqs: f.write("%d %d\n" % (s, t))
        f.flush()
def announce(p):
    open(portfile + ".tmp", "w").write(str(p)); os.rename(portfile + ".tmp", portfile)
SEQ = re.compile(rb'seq="(\d+)"')
if mode == "syslog-tcp":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); s.listen(64)
    announce(s.getsockname()[1])
    def serve(c):
        buf = b""
        while True:
            d = c.recv(262144)
            if not d: break
            buf += d; seqs = []
            while True:
                sp = buf.find(b" ")
                if sp < 0: break
                n = int(buf[:sp])
                if len(buf) < sp + 1 + n: break
                seqs.append(int(SEQ.search(buf[:sp + 1 + n]).group(1))); buf = buf[sp + 1 + n:]
            rec(seqs)
        c.close()
    while True:
        c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
elif mode == "syslog-udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("127.0.0.1", 0)); announce(s.getsockname()[1])
    while True:
        d, _ = s.recvfrom(70000); rec([int(SEQ.search(d).group(1))])
elif mode == "https":
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            rec([e["seq"] for e in json.loads(body)])
            self.send_response(200); self.send_header("Content-Length", "0"); self.send_header("Connection", "close"); self.end_headers()
    class S(http.server.ThreadingHTTPServer): allow_reuse_address = True
    srv = S(("127.0.0.1", 0), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True); announce(srv.server_address[1]); srv.serve_forever()
elif mode == "unix":
    s = socket.socket(socket.AF_UNIX); s.bind(portfile + ".sock"); s.listen(16); announce(0)
    def serve(c):
        fl = c.makefile("rb")
        for line in fl:
            seq = json.loads(line)["seq"]; rec([seq]); c.sendall(b"ok %d\n" % seq)
        c.close()
    while True:
        c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
"""#

func fail(_ message: String) -> Never {
    let bytes = Array("uplink-bench: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

func writeFile(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fail("open \(path)") }
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func readFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        out += buffer[0..<n]
    }
    return String(decoding: out, as: UTF8.self)
}

func spawn(_ argv: [String], log: String) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var pid: pid_t = 0
    let args = argv.map { strdup($0) } + [nil]
    let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
    guard posix_spawn(&pid, argv[0], &actions, nil, args, env) == 0 else { fail("spawn \(argv[0])") }
    return pid
}

func stop(_ pid: pid_t) {
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
}

func nowNs(_ clock: clockid_t = CLOCK_REALTIME) -> Int64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func ownDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let path = String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
}

var events = 2000
var latencyEvents = 300
var arguments = CommandLine.arguments.dropFirst()
while let arg = arguments.popFirst() {
    switch arg {
    case "--events": events = Int(arguments.popFirst() ?? "") ?? events
    case "--latency-events": latencyEvents = Int(arguments.popFirst() ?? "") ?? latencyEvents
    default: fail("usage: uplink-bench [--events N] [--latency-events N]")
    }
}
let pit = ownDirectory() + "/pit"
guard access(pit, X_OK) == 0 else { fail("\(pit) not found: build the pit product too") }

var template = Array("/tmp/uplink-bench.XXXXXX".utf8CString)
guard let made = mkdtemp(&template) else { fail("mkdtemp") }
let root = String(cString: made)
defer { _ = system("rm -rf '\(root)'") }
writeFile(root + "/receiver.py", receiverSource)
guard system("""
    cd '\(root)' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 2 -subj '/CN=Bench CA' 2>/dev/null && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null && printf 'subjectAltName=DNS:localhost\\n' > ext.cnf \
    && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
    -extfile ext.cnf 2>/dev/null && echo bench-key > hmac.key
    """) == 0 else { fail("openssl") }

struct Row { var name: String; var perSecond: Double; var p50: Double; var p99: Double; var max: Double }
var rows: [Row] = []
let event = PitEvent.smbAccess(user: "guest", client: "192.0.2.7", share: "finance", file: "Q3/payroll.xlsx",
                               operation: "read", status: "ok", device: "pit-bench")

for mode in ["syslog-tcp", "syslog-udp", "https", "unix"] {
    let dir = root + "/" + mode
    mkdir(dir, 0o755)
    let portFile = dir + "/port"
    let out = dir + "/received"
    var argv = ["/usr/bin/python3", root + "/receiver.py", mode, portFile, out]
    if mode == "https" { argv += [root + "/server.pem", root + "/server.key"] }
    let receiver = spawn(argv, log: dir + "/receiver.log")
    defer { stop(receiver) }
    var waited = 0
    while access(portFile, F_OK) != 0 { usleep(10_000); waited += 1; if waited > 1000 { fail("receiver \(mode)") } }
    let port = readFile(portFile)
    let uplink: String
    switch mode {
    case "syslog-tcp": uplink = "type = \"syslog\"\nprotocol = \"tcp\"\nhost = \"127.0.0.1\"\nport = \(port)"
    case "syslog-udp": uplink = "type = \"syslog\"\nprotocol = \"udp\"\nhost = \"127.0.0.1\"\nport = \(port)"
    case "https":
        uplink = "type = \"https\"\nurl = \"https://localhost:\(port)/e\"\nca_file = \"\(root)/ca.pem\"\n"
            + "hmac_key_file = \"\(root)/hmac.key\""
    default: uplink = "type = \"unix\"\npath = \"\(portFile).sock\""
    }
    let configPath = dir + "/device.toml"
    writeFile(configPath, "data_dir = \"\(dir)/data\"\n\n[[uplink]]\nname = \"bench\"\n\(uplink)\n")
    let config: UplinkAgentConfig
    do { config = try UplinkConfig.load(devicePath: configPath) } catch { fail("\(error)") }
    let spool: Spool
    do { spool = try Spool.open(directory: config.spoolDirectory, limitBytes: 64 << 20) } catch { fail("\(error)") }

    // Throughput: a backlog drained by the agent's own pass(), in this process.
    do { try spool.append(contentsOf: Array(repeating: event, count: events).map { var e = $0; e.id = EventID.make(); return e }) }
    catch { fail("\(error)") }
    var agent = UplinkAgent(config: config)
    let start = nowNs(CLOCK_MONOTONIC)
    while (try? Spool.readCursor(directory: config.spoolDirectory, transport: "bench")) ?? 0 < UInt64(events) {
        _ = agent.pass()
        if let e = agent.snapshot().transports.first?.lastError { fail("\(mode): \(e)") }
    }
    let seconds = Double(nowNs(CLOCK_MONOTONIC) - start) / 1e9

    // Latency: the real agent process, events appended one by one.
    let agentPID = spawn([pit, "uplink-agent", "--config", configPath], log: dir + "/agent.log")
    defer { stop(agentPID) }
    usleep(300_000)
    var appended: [UInt64: Int64] = [:]
    for _ in 0..<latencyEvents {
        var e = event
        e.id = EventID.make()
        guard let stored = try? spool.append(e), let seq = stored.seq else { fail("append") }
        appended[seq] = nowNs()
        usleep(5_000)
    }
    let last = UInt64(events + latencyEvents)
    var arrivals: [UInt64: Int64] = [:]
    for _ in 0..<1000 {
        arrivals = [:]
        for line in readFile(out).split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let seq = UInt64(parts[0]), let t = Int64(parts[1]), arrivals[seq] == nil { arrivals[seq] = t }
        }
        if arrivals[last] != nil { break }
        usleep(10_000)
    }
    var latencies = appended.compactMap { seq, t in arrivals[seq].map { Double($0 - t) / 1e6 } }.sorted()
    if latencies.isEmpty { latencies = [.nan] }
    func pct(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    let lost = latencyEvents - appended.keys.filter { arrivals[$0] != nil }.count
    if lost > 0 { print("\(mode): \(lost) of \(latencyEvents) latency events not received") }
    rows.append(Row(name: mode, perSecond: Double(events) / seconds, p50: pct(0.5), p99: pct(0.99), max: latencies.last!))
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
func fmt(_ v: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let r = (v * scale).rounded() / scale
    return decimals == 0 ? String(Int(r)) : String(r)
}
print("uplink-bench: \(events) events backlog (throughput), \(latencyEvents) events appended 5 ms apart (latency)")
print(pad("transport", 11) + pad("events/s", 11) + pad("p50 ms", 9) + pad("p99 ms", 9) + pad("max ms", 9))
for r in rows {
    print(pad(r.name, 11) + pad(fmt(r.perSecond, 0), 11) + pad(fmt(r.p50, 2), 9) + pad(fmt(r.p99, 2), 9) + pad(fmt(r.max, 2), 9))
}
