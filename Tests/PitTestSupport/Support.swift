import Glibc

/// Shared by the test targets that drive the real `pit` executable (PitJailTests, PitSupervisorTests).
/// Runs the real `pit` executable built next to the test bundle and captures what it prints.
public struct Captured {
    public var status: Int32        // exit code, or 128+signal
    public var stdout: String
    public var stderr: String
    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

public enum Pit {
    public static var executable: String {
        // The test bundle lives in the build directory beside the `pit` executable.
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var parts = exe.split(separator: "/").map(String.init)
        while let last = parts.last, !last.hasSuffix(".xctest") && parts.count > 1 { parts.removeLast() }
        parts.removeLast()
        return "/" + parts.joined(separator: "/") + "/pit"
    }

    /// The compiled-policy cache of this test process's `pit` runs: private, so no test reads a filter that the
    /// machine's jails, another run or an older compiler left, and the cache's own tests see only their entries.
    /// Removed when the test process exits (it held nothing but this run's entries).
    public static let policyCache: String = {
        atexit { _ = Process.run(["/bin/rm", "-rf", "--one-file-system", "/tmp/pit-tests-\(getpid())"]) }
        return "/tmp/pit-tests-\(getpid())/policy-cache"
    }()

    public static func run(_ arguments: [String], stdin: Int32? = nil, inherit: [Int32] = []) -> Captured {
        Process.run([executable, "run"] + arguments, stdin: stdin, inherit: inherit)
    }
}

public enum Process {
    /// posix_spawn with stdout/stderr captured through pipes; `inherit` fds stay open in the child.
    public static func run(_ argv: [String], stdin: Int32? = nil, inherit: [Int32] = []) -> Captured {
        let child = spawn(argv, stdin: stdin, inherit: inherit)
        let (out, err) = drain(child.stdout, child.stderr)
        return Captured(status: wait(child.pid), stdout: out, stderr: err)
    }

    public struct Child { public var pid: pid_t; public var stdout: Int32; public var stderr: Int32 }

    public static func spawn(_ argv: [String], stdin: Int32? = nil, inherit: [Int32] = []) -> Child {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        pipe(&outPipe)
        pipe(&errPipe)
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in inherit { _ = fcntl(fd, F_SETFD, 0) }
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        let path: String = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        // A bare name (`ip`, `unshare`, `testparm`) is looked up in that PATH; LC_ALL=C keeps tools' output stable.
        // PIT_POLICY_CACHE: this test run's own policy cache, never the machine's (see Pit.policyCache).
        let env: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup("LC_ALL=C"), strdup("PIT_POLICY_CACHE=" + Pit.policyCache), nil]
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cArgs, env)
        precondition(rc == 0, "posix_spawn \(argv[0]): \(String(cString: strerror(rc)))")
        posix_spawn_file_actions_destroy(&actions)
        close(outPipe[1]); close(errPipe[1])
        cArgs.forEach { free($0) }; env.forEach { free($0) }
        return Child(pid: pid, stdout: outPipe[0], stderr: errPipe[0])
    }

    public static func drain(_ a: Int32, _ b: Int32) -> (String, String) {
        var outputs: [Int32: [UInt8]] = [a: [], b: []]
        var open = [a, b]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 { if errno == EINTR { continue }; break }
            for p in fds where p.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, 65536) }
                if n > 0 { outputs[p.fd]!.append(contentsOf: buffer[0..<n]) } else { close(p.fd); open.removeAll { $0 == p.fd } }
            }
        }
        return (String(decoding: outputs[a]!, as: UTF8.self), String(decoding: outputs[b]!, as: UTF8.self))
    }

    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// A scratch directory on the host, removed when the object goes (or by `remove()`).
public final class ScratchDirectory {
    public let path: String
    public init() {
        var template = Array("/tmp/pit-test.XXXXXX".utf8CString)
        path = String(cString: mkdtemp(&template))
        chmod(path, 0o755)
    }

    /// Writes `text` to `name` (relative to the directory; parent directories are created) and returns the path.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: mode_t = 0o644) -> String {
        let full = path + "/" + name
        if let slash = full.lastIndex(of: "/") { makeDirectory(String(full[..<slash])) }
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        precondition(fd >= 0, "open \(full): \(String(cString: strerror(errno)))")
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
        return full
    }

    /// Creates `relative` (or an absolute path) with its parents; returns the full path.
    @discardableResult
    public func makeDirectory(_ relative: String) -> String {
        let full = relative.hasPrefix("/") ? relative : path + "/" + relative
        var built = ""
        for part in full.split(separator: "/") {
            built += "/" + part
            _ = mkdir(built, 0o755)
        }
        return full
    }

    public func remove() { _ = Process.run(["/bin/rm", "-rf", "--one-file-system", path]) }
    deinit { remove() }
}

public func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

public func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

public func readText(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, 4096, file)
        if n <= 0 { break }
        bytes.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

extension String {
    public func replacingAll(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// Writes `text` to an existing file (a sysctl, a cgroup knob); false when it cannot.
@discardableResult
public func writeText(_ path: String, _ text: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return text.withCString { write(fd, $0, strlen($0)) } == text.utf8.count
}

/// Polls `condition` every `everyMs` until it holds or `seconds` pass (on the monotonic clock); returns whether it
/// held. For tests only: the code under test never polls.
public func waitUntil(_ seconds: Double, everyMs: Int = 50, _ condition: () -> Bool) -> Bool {
    func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
    let deadline = nowMs() + Int64(seconds * 1000)
    while nowMs() < deadline {
        if condition() { return true }
        usleep(UInt32(everyMs) * 1000)
    }
    return condition()
}

/// A sysctl's value as it was when saved; `restore()` writes it back. The shipped Samba jails' low_ports lower
/// net.ipv4.ip_unprivileged_port_start for good (Pit never raises it again) when a test runs them in the host's
/// network namespace: such a test saves it first and restores it however it ends.
public struct SavedSysctl {
    public let path: String
    public let value: String?
    public init(_ path: String) { (self.path, value) = (path, readText(path)) }
    public func restore() { if let value { writeText(path, value) } }

    public static var unprivilegedPortStart: SavedSysctl { SavedSysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start") }
}
