import PitTestSupport
import FoundationEssentials
import Glibc
import PitSupervisor
import PitUplink
import XCTest

/// A `pit supervise` under test: its own directory with the device config, jail specs, a FIFO standing in
/// for the watchdog (a reader records the time of each feed), and its stderr captured to a file.
final class SupervisorHarness {
    let dir = ScratchDirectory()
    var pid: pid_t = 0
    var feedReader: pid_t = 0
    var socket: String { dir.path + "/run/control.sock" }
    var logPath: String { dir.path + "/supervise.log" }
    var feedsPath: String { dir.path + "/feeds" }

    init() {
        mkdir(dir.path + "/data", 0o755)
        mkdir(dir.path + "/shared", 0o777)
        chmod(dir.path + "/shared", 0o777)
    }

    /// `top` holds root-level keys (e.g. `board = ...`), which must come before the first table.
    func writeConfig(_ body: String, top: String = "", watchdogTimeout: Int = 4, healthGrace: Int = 60) {
        dir.write("device.toml", """
            \(top)
            data_dir = "\(dir.path)/data"
            control_socket = "\(socket)"
            [watchdog]
            device = "\(dir.path)/watchdog"
            timeout_s = \(watchdogTimeout)
            health_grace_s = \(healthGrace)
            \(body)
            """)
    }

    /// A jail spec whose command is a shell script; /shared is a writable bind for the script to leave traces.
    func writeJail(_ name: String, _ script: String, extra: String = "") {
        let escaped = script.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"")
        dir.write("\(name).toml", """
            command = ["/bin/sh", "-c", "\(escaped)"]
            binds_rw = ["\(dir.path)/shared:/shared"]
            \(extra)
            """)
    }

    /// `prefix` runs the supervisor through another command (nsenter, unshare) into namespaces of the test's.
    /// `environment` adds NAME=VALUE entries to the supervisor's (otherwise PATH only).
    func start(prefix: [String] = [], environment: [String] = []) {
        unlink(dir.path + "/watchdog")
        mkfifo(dir.path + "/watchdog", 0o600)
        // The stand-in watchdog's reader: one line with a timestamp per byte fed.
        feedReader = spawnDetached(["/usr/bin/perl", "-MTime::HiRes=time", "-e",
                                    "open(my $f, '<', $ARGV[0]) or die; open(my $o, '>', $ARGV[1]) or die; $o->autoflush(1); while (sysread($f, my $b, 1)) { printf $o \"%.3f\\n\", time }",
                                    dir.path + "/watchdog", feedsPath])
        pid = spawnDetached(prefix + [Pit.executable, "supervise", "--config", dir.path + "/device.toml"], stderrPath: logPath,
                            environment: environment)
        XCTAssertTrue(waitUntil(5) { self.statusOrNil() != nil }, "supervisor did not come up: \(log)")
    }

    func stop() -> Int32 {
        guard pid > 0 else { return -1 }
        kill(pid, SIGTERM)
        let status = Process.wait(pid)
        pid = 0
        if feedReader > 0 { kill(feedReader, SIGKILL); _ = Process.wait(feedReader); feedReader = 0 }
        return status
    }

    deinit {
        if pid > 0 { kill(pid, SIGKILL); _ = Process.wait(pid) }
        if feedReader > 0 { kill(feedReader, SIGKILL); _ = Process.wait(feedReader) }
    }

    var log: String { readText(logPath) ?? "" }

    func request(_ line: String) -> String {
        Process.run([Pit.executable, line.split(separator: " ").first.map(String.init) ?? ""] + line.split(separator: " ").dropFirst().map(String.init) + ["--socket", socket]).stdout
    }

    func statusOrNil() -> SupervisorStatus? {
        let r = Process.run([Pit.executable, "status", "--json", "--socket", socket])
        return try? JSONDecoder().decode(SupervisorStatus.self, from: Data(r.stdout.utf8))
    }

    func jail(_ name: String) -> SupervisorStatus.Jail? { statusOrNil()?.jails.first { $0.name == name } }

    func feeds() -> [Double] { lines(readText(feedsPath) ?? "").compactMap(Double.init) }

    func shared(_ name: String) -> String? { readText(dir.path + "/shared/" + name) }
}

extension SupervisorHarness {
    /// One jail, `name`, running `script` (with `extra` spec lines; `entry` adds lines to its [[jails]] table), the
    /// supervisor started on it and (unless `untilRunning` is false) the jail seen running within 5 s.
    func startOneJail(_ name: String, _ script: String, extra: String = "", entry: String = "", untilRunning: Bool = true,
                      file: StaticString = #filePath, line: UInt = #line) {
        writeJail(name, script, extra: extra)
        writeConfig("[[jails]]\nname = \"\(name)\"\nspec = \"\(name).toml\"\n" + entry)
        start()
        if untilRunning { XCTAssertTrue(waitUntil(5) { self.jail(name)?.state == "running" }, log, file: file, line: line) }
    }

    /// The events of `kinds` in this supervisor's spool (`pit events --json`), oldest first.
    func events(_ kinds: Set<PitEvent.Kind>) -> [PitEvent] {
        let r = Process.run([Pit.executable, "events", "--json", "--data-dir", dir.path + "/data"])
        return lines(r.stdout).compactMap { try? PitEvent.decode(jsonLine: $0) }.filter { kinds.contains($0.kind) }
    }
}

/// A persona for share "finance" from DIR/decoys (hostname nas-fin`tag`, NetBIOS name NASFIN`tag`, workgroup ACME,
/// address 192.0.2.10/24 on `interface`), written to DIR/persona.toml.
func writePersona(_ dir: ScratchDirectory, tag: String = "", interface: String = "lo", mac: String = "02:11:32:aa:bb:cc",
                  comment: String = "Finance", extra: String = "") {
    dir.write("persona.toml", """
        hostname = "nas-fin\(tag.isEmpty ? "" : "-" + tag)"
        netbios_name = "NASFIN\(tag)"
        workgroup = "ACME"
        server_string = "Finance NAS"
        \(extra)
        interface = "\(interface)"
        mac = "\(mac)"
        addresses = ["192.0.2.10/24"]
        [[shares]]
        name = "finance"
        comment = "\(comment)"
        template = "decoys"
        """)
}

/// A syslog (UDP) receiver on 127.0.0.1:5514 in the network namespace `netns`, one line per datagram appended to
/// `file` (the uplink's far end in the persona tests). The caller kills and waits for it.
func spawnSyslogReceiver(netns: String, file: String) -> pid_t {
    spawnDetached(VethNamespaces.enter(netns) + ["/usr/bin/python3", "-c",
        "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('127.0.0.1',5514))\nf=open(sys.argv[1],'a',buffering=1)\nwhile True: f.write(s.recv(65536).decode(errors='replace').replace('\\n',' ')+'\\n')",
        file])
}

func spawnDetached(_ argv: [String], stderrPath: String? = nil, environment: [String] = []) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var pid: pid_t = 0
    let cArgs = argv.map { strdup($0) } + [nil]
    let path: String = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    let env: [UnsafeMutablePointer<CChar>?] = ([path] + environment).map { strdup($0) } + [nil]
    let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, env)
    precondition(rc == 0, "posix_spawn \(argv[0])")
    posix_spawn_file_actions_destroy(&actions)
    return pid
}

