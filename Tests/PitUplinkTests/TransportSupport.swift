import Glibc
import XCTest
import FoundationEssentials
import PitTestSupport
@testable import PitUplink

/// Real receivers for the transport tests, in Python (python3 is on every dev box and CI image; it has TLS and an
/// HTTP server built in). Each records what it accepted as JSON lines in an output file the test reads:
/// `{"seq":N,"id":"…","line":"<event JSON>","pri":169,"device":"…"}` per event, `{"bad":"reason"}` for a frame that
/// breaks the RFC 5424/6587 framing or whose structured data disagrees with the JSON, `{"rejected":"…"}` for an
/// HTTPS request refused (bad HMAC). The receiver binds port 0 (or the given one) and writes the port to PORTFILE.
enum ReceiverScript {
    static let source = #"""
import sys, os, json, re, socket, threading, hmac, hashlib, ssl, socketserver, http.server

mode, portfile, out = sys.argv[1], sys.argv[2], sys.argv[3]
port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
lock = threading.Lock()
outf = open(out, "a")

def record(obj):
    with lock:
        outf.write(json.dumps(obj, sort_keys=True) + "\n")
        outf.flush()

SEV = {"violation": 1, "crash_loop": 4, "watchdog_reset": 4, "safe_mode": 4, "config_error": 4,
       "service_exit": 5, "restart": 5, "smb_access": 5, "smb_logon": 5, "smb_enumeration": 5, "boot": 6, "uplink_test": 6, "health": 6,
       "config_applied": 6, "control_refused": 4, "spool_damage": 3, "violations_suppressed": 1, "smb_alerts_suppressed": 5,
       "runtime_fault": 4, "decoy_access": 5, "uplink_alarm": 3, "dhcp_lease": 5, "dhcp_lost": 4}
RX = re.compile(rb'^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[pit@32473 id="([0-9a-f]{32})"(?: seq="(\d+)")? kind="([a-z_]+)"(?: version="[^"\]]*")?\] (.*)$', re.S)

def check_syslog(msg, truncated_ok=False):
    m = RX.match(msg)
    if not m:
        return record({"bad": "rfc5424 header: " + msg[:120].decode("utf-8", "replace")})
    pri, ts, host, app, procid, msgid, eid, seq, kind, body = m.groups()
    pri = int(pri)
    if procid != b"-" or msgid.decode() != kind.decode():
        return record({"bad": "procid/msgid"})
    if pri % 8 != SEV.get(kind.decode(), -1) or pri // 8 != 21:
        return record({"bad": "pri %d for %s" % (pri, kind.decode())})
    try:
        body.decode("utf-8")
        ev = json.loads(body)
    except Exception as e:
        if truncated_ok and len(msg) >= 60000:
            return record({"truncated": True, "id": eid.decode(), "seq": int(seq or 0), "size": len(msg)})
        return record({"bad": "json: %s" % e})
    if ev.get("id") != eid.decode() or str(ev.get("seq", "")) != (seq or b"").decode() or ev.get("kind") != kind.decode():
        return record({"bad": "sd disagrees with json"})
    if ev.get("time") != ts.decode():
        return record({"bad": "timestamp"})
    record({"id": eid.decode(), "seq": int(seq or 0), "line": body.decode(), "pri": pri, "host": host.decode(), "app": app.decode()})

def serve_tcp_syslog(conn):
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            break
        buf += data
        while True:
            sp = buf.find(b" ")
            if sp < 0:
                if len(buf) > 10: record({"bad": "no length"}); return conn.close()
                break
            if not buf[:sp].isdigit() or buf[:1] == b"0":
                record({"bad": "bad octet count %r" % buf[:20]}); return conn.close()
            n = int(buf[:sp])
            if len(buf) < sp + 1 + n:
                break
            check_syslog(buf[sp + 1: sp + 1 + n])
            buf = buf[sp + 1 + n:]
    # A partial frame at EOF is a sender killed mid-write: dropped, as a real receiver would.
    conn.close()

def listen_tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    return s

def announce(p):
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f: f.write(str(p))
    os.rename(tmp, portfile)

if mode == "syslog-tcp":
    s = listen_tcp()
    announce(s.getsockname()[1])
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_tcp_syslog, args=(c,), daemon=True).start()
elif mode == "syslog-udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", port))
    announce(s.getsockname()[1])
    while True:
        d, _ = s.recvfrom(70000)
        check_syslog(d, truncated_ok=True)
elif mode == "https":
    cert, key, hkey = sys.argv[5], sys.argv[6], sys.argv[7]
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            k = open(hkey, "rb").read().rstrip(b"\r\n\t ")
            want = "sha256=" + hmac.new(k, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, self.headers.get("X-Pit-Signature", "")):
                record({"rejected": "hmac", "count": body.count(b'"id"')})
                self.send_response(401); self.send_header("Content-Length", "0"); self.send_header("Connection", "close"); self.end_headers(); return
            dev = self.headers.get("X-Pit-Device", "")
            try:
                events = json.loads(body)
                assert isinstance(events, list)
            except Exception as e:
                record({"bad": "body: %s" % e}); self.send_response(400); self.send_header("Content-Length", "0"); self.end_headers(); return
            # Re-serialise each element exactly as Pit writes it, to compare with the spool's lines.
            for ev in events:
                record({"id": ev["id"], "seq": ev.get("seq", 0), "line": json.dumps(ev, sort_keys=True, separators=(",", ":"), ensure_ascii=False), "device": dev, "batch": len(events)})
            self.send_response(200); self.send_header("Content-Length", "2"); self.send_header("Connection", "close"); self.end_headers(); self.wfile.write(b"ok")
    class S(http.server.ThreadingHTTPServer):
        allow_reuse_address = True
    srv = S(("127.0.0.1", port), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    announce(srv.server_address[1])
    srv.serve_forever()
elif mode == "unix":
    path = portfile + ".sock"
    acks = int(sys.argv[4]) if len(sys.argv) > 4 else -1   # stop acking after this many (then "err")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path); s.listen(16)
    announce(0)
    total = [0]
    def serve(c):
        f = c.makefile("rb")
        for line in f:
            ev = json.loads(line)
            if acks >= 0 and total[0] >= acks:
                c.sendall(b"err %d refused\n" % ev.get("seq", 0)); break
            record({"id": ev["id"], "seq": ev.get("seq", 0), "line": line.decode().rstrip("\n")})
            total[0] += 1
            c.sendall(b"ok %d\n" % ev.get("seq", 0))
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
"""#
}

/// One record of a receiver's output file.
struct Received: Decodable, Equatable {
    var id: String?
    var seq: UInt64?
    var line: String?
    var pri: Int?
    var host: String?
    var app: String?
    var device: String?
    var batch: Int?
    var bad: String?
    var rejected: String?
    var truncated: Bool?
    var size: Int?
}

/// Child processes the tests start, with stdout and stderr in a log file (read it when a test fails).
enum Proc {
    static func spawn(_ argv: [String], log: String) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, env)
        precondition(rc == 0, "posix_spawn \(argv[0]): \(String(cString: strerror(rc)))")
        posix_spawn_file_actions_destroy(&actions)
        cArgs.forEach { free($0) }
        env.forEach { free($0) }
        return pid
    }

    static func kill(_ pid: pid_t, _ signal: Int32 = SIGKILL) {
        _ = Glibc.kill(pid, signal)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    static func sleepMs(_ ms: Int) { usleep(UInt32(ms * 1000)) }

    /// Polls `condition` every `everyMs` until it holds or `seconds` pass; returns whether it held.
    static func waitUntil(_ seconds: Double, everyMs: Int = 10, _ condition: () -> Bool) -> Bool {
        PitTestSupport.waitUntil(seconds, everyMs: everyMs, condition)
    }
}

/// A python receiver process.
final class Receiver {
    let mode: String
    let directory: String
    let output: String
    let portFile: String
    let extra: [String]
    private(set) var pid: pid_t = 0
    private(set) var port = 0

    init(_ mode: String, in directory: String, extra: [String] = []) {
        self.mode = mode
        self.directory = directory
        self.output = directory + "/\(mode).out"
        self.portFile = directory + "/\(mode).port"
        self.extra = extra
        Files.write(directory + "/receiver.py", Array(ReceiverScript.source.utf8))
    }

    deinit { stop() }

    var socketPath: String { portFile + ".sock" }

    /// Starts it (on `port` if given, e.g. to come back on the same port) and waits until it listens.
    func start(port fixed: Int? = nil, unixAcks: Int? = nil) {
        unlink(portFile)
        if mode == "unix" { unlink(socketPath) }
        var argv = ["/usr/bin/python3", directory + "/receiver.py", mode, portFile, output]
        if mode == "unix" { argv.append(String(unixAcks ?? -1)) } else { argv.append(String(fixed ?? 0)) }
        pid = Proc.spawn(argv + extra, log: directory + "/\(mode).log")
        precondition(Proc.waitUntil(10) { access(portFile, F_OK) == 0 },
                     "receiver \(mode) did not start: \(String(decoding: Files.read(directory + "/\(mode).log"), as: UTF8.self))")
        port = Int(String(decoding: Files.read(portFile), as: UTF8.self)) ?? 0
    }

    func stop() {
        if pid > 0 { Proc.kill(pid, SIGKILL); pid = 0 }
    }

    func records() -> [Received] {
        guard access(output, F_OK) == 0 else { return [] }
        return String(decoding: Files.read(output), as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONDecoder().decode(Received.self, from: Data($0.utf8))
        }
    }

    /// The accepted events (not the bad or rejected records).
    func events() -> [Received] { records().filter { $0.id != nil && $0.truncated == nil } }
}

/// A device config, spool and agent process for one test.
final class AgentHarness {
    let temp = TemporaryDirectory("pit-transport")
    var dataDirectory: String { temp.path + "/data" }
    var spoolDirectory: String { dataDirectory + "/spool" }
    var configPath: String { temp.path + "/device.toml" }
    private(set) var agentPID: pid_t = 0
    let spool: Spool

    init() {
        spool = try! Spool.open(directory: temp.path + "/data/spool", limitBytes: 16 << 20)
    }

    deinit { stopAgent() }

    /// Writes device.toml with `uplink` as its [[uplink]] tables.
    func configure(_ uplink: String) {
        Files.write(configPath, Array("data_dir = \"data\"\n\n\(uplink)".utf8))
    }

    func startAgent() {
        agentPID = Proc.spawn([Shell.built("pit"), "uplink-agent", "--config", configPath], log: temp.path + "/agent.log")
    }

    func stopAgent() {
        if agentPID > 0 { Proc.kill(agentPID, SIGKILL); agentPID = 0 }
    }

    var agentLog: String { String(decoding: Files.read(temp.path + "/agent.log"), as: UTF8.self) }

    @discardableResult
    func append(_ count: Int, kinds: [PitEvent] = sampleEvents()) -> [PitEvent] {
        var stored: [PitEvent] = []
        for i in 0..<count {
            var e = kinds[i % kinds.count]
            e.id = EventID.make()
            e.message = "event \(i) \u{e9}\u{4e2d} \"quoted\" ]"
            stored.append(try! spool.append(e))
        }
        return stored
    }

    func state() -> UplinkState? { try? UplinkState.load(dataDirectory: dataDirectory) }

    func transportState(_ name: String) -> UplinkState.Transport? {
        state()?.transports.first { $0.name == name }
    }

    func cursor(_ name: String) -> UInt64? { try? Spool.readCursor(directory: spoolDirectory, transport: name) }
}

/// Exactly once, in order, byte-identical JSON.
func assertDeliveredOnce(_ received: [Received], _ stored: [PitEvent], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(received.map(\.seq), stored.map(\.seq), "seqs arrive once, in order", file: file, line: line)
    XCTAssertEqual(received.map(\.id), stored.map(\.id), file: file, line: line)
    XCTAssertEqual(received.map(\.line), stored.map { $0.jsonLine() }, "intact", file: file, line: line)
}

/// The end-to-end fixture of the transport tests: in `directory`, a jail "probe" whose grandchild makes a syscall its
/// policy reports (uname, nr 63, first argument 0x1234abcd), and a device config `config` that supervises it with
/// the given [[uplink]] table. Starts `pit supervise`; returns its pid and a reader of its log.
func superviseViolationProbe(in directory: String, config: String = "device.toml", dataDirectory: String = "data",
                             uplink: String) -> (pid: pid_t, log: () -> String) {
    Files.write(directory + "/probe.toml", Array("""
        command = ["/bin/sh", "-c", "/bin/sh -c '/usr/bin/perl -e \\"syscall(63, 0x1234abcd)\\"'; exec sleep 1000"]
        seccomp_string = "POLICY p { REPORT { uname } } USE p DEFAULT ALLOW"
        """.utf8))
    Files.write(directory + "/" + config, Array("""
        data_dir = "\(dataDirectory)"
        control_socket = "run/control.sock"
        [[jails]]
        name = "probe"
        spec = "probe.toml"
        stop_grace_s = 1
        [[uplink]]
        \(uplink)
        """.utf8))
    let pid = Proc.spawn([Shell.built("pit"), "supervise", "--config", directory + "/" + config], log: directory + "/supervise.log")
    return (pid, { String(decoding: Files.read(directory + "/supervise.log"), as: UTF8.self) })
}
