import PitTestSupport
import Glibc
@testable import PitSupervisor
import XCTest

/// The control socket serves root outside every jail only (issue 16, item 3): uid 0 is not enough when the
/// peer lives in another PID namespace or in a jail's cgroup, and no jail spec may bind the socket's
/// directory (or the data directory) in the first place.
final class ControlPeerTests: XCTestCase {
    /// A supervisor with one jail, "svc", that has a cgroup (pids_max) so a process can be put into it.
    private func running() -> SupervisorHarness {
        let h = SupervisorHarness()
        h.startOneJail("svc", "exec sleep 1000", extra: "pids_max = 32", entry: "stop_grace_s = 1")
        return h
    }

    /// `pit stop svc` run through `prefix` (as root, with the socket's path in reach): refused, and svc runs on.
    private func assertStopIsRefused(_ h: SupervisorHarness, prefix: [String], file: StaticString = #filePath, line: UInt = #line) {
        let r = Process.run(prefix + [Pit.executable, "stop", "svc", "--socket", h.socket])
        XCTAssertNotEqual(r.status, 0, r.stdout + r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr, "pit stop svc: refused: peer is inside a jail\n", r.stdout, file: file, line: line)
        usleep(300_000)
        XCTAssertEqual(h.jail("svc")?.state, "running", "the refused stop was not carried out: \(h.log)", file: file, line: line)
        XCTAssertTrue(waitUntil(3) { h.log.contains("control_refused: control socket: refused pid ") }, h.log, file: file, line: line)
        // The same command from the supervisor's side of every namespace is served.
        XCTAssertEqual(Process.run([Pit.executable, "status", "--json", "--socket", h.socket]).status, 0, file: file, line: line)
    }

    func test_rootInAPIDNamespaceOfItsOwnIsRefused() throws {
        try XCTSkipUnless(fileExists("/usr/bin/unshare"), "needs util-linux's unshare")
        let h = running()
        assertStopIsRefused(h, prefix: ["/usr/bin/unshare", "--pid", "--fork", "--"])
        XCTAssertTrue(h.log.contains("not the supervisor's"), h.log)
        _ = h.stop()
    }

    /// Root that joined a running jail's PID namespace (nsenter: the host's mounts, so the socket is in reach).
    func test_rootThatJoinedAJailsPIDNamespaceIsRefused() throws {
        try XCTSkipUnless(fileExists("/usr/bin/nsenter"), "needs util-linux's nsenter")
        let h = running()
        guard let pid = h.jail("svc")?.pid else { return XCTFail(h.log) }
        assertStopIsRefused(h, prefix: ["/usr/bin/nsenter", "--target", String(pid), "--pid", "--"])
        _ = h.stop()
    }

    /// Root in the supervisor's own PID namespace but moved into a jail's cgroup.
    func test_rootInAJailsCgroupIsRefused() throws {
        let h = running()
        guard let pid = h.jail("svc")?.pid, let cgroup = Self.cgroupDirectory(of: pid, leafPrefix: "pit-svc-") else {
            return XCTFail("no cgroup for svc: \(readText("/proc/\(h.jail("svc")?.pid ?? 0)/cgroup") ?? "") \(h.log)")
        }
        assertStopIsRefused(h, prefix: ["/bin/sh", "-c", "echo $$ > \"$0/cgroup.procs\" && exec \"$@\"", cgroup])
        XCTAssertTrue(h.log.contains("is in the jail cgroup"), h.log)
        _ = h.stop()
    }

    func test_refusalsInALoopAreOneEventWithACount() throws {
        try XCTSkipUnless(fileExists("/usr/bin/unshare"), "needs util-linux's unshare")
        let h = running()
        for _ in 0..<5 {
            _ = Process.run(["/usr/bin/unshare", "--pid", "--fork", "--", Pit.executable, "status", "--socket", h.socket])
        }
        // The first refusal logged (under load it may take longer than a fixed sleep), then a moment for any other.
        XCTAssertTrue(waitUntil(3) { h.log.contains("control_refused") }, h.log)
        usleep(300_000)
        XCTAssertEqual(lines(h.log).filter { $0.contains("control_refused") }.count, 1, h.log)
        _ = h.stop()
    }

    func test_jailCgroupLeavesAreRecognizedAndTheSupervisorsLeafIsNot() {
        XCTAssertEqual(ControlPeer.jailCgroup(in: "4:memory:/process_api/x/pit-smbd-123\n0::/\n"), "/process_api/x/pit-smbd-123")
        XCTAssertEqual(ControlPeer.jailCgroup(in: "0::/system.slice/pit.service/pit-web-server-77/sub\n"), "/system.slice/pit.service/pit-web-server-77/sub")
        XCTAssertNil(ControlPeer.jailCgroup(in: "0::/system.slice/pit.service/pit-supervisor\n"))
        XCTAssertNil(ControlPeer.jailCgroup(in: "0::/user.slice/pit-7\n1:name=systemd:/\n"))
    }

    // MARK: - No jail may see the socket or the data directory

    /// `pit supervise --check` on a config whose one jail has `spec` (a spec file's text, DIR standing for the
    /// harness directory): exit 1 and one line naming the spec's setting (line 2) and `what`.
    private func checkRejects(_ spec: String, mentioning what: String, prepare: (SupervisorHarness) -> Void = { _ in },
                              file: StaticString = #filePath, line: UInt = #line) {
        let h = SupervisorHarness()
        prepare(h)
        h.dir.write("svc.toml", "command = [\"/bin/sleep\", \"1000\"]\n" + spec.replacingAll("DIR", h.dir.path) + "\n")
        h.writeConfig("""
            [[jails]]
            name = "svc"
            spec = "svc.toml"
            """)
        let r = Process.run([Pit.executable, "supervise", "--check", "--config", h.dir.path + "/device.toml"])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr, file: file, line: line)
        XCTAssertEqual(lines(r.stderr).count, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(h.dir.path + "/svc.toml:2:"), r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(what.replacingAll("DIR", h.dir.path)), r.stderr, file: file, line: line)
    }

    func test_aBindOfTheControlSocketsDirectoryOrAnyDirectoryAboveItIsAConfigError() {
        checkRejects("binds = [\"DIR/run:/run\"]", mentioning: "binds[0]: DIR/run (read-only) would show the control socket DIR/run/control.sock",
                     prepare: { mkdir($0.dir.path + "/run", 0o700) })
        checkRejects("binds = [\"/tmp:/host-tmp\"]", mentioning: "binds[0]: /tmp (read-only) would show the control socket DIR/run/control.sock")
        // Through a symlink: the bind follows it, and so does the check.
        checkRejects("binds_rw = [\"DIR/link:/x\"]", mentioning: "binds_rw[0]: DIR/link (writable) would show the control socket",
                     prepare: { symlink($0.dir.path, $0.dir.path + "/link") })
    }

    func test_aBindInsideTheDataDirectoryIsAConfigError() {
        checkRejects("binds_rw = [\"DIR/data/keys:/keys\"]", mentioning: "binds_rw[0]: DIR/data/keys (writable) would show the data directory DIR/data",
                     prepare: { mkdir($0.dir.path + "/data/keys", 0o700) })
    }

    /// A jail rooted in a host directory above the socket sees it as much as through a bind.
    func test_aChrootAboveTheControlSocketIsAConfigError() {
        checkRejects("chroot = \"/\"", mentioning: "chroot: / (read-only) would show the control socket")
    }

    /// The cgroup directory (v2, or the first v1 hierarchy) holding `pid` in a cgroup whose leaf starts with `leafPrefix`.
    static func cgroupDirectory(of pid: Int32, leafPrefix: String) -> String? {
        let mounts = lines(readText("/proc/self/mounts") ?? "").map { $0.split(separator: " ").map(String.init) }
        for entry in lines(readText("/proc/\(pid)/cgroup") ?? "") {
            let fields = entry.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3, fields[2].split(separator: "/").last?.hasPrefix(leafPrefix) == true else { continue }
            let mount = fields[1].isEmpty
                ? mounts.first { $0.count > 2 && $0[2] == "cgroup2" }
                : mounts.first { $0.count > 3 && $0[2] == "cgroup" && $0[3].split(separator: ",").contains { fields[1].split(separator: ",").contains($0) } }
            if let point = mount?[1] { return point + fields[2] }
        }
        return nil
    }
}
